//! The collapse of trained codes at large n, and the θ it gives the `collapse` neighbour model
//! (issue 13).
//!
//! At `n ≥ 16` and `D ≲ 64 n` neither the θ law nor the coding bounds give the θ_min that
//! training reaches (the law is too high at n = 16, the line bounds are too high near
//! `D = n(n+1)/2` and too low at `D ≲ 8n`, where codes use the sign), while the shell
//! distribution *at* the trained θ gives the trained intercept within 5 % and the gain within
//! 1.2 % (`superpose large-dim --from docs/large_dim/result.json`). So the missing piece is θ.
//! On the axes `α = D/n` and `z = √n cos θ_min` (the nearest neighbour's cosine in units of a
//! random pair's spread `1/√n`) the trained codes at different `n` fall close to one curve,
//! with a finite-size correction that shrinks with `n`. This module fits that curve to the
//! trained codes and says how well it predicts a dimension it was not fitted on.
//!
//! # Formula
//!
//! ```text
//! z(α, n) = a₀ + a₁ ln α + a₂ (ln α)² + a₃ / √n,        θ(n, D) = arccos( z(D/n, n) / √n )
//! ```
//!
//! by least squares over the trained codes with `n ≥ 16`, `2n < D ≤ K` (at `D ≤ 2n` the
//! cross-polytope's π/2 is exact; `K` is the kissing number of `d = n − 1`,
//! [`max_directions`], beyond which a direction can have the law's full shell of neighbours
//! and the frame model takes the law's θ: n = 16 at N = 8192, α = 512, moved the
//! leave-one-n-out error from 2.2 % to 3.8 % when it was fitted) whose θ_min is not pinned to
//! a known code's angle
//! (`|θ − θ_known| < 2·10⁻³`: n = 16 at `D ≥ 2048`, where `train`'s `code#k` start leaves the
//! Barnes–Wall minimal vectors at π/3 and θ says what the start was, not what the collapse
//! is). The fit holds for `α` inside the range it was fitted on and is not used outside it.
//!
//! Why this form: leave-one-n-out on the 11 usable codes of the committed study (n = 16–128,
//! N = 256–2048), the largest error of the predicted `cos θ` was 2.2 % with the `1/√n` term,
//! 3.9 % with `1/n`, 5.7 % with `ln n` and 5.0 % with no n-dependence at all (measured when
//! the form was chosen; [`leave_one_n_out`] recomputes it for any study). The `1/√n` term
//! vanishes as `n → ∞`, so the fit extrapolates in `n` to a limit curve `z_∞(α)` instead of
//! drifting.
//!
//! It is an empirical law, fitted to this repository's trained models: every number that
//! uses it carries the leave-one-n-out error of the study it came from.

use std::sync::OnceLock;

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

/// Trained θ_min within this of a known code's angle counts as pinned to that code.
pub const PIN_TOL: f64 = 2e-3;
/// Codes below this `n` are left out (the law holds there).
pub const MIN_N: usize = 16;

/// One trained code on the collapse axes: `n`, `N`, `α = D/n` and `z = √n cos θ_min` (θ_min
/// the trained median).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CollapsePoint {
    /// Model dimension.
    pub n: usize,
    /// Features.
    pub features: usize,
    /// Directions per dimension `D/n`.
    pub alpha: f64,
    /// `√n cos θ_min`: the nearest neighbour's cosine in units of a random pair's spread `1/√n`.
    pub z: f64,
}

/// θ from the collapse axis: `arccos(z/√n)` (the inverse of `z = √n cos θ`).
pub fn theta_of_z(n: usize, z: f64) -> f64 {
    (z / (n as f64).sqrt()).clamp(-1.0, 1.0).acos()
}

impl CollapsePoint {
    /// The point's θ_min, `arccos(z/√n)`.
    pub fn theta(&self) -> f64 {
        theta_of_z(self.n, self.z)
    }

    /// Whether the fit takes this point: `n ≥ 16`, `2n < D ≤ K` ([`max_directions`]), θ not
    /// pinned to a known code.
    pub fn usable(&self) -> bool {
        let d = self.alpha * self.n as f64;
        self.n >= MIN_N
            && self.alpha > 2.0
            && d <= max_directions(self.n)
            && crate::symmetric::known_theta(self.n, d)
                .map_or(true, |t| (t - self.theta()).abs() >= PIN_TOL)
    }
}

