//! Training on the exact sparse-limit loss: structured and random starts, Adam, L-BFGS polish.
//!
//! # Method
//!
//! For a model of `N` features the trainer works up a chain of sizes `N_J < … < N_1 < N_0 = N`
//! with `N_{l+1} = ⌊N_l / 2⌋` (down to `max(2n, 8)`), and at each size keeps the best of:
//!
//! * **spread#k**: `N_l` well-spread unit directions `u_i` (a circle for `n = 2`, a Fibonacci
//!   lattice for `n = 3`, Riesz-energy repulsion on `S^{n−1}` otherwise), scaled by the symmetric
//!   theory's slope and bias (SPEC §3–4): `W_i = √k u_i`, `b_i = −k c`, `k = (1 + c/2)/(1 − c)`,
//!   for each intercept factor `f` of [`SPREAD_FACTORS`]: `c = max(cos θ_min, 0)` of the closest
//!   pair for `f = 1`, else `c = cos(f θ_nn)` around the cosine of the median nearest-neighbour
//!   angle; then L-BFGS. The loss has many local minima and the intercept of the start picks
//!   the basin: in 3-D the best of these factors is 1.1 at N = 256, 0.95 at N = 512 and 1.0 at
//!   N = 1024 (where the start at `cos θ_min` creeps along a long plateau first and passes every
//!   other start after ~8000 iterations), so several are tried.
//! * **code#k** (`n = 4, 8, 16`, `2n < N_l ≤` the code's size): the first `N_l` points in
//!   farthest-point order of the largest known code the library builds — the 600-cell (120),
//!   the E8 roots (240), the Barnes–Wall Λ16 minimal vectors (4320) — kicked by [`CODE_KICK`]
//!   off their symmetry and scaled as the spread starts with the factors of [`CODE_FACTORS`]
//!   ([`code_directions`]). It wins where the code is the optimum's skeleton: the whole E8 at
//!   N = 240 (gain 63.5738, the spread starts 62.7048) and n = 16 at N = 256 (79.4098 against
//!   78.9438), 2048 (539.1240, θ_min π/3, against 537.5203) and 4096 (1075.0109); elsewhere
//!   the race drops it (the note's sweep keeps its gains; `examples/lattice_start.rs`,
//!   `docs/large_dim/README.md`).
//! * **cross** (`n ≥ 2`, `N_l ≤ 2n`): the first `N_l` points of the cross-polytope `{±e_i}` at
//!   `k = 1`, `b = 0` ([`cross_directions`]). No two of its directions have a positive cosine, so
//!   nothing interferes, the loss is 0 and the gain `N_l/3`, the largest any model has (each
//!   feature gains at most `l0 = 1/3`; Rankin's bound makes `2n` the most directions with that
//!   property). The repulsion of the spread starts does not find it at large n in its 150 steps
//!   (n = 128, N = 256: the session-3 model had gain 85.3126 against 256/3 = 85.3333).
//! * **split** (`n = 2`, `N ≥ 10`): [`SPLIT_DIRECTIONS`] directions, each with one large vector
//!   and the rest of the features as small copies ([`split_start`]): the note's 2-D amplitudes,
//!   which beat 7 single directions from N = 64 on.
//! * **lift**: the best model of size `N_{l+1}`, each feature copied `m = ⌊N_l/N_{l+1}⌋` times as
//!   `(W/√m, b/m)` (the rest dead). By the exact identity of SPEC §4 (tested in
//!   [`super::exact`]) this has exactly the gain of the smaller model for L2 (for other losses
//!   the identity does not hold and the lift is just one more candidate); a 1e-3 relative
//!   perturbation breaks the symmetry of the copies before the L-BFGS polish, and the unperturbed
//!   lift is kept as a candidate too. For L2, gain is therefore non-decreasing along the chain.
//!   (Nudging copies apart is no escape from a degenerate lift in 3-D: they merge back; the
//!   spread starts at the target size are what finds the non-degenerate models.)
//! * **pad**: the best (by gain) of the small models with `n + 1 ≤ D < N_J` features, trained
//!   the same way without the chain, followed by dead features — the gain is unchanged for any
//!   loss. (In 2-D the best for N < 64 is 7 directions, which no halving chain from a power of
//!   two meets.)
//! * **random** (`restarts` of them): uniform random directions, amplitude 1, bias 0; Adam with
//!   the bias projected onto `b ≤ 0`, then L-BFGS.
//!
//! Every start gets a screening polish of `screen_iters` L-BFGS iterations; then all of them
//! race ([`race`]): rounds of [`RACE_ROUND`] more iterations each, up to `lbfgs_iters`, where a
//! start is dropped once its gain, extrapolated from its last two rounds over its remaining
//! budget (geometrically, doubled: [`hopeless`]), stays below the leader's. The lowest exact
//! loss wins; its name is the row's `start`. The starts' screening polishes and each race
//! round's polishes are independent and run in parallel (rayon); the race applies its drop
//! rule after the whole round, so the result does not depend on the number of threads.
//!
//! The rule was chosen on a replay of every runner's gain per round with drops switched off
//! (the note's 45-model sweep; `benches/README.md`, session 7). Against that no-drop race the
//! earlier linear rule (`gain + delta · rounds_left < best`) spent 60 % of the work and ended
//! up to 7e-4 below its best (n = 8, N = 256); the geometric rule with factor 2 spends 34 %
//! and ends up to 1e-3 below, and keeps the 3-D N = 1024 winner that creeps past the others
//! after ~8000 iterations (factor 1 loses it, 3.5e-3). In the sweep itself (where the ratio
//! is taken a round earlier than in the replay) its models are up to 1.8e-3 below the linear
//! rule's (n = 6, N = 256; n = 4, N = 256 1.7e-3), every 3-D and 2-D model the same, for
//! 0.65 of the CPU time. Below ~1e-3 the winners are a lottery among local minima: every subset
//! of the seven intercepts, and every change of rounding, moves them by as much.
//!
//! The L-BFGS polish (argmin's algorithm with the two-loop recursion in place,
//! [`super::lbfgs::Lbfgs`], argmin's iterates to rounding at less memory traffic, its dot
//! products summed in eight vectorisable lanes; argmin's More–Thuente line
//! search with the step capped at 1e4, memory [`LBFGS_MEMORY`], [`LBFGS_MEMORY_LARGE`] above
//! [`LARGE_MEMORY_FROM`] parameters) runs on the parameters `(W, β)` with `b = −β²`, which keeps `b ≤ 0` without
//! bounds (`β` starts at `√max(−b, 1e-8)`, never exactly 0, so a bias at 0 can still move).
//! Each point costs one pass of [`exact::eval`] for loss and gradient together (argmin asks for
//! them separately; the problem keeps the last point's). It runs in chunks of [`POLISH_CHUNK`]
//! iterations (each a fresh L-BFGS run from the best point so far) and stops when a chunk
//! raises the gain by less than [`CONVERGED_REL`] relative (`ΔL / max(l0 − L, 1e-9)`: at large
//! N the loss sits within ~G/N of `l0`, so a change relative to `L` would stop a creeping 3-D
//! polish early and run an 8-D one long after its gain has settled) at a stationary point
//! ([`STATIONARY_GRAD`]; a slow chunk with a large gradient is a plateau and the polish goes
//! on), or when L-BFGS stops by itself
//! (gradient norm < 1e-12, a loss change < 1e-16 in one iteration, or a non-finite step once
//! `yᵀs` underflows): then the model is **converged**. Otherwise it stops after `lbfgs_iters`
//! iterations and is reported as not converged, with the last chunk's relative change.
//!
//! Everything is seeded from `(seed, n, size, start)` through ChaCha8, so a run is reproducible.

use std::time::Instant;

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::lbfgs::Lbfgs;
use super::{exact, Event, Loss, Model, Observer};
use crate::error::{Error, Result};

