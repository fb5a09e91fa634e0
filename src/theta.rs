//! The θ_min law: how far apart `D` directions on `S^{n−1}` can be, and its inverse, the capacity.
//!
//! # Formula
//!
//! The note packs `D` caps of angular radius `θ/2` on `S^{n−1}` (packing dimension `d = n−1`):
//! `D (θ/2)^d V_d = δ_d S_{n−1}`. With `γ_d = 4 (δ_d/V_d)^{2/d}` this rearranges exactly to
//!
//! ```text
//! θ          = sqrt(γ_d) · (S_{n−1} / D)^{1/d}          small-angle law
//! θ_upper    = 4 asin(θ / 4)                            chord variant, θ/2 → 2 sin(θ/4)
//! θ_asym     = sqrt(ξ_d) · (√2 / D)^{1/d}               Stirling form, D/√2 ≈ (sqrt(ξ_d)/θ)^d
//! ln D(θ)    = ln S_{n−1} + (d/2) ln γ_d − d ln θ       capacity (inverse of the small-angle law)
//! ```
//!
//! Angles are clamped to `π`, the largest angle two directions can make. For `n = 2` the
//! small-angle law is exact: `θ = 2π/D`.

use serde::Serialize;
use std::f64::consts::{LN_10, PI};

use crate::error::{finite, Error, Result};
use crate::packing::{hermite, xi, Hermite, Status};
use crate::sphere::{check_dim, exp_checked, ln_sphere_area};

/// A θ_min prediction for `D` directions in `R^n`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ThetaEstimate {
    /// Model dimension.
    pub n: usize,
    /// Number of directions `D` (may be `inf` when only `ln D` is representable).
    pub directions: f64,
    /// `ln D`.
    pub ln_directions: f64,
    /// Small-angle law with the tabulated (or bound) `γ_{n−1}`, radians.
    pub theta: f64,
    /// Chord variant `4 asin(θ/4)`, radians; never below `theta`.
    pub theta_upper: f64,
    /// Stirling asymptotic form with the same `ξ_{n−1}`, radians.
    pub theta_asymptotic: f64,
    /// Small-angle law with the lower figure of `γ` (what a known lattice achieves).
    pub theta_low: f64,
    /// Chord law with the upper figure of `γ` (from an upper bound on any packing's density).
    pub theta_high: f64,
    /// `ξ_{n−1} = 2πe γ_{n−1}/(n−1)` used.
    pub xi: f64,
    /// Source of `γ`: proven / best known / bound.
    pub source: Status,
}

/// Small-angle θ for `ln D` directions with Hermite constant `gamma` in `d = n − 1` dimensions.
pub fn theta_small_angle(n: usize, ln_directions: f64, gamma: f64) -> f64 {
    let d = (n - 1) as f64;
    let ln_theta = 0.5 * gamma.ln() + (ln_sphere_area(n as f64) - ln_directions) / d;
    ln_theta.exp().min(PI)
}

/// Chord variant `4 asin(θ/4)` of a small-angle θ, clamped to π.
pub fn chord(theta: f64) -> f64 {
    if theta >= 4.0 {
        PI
    } else {
        (4.0 * (theta / 4.0).asin()).min(PI)
    }
}

/// Stirling asymptotic form `θ = sqrt(ξ) (√2/D)^{1/d}`.
pub fn theta_asymptotic(n: usize, ln_directions: f64, xi: f64) -> f64 {
    let d = (n - 1) as f64;
    (0.5 * xi.ln() + (0.5 * std::f64::consts::LN_2 - ln_directions) / d)
        .exp()
        .min(PI)
}

fn check_n_for_law(n: usize) -> Result<()> {
    check_dim(n)?;
    if n < 2 {
        return Err(Error::invalid(
            "dimension n",
            "the θ law needs n ≥ 2 (on S^0 there are only two directions)",
        ));
    }
    Ok(())
}

/// Checks `D ≥ 1` (finite).
pub fn check_directions(directions: f64) -> Result<f64> {
    finite("number of directions D", directions)?;
    if directions < 1.0 {
        return Err(Error::invalid(
            "number of directions D",
            format!("{directions} must be at least 1"),
        ));
    }
    Ok(directions)
}

/// θ_min for `D` directions in `R^n` (all three forms, and the band from the density bounds).
pub fn theta_min(n: usize, directions: f64) -> Result<ThetaEstimate> {
    check_directions(directions)?;
    let mut t = theta_min_ln(n, directions.ln())?;
    t.directions = directions;
    Ok(t)
}

