//! `scaling --dims L --features N [--alpha L] [--weight-decay L]`: loss versus n at fixed N and
//! the fitted exponent per (α, weight decay) (library: `superpose::scaling`).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::output::{emit, Format};
use super::{Counts, Reals};
use superpose::error::{Error, Result};
use superpose::scaling::{self, ScalingGrid};
use superpose::toy::shard::Shard;
use superpose::toy::sweep::{SweepObserver, SweepRecord};
use superpose::toy::Observer;

/// `superpose scaling`.
#[derive(Debug, Args)]
pub struct ScalingArgs {
    /// Model dimensions n (at least two) [default: 4,8,16,32].
    #[arg(long, value_parser = super::counts)]
    pub dims: Option<Counts>,
    /// Number of features N [default: 256].
    #[arg(long)]
    pub features: Option<usize>,
    /// Frequency exponents α (p_i ∝ i^−(1+α)) [default: 0,1].
    #[arg(long, value_parser = super::reals)]
    pub alpha: Option<Reals>,
    /// Weight decays on W, negative allowed (e.g. `-1,0`) [default: -1,0].
    #[arg(long, allow_hyphen_values = true)]
    pub weight_decay: Option<String>,
    /// Sparsity S [default: 1 − 1/N, one active feature per input on average].
    #[arg(long)]
    pub sparsity: Option<f64>,
    /// Adam steps per model [default: 2000].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Minibatch size [default: 256].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Study folder: one resumable sweep folder per (α, weight decay), `scaling.json` (the
    /// result) and `scaling.md` (its report section).
    #[arg(long)]
    pub out: PathBuf,
    /// Also draw the figure (PNG or SVG by extension).
    #[arg(long)]
    pub figure: Option<PathBuf>,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Train only shard K of M (`K/M`) or the SLURM array task (`slurm`); see `sweep`.
    #[arg(long)]
    pub shard: Option<String>,
}

/// Parses a comma-separated list of reals that may be negative.
fn signed_list(s: &str) -> Result<Vec<f64>> {
    let v: std::result::Result<Vec<f64>, _> = s
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::parse::<f64>)
        .collect();
    match v {
        Ok(v) if !v.is_empty() && v.iter().all(|x| x.is_finite()) => Ok(v),
        _ => Err(Error::invalid(
            "--weight-decay",
            format!("{s:?} is not a list of finite numbers"),
        )),
    }
}

struct Progress;
impl Observer for Progress {}
impl SweepObserver for Progress {
    fn model_done(&self, rec: &SweepRecord, resumed: bool) {
        let c = &rec.config;
        eprintln!(
            "superpose: scaling: {} n={} α={} wd={} loss={:.5}",
            if resumed { "kept" } else { "done" },
            c.n,
            c.alpha.unwrap_or(0.0),
            c.weight_decay,
            rec.report.loss
        );
    }
}

/// Runs `scaling`: trains (this shard of) the grid, writes `DIR/scaling.json`, prints the fits.
pub fn scaling(a: &ScalingArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let mut g = ScalingGrid::reduced();
    if let Some(d) = &a.dims {
        g.dims = d.0.clone();
    }
    if let Some(nf) = a.features {
        g.features = nf;
        g.sparsity = 1.0 - 1.0 / nf.max(1) as f64;
    }
    if let Some(al) = &a.alpha {
        g.alphas = al.0.clone();
    }
    if let Some(w) = &a.weight_decay {
        g.weight_decays = signed_list(w)?;
    }
    if let Some(s) = a.sparsity {
        g.sparsity = superpose::error::finite("--sparsity", s)?;
    }
    if let Some(s) = a.steps {
        g.steps = s;
    }
    if let Some(b) = a.batch {
        g.batch = b;
    }
    g.seed = a.seed;
    if g.features < 2 {
        return Err(Error::invalid("--features", "must be at least 2"));
    }
    let shard = match &a.shard {
        Some(s) => Shard::parse(s, &|k| std::env::var(k).ok())?,
        None => Shard::ALL,
    };
    let command = format!(
        "superpose scaling --dims {} --features {} --alpha {} --weight-decay {} --sparsity {} \
         --steps {} --batch {} --seed {} --out DIR",
        join(&g.dims),
        g.features,
        join(&g.alphas),
        join(&g.weight_decays),
        g.sparsity,
        g.steps,
        g.batch,
        g.seed
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .map_err(|e| Error::Numerical(e.to_string()))?;
    let result = pool.install(|| scaling::run(&g, &a.out, shard, &command, &Progress))?;
    let json = serde_json::to_vec_pretty(&result).map_err(|e| Error::Numerical(e.to_string()))?;
    superpose::toy::sweep::write_atomic(&a.out.join("scaling.json"), &json)?;
    let md = scaling::markdown_section(&result);
    superpose::toy::sweep::write_atomic(&a.out.join("scaling.md"), md.as_bytes())?;
    if let Some(p) = &a.figure {
        superpose::plot::save(&superpose::plot::ScalingFig::from(&result), p)?;
    }
    emit(&result.fits, f, out)
}

fn join<T: std::fmt::Display>(v: &[T]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
