//! Known optimal (or best known) spherical codes, and how the θ_min law does on them.
//!
//! A spherical code is a finite set of unit vectors; its minimal angle is the smallest angle
//! between two of them. The θ_min law ([`crate::theta`]) estimates the minimal angle of the best
//! code of `D` points on `S^{n−1}`; the codes here are the cases where that best code is known,
//! so they measure how good the estimate is.
//!
//! | code | `n` | points | minimal angle | status and source |
//! |---|---|---|---|---|
//! | regular polygon | 2 | `D` | `2π/D` | proven (trivial) |
//! | simplex | `n` | `n+1` | `arccos(−1/n)` | proven: Rankin (1955) simplex bound |
//! | cross-polytope | `n` | `2n` | `π/2` | proven: Rankin (1955) orthoplex bound |
//! | 24-cell (D4 roots) | 4 | 24 | `π/3` | proven: the unique optimal kissing configuration in R⁴ and an optimal 24-point code (de Laat–Leijenhorst–de Muinck Keizer 2024, arXiv:2404.18794; 25 points at `π/3` are impossible, Musin 2008) |
//! | 600-cell | 4 | 120 | `π/5` | proven (Andreev 1999, as recalled; the LP bound alone gives 121.67, `bounds.md` §5) |
//! | E8 roots | 8 | 240 | `π/3` | proven: Levenshtein's bound `L(8, 1/2) = 240` is sharp (Levenshtein 1979; Odlyzko–Sloane 1979) |
//! | Barnes–Wall `Λ16` minimal vectors | 16 | 4320 | `π/3` | best known kissing configuration (Barnes–Wall 1959); the kissing number of `R^16` is at most 7320 (`data/kissing.csv`) |
//! | Tammes table | 3 | 2..24 | `data/tammes.csv` | proven for `N ≤ 14` and 24, best known otherwise |
//!
//! Where it is cheap the points are constructed ([`simplex`], [`cross_polytope`], [`d4_roots`],
//! [`cell_600`], [`e8_roots`], [`barnes_wall_16_min`], [`icosahedron`]) and the tests check that the computed minimal
//! angle equals the stated one, so the table is a checked fact rather than a transcription.

use serde::Serialize;
use std::f64::consts::PI;

pub use crate::bounds::ln_levenshtein_bound;
use crate::error::{Error, Result};
use crate::packing::{tammes_table, Status};
use crate::theta::theta_min;

/// A known spherical code: `points` unit vectors in `R^n` with minimal angle `theta`.
#[derive(Debug, Clone, Serialize)]
pub struct Code {
    /// Dimension of the ambient space (`S^{n−1} ⊂ R^n`).
    pub n: usize,
    /// Name of the configuration.
    pub name: String,
    /// Number of points `D`.
    pub points: usize,
    /// Its minimal angle, radians.
    pub theta: f64,
    /// Proven optimal (no code of `points` points has a larger minimal angle) or best known.
    pub status: Status,
    /// Where the optimality (or the value) comes from.
    pub source: String,
}

fn code(n: usize, name: &str, points: usize, theta: f64, status: Status, source: &str) -> Code {
    Code {
        n,
        name: name.into(),
        points,
        theta,
        status,
        source: source.into(),
    }
}