/// As [`theta_min`], from `ln D` (so that `D = 10^300` or more works).
pub fn theta_min_ln(n: usize, ln_directions: f64) -> Result<ThetaEstimate> {
    check_n_for_law(n)?;
    finite("ln D", ln_directions)?;
    if ln_directions < 0.0 {
        return Err(Error::invalid(
            "number of directions D",
            "must be at least 1",
        ));
    }
    let Hermite {
        value,
        lower,
        upper,
        status,
        ..
    } = hermite(n - 1)?;
    let theta = theta_small_angle(n, ln_directions, value);
    let x = xi(n - 1, value);
    Ok(ThetaEstimate {
        n,
        directions: ln_directions.exp(),
        ln_directions,
        theta,
        theta_upper: chord(theta),
        theta_asymptotic: theta_asymptotic(n, ln_directions, x),
        theta_low: theta_small_angle(n, ln_directions, lower),
        theta_high: chord(theta_small_angle(n, ln_directions, upper)),
        xi: x,
        source: status,
    })
}

/// The capacity `D(θ)`: how many directions fit at angular separation `θ` by the small-angle law.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Capacity {
    /// Model dimension.
    pub n: usize,
    /// Tolerance angle, radians.
    pub theta: f64,
    /// `log10 D`.
    pub log10_directions: f64,
    /// `D`, or `None` when it overflows a double.
    pub directions: Option<f64>,
    /// `log10 D` by the chord variant (`θ/2 → 2 sin(θ/4)`); fewer directions.
    pub log10_directions_chord: f64,
    /// `log10 D` with the lower figure of `γ`.
    pub log10_directions_low: f64,
    /// `log10 D` with the chord law and the upper figure of `γ`.
    pub log10_directions_high: f64,
    /// Rigorous lower bound on `log10 D`: the greedy (saturation) bound `A(n, θ) ≥ 1/μ(θ)`
    /// ([`crate::random_codes::ln_capacity_greedy`]); `None` for `θ > π/2`. Where the law falls
    /// below it (large n, θ ≳ 1 rad) the small-angle law is too pessimistic.
    pub log10_directions_greedy: Option<f64>,
    /// Source of `γ`.
    pub source: Status,
}

/// Checks `0 < θ < π`.
pub fn check_theta(theta: f64) -> Result<f64> {
    finite("angle θ", theta)?;
    if theta <= 0.0 || theta >= PI {
        return Err(Error::invalid(
            "angle θ",
            format!("{theta} rad must lie strictly between 0 and π"),
        ));
    }
    Ok(theta)
}

/// `ln D` of the small-angle law at half-chord `r` (`r = θ/2`, or `2 sin(θ/4)` for the chord form).
fn ln_capacity_at(n: usize, gamma: f64, half: f64) -> f64 {
    let d = (n - 1) as f64;
    // D (half)^d V_d = δ S  ⇔  D = S γ^{d/2} / (2 half)^d
    ln_sphere_area(n as f64) + 0.5 * d * gamma.ln() - d * (2.0 * half).ln()
}

