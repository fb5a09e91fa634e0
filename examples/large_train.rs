//! Bench command for the large-N trainer (issue 8's targets): trains one `(n, N)` model on the
//! neighbour-list loss with the default settings, printing every progress event to stderr and
//! the wall time, gain and list statistics at the end.
//!
//! Run: `/usr/bin/time -v cargo run --release --example large_train -- N_DIM N_FEATURES [--save F]`
//! (peak memory is the "Maximum resident set size" line).

use std::time::Instant;

use superpose::toy::{train, Event, Observer, TrainConfig};

struct Stderr(Instant);

impl Observer for Stderr {
    fn event(&self, e: &Event) {
        let t = self.0.elapsed().as_secs_f64();
        match e {
            Event::Start { start, loss, .. } => eprintln!("{t:8.1}s  {start:<16} loss {loss:.10}"),
            Event::Size { loss, seconds, .. } => {
                eprintln!("{t:8.1}s  done in {seconds:.1}s, loss {loss:.10}")
            }
            _ => {}
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: large_train N_DIM N_FEATURES [--save FILE]");
        std::process::exit(2);
    }
    let (n, nf): (usize, usize) = match (args[1].parse(), args[2].parse()) {
        (Ok(n), Ok(nf)) => (n, nf),
        _ => {
            eprintln!("error: N_DIM and N_FEATURES must be whole numbers");
            std::process::exit(2);
        }
    };
    let cfg = TrainConfig::new(n, nf);
    let t0 = Instant::now();
    let obs = Stderr(t0);
    match train(&cfg, &obs) {
        Ok(t) => {
            let r = &t.report;
            println!(
                "n={n} N={nf} wall={:.1}s gain={:.6} gain/N={:.6e} embedded={} directions={} \
                 theta_min_median={:?} converged={} start={}",
                t0.elapsed().as_secs_f64(),
                r.gain,
                r.gain / nf as f64,
                r.embedded,
                r.directions,
                r.theta_min_median,
                r.converged,
                r.start
            );
            eprintln!(
                "neighbour-list evaluations {}, list builds {}",
                superpose::toy::neighbours::evaluations(),
                superpose::toy::neighbours::rebuilds()
            );
            if let Some(i) = args.iter().position(|a| a == "--save") {
                if let Some(p) = args.get(i + 1) {
                    let json = serde_json::to_vec(&t.model.to_saved(r.loss)).expect("json");
                    std::fs::write(p, &json).expect("write");
                    println!("saved {p}: {} bytes", json.len());
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
