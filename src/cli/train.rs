//! `train` and `sweep`: the toy model trained on the exact sparse-limit loss (or sampled at
//! finite sparsity), with the diagnostics of SPEC §4.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::output::{emit, Format};
use super::Counts;
use superpose::error::{Error, Result};
use superpose::loss::Loss;
use superpose::toy::shard::Shard;
use superpose::toy::sweep::{self, SweepObserver, SweepRecord};
use superpose::toy::{train as train_model, Event, NoObserver, Observer, TrainConfig};

/// Settings shared by `train` and `sweep`; unset values take the library defaults.
#[derive(Debug, Args)]
pub struct Settings {
    /// Seed of every random choice (runs are reproducible per seed).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Random restarts per chain size (exact) or independent runs (sampled) [default: 1].
    #[arg(long)]
    pub restarts: Option<usize>,
    /// Loss: l2, huber:δ, l1 or gauss:σ.
    #[arg(long, value_parser = super::gain::parse_loss, default_value = "l2")]
    pub loss: Loss,
    /// Finite sparsity S in [0, 1): the sampled trainer (omit for the exact sparse limit).
    /// `sweep` takes a list (e.g. `0.9,0.99,1`; 1 = the exact sparse limit).
    #[arg(long, value_parser = super::reals)]
    pub sparsity: Option<super::Reals>,
    /// Feature frequencies p_i ∝ i^−(1+α) (sampled), mean activity still (1 − S)·N.
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Decoupled weight decay on W (sampled); negative pulls feature norms toward 1.
    #[arg(long, allow_hyphen_values = true)]
    pub weight_decay: Option<f64>,
    /// Adam steps: per random start (exact, default 300) or in total (sampled, default 4000).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Adam learning rate [default: 0.03 exact, 0.01 sampled].
    #[arg(long)]
    pub lr: Option<f64>,
    /// L-BFGS iterations of the screening polish of every start (exact) [default: 200].
    #[arg(long)]
    pub screen_iters: Option<u64>,
    /// Maximum L-BFGS iterations of the final polish of the best start (exact) [default: 3500].
    #[arg(long)]
    pub lbfgs_iters: Option<u64>,
    /// Do not use starts lifted from smaller models (the halving chain).
    #[arg(long)]
    pub no_chain: bool,
    /// Minibatch size (sampled) [default: 256].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Feature importance I_i = r^i (sampled), 0 < r ≤ 1.
    #[arg(long)]
    pub importance_decay: Option<f64>,
    /// Sampled trainer: do not warm-start run 0 from the exact-loss optimum.
    #[arg(long)]
    pub cold: bool,
}

impl Settings {
    /// The sparsities given (empty: the exact sparse limit).
    fn sparsities(&self) -> Result<Vec<f64>> {
        let v = self.sparsity.as_ref().map_or(Vec::new(), |r| r.0.clone());
        for &s in &v {
            superpose::error::finite("--sparsity", s)?;
            if s > 1.0 {
                return Err(Error::invalid(
                    "--sparsity",
                    format!("{s} is not in [0, 1]"),
                ));
            }
        }
        Ok(v)
    }

    fn config(&self, n: usize, features: usize) -> Result<TrainConfig> {
        let ss = self.sparsities()?;
        if ss.len() > 1 {
            return Err(Error::invalid("--sparsity", "train takes one value"));
        }
        self.config_at(n, features, ss.first().copied())
    }

    /// The configuration at sparsity `sparsity` (`None` or 1: the exact sparse limit).
    fn config_at(&self, n: usize, features: usize, sparsity: Option<f64>) -> Result<TrainConfig> {
        let mut c = TrainConfig::new(n, features);
        c.seed = self.seed;
        c.loss = self.loss;
        c.sparsity = sparsity;
        c.alpha = self.alpha;
        c.weight_decay = self.weight_decay.unwrap_or(0.0);
        if let Some(s) = sparsity {
            superpose::error::finite("--sparsity", s)?;
            c.adam_steps = 4000;
            c.adam_lr = 0.01;
        }
        if let Some(r) = self.restarts {
            c.restarts = r;
        }
        if let Some(s) = self.steps {
            c.adam_steps = s;
        }
        if let Some(l) = self.lr {
            c.adam_lr = l;
        }
        if let Some(i) = self.screen_iters {
            c.screen_iters = i;
        }
        if let Some(i) = self.lbfgs_iters {
            c.lbfgs_iters = i;
        }
        if let Some(b) = self.batch {
            c.batch = b;
        }
        c.chain = !self.no_chain;
        c.importance_decay = self.importance_decay;
        c.warm_start = !self.cold;
        c.check()?;
        Ok(c)
    }
}

