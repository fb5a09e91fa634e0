//! The random-code baseline: how close the nearest of `N` random directions comes, per point
//! ([`expected_max_abs_cos`]) and over all pairs ([`random_code_max_cos`], the code's coherence).
//!
//! Draw `N` i.i.d. uniform unit vectors in `R^n`. For one of them, the `|cos|` to each of the
//! other `N − 1` is an independent draw from the law of `|⟨u, e_1⟩|` for uniform `u`, whose
//! distribution function is
//!
//! ```text
//! F(t) = P(|cos| ≤ t) = I_{t²}(½, (n−1)/2),    q(t) = 1 − F(t) = I_{1−t²}((n−1)/2, ½)
//! ```
//!
//! (`I` is the regularized incomplete beta function; `cos²` of a uniform direction is
//! `Beta(½, (n−1)/2)`). The expected largest `|cos|` to the nearest other vector is then
//!
//! ```text
//! E(n, N) = E[max_{j≠i} |cos θ_ij|] = ∫₀¹ 1 − F(t)^{N−1} dt.
//! ```
//!
//! A packing with minimal angle `θ` has largest `cos θ`, so `cos θ` next to `E(n, N)` shows how
//! much a packing beats random directions.
//!
//! # Numerics
//!
//! Everything is done in log space so that `N = 10^13` and `n` in the millions work:
//! `ln q` (or `ln F`, whichever is the smaller side) comes from the continued fraction for the
//! incomplete beta function with its prefactor taken in logs (Numerical Recipes §6.4, modified
//! Lentz), the other side from `ln_1p`, and `F^{N−1} = exp((N−1) ln F)` with `1 − exp(y)` as
//! `−expm1(y)`. The integrand is 1 up to a sharp transition where `(N−1) q(t) ≈ 1` and
//! negligible after it; both edges are found by bisection on `ln((N−1) q(t))` and only the
//! window between them is integrated, by adaptive Gauss–Legendre quadrature.

use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use statrs::function::gamma::ln_gamma;

