//! Bench command for `analyze` at SAE scale: the geometry (nearest neighbours, pairwise-angle
//! histogram, feature dimensionality) of N decoder rows in R^n, random and structured.
//!
//! ```text
//! cargo run --release --example analyze_bench              # n = 768, N = 16384
//! cargo run --release --example analyze_bench -- 4096 65536
//! ```
//!
//! Random rows: i.i.d. Gaussian. Structured rows: N/16 random centres, each with 16 members
//! `centre + 0.3·noise` (tight clusters, the shape of a feature-splitting SAE), so nearest
//! neighbours are close. Prints the wall time of `superpose::analyze::analyze` for each.

use std::time::Instant;

use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use superpose::analyze::{analyze, geometry, Layout};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("usage: analyze_bench [n] [N]"))
        .collect();
    let n = args.first().copied().unwrap_or(768);
    let nf = args.get(1).copied().unwrap_or(16384);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut gauss = move || -> f64 { StandardNormal.sample(&mut rng) };
    let random = DMatrix::from_fn(n, nf, |_, _| gauss());
    let centres = DMatrix::from_fn(n, nf.div_ceil(16), |_, _| gauss());
    let structured = DMatrix::from_fn(n, nf, |d, i| centres[(d, i / 16)] + 0.3 * gauss());
    println!(
        "threads {}, n = {n}, N = {nf}",
        rayon::current_num_threads()
    );
    for (name, w) in [("random", &random), ("structured", &structured)] {
        let t = Instant::now();
        let a = analyze(w, None, Layout::FeaturesByDim).expect("analyze");
        let s = &a.summary;
        println!(
            "{name:>10}: {:.2} s  (max_abs_cos_mean {:.4}, random-code baseline {:.4}, \
             theta_min_median {:.2}°, feature_dimensionality {:.4})",
            t.elapsed().as_secs_f64(),
            s.max_abs_cos_mean.unwrap_or(f64::NAN),
            s.random_max_abs_cos.unwrap_or(f64::NAN),
            s.theta_min_median.unwrap_or(f64::NAN).to_degrees(),
            s.feature_dimensionality,
        );
        let t = Instant::now();
        geometry::neighbours(w, 36);
        let t_nn = t.elapsed().as_secs_f64();
        let t = Instant::now();
        geometry::dimensionality(w);
        println!(
            "{:>10}  of which neighbours + histogram {t_nn:.2} s, dimensionality {:.2} s",
            "",
            t.elapsed().as_secs_f64()
        );
    }
}
