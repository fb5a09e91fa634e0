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
use superpose::phase::{dim_phase, verdicts, DEFAULT_MAX_FEATURES, DEFAULT_MAX_MULTIPLICITY};
use superpose::symmetric::{
    default_neighbours, landscape_with, neighbour_phase, optimize_with, Options,
};

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

/// One row of `phase`.
#[derive(Debug, Serialize)]
pub struct PhaseOut {
    /// Model dimension.
    pub n: usize,
    /// First N (all embedded) at which multiplicity 2 beats 1; null if none.
    pub transition_features: Option<u64>,
    /// Convention.
    pub convention: Convention,
    /// Loss family.
    pub loss_fn: String,
    /// First E at which the non-degenerate closed-form gain falls; null if never.
    pub gain_peak_features: Option<u64>,
    /// First N at which any multiplicity 2..=M beats 1 (all embedded).
    pub degenerate_features: Option<u64>,
    /// The winning multiplicity there.
    pub degenerate_multiplicity: Option<u64>,
    /// Limit of the closed-form searches.
    pub max_features: u64,
    /// Finite-neighbour model: first N at which the optimal E is below N.
    pub embed_drop_features: Option<u64>,
    /// Finite-neighbour model: first N at which the optimal multiplicity exceeds 1.
    pub multiplicity_rise_features: Option<u64>,
    /// K used by the finite-neighbour model.
    pub neighbours: Option<f64>,
    /// Limit of the finite-neighbour scan.
    pub neighbour_max_features: u64,
}

fn options(neighbours: Option<f64>, max_multiplicity: u64, law: ThetaLaw) -> Options {
    Options {
        neighbours,
        max_multiplicity,
        law,
        ..Options::default()
    }
}

/// Runs `phase`.
pub fn phase(a: &PhaseArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let mut rows = Vec::new();
    let steps = super::progress::Steps::new("phase", a.dims.0.len(), "dimensions");
    for &n in &a.dims.0 {
        let SearchArgs {
            loss,
            max_features,
            max_multiplicity,
            law,
        } = &a.search;
        let o = options(a.neighbours, *max_multiplicity, *law);
        let (np, k) = if a.neighbour_max_features > 0 {
            let k = match a.neighbours {
                Some(k) => k,
                None => default_neighbours(n)?.value,
            };
            (
                Some(neighbour_phase(n, loss, &o, a.neighbour_max_features)?),
                Some(k),
            )
        } else {
            (None, None)
        };
        for conv in a.convention.list() {
            let p = dim_phase(n, conv, loss, *max_features, *max_multiplicity, *law)?;
            rows.push(PhaseOut {
                n,
                transition_features: p.transition_features,
                convention: conv,
                loss_fn: p.loss_fn,
                gain_peak_features: p.gain_peak_features,
                degenerate_features: p.degenerate_features,
                degenerate_multiplicity: p.degenerate_multiplicity,
                max_features: p.max_features,
                embed_drop_features: np.and_then(|x| x.embed_drop_features),
                multiplicity_rise_features: np.and_then(|x| x.multiplicity_rise_features),
                neighbours: k,
                neighbour_max_features: a.neighbour_max_features,
            });
        }
        steps.step();
    }
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
    use rayon::prelude::*;
    let jobs: Vec<(Convention, usize)> = Convention::ALL
        .iter()
        .flat_map(|&conv| a.dims.0.iter().map(move |&n| (conv, n)))
        .collect();
    let steps = super::progress::Steps::new("claims", jobs.len(), "dimensions × conventions");
    let s = &a.search;
    let phases = jobs
        .par_iter()
        .map(|&(conv, n)| {
            let p = dim_phase(n, conv, &s.loss, s.max_features, s.max_multiplicity, s.law);
            steps.step();
            p
        })
        .collect::<Result<Vec<_>>>()?;
    drop(steps);
    emit(
        &verdicts(&phases, &a.search.loss, a.search.max_features),
        f,
        out,
    )
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
}

/// Runs `optimize`.
pub fn optimize(a: &OptimizeArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let o = options(a.neighbours, a.max_multiplicity, a.law);
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
