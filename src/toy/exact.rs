//! The exact expected loss of the infinitely sparse limit and its analytic gradient (SPEC §4).
//!
//! Every input has exactly one active feature `i` (chosen uniformly), with value `x ~ U[0,1]`.
//! With `G = WᵀW` and `R(a, b, t) = ∫₀¹ ρ((a x + b)₊ − t x) dx` ([`Loss::response`]):
//!
//! # Formula
//!
//! ```text
//! L = (1/N) Σ_i [ R(G_ii, b_i, 1) + Σ_{j≠i} R(G_ij, b_j, 0) ]
//! ∂L/∂W = W (Γ + Γᵀ),   Γ_ij = ∂L/∂G_ij,    ∂L/∂b_j = (1/N) Σ_i ∂R/∂b (G_ij, b_j, t_ij)
//! ```
//!
//! For L2, `R(k, b, 1) = self(k, b)` and `R(g, b, 0) = cross(g, b) = (g + b)₊³/(3g)`.
//!
//! A cross term vanishes with its derivatives whenever `g + b ≤ 0` (with `b ≤ 0` the output
//! `(g x + b)₊` is then 0 on all of `[0, 1]`, and `ρ(0) = 0` for every loss), so the pair loop
//! skips those pairs after one comparison. Rows of `G` are built one at a time as vectorisable
//! axpy loops over a dimension-major copy of `W`, so no `N × N` matrix is ever stored; the
//! gradient `W(Γ + Γᵀ)` is accumulated pair by pair over the (few) active pairs. Cost
//! `O(N² n / 2)` for the products plus `O(#active · n)`.

use nalgebra::{DMatrix, DVector};

use super::Loss;
use super::Model;

/// Exact sparse-limit loss `L` of `model` (SPEC §4). Requires `b ≤ 0`.
pub fn loss(model: &Model, loss: &Loss) -> f64 {
    eval(
        model.n(),
        model.w.as_slice(),
        model.b.as_slice(),
        loss,
        None,
    )
}

/// Exact loss and its gradient `(L, ∂L/∂W, ∂L/∂b)` (SPEC §4). Requires `b ≤ 0`.
pub fn loss_grad(model: &Model, loss: &Loss) -> (f64, DMatrix<f64>, DVector<f64>) {
    let (n, nf) = (model.n(), model.features());
    let mut gw = vec![0.0; n * nf];
    let mut gb = vec![0.0; nf];
    let l = eval(
        n,
        model.w.as_slice(),
        model.b.as_slice(),
        loss,
        Some((&mut gw, &mut gb)),
    );
    (l, DMatrix::from_vec(n, nf, gw), DVector::from_vec(gb))
}

/// The loss (and, if `grad` is given, its gradient) on flat column-major slices:
/// `w[i*n + d] = W[d, i]`, `b[i]`. The gradient slices are overwritten.
pub fn eval(
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    grad: Option<(&mut [f64], &mut [f64])>,
) -> f64 {
    if uses_list(n, b.len()) {
        return super::neighbours::eval_cached(n, w, b, loss, grad);
    }
    if n > GRAM_MAX_DIM {
        return super::tiled::eval(n, w, b, loss, grad);
    }
    dense(n, w, b, loss, grad)
}

/// Whether [`eval`] runs on a neighbour list ([`super::neighbours`]): from
/// [`NEIGHBOUR_MIN_FEATURES`] features on for `n ≤ 8`, from [`GRAM_MIN_FEATURES`] for
/// `8 < n ≤` [`GRAM_MAX_DIM`]. Beyond [`GRAM_MAX_DIM`] it runs on GEMM tiles
/// ([`super::tiled`]), below those sizes on the dense loop [`dense`], which stays the reference.
pub fn uses_list(n: usize, features: usize) -> bool {
    if n <= 8 {
        features >= NEIGHBOUR_MIN_FEATURES
    } else {
        n <= GRAM_MAX_DIM && features >= GRAM_MIN_FEATURES
    }
}

