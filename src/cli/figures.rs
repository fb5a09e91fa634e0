//! `plot`, `reproduce` and `compare`: figures, the reproduction report, theory beside
//! simulation.

use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

use super::output::{emit, Format};
use superpose::error::Result;
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
