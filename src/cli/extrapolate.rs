//! `extrapolate`: the θ law, capacity, gain and the random-code baseline at large n.

use clap::Args;
use serde::Serialize;
use std::f64::consts::PI;
use std::io::Write;

use super::output::{emit, Format};
use super::{Counts, Reals};
use superpose::error::{Error, Result};
use superpose::gain::gain_per_feature;
use superpose::large_dim::{self, Extrapolation};
use superpose::packing::{Status, XI_BAND};
use superpose::random_codes::{
    expected_max_abs_cos, ln_capacity_greedy, random_code_max_cos, theta_greedy,
};
use superpose::theta::{capacity, check_directions, check_theta, theta_asymptotic, theta_min};

/// `superpose extrapolate --dims L [--features L] [--theta t]`.
#[derive(Debug, Args)]
pub struct ExtrapolateArgs {
    /// Model dimensions n ≥ 2 (list or range, e.g. `8..4096:x2`; up to 10^6 and beyond).
    #[arg(long, visible_alias = "dim", value_name = "LIST", value_parser = super::counts)]
    pub dims: Counts,
    /// Numbers of features N, all embedded without degeneracy (m = 1, D = N).
    #[arg(long, value_name = "LIST", value_parser = super::reals, default_value = "1e3,1e6,1e9,1e13")]
    pub features: Reals,
    /// Tolerance angle for the capacity column, radians (default π/3 = 60°), or degrees with
    /// `--degrees`.
    #[arg(long, allow_hyphen_values = true)]
    pub theta: Option<f64>,
    /// Read `--theta` in degrees.
    #[arg(long)]
    pub degrees: bool,
}

