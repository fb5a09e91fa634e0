//! `gain`, `phase`, `claims`, `optimize`: the closed-form gain, phase points, the note's claims,
//! and the finite-neighbour symmetric optimum.

use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::Write;

use super::list::whole;
use super::output::{emit, Format};
use super::Counts;
use superpose::error::Result;
use superpose::gain::{
    closed_form_with, gain_derivatives, small_angle_derivatives, Convention, SymmetricPoint,
    ThetaLaw,
};
use superpose::loss::Loss;
use superpose::phase::{check_claims, phase_rows, DEFAULT_MAX_FEATURES, DEFAULT_MAX_MULTIPLICITY};
use superpose::symmetric::{landscape_with, optimize_with, NeighbourModel, Options};

/// clap value parser for `--loss`.
pub fn parse_loss(s: &str) -> std::result::Result<Loss, String> {
    s.parse::<Loss>().map_err(|e| e.to_string())
}

/// clap value parser for `--law`.
pub fn parse_law(s: &str) -> std::result::Result<ThetaLaw, String> {
    s.parse::<ThetaLaw>().map_err(|e| e.to_string())
}

/// A finite, non-negative real.
pub fn parse_nonneg(s: &str) -> std::result::Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !x.is_finite() || x < 0.0 {
        return Err(format!("{s:?} must be a finite number ≥ 0"));
    }
    Ok(x)
}

/// `--convention`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConventionChoice {
    /// Multiplicity m everywhere (SPEC §3).
    Consistent,
    /// The note's mixture: n_deg + 1 in loss and gain, E / n_deg directions.
    Note,
    /// Both, one row each.
    Both,
}

impl ConventionChoice {
    fn list(self) -> Vec<Convention> {
        match self {
            ConventionChoice::Consistent => vec![Convention::Consistent],
            ConventionChoice::Note => vec![Convention::Note],
            ConventionChoice::Both => Convention::ALL.to_vec(),
        }
    }
}

/// `superpose gain --dim n --embed E --multiplicity m`.
#[derive(Debug, Args)]
pub struct GainArgs {
    /// Model dimensions n (list or range).
    #[arg(long = "dims", visible_alias = "dim", value_name = "LIST", value_parser = super::counts)]
    pub dim: Counts,
    /// Number of embedded features E (list allowed); all features are embedded (N = E).
    #[arg(long, value_name = "LIST", value_parser = super::counts)]
    pub embed: Counts,
    /// Multiplicity m (list allowed); in the note convention this is the note's n_deg.
    #[arg(long, value_name = "LIST", value_parser = super::counts, default_value = "1")]
    pub multiplicity: Counts,
    /// consistent (m everywhere), note (the note's mixture) or both.
    #[arg(long, value_enum, default_value_t = ConventionChoice::Consistent)]
    pub convention: ConventionChoice,
    /// Loss: l2, huber:δ, l1 or gauss:σ.
    #[arg(long, value_parser = parse_loss, default_value = "l2")]
    pub loss: Loss,
    /// θ law: small-angle (the note's) or chord.
    #[arg(long, value_parser = parse_law, default_value = "small-angle")]
    pub law: ThetaLaw,
}

/// One row of `gain`.
#[derive(Debug, Serialize)]
pub struct GainOut {
    /// The closed-form point.
    #[serde(flatten)]
    pub point: SymmetricPoint,
    /// θ law.
    pub law: ThetaLaw,
    /// ∂g/∂E of the L2 closed form (null for other losses).
    pub dgain_dembed: Option<f64>,
    /// ∂g/∂m (∂g/∂n_deg in the note convention) of the L2 closed form.
    pub dgain_dmultiplicity: Option<f64>,
    /// Lowest-order small-angle ∂g/∂E (the note's formula in the note convention).
    pub dgain_dembed_small_angle: Option<f64>,
    /// Lowest-order small-angle ∂g/∂m.
    pub dgain_dmultiplicity_small_angle: Option<f64>,
}

/// Runs `gain`.
pub fn gain(a: &GainArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let mut rows = Vec::new();
    for &n in &a.dim.0 {
        for conv in a.convention.list() {
            for &e in &a.embed.0 {
                for &m in &a.multiplicity.0 {
                    let (e, m) = (e as u64, m as u64);
                    let point = closed_form_with(n, e, m, conv, &a.loss, a.law)?;
                    let (de, dm, se, sm) = if a.loss == Loss::L2 {
                        let (de, dm) = gain_derivatives(n, e as f64, m as f64, conv, a.law)?;
                        let (se, sm) =
                            small_angle_derivatives(n, e as f64, m as f64, point.theta, conv);
                        (Some(de), Some(dm), Some(se), Some(sm))
                    } else {
                        (None, None, None, None)
                    };
                    rows.push(GainOut {
                        point,
                        law: a.law,
                        dgain_dembed: de,
                        dgain_dmultiplicity: dm,
                        dgain_dembed_small_angle: se,
                        dgain_dmultiplicity_small_angle: sm,
                    });
                }
            }
        }
    }
    emit(&rows, f, out)
}

