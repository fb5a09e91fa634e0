//! `plot`, `reproduce` and `compare`: figures, the reproduction report, theory beside
//! simulation.

use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

use super::output::{emit, Format};
use super::Counts;
use superpose::error::{Error, Result};
use superpose::reproduce;

/// `superpose plot NAME --out F [--dir SWEEP_DIR]`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Figure: superposition_2d, superposition_3d, theta_min, multiplicity, amplitudes,
    /// theta_distribution, intercept, training_inefficiency, huber, analytic_gain.
    pub name: String,
    /// Output file; `.png` or `.svg` decides the format.
    #[arg(long)]
    pub out: PathBuf,
    /// Folder of a finished sweep (`superpose sweep --out DIR` or `superpose reproduce --out
    /// DIR`); needed by every figure except analytic_gain.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// One row of `plot`.
#[derive(Debug, Serialize)]
pub struct PlotOut {
    /// Figure name.
    pub figure: String,
    /// File written.
    pub path: String,
}

/// `superpose plot`.
pub fn plot(a: &PlotArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    reproduce::draw_from_dir(&a.name, a.dir.as_deref(), &a.out, &|_, _| None, &|_, _| {
        None
    })?;
    emit(
        &[PlotOut {
            figure: a.name.clone(),
            path: a.out.display().to_string(),
        }],
        f,
        out,
    )
}

/// `superpose compare --dims L --features L [--dir SWEEP_DIR]`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Model dimensions n.
    #[arg(long, value_parser = super::counts, default_value = "2,3,4,6,8")]
    pub dims: Counts,
    /// Numbers of features N (e.g. `4..1024:x2`).
    #[arg(long, value_parser = super::counts, default_value = "4..1024:x2")]
    pub features: Counts,
    /// Read the models from this finished sweep folder instead of training.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// `superpose compare`.
pub fn compare(a: &CompareArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    for &n in &a.dims.0 {
        superpose::sphere::check_dim(n)?;
        if n < 2 {
            return Err(Error::invalid("--dims", "the toy model needs n ≥ 2"));
        }
    }
    if a.features.0.is_empty() || a.features.0.contains(&0) {
        return Err(Error::invalid("--features", "need N ≥ 1"));
    }
    let models = match &a.dir {
        Some(dir) => {
            let all = reproduce::read_sweep(dir)?;
            let picked: Vec<_> = all
                .into_iter()
                .filter(|t| {
                    a.dims.0.contains(&t.view.n) && a.features.0.contains(&t.view.features())
                })
                .collect();
            if picked.is_empty() {
                return Err(Error::invalid(
                    "--dir",
                    format!(
                        "{} holds no model with the requested --dims and --features",
                        dir.display()
                    ),
                ));
            }
            picked
        }
        None => train_models(&a.dims.0, &a.features.0)?,
    };
    let rows = superpose::compare::rows(&models, &reproduce::symmetric_optimum)?;
    emit(&rows, f, out)
}

/// Trains one model per (n, N) (not yet wired: needs the trainer).
fn train_models(_dims: &[usize], _features: &[usize]) -> Result<Vec<reproduce::Trained>> {
    Err(Error::invalid(
        "--dir",
        "training is not available in this build; pass --dir SWEEP_DIR",
    ))
}
