//! Levenshtein's universal upper bound on spherical codes, shared by [`crate::packing`] (the
//! kissing-number bounds) and [`crate::codes`] (the known codes' optimality), so that neither
//! imports the other.

use crate::error::{Error, Result};

/// Three-term recurrence coefficients `(α_j, β_j)` of the monic Jacobi polynomials
/// `P^{(a,b)}`: `p_{j+1}(x) = (x − α_j) p_j(x) − β_j p_{j−1}(x)` (Gautschi, *Orthogonal
/// Polynomials*, Table 1.1).
fn jacobi_coefficients(a: f64, b: f64, j: usize) -> (f64, f64) {
    let jf = j as f64;
    let s = 2.0 * jf + a + b;
    let alpha = if j == 0 {
        (b - a) / (a + b + 2.0)
    } else {
        (b * b - a * a) / (s * (s + 2.0))
    };
    let beta = if j == 0 {
        0.0
    } else if j == 1 {
        4.0 * (1.0 + a) * (1.0 + b) / ((2.0 + a + b).powi(2) * (3.0 + a + b))
    } else {
        4.0 * jf * (jf + a) * (jf + b) * (jf + a + b) / (s * s * (s + 1.0) * (s - 1.0))
    };
    (alpha, beta)
}

/// Number of zeros of the Jacobi polynomial `P_k^{(a,b)}` above `x` (`k ≥ 1`): the sign
/// changes of the Sturm sequence `p_0(x), …, p_k(x)`, one `O(k)` pass.
fn jacobi_zeros_above(a: f64, b: f64, k: usize, x: f64) -> usize {
    let mut count = 0;
    let (a0, _) = jacobi_coefficients(a, b, 0);
    let mut r = x - a0; // p_1 / p_0
    if r < 0.0 {
        count += 1;
    }
    for j in 1..k {
        if r == 0.0 {
            r = f64::MIN_POSITIVE;
        }
        let (aj, bj) = jacobi_coefficients(a, b, j);
        r = (x - aj) - bj / r; // p_{j+1} / p_j
        if r < 0.0 {
            count += 1;
        }
    }
    count
}

/// Ratios `ρ_j = P_j(t) / P_{j−1}(t)`, `j = 1..=k`, of the Gegenbauer polynomials for `S^{n−1}`
/// normalised by `P_j(1) = 1` (ratios, because the values themselves underflow for large n).
///
/// # Formula
///
/// `P_0 = 1`, `P_1 = t`, `(j + n − 2) P_{j+1} = (2j + n − 2) t P_j − j P_{j−1}` (so
/// `P_2 = (n t² − 1)/(n − 1)`), hence `ρ_1 = t`,
/// `ρ_{j+1} = ((2j + n − 2) t − j/ρ_j) / (j + n − 2)`.
fn gegenbauer_ratios(n: usize, k: usize, t: f64) -> Vec<f64> {
    let nf = n as f64;
    let mut rho = vec![f64::NAN, t];
    for j in 1..k {
        let jf = j as f64;
        let prev = if rho[j] == 0.0 {
            f64::MIN_POSITIVE
        } else {
            rho[j]
        };
        rho.push(((2.0 * jf + nf - 2.0) * t - jf / prev) / (jf + nf - 2.0));
    }
    rho.truncate(k + 1);
    rho
}

fn ln_binomial(top: f64, k: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    ln_gamma(top + 1.0) - ln_gamma(k + 1.0) - ln_gamma(top - k + 1.0)
}

