//! Training at large `N` (beyond [`LARGE_FROM`] features, up to [`MAX_FEATURES`] = 2^20) for
//! `3 ≤ n ≤ 8`, on the neighbour-list loss ([`super::neighbours`], through [`super::exact::eval`]).
//!
//! # Method
//!
//! One structured start at the target `N`, then L-BFGS:
//!
//! * **directions**: the Fibonacci lattice for `n = 3`
//!   ([`super::train::spread_directions`], `O(N)`); for `n ≥ 4` uniform random points relaxed by
//!   [`REPULSION_STEPS`] steps of short-range Riesz repulsion on `S^{n−1}` with a k-d tree (each
//!   point feels the points within [`REPULSION_RANGE`] typical spacings
//!   `(S_{n−1}/N)^{1/(n−1)}`, force `∝ r^{−(s+1)}`, `s = 2⌊(n+4)/2⌋ − 2`; it moves along the
//!   normalised tangential force by a step decaying from 0.3 to 0.01 spacings). The forces are
//!   computed in the tree's order, so that consecutive queries touch nearby nodes (the same
//!   numbers as in index order; at n = 4, N = 2^18, 2 threads, 67 s → 39 s), and each step is
//!   reported as an [`Event::Building`].
//! * **scale**: the symmetric theory's slope and bias (SPEC §3–4), `W_i = √k u_i`, `b_i = −k c`,
//!   `k = (1 + c/2)/(1 − c)`, with the intercept somewhat below the start's typical
//!   `cos θ_min`: `c = cos(`[`INTERCEPT_ANGLE`]` · θ̃)`, `θ̃` the median nearest-neighbour
//!   angle (found with the k-d tree). With `c` at `cos θ_min` L-BFGS creeps along a plateau
//!   first (issue 8's note); a slightly lower intercept starts inside the basin.
//! * **polish**: [`super::train::polish`] in chunks of [`super::train::POLISH_CHUNK`] L-BFGS
//!   iterations, reporting each chunk as an [`Event::Start`] (`lbfgs <done>/<max>`), until a
//!   chunk raises the gain `(l0 − L)·N` by less than [`GAIN_REL`] relative, L-BFGS stops by
//!   itself, the budget `lbfgs_iters` is spent, or the gain cannot reach the lift's within
//!   the budget ([`polish_start`]). The default budget is [`default_iters`]: `⌊2^27/N⌋`
//!   iterations (2048 at N = 65 536, 128 at N = 2^20), the same work per feature at every
//!   size.
//!
//! * **lift** (L2): the model of [`LIFT_FROM`] = 1024 features found by the multi-start
//!   trainer ([`super::train`], with its chain, at its default budget: the model `train
//!   --features 1024` gives), each feature copied `m = ⌊N/N_s⌋` times as `(W/√m, b/m)`
//!   ([`super::train::lift`]): by the identity of SPEC §4 it has exactly the smaller model's
//!   gain, so the lattice start must beat it for the non-degenerate model to be the better
//!   one. The lower of the two losses is the result (`start` says which; the lattice's loss
//!   is `loss_unlifted`), so the gain is never below the 1024-feature model's. (A candidate of
//!   [`LARGE_FROM`] = 4096 features, as before, cost 30 s of a 3-D and 98 s of a 4-D run at
//!   N = 65 536 on 2 cores, for a 3-D model that was itself the lift of the 1024-feature one
//!   at the default budget — gain 6.6014 against 6.6017 — and a 4-D lift of gain 60.2
//!   against the repulsion start's 145; `benches/README.md`.)
//!
//! No chain at the target size, no random restarts: there one exact evaluation is the cost unit
//! and the structured start is the only one that scales. Everything is seeded from
//! `(seed, n, N)`.

use std::time::Instant;

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::neighbours::KdTree;
use super::train::{self, ChainCache, ExactResult, ExactSettings, POLISH_CHUNK};
use super::{Event, Loss, Model, Observer};
use crate::error::{Error, Result};