/// The known codes that live in `R^n`, for `n ≥ 2`.
///
/// Every `n` gets the simplex (`n+1` points) and the cross-polytope (`2n` points); `n = 2` also
/// gets the regular pentagon and hexagon (polygons, to show the law is exact there); `n = 3` the
/// Tammes table (`N = 2..24`, leaving out `N = 4` and `N = 6`, which are the simplex and the
/// cross-polytope); `n = 4` the 24-cell and the 600-cell; `n = 8` the E8 roots.
///
/// # Formula
///
/// simplex `arccos(−1/n)`, cross-polytope `π/2`, 24-cell and E8 `π/3`, 600-cell `π/5`,
/// `D`-gon `2π/D`.
pub fn known_codes(n: usize) -> Result<Vec<Code>> {
    if n < 2 {
        return Err(Error::invalid(
            "dimension n",
            "spherical codes are listed for n ≥ 2",
        ));
    }
    let rankin = "Rankin 1955 (Proc. Glasgow Math. Assoc. 2)";
    let mut out = vec![
        code(
            n,
            "simplex",
            n + 1,
            (-1.0 / n as f64).acos(),
            Status::Proven,
            rankin,
        ),
        code(n, "cross-polytope", 2 * n, PI / 2.0, Status::Proven, rankin),
    ];
    match n {
        2 => {
            for d in [5usize, 6, 12] {
                out.push(code(
                    2,
                    &format!("{d}-gon"),
                    d,
                    2.0 * PI / d as f64,
                    Status::Proven,
                    "regular polygon (trivial)",
                ));
            }
        }
        3 => {
            for r in tammes_table() {
                if r.points == 4 || r.points == 6 {
                    continue; // the simplex and the cross-polytope above
                }
                out.push(Code {
                    n: 3,
                    name: format!("Tammes N={}", r.points),
                    points: r.points,
                    theta: r.min_angle,
                    status: r.status,
                    source: r.source.clone(),
                });
            }
        }
        4 => {
            out.push(code(
                4,
                "24-cell (D4 roots)",
                24,
                PI / 3.0,
                Status::Proven,
                "the unique optimal kissing configuration in R^4, hence an optimal 24-point \
                 spherical code: any 24 points at angles >= pi/3 are the 24-cell, whose minimal \
                 angle is pi/3 (de Laat, Leijenhorst, de Muinck Keizer 2024, Optimality and \
                 uniqueness of the D4 root system, arXiv:2404.18794; kissing number 24: Musin \
                 2008, Ann. Math. 168)",
            ));
            out.push(code(
                4,
                "600-cell",
                120,
                PI / 5.0,
                Status::Proven,
                "Andreev 1999 (Russian Math. Surveys 54), as recalled",
            ));
        }
        8 => out.push(code(
            8,
            "E8 roots",
            240,
            PI / 3.0,
            Status::Proven,
            "Levenshtein 1979; Odlyzko-Sloane 1979 (L(8,1/2) = 240 is sharp)",
        )),
        16 => out.push(code(
            16,
            "Barnes-Wall minimal vectors",
            4320,
            PI / 3.0,
            Status::BestKnown,
            "Barnes-Wall 1959 (BW16 kissing configuration; no code of 4321 points at pi/3 is \
             known, the kissing bound is 7320: data/kissing.csv)",
        )),
        _ => {}
    }
    Ok(out)
}

/// The θ_min law on one known code.
#[derive(Debug, Clone, Serialize)]
pub struct CodeComparison {
    /// Dimension.
    pub n: usize,
    /// Name of the code.
    pub name: String,
    /// Number of points `D`.
    pub points: usize,
    /// The code's true minimal angle, radians.
    pub theta_true: f64,
    /// Small-angle law `θ(n, D)`, radians.
    pub theta: f64,
    /// Chord law `4 asin(θ/4)`, radians.
    pub theta_upper: f64,
    /// `theta / theta_true`.
    pub ratio: f64,
    /// `theta_upper / theta_true`.
    pub ratio_upper: f64,
    /// Status of the code (proven optimal or best known).
    pub status: Status,
    /// Source of `γ_{n−1}` used by the law (proven / best known / bound).
    pub law_source: Status,
    /// Source of the code.
    pub source: String,
}

/// Compares the θ_min law with a known code.
///
/// # Formula
///
/// `ratio = θ(n, D) / θ_true` with `θ(n, D) = sqrt(γ_{n−1}) (S_{n−1}/D)^{1/(n−1)}` and
/// `ratio_upper` the same with the chord form `4 asin(θ/4)` (SPEC §2).
pub fn compare(c: &Code) -> Result<CodeComparison> {
    let t = theta_min(c.n, c.points as f64)?;
    Ok(CodeComparison {
        n: c.n,
        name: c.name.clone(),
        points: c.points,
        theta_true: c.theta,
        theta: t.theta,
        theta_upper: t.theta_upper,
        ratio: t.theta / c.theta,
        ratio_upper: t.theta_upper / c.theta,
        status: c.status,
        law_source: t.source,
        source: c.source.clone(),
    })
}