/// Largest `n` of the list path. Beyond it, at starts below the nearest neighbour, most listed
/// pairs are active and their one-by-one products cost more than the GEMM tiles of
/// [`super::tiled`], which take over there. One loss + gradient at N = 1024, process CPU time
/// on one thread of the shared 2-core machine at load average 4–7
/// (`BENCH_CPU_TIME=1 cargo bench --bench exact_loss -- "N=1024 start"`):
///
/// | n | list | rebuilt | tiled | dense |
/// |---|---|---|---|---|
/// | 32 | 2.9 ms | 7.7 ms | 5.4 ms | 15.7 ms |
/// | 64 | 21.9 ms | 38.5 ms | 12.1 ms | 24.4 ms |
/// | 128 | 56.0 ms | 84.8 ms | 22.3 ms | 74.2 ms |
///
/// and tiled at N = 4096: 91, 170 and 346 ms. The wall times of the same run without
/// `BENCH_CPU_TIME` are 2–7× larger at that load, in the same order.
pub const GRAM_MAX_DIM: usize = 32;

/// From this many features on (and `n ≤ 8`) [`eval`] runs on a Verlet neighbour list.
///
/// 256 (it was 512): with the list from N = 256 on, `superpose train --dim 4 --features 512`
/// took 3.04 s wall / 5.34 s CPU against 4.47 s / 7.83 s with it from 512 (the dense loop was
/// 32 % of that run by `perf`), and `--dim 8` 8.00 s against 8.76 s, the same models; from
/// 128 or 64 on, 3.4–3.5 s and 8.1–8.2 s (one run each, idle 2-core box).
pub const NEIGHBOUR_MIN_FEATURES: usize = 256;
/// From this many features on (and `8 < n ≤` [`GRAM_MAX_DIM`]) [`eval`] runs on a neighbour
/// list built from blocked Gram products ([`super::neighbours::Builder::Gram`]).
pub const GRAM_MIN_FEATURES: usize = 256;

/// The dense pair loop over all `N(N − 1)/2` pairs (the reference for [`eval`]).
pub fn dense(
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    grad: Option<(&mut [f64], &mut [f64])>,
) -> f64 {
    match grad {
        Some((gw, gb)) => eval_impl::<true>(n, w, b, loss, gw, gb),
        None => eval_impl::<false>(n, w, b, loss, &mut [], &mut []),
    }
}

/// Below this many features the pair loop runs on one thread.
const PARALLEL_MIN_FEATURES: usize = 256;
/// Number of row blocks for the parallel pair loop. Fixed (not the thread count), and the
/// blocks' sums are added in block order, so the result does not depend on how many threads run.
const BLOCKS: usize = 8;

/// Block boundaries `0 = r_0 < r_1 < … < r_B = rows` (`B ≤ blocks`) over the rows of an upper
/// triangle — row `r` holding the `rows − r` entries `(r, q ≥ r)` with the diagonal, or the
/// `rows − 1 − r` pairs `(r, q > r)` without it — with about equal numbers of entries per block.
/// The partition depends on the sizes alone, never on the thread count (used by the pair loop
/// here over features and by [`super::tiled`] over tile rows).
pub(crate) fn triangle_blocks(rows: usize, diagonal: bool, blocks: usize) -> Vec<usize> {
    let held = |r: usize| rows - r - usize::from(!diagonal);
    let total: usize = (0..rows).map(held).sum();
    let mut bounds = vec![0];
    let mut done = 0usize;
    for r in 0..rows {
        done += held(r);
        let k = bounds.len();
        if k < blocks && done * blocks >= k * total {
            bounds.push(r + 1);
        }
    }
    if *bounds.last().unwrap() != rows {
        bounds.push(rows);
    }
    bounds
}

/// The pair loop, specialised at compile time on whether the gradient is wanted. Large models
/// split the rows into [`BLOCKS`] blocks evaluated in parallel (rayon), each with its own
/// gradient buffers, summed in block order.
fn eval_impl<const GRAD: bool>(
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    gw: &mut [f64],
    gb: &mut [f64],
) -> f64 {
    use rayon::prelude::*;
    let nf = b.len();
    debug_assert_eq!(w.len(), n * nf);
    debug_assert!(b.iter().all(|&x| x <= 0.0), "exact loss needs b ≤ 0");
    // Dimension-major copy: wt[d*N + j] = W[d, j].
    let mut wt = vec![0.0; n * nf];
    for j in 0..nf {
        for d in 0..n {
            wt[d * nf + j] = w[j * n + d];
        }
    }
    if GRAD {
        gw.fill(0.0);
        gb.fill(0.0);
    }
    let mut total = 0.0;
    if nf < PARALLEL_MIN_FEATURES {
        total = rows::<GRAD>(n, w, &wt, b, loss, 0..nf, gw, gb);
    } else {
        let bounds = triangle_blocks(nf, false, BLOCKS);
        let parts: Vec<(f64, Vec<f64>, Vec<f64>)> = bounds
            .par_windows(2)
            .map(|r| {
                let (mut pw, mut pb) = if GRAD {
                    (vec![0.0; n * nf], vec![0.0; nf])
                } else {
                    (Vec::new(), Vec::new())
                };
                let t = rows::<GRAD>(n, w, &wt, b, loss, r[0]..r[1], &mut pw, &mut pb);
                (t, pw, pb)
            })
            .collect();
        for (t, pw, pb) in parts {
            total += t;
            if GRAD {
                gw.iter_mut().zip(&pw).for_each(|(g, p)| *g += p);
                gb.iter_mut().zip(&pb).for_each(|(g, p)| *g += p);
            }
        }
    }
    let inv = 1.0 / nf as f64;
    if GRAD {
        gw.iter_mut().for_each(|x| *x *= inv);
        gb.iter_mut().for_each(|x| *x *= inv);
    }
    total * inv
}

