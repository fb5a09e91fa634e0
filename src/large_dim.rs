//! The large-n study: the symmetric theory against trained models at n = 16–128 (issue 13).
//!
//! For each trained model `(n, N)` (a sweep folder, [`crate::toy::sweep`]) one [`Row`] puts side
//! by side:
//!
//! * **trained** — median θ_min over directions, median intercept `−b/|W|²`, gain `(l0 − L)·N`,
//!   and `E`, `D`;
//! * **the neighbour models** of [`crate::symmetric`] (optimum over `c`, `m`, `E ≤ N`):
//!   `kissing` (K neighbours at θ, the original), `shell` (a shell at θ holding what the
//!   uniform density puts below θ, the uniform density beyond) and `frame` (the shell at the
//!   largest of the law's, a coding bound's and a known code's θ), each with θ, intercept, gain;
//! * **the collapse model**, predicted leave-one-n-out ([`cross_validate`]): the shell at the θ
//!   of the collapse curve fitted to the codes of the other dimensions ([`crate::collapse`]);
//! * **the random-code baseline** ([`random_code`]): `N` directions drawn uniformly at random,
//!   slopes and biases optimised per feature on the exact loss (how much does packing buy?);
//! * ratios trained / model for the intercept and the gain (`null` where undefined).
//!
//! The result ([`LargeDim`]) is committed as JSON under `docs/large_dim/` by the command it
//! records, and read back by [`markdown_section`] and the figure `plot::LargeDimFig`.

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::gain::argmin_1d;
use crate::gain::ThetaLaw;
use crate::loss::Loss;
use crate::symmetric::{
    configuration_at_theta, frame_theta, optimize_with, NeighbourModel, Options,
};
use crate::toy::diagnostics::quantile;
use crate::toy::sweep::SweepRecord;

/// Trained side of a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedSide {
    /// Median θ_min over directions (radians; null with fewer than two directions).
    pub theta_min: Option<f64>,
    /// Median intercept over embedded features.
    pub intercept: Option<f64>,
    /// Gain `(l0 − L)·N`.
    pub gain: f64,
    /// Embedded features.
    pub embedded: usize,
    /// Distinct directions.
    pub directions: usize,
    /// The trainer's convergence flag.
    pub converged: bool,
}

/// One neighbour model's optimum at `(n, N)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSide {
    /// θ of the law at the optimum's `D`.
    pub theta: f64,
    /// Intercept `c`.
    pub intercept: f64,
    /// Gain.
    pub gain: f64,
    /// Embedded `E`.
    pub embed: u64,
    /// Multiplicity.
    pub multiplicity: u64,
    /// Neighbours in the first shell (`K_eff`).
    pub neighbours: f64,
    /// Where θ comes from (frame model: `law` or the coding bound's name; null otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theta_source: Option<String>,
}

/// The random-code baseline at `(n, N)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomCode {
    /// Gain with slopes and biases optimised per feature.
    pub gain: f64,
    /// Gain with one common slope and intercept (the start of the per-feature optimisation).
    pub gain_common: f64,
    /// Median intercept over embedded features.
    pub intercept: Option<f64>,
    /// Median over directions of the angle to the nearest other direction.
    pub theta_min: f64,
    /// Embedded features.
    pub embedded: usize,
    /// Seed of the directions.
    pub seed: u64,
}

/// One `(n, N)` of the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Model dimension.
    pub n: usize,
    /// Number of features.
    pub features: usize,
    /// The trained model.
    pub trained: TrainedSide,
    /// The original model (K neighbours at θ).
    pub kissing: ModelSide,
    /// The shell model.
    pub shell: ModelSide,
    /// The frame model (the shell model's distribution at the larger of the law's θ and the
    /// coding bound's, [`crate::symmetric::frame_theta`]).
    pub frame: ModelSide,
    /// The shell model at the trained θ_min and the trained `E` (m = 1, D = E): the neighbour
    /// model alone, without the law's θ (null with fewer than two trained directions).
    pub shell_at_trained_theta: Option<ModelSide>,
    /// The shell model at the Welch angle [`welch_theta`] with `E = N`, m = 1: the largest
    /// θ_min a code judged by `|cos|` can have, the far end of the band above the law.
    pub shell_at_welch: ModelSide,
    /// The collapse model ([`crate::symmetric::collapse_theta`]) with its curve fitted to the
    /// codes of the *other* dimensions of the study (leave-one-n-out, [`cross_validate`]): a
    /// prediction, not a fit, of this row; the frame model where the curve is not defined
    /// (null in results written before the model existed).
    #[serde(default)]
    pub collapse: Option<ModelSide>,
    /// The random-code baseline (null when not computed).
    pub random: Option<RandomCode>,
    /// trained / kissing intercept.
    pub ratio_intercept_kissing: Option<f64>,
    /// trained / shell intercept.
    pub ratio_intercept_shell: Option<f64>,
    /// trained / kissing gain.
    pub ratio_gain_kissing: Option<f64>,
    /// trained / shell gain.
    pub ratio_gain_shell: Option<f64>,
    /// trained / frame intercept.
    pub ratio_intercept_frame: Option<f64>,
    /// trained / frame gain.
    pub ratio_gain_frame: Option<f64>,
    /// trained / collapse intercept (leave-one-n-out).
    #[serde(default)]
    pub ratio_intercept_collapse: Option<f64>,
    /// trained / collapse gain (leave-one-n-out).
    #[serde(default)]
    pub ratio_gain_collapse: Option<f64>,
    /// trained / shell-at-trained-θ intercept.
    pub ratio_intercept_shell_trained_theta: Option<f64>,
    /// trained / shell-at-trained-θ gain.
    pub ratio_gain_shell_trained_theta: Option<f64>,
    /// trained / random-code gain.
    pub ratio_gain_random: Option<f64>,
}