/// L-BFGS memory (number of correction pairs).
pub const LBFGS_MEMORY: usize = 30;
/// Above this many parameters `(n + 1) N` the polish keeps [`LBFGS_MEMORY_LARGE`] pairs
/// instead: at n = 4, N = 2^20 the 60 stored vectors of 5·2^20 numbers were 2.5 GB of a
/// 4.46 GiB peak (`benches/README.md`). Below it (every model up to n = 3, N = 2^20) nothing
/// changes.
pub const LARGE_MEMORY_FROM: usize = 1 << 22;
/// L-BFGS memory above [`LARGE_MEMORY_FROM`] parameters.
pub const LBFGS_MEMORY_LARGE: usize = 20;

/// The L-BFGS memory of a polish of `params` parameters.
pub fn lbfgs_memory(params: usize) -> usize {
    if params > LARGE_MEMORY_FROM {
        LBFGS_MEMORY_LARGE
    } else {
        LBFGS_MEMORY
    }
}
/// L-BFGS iterations per polish chunk.
pub const POLISH_CHUNK: u64 = 100;
/// A model is converged when one polish chunk raises the gain `(l0 − L)·N` by less than this
/// times the gain and it is stationary: `N · max|∂L/∂(W, β)| <` [`STATIONARY_GRAD`].
pub const CONVERGED_REL: f64 = 1e-6;
/// The stationarity test of convergence, on the gradient of the summed loss `N·L` in the
/// polish parameters `(W, β)`: a chunk that barely lowers the loss while this is not met is a
/// plateau, not a minimum, and the polish goes on.
pub const STATIONARY_GRAD: f64 = 1e-5;
/// Intercept factors `f` of the spread starts `spread#k`: the intercept is `cos(f θ_nn)`
/// around the cosine of the spread points' median nearest-neighbour angle `θ_nn`, with the
/// symmetric theory's slope to match; `f = 1` is the note's `cos θ_min` of the closest pair.
/// Each factor ends best somewhere (module docs), and a start costs little once the race
/// drops it.
pub const SPREAD_FACTORS: [f64; 7] = [0.95, 1.0, 1.1, 1.15, 1.2, 1.3, 1.45];
/// L-BFGS iterations per round of the final polish's race ([`race`]).
pub const RACE_ROUND: u64 = 300;
/// Rounds a finalist runs before the race may drop it.
pub const RACE_MIN_ROUNDS: u64 = 1;
/// The factor on a runner's extrapolated gain in the race's drop rule ([`hopeless`]).
pub const RACE_SAFETY: f64 = 2.0;
/// Intercept factors of the `code#k` starts (as [`SPREAD_FACTORS`]; the best of these ended
/// best on the codes' subsets, `examples/lattice_start.rs`).
pub const CODE_FACTORS: [f64; 3] = [1.0, 1.1, 1.3];
/// Gaussian kick (radians) that moves a code's points off its symmetry: a symmetric code is a
/// stationary point of the loss, where L-BFGS would only refit slopes and biases.
pub const CODE_KICK: f64 = 0.01;
/// Directions of the 2-D `split` start.
pub const SPLIT_DIRECTIONS: usize = 5;
/// Squared amplitude shared by the small vectors of a `split` direction, relative to the
/// large one's.
pub const SPLIT_SMALL: f64 = 0.05;

/// Settings of the exact-loss optimiser.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExactSettings {
    /// Random restarts per chain size.
    pub restarts: usize,
    /// Adam steps of each random start.
    pub adam_steps: usize,
    /// Adam learning rate (cosine-decayed to 1/30 of it).
    pub adam_lr: f64,
    /// L-BFGS iterations of the screening polish of every start.
    pub screen_iters: u64,
    /// Maximum L-BFGS iterations of the final polish of the best start.
    pub lbfgs_iters: u64,
    /// Use the halving chain (lifted starts).
    pub chain: bool,
}

/// A trained exact model and how it was found.
#[derive(Debug, Clone)]
pub struct ExactResult {
    /// The best model.
    pub model: Model,
    /// Its exact loss.
    pub loss: f64,
    /// Which start won (`spread`, `lift`, `random#k`).
    pub start: String,
    /// Whether its polish met the convergence test.
    pub converged: bool,
    /// Relative loss decrease over the last polish chunk of the winning start.
    pub last_change: f64,
    /// The best loss among the starts at size `N` that were not lifted (spread and random).
    pub loss_unlifted: f64,
}