/// One row of `extrapolate`: one (n, N).
#[derive(Debug, Serialize)]
pub struct ExtrapolateOut {
    /// Model dimension.
    pub n: usize,
    /// Number of features N = number of directions D (m = 1).
    pub features: f64,
    /// Small-angle θ law.
    pub theta: f64,
    /// Chord θ law.
    pub theta_upper: f64,
    /// Small-angle law with the lower figure of γ_{n−1} (a known or proven-to-exist lattice).
    pub theta_low: f64,
    /// Chord law with the upper figure of γ_{n−1} (from an upper bound on the packing density).
    pub theta_high: f64,
    /// Asymptotic (Stirling) form with the note's large-d ξ = 1 (labelled asymptotic).
    pub theta_xi_low: f64,
    /// Asymptotic (Stirling) form with ξ = 1.7434 (labelled asymptotic).
    pub theta_xi_high: f64,
    /// Status of the two ξ columns: always `asymptotic` (the note's d → ∞ band, not a finite-d
    /// statement; at d = 8 the exact ξ is 4.27).
    pub xi_band_status: Status,
    /// cos θ of the small-angle law.
    pub cos_theta: f64,
    /// Random-code baseline: expected largest |cos| from one of N uniform random unit vectors to
    /// the nearest other (null only if its quadrature failed).
    pub random_max_cos: Option<f64>,
    /// The angle of that baseline, arccos(random_max_cos).
    pub theta_random: Option<f64>,
    /// Rigorous lower bound on the best code's minimal angle for N points (greedy/saturation:
    /// μ(θ) = 1/N); the law falling below it flags the law as too pessimistic.
    pub theta_greedy: Option<f64>,
    /// Tolerance angle used for the capacity.
    pub theta_tolerance: f64,
    /// log10 of the capacity D(θ_tolerance) by the small-angle law.
    pub log10_directions: f64,
    /// Rigorous lower bound on log10 of the capacity at θ_tolerance (greedy: 1/μ(θ); null for
    /// θ_tolerance > π/2).
    pub log10_directions_greedy: Option<f64>,
    /// Gain per feature (1−c)(2+c)²/12, c = max(cos θ, 0) (SPEC §3 with m = 1, all embedded).
    pub gain_per_feature: f64,
    /// Same with θ_low and θ_high (the band from the density bounds).
    pub gain_per_feature_low: f64,
    /// Gain per feature at θ_high.
    pub gain_per_feature_high: f64,
    /// Gain per feature at θ_greedy: what the closed form gives at an angle some code is
    /// guaranteed to reach (null where θ_greedy is).
    pub gain_per_feature_greedy: Option<f64>,
    /// Source of γ_{n−1}: proven / best known / bound (the ξ columns are asymptotic).
    pub source: Status,
    /// A random code's coherence: the expected largest |cos| over all N(N−1)/2 pairs
    /// (Poisson estimate; a random code's minimum angle is its arccos).
    pub random_code_max_cos: Option<f64>,
    /// Rigorous lower bound on `random_code_max_cos`.
    pub random_code_max_cos_lower: Option<f64>,
    /// Rigorous upper bound on `random_code_max_cos`.
    pub random_code_max_cos_upper: Option<f64>,
    /// The neighbour model that matched training best (`superpose large-dim`, the committed
    /// `docs/large_dim/result.json`): kissing, shell, frame or collapse.
    pub neighbour_model: String,
    /// That model's θ at D = N (frame model: the larger of the law's θ and the coding bound's;
    /// collapse model: the collapse curve's θ where it is defined).
    pub theta_model: Option<f64>,
    /// Where that θ comes from (collapse model: `collapse fit` inside the fitted α = N/n range,
    /// `frame: …` outside it).
    pub theta_model_source: Option<String>,
    /// That model's gain per feature at E = N, m = 1 (null where the model fails).
    pub gain_per_feature_model: Option<f64>,
    /// That model's intercept there.
    pub intercept_model: Option<f64>,
    /// Largest n at which the model was checked against trained models.
    pub checked_up_to_n: usize,
    /// Measured largest |trained/model − 1| of the model's intercept at that n (null where
    /// the model's intercept is 0 there).
    pub checked_intercept_error: Option<f64>,
    /// Measured largest |trained − model| of the intercept at that n.
    pub checked_intercept_abs_error: f64,
    /// Measured largest |trained/model − 1| of the model's gain at that n.
    pub checked_gain_error: f64,
    /// Measured largest |trained/model − 1| of the intercept over the whole checked grid.
    pub checked_intercept_error_all: Option<f64>,
    /// Measured largest |trained/model − 1| of the gain over the whole checked grid.
    pub checked_gain_error_all: Option<f64>,
    /// Whether (n, N) lies inside the checked range (n and N both within the trained grid).
    pub in_checked_range: bool,
}

