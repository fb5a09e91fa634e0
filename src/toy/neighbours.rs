//! The exact sparse-limit loss on a Verlet neighbour list (SPEC §4, §7): the same numbers as the
//! dense pair loop of [`super::exact`], at a cost of `O(N·K·n)` per evaluation instead of
//! `O(N² n)` (`K` = candidate neighbours per feature).
//!
//! A cross term (input `i`, output `j`) is non-zero only when `G_ij + b_j > 0`. Near a minimum
//! each feature fires on the inputs of a few neighbouring directions only, so a list of
//! candidate pairs, kept while the weights move (the Verlet list of molecular-dynamics codes),
//! holds every active pair. A rigorous bound, checked at **every** evaluation (line-search trial
//! points included), proves that no pair outside the list can have turned active since the list
//! was built; when the bound fails the list is rebuilt. The list changes the cost, never the
//! result.
//!
//! # Formula
//!
//! The list is built at `(W⁰, b⁰)` with margin `m ≥ 0` (the skin): it holds every unordered
//! pair of non-zero features with `G⁰_ij + max(b⁰_i, b⁰_j) > −m − ε⁰` as computed, where
//! `ε⁰ = 2γ A²` covers the rounding of the builder's products (`γ = 2nu/(1 − nu)`, twice
//! Higham's `γ_n` for an `n`-term dot product in any order, `u = 2⁻⁵³`, `A = max |W⁰_i|`), so
//! every pair left out has `G⁰_ij + max(b⁰_i, b⁰_j) ≤ −m − γA²` exactly. At a later point `(W, b)`
//! write `W_i = W⁰_i + d_i`, `δ_i = |d_i|`, `r_i = |W⁰_i|`, `Δb_j = b_j − b⁰_j`. By Cauchy–Schwarz
//!
//! ```text
//! G_ij = G⁰_ij + W⁰_i·d_j + d_i·W⁰_j + d_i·d_j ≤ G⁰_ij + r_i δ_j + δ_i r_j + δ_i δ_j
//! G_ij + b_j ≤ (G⁰_ij + b⁰_j) + 2 R Δ + Δ² + B,   R = max r_i, Δ = max δ_i, B = max (Δb_j)₊
//! ```
//!
//! and the evaluation's computed `ĝ_ij` is within `γ (R + Δ)²` of `G_ij`, so a pair left out is
//! inactive in both directions (as computed) whenever `β = 2RΔ + Δ² + B + γ(R + Δ)² < m` — the
//! test run before every evaluation (with a relative allowance of 1e-9 of `m` for the rounding
//! of `β` itself; the list is rebuilt otherwise). At the build point itself (`W = W⁰` bit for
//! bit, `b ≤ b⁰`) the list is valid for any `m ≥ 0`, so a list with `m = 0` is the dense loop's
//! filter. A feature with `W⁰_i = 0` is in no pair: while `W_i = 0` every `G_ij = 0` and, with
//! `b ≤ 0`, none of its pairs is active; the list is rebuilt when it moves.
//!
//! # Builders
//!
//! * **Gram** ([`Builder::Gram`]): the products `W_Iᵀ W_J` of tiles of [`TILE`] features
//!   (`matrixmultiply`'s GEMM: cache-blocked, with AVX2/FMA kernels chosen at run time), over the
//!   upper triangle of tiles in parallel, each product tested against the threshold. Cost
//!   `N² n / 2` multiply-adds and a scan of `N²/2` numbers, whatever the margin; the tiling is
//!   fixed, so the list does not depend on the number of threads.
//! * **Tree** ([`Builder::Tree`]): with `a_i = |W⁰_i|`, `s_i = −b⁰_i − m − ε⁰` and `A = max a_i`,
//!   a pair is a candidate iff `a_i a_j cos θ_ij > min(s_i, s_j)`. Take `i` with the smaller
//!   `s`. If `s_i > 0` both amplitudes are positive and
//!   `cos θ_ij > s_i/(a_i a_j) ≥ s_i/(a_i A) =: cos ρ_i`, so a ball query of angular radius `ρ_i`
//!   around `u_i = W⁰_i/a_i` in a k-d tree of the unit directions finds `j` (chord radius
//!   `2 sin(ρ_i/2)`, inflated by 1e-9 against rounding). If `s_i ≤ 0` (a bias within `m` of 0),
//!   `i` is compared with every feature directly. The tree prunes in low `n` only; it is the
//!   builder for `n ≤` [`TREE_MAX_DIM`] from [`TREE_MIN_FEATURES`] features on
//!   ([`Builder::for_size`]), where `N²` products cost more than the queries.
//!
//! # Evaluation
//!
//! Row `i` holds its candidates `j` in increasing order; for each it computes `g = W_i·W_j`
//! with the canonical [`dot`], adds the term with output `i`, `R(g, b_i, 0)`, to the loss and
//! `∂L/∂b_i`, and `γ = ∂R(g, b_i, 0)/∂g + ∂R(g, b_j, 0)/∂g` times `W_j` to `∂L/∂W_i`, so every
//! row writes only its own gradient entries (rows run in parallel without buffers). Inactive
//! candidates are skipped, so the result depends on `(W, b)` alone, not on which builder made
//! the list, when, or with which margin: the loss is summed over the active terms in a fixed
//! order, in fixed blocks of [`ROW_BLOCK`] rows.
//!
//! # Adaptive skin
//!
//! A wide margin keeps a list through larger moves but lists more pairs; in 8-D a margin of the
//! order of the self response's height lists about half of all pairs. The margin is
//! `m = skin · h`, `h` the median height `|W_i|² + b_i` of the embedded self responses, and the
//! skin adapts as in molecular-dynamics codes that choose the Verlet buffer from the observed
//! displacements: a list records the bound `β` of every evaluation it served and the gaps
//! `−(G⁰_ij + max b⁰)` of its pairs. When it fails, these give, for every smaller margin `m'`,
//! exactly how many evaluations a list of margin `m'` would have served and how many pairs it
//! would have held (for larger `m'`, by extrapolation), and the next skin is the one that
//! minimises the estimated work per evaluation, `build/served + evaluation`, in a deterministic
//! work model ([`skin_choice`]). The first list of a thread (or after [`clear_cache`]) uses
//! [`initial_skin`] ([`INITIAL_SKIN`] for `n ≤ 8`, [`INITIAL_SKIN_HIGH`] beyond). The skin
//! changes the cost, never the result.
//!
//! # Two levels
//!
//! Far from a minimum (a structured start, the first hundreds of L-BFGS iterations at large
//! `N`) the weights move past any useful margin at nearly every step: at n = 4, N = 65 536 the
//! bound of one step is 0.03–1 against a median height of 1.6, so every evaluation rebuilt its
//! list, and a k-d tree build costs about ten list evaluations. So lists come in two levels,
//! as in molecular-dynamics codes that keep a wide list and filter the interaction list from
//! it: an **outer** list of margin `M` (built by a [`Builder`]) and the **inner** list of
//! margin `m ≤ M` that the evaluation runs on, drawn from the outer list's pairs by the
//! builders' own test ([`NeighbourList::filtered`], `O(N K_M n)`). A pair left out of the outer
//! list built at `(W⁰, b⁰)` has `G⁰_ij + max b⁰ ≤ −M − γA₀²`; at `(W¹, b¹)`, with `β` the outer
//! list's bound there, it has `G¹_ij + max b¹ ≤ −M + β − γ(R + Δ)²`, which is at most
//! `−m − γA₁²` (`A₁ ≤ R + Δ`) when `β ≤ M − m`. So when `β + m < M (1 − 1e-9)` (or `β = 0` and
//! `m ≤ M`, [`NeighbourList::serves`]) the filtered list holds every pair a builder would list
//! at `(W¹, b¹)`, carries the same guarantee, and is checked at every evaluation by its own
//! bound as before. When the outer list no longer serves, it is rebuilt; its skin `M/h` is
//! tuned by [`skin_choice`] on the needed outer margins `β + m` of the inner builds it served
//! (from [`INITIAL_OUTER_SKIN`], within [`MIN_OUTER_SKIN`]…[`MAX_OUTER_SKIN`]). The inner lists
//! are rebuilt exactly when they were before, so the skin tuner and the evaluations see the
//! same sequence; like the skin, the outer list changes the cost, never the result
//! (`cargo bench --bench exact_polish`: n = 8, N = 1024 from the spread start, 300
//! iterations, 1.8 s → 1.4 s).
//!
//! # Angular outer lists
//!
//! The bound `β` of Cauchy–Schwarz charges every move as if it pointed at the neighbour. At
//! large `N` the moves are mostly tangential and a neighbour's direction is only `θ` away, so
//! the true change of `G_ij` is `≈ θ` times the bound: at n = 3, N = 65 536 one L-BFGS step has
//! `β` = 1.6–14 against a median height of 1.6, and no gap-based outer list lives two steps.
//! For the tree builder's sizes the outer list is angular instead ([`AngleList`]). With
//! `r_k = |W_k|`, `A = max r_k` and `γ` as above, output `k` is within `m` of firing on input
//! `i` only if `r_i r_k cos θ_ik + b_k > −m − γA²`, so only if
//! `cos θ_ik > κ_k(m) = (−b_k − m − 2γA²)/(A r_k)` (the activity radius `ρ_k = arccos κ_k`).
//! The list holds every pair whose directions at the build point are within
//! `max(Θ_i, Θ_j)`, `Θ_k = min(π, ρ_k + s ρ̃)` (`ρ̃` the median radius, `s` the slack; ball
//! queries of the k-d tree, chord radius inflated by 1e-9). Later, with `φ_k` the angle feature
//! `k` has turned by and `Φ = max φ_k`, a pair left out has `θ_ik ≥ Θ_k − Φ − φ_k` (the
//! triangle inequality on the sphere), so it cannot be within `m` of firing at output `k` when
//! `cos(Θ_k − Φ − φ_k) < κ_k(m)` with `κ_k` at the current weights and biases. When that holds
//! for every non-zero feature (and no feature that was zero has moved; angles from chords
//! inflated by 1e-9, cosines compared with 1e-12 to spare), the inner list filtered from it
//! holds every pair a builder would list, as above ([`AngleList::serves`]). Radial moves and
//! bias changes enter only through the current `κ_k`, and tangential moves through `Φ ≪ θ`.
//! The slack starts at [`INITIAL_ANGLE_SLACK`] and grows ×1.5 when a list served fewer than
//! [`ANGLE_SERVED_LOW`] inner lists, shrinks ×0.75 above [`ANGLE_SERVED_HIGH`]. Measured
//! (`cargo bench --bench exact_polish -- "large start"`, one thread, 300 iterations from the
//! large-N start, with the in-place L-BFGS of [`super::lbfgs`]): n = 3, N = 65 536 287 inner
//! lists from 7 outer ones, 42.8 s before the two levels → 26 s; n = 4 310 from 11–12,
//! 103 s → 49 s (`BENCH_THREADS=2`: 18 s and 33 s).
//!
//! # Direct evaluation
//!
//! Far from a minimum at the tree builder's sizes, the inner list still dies at nearly every
//! step (its Cauchy–Schwarz bound charges every move in full): at n = 4, N = 65 536, 309 inner
//! lists for 320 evaluations, each filtered from the outer list (one product per outer pair),
//! assembled and sorted, to be evaluated once. The angular outer list holds only a few more
//! pairs (7 per feature at n = 3, 12 at n = 4 in that polish) and, where it
//! [`AngleList::serves`] with margin 0, every active pair; the evaluation skips inactive
//! entries, so evaluating on it gives the inner list's numbers bit for bit (same active
//! entries, same order). So when an inner list served only the evaluation it was built for,
//! the next evaluations run on the angular list itself ([`direct`]), rebuilt as before when it
//! no longer serves, until an inner list built at the last evaluated point would have served
//! the current one (the bound `β` of the step below the inner margin): then inner lists
//! return. Measured (`BENCH_THREADS=2 cargo bench --bench exact_polish -- "N=65536 large"`,
//! alternating runs): n = 3 6.1 s against 7.7 s, n = 4 10.4 s against 14.5 s, the same
//! losses. Like the two levels, it changes the cost, never the result.

use rayon::prelude::*;

use super::Loss;

/// Rows per block of the parallel evaluation (fixed, so the sum does not depend on threads).
pub const ROW_BLOCK: usize = 256;
/// Features per tile of the blocked Gram products of [`Builder::Gram`].
pub const TILE: usize = 256;
/// The k-d tree builder's largest `n`.
pub const TREE_MAX_DIM: usize = 4;
/// The k-d tree builder's smallest `N`.
pub const TREE_MIN_FEATURES: usize = 16384;
/// The skin (margin over the median height) of a thread's first list for `n ≤ 8`.
pub const INITIAL_SKIN: f64 = 0.125;
/// The skin of a thread's first list for `n > 8`, where the pairs crowd just below the
/// threshold (in 64 dimensions a skin of 0.125 lists 700–2100 pairs per feature at a start
/// below the nearest neighbour, `cargo bench --bench exact_loss`) and the tuner settles at
/// [`MIN_SKIN`] over a polish (`cargo bench --bench exact_polish`).
pub const INITIAL_SKIN_HIGH: f64 = 1.0 / 256.0;