/// splitmix64 mixing of the seed with a few integers, for independent per-start streams.
pub fn mix_seed(seed: u64, parts: &[u64]) -> u64 {
    let mut z = seed;
    for &p in parts {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_add(p);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

fn normalize(v: &mut [f64]) {
    let s = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if s > 0.0 {
        v.iter_mut().for_each(|x| *x /= s);
    }
}

fn random_unit(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    loop {
        let mut v: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
        let s = v.iter().map(|x| x * x).sum::<f64>();
        if s > 1e-12 {
            normalize(&mut v);
            return v;
        }
    }
}

/// `d` well-spread unit vectors in `R^n` (column-major, `n × d`).
///
/// `n = 1`: alternating ±1. `n = 2`: `d` equally spaced angles. `n = 3`: the Fibonacci lattice
/// `z_i = 1 − (2i+1)/d`, `φ_i = i·π(3 − √5)`. `n ≥ 4`: random points relaxed by 150 steps of
/// Riesz `s`-energy repulsion (`s = 2⌊(n+4)/2⌋ − 2 ≈ n + 1`), each point moving along its normalised tangential
/// force by a step decaying from 0.3 to 0.01 of the typical spacing `(S_{n−1}/d)^{1/(n−1)}`.
pub fn spread_directions(n: usize, d: usize, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    match n {
        1 => DMatrix::from_fn(1, d, |_, i| if i % 2 == 0 { 1.0 } else { -1.0 }),
        2 => DMatrix::from_fn(2, d, |r, i| {
            let phi = 2.0 * std::f64::consts::PI * i as f64 / d as f64;
            if r == 0 {
                phi.cos()
            } else {
                phi.sin()
            }
        }),
        3 => {
            let ga = std::f64::consts::PI * (3.0 - 5f64.sqrt());
            DMatrix::from_fn(3, d, |r, i| {
                let z = 1.0 - (2 * i + 1) as f64 / d as f64;
                let rho = (1.0 - z * z).max(0.0).sqrt();
                let phi = ga * i as f64;
                [rho * phi.cos(), rho * phi.sin(), z][r]
            })
        }
        _ => {
            let mut x: Vec<f64> = (0..d).flat_map(|_| random_unit(n, rng)).collect();
            let spacing = (crate::sphere::ln_sphere_area(n as f64) - (d as f64).ln())
                .exp()
                .powf(1.0 / (n - 1) as f64);
            // Force ∝ r^{-(s+1)} along the chord, with s + 2 = 2k an even integer (s ≈ n + 1).
            let k = (n as i32 + 4) / 2;
            let steps = 150;
            let mut force = vec![0.0; n * d];
            for step in 0..steps {
                force.fill(0.0);
                for i in 0..d {
                    for j in i + 1..d {
                        let mut r2 = 0.0;
                        for q in 0..n {
                            let t = x[i * n + q] - x[j * n + q];
                            r2 += t * t;
                        }
                        let f = (1.0 / r2.max(1e-24)).powi(k);
                        for q in 0..n {
                            let t = f * (x[i * n + q] - x[j * n + q]);
                            force[i * n + q] += t;
                            force[j * n + q] -= t;
                        }
                    }
                }
                let frac = step as f64 / (steps - 1) as f64;
                let eta = spacing * (0.3 * (1.0 - frac) + 0.01 * frac);
                for i in 0..d {
                    let xi = &x[i * n..(i + 1) * n];
                    let fi = &force[i * n..(i + 1) * n];
                    let radial: f64 = xi.iter().zip(fi).map(|(a, b)| a * b).sum();
                    let mut t: Vec<f64> = fi.iter().zip(xi).map(|(f, a)| f - radial * a).collect();
                    normalize(&mut t);
                    for q in 0..n {
                        x[i * n + q] += eta * t[q];
                    }
                    normalize(&mut x[i * n..(i + 1) * n]);
                }
            }
            DMatrix::from_vec(n, d, x)
        }
    }
}

/// `max_{i≠j} u_i·u_j` of unit columns: `cos θ_min` of the set (−1 when `d < 2`).
pub fn max_cos(u: &DMatrix<f64>) -> f64 {
    let g = u.transpose() * u;
    let mut c = -1.0f64;
    for i in 0..u.ncols() {
        for j in i + 1..u.ncols() {
            c = c.max(g[(i, j)]);
        }
    }
    c
}

/// The median over columns of `max_{j≠i} u_i·u_j`: the cosine of the typical nearest-neighbour
/// angle (−1 when `d < 2`).
pub fn median_nearest_cos(u: &DMatrix<f64>) -> f64 {
    let d = u.ncols();
    if d < 2 {
        return -1.0;
    }
    let g = u.transpose() * u;
    let mut near: Vec<f64> = (0..d)
        .map(|i| {
            (0..d)
                .filter(|&j| j != i)
                .map(|j| g[(i, j)])
                .fold(-1.0, f64::max)
        })
        .collect();
    near.sort_by(f64::total_cmp);
    near[d / 2]
}

/// The structured start: `N/m` spread directions, each used by `m` features with the symmetric
/// theory's `k = (1 + c/2)/(m(1 − c))` and `b = −k c`, `c = max(cos θ_min, 0)`; leftover
/// features dead (`W = 0`, `b = 0`).
pub fn spread_start(n: usize, features: usize, m: usize, rng: &mut ChaCha8Rng) -> Model {
    spread_start_below(n, features, m, 1.0, rng)
}

/// The first `d` points of the largest known code in `R^n` ([`crate::codes::largest_code`]:
/// the 600-cell, E8, Barnes–Wall Λ16, in farthest-point order, built once), each moved by a Gaussian of `kick` radians and
/// renormalised, as the columns of an `n × d` matrix; `None` without such a code or for
/// `d` beyond its size.
pub fn code_directions(
    n: usize,
    d: usize,
    kick: f64,
    rng: &mut ChaCha8Rng,
) -> Option<DMatrix<f64>> {
    let code = &crate::codes::largest_code(n)?.points;
    if d > code.len() {
        return None;
    }
    let mut u = DMatrix::from_fn(n, d, |r, c| code[c][r]);
    for mut col in u.column_iter_mut() {
        for x in col.iter_mut() {
            let z: f64 = rng.sample(StandardNormal);
            *x += kick * z / (n as f64).sqrt();
        }
        let len = col.norm();
        col /= len;
    }
    Some(u)
}

/// The first `d ≤ 2n` points of the cross-polytope, `e_1, −e_1, e_2, −e_2, …`, as the columns
/// of an `n × d` matrix ([`crate::codes::cross_polytope`]).
pub fn cross_directions(n: usize, d: usize) -> DMatrix<f64> {
    let code = crate::codes::cross_polytope(n);
    DMatrix::from_fn(n, d.min(2 * n), |r, c| code[c][r])
}

/// As [`spread_start`], with the intercept `c = max(cos(f θ_nn), 0)` for an intercept factor
/// `f > 1`, `θ_nn` the median over points of the angle to the nearest other point (the worst
/// pair of a Fibonacci lattice is much closer than the typical one), and the slope `k` that the
/// symmetric theory pairs with that intercept. `f = 1` is [`spread_start`] (`c = cos θ_min`
/// of the closest pair).
pub fn spread_start_below(
    n: usize,
    features: usize,
    m: usize,
    factor: f64,
    rng: &mut ChaCha8Rng,
) -> Model {
    let d = (features / m.max(1)).max(1);
    scaled_start(&spread_directions(n, d, rng), features, m, factor)
}

/// The start of [`spread_start_below`] on given unit directions `u` (`n × D`, `D = ⌊N/m⌋`):
/// one set of directions serves every intercept factor (the repulsion of
/// [`spread_directions`] is the costly part).
pub fn scaled_start(u: &DMatrix<f64>, features: usize, m: usize, factor: f64) -> Model {
    let m = m.max(1);
    let d = u.ncols();
    let c = if factor == 1.0 {
        max_cos(u).clamp(0.0, 0.999)
    } else {
        let theta = median_nearest_cos(u).clamp(-1.0, 1.0).acos();
        (theta * factor)
            .min(std::f64::consts::PI)
            .cos()
            .clamp(0.0, 0.999)
    };
    let k = (1.0 + c / 2.0) / (m as f64 * (1.0 - c));
    let mut model = Model::zeros(u.nrows(), features);
    for i in 0..(d * m).min(features) {
        let col = u.column(i / m) * k.sqrt();
        model.w.set_column(i, &col);
        model.b[i] = -k * c;
    }
    model
}

/// `m = ⌊N/D⌋` copies `(W/√m, b/m)` of each feature of `small`, the rest dead.
pub fn lift(small: &Model, features: usize) -> Model {
    let d = small.features();
    let m = (features / d).max(1);
    let mut model = Model::zeros(small.n(), features);
    let s = (m as f64).sqrt();
    for i in 0..(d * m).min(features) {
        let col = small.w.column(i / m) / s;
        model.w.set_column(i, &col);
        model.b[i] = small.b[i / m] / m as f64;
    }
    model
}

/// The 2-D start with one large and several small vectors per direction (the note's 2-D
/// amplitudes): `d` equally spaced directions, feature `i` on direction `i mod d`; the first
/// feature of each direction has the symmetric theory's `k = (1 + c/2)/(1 − c)`,
/// `b = −k c`, `c = cos(2π/d)`, the others share [`SPLIT_SMALL`]`· k` of squared amplitude
/// (each `SPLIT_SMALL · k / ⌈N/d⌉`) with `b = 0`.
///
/// Small copies pay off only beside a large vector of `k < 2` (a small vector's self-response
/// gains `≈ 2s/3`, the large one's input costs it `≈ ks/3`), i.e. for `d ≤ 5` directions
/// (`k = 1.67` at `d = 5`, `2.5` at `d = 6`); from N = 64 on, 5 directions with small copies
/// beat 7 single directions (gain 1.7504).
pub fn split_start(features: usize, d: usize) -> Model {
    let d = d.clamp(1, features);
    let c = (2.0 * std::f64::consts::PI / d as f64).cos().max(0.0);
    let k = (1.0 + c / 2.0) / (1.0 - c);
    let ks = SPLIT_SMALL * k / features.div_ceil(d) as f64;
    let mut model = Model::zeros(2, features);
    for i in 0..features {
        let phi = 2.0 * std::f64::consts::PI * (i % d) as f64 / d as f64;
        let (kk, b) = if i < d { (k, -k * c) } else { (ks, 0.0) };
        let col = DVector::from_vec(vec![phi.cos(), phi.sin()]) * kk.sqrt();
        model.w.set_column(i, &col);
        model.b[i] = b;
    }
    model
}

/// The loss used to rank candidates: a padded model is exactly as good as the corresponding
/// degenerate lift for L2 (the identity of SPEC §4), so within 1e-9 relative the lift (every
/// feature embedded, as gradient training finds it) is preferred over the pad.
fn biased(l: f64, name: &str) -> f64 {
    if name == "pad" {
        l + 1e-9 * l.abs()
    } else {
        l
    }
}

/// `small` followed by dead features (`W = 0`, `b = 0`) up to `features`.
pub fn pad(small: &Model, features: usize) -> Model {
    let mut model = Model::zeros(small.n(), features);
    for i in 0..small.features().min(features) {
        model.w.set_column(i, &small.w.column(i));
        model.b[i] = small.b[i];
    }
    model
}

/// Adam on the exact loss with `b` projected onto `b ≤ 0` after every step; learning rate
/// `lr` cosine-decayed to `lr/30`; β₁ = 0.9, β₂ = 0.999.
pub fn adam(model: &mut Model, loss: &Loss, steps: usize, lr: f64) {
    let (n, nf) = (model.n(), model.features());
    let p = n * nf + nf;
    let (mut m1, mut m2) = (vec![0.0; p], vec![0.0; p]);
    let (mut gw, mut gb) = (vec![0.0; n * nf], vec![0.0; nf]);
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-12);
    for t in 1..=steps {
        exact::eval(
            n,
            model.w.as_slice(),
            model.b.as_slice(),
            loss,
            Some((&mut gw, &mut gb)),
        );
        let frac = (t - 1) as f64 / steps.max(2) as f64;
        let rate = lr
            * (1.0 / 30.0 + (1.0 - 1.0 / 30.0) * 0.5 * (1.0 + (std::f64::consts::PI * frac).cos()));
        let c1 = 1.0 - b1.powi(t as i32);
        let c2 = 1.0 - b2.powi(t as i32);
        let params = model
            .w
            .as_mut_slice()
            .iter_mut()
            .zip(gw.iter())
            .chain(model.b.as_mut_slice().iter_mut().zip(gb.iter()));
        for (q, (x, g)) in params.enumerate() {
            m1[q] = b1 * m1[q] + (1.0 - b1) * g;
            m2[q] = b2 * m2[q] + (1.0 - b2) * g * g;
            *x -= rate * (m1[q] / c1) / ((m2[q] / c2).sqrt() + eps);
        }
        model.b.iter_mut().for_each(|b| *b = b.min(0.0));
    }
}

/// A point `(W, β)` with its loss and gradient.
type Memo = (Vec<f64>, f64, Vec<f64>);

/// The exact loss as an argmin problem in `(W, β)`, `b = −β²`.
///
/// argmin asks for the cost and the gradient separately, at the same points: More–Thuente calls
/// `cost(x)` and then `gradient(x)` at each trial point, and L-BFGS asks again for the gradient
/// at the accepted one. One pass of [`exact::eval`] gives both (the loss is summed in the same
/// order with or without the gradient, tested), so the problem evaluates loss and gradient
/// together and keeps the last point's: each point costs one pass instead of two or three.
/// The memo changes the cost, never the result (tested).
struct Problem<'a> {
    n: usize,
    features: usize,
    loss: &'a Loss,
    /// The last point evaluated, with its loss and gradient in `(W, β)`.
    memo: std::cell::RefCell<Option<Memo>>,
    /// Passes of [`exact::eval`] so far (for tests and benches).
    passes: std::cell::Cell<u64>,
    /// Whether the memo is used (always, except in the test that it changes nothing).
    memoise: bool,
}