use crate::error::{Error, Result};

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a+b)`.
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Continued fraction of the incomplete beta function (Numerical Recipes `betacf`, modified
/// Lentz); converges fast for `x < (a+1)/(a+b+2)`.
fn beta_cf(a: f64, b: f64, x: f64) -> Result<f64> {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let max_iter = 10_000 + (20.0 * a.max(b).sqrt()) as usize;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=max_iter {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            return Ok(h);
        }
    }
    Err(Error::Numerical(format!(
        "incomplete beta continued fraction did not converge (a = {a}, b = {b}, x = {x})"
    )))
}

/// `ln I_x(a, b)` by the continued fraction, given `ln x` and `ln(1 − x)` separately (so that
/// `x` close to 1 loses nothing). Valid (fast) for `x < (a+1)/(a+b+2)`.
///
/// # Formula
///
/// `I_x(a, b) = x^a (1−x)^b / (a B(a, b)) · CF(a, b, x)` (Numerical Recipes §6.4).
fn ln_beta_reg_cf(a: f64, b: f64, x: f64, ln_x: f64, ln_1mx: f64) -> Result<f64> {
    let cf = beta_cf(a, b, x)?;
    Ok(a * ln_x + b * ln_1mx - ln_beta(a, b) - a.ln() + cf.ln())
}

/// `(ln F(t), ln q(t))` for `|cos|` in `R^n` (`n ≥ 2`, `0 < t < 1`): `F(t) = P(|cos| ≤ t)`,
/// `q = 1 − F`. One side comes from the continued fraction, the other from `ln_1p`.
///
/// # Formula
///
/// `F(t) = I_{t²}(½, (n−1)/2)`, `q(t) = I_{1−t²}((n−1)/2, ½)`; the continued fraction is used
/// for `F` when `t² < 3/(n+4)` and for `q` otherwise (the two conditions `x < (a+1)/(a+b+2)`).
pub fn ln_abs_cos_cdf(n: usize, t: f64) -> Result<(f64, f64)> {
    if n < 2 || !(t > 0.0 && t < 1.0) {
        return Err(Error::invalid(
            "|cos| distribution",
            format!("needs n ≥ 2 and 0 < t < 1 (n = {n}, t = {t})"),
        ));
    }
    let t2 = t * t;
    ln_cdf_parts(n, t2, 2.0 * t.ln(), 1.0 - t2, (-t2).ln_1p())
}

/// Core of [`ln_abs_cos_cdf`] from `t²`, `ln t²`, `s² = 1 − t²` and `ln s²`, each supplied
/// accurately by the caller (an angle gives `s² = sin²θ` without cancellation).
fn ln_cdf_parts(n: usize, t2: f64, ln_t2: f64, s2: f64, ln_s2: f64) -> Result<(f64, f64)> {
    let b = 0.5 * (n as f64 - 1.0);
    if t2 < 3.0 / (n as f64 + 4.0) {
        let ln_f = ln_beta_reg_cf(0.5, b, t2, ln_t2, ln_s2)?.min(0.0);
        Ok((ln_f, ln_one_minus_exp(ln_f)))
    } else {
        let ln_q = ln_beta_reg_cf(b, 0.5, s2, ln_s2, ln_t2)?.min(0.0);
        Ok((ln_one_minus_exp(ln_q), ln_q))
    }
}

/// `ln(1 − e^y)` for `y ≤ 0`, accurately on both sides (Mächler 2012).
fn ln_one_minus_exp(y: f64) -> f64 {
    if y > -std::f64::consts::LN_2 {
        (-y.exp_m1()).ln()
    } else {
        (-y.exp()).ln_1p()
    }
}

/// Gauss–Legendre nodes and weights on `[−1, 1]` (Newton on `P_m`; Golub & Welsch accuracy).
fn gauss_legendre(m: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(m);
    for i in 0..m {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (m as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=m {
                let k = k as f64;
                let p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            dp = m as f64 * (x * p1 - p0) / (x * x - 1.0);
            let dx = p1 / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        out.push((x, 2.0 / ((1.0 - x * x) * dp * dp)));
    }
    out
}

fn gl_panel(
    f: &mut dyn FnMut(f64) -> Result<f64>,
    a: f64,
    b: f64,
    rule: &[(f64, f64)],
) -> Result<f64> {
    let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
    let mut s = 0.0;
    for &(x, w) in rule {
        s += w * f(mid + half * x)?;
    }
    Ok(s * half)
}

/// Adaptive Gauss–Legendre: a panel is accepted when it agrees with the sum of its halves to
/// `tol` (absolute), else both halves are refined.
fn adaptive(
    f: &mut dyn FnMut(f64) -> Result<f64>,
    a: f64,
    b: f64,
    whole: f64,
    tol: f64,
    depth: usize,
    rule: &[(f64, f64)],
) -> Result<f64> {
    let m = 0.5 * (a + b);
    let left = gl_panel(f, a, m, rule)?;
    let right = gl_panel(f, m, b, rule)?;
    if (left + right - whole).abs() <= tol || depth == 0 {
        return Ok(left + right);
    }
    Ok(adaptive(f, a, m, left, 0.5 * tol, depth - 1, rule)?
        + adaptive(f, m, b, right, 0.5 * tol, depth - 1, rule)?)
}

/// Checks `n ≥ 1` and `N ≥ 2` (finite).
fn check(n: usize, features: f64) -> Result<()> {
    if n == 0 {
        return Err(Error::invalid("dimension n", "must be at least 1"));
    }
    if !features.is_finite() || features < 2.0 {
        return Err(Error::invalid(
            "number of vectors N",
            format!("{features} must be a finite number ≥ 2 (one vector has no nearest other)"),
        ));
    }
    Ok(())
}

/// `ln_count + ln q(t)`, `q(t) = P(|cos| > t)` for one pair of random unit vectors in `R^n`
/// (`ln_count` at `t ≤ 0`, `−∞` at `t ≥ 1`).
fn ln_tail(n: usize, ln_count: f64, t: f64) -> Result<f64> {
    if t <= 0.0 {
        return Ok(ln_count);
    }
    if t >= 1.0 {
        return Ok(f64::NEG_INFINITY);
    }
    Ok(ln_count + ln_abs_cos_cdf(n, t)?.1)
}

/// The `t ∈ [0, 1]` at which `ln_count + ln q(t)` falls to `level`, where
/// `q(t) = P(|cos| > t)` for one pair of random unit vectors in `R^n`; `0` when it is already
/// below `level` at `t = 0`. Bisection (the function decreases from `ln_count` to `−∞`).
fn ln_tail_root(n: usize, ln_count: f64, level: f64) -> Result<f64> {
    let h = |t: f64| ln_tail(n, ln_count, t);
    if h(0.0)? <= level {
        return Ok(0.0);
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if h(mid)? > level {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

/// The expected largest `|cos|` between one of `N` i.i.d. uniform unit vectors in `R^n` and its
/// nearest other vector.
///
/// # Formula
///
/// `E(n, N) = ∫₀¹ 1 − I_{t²}(½, (n−1)/2)^{N−1} dt` (module docs). Closed forms used in the
/// tests: `n = 3`, `|cos|` is uniform (Archimedes), so `E = 1 − 1/N`; `n = 2`,
/// `F(t) = (2/π) asin t`; `N = 2`, `E = E|cos| = Γ(n/2) / (√π Γ((n+1)/2))`. `n = 1` gives 1.
///
/// `N` is real so that `10^13` and beyond are fine; `n` up to 10^6 works (the continued fraction
/// needs `O(√n)` terms). Accuracy about 1e-12 absolute.
pub fn expected_max_abs_cos(n: usize, features: f64) -> Result<f64> {
    check(n, features)?;
    if n == 1 {
        return Ok(1.0);
    }
    let k = features - 1.0; // N − 1 other vectors
    let ln_k = k.ln();
    // Below t_lo, (N−1) q ≥ 40 so F^{N−1} ≤ e^{−40} and the integrand is 1 to 4e-18;
    // above t_hi, the integrand is below (N−1) q ≤ 1e-17.
    let root = |level: f64| ln_tail_root(n, ln_k, level);
    let t_lo = root(40f64.ln())?;
    let t_hi = root(1e-17f64.ln())?.max(t_lo);
    let mut g = |t: f64| -> Result<f64> {
        if t <= 0.0 {
            return Ok(if k >= 1.0 { 1.0 } else { 0.0 });
        }
        if t >= 1.0 {
            return Ok(0.0);
        }
        let (ln_f, _) = ln_abs_cos_cdf(n, t)?;
        Ok(-(k * ln_f).exp_m1())
    };
    let rule = gauss_legendre(20);
    let mut total = t_lo;
    if t_hi > t_lo {
        let whole = gl_panel(&mut g, t_lo, t_hi, &rule)?;
        total += adaptive(&mut g, t_lo, t_hi, whole, 1e-13, 40, &rule)?;
    }
    if !total.is_finite() {
        return Err(Error::Numerical(format!(
            "random-code baseline not finite at n = {n}, N = {features}"
        )));
    }
    Ok(total.clamp(0.0, 1.0))
}

/// A random code's coherence: the expected largest `|cos|` over all `P = N(N−1)/2` pairs of
/// `N` i.i.d. uniform unit vectors in `R^n`, as an estimate inside a rigorous bracket.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CodeMaxCos {
    /// Poisson estimate `∫₀¹ 1 − exp(−P q(t)) dt`.
    pub estimate: f64,
    /// Rigorous lower bound `∫₀¹ P q / (1 + (P − 1) q) dt`.
    pub lower: f64,
    /// Rigorous upper bound `∫₀¹ min(1, P q) dt`.
    pub upper: f64,
}

/// Expected largest `|cos|` over all pairs of `N` i.i.d. uniform unit vectors in `R^n` (a
/// random code's coherence), `n ≥ 2`, `N ≥ 2` real (`10^13` and `n = 8192` are fine).
///
/// # Formula
///
/// With `M = max_{i<j} |cos θ_ij|`, `E M = ∫₀¹ P(M > t) dt`. The events
/// `A_ij = {|cos θ_ij| > t}` each have probability `q(t) = I_{1−t²}((n−1)/2, ½)` (module docs)
/// and are **pairwise independent** (given `u_i`, `⟨u_i, u_j⟩` and `⟨u_i, u_k⟩` are
/// independent and their law does not depend on `u_i`; disjoint pairs are independent). So with
/// `P = N(N−1)/2`:
///
/// ```text
/// upper:  P(∪A) ≤ min(1, P q)                                   (union bound)
/// lower:  P(∪A) ≥ (P q)² / Σ_{a,b} P(A_a ∩ A_b) = P q / (1 + (P − 1) q)
///                                         (second moment, Cauchy–Schwarz; pairwise independence)
/// estimate: P(∪A) ≈ 1 − exp(−P q)                               (Poisson limit)
/// ```
///
/// each integrated over `t ∈ [0, 1]`. The estimate is clamped into the bracket (with few pairs
/// the lower bound can exceed it: `P = 1` makes the lower bound exact, `∫ q = E|cos|`). The bracket's width is about `1.4 (1 − t*²)/((n − 1) t*)` at the
/// transition `P q(t*) = 1` (2 % of the value at n = 512, N = 10^6). Same numerics as
/// [`expected_max_abs_cos`]: `ln q` by the continued fraction, the transition window found by
/// bisection on `ln(P q)`, adaptive Gauss–Legendre inside it.
pub fn random_code_max_cos(n: usize, features: f64) -> Result<CodeMaxCos> {
    check(n, features)?;
    if n == 1 {
        return Ok(CodeMaxCos {
            estimate: 1.0,
            lower: 1.0,
            upper: 1.0,
        });
    }
    // ln P = ln N + ln(N − 1) − ln 2.
    let ln_p = features.ln() + (features - 1.0).ln() - std::f64::consts::LN_2;
    let h = |t: f64| ln_tail(n, ln_p, t);
    let root = |level: f64| ln_tail_root(n, ln_p, level);
    // Below t_lo, P q ≥ 1e17: every integrand is 1 to 1e-17. Above t_hi, P q ≤ 1e-17.
    let t_lo = root(1e17f64.ln())?;
    let t_hi = root(1e-17f64.ln())?.max(t_lo);
    let rule = gauss_legendre(20);
    let integrate = |f: &dyn Fn(f64) -> f64| -> Result<f64> {
        let mut g = |t: f64| -> Result<f64> {
            if t <= 0.0 {
                return Ok(f(ln_p));
            }
            if t >= 1.0 {
                return Ok(0.0);
            }
            Ok(f(h(t)?))
        };
        let mut total = t_lo;
        if t_hi > t_lo {
            let whole = gl_panel(&mut g, t_lo, t_hi, &rule)?;
            total += adaptive(&mut g, t_lo, t_hi, whole, 1e-13, 40, &rule)?;
        }
        if !total.is_finite() {
            return Err(Error::Numerical(format!(
                "random-code coherence not finite at n = {n}, N = {features}"
            )));
        }
        Ok(total.clamp(0.0, 1.0))
    };
    // In terms of y = ln(P q): x = e^y.
    let estimate = integrate(&|y: f64| -(-y.exp()).exp_m1())?;
    let upper = integrate(&|y: f64| y.exp().min(1.0))?;
    // P q/(1 + (P − 1) q) = x / (1 + x − q), with q = x/P; written as 1/(1 + e^{−y} − 1/P).
    let inv_p = (-ln_p).exp();
    let lower = integrate(&|y: f64| 1.0 / (1.0 + (-y).exp() - inv_p))?;
    let upper = upper.max(lower);
    Ok(CodeMaxCos {
        estimate: estimate.clamp(lower, upper),
        lower,
        upper,
    })
}