/// The study's result as committed under `docs/large_dim/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LargeDim {
    /// The command that trained the sweep.
    pub sweep_command: String,
    /// The command that made this file from the sweep.
    pub command: String,
    /// Rows by `(n, N)`.
    pub rows: Vec<Row>,
}

/// Writes a result as pretty JSON (atomically).
pub fn write(r: &LargeDim, path: &std::path::Path) -> Result<()> {
    let text = serde_json::to_string_pretty(r)
        .map_err(|e| Error::Numerical(format!("serialising the large-n study: {e}")))?;
    crate::toy::sweep::write_atomic(path, format!("{text}\n").as_bytes())
}

/// Reads a result written by [`write`].
pub fn read(path: &std::path::Path) -> Result<LargeDim> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(&text).map_err(|e| match e {
        Error::Parse { why, .. } => Error::parse(path.display().to_string(), why),
        e => e,
    })
}

/// Parses a result from JSON text.
pub fn parse(text: &str) -> Result<LargeDim> {
    serde_json::from_str(text).map_err(|e| Error::parse("large-n study", e.to_string()))
}

/// The committed result (`docs/large_dim/result.json`, made by the command it records).
pub const COMMITTED: &str = include_str!("../docs/large_dim/result.json");

/// The committed result, parsed.
pub fn committed() -> Result<LargeDim> {
    parse(COMMITTED)
}

/// Where the matched neighbour model was checked against training, and how well: what
/// `extrapolate` prints beside its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extrapolation {
    /// The model that matched training best ([`matched_model`]).
    pub model: NeighbourModel,
    /// Smallest n checked.
    pub min_n: usize,
    /// Largest n checked.
    pub max_n: usize,
    /// Smallest N checked.
    pub min_features: usize,
    /// Largest N checked.
    pub max_features: usize,
    /// Largest |trained/model − 1| of the intercept at `max_n` (null where every model
    /// intercept there is 0, e.g. θ = π/2 at N ≤ 2n: no ratio).
    pub intercept_error: Option<f64>,
    /// Largest |trained − model| of the intercept at `max_n` (absolute).
    pub intercept_abs_error: f64,
    /// Largest |trained/model − 1| of the gain at `max_n`.
    pub gain_error: f64,
    /// Largest |trained/model − 1| of the intercept over every row at n ≥ 16.
    pub intercept_error_all: Option<f64>,
    /// Largest |trained/model − 1| of the gain over every row at n ≥ 16.
    pub gain_error_all: Option<f64>,
    /// The checked grid: per trained n, the smallest and largest N.
    pub grid: Vec<(usize, usize, usize)>,
}

impl Extrapolation {
    /// Whether `(n, N)` lies within the checked grid: between two trained dimensions
    /// `n₁ ≤ n ≤ n₂` (or at one), with `N` inside the range of `N` trained at both.
    pub fn covers(&self, n: usize, features: f64) -> bool {
        let below = self.grid.iter().filter(|g| g.0 <= n).max_by_key(|g| g.0);
        let above = self.grid.iter().filter(|g| g.0 >= n).min_by_key(|g| g.0);
        match (below, above) {
            (Some(a), Some(b)) => {
                let lo = a.1.max(b.1) as f64;
                let hi = a.2.min(b.2) as f64;
                features >= lo && features <= hi
            }
            _ => false,
        }
    }
}

/// Rows at `n ≥` this count as large n (the targets of issue 13 and [`matched_model`]).
pub const LARGE_N: usize = 16;
/// The targets: intercept within 5 %, gain within 2 % of training.
pub const TARGET_INTERCEPT: f64 = 0.05;
/// See [`TARGET_INTERCEPT`].
pub const TARGET_GAIN: f64 = 0.02;

/// Ratio columns `(intercept, gain)` of a model.
type Pick = fn(&Row) -> Option<f64>;
fn picks(model: NeighbourModel) -> (Pick, Pick) {
    match model {
        NeighbourModel::Kissing => (|x| x.ratio_intercept_kissing, |x| x.ratio_gain_kissing),
        NeighbourModel::Shell => (|x| x.ratio_intercept_shell, |x| x.ratio_gain_shell),
        NeighbourModel::Frame => (|x| x.ratio_intercept_frame, |x| x.ratio_gain_frame),
        NeighbourModel::Collapse => (|x| x.ratio_intercept_collapse, |x| x.ratio_gain_collapse),
    }
}

/// The neighbour model that matched training best at large n: the smallest
/// `max(|intercept ratio − 1| / 5 %, |gain ratio − 1| / 2 %)` over the rows at `n ≥ 16` (ties
/// to the earlier of [`NeighbourModel::ALL`]; null without such rows).
pub fn matched_model(r: &LargeDim) -> Option<NeighbourModel> {
    let score = |m: NeighbourModel| {
        let (ci, cg) = picks(m);
        let i = worst(&r.rows, LARGE_N, ci)?;
        let g = worst(&r.rows, LARGE_N, cg)?;
        Some((i / TARGET_INTERCEPT).max(g / TARGET_GAIN))
    };
    NeighbourModel::ALL
        .iter()
        .filter_map(|&m| score(m).map(|s| (m, s)))
        .fold(None, |best: Option<(NeighbourModel, f64)>, x| match best {
            Some(b) if b.1 <= x.1 => Some(b),
            _ => Some(x),
        })
        .map(|b| b.0)
}