impl<'a> Problem<'a> {
    fn new(n: usize, features: usize, loss: &'a Loss) -> Self {
        Problem {
            n,
            features,
            loss,
            memo: std::cell::RefCell::new(None),
            passes: std::cell::Cell::new(0),
            memoise: true,
        }
    }

    /// Loss and gradient in `(W, β)` at `x`, from the memo when `x` is the last point.
    fn eval(&self, x: &[f64]) -> std::result::Result<(f64, Vec<f64>), argmin::core::Error> {
        if let Some((p, l, g)) = self.memo.borrow().as_ref() {
            if self.memoise && p.as_slice() == x {
                return Ok((*l, g.clone()));
            }
        }
        finite_params(x)?;
        let nw = self.n * self.features;
        let b: Vec<f64> = x[nw..].iter().map(|t| -t * t).collect();
        let mut g = vec![0.0; x.len()];
        let (gw, gb) = g.split_at_mut(nw);
        let l = exact::eval(self.n, &x[..nw], &b, self.loss, Some((gw, gb)));
        // ∂L/∂β = ∂L/∂b · (−2β).
        for (gbi, beta) in gb.iter_mut().zip(&x[nw..]) {
            *gbi *= -2.0 * beta;
        }
        self.passes.set(self.passes.get() + 1);
        *self.memo.borrow_mut() = Some((x.to_vec(), l, g.clone()));
        Ok((l, g))
    }
}

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.eval(x)?.0)
    }
}

impl Gradient for Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.eval(x)?.1)
    }
}

/// L-BFGS produces non-finite steps once `yᵀs` underflows at a converged point; stop there.
fn finite_params(x: &[f64]) -> std::result::Result<(), argmin::core::Error> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(argmin::core::Error::msg("non-finite L-BFGS step"))
    }
}

fn to_params(model: &Model) -> Vec<f64> {
    model
        .w
        .as_slice()
        .iter()
        .copied()
        .chain(model.b.iter().map(|b| (-b).max(1e-8).sqrt()))
        .collect()
}

fn from_params(n: usize, features: usize, x: &[f64]) -> Model {
    let nw = n * features;
    Model {
        w: DMatrix::from_column_slice(n, features, &x[..nw]),
        b: DVector::from_iterator(features, x[nw..].iter().map(|t| -t * t)),
    }
}

/// The stationarity half of the convergence test: `N · max|∂L/∂(W, β)| <` [`STATIONARY_GRAD`].
fn stationary(n: usize, features: usize, x: &[f64], loss: &Loss) -> bool {
    let problem = Problem::new(n, features, loss);
    problem.gradient(&x.to_vec()).is_ok_and(|g| {
        g.iter().fold(0.0f64, |a, v| a.max(v.abs())) * (features as f64) < STATIONARY_GRAD
    })
}

/// L-BFGS polish of `model` on the exact loss (see the module docs). Returns the polished model,
/// its loss, whether it converged, and the relative loss decrease of its last chunk.
pub fn polish(model: &Model, loss: &Loss, max_iters: u64) -> Result<(Model, f64, bool, f64)> {
    let (n, nf) = (model.n(), model.features());
    let mut x = to_params(model);
    let mut cur = exact::loss(&from_params(n, nf, &x), loss);
    let mut done = 0;
    let mut converged = false;
    let mut last_change = 0.0;
    // Each chunk is a fresh L-BFGS run from the best point so far (its memory starts empty).
    // A finite maximum step guarantees the line search terminates on flat or noisy directions.
    while done < max_iters {
        let iters = POLISH_CHUNK.min(max_iters - done);
        let ls = MoreThuenteLineSearch::new().with_bounds(f64::EPSILON.sqrt(), 1e4)?;
        let solver = Lbfgs::new(ls, lbfgs_memory(x.len()))
            .with_tolerance_grad(1e-12)
            .with_tolerance_cost(1e-16);
        let exec = Executor::new(Problem::new(n, nf, loss), solver)
            .configure(|s| s.param(x.clone()).max_iters(iters));
        let res = exec.run();
        let Ok(res) = res else {
            // A non-finite step: the previous chunk's point is a numerical minimum.
            converged = true;
            last_change = 0.0;
            break;
        };
        let st = res.state;
        let stopped_early = st.get_iter() < iters;
        done += iters;
        let best = st.get_best_cost();
        if best.is_finite() && best <= cur {
            if let Some(p) = st.get_best_param() {
                x = p.clone();
            }
            let gain = cur - best;
            cur = best;
            // Relative to the gain per feature l0 − L (the loss sits within ~G/N of l0, so a
            // change relative to L says little about the gain at large N), floored at 1e-9 so
            // that dead models read as converged. When L-BFGS stopped by itself the point is
            // stationary to its tolerances: report 0.
            last_change = if stopped_early {
                0.0
            } else {
                gain / (loss.l0() - cur).abs().max(1e-9)
            };
            if last_change < CONVERGED_REL && (stopped_early || stationary(n, nf, &x, loss)) {
                converged = true;
                break;
            }
        } else {
            // No progress at all: the start is at a (numerical) minimum.
            converged = true;
            last_change = 0.0;
            break;
        }
    }
    let out = from_params(n, nf, &x);
    let l = exact::loss(&out, loss);
    if !l.is_finite() {
        return Err(Error::Numerical(
            "exact loss is not finite after polish".into(),
        ));
    }
    Ok((out, l, converged, last_change))
}