/// The largest `D` the collapse describes: `K`, the kissing number of `d = n − 1` that the
/// kissing model gives each direction ([`crate::symmetric::default_neighbours`], the table's
/// lower bound; 2564 at n = 16, 345 408 at n = 33). Up to it a direction cannot have the
/// law's full shell of `K` neighbours at θ (the kissing model's `K_eff = min(K, D − 1)` is
/// `D − 1`: every other direction is a neighbour), so the lattice picture behind the law does
/// not hold; beyond it, it can, and the frame model is used. 0 where `K` is unknown.
pub fn max_directions(n: usize) -> f64 {
    crate::symmetric::default_neighbours(n).map_or(0.0, |k| k.value)
}

/// A fitted collapse curve (module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollapseFit {
    /// `a₀, a₁, a₂, a₃` of `z = a₀ + a₁ ln α + a₂ ln² α + a₃/√n`.
    pub coef: [f64; 4],
    /// Smallest and largest `α` fitted on.
    pub alpha_range: (f64, f64),
    /// Smallest and largest `n` fitted on.
    pub n_range: (usize, usize),
    /// Codes fitted on.
    pub points: usize,
}

fn basis(n: usize, alpha: f64) -> [f64; 4] {
    let la = alpha.ln();
    [1.0, la, la * la, 1.0 / (n as f64).sqrt()]
}

/// Least-squares fit of the collapse curve to the usable points ([`CollapsePoint::usable`]);
/// null with fewer than five of them, fewer than two distinct `n` or three distinct `α`.
///
/// # Formula
///
/// `a = argmin Σ_p (z_p − a·φ(n_p, α_p))²`, `φ = (1, ln α, ln² α, n^{−1/2})`, by SVD.
pub fn fit(points: &[CollapsePoint]) -> Option<CollapseFit> {
    let use_: Vec<&CollapsePoint> = points.iter().filter(|p| p.usable()).collect();
    let distinct = |v: Vec<f64>| {
        let mut v = v;
        v.sort_by(f64::total_cmp);
        v.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        v.len()
    };
    if use_.len() < 5
        || distinct(use_.iter().map(|p| p.n as f64).collect()) < 2
        || distinct(use_.iter().map(|p| p.alpha).collect()) < 3
    {
        return None;
    }
    let x = DMatrix::from_fn(use_.len(), 4, |i, j| basis(use_[i].n, use_[i].alpha)[j]);
    let z = DVector::from_iterator(use_.len(), use_.iter().map(|p| p.z));
    let a = x.svd(true, true).solve(&z, 1e-12).ok()?;
    let coef = [a[0], a[1], a[2], a[3]];
    if coef.iter().any(|c| !c.is_finite()) {
        return None;
    }
    let alpha = use_.iter().map(|p| p.alpha);
    Some(CollapseFit {
        coef,
        alpha_range: (
            alpha.clone().fold(f64::INFINITY, f64::min),
            alpha.fold(0.0, f64::max),
        ),
        n_range: (
            use_.iter().map(|p| p.n).min()?,
            use_.iter().map(|p| p.n).max()?,
        ),
        points: use_.len(),
    })
}

impl CollapseFit {
    /// Whether `α` lies in the fitted range (to rounding).
    pub fn covers(&self, alpha: f64) -> bool {
        let (lo, hi) = self.alpha_range;
        alpha >= lo * (1.0 - 1e-9) && alpha <= hi * (1.0 + 1e-9)
    }

    /// `z(α, n)` of the fit, null for `n < 16`, `α` outside the fitted range or `αn` beyond
    /// `K` ([`max_directions`]).
    pub fn z(&self, n: usize, alpha: f64) -> Option<f64> {
        let inside = alpha * n as f64 <= max_directions(n) * (1.0 + 1e-12);
        (n >= MIN_N && self.covers(alpha) && inside).then(|| {
            basis(n, alpha)
                .iter()
                .zip(&self.coef)
                .map(|(b, a)| a * b)
                .sum()
        })
    }

    /// θ of `D` directions in `R^n`: `arccos(z(D/n, n)/√n)` (null where [`Self::z`] is).
    pub fn theta(&self, n: usize, d: f64) -> Option<f64> {
        Some(theta_of_z(n, self.z(n, d / n as f64)?))
    }
}

/// Leave-one-n-out: for each point, `z` predicted by the fit to the points of every *other*
/// `n` (null where that fit does not exist or does not cover the point's `α`, and for points
/// the fit would not take).
pub fn leave_one_n_out(points: &[CollapsePoint]) -> Vec<Option<f64>> {
    // One fit per held-out n, shared by that n's points.
    let mut fits: Vec<(usize, Option<CollapseFit>)> = Vec::new();
    points
        .iter()
        .map(|p| {
            if !p.usable() {
                return None;
            }
            if !fits.iter().any(|f| f.0 == p.n) {
                let rest: Vec<CollapsePoint> =
                    points.iter().filter(|q| q.n != p.n).copied().collect();
                fits.push((p.n, fit(&rest)));
            }
            let f = fits.iter().find(|f| f.0 == p.n)?.1.as_ref()?;
            f.z(p.n, p.alpha)
        })
        .collect()
}