/// `ln` of Levenshtein's universal upper bound `L(n, s)` on the number of points of `S^{n−1}`
/// with pairwise inner products at most `s` (`n ≥ 3`, `−1 ≤ s < 1`): `A(n, s) ≤ L(n, s)`.
///
/// # Formula
///
/// With `α = (n−3)/2`, `P_k` the Gegenbauer polynomial normalised by `P_k(1) = 1`, and
/// `t_k^{1,0}`, `t_k^{1,1}` the largest zeros of the Jacobi polynomials `P_k^{(α+1, α)}` and
/// `P_k^{(α+1, α+1)}` (`t_0^{1,1} = −1`):
///
/// ```text
/// L_{2k−1}(n,s) = C(k+n−3, k−1) [ (2k+n−3)/(n−1) − (P_{k−1}(s) − P_k(s)) / ((1−s) P_k(s)) ]
///                 for t_{k−1}^{1,1} ≤ s ≤ t_k^{1,0}
/// L_{2k}(n,s)   = C(k+n−2, k)   [ (2k+n−1)/(n−1)
///                 − (1+s)(P_k(s) − P_{k+1}(s)) / ((1−s)(P_k(s) + P_{k+1}(s))) ]
///                 for t_k^{1,0} ≤ s ≤ t_k^{1,1}
/// ```
///
/// V. I. Levenshtein, "Universal bounds for codes and designs", Handbook of Coding Theory
/// (1998); the project's `bounds.md` §5 (whose check values the tests reproduce:
/// `L(8, ½) = 240`, `L(24, ½) = 196560`, `L(4, cos 36°) = 121.674`, …). The interval is found
/// by bisection over `k` (the zeros increase with `k`).
pub fn ln_levenshtein_bound(n: usize, s: f64) -> Result<f64> {
    if n < 3 {
        return Err(Error::invalid(
            "dimension n",
            "Levenshtein's bound needs n ≥ 3",
        ));
    }
    if !(-1.0..1.0).contains(&s) {
        return Err(Error::invalid(
            "inner product s",
            format!("{s} must lie in [−1, 1)"),
        ));
    }
    let al = 0.5 * (n as f64 - 3.0);
    // `t_k^{1,0} < s` and `s ≥ t_k^{1,1}`, each one Sturm count at s (no zero above s) rather
    // than a bisection for the zero.
    let t10_below = |k: usize| jacobi_zeros_above(al + 1.0, al, k, s) == 0;
    let t11_at_most = |k: usize| k == 0 || jacobi_zeros_above(al + 1.0, al + 1.0, k, s) == 0;
    // Smallest k ≥ 1 with s ≤ t_k^{1,0}: grow, then bisect.
    let mut hi = 1usize;
    while t10_below(hi) {
        hi *= 2;
        if hi > 1 << 24 {
            return Err(Error::Numerical(format!(
                "Levenshtein bound: no interval found for n = {n}, s = {s}"
            )));
        }
    }
    let mut lo = hi / 2; // t10(lo) < s, or lo = 0
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if t10_below(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let k = hi;
    let nf = n as f64;
    let (ln_c, bracket) = if k == 1 || t11_at_most(k - 1) {
        // L_{2k−1}
        // (P_{k−1} − P_k)/P_k = 1/ρ_k − 1
        let rho = gegenbauer_ratios(n, k, s);
        let kf = k as f64;
        let br = (2.0 * kf + nf - 3.0) / (nf - 1.0) - (1.0 / rho[k] - 1.0) / (1.0 - s);
        (ln_binomial(kf + nf - 3.0, kf - 1.0), br)
    } else {
        // L_{2(k−1)}
        let k = k - 1;
        // (P_k − P_{k+1})/(P_k + P_{k+1}) = (1 − ρ_{k+1})/(1 + ρ_{k+1})
        let rho = gegenbauer_ratios(n, k + 1, s);
        let kf = k as f64;
        let r = rho[k + 1];
        let br =
            (2.0 * kf + nf - 1.0) / (nf - 1.0) - (1.0 + s) * (1.0 - r) / ((1.0 - s) * (1.0 + r));
        (ln_binomial(kf + nf - 2.0, kf), br)
    };
    if !(bracket > 0.0 && bracket.is_finite()) {
        return Err(Error::Numerical(format!(
            "Levenshtein bound: bracket {bracket} at n = {n}, s = {s}"
        )));
    }
    Ok(ln_c + bracket.ln())
}