/// One start of a chain step and how it is screened: kept as it is, or polished for
/// `screen_iters` L-BFGS iterations (after `adam_steps` of Adam for a random start).
struct Screen {
    start: Model,
    name: String,
    lifted: bool,
    /// Polish it (else it enters the race unpolished, with its exact loss).
    polish: bool,
    /// Adam before the polish (random starts).
    adam: bool,
}

impl Screen {
    fn polish(start: Model, name: String) -> Self {
        Screen {
            start,
            name,
            lifted: false,
            polish: true,
            adam: false,
        }
    }

    fn keep(start: Model, name: String, lifted: bool) -> Self {
        Screen {
            start,
            name,
            lifted,
            polish: false,
            adam: false,
        }
    }

    /// The screened `(model, loss, converged, last change)`.
    fn run(
        &self,
        loss: &Loss,
        adam_steps: usize,
        adam_lr: f64,
        iters: u64,
    ) -> Result<(Model, f64, bool, f64)> {
        if !self.polish {
            let l = exact::loss(&self.start, loss);
            return Ok((self.start.clone(), l, false, f64::INFINITY));
        }
        if self.adam {
            let mut m = self.start.clone();
            adam(&mut m, loss, adam_steps, adam_lr);
            return polish(&m, loss, iters);
        }
        polish(&self.start, loss, iters)
    }
}

/// The race's drop rule: a runner at gain `gain` that gained `delta` in its last round and
/// `before` in the round before cannot catch the leader's `best` in `rounds_left` more rounds
/// if `gain + RACE_SAFETY · Δ < best`, where `Δ` extrapolates its gains geometrically: with
/// `ρ = delta/before` (clamped to `[0, 1]`; 1 when `before ≤ 0` or unknown, `None`),
///
/// ```text
/// Δ = delta · (ρ + ρ² + … + ρ^R),   R = rounds_left
/// ```
///
/// (`delta · R` at `ρ = 1`, the linear extrapolation). A polish's gain per round falls
/// roughly geometrically, so `Δ` estimates what is left; [`RACE_SAFETY`] covers the runners
/// whose gains pick up again after a slow stretch.
pub(crate) fn hopeless(
    gain: f64,
    delta: f64,
    before: Option<f64>,
    rounds_left: u64,
    best: f64,
) -> bool {
    let r = rounds_left as f64;
    let rho = match before {
        Some(b) if b > 0.0 && delta >= 0.0 => (delta / b).min(1.0),
        _ => 1.0,
    };
    let left = if rho < 1.0 {
        delta * rho * (1.0 - rho.powf(r)) / (1.0 - rho)
    } else {
        delta * r
    };
    gain + RACE_SAFETY * left < best
}

/// A finalist of [`race`].
struct Runner {
    model: Model,
    loss: f64,
    name: String,
    lifted: bool,
    converged: bool,
    change: f64,
    /// L-BFGS iterations spent on it by the race.
    done: u64,
    /// Dropped by the race (it cannot catch up within its budget).
    dropped: bool,
    /// Its gain in its last round (for the drop rule).
    last_delta: Option<f64>,
}

/// The final polish of the finalists `(model, loss, name, lifted, converged, last change)`, up
/// to `budget` L-BFGS iterations each, raced in rounds of [`RACE_ROUND`] iterations.
///
/// Each round polishes every runner that is neither converged nor dropped by one round; a
/// round of [`polish`] goes on from where the last one stopped (every chunk is a fresh L-BFGS
/// run from the best point so far; only `β` is re-floored at `√1e-8`), so a runner that is
/// never dropped gets the whole budget, as before the race. After a round, a runner whose
/// gain, extrapolated from its last two rounds over its remaining budget ([`hopeless`]), is
/// still below the best runner's gain now is dropped, provided it has had [`RACE_MIN_ROUNDS`]
/// rounds. Losers of an even race stop
/// early; the cost of the final polish falls from the sum of the runners' budgets to about the
/// winner's. The rounds of the runners run in parallel (rayon), the drop rule after the whole
/// round, so the race does not depend on the number of threads. After each round
/// `round_done(round, leader, runners left)` is called (progress).
fn race(
    finals: Vec<(Model, f64, String, bool, bool, f64)>,
    loss: &Loss,
    budget: u64,
    round_done: &dyn Fn(u64, &Runner, usize),
) -> Result<Vec<Runner>> {
    let mut runners: Vec<Runner> = finals
        .into_iter()
        .map(|(model, l, name, lifted, converged, change)| Runner {
            model,
            loss: l,
            name,
            lifted,
            converged,
            change,
            done: 0,
            dropped: false,
            last_delta: None,
        })
        .collect();
    let l0 = loss.l0();
    let features = runners.first().map_or(1, |r| r.model.features()) as f64;
    let mut round = 0;
    loop {
        // The runners' rounds are independent: they run in parallel, and the drop rule is
        // applied after the whole round, so the race does not depend on the thread count.
        let rounds: Vec<Result<Option<(usize, f64)>>> = {
            use rayon::prelude::*;
            runners
                .par_iter_mut()
                .enumerate()
                .map(|(k, r)| {
                    if r.converged || r.dropped || r.done >= budget {
                        return Ok(None);
                    }
                    let iters = RACE_ROUND.min(budget - r.done);
                    let (pm, pl, pc, pch) = polish(&r.model, loss, iters)?;
                    let before = r.loss;
                    if pl <= r.loss {
                        (r.model, r.loss) = (pm, pl);
                    }
                    (r.converged, r.change) = (pc, pch);
                    r.done += iters;
                    Ok(Some((k, (before - r.loss).max(0.0) * features)))
                })
                .collect()
        };
        let mut progress = Vec::new();
        for round in rounds {
            progress.extend(round?);
        }
        if progress.is_empty() {
            break;
        }
        let best = runners
            .iter()
            .map(|r| (l0 - r.loss) * features)
            .fold(f64::NEG_INFINITY, f64::max);
        for (k, delta) in progress {
            let r = &mut runners[k];
            if r.converged || r.done < RACE_MIN_ROUNDS * RACE_ROUND {
                continue;
            }
            let rounds_left = budget.saturating_sub(r.done).div_ceil(RACE_ROUND);
            let before = r.last_delta.replace(delta);
            r.dropped = hopeless((l0 - r.loss) * features, delta, before, rounds_left, best);
        }
        round += 1;
        let alive = runners
            .iter()
            .filter(|r| !(r.converged || r.dropped || r.done >= budget))
            .count();
        if let Some(lead) = runners.iter().min_by(|a, b| a.loss.total_cmp(&b.loss)) {
            round_done(round, lead, alive);
        }
    }
    Ok(runners)
}

/// Finished chain steps, shared between models that train the same chain (a sweep over
/// `N = 4, 8, …, 1024` trains the steps of `N = 512` again inside `N = 1024`).
///
/// A step is keyed by everything that determines it — `n`, its size, the seed, the loss and the
/// settings — and training is deterministic, so a cached step is exactly what recomputing it
/// would give: the cache changes the cost, never the result.
#[derive(Debug, Default)]
pub struct ChainCache {
    steps: std::sync::Mutex<std::collections::HashMap<String, ExactResult>>,
}

impl ChainCache {
    fn key(n: usize, size: usize, seed: u64, loss: &Loss, s: &ExactSettings) -> String {
        format!("{n}|{size}|{seed}|{loss}|{s:?}")
    }

