//! The toy model `x' = ReLU(WᵀWx + b)`: exact sparse-limit loss, trainers, diagnostics, sweeps.
//!
//! * [`exact`] — the exact expected loss of the infinitely sparse limit and its gradient.
//! * [`tiled`] — the same loss by tiles of GEMMs, for models with most pairs active (large `n`).
//! * [`mod@train`] — the exact-loss optimiser (structured, lifted and random starts; Adam; L-BFGS).
//! * [`sampled`] — Adam on minibatches at finite sparsity `S` (free bias, optional importance).
//! * [`diagnostics`] — embedded features, directions, multiplicity, θ_min, intercepts, angles.
//! * [`sweep`] — resumable sweeps over `(n, N)` (and sparsity), one JSON file per finished model.
//! * [`shard`] — sweeps split across machines (cost-balanced shards, SLURM arrays) and merged.
//!
//! The library never prints: progress goes to an [`Observer`] that the caller attaches.

pub mod diagnostics;
pub mod exact;
pub mod large;
pub mod lbfgs;
pub mod model;
pub mod neighbours;
pub mod sampled;
pub mod shard;
pub mod sweep;
pub mod tiled;
pub mod train;

use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use crate::loss::Loss;
pub use diagnostics::{Diagnostics, Summary};
pub use model::{Model, SavedModel};

use crate::error::{Error, Result};

