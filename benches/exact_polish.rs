//! The exact loss over real L-BFGS polishes: what one evaluation costs when the neighbour list,
//! its adaptive skin and its rebuilds are amortised over a run (issue 8, item 1; issue 13).
//!
//! Run: `cargo bench --bench exact_polish [-- FILTER]` (a case runs when its label contains
//! FILTER). One thread (rayon's global pool has one thread; `BENCH_THREADS=2` for two). Each case polishes a model with
//! `toy::train::polish` for a fixed number of L-BFGS iterations and prints the wall time, the
//! evaluations computed on a list, the calls answered from the stored last point (argmin asks
//! for the cost, the gradient and the gradient again at each accepted point), the list builds,
//! the wall time per computed evaluation and per call (both include L-BFGS's own work), the
//! final skin and list size, and the load average beside it (the box is shared).
//!
//! Cases: n = 8, N = 1024 at a trained model (the spread start after 2000 L-BFGS iterations,
//! built here, deterministic) and at the spread start; n = 32 and 64 for N = 1024 and 4096 at
//! the large-n start of `cargo bench --bench exact_loss` (random directions with the symmetric
//! theory's scale below the typical nearest neighbour).

use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use superpose::toy::{large, neighbours, train, Loss, Model};

mod common;

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// One case, on a worker of the pool as `toy::large` polishes (the lists and counters are the
/// worker's thread-locals).
fn case(label: &str, model: &Model, iters: u64) {
    rayon::scope(|_| case_here(label, model, iters));
}

fn case_here(label: &str, model: &Model, iters: u64) {
    neighbours::clear_cache();
    let (e0, p0, r0, o0) = (
        neighbours::evaluations(),
        neighbours::repeats(),
        neighbours::rebuilds(),
        neighbours::outer_builds(),
    );
    let t = Instant::now();
    let (_, l, converged, _) = train::polish(model, &Loss::L2, iters).expect("polish");
    let s = t.elapsed().as_secs_f64();
    let e = neighbours::evaluations() - e0;
    let p = neighbours::repeats() - p0;
    let r = neighbours::rebuilds() - r0;
    let o = neighbours::outer_builds() - o0;
    let (skin, entries) = neighbours::current().unwrap_or((f64::NAN, 0));
    println!(
        "{label}: {iters} L-BFGS iterations in {s:.2} s (loss {l:.9}, converged {converged}); \
         {e} evaluations, {p} repeated points, {r} list builds ({o} outer); \
         {:.3} ms per evaluation, {:.3} ms per call; final skin {skin:.4}, {:.1} entries per \
         feature; load average {}",
        s * 1e3 / e.max(1) as f64,
        s * 1e3 / (e + p).max(1) as f64,
        entries as f64 / model.features() as f64,
        load()
    );
}

fn main() {
    let threads = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let want = |label: &str| label.contains(&filter);
    let (n, nf) = (8, 1024);
    let spread = train::spread_start(n, nf, 1, &mut ChaCha8Rng::seed_from_u64(2));
    if want("n=8 N=1024 trained") {
        let t = Instant::now();
        let (trained, l, ..) = train::polish(&spread, &Loss::L2, 2000).expect("polish");
        println!(
            "setup: n=8 N=1024 trained model (spread start + 2000 L-BFGS iterations): loss {l:.9}, \
             gain {:.3}, {:.1} s",
            (1.0 / 3.0 - l) * nf as f64,
            t.elapsed().as_secs_f64()
        );
        case("n=8 N=1024 trained", &trained, 300);
    }
    if want("n=8 N=1024 spread") {
        case("n=8 N=1024 spread", &spread, 300);
    }
    for (n, nf) in [(3, 65536), (4, 65536)] {
        let label = format!("n={n} N={nf} large start");
        if want(&label) {
            let units = large::directions(n, nf, &mut ChaCha8Rng::seed_from_u64(3));
            case(&label, &large::start(n, &units), 300);
        }
    }
    for (n, nf) in [(32, 1024), (32, 4096), (64, 1024), (64, 4096)] {
        let label = format!("n={n} N={nf} start");
        if want(&label) {
            let m = common::random_start(n, nf, 1.3, 5);
            case(&label, &m, 100);
        }
    }
}