/// The arguments of the Monte Carlo estimates: a valid `(n, N)` and at least two trials (for a
/// standard error).
fn check_trials(n: usize, features: usize, trials: usize) -> Result<()> {
    check(n, features as f64)?;
    if trials < 2 {
        return Err(Error::invalid(
            "trials",
            "need at least 2 for a standard error",
        ));
    }
    Ok(())
}

/// Monte Carlo estimate of [`random_code_max_cos`]: `trials` independent codes of `N` Gaussian
/// vectors (normalised) in `R^n`, seeded ChaCha8; each contributes its largest `|cos|` over all
/// pairs. Returns `(mean, standard error)`.
pub fn monte_carlo_code_max_cos(
    n: usize,
    features: usize,
    trials: usize,
    seed: u64,
) -> Result<(f64, f64)> {
    check_trials(n, features, trials)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = vec![0.0f64; n * features];
    let mut maxima = Vec::with_capacity(trials);
    for _ in 0..trials {
        for p in v.chunks_mut(n) {
            let mut s = 0.0;
            for x in p.iter_mut() {
                *x = rng.sample::<f64, _>(StandardNormal);
                s += *x * *x;
            }
            let s = s.sqrt();
            p.iter_mut().for_each(|x| *x /= s);
        }
        let mut best = 0.0f64;
        for i in 0..features {
            let pi = &v[i * n..(i + 1) * n];
            for j in (i + 1)..features {
                let pj = &v[j * n..(j + 1) * n];
                best = best.max(pi.iter().zip(pj).map(|(a, b)| a * b).sum::<f64>().abs());
            }
        }
        maxima.push(best);
    }
    let t = trials as f64;
    let mean = maxima.iter().sum::<f64>() / t;
    let var = maxima.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (t - 1.0);
    Ok((mean, (var / t).sqrt()))
}

