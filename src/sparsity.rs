//! Finite-sparsity phase diagrams: where the note's infinitely sparse limit stops describing
//! the trained models.
//!
//! Input: one sweep over `dims × features × sparsities` that includes the exact sparse limit
//! (`sweep --sparsity …,1`). For every model the study keeps the embedded fraction, the mean
//! multiplicity, the median θ_min and the gain per feature `g_S/N = l0_S − L_S` (see
//! [`crate::toy::sampled`]), over `(N, (1 − S)·N)`, the expected number of active features.
//!
//! # Criterion
//!
//! The geometry *departs* from the sparse-limit optimum at the smallest `(1 − S)·N` at which the
//! gain per feature falls more than [`DEPARTURE`] (5 %) below that of the exact sparse-limit
//! model of the same `(n, N)`:
//!
//! ```text
//! r(S) = (g_S / N) / (g_exact / N),     departure: r = 0.95,
//! ```
//!
//! located by linear interpolation of `r` in `ln((1 − S)·N)` between the last grid point with
//! `r ≥ 0.95` and the first below (reported as `≤` the smallest grid value if the first point is
//! already below, and as `>` the largest if none is).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::toy::sweep::SweepRecord;

/// Relative loss of gain per feature that counts as departure (module docs).
pub const DEPARTURE: f64 = 0.05;

/// One model of the phase diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhasePoint {
    /// Model dimension.
    pub n: usize,
    /// Number of features.
    pub features: usize,
    /// Sparsity (`None`: the exact sparse limit).
    pub sparsity: Option<f64>,
    /// `(1 − S)·N` (0 in the sparse limit).
    pub expected_active: f64,
    /// `E/N`.
    pub fraction_embedded: f64,
    /// `E/D`.
    pub mean_multiplicity: Option<f64>,
    /// Median θ_min (radians).
    pub theta_min_median: Option<f64>,
    /// Gain per feature `g/N`.
    pub gain_per_feature: f64,
    /// Its standard error (0 for the exact loss).
    pub gain_stderr: f64,
}

/// Where `(n, N)` departs from its sparse limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Departure {
    /// Model dimension.
    pub n: usize,
    /// Number of features.
    pub features: usize,
    /// Exact sparse-limit gain per feature.
    pub exact_gain_per_feature: f64,
    /// `(1 − S)·N` at which `r` crosses `1 − DEPARTURE` (interpolated).
    pub expected_active: Option<f64>,
    /// `exact`, `below` (already departed at the smallest grid value: an upper bound) or
    /// `above` (not departed at the largest: a lower bound).
    pub kind: String,
}

/// The study's result (committed as `docs/sparsity/phase_sparsity.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseSparsity {
    /// The command that made it.
    pub command: String,
    /// Every model.
    pub points: Vec<PhasePoint>,
    /// Per `(n, N)` with an exact reference.
    pub departures: Vec<Departure>,
}

/// Builds the study from a sweep's records.
pub fn from_records(records: &[SweepRecord], command: &str) -> Result<PhaseSparsity> {
    let points: Vec<PhasePoint> = records
        .iter()
        .map(|r| {
            let p = &r.report;
            let nf = p.features as f64;
            PhasePoint {
                n: p.n,
                features: p.features,
                sparsity: p.sparsity,
                expected_active: p.sparsity.map_or(0.0, |s| (1.0 - s) * nf),
                fraction_embedded: p.fraction_embedded,
                mean_multiplicity: p.mean_multiplicity,
                theta_min_median: p.theta_min_median,
                gain_per_feature: p.gain / nf,
                gain_stderr: p.loss_stderr,
            }
        })
        .collect();
    let mut keys: Vec<(usize, usize)> = points.iter().map(|p| (p.n, p.features)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut departures = Vec::new();
    for (n, nf) in keys {
        let Some(exact) = points
            .iter()
            .find(|p| p.n == n && p.features == nf && p.sparsity.is_none())
        else {
            continue;
        };
        let mut finite: Vec<&PhasePoint> = points
            .iter()
            .filter(|p| p.n == n && p.features == nf && p.sparsity.is_some())
            .collect();
        finite.sort_by(|a, b| a.expected_active.total_cmp(&b.expected_active));
        if finite.is_empty() || exact.gain_per_feature <= 0.0 {
            continue;
        }
        let series: Vec<(f64, f64)> = finite
            .iter()
            .map(|p| {
                (
                    p.expected_active,
                    p.gain_per_feature / exact.gain_per_feature,
                )
            })
            .collect();
        let (expected_active, kind) = crossing(&series, 1.0 - DEPARTURE);
        departures.push(Departure {
            n,
            features: nf,
            exact_gain_per_feature: exact.gain_per_feature,
            expected_active,
            kind: kind.into(),
        });
    }
    if departures.is_empty() {
        return Err(Error::invalid(
            "phase_sparsity",
            "the sweep needs finite sparsities and the exact limit (--sparsity …,1)",
        ));
    }
    Ok(PhaseSparsity {
        command: command.to_string(),
        points,
        departures,
    })
}

/// First crossing of `level` from above by `r(x)` (x ascending), interpolated in `ln x`.
pub fn crossing(series: &[(f64, f64)], level: f64) -> (Option<f64>, &'static str) {
    match series.iter().position(|p| p.1 < level) {
        None => (series.last().map(|p| p.0), "above"),
        Some(0) => (series.first().map(|p| p.0), "below"),
        Some(i) => {
            let (a, b) = (series[i - 1], series[i]);
            let t = (a.1 - level) / (a.1 - b.1);
            let x = (a.0.ln() + t * (b.0.ln() - a.0.ln())).exp();
            (Some(x), "exact")
        }
    }
}

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or("—".into(), f)
}