/// The first list's skin in `n` dimensions.
pub fn initial_skin(n: usize) -> f64 {
    if n <= 8 {
        INITIAL_SKIN
    } else {
        INITIAL_SKIN_HIGH
    }
}
/// The skin of a thread's first outer list (module docs, "Two levels").
pub const INITIAL_OUTER_SKIN: f64 = 1.0;
/// The smallest outer skin the tuner chooses.
pub const MIN_OUTER_SKIN: f64 = 1.0 / 64.0;
/// The largest outer skin the tuner chooses.
pub const MAX_OUTER_SKIN: f64 = 16.0;
/// The slack of a thread's first angular outer list, in median activity radii.
pub const INITIAL_ANGLE_SLACK: f64 = 0.25;
/// The smallest slack of an angular outer list.
pub const MIN_ANGLE_SLACK: f64 = 0.02;
/// The largest slack of an angular outer list.
pub const MAX_ANGLE_SLACK: f64 = 2.0;
/// An angular outer list that served fewer inner lists than this grows its successor's slack.
pub const ANGLE_SERVED_LOW: usize = 4;
/// An angular outer list that served more inner lists than this shrinks its successor's slack.
pub const ANGLE_SERVED_HIGH: usize = 32;
/// The smallest skin the tuner chooses.
pub const MIN_SKIN: f64 = 1.0 / 1024.0;
/// The largest skin the tuner chooses.
pub const MAX_SKIN: f64 = 2.0;

/// A k-d tree over unit vectors in `R^n` (points stored in tree order), with ball and nearest
/// neighbour queries in chord distance.
pub struct KdTree {
    n: usize,
    pts: Vec<f64>,
    ids: Vec<u32>,
    dims: Vec<u8>,
}

const LEAF: usize = 8;

impl KdTree {
    /// A tree over the points `x[k*n..(k+1)*n]` with ids `ids[k]`.
    pub fn new(n: usize, x: &[f64], ids: Vec<u32>) -> Self {
        let len = ids.len();
        let mut order: Vec<u32> = (0..len as u32).collect();
        let mut dims = vec![0u8; len];
        build(n, x, &mut order, &mut dims, 0);
        let mut pts = Vec::with_capacity(len * n);
        for &k in &order {
            pts.extend_from_slice(&x[k as usize * n..(k as usize + 1) * n]);
        }
        let ids = order.iter().map(|&k| ids[k as usize]).collect();
        KdTree { n, pts, ids, dims }
    }

    /// The ids in tree order: neighbouring ids in it are near in space, so queries issued in
    /// this order reuse the cache (at N = 2^20 the tree does not fit in it).
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn p(&self, k: usize) -> &[f64] {
        &self.pts[k * self.n..(k + 1) * self.n]
    }

    /// Calls `f(id, squared distance)` for every point within squared distance `r2` of `q`.
    pub fn within(&self, q: &[f64], r2: f64, f: &mut impl FnMut(u32, f64)) {
        self.within_rec(0, self.len(), q, r2, f);
    }

    fn within_rec(&self, lo: usize, hi: usize, q: &[f64], r2: f64, f: &mut impl FnMut(u32, f64)) {
        if hi - lo <= LEAF {
            for k in lo..hi {
                let d2 = dist2(q, self.p(k));
                if d2 <= r2 {
                    f(self.ids[k], d2);
                }
            }
            return;
        }
        let mid = (lo + hi) / 2;
        let d = self.dims[mid] as usize;
        let diff = q[d] - self.p(mid)[d];
        let d2 = dist2(q, self.p(mid));
        if d2 <= r2 {
            f(self.ids[mid], d2);
        }
        let (near, far) = if diff < 0.0 {
            ((lo, mid), (mid + 1, hi))
        } else {
            ((mid + 1, hi), (lo, mid))
        };
        self.within_rec(near.0, near.1, q, r2, f);
        if diff * diff <= r2 {
            self.within_rec(far.0, far.1, q, r2, f);
        }
    }

    /// The nearest point to `q` other than id `skip`: `(id, squared distance)`.
    pub fn nearest(&self, q: &[f64], skip: u32) -> Option<(u32, f64)> {
        let mut best = (u32::MAX, f64::INFINITY);
        self.nearest_rec(0, self.len(), q, skip, &mut best);
        (best.0 != u32::MAX).then_some(best)
    }

    fn nearest_rec(&self, lo: usize, hi: usize, q: &[f64], skip: u32, best: &mut (u32, f64)) {
        if hi - lo <= LEAF {
            for k in lo..hi {
                let d2 = dist2(q, self.p(k));
                if self.ids[k] != skip && d2 < best.1 {
                    *best = (self.ids[k], d2);
                }
            }
            return;
        }
        let mid = (lo + hi) / 2;
        let d = self.dims[mid] as usize;
        let diff = q[d] - self.p(mid)[d];
        let d2 = dist2(q, self.p(mid));
        if self.ids[mid] != skip && d2 < best.1 {
            *best = (self.ids[mid], d2);
        }
        let (near, far) = if diff < 0.0 {
            ((lo, mid), (mid + 1, hi))
        } else {
            ((mid + 1, hi), (lo, mid))
        };
        self.nearest_rec(near.0, near.1, q, skip, best);
        if diff * diff < best.1 {
            self.nearest_rec(far.0, far.1, q, skip, best);
        }
    }
}

/// Median split on the coordinate of largest spread, recursively (`O(N log² N)`).
fn build(n: usize, x: &[f64], order: &mut [u32], dims: &mut [u8], _depth: usize) {
    let len = order.len();
    if len <= LEAF {
        return;
    }
    let mut best = (0usize, -1.0f64);
    for d in 0..n {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &k in order.iter() {
            let v = x[k as usize * n + d];
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if hi - lo > best.1 {
            best = (d, hi - lo);
        }
    }
    let d = best.0;
    let mid = len / 2;
    order.select_nth_unstable_by(mid, |&a, &b| {
        x[a as usize * n + d].total_cmp(&x[b as usize * n + d])
    });
    dims[mid] = d as u8;
    let (left, right) = order.split_at_mut(mid);
    let (dl, dr) = dims.split_at_mut(mid);
    if len > 1 << 14 {
        rayon::join(
            || build(n, x, left, dl, _depth + 1),
            || build(n, x, &mut right[1..], &mut dr[1..], _depth + 1),
        );
    } else {
        build(n, x, left, dl, _depth + 1);
        build(n, x, &mut right[1..], &mut dr[1..], _depth + 1);
    }
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The canonical dot product of the evaluation: a sequential sum for `n ≤ 8`; beyond, eight
/// partial sums over `d mod 8` combined in a fixed tree (vectorisable, shorter dependency
/// chains). Every product of [`eval_list`] goes through it, so the result does not depend on
/// which builder found a pair.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    if a.len() <= 8 {
        return a.iter().zip(b).map(|(x, y)| x * y).sum();
    }
    let mut s = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            s[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        s[l] += x * y;
    }
    ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

/// `γ = 2nu/(1 − nu)` with `u = 2⁻⁵³`: twice Higham's bound `γ_n` on the relative rounding of an
/// `n`-term dot product computed in any order, with or without fused multiply-adds:
/// `|fl(a·b) − a·b| ≤ γ_n Σ|a_d b_d| ≤ γ_n |a||b|`.
pub fn dot_rounding(n: usize) -> f64 {
    let nu = n as f64 * (f64::EPSILON / 2.0);
    2.0 * nu / (1.0 - nu)
}

/// The unit directions of the features with `|W_i| > 0`: `(flat units, ids, amplitudes of all)`.
pub fn unit_directions(n: usize, w: &[f64]) -> (Vec<f64>, Vec<u32>, Vec<f64>) {
    let nf = w.len() / n;
    let amp = amplitudes(n, w);
    let mut units = Vec::with_capacity(w.len());
    let mut ids = Vec::with_capacity(nf);
    for i in 0..nf {
        if amp[i] > 0.0 {
            units.extend(w[i * n..(i + 1) * n].iter().map(|x| x / amp[i]));
            ids.push(i as u32);
        }
    }
    (units, ids, amp)
}

fn amplitudes(n: usize, w: &[f64]) -> Vec<f64> {
    w.chunks(n).map(|c| dot(c, c).sqrt()).collect()
}

/// The scale `h` of the margin: the median height `|W_i|² + b_i` over embedded features; when
/// none is embedded, `max |W_i|²`, and 1 when `W = 0`.
pub fn height_scale(n: usize, w: &[f64], b: &[f64]) -> f64 {
    let mut h: Vec<f64> = w
        .chunks(n)
        .zip(b)
        .map(|(c, &bi)| dot(c, c) + bi)
        .filter(|&x| x > 0.0)
        .collect();
    if h.is_empty() {
        let a2 = w.chunks(n).map(|c| dot(c, c)).fold(0.0f64, f64::max);
        return if a2 > 0.0 { a2 } else { 1.0 };
    }
    let mid = h.len() / 2;
    *h.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1
}

/// How a list finds its candidate pairs (module docs, "Builders").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builder {
    /// Ball queries in a k-d tree of the unit directions.
    Tree,
    /// Blocked Gram products of tiles of features, every pair tested.
    Gram,
}

impl Builder {
    /// [`Builder::Tree`] for `n ≤` [`TREE_MAX_DIM`] and `N ≥` [`TREE_MIN_FEATURES`], else
    /// [`Builder::Gram`].
    pub fn for_size(n: usize, features: usize) -> Builder {
        if n <= TREE_MAX_DIM && features >= TREE_MIN_FEATURES {
            Builder::Tree
        } else {
            Builder::Gram
        }
    }
}

