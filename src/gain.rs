//! The closed-form gain of a symmetric configuration (SPEC §3), in the self-consistent
//! convention and in the note's published mixture, for any loss family.
//!
//! # Formula
//!
//! One active feature of value `x ~ U[0,1]`; `m` features share its direction with slope `k`
//! and intercept `c` (output `k(x − c)₊` on each of them); no interference from neighbouring
//! directions. With the L2 loss the per-feature loss, optimal slope and gain are
//!
//! ```text
//! l(c, m) = (4(m − 1) + 3c² + c³) / (12 m) = 1/3 − (1 − c)(2 + c)² / (12 m)
//! k(c, m) = (1 + c/2) / (m (1 − c))
//! g       = (l0 − l) E = E (1 − c)(2 + c)² / (12 m),     c = max(cos θ(D), 0)
//! ```
//!
//! with `θ(D)` the θ_min law ([`crate::theta`]) at `D` directions. The note ("Loss function: Why
//! packing all features?") writes the loss and gain with `n_deg + 1` where these have `m`, but
//! its θ law with `n_dir = n_embed / n_deg`. The two conventions:
//!
//! | convention | `multiplicity` argument | `m` in `l`, `k`, `g` | directions `D` |
//! |---|---|---|---|
//! | [`Convention::Consistent`] | `m` | `m` | `E / m` |
//! | [`Convention::Note`] | the note's `n_deg = j` | `j + 1` | `E / j` |
//!
//! For any loss ρ ([`Loss`]) the per-feature loss at slope `k` is
//! `l(k) = R(k, −kc, 1) + (m − 1) R(k, −kc, 0)` with `R` the response integral
//! [`Loss::response`], minimised over `k > 0` (closed form for L2; a grid in `ln k` then
//! argmin's Brent otherwise), and `g = (l0 − l) E`.
//!
//! ## Derivatives (L2)
//!
//! With `f(c) = (1 − c)(2 + c)²`, `df/dθ = 3c(2 + c) sin θ` (0 when `cos θ ≤ 0`), and
//! `θ_D = dθ/d ln D` (`−θ/d` for the small-angle law, `d = n − 1`):
//!
//! ```text
//! consistent:  ∂g/∂E = (f + f_θ θ_D) / (12 m)           ∂g/∂m = −E (f + f_θ θ_D) / (12 m²)
//! note:        ∂g/∂E = (f + f_θ θ_D) / (12 (j + 1))     ∂g/∂j = −E f / (12 (j+1)²) − E f_θ θ_D / (12 j (j+1))
//! ```
//!
//! and to lowest order in θ (`f ≈ 9θ²/2`, `f_θ θ_D ≈ −9θ²/d`):
//!
//! ```text
//! consistent:  ∂g/∂E ≈ (9/24) (1/m) (1 − 2/(n−1)) θ²      ∂g/∂m ≈ (9/24) (E/m²) (2/(n−1) − 1) θ²
//! note:        ∂g/∂E ≈ (9/24) (1/(j+1)) (1 − 2/(n−1)) θ²  ∂g/∂j ≈ (9/24) (E/(j+1)) (2/(j(n−1)) − 1/(j+1)) θ²
//! ```
//!
//! (the note's published pair is the second line). In the consistent convention
//! `g(E, m) = h(E/m)` with `h(D) = D f(θ(D)) / 12` the gain of `D` non-degenerate features, so
//! `∂g/∂m = −(E/m) ∂g/∂E`: degeneracy pays exactly where embedding more features does not.
//!
//! ## Source
//!
//! The research note (`seed/000_9a78cc27a5b4baa8.txt`, sections "Loss function" and
//! "Lattice embedding"), corrected as in SPEC §3.

use argmin::core::{CostFunction, Executor, State};
use argmin::solver::brent::BrentOpt;
use serde::Serialize;

use crate::error::{finite, Error, Result};
use crate::loss::Loss;
use crate::theta::{theta_min_ln, ThetaEstimate};