/// The check of a result (see [`Extrapolation`]), for the model that matched best.
pub fn extrapolation_of(r: &LargeDim) -> Result<Extrapolation> {
    let none = || {
        Error::invalid(
            "large-n study",
            "no row at n ≥ 16 with both ratios of a neighbour model",
        )
    };
    let model = matched_model(r).ok_or_else(none)?;
    let (max_n, ie, ge, ia) = error_at_largest_n(r, model).ok_or_else(none)?;
    let feats = r.rows.iter().map(|x| x.features);
    let mut grid: Vec<(usize, usize, usize)> = Vec::new();
    for x in r.rows.iter().filter(|x| x.n >= LARGE_N) {
        match grid.iter_mut().find(|g| g.0 == x.n) {
            Some(g) => {
                g.1 = g.1.min(x.features);
                g.2 = g.2.max(x.features);
            }
            None => grid.push((x.n, x.features, x.features)),
        }
    }
    grid.sort_unstable();
    Ok(Extrapolation {
        grid,
        model,
        min_n: r.rows.iter().map(|x| x.n).min().unwrap_or(max_n),
        max_n,
        min_features: feats.clone().min().unwrap_or(0),
        max_features: feats.max().unwrap_or(0),
        intercept_error: ie,
        intercept_abs_error: ia,
        intercept_error_all: worst(&r.rows, LARGE_N, picks(model).0),
        gain_error_all: worst(&r.rows, LARGE_N, picks(model).1),
        gain_error: ge,
    })
}

/// The check of the committed result.
pub fn extrapolation_check() -> Result<Extrapolation> {
    extrapolation_of(&committed()?)
}

/// A neighbour model at `(n, N)` with every feature embedded once (`E = D = N`, m = 1) at its
/// θ: `(gain per feature, intercept, θ)`. `N` is real (up to 10^15): it is rounded to an
/// integer count.
pub fn model_extrapolation(
    model: NeighbourModel,
    n: usize,
    features: f64,
) -> Result<(f64, f64, f64)> {
    if !features.is_finite() || !(1.0..=1e15).contains(&features) {
        return Err(Error::invalid(
            "number of features N",
            format!("{features} must lie in 1..=1e15"),
        ));
    }
    let nf = features.round() as u64;
    let p = crate::symmetric::configuration(
        n,
        nf,
        nf,
        1,
        &Loss::L2,
        &Options {
            model,
            ..Options::default()
        },
    )?;
    Ok((p.gain / nf as f64, p.intercept, p.theta))
}

/// Where a neighbour model's θ comes from at `D` directions in `R^n`: the frame model's
/// source (`law`, a coding bound, `known code`), the collapse model's (`collapse fit`, `known
/// code`, or `frame: …` where the curve is not defined), or the model's name.
pub fn theta_source(model: NeighbourModel, n: usize, d: f64) -> Result<String> {
    let frame = || -> Result<String> { Ok(frame_theta(n, d, ThetaLaw::default())?.source.into()) };
    Ok(match model {
        NeighbourModel::Frame => frame()?,
        NeighbourModel::Collapse => match crate::symmetric::collapse_theta(n, d) {
            Some((_, src)) => src.into(),
            None => format!("frame: {}", frame()?),
        },
        m => m.to_string(),
    })
}

/// Settings of [`rows`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Compute the random-code baseline (costs one L-BFGS run per row).
    pub random: bool,
    /// L-BFGS iterations of the random-code baseline.
    pub random_iters: u64,
    /// Seed of the random codes.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            random: true,
            random_iters: 400,
            seed: 0,
        }
    }
}

/// `a / b`, null where `a` is or `|b| < 10⁻⁹` (an intercept of 0 up to rounding, e.g. at θ =
/// π/2, has no meaningful ratio).
fn ratio(a: Option<f64>, b: f64) -> Option<f64> {
    a.filter(|_| b.abs() >= 1e-9)
        .map(|a| a / b)
        .filter(|r| r.is_finite())
}

fn model_side(n: usize, features: usize, model: NeighbourModel) -> Result<ModelSide> {
    let p = optimize_with(
        n,
        features as u64,
        &Loss::L2,
        &Options {
            model,
            ..Options::default()
        },
    )?;
    let mut side = side_of(&p);
    if matches!(model, NeighbourModel::Frame | NeighbourModel::Collapse) {
        side.theta_source = Some(theta_source(model, n, p.directions)?);
    }
    Ok(side)
}

fn side_of(p: &crate::gain::SymmetricPoint) -> ModelSide {
    ModelSide {
        theta: p.theta,
        intercept: p.intercept,
        gain: p.gain,
        embed: p.embed,
        multiplicity: p.multiplicity,
        neighbours: p.neighbours,
        theta_source: None,
    }
}

/// One row from a trained model (L2, exact loss).
pub fn row(rec: &SweepRecord, s: &Settings) -> Result<Row> {
    let r = &rec.report;
    if r.loss_fn != "l2" {
        return Err(Error::invalid(
            "model",
            format!("the large-n study compares L2 models, not {}", r.loss_fn),
        ));
    }
    let trained = TrainedSide {
        theta_min: r.theta_min_median,
        intercept: r.intercept_median,
        gain: r.gain,
        embedded: r.embedded,
        directions: r.directions,
        converged: r.converged,
    };
    let random = if s.random {
        Some(random_code(r.n, r.features, s.seed, s.random_iters)?)
    } else {
        None
    };
    row_of(r.n, r.features, trained, random)
}

/// The trained part of a row of a result written by [`write`], also by an earlier version
/// (other fields ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TrainedRow {
    /// Model dimension.
    pub n: usize,
    /// Number of features.
    pub features: usize,
    /// The trained model.
    pub trained: TrainedSide,
    /// The random-code baseline.
    pub random: Option<RandomCode>,
}

