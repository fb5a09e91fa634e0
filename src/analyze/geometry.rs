//! Geometry of N feature vectors in R^n at SAE scale: nearest neighbours, the pairwise-angle
//! histogram and the Toy Models metrics, all through blocked matrix products (no `N × N`
//! matrix is ever stored).
//!
//! # Method
//!
//! The unit vectors `Ŵ_i` are stored once in `f32`, row per feature. Blocks of
//! [`BLOCK`] rows are multiplied against every later block with `matrixmultiply`'s `sgemm`
//! (cache-blocked, SIMD), giving the cosines of `BLOCK²` pairs at a time; each pair `i < j`
//! updates the nearest neighbour of both `i` and `j` and one histogram bin. Row blocks run in
//! parallel on rayon (one accumulator per task, merged at the end). Cost `N² n / 2`
//! multiply-adds and `O(N · BLOCK)` memory per task. Cosines carry `f32` rounding
//! (about `1e-6 · √n` absolute), which is far below any angle reported.
//!
//! The feature dimensionality and interference use `Σ_j (Ŵ_i·W_j)² = Ŵ_iᵀ (W Wᵀ) Ŵ_i`: one
//! `n × n` product `W Wᵀ` (`O(N n²)`, `f64`), then one quadratic form per feature.

use nalgebra::DMatrix;
use rayon::prelude::*;

/// Rows per block of the blocked products.
pub const BLOCK: usize = 256;

/// Nearest neighbour of every feature and the histogram of all pairwise angles.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    /// Largest `cos` to another (non-zero) feature, per feature; `None` for a zero vector or
    /// when there is no other non-zero feature.
    pub max_cos: Vec<Option<f64>>,
    /// Largest `|cos|` to another non-zero feature, per feature.
    pub max_abs_cos: Vec<Option<f64>>,
    /// Index of the feature with the largest `cos`.
    pub nearest: Vec<Option<usize>>,
    /// Pair counts per angle bin over `[0, π]` (`bins` equal bins), over pairs of non-zero
    /// features.
    pub counts: Vec<u64>,
}

/// Unit rows of the columns of `w` (n × N) in `f32`, row-major `N × n`; zero columns stay zero.
fn unit_rows(w: &DMatrix<f64>) -> (Vec<f32>, Vec<bool>) {
    let n = w.nrows();
    let mut u = vec![0f32; w.len()];
    let mut nonzero = vec![false; w.ncols()];
    u.par_chunks_mut(n)
        .zip(nonzero.par_iter_mut())
        .enumerate()
        .for_each(|(i, (row, nz))| {
            let col = w.column(i);
            let norm = col.norm();
            if norm > 0.0 {
                *nz = true;
                for (r, x) in row.iter_mut().zip(col.iter()) {
                    *r = (x / norm) as f32;
                }
            }
        });
    (u, nonzero)
}

/// Maps a cosine to its angle bin (of `bins` equal bins over `[0, π]`) without an `acos` per
/// pair: a table over `[−1, 1]` gives the bin directly unless its cell straddles a bin edge,
/// where the edge's cosine decides.
struct Binner {
    cells: usize,
    /// Bin of each cell, or `usize::MAX` when the cell straddles an edge (then `edge_of`).
    table: Vec<(usize, usize)>,
    /// cos of each bin's upper edge.
    cos_edge: Vec<f64>,
}

impl Binner {
    fn new(bins: usize) -> Self {
        let cells = 1 << 16;
        let width = std::f64::consts::PI / bins as f64;
        let bin_of = |c: f64| ((c.clamp(-1.0, 1.0).acos() / width) as usize).min(bins - 1);
        let table = (0..cells)
            .map(|k| {
                let lo = -1.0 + 2.0 * k as f64 / cells as f64;
                let hi = -1.0 + 2.0 * (k + 1) as f64 / cells as f64;
                (bin_of(hi), bin_of(lo))
            })
            .collect();
        let cos_edge = (0..bins).map(|q| ((q + 1) as f64 * width).cos()).collect();
        Binner {
            cells,
            table,
            cos_edge,
        }
    }