/// Which reading of the note's `n_deg` (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Convention {
    /// Multiplicity `m` everywhere (SPEC §3).
    #[default]
    Consistent,
    /// The note's mixture: `n_deg + 1` in the loss and gain, `E / n_deg` directions.
    Note,
}

impl Convention {
    /// Both conventions, consistent first.
    pub const ALL: [Convention; 2] = [Convention::Consistent, Convention::Note];

    /// `(m used in l, k, g; number of directions)` for `multiplicity` and `embed`.
    pub fn split(self, embed: f64, multiplicity: f64) -> (f64, f64) {
        match self {
            Convention::Consistent => (multiplicity, embed / multiplicity),
            Convention::Note => (multiplicity + 1.0, embed / multiplicity),
        }
    }
}

impl std::fmt::Display for Convention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Convention::Consistent => "consistent",
            Convention::Note => "note",
        })
    }
}

impl std::str::FromStr for Convention {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "consistent" => Ok(Convention::Consistent),
            "note" => Ok(Convention::Note),
            _ => Err(Error::invalid(
                "convention",
                format!("unknown convention {s:?} (use consistent or note)"),
            )),
        }
    }
}

/// Which form of the θ_min law sets the intercept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ThetaLaw {
    /// `θ = sqrt(γ_d) (S_{n−1}/D)^{1/d}` (the note's law; the default).
    #[default]
    SmallAngle,
    /// The chord variant `4 asin(θ/4)` (never below the small-angle θ).
    Chord,
}

impl ThetaLaw {
    /// θ from an estimate.
    pub fn pick(self, t: &ThetaEstimate) -> f64 {
        match self {
            ThetaLaw::SmallAngle => t.theta,
            ThetaLaw::Chord => t.theta_upper,
        }
    }

    /// `dθ/d ln D` of this law at the estimate `t` (0 where θ is clamped to π).
    pub fn dtheta_dln_directions(self, n: usize, t: &ThetaEstimate) -> f64 {
        let d = (n - 1) as f64;
        let ds = if t.theta < std::f64::consts::PI {
            -t.theta / d
        } else {
            0.0
        };
        match self {
            ThetaLaw::SmallAngle => ds,
            ThetaLaw::Chord => {
                if t.theta_upper < std::f64::consts::PI && t.theta < 4.0 {
                    ds / (1.0 - t.theta * t.theta / 16.0).sqrt()
                } else {
                    0.0
                }
            }
        }
    }
}

impl std::fmt::Display for ThetaLaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ThetaLaw::SmallAngle => "small-angle",
            ThetaLaw::Chord => "chord",
        })
    }
}

impl std::str::FromStr for ThetaLaw {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "small-angle" | "small" => Ok(ThetaLaw::SmallAngle),
            "chord" => Ok(ThetaLaw::Chord),
            _ => Err(Error::invalid(
                "theta law",
                format!("unknown θ law {s:?} (use small-angle or chord)"),
            )),
        }
    }
}

/// A symmetric configuration and its loss and gain (SPEC §5 keys of `gain` and `optimize`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SymmetricPoint {
    /// Model dimension.
    pub n: usize,
    /// Number of input features `N` (= `embed` for the closed form).
    pub features: u64,
    /// Number of embedded features `E`.
    pub embed: u64,
    /// Multiplicity: `m` (consistent), or the note's `n_deg` (note convention).
    pub multiplicity: u64,
    /// Number of directions `D` (`E/m`, or `E/n_deg` in the note convention).
    pub directions: f64,
    /// θ_min of `D` directions, radians.
    pub theta: f64,
    /// Intercept `c = −b/|W|²` (`max(cos θ, 0)` for the closed form).
    pub intercept: f64,
    /// Slope `k = |W|²` minimising the loss.
    pub slope: f64,
    /// Mean loss per feature over all `N` features.
    pub loss: f64,
    /// Gain `(l0 − loss) N`.
    pub gain: f64,
    /// `cos θ`, for comparison with the intercept.
    pub cos_theta: f64,
    /// Neighbouring directions per direction in the interference model (0: none).
    pub neighbours: f64,
    /// Loss family (`l2`, `huber:δ`, `l1`, `gauss:σ`).
    pub loss_fn: String,
    /// Convention of `multiplicity`.
    pub convention: Convention,
}

