//! The note's whole sweep (n ∈ {2,3,4,6,8}, N ∈ {4,8,…,1024}: 45 models) with default settings
//! on 2 threads, timed, with the gain table (and which start won each model), convergence and
//! the note's sub-optimality test.
//!
//! Run: `cargo run --release --example note_sweep [DIR]` (DIR defaults to a fresh temporary
//! directory; an existing sweep directory is resumed, so pass a new one to time a full run).

use std::time::Instant;

use superpose::toy::sweep;
use superpose::toy::{train::CONVERGED_REL, Observer, TrainConfig};

struct Quiet;
impl Observer for Quiet {}

fn main() -> superpose::Result<()> {
    let tmp = std::env::temp_dir().join(format!("superpose-note-sweep-{}", std::process::id()));
    let dir = std::env::args().nth(1).map(Into::into).unwrap_or(tmp);
    let dims = [2, 3, 4, 6, 8];
    let features: Vec<usize> = (2..=10).map(|k| 1 << k).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("thread pool");
    let t0 = Instant::now();
    let recs =
        pool.install(|| sweep::run(&dims, &features, &dir, &TrainConfig::new(1, 1), &Quiet))?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu: f64 = recs.iter().map(|r| r.report.seconds).sum();
    println!("note sweep: {} models in {wall:.1} s wall on 2 threads (sum of per-model seconds {cpu:.1} s)", recs.len());
    println!("directory: {}", dir.display());
    print!("{:>6}", "N");
    for n in dims {
        print!(" {:>32}", format!("n={n} gain (E/N, D) start"));
    }
    println!();
    for &nf in &features {
        print!("{nf:>6}");
        for n in dims {
            let r = &recs
                .iter()
                .find(|r| r.report.n == n && r.report.features == nf)
                .unwrap()
                .report;
            print!(
                " {:>32}",
                format!(
                    "{:.4} ({}/{}, {}) {}{}",
                    r.gain,
                    r.embedded,
                    nf,
                    r.directions,
                    r.start,
                    if r.converged { "" } else { "*" }
                )
            );
        }
        println!();
    }
    println!("* = not converged: last 100 L-BFGS iterations lowered the loss by more than {CONVERGED_REL:e} relative");
    for n in dims {
        let rs: Vec<_> = recs
            .iter()
            .filter(|r| r.report.n == n)
            .map(|r| &r.report)
            .collect();
        for w in rs.windows(2) {
            // Tolerance 1e-9 relative: a lifted model reproduces its parent's gain to rounding.
            if w[1].gain < w[0].gain * (1.0 - 1e-9) {
                println!(
                    "sub-optimal by the note's test: n={n} N={} gain {:.6} < {:.6} at N={}",
                    w[1].features, w[1].gain, w[0].gain, w[0].features
                );
            }
        }
        let worst = rs
            .iter()
            .map(|r| r.last_change.unwrap_or(0.0))
            .fold(0.0, f64::max);
        println!("n={n}: largest last-chunk relative loss change {worst:.2e}; min fraction embedded {:.4}",
            rs.iter().map(|r| r.fraction_embedded).fold(1.0, f64::min));
    }
    Ok(())
}