/// Exact-loss models with more features than this (and `2 ≤ n ≤ 8`) train here.
pub const LARGE_FROM: usize = 4096;
/// The most features the neighbour-list trainer takes.
pub const MAX_FEATURES: usize = 1 << 20;
/// The smallest `n` of the neighbour-list trainer (in 2-D the optimum shares directions from
/// N = 64 on, and a spread start on the circle is not where it lies).
pub const MIN_DIM: usize = 3;
/// The largest `n` of the neighbour-list trainer.
pub const MAX_DIM: usize = 8;
/// The most features of the multi-start trainer outside `MIN_DIM ≤ n ≤ MAX_DIM` (`n ≤ 2` or
/// `n > 8`; for `n > 8` each evaluation is the dense `O(N² n)` loop).
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

/// The size of the degenerate candidate: the multi-start trainer's model of this many
/// features, lifted (module docs).
pub const LIFT_FROM: usize = 1024;
/// The default L-BFGS budget at large `N` is this many feature-iterations: `⌊LARGE_WORK/N⌋`
/// iterations ([`default_iters`]).
pub const LARGE_WORK: u64 = 1 << 27;

/// The default L-BFGS budget of a large-`N` polish: `⌊`[`LARGE_WORK`]`/N⌋`, at most the
/// multi-start trainer's [`super::DEFAULT_LBFGS_ITERS`] (2048 iterations at N = 65 536, 128 at
/// N = 2^20).
pub fn default_iters(features: usize) -> u64 {
    (LARGE_WORK / features.max(1) as u64).clamp(1, super::DEFAULT_LBFGS_ITERS)
}

/// The settings of the degenerate candidate: `s` with the multi-start trainer's default final
/// polish ([`super::DEFAULT_LBFGS_ITERS`]), so that the candidate is the model `train
/// --features` [`LIFT_FROM`] gives with the other settings as given (and a sweep's own row of
/// that size, shared through its [`ChainCache`]).
pub fn lift_settings(s: &ExactSettings) -> ExactSettings {
    ExactSettings {
        lbfgs_iters: super::DEFAULT_LBFGS_ITERS,
        ..*s
    }
}

/// Whether `(n, N)` on the exact loss trains here.
pub fn applies(n: usize, features: usize) -> bool {
    (MIN_DIM..=MAX_DIM).contains(&n) && features > LARGE_FROM
}

