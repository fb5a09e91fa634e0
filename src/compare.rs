//! Theory beside simulation, per (n, N): θ_min, intercept, gain and multiplicity.
//!
//! For each trained model (read from a sweep folder or trained on the spot):
//!
//! * θ_min — the law's small-angle and chord forms with `D` = the trained number of directions,
//!   against the trained median over directions (ratio trained / law);
//! * intercept — `cos θ_min` (of the trained median θ_min) and the finite-neighbour optimum
//!   (`symmetric::optimize`), against the trained median `−b/|W|²`;
//! * gain — the closed form (consistent convention, E = trained embedded, m = 1), the
//!   finite-neighbour optimum, and the trained gain (ratio trained / theory);
//! * multiplicity — the closed form's best m ∈ 1…8 at E = N (consistent convention) and the
//!   finite-neighbour optimum's m, against the trained mean multiplicity.
//!
//! Ratios are `null` where the theory value is 0 or missing, never NaN.

use serde::Serialize;

use crate::error::Result;
use crate::gain::{closed_form, Convention};
use crate::loss::Loss;
use crate::reproduce::Trained;

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

/// One row of `compare`.
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
    /// Finite-neighbour optimum's gain.
    pub gain_finite: Option<f64>,
    /// `gain_trained / gain_closed`.
    pub ratio_gain_closed: Option<f64>,
    /// `gain_trained / gain_finite`.
    pub ratio_gain_finite: Option<f64>,
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
            multiplicity_trained: f.mean_multiplicity,
            multiplicity_closed: Some(best_closed_multiplicity(f.n, f.features, 8)?),
            multiplicity_finite: s.map(|s| s.multiplicity),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::ModelView;
    use crate::report::ModelFacts;

    /// A regular D-gon in 2-D with the symmetric theory's slope and bias: the trained θ equals
    /// 2π/D, which is also the n = 2 θ law (γ_1 = 1, S_1 = 2π), so the ratios are 1.
    #[test]
    fn polygon_matches_the_two_dimensional_law() {
        let d = 12;
        let c = (std::f64::consts::TAU / d as f64).cos();
        let k = (1.0 + c / 2.0) / (1.0 - c);
        let view = ModelView {
            n: 2,
            w: (0..d)
                .map(|i| {
                    let a = i as f64 * std::f64::consts::TAU / d as f64;
                    vec![k.sqrt() * a.cos(), k.sqrt() * a.sin()]
                })
                .collect(),
            b: vec![-k * c; d],
        };
        // Closed-form gain of this configuration: E (1 − c)(2 + c)² / 12.
        let g = d as f64 * (1.0 - c) * (2.0 + c).powi(2) / 12.0;
        let t = Trained {
            facts: ModelFacts::from_model(&view, g, None),
            view,
            gain: g,
            loss: "l2".into(),
            report: serde_json::Value::Null,
        };
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