/// The report section (a `## …` section with the numbers and the command that made them).
pub fn markdown_section(s: &PhaseSparsity) -> String {
    let mut out = String::from("## Beyond the sparse limit: finite-sparsity phase diagram\n\n");
    out.push_str(&format!(
        "Trained models at sparsity S (each feature active with probability 1 − S; the sampled \
         trainer, best of dead, warm and cold candidates) beside the exact sparse-limit model of \
         the same (n, N). Departure criterion: the gain per feature `g_S/N` falls more than \
         {:.0} % below the exact sparse-limit model's, interpolated in ln((1 − S)·N). Made by \
         `{}`.\n\n",
        DEPARTURE * 100.0,
        s.command
    ));
    out.push_str("| n | N | exact g/N | departs at (1 − S)·N |\n|---|---|---|---|\n");
    for d in &s.departures {
        let at = match (d.kind.as_str(), d.expected_active) {
            ("exact", Some(x)) => format!("{x:.3}"),
            ("below", Some(x)) => format!("≤ {x:.3} (already at the smallest)"),
            ("above", Some(x)) => format!("> {x:.3} (not within the grid)"),
            _ => "—".into(),
        };
        out.push_str(&format!(
            "| {} | {} | {:.4} | {} |\n",
            d.n, d.features, d.exact_gain_per_feature, at
        ));
    }
    out.push_str("\nPer n, the smallest departure point over N:\n\n");
    let mut ns: Vec<usize> = s.departures.iter().map(|d| d.n).collect();
    ns.dedup();
    for n in ns {
        let best = s
            .departures
            .iter()
            .filter(|d| d.n == n && d.expected_active.is_some())
            .min_by(|a, b| {
                a.expected_active
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.expected_active.unwrap_or(f64::INFINITY))
            });
        if let Some(d) = best {
            out.push_str(&format!(
                "- n = {n}: (1 − S)·N ≈ {} (N = {}, {})\n",
                opt(d.expected_active, |x| format!("{x:.3}")),
                d.features,
                d.kind
            ));
        }
    }
    out.push_str(
        "\n| n | N | S | (1 − S)·N | embedded | multiplicity | θ_min (°) | g/N | ± |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for p in &s.points {
        out.push_str(&format!(
            "| {} | {} | {} | {:.4} | {:.3} | {} | {} | {:.4} | {:.4} |\n",
            p.n,
            p.features,
            opt(p.sparsity, |x| format!("{x}")),
            p.expected_active,
            p.fraction_embedded,
            opt(p.mean_multiplicity, |x| format!("{x:.2}")),
            opt(p.theta_min_median, |x| format!("{:.1}", x.to_degrees())),
            p.gain_per_feature,
            p.gain_stderr
        ));
    }
    out
}

/// Reads a committed result.
pub fn load(path: &Path) -> Result<PhaseSparsity> {
    crate::scaling::read_json(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_interpolates_in_log() {
        // r falls from 1 at x = 0.1 to 0.9 at x = 10: 0.95 is halfway in ln x, at x = 1.
        let (x, k) = crossing(&[(0.1, 1.0), (10.0, 0.9)], 0.95);
        crate::prec::assert_close(x.unwrap(), 1.0, 1e-12);
        assert_eq!(k, "exact");
        assert_eq!(crossing(&[(0.1, 0.5)], 0.95).1, "below");
        assert_eq!(crossing(&[(0.1, 0.99), (1.0, 0.97)], 0.95).1, "above");
    }
}
