//! Theory beside simulation, per (n, N): θ_min, intercept, gain and multiplicity.
//!
//! For each trained model (read from a sweep folder or trained on the spot):
//!
//! * θ_min — the law's small-angle and chord forms with `D` = the trained number of directions,
//!   against the trained median over directions (ratio trained / law);
//! * intercept — `cos θ_min` (of the trained median θ_min) and the finite-neighbour optimum
//!   (`symmetric::optimize`), against the trained median `−b/|W|²`;
//! * gain — the closed form (consistent convention, E = trained embedded, m = 1), the
//!   finite-neighbour symmetric optimum — an **estimate**: the symmetric model at the law's θ,
//!   which can exceed every real model — and the same symmetric model evaluated at the trained
//!   median θ_min (E = trained embedded, m = the trained mean multiplicity rounded), against the
//!   trained gain. The two ratios split the gap: if the trained gain meets the symmetric model
//!   at the trained θ but not at the law's, the gap is the law's θ; if it misses both, it is the
//!   symmetric assumption;
//! * multiplicity — the closed form's best m ∈ 1…8 at E = N (consistent convention) and the
//!   finite-neighbour optimum's m, against the trained mean multiplicity.
//!
//! Ratios are `null` where the theory value is 0 or missing, never NaN.

use serde::Serialize;

use super::sweep::Trained;
use crate::error::Result;
use crate::gain::{closed_form, Convention};
use crate::loss::Loss;
use crate::symmetric::{configuration_at_theta, Options};

/// The finite-neighbour optimum at (n, N), as plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Symmetric {
    /// Gain of the best symmetric configuration.
    pub gain: f64,
    /// Its intercept c.
    pub intercept: f64,
    /// Its multiplicity m.
    pub multiplicity: usize,
    /// Its number embedded E.
    pub embed: usize,
    /// Gain of the best non-degenerate (m = 1) symmetric configuration.
    pub gain_m1: f64,
}

/// The finite-neighbour symmetric optimum at (n, N) for L2 (`symmetric::optimize`, default K,
/// the law's θ), with the best non-degenerate (m = 1) gain from `symmetric::landscape`.
/// `None` when the symmetric model does not apply (n < 2) or the search fails.
pub fn symmetric_optimum(n: usize, features: usize) -> Option<Symmetric> {
    let l2 = Loss::L2;
    let best = crate::symmetric::optimize(n, features as u64, &l2, None).ok()?;
    let gain_m1 = if best.multiplicity == 1 {
        best.gain
    } else {
        crate::symmetric::landscape(n, features as u64, &l2, None)
            .ok()?
            .iter()
            .filter(|p| p.multiplicity == 1)
            .map(|p| p.gain)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    Some(Symmetric {
        gain: best.gain,
        intercept: best.intercept,
        multiplicity: best.multiplicity as usize,
        embed: best.embed as usize,
        gain_m1,
    })
}

/// The symmetric model at a trained model's own geometry: E = trained embedded, m = the mean
/// multiplicity rounded (E rounded down to a multiple of m), θ = the trained median θ_min.
/// `None` without at least two directions.
pub fn symmetric_at_trained_theta(t: &Trained) -> Option<f64> {
    let f = &t.facts;
    if f.directions < 2
        || f.embedded < 2
        || f.theta_min_median.is_nan()
        || f.theta_min_median <= 0.0
    {
        return None;
    }
    let m = (f.mean_multiplicity.round() as u64).max(1);
    let e = (f.embedded as u64 / m) * m;
    configuration_at_theta(
        f.n,
        f.features as u64,
        e.max(m),
        m,
        f.theta_min_median,
        &Loss::L2,
        &Options::default(),
    )
    .ok()
    .map(|p| p.gain)
}

/// One row of `compare`: theory beside one trained model (also the row the report's claims
/// and figures read).
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    /// Model dimension.
    pub n: usize,
    /// N.
    pub features: usize,
    /// Trained number embedded E.
    pub embedded: usize,
    /// Trained number of directions D.
    pub directions: usize,
    /// Trained median θ_min over directions.
    pub theta_trained: Option<f64>,
    /// Small-angle θ law at D.
    pub theta_law: Option<f64>,
    /// Chord θ law at D.
    pub theta_law_chord: Option<f64>,
    /// `theta_trained / theta_law`.
    pub ratio_theta_small: Option<f64>,
    /// `theta_trained / theta_law_chord`.
    pub ratio_theta_chord: Option<f64>,
    /// Trained median intercept.
    pub intercept_trained: Option<f64>,
    /// cos of the trained median θ_min.
    pub cos_theta_min: Option<f64>,
    /// Finite-neighbour optimum's intercept.
    pub intercept_finite: Option<f64>,
    /// `intercept_trained / cos_theta_min`.
    pub ratio_intercept_cos: Option<f64>,
    /// `intercept_trained / intercept_finite`.
    pub ratio_intercept_finite: Option<f64>,
    /// Trained gain.
    pub gain_trained: f64,
    /// Closed-form gain (consistent, E = trained, m = 1).
    pub gain_closed: Option<f64>,
    /// Finite-neighbour symmetric optimum's gain: an estimate, the symmetric model at the
    /// law's θ (may exceed every real model).
    pub gain_finite: Option<f64>,
    /// The symmetric model at the trained median θ_min (E = trained, m = trained mean rounded).
    pub gain_symmetric_trained_theta: Option<f64>,
    /// `gain_trained / gain_closed`.
    pub ratio_gain_closed: Option<f64>,
    /// `gain_trained / gain_finite` (trained over the estimate at the law's θ).
    pub ratio_gain_finite: Option<f64>,
    /// `gain_trained / gain_symmetric_trained_theta`.
    pub ratio_gain_symmetric_trained_theta: Option<f64>,
    /// Finite-neighbour optimum's best non-degenerate (m = 1) gain.
    pub gain_finite_m1: Option<f64>,
    /// Trained mean multiplicity.
    pub multiplicity_trained: f64,
    /// Closed form's best m at E = N (consistent).
    pub multiplicity_closed: Option<usize>,
    /// Finite-neighbour optimum's m.
    pub multiplicity_finite: Option<usize>,
}