/// The trained rows of a result file (see [`TrainedRow`]).
pub fn read_trained(path: &std::path::Path) -> Result<Vec<TrainedRow>> {
    #[derive(Deserialize)]
    struct File {
        rows: Vec<TrainedRow>,
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let f: File = serde_json::from_str(&text)
        .map_err(|e| Error::parse(path.display().to_string(), e.to_string()))?;
    Ok(f.rows)
}

/// A row re-derived from the trained side (and random code) of an earlier result's row: the
/// neighbour models are recomputed, the training is kept (what `large-dim --keep` does for
/// models trained by an earlier sweep).
pub fn rederive(old: &TrainedRow) -> Result<Row> {
    row_of(old.n, old.features, old.trained.clone(), old.random.clone())
}

fn row_of(
    n: usize,
    features: usize,
    trained: TrainedSide,
    random: Option<RandomCode>,
) -> Result<Row> {
    let kissing = model_side(n, features, NeighbourModel::Kissing)?;
    let shell = model_side(n, features, NeighbourModel::Shell)?;
    let frame = model_side(n, features, NeighbourModel::Frame)?;
    let welch = side_of(&configuration_at_theta(
        n,
        features as u64,
        features as u64,
        1,
        welch_theta(n, features as f64),
        &Loss::L2,
        &Options {
            model: NeighbourModel::Shell,
            ..Options::default()
        },
    )?);
    let at = match trained.theta_min {
        Some(t) if trained.directions >= 2 && trained.embedded >= 2 => {
            Some(side_of(&configuration_at_theta(
                n,
                features as u64,
                trained.embedded as u64,
                1,
                t,
                &Loss::L2,
                &Options {
                    model: NeighbourModel::Shell,
                    ..Options::default()
                },
            )?))
        }
        _ => None,
    };
    Ok(Row {
        n,
        features,
        ratio_intercept_kissing: ratio(trained.intercept, kissing.intercept),
        ratio_intercept_shell: ratio(trained.intercept, shell.intercept),
        ratio_gain_kissing: ratio(Some(trained.gain), kissing.gain),
        ratio_gain_shell: ratio(Some(trained.gain), shell.gain),
        ratio_intercept_frame: ratio(trained.intercept, frame.intercept),
        ratio_gain_frame: ratio(Some(trained.gain), frame.gain),
        ratio_gain_random: random
            .as_ref()
            .and_then(|x| ratio(Some(trained.gain), x.gain)),
        ratio_intercept_shell_trained_theta: at
            .as_ref()
            .and_then(|a| ratio(trained.intercept, a.intercept)),
        ratio_gain_shell_trained_theta: at.as_ref().and_then(|a| ratio(Some(trained.gain), a.gain)),
        shell_at_trained_theta: at,
        shell_at_welch: welch,
        trained,
        kissing,
        shell,
        frame,
        collapse: None,
        ratio_intercept_collapse: None,
        ratio_gain_collapse: None,
        random,
    })
}

/// The rows of a study sorted by `(n, N)`, with their collapse model filled in by
/// [`cross_validate`].
pub fn finish(mut rows: Vec<Row>) -> Result<Vec<Row>> {
    rows.sort_by_key(|r| (r.n, r.features));
    cross_validate(&mut rows)?;
    Ok(rows)
}

/// Fills each row's collapse model with the collapse curve fitted to the trained codes of every
/// *other* `n` of the study ([`crate::collapse::leave_one_n_out`]), so that its ratios measure
/// how well the model predicts a dimension it has not seen: the shell model at
/// `max(θ_fit, θ_known)` with `E = N`, m = 1 where that curve is defined, the frame model
/// elsewhere (as [`crate::symmetric::collapse_theta`] decides for the committed curve).
pub fn cross_validate(rows: &mut [Row]) -> Result<()> {
    let points: Vec<Option<CollapsePoint>> = rows.iter().map(point_of).collect();
    let all: Vec<CollapsePoint> = points.iter().flatten().copied().collect();
    let predicted = crate::collapse::leave_one_n_out(&all);
    let mut next = predicted.into_iter();
    for (row, p) in rows.iter_mut().zip(&points) {
        let z = match p {
            Some(_) => next.next().flatten(),
            None => None,
        };
        // Null for the codes the fit leaves out (D ≤ 2n among them) and uncovered α.
        let d = row.features as f64;
        let theta = z.map(|z| crate::collapse::theta_of_z(row.n, z));
        let side = match theta {
            Some(t) => {
                let (t, src) = match crate::symmetric::above_known(row.n, d, t) {
                    (t, "collapse fit") => (t, format!("collapse fit without n = {}", row.n)),
                    (t, src) => (t, src.to_string()),
                };
                let mut side = side_of(&configuration_at_theta(
                    row.n,
                    row.features as u64,
                    row.features as u64,
                    1,
                    t,
                    &Loss::L2,
                    &Options {
                        model: NeighbourModel::Shell,
                        ..Options::default()
                    },
                )?);
                side.theta_source = Some(src);
                side
            }
            None => {
                let mut side = row.frame.clone();
                side.theta_source = Some(format!(
                    "frame: {}",
                    row.frame.theta_source.as_deref().unwrap_or("law")
                ));
                side
            }
        };
        row.ratio_intercept_collapse = ratio(row.trained.intercept, side.intercept);
        row.ratio_gain_collapse = ratio(Some(row.trained.gain), side.gain);
        row.collapse = Some(side);
    }
    Ok(())
}

/// A row's trained code on the collapse axes (null below n = 16 or without a trained θ).
fn point_of(x: &Row) -> Option<CollapsePoint> {
    let t = x.trained.theta_min?;
    (x.n >= LARGE_N).then(|| CollapsePoint {
        n: x.n,
        features: x.features,
        alpha: x.trained.directions as f64 / x.n as f64,
        z: (x.n as f64).sqrt() * t.cos(),
    })
}

/// The Welch angle: no `N` lines in `R^n` have all pairwise `|cos| < √((N − n)/(n (N − 1)))`
/// (Welch 1974), so this is the largest possible minimal angle of a code whose pairs are
/// judged by `|cos|`; `π/2` for `N ≤ n` (orthogonal directions).
///
/// # Formula
///
/// `θ_W = arccos √((N − n) / (n (N − 1)))`.
pub fn welch_theta(n: usize, features: f64) -> f64 {
    let nf = n as f64;
    if features <= nf {
        return std::f64::consts::FRAC_PI_2;
    }
    ((features - nf) / (nf * (features - 1.0))).sqrt().acos()
}

/// Rows of every record, by `(n, N)`.
pub fn rows(records: &[SweepRecord], s: &Settings) -> Result<Vec<Row>> {
    records.iter().map(|r| row(r, s)).collect()
}

/// `N` uniform random unit vectors in `R^n` (Gaussian, normalised; ChaCha8 seeded), column-major
/// `n × N`.
pub fn random_directions(n: usize, features: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = vec![0.0f64; n * features];
    for p in v.chunks_mut(n) {
        let mut s = 0.0;
        for x in p.iter_mut() {
            *x = rng.sample::<f64, _>(StandardNormal);
            s += *x * *x;
        }
        let s = s.sqrt();
        p.iter_mut().for_each(|x| *x /= s);
    }
    v
}

/// Cosines `cos_ij` (`i ≠ j`) of unit columns, row-major `N × N` (the diagonal is 1).
fn gram(n: usize, features: usize, u: &[f64]) -> Vec<f64> {
    let mut g = vec![1.0; features * features];
    for i in 0..features {
        for j in (i + 1)..features {
            let c: f64 = u[i * n..(i + 1) * n]
                .iter()
                .zip(&u[j * n..(j + 1) * n])
                .map(|(a, b)| a * b)
                .sum();
            g[i * features + j] = c;
            g[j * features + i] = c;
        }
    }
    g
}

/// The mean cross-term sum `(1/N) Σ_i Σ_{j≠i} (cos_ij − c)₊³ / (3 cos_ij)` of a code: the
/// `A₁ − (1 − c)³/3` of [`crate::symmetric`]'s L2 formula when every feature has slope `k` and
/// intercept `c` (each pair fires once `cos_ij > c`).
pub fn mean_cross_sum(features: usize, cos: &[f64], c: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..features {
        for j in 0..features {
            let g = cos[i * features + j];
            if i != j && g > c {
                s += (g - c).powi(3) / (3.0 * g);
            }
        }
    }
    s / features as f64
}

/// Common slope and intercept for a code with cosines `cos`: `(gain, c, k)`.
///
/// # Formula
///
/// With slope `k` and intercept `c` for every feature, the L2 loss per feature is
/// `1/3 − 2kB + k²A` (the symmetric model's form with the actual pairs), `B = (1−c)²(2+c)/6`,
/// `A = (1−c)³/3 + mean_cross_sum(c)`; so `k* = B/A`, gain `N B²/A`, maximised over
/// `c ∈ [0, 1)` by [`argmin_1d`] (grid of 41 and Brent).
fn common_optimum(features: usize, cos: &[f64]) -> Result<(f64, f64, f64)> {
    #[derive(Clone, Copy)]
    struct P<'a> {
        nf: usize,
        cos: &'a [f64],
    }
    impl P<'_> {
        fn at(&self, c: f64) -> (f64, f64) {
            let omc = 1.0 - c;
            let b = omc * omc * (2.0 + c) / 6.0;
            let a = omc.powi(3) / 3.0 + mean_cross_sum(self.nf, self.cos, c);
            (b * b / a, b / a)
        }
    }
    impl CostFunction for P<'_> {
        type Param = f64;
        type Output = f64;
        fn cost(&self, c: &f64) -> std::result::Result<f64, argmin::core::Error> {
            Ok(-self.at(*c).0)
        }
    }
    let p = P { nf: features, cos };
    let (c, _) = argmin_1d(p, 0.0, 0.99, 41)?;
    let c = c.clamp(0.0, 0.99);
    let (g, k) = p.at(c);
    Ok((g * features as f64, c, k))
}