/// `c[r·ldc + s] = X_{i0+r} · X_{j0+s}` for `r < ni`, `s < nj`: one tile of the Gram matrix of
/// the columns of the column-major `n × M` matrix `x`, by `matrixmultiply`'s `dgemm`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gram_tile(
    n: usize,
    x: &[f64],
    i0: usize,
    ni: usize,
    j0: usize,
    nj: usize,
    c: &mut [f64],
    ldc: usize,
) {
    if ni == 0 || nj == 0 {
        return;
    }
    assert!((i0 + ni) * n <= x.len() && (j0 + nj) * n <= x.len());
    assert!(nj <= ldc && c.len() >= (ni - 1) * ldc + nj);
    // SAFETY: A = X_Iᵀ (ni × n, element (r, d) at (i0 + r)·n + d), B = X_J (n × nj, element
    // (d, s) at (j0 + s)·n + d) and C (ni × nj, row stride ldc) lie inside `x` and `c` by the
    // assertions above; `c` does not alias `x`.
    unsafe {
        matrixmultiply::dgemm(
            ni,
            n,
            nj,
            1.0,
            x[i0 * n..].as_ptr(),
            n as isize,
            1,
            x[j0 * n..].as_ptr(),
            1,
            n as isize,
            0.0,
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
}

/// A listed pair `(i, j)` (`i < j` for the Gram builder, either order for the tree's) and its
/// gap `−(G⁰_ij + max(b⁰_i, b⁰_j))`.
type Pair = (u32, u32, f32);

/// Every pair of the non-zero features (`amp > 0`) with `Ĝ_ij + max(b_i, b_j) > thr`, `Ĝ` from
/// blocked products: the upper triangle of [`TILE`] × [`TILE`] tiles, in parallel, in tile order.
fn gram_pairs(n: usize, w: &[f64], b: &[f64], amp: &[f64], thr: f64) -> Vec<Pair> {
    let ids: Vec<u32> = (0..b.len() as u32)
        .filter(|&i| amp[i as usize] > 0.0)
        .collect();
    let m = ids.len();
    let mut x = Vec::with_capacity(m * n);
    for &i in &ids {
        x.extend_from_slice(&w[i as usize * n..(i as usize + 1) * n]);
    }
    let bx: Vec<f64> = ids.iter().map(|&i| b[i as usize]).collect();
    let tiles = m.div_ceil(TILE);
    let jobs: Vec<(usize, usize)> = (0..tiles)
        .flat_map(|p| (p..tiles).map(move |q| (p, q)))
        .collect();
    let parts: Vec<Vec<Pair>> = jobs
        .par_iter()
        .map_init(
            || vec![0.0; TILE * TILE],
            |c, &(p, q)| {
                let (i0, j0) = (p * TILE, q * TILE);
                let (ni, nj) = (TILE.min(m - i0), TILE.min(m - j0));
                gram_tile(n, &x, i0, ni, j0, nj, c, TILE);
                let mut out = Vec::new();
                for r in 0..ni {
                    let bi = bx[i0 + r];
                    let start = if p == q { r + 1 } else { 0 };
                    let row = &c[r * TILE + start..r * TILE + nj];
                    let bj = &bx[j0 + start..j0 + nj];
                    scan_row(row, bi, bj, thr, |s, v| {
                        out.push((ids[i0 + r], ids[j0 + start + s], (-v) as f32));
                    });
                }
                out
            },
        )
        .collect();
    parts.concat()
}

/// Calls `hit(s, v)` for every `s` with `v = g[s] + max(bi, bj[s]) > thr`. A chunk of sixteen
/// products is first compared (vectorised) with `thr − max(bi, max bj)`, which every hit
/// exceeds, and only chunks with a product above it are tested entry by entry.
#[inline(never)]
fn scan_row(g: &[f64], bi: f64, bj: &[f64], thr: f64, mut hit: impl FnMut(usize, f64)) {
    const C: usize = 16;
    let bj_max = bj
        .iter()
        .fold(f64::NEG_INFINITY, |m, &x| if x > m { x } else { m });
    let t = thr - bi.max(bj_max);
    for (k, c) in g.chunks(C).enumerate() {
        let above: u32 = c.iter().map(|&x| (x > t) as u32).sum();
        if above == 0 {
            continue;
        }
        for (l, &x) in c.iter().enumerate() {
            let s = k * C + l;
            let v = x + bi.max(bj[s]);
            if v > thr {
                hit(s, v);
            }
        }
    }
}

/// `row(i, out)` for every non-zero feature `i` (`amp[i] > 0`), in fixed blocks of
/// [`ROW_BLOCK`] rows in parallel; the pairs pushed, in row order.
fn pairs_by_rows(amp: &[f64], row: impl Fn(usize, &mut Vec<Pair>) + Sync) -> Vec<Pair> {
    let nf = amp.len();
    let blocks: Vec<Vec<Pair>> = (0..nf.div_ceil(ROW_BLOCK))
        .into_par_iter()
        .map(|blk| {
            let mut out = Vec::new();
            let lo = blk * ROW_BLOCK;
            for (i, _) in amp
                .iter()
                .enumerate()
                .skip(lo)
                .take(ROW_BLOCK)
                .filter(|(_, &a)| a > 0.0)
            {
                row(i, &mut out);
            }
            out
        })
        .collect();
    blocks.concat()
}

/// The pairs of the tree builder (module docs), each found from the side with the smaller `s`
/// (both sides on ties: duplicates are possible).
fn tree_pairs(n: usize, w: &[f64], b: &[f64], amp: &[f64], a_max: f64, thr: f64) -> Vec<Pair> {
    let nf = b.len();
    let (units, ids, _) = unit_directions(n, w);
    let tree = KdTree::new(n, &units, ids);
    // Candidate iff a_i a_j cos θ > min(s_i, s_j), s_i = −b_i + thr.
    let s: Vec<f64> = b.iter().map(|&bi| thr - bi).collect();
    let test = |i: usize, j: usize| {
        let v = dot(&w[i * n..(i + 1) * n], &w[j * n..(j + 1) * n]) + b[i].max(b[j]);
        (v > thr).then_some((i as u32, j as u32, (-v) as f32))
    };
    pairs_by_rows(amp, |i, out| {
        if s[i] <= 0.0 {
            // Within the margin of 0: against every non-zero feature.
            out.extend(
                (0..nf)
                    .filter(|&j| j != i && amp[j] > 0.0)
                    .filter_map(|j| test(i, j)),
            );
            return;
        }
        let cos_rho = (s[i] / (amp[i] * a_max)).min(1.0);
        if cos_rho >= 1.0 {
            return;
        }
        // Chord² = 2(1 − cos ρ), inflated against rounding.
        let r2 = 2.0 * (1.0 - cos_rho) * (1.0 + 1e-9) + 1e-15;
        let q: Vec<f64> = w[i * n..(i + 1) * n].iter().map(|x| x / amp[i]).collect();
        tree.within(&q, r2, &mut |j, _| {
            let j = j as usize;
            // Pairs with a wide j are found from j's side.
            if j != i && s[j] > 0.0 && s[i] <= s[j] {
                out.extend(test(i, j));
            }
        });
    })
}

/// The amplitudes `r_k = |W_k|`, `A = max r_k` and the builders' threshold
/// `−m − 2γA²` (module docs, "Formula"): a pair is listed when its computed
/// `G_ij + max(b_i, b_j)` is above it.
fn threshold(n: usize, w: &[f64], margin: f64) -> (Vec<f64>, f64, f64) {
    let amp = amplitudes(n, w);
    let a_max = amp.iter().fold(0.0f64, |x, &y| x.max(y));
    (amp, a_max, -margin - 2.0 * dot_rounding(n) * a_max * a_max)
}

/// `κ_k(m) = (−b_k − m − 2γA²)/(A r_k)` for every feature (0 where `r_k = 0`), the amplitudes
/// `r_k` and `A = max r_k`: the cosine above which output `k` can be within `m` of firing on
/// any input (module docs, "Angular outer lists").
fn kappas(n: usize, w: &[f64], b: &[f64], margin: f64) -> (Vec<f64>, Vec<f64>, f64) {
    let (amp, a_max, thr) = threshold(n, w, margin);
    let kap = amp
        .iter()
        .zip(b)
        .map(|(&r, &bk)| {
            if r > 0.0 {
                (thr - bk) / (a_max * r)
            } else {
                0.0
            }
        })
        .collect();
    (kap, amp, a_max)
}

/// An angular outer list (module docs, "Angular outer lists"): every pair of non-zero features
/// whose directions at the build point are within `max(Θ_i, Θ_j)` of each other, found with a
/// k-d tree, with `Θ_k` the activity radius `arccos κ_k` of feature `k` plus a common slack.
#[derive(Debug, Clone)]
pub struct AngleList {
    rows: NeighbourList,
    units: Vec<f64>,
    radius: Vec<f64>,
}

impl AngleList {
    /// The list at `(w, b)` for inner margins up to `margin`, with slack `slack` times the
    /// median activity radius.
    pub fn build(n: usize, w: &[f64], b: &[f64], margin: f64, slack: f64) -> Self {
        use std::f64::consts::PI;
        let nf = b.len();
        let (kap, amp, a_max) = kappas(n, w, b, margin);
        let rho: Vec<f64> = kap.iter().map(|k| k.clamp(-1.0, 1.0).acos()).collect();
        let mut live: Vec<f64> = (0..nf).filter(|&k| amp[k] > 0.0).map(|k| rho[k]).collect();
        let med = if live.is_empty() {
            0.0
        } else {
            let mid = live.len() / 2;
            *live.select_nth_unstable_by(mid, f64::total_cmp).1
        };
        let radius: Vec<f64> = (0..nf)
            .map(|k| {
                if amp[k] > 0.0 {
                    (rho[k] + slack * med).min(PI)
                } else {
                    0.0
                }
            })
            .collect();
        let (u, ids, _) = unit_directions(n, w);
        // The directions by feature (zero for zero features), for the later turn angles.
        let mut units = vec![0.0; n * nf];
        for (k, &i) in ids.iter().enumerate() {
            units[i as usize * n..(i as usize + 1) * n].copy_from_slice(&u[k * n..(k + 1) * n]);
        }
        let tree = KdTree::new(n, &u, ids);
        // Queries in the tree's order (cache-friendly); the pairs are sorted below.
        let blocks: Vec<Vec<Pair>> = tree
            .ids()
            .par_chunks(ROW_BLOCK)
            .map(|ids| {
                let mut out = Vec::new();
                for i in ids.iter().map(|&i| i as usize) {
                    let key = |j: usize| (i.min(j) as u32, i.max(j) as u32, 0.0f32);
                    if radius[i] >= PI {
                        out.extend((0..nf).filter(|&j| j != i && amp[j] > 0.0).map(key));
                        continue;
                    }
                    // Chord² = 2(1 − cos Θ), inflated against rounding.
                    let r2 = 2.0 * (1.0 - radius[i].cos()) * (1.0 + 1e-9) + 1e-15;
                    tree.within(&units[i * n..(i + 1) * n], r2, &mut |j, _| {
                        if j as usize != i {
                            out.push(key(j as usize));
                        }
                    });
                }
                out
            })
            .collect();
        // In the tree's order, each pair from both ends: `from_pairs` orders them.
        let pairs = blocks.concat();
        let rows = NeighbourList::from_pairs(n, w, b, &amp, a_max, 0.0, Builder::Tree, pairs);
        AngleList {
            rows,
            units,
            radius,
        }
    }

    /// Number of stored (directed) entries.
    pub fn entries(&self) -> usize {
        self.rows.entries()
    }

    /// Whether [`NeighbourList::filtered`] of this list's pairs at `(w, b)` with margin `margin`
    /// holds every pair a builder would list there (module docs, "Angular outer lists"): no
    /// feature that was zero has moved, and `cos(Θ_k − Φ − φ_k) < κ_k(m)` for every non-zero
    /// feature with `Θ_k < π`, `φ_k` the angle it turned by and `Φ = max φ_k`.
    pub fn serves(&self, n: usize, w: &[f64], b: &[f64], margin: f64) -> bool {
        use std::f64::consts::PI;
        let nf = b.len();
        if n != self.rows.n || w.len() != n * self.radius.len() {
            return false;
        }
        let (kap, amp, _) = kappas(n, w, b, margin);
        let mut phi = vec![0.0; nf];
        for k in 0..nf {
            if amp[k] == 0.0 {
                continue;
            }
            let u0 = &self.units[k * n..(k + 1) * n];
            if u0.iter().all(|&x| x == 0.0) {
                // Zero at the build point, in no pair, and moved since.
                return false;
            }
            let c2: f64 = (0..n)
                .map(|q| (w[k * n + q] / amp[k] - u0[q]).powi(2))
                .sum();
            let c = c2.sqrt();
            // The angle from its chord, inflated against rounding.
            phi[k] = 2.0 * (0.5 * c).min(1.0).asin() * (1.0 + 1e-9) + 1e-12;
        }
        let big = phi.iter().fold(0.0f64, |x, &y| x.max(y));
        (0..nf).all(|k| {
            amp[k] == 0.0 || self.radius[k] >= PI || {
                let a = self.radius[k] - big - phi[k];
                a > 0.0 && a.cos() + 1e-12 < kap[k] * (1.0 - 1e-12)
            }
        })
    }

    /// The inner list of margin `margin` at `(w, b)` from this list's pairs.
    pub fn filtered(&self, n: usize, w: &[f64], b: &[f64], margin: f64) -> NeighbourList {
        self.rows.filtered(n, w, b, margin)
    }
}

/// A Verlet list of candidate pairs (module docs), with the positions it was built at.
#[derive(Debug, Clone)]
pub struct NeighbourList {
    n: usize,
    w0: Vec<f64>,
    b0: Vec<f64>,
    r_max: f64,
    margin: f64,
    builder: Builder,
    offsets: Vec<usize>,
    idx: Vec<u32>,
    mirror: Vec<u32>,
    null: Vec<u32>,
    gaps: Vec<f32>,
}

impl NeighbourList {
    /// Builds the list at `(w, b)` (flat column-major, `b ≤ 0`) with margin `margin ≥ 0`, by
    /// [`Builder::for_size`].
    pub fn build(n: usize, w: &[f64], b: &[f64], margin: f64) -> Self {
        Self::build_with(n, w, b, margin, Builder::for_size(n, b.len()))
    }

    /// Builds the list with the given builder.
    pub fn build_with(n: usize, w: &[f64], b: &[f64], margin: f64, builder: Builder) -> Self {
        assert!(margin >= 0.0, "the margin must be ≥ 0");
        let nf = b.len();
        debug_assert_eq!(w.len(), n * nf);
        let (amp, a_max, thr) = threshold(n, w, margin);
        let pairs = match builder {
            Builder::Gram => gram_pairs(n, w, b, &amp, thr),
            // Each pair found from both ends, in query order: `from_pairs` orders them.
            Builder::Tree => tree_pairs(n, w, b, &amp, a_max, thr),
        };
        Self::from_pairs(n, w, b, &amp, a_max, margin, builder, pairs)
    }

    /// The list of the unordered pairs `pairs` (in any order, either way round, repeated or
    /// not) built at `(w, b)`.
    #[allow(clippy::too_many_arguments)]
    fn from_pairs(
        n: usize,
        w: &[f64],
        b: &[f64],
        amp: &[f64],
        a_max: f64,
        margin: f64,
        builder: Builder,
        mut pairs: Vec<Pair>,
    ) -> Self {
        let nf = b.len();
        // Pairs `i < j` in strictly lexicographic order (the Gram builder's and the filter's;
        // any other input — the k-d tree's, each pair found from both ends — is put so: each
        // pair as `i < j`, sorted, once) fill each row in increasing order: row `r` gets its
        // `j < r` from the pairs `(j, r)`, in the order of `j`, before its own pairs `(r, j)`.
        // So an entry's mirror is where its pair's other half went, and no row needs sorting
        // or searching.
        let ordered = pairs.iter().all(|p| p.0 < p.1)
            && pairs
                .windows(2)
                .all(|p| (p[0].0, p[0].1) < (p[1].0, p[1].1));
        if !ordered {
            for p in pairs.iter_mut().filter(|p| p.0 > p.1) {
                (p.0, p.1) = (p.1, p.0);
            }
            pairs.par_sort_unstable_by_key(|p| (p.0, p.1));
            pairs.dedup_by_key(|p| (p.0, p.1));
        }
        // Rows: both directions of every pair, each row sorted.
        let mut offsets = vec![0usize; nf + 1];
        for &(i, j, _) in &pairs {
            offsets[i as usize + 1] += 1;
            offsets[j as usize + 1] += 1;
        }
        for i in 0..nf {
            offsets[i + 1] += offsets[i];
        }
        let mut cursor = offsets.clone();
        let mut idx = vec![0u32; offsets[nf]];
        let mut mirror = vec![0u32; idx.len()];
        for &(i, j, _) in &pairs {
            let (e, f) = (cursor[i as usize], cursor[j as usize]);
            idx[e] = j;
            idx[f] = i;
            cursor[i as usize] += 1;
            cursor[j as usize] += 1;
            mirror[e] = f as u32;
            mirror[f] = e as u32;
        }
        let gaps = pairs.drain(..).map(|e| e.2).collect();
        NeighbourList {
            n,
            w0: w.to_vec(),
            b0: b.to_vec(),
            r_max: a_max,
            margin,
            builder,
            offsets,
            idx,
            mirror,
            null: (0..nf as u32).filter(|&i| amp[i as usize] == 0.0).collect(),
            gaps,
        }
    }

    /// The list of margin `margin` at `(w, b)`, drawn from this list's pairs instead of from all
    /// of them (the inner list of a two-level scheme, module docs "Two levels"): every pair of
    /// this list between non-zero features that the builders' test keeps, with the canonical
    /// [`dot`]. It holds every pair a builder would list at `(w, b)` when
    /// [`NeighbourList::serves`]`(n, w, b, margin)`; the builder recorded is this list's.
    pub fn filtered(&self, n: usize, w: &[f64], b: &[f64], margin: f64) -> Self {
        assert!(margin >= 0.0, "the margin must be ≥ 0");
        let (amp, a_max, thr) = threshold(n, w, margin);
        let pairs = pairs_by_rows(&amp, |i, out| {
            let wi = &w[i * n..(i + 1) * n];
            for j in self.row(i).iter().map(|&j| j as usize).filter(|&j| j > i) {
                if amp[j] > 0.0 {
                    let v = dot(wi, &w[j * n..(j + 1) * n]) + b[i].max(b[j]);
                    if v > thr {
                        out.push((i as u32, j as u32, (-v) as f32));
                    }
                }
            }
        });
        Self::from_pairs(n, w, b, &amp, a_max, margin, self.builder, pairs)
    }

    /// Whether [`NeighbourList::filtered`] at `(w, b)` with margin `margin` holds every pair that
    /// a builder would list there: this list's bound `β` at `(w, b)` is 0, or
    /// `β + margin < m (1 − 1e-9)` with `m` this list's margin (module docs "Two levels").
    pub fn serves(&self, n: usize, w: &[f64], b: &[f64], margin: f64) -> bool {
        self.bound_at(n, w, b)
            .is_some_and(|x| self.serves_at(x, margin))
    }

    fn serves_at(&self, beta: f64, margin: f64) -> bool {
        (beta == 0.0 && margin <= self.margin) || beta + margin < self.margin * (1.0 - 1e-9)
    }

    /// Number of stored (directed) candidate entries, twice the number of pairs.
    pub fn entries(&self) -> usize {
        self.idx.len()
    }

    /// The margin it was built with.
    pub fn margin(&self) -> f64 {
        self.margin
    }

    /// The builder that made it.
    pub fn builder(&self) -> Builder {
        self.builder
    }

    /// Candidates of feature `i` (sorted).
    pub fn row(&self, i: usize) -> &[u32] {
        &self.idx[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The bound `β` of the module docs at `(w, b)`: `Some(0)` at the build point (`w` equal bit
    /// for bit, `b ≤ b⁰`), `None` when the shape differs or a feature that was zero has moved.
    pub fn bound_at(&self, n: usize, w: &[f64], b: &[f64]) -> Option<f64> {
        if n != self.n || w.len() != self.w0.len() || b.len() != self.b0.len() {
            return None;
        }
        if self.null.iter().any(|&j| {
            w[j as usize * n..(j as usize + 1) * n]
                .iter()
                .any(|&x| x != 0.0)
        }) {
            return None;
        }
        Some(move_bound(n, &self.w0, &self.b0, self.r_max, w, b))
    }

    /// Whether the list still holds every pair that can be active at `(w, b)` (module docs):
    /// same shape, zero features still zero, and `β = 0` or `β < m (1 − 1e-9)`.
    pub fn valid_at(&self, n: usize, w: &[f64], b: &[f64]) -> bool {
        self.bound_at(n, w, b).is_some_and(|x| self.accepts(x))
    }

    fn accepts(&self, beta: f64) -> bool {
        beta == 0.0 || beta < self.margin * (1.0 - 1e-9)
    }
}

/// The bound `β = 2RΔ + Δ² + B + γ(R + Δ)²` of the module docs for a move from `(w⁰, b⁰)`, with
/// `R = r_max ≥ max |W⁰_i|`, to `(w, b)`: 0 when `w = w⁰` bit for bit and `b ≤ b⁰`, `∞` for a
/// NaN.
fn move_bound(n: usize, w0: &[f64], b0: &[f64], r_max: f64, w: &[f64], b: &[f64]) -> f64 {
    let (d2, moved) = w
        .par_chunks(n * ROW_BLOCK)
        .zip(w0.par_chunks(n * ROW_BLOCK))
        .map(|(a, a0)| {
            let d2 = a
                .chunks(n)
                .zip(a0.chunks(n))
                .map(|(x, y)| dist2(x, y))
                .fold(0.0f64, f64::max);
            (d2, a != a0)
        })
        .reduce(|| (0.0, false), |x, y| (x.0.max(y.0), x.1 | y.1));
    let db = b.iter().zip(b0).map(|(x, y)| x - y).fold(0.0f64, f64::max);
    if !moved && db <= 0.0 {
        return 0.0;
    }
    // A move too small for its square to be a normal number still counts.
    let d = d2.sqrt().max(f64::MIN_POSITIVE);
    let rd = r_max + d;
    let beta = 2.0 * r_max * d + d2 + db + dot_rounding(n) * rd * rd;
    if beta.is_nan() {
        f64::INFINITY
    } else {
        beta
    }
}

/// The loss (and gradient, when given) on the list: same conventions as `exact::eval`. The list
/// must be valid at `(w, b)` ([`NeighbourList::valid_at`]).
///
/// Two passes over the rows, each in fixed blocks of [`ROW_BLOCK`] rows in parallel: the first
/// computes every row's own terms (output `i`: loss, `∂L/∂b_i`, and `∂R(g, b_i, 0)/∂g` kept per
/// entry), the second adds `γ W_j` to `∂L/∂W_i` with `γ` the sum of the entry's own derivative
/// and its mirror's (the entry of `i` in row `j`), so every response is computed once.
pub fn eval_list(
    list: &NeighbourList,
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    grad: Option<(&mut [f64], &mut [f64])>,
) -> f64 {
    match loss {
        Loss::L2 => eval_rows(list, n, w, b, loss, grad, l2_cross),
        _ => eval_rows(list, n, w, b, loss, grad, |g, bi| loss.response(g, bi, 0.0)),
    }
}

/// The L2 cross term `R(g, b, 0) = (g + b)³/(3g)` with `(R, ∂R/∂g, ∂R/∂b)` for `g + b > 0`,
/// `b ≤ 0` (so `g > 0`): with `s = g + b`, `∂R/∂b = s²/g` and
/// `∂R/∂g = s²/g − s³/(3g²) = (s²/g)(2g − b)/(3g)` ([`Loss::response`] in closed form, one
/// division).
#[inline]
pub fn l2_cross(g: f64, b: f64) -> (f64, f64, f64) {
    let s = g + b;
    let q = 1.0 / g;
    let rb = s * s * q;
    (
        s * rb * (1.0 / 3.0),
        rb * (2.0 * g - b) * q * (1.0 / 3.0),
        rb,
    )
}

/// Calls `$f::<D>(args)` with `D = n` for `1 ≤ n ≤ 8` (the loops over `d` unrolled, bounds
/// known at compile time) and `D = 0` (the dimension read from `n` at run time) beyond.
macro_rules! by_dim {
    ($n:expr, $f:ident($($a:expr),* $(,)?)) => {
        match $n {
            1 => $f::<1>($($a),*),
            2 => $f::<2>($($a),*),
            3 => $f::<3>($($a),*),
            4 => $f::<4>($($a),*),
            5 => $f::<5>($($a),*),
            6 => $f::<6>($($a),*),
            7 => $f::<7>($($a),*),
            8 => $f::<8>($($a),*),
            _ => $f::<0>($($a),*),
        }
    };
}

/// [`eval_list`] with the cross term `cross(g, b_i) = R(g, b_i, 0)` (and its derivatives) given.
fn eval_rows(
    list: &NeighbourList,
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    grad: Option<(&mut [f64], &mut [f64])>,
    cross: impl Fn(f64, f64) -> (f64, f64, f64) + Sync,
) -> f64 {
    let nf = b.len();
    let inv = 1.0 / nf as f64;
    let want = grad.is_some();
    let blocks = nf.div_ceil(ROW_BLOCK);
    // Per entry: ∂R(g, b_i, 0)/∂g of its own term (0 when inactive); per row: the self term's
    // ∂R/∂a and the row's ∂L/∂b_i (times N).
    let mut ra = vec![0.0; if want { list.entries() } else { 0 }];
    let mut self_ra = vec![0.0; nf];
    let mut gbs = vec![0.0; nf];
    let mut ra_parts: Vec<&mut [f64]> = Vec::with_capacity(blocks);
    let mut rest = &mut ra[..];
    for blk in 0..blocks {
        let (lo, hi) = (blk * ROW_BLOCK, ((blk + 1) * ROW_BLOCK).min(nf));
        let len = if want {
            list.offsets[hi] - list.offsets[lo]
        } else {
            0
        };
        let (part, tail) = rest.split_at_mut(len);
        ra_parts.push(part);
        rest = tail;
    }
    let parts: Vec<f64> = ra_parts
        .into_par_iter()
        .zip(self_ra.par_chunks_mut(ROW_BLOCK))
        .zip(gbs.par_chunks_mut(ROW_BLOCK))
        .enumerate()
        .map(|(blk, ((rap, sra), gbb))| {
            by_dim!(
                n,
                own_terms_d(list, n, w, b, loss, &cross, blk * ROW_BLOCK, rap, sra, gbb)
            )
        })
        .collect();
    let total: f64 = parts.iter().sum();
    if let Some((gw, gb)) = grad {
        gw.par_chunks_mut(n * ROW_BLOCK)
            .zip(gb.par_chunks_mut(ROW_BLOCK))
            .enumerate()
            .for_each(|(blk, (gwb, gbb))| {
                by_dim!(
                    n,
                    weight_gradient_d(list, n, w, &ra, &self_ra, blk * ROW_BLOCK, gwb)
                );
                for (g, &x) in gbb.iter_mut().zip(&gbs[blk * ROW_BLOCK..]) {
                    *g = x * inv;
                }
                gwb.iter_mut().for_each(|x| *x *= inv);
            });
    }
    total * inv
}

/// The first pass of [`eval_rows`] (for `D` see `by_dim!`) over the rows `first..first + sra.len()`: each row's self
/// term and the cross terms with output `i`; returns their sum (times `N`), writes each row's
/// self `∂R/∂a` to `sra` and `N ∂L/∂b_i` to `gbb`, and, when `rap` is not empty, each entry's
/// `∂R(g, b_i, 0)/∂g` (0 when inactive) to `rap` (the entries of these rows).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn own_terms_d<const D: usize>(
    list: &NeighbourList,
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    cross: &impl Fn(f64, f64) -> (f64, f64, f64),
    first: usize,
    rap: &mut [f64],
    sra: &mut [f64],
    gbb: &mut [f64],
) -> f64 {
    let n = if D == 0 { n } else { D };
    let want = !rap.is_empty();
    let base = list.offsets[first];
    let mut t = 0.0;
    for (r, (sr, gbr)) in sra.iter_mut().zip(gbb.iter_mut()).enumerate() {
        let i = first + r;
        let wi = &w[i * n..(i + 1) * n];
        let bi = b[i];
        let k = dot(wi, wi);
        let (mut total, ras, mut gb) = loss.response(k, bi, 1.0);
        let (lo, hi) = (list.offsets[i], list.offsets[i + 1]);
        for (e, &j) in list.idx[lo..hi].iter().enumerate() {
            let j = j as usize;
            let g = dot(wi, &w[j * n..(j + 1) * n]);
            if g + bi > 0.0 {
                let (rr, ra, rb) = cross(g, bi);
                total += rr;
                gb += rb;
                if want {
                    rap[lo - base + e] = ra;
                }
            }
        }
        *sr = ras;
        *gbr = gb;
        t += total;
    }
    t
}

/// The second pass of [`eval_rows`] (for `D` see `by_dim!`): `N ∂L/∂W_i = 2 ∂R/∂a (self) W_i + Σ_j γ_ij W_j` for the rows
/// `first..` of the block `gwb`, `γ_ij` the sum of the entry's and its mirror's derivatives.
#[inline(never)]
fn weight_gradient_d<const D: usize>(
    list: &NeighbourList,
    n: usize,
    w: &[f64],
    ra: &[f64],
    self_ra: &[f64],
    first: usize,
    gwb: &mut [f64],
) {
    let n = if D == 0 { n } else { D };
    for (r, acc) in gwb.chunks_exact_mut(n).enumerate() {
        let i = first + r;
        let wi = &w[i * n..(i + 1) * n];
        let s = 2.0 * self_ra[i];
        acc.iter_mut().zip(wi).for_each(|(a, x)| *a = s * x);
        let (lo, hi) = (list.offsets[i], list.offsets[i + 1]);
        for ((&j, &m), &own) in list.idx[lo..hi]
            .iter()
            .zip(&list.mirror[lo..hi])
            .zip(&ra[lo..hi])
        {
            let gam = own + ra[m as usize];
            if gam == 0.0 {
                continue;
            }
            let wj = &w[j as usize * n..(j as usize + 1) * n];
            acc.iter_mut().zip(wj).for_each(|(a, x)| *a += gam * x);
        }
    }
}

/// Work of one evaluation on a list of `entries` directed entries, in units of one multiply-add
/// of the evaluation's dot products (the tuner's work model; calibrated by
/// `cargo bench --bench exact_loss`).
pub fn eval_work(n: usize, features: usize, entries: usize) -> f64 {
    features as f64 * SELF_WORK + entries as f64 * (n as f64 + ENTRY_WORK)
}

/// Work of building a list of `pairs` pairs over `nonzero` non-zero features, same units.
pub fn build_work(builder: Builder, n: usize, nonzero: usize, pairs: usize) -> f64 {
    let (nn, p, nd) = (nonzero as f64, pairs as f64, n as f64);
    match builder {
        Builder::Gram => 0.5 * nn * nn * (nd * GEMM_WORK + SCAN_WORK) + p * PAIR_WORK,
        Builder::Tree => nn * nd * TREE_WORK * nn.max(2.0).log2() + p * (nd + PAIR_WORK) * 4.0,
    }
}

/// Work model constants (module docs of [`eval_work`]): one self term, the per-entry overhead
/// beyond the `n` multiply-adds, one GEMM multiply-add, one scanned product, one stored pair,
/// one k-d tree visit per dimension.
const SELF_WORK: f64 = 40.0;
const ENTRY_WORK: f64 = 6.0;
const GEMM_WORK: f64 = 0.15;
const SCAN_WORK: f64 = 1.0;
const PAIR_WORK: f64 = 10.0;
const TREE_WORK: f64 = 4.0;

/// What a dead list tells the tuner: its margin, the bound of every evaluation it served, the
/// bound at which it failed, its pair gaps and its size.
#[derive(Debug, Clone)]
pub struct ListHistory<'a> {
    /// Margin of the list.
    pub margin: f64,
    /// `β` of each evaluation it served (the first is 0, at the build point).
    pub served: &'a [f64],
    /// `β` at the point where it failed (`∞` when unknown).
    pub failed: f64,
    /// Gaps `−(G⁰_ij + max b⁰)` of its pairs, sorted increasingly.
    pub gaps: &'a [f32],
    /// `n`, `N` and the number of non-zero features.
    pub n: usize,
    /// Number of features.
    pub features: usize,
    /// Number of non-zero features.
    pub nonzero: usize,
    /// Its builder.
    pub builder: Builder,
}

/// The factor, among `2^{k/2}` for `k = −8 … 2`, by which the margin of a list with this history
/// should have been scaled to minimise the work per evaluation `build/served + evaluation`
/// (module docs, "Adaptive skin"). For a factor `f ≤ 1` the served count is the length of the
/// prefix of `served` below `f·m` and the pairs are the gaps below `f·m`, both exact; for `f > 1`
/// the list would have served the same evaluations if the failing bound is at least `f·m`, and
/// `f` times as many otherwise (a steady drift), with its pairs extrapolated from the growth
/// between `m/2` and `m`.
pub fn skin_choice(h: &ListHistory) -> f64 {
    let below = |x: f64| h.gaps.partition_point(|&g| (g as f64) < x);
    let served = |x: f64| {
        h.served
            .iter()
            .position(|&b| !(b == 0.0 || b < x * (1.0 - 1e-9)))
            .unwrap_or(h.served.len())
            .max(1)
    };
    let here = below(h.margin);
    let half = below(0.5 * h.margin);
    let growth = if half > 0 {
        here as f64 / half as f64
    } else {
        2.0
    };
    let mut best = (f64::INFINITY, 1.0);
    for k in -8i32..=2 {
        let f = 2f64.powf(k as f64 / 2.0);
        let m = f * h.margin;
        let (pairs, count) = if f <= 1.0 {
            (below(m) as f64, served(m) as f64)
        } else {
            let count = if h.failed >= m {
                h.served.len() as f64
            } else {
                h.served.len() as f64 * f
            };
            (here as f64 * growth.powf(f.log2()), count)
        };
        let pairs = pairs.round() as usize;
        let rate = build_work(h.builder, h.n, h.nonzero, pairs) / count
            + eval_work(h.n, h.features, 2 * pairs);
        if rate < best.0 {
            best = (rate, f);
        }
    }
    best.1
}

/// A live list and the bounds of the evaluations it served.
struct Live {
    list: NeighbourList,
    served: Vec<f64>,
    scale: f64,
}

/// The outer list of the two-level scheme (module docs, "Two levels"), the needed outer margin
/// `β + m` of every inner build it served, and the height scale it was built at.
struct Outer {
    list: NeighbourList,
    served: Vec<f64>,
    scale: f64,
}

/// The last evaluated point and its loss and gradient.
struct Memo {
    w: Vec<f64>,
    b: Vec<f64>,
    loss: Loss,
    l: f64,
    gw: Vec<f64>,
    gb: Vec<f64>,
}

impl Memo {
    fn at(&self, w: &[f64], b: &[f64], loss: &Loss) -> bool {
        let same = |x: &[f64], y: &[f64]| {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        };
        self.loss == *loss && same(&self.w, w) && same(&self.b, b)
    }
}

/// This thread's list, skin and last point.
struct State {
    n: usize,
    features: usize,
    skin: f64,
    live: Option<Live>,
    outer_skin: f64,
    outer: Option<Outer>,
    angle_slack: f64,
    angle: Option<(AngleList, usize)>,
    /// Evaluating on the angular outer list itself (module docs, "Direct evaluation"), with
    /// the inner margin of the point where it began (the angular lists' build margin and the
    /// way back's test).
    direct: Option<f64>,
    memo: Option<Memo>,
}

thread_local! {
    static STATE: std::cell::RefCell<Option<State>> = const { std::cell::RefCell::new(None) };
    static REBUILDS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static OUTER_BUILDS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static TWO_LEVEL: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
    static DIRECT: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
    static EVALS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static REPEATS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Number of evaluations computed on a cached list on this thread so far (for benches).
pub fn evaluations() -> u64 {
    EVALS.with(|r| r.get())
}

/// Number of outer list builds of the two-level scheme on this thread so far (for tests and
/// benches).
pub fn outer_builds() -> u64 {
    OUTER_BUILDS.with(|r| r.get())
}

/// Number of list builds on this thread so far (for tests and benches).
pub fn rebuilds() -> u64 {
    REBUILDS.with(|r| r.get())
}

/// Number of calls on this thread so far answered from the last point's stored result (for
/// benches).
pub fn repeats() -> u64 {
    REPEATS.with(|r| r.get())
}

/// This thread's current skin and the size of the list its evaluations run on
/// `(skin, entries)` (the angular outer list under direct evaluation), if any.
pub fn current() -> Option<(f64, usize)> {
    STATE.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|st| match (st.direct, st.angle.as_ref()) {
                (Some(_), Some((a, _))) => Some((st.skin, a.entries())),
                _ => st.live.as_ref().map(|l| (st.skin, l.list.entries())),
            })
    })
}

/// Drops this thread's cached list, skin and last point (the next evaluation builds with
/// [`initial_skin`]).
pub fn clear_cache() {
    STATE.with(|c| *c.borrow_mut() = None);
}

/// Forgets this thread's last point (the next call at it is computed again on the list).
pub fn forget_point() {
    STATE.with(|c| {
        if let Some(st) = c.borrow_mut().as_mut() {
            st.memo = None;
        }
    });
}

/// Whether this thread draws its lists from an outer list (module docs, "Two levels"); on
/// unless [`set_two_level`] turned it off.
pub fn two_level() -> bool {
    TWO_LEVEL.with(|t| t.get())
}

/// Turns the two-level scheme on or off for this thread (for tests and benches: it changes
/// the cost, never the result) and drops the thread's lists.
pub fn set_two_level(on: bool) {
    TWO_LEVEL.with(|t| t.set(on));
    clear_cache();
}

/// Whether this thread evaluates on its angular outer list while inner lists die at their
/// first step (module docs, "Direct evaluation"); on unless [`set_direct`] turned it off.
pub fn direct() -> bool {
    DIRECT.with(|t| t.get())
}

/// Turns direct evaluation on angular outer lists on or off for this thread (for tests and
/// benches: it changes the cost, never the result) and drops the thread's lists.
pub fn set_direct(on: bool) {
    DIRECT.with(|t| t.set(on));
    clear_cache();
}

/// The inner list of margin `margin` at `(w, b)`: filtered from the thread's outer list when it
/// serves there, else from a new outer list (built by [`Builder::for_size`] with the tuned outer
/// skin, at least `margin`) after tuning the outer skin on the dead one's history.
fn inner_list(st: &mut State, w: &[f64], b: &[f64], margin: f64, scale: f64) -> NeighbourList {
    let n = st.n;
    if Builder::for_size(n, st.features) == Builder::Tree {
        return angular_inner_list(st, w, b, margin);
    }
    let beta = st.outer.as_ref().and_then(|o| o.list.bound_at(n, w, b));
    if let (Some(outer), Some(x)) = (st.outer.as_mut(), beta) {
        if outer.list.serves_at(x, margin) {
            outer.served.push(x + margin);
            return outer.list.filtered(n, w, b, margin);
        }
    }
    if let (Some(dead), Some(failed)) = (st.outer.take(), beta) {
        let mut gaps = dead.list.gaps.clone();
        gaps.sort_unstable_by(f32::total_cmp);
        let f = skin_choice(&ListHistory {
            margin: dead.list.margin,
            served: &dead.served,
            failed: failed + margin,
            gaps: &gaps,
            n,
            features: st.features,
            nonzero: st.features - dead.list.null.len(),
            builder: dead.list.builder,
        });
        st.outer_skin = (dead.list.margin * f / dead.scale).clamp(MIN_OUTER_SKIN, MAX_OUTER_SKIN);
    }
    st.outer = None;
    let outer = NeighbourList::build(n, w, b, (st.outer_skin * scale).max(margin));
    OUTER_BUILDS.with(|r| r.set(r.get() + 1));
    let inner = outer.filtered(n, w, b, margin);
    st.outer = Some(Outer {
        list: outer,
        served: vec![margin],
        scale,
    });
    inner
}

/// [`inner_list`] on an angular outer list (the tree builder's sizes): filtered from the
/// thread's [`AngleList`] while it serves ([`serving_angle_list`]), else a fresh build.
fn angular_inner_list(st: &mut State, w: &[f64], b: &[f64], margin: f64) -> NeighbourList {
    let n = st.n;
    match serving_angle_list(st, w, b, margin, margin) {
        Some(outer) => outer.filtered(n, w, b, margin),
        None => NeighbourList::build(n, w, b, margin),
    }
}

/// The thread's [`AngleList`] if it serves inner margin `need` at `(w, b)`, else a new one built
/// for margin `build` (`≥ need`) whose slack is tuned on how many inner lists the dead one
/// served (×1.5 below [`ANGLE_SERVED_LOW`], ×0.75 above [`ANGLE_SERVED_HIGH`], within
/// [`MIN_ANGLE_SLACK`]…[`MAX_ANGLE_SLACK`]); `None` when even the new list does not serve its
/// own point.
fn serving_angle_list<'a>(
    st: &'a mut State,
    w: &[f64],
    b: &[f64],
    need: f64,
    build: f64,
) -> Option<&'a AngleList> {
    let n = st.n;
    let serves = st
        .angle
        .as_ref()
        .is_some_and(|(outer, _)| outer.serves(n, w, b, need));
    if !serves {
        if let Some((_, served)) = st.angle.take() {
            st.angle_slack = if served < ANGLE_SERVED_LOW {
                st.angle_slack * 1.5
            } else if served > ANGLE_SERVED_HIGH {
                st.angle_slack * 0.75
            } else {
                st.angle_slack
            }
            .clamp(MIN_ANGLE_SLACK, MAX_ANGLE_SLACK);
        }
        let outer = AngleList::build(n, w, b, build, st.angle_slack);
        OUTER_BUILDS.with(|r| r.set(r.get() + 1));
        if !outer.serves(n, w, b, need) {
            return None;
        }
        st.angle = Some((outer, 0));
    }
    let (outer, served) = st.angle.as_mut()?;
    *served += 1;
    Some(outer)
}