/// The fit to the committed large-n study (`docs/large_dim/result.json`), built once per
/// process; null if that study has too few usable codes.
pub fn committed() -> Option<&'static CollapseFit> {
    static FIT: OnceLock<Option<CollapseFit>> = OnceLock::new();
    FIT.get_or_init(|| {
        let r = crate::large_dim::committed().ok()?;
        fit(&crate::large_dim::collapse(&r))
    })
    .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::assert_close;

    fn point(n: usize, alpha: f64, z: f64) -> CollapsePoint {
        CollapsePoint {
            n,
            features: (alpha * n as f64).round() as usize,
            alpha,
            z,
        }
    }

    /// Points on an exact curve of the fitted form give back its coefficients, and
    /// leave-one-n-out predicts each held-out point exactly.
    #[test]
    fn fit_recovers_an_exact_curve() {
        let a = [-0.25, 0.57, -0.023, 0.64];
        let z = |n: usize, al: f64| {
            let b = basis(n, al);
            (0..4).map(|j| a[j] * b[j]).sum::<f64>()
        };
        let mut pts = Vec::new();
        for n in [32usize, 64, 128, 256] {
            for al in [4.0, 8.0, 16.0, 32.0] {
                pts.push(point(n, al, z(n, al)));
            }
        }
        let f = fit(&pts).unwrap();
        for (c, a) in f.coef.iter().zip(a) {
            assert_close(*c, a, 1e-10);
        }
        assert_eq!(
            (f.alpha_range, f.n_range, f.points),
            ((4.0, 32.0), (32, 256), 16)
        );
        for (p, q) in pts.iter().zip(leave_one_n_out(&pts)) {
            assert_close(q.unwrap(), p.z, 1e-10);
        }
        // θ is arccos(z/√n); outside the fitted α range, and below n = 16, there is none.
        assert_close(
            f.theta(64, 512.0).unwrap(),
            (z(64, 8.0) / 8.0).acos(),
            1e-10,
        );
        assert!(f.theta(64, 64.0 * 64.0).is_none());
        assert!(f.z(8, 8.0).is_none());
    }

    /// The points the fit leaves out: D ≤ 2n (the cross-polytope), D > K (the law's regime:
    /// K = 2564 at n = 16, the kissing table's lower bound for d = 15), n < 16, and a code
    /// pinned to a known angle (n = 16, D = 512 at the Barnes–Wall vectors' π/3).
    #[test]
    fn pinned_and_trivial_points_are_left_out() {
        assert!(!point(128, 2.0, 0.2).usable());
        assert_eq!(max_directions(16), 2564.0);
        assert!(point(16, 160.0, 1.8).usable() && !point(16, 160.5, 1.8).usable());
        assert!(!point(8, 8.0, 1.0).usable());
        let bw16 = point(16, 32.0, 4.0 * 0.5);
        assert!(!bw16.usable());
        assert!(point(16, 32.0, 4.0 * 0.45).usable());
        assert!(point(64, 4.0, 0.56).usable());
        // Too few points, or a single n: no fit.
        let one_n: Vec<_> = [4.0, 8.0, 16.0, 32.0, 64.0]
            .iter()
            .map(|&al| point(32, al, al.ln()))
            .collect();
        assert!(fit(&one_n).is_none());
        assert!(fit(&one_n[..3]).is_none());
    }

    /// The committed study: the fit exists and predicts every held-out n's codes within 5 % in
    /// `cos θ` (2.2 % when the form was chosen, module docs), and its limit curve rises with α.
    #[test]
    fn committed_fit_predicts_held_out_dimensions() {
        let r = crate::large_dim::committed().unwrap();
        let pts = crate::large_dim::collapse(&r);
        let cv = leave_one_n_out(&pts);
        let mut checked = 0;
        for (p, q) in pts.iter().zip(&cv) {
            if let Some(q) = q {
                checked += 1;
                assert!((q / p.z - 1.0).abs() < 0.05, "{p:?}: predicted z {q}");
            }
        }
        assert!(checked >= 8, "{checked} points checked");
        let f = committed().unwrap();
        assert!(f.n_range.0 == 16 && f.n_range.1 >= 128, "{f:?}");
        let zinf = |al: f64| f.coef[0] + f.coef[1] * al.ln() + f.coef[2] * al.ln().powi(2);
        assert!(zinf(4.0) < zinf(16.0) && zinf(16.0) < zinf(64.0));
    }
}
