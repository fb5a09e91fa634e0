//! One exact loss + gradient evaluation at n = 8, N = 1024 on one core (target ≤ 5 ms).
//!
//! Run: `cargo bench --bench exact_loss`. Two models: a random one (many active pairs) and a
//! structured start (well-spread directions with the symmetric theory's slope and bias, few
//! active pairs, as near a trained minimum).

use criterion::{criterion_group, criterion_main, Criterion};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use superpose::toy::{exact, train, Loss, Model};

fn bench(c: &mut Criterion) {
    let (n, nf) = (8, 1024);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let w = DMatrix::from_fn(n, nf, |_, _| rng.random_range(-0.5..0.5));
    let b = DVector::from_fn(nf, |_, _| -rng.random_range(0.0..0.5));
    let random = Model::new(w, b).unwrap();
    c.bench_function("loss_grad n=8 N=1024 random", |bch| {
        bch.iter(|| exact::loss_grad(std::hint::black_box(&random), &Loss::L2))
    });
    let spread = train::spread_start(n, nf, 1, &mut ChaCha8Rng::seed_from_u64(2));
    c.bench_function("loss_grad n=8 N=1024 spread", |bch| {
        bch.iter(|| exact::loss_grad(std::hint::black_box(&spread), &Loss::L2))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