/// The real-valued core of the closed form (E and m continuous, for derivatives and searches).
#[derive(Debug, Clone, Copy)]
pub struct GainParts {
    /// `D`.
    pub directions: f64,
    /// θ of the chosen law.
    pub theta: f64,
    /// `max(cos θ, 0)`.
    pub intercept: f64,
    /// Multiplicity entering the loss (`m`, or `j + 1` in the note convention).
    pub m_loss: f64,
    /// Optimal slope.
    pub slope: f64,
    /// Per-feature loss at the optimal slope.
    pub loss: f64,
    /// Gain `(l0 − loss) E`.
    pub gain: f64,
}

/// `f(c) = (1 − c)(2 + c)²`, the L2 gain factor (`12 m (l0 − l)`).
pub fn gain_factor(c: f64) -> f64 {
    (1.0 - c) * (2.0 + c) * (2.0 + c)
}

/// `(c, 1 − c, f)` for the intercept `c = max(cos θ, 0)`, with `1 − c = 2 sin²(θ/2)` computed
/// without cancellation (at `N = 10⁹` in 2-D, `1 − cos θ` is below machine epsilon).
pub fn intercept_parts(theta: f64) -> (f64, f64, f64) {
    let c = theta.cos();
    if c > 0.0 {
        let s = (0.5 * theta).sin();
        let omc = 2.0 * s * s;
        (c, omc, omc * (2.0 + c) * (2.0 + c))
    } else {
        (0.0, 1.0, 4.0)
    }
}

/// L2 per-feature loss `l(c, m) = (4(m − 1) + 3c² + c³) / (12 m)` (SPEC §3).
pub fn loss_l2(c: f64, m: f64) -> f64 {
    (4.0 * (m - 1.0) + 3.0 * c * c + c * c * c) / (12.0 * m)
}

/// L2 optimal slope `k(c, m) = (1 + c/2) / (m (1 − c))` (SPEC §3).
pub fn slope_l2(c: f64, m: f64) -> f64 {
    (1.0 + 0.5 * c) / (m * (1.0 - c))
}

/// Per-feature loss of the symmetric configuration at slope `k`, intercept `c`, multiplicity `m`.
///
/// # Formula
///
/// `l(k) = ∫₀¹ [ρ(k(x − c)₊ − x) + (m − 1) ρ(k(x − c)₊)] dx = R(k, −kc, 1) + (m − 1) R(k, −kc, 0)`.
pub fn feature_loss(loss: &Loss, c: f64, m: f64, k: f64) -> f64 {
    let b = -k * c;
    loss.response(k, b, 1.0).0 + (m - 1.0) * loss.response(k, b, 0.0).0
}

/// Minimises a 1-D cost over `[lo, hi]`: a uniform scan of `grid` points, then argmin's Brent
/// between the best point's neighbours. Returns `(x, cost)`.
pub fn argmin_1d<P>(problem: P, lo: f64, hi: f64, grid: usize) -> Result<(f64, f64)>
where
    P: CostFunction<Param = f64, Output = f64> + Clone,
{
    let grid = grid.max(3);
    let step = (hi - lo) / (grid - 1) as f64;
    let mut best = (lo, f64::INFINITY);
    let mut best_i = 0;
    for i in 0..grid {
        let x = lo + step * i as f64;
        let f = problem.cost(&x)?;
        if f < best.1 {
            best = (x, f);
            best_i = i;
        }
    }
    if !best.1.is_finite() {
        return Err(Error::Numerical(
            "cost is not finite on the search grid".into(),
        ));
    }
    let a = lo + step * best_i.saturating_sub(1) as f64;
    let b = (lo + step * (best_i + 1) as f64).min(hi);
    if b > a {
        let solver = BrentOpt::new(a, b).set_tolerance(1.5e-8, 1e-12);
        let res = Executor::new(problem, solver)
            .configure(|s| s.max_iters(200))
            .run()?;
        let st = res.state();
        let f = st.get_best_cost();
        if let Some(&x) = st.get_best_param() {
            if f < best.1 {
                best = (x, f);
            }
        }
    }
    Ok(best)
}

