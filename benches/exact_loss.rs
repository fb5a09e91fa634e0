//! One exact loss + gradient evaluation on one core.
//!
//! Run: `cargo bench --bench exact_loss`. At n = 8, N = 1024 (target ≤ 0.5 ms at a trained
//! model): a random model (many active pairs, dense loop), the structured start (well-spread
//! directions with the symmetric theory's slope and bias) and a trained model (the start after
//! 300 L-BFGS iterations), each on the dense loop (`exact::dense`, the reference) and through
//! `exact::eval` (the neighbour list when it pays; `cached` reuses a valid list, `rebuilt`
//! builds it every time). At n = 4, N = 65,536: the large-N trainer's structured start through
//! `exact::eval` (cached and rebuilt).

use criterion::{criterion_group, criterion_main, Criterion};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use superpose::toy::{exact, large, neighbours, train, Loss, Model};

fn grad_buffers(m: &Model) -> (Vec<f64>, Vec<f64>) {
    (vec![0.0; m.n() * m.features()], vec![0.0; m.features()])
}

/// `dense` (when `dense` is set), `eval cached` and `eval rebuilt` of one model.
fn bench_model(c: &mut Criterion, label: &str, m: &Model, dense: bool) {
    let (n, w, b) = (m.n(), m.w.as_slice(), m.b.as_slice());
    let (mut gw, mut gb) = grad_buffers(m);
    let mut run = |name: &str, f: &dyn Fn(&mut [f64], &mut [f64]) -> f64| {
        c.bench_function(&format!("{name} {label}"), |bch| {
            bch.iter(|| f(&mut gw, &mut gb))
        });
    };
    if dense {
        run("dense", &|gw, gb| {
            exact::dense(n, std::hint::black_box(w), b, &Loss::L2, Some((gw, gb)))
        });
    }
    run("eval cached", &|gw, gb| {
        // The list stays; the stored result of the last point is dropped.
        neighbours::forget_point();
        exact::eval(n, std::hint::black_box(w), b, &Loss::L2, Some((gw, gb)))
    });
    run("eval rebuilt", &|gw, gb| {
        neighbours::clear_cache();
        exact::eval(n, std::hint::black_box(w), b, &Loss::L2, Some((gw, gb)))
    });
}

fn bench(c: &mut Criterion) {
    // One core: the global pool has one thread (the parallel loops run inline).
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global();
    let (n, nf) = (8, 1024);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let w = DMatrix::from_fn(n, nf, |_, _| rng.random_range(-0.5..0.5));
    let b = DVector::from_fn(nf, |_, _| -rng.random_range(0.0..0.5));
    let random = Model::new(w, b).unwrap();
    let spread = train::spread_start(n, nf, 1, &mut ChaCha8Rng::seed_from_u64(2));
    let (trained, ..) = train::polish(&spread, &Loss::L2, 300).unwrap();
    for (name, m) in [
        ("random", &random),
        ("spread", &spread),
        ("trained", &trained),
    ] {
        bench_model(c, &format!("n=8 N=1024 {name}"), m, true);
    }
    let units = large::directions(4, 65536, &mut ChaCha8Rng::seed_from_u64(3));
    bench_model(c, "n=4 N=65536 start", &large::start(4, &units), false);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