/// L-BFGS over per-feature amplitude `a_i` and bias root `β_i` (`W_i = a_i u_i`,
/// `b_i = −β_i²`) with the directions `u_i` fixed.
struct FixedDirections<'a> {
    n: usize,
    features: usize,
    u: &'a [f64],
}

impl FixedDirections<'_> {
    fn model(&self, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (n, nf) = (self.n, self.features);
        let mut w = vec![0.0; n * nf];
        for i in 0..nf {
            for d in 0..n {
                w[i * n + d] = x[i] * self.u[i * n + d];
            }
        }
        let b = x[nf..].iter().map(|t| -t * t).collect();
        (w, b)
    }
}

impl CostFunction for FixedDirections<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        let (w, b) = self.model(x);
        Ok(crate::toy::exact::eval(self.n, &w, &b, &Loss::L2, None))
    }
}

impl Gradient for FixedDirections<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        let (n, nf) = (self.n, self.features);
        let (w, b) = self.model(x);
        let mut gw = vec![0.0; n * nf];
        let mut gb = vec![0.0; nf];
        crate::toy::exact::eval(n, &w, &b, &Loss::L2, Some((&mut gw, &mut gb)));
        let mut g = vec![0.0; 2 * nf];
        for i in 0..nf {
            // ∂L/∂a_i = u_i · ∂L/∂W_i; ∂L/∂β_i = ∂L/∂b_i · (−2β_i).
            g[i] = (0..n).map(|d| gw[i * n + d] * self.u[i * n + d]).sum();
            g[nf + i] = -2.0 * x[nf + i] * gb[i];
        }
        Ok(g)
    }
}

