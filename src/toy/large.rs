//! Training at large `N` (beyond [`LARGE_FROM`] features, up to [`MAX_FEATURES`] = 2^20) for
//! `2 ≤ n ≤ 8`, on the neighbour-list loss ([`super::neighbours`], through [`super::exact::eval`]).
//!
//! # Method
//!
//! One structured start at the target `N`, then L-BFGS:
//!
//! * **directions**: `N` equally spaced angles for `n = 2`; the Fibonacci lattice for `n = 3`
//!   ([`super::train::spread_directions`], `O(N)`); for `n ≥ 4` uniform random points relaxed by
//!   [`REPULSION_STEPS`] steps of short-range Riesz repulsion on `S^{n−1}` with a k-d tree (each
//!   point feels the points within [`REPULSION_RANGE`] typical spacings
//!   `(S_{n−1}/N)^{1/(n−1)}`, force `∝ r^{−(s+1)}`, `s = 2⌊(n+4)/2⌋ − 2`; it moves along the
//!   normalised tangential force by a step decaying from 0.3 to 0.01 spacings).
//! * **scale**: the symmetric theory's slope and bias (SPEC §3–4), `W_i = √k u_i`, `b_i = −k c`,
//!   `k = (1 + c/2)/(1 − c)`, with the intercept somewhat below the start's typical
//!   `cos θ_min`: `c = cos(`[`INTERCEPT_ANGLE`]` · θ̃)`, `θ̃` the median nearest-neighbour
//!   angle (found with the k-d tree). With `c` at `cos θ_min` L-BFGS creeps along a plateau
//!   first (issue 8's note); a slightly lower intercept starts inside the basin.
//! * **polish**: [`super::train::polish`] in chunks of [`super::train::POLISH_CHUNK`] L-BFGS
//!   iterations, reporting each chunk as an [`Event::Start`] (`lbfgs <done>/<max>`), until a
//!   chunk raises the gain `(l0 − L)·N` by less than [`GAIN_REL`] relative, L-BFGS stops by
//!   itself, or the budget `lbfgs_iters` is spent.
//!
//! No chain, no random restarts: at this size one exact evaluation is the cost unit and the
//! structured start is the only one that scales. Everything is seeded from `(seed, n, N)`.

use std::time::Instant;

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::neighbours::KdTree;
use super::train::{self, ExactResult, POLISH_CHUNK};
use super::{Event, Loss, Model, Observer};
use crate::error::{Error, Result};

/// Exact-loss models with more features than this (and `2 ≤ n ≤ 8`) train here.
pub const LARGE_FROM: usize = 4096;
/// The most features the neighbour-list trainer takes.
pub const MAX_FEATURES: usize = 1 << 20;
/// The largest `n` of the neighbour-list trainer.
pub const MAX_DIM: usize = 8;
/// The most features of the dense `O(N² n)` path (`n = 1` or `n > 8`), about a minute per
/// thousand evaluations at the top.
pub const DENSE_MAX_FEATURES: usize = 16384;
/// Converged when one chunk of [`POLISH_CHUNK`] L-BFGS iterations raises the gain by less than
/// this, relative.
pub const GAIN_REL: f64 = 1e-5;
/// Repulsion steps of the `n ≥ 4` start.
pub const REPULSION_STEPS: usize = 40;
/// Range of the repulsion, in typical spacings.
pub const REPULSION_RANGE: f64 = 2.5;
/// The start's intercept is `cos` of this times the median nearest-neighbour angle.
pub const INTERCEPT_ANGLE: f64 = 1.1;

/// Whether `(n, N)` on the exact loss trains here.
pub fn applies(n: usize, features: usize) -> bool {
    (2..=MAX_DIM).contains(&n) && features > LARGE_FROM
}

/// The size limits of the exact trainer, one clear error naming the limit.
pub fn check_size(n: usize, features: usize) -> Result<()> {
    if (2..=MAX_DIM).contains(&n) {
        if features > MAX_FEATURES {
            return Err(Error::invalid(
                "--features",
                format!(
                    "{features} > {MAX_FEATURES}: for 2 ≤ n ≤ {MAX_DIM} the neighbour-list \
                     trainer takes N ≤ 2^20"
                ),
            ));
        }
    } else if features > DENSE_MAX_FEATURES {
        return Err(Error::invalid(
            "--features",
            format!(
                "{features} > {DENSE_MAX_FEATURES}: for n = {n} the exact loss runs on the dense \
                 O(N² n) pair loop, limited to N ≤ {DENSE_MAX_FEATURES} (N ≤ 2^20 needs 2 ≤ n ≤ \
                 {MAX_DIM})"
            ),
        ));
    }
    Ok(())
}