/// The size limits of the exact trainer, one clear error naming the limit.
pub fn check_size(n: usize, features: usize) -> Result<()> {
    if (MIN_DIM..=MAX_DIM).contains(&n) {
        if features > MAX_FEATURES {
            return Err(Error::invalid(
                "--features",
                format!(
                    "{features} > {MAX_FEATURES}: for {MIN_DIM} ≤ n ≤ {MAX_DIM} the \
                     neighbour-list trainer takes N ≤ 2^20"
                ),
            ));
        }
    } else if features > DENSE_MAX_FEATURES {
        return Err(Error::invalid(
            "--features",
            format!(
                "{features} > {DENSE_MAX_FEATURES}: for n = {n} the exact trainer runs its \
                 multi-start chain on the dense or neighbour loss, limited to N ≤ \
                 {DENSE_MAX_FEATURES} (N ≤ 2^20 needs {MIN_DIM} ≤ n ≤ {MAX_DIM})"
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
    directions_with(n, features, rng, &mut |_| {})
}

/// [`directions`], calling `step(k)` after the `k`-th of the [`REPULSION_STEPS`] repulsion
/// steps (`n ≥ 4`).
pub fn directions_with(
    n: usize,
    features: usize,
    rng: &mut ChaCha8Rng,
    step_done: &mut dyn FnMut(usize),
) -> Vec<f64> {
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
        // Forces in the tree's order (cache-friendly queries), scattered back by id.
        let moved: Vec<f64> = tree
            .ids()
            .par_iter()
            .flat_map_iter(|&i| {
                let i = i as usize;
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
        let mut next = vec![0.0; n * features];
        for (&i, y) in tree.ids().iter().zip(moved.chunks(n)) {
            next[i as usize * n..(i as usize + 1) * n].copy_from_slice(y);
        }
        x = next;
        step_done(step + 1);
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
    start_at(n, units, INTERCEPT_ANGLE)
}

/// [`start`] with the intercept `cos(factor · θ̃)` instead of [`INTERCEPT_ANGLE`]` · θ̃`.
pub fn start_at(n: usize, units: &[f64], factor: f64) -> Model {
    let nf = units.len() / n;
    let mut t = nearest_angles(n, units);
    let mid = t.len() / 2;
    let theta = *t.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1;
    let c = (factor * theta).min(std::f64::consts::FRAC_PI_2).cos();
    let k = (1.0 + c / 2.0) / (1.0 - c);
    let w = DMatrix::from_iterator(n, nf, units.iter().map(|u| u * k.sqrt()));
    Model {
        w,
        b: DVector::from_element(nf, -k * c),
    }
}

/// The random stream of the structured start of `(seed, n, N)` (the `n ≥ 4` directions).
pub fn start_rng(seed: u64, n: usize, features: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(train::mix_seed(seed, &[n as u64, features as u64, 0]))
}

/// The L2 loss of [`train::lift`] of a model of `small` features and loss `l_small` to
/// `features` features.
///
/// # Formula
///
/// `m = ⌊N/N_s⌋` copies `(W/√m, b/m)` have exactly the gain of the small model (SPEC §4) and
/// dead features add none: `L = l0 − (l0 − L_s)·N_s/N`.
pub fn lift_loss(l0: f64, l_small: f64, small: usize, features: usize) -> f64 {
    l0 - (l0 - l_small) * small as f64 / features as f64
}

/// Trains one model of `features` features in `n` dimensions at large `N` (module docs), with
/// at most `lbfgs_iters` L-BFGS iterations.
pub fn train_large(
    n: usize,
    features: usize,
    seed: u64,
    loss: &Loss,
    s: &ExactSettings,
    observer: &dyn Observer,
    cache: Option<&ChainCache>,
) -> Result<ExactResult> {
    check_size(n, features)?;
    let lbfgs_iters = s.lbfgs_iters;
    // The degenerate candidate (L2 only): the multi-start trainer's model at LIFT_FROM
    // features, lifted; its loss by the identity, not by an evaluation (each feature has
    // m − 1 copies at cos = 1, so a neighbour list of the lift holds m·K entries per row: at
    // N = 2^20 in 3-D that ran out of 24 GiB).
    let small = match loss {
        Loss::L2 => Some(train::train_exact_cached(
            n,
            LIFT_FROM,
            seed,
            loss,
            &lift_settings(s),
            observer,
            cache,
        )?),
        _ => None,
    };
    let lift_loss = small.as_ref().map_or(f64::INFINITY, |r| {
        lift_loss(loss.l0(), r.loss, r.model.features(), features)
    });
    let t0 = Instant::now();
    let mut rng = start_rng(seed, n, features);
    let units = directions_with(n, features, &mut rng, &mut |step| {
        observer.event(&Event::Building {
            n,
            features,
            what: "repulsion step".into(),
            step,
            steps: REPULSION_STEPS,
        })
    });
    let model = start(n, &units);
    drop(units);
    let name = if n <= 3 { "lattice" } else { "repulsion" };
    let lift_gain = (loss.l0() - lift_loss) * features as f64;
    // On a worker of rayon's pool (moved there when called from outside it, as `train` is):
    // each parallel loop of an evaluation or of L-BFGS's sums then starts from a worker
    // instead of injecting a job and blocking the calling thread on a lock each time (at
    // n = 3, N = 65 536 600 iterations took 11.3 s instead of ~20 s), and the thread-local
    // neighbour lists stay with the one worker from chunk to chunk. Where it runs changes the
    // cost, never the result (everything parallel is summed in fixed blocks).
    let (model, cur, converged, last_change) =
        rayon::scope(|_| polish_start(model, loss, lbfgs_iters, lift_gain, name, observer))?;
    observer.event(&Event::Size {
        n,
        features,
        loss: cur.min(lift_loss),
        seconds: t0.elapsed().as_secs_f64(),
    });
    if let Some(small) = small.filter(|_| lift_loss < cur) {
        return Ok(ExactResult {
            model: train::lift(&small.model, features),
            loss: lift_loss,
            start: "lift".into(),
            converged: small.converged,
            last_change: small.last_change,
            loss_unlifted: cur,
        });
    }
    Ok(ExactResult {
        model,
        loss: cur,
        start: name.into(),
        converged,
        last_change,
        loss_unlifted: cur,
    })
}

/// The polish of [`train_large`]: chunks of [`POLISH_CHUNK`] L-BFGS iterations from `model`,
/// each reported, until the budget `lbfgs_iters` is spent, L-BFGS stops by itself or a chunk
/// raises the gain by less than [`GAIN_REL`] (converged), or the gain cannot reach
/// `lift_gain`, the degenerate candidate's, within the budget: the race's drop rule
/// (`train::hopeless`) with the last chunk's gain extrapolated linearly, ×2 (then it is not
/// converged). Linearly, not geometrically as in the race: the 3-D lattice creeps, its gain
/// per chunk falling fast in the first chunks and then staying nearly constant for 10^5
/// iterations (`benches/README.md`, `examples/long_polish.rs`), so the ratio of two early
/// chunks would drop a lattice that a long budget lets win. Returns the model, its loss, whether it converged and the last chunk's
/// relative gain change.
fn polish_start(
    mut model: Model,
    loss: &Loss,
    lbfgs_iters: u64,
    lift_gain: f64,
    name: &str,
    observer: &dyn Observer,
) -> Result<(Model, f64, bool, f64)> {
    let (n, features) = (model.n(), model.features());
    let gain = |l: f64| (loss.l0() - l) * features as f64;
    let mut cur = super::exact::loss(&model, loss);
    observer.event(&Event::Start {
        n,
        features,
        start: name.into(),
        loss: cur,
    });
    let (mut done, mut last_change) = (0, f64::INFINITY);
    while done < lbfgs_iters {
        let iters = POLISH_CHUNK.min(lbfgs_iters - done);
        let (m, l, conv, polish_change) = train::polish(&model, loss, iters)?;
        // polish reports a zero change when L-BFGS stopped by itself (a stationary point).
        let stopped = conv && polish_change == 0.0;
        done += iters;
        // Relative to the gain (l0 − L)·N, not to L ≈ l0: at large N the loss sits within
        // ~1/N of l0 and a change relative to L says nothing about the gain.
        let change = (cur - l) / (loss.l0() - l).abs().max(1e-300);
        let delta = gain(cur.min(l)) - gain(cur);
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
            return Ok((model, cur, true, last_change));
        }
        let rounds_left = (lbfgs_iters - done).div_ceil(POLISH_CHUNK);
        if train::hopeless(gain(cur), delta, None, rounds_left, lift_gain) {
            observer.event(&Event::Start {
                n,
                features,
                start: format!(
                    "{name} stopped after {done} iterations: it cannot reach the lift's gain \
                     {lift_gain:.4} within the budget"
                ),
                loss: cur,
            });
            break;
        }
    }
    Ok((model, cur, false, last_change))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::NoObserver;

    /// The lift's loss by the identity equals the exact loss of the lifted model.
    #[test]
    fn lift_loss_is_the_exact_loss_of_the_lift() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let small = train::spread_start_below(3, 40, 1, 1.1, &mut rng);
        let ls = crate::toy::exact::loss(&small, &Loss::L2);
        for nf in [40, 120, 133] {
            let big = crate::toy::exact::loss(&train::lift(&small, nf), &Loss::L2);
            let want = lift_loss(Loss::L2.l0(), ls, 40, nf);
            assert!((big - want).abs() < 1e-13, "{big} vs {want}");
        }
    }

    /// The default budget is `⌊2^27/N⌋` iterations at large N, the multi-start trainer's
    /// 12 000 below, and `TrainConfig` takes it.
    #[test]
    fn default_budget_is_work_per_feature() {
        assert_eq!(default_iters(65536), 2048);
        assert_eq!(default_iters(1 << 20), 128);
        assert_eq!(default_iters(16384), 8192);
        assert_eq!(default_iters(5000), super::super::DEFAULT_LBFGS_ITERS);
        use super::super::TrainConfig;
        assert_eq!(TrainConfig::new(3, 65536).lbfgs_iters, 2048);
        assert_eq!(TrainConfig::new(4, 4096).lbfgs_iters, 12000);
        assert_eq!(TrainConfig::new(2, 8192).lbfgs_iters, 12000);
        assert_eq!(TrainConfig::new(9, 8192).lbfgs_iters, 12000);
        // The candidate is trained at the multi-start trainer's default budget.
        let s = TrainConfig::new(3, 65536).exact_settings();
        assert_eq!(lift_settings(&s).lbfgs_iters, 12000);
        assert_eq!(lift_settings(&s).restarts, s.restarts);
    }

    #[test]
    fn limits_name_themselves() {
        assert!(check_size(3, 1 << 20).is_ok());
        assert!(check_size(8, 65536).is_ok());
        let e = check_size(4, (1 << 20) + 1).unwrap_err().to_string();
        assert!(e.contains("2^20"), "{e}");
        let e = check_size(16, 65536).unwrap_err().to_string();
        assert!(e.contains("16384") && e.contains("3 ≤ n ≤ 8"), "{e}");
        assert!(check_size(2, 65536).is_err() && check_size(2, 16384).is_ok());
        assert!(check_size(1, 20000).is_err());
        assert!(applies(3, 5000) && !applies(3, 4096) && !applies(9, 5000) && !applies(2, 5000));
    }

    /// The repulsion start spreads random points: its smallest nearest-neighbour angle is a
    /// sizeable fraction of the spacing, far above that of the random points it started from
    /// (for N uniform points the smallest gap shrinks like N^{−2/(n−1)} spacings).
    #[test]
    fn repulsion_spreads_points() {
        let (n, nf) = (4, 3000);
        // Each repulsion step reports itself (a start at N = 2^20 takes minutes), in order,
        // and the reporting changes nothing.
        let mut steps = Vec::new();
        let x = directions_with(n, nf, &mut ChaCha8Rng::seed_from_u64(1), &mut |k| {
            steps.push(k)
        });
        assert_eq!(steps, (1..=REPULSION_STEPS).collect::<Vec<_>>());
        assert_eq!(x, directions(n, nf, &mut ChaCha8Rng::seed_from_u64(1)));
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
        let s = ExactSettings {
            restarts: 0,
            adam_steps: 0,
            adam_lr: 0.03,
            screen_iters: 20,
            lbfgs_iters: 200,
            chain: false,
        };
        let r = train_large(n, nf, 0, &Loss::L2, &s, &NoObserver, None).unwrap();
        assert!(r.loss < l0 && r.loss > 0.0, "{} vs {l0}", r.loss);
        // The lattice's own loss is kept beside the winner, which is never worse than it.
        assert!(r.loss <= r.loss_unlifted && r.loss_unlifted < l0);
    }

    /// The 3-D lattice stops when it cannot reach the lift's gain within its budget, and the
    /// full budget confirms it would not have: polished to the end from the same start, it
    /// stays below the lift.
    #[test]
    fn hopeless_lattice_stops_early() {
        struct Chunks(std::sync::Mutex<Vec<String>>);
        impl Observer for Chunks {
            fn event(&self, e: &Event) {
                if let Event::Start { start, .. } = e {
                    self.0.lock().unwrap().push(start.clone());
                }
            }
        }
        let (n, nf, budget) = (3, 5000, 1500);
        let s = ExactSettings {
            restarts: 0,
            adam_steps: 0,
            adam_lr: 0.03,
            screen_iters: 20,
            lbfgs_iters: budget,
            chain: false,
        };
        let seen = Chunks(Default::default());
        let r = train_large(n, nf, 0, &Loss::L2, &s, &seen, None).unwrap();
        let seen = seen.0.into_inner().unwrap();
        let chunks = seen.iter().filter(|s| s.starts_with("lbfgs ")).count() as u64;
        assert_eq!(r.start, "lift", "{seen:?}");
        assert!(
            chunks < budget / POLISH_CHUNK && seen.iter().any(|s| s.contains("cannot reach")),
            "{seen:?}"
        );
        let units = directions(n, nf, &mut start_rng(0, n, nf));
        let (_, full, ..) = train::polish(&start(n, &units), &Loss::L2, budget).unwrap();
        assert!(full > r.loss, "{full} vs the lift's {}", r.loss);
        assert!(r.loss_unlifted >= full);
    }
}

/// The large-N study (issue 8, part 5): one row per trained `(n, N)` of a sweep, read from the
/// committed `docs/large_n/summary.json` (made by the command in [`LargeNStudy::command`]).
pub mod study {
    use serde::{Deserialize, Serialize};

    use super::{LARGE_FROM, LIFT_FROM};
    use crate::error::Result;
    use crate::toy::sweep::SweepRecord;

    /// Densities of the densest packings in `d = 2, 3` (hexagonal `π/√12`, fcc `π/√18`; both
    /// optimal, Thue / Hales), which the θ_min law uses through `γ_d` for `n = 3, 4`.
    pub fn lattice_density(d: usize) -> Option<f64> {
        match d {
            2 => Some(std::f64::consts::PI / 12f64.sqrt()),
            3 => Some(std::f64::consts::PI / 18f64.sqrt()),
            _ => None,
        }
    }

    /// One model of the study.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct LargeNRow {
        /// Model dimension.
        pub n: usize,
        /// Features.
        pub features: usize,
        /// Gain `(l0 − L)·N`.
        pub gain: f64,
        /// Gain per feature `g/N`.
        pub gain_per_feature: f64,
        /// Best gain of the smaller `N` of the same `n` in the study (`None` for the first):
        /// any smaller model padded with dead features reaches it, so `gain` below it means the
        /// trained non-degenerate model is not the optimum at this `N`.
        pub best_smaller_gain: Option<f64>,
        /// `E / N`.
        pub fraction_embedded: f64,
        /// Distinct directions `D`.
        pub directions: usize,
        /// `E / D`.
        pub mean_multiplicity: Option<f64>,
        /// Median θ_min over directions, radians.
        pub theta_min_median: Option<f64>,
        /// The θ_min law (small-angle form, `γ_{n−1}` of the densest lattice) at `D`.
        pub theta_law: Option<f64>,
        /// `theta_min_median / theta_law`.
        pub theta_ratio: Option<f64>,
        /// Density that caps of angular radius `θ_min_median/2` around the `D` directions would
        /// cover, `D V_d (θ/2)^d / S_{n−1}` (the lattice density times `ratio^d`).
        pub packing_density: Option<f64>,
        /// Density of the lattice the law assumes (hexagonal for `n = 3`, fcc for `n = 4`).
        pub lattice_density: Option<f64>,
        /// Whether the trainer's convergence test held.
        pub converged: bool,
        /// Which start won.
        pub start: String,
        /// Best gain of the starts at this `N` that were not lifted from a smaller model (the
        /// lattice or repulsion start for `N >` [`super::LARGE_FROM`]): when a lift wins, how
        /// far the non-degenerate model got within the budget. `None` in older results.
        #[serde(default)]
        pub gain_unlifted: Option<f64>,
        /// Training wall time (seconds, on the machine and load of the run).
        pub seconds: f64,
    }

    /// The study: its rows and the command that made the sweep.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct LargeNStudy {
        /// The sweep command.
        pub command: String,
        /// Rows ordered by `(n, N)`.
        pub rows: Vec<LargeNRow>,
    }

    /// The study's rows from the records of a sweep.
    pub fn from_records(records: &[SweepRecord], command: &str) -> Result<LargeNStudy> {
        let mut reps: Vec<_> = records.iter().map(|r| r.report.clone()).collect();
        reps.sort_by_key(|r| (r.n, r.features));
        let mut rows: Vec<LargeNRow> = Vec::new();
        for r in reps {
            let best_smaller_gain = rows
                .iter()
                .filter(|x| x.n == r.n)
                .map(|x| x.gain)
                .reduce(f64::max);
            let d = r.n - 1;
            let theta_law = (r.directions > 1 && r.n >= 2)
                .then(|| crate::theta::theta_min(r.n, r.directions as f64).map(|t| t.theta))
                .transpose()?;
            let theta_ratio = r.theta_min_median.zip(theta_law).map(|(a, b)| a / b);
            let packing_density = r.theta_min_median.map(|t| {
                (r.directions as f64).ln()
                    + crate::sphere::ln_ball_volume(d as f64)
                    + d as f64 * (t / 2.0).ln()
                    - crate::sphere::ln_sphere_area(r.n as f64)
            });
            rows.push(LargeNRow {
                n: r.n,
                features: r.features,
                gain: r.gain,
                gain_per_feature: r.gain / r.features as f64,
                best_smaller_gain,
                fraction_embedded: r.fraction_embedded,
                directions: r.directions,
                mean_multiplicity: r.mean_multiplicity,
                theta_min_median: r.theta_min_median,
                theta_law,
                theta_ratio,
                packing_density: packing_density.map(f64::exp),
                lattice_density: lattice_density(d),
                converged: r.converged,
                start: r.start,
                gain_unlifted: r.gain_unlifted,
                seconds: r.seconds,
            });
        }
        Ok(LargeNStudy {
            command: command.into(),
            rows,
        })
    }

    fn opt(x: Option<f64>, digits: usize) -> String {
        x.map_or("–".into(), |v| format!("{v:.digits$}"))
    }

    /// The `## Large N` section of the report: the table and the answers, with numbers.
    pub fn markdown_section(s: &LargeNStudy) -> String {
        let mut o = String::from("## Large N: 3-D and 4-D up to the largest trained N\n\n");
        o.push_str(&format!(
            "Made by `{}`, then summarised with `cargo run --release --example large_n_study \
             -- DIR docs/large_n`. For N > {} the exact loss is trained from one structured \
             start (module `toy::large`) on the neighbour-list loss, against the degenerate lift \
             of the multi-start trainer's {}-feature model (`start` says which won); smaller N \
             use the default multi-start trainer.\n\n",
            s.command, LARGE_FROM, LIFT_FROM
        ));
        o.push_str(
            "| n | N | gain | gain/N | best smaller-N gain | non-degenerate start's gain | E/N | D | mean m | θ_min median | θ law | ratio | cap density | lattice | converged | start | s |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for r in &s.rows {
            o.push_str(&format!(
                "| {} | {} | {:.4} | {:.3e} | {} | {} | {:.4} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} |\n",
                r.n,
                r.features,
                r.gain,
                r.gain_per_feature,
                opt(r.best_smaller_gain, 4),
                opt(r.gain_unlifted, 4),
                r.fraction_embedded,
                r.directions,
                opt(r.mean_multiplicity, 3),
                opt(r.theta_min_median.map(f64::to_degrees), 3) + "°",
                opt(r.theta_law.map(f64::to_degrees), 3) + "°",
                opt(r.theta_ratio, 3),
                opt(r.packing_density, 3),
                opt(r.lattice_density, 3),
                if r.converged { "yes" } else { "no" },
                r.start,
                r.seconds
            ));
        }
        o.push('\n');
        for n in [3usize, 4] {
            let rows: Vec<&LargeNRow> = s.rows.iter().filter(|r| r.n == n).collect();
            let Some(last) = rows.last() else { continue };
            let lattice = if n == 3 { "hexagonal" } else { "fcc (D3)" };
            let below: Vec<String> = rows
                .iter()
                .filter(|r| r.best_smaller_gain.is_some_and(|g| r.gain < g))
                .map(|r| r.features.to_string())
                .collect();
            let degenerate: Vec<String> = rows
                .iter()
                .filter(|r| r.mean_multiplicity.is_some_and(|m| m > 1.001))
                .map(|r| {
                    format!(
                        "N = {} (m = {:.3})",
                        r.features,
                        r.mean_multiplicity.unwrap()
                    )
                })
                .collect();
            o.push_str(&format!("**n = {n}.** "));
            if degenerate.is_empty() {
                o.push_str("Every trained model is non-degenerate (mean multiplicity ≤ 1.001). ");
            } else {
                o.push_str(&format!(
                    "Trained models with shared directions: {}. ",
                    degenerate.join(", ")
                ));
            }
            if below.is_empty() {
                o.push_str("The gain never falls below that of a smaller N. ");
            } else {
                o.push_str(&format!(
                    "At N = {} the trained gain is below the best smaller-N gain, which that \
                     smaller model padded with dead features (or its degenerate lift, SPEC §4) \
                     reaches exactly: there a degenerate model beats the non-degenerate packing \
                     the trainer found within its L-BFGS budget. That is a statement about \
                     the budget, not yet about the optimum: a larger budget can find a \
                     non-degenerate model above it (compare the rows' budgets in the command \
                     above). ",
                    below.join(", ")
                ));
            }
            let lifted: Vec<String> = rows
                .iter()
                .filter(|r| r.start == "lift")
                .filter_map(|r| {
                    Some(format!(
                        "{:.4} at N = {}{}",
                        r.gain_unlifted?,
                        r.features,
                        if r.converged {
                            ""
                        } else {
                            " (winner not converged)"
                        }
                    ))
                })
                .collect();
            if !lifted.is_empty() {
                o.push_str(&format!(
                    "Where a lift won, the best non-degenerate start reached {} (polished until \
                     its budget was spent or, for N > {LARGE_FROM}, until it could not reach the \
                     lift's gain within it); those rows' θ_min is that of the lifted \
                     directions. ",
                    lifted.join(", ")
                ));
            }
            let ratios: Vec<String> = rows
                .iter()
                .filter_map(|r| Some(format!("{:.3} (N = {})", r.theta_ratio?, r.features)))
                .collect();
            o.push_str(&format!(
                "Median θ_min / law: {}. The law for n = {n} is the {lattice} packing (density \
                 {:.4}); the trained directions at N = {} cover a cap density of {} against it.\n\n",
                ratios.join(", "),
                last.lattice_density.unwrap_or(f64::NAN),
                last.features,
                opt(last.packing_density, 3),
            ));
        }
        o
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// A lifted winner's row reports how far the non-degenerate start got, and a gain below
        /// a smaller N's is called out.
        #[test]
        fn markdown_names_the_non_degenerate_gain_of_a_lifted_row() {
            let row = |nf: usize, gain: f64, start: &str, unlifted: f64| LargeNRow {
                n: 3,
                features: nf,
                gain,
                gain_per_feature: gain / nf as f64,
                best_smaller_gain: (nf > 1024).then_some(6.5),
                fraction_embedded: 1.0,
                directions: 1024,
                mean_multiplicity: Some(nf as f64 / 1024.0),
                theta_min_median: Some(0.1),
                theta_law: Some(0.11),
                theta_ratio: Some(0.1 / 0.11),
                packing_density: None,
                lattice_density: lattice_density(2),
                converged: false,
                start: start.into(),
                gain_unlifted: Some(unlifted),
                seconds: 1.0,
            };
            let s = LargeNStudy {
                command: "c".into(),
                rows: vec![
                    row(1024, 6.5, "spread#0", 6.5),
                    row(16384, 6.5, "lift", 5.25),
                ],
            };
            let md = markdown_section(&s);
            assert!(md.contains("| 16384 | 6.5000 |"), "{md}");
            assert!(
                md.contains("the best non-degenerate start reached 5.2500 at N = 16384 (winner not converged)"),
                "{md}"
            );
        }

        /// The cap density of a direction set at exactly the law's θ is the lattice density
        /// (the law is `D V_d (θ/2)^d = δ_d S_{n−1}` with `γ_d = 4 (δ_d/V_d)^{2/d}`).
        #[test]
        fn law_theta_has_the_lattice_density() {
            for n in [3usize, 4] {
                let d = n - 1;
                let dd = 50_000.0f64;
                let t = crate::theta::theta_min(n, dd).unwrap().theta;
                let ln =
                    dd.ln() + crate::sphere::ln_ball_volume(d as f64) + d as f64 * (t / 2.0).ln()
                        - crate::sphere::ln_sphere_area(n as f64);
                crate::prec::assert_close(ln.exp(), lattice_density(d).unwrap(), 1e-9);
            }
        }
    }
}