/// `superpose train --dim n --features N [--seed] [--restarts] [--loss] [--sparsity] [--save F]`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Model dimension n.
    #[arg(long)]
    pub dim: usize,
    /// Number of features N.
    #[arg(long)]
    pub features: usize,
    /// Write the model as JSON {"n","features","w":[[n floats] per feature],"b","loss"}.
    #[arg(long)]
    pub save: Option<PathBuf>,
    #[command(flatten)]
    pub settings: Settings,
}

/// Runs `train`.
pub fn train(a: &TrainArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let cfg = a.settings.config(a.dim, a.features)?;
    // Probe the output folder first, so that an unwritable path fails before a long training
    // run; the model itself is written atomically (temporary file, then rename) at the end.
    if let Some(p) = &a.save {
        let probe = p.with_extension("superpose-probe.tmp");
        fs::File::create(&probe).map_err(|e| Error::io(p, e))?;
        let _ = fs::remove_file(&probe);
    }
    let trained = train_model(&cfg, &NoObserver)?;
    if let Some(p) = &a.save {
        let s = trained.model.to_saved(trained.report.loss);
        let mut json =
            serde_json::to_vec_pretty(&s).map_err(|e| Error::Numerical(e.to_string()))?;
        json.push(b'\n');
        superpose::toy::sweep::write_atomic(p, &json)?;
    }
    emit(&[trained.report], f, out)
}

/// `superpose sweep --dims L --features L --out DIR`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Model dimensions (e.g. `2,3,4,6,8`).
    #[arg(long, value_parser = super::counts)]
    pub dims: Counts,
    /// Feature counts (e.g. `4..1024:x2`).
    #[arg(long, value_parser = super::counts)]
    pub features: Counts,
    /// Sweep directory: `DIR/sweep.json` (arguments) and `DIR/models/n{n}_N{N}.json`.
    #[arg(long)]
    pub out: PathBuf,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Train only shard K of M (`K/M`, 0 ≤ K < M, balanced by estimated cost), or `slurm`
    /// (the job array's task; see the README's "Sweeps on a SLURM cluster").
    #[arg(long)]
    pub shard: Option<String>,
    #[command(flatten)]
    pub settings: Settings,
}

struct Bar(ProgressBar);

impl Observer for Bar {
    fn event(&self, e: &Event) {
        if let Event::Size { n, features, .. } = e {
            self.0.set_message(format!("n={n} N={features}"));
        }
    }
}

impl SweepObserver for Bar {
    fn begin(&self, total: usize, _finished: usize) {
        self.0.set_length(total as u64);
    }
    fn model_done(&self, rec: &SweepRecord, resumed: bool) {
        let r = &rec.report;
        let how = if resumed { "kept" } else { "done" };
        self.0.set_message(format!(
            "{how} n={} N={} gain={:.4}",
            r.n, r.features, r.gain
        ));
        self.0.inc(1);
    }
}

/// Runs `sweep`.
pub fn sweep(a: &SweepArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let ss = a.settings.sparsities()?;
    // A list of sparsities: the template carries the sampled settings (its first finite S);
    // the exact models of the list (S = 1) take the exact trainer's defaults.
    let (template, list) = if ss.len() > 1 {
        let finite = ss.iter().copied().find(|&s| s < 1.0);
        (a.settings.config_at(1, 1, finite)?, ss)
    } else {
        (a.settings.config(1, 1)?, Vec::new())
    };
    let shard = match &a.shard {
        Some(s) => Shard::parse(s, &|k| std::env::var(k).ok())?,
        None => Shard::ALL,
    };
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} models {msg}")
            .map_err(|e| Error::Numerical(e.to_string()))?
            .progress_chars("=> "),
    );
    let bar = Bar(bar);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .map_err(|e| Error::Numerical(e.to_string()))?;
    let recs = pool.install(|| {
        sweep::run_grid(
            &a.dims.0,
            &a.features.0,
            &list,
            &a.out,
            &template,
            shard,
            &bar,
        )
    })?;
    bar.0.finish_and_clear();
    let rows: Vec<_> = recs.into_iter().map(|r| r.report).collect();
    emit(&rows, f, out)
}