/// `ln μ(θ)`, the log of the normalised measure of a spherical cap of angular radius
/// `0 < θ ≤ π/2` on `S^{n−1}` (`n ≥ 2`).
///
/// # Formula
///
/// `μ(θ) = P(⟨u, e_1⟩ ≥ cos θ) = ½ q(cos θ) = ½ I_{sin²θ}((n−1)/2, ½)`.
pub fn ln_cap_measure(n: usize, theta: f64) -> Result<f64> {
    if n < 2 || !(theta > 0.0 && theta <= std::f64::consts::FRAC_PI_2) {
        return Err(Error::invalid(
            "cap",
            format!("needs n ≥ 2 and 0 < θ ≤ π/2 (n = {n}, θ = {theta})"),
        ));
    }
    let (s, t) = theta.sin_cos();
    if t <= 0.0 {
        return Ok(-std::f64::consts::LN_2);
    }
    let ln_q = ln_cdf_parts(n, t * t, 2.0 * t.ln(), s * s, 2.0 * s.ln())?.1;
    Ok(ln_q - std::f64::consts::LN_2)
}

/// `ln` of the greedy (saturation) lower bound on the number of points on `S^{n−1}` with
/// pairwise angles at least `θ`, `0 < θ ≤ π/2`: a rigorous lower bound on the capacity.
///
/// # Formula
///
/// `A(n, θ) ≥ 1/μ(θ)`: in a maximal code, the caps of angular radius `θ` around its points cover
/// the sphere (Chabauty 1953, Shannon 1959, Wyner 1965; `bounds.md` §5).
pub fn ln_capacity_greedy(n: usize, theta: f64) -> Result<f64> {
    Ok(-ln_cap_measure(n, theta)?)
}

