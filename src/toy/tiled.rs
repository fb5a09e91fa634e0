//! The exact sparse-limit loss by tiles of GEMMs (SPEC §4): the numbers of [`super::exact::dense`]
//! for models whose pairs are mostly active (large `n`), where a pair costs as much as its share
//! of a matrix product and the product runs at GEMM speed.
//!
//! # Formula
//!
//! With `X` the `N × n` matrix whose row `i` is `W_i` (the slice layout `w[i*n + d]`), split the
//! features into tiles `I, J` of [`TILE`] consecutive features. For each tile of the upper
//! triangle (`J ≥ I`, and `s > r` inside a diagonal tile):
//!
//! ```text
//! G_IJ = X_I X_Jᵀ                                                  (one GEMM)
//! L   += Σ_{i∈I, j∈J} R(G_ij, b_j, 0) + R(G_ij, b_i, 0)
//! Γ_ij = ∂R/∂g (G_ij, b_j, 0) + ∂R/∂g (G_ij, b_i, 0)                 (in place of G_IJ)
//! ∂L/∂X_I += Γ X_J,    ∂L/∂X_J += Γᵀ X_I                             (two GEMMs)
//! ∂L/∂b_j += ∂R/∂b (G_ij, b_j, 0),   ∂L/∂b_i += ∂R/∂b (G_ij, b_i, 0)
//! ```
//!
//! which is `∂L/∂W = W (Γ + Γᵀ)` of SPEC §4 with `Γ` here the symmetric sum over both directions
//! of a pair; the self terms `R(|W_i|², b_i, 1)` add `2 ∂R/∂a · W_i`. Everything is finally divided
//! by `N`. The GEMMs are `matrixmultiply`'s (cache-blocked, AVX2/FMA kernels chosen at run time,
//! the same routine that builds the neighbour lists' Gram tiles). A tile without an active pair
//! skips its two gradient GEMMs. Cost `N² n / 2` multiply-adds for `G`, the same again per
//! gradient GEMM pair where pairs are active, and `N²/2` responses; memory one tile per task plus
//! one `N × n` gradient buffer per block, never `N × N`.
//!
//! # Determinism
//!
//! The tile rows are split into at most [`BLOCKS`] blocks of consecutive rows with about equal
//! numbers of tiles — a partition fixed by `N` alone, not by the thread count. Each block sums
//! its tiles in order into its own buffers; the blocks run in parallel (rayon) and their sums are
//! added in block order, so the result is bit for bit the same on any number of threads. It
//! agrees with [`super::exact::dense`] to rounding (the products are summed in another order).

use rayon::prelude::*;

use super::neighbours::gram_tile;
use super::Loss;

/// Features per tile.
pub const TILE: usize = 256;
/// Most blocks of tile rows (fixed, so the sum does not depend on the number of threads).
pub const BLOCKS: usize = 8;

/// The loss (and, if `grad` is given, its gradient) on flat column-major slices, as
/// [`super::exact::eval`]: `w[i*n + d] = W[d, i]`, `b[i] ≤ 0`. The gradient slices are
/// overwritten.
pub fn eval(
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    grad: Option<(&mut [f64], &mut [f64])>,
) -> f64 {
    let nf = b.len();
    assert_eq!(w.len(), n * nf, "w holds n·N weights");
    debug_assert!(b.iter().all(|&x| x <= 0.0), "exact loss needs b ≤ 0");
    let want = grad.is_some();
    let bounds = tile_blocks(nf.div_ceil(TILE));
    let parts: Vec<Part> = bounds
        .par_windows(2)
        .map(|p| block(n, w, b, loss, p[0]..p[1], want))
        .collect();
    let mut total = 0.0;
    let mut out = grad;
    if let Some((gw, gb)) = out.as_mut() {
        gw.fill(0.0);
        gb.fill(0.0);
    }
    for (p, part) in bounds.iter().zip(parts) {
        total += part.loss;
        if let Some((gw, gb)) = out.as_mut() {
            let row0 = p * TILE;
            gw[row0 * n..]
                .iter_mut()
                .zip(&part.gw)
                .for_each(|(g, x)| *g += x);
            gb[row0..]
                .iter_mut()
                .zip(&part.gb)
                .for_each(|(g, x)| *g += x);
        }
    }
    // Self terms R(G_ii, b_i, 1).
    for i in 0..nf {
        let wi = &w[i * n..(i + 1) * n];
        let k: f64 = wi.iter().map(|x| x * x).sum();
        let (r, ra, rb) = loss.response(k, b[i], 1.0);
        total += r;
        if let Some((gw, gb)) = out.as_mut() {
            for (g, x) in gw[i * n..(i + 1) * n].iter_mut().zip(wi) {
                *g += 2.0 * ra * x;
            }
            gb[i] += rb;
        }
    }
    let inv = 1.0 / nf as f64;
    if let Some((gw, gb)) = out {
        gw.iter_mut().for_each(|x| *x *= inv);
        gb.iter_mut().for_each(|x| *x *= inv);
    }
    total * inv
}