/// Progress events of a training run.
#[derive(Debug, Clone)]
pub enum Event {
    /// One start (spread, lift, random#k, or a sampled-trainer checkpoint) finished.
    Start {
        /// Model dimension.
        n: usize,
        /// Size being trained (a chain size ≤ N).
        features: usize,
        /// Which start.
        start: String,
        /// Its loss.
        loss: f64,
    },
    /// All starts of one chain size finished.
    Size {
        /// Model dimension.
        n: usize,
        /// Chain size.
        features: usize,
        /// Best loss at that size.
        loss: f64,
        /// Seconds spent on that size.
        seconds: f64,
    },
    /// A sweep ([`sweep::run`]) starts: models in total and already finished, and their
    /// summed cost weights ([`sweep::cost`]), for an estimate of the time left.
    SweepBegin {
        /// Models in the sweep.
        total: usize,
        /// Models read back from earlier runs.
        finished: usize,
        /// Summed cost weight of all models.
        total_cost: f64,
        /// Summed cost weight of the finished ones.
        finished_cost: f64,
    },
    /// A model of a sweep is finished (trained now, or read back when `resumed`).
    ModelDone {
        /// Model dimension.
        n: usize,
        /// Number of features.
        features: usize,
        /// Its gain.
        gain: f64,
        /// Seconds its training took (as recorded).
        seconds: f64,
        /// Read back from its file rather than trained by this run.
        resumed: bool,
        /// Its cost weight ([`sweep::cost`]).
        cost: f64,
    },
    /// A model file found on resume does not belong to the sweep (other configuration, wrong
    /// shape, truncated, not JSON); the model is trained again.
    Discarded {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A step of building one start, before it has a loss (the large-N repulsion start:
    /// `step` of `steps`).
    Building {
        /// Model dimension.
        n: usize,
        /// Number of features.
        features: usize,
        /// What is being built.
        what: String,
        /// Steps done.
        step: usize,
        /// Steps in all.
        steps: usize,
    },
    /// Stale temporary files of a killed run were removed from a sweep folder.
    Cleaned {
        /// The files removed.
        paths: Vec<std::path::PathBuf>,
    },
}

/// Receives progress events of training runs and sweeps (the CLI attaches a bar on a terminal,
/// plain lines elsewhere). The one progress interface of the library. Must be shareable across
/// threads.
pub trait Observer: Sync {
    /// Called for every event; the default ignores it.
    fn event(&self, _e: &Event) {}
}

/// An observer that ignores everything.
pub struct NoObserver;
impl Observer for NoObserver {}

/// Training configuration; [`TrainConfig::check`] validates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Model dimension `n ≥ 1`.
    pub n: usize,
    /// Number of features `N ≥ 1`.
    pub features: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Random restarts per chain size (exact trainer) or independent runs (sampled trainer).
    pub restarts: usize,
    /// Loss function.
    #[serde(with = "loss_serde")]
    pub loss: Loss,
    /// `None`: the infinitely sparse limit (exact loss). `Some(S)`: each feature is active with
    /// probability `1 − S`, `0 ≤ S < 1` (sampled trainer).
    pub sparsity: Option<f64>,
    /// Adam steps (exact trainer: per random start; sampled trainer: total minibatch steps).
    pub adam_steps: usize,
    /// Adam learning rate.
    pub adam_lr: f64,
    /// L-BFGS iterations of the screening polish of every start (exact trainer).
    pub screen_iters: u64,
    /// Maximum L-BFGS iterations of the final polish of the best start (exact trainer).
    pub lbfgs_iters: u64,
    /// `lbfgs_iters` is the default for the size, not one given: a sweep's model of another
    /// size takes that size's default ([`TrainConfig::new`]; at large N
    /// [`large::default_iters`]). Absent in results written before it (then `false`: their
    /// budget is the one stored).
    #[serde(default, skip_serializing_if = "is_false")]
    pub lbfgs_auto: bool,
    /// Use the halving chain of lifted starts (exact trainer).
    pub chain: bool,
    /// Minibatch size (sampled trainer).
    pub batch: usize,
    /// Importance `I_i = r^i` of feature `i` (sampled trainer); `None` = all 1.
    pub importance_decay: Option<f64>,
    /// Sampled trainer: start run 0 from the exact-loss optimum of the same `(n, N)`.
    pub warm_start: bool,
    /// Sampled trainer: feature frequencies `p_i ∝ i^{−(1+α)}` (`None`: all `1 − S`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Sampled trainer: decoupled weight decay on `W` (negative pulls norms toward 1).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight_decay: f64,
}

fn is_false(x: &bool) -> bool {
    !*x
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

mod loss_serde {
    use super::Loss;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(l: &Loss, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&l.to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Loss, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The default budget of the exact trainer's final polish (L-BFGS iterations); at large `N`
/// [`large::default_iters`].
pub const DEFAULT_LBFGS_ITERS: u64 = 12000;

impl TrainConfig {
    /// Defaults for `n`, `N` (the settings tuned for the note's sweep; see the README).
    pub fn new(n: usize, features: usize) -> Self {
        TrainConfig {
            n,
            features,
            seed: 0,
            restarts: 1,
            loss: Loss::L2,
            sparsity: None,
            adam_steps: 300,
            adam_lr: 0.03,
            screen_iters: 200,
            lbfgs_iters: if large::applies(n, features) {
                large::default_iters(features)
            } else {
                DEFAULT_LBFGS_ITERS
            },
            lbfgs_auto: true,
            chain: true,
            batch: 256,
            importance_decay: None,
            warm_start: true,
            alpha: None,
            weight_decay: 0.0,
        }
    }

    /// Validates the configuration.
    pub fn check(&self) -> Result<()> {
        crate::sphere::check_dim(self.n)?;
        if self.features == 0 {
            return Err(Error::invalid("--features", "must be at least 1"));
        }
        if self.n > 4096 {
            return Err(Error::invalid("--dim", "n ≤ 4096"));
        }
        if self.sparsity.is_none() {
            large::check_size(self.n, self.features)?;
        } else if self.features > 1 << 16 {
            return Err(Error::invalid(
                "--features",
                "N ≤ 65536 for the sampled trainer (each step costs O(batch · N n))",
            ));
        }
        if let Some(s) = self.sparsity {
            if !(0.0..1.0).contains(&s) {
                return Err(Error::invalid(
                    "--sparsity",
                    format!("{s} is not in [0, 1)"),
                ));
            }
            if self.batch == 0 {
                return Err(Error::invalid("--batch", "must be at least 1"));
            }
        }
        if self.restarts > 1000 {
            return Err(Error::invalid("--restarts", "at most 1000"));
        }
        crate::error::positive("--lr", self.adam_lr)?;
        crate::error::finite("--weight-decay", self.weight_decay)?;
        if self.sparsity.is_none() && (self.alpha.is_some() || self.weight_decay != 0.0) {
            return Err(Error::invalid(
                "--alpha/--weight-decay",
                "need a finite --sparsity (the sampled trainer)",
            ));
        }
        if let (Some(s), Some(_)) = (self.sparsity, self.alpha) {
            sampled::Activity::new(self.features, s, self.alpha)?;
        }
        if let Some(r) = self.importance_decay {
            crate::error::positive("--importance-decay", r)?;
            if r > 1.0 {
                return Err(Error::invalid(
                    "--importance-decay",
                    format!("{r} must be ≤ 1"),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn exact_settings(&self) -> train::ExactSettings {
        train::ExactSettings {
            restarts: self.restarts,
            adam_steps: self.adam_steps,
            adam_lr: self.adam_lr,
            screen_iters: self.screen_iters,
            lbfgs_iters: self.lbfgs_iters,
            chain: self.chain,
        }
    }
}

/// The `train` row (SPEC §5 keys first).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainReport {
    /// Model dimension.
    pub n: usize,
    /// Number of features.
    pub features: usize,
    /// Mean loss per input (exact, or the sampled estimate normalised per active feature).
    pub loss: f64,
    /// Gain `(l0 − L)·N`.
    pub gain: f64,
    /// Embedded features `E`.
    pub embedded: usize,
    /// Distinct directions `D`.
    pub directions: usize,
    /// `E / D`.
    pub mean_multiplicity: Option<f64>,
    /// Median θ_min over directions (radians).
    pub theta_min_median: Option<f64>,
    /// Median intercept `−b/|W|²` over embedded features.
    pub intercept_median: Option<f64>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Loss function.
    pub loss_fn: String,
    /// Sparsity (null = infinitely sparse limit, exact loss).
    pub sparsity: Option<f64>,
    /// `E / N`.
    pub fraction_embedded: f64,
    /// Interquartile range of θ_min over directions.
    pub theta_min_spread: Option<f64>,
    /// Median `cos θ_min` over embedded features.
    pub cos_theta_min_median: Option<f64>,
    /// Median amplitude `|W_i|` over embedded features.
    pub amplitude_median: Option<f64>,
    /// The exact trainer's convergence test held for the winning start (module `train`).
    pub converged: bool,
    /// Loss decrease over the winning start's last 100 L-BFGS iterations, relative to the gain
    /// per feature `l0 − L` (exact trainer; 0 when L-BFGS stopped by itself; converged when
    /// below `train::CONVERGED_REL`).
    pub last_change: Option<f64>,
    /// Which start won (`spread`, `lift`, `random#k`, `sampled#k`).
    pub start: String,
    /// Best gain among starts at N that were not lifted from a smaller model (exact trainer).
    pub gain_unlifted: Option<f64>,
    /// Standard error of `loss` (sampled trainer; 0 for the exact loss).
    pub loss_stderr: f64,
    /// Seed.
    pub seed: u64,
    /// Mean feature dimensionality `D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)²` over all features (dead ones
    /// count 0; Toy Models of Superposition; [`crate::analyze::geometry::dimensionality`]).
    #[serde(default)]
    pub feature_dimensionality: f64,
    /// Mean interference `Σ_{j≠i} (Ŵ_i·W_j)²` over all features.
    #[serde(default)]
    pub interference_mean: f64,
}

/// A trained model with its report and diagnostics.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model.
    pub model: Model,
    /// The summary row.
    pub report: TrainReport,
    /// Full diagnostics.
    pub diagnostics: Diagnostics,
}

/// Trains a model: the exact-loss trainer when `sparsity` is `None`, else the sampled trainer.
pub fn train(cfg: &TrainConfig, observer: &dyn Observer) -> Result<Trained> {
    train_with_cache(cfg, observer, None)
}

/// As [`train`], reusing finished chain steps of the exact trainer from `cache` (see
/// [`train::ChainCache`]); the result is the same, only cheaper.
pub fn train_with_cache(
    cfg: &TrainConfig,
    observer: &dyn Observer,
    cache: Option<&train::ChainCache>,
) -> Result<Trained> {
    cfg.check()?;
    let t0 = Instant::now();
    let l0 = cfg.loss.l0();
    let (model, loss, start, (converged, last_change), unlifted, stderr, l0) = match cfg.sparsity {
        None => {
            let r = if large::applies(cfg.n, cfg.features) {
                large::train_large(
                    cfg.n,
                    cfg.features,
                    cfg.seed,
                    &cfg.loss,
                    &cfg.exact_settings(),
                    observer,
                    cache,
                )?
            } else {
                train::train_exact_cached(
                    cfg.n,
                    cfg.features,
                    cfg.seed,
                    &cfg.loss,
                    &cfg.exact_settings(),
                    observer,
                    cache,
                )?
            };
            (
                r.model,
                r.loss,
                r.start,
                (r.converged, Some(r.last_change)),
                r.loss_unlifted.is_finite().then_some(r.loss_unlifted),
                0.0,
                l0,
            )
        }
        Some(s) => {
            let r = sampled::train_sampled_cached(cfg, s, observer, cache)?;
            (
                r.model,
                r.loss,
                r.start,
                (r.converged, None),
                None,
                r.stderr,
                r.l0,
            )
        }
    };
    let diagnostics = Diagnostics::of(&model);
    let s = diagnostics.summary();
    let nf = cfg.features as f64;
    let (dims, interference) = crate::analyze::geometry::dimensionality(&model.w);
    let report = TrainReport {
        n: cfg.n,
        features: cfg.features,
        loss,
        gain: (l0 - loss) * nf,
        embedded: s.embedded,
        directions: s.directions,
        mean_multiplicity: s.mean_multiplicity,
        theta_min_median: s.theta_min_median,
        intercept_median: s.intercept_median,
        seconds: t0.elapsed().as_secs_f64(),
        loss_fn: cfg.loss.to_string(),
        sparsity: cfg.sparsity,
        fraction_embedded: s.fraction_embedded,
        theta_min_spread: s.theta_min_spread,
        cos_theta_min_median: s.cos_theta_min_median,
        amplitude_median: s.amplitude_median,
        converged,
        last_change,
        start,
        gain_unlifted: unlifted.map(|u| (l0 - u) * nf),
        loss_stderr: stderr,
        seed: cfg.seed,
        feature_dimensionality: dims.iter().sum::<f64>() / nf,
        interference_mean: interference.iter().sum::<f64>() / nf,
    };
    if !report.loss.is_finite() || !report.gain.is_finite() {
        return Err(Error::Numerical(
            "training produced a non-finite loss".into(),
        ));
    }
    Ok(Trained {
        model,
        report,
        diagnostics,
    })
}
