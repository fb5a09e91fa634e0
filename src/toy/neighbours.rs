//! The exact sparse-limit loss on a Verlet neighbour list (SPEC §4, §7): the same numbers as the
//! dense pair loop of [`super::exact`], at a cost of `O(N·K·n)` per evaluation instead of
//! `O(N² n)` (`K` = candidate neighbours per feature).
//!
//! A cross term (input `i`, output `j`) is non-zero only when `G_ij + b_j > 0`. Near a minimum
//! each feature fires on the inputs of a few neighbouring directions only, so a list of
//! candidate pairs, found with a k-d tree on the unit directions and kept while the weights move
//! (the Verlet list of molecular-dynamics codes), holds every active pair. A rigorous bound,
//! checked at **every** evaluation (line-search trial points included), proves that no pair
//! outside the list can have turned active since the list was built; when the bound fails the
//! list is rebuilt. The list changes the cost, never the result.
//!
//! # Formula
//!
//! The list is built at `(W⁰, b⁰)` with margin `m > 0` (the skin): it holds every unordered pair
//! with `G⁰_ij + max(b⁰_i, b⁰_j) > −m`. At a later point `(W, b)` write `W_i = W⁰_i + d_i`,
//! `δ_i = |d_i|`, `r_i = |W⁰_i|`, `Δb_j = b_j − b⁰_j`. By Cauchy–Schwarz
//!
//! ```text
//! G_ij = G⁰_ij + W⁰_i·d_j + d_i·W⁰_j + d_i·d_j ≤ G⁰_ij + r_i δ_j + δ_i r_j + δ_i δ_j
//! G_ij + b_j ≤ (G⁰_ij + b⁰_j) + 2 R Δ + Δ² + B,   R = max r_i, Δ = max δ_i, B = max (Δb_j)₊
//! ```
//!
//! so a pair outside the list (`G⁰_ij + b⁰_j ≤ −m`, and the same with `b⁰_i`) is inactive in both
//! directions whenever `2RΔ + Δ² + B < m` — the test run before every evaluation (with a relative
//! allowance of 1e-9 of `m` for rounding; the list is rebuilt otherwise).
//!
//! Building the list: with `a_i = |W⁰_i|`, `s_i = −b⁰_i − m` and `A = max a_i`, a pair is a
//! candidate iff `a_i a_j cos θ_ij > min(s_i, s_j)`. Take `i` with the smaller `s`. If `s_i > 0`
//! both amplitudes are positive and `cos θ_ij > s_i/(a_i a_j) ≥ s_i/(a_i A) =: cos ρ_i`, so a ball
//! query of angular radius `ρ_i` around `u_i = W⁰_i/a_i` finds `j` (chord radius
//! `2 sin(ρ_i/2)`, inflated by 1e-9 against rounding). If `s_i ≤ 0` (a bias within `m` of 0),
//! `i` is compared with every feature directly. Every found pair is then tested exactly against
//! `G⁰_ij + max(b⁰_i, b⁰_j) > −m` and stored in both rows; rows are sorted.
//!
//! The margin is `m = SKIN · median_i (|W_i|² + b_i)` over embedded features, the typical
//! height of a self response above its threshold (for the symmetric start `k(1 − c) = 1 + c/2`).
//!
//! Evaluation: row `i` holds its candidates `j` in increasing order; for each it computes
//! `g = W_i·W_j`, adds the term with output `i`, `R(g, b_i, 0)`, to the loss and `∂L/∂b_i`, and
//! `γ = ∂R(g, b_i, 0)/∂g + ∂R(g, b_j, 0)/∂g` times `W_j` to `∂L/∂W_i`, so every row writes only its
//! own gradient entries (rows run in parallel without buffers). Inactive candidates are skipped,
//! so the result depends on `(W, b)` alone, not on when the list was built: the loss is summed
//! over the active terms in a fixed order, in fixed blocks of [`ROW_BLOCK`] rows.

use rayon::prelude::*;

use super::Loss;