/// One block's sums: `N·L` of its tiles, and `N·∂L/∂W`, `N·∂L/∂b` of the features from the
/// block's first row on (empty without a gradient).
struct Part {
    loss: f64,
    gw: Vec<f64>,
    gb: Vec<f64>,
}

/// Block boundaries over `T` tile rows, tile row `p` holding the `T − p` tiles `(p, q ≥ p)`,
/// with about equal numbers of tiles per block ([`super::exact::triangle_blocks`]).
fn tile_blocks(tiles: usize) -> Vec<usize> {
    super::exact::triangle_blocks(tiles, true, BLOCKS)
}

/// The tiles `(p, q ≥ p)` of tile rows `rows`, in order.
fn block(
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    rows: std::ops::Range<usize>,
    grad: bool,
) -> Part {
    let nf = b.len();
    let tiles = nf.div_ceil(TILE);
    let row0 = rows.start * TILE;
    let (mut gw, mut gb) = if grad {
        (vec![0.0; (nf - row0) * n], vec![0.0; nf - row0])
    } else {
        (Vec::new(), Vec::new())
    };
    let mut c = vec![0.0; TILE * TILE];
    let mut total = 0.0;
    for p in rows {
        for q in p..tiles {
            let (i0, j0) = (p * TILE, q * TILE);
            let (ni, nj) = (TILE.min(nf - i0), TILE.min(nf - j0));
            gram_tile(n, w, i0, ni, j0, nj, &mut c, TILE);
            let mut active = false;
            for r in 0..ni {
                let bi = b[i0 + r];
                let row = &mut c[r * TILE..r * TILE + nj];
                let start = if p == q { r + 1 } else { 0 };
                row[..start].fill(0.0);
                let mut gbi = 0.0;
                for (s, x) in row.iter_mut().enumerate().skip(start) {
                    let g = *x;
                    let bj = b[j0 + s];
                    *x = 0.0;
                    // Output j fires on input i iff g + b_j > 0; output i on input j iff g + b_i > 0.
                    if g + bj.max(bi) <= 0.0 {
                        continue;
                    }
                    active = true;
                    if g + bj > 0.0 {
                        let (v, va, vb) = loss.response(g, bj, 0.0);
                        total += v;
                        *x += va;
                        if grad {
                            gb[j0 + s - row0] += vb;
                        }
                    }
                    if g + bi > 0.0 {
                        let (v, va, vb) = loss.response(g, bi, 0.0);
                        total += v;
                        *x += va;
                        gbi += vb;
                    }
                }
                if grad {
                    gb[i0 + r - row0] += gbi;
                }
            }
            if grad && active {
                let (ci, cj) = ((i0 - row0) * n, (j0 - row0) * n);
                // ∂/∂X_I += Γ X_J (ni × nj times nj × n).
                gemm_acc(ni, nj, n, &c, TILE, 1, &w[j0 * n..], &mut gw[ci..]);
                // ∂/∂X_J += Γᵀ X_I (nj × ni times ni × n).
                gemm_acc(nj, ni, n, &c, 1, TILE, &w[i0 * n..], &mut gw[cj..]);
            }
        }
    }
    Part {
        loss: total,
        gw,
        gb,
    }
}