/// Runs `extrapolate`.
pub fn extrapolate(a: &ExtrapolateArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let tol = match a.theta {
        None => PI / 3.0,
        Some(t) if a.degrees => t.to_radians(),
        Some(t) => t,
    };
    check_theta(tol)?;
    for &nn in &a.features.0 {
        check_directions(nn)?;
    }
    let check: Extrapolation = large_dim::extrapolation_check()?;
    let mut outside = Vec::new();
    let mut rows = Vec::new();
    for &n in &a.dims.0 {
        if n < 2 {
            return Err(Error::invalid(
                "dimension n",
                format!("{n}: extrapolate needs n ≥ 2"),
            ));
        }
        let cap = capacity(n, tol)?;
        let greedy_cap = if tol <= PI / 2.0 {
            Some(ln_capacity_greedy(n, tol)? / std::f64::consts::LN_10)
        } else {
            None
        };
        for &nn in &a.features.0 {
            let t = theta_min(n, nn)?;
            let ln_d = nn.ln();
            let greedy = if nn >= 2.0 {
                theta_greedy(n, nn).ok()
            } else {
                None
            };
            let random = if nn >= 2.0 {
                expected_max_abs_cos(n, nn).ok()
            } else {
                None
            };
            let coherence = if nn >= 2.0 {
                random_code_max_cos(n, nn).ok()
            } else {
                None
            };
            let model = large_dim::model_extrapolation(check.model, n, nn).ok();
            let inside = check.covers(n, nn);
            if !inside {
                outside.push(format!("n = {n}, N = {nn}"));
            }
            rows.push(ExtrapolateOut {
                n,
                features: nn,
                theta: t.theta,
                theta_upper: t.theta_upper,
                theta_low: t.theta_low,
                theta_high: t.theta_high,
                theta_xi_low: theta_asymptotic(n, ln_d, XI_BAND.0),
                theta_xi_high: theta_asymptotic(n, ln_d, XI_BAND.1),
                xi_band_status: Status::Asymptotic,
                cos_theta: t.theta.cos(),
                random_max_cos: random,
                theta_random: random.map(f64::acos),
                theta_greedy: greedy,
                theta_tolerance: tol,
                log10_directions: cap.log10_directions,
                log10_directions_greedy: greedy_cap,
                gain_per_feature: gain_per_feature(t.theta),
                gain_per_feature_low: gain_per_feature(t.theta_low),
                gain_per_feature_high: gain_per_feature(t.theta_high),
                gain_per_feature_greedy: greedy.map(gain_per_feature),
                source: t.source,
                random_code_max_cos: coherence.map(|c| c.estimate),
                random_code_max_cos_lower: coherence.map(|c| c.lower),
                random_code_max_cos_upper: coherence.map(|c| c.upper),
                neighbour_model: check.model.to_string(),
                theta_model: model.map(|s| s.2),
                theta_model_source: model
                    .and_then(|_| large_dim::theta_source(check.model, n, nn.round()).ok()),
                gain_per_feature_model: model.map(|s| s.0),
                intercept_model: model.map(|s| s.1),
                checked_up_to_n: check.max_n,
                checked_intercept_error: check.intercept_error,
                checked_intercept_abs_error: check.intercept_abs_error,
                checked_gain_error: check.gain_error,
                checked_intercept_error_all: check.intercept_error_all,
                checked_gain_error_all: check.gain_error_all,
                in_checked_range: inside,
            });
        }
    }
    let pct = |x: Option<f64>| x.map_or_else(|| "–".into(), |v| format!("{:.1} %", 100.0 * v));
    let ie = match check.intercept_error {
        Some(e) => format!(
            "{:.1} % ({:.3} absolute)",
            100.0 * e,
            check.intercept_abs_error
        ),
        None => format!(
            "{:.3} (absolute; the model's intercept is 0)",
            check.intercept_abs_error
        ),
    };
    eprintln!(
        "note: the {} neighbour model (the one that matched training) was checked against \
         trained models for n in {}..={} and N in {}..={} (docs/large_dim/); at n = {} its \
         intercept was within {ie} and its gain within {:.1} % of training; over the whole \
         grid within {} (intercept) and {} (gain).",
        check.model,
        check.min_n,
        check.max_n,
        check.min_features,
        check.max_features,
        check.max_n,
        100.0 * check.gain_error,
        pct(check.intercept_error_all),
        pct(check.gain_error_all),
    );
    if !outside.is_empty() {
        eprintln!(
            "note: outside the checked range (extrapolated): {}",
            outside.join("; ")
        );
    }
    emit(&rows, f, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use superpose::gain::gain_per_feature;
    use superpose::prec::{assert_close, REL_TIGHT};

    /// `c = 0` (θ ≥ 90°): the full gain 4/12 = l0; `c = 1/2` (60°): (1/2)(5/2)²/12 = 25/96;
    /// against the loss form `l0 − (3c² + c³)/12`.
    #[test]
    fn gain_per_feature_closed_forms() {
        assert_close(gain_per_feature(PI / 2.0 + 0.1), 1.0 / 3.0, REL_TIGHT);
        assert_close(gain_per_feature(PI / 3.0), 25.0 / 96.0, 1e-12);
        for th in [0.1f64, 0.5, 1.0, 1.5] {
            let c = th.cos();
            assert_close(
                gain_per_feature(th),
                1.0 / 3.0 - (3.0 * c * c + c * c * c) / 12.0,
                1e-12,
            );
        }
    }
}