fn fin(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => fin(a / b),
        _ => None,
    }
}

/// The multiplicity m ∈ 1…`max_m` (m ≤ N) with the largest closed-form L2 gain at E = N,
/// consistent convention.
pub fn best_closed_multiplicity(n: usize, features: usize, max_m: usize) -> Result<usize> {
    let mut best = (1usize, f64::NEG_INFINITY);
    for m in 1..=max_m.min(features.max(1)) {
        let g = closed_form(
            n,
            features as u64,
            m as u64,
            Convention::Consistent,
            &Loss::L2,
        )?
        .gain;
        if g > best.1 {
            best = (m, g);
        }
    }
    Ok(best.0)
}

/// Compares every model with the theory; `symmetric(n, N)` gives the finite-neighbour optimum.
pub fn rows(
    models: &[Trained],
    symmetric: &dyn Fn(usize, usize) -> Option<Symmetric>,
) -> Result<Vec<CompareRow>> {
    let mut out = Vec::with_capacity(models.len());
    for t in models {
        let f = &t.facts;
        let law = crate::theta::theta_min(f.n, (f.directions as f64).max(1.0)).ok();
        let theta_trained = fin(f.theta_min_median).filter(|_| f.directions >= 2);
        let cos = theta_trained.map(f64::cos);
        let intercept_trained = fin(f.intercept_median);
        let gain_closed = if f.embedded >= 1 {
            Some(closed_form(f.n, f.embedded as u64, 1, Convention::Consistent, &Loss::L2)?.gain)
        } else {
            None
        };
        let s = symmetric(f.n, f.features);
        let at_theta = symmetric_at_trained_theta(t);
        out.push(CompareRow {
            n: f.n,
            features: f.features,
            embedded: f.embedded,
            directions: f.directions,
            theta_trained,
            theta_law: law.as_ref().map(|l| l.theta),
            theta_law_chord: law.as_ref().map(|l| l.theta_upper),
            ratio_theta_small: ratio(theta_trained, law.as_ref().map(|l| l.theta)),
            ratio_theta_chord: ratio(theta_trained, law.as_ref().map(|l| l.theta_upper)),
            intercept_trained,
            cos_theta_min: cos,
            intercept_finite: s.map(|s| s.intercept),
            ratio_intercept_cos: ratio(intercept_trained, cos),
            ratio_intercept_finite: ratio(intercept_trained, s.map(|s| s.intercept)),
            gain_trained: t.gain,
            gain_closed,
            gain_finite: s.map(|s| s.gain),
            ratio_gain_closed: ratio(Some(t.gain), gain_closed),
            ratio_gain_finite: ratio(Some(t.gain), s.map(|s| s.gain)),
            gain_symmetric_trained_theta: at_theta,
            ratio_gain_symmetric_trained_theta: ratio(Some(t.gain), at_theta),
            gain_finite_m1: s.map(|s| s.gain_m1).and_then(fin),
            multiplicity_trained: f.mean_multiplicity,
            multiplicity_closed: Some(best_closed_multiplicity(
                f.n,
                f.features,
                crate::phase::DEFAULT_MAX_MULTIPLICITY as usize,
            )?),
            multiplicity_finite: s.map(|s| s.multiplicity),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::Model;
    use nalgebra::{DMatrix, DVector};

    /// A regular D-gon in 2-D with the symmetric theory's slope and bias: the trained θ equals
    /// 2π/D, which is also the n = 2 θ law (γ_1 = 1, S_1 = 2π), so the ratios are 1.
    #[test]
    fn polygon_matches_the_two_dimensional_law() {
        let d = 12;
        let c = (std::f64::consts::TAU / d as f64).cos();
        let k = (1.0 + c / 2.0) / (1.0 - c);
        let w = DMatrix::from_fn(2, d, |r, i| {
            let a = i as f64 * std::f64::consts::TAU / d as f64;
            k.sqrt() * if r == 0 { a.cos() } else { a.sin() }
        });
        let model = Model::new(w, DVector::from_element(d, -k * c)).unwrap();
        // Closed-form gain of this configuration: E (1 − c)(2 + c)² / 12.
        let g = d as f64 * (1.0 - c) * (2.0 + c).powi(2) / 12.0;
        let t = Trained::of_model(model, g);
        let r = rows(&[t], &|_, _| None).unwrap();
        let r = &r[0];
        assert_eq!(r.directions, d);
        crate::prec::assert_close(r.ratio_theta_small.unwrap(), 1.0, 1e-9);
        crate::prec::assert_close(r.ratio_intercept_cos.unwrap(), 1.0, 1e-9);
        crate::prec::assert_close(r.ratio_gain_closed.unwrap(), 1.0, 1e-9);
        assert!(r.gain_finite.is_none() && r.ratio_gain_finite.is_none());
        assert_eq!(r.multiplicity_trained, 1.0);
    }

    #[test]
    fn ratios_are_never_nan() {
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(1.0)), None);
        assert_eq!(ratio(Some(1.0), Some(2.0)), Some(0.5));
    }
}