/// Minimal angle of a set of nonzero vectors (they need not be normalised), radians.
///
/// # Formula
///
/// `min_{i<j} arccos(⟨x_i, x_j⟩ / (|x_i| |x_j|))`, by brute force over all pairs (`O(N² n)`);
/// the cosine is clamped to `[−1, 1]` against rounding. Returns `π` for fewer than two points.
pub fn min_angle(points: &[Vec<f64>]) -> f64 {
    let norms: Vec<f64> = points
        .iter()
        .map(|p| p.iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    let mut max_cos = -1.0f64;
    for i in 0..points.len() {
        for j in (i + 1)..points.len() {
            let dot: f64 = points[i].iter().zip(&points[j]).map(|(a, b)| a * b).sum();
            max_cos = max_cos.max(dot / (norms[i] * norms[j]));
        }
    }
    max_cos.clamp(-1.0, 1.0).acos()
}

/// The regular simplex: `n+1` unit vectors with pairwise inner product `−1/n`, as vectors in
/// `R^{n+1}` lying in the hyperplane `Σx = 0` (an `n`-dimensional space; angles do not depend
/// on the embedding).
///
/// # Formula
///
/// `x_i = e_i − (1/(n+1)) Σ_j e_j`, normalised.
pub fn simplex(n: usize) -> Vec<Vec<f64>> {
    let m = n + 1;
    (0..m)
        .map(|i| {
            let mut v = vec![-1.0 / m as f64; m];
            v[i] += 1.0;
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.iter().map(|x| x / norm).collect()
        })
        .collect()
}

/// The cross-polytope `{±e_i}` in `R^n`: `2n` points.
pub fn cross_polytope(n: usize) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        for s in [1.0, -1.0] {
            let mut v = vec![0.0; n];
            v[i] = s;
            out.push(v);
        }
    }
    out
}

/// The roots `±e_i ± e_j` (`i < j`) of `D_n`: `2n(n−1)` vectors of norm `√2`. For `n = 4` these
/// are the 24 vertices of the 24-cell.
pub fn d_roots(n: usize) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for i in 0..n {
        for j in (i + 1)..n {
            for si in [1.0, -1.0] {
                for sj in [1.0, -1.0] {
                    let mut v = vec![0.0; n];
                    v[i] = si;
                    v[j] = sj;
                    out.push(v);
                }
            }
        }
    }
    out
}

/// The 24-cell as the 24 roots of `D_4`.
pub fn d4_roots() -> Vec<Vec<f64>> {
    d_roots(4)
}

/// The 240 roots of `E_8`: the 112 roots of `D_8` and the 128 vectors `(±½)^8` with an even
/// number of minus signs (Conway & Sloane, SPLAG ch. 4 §8.1).
pub fn e8_roots() -> Vec<Vec<f64>> {
    let mut out = d_roots(8);
    for mask in 0u32..256 {
        if mask.count_ones() % 2 == 0 {
            out.push(
                (0..8)
                    .map(|k| if mask >> k & 1 == 1 { -0.5 } else { 0.5 })
                    .collect(),
            );
        }
    }
    out
}

/// The 4320 minimal vectors of the Barnes–Wall lattice `Λ16`, the best known kissing
/// configuration in `R^16` (Barnes & Wall 1959; Conway & Sloane, SPLAG ch. 4 §10): a code of
/// 4320 points with minimal angle `π/3`.
///
/// # Formula
///
/// Construction B on the first-order Reed–Muller code `RM(1, 4)` (length 16, 32 words):
/// `Λ16 = {x ∈ Z^16 : x mod 2 ∈ RM(1,4), Σ x_i ≡ 0 mod 4}`. Its vectors of norm 8 are the 480
/// `±2e_i ± 2e_j` and the 3840 vectors `±1` on the support of one of the 30 words of weight 8
/// (`v ↦ a₀ + a·v`, `a ≠ 0`) with an even number of minus signs; two of them have inner
/// product at most 4, so `cos ≤ ½`. Returned with norm 1 (divided by `√8`).
pub fn barnes_wall_16_min() -> Vec<Vec<f64>> {
    let s = 8f64.sqrt();
    let mut out: Vec<Vec<f64>> = d_roots(16)
        .into_iter()
        .map(|v| v.iter().map(|x| 2.0 * x / s).collect())
        .collect();
    for a in 1u32..16 {
        for a0 in 0..2u32 {
            // Support of the word v ↦ a0 + a·v (mod 2), positions v = 0..15.
            let support: Vec<usize> = (0..16u32)
                .filter(|v| (a0 + (a & v).count_ones()) % 2 == 1)
                .map(|v| v as usize)
                .collect();
            for mask in 0u32..256 {
                if mask.count_ones() % 2 == 0 {
                    let mut v = vec![0.0; 16];
                    for (k, &i) in support.iter().enumerate() {
                        v[i] = if mask >> k & 1 == 1 { -1.0 } else { 1.0 } / s;
                    }
                    out.push(v);
                }
            }
        }
    }
    out
}