/// The slope problem: per-feature loss as a function of `u = ln k`.
#[derive(Clone, Copy)]
struct SlopeProblem {
    loss: Loss,
    c: f64,
    m: f64,
}

impl CostFunction for SlopeProblem {
    type Param = f64;
    type Output = f64;
    fn cost(&self, u: &f64) -> std::result::Result<f64, argmin::core::Error> {
        Ok(feature_loss(&self.loss, self.c, self.m, u.exp()))
    }
}

/// Optimal slope and the per-feature loss there, `(k, l)`, for intercept `c ∈ [0, 1)`.
///
/// L2: the closed forms [`slope_l2`], [`loss_l2`]. Other losses: scan `ln k` over
/// `ln k_L2 ± 8` (49 points) and polish with Brent; if nothing beats `k → 0` (loss `l0`), the
/// feature is better left dark and `(0, l0)` is returned.
pub fn optimal_slope(loss: &Loss, c: f64, m: f64) -> Result<(f64, f64)> {
    if *loss == Loss::L2 {
        return Ok((slope_l2(c, m), loss_l2(c, m)));
    }
    optimal_slope_numeric(loss, c, m)
}

fn optimal_slope_numeric(loss: &Loss, c: f64, m: f64) -> Result<(f64, f64)> {
    let centre = slope_l2(c, m).ln();
    let p = SlopeProblem { loss: *loss, c, m };
    let (u, l) = argmin_1d(p, centre - 8.0, centre + 8.0, 49)?;
    if l < loss.l0() {
        Ok((u.exp(), l))
    } else {
        Ok((0.0, loss.l0()))
    }
}

fn check_counts(embed: f64, multiplicity: f64, conv: Convention) -> Result<()> {
    finite("number embedded E", embed)?;
    finite("multiplicity", multiplicity)?;
    if embed < 1.0 {
        return Err(Error::invalid(
            "number embedded E",
            format!("{embed} must be at least 1"),
        ));
    }
    if multiplicity < 1.0 {
        return Err(Error::invalid(
            "multiplicity",
            format!("{multiplicity} must be at least 1"),
        ));
    }
    if embed < multiplicity {
        return Err(Error::invalid(
            "multiplicity",
            format!(
                "{multiplicity} exceeds the number embedded E = {embed} (fewer than one direction; {conv} convention)"
            ),
        ));
    }
    Ok(())
}

/// The closed form at real `E` and multiplicity (see the module docs), with any θ law and loss.
pub fn evaluate(
    n: usize,
    embed: f64,
    multiplicity: f64,
    conv: Convention,
    loss: &Loss,
    law: ThetaLaw,
) -> Result<GainParts> {
    check_counts(embed, multiplicity, conv)?;
    loss.check()?;
    let (m_loss, directions) = conv.split(embed, multiplicity);
    let t = theta_min_ln(n, directions.ln().max(0.0))?;
    let theta = law.pick(&t);
    let (c, omc, f) = intercept_parts(theta);
    let (slope, l, gain) = if *loss == Loss::L2 {
        // SPEC §3 with 1 − c kept accurate: g = E f / (12 m), k = (1 + c/2) / (m (1 − c)).
        let g = f / (12.0 * m_loss);
        ((1.0 + 0.5 * c) / (m_loss * omc), 1.0 / 3.0 - g, g * embed)
    } else {
        let (k, l) = optimal_slope(loss, c, m_loss)?;
        (k, l, (loss.l0() - l) * embed)
    };
    Ok(GainParts {
        directions,
        theta,
        intercept: c,
        m_loss,
        slope,
        loss: l,
        gain,
    })
}

/// Gain per embedded feature with multiplicity 1 and no interference, at angle θ.
///
/// # Formula
///
/// `g/E = (1 − c)(2 + c)² / 12`, `c = max(cos θ, 0)` (SPEC §3: `g = E (1−c)(2+c)²/(12 m)` at
/// `m = 1`; `l0 − l(c, 1)` with `l(c, 1) = (3c² + c³)/12`). Via [`intercept_parts`], which
/// takes `1 − c` as `2 sin²(θ/2)` so that tiny angles (N = 10^13 in n = 3) keep their digits.
pub fn gain_per_feature(theta: f64) -> f64 {
    intercept_parts(theta).2 / 12.0
}