    fn get(&self, key: &str) -> Option<ExactResult> {
        self.steps.lock().ok()?.get(key).cloned()
    }

    fn insert(&self, key: String, r: &ExactResult) {
        if let Ok(mut m) = self.steps.lock() {
            m.insert(key, r.clone());
        }
    }
}

/// Trains one model of `features` features in `n` dimensions on the exact loss (module docs).
pub fn train_exact(
    n: usize,
    features: usize,
    seed: u64,
    loss: &Loss,
    s: &ExactSettings,
    observer: &dyn Observer,
) -> Result<ExactResult> {
    train_exact_cached(n, features, seed, loss, s, observer, None)
}

/// As [`train_exact`], reusing (and filling) a [`ChainCache`] of finished chain steps.
pub fn train_exact_cached(
    n: usize,
    features: usize,
    seed: u64,
    loss: &Loss,
    s: &ExactSettings,
    observer: &dyn Observer,
    cache: Option<&ChainCache>,
) -> Result<ExactResult> {
    let mut sizes = vec![features];
    let floor = (2 * n).max(8);
    if s.chain {
        while sizes.last().unwrap() / 2 >= floor {
            let next = sizes.last().unwrap() / 2;
            sizes.push(next);
        }
    }
    sizes.reverse();
    // Small models (n+1 ≤ D < smallest chain size): the best by gain, padded with dead features,
    // is a candidate at every size (padding keeps the gain exactly, for any loss). In 2-D the
    // optimum is 7 directions, which no halving chain from a power of two reaches.
    let mut small_best: Option<(Model, f64)> = None;
    if s.chain {
        for d in (n + 1).max(2)..sizes[0] {
            let r = train_exact_cached(
                n,
                d,
                seed,
                loss,
                &ExactSettings { chain: false, ..*s },
                observer,
                cache,
            )?;
            let g = (loss.l0() - r.loss) * d as f64;
            if small_best.as_ref().map_or(true, |b| g > b.1) {
                small_best = Some((r.model, g));
            }
        }
    }
    let mut prev: Option<Model> = None;
    let mut result = None;
    for &size in &sizes {
        let key = ChainCache::key(n, size, seed, loss, s);
        if let Some(r) = cache.and_then(|c| c.get(&key)) {
            prev = Some(r.model.clone());
            result = Some(r);
            continue;
        }
        let t0 = Instant::now();
        // Candidates: (model, loss, name, lifted, converged, last change), each screened by a
        // short polish; the best is then polished to convergence. The screening polishes are
        // independent and run in parallel; the candidates keep the order below.
        let mut screens: Vec<Screen> = Vec::new();
        // Structured starts, the intercept below cos θ_min (one set of directions).
        let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, &[n as u64, size as u64, 0]));
        let u = spread_directions(n, size, &mut rng);
        for (k, &f) in SPREAD_FACTORS.iter().enumerate() {
            screens.push(Screen::polish(
                scaled_start(&u, size, 1, f),
                format!("spread#{k}"),
            ));
        }
        // The best known code's farthest-point subset (n = 4, 8, 16, 2n < N_l ≤ its size).
        let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, &[n as u64, size as u64, 1 << 32]));
        let code = (size > 2 * n)
            .then(|| code_directions(n, size, CODE_KICK, &mut rng))
            .flatten();
        if let Some(u) = code {
            for (k, &f) in CODE_FACTORS.iter().enumerate() {
                screens.push(Screen::polish(
                    scaled_start(&u, size, 1, f),
                    format!("code#{k}"),
                ));
            }
        }
        // The cross-polytope (N_l ≤ 2n): the global minimum, loss 0.
        if n >= 2 && size <= 2 * n {
            screens.push(Screen::polish(
                scaled_start(&cross_directions(n, size), size, 1, 1.0),
                "cross".into(),
            ));
        }
        // 2-D: one large and several small vectors per direction.
        if n == 2 && size >= 2 * SPLIT_DIRECTIONS {
            screens.push(Screen::polish(
                split_start(size, SPLIT_DIRECTIONS),
                "split".into(),
            ));
        }
        // Lifted start: unperturbed (kept as it is) and perturbed (screened).
        if let Some(small) = &prev {
            let lifted = lift(small, size);
            let mut pert = lifted.clone();
            let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, &[n as u64, size as u64, 1]));
            for x in pert.w.iter_mut() {
                *x *= 1.0 + 1e-3 * rng.random_range(-1.0..1.0);
            }
            screens.push(Screen::keep(lifted, "lift".into(), true));
            screens.push(Screen {
                lifted: true,
                ..Screen::polish(pert, "lift".into())
            });
        }
        // The best small model, padded with dead features.
        if let Some((small, _)) = &small_best {
            screens.push(Screen::keep(pad(small, size), "pad".into(), true));
        }
        // Random starts.
        for r in 0..s.restarts {
            let mut rng =
                ChaCha8Rng::seed_from_u64(mix_seed(seed, &[n as u64, size as u64, 2 + r as u64]));
            let mut start = Model::zeros(n, size);
            for i in 0..size {
                let u = random_unit(n, &mut rng);
                start.w.set_column(i, &DVector::from_vec(u));
            }
            screens.push(Screen {
                adam: true,
                ..Screen::polish(start, format!("random#{r}"))
            });
        }
        let screened: Vec<Result<(Model, f64, bool, f64)>> = {
            use rayon::prelude::*;
            screens
                .par_iter()
                .map(|sc| sc.run(loss, s.adam_steps, s.adam_lr, s.screen_iters))
                .collect()
        };
        let mut cands: Vec<(Model, f64, String, bool, bool, f64)> = Vec::new();
        for (sc, res) in screens.into_iter().zip(screened) {
            let (m, l, c, ch) = res?;
            observer.event(&Event::Start {
                n,
                features: size,
                start: sc.name.clone(),
                loss: l,
            });
            cands.push((m, l, sc.name, sc.lifted, c, ch));
        }
        let mut best_unlifted = cands
            .iter()
            .filter(|c| !c.3)
            .map(|c| c.1)
            .fold(f64::INFINITY, f64::min);
        // Every screened start enters the final race: a start can rank low after screening
        // and still end best (3-D, N = 1024: the intercept at cos θ_min is last after screening
        // and creeps past every other start after ~8000 iterations), and the race lets the rate
        // of progress decide instead of the screened level.
        cands.sort_by(|a, b| biased(a.1, &a.2).total_cmp(&biased(b.1, &b.2)));
        let finals = cands;
        let rounds = s.lbfgs_iters.div_ceil(RACE_ROUND);
        let report = |k: u64, lead: &Runner, alive: usize| {
            observer.event(&Event::Start {
                n,
                features: size,
                start: format!(
                    "race round {k}/{rounds}, {alive} start(s) left, leader {}",
                    lead.name
                ),
                loss: lead.loss,
            })
        };
        let raced = race(finals, loss, s.lbfgs_iters, &report)?;
        for r in raced.iter().filter(|r| !r.lifted) {
            best_unlifted = best_unlifted.min(r.loss);
        }
        let mut best: Option<(Model, f64, String, bool, f64)> = None;
        for r in raced {
            if best
                .as_ref()
                .map_or(true, |b| biased(r.loss, &r.name) < biased(b.1, &b.2))
            {
                best = Some((r.model, r.loss, r.name, r.converged, r.change));
            }
        }
        let (m, l, name, conv, change) = best.expect("at least the spread start");
        observer.event(&Event::Size {
            n,
            features: size,
            loss: l,
            seconds: t0.elapsed().as_secs_f64(),
        });
        prev = Some(m.clone());
        let r = ExactResult {
            model: m,
            loss: l,
            start: name,
            converged: conv,
            last_change: change,
            loss_unlifted: best_unlifted,
        };
        if let Some(c) = cache {
            c.insert(key, &r);
        }
        result = Some(r);
    }
    Ok(result.expect("at least one size"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::NoObserver;

    #[test]
    fn fibonacci_and_circle_are_unit_and_spread() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let u = spread_directions(3, 100, &mut rng);
        for c in u.column_iter() {
            assert!((c.norm() - 1.0).abs() < 1e-12);
        }
        // Tammes for 100 points: θ ≈ 20.8° (Clare–Kepert); the Fibonacci lattice is within ~15%.
        let t = max_cos(&u).acos().to_degrees();
        assert!(t > 17.0 && t < 21.0, "{t}");
        let c = spread_directions(2, 6, &mut rng);
        assert!((max_cos(&c) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn repulsion_finds_the_cross_polytope_and_24_cell() {
        // 8 points in R^4: the best code is the cross-polytope (90°); 24 points: the 24-cell (60°).
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let t8 = max_cos(&spread_directions(4, 8, &mut rng))
            .acos()
            .to_degrees();
        assert!(t8 > 85.0, "{t8}");
        let t24 = max_cos(&spread_directions(4, 24, &mut rng))
            .acos()
            .to_degrees();
        assert!(t24 > 52.0, "{t24}");
    }

    #[test]
    fn spread_start_matches_symmetric_theory_loss() {
        // Hexagon (c = 1/2, no interference beyond c): loss per feature = (3c² + c³)/12 (SPEC §3, m = 1).
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let m = spread_start(2, 6, 1, &mut rng);
        let c: f64 = 0.5;
        let want = (3.0 * c * c + c * c * c) / 12.0;
        crate::prec::assert_close(exact::loss(&m, &Loss::L2), want, 1e-12);
    }

    /// One argmin L-BFGS run of `iters` iterations from `x` (the polish's solver settings).
    fn lbfgs(problem: Problem<'_>, x: Vec<f64>, iters: u64) -> (Vec<f64>, u64) {
        let ls = MoreThuenteLineSearch::new()
            .with_bounds(f64::EPSILON.sqrt(), 1e4)
            .unwrap();
        let solver = argmin::solver::quasinewton::LBFGS::new(ls, LBFGS_MEMORY)
            .with_tolerance_grad(1e-12)
            .unwrap()
            .with_tolerance_cost(1e-16)
            .unwrap();
        let res = Executor::new(problem, solver)
            .configure(|s| s.param(x).max_iters(iters))
            .run()
            .unwrap();
        let passes = res.problem.problem.as_ref().unwrap().passes.get();
        (res.state.get_best_param().unwrap().clone(), passes)
    }

    /// The polish's in-place L-BFGS with argmin's sequential sums takes argmin's iterates on the
    /// toy loss, bit for bit (the in-place two-loop changes the cost, never the result), through
    /// lists that die at every step; the trainer's lane sums ([`super::super::lbfgs::Sums`])
    /// are another rounding of the same products.
    #[test]
    fn polish_solver_takes_argmins_iterates() {
        let start = spread_start(5, 300, 1, &mut ChaCha8Rng::seed_from_u64(12));
        let x = to_params(&start);
        let (theirs, _) = lbfgs(Problem::new(5, 300, &Loss::L2), x.clone(), 150);
        let ls = MoreThuenteLineSearch::new()
            .with_bounds(f64::EPSILON.sqrt(), 1e4)
            .unwrap();
        let solver = Lbfgs::new(ls, LBFGS_MEMORY)
            .with_tolerance_grad(1e-12)
            .with_tolerance_cost(1e-16)
            .with_sums(super::super::lbfgs::Sums::Sequential);
        let res = Executor::new(Problem::new(5, 300, &Loss::L2), solver)
            .configure(|s| s.param(x).max_iters(150))
            .run()
            .unwrap();
        let ours = res.state.get_best_param().unwrap();
        assert!(ours
            .iter()
            .zip(&theirs)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    /// The loss of one pass is the same with and without the gradient (the memo relies on it),
    /// on the dense loop and on the neighbour list.
    #[test]
    fn loss_is_the_same_with_and_without_gradient() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for (n, nf) in [(3usize, 200usize), (3, 600), (8, 300)] {
            let m = spread_start_below(n, nf, 1, 1.15, &mut rng);
            let (w, b) = (m.w.as_slice(), m.b.as_slice());
            let (mut gw, mut gb) = (vec![0.0; n * nf], vec![0.0; nf]);
            let with = exact::eval(n, w, b, &Loss::L2, Some((&mut gw, &mut gb)));
            assert_eq!(
                with,
                exact::eval(n, w, b, &Loss::L2, None),
                "n = {n}, N = {nf}"
            );
        }
    }

    /// The memo of loss and gradient changes the number of passes, never the iterates.
    #[test]
    fn memo_changes_cost_not_result() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let start = spread_start_below(3, 60, 1, 1.15, &mut rng);
        let x = to_params(&start);
        let (a, pa) = lbfgs(Problem::new(3, 60, &Loss::L2), x.clone(), 150);
        let mut plain = Problem::new(3, 60, &Loss::L2);
        plain.memoise = false;
        let (b, pb) = lbfgs(plain, x, 150);
        assert_eq!(a, b);
        // Without the memo a point costs two or three passes; with it one.
        assert!(2 * pa <= pb + 2, "{pa} passes with the memo, {pb} without");
    }

    #[test]
    fn race_drops_only_who_cannot_catch_up() {
        // Without a ratio (or a growing gain) the extrapolation is linear, doubled:
        // 1 + 2·0.009·10 = 1.18 < 1.2, 1 + 2·0.011·10 = 1.22.
        assert!(hopeless(1.0, 0.009, None, 10, 1.2));
        assert!(!hopeless(1.0, 0.011, None, 10, 1.2));
        assert!(!hopeless(1.0, 0.011, Some(0.01), 10, 1.2));
        assert!(!hopeless(1.0, 0.011, Some(-0.5), 10, 1.2));
        // Halving gains: Δ = 0.1·(1/2 + 1/4 + …) < 0.1, twice that is 0.2: 1 + 0.2 ≥ 1.2 only
        // in the limit; with 10 rounds Δ = 0.1·(1 − 2^−10), just below.
        assert!(hopeless(1.0, 0.1, Some(0.2), 10, 1.2));
        assert!(!hopeless(1.0, 0.1, Some(0.2), 10, 1.19));
        // The closed form is the sum it stands for.
        let (g, d, b, r) = (1.0, 0.05, 0.08, 7u64);
        let rho: f64 = d / b;
        let sum: f64 = (1..=r).map(|j| d * rho.powi(j as i32)).sum();
        assert!(hopeless(g, d, Some(b), r, g + RACE_SAFETY * sum + 1e-12));
        assert!(!hopeless(g, d, Some(b), r, g + RACE_SAFETY * sum - 1e-12));
        // Without rounds left nothing can be gained.
        assert!(hopeless(1.0, 5.0, None, 0, 1.2) && !hopeless(1.2, 0.0, None, 0, 1.2));
    }

    /// The race ends with the same winner as polishing every finalist for the whole budget
    /// (3-D, N = 96: the intercept factors pick different basins), with fewer iterations.
    #[test]
    fn race_finds_the_winner_of_full_polishes() {
        let (n, nf, budget) = (3, 96, 3000);
        let finals: Vec<_> = [1.0, 1.1, 1.3, 1.45]
            .iter()
            .enumerate()
            .map(|(k, &f)| {
                let mut rng = ChaCha8Rng::seed_from_u64(9);
                let start = spread_start_below(n, nf, 1, f, &mut rng);
                let (m, l, c, ch) = polish(&start, &Loss::L2, 100).unwrap();
                (m, l, format!("spread#{k}"), false, c, ch)
            })
            .collect();
        let full = finals
            .iter()
            .map(|f| {
                if f.4 {
                    f.1
                } else {
                    polish(&f.0, &Loss::L2, budget).unwrap().1
                }
            })
            .fold(f64::INFINITY, f64::min);
        let raced = race(finals, &Loss::L2, budget, &|_, _, _| {}).unwrap();
        let best = raced.iter().map(|r| r.loss).fold(f64::INFINITY, f64::min);
        assert!((best - full).abs() <= 1e-12 * full, "{best} vs {full}");
        let spent: u64 = raced.iter().map(|r| r.done).sum();
        assert!(spent < 4 * budget, "{spent}");
    }

    #[test]
    fn lift_preserves_gain() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let small = spread_start(3, 10, 1, &mut rng);
        let big = lift(&small, 33);
        let g = |m: &Model| (1.0 / 3.0 - exact::loss(m, &Loss::L2)) * m.features() as f64;
        crate::prec::assert_close(g(&big), g(&small), 1e-12);
    }

    #[test]
    fn polish_reaches_a_stationary_point_below_the_start() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let start = spread_start(3, 20, 1, &mut rng);
        let l0 = exact::loss(&start, &Loss::L2);
        let (m, l, conv, _) = polish(&start, &Loss::L2, 2000).unwrap();
        assert!(conv && l < l0);
        assert!(m.b.iter().all(|&b| b <= 0.0));
        let (_, gw, gb) = exact::loss_grad(&m, &Loss::L2);
        // Stationary in W; in b either stationary or pushing against b = 0.
        assert!(gw.amax() < 1e-6, "{}", gw.amax());
        for (g, b) in gb.iter().zip(m.b.iter()) {
            assert!(g.abs() < 1e-6 || (*b > -1e-6 && *g < 0.0), "{g} at b = {b}");
        }
    }

    /// n = 2, N = 4: the optimum is four features at 90° (a cross), b = 0, W_i unit: loss 0.
    #[test]
    fn two_dims_four_features_is_the_cross() {
        let s = ExactSettings {
            restarts: 2,
            adam_steps: 300,
            adam_lr: 0.03,
            screen_iters: 200,
            lbfgs_iters: 1000,
            chain: true,
        };
        let r = train_exact(2, 4, 0, &Loss::L2, &s, &NoObserver).unwrap();
        assert!(r.loss < 1e-8, "{}", r.loss);
    }

    /// A chain cache filled by a smaller model gives exactly the uncached result for a larger one.
    #[test]
    fn chain_cache_changes_cost_not_result() {
        let s = ExactSettings {
            restarts: 1,
            adam_steps: 50,
            adam_lr: 0.05,
            screen_iters: 50,
            lbfgs_iters: 200,
            chain: true,
        };
        let cache = ChainCache::default();
        train_exact_cached(3, 16, 5, &Loss::L2, &s, &NoObserver, Some(&cache)).unwrap();
        let cached =
            train_exact_cached(3, 32, 5, &Loss::L2, &s, &NoObserver, Some(&cache)).unwrap();
        let plain = train_exact(3, 32, 5, &Loss::L2, &s, &NoObserver).unwrap();
        assert_eq!(cached.loss, plain.loss);
        assert_eq!(cached.model.w, plain.model.w);
        assert_eq!(cached.start, plain.start);
    }

    /// Regression (session 5): at n = 8, N = 240 the spread starts ended at gain 62.7048, below
    /// the E8 roots with the symmetric theory's slope and intercept. E8's inner products are
    /// 56 at ½, 126 at 0, 56 at −½ and 1 at −1, so with one intercept `c ∈ [0, ½]` and the best
    /// slope the gain is the closed form `240 max_c B²/A` (SPEC §3, module docs of
    /// [`crate::symmetric`]): `B = (1 − c)²(2 + c)/6`, `A = (1 − c)³/3 + 56 (½ − c)³/(3 · ½)`,
    /// 63.573796 at c = 0.47776. The `code#k` start reaches it.
    #[test]
    fn code_start_finds_e8() {
        let g = |c: f64| {
            let a = (1.0 - c).powi(3) / 3.0 + 56.0 * (0.5 - c).max(0.0).powi(3) / 1.5;
            let b = (1.0 - c).powi(2) * (2.0 + c) / 6.0;
            b * b / a
        };
        let (mut lo, mut hi) = (0.0f64, 0.5f64);
        for _ in 0..200 {
            let (m1, m2) = (lo + (hi - lo) / 3.0, hi - (hi - lo) / 3.0);
            if g(m1) < g(m2) {
                lo = m1;
            } else {
                hi = m2;
            }
        }
        let want = 240.0 * g(0.5 * (lo + hi));
        assert!((want - 63.573_796).abs() < 1e-5, "{want}");
        let r = train_exact(8, 240, 0, &Loss::L2, &structured_only(), &NoObserver).unwrap();
        let gain = (1.0 / 3.0 - r.loss) * 240.0;
        assert!(r.start.starts_with("code#"), "{}", r.start);
        assert!((gain - want).abs() < 1e-9 * want, "{gain} vs {want}");
    }

    /// The structured starts alone (no chain, no random restart), 3000 polish iterations.
    fn structured_only() -> ExactSettings {
        ExactSettings {
            restarts: 0,
            adam_steps: 0,
            adam_lr: 0.03,
            screen_iters: 200,
            lbfgs_iters: 3000,
            chain: false,
        }
    }

    /// Regression (session 6): at n = 64, N = 2n the spread starts' repulsion did not reach the
    /// cross-polytope, the global optimum (gain N/3: loss 0, nothing interferes); the `cross`
    /// start does, and the cross directions have no positive cosine.
    #[test]
    fn cross_start_reaches_the_global_optimum() {
        let u = cross_directions(5, 7);
        assert_eq!(u.ncols(), 7);
        assert_eq!(max_cos(&u), 0.0);
        let r = train_exact(64, 128, 0, &Loss::L2, &structured_only(), &NoObserver).unwrap();
        let gain = (1.0 / 3.0 - r.loss) * 128.0;
        assert_eq!(r.start, "cross");
        assert!((gain - 128.0 / 3.0).abs() < 1e-12, "{gain}");
    }

    /// The smaller L-BFGS memory starts above 2^22 parameters: n = 3 at N = 2^20 (exactly 2^22)
    /// keeps 30 pairs, n = 4 at N = 2^20 keeps 20, and every model of the note's sweep 30.
    #[test]
    fn large_polishes_keep_fewer_pairs() {
        assert_eq!(lbfgs_memory(4 << 20), LBFGS_MEMORY);
        assert_eq!(lbfgs_memory(5 << 20), LBFGS_MEMORY_LARGE);
        assert_eq!(lbfgs_memory(9 * 1024), LBFGS_MEMORY);
    }

    /// The screening polishes and the race's rounds run in parallel: the model does not depend
    /// on the number of threads.
    #[test]
    fn same_model_on_one_and_two_threads() {
        let s = ExactSettings {
            restarts: 1,
            adam_steps: 50,
            adam_lr: 0.03,
            screen_iters: 100,
            lbfgs_iters: 900,
            chain: true,
        };
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| train_exact(4, 40, 3, &Loss::L2, &s, &NoObserver).unwrap())
        };
        let (a, b) = (on(1), on(2));
        assert_eq!(a.model, b.model);
        assert_eq!((a.loss, a.start), (b.loss, b.start));
    }

    #[test]
    fn deterministic_for_a_seed() {
        let s = ExactSettings {
            restarts: 1,
            adam_steps: 100,
            adam_lr: 0.03,
            screen_iters: 100,
            lbfgs_iters: 300,
            chain: true,
        };
        let a = train_exact(3, 24, 7, &Loss::L2, &s, &NoObserver).unwrap();
        let b = train_exact(3, 24, 7, &Loss::L2, &s, &NoObserver).unwrap();
        assert_eq!(a.model, b.model);
    }
}