/// The points of a code in farthest-point order: point 0 first, then each next point the one
/// whose largest cosine to the points already taken is smallest (ties to the lower index), so
/// every prefix is a well-spread subset of the code. `O(D² n)`.
///
/// # Formula
///
/// `i_1 = 0`, `i_{k+1} = argmin_{j ∉ {i_1..i_k}} max_{l ≤ k} ⟨x_{i_l}, x_j⟩ / (|x_{i_l}| |x_j|)`.
pub fn farthest_order(points: &[Vec<f64>]) -> Vec<usize> {
    let unit = unit_vectors(points);
    let mut worst = vec![f64::NEG_INFINITY; unit.len()];
    let mut taken = vec![false; unit.len()];
    let mut order = Vec::with_capacity(unit.len());
    let mut next = 0;
    while !unit.is_empty() {
        taken[next] = true;
        order.push(next);
        for (w, q) in worst.iter_mut().zip(&unit) {
            *w = w.max(unit[next].iter().zip(q).map(|(a, b)| a * b).sum());
        }
        match (0..unit.len())
            .filter(|&j| !taken[j])
            .min_by(|&a, &b| worst[a].total_cmp(&worst[b]).then(a.cmp(&b)))
        {
            Some(j) => next = j,
            None => break,
        }
    }
    order
}

/// A code's points as unit vectors in farthest-point order ([`farthest_order`]), and its name.
#[derive(Debug)]
pub struct OrderedCode {
    /// Name of the code.
    pub name: &'static str,
    /// Unit vectors, every prefix a well-spread subset.
    pub points: Vec<Vec<f64>>,
}

/// The known code in `R^n` with the most points that this module constructs (the 600-cell for
/// n = 4, the E8 roots for n = 8, the Barnes–Wall minimal vectors for n = 16), ordered once per
/// process (`O(D² n)`: about 0.2 s for Barnes–Wall) and kept; `None` for other `n`.
pub fn largest_code(n: usize) -> Option<&'static OrderedCode> {
    use std::sync::OnceLock;
    static CODES: [OnceLock<OrderedCode>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    type Build = fn() -> Vec<Vec<f64>>;
    let (slot, name, build): (usize, &'static str, Build) = match n {
        4 => (0, "600-cell", cell_600),
        8 => (1, "E8", e8_roots),
        16 => (2, "BW16", barnes_wall_16_min),
        _ => return None,
    };
    Some(CODES[slot].get_or_init(|| {
        let unit = unit_vectors(&build());
        let points = farthest_order(&unit)
            .into_iter()
            .map(|i| unit[i].clone())
            .collect();
        OrderedCode { name, points }
    }))
}

/// The points divided by their norms.
fn unit_vectors(points: &[Vec<f64>]) -> Vec<Vec<f64>> {
    points
        .iter()
        .map(|p| {
            let r = p.iter().map(|x| x * x).sum::<f64>().sqrt();
            p.iter().map(|x| x / r).collect()
        })
        .collect()
}