/// The closed-form symmetric point (no neighbours, `c = max(cos θ, 0)`, small-angle θ law).
pub fn closed_form(
    n: usize,
    embed: u64,
    multiplicity: u64,
    conv: Convention,
    loss: &Loss,
) -> Result<SymmetricPoint> {
    closed_form_with(n, embed, multiplicity, conv, loss, ThetaLaw::SmallAngle)
}

/// [`closed_form`] with a choice of θ law.
pub fn closed_form_with(
    n: usize,
    embed: u64,
    multiplicity: u64,
    conv: Convention,
    loss: &Loss,
    law: ThetaLaw,
) -> Result<SymmetricPoint> {
    let p = evaluate(n, embed as f64, multiplicity as f64, conv, loss, law)?;
    Ok(SymmetricPoint {
        n,
        features: embed,
        embed,
        multiplicity,
        directions: p.directions,
        theta: p.theta,
        intercept: p.intercept,
        slope: p.slope,
        loss: p.loss,
        gain: p.gain,
        cos_theta: p.theta.cos(),
        neighbours: 0.0,
        loss_fn: loss.to_string(),
        convention: conv,
    })
}

/// Partial derivatives of the L2 closed-form gain, `(∂g/∂E, ∂g/∂m)` (`m` is the note's `n_deg`
/// in the note convention), exact for the chosen θ law (module docs).
pub fn gain_derivatives(
    n: usize,
    embed: f64,
    multiplicity: f64,
    conv: Convention,
    law: ThetaLaw,
) -> Result<(f64, f64)> {
    check_counts(embed, multiplicity, conv)?;
    let (_, directions) = conv.split(embed, multiplicity);
    let t = theta_min_ln(n, directions.ln().max(0.0))?;
    let theta = law.pick(&t);
    let (c, _, f) = intercept_parts(theta);
    let f_theta = if c > 0.0 {
        3.0 * c * (2.0 + c) * theta.sin()
    } else {
        0.0
    };
    // θ_D = dθ/d ln D; D below 1 is clamped, as in evaluate (only at D = 1 exactly).
    let theta_d = law.dtheta_dln_directions(n, &t);
    let core = f + f_theta * theta_d;
    Ok(match conv {
        Convention::Consistent => {
            let m = multiplicity;
            (core / (12.0 * m), -embed * core / (12.0 * m * m))
        }
        Convention::Note => {
            let j = multiplicity;
            (
                core / (12.0 * (j + 1.0)),
                -embed * f / (12.0 * (j + 1.0) * (j + 1.0))
                    - embed * f_theta * theta_d / (12.0 * j * (j + 1.0)),
            )
        }
    })
}

