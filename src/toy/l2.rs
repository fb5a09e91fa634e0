//! TEMPORARY stand-in for `crate::loss::Loss` (being written on branch `gain`): only L2, with the
//! same method signatures as the contract, so that switching is a one-line `use` change. This file
//! is deleted when `src/loss.rs` lands on main.

use crate::error::{Error, Result};

/// Loss of an error `e` (stand-in: L2 only).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Loss {
    /// `ρ(e) = e²`.
    L2,
}

impl std::str::FromStr for Loss {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "l2" => Ok(Loss::L2),
            other => Err(Error::invalid(
                "loss",
                format!("unknown loss '{other}' (expected l2)"),
            )),
        }
    }
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "l2")
    }
}

impl Loss {
    /// `ρ(e) = e²`.
    pub fn rho(&self, e: f64) -> f64 {
        e * e
    }
    /// `ρ'(e) = 2e`.
    pub fn drho(&self, e: f64) -> f64 {
        2.0 * e
    }
    /// `∫₀¹ ρ(x) dx = 1/3`.
    pub fn l0(&self) -> f64 {
        1.0 / 3.0
    }
    /// `R(a, b, t) = ∫₀¹ ((a x + b)₊ − t x)² dx` and its partials, `b ≤ 0`.
    ///
    /// # Formula
    ///
    /// With `s = −b/a` (the input at which the output switches on) and `p = a − t`:
    /// `R = t² s³/3 + ∫_s^1 (p x + b)² dx` if `a > 0` and `a + b > 0`, else `t²/3`.
    /// For `t = 0` this is SPEC §4's `cross(a, b) = (a + b)³/(3a)`.
    pub fn response(&self, a: f64, b: f64, t: f64) -> (f64, f64, f64) {
        if a <= 0.0 || a + b <= 0.0 {
            return (t * t / 3.0, 0.0, 0.0);
        }
        if t == 0.0 {
            let q = a + b;
            let (q2, inv) = (q * q, 1.0 / a);
            return (
                q2 * q * inv / 3.0,
                q2 * (2.0 * a - b) * inv * inv / 3.0,
                q2 * inv,
            );
        }
        let s = -b / a;
        let p = a - t;
        let (s2, s3) = (s * s, s * s * s);
        let r =
            t * t * s3 / 3.0 + p * p * (1.0 - s3) / 3.0 + p * b * (1.0 - s2) + b * b * (1.0 - s);
        let ra = 2.0 * (p * (1.0 - s3) / 3.0 + b * (1.0 - s2) / 2.0);
        let rb = p * (1.0 - s2) + 2.0 * b * (1.0 - s);
        (r, ra, rb)
    }
}