/// Rows `range` of the pair loop: the self terms of those rows and every pair `(i, j > i)`,
/// accumulating `N·∂L/∂W` and `N·∂L/∂b` into `gw`, `gb` (not cleared); returns `N·L` of them.
#[allow(clippy::too_many_arguments)]
fn rows<const GRAD: bool>(
    n: usize,
    w: &[f64],
    wt: &[f64],
    b: &[f64],
    loss: &Loss,
    range: std::ops::Range<usize>,
    gw: &mut [f64],
    gb: &mut [f64],
) -> f64 {
    let nf = b.len();
    let mut row = vec![0.0; nf];
    let mut acc = vec![0.0; n];
    let mut total = 0.0;
    for i in range {
        let wi = &w[i * n..(i + 1) * n];
        let bi = b[i];
        // Self term R(G_ii, b_i, 1).
        let k: f64 = wi.iter().map(|x| x * x).sum();
        let (r, ra, rb) = loss.response(k, bi, 1.0);
        total += r;
        // acc collects ∂L/∂W_i (times N) from row i; gb_i likewise.
        let mut gbi = 0.0;
        if GRAD {
            for d in 0..n {
                acc[d] = 2.0 * ra * wi[d];
            }
            gbi = rb;
        }
        // Row i of G beyond the diagonal: row[j] = W_i · W_j, j > i.
        let tail = &mut row[i + 1..];
        tail.fill(0.0);
        for d in 0..n {
            let wdi = wi[d];
            let src = &wt[d * nf + i + 1..(d + 1) * nf];
            for (r, s) in tail.iter_mut().zip(src) {
                *r += wdi * s;
            }
        }
        for (off, &g) in tail.iter().enumerate() {
            let j = i + 1 + off;
            let bj = b[j];
            // Output j fires on input i iff g + b_j > 0; output i on input j iff g + b_i > 0.
            if g + bj.max(bi) <= 0.0 {
                continue;
            }
            let mut gam = 0.0;
            if g + bj > 0.0 {
                let (r, ra, rb) = loss.response(g, bj, 0.0);
                total += r;
                gam += ra;
                if GRAD {
                    gb[j] += rb;
                }
            }
            if g + bi > 0.0 {
                let (r, ra, rb) = loss.response(g, bi, 0.0);
                total += r;
                gam += ra;
                gbi += rb;
            }
            if GRAD {
                // G_ij = G_ji = W_i·W_j: ∂/∂W_i += γ W_j, ∂/∂W_j += γ W_i.
                let wj = &w[j * n..(j + 1) * n];
                let gwj = &mut gw[j * n..(j + 1) * n];
                for d in 0..n {
                    acc[d] += gam * wj[d];
                    gwj[d] += gam * wi[d];
                }
            }
        }
        if GRAD {
            for d in 0..n {
                gw[i * n + d] += acc[d];
            }
            gb[i] += gbi;
        }
    }
    total
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::prec::{assert_close, REL_TIGHT};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A random model with O(1) weights and biases in `[−bmax, 0]`.
    pub(crate) fn random_model(n: usize, nf: usize, bmax: f64, seed: u64) -> Model {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let w = DMatrix::from_fn(n, nf, |_, _| rng.random_range(-1.0..1.0));
        let b = DVector::from_fn(nf, |_, _| -rng.random_range(0.0..bmax));
        Model::new(w, b).unwrap()
    }

    /// SPEC §4 written out independently: brute-force G = WᵀW and the L2 closed forms.
    fn l2_reference(m: &Model) -> f64 {
        let g = m.w.transpose() * &m.w;
        let nf = m.features();
        let selfl = |k: f64, b: f64| {
            if k + b <= 0.0 {
                1.0 / 3.0
            } else {
                // t³/3 + ∫_t^1 ((k−1)x + b)² dx by 2000-point Simpson.
                let t = -b / k;
                let f = |x: f64| ((k - 1.0) * x + b).powi(2);
                let m = 2000;
                let h = (1.0 - t) / m as f64;
                let mut s = f(t) + f(1.0);
                for q in 1..m {
                    s += if q % 2 == 1 { 4.0 } else { 2.0 } * f(t + q as f64 * h);
                }
                t.powi(3) / 3.0 + s * h / 3.0
            }
        };
        let cross = |g: f64, b: f64| {
            if g + b > 0.0 {
                (g + b).powi(3) / (3.0 * g)
            } else {
                0.0
            }
        };
        let mut s = 0.0;
        for i in 0..nf {
            s += selfl(g[(i, i)], m.b[i]);
            for j in 0..nf {
                if j != i {
                    s += cross(g[(i, j)], m.b[j]);
                }
            }
        }
        s / nf as f64
    }

    #[test]
    fn matches_brute_force_closed_form() {
        for (seed, n, nf) in [(1, 2, 5), (2, 3, 17), (3, 8, 40)] {
            let m = random_model(n, nf, 1.0, seed);
            assert_close(loss(&m, &Loss::L2), l2_reference(&m), 1e-10);
        }
    }

    #[test]
    fn triangle_blocks_cover_all_rows_with_balanced_pairs() {
        for nf in [256usize, 300, 1024, 4097] {
            let b = triangle_blocks(nf, false, BLOCKS);
            assert_eq!((b[0], *b.last().unwrap()), (0, nf));
            assert!(b.windows(2).all(|w| w[0] < w[1]));
            let pairs = |r: &[usize]| (r[0]..r[1]).map(|i| nf - 1 - i).sum::<usize>();
            let total = nf * (nf - 1) / 2;
            for w in b.windows(2) {
                // Each block holds at most 1/BLOCKS of the pairs plus one row.
                assert!(pairs(w) <= total / BLOCKS + nf, "nf = {nf}: {b:?}");
            }
        }
    }

    /// The parallel path (N ≥ 256) gives the brute-force closed form, and the same gradient as
    /// one sequential pass over all rows.
    #[test]
    fn parallel_blocks_match_sequential_and_brute_force() {
        let (n, nf) = (4, 300);
        let m = random_model(n, nf, 0.6, 11);
        assert_close(loss(&m, &Loss::L2), l2_reference(&m), 1e-10);
        let (l, gw, gb) = loss_grad(&m, &Loss::L2);
        let w = m.w.as_slice();
        let mut wt = vec![0.0; n * nf];
        for j in 0..nf {
            for d in 0..n {
                wt[d * nf + j] = w[j * n + d];
            }
        }
        let (mut sw, mut sb) = (vec![0.0; n * nf], vec![0.0; nf]);
        let seq = rows::<true>(
            n,
            w,
            &wt,
            m.b.as_slice(),
            &Loss::L2,
            0..nf,
            &mut sw,
            &mut sb,
        );
        assert_close(l, seq / nf as f64, 1e-12);
        for (a, s) in gw.iter().zip(&sw) {
            assert!((a - s / nf as f64).abs() <= 1e-12 * (1.0 + a.abs()));
        }
        for (a, s) in gb.iter().zip(&sb) {
            assert!((a - s / nf as f64).abs() <= 1e-12 * (1.0 + a.abs()));
        }
    }

    #[test]
    fn dead_model_has_loss_l0() {
        let m = Model::zeros(3, 7);
        assert_close(loss(&m, &Loss::L2), 1.0 / 3.0, REL_TIGHT);
    }

    #[test]
    fn orthogonal_unit_features_have_loss_zero() {
        // W = I (n = N = 4), b = 0: the output is exactly x.
        let m = Model::new(DMatrix::identity(4, 4), DVector::zeros(4)).unwrap();
        assert!(loss(&m, &Loss::L2).abs() < 1e-15);
    }

    /// Monte Carlo: feature i uniform, x ~ U[0,1], real ReLU forward pass, L2 over all outputs.
    #[test]
    fn agrees_with_monte_carlo() {
        let m = random_model(3, 12, 0.8, 7);
        let exact = loss(&m, &Loss::L2);
        let (n, nf) = (m.n(), m.features());
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        let samples = 400_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..samples {
            let i = rng.random_range(0..nf);
            let x: f64 = rng.random();
            let h: Vec<f64> = (0..n).map(|d| m.w[(d, i)] * x).collect();
            let mut l = 0.0;
            for j in 0..nf {
                let pre: f64 = (0..n).map(|d| m.w[(d, j)] * h[d]).sum::<f64>() + m.b[j];
                let out = pre.max(0.0);
                let target = if j == i { x } else { 0.0 };
                l += (out - target).powi(2);
            }
            s += l;
            s2 += l * l;
        }
        let mean = s / samples as f64;
        let se = ((s2 / samples as f64 - mean * mean) / samples as f64).sqrt();
        assert!(
            (mean - exact).abs() < 4.0 * se,
            "MC {mean} ± {se} vs exact {exact}"
        );
        // Some outputs active and some not, so the test exercises both branches.
        let g = m.w.transpose() * &m.w;
        let active = (0..nf)
            .flat_map(|i| (0..nf).map(move |j| (i, j)))
            .filter(|&(i, j)| i != j && g[(i, j)] + m.b[j] > 0.0)
            .count();
        assert!(active > 5 && active < nf * (nf - 1) - 5, "{active}");
    }

    #[test]
    fn gradient_matches_central_differences() {
        for (seed, n, nf, bmax) in [(11, 2, 6, 0.5), (12, 3, 9, 1.0), (13, 5, 14, 1.5)] {
            let m = random_model(n, nf, bmax, seed);
            let (l, gw, gb) = loss_grad(&m, &Loss::L2);
            assert_close(l, loss(&m, &Loss::L2), REL_TIGHT);
            let h = 1e-6;
            let mut checked = 0;
            for idx in 0..n * nf {
                let (mut p, mut q) = (m.clone(), m.clone());
                p.w.as_mut_slice()[idx] += h;
                q.w.as_mut_slice()[idx] -= h;
                let fd = (loss(&p, &Loss::L2) - loss(&q, &Loss::L2)) / (2.0 * h);
                let an = gw.as_slice()[idx];
                assert!(
                    (fd - an).abs() < 1e-6 * (1.0 + an.abs()),
                    "W[{idx}] {fd} vs {an}"
                );
                checked += 1;
            }
            for j in 0..nf {
                // Stay inside b ≤ 0.
                if m.b[j] > -2.0 * h {
                    continue;
                }
                let (mut p, mut q) = (m.clone(), m.clone());
                p.b[j] += h;
                q.b[j] -= h;
                let fd = (loss(&p, &Loss::L2) - loss(&q, &Loss::L2)) / (2.0 * h);
                assert!(
                    (fd - gb[j]).abs() < 1e-6 * (1.0 + gb[j].abs()),
                    "b[{j}] {fd} vs {}",
                    gb[j]
                );
                checked += 1;
            }
            assert!(checked > n * nf);
            // Some self terms live, some dead, or some cross terms live: the gradient is not trivial.
            assert!(gw.norm() > 1e-3);
        }
    }

    /// SPEC §4's identity: m identical copies of each of D directions (W_d/√m, b_d/m) have
    /// exactly the total loss of the D-feature model (W_d, b_d) plus (m − 1)·D dead features.
    #[test]
    fn degenerate_copies_equal_rescaled_singles_plus_dead() {
        for (seed, n, dd, mult) in [(21, 2, 4, 3), (22, 3, 7, 2), (23, 4, 5, 5)] {
            let single = random_model(n, dd, 1.0, seed);
            let nf = dd * mult;
            let w = DMatrix::from_fn(n, nf, |r, i| single.w[(r, i / mult)] / (mult as f64).sqrt());
            let b = DVector::from_fn(nf, |i, _| single.b[i / mult] / mult as f64);
            let copies = Model::new(w, b).unwrap();
            let lhs = nf as f64 * loss(&copies, &Loss::L2);
            let rhs = dd as f64 * loss(&single, &Loss::L2) + ((mult - 1) * dd) as f64 / 3.0;
            assert_close(lhs, rhs, 1e-12);
        }
    }
}