/// Lowest-order small-angle derivatives `(∂g/∂E, ∂g/∂m)` at angle `theta` (module docs); the
/// note convention reproduces the note's published formulas.
pub fn small_angle_derivatives(
    n: usize,
    embed: f64,
    multiplicity: f64,
    theta: f64,
    conv: Convention,
) -> (f64, f64) {
    let d = (n - 1) as f64;
    let t2 = theta * theta;
    let k = 9.0 / 24.0;
    match conv {
        Convention::Consistent => {
            let m = multiplicity;
            (
                k / m * (1.0 - 2.0 / d) * t2,
                k * embed / (m * m) * (2.0 / d - 1.0) * t2,
            )
        }
        Convention::Note => {
            let j = multiplicity;
            (
                k / (j + 1.0) * (1.0 - 2.0 / d) * t2,
                k * embed / (j + 1.0) * (2.0 / (j * d) - 1.0 / (j + 1.0)) * t2,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::simpson;
    use crate::prec::{assert_close, rel_diff, REL_FD, REL_TIGHT};

    /// Direct numerical integration of the ReLU responses of the symmetric configuration.
    fn direct_loss(loss: &Loss, c: f64, m: f64, k: f64) -> f64 {
        simpson(
            |x| {
                let y = (k * (x - c)).max(0.0);
                loss.rho(y - x) + (m - 1.0) * loss.rho(y)
            },
            100_000,
        )
    }

    /// SPEC §3 closed forms against direct quadrature of the ReLU response, and the slope is a
    /// minimum (perturbing it raises the loss).
    #[test]
    fn l2_closed_form_matches_quadrature_and_is_a_minimum() {
        for &c in &[0.0, 0.1, 0.5, 0.8, 0.95] {
            for &m in &[1.0, 2.0, 3.0, 7.0] {
                let k = slope_l2(c, m);
                let l = loss_l2(c, m);
                assert_close(direct_loss(&Loss::L2, c, m, k), l, 1e-9);
                assert_close(1.0 / 3.0 - l, gain_factor(c) / (12.0 * m), REL_TIGHT);
                for eps in [1e-3, -1e-3, 0.1, -0.1] {
                    assert!(direct_loss(&Loss::L2, c, m, k * (1.0 + eps)) > l);
                }
                // The numerical slope search finds the same optimum.
                let (kn, ln) = optimal_slope_numeric(&Loss::L2, c, m).unwrap();
                assert_close(kn, k, 1e-6);
                assert_close(ln, l, 1e-12);
            }
        }
    }

    /// Other losses: the numerical optimum is a minimum of the directly integrated loss.
    #[test]
    fn other_losses_slope_is_a_minimum() {
        for loss in [
            Loss::Huber { delta: 0.2 },
            Loss::Huber { delta: 2.0 },
            Loss::L1,
            Loss::Gauss { sigma: 0.3 },
        ] {
            for &c in &[0.0, 0.6, 0.9] {
                for &m in &[1.0, 2.0, 4.0] {
                    let (k, l) = optimal_slope(&loss, c, m).unwrap();
                    if k == 0.0 {
                        assert_eq!(l, loss.l0());
                        continue;
                    }
                    assert_close(direct_loss(&loss, c, m, k), l, 1e-8);
                    for eps in [1e-2, -1e-2, 0.2, -0.2] {
                        assert!(
                            direct_loss(&loss, c, m, k * (1.0 + eps)) >= l - 1e-12,
                            "{loss} c={c} m={m}"
                        );
                    }
                }
            }
        }
        // Huber with δ beyond every error is L2/2: same slope, half the loss.
        let (k, l) = optimal_slope(&Loss::Huber { delta: 50.0 }, 0.5, 2.0).unwrap();
        assert_close(k, slope_l2(0.5, 2.0), 1e-6);
        assert_close(l, 0.5 * loss_l2(0.5, 2.0), 1e-10);
    }

    /// The conventions: consistent uses m in both halves, the note uses j+1 and E/j.
    #[test]
    fn conventions_and_the_degeneracy_identity() {
        let n = 4;
        let e = 300u64;
        let c1 = closed_form(n, e, 3, Convention::Consistent, &Loss::L2).unwrap();
        let th = theta_min_ln(n, (100f64).ln()).unwrap().theta;
        assert_close(c1.theta, th, REL_TIGHT);
        assert_close(c1.gain, 300.0 * gain_factor(th.cos()) / 36.0, REL_TIGHT);
        let nt = closed_form(n, e, 3, Convention::Note, &Loss::L2).unwrap();
        assert_close(nt.theta, th, REL_TIGHT);
        assert_close(nt.gain, 300.0 * gain_factor(th.cos()) / 48.0, REL_TIGHT);
        assert_close(nt.slope, slope_l2(th.cos(), 4.0), REL_TIGHT);
        // SPEC §4 identity: m copies of D directions gain what D single features gain.
        let single = closed_form(n, 100, 1, Convention::Consistent, &Loss::L2).unwrap();
        assert_close(c1.gain, single.gain, REL_TIGHT);
        // Few directions: θ beyond 90° puts the intercept at 0 and every feature is exact.
        let p = closed_form(3, 4, 1, Convention::Consistent, &Loss::L2).unwrap();
        assert!(p.theta > std::f64::consts::FRAC_PI_2);
        assert_eq!(p.intercept, 0.0);
        assert_close(p.gain, 4.0 / 3.0, REL_TIGHT);
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for conv in Convention::ALL {
            for law in [ThetaLaw::SmallAngle, ThetaLaw::Chord] {
                for &n in &[3usize, 4, 6, 9] {
                    for &(e, m) in &[(40.0, 1.0), (40.0, 2.0), (1000.0, 3.0), (1e6, 1.5)] {
                        let (de, dm) = gain_derivatives(n, e, m, conv, law).unwrap();
                        let g =
                            |e: f64, m: f64| evaluate(n, e, m, conv, &Loss::L2, law).unwrap().gain;
                        let he = 1e-5 * e;
                        let hm = 1e-5 * m;
                        let fe = (g(e + he, m) - g(e - he, m)) / (2.0 * he);
                        // One-sided (second order) at the edge m = 1 of the domain.
                        let fm = if m - hm < 1.0 {
                            (-3.0 * g(e, m) + 4.0 * g(e, m + hm) - g(e, m + 2.0 * hm)) / (2.0 * hm)
                        } else {
                            (g(e, m + hm) - g(e, m - hm)) / (2.0 * hm)
                        };
                        assert!(
                            rel_diff(de, fe) < REL_FD || (de - fe).abs() < 1e-9,
                            "{conv} {law} n={n} E={e} m={m}: {de} vs {fe}"
                        );
                        assert!(
                            rel_diff(dm, fm) < REL_FD || (dm - fm).abs() < 1e-6,
                            "{conv} {law} n={n} E={e} m={m}: {dm} vs {fm}"
                        );
                    }
                }
            }
        }
    }

    /// The small-angle formulas are the θ → 0 limit of the exact derivatives: the relative
    /// error falls like θ².
    #[test]
    fn small_angle_derivatives_are_the_limit() {
        for conv in Convention::ALL {
            for &n in &[4usize, 7, 10] {
                // (m = 2 is avoided: the note's ∂g/∂j vanishes at leading order for n = 4, j = 2.)
                for &m in &[1.0, 1.5, 3.0] {
                    let mut errs = vec![];
                    for &e in &[1e8, 1e14] {
                        let p = evaluate(n, e, m, conv, &Loss::L2, ThetaLaw::SmallAngle).unwrap();
                        let (de, dm) =
                            gain_derivatives(n, e, m, conv, ThetaLaw::SmallAngle).unwrap();
                        let (se, sm) = small_angle_derivatives(n, e, m, p.theta, conv);
                        let err = rel_diff(de, se).max(rel_diff(dm, sm));
                        let ratio = err / (p.theta * p.theta);
                        assert!(ratio < 10.0, "{conv} n={n} m={m} E={e}: {err}");
                        errs.push(ratio);
                    }
                    // err / θ² tends to a constant: the error is O(θ²).
                    assert!(
                        rel_diff(errs[0], errs[1]) < 0.05,
                        "{conv} n={n} m={m}: {errs:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(closed_form(3, 0, 1, Convention::Consistent, &Loss::L2).is_err());
        assert!(closed_form(3, 10, 0, Convention::Consistent, &Loss::L2).is_err());
        assert!(closed_form(3, 2, 3, Convention::Note, &Loss::L2).is_err());
        assert!(closed_form(1, 10, 1, Convention::Note, &Loss::L2).is_err());
        assert!(evaluate(
            3,
            f64::NAN,
            1.0,
            Convention::Consistent,
            &Loss::L2,
            ThetaLaw::Chord
        )
        .is_err());
        assert!(closed_form(3, 10, 1, Convention::Note, &Loss::Gauss { sigma: 0.0 }).is_err());
        assert!("nope".parse::<Convention>().is_err());
        assert_eq!("note".parse::<Convention>().unwrap(), Convention::Note);
        assert_eq!("chord".parse::<ThetaLaw>().unwrap(), ThetaLaw::Chord);
    }
}