/// Even permutations of 4 indices (the 12 elements of `A_4`).
fn even_permutations4() -> Vec<[usize; 4]> {
    let mut out = Vec::new();
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let p = [a, b, c, d];
                    let distinct = (0..4).all(|i| (0..i).all(|j| p[i] != p[j]));
                    if !distinct {
                        continue;
                    }
                    let inversions = (0..4)
                        .flat_map(|i| ((i + 1)..4).map(move |j| (i, j)))
                        .filter(|&(i, j)| p[i] > p[j])
                        .count();
                    if inversions % 2 == 0 {
                        out.push(p);
                    }
                }
            }
        }
    }
    out
}

/// The 600-cell: the 120 unit quaternions of the binary icosahedral group — the 8 vectors
/// `±e_i`, the 16 vectors `(±½, ±½, ±½, ±½)` and the 96 even permutations of
/// `(±φ/2, ±½, ±1/(2φ), 0)`, `φ = (1+√5)/2` (Coxeter, *Regular Polytopes*, §8.7).
pub fn cell_600() -> Vec<Vec<f64>> {
    let phi = 0.5 * (1.0 + 5f64.sqrt());
    let mut out = cross_polytope(4);
    for mask in 0u32..16 {
        out.push(
            (0..4)
                .map(|k| if mask >> k & 1 == 1 { -0.5 } else { 0.5 })
                .collect(),
        );
    }
    let base = [0.5 * phi, 0.5, 0.5 / phi, 0.0];
    for p in even_permutations4() {
        for mask in 0u32..8 {
            // Signs on the three nonzero entries.
            let mut v = vec![0.0; 4];
            for (slot, &src) in p.iter().enumerate() {
                let mut x = base[src];
                if src < 3 && mask >> src & 1 == 1 {
                    x = -x;
                }
                v[slot] = x;
            }
            out.push(v);
        }
    }
    out
}

