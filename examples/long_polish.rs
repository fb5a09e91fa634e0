//! One long L-BFGS polish of the large-N structured start, printing the gain as it goes: the
//! evidence for whether a non-degenerate model at large N beats the lifted smaller ones.
//!
//! Run: `cargo run --release --example long_polish -- N_DIM N_FEATURES ITERS [FACTOR]`
//!
//! The start is `toy::large`'s (Fibonacci lattice for n = 3, k-d tree repulsion above) with the
//! intercept `cos(FACTOR · θ̃)` (θ̃ the median nearest-neighbour angle; default 1.1, the large-N
//! trainer's) and the symmetric theory's slope; then `toy::train::polish` in blocks of 1000
//! iterations (each a fresh polish from the last point, so the convergence test is the
//! trainer's: a chunk's gain change below `CONVERGED_REL` at a stationary point), printing the
//! gain `(1/3 − L)·N` after each block.

use std::time::Instant;

use superpose::toy::{exact, large, train, Loss};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parse = |k: usize| args.get(k).and_then(|v| v.parse::<f64>().ok());
    let (Some(n), Some(nf), Some(iters)) = (parse(0), parse(1), parse(2)) else {
        eprintln!("usage: long_polish N_DIM N_FEATURES ITERS [FACTOR]");
        std::process::exit(2);
    };
    let (n, nf, iters) = (n as usize, nf as usize, iters as u64);
    let factor = parse(3).unwrap_or(large::INTERCEPT_ANGLE);
    let t0 = Instant::now();
    let units = large::directions(n, nf, &mut large::start_rng(0, n, nf));
    let mut model = large::start_at(n, &units, factor);
    drop(units);
    let loss = Loss::L2;
    let gain = |l: f64| (loss.l0() - l) * nf as f64;
    let l = exact::loss(&model, &loss);
    println!(
        "n={n} N={nf} factor={factor} start gain {:.6} ({:.1}s)",
        gain(l),
        t0.elapsed().as_secs_f64()
    );
    let mut done = 0;
    while done < iters {
        let block = 1000.min(iters - done);
        let (m, l, conv, change) = train::polish(&model, &loss, block).expect("polish");
        model = m;
        done += block;
        println!(
            "n={n} N={nf} iters {done} gain {:.6} last-chunk change {change:.2e} converged {conv} ({:.1}s)",
            gain(l),
            t0.elapsed().as_secs_f64()
        );
        if conv {
            break;
        }
    }
    let s = superpose::toy::diagnostics::Diagnostics::of(&model).summary();
    println!(
        "n={n} N={nf} final gain {:.6} embedded {} directions {} mean multiplicity {:?} \
         theta_min median {:?} ({:.1}s)",
        gain(exact::loss(&model, &loss)),
        s.embedded,
        s.directions,
        s.mean_multiplicity,
        s.theta_min_median,
        t0.elapsed().as_secs_f64()
    );
}