/// The random-code baseline: `N` random directions in `R^n` (seed `seed`), slopes and biases
/// optimised on the exact L2 loss.
///
/// # Formula
///
/// Start from the best common slope and intercept ([`common_optimum`]), then L-BFGS
/// (`iters` iterations at most) over the `2N` per-feature amplitudes and bias roots with the
/// directions fixed. Gain `(1/3 − L)·N`; the per-feature gain is never below the common one
/// (the start is kept if L-BFGS does not improve it).
pub fn random_code(n: usize, features: usize, seed: u64, iters: u64) -> Result<RandomCode> {
    if n < 2 || features < 2 {
        return Err(Error::invalid("random code", "needs n ≥ 2 and N ≥ 2"));
    }
    let u = random_directions(n, features, seed);
    let cos = gram(n, features, &u);
    let (gain_common, c, k) = common_optimum(features, &cos)?;
    let mut x = vec![k.sqrt(); features];
    x.extend(std::iter::repeat((k * c).sqrt()).take(features));
    let problem = FixedDirections { n, features, u: &u };
    let start = problem
        .cost(&x)
        .map_err(|e| Error::Numerical(e.to_string()))?;
    let ls = MoreThuenteLineSearch::new()
        .with_bounds(f64::EPSILON.sqrt(), 1e4)
        .map_err(|e| Error::Numerical(e.to_string()))?;
    let solver = LBFGS::new(ls, 10)
        .with_tolerance_grad(1e-12)
        .and_then(|s| s.with_tolerance_cost(1e-16))
        .map_err(|e| Error::Numerical(e.to_string()))?;
    let mut loss = start;
    if iters > 0 {
        let res = Executor::new(problem, solver)
            .configure(|s| s.param(x.clone()).max_iters(iters))
            .run();
        if let Ok(res) = res {
            let st = res.state();
            if st.get_best_cost() < loss {
                if let Some(p) = st.get_best_param() {
                    x = p.clone();
                    loss = st.get_best_cost();
                }
            }
        }
    }
    let mut intercepts = Vec::new();
    for i in 0..features {
        let (kk, b) = (x[i] * x[i], -x[features + i] * x[features + i]);
        if kk + b > 0.0 {
            intercepts.push(-b / kk);
        }
    }
    intercepts.sort_by(f64::total_cmp);
    let mut nearest: Vec<f64> = (0..features)
        .map(|i| {
            (0..features)
                .filter(|&j| j != i)
                .map(|j| cos[i * features + j])
                .fold(-1.0, f64::max)
                .clamp(-1.0, 1.0)
                .acos()
        })
        .collect();
    nearest.sort_by(f64::total_cmp);
    Ok(RandomCode {
        gain: (1.0 / 3.0 - loss) * features as f64,
        gain_common,
        intercept: quantile(&intercepts, 0.5),
        theta_min: quantile(&nearest, 0.5).unwrap_or(f64::NAN),
        embedded: intercepts.len(),
        seed,
    })
}

fn f3(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{v:.3}"))
}

/// The comparison table (markdown): per `(n, N)`, trained against both models and the random
/// code, with the ratios trained / model.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| n | N | trained θ_min | law θ | frame θ (source) | collapse θ | trained c | c / kissing | c / shell | c / frame | c / collapse | trained gain | frame gain | random gain | gain / kissing | gain / shell | gain / frame | gain / collapse | gain / random |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let collapse = r.collapse.as_ref().map_or_else(
            || "–".into(),
            |c| match c.theta_source.as_deref() {
                Some(src) if src.starts_with("collapse") => format!("{:.3}", c.theta),
                Some(src) => format!("{:.3} ({src})", c.theta),
                None => format!("{:.3}", c.theta),
            },
        );
        s.push_str(&format!(
            "| {} | {} | {} | {:.3} | {:.3} ({}) | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {} |\n",
            r.n,
            r.features,
            f3(r.trained.theta_min),
            r.shell.theta,
            r.frame.theta,
            r.frame.theta_source.as_deref().unwrap_or("–"),
            collapse,
            f3(r.trained.intercept),
            f3(r.ratio_intercept_kissing),
            f3(r.ratio_intercept_shell),
            f3(r.ratio_intercept_frame),
            f3(r.ratio_intercept_collapse),
            r.trained.gain,
            r.frame.gain,
            r.random.as_ref().map_or_else(|| "–".into(), |x| format!("{:.1}", x.gain)),
            f3(r.ratio_gain_kissing),
            f3(r.ratio_gain_shell),
            f3(r.ratio_gain_frame),
            f3(r.ratio_gain_collapse),
            f3(r.ratio_gain_random),
        ));
    }
    s
}

pub use crate::collapse::CollapsePoint;

/// The trained codes at `n ≥` [`LARGE_N`] on the axes `α = D/n`, `z = √n cos θ_min`, sorted by
/// `α` then `n`: at large n, where the law's θ stops applying and the line bounds are met only
/// near `D ≈ 8n`, the trained codes at different n fall close to one curve `z(α)` (the report
/// prints how close).
///
/// # Formula
///
/// `α = D/n`, `z = √n cos θ̃` with `θ̃` the trained median θ_min. (For lines Welch's bound
/// puts the largest `|cos|` at `z ≥ √((D − n)/(D − 1))`, just below 1; a random code's nearest
/// neighbour sits at `z ≈ √(2 ln D)`, the largest of `D − 1` standard normals.)
pub fn collapse(r: &LargeDim) -> Vec<CollapsePoint> {
    let mut out: Vec<CollapsePoint> = r.rows.iter().filter_map(point_of).collect();
    out.sort_by(|a, b| a.alpha.total_cmp(&b.alpha).then(a.n.cmp(&b.n)));
    out
}

/// Largest `|ratio − 1|` of a column over rows at `n ≥ min_n` (null if none).
pub fn worst(rows: &[Row], min_n: usize, pick: impl Fn(&Row) -> Option<f64>) -> Option<f64> {
    rows.iter()
        .filter(|r| r.n >= min_n)
        .filter_map(&pick)
        .map(|x| (x - 1.0).abs())
        .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))))
}