/// The icosahedron: the 12 cyclic permutations of `(0, ±1, ±φ)` (Tammes N = 12).
pub fn icosahedron() -> Vec<Vec<f64>> {
    let phi = 0.5 * (1.0 + 5f64.sqrt());
    let mut out = Vec::new();
    for s1 in [1.0, -1.0] {
        for s2 in [1.0, -1.0] {
            let (a, b) = (s1, s2 * phi);
            out.push(vec![0.0, a, b]);
            out.push(vec![a, b, 0.0]);
            out.push(vec![b, 0.0, a]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packing::tammes_table;
    use crate::prec::{assert_close, REL_TIGHT};
    use std::f64::consts::LN_2;

    fn unit_norms(points: &[Vec<f64>]) -> bool {
        let n0 = points[0].iter().map(|x| x * x).sum::<f64>();
        points
            .iter()
            .all(|p| (p.iter().map(|x| x * x).sum::<f64>() - n0).abs() < 1e-12)
    }

    fn distinct(points: &[Vec<f64>]) -> bool {
        min_angle(points) > 1e-6
    }

    /// The constructions have the stated number of points and minimal angle, so the rows of
    /// [`known_codes`] are checked facts.
    #[test]
    fn constructions_match_the_stated_angles() {
        for n in 2..=12 {
            let s = simplex(n);
            assert_eq!(s.len(), n + 1);
            assert_close(min_angle(&s), (-1.0 / n as f64).acos(), REL_TIGHT);
            let c = cross_polytope(n);
            assert_eq!(c.len(), 2 * n);
            assert_close(min_angle(&c), PI / 2.0, REL_TIGHT);
        }
        let d4 = d4_roots();
        assert_eq!(d4.len(), 24);
        assert!(unit_norms(&d4) && distinct(&d4));
        assert_close(min_angle(&d4), PI / 3.0, REL_TIGHT);
        let e8 = e8_roots();
        assert_eq!(e8.len(), 240);
        assert!(unit_norms(&e8) && distinct(&e8));
        assert_close(min_angle(&e8), PI / 3.0, REL_TIGHT);
        let c600 = cell_600();
        assert_eq!(c600.len(), 120);
        assert!(unit_norms(&c600) && distinct(&c600));
        assert_close(min_angle(&c600), PI / 5.0, 1e-10);
        let ico = icosahedron();
        assert_eq!(ico.len(), 12);
        assert!(unit_norms(&ico));
        let row12 = tammes_table().iter().find(|r| r.points == 12).unwrap();
        assert_close(min_angle(&ico), row12.min_angle, 1e-12);
        // Tammes N = 4 and 6 are the simplex and the cross-polytope in R³.
        let row4 = tammes_table().iter().find(|r| r.points == 4).unwrap();
        assert_close(min_angle(&simplex(3)), row4.min_angle, 1e-12);
        let row6 = tammes_table().iter().find(|r| r.points == 6).unwrap();
        assert_close(min_angle(&cross_polytope(3)), row6.min_angle, 1e-12);
    }

    /// The Barnes–Wall minimal vectors: 4320 distinct unit vectors with inner products in
    /// `{0, ±¼, ±½, ±1}` (the lattice's norm 8 and products ≤ 4, over 8), the same
    /// distribution around every point (`1, 280, 1024, 1710, 1024, 280, 1` at
    /// `1, ½, ¼, 0, −¼, −½, −1`: 280 neighbours at `π/3`), and a spherical 7-design, checked by
    /// its moments: `Σ_j ⟨u_i, u_j⟩^{2k} = D (2k − 1)!! / (n (n + 2) ⋯ (n + 2k − 2))` for
    /// k = 1, 2, 3 (270, 45 and 11.25 at D = 4320, n = 16), and `Σ u uᵀ = (D/n) I`.
    #[test]
    fn barnes_wall_is_the_kissing_configuration() {
        let bw = barnes_wall_16_min();
        assert_eq!(bw.len(), 4320);
        assert!(unit_norms(&bw) && distinct(&bw));
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let levels = [1.0, 0.5, 0.25, 0.0, -0.25, -0.5, -1.0];
        for i in [0usize, 479, 480, 2000, 4319] {
            let mut count = [0usize; 7];
            for q in &bw {
                let c = dot(&bw[i], q);
                let k = levels.iter().position(|l| (c - l).abs() < 1e-12);
                count[k.unwrap_or_else(|| panic!("inner product {c}"))] += 1;
            }
            assert_eq!(count, [1, 280, 1024, 1710, 1024, 280, 1], "point {i}");
            let (mut want, mut odd) = (bw.len() as f64, 1.0);
            for k in 1..=3i32 {
                want *= odd / (16 + 2 * (k - 1)) as f64;
                odd += 2.0;
                let moment: f64 = bw.iter().map(|q| dot(&bw[i], q).powi(2 * k)).sum();
                assert!((moment - want).abs() < 1e-9, "k = {k}: {moment} vs {want}");
            }
        }
        for a in 0..16 {
            for b in 0..16 {
                let f: f64 = bw.iter().map(|u| u[a] * u[b]).sum();
                let want = if a == b { 4320.0 / 16.0 } else { 0.0 };
                assert!((f - want).abs() < 1e-9, "({a}, {b}): {f}");
            }
        }
    }

    /// Farthest-point prefixes of the large codes are the best codes of their size where those
    /// are known: the first `2n` points of the 600-cell and of E8 are a cross-polytope (all
    /// cosines ≤ 0, the optimum for `2n` points by Rankin's bound), and the order is a
    /// permutation whose prefixes' minimal angle never grows.
    #[test]
    fn farthest_prefixes_are_spread() {
        for n in [4usize, 8, 16] {
            let code = unit_vectors(&match n {
                4 => cell_600(),
                8 => e8_roots(),
                _ => barnes_wall_16_min(),
            });
            assert!(unit_norms(&code));
            let order = farthest_order(&code);
            let mut seen = order.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..code.len()).collect::<Vec<_>>());
            let prefix = |k: usize| {
                order[..k]
                    .iter()
                    .map(|&i| code[i].clone())
                    .collect::<Vec<_>>()
            };
            assert!(min_angle(&prefix(2 * n)) >= PI / 2.0 - 1e-12, "n = {n}");
            let angles: Vec<f64> = [2 * n + 1, 4 * n, code.len()]
                .iter()
                .map(|&k| min_angle(&prefix(k)))
                .collect();
            assert!(
                angles.windows(2).all(|w| w[1] <= w[0] + 1e-12),
                "{angles:?}"
            );
            // largest_code keeps exactly this order.
            let kept = largest_code(n).unwrap();
            assert_eq!(kept.points, prefix(code.len()));
        }
        assert!(largest_code(5).is_none());
    }

    /// Every listed code with a construction has the angle the list states.
    #[test]
    fn listed_angles_agree_with_constructions() {
        let find = |n: usize, name: &str| {
            known_codes(n)
                .unwrap()
                .into_iter()
                .find(|c| c.name == name)
                .unwrap()
        };
        assert_close(
            find(4, "24-cell (D4 roots)").theta,
            min_angle(&d4_roots()),
            1e-12,
        );
        assert_close(find(4, "600-cell").theta, min_angle(&cell_600()), 1e-10);
        assert_close(find(8, "E8 roots").theta, min_angle(&e8_roots()), 1e-12);
        let bw = barnes_wall_16_min();
        assert_close(
            find(16, "Barnes-Wall minimal vectors").theta,
            min_angle(&bw),
            1e-12,
        );
        assert_eq!(find(16, "Barnes-Wall minimal vectors").points, bw.len());
        for n in [2usize, 5, 9] {
            assert_close(find(n, "simplex").theta, min_angle(&simplex(n)), 1e-12);
        }
    }

    /// Rankin's simplex bound (bounds.md §4): `N` points with all inner products `≤ s < 0` number
    /// at most `1 − 1/s`; the simplex attains it, and no tabulated Tammes code beats its own
    /// Rankin bound.
    #[test]
    fn tammes_table_respects_rankin() {
        for r in tammes_table() {
            let s = r.min_angle.cos();
            if s < -1e-12 {
                assert!(r.points as f64 <= 1.0 - 1.0 / s + 1e-9, "N = {}", r.points);
            }
        }
    }

    /// How good the θ law is on the known codes. The band asserted, and why:
    ///
    /// * `n = 2`: the small-angle law is exact, `θ = 2π/D` (ratio 1 to 1e-12); the chord form
    ///   overestimates there (triangle: 1.052).
    /// * Small-angle form, n = 2..12 and 24: the caps of radius `θ/2` are treated as flat balls,
    ///   which undercounts the cap area at large angles, so the law underestimates codes with
    ///   very few points: observed minimum 0.857 (Tammes N = 2, two antipodal points in R³, where
    ///   the law gives 154° for 180°). It overestimates where the flat lattice packs better than
    ///   the curved sphere allows: observed maximum 1.085 (Tammes N = 5: 97.6° for 90°).
    ///   E8: 0.966, 600-cell: 0.979, 24-cell: 1.004.
    /// * Chord form `4 asin(θ/4)`: never below the small-angle form; observed 0.917 (n = 12
    ///   cross-polytope) to 1.120 (Tammes N = 5).
    /// * The simplex and cross-polytope ratios fall with n (0.90 at n = 12, 0.84 at n = 48) and
    ///   beyond the table, where γ is only a lower bound, tend to `2/π`: with Minkowski–Hlawka
    ///   `ξ → 1`, so the law gives `θ → 1 rad` for `D = 2n` against the true `π/2`.
    ///
    /// The asserted bands are regression guards on these observations; a wrong `γ`, `S_{n−1}`
    /// or exponent moves some ratio by far more (e.g. using `γ_n` for `γ_{n−1}` changes E8's
    /// ratio by 4 %).
    #[test]
    fn law_ratios_lie_in_the_documented_band() {
        let mut lo = f64::INFINITY;
        let mut hi = 0.0f64;
        let mut lo_u = f64::INFINITY;
        let mut hi_u = 0.0f64;
        for n in (2..=12).chain([24]) {
            for c in known_codes(n).unwrap() {
                let r = compare(&c).unwrap();
                assert!(r.theta_upper >= r.theta);
                if n == 2 {
                    assert_close(r.ratio, 1.0, 1e-12);
                }
                lo = lo.min(r.ratio);
                hi = hi.max(r.ratio);
                lo_u = lo_u.min(r.ratio_upper);
                hi_u = hi_u.max(r.ratio_upper);
            }
        }
        assert!((0.855..0.86).contains(&lo), "min ratio {lo}");
        assert!((1.08..1.09).contains(&hi), "max ratio {hi}");
        assert!((0.91..0.92).contains(&lo_u), "min chord ratio {lo_u}");
        assert!((1.115..1.125).contains(&hi_u), "max chord ratio {hi_u}");
        let e8 = known_codes(8)
            .unwrap()
            .into_iter()
            .find(|c| c.name == "E8 roots");
        let r = compare(&e8.unwrap()).unwrap();
        assert!((0.96..0.97).contains(&r.ratio), "E8 {}", r.ratio);
        // Large n: ξ → 1 (Minkowski–Hlawka), θ → 1 rad, ratio → 2/π for the cross-polytope.
        let far = known_codes(100_000).unwrap();
        let r = compare(&far[1]).unwrap();
        assert!((r.ratio - 2.0 / PI).abs() < 1e-3, "{}", r.ratio);
    }

    /// Levenshtein's bound against the values of `bounds.md` §5 (computed there with an
    /// independent mpmath implementation) and the closed forms `L_1`, `L_2`, `L_3`.
    #[test]
    fn levenshtein_reference_values() {
        let l = |n: usize, s: f64| ln_levenshtein_bound(n, s).unwrap().exp();
        assert_close(l(3, 0.5), 13.285_714_285_7, 1e-10);
        assert_close(l(4, 0.5), 26.0, 1e-10);
        assert_close(l(5, 0.5), 48.0, 1e-10);
        assert_close(l(8, 0.5), 240.0, 1e-10);
        assert_close(l(24, 0.5), 196_560.0, 1e-10);
        assert_close(l(3, 1.0 / 5f64.sqrt()), 12.0, 1e-10);
        assert_close(l(5, 0.2), 16.0, 1e-10);
        assert_close(l(4, 1.0 / 6.0), 10.625, 1e-10);
        assert!((l(4, 36f64.to_radians().cos()) - 121.674).abs() < 1e-3);
        for n in [3usize, 7, 30] {
            let nf = n as f64;
            for s in [-0.9, -0.6] {
                if s <= -1.0 / nf {
                    assert_close(l(n, s), (s - 1.0) / s, 1e-10);
                }
            }
            let s = -0.5 / nf;
            assert_close(l(n, s), 2.0 * nf * (1.0 - s) / (1.0 - nf * s), 1e-10);
            let s = 0.5 * ((nf + 3.0).sqrt() - 1.0) / (nf + 2.0);
            assert_close(
                l(n, s),
                nf * (1.0 - s) * (2.0 + (nf + 1.0) * s) / (1.0 - nf * s * s),
                1e-10,
            );
        }
    }

    /// The bound is an upper bound: never below the kissing table's best construction, never
    /// below its (SDP) upper bound (which improves on the LP bound), and increasing in s.
    #[test]
    fn levenshtein_bounds_the_kissing_table() {
        for d in 3..=32 {
            let r = crate::packing::kissing_row(d).unwrap();
            let l = ln_levenshtein_bound(d, 0.5).unwrap().exp();
            assert!(
                l >= r.upper as f64 * (1.0 - 1e-12),
                "d = {d}: {l} < {}",
                r.upper
            );
        }
        let mut last = 0.0;
        for s in [0.1, 0.3, 0.5, 0.7, 0.9] {
            let l = ln_levenshtein_bound(40, s).unwrap();
            assert!(l > last);
            last = l;
        }
        // Large d: (1/d) log2 L(d, ½) decreases to the Kabatiansky–Levenshtein kissing rate
        // 0.4014135461 (bounds.md §5): 0.4361 at d = 10^3, 0.4032 at d = 10^5.
        let rate = |d: usize| ln_levenshtein_bound(d, 0.5).unwrap() / (d as f64 * LN_2);
        let (r3, r5) = (rate(1000), rate(100_000));
        assert!(r5 < r3 && r5 > 0.401_413 && r5 < 0.404, "{r3} {r5}");
    }

    #[test]
    fn rejects_n_below_two() {
        assert!(known_codes(1).is_err());
        assert!(known_codes(0).is_err());
    }
}