fn normalize(v: &mut [f64]) {
    let s = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if s > 0.0 {
        v.iter_mut().for_each(|x| *x /= s);
    }
}

/// `N` well-spread unit directions in `R^n`, flat (`x[i*n + d]`), as in the module docs.
pub fn directions(n: usize, features: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    if n <= 3 {
        return train::spread_directions(n, features, rng)
            .as_slice()
            .to_vec();
    }
    let mut x: Vec<f64> = Vec::with_capacity(n * features);
    for _ in 0..features {
        let mut v: Vec<f64> = (0..n)
            .map(|_| rand::Rng::sample(rng, rand_distr::StandardNormal))
            .collect();
        normalize(&mut v);
        x.extend(v);
    }
    let spacing = (crate::sphere::ln_sphere_area(n as f64) - (features as f64).ln())
        .exp()
        .powf(1.0 / (n - 1) as f64);
    let range2 = (REPULSION_RANGE * spacing).powi(2);
    let k = (n as i32 + 4) / 2;
    for step in 0..REPULSION_STEPS {
        let tree = KdTree::new(n, &x, (0..features as u32).collect());
        let frac = step as f64 / (REPULSION_STEPS - 1) as f64;
        let eta = spacing * (0.3 * (1.0 - frac) + 0.01 * frac);
        let next: Vec<f64> = (0..features)
            .into_par_iter()
            .flat_map_iter(|i| {
                let xi = &x[i * n..(i + 1) * n];
                let mut f = vec![0.0; n];
                tree.within(xi, range2, &mut |j, r2| {
                    let j = j as usize;
                    if j != i {
                        let s = (1.0 / r2.max(1e-24)).powi(k);
                        for q in 0..n {
                            f[q] += s * (xi[q] - x[j * n + q]);
                        }
                    }
                });
                let radial: f64 = xi.iter().zip(&f).map(|(a, b)| a * b).sum();
                f.iter_mut().zip(xi).for_each(|(fq, a)| *fq -= radial * a);
                normalize(&mut f);
                let mut y: Vec<f64> = xi.iter().zip(&f).map(|(a, t)| a + eta * t).collect();
                normalize(&mut y);
                y
            })
            .collect();
        x = next;
    }
    x
}

/// Angle from each unit direction to its nearest other one (k-d tree).
pub fn nearest_angles(n: usize, units: &[f64]) -> Vec<f64> {
    let nf = units.len() / n;
    let tree = KdTree::new(n, units, (0..nf as u32).collect());
    (0..nf)
        .into_par_iter()
        .map(|i| {
            let q = &units[i * n..(i + 1) * n];
            tree.nearest(q, i as u32)
                .map_or(std::f64::consts::PI, |(_, d2)| {
                    2.0 * (d2.sqrt() / 2.0).min(1.0).asin()
                })
        })
        .collect()
}

/// The structured start of the module docs at `N = units.len()/n`.
pub fn start(n: usize, units: &[f64]) -> Model {
    let nf = units.len() / n;
    let mut t = nearest_angles(n, units);
    let mid = t.len() / 2;
    let theta = *t.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1;
    let c = (INTERCEPT_ANGLE * theta)
        .min(std::f64::consts::FRAC_PI_2)
        .cos();
    let k = (1.0 + c / 2.0) / (1.0 - c);
    let w = DMatrix::from_iterator(n, nf, units.iter().map(|u| u * k.sqrt()));
    Model {
        w,
        b: DVector::from_element(nf, -k * c),
    }
}