/// The report section: the table, the worst deviations of each model, and the commands.
pub fn markdown_section(r: &LargeDim) -> String {
    let pct = |x: Option<f64>| x.map_or_else(|| "–".into(), |v| format!("{:.1} %", 100.0 * v));
    let min_n = LARGE_N;
    let mut s = String::from("## Large n: the symmetric theory against training\n\n");
    s.push_str(
        "Trained models (exact loss, L2) beside the three neighbour models of the symmetric \
         theory (`kissing`: K neighbours at the law's θ, K the kissing number of d = n − 1; \
         `shell`: a shell at the law's θ holding what the uniform density puts below θ, the \
         uniform density beyond; `frame`: the shell model's distribution at the larger of the \
         law's θ and the coding bound's — simplex, cross-polytope, Welch or Levenshtein's \
         bound for lines, `symmetric::frame_theta`; `collapse`: the shell model's distribution \
         at the θ of the collapse curve `z(α, n)` below, fitted to the trained codes of the \
         *other* dimensions of this table — leave-one-n-out, so each of its ratios is a \
         prediction of a dimension the curve has not seen; the frame model where the curve is \
         not defined, `large_dim::cross_validate`) and a random code (directions drawn \
         uniformly, slopes and biases optimised per feature). θ is taken at each model's \
         optimal D; c is the intercept; ratios are trained / model.\n\n",
    );
    s.push_str(&table(&r.rows));
    s.push_str(&format!("\nLargest deviation at n ≥ {min_n}:"));
    for m in NeighbourModel::ALL {
        let (ci, cg) = picks(m);
        s.push_str(&format!(
            " {m}: intercept {}, gain {};",
            pct(worst(&r.rows, min_n, ci)),
            pct(worst(&r.rows, min_n, cg))
        ));
    }
    s.pop();
    s.push_str(&format!(
        ". Targets: intercept within {:.0} %, gain within {:.0} %.",
        100.0 * TARGET_INTERCEPT,
        100.0 * TARGET_GAIN
    ));
    if let Some(m) = matched_model(r) {
        s.push_str(&format!(" Matched best (what `extrapolate` uses): {m}."));
    }
    s.push_str("\n\n");
    let points = collapse(r);
    if !points.is_empty() {
        s.push_str(
            "The trained codes on the axes `α = D/n` and `z = √n cos θ_min` (`large_dim::collapse`; \
             for lines Welch's bound puts the largest |cos| at z ≥ √((D − n)/(D − 1)), just \
             below 1; a random code's nearest neighbour is at z ≈ √(2 ln D)), with the collapse \
             curve's prediction from the other dimensions' codes (`collapse::leave_one_n_out`; \
             – where the fit leaves the code out, D ≤ 2n, D above the kissing number of \
             d = n − 1 or θ pinned to a known code's angle, or where the other dimensions do \
             not reach its α):\n\n\
             | α = D/n | n | N | z = √n cos θ_min | z predicted without this n | cos θ predicted / trained |\n\
             |---|---|---|---|---|---|\n",
        );
        let predicted = crate::collapse::leave_one_n_out(&points);
        for (p, q) in points.iter().zip(&predicted) {
            s.push_str(&format!(
                "| {:.1} | {} | {} | {:.3} | {} | {} |\n",
                p.alpha,
                p.n,
                p.features,
                p.z,
                f3(*q),
                f3(q.map(|q| q / p.z))
            ));
        }
        s.push('\n');
        if let Some(f) = crate::collapse::fit(&points) {
            let worst = predicted
                .iter()
                .zip(&points)
                .filter_map(|(q, p)| q.map(|q| (q / p.z - 1.0).abs()))
                .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))));
            s.push_str(&format!(
                "Fitted to all {} usable codes (`collapse::fit`): z = {:.4} + {:.4} ln α {:+.4} \
                 ln² α {:+.4}/√n, for α in [{:.1}, {:.1}] (fitted on n = {}–{}); largest \
                 leave-one-n-out error of cos θ {}.\n\n",
                f.points,
                f.coef[0],
                f.coef[1],
                f.coef[2],
                f.coef[3],
                f.alpha_range.0,
                f.alpha_range.1,
                f.n_range.0,
                f.n_range.1,
                pct(worst)
            ));
        }
    }
    s.push_str(&format!(
        "Sweep: `{}`\n\nTable: `{}`\n",
        r.sweep_command, r.command
    ));
    s
}