/// `superpose phase --dims L`.
#[derive(Debug, Args)]
pub struct PhaseArgs {
    /// Model dimensions n (list or range, e.g. `2..10`).
    #[arg(long, visible_alias = "dim", value_name = "LIST", value_parser = super::counts, default_value = "2..10")]
    pub dims: Counts,
    /// consistent, note or both (one row per n and convention).
    #[arg(long, value_enum, default_value_t = ConventionChoice::Both)]
    pub convention: ConventionChoice,
    #[command(flatten)]
    pub search: SearchArgs,
    /// Neighbours K of the finite-neighbour model (default: kissing number of d = n − 1).
    #[arg(long, value_parser = parse_nonneg)]
    pub neighbours: Option<f64>,
    /// Upper limit of the finite-neighbour scan (0 skips it).
    #[arg(long, value_parser = whole::<u64>(0), default_value_t = 4096)]
    pub neighbour_max_features: u64,
}

/// Runs `phase`.
pub fn phase(a: &PhaseArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let s = &a.search;
    let steps = super::progress::Steps::new("phase", a.dims.0.len(), "dimensions");
    let rows = phase_rows(
        &a.dims.0,
        &a.convention.list(),
        &s.loss,
        s.max_features,
        s.max_multiplicity,
        s.law,
        a.neighbours,
        a.neighbour_max_features,
        &|| steps.step(),
    )?;
    drop(steps);
    emit(&rows, f, out)
}

/// The closed-form search flags shared by `phase` and `claims`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Loss: l2, huber:δ, l1 or gauss:σ.
    #[arg(long, value_parser = parse_loss, default_value = "l2")]
    pub loss: Loss,
    /// Upper limit of the closed-form searches, ≥ 2 (`1e9` is fine).
    #[arg(long, value_parser = whole::<u64>(2), default_value_t = DEFAULT_MAX_FEATURES)]
    pub max_features: u64,
    /// Largest multiplicity tried for "degeneracy wins", ≥ 2.
    #[arg(long, value_parser = whole::<u64>(2), default_value_t = DEFAULT_MAX_MULTIPLICITY)]
    pub max_multiplicity: u64,
    /// θ law: small-angle (the note's) or chord.
    #[arg(long, value_parser = parse_law, default_value = "small-angle")]
    pub law: ThetaLaw,
}

/// `superpose claims --dims L`: the note's two large-n claims, checked in both conventions.
#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// Model dimensions to check, list or range (those above each claim's threshold count).
    #[arg(long, visible_alias = "dim", value_name = "LIST", value_parser = super::counts, default_value = "2..12")]
    pub dims: Counts,
    #[command(flatten)]
    pub search: SearchArgs,
}

/// Runs `claims`.
pub fn claims(a: &ClaimsArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let s = &a.search;
    let n_jobs = a.dims.0.len() * Convention::ALL.len();
    let steps = super::progress::Steps::new("claims", n_jobs, "dimensions × conventions");
    let v = check_claims(
        &a.dims.0,
        &s.loss,
        s.max_features,
        s.max_multiplicity,
        s.law,
        &|| steps.step(),
    )?;
    drop(steps);
    emit(&v, f, out)
}

/// `superpose optimize --dim n --features N`.
#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// Model dimensions n (list or range).
    #[arg(long = "dims", visible_alias = "dim", value_name = "LIST", value_parser = super::counts)]
    pub dim: Counts,
    /// Number of input features N (list allowed).
    #[arg(long, value_name = "LIST", value_parser = super::counts)]
    pub features: Counts,
    /// Loss: l2, huber:δ, l1 or gauss:σ.
    #[arg(long, value_parser = parse_loss, default_value = "l2")]
    pub loss: Loss,
    /// Neighbouring directions K (default: kissing number of d = n − 1, lower bound).
    #[arg(long, value_parser = parse_nonneg)]
    pub neighbours: Option<f64>,
    /// Largest multiplicity searched, ≥ 1.
    #[arg(long, value_parser = whole::<u64>(1), default_value_t = DEFAULT_MAX_MULTIPLICITY)]
    pub max_multiplicity: u64,
    /// θ law: small-angle (the note's) or chord.
    #[arg(long, value_parser = parse_law, default_value = "small-angle")]
    pub law: ThetaLaw,
    /// Print every evaluated (E, m) instead of the best.
    #[arg(long)]
    pub all: bool,
    /// Neighbour model: kissing (K neighbours at the law's θ), shell, frame (θ from the law,
    /// the coding bounds and known codes) or collapse (θ from the curve fitted to trained
    /// codes at n ≥ 16, `docs/large_dim/`; the frame model where it is not defined).
    #[arg(long, value_parser = parse_model, default_value = "kissing")]
    pub model: NeighbourModel,
}

fn parse_model(s: &str) -> std::result::Result<NeighbourModel, String> {
    s.parse()
        .map_err(|e: superpose::error::Error| e.to_string())
}

/// Runs `optimize`.
pub fn optimize(a: &OptimizeArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let o = Options {
        model: a.model,
        neighbours: a.neighbours,
        max_multiplicity: a.max_multiplicity,
        law: a.law,
    };
    let mut rows: Vec<SymmetricPoint> = Vec::new();
    for &n in &a.dim.0 {
        for &nf in &a.features.0 {
            if a.all {
                rows.extend(landscape_with(n, nf as u64, &a.loss, &o)?);
            } else {
                rows.push(optimize_with(n, nf as u64, &a.loss, &o)?);
            }
        }
    }
    emit(&rows, f, out)
}