/// `D(θ)` for `n ≥ 2` and `0 < θ < π`, in log10 with the plain value when it fits a double.
///
/// # Formula
///
/// `ln D = ln S_{n−1} + (d/2) ln γ_d − d ln θ` (the inverse of the small-angle law, so
/// `theta_min(n, D(θ)).theta = θ`); the chord form uses `4 sin(θ/4)` in place of `θ`.
pub fn capacity(n: usize, theta: f64) -> Result<Capacity> {
    check_n_for_law(n)?;
    check_theta(theta)?;
    let h = hermite(n - 1)?;
    let small = ln_capacity_at(n, h.value, theta / 2.0);
    let chord = ln_capacity_at(n, h.value, 2.0 * (theta / 4.0).sin());
    Ok(Capacity {
        n,
        theta,
        log10_directions: small / LN_10,
        directions: exp_checked(small),
        log10_directions_chord: chord / LN_10,
        log10_directions_low: ln_capacity_at(n, h.lower, theta / 2.0) / LN_10,
        log10_directions_high: ln_capacity_at(n, h.upper, 2.0 * (theta / 4.0).sin()) / LN_10,
        log10_directions_greedy: if theta <= PI / 2.0 {
            Some(crate::random_codes::ln_capacity_greedy(n, theta)? / LN_10)
        } else {
            None
        },
        source: h.status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::{assert_close, REL_TIGHT};

    #[test]
    fn exact_in_two_dimensions() {
        for d in [2.0, 3.0, 7.0, 100.0, 1e6] {
            let t = theta_min(2, d).unwrap();
            assert_close(t.theta, 2.0 * PI / d, REL_TIGHT);
            assert_eq!(t.source, Status::Proven);
        }
    }

    #[test]
    fn capacity_inverts_theta() {
        for n in [2usize, 3, 4, 8, 25, 100, 10_000] {
            for ln_d in [1.0, 5.0, 20.0, 200.0] {
                let t = theta_min_ln(n, ln_d).unwrap();
                if t.theta >= PI {
                    continue;
                }
                let c = capacity(n, t.theta).unwrap();
                assert_close(c.log10_directions * LN_10, ln_d, 1e-10);
            }
        }
    }

    #[test]
    fn works_at_a_million_dimensions() {
        let t = theta_min_ln(1_000_000, 1000.0).unwrap();
        assert!(t.theta.is_finite() && t.theta > 0.0 && t.theta < PI);
        assert_eq!(t.source, Status::Bound);
        let c = capacity(1_000_000, 0.5).unwrap();
        assert!(c.log10_directions.is_finite() && c.directions.is_none());
    }

    #[test]
    fn rejects_bad_input() {
        assert!(theta_min(0, 10.0).is_err());
        assert!(theta_min(1, 10.0).is_err());
        assert!(theta_min(3, 0.5).is_err());
        assert!(theta_min(3, f64::NAN).is_err());
        assert!(capacity(3, 0.0).is_err());
        assert!(capacity(3, PI).is_err());
        assert!(capacity(3, f64::NAN).is_err());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            /// θ does not grow with D at fixed n (strictly falls unless clamped at π).
            #[test]
            fn theta_falls_with_directions(n in 2usize..2000, ln_d in 0.0f64..500.0, step in 1e-3f64..50.0) {
                let a = theta_min_ln(n, ln_d).unwrap();
                let b = theta_min_ln(n, ln_d + step).unwrap();
                prop_assert!(b.theta <= a.theta);
                prop_assert!(b.theta_upper <= a.theta_upper);
                if a.theta < PI {
                    prop_assert!(b.theta < a.theta);
                }
            }

            /// The chord form is never below the small-angle form, and the density-bound band
            /// contains the law: θ_low ≤ θ ≤ θ_upper ≤ θ_high.
            #[test]
            fn forms_are_ordered(n in 2usize..100_000, ln_d in 0.0f64..1e4) {
                let t = theta_min_ln(n, ln_d).unwrap();
                prop_assert!(t.theta_upper >= t.theta);
                prop_assert!(t.theta_low <= t.theta);
                prop_assert!(t.theta_upper <= t.theta_high);
                prop_assert!(t.theta > 0.0 && t.theta_high <= PI);
            }

            /// Capacity inverts the law: capacity(n, θ(n, D)) = D.
            #[test]
            fn capacity_of_theta_is_d(n in 2usize..100_000, ln_d in 0.0f64..2000.0) {
                let t = theta_min_ln(n, ln_d).unwrap();
                prop_assume!(t.theta < PI);
                let c = capacity(n, t.theta).unwrap();
                let back = c.log10_directions * LN_10;
                prop_assert!((back - ln_d).abs() <= 1e-9 * ln_d.abs().max(1.0), "{} vs {}", back, ln_d);
            }

            /// Every form is finite and inside [0, π] up to n = 10^6, and positive unless the
            /// angle underflows a double (`ln θ ≈ −ln D / (n−1)` below −700, e.g. n = 2 with
            /// D = e^{10^5}).
            #[test]
            fn finite_up_to_a_million(n in 2usize..=1_000_000, ln_d in 0.0f64..1e6) {
                let t = theta_min_ln(n, ln_d).unwrap();
                let representable = ln_d < 600.0 * (n - 1) as f64;
                for x in [t.theta, t.theta_upper, t.theta_asymptotic, t.theta_low, t.theta_high, t.xi] {
                    prop_assert!(x.is_finite() && x >= 0.0);
                    prop_assert!(x > 0.0 || !representable);
                }
                prop_assert!(t.theta_high <= PI);
                let c = capacity(n, 0.5).unwrap();
                prop_assert!(c.log10_directions.is_finite() && c.log10_directions_high.is_finite());
            }

            /// The greedy lower bound never exceeds the true optimum where that is known
            /// (n = 2: the regular D-gon, 2π/D).
            #[test]
            fn greedy_below_polygons(d in 3usize..100_000) {
                let g = crate::random_codes::theta_greedy(2, d as f64).unwrap();
                prop_assert!(g <= 2.0 * PI / d as f64 * (1.0 + 1e-12));
            }
        }
    }
}
