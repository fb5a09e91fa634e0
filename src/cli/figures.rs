//! `plot`, `reproduce` and `compare`: figures, the reproduction report, theory beside
//! simulation.

use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

use super::output::{emit, Format};
use super::Counts;
use superpose::error::{Error, Result};
use superpose::study::{compare, figures, plan, sweep};

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
    figures::draw_from_dir(
        &a.name,
        a.dir.as_deref(),
        &a.out,
        &compare::symmetric_optimum,
    )?;
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
    /// Model dimensions n (list or range).
    #[arg(long, visible_alias = "dim", value_name = "LIST", value_parser = super::counts, default_value = "2,3,4,6,8")]
    pub dims: Counts,
    /// Numbers of features N (e.g. `4..1024:x2`).
    #[arg(long, value_name = "LIST", value_parser = super::counts, default_value = "4..1024:x2")]
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
            let all = sweep::read_sweep(dir)?;
            let picked: Vec<_> = all
                .into_iter()
                .filter(|t| a.dims.0.contains(&t.n()) && a.features.0.contains(&t.features()))
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
        None => sweep::train_models(&a.dims.0, &a.features.0)?,
    };
    let rows = compare::rows(&models, &compare::symmetric_optimum)?;
    emit(&rows, f, out)
}

/// `superpose reproduce --out DIR [--quick]`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Output folder: the sweeps, `figures/`, `report.md`, `claims.json`. Rerunning reuses the
    /// models that finished.
    #[arg(long)]
    pub out: PathBuf,
    /// A subset for a fast check (n ∈ {2, 3, 8}, N ≤ 64, a small Huber sweep; < 1 min).
    #[arg(long)]
    pub quick: bool,
    /// Seed of the training runs.
    #[arg(long, value_parser = super::list::whole::<u64>(0), default_value_t = 0)]
    pub seed: u64,
}

/// One row of `reproduce`: a claim and its verdict.
#[derive(Debug, Serialize)]
pub struct ReproduceOut {
    /// Claim number (SPEC §6).
    pub id: usize,
    /// Verdict.
    pub verdict: String,
    /// The claim.
    pub claim: String,
}

/// A bar on a terminal; elsewhere (CI, a batch job, a notebook) one plain line per step.
struct Bar(indicatif::ProgressBar);

impl plan::Progress for Bar {
    fn step(&self, message: &str) {
        self.0.set_message(message.to_string());
        self.0.inc(1);
        if self.0.is_hidden() {
            let (pos, len) = (self.0.position(), self.0.length().unwrap_or(0));
            let t = super::progress::clock(self.0.elapsed().as_secs_f64());
            eprintln!("superpose: reproduce: {pos}/{len} {message} (elapsed {t})");
        }
    }
}

/// `superpose reproduce`.
pub fn reproduce_cmd(a: &ReproduceArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let mut plan = if a.quick {
        plan::Plan::quick()
    } else {
        plan::Plan::full()
    };
    plan.seed = a.seed;
    plan.extras.extend(superpose::study::committed::extras());
    if a.out.exists() && !a.out.is_dir() {
        return Err(Error::invalid(
            "--out",
            format!("{} exists and is not a folder", a.out.display()),
        ));
    }
    // One step per model, per committed section, per figure and the report.
    let total = (plan.models() + plan.extras.len() + superpose::plot::NAMES.len() + 1) as u64;
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .map_err(|e| Error::Numerical(e.to_string()))?
            .progress_chars("=> "),
    );
    let progress = Bar(bar);
    let result = plan::run(&plan, &a.out, &progress);
    progress.0.finish_and_clear();
    let outcome = result?;
    eprintln!(
        "superpose: reproduce ({}) finished in {:.1} s: {} figures, report in {}",
        plan.name,
        outcome.seconds,
        outcome.written.figures.len(),
        a.out.join("report.md").display()
    );
    let rows: Vec<ReproduceOut> = outcome
        .written
        .claims
        .iter()
        .map(|c| ReproduceOut {
            id: c.id,
            verdict: c.verdict.as_str().to_string(),
            claim: c.claim.clone(),
        })
        .collect();
    emit(&rows, f, out)
}