/// `C += A B` for `A` (`m × k`, element `(r, s)` at `a[r·rsa + s·csa]`), `B` (`k × n`, row-major
/// with row stride `n`) and `C` (`m × n`, row-major with row stride `n`).
#[allow(clippy::too_many_arguments)]
fn gemm_acc(
    m: usize,
    k: usize,
    n: usize,
    a: &[f64],
    rsa: usize,
    csa: usize,
    x: &[f64],
    c: &mut [f64],
) {
    if m == 0 || k == 0 || n == 0 {
        return;
    }
    assert!((m - 1) * rsa + (k - 1) * csa < a.len());
    assert!(k * n <= x.len() && m * n <= c.len());
    // SAFETY: A, B and C lie inside `a`, `x` and `c` by the assertions above; `c` is a `&mut`
    // borrow, so it aliases neither `a` nor `x`.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            x.as_ptr(),
            n as isize,
            1,
            1.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::exact::tests::random_model;
    use crate::toy::{exact, train, Model};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    type Eval = (f64, Vec<f64>, Vec<f64>);
    type LossFn = fn(usize, &[f64], &[f64], &Loss, Option<(&mut [f64], &mut [f64])>) -> f64;

    fn through(f: LossFn, m: &Model, loss: &Loss) -> Eval {
        let (n, nf) = (m.n(), m.features());
        let (mut gw, mut gb) = (vec![0.0; n * nf], vec![0.0; nf]);
        let (w, b) = (m.w.as_slice(), m.b.as_slice());
        let l = f(n, w, b, loss, Some((&mut gw, &mut gb)));
        assert_eq!(l.to_bits(), f(n, w, b, loss, None).to_bits());
        (l, gw, gb)
    }

    /// Loss within 1e-12 relative; gradient entries within 1e-12 of the gradient's largest
    /// entry (entries near a minimum are sums of cancelling terms).
    fn assert_same(a: &Eval, d: &Eval) {
        assert!((a.0 - d.0).abs() <= 1e-12 * d.0.abs(), "{} vs {}", a.0, d.0);
        for (x, y) in [(&a.1, &d.1), (&a.2, &d.2)] {
            let scale = y.iter().fold(0.0f64, |s, v| s.max(v.abs()));
            for (u, v) in x.iter().zip(y) {
                assert!((u - v).abs() <= 1e-12 * scale.max(1e-300), "{u} vs {v}");
            }
        }
    }

    /// The number of active directed pairs of `m` (computed densely).
    fn active(m: &Model) -> usize {
        let g = m.w.transpose() * &m.w;
        let nf = m.features();
        (0..nf)
            .flat_map(|i| (0..nf).map(move |j| (i, j)))
            .filter(|&(i, j)| i != j && g[(i, j)] + m.b[j] > 0.0)
            .count()
    }

    #[test]
    fn tile_blocks_cover_all_tile_rows() {
        for tiles in [1usize, 2, 3, 7, 8, 9, 16, 33] {
            let b = tile_blocks(tiles);
            assert_eq!((b[0], *b.last().unwrap()), (0, tiles));
            assert!(b.windows(2).all(|w| w[0] < w[1]));
            assert!(b.len() <= BLOCKS + 1);
            let total = tiles * (tiles + 1) / 2;
            for w in b.windows(2) {
                let held: usize = (w[0]..w[1]).map(|p| tiles - p).sum();
                assert!(held <= total / BLOCKS + tiles, "{tiles}: {b:?}");
            }
        }
    }

    /// Random models (many pairs active, a few dead features) from one tile to several, `N`
    /// not a multiple of the tile, `n` from 2 to 96.
    #[test]
    fn random_models_match_dense() {
        for (seed, n, nf, bmax) in [
            (1, 2, 37, 0.5),
            (2, 3, 300, 1.0),
            (3, 8, 513, 0.7),
            (4, 40, 256, 2.0),
            (5, 96, 700, 4.0),
        ] {
            let m = random_model(n, nf, bmax, seed);
            let a = active(&m);
            assert!(a > nf && a < nf * (nf - 1), "{n} {nf}: {a} active");
            assert_same(
                &through(eval, &m, &Loss::L2),
                &through(exact::dense, &m, &Loss::L2),
            );
        }
        let huber = Loss::Huber { delta: 0.2 };
        let m = random_model(12, 400, 1.5, 6);
        assert_same(
            &through(eval, &m, &huber),
            &through(exact::dense, &m, &huber),
        );
    }

    /// Spread starts (the trainer's structured start, its intercept below the typical nearest
    /// neighbour so that pairs are active) and near-trained models (that start after a polish),
    /// at small and large `n`.
    #[test]
    fn structured_and_trained_models_match_dense() {
        for (n, nf, iters) in [(4, 300, 300), (24, 280, 100), (64, 520, 40)] {
            let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
            let spread = train::spread_start_below(n, nf, 1, 1.3, &mut rng);
            let (trained, ..) = train::polish(&spread, &Loss::L2, iters).unwrap();
            for m in [&spread, &trained] {
                assert!(active(m) > 0);
                assert_same(
                    &through(eval, m, &Loss::L2),
                    &through(exact::dense, m, &Loss::L2),
                );
            }
        }
    }

    /// Bit for bit the same inside a 1-thread and a 2-thread pool.
    #[test]
    fn independent_of_thread_count() {
        let m = random_model(20, 1100, 1.5, 9);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| through(eval, &m, &Loss::L2))
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one.0.to_bits(), two.0.to_bits());
        assert!(one
            .1
            .iter()
            .zip(&two.1)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(one
            .2
            .iter()
            .zip(&two.2)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(
            tile_blocks(1100usize.div_ceil(TILE)).len() > 2,
            "several blocks"
        );
    }

    #[test]
    fn gradient_matches_central_differences() {
        // Two tiles (N > TILE), so off-diagonal tiles are checked too.
        let (n, nf) = (6, TILE + 20);
        let m = random_model(n, nf, 1.2, 17);
        let (l, gw, gb) = through(eval, &m, &Loss::L2);
        let f = |m: &Model| eval(n, m.w.as_slice(), m.b.as_slice(), &Loss::L2, None);
        assert_eq!(l, f(&m));
        let h = 1e-6;
        let mut checked = 0;
        // Every weight of three features in each tile, and their biases.
        for i in [0, 1, TILE - 1, TILE, TILE + 7, nf - 1] {
            for d in 0..n {
                let idx = i * n + d;
                let (mut p, mut q) = (m.clone(), m.clone());
                p.w.as_mut_slice()[idx] += h;
                q.w.as_mut_slice()[idx] -= h;
                let fd = (f(&p) - f(&q)) / (2.0 * h);
                assert!(
                    (fd - gw[idx]).abs() < 1e-7 * (1.0 + gw[idx].abs()),
                    "W[{idx}] {fd} vs {}",
                    gw[idx]
                );
                checked += 1;
            }
            if m.b[i] < -2.0 * h {
                let (mut p, mut q) = (m.clone(), m.clone());
                p.b[i] += h;
                q.b[i] -= h;
                let fd = (f(&p) - f(&q)) / (2.0 * h);
                assert!(
                    (fd - gb[i]).abs() < 1e-7 * (1.0 + gb[i].abs()),
                    "b[{i}] {fd} vs {}",
                    gb[i]
                );
                checked += 1;
            }
        }
        assert!(checked > 6 * n);
        assert!(gw.iter().any(|x| x.abs() > 1e-4));
    }
}