/// The measured error of a neighbour model at the largest `n` of a study with a gain ratio:
/// `(n, largest |intercept ratio − 1| (null if no row there has one), largest |gain ratio −
/// 1|, largest |trained − model| intercept)` over the rows at that `n`.
pub fn error_at_largest_n(
    r: &LargeDim,
    model: NeighbourModel,
) -> Option<(usize, Option<f64>, f64, f64)> {
    let (ci, cg) = picks(model);
    let n = r
        .rows
        .iter()
        .filter(|x| cg(x).is_some())
        .map(|x| x.n)
        .max()?;
    let at: Vec<Row> = r.rows.iter().filter(|x| x.n == n).cloned().collect();
    let side = |x: &Row| match model {
        NeighbourModel::Kissing => x.kissing.intercept,
        NeighbourModel::Shell => x.shell.intercept,
        NeighbourModel::Frame => x.frame.intercept,
        NeighbourModel::Collapse => x.collapse.as_ref().map_or(f64::NAN, |c| c.intercept),
    };
    let abs = at
        .iter()
        .filter_map(|x| x.trained.intercept.map(|c| (c - side(x)).abs()))
        .filter(|e| e.is_finite())
        .fold(0.0, f64::max);
    Some((n, worst(&at, n, ci), worst(&at, n, cg)?, abs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::assert_close;

    /// The per-feature optimum of a random code gains at least the common optimum, and the
    /// common optimum's gain is what the exact loss gives at that (k, c).
    #[test]
    fn random_code_per_feature_beats_common() {
        let (n, nf) = (8, 48);
        let r = random_code(n, nf, 3, 200).unwrap();
        assert!(r.gain >= r.gain_common * (1.0 - 1e-12), "{r:?}");
        let u = random_directions(n, nf, 3);
        let cos = gram(n, nf, &u);
        let (g, c, k) = common_optimum(nf, &cos).unwrap();
        let w: Vec<f64> = u.iter().map(|x| x * k.sqrt()).collect();
        let b = vec![-k * c; nf];
        let l = crate::toy::exact::eval(n, &w, &b, &Loss::L2, None);
        assert_close(g, (1.0 / 3.0 - l) * nf as f64, 1e-9);
        // Orthogonal directions (n ≥ N) cannot interfere: every feature gains 1/3.
        let r = random_code(64, 2, 0, 0).unwrap();
        assert!(r.gain <= 2.0 / 3.0 + 1e-12 && r.gain > 0.6, "{r:?}");
    }

    /// The gradient of the fixed-direction problem against central differences.
    #[test]
    fn fixed_direction_gradient_matches_finite_differences() {
        let (n, nf) = (5, 7);
        let u = random_directions(n, nf, 1);
        let p = FixedDirections {
            n,
            features: nf,
            u: &u,
        };
        let x: Vec<f64> = (0..2 * nf).map(|i| 0.6 + 0.05 * i as f64).collect();
        let g = p.gradient(&x).unwrap();
        for i in 0..2 * nf {
            let h = 1e-6;
            let (mut a, mut b) = (x.clone(), x.clone());
            a[i] += h;
            b[i] -= h;
            let fd = (p.cost(&a).unwrap() - p.cost(&b).unwrap()) / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-7, "{i}: {fd} vs {}", g[i]);
        }
    }

    /// The collapse axes of a code of known geometry: a cross-polytope row (D = 2n, θ = π/2)
    /// has z = 0 at α = 2; a row of D = 4n at cos θ = ½/√n has z = ½; rows below n = 16 and
    /// without θ are left out, and the points come sorted by α.
    #[test]
    fn collapse_puts_known_codes_where_they_belong() {
        let mut r = committed().unwrap();
        let template = r.rows[0].clone();
        let row = |n: usize, d: usize, theta: Option<f64>| {
            let mut x = template.clone();
            x.n = n;
            x.features = d;
            x.trained.directions = d;
            x.trained.theta_min = theta;
            x
        };
        r.rows = vec![
            row(64, 256, Some((0.5 / 8.0f64).acos())),
            row(32, 64, Some(std::f64::consts::FRAC_PI_2)),
            row(8, 64, Some(1.0)),
            row(16, 32, None),
        ];
        let p = collapse(&r);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].n, p[0].alpha), (32, 2.0));
        assert!(p[0].z.abs() < 1e-15);
        assert_eq!((p[1].n, p[1].alpha), (64, 4.0));
        assert_close(p[1].z, 0.5, 1e-12);
        assert!(markdown_section(&r).contains("| 4.0 | 64 | 256 | 0.500 | – | – |"));
    }

    /// Leave-one-n-out on the committed study: a row's collapse model is the shell model at the
    /// angle of the curve fitted without that row's n (so changing that row's own trained θ
    /// does not move it), and the frame model where the fit leaves the row out.
    #[test]
    fn cross_validation_predicts_each_dimension_from_the_others() {
        let r = committed().unwrap();
        let mut rows = r.rows.clone();
        let i = rows
            .iter()
            .position(|x| (x.n, x.features) == (32, 512))
            .unwrap();
        let before = finish(rows.clone()).unwrap()[i].clone();
        let c = before.collapse.clone().unwrap();
        assert_eq!(
            c.theta_source.as_deref(),
            Some("collapse fit without n = 32")
        );
        let others: Vec<CollapsePoint> = rows
            .iter()
            .filter(|x| x.n != 32)
            .filter_map(point_of)
            .collect();
        let f = crate::collapse::fit(&others).unwrap();
        assert_close(c.theta, f.theta(32, 512.0).unwrap(), 1e-12);
        // The row's own θ is not an input of its prediction.
        rows[i].trained.theta_min = Some(1.2);
        let after = finish(rows).unwrap()[i].clone();
        assert_eq!(after.collapse, before.collapse);
        // Pinned to Barnes–Wall (n = 16, N = 2048) and D = 2n (n = 128, N = 256): the frame model.
        let all = finish(r.rows.clone()).unwrap();
        for (n, nf) in [(16, 2048), (128, 256)] {
            let x = all.iter().find(|x| (x.n, x.features) == (n, nf)).unwrap();
            let c = x.collapse.as_ref().unwrap();
            assert_eq!(
                (c.theta, c.intercept, c.gain),
                (x.frame.theta, x.frame.intercept, x.frame.gain)
            );
            assert!(c.theta_source.as_deref().unwrap().starts_with("frame: "));
        }
    }

    /// Welch: the simplex (N = n + 1, |cos| = 1/n) meets it; N ≤ n gives π/2; E8's roots up to
    /// sign (120 lines in R^8, largest |cos| 1/2) respect it.
    #[test]
    fn welch_angle_closed_forms() {
        for n in [3usize, 8, 100] {
            assert_close(welch_theta(n, n as f64 + 1.0).cos(), 1.0 / n as f64, 1e-12);
            assert_eq!(welch_theta(n, n as f64), std::f64::consts::FRAC_PI_2);
        }
        assert!(welch_theta(8, 120.0).cos() <= 0.5);
    }
}