    #[inline]
    fn bin(&self, c: f32) -> usize {
        let c = f64::from(c).clamp(-1.0, 1.0);
        let k = (((c + 1.0) * 0.5 * self.cells as f64) as usize).min(self.cells - 1);
        let (a, b) = self.table[k];
        if a == b {
            return a;
        }
        // Angle bin q holds cos in (cos_edge[q], cos_edge[q−1]]; a ≤ q ≤ b.
        (a..b).find(|&q| c > self.cos_edge[q]).unwrap_or(b)
    }
}

struct Acc {
    max_cos: Vec<f32>,
    nearest: Vec<u32>,
    max_abs: Vec<f32>,
    counts: Vec<u64>,
}

impl Acc {
    fn new(nf: usize, bins: usize) -> Self {
        Acc {
            max_cos: vec![f32::NEG_INFINITY; nf],
            nearest: vec![u32::MAX; nf],
            max_abs: vec![f32::NEG_INFINITY; nf],
            counts: vec![0; bins],
        }
    }

    fn merge(mut self, o: Acc) -> Acc {
        for i in 0..self.max_cos.len() {
            if o.max_cos[i] > self.max_cos[i]
                || (o.max_cos[i] == self.max_cos[i] && o.nearest[i] < self.nearest[i])
            {
                self.max_cos[i] = o.max_cos[i];
                self.nearest[i] = o.nearest[i];
            }
            self.max_abs[i] = self.max_abs[i].max(o.max_abs[i]);
        }
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self
    }

    #[inline]
    fn update(&mut self, i: usize, j: usize, c: f32) {
        if c > self.max_cos[i] || (c == self.max_cos[i] && (j as u32) < self.nearest[i]) {
            self.max_cos[i] = c;
            self.nearest[i] = j as u32;
        }
        self.max_abs[i] = self.max_abs[i].max(c.abs());
    }
}