/// The greedy lower bound on the best minimal angle of `D` points on `S^{n−1}` (`n ≥ 2`,
/// `D ≥ 2`): some code of `D` points has minimal angle at least this.
///
/// # Formula
///
/// `θ_g` solves `μ(θ_g) = 1/D` (then `A(n, θ_g) ≥ D` by [`ln_capacity_greedy`]); `D = 2` gives
/// `π` (two antipodal points). Found by bisection on `ln μ`. In terms of `|cos|`,
/// `q(cos θ_g) = 2/D`, next to the random code's `(N−1) q(t) ≈ 1`: the greedy guarantee and
/// the random baseline sit at nearly the same angle.
pub fn theta_greedy(n: usize, directions: f64) -> Result<f64> {
    check(n, directions)?;
    if n < 2 {
        return Err(Error::invalid("dimension n", "needs n ≥ 2"));
    }
    if directions <= 2.0 {
        return Ok(std::f64::consts::PI);
    }
    let target = -directions.ln();
    let (mut lo, mut hi) = (0.0f64, std::f64::consts::FRAC_PI_2);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if ln_cap_measure(n, mid)? > target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(lo)
}

/// Monte Carlo estimate of [`expected_max_abs_cos`]: `trials` independent sets of `N` Gaussian
/// vectors (normalised) in `R^n`, seeded ChaCha8. Returns `(mean, standard error)`, where each
/// trial contributes the average over its `N` vectors of the largest `|cos|` to the others, and
/// the standard error is the sample standard deviation of the trial means over `√trials`.
pub fn monte_carlo_max_abs_cos(
    n: usize,
    features: usize,
    trials: usize,
    seed: u64,
) -> Result<(f64, f64)> {
    check_trials(n, features, trials)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut means = Vec::with_capacity(trials);
    let mut v = vec![0.0f64; n * features];
    for _ in 0..trials {
        for p in v.chunks_mut(n) {
            let mut s = 0.0;
            for x in p.iter_mut() {
                *x = rng.sample::<f64, _>(StandardNormal);
                s += *x * *x;
            }
            let s = s.sqrt();
            p.iter_mut().for_each(|x| *x /= s);
        }
        let mut best = vec![0.0f64; features];
        for i in 0..features {
            let pi = &v[i * n..(i + 1) * n];
            for j in (i + 1)..features {
                let pj = &v[j * n..(j + 1) * n];
                let c = pi.iter().zip(pj).map(|(a, b)| a * b).sum::<f64>().abs();
                best[i] = best[i].max(c);
                best[j] = best[j].max(c);
            }
        }
        means.push(best.iter().sum::<f64>() / features as f64);
    }
    let t = trials as f64;
    let mean = means.iter().sum::<f64>() / t;
    let var = means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (t - 1.0);
    Ok((mean, (var / t).sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::assert_close;
    use std::f64::consts::PI;

    /// The all-pairs coherence: a Monte Carlo mean lies inside the rigorous bracket (to 4
    /// standard errors) and near the Poisson estimate; `N = 2` has one pair, so all three equal
    /// the per-point figure; the bracket is ordered and above the per-point figure.
    #[test]
    fn code_max_cos_brackets_monte_carlo() {
        for &(n, nf, trials) in &[(3usize, 20usize, 400usize), (8, 40, 300), (16, 100, 200)] {
            let b = random_code_max_cos(n, nf as f64).unwrap();
            let (mc, se) = monte_carlo_code_max_cos(n, nf, trials, 7).unwrap();
            assert!(
                mc >= b.lower - 4.0 * se && mc <= b.upper + 4.0 * se,
                "n={n} N={nf}: MC {mc} ± {se} outside [{}, {}]",
                b.lower,
                b.upper
            );
            assert!(
                (mc - b.estimate).abs() < 4.0 * se + 0.01,
                "{mc} vs {}",
                b.estimate
            );
            assert!(b.lower <= b.estimate && b.estimate <= b.upper);
            assert!(b.lower > expected_max_abs_cos(n, nf as f64).unwrap());
        }
        for n in [2usize, 5, 300] {
            let b = random_code_max_cos(n, 2.0).unwrap();
            let one = expected_max_abs_cos(n, 2.0).unwrap();
            assert_close(b.lower, one, 1e-9);
            assert_close(b.upper, one, 1e-9);
            assert_close(b.estimate, one, 1e-9);
        }
    }

    /// The README's figure: n = 512, N = 10^6 gives about 0.31 (the per-point figure is 0.22),
    /// with a bracket narrower than 3 %; N = 10^13 and n = 8192 work and stay ordered.
    #[test]
    fn code_max_cos_large_sizes() {
        let b = random_code_max_cos(512, 1e6).unwrap();
        assert!((0.30..0.32).contains(&b.estimate), "{b:?}");
        assert!(b.upper - b.lower < 0.03 * b.estimate, "{b:?}");
        assert!((0.21..0.23).contains(&expected_max_abs_cos(512, 1e6).unwrap()));
        let mut last = 0.0;
        for &(n, nf) in &[(8192usize, 1e13), (4096, 1e13), (512, 1e13), (3, 1e13)] {
            let b = random_code_max_cos(n, nf).unwrap();
            assert!(
                b.lower <= b.estimate && b.estimate <= b.upper && b.upper <= 1.0,
                "{b:?}"
            );
            assert!(b.estimate > last);
            last = b.estimate;
        }
        assert!(random_code_max_cos(4, 1.0).is_err());
        assert!(random_code_max_cos(4, f64::NAN).is_err());
    }

    /// `N = 2`: `E|cos| = Γ(n/2) / (√π Γ((n+1)/2))`.
    #[test]
    fn two_vectors_match_the_mean_abs_cos() {
        for n in [2usize, 3, 4, 8, 100, 8192] {
            let nf = n as f64;
            let exact = (ln_gamma(0.5 * nf) - 0.5 * PI.ln() - ln_gamma(0.5 * (nf + 1.0))).exp();
            assert_close(expected_max_abs_cos(n, 2.0).unwrap(), exact, 1e-10);
        }
    }

    /// `n = 3`: `|cos|` is uniform on [0, 1], so `E = 1 − 1/N` exactly, up to `N = 10^13`.
    #[test]
    fn three_dimensions_is_one_minus_one_over_n() {
        for big_n in [2.0, 3.0, 10.0, 1e3, 1e6, 1e9, 1e13] {
            let e = expected_max_abs_cos(3, big_n).unwrap();
            assert!((e - (1.0 - 1.0 / big_n)).abs() < 1e-11, "N = {big_n}: {e}");
        }
    }

    /// `n = 2`: `F(t) = (2/π) asin t`; with `t = sin(πu/2)`,
    /// `E = 1 − (π/2) ∫₀¹ u^{N−1} cos(πu/2) du`, an integral without any incomplete beta,
    /// done here by composite Gauss–Legendre.
    #[test]
    fn two_dimensions_match_the_angle_integral() {
        let rule = gauss_legendre(20);
        for big_n in [2usize, 3, 5, 50, 1000] {
            let panels = 2000;
            let mut s = 0.0;
            for p in 0..panels {
                let (a, b) = (p as f64 / panels as f64, (p + 1) as f64 / panels as f64);
                let mut f = |u: f64| Ok(u.powi(big_n as i32 - 1) * (0.5 * PI * u).cos());
                s += gl_panel(&mut f, a, b, &rule).unwrap();
            }
            let exact = 1.0 - 0.5 * PI * s;
            let e = expected_max_abs_cos(2, big_n as f64).unwrap();
            assert!((e - exact).abs() < 1e-11, "N = {big_n}: {e} vs {exact}");
        }
    }

    /// Against Monte Carlo at small sizes: within 4 standard errors (a 4σ miss has probability
    /// 6e-5 per case; the seeds are fixed, so the test is deterministic).
    #[test]
    fn matches_monte_carlo() {
        for (n, big_n, trials, seed) in [
            (4usize, 20usize, 400usize, 1u64),
            (8, 100, 100, 2),
            (32, 300, 30, 3),
        ] {
            let (mc, se) = monte_carlo_max_abs_cos(n, big_n, trials, seed).unwrap();
            let e = expected_max_abs_cos(n, big_n as f64).unwrap();
            assert!(
                (e - mc).abs() < 4.0 * se,
                "n = {n}, N = {big_n}: {e} vs MC {mc} ± {se}"
            );
            assert!(se < 0.01 * mc, "MC too noisy to be a check: {se}");
        }
    }

    /// Distribution function: `F(t) + q(t) = 1`, and against statrs' `beta_reg` where it has
    /// no underflow.
    #[test]
    fn cdf_sides_agree_with_statrs() {
        use statrs::function::beta::beta_reg;
        for n in [2usize, 3, 5, 17, 200] {
            for t in [0.01, 0.1, 0.3, 0.5, 0.9, 0.99] {
                let (lf, lq) = ln_abs_cos_cdf(n, t).unwrap();
                assert_close(lf.exp() + lq.exp(), 1.0, 1e-13);
                let f = beta_reg(0.5, 0.5 * (n as f64 - 1.0), t * t);
                assert!((lf.exp() - f).abs() < 1e-12, "n = {n}, t = {t}");
            }
        }
        // Deep tail in log space: q(0.9) in n = 8192 is about e^{−6800}.
        let (_, lq) = ln_abs_cos_cdf(8192, 0.9).unwrap();
        assert!(lq.is_finite() && lq < -6000.0);
    }

    /// Large sizes are finite, monotone in N and n, and of the expected order
    /// `sqrt(2 ln N / n)`.
    #[test]
    fn large_sizes() {
        let mut last = 0.0;
        for big_n in [1e3, 1e6, 1e9, 1e13] {
            let e = expected_max_abs_cos(8192, big_n).unwrap();
            assert!(e > last && e < 1.0);
            let rough = (2.0 * big_n.ln() / 8192.0).sqrt();
            assert!((e / rough - 1.0).abs() < 0.15, "{e} vs {rough}");
            last = e;
        }
        let a = expected_max_abs_cos(1_000_000, 1e13).unwrap();
        let b = expected_max_abs_cos(100_000, 1e13).unwrap();
        assert!(a.is_finite() && a < b);
    }

    /// Cap measures against closed forms: `n = 3`, `μ(θ) = (1 − cos θ)/2` (Archimedes); `n = 2`,
    /// `μ(θ) = θ/π`; the greedy bound against codes it must not beat (the simplex and
    /// cross-polytope are optimal, so `θ_g ≤` their angle) and the n = 3 closed form
    /// `cos θ_g = 1 − 2/D`.
    #[test]
    fn greedy_bound() {
        for th in [1e-9f64, 0.1, 0.7, 1.5] {
            // ½(1 − cos θ) = sin²(θ/2), written so that tiny θ keeps its digits.
            assert_close(
                ln_cap_measure(3, th).unwrap().exp(),
                (0.5 * th).sin().powi(2),
                1e-12,
            );
            assert_close(ln_cap_measure(2, th).unwrap().exp(), th / PI, 1e-12);
        }
        for d in [3.0, 10.0, 1e6] {
            assert_close(theta_greedy(3, d).unwrap().cos(), 1.0 - 2.0 / d, 1e-9);
        }
        for n in [3usize, 8, 24, 100] {
            assert!(theta_greedy(n, (n + 1) as f64).unwrap() <= (-1.0 / n as f64).acos());
            assert!(theta_greedy(n, (2 * n) as f64).unwrap() <= PI / 2.0);
        }
        // E8: 240 points at 60° exist; greedy guarantees less.
        assert!(theta_greedy(8, 240.0).unwrap() < PI / 3.0);
        assert!(ln_capacity_greedy(8, PI / 3.0).unwrap() < 240f64.ln());
        let t = theta_greedy(1_000_000, 1e13).unwrap();
        assert!(t.is_finite() && t > 1.5 && t < PI / 2.0);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(expected_max_abs_cos(0, 10.0).is_err());
        assert!(expected_max_abs_cos(3, 1.0).is_err());
        assert!(expected_max_abs_cos(3, f64::NAN).is_err());
        assert!(expected_max_abs_cos(3, f64::INFINITY).is_err());
        assert_eq!(expected_max_abs_cos(1, 10.0).unwrap(), 1.0);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            /// More vectors, larger expected nearest |cos|; more dimensions, smaller.
            #[test]
            fn monotone(n in 2usize..20_000, ln_n in 0.7f64..30.0, f in 1.5f64..100.0) {
                let big = ln_n.exp();
                let e1 = expected_max_abs_cos(n, big).unwrap();
                let e2 = expected_max_abs_cos(n, big * f).unwrap();
                prop_assert!(e2 > e1 && e2 <= 1.0 && e1 > 0.0);
                let e3 = expected_max_abs_cos(n + 1 + n / 4, big).unwrap();
                prop_assert!(e3 < e1);
            }
        }
    }
}