/// Whether an inner list of margin `margin` built at the last evaluated point would serve
/// `(w, b)`: the bound `β` of the step below the margin (module docs; the way back from direct
/// evaluation).
fn inner_would_serve(last: &Memo, n: usize, w: &[f64], b: &[f64], margin: f64) -> bool {
    let r_max = amplitudes(n, &last.w).into_iter().fold(0.0, f64::max);
    move_bound(n, &last.w, &last.b, r_max, w, b) < margin * (1.0 - 1e-9)
}

/// The loss on this thread's cached list, rebuilt (with the tuned skin) when it is not valid at
/// `(w, b)`. The result depends on `(w, b)` only (module docs).
///
/// Every call computes the gradient too and keeps the point's result: L-BFGS asks for the cost,
/// then the gradient, then the gradient again at each accepted point (argmin's More–Thuente
/// line search and L-BFGS step), and a repeated call at the same point, bit for bit, returns
/// the stored numbers, which are the ones a new computation would give.
pub fn eval_cached(
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    grad: Option<(&mut [f64], &mut [f64])>,
) -> f64 {
    let nf = b.len();
    // Taken out of the cell while in use: a nested evaluation on this thread (rayon may run
    // another task while this one waits) finds no state and makes its own.
    let mut st = STATE
        .with(|s| s.borrow_mut().take())
        .filter(|s| s.n == n && s.features == nf)
        .unwrap_or(State {
            n,
            features: nf,
            skin: initial_skin(n),
            live: None,
            outer_skin: INITIAL_OUTER_SKIN,
            outer: None,
            angle_slack: INITIAL_ANGLE_SLACK,
            angle: None,
            direct: None,
            memo: None,
        });
    let hit = st.memo.as_ref().is_some_and(|m| m.at(w, b, loss));
    if hit {
        REPEATS.with(|r| r.set(r.get() + 1));
    } else {
        let angular = two_level() && direct() && Builder::for_size(n, nf) == Builder::Tree;
        // Direct evaluation (module docs) goes on on the angular list while it serves, until
        // an inner list built at the last point would have served this one.
        let on_outer = match (st.direct, st.memo.as_ref()) {
            (Some(margin), Some(last)) if !inner_would_serve(last, n, w, b, margin) => {
                serving_angle_list(&mut st, w, b, 0.0, margin).is_some()
            }
            _ => false,
        };
        if !on_outer {
            st.direct = None;
            let beta = st.live.as_ref().and_then(|l| l.list.bound_at(n, w, b));
            match (&mut st.live, beta) {
                (Some(live), Some(x)) if live.list.accepts(x) => live.served.push(x),
                _ => {
                    let mut short = false;
                    if let (Some(dead), Some(failed)) = (st.live.take(), beta) {
                        short = dead.served.len() == 1;
                        let mut gaps = dead.list.gaps.clone();
                        gaps.sort_unstable_by(f32::total_cmp);
                        let f = skin_choice(&ListHistory {
                            margin: dead.list.margin,
                            served: &dead.served,
                            failed,
                            gaps: &gaps,
                            n,
                            features: nf,
                            nonzero: nf - dead.list.null.len(),
                            builder: dead.list.builder,
                        });
                        st.skin = (dead.list.margin * f / dead.scale).clamp(MIN_SKIN, MAX_SKIN);
                    }
                    st.live = None;
                    let scale = height_scale(n, w, b);
                    let margin = st.skin * scale;
                    if angular && short && serving_angle_list(&mut st, w, b, 0.0, margin).is_some()
                    {
                        // The inner list died at its first step: evaluate on the outer list.
                        st.direct = Some(margin);
                    } else {
                        let list = if two_level() {
                            inner_list(&mut st, w, b, margin, scale)
                        } else {
                            NeighbourList::build(n, w, b, margin)
                        };
                        st.live = Some(Live {
                            list,
                            served: vec![0.0],
                            scale,
                        });
                        REBUILDS.with(|r| r.set(r.get() + 1));
                    }
                }
            }
        }
        EVALS.with(|r| r.set(r.get() + 1));
        let mut m = st.memo.take().unwrap_or(Memo {
            w: Vec::new(),
            b: Vec::new(),
            loss: *loss,
            l: 0.0,
            gw: Vec::new(),
            gb: Vec::new(),
        });
        m.gw.resize(n * nf, 0.0);
        m.gb.resize(nf, 0.0);
        let list = match st.direct {
            Some(_) => &st.angle.as_ref().unwrap().0.rows,
            None => &st.live.as_ref().unwrap().list,
        };
        m.l = eval_list(list, n, w, b, loss, Some((&mut m.gw, &mut m.gb)));
        m.w.clear();
        m.w.extend_from_slice(w);
        m.b.clear();
        m.b.extend_from_slice(b);
        m.loss = *loss;
        st.memo = Some(m);
    }
    let m = st.memo.as_ref().unwrap();
    let l = m.l;
    if let Some((gw, gb)) = grad {
        gw.copy_from_slice(&m.gw);
        gb.copy_from_slice(&m.gb);
    }
    STATE.with(|s| *s.borrow_mut() = Some(st));
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::exact::tests::random_model;
    use crate::toy::{exact, large, train, Model};
    use nalgebra::DMatrix;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    type Eval = (f64, Vec<f64>, Vec<f64>);

    /// The exact loss's signature, shared by `exact::dense` and `exact::eval`.
    type LossFn = fn(usize, &[f64], &[f64], &Loss, Option<(&mut [f64], &mut [f64])>) -> f64;

    /// Loss and gradient of `m` through `f`.
    fn through(f: LossFn, m: &Model) -> Eval {
        let (n, nf) = (m.n(), m.features());
        let (mut gw, mut gb) = (vec![0.0; n * nf], vec![0.0; nf]);
        let l = f(
            n,
            m.w.as_slice(),
            m.b.as_slice(),
            &Loss::L2,
            Some((&mut gw, &mut gb)),
        );
        (l, gw, gb)
    }

    fn dense(m: &Model) -> Eval {
        through(exact::dense, m)
    }

    fn on_list(list: &NeighbourList, m: &Model) -> Eval {
        let (n, nf) = (m.n(), m.features());
        let (mut gw, mut gb) = (vec![0.0; n * nf], vec![0.0; nf]);
        let (w, b) = (m.w.as_slice(), m.b.as_slice());
        assert!(list.valid_at(n, w, b));
        let l = eval_list(list, n, w, b, &Loss::L2, Some((&mut gw, &mut gb)));
        assert_eq!(l, eval_list(list, n, w, b, &Loss::L2, None));
        (l, gw, gb)
    }

    /// Through `exact::eval` (the cached path).
    fn cached(m: &Model) -> Eval {
        through(exact::eval, m)
    }

    fn build(m: &Model, margin: f64, builder: Builder) -> NeighbourList {
        NeighbourList::build_with(m.n(), m.w.as_slice(), m.b.as_slice(), margin, builder)
    }

    fn scale(m: &Model) -> f64 {
        height_scale(m.n(), m.w.as_slice(), m.b.as_slice())
    }

    /// Loss within 1e-12 relative; gradient entries within 1e-12 of the gradient's scale.
    fn assert_same(a: &Eval, d: &Eval) {
        assert!((a.0 - d.0).abs() <= 1e-12 * d.0.abs(), "{} vs {}", a.0, d.0);
        let scale = d.1.iter().chain(&d.2).fold(0.0f64, |s, x| s.max(x.abs()));
        for (x, y) in a.1.iter().zip(&d.1).chain(a.2.iter().zip(&d.2)) {
            assert!((x - y).abs() <= 1e-12 * scale.max(1e-300), "{x} vs {y}");
        }
    }

    /// Bit for bit.
    fn assert_identical(a: &Eval, b: &Eval) {
        assert_eq!(a.0.to_bits(), b.0.to_bits(), "{} vs {}", a.0, b.0);
        assert!(a
            .1
            .iter()
            .zip(&b.1)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(a
            .2
            .iter()
            .zip(&b.2)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
    }

    /// Every pair active in either direction at `m` (computed densely) is in the list; returns
    /// the number of active directed pairs.
    fn active_pairs_listed(list: &NeighbourList, m: &Model) -> usize {
        let g = m.w.transpose() * &m.w;
        let nf = m.features();
        let mut active = 0;
        for i in 0..nf {
            for j in 0..nf {
                if i != j && g[(i, j)] + m.b[j] > 0.0 {
                    active += 1;
                    assert!(list.row(i).binary_search(&(j as u32)).is_ok(), "{i}→{j}");
                    assert!(list.row(j).binary_search(&(i as u32)).is_ok(), "{j}→{i}");
                }
            }
        }
        active
    }

    /// The list holds every pair of non-zero features with `G + max b > −m` (nalgebra's product,
    /// a margin of rounding aside), rows are sorted, symmetric, and mirrors point back.
    fn check_structure(list: &NeighbourList, m: &Model) {
        let g = m.w.transpose() * &m.w;
        let nf = m.features();
        let mg = list.margin();
        for i in 0..nf {
            let row = list.row(i);
            assert!(row.windows(2).all(|p| p[0] < p[1]), "row {i} sorted");
            for (e, &j) in row.iter().enumerate() {
                let p = list.mirror[list.offsets[i] + e] as usize;
                assert_eq!(list.idx[p] as usize, i);
                assert!(list.row(j as usize).contains(&(i as u32)));
            }
            if g[(i, i)] == 0.0 {
                assert!(row.is_empty(), "a zero feature is in no pair");
                continue;
            }
            for j in 0..nf {
                if j != i && g[(j, j)] > 0.0 && g[(i, j)] + m.b[i].max(m.b[j]) > -mg * (1.0 - 1e-9)
                {
                    assert!(
                        row.binary_search(&(j as u32)).is_ok(),
                        "{i}–{j} within the margin"
                    );
                }
            }
        }
    }

    /// `from_pairs` takes its mirrors from the fill order of pairs in lexicographic order (the
    /// Gram builder's and the filter's, and any other input after it is ordered): the same rows
    /// for pairs in any order or found from both ends (the k-d tree's), and the mirrors a
    /// binary search of the sorted rows finds (the construction before the fill order; changes
    /// the cost, never the result).
    #[test]
    fn ordered_pairs_give_the_searched_list() {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        for (n, nf) in [(2usize, 300usize), (3, 500), (8, 200)] {
            let m = train::spread_start_below(n, nf, 2, 1.2, &mut rng);
            for builder in [Builder::Gram, Builder::Tree] {
                let fast = build(&m, 0.3, builder);
                // The same pairs, newest first (so the rows fill in decreasing order).
                let mut pairs: Vec<Pair> = (0..nf)
                    .flat_map(|i| fast.row(i).iter().map(move |&j| (i as u32, j, 0.0)))
                    .filter(|p| p.0 < p.1)
                    .collect();
                pairs.reverse();
                let (amp, a_max, _) = threshold(n, m.w.as_slice(), 0.3);
                let (w, b) = (m.w.as_slice(), m.b.as_slice());
                // And each found from both ends, as the k-d tree's queries find them.
                let both: Vec<Pair> = pairs.iter().flat_map(|p| [*p, (p.1, p.0, p.2)]).collect();
                let slow = NeighbourList::from_pairs(n, w, b, &amp, a_max, 0.3, builder, pairs);
                assert_eq!(fast.offsets, slow.offsets, "n = {n}");
                assert_eq!(fast.idx, slow.idx, "n = {n}");
                assert_eq!(fast.mirror, slow.mirror, "n = {n}");
                let twice = NeighbourList::from_pairs(n, w, b, &amp, a_max, 0.3, builder, both);
                assert_eq!(
                    (&fast.offsets, &fast.idx, &fast.mirror),
                    (&twice.offsets, &twice.idx, &twice.mirror),
                    "n = {n}, pairs from both ends"
                );
                let off = &fast.offsets;
                for i in 0..nf {
                    assert!(
                        fast.row(i).windows(2).all(|p| p[0] < p[1]),
                        "row {i} sorted"
                    );
                    for e in off[i]..off[i + 1] {
                        let j = fast.idx[e] as usize;
                        let p = off[j] + fast.row(j).binary_search(&(i as u32)).unwrap();
                        assert_eq!(fast.mirror[e] as usize, p, "n = {n}, {i}–{j}");
                    }
                }
                check_structure(&fast, &m);
            }
        }
    }

    #[test]
    fn kd_tree_ball_and_nearest_match_brute_force() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for n in [2usize, 3, 5] {
            let pts = 700;
            let x: Vec<f64> = (0..pts * n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let tree = KdTree::new(n, &x, (0..pts as u32).collect());
            for q in 0..20 {
                let qv = &x[q * n..(q + 1) * n];
                let r2 = 0.3;
                let mut got = Vec::new();
                tree.within(qv, r2, &mut |id, _| got.push(id));
                got.sort_unstable();
                let want: Vec<u32> = (0..pts)
                    .filter(|&k| dist2(qv, &x[k * n..(k + 1) * n]) <= r2)
                    .map(|k| k as u32)
                    .collect();
                assert_eq!(got, want);
                let (id, d2) = tree.nearest(qv, q as u32).unwrap();
                let best = (0..pts)
                    .filter(|&k| k != q)
                    .map(|k| dist2(qv, &x[k * n..(k + 1) * n]))
                    .fold(f64::INFINITY, f64::min);
                assert_eq!(d2, best);
                assert_ne!(id, q as u32);
            }
        }
    }

    /// On small integers every partial sum is exact, so the canonical dot is the exact value;
    /// on random vectors it is within its rounding bound of a compensated (Neumaier) sum, and
    /// for n ≤ 8 it is the plain sequential sum.
    #[test]
    fn canonical_dot_is_exact_on_integers_and_within_its_bound() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for n in [1usize, 3, 8, 9, 16, 23, 64, 130] {
            let a: Vec<f64> = (0..n).map(|_| rng.random_range(-50..50) as f64).collect();
            let c: Vec<f64> = (0..n).map(|_| rng.random_range(-50..50) as f64).collect();
            let exact: i64 = a
                .iter()
                .zip(&c)
                .map(|(x, y)| (*x as i64) * (*y as i64))
                .sum();
            assert_eq!(dot(&a, &c), exact as f64);
            let a: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let c: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let (mut s, mut comp) = (0.0f64, 0.0f64);
            for (x, y) in a.iter().zip(&c) {
                // Products of two doubles are exact as the sum p + e (two-product via FMA).
                let p = x * y;
                let e = x.mul_add(*y, -p);
                for v in [p, e] {
                    let t = s + v;
                    comp += if s.abs() >= v.abs() {
                        (s - t) + v
                    } else {
                        (v - t) + s
                    };
                    s = t;
                }
            }
            let reference = s + comp;
            let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
            let bound = 0.5 * dot_rounding(n) * norm(&a) * norm(&c);
            assert!((dot(&a, &c) - reference).abs() <= bound, "n = {n}");
            if n <= 8 {
                let seq: f64 = a.iter().zip(&c).map(|(x, y)| x * y).sum();
                assert_eq!(dot(&a, &c).to_bits(), seq.to_bits());
            }
        }
    }

    #[test]
    fn l2_cross_matches_the_response_integral() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..2000 {
            let g: f64 = rng.random_range(1e-3..4.0);
            let b = -g * rng.random_range(0.0..0.999);
            let want = Loss::L2.response(g, b, 0.0);
            let got = l2_cross(g, b);
            for (x, y) in [(got.0, want.0), (got.1, want.1), (got.2, want.2)] {
                assert!(
                    (x - y).abs() <= 1e-12 * y.abs().max(1e-300),
                    "{g} {b}: {x} vs {y}"
                );
            }
        }
    }

    /// Random models (many biases near 0, so the tree's all-pairs branch runs too), both
    /// builders, margins from 0 up: the dense result, and the same bits on every list.
    #[test]
    fn random_models_match_dense_on_every_list() {
        for (seed, n, nf, bmax) in [
            (1, 2, 300, 1.0),
            (2, 3, 400, 2.0),
            (3, 6, 350, 1.5),
            (4, 12, 300, 4.0),
        ] {
            let m = random_model(n, nf, bmax, seed);
            let want = dense(&m);
            let h = scale(&m);
            let first = on_list(&build(&m, 0.0, Builder::Gram), &m);
            assert_same(&first, &want);
            for skin in [0.0, 0.01, 0.3, 2.0] {
                for builder in [Builder::Gram, Builder::Tree] {
                    let list = build(&m, skin * h, builder);
                    check_structure(&list, &m);
                    assert!(active_pairs_listed(&list, &m) > 0);
                    assert_identical(&on_list(&list, &m), &first);
                }
            }
        }
    }

    /// Spread starts (below and at cos θ_min), partly trained models and n > 8: few candidates
    /// per feature, the dense result.
    #[test]
    fn structured_and_trained_models_match_dense() {
        for (n, nf) in [
            (3usize, 1024usize),
            (4, 700),
            (8, 600),
            (16, 400),
            (32, 300),
        ] {
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let start = train::spread_start(n, nf, 1, &mut rng);
            let below = train::spread_start_below(n, nf, 1, 1.3, &mut rng);
            let (trained, ..) = train::polish(&start, &Loss::L2, 60).unwrap();
            for m in [&start, &below, &trained] {
                let want = dense(m);
                let h = scale(m);
                let gram = build(m, 0.1 * h, Builder::Gram);
                check_structure(&gram, m);
                let got = on_list(&gram, m);
                assert_same(&got, &want);
                let active = active_pairs_listed(&gram, m);
                // At the start in low n (intercept at cos θ_min) the list is a small superset
                // of the active pairs, far below all N(N − 1).
                assert!(gram.entries() >= active);
                assert!(
                    n > 8 || !std::ptr::eq(m, &start) || gram.entries() < nf * nf / 4,
                    "n = {n}, N = {nf}: {} entries, {active} active",
                    gram.entries()
                );
                if n <= 8 {
                    let tree = build(m, 0.1 * h, Builder::Tree);
                    check_structure(&tree, m);
                    assert_identical(&on_list(&tree, m), &got);
                }
                clear_cache();
                assert_same(&cached(m), &want);
            }
        }
    }

    /// Zero features are in no pair; while they stay zero the list holds, once one moves the
    /// list is rebuilt, and the result is the dense one throughout.
    #[test]
    fn zero_features_are_left_out_until_they_move() {
        let (n, nf) = (4, 600);
        let mut m = train::spread_start(n, nf - 50, 1, &mut ChaCha8Rng::seed_from_u64(2));
        let full = Model::zeros(n, nf);
        let mut w = full.w.clone();
        w.columns_mut(0, nf - 50).copy_from(&m.w);
        let mut b = full.b.clone();
        b.rows_mut(0, nf - 50).copy_from(&m.b);
        m = Model::new(w, b).unwrap();
        let list = build(&m, 0.2 * scale(&m), Builder::Gram);
        assert_eq!(list.null.len(), 50);
        check_structure(&list, &m);
        assert_same(&on_list(&list, &m), &dense(&m));
        let mut moved = m.clone();
        moved.w[(0, nf - 1)] = 1e-3;
        assert!(!list.valid_at(n, moved.w.as_slice(), moved.b.as_slice()));
        clear_cache();
        assert_same(&cached(&m), &dense(&m));
        let r0 = rebuilds();
        assert_same(&cached(&moved), &dense(&moved));
        assert_eq!(rebuilds(), r0 + 1);
    }

    /// Moving the weights past the skin forces a rebuild, and the result stays the dense one;
    /// a small move keeps the list and gives the same bits as a freshly built list.
    #[test]
    fn rebuild_keeps_the_result_exact() {
        for (n, nf) in [(3, 800), (20, 300)] {
            let m0 = train::spread_start(n, nf, 1, &mut ChaCha8Rng::seed_from_u64(4));
            clear_cache();
            let r0 = rebuilds();
            assert_same(&cached(&m0), &dense(&m0));
            assert_eq!(rebuilds(), r0 + 1);
            let (skin, _) = current().unwrap();
            let margin = skin * scale(&m0);
            let r_max = m0.w.column_iter().map(|c| c.norm()).fold(0.0, f64::max);
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let mut small = m0.clone();
            let d = 0.1 * margin / (2.0 * r_max);
            small
                .w
                .iter_mut()
                .for_each(|x| *x += d / (n as f64).sqrt() * rng.random_range(-1.0..1.0));
            let kept = cached(&small);
            assert_eq!(rebuilds(), r0 + 1, "a small move keeps the list");
            assert_same(&kept, &dense(&small));
            clear_cache();
            let fresh = cached(&small);
            assert_identical(&kept, &fresh);
            let mut big = m0.clone();
            big.w
                .iter_mut()
                .for_each(|x| *x *= 1.0 + 0.2 * rng.random_range(-1.0..1.0));
            let moved = cached(&big);
            assert_eq!(rebuilds(), r0 + 3, "a move past the skin rebuilds");
            assert_same(&moved, &dense(&big));
        }
    }

    /// A repeated call at the same point is answered from the stored result, identical to a
    /// computation; a loss-only call then a gradient call give the full evaluation.
    #[test]
    fn repeated_points_return_the_computed_result() {
        let m = train::spread_start(5, 700, 1, &mut ChaCha8Rng::seed_from_u64(6));
        let (n, w, b) = (m.n(), m.w.as_slice(), m.b.as_slice());
        clear_cache();
        let l = exact::eval(n, w, b, &Loss::L2, None);
        let (e0, p0) = (evaluations(), repeats());
        let again = cached(&m);
        assert_eq!((evaluations(), repeats()), (e0, p0 + 1));
        assert_eq!(l.to_bits(), again.0.to_bits());
        forget_point();
        let computed = cached(&m);
        assert_eq!(evaluations(), e0 + 1);
        assert_identical(&again, &computed);
        assert_same(&computed, &dense(&m));
        // Another loss is another point.
        let huber = Loss::Huber { delta: 0.5 };
        let lh = exact::eval(n, w, b, &huber, None);
        assert_eq!(evaluations(), e0 + 2);
        crate::prec::assert_close(lh, exact::dense(n, w, b, &huber, None), 1e-12);
    }

    /// The result does not depend on the number of threads (several row blocks and tiles).
    #[test]
    fn result_is_independent_of_thread_count() {
        let m = train::spread_start(3, 5000, 1, &mut ChaCha8Rng::seed_from_u64(7));
        let list = build(&m, 0.05 * scale(&m), Builder::Gram);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let l = build(&m, 0.05 * scale(&m), Builder::Gram);
                assert_eq!(l.idx, list.idx);
                on_list(&l, &m)
            })
        };
        let one = run(1);
        assert_identical(&one, &run(2));
        assert_identical(&one, &run(3));
    }

    /// The tuner's choice: a list whose bound never grew has all smaller margins serve as long
    /// with fewer pairs, so it shrinks; a list that failed at its first move with a costly
    /// build grows; the choice is a factor of the grid.
    #[test]
    fn skin_choice_shrinks_idle_lists_and_grows_short_lived_ones() {
        let gaps: Vec<f32> = (0..20000).map(|k| k as f32 * 1e-4).collect();
        let quiet = vec![0.0; 50];
        let h = ListHistory {
            margin: 1.0,
            served: &quiet,
            failed: 5.0,
            gaps: &gaps,
            n: 8,
            features: 1024,
            nonzero: 1024,
            builder: Builder::Gram,
        };
        assert_eq!(skin_choice(&h), 2f64.powf(-4.0));
        // Few pairs: a build costs many evaluations.
        let few: Vec<f32> = (0..200).map(|k| k as f32 * 1e-2).collect();
        let short = [0.0];
        let grows = ListHistory {
            served: &short,
            failed: 1.5,
            gaps: &few,
            ..h.clone()
        };
        assert!(skin_choice(&grows) > 1.0);
        let f = skin_choice(&ListHistory {
            served: &[0.0, 0.1, 0.3, 0.6, 0.9],
            ..h
        });
        let k = 2.0 * f.log2();
        assert!((k - k.round()).abs() < 1e-12 && (-8.0..=2.0).contains(&k));
    }

    /// The adaptive skin over a real L-BFGS polish: every evaluation the dense result (checked
    /// at the end), the skin within its bounds, and fewer builds than evaluations.
    #[test]
    fn polish_on_adaptive_lists_is_exact() {
        for (n, nf) in [(8usize, 600usize), (24, 300)] {
            let start = train::spread_start(n, nf, 1, &mut ChaCha8Rng::seed_from_u64(3));
            let (trained, ..) = train::polish(&start, &Loss::L2, 100).unwrap();
            clear_cache();
            let (e0, r0) = (evaluations(), rebuilds());
            let (out, l, ..) = train::polish(&trained, &Loss::L2, 100).unwrap();
            let (evals, builds) = (evaluations() - e0, rebuilds() - r0);
            assert!(
                evals > 50 && builds < evals,
                "{evals} evaluations, {builds} builds"
            );
            let (skin, _) = current().unwrap();
            assert!((MIN_SKIN..=MAX_SKIN).contains(&skin));
            crate::prec::assert_close(l, dense(&out).0, 1e-12);
        }
    }

    /// A list filtered from an outer list that serves the point holds exactly the pairs of a
    /// fresh tree build there (the same test on the same canonical dot), with rows, mirrors and
    /// the dense result; a move the outer list cannot cover is refused.
    #[test]
    fn filtered_list_is_the_fresh_list() {
        for (n, nf, seed) in [(3usize, 900usize, 8u64), (4, 700, 9)] {
            let m0 = train::spread_start(n, nf, 1, &mut ChaCha8Rng::seed_from_u64(seed));
            let h = scale(&m0);
            let outer = build(&m0, h, Builder::Tree);
            let r_max = m0.w.column_iter().map(|c| c.norm()).fold(0.0, f64::max);
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
            let mut m1 = m0.clone();
            // Each |d_i| ≤ 0.2 h/(2R): β ≈ 0.2 h, so an inner margin of 0.1 h is served.
            let d = 0.2 * h / (2.0 * r_max) / (n as f64).sqrt();
            m1.w.iter_mut()
                .for_each(|x| *x += d * rng.random_range(-1.0..1.0));
            let (w1, b1) = (m1.w.as_slice(), m1.b.as_slice());
            let inner = 0.1 * h;
            assert!(outer.serves(n, w1, b1, inner));
            assert!(
                !outer.serves(n, w1, b1, h),
                "m = M is never served after a move"
            );
            let f = outer.filtered(n, w1, b1, inner);
            let fresh = build(&m1, inner, Builder::Tree);
            assert!(
                f.entries() > 0 && f.entries() < outer.entries(),
                "{} {}",
                f.entries(),
                outer.entries()
            );
            assert_eq!(
                (&f.offsets, &f.idx, &f.mirror),
                (&fresh.offsets, &fresh.idx, &fresh.mirror)
            );
            check_structure(&f, &m1);
            active_pairs_listed(&f, &m1);
            assert_same(&on_list(&f, &m1), &dense(&m1));
            // At the outer list's own point any m ≤ M is served, and gives the fresh list.
            let (w0, b0) = (m0.w.as_slice(), m0.b.as_slice());
            assert!(outer.serves(n, w0, b0, h) && !outer.serves(n, w0, b0, 1.01 * h));
            let at0 = outer.filtered(n, w0, b0, inner);
            assert_eq!(at0.idx, build(&m0, inner, Builder::Tree).idx);
        }
    }

    /// An angular outer list serves after a small move, its filtered list is the fresh tree
    /// list there with the dense result, and a large turn is refused.
    #[test]
    fn angular_list_serves_what_it_claims() {
        for (n, nf, seed) in [(3usize, 1500usize, 21u64), (4, 1200, 22)] {
            let m0 = train::spread_start(n, nf, 1, &mut ChaCha8Rng::seed_from_u64(seed));
            let h = scale(&m0);
            let margin = 0.01 * h;
            let outer = AngleList::build(n, m0.w.as_slice(), m0.b.as_slice(), margin, 0.3);
            assert!(outer.serves(n, m0.w.as_slice(), m0.b.as_slice(), margin));
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
            let t = large::nearest_angles(n, &unit_directions(n, m0.w.as_slice()).0);
            let theta = t.iter().copied().fold(f64::INFINITY, f64::min);
            let r_max = m0.w.column_iter().map(|c| c.norm()).fold(0.0, f64::max);
            let mut m1 = m0.clone();
            let d = 0.01 * theta * r_max / (n as f64).sqrt();
            m1.w.iter_mut()
                .for_each(|x| *x += d * rng.random_range(-1.0..1.0));
            let (w1, b1) = (m1.w.as_slice(), m1.b.as_slice());
            assert!(outer.serves(n, w1, b1, margin));
            let f = outer.filtered(n, w1, b1, margin);
            let fresh = build(&m1, margin, Builder::Tree);
            assert_eq!((&f.offsets, &f.idx), (&fresh.offsets, &fresh.idx));
            check_structure(&f, &m1);
            assert_same(&on_list(&f, &m1), &dense(&m1));
            let mut far = m0.clone();
            let d = 0.5 * theta * r_max / (n as f64).sqrt();
            far.w
                .iter_mut()
                .for_each(|x| *x += d * rng.random_range(-1.0..1.0));
            assert!(!outer.serves(n, far.w.as_slice(), far.b.as_slice(), margin));
        }
    }

    /// The angular outer lists of the tree builder's sizes change the cost, never the
    /// result: a polish of the large-N start at N = 16 384 gives the same bits with and
    /// without them, with most inner lists drawn from them; evaluating on the outer list
    /// itself while inner lists die at their first step (module docs, "Direct evaluation")
    /// gives the same bits again with fewer inner lists.
    #[test]
    fn angular_lists_change_cost_not_result() {
        let (n, nf) = (3, TREE_MIN_FEATURES);
        assert_eq!(Builder::for_size(n, nf), Builder::Tree);
        let units = large::directions(n, nf, &mut ChaCha8Rng::seed_from_u64(23));
        let (inner, direct) = polish_with_and_without_outer_lists(&large::start(n, &units), 25);
        assert!(
            direct < inner,
            "{direct} inner lists with direct evaluation, {inner} without"
        );
    }

    /// Polishes `start` for `iters` iterations with and without the outer lists, and with the
    /// direct evaluation on, and asserts the same bits, the inner lists rebuilt at the same
    /// points without direct evaluation, and most of them drawn from outer ones. Returns the
    /// inner list builds without and with direct evaluation.
    fn polish_with_and_without_outer_lists(start: &Model, iters: u64) -> (u64, u64) {
        let run = |two: bool, direct: bool| {
            set_two_level(two);
            set_direct(direct);
            let (o0, r0) = (outer_builds(), rebuilds());
            let (m, l, ..) = train::polish(start, &Loss::L2, iters).unwrap();
            (m, l, outer_builds() - o0, rebuilds() - r0)
        };
        let (m1, l1, outer1, builds1) = run(true, false);
        let (m2, l2, outer2, builds2) = run(false, false);
        let (m3, l3, _, builds3) = run(true, true);
        set_two_level(true);
        set_direct(true);
        for (m, l) in [(&m2, l2), (&m3, l3)] {
            assert_eq!(l1.to_bits(), l.to_bits());
            assert!(m1
                .w
                .iter()
                .zip(m.w.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits()));
            assert!(m1
                .b
                .iter()
                .zip(m.b.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits()));
        }
        assert_eq!(
            builds1, builds2,
            "the inner lists are rebuilt at the same points"
        );
        assert_eq!(outer2, 0);
        assert!(
            outer1 > 0 && 2 * outer1 < builds1,
            "{outer1} outer, {builds1} inner builds"
        );
        (builds1, builds3)
    }

    /// The two-level scheme changes the cost, never the result: a polish from a spread start
    /// (where lists die at nearly every step) gives the same bits with and without it, and
    /// draws most inner lists from outer ones. At this size (the Gram builder's) there is no
    /// direct evaluation.
    #[test]
    fn two_levels_change_cost_not_result() {
        let start = train::spread_start(3, 2500, 1, &mut ChaCha8Rng::seed_from_u64(10));
        let (inner, direct) = polish_with_and_without_outer_lists(&start, 60);
        assert_eq!(inner, direct);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Random steps from a structured start, with a random skin and builder: whenever the
        /// bound keeps the list, every pair that the dense computation finds active is in it,
        /// and the losses agree.
        #[test]
        fn no_active_pair_is_missed(
            seed in 0u64..1000,
            dim in prop::sample::select(vec![2usize, 3, 4, 5, 8, 12, 20]),
            scale_step in 1e-4f64..0.3,
            skin in MIN_SKIN..MAX_SKIN,
            tree in any::<bool>(),
        ) {
            let (n, nf) = (dim, 200);
            let builder = if tree && n <= 8 { Builder::Tree } else { Builder::Gram };
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let m0 = train::spread_start(n, nf, 1, &mut rng);
            let margin = |m: &Model| skin * scale(m);
            let mut list = build(&m0, margin(&m0), builder);
            let mut m = m0.clone();
            let r_max = m0.w.column_iter().map(|c| c.norm()).fold(0.0, f64::max);
            let step = scale_step * list.margin() / r_max;
            let mut kept = 0;
            for _ in 0..6 {
                for x in m.w.iter_mut() {
                    *x += step * rng.random_range(-1.0..1.0);
                }
                for x in m.b.iter_mut() {
                    *x = (*x + step * rng.random_range(-1.0..1.0)).min(0.0);
                }
                let (w, b) = (m.w.as_slice(), m.b.as_slice());
                if list.valid_at(n, w, b) {
                    kept += 1;
                } else {
                    list = build(&m, margin(&m), builder);
                }
                active_pairs_listed(&list, &m);
                assert_same(&on_list(&list, &m), &dense(&m));
            }
            let _ = kept;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The two levels under random steps: the inner list is filtered from the outer one
        /// whenever that serves, and rebuilt with it otherwise; every active pair is always
        /// listed and the losses agree.
        #[test]
        fn no_active_pair_is_missed_on_two_levels(
            seed in 0u64..1000,
            dim in prop::sample::select(vec![2usize, 3, 4, 5, 8, 12]),
            scale_step in 1e-4f64..0.3,
            skin in MIN_SKIN..0.25,
            outer_factor in 1.0f64..16.0,
            tree in any::<bool>(),
        ) {
            let (n, nf) = (dim, 200);
            let builder = if tree && n <= 8 { Builder::Tree } else { Builder::Gram };
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let m0 = train::spread_start(n, nf, 1, &mut rng);
            let margin = |m: &Model| skin * scale(m);
            let mut outer = build(&m0, outer_factor * margin(&m0), builder);
            let mut list = outer.filtered(n, m0.w.as_slice(), m0.b.as_slice(), margin(&m0));
            let mut m = m0.clone();
            let r_max = m0.w.column_iter().map(|c| c.norm()).fold(0.0, f64::max);
            let step = scale_step * outer.margin() / r_max;
            for _ in 0..6 {
                for x in m.w.iter_mut() {
                    *x += step * rng.random_range(-1.0..1.0);
                }
                for x in m.b.iter_mut() {
                    *x = (*x + step * rng.random_range(-1.0..1.0)).min(0.0);
                }
                let (w, b) = (m.w.as_slice(), m.b.as_slice());
                if !list.valid_at(n, w, b) {
                    if !outer.serves(n, w, b, margin(&m)) {
                        outer = build(&m, outer_factor * margin(&m), builder);
                    }
                    list = outer.filtered(n, w, b, margin(&m));
                }
                active_pairs_listed(&list, &m);
                assert_same(&on_list(&list, &m), &dense(&m));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Angular outer lists under random moves of weights and biases: whenever one serves,
        /// the list filtered from it holds every active pair and gives the dense loss, and so
        /// does the outer list itself where it serves margin 0 (direct evaluation).
        #[test]
        fn no_active_pair_is_missed_on_angular_lists(
            seed in 0u64..1000,
            dim in prop::sample::select(vec![3usize, 4, 5]),
            step in 1e-4f64..0.2,
            skin in MIN_SKIN..0.25,
            slack in MIN_ANGLE_SLACK..MAX_ANGLE_SLACK,
        ) {
            let (n, nf) = (dim, 300);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let m0 = train::spread_start(n, nf, 1, &mut rng);
            let margin = skin * scale(&m0);
            let outer = AngleList::build(n, m0.w.as_slice(), m0.b.as_slice(), margin, slack);
            let r_max = m0.w.column_iter().map(|c| c.norm()).fold(0.0, f64::max);
            let mut m = m0.clone();
            for _ in 0..6 {
                for x in m.w.iter_mut() {
                    *x += step * 0.1 * r_max * rng.random_range(-1.0..1.0);
                }
                for x in m.b.iter_mut() {
                    *x = (*x + step * rng.random_range(-1.0..1.0)).min(0.0);
                }
                let (w, b) = (m.w.as_slice(), m.b.as_slice());
                if outer.serves(n, w, b, margin) {
                    let list = outer.filtered(n, w, b, margin);
                    active_pairs_listed(&list, &m);
                    assert_same(&on_list(&list, &m), &dense(&m));
                }
                // Direct evaluation: the outer list's own rows where it serves margin 0.
                // (Its rows carry no Cauchy–Schwarz validity of their own: `serves` is it.)
                if outer.serves(n, w, b, 0.0) {
                    active_pairs_listed(&outer.rows, &m);
                    let (mut gw, mut gb) = (vec![0.0; n * nf], vec![0.0; nf]);
                    let l = eval_list(&outer.rows, n, w, b, &Loss::L2, Some((&mut gw, &mut gb)));
                    assert_same(&(l, gw, gb), &dense(&m));
                }
            }
        }
    }

    /// A Gram product tile equals nalgebra's product.
    #[test]
    fn gram_tile_matches_nalgebra() {
        let (n, m) = (7, 300);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x = DMatrix::from_fn(n, m, |_, _| rng.random_range(-1.0..1.0));
        let g = x.transpose() * &x;
        let mut c = vec![0.0; TILE * TILE];
        gram_tile(n, x.as_slice(), 10, 200, 37, 250, &mut c, TILE);
        for r in 0..200 {
            for s in 0..250 {
                assert!((c[r * TILE + s] - g[(10 + r, 37 + s)]).abs() < 1e-13);
            }
        }
    }
}
