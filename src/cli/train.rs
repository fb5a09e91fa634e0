//! `train` and `sweep`: the toy model trained on the exact sparse-limit loss (or sampled at
//! finite sparsity), with the diagnostics of SPEC §4.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::list::whole;
use super::output::{emit, Format};
use super::progress::Progress;
use super::Counts;
use superpose::error::{Error, Result};
use superpose::loss::Loss;
use superpose::toy::shard::Shard;
use superpose::toy::sweep;
use superpose::toy::{train as train_model, TrainConfig};

/// Settings shared by `train` and `sweep`; unset values take the library defaults.
#[derive(Debug, Args)]
pub struct Settings {
    /// Seed of every random choice (runs are reproducible per seed).
    #[arg(long, value_parser = whole::<u64>(0), default_value_t = 0)]
    pub seed: u64,
    /// Random restarts per chain size (exact) or independent runs (sampled) [default: 1].
    #[arg(long, value_parser = whole::<usize>(0))]
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
    #[arg(long, value_parser = whole::<usize>(0))]
    pub steps: Option<usize>,
    /// Adam learning rate [default: 0.03 exact, 0.01 sampled].
    #[arg(long)]
    pub lr: Option<f64>,
    /// L-BFGS iterations of the screening polish of every start (exact) [default: 200].
    #[arg(long, value_parser = whole::<u64>(0))]
    pub screen_iters: Option<u64>,
    /// Maximum L-BFGS iterations of the final polish of the best start (exact) [default: 12000;
    /// above 4096 features for 3 ≤ n ≤ 8, ⌊2^27/N⌋: 2048 at N = 65536].
    #[arg(long, value_parser = whole::<u64>(0))]
    pub lbfgs_iters: Option<u64>,
    /// Do not use starts lifted from smaller models (the halving chain).
    #[arg(long)]
    pub no_chain: bool,
    /// Minibatch size (sampled) [default: 256].
    #[arg(long, value_parser = whole::<usize>(1))]
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
            c.lbfgs_auto = false;
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
    /// Model dimension n (one number).
    #[arg(long, visible_alias = "dims", value_parser = whole::<usize>(1))]
    pub dim: usize,
    /// Number of features N (one number).
    #[arg(long, value_parser = whole::<usize>(1))]
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
    let progress = Progress::new("train");
    let trained = train_model(&cfg, &progress);
    progress.finish();
    let trained = trained?;
    if let Some(p) = &a.save {
        let s = trained.model.to_saved(trained.report.loss);
        let mut json =
            serde_json::to_vec_pretty(&s).map_err(|e| Error::Numerical(e.to_string()))?;
        json.push(b'\n');
        superpose::fsutil::write_atomic(p, &json)?;
    }
    emit(&[trained.report], f, out)
}

/// `superpose sweep --dims L --features L --out DIR`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Model dimensions, list or range (e.g. `2,3,4,6,8`).
    #[arg(long, visible_alias = "dim", value_name = "LIST", value_parser = super::counts)]
    pub dims: Counts,
    /// Feature counts, list or range (e.g. `4..1024:x2`).
    #[arg(long, value_name = "LIST", value_parser = super::counts)]
    pub features: Counts,
    #[doc = "Sweep directory: `DIR/sweep.json` (arguments), `DIR/models/n<n>_N<N>.json` (one \
             file per model) and `DIR/sweep.lock` (held while a run writes)."]
    #[arg(long)]
    pub out: PathBuf,
    /// Worker threads: 0 = one per core; at most 4 per core (more only slow the sweep down).
    #[arg(long, value_parser = whole::<usize>(0), default_value_t = 0)]
    pub threads: usize,
    /// Train only shard K of M (`K/M`, 0 ≤ K < M, balanced by estimated cost), or `slurm`
    /// (the job array's task; see the README's "Sweeps on a SLURM cluster").
    #[arg(long)]
    pub shard: Option<String>,
    #[command(flatten)]
    pub settings: Settings,
}

/// Most worker threads per core `sweep --threads` accepts.
pub const THREADS_PER_CORE: usize = 4;

/// Checks `--threads` against [`THREADS_PER_CORE`] × the cores of this machine.
fn check_threads(threads: usize) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let max = THREADS_PER_CORE * cores;
    if threads > max {
        return Err(Error::invalid(
            "--threads",
            format!(
                "{threads} is more than {THREADS_PER_CORE} per core ({max} on this machine's \
                 {cores} cores); use 0 for one per core"
            ),
        ));
    }
    Ok(())
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
    check_threads(a.threads)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .map_err(|e| Error::System(format!("cannot start {} worker threads: {e}", a.threads)))?;
    let progress = Progress::new("sweep");
    let recs = pool.install(|| {
        sweep::run_grid(
            &a.dims.0,
            &a.features.0,
            &list,
            &a.out,
            &template,
            shard,
            &progress,
        )
    });
    match &recs {
        Ok(_) => progress.finish(),
        Err(_) => progress.abandon(),
    }
    let rows: Vec<_> = recs?.into_iter().map(|r| r.report).collect();
    emit(&rows, f, out)
}
