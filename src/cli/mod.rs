//! The `superpose` command line: clap derive, one module per group of subcommands.
//!
//! The library knows nothing of argv; each subcommand validates its flags, calls the library and
//! hands rows to [`output::emit`].

pub mod analyze;
pub mod extrapolate;
pub mod figures;
pub mod gain;
pub mod list;
pub mod merge;
pub mod output;
pub mod scaling;
pub mod theory;
pub mod train;

use clap::{Parser, Subcommand};
use std::io::Write;

use output::Format;
use superpose::error::Result;

/// Feature superposition in sparse toy models: hypersphere packing theory, the θ_min law,
/// closed-form gain, and the trained toy model `x' = ReLU(WᵀWx + b)`.
#[derive(Debug, Parser)]
#[command(name = "superpose", version, about, long_about = None)]
pub struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ball volumes, sphere areas, packing densities, Hermite constants, kissing numbers.
    Packing(theory::PackingArgs),
    /// The θ_min law for D directions in R^n (small-angle, chord and asymptotic forms).
    Theta(theory::ThetaArgs),
    /// Capacity D(θ): how many directions fit in R^n at separation θ.
    Capacity(theory::CapacityArgs),
    /// Known optimal spherical codes against the θ law (ratios of predicted to true angle).
    Codes(theory::CodesArgs),
    /// θ, capacity and gain at large n with the density-bound and ξ bands, beside the
    /// random-code baseline.
    Extrapolate(extrapolate::ExtrapolateArgs),
    /// Closed-form gain of E features at multiplicity m (both conventions, any loss).
    Gain(gain::GainArgs),
    /// Phase points: first N at which degeneracy wins (closed form and finite-neighbour model).
    Phase(gain::PhaseArgs),
    /// The note's claims "n > 3 always embeds more" and "n > 5 never prefers degeneracy", per convention.
    Claims(gain::ClaimsArgs),
    /// Best symmetric configuration of N features with finite neighbours (argmin over c, m, E).
    Optimize(gain::OptimizeArgs),
    /// Train the toy model x' = ReLU(WᵀWx + b) (exact sparse-limit loss, or sampled at --sparsity).
    Train(train::TrainArgs),
    /// Train a grid of toy models in parallel into DIR (resumable).
    Sweep(train::SweepArgs),
    /// One sweep folder from the folders of its shards (`sweep --shard`).
    Merge(merge::MergeArgs),
    /// Loss versus n at fixed N and the fitted exponent per (α, weight decay).
    Scaling(scaling::ScalingArgs),
    /// One figure of the note, PNG or SVG by the file extension.
    Plot(figures::PlotArgs),
    /// Diagnostics of a model trained elsewhere (JSON, .npy, .npz, safetensors; W as n × N or
    /// N × n; b optional), with the theory at its (n, N).
    Analyze(analyze::AnalyzeArgs),
    /// Theory beside simulation per (n, N): θ_min, intercept, gain, multiplicity, with ratios.
    Compare(figures::CompareArgs),
    /// The note, reproduced: the sweep, every figure, and a report that checks each claim.
    Reproduce(figures::ReproduceArgs),
}

/// Runs the parsed command, writing rows to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    let f = cli.format;
    match cli.command {
        Command::Packing(a) => theory::packing(&a, f, out),
        Command::Theta(a) => theory::theta(&a, f, out),
        Command::Capacity(a) => theory::capacity(&a, f, out),
        Command::Codes(a) => theory::codes(&a, f, out),
        Command::Extrapolate(a) => extrapolate::extrapolate(&a, f, out),
        Command::Gain(a) => gain::gain(&a, f, out),
        Command::Phase(a) => gain::phase(&a, f, out),
        Command::Claims(a) => gain::claims(&a, f, out),
        Command::Optimize(a) => gain::optimize(&a, f, out),
        Command::Train(a) => train::train(&a, f, out),
        Command::Sweep(a) => train::sweep(&a, f, out),
        Command::Merge(a) => merge::merge(&a, f, out),
        Command::Scaling(a) => scaling::scaling(&a, f, out),
        Command::Plot(a) => figures::plot(&a, f, out),
        Command::Analyze(a) => analyze::analyze(&a, f, out),
        Command::Compare(a) => figures::compare(&a, f, out),
        Command::Reproduce(a) => figures::reproduce_cmd(&a, f, out),
    }
}

/// A list of counts from the command line (`2,3,4`, `4..1024:x2`; see [`list`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Counts(pub Vec<usize>);

/// A list of non-negative reals from the command line (see [`list`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Reals(pub Vec<f64>);

/// clap value parser for [`Counts`].
pub fn counts(s: &str) -> std::result::Result<Counts, String> {
    list::parse_counts(s).map(Counts)
}

/// clap value parser for [`Reals`].
pub fn reals(s: &str) -> std::result::Result<Reals, String> {
    list::parse_reals(s).map(Reals)
}
