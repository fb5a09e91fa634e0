//! Hypersphere geometry in log space.
//!
//! Everything here is computed through `ln Γ`, so it stays finite for `n = 10^6` and beyond;
//! the plain values are returned as `Option<f64>` and are `None` when they under- or overflow a
//! double.

use statrs::function::gamma::ln_gamma;
use std::f64::consts::PI;

use crate::error::{Error, Result};

/// `ln V_d`, the log volume of the unit ball in `R^d`.
///
/// # Formula
///
/// `V_d = π^{d/2} / Γ(d/2 + 1)` (any real `d ≥ 0`; `V_0 = 1`).
pub fn ln_ball_volume(d: f64) -> f64 {
    0.5 * d * PI.ln() - ln_gamma(0.5 * d + 1.0)
}

/// `V_d` if it is a normal double, else `None` (it underflows near `d ≈ 1400`).
pub fn ball_volume(d: f64) -> Option<f64> {
    exp_checked(ln_ball_volume(d))
}

/// `ln S_{n-1}`, the log area of the unit sphere `S^{n-1} ⊂ R^n` (`n ≥ 1`).
///
/// # Formula
///
/// `S_{n-1} = 2 π^{n/2} / Γ(n/2)`; `S_0 = 2` (two points), `S_1 = 2π`, `S_2 = 4π`.
pub fn ln_sphere_area(n: f64) -> f64 {
    std::f64::consts::LN_2 + 0.5 * n * PI.ln() - ln_gamma(0.5 * n)
}

/// `S_{n-1}` if it is a normal double, else `None`.
pub fn sphere_area(n: f64) -> Option<f64> {
    exp_checked(ln_sphere_area(n))
}

/// `ln` of the normalising constant of the angle density on `S^{n-1}` (`n ≥ 2`):
/// `ln[Γ(n/2) / (√π Γ((n−1)/2))]`.
pub fn ln_angle_density_norm(n: f64) -> f64 {
    ln_gamma(0.5 * n) - 0.5 * PI.ln() - ln_gamma(0.5 * (n - 1.0))
}

/// Density of the angle between two independent uniform points of `S^{n-1}` (`n ≥ 2`).
///
/// # Formula
///
/// `p(θ) = Γ(n/2) / (√π Γ((n−1)/2)) · sin^{n−2} θ`, `θ ∈ [0, π]`; for `n = 2` it is `1/π`.
/// It integrates to 1 over `[0, π]` (checked in the tests).
pub fn angle_density(n: usize, theta: f64) -> f64 {
    if !(0.0..=PI).contains(&theta) || n < 2 {
        return 0.0;
    }
    let n = n as f64;
    let s = theta.sin();
    if n == 2.0 {
        return 1.0 / PI;
    }
    if s <= 0.0 {
        return 0.0;
    }
    (ln_angle_density_norm(n) + (n - 2.0) * s.ln()).exp()
}

/// Checks a model dimension `n ≥ 1`.
pub fn check_dim(n: usize) -> Result<usize> {
    if n == 0 {
        Err(Error::invalid("dimension n", "must be at least 1"))
    } else {
        Ok(n)
    }
}

/// `exp(x)` when it is a normal, finite, non-zero double.
pub fn exp_checked(x: f64) -> Option<f64> {
    let v = x.exp();
    (v.is_normal()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::{assert_close, REL_TIGHT};

    #[test]
    fn ball_volumes_match_closed_forms() {
        assert_close(ball_volume(0.0).unwrap(), 1.0, REL_TIGHT);
        assert_close(ball_volume(1.0).unwrap(), 2.0, REL_TIGHT);
        assert_close(ball_volume(2.0).unwrap(), PI, REL_TIGHT);
        assert_close(ball_volume(3.0).unwrap(), 4.0 * PI / 3.0, REL_TIGHT);
        assert_close(ball_volume(4.0).unwrap(), PI * PI / 2.0, REL_TIGHT);
        assert_close(ball_volume(8.0).unwrap(), PI.powi(4) / 24.0, REL_TIGHT);
        // V_24 = π^12 / 12!
        assert_close(
            ball_volume(24.0).unwrap(),
            PI.powi(12) / 479_001_600.0,
            REL_TIGHT,
        );
    }

    #[test]
    fn sphere_areas_match_closed_forms() {
        assert_close(sphere_area(1.0).unwrap(), 2.0, REL_TIGHT);
        assert_close(sphere_area(2.0).unwrap(), 2.0 * PI, REL_TIGHT);
        assert_close(sphere_area(3.0).unwrap(), 4.0 * PI, REL_TIGHT);
        assert_close(sphere_area(4.0).unwrap(), 2.0 * PI * PI, REL_TIGHT);
        // S_{n-1} = n V_n
        for n in 1..60 {
            let n = n as f64;
            assert_close(ln_sphere_area(n), n.ln() + ln_ball_volume(n), REL_TIGHT);
        }
    }

    #[test]
    fn finite_at_a_million_dimensions() {
        let n = 1.0e6;
        let lv = ln_ball_volume(n - 1.0);
        let ls = ln_sphere_area(n);
        assert!(lv.is_finite() && ls.is_finite());
        assert!(ball_volume(n - 1.0).is_none());
        assert!(sphere_area(n).is_none());
        // Stirling: ln V_d ≈ (d/2) ln(2πe/d) − ½ ln(dπ) to O(1/d).
        let d = n - 1.0;
        let stirling = 0.5 * d * (2.0 * PI * std::f64::consts::E / d).ln() - 0.5 * (d * PI).ln();
        assert!((lv - stirling).abs() < 1e-5, "{lv} vs {stirling}");
    }

    #[test]
    fn angle_density_integrates_to_one() {
        for n in [2usize, 3, 4, 8, 50, 1000] {
            let m = 20_000;
            let h = PI / m as f64;
            // Simpson's rule.
            let mut s = angle_density(n, 0.0) + angle_density(n, PI);
            for i in 1..m {
                let w = if i % 2 == 1 { 4.0 } else { 2.0 };
                s += w * angle_density(n, i as f64 * h);
            }
            assert_close(s * h / 3.0, 1.0, 1e-8);
        }
        // n = 3: p(θ) = sin θ / 2.
        assert_close(angle_density(3, 1.0), 1.0f64.sin() / 2.0, REL_TIGHT);
    }
}
