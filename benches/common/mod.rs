//! Shared setup of the loss benches.

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use superpose::toy::Model;

/// Random unit directions with the symmetric theory's scale at `c = cos(factor · θ̃)`.
pub fn random_start(n: usize, nf: usize, factor: f64, seed: u64) -> Model {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut u = DMatrix::from_fn(n, nf, |_, _| {
        rng.sample::<f64, _>(rand_distr::StandardNormal)
    });
    u.column_iter_mut().for_each(|mut c| {
        c.normalize_mut();
    });
    let near = superpose::analyze::geometry::neighbours(&u, 16);
    let mut cos: Vec<f64> = near.max_cos.iter().flatten().copied().collect();
    cos.sort_by(f64::total_cmp);
    let theta = cos[cos.len() / 2].clamp(-1.0, 1.0).acos();
    let c = (factor * theta).min(std::f64::consts::FRAC_PI_2).cos();
    let k = (1.0 + c / 2.0) / (1.0 - c);
    Model::new(u * k.sqrt(), DVector::from_element(nf, -k * c)).unwrap()
}