/// Nearest neighbours and the pairwise-angle histogram (`bins` bins over `[0, π]`) of the
/// columns of `w` (n × N), by blocked products (module docs). Zero columns take no part.
pub fn neighbours(w: &DMatrix<f64>, bins: usize) -> Neighbours {
    let (n, nf) = (w.nrows(), w.ncols());
    let (u, nonzero) = unit_rows(w);
    let binner = Binner::new(bins);
    let blocks: Vec<usize> = (0..nf.div_ceil(BLOCK)).collect();
    let acc = blocks
        .par_iter()
        .fold(
            || (Acc::new(nf, bins), vec![0f32; BLOCK * BLOCK]),
            |(mut acc, mut c), &bi| {
                let i0 = bi * BLOCK;
                let ni = BLOCK.min(nf - i0);
                for bj in bi..blocks.len() {
                    let j0 = bj * BLOCK;
                    let nj = BLOCK.min(nf - j0);
                    // C (ni × nj, row stride BLOCK) = U_I · U_Jᵀ.
                    unsafe {
                        matrixmultiply::sgemm(
                            ni,
                            n,
                            nj,
                            1.0,
                            u[i0 * n..].as_ptr(),
                            n as isize,
                            1,
                            u[j0 * n..].as_ptr(),
                            1,
                            n as isize,
                            0.0,
                            c.as_mut_ptr(),
                            BLOCK as isize,
                            1,
                        );
                    }
                    for a in 0..ni {
                        let i = i0 + a;
                        if !nonzero[i] {
                            continue;
                        }
                        let start = if bi == bj { a + 1 } else { 0 };
                        for b in start..nj {
                            let j = j0 + b;
                            if !nonzero[j] {
                                continue;
                            }
                            let x = c[a * BLOCK + b];
                            acc.update(i, j, x);
                            acc.update(j, i, x);
                            acc.counts[binner.bin(x)] += 1;
                        }
                    }
                }
                (acc, c)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(|| Acc::new(nf, bins), Acc::merge);
    let some = |x: f32| (x.is_finite()).then(|| f64::from(x).clamp(-1.0, 1.0));
    Neighbours {
        max_cos: acc.max_cos.iter().map(|&x| some(x)).collect(),
        max_abs_cos: acc.max_abs.iter().map(|&x| some(x)).collect(),
        nearest: acc
            .nearest
            .iter()
            .map(|&j| (j != u32::MAX).then_some(j as usize))
            .collect(),
        counts: acc.counts,
    }
}

/// Feature dimensionality and interference of every column of `w` (n × N), the Toy Models
/// metrics.
///
/// # Formula
///
/// `D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)²` and `interference_i = Σ_{j≠i} (Ŵ_i·W_j)²`, with
/// `Σ_j (Ŵ_i·W_j)² = Ŵ_iᵀ (W Wᵀ) Ŵ_i` (Elhage et al. 2022, "Toy Models of Superposition",
/// section "Feature dimensionality"). A feature with a dimension of its own has `D_i = 1`,
/// `m` copies of one direction have `1/m` each, and `Σ_i D_i ≤ n`. A zero column has `D_i = 0`
/// and interference 0. Cost `O(N n²)`.
pub fn dimensionality(w: &DMatrix<f64>) -> (Vec<f64>, Vec<f64>) {
    let (n, nf) = (w.nrows(), w.ncols());
    let chunk = BLOCK.max(nf.div_ceil(4 * rayon::current_num_threads().max(1)));
    let cols: Vec<usize> = (0..nf.div_ceil(chunk)).collect();
    let data = w.as_slice();
    // M = W Wᵀ = Σ over column blocks.
    let m = cols
        .par_iter()
        .fold(
            || vec![0f64; n * n],
            |mut m, &c| {
                let j0 = c * chunk;
                let nj = chunk.min(nf - j0);
                unsafe {
                    matrixmultiply::dgemm(
                        n,
                        nj,
                        n,
                        1.0,
                        data[j0 * n..].as_ptr(),
                        1,
                        n as isize,
                        data[j0 * n..].as_ptr(),
                        n as isize,
                        1,
                        1.0,
                        m.as_mut_ptr(),
                        1,
                        n as isize,
                    );
                }
                m
            },
        )
        .reduce(
            || vec![0f64; n * n],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    // q_i = W_iᵀ M W_i, from P = M · W_block.
    let mut quad = vec![0f64; nf];
    quad.par_chunks_mut(chunk).enumerate().for_each(|(c, q)| {
        let j0 = c * chunk;
        let nj = q.len();
        let mut p = vec![0f64; n * nj];
        unsafe {
            matrixmultiply::dgemm(
                n,
                n,
                nj,
                1.0,
                m.as_ptr(),
                1,
                n as isize,
                data[j0 * n..].as_ptr(),
                1,
                n as isize,
                0.0,
                p.as_mut_ptr(),
                1,
                n as isize,
            );
        }
        for (k, qk) in q.iter_mut().enumerate() {
            let col = &data[(j0 + k) * n..(j0 + k + 1) * n];
            *qk = col
                .iter()
                .zip(&p[k * n..(k + 1) * n])
                .map(|(a, b)| a * b)
                .sum();
        }
    });
    let mut dim = vec![0.0; nf];
    let mut interference = vec![0.0; nf];
    for i in 0..nf {
        let k = w.column(i).norm_squared();
        if k > 0.0 && quad[i] > 0.0 {
            // Σ_j (Ŵ_i·W_j)² = q_i / k.
            let s = quad[i] / k;
            dim[i] = k / s;
            interference[i] = (s - k).max(0.0);
        }
    }
    (dim, interference)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(n: usize, nf: usize, seed: u64) -> DMatrix<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        DMatrix::from_fn(n, nf, |_, _| rng.random_range(-1.0..1.0))
    }

    /// Against the plain O(N² n) double loop in f64, across block boundaries (N > 2·BLOCK).
    #[test]
    fn blocked_neighbours_match_the_double_loop() {
        let (n, nf, bins) = (7, 2 * BLOCK + 37, 36);
        let mut w = random(n, nf, 3);
        w.column_mut(5).fill(0.0);
        let got = neighbours(&w, bins);
        let width = std::f64::consts::PI / bins as f64;
        let mut counts = vec![0u64; bins];
        for i in 0..nf {
            if i == 5 {
                assert_eq!(got.max_cos[i], None);
                continue;
            }
            let (mut best, mut arg, mut abs) = (f64::NEG_INFINITY, 0, 0f64);
            for j in 0..nf {
                if j == i || j == 5 {
                    continue;
                }
                let c = w.column(i).normalize().dot(&w.column(j).normalize());
                if c > best {
                    best = c;
                    arg = j;
                }
                abs = abs.max(c.abs());
                if j > i {
                    counts[((c.clamp(-1.0, 1.0).acos() / width) as usize).min(bins - 1)] += 1;
                }
            }
            assert!((got.max_cos[i].unwrap() - best).abs() < 1e-5, "{i}");
            assert!((got.max_abs_cos[i].unwrap() - abs).abs() < 1e-5, "{i}");
            assert_eq!(got.nearest[i], Some(arg), "{i}");
        }
        assert_eq!(got.counts.iter().sum::<u64>(), counts.iter().sum::<u64>());
        // f32 cosines may move a pair within 1e-5 of an edge into the next bin.
        let moved: u64 = got
            .counts
            .iter()
            .zip(&counts)
            .map(|(a, b)| a.abs_diff(*b))
            .sum();
        assert!(moved <= 4, "{:?} vs {counts:?}", got.counts);
    }

    #[test]
    fn binner_agrees_with_acos() {
        let b = Binner::new(36);
        let width = std::f64::consts::PI / 36.0;
        for k in 0..=20000 {
            let c = -1.0 + 2.0 * k as f64 / 20000.0;
            let c32 = c as f32;
            let want = ((f64::from(c32).acos() / width) as usize).min(35);
            assert_eq!(b.bin(c32), want, "{c}");
        }
    }

    /// Orthogonal features have D = 1 and no interference; m copies of one direction have
    /// D = 1/m and interference (m − 1)·k; the sum over features is at most n. Random W against
    /// the definition computed pair by pair.
    #[test]
    fn dimensionality_identities_and_definition() {
        let mut w = DMatrix::zeros(4, 6);
        w[(0, 0)] = 2.0;
        w[(1, 1)] = 0.5;
        for i in 2..5 {
            w[(2, i)] = 1.5;
        }
        let (d, inter) = dimensionality(&w);
        assert!((d[0] - 1.0).abs() < 1e-12 && inter[0].abs() < 1e-12);
        assert!((d[1] - 1.0).abs() < 1e-12);
        for i in 2..5 {
            assert!((d[i] - 1.0 / 3.0).abs() < 1e-12);
            assert!((inter[i] - 2.0 * 2.25).abs() < 1e-12);
        }
        assert_eq!((d[5], inter[5]), (0.0, 0.0));
        let w = random(5, 300, 9);
        let (d, inter) = dimensionality(&w);
        assert!(d.iter().sum::<f64>() <= 5.0 + 1e-9);
        for i in [0, 17, 299] {
            let u = w.column(i).normalize();
            let s: Vec<f64> = (0..300).map(|j| u.dot(&w.column(j)).powi(2)).collect();
            let tot: f64 = s.iter().sum();
            assert!((d[i] - w.column(i).norm_squared() / tot).abs() < 1e-10);
            assert!((inter[i] - (tot - s[i])).abs() < 1e-9);
        }
    }
}