/// The margin is this times the median height `|W_i|² + b_i` of the embedded self responses.
pub const SKIN: f64 = 1.0;
/// Rows per block of the parallel evaluation (fixed, so the sum does not depend on threads).
pub const ROW_BLOCK: usize = 2048;
/// Above this fraction of features with a bias within the margin of 0, the list cannot pay
/// (each such feature is a candidate of every other) and the dense loop runs instead.
pub const MAX_WIDE_FRACTION: f64 = 1.0 / 32.0;

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

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The unit directions of the features with `|W_i| > 0`: `(flat units, ids, amplitudes of all)`.
pub fn unit_directions(n: usize, w: &[f64]) -> (Vec<f64>, Vec<u32>, Vec<f64>) {
    let nf = w.len() / n;
    let amp: Vec<f64> = (0..nf)
        .map(|i| dot(&w[i * n..(i + 1) * n], &w[i * n..(i + 1) * n]).sqrt())
        .collect();
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

/// The margin `m = SKIN · median (|W_i|² + b_i)` over embedded features (`None` when none is).
pub fn margin(n: usize, w: &[f64], b: &[f64]) -> Option<f64> {
    let mut h: Vec<f64> = b
        .iter()
        .enumerate()
        .map(|(i, &bi)| dot(&w[i * n..(i + 1) * n], &w[i * n..(i + 1) * n]) + bi)
        .filter(|&x| x > 0.0)
        .collect();
    if h.is_empty() {
        return None;
    }
    let mid = h.len() / 2;
    let (_, med, _) = h.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    Some(SKIN * *med)
}

/// A Verlet list of candidate pairs (module docs), with the positions it was built at.
#[derive(Debug, Clone)]
pub struct NeighbourList {
    n: usize,
    w0: Vec<f64>,
    b0: Vec<f64>,
    r_max: f64,
    margin: f64,
    offsets: Vec<usize>,
    idx: Vec<u32>,
}

impl NeighbourList {
    /// Builds the list at `(w, b)` (flat column-major, `b ≤ 0`) with the given margin.
    pub fn build(n: usize, w: &[f64], b: &[f64], margin: f64) -> Self {
        let nf = b.len();
        let (units, ids, amp) = unit_directions(n, w);
        let a_max = amp.iter().fold(0.0f64, |x, &y| x.max(y));
        let tree = KdTree::new(n, &units, ids);
        let s: Vec<f64> = b.iter().map(|&bi| -bi - margin).collect();
        let wide: Vec<u32> = (0..nf as u32).filter(|&i| s[i as usize] <= 0.0).collect();
        let cand = |i: usize, j: usize| {
            dot(&w[i * n..(i + 1) * n], &w[j * n..(j + 1) * n]) + b[i].max(b[j]) > -margin
        };
        // Rows from the ball queries of the features with s_i > 0.
        let mut rows: Vec<Vec<u32>> = (0..nf)
            .into_par_iter()
            .map(|i| {
                let mut row = Vec::new();
                if s[i] <= 0.0 || amp[i] == 0.0 {
                    return row;
                }
                let cos_rho = (s[i] / (amp[i] * a_max)).min(1.0);
                if cos_rho >= 1.0 {
                    return row;
                }
                // Chord² = 2(1 − cos ρ), inflated against rounding.
                let r2 = 2.0 * (1.0 - cos_rho) * (1.0 + 1e-9) + 1e-15;
                let u = &w[i * n..(i + 1) * n];
                let q: Vec<f64> = u.iter().map(|x| x / amp[i]).collect();
                tree.within(&q, r2, &mut |j, _| {
                    let j = j as usize;
                    if j != i && cand(i, j) {
                        row.push(j as u32);
                    }
                });
                row
            })
            .collect();
        // Features with a bias within the margin of 0 against every feature.
        let extra: Vec<Vec<u32>> = wide
            .par_iter()
            .map(|&i| {
                let i = i as usize;
                (0..nf)
                    .filter(|&j| j != i && cand(i, j))
                    .map(|j| j as u32)
                    .collect()
            })
            .collect();
        for (&i, js) in wide.iter().zip(&extra) {
            for &j in js {
                rows[i as usize].push(j);
                rows[j as usize].push(i);
            }
        }
        // Each pair found from one side is stored in both rows.
        let mut mirror: Vec<(u32, u32)> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            for &j in row {
                mirror.push((j, i as u32));
            }
        }
        for (j, i) in mirror {
            rows[j as usize].push(i);
        }
        rows.par_iter_mut().for_each(|r| {
            r.sort_unstable();
            r.dedup();
        });
        let mut offsets = Vec::with_capacity(nf + 1);
        offsets.push(0);
        let mut idx = Vec::with_capacity(rows.iter().map(Vec::len).sum());
        for r in rows {
            idx.extend_from_slice(&r);
            offsets.push(idx.len());
        }
        NeighbourList {
            n,
            w0: w.to_vec(),
            b0: b.to_vec(),
            r_max: a_max,
            margin,
            offsets,
            idx,
        }
    }

    /// Number of stored (directed) candidate entries, twice the number of pairs.
    pub fn entries(&self) -> usize {
        self.idx.len()
    }

    /// The margin it was built with.
    pub fn margin(&self) -> f64 {
        self.margin
    }

    /// Candidates of feature `i` (sorted).
    pub fn row(&self, i: usize) -> &[u32] {
        &self.idx[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Whether the list still holds every pair that can be active at `(w, b)` (module docs):
    /// same shape and `2RΔ + Δ² + B < m (1 − 1e-9)`.
    pub fn valid_at(&self, n: usize, w: &[f64], b: &[f64]) -> bool {
        if n != self.n || w.len() != self.w0.len() || b.len() != self.b0.len() {
            return false;
        }
        let d2 = w
            .par_chunks(n * ROW_BLOCK)
            .zip(self.w0.par_chunks(n * ROW_BLOCK))
            .map(|(a, a0)| {
                a.chunks(n)
                    .zip(a0.chunks(n))
                    .map(|(x, y)| dist2(x, y))
                    .fold(0.0f64, f64::max)
            })
            .reduce(|| 0.0, f64::max);
        let db = b
            .iter()
            .zip(&self.b0)
            .map(|(x, y)| x - y)
            .fold(0.0f64, f64::max);
        let d = d2.sqrt();
        let bound = 2.0 * self.r_max * d + d2 + db;
        bound.is_finite() && bound < self.margin * (1.0 - 1e-9)
    }
}

/// Number of features whose bias lies within `m` of 0 (each one is a candidate of every
/// feature); the list pays only when they are few.
pub fn wide_count(b: &[f64], m: f64) -> usize {
    b.iter().filter(|&&x| x > -m).count()
}

/// The loss (and gradient, when given) on the list: same conventions as `exact::eval`. The list
/// must be valid at `(w, b)` ([`NeighbourList::valid_at`]).
pub fn eval_list(
    list: &NeighbourList,
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    grad: Option<(&mut [f64], &mut [f64])>,
) -> f64 {
    let nf = b.len();
    let inv = 1.0 / nf as f64;
    let row = |i: usize, gwi: Option<&mut [f64]>, gbi: Option<&mut f64>| -> f64 {
        let wi = &w[i * n..(i + 1) * n];
        let bi = b[i];
        let k = dot(wi, wi);
        let (mut total, ra, rb) = loss.response(k, bi, 1.0);
        let want = gwi.is_some();
        let mut acc = [0.0f64; 8];
        let mut accv = if n > 8 { vec![0.0; n] } else { Vec::new() };
        let acc: &mut [f64] = if n > 8 { &mut accv } else { &mut acc[..n] };
        let mut gb = rb;
        if want {
            for d in 0..n {
                acc[d] = 2.0 * ra * wi[d];
            }
        }
        for &j in list.row(i) {
            let j = j as usize;
            let wj = &w[j * n..(j + 1) * n];
            let g = dot(wi, wj);
            let bj = b[j];
            if g + bi.max(bj) <= 0.0 {
                continue;
            }
            let mut gam = 0.0;
            if g + bi > 0.0 {
                let (r, ra, rb) = loss.response(g, bi, 0.0);
                total += r;
                gam += ra;
                gb += rb;
            }
            if want {
                if g + bj > 0.0 {
                    gam += loss.response(g, bj, 0.0).1;
                }
                for d in 0..n {
                    acc[d] += gam * wj[d];
                }
            }
        }
        if let (Some(gwi), Some(gbi)) = (gwi, gbi) {
            for d in 0..n {
                gwi[d] = acc[d] * inv;
            }
            *gbi = gb * inv;
        }
        total
    };
    let total: f64 = match grad {
        Some((gw, gb)) => {
            let parts: Vec<f64> = gw
                .par_chunks_mut(n * ROW_BLOCK)
                .zip(gb.par_chunks_mut(ROW_BLOCK))
                .enumerate()
                .map(|(blk, (gwb, gbb))| {
                    let mut t = 0.0;
                    for (r, (gwi, gbi)) in gwb.chunks_mut(n).zip(gbb.iter_mut()).enumerate() {
                        t += row(blk * ROW_BLOCK + r, Some(gwi), Some(gbi));
                    }
                    t
                })
                .collect();
            parts.iter().sum()
        }
        None => {
            let parts: Vec<f64> = (0..nf.div_ceil(ROW_BLOCK))
                .into_par_iter()
                .map(|blk| {
                    (blk * ROW_BLOCK..((blk + 1) * ROW_BLOCK).min(nf))
                        .map(|i| row(i, None, None))
                        .sum::<f64>()
                })
                .collect();
            parts.iter().sum()
        }
    };
    total * inv
}

thread_local! {
    static CACHE: std::cell::RefCell<Option<NeighbourList>> = const { std::cell::RefCell::new(None) };
    static REBUILDS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static EVALS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Number of evaluations on a cached list on this thread so far (for benches).
pub fn evaluations() -> u64 {
    EVALS.with(|r| r.get())
}

/// Number of list builds on this thread so far (for tests and benches).
pub fn rebuilds() -> u64 {
    REBUILDS.with(|r| r.get())
}

/// Drops this thread's cached list (the next evaluation rebuilds).
pub fn clear_cache() {
    CACHE.with(|c| *c.borrow_mut() = None);
}

/// The loss on this thread's cached list, rebuilt when it is not valid at `(w, b)`; `None`
/// when the list cannot pay (nothing embedded, or more than [`MAX_WIDE_FRACTION`] of the biases
/// within the margin of 0) — the caller then runs the dense loop. The choice depends on
/// `(w, b)` only, and so does the result.
pub fn eval_cached(
    n: usize,
    w: &[f64],
    b: &[f64],
    loss: &Loss,
    grad: Option<(&mut [f64], &mut [f64])>,
) -> Option<f64> {
    let m = margin(n, w, b)?;
    if wide_count(b, m) as f64 > MAX_WIDE_FRACTION * b.len() as f64 {
        return None;
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let ok = c.as_ref().is_some_and(|l| l.valid_at(n, w, b));
        if !ok {
            *c = None;
            *c = Some(NeighbourList::build(n, w, b, m));
            REBUILDS.with(|r| r.set(r.get() + 1));
        }
        EVALS.with(|r| r.set(r.get() + 1));
        Some(eval_list(c.as_ref().unwrap(), n, w, b, loss, grad))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::exact::tests::random_model;
    use crate::toy::{exact, train, Model};
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn dense(m: &Model) -> (f64, Vec<f64>, Vec<f64>) {
        let (n, nf) = (m.n(), m.features());
        let (mut gw, mut gb) = (vec![0.0; n * nf], vec![0.0; nf]);
        let l = exact::dense(
            n,
            m.w.as_slice(),
            m.b.as_slice(),
            &Loss::L2,
            Some((&mut gw, &mut gb)),
        );
        (l, gw, gb)
    }

    fn on_list(list: &NeighbourList, m: &Model) -> (f64, Vec<f64>, Vec<f64>) {
        let (n, nf) = (m.n(), m.features());
        let (mut gw, mut gb) = (vec![0.0; n * nf], vec![0.0; nf]);
        let (w, b) = (m.w.as_slice(), m.b.as_slice());
        assert!(list.valid_at(n, w, b));
        let l = eval_list(list, n, w, b, &Loss::L2, Some((&mut gw, &mut gb)));
        assert_eq!(l, eval_list(list, n, w, b, &Loss::L2, None));
        (l, gw, gb)
    }

    /// Loss within 1e-12 relative; gradient entries within 1e-12 of the gradient's scale.
    fn assert_same(a: &(f64, Vec<f64>, Vec<f64>), d: &(f64, Vec<f64>, Vec<f64>)) {
        assert!((a.0 - d.0).abs() <= 1e-12 * d.0.abs(), "{} vs {}", a.0, d.0);
        let scale = d.1.iter().chain(&d.2).fold(0.0f64, |s, x| s.max(x.abs()));
        for (x, y) in a.1.iter().zip(&d.1).chain(a.2.iter().zip(&d.2)) {
            assert!((x - y).abs() <= 1e-12 * scale.max(1e-300), "{x} vs {y}");
        }
    }

    /// Every pair active in either direction at `m` (computed densely) is in the list.
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

    /// Random models: many biases near 0, so the all-pairs branch for them is exercised too.
    #[test]
    fn random_models_match_dense() {
        for (seed, n, nf, bmax) in [(1, 2, 300, 1.0), (2, 3, 400, 2.0), (3, 6, 350, 1.5)] {
            let m = random_model(n, nf, bmax, seed);
            let (w, b) = (m.w.as_slice(), m.b.as_slice());
            let list = NeighbourList::build(n, w, b, margin(n, w, b).unwrap());
            assert!(wide_count(b, list.margin()) > 0);
            assert_same(&on_list(&list, &m), &dense(&m));
            assert!(active_pairs_listed(&list, &m) > 0);
        }
    }

    /// The symmetric spread start and a partly trained model: few candidates per feature.
    #[test]
    fn structured_and_trained_models_match_dense() {
        for (n, nf) in [(3usize, 1024usize), (4, 700), (8, 600)] {
            let start = train::spread_start(n, nf, 1, &mut ChaCha8Rng::seed_from_u64(9));
            let (trained, ..) = train::polish(&start, &Loss::L2, 60).unwrap();
            for m in [&start, &trained] {
                let (w, b) = (m.w.as_slice(), m.b.as_slice());
                let list = NeighbourList::build(n, w, b, margin(n, w, b).unwrap());
                assert_same(&on_list(&list, m), &dense(m));
                let active = active_pairs_listed(&list, m);
                // The list is a small superset of the active pairs, far below all N(N − 1).
                assert!(list.entries() >= active && list.entries() < nf * nf / 4);
            }
            // Through exact::eval (the cached path) as well.
            let (mut gw, mut gb) = (vec![0.0; n * nf], vec![0.0; nf]);
            let (w, b) = (trained.w.as_slice(), trained.b.as_slice());
            let l = exact::eval(n, w, b, &Loss::L2, Some((&mut gw, &mut gb)));
            assert_same(&(l, gw, gb), &dense(&trained));
        }
    }

    /// Moving the weights past the skin forces a rebuild, and the result stays the dense one;
    /// a small move keeps the list and gives the same numbers as a freshly built list.
    #[test]
    fn rebuild_keeps_the_result_exact() {
        let (n, nf) = (3, 800);
        let m0 = train::spread_start(n, nf, 1, &mut ChaCha8Rng::seed_from_u64(4));
        clear_cache();
        let eval = |m: &Model| {
            let (mut gw, mut gb) = (vec![0.0; n * nf], vec![0.0; nf]);
            let l = exact::eval(
                n,
                m.w.as_slice(),
                m.b.as_slice(),
                &Loss::L2,
                Some((&mut gw, &mut gb)),
            );
            (l, gw, gb)
        };
        let r0 = rebuilds();
        assert_same(&eval(&m0), &dense(&m0));
        assert_eq!(rebuilds(), r0 + 1);
        let list = NeighbourList::build(
            n,
            m0.w.as_slice(),
            m0.b.as_slice(),
            margin(n, m0.w.as_slice(), m0.b.as_slice()).unwrap(),
        );
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut small = m0.clone();
        let d = 0.1 * list.margin() / (2.0 * list.r_max);
        small
            .w
            .iter_mut()
            .for_each(|x| *x += d / 3f64.sqrt() * rng.random_range(-1.0..1.0));
        let kept = eval(&small);
        assert_eq!(rebuilds(), r0 + 1, "a small move keeps the list");
        assert_same(&kept, &dense(&small));
        clear_cache();
        let fresh = eval(&small);
        assert_eq!(
            kept.0, fresh.0,
            "the result does not depend on when the list was built"
        );
        let mut big = m0.clone();
        big.w
            .iter_mut()
            .for_each(|x| *x *= 1.0 + 0.2 * rng.random_range(-1.0..1.0));
        let moved = eval(&big);
        assert_eq!(rebuilds(), r0 + 3, "a move past the skin rebuilds");
        assert_same(&moved, &dense(&big));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Random steps from a structured start: whenever the bound keeps the list, every pair
        /// that the dense computation finds active is in it, and the losses agree.
        #[test]
        fn no_active_pair_is_missed(seed in 0u64..1000, n in 2usize..6, scale in 1e-4f64..0.3) {
            let nf = 200;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let m0 = train::spread_start(n, nf, 1, &mut rng);
            let (w, b) = (m0.w.as_slice(), m0.b.as_slice());
            let mut list = NeighbourList::build(n, w, b, margin(n, w, b).unwrap());
            let mut m = m0.clone();
            let step = scale * list.margin() / list.r_max;
            for _ in 0..6 {
                for x in m.w.iter_mut() {
                    *x += step * rng.random_range(-1.0..1.0);
                }
                for x in m.b.iter_mut() {
                    *x = (*x + step * rng.random_range(-1.0..1.0)).min(0.0);
                }
                let (w, b) = (m.w.as_slice(), m.b.as_slice());
                if !list.valid_at(n, w, b) {
                    list = NeighbourList::build(n, w, b, margin(n, w, b).unwrap());
                }
                active_pairs_listed(&list, &m);
                assert_same(&on_list(&list, &m), &dense(&m));
            }
        }
    }
}