/// Trains one model of `features` features in `n` dimensions at large `N` (module docs), with
/// at most `lbfgs_iters` L-BFGS iterations.
pub fn train_large(
    n: usize,
    features: usize,
    seed: u64,
    loss: &Loss,
    lbfgs_iters: u64,
    observer: &dyn Observer,
) -> Result<ExactResult> {
    check_size(n, features)?;
    let t0 = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(train::mix_seed(seed, &[n as u64, features as u64, 0]));
    let units = directions(n, features, &mut rng);
    let mut model = start(n, &units);
    drop(units);
    let name = if n <= 3 { "lattice" } else { "repulsion" };
    let mut cur = super::exact::loss(&model, loss);
    observer.event(&Event::Start {
        n,
        features,
        start: name.into(),
        loss: cur,
    });
    let (mut done, mut converged, mut last_change) = (0, false, f64::INFINITY);
    while done < lbfgs_iters {
        let iters = POLISH_CHUNK.min(lbfgs_iters - done);
        let (m, l, conv, polish_change) = train::polish(&model, loss, iters)?;
        // polish reports a zero change when L-BFGS stopped by itself (a stationary point).
        let stopped = conv && polish_change == 0.0;
        done += iters;
        // Relative to the gain (l0 − L)·N, not to L ≈ l0: at large N the loss sits within
        // ~1/N of l0 and a change relative to L says nothing about the gain.
        let change = (cur - l) / (loss.l0() - l).abs().max(1e-300);
        if l <= cur {
            model = m;
        }
        last_change = change.max(0.0);
        cur = cur.min(l);
        observer.event(&Event::Start {
            n,
            features,
            start: format!("lbfgs {done}/{lbfgs_iters}"),
            loss: cur,
        });
        // polish stopped by itself (converged) before its budget, or the chunk's gain change
        // was below GAIN_REL.
        if stopped || change < GAIN_REL {
            converged = true;
            break;
        }
    }
    observer.event(&Event::Size {
        n,
        features,
        loss: cur,
        seconds: t0.elapsed().as_secs_f64(),
    });
    Ok(ExactResult {
        model,
        loss: cur,
        start: name.into(),
        converged,
        last_change,
        loss_unlifted: cur,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::NoObserver;

    #[test]
    fn limits_name_themselves() {
        assert!(check_size(3, 1 << 20).is_ok());
        assert!(check_size(8, 65536).is_ok());
        let e = check_size(4, (1 << 20) + 1).unwrap_err().to_string();
        assert!(e.contains("2^20"), "{e}");
        let e = check_size(16, 65536).unwrap_err().to_string();
        assert!(e.contains("16384") && e.contains("dense"), "{e}");
        assert!(check_size(1, 20000).is_err());
        assert!(applies(3, 5000) && !applies(3, 4096) && !applies(9, 5000));
    }

    /// The repulsion start spreads random points: its smallest nearest-neighbour angle is a
    /// sizeable fraction of the spacing, far above that of the random points it started from
    /// (for N uniform points the smallest gap shrinks like N^{−2/(n−1)} spacings).
    #[test]
    fn repulsion_spreads_points() {
        let (n, nf) = (4, 3000);
        let x = directions(n, nf, &mut ChaCha8Rng::seed_from_u64(1));
        assert!(x
            .chunks(n)
            .all(|u| (u.iter().map(|a| a * a).sum::<f64>() - 1.0).abs() < 1e-12));
        let spacing = (crate::sphere::ln_sphere_area(4.0) - (nf as f64).ln())
            .exp()
            .powf(1.0 / 3.0);
        let t = nearest_angles(n, &x);
        let tmin = t.iter().copied().fold(f64::INFINITY, f64::min);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let random: Vec<f64> = (0..nf)
            .flat_map(|_| {
                let mut v: Vec<f64> = (0..n)
                    .map(|_| rand::Rng::sample(&mut rng, rand_distr::StandardNormal))
                    .collect();
                normalize(&mut v);
                v
            })
            .collect();
        let rmin = nearest_angles(n, &random)
            .into_iter()
            .fold(f64::INFINITY, f64::min);
        assert!(
            tmin > 0.4 * spacing && tmin > 5.0 * rmin,
            "{tmin} {rmin} {spacing}"
        );
    }

    /// The start's nearest angles agree with the brute-force ones; training lowers the loss.
    #[test]
    fn trains_below_the_start() {
        let (n, nf) = (3, 5000);
        let x = directions(n, nf, &mut ChaCha8Rng::seed_from_u64(0));
        let t = nearest_angles(n, &x);
        for i in (0..nf).step_by(499) {
            let best = (0..nf)
                .filter(|&j| j != i)
                .map(|j| {
                    let c: f64 = (0..n).map(|d| x[i * n + d] * x[j * n + d]).sum();
                    c.clamp(-1.0, 1.0).acos()
                })
                .fold(f64::INFINITY, f64::min);
            assert!((t[i] - best).abs() < 1e-9, "{} vs {best}", t[i]);
        }
        let l0 = crate::toy::exact::loss(&start(n, &x), &Loss::L2);
        let r = train_large(n, nf, 0, &Loss::L2, 200, &NoObserver).unwrap();
        assert!(r.loss < l0 && r.loss > 0.0, "{} vs {l0}", r.loss);
        assert_eq!(r.start, "lattice");
    }
}
