//! The sampled trainer for finite sparsity (what the exact loss does not cover).
//!
//! Feature `i` is active independently with probability `p_i`, with value `x_i ~ U[0,1]`
//! (else 0), so several features can be active at once. By default every `p_i = 1 − S`; with a
//! frequency exponent α (`--alpha`, as in Liu, Liu & Gore, "Superposition Yields Robust Neural
//! Scaling", NeurIPS 2025) `p_i ∝ i^{−(1+α)}` (`i = 1..N`), scaled so that the expected number of
//! active features is the same `(1 − S)·N`. The bias is free (no `b ≤ 0` constraint), as in the
//! Toy Models paper, and feature `i` may carry an importance `I_i = r^i`.
//!
//! # Formula
//!
//! The reported loss is per active feature, and the gain is measured against the dead model at
//! the same sparsity:
//!
//! ```text
//! L_S = E[ Σ_j I_j ρ(ReLU(W_jᵀ W x + b_j) − x_j) ] / Σ_i p_i
//! l0_S = Σ_i p_i I_i · ∫₀¹ρ(x)dx / Σ_i p_i                      (the dead model W = 0, b = 0)
//! g_S = (l0_S − L_S) · N,             gain per feature g_S / N = l0_S − L_S
//! ```
//!
//! As `S → 1` with uniform `p`, an input has one active feature with probability `N p + O((Np)²)`
//! and two or more with `O((Np)²)`, so for a model with `b ≤ 0` (silent on the empty input)
//! `L_S = L_exact + O(N p)`: `L_S` and `g_S` tend to the exact sparse-limit loss and gain of
//! SPEC §4, and `l0_S` is `l0` itself. A positive bias costs `ρ(b_j)` on every empty input,
//! which `/ Σ p` makes diverge as `S → 1`, so the optimum there has `b ≤ 0`.
//!
//! # Sampling
//!
//! Most inputs are empty when `S` is close to 1. The expectation is split exactly into the
//! empty input (probability `P₀ = Π(1 − p_i)`, loss `Σ_j I_j ρ(ReLU(b_j))`, no sampling) and
//! inputs with at least one active feature, which are drawn conditionally on that (the first
//! active feature by inverting its truncated distribution, the later ones independently), so
//! every sample carries information at any `S`:
//!
//! ```text
//! L_S = ( P₀·ℓ(0) + (1 − P₀)·E[ℓ(x) | x ≠ 0] ) / Σ_i p_i,
//! stderr(L_S) = (1 − P₀)·sd(ℓ | x ≠ 0) / (√M · Σ_i p_i)       (M evaluation samples)
//! ```
//!
//! # Training and the guarantee
//!
//! Adam on minibatches of the same estimator (`batch` samples per step, learning rate
//! cosine-decayed to 1/30). Weight decay on `W` (`weight_decay`, decoupled as in AdamW and as in
//! Liu, Liu & Gore's `exp/adamw.py`): after every step, `wd ≥ 0` shrinks `W ← W·(1 − η·wd)`, and
//! `wd < 0` pulls each feature's norm toward 1, `W_i ← W_i + η·wd·W_i·(1 − 1/|W_i|)`.
//!
//! Candidates: the cold runs (Gaussian weights of variance `2/(n+N)`, `b = 0`; `restarts` of
//! them, at least one, each seeded by its own index so that a `--cold` run's candidates are a
//! subset of a warm run's); with `warm_start`, the exact-loss optimum of the same `(n, N)` (found
//! by [`super::train`]) both fine-tuned at a tenth of the learning rate and untouched; and the
//! dead model. All are scored on one common, seeded evaluation set of [`EVAL_SAMPLES`] samples
//! and the lowest `L_S` is returned, so the result is never worse (on that set) than the better
//! of the warm and cold starts or than the dead model. With weight decay the training objective
//! is not `L_S`, so the untouched warm start and the dead model are not candidates then (they
//! would override the regulariser the user asked for). A run counts as converged when the mean
//! minibatch loss of its last 10% of steps is within 3 standard errors of the previous 10%; the
//! untouched warm start carries the exact trainer's convergence flag and the dead model `false`.

use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::train::{mix_seed, train_exact_cached, ChainCache, ExactSettings};
use super::{Event, Loss, Model, Observer, TrainConfig};
use crate::error::{Error, Result};

/// Samples in the final evaluation of `L_S`.
pub const EVAL_SAMPLES: usize = 20_000;

/// Result of the sampled trainer.
#[derive(Debug, Clone)]
pub struct SampledResult {
    /// Best model.
    pub model: Model,
    /// `L_S` on the evaluation set.
    pub loss: f64,
    /// Its standard error.
    pub stderr: f64,
    /// `l0_S`, the dead model's exact loss per active feature.
    pub l0: f64,
    /// Which candidate won (`exact+sampled`, `exact`, `sampled#k`, `dead`).
    pub start: String,
    /// Convergence test of the winning run.
    pub converged: bool,
}

/// One input: active feature indices (ascending) and values.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Active features.
    pub idx: Vec<usize>,
    /// Their values.
    pub val: Vec<f64>,
}

/// The activity of the features: `p_i`, and what the stratified sampler needs.
#[derive(Debug, Clone)]
pub struct Activity {
    /// `p_i`, the probability that feature `i` is active.
    pub p: Vec<f64>,
    /// `Some(p)` when every feature has the same `p`.
    uniform: Option<f64>,
    /// `Λ_i = Σ_{j<i} ln(1 − p_j)`, `i = 0..=N`.
    log_surv: Vec<f64>,
    /// Cumulative weights of "exactly feature i active" (unnormalised, length N).
    one_cdf: Vec<f64>,
    /// Cumulative weights of "first active is f and another follows" (length N).
    two_cdf: Vec<f64>,
    /// Probabilities of 0, exactly 1, and 2 or more active features.
    pub strata: [f64; 3],
    /// `Σ p_i`, the expected number of active features.
    pub expected_active: f64,
}

impl Activity {
    /// `p_i = 1 − S`, or with `alpha`: `p_i = (1 − S)·N · i^{−(1+α)} / Σ_k k^{−(1+α)}`.
    ///
    /// # Errors
    /// `S` outside `[0, 1)`, a negative or non-finite α, or α so steep that `p_1 > 1`.
    pub fn new(features: usize, sparsity: f64, alpha: Option<f64>) -> Result<Self> {
        if !(0.0..1.0).contains(&sparsity) {
            return Err(Error::invalid(
                "--sparsity",
                format!("{sparsity} is not in [0, 1)"),
            ));
        }
        if features == 0 {
            return Err(Error::invalid("--features", "must be at least 1"));
        }
        let q = 1.0 - sparsity;
        let p: Vec<f64> = match alpha {
            None => vec![q; features],
            Some(a) => {
                crate::error::finite("--alpha", a)?;
                if a < 0.0 {
                    return Err(Error::invalid("--alpha", format!("{a} must be ≥ 0")));
                }
                let w: Vec<f64> = (1..=features)
                    .map(|i| (i as f64).powf(-(1.0 + a)))
                    .collect();
                let total: f64 = w.iter().sum();
                let scale = q * features as f64 / total;
                if w[0] * scale > 1.0 {
                    return Err(Error::invalid(
                        "--alpha",
                        format!(
                            "with α = {a} and (1 − S)·N = {} the most frequent feature would be \
                             active with probability {:.3} > 1; raise --sparsity",
                            q * features as f64,
                            w[0] * scale
                        ),
                    ));
                }
                w.iter().map(|x| x * scale).collect()
            }
        };
        let lp: Vec<f64> = p.iter().map(|&x| (-x).ln_1p()).collect();
        let mut log_surv = vec![0.0; features + 1];
        for i in 0..features {
            log_surv[i + 1] = log_surv[i] + lp[i];
        }
        // suffix[i] = Σ_{j>i} ln(1 − p_j).
        let mut suffix = vec![0.0; features];
        for i in (0..features.saturating_sub(1)).rev() {
            suffix[i] = suffix[i + 1] + lp[i + 1];
        }
        let (mut one_cdf, mut two_cdf) =
            (Vec::with_capacity(features), Vec::with_capacity(features));
        let (mut c1, mut c2) = (0.0, 0.0);
        for f in 0..features {
            let before = (log_surv[f] + suffix[f]).exp();
            c1 += p[f] * before;
            // First active f, at least one more after it.
            c2 += p[f] * log_surv[f].exp() * -suffix[f].exp_m1();
            one_cdf.push(c1);
            two_cdf.push(c2);
        }
        Ok(Activity {
            expected_active: p.iter().sum(),
            uniform: alpha.is_none().then_some(q),
            strata: [log_surv[features].exp(), c1, c2],
            p,
            log_surv,
            one_cdf,
            two_cdf,
        })
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.p.len()
    }

    /// Draws an input with exactly one active feature (`stratum` 1) or with two or more
    /// (`stratum` 2), conditionally on that (module docs, "Sampling").
    pub fn draw(&self, stratum: usize, rng: &mut ChaCha8Rng) -> Sample {
        let nf = self.features();
        let mut s = Sample::default();
        let cdf = if stratum == 1 {
            &self.one_cdf
        } else {
            &self.two_cdf
        };
        let u: f64 = rng.random::<f64>() * cdf[nf - 1];
        let last = if stratum == 1 {
            nf - 1
        } else {
            nf.saturating_sub(2)
        };
        let first = cdf.partition_point(|&c| c <= u).min(last);
        s.idx.push(first);
        s.val.push(rng.random());
        if stratum == 1 {
            return s;
        }
        // Second active g > first: the first active of the tail, conditioned on one existing:
        // the smallest g with Λ_{g+1} − Λ_{first+1} ≤ ln(1 − u·(1 − e^{Λ_N − Λ_{first+1}})).
        let base = self.log_surv[first + 1];
        let tail = self.log_surv[nf] - base;
        let u: f64 = rng.random();
        let t = base + (u * tail.exp_m1()).ln_1p();
        let second =
            (first + 1 + self.log_surv[first + 2..].partition_point(|&l| l > t)).min(nf - 1);
        s.idx.push(second);
        s.val.push(rng.random());
        match self.uniform {
            Some(p) if p < 1.0 => {
                // Geometric skipping: ⌊ln(1−u)/ln(1−p)⌋ inactive features before the next one.
                let lq = (-p).ln_1p();
                let mut i = second + 1;
                while i < nf {
                    let u: f64 = rng.random();
                    let skip = ((-u).ln_1p() / lq).floor();
                    if !skip.is_finite() || skip >= (nf - i) as f64 {
                        break;
                    }
                    i += skip as usize;
                    s.idx.push(i);
                    s.val.push(rng.random());
                    i += 1;
                }
            }
            _ => {
                for j in second + 1..nf {
                    if rng.random::<f64>() < self.p[j] {
                        s.idx.push(j);
                        s.val.push(rng.random());
                    }
                }
            }
        }
        s
    }

    /// Splits `m` samples between the strata 1 and 2 (half each where both can occur).
    pub fn split(&self, m: usize) -> [usize; 2] {
        match (self.strata[1] > 0.0, self.strata[2] > 0.0) {
            (true, true) => [m - m / 2, (m / 2).max(1)],
            (true, false) => [m, 0],
            (false, _) => [0, m],
        }
    }

    /// Draws `m` samples split by [`Activity::split`]: stratum 1 first, then stratum 2.
    pub fn draw_set(&self, m: usize, rng: &mut ChaCha8Rng) -> Strata {
        let [m1, m2] = self.split(m);
        Strata {
            one: (0..m1).map(|_| self.draw(1, rng)).collect(),
            two: (0..m2).map(|_| self.draw(2, rng)).collect(),
        }
    }

    /// `l0_S = Σ p_i I_i ∫ρ / Σ p_i`.
    pub fn dead_loss(&self, loss: &Loss, imp: &[f64]) -> f64 {
        self.p.iter().zip(imp).map(|(p, i)| p * i).sum::<f64>() * loss.l0() / self.expected_active
    }
}

/// Samples of the strata "exactly one active" and "two or more active".
#[derive(Debug, Clone, Default)]
pub struct Strata {
    /// Exactly one active feature.
    pub one: Vec<Sample>,
    /// Two or more.
    pub two: Vec<Sample>,
}

/// Draws one unconditional input: feature `i` active w.p. `p`, value `U[0,1]` (geometric
/// skipping). Kept for tests and callers that want the raw distribution.
pub fn draw(features: usize, p: f64, rng: &mut ChaCha8Rng) -> Sample {
    let mut s = Sample::default();
    if p >= 1.0 {
        for i in 0..features {
            s.idx.push(i);
            s.val.push(rng.random());
        }
        return s;
    }
    let lq = (1.0 - p).ln();
    let mut i = 0usize;
    loop {
        let u: f64 = rng.random();
        // Number of inactive features before the next active one: ⌊ln(1−u)/ln(1−p)⌋.
        let skip = ((1.0 - u).ln() / lq).floor();
        if !skip.is_finite() || skip >= (features - i) as f64 {
            return s;
        }
        i += skip as usize;
        s.idx.push(i);
        s.val.push(rng.random());
        i += 1;
        if i >= features {
            return s;
        }
    }
}

/// Loss `Σ_j I_j ρ(x'_j − x_j)` of one sample; adds its gradient into `gw`, `gb` if given.
pub fn sample_loss(
    loss: &Loss,
    model: &Model,
    imp: &[f64],
    s: &Sample,
    grad: Option<(&mut DMatrix<f64>, &mut [f64])>,
    scratch: &mut Vec<f64>,
) -> f64 {
    let (n, nf) = (model.n(), model.features());
    let w = model.w.as_slice();
    let mut h = vec![0.0; n];
    for (&i, &x) in s.idx.iter().zip(&s.val) {
        for d in 0..n {
            h[d] += x * w[i * n + d];
        }
    }
    scratch.clear();
    scratch.resize(nf, 0.0);
    let mut l = 0.0;
    // dpre_j for every output.
    let mut xj_iter = s.idx.iter().zip(&s.val).peekable();
    for j in 0..nf {
        let wj = &w[j * n..(j + 1) * n];
        let pre: f64 = wj.iter().zip(&h).map(|(a, b)| a * b).sum::<f64>() + model.b[j];
        let xj = match xj_iter.peek() {
            Some(&(&i, &v)) if i == j => {
                xj_iter.next();
                v
            }
            _ => 0.0,
        };
        let e = pre.max(0.0) - xj;
        l += imp[j] * loss.rho(e);
        scratch[j] = if pre > 0.0 {
            imp[j] * loss.drho(e)
        } else {
            0.0
        };
    }
    if let Some((gw, gb)) = grad {
        let mut dh = vec![0.0; n];
        let gws = gw.as_mut_slice();
        for j in 0..nf {
            let dp = scratch[j];
            if dp == 0.0 {
                continue;
            }
            gb[j] += dp;
            for d in 0..n {
                gws[j * n + d] += dp * h[d];
                dh[d] += dp * w[j * n + d];
            }
        }
        for (&i, &x) in s.idx.iter().zip(&s.val) {
            for d in 0..n {
                gws[i * n + d] += x * dh[d];
            }
        }
    }
    l
}

/// Loss `ℓ(0) = Σ_j I_j ρ(ReLU(b_j))` of the empty input; adds its gradient (times `weight`)
/// into `gb` if given.
fn empty_loss(loss: &Loss, model: &Model, imp: &[f64], grad: Option<(&mut [f64], f64)>) -> f64 {
    let mut l = 0.0;
    let mut g = grad;
    for (j, &b) in model.b.iter().enumerate() {
        if b > 0.0 {
            l += imp[j] * loss.rho(b);
            if let Some((gb, wgt)) = g.as_mut() {
                gb[j] += *wgt * imp[j] * loss.drho(b);
            }
        }
    }
    l
}

/// Importances `I_i = r^i` (all 1 without decay).
pub fn importances(features: usize, decay: Option<f64>) -> Vec<f64> {
    (0..features)
        .map(|i| decay.map_or(1.0, |r| r.powi(i as i32)))
        .collect()
}

/// `L_S` and its standard error from stratified samples of `act` (module docs, "Sampling").
pub fn evaluate(
    loss: &Loss,
    model: &Model,
    imp: &[f64],
    set: &Strata,
    act: &Activity,
) -> (f64, f64) {
    let mut scratch = Vec::new();
    let mut total = act.strata[0] * empty_loss(loss, model, imp, None);
    let mut var = 0.0;
    for (samples, w) in [(&set.one, act.strata[1]), (&set.two, act.strata[2])] {
        if samples.is_empty() {
            continue;
        }
        let (mut s, mut s2) = (0.0, 0.0);
        for smp in samples.iter() {
            let l = sample_loss(loss, model, imp, smp, None, &mut scratch);
            s += l;
            s2 += l * l;
        }
        let m = samples.len() as f64;
        let mean = s / m;
        total += w * mean;
        var += w * w * (s2 / m - mean * mean).max(0.0) / m;
    }
    (
        total / act.expected_active,
        var.sqrt() / act.expected_active,
    )
}

/// The exact trainer's settings for the warm start: the sampled trainer's own Adam steps and
/// rate are not the exact trainer's, so these are the exact defaults (the same model an exact
/// `train`/`sweep` of `(n, N)` finds, and the same [`ChainCache`] entries).
fn warm_settings(cfg: &TrainConfig) -> ExactSettings {
    let d = TrainConfig::new(cfg.n, cfg.features);
    ExactSettings {
        adam_steps: d.adam_steps,
        adam_lr: d.adam_lr,
        ..cfg.exact_settings()
    }
}

/// One Adam run of `steps` minibatch steps from `model` at learning rate `lr0`; returns the
/// minibatch losses.
#[allow(clippy::too_many_arguments)]
fn adam_run(
    cfg: &TrainConfig,
    act: &Activity,
    imp: &[f64],
    model: &mut Model,
    lr0: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    let (n, nf) = (cfg.n, cfg.features);
    let pcount = n * nf + nf;
    let (mut m1, mut m2) = (vec![0.0; pcount], vec![0.0; pcount]);
    let mut gw = DMatrix::zeros(n, nf);
    let mut gb = vec![0.0; nf];
    let mut scratch = Vec::new();
    let steps = cfg.adam_steps.max(1);
    let batch = cfg.batch.max(1);
    let mut hist = Vec::with_capacity(steps);
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let counts = act.split(batch);
    // Per-sample weight of each stratum: P_k / (M_k Σp); the gradient is scaled per sample.
    let weights: Vec<f64> = (0..2)
        .map(|k| {
            if counts[k] == 0 {
                0.0
            } else {
                act.strata[k + 1] / (counts[k] as f64 * act.expected_active)
            }
        })
        .collect();
    let empty_w = act.strata[0] / act.expected_active;
    let (mut gw1, mut gb1) = (DMatrix::zeros(n, nf), vec![0.0; nf]);
    for t in 1..=steps {
        gw.fill(0.0);
        gb.fill(0.0);
        let mut bl = 0.0;
        for k in 0..2 {
            gw1.fill(0.0);
            gb1.fill(0.0);
            let mut lk = 0.0;
            for _ in 0..counts[k] {
                let s = act.draw(k + 1, rng);
                lk += sample_loss(
                    &cfg.loss,
                    model,
                    imp,
                    &s,
                    Some((&mut gw1, &mut gb1)),
                    &mut scratch,
                );
            }
            bl += lk * weights[k];
            gw.iter_mut()
                .zip(gw1.iter())
                .for_each(|(g, x)| *g += x * weights[k]);
            gb.iter_mut()
                .zip(&gb1)
                .for_each(|(g, x)| *g += x * weights[k]);
        }
        // The empty input, exactly.
        let le = empty_loss(&cfg.loss, model, imp, Some((&mut gb, empty_w)));
        hist.push(bl + le * empty_w);
        let frac = (t - 1) as f64 / steps.max(2) as f64;
        let rate = lr0
            * (1.0 / 30.0 + (1.0 - 1.0 / 30.0) * 0.5 * (1.0 + (std::f64::consts::PI * frac).cos()));
        let (c1, c2) = (1.0 - b1.powi(t as i32), 1.0 - b2.powi(t as i32));
        let params = model
            .w
            .as_mut_slice()
            .iter_mut()
            .zip(gw.as_slice())
            .chain(model.b.as_mut_slice().iter_mut().zip(gb.iter()));
        for (q, (x, &g)) in params.enumerate() {
            m1[q] = b1 * m1[q] + (1.0 - b1) * g;
            m2[q] = b2 * m2[q] + (1.0 - b2) * g * g;
            *x -= rate * (m1[q] / c1) / ((m2[q] / c2).sqrt() + eps);
        }
        decay_weights(model, cfg.weight_decay, rate);
    }
    hist
}

/// Decoupled weight decay on `W` (module docs).
fn decay_weights(model: &mut Model, wd: f64, rate: f64) {
    if wd == 0.0 {
        return;
    }
    if wd > 0.0 {
        model.w.iter_mut().for_each(|x| *x *= 1.0 - rate * wd);
        return;
    }
    for mut col in model.w.column_iter_mut() {
        let norm = col.norm() + 1e-8;
        col *= 1.0 + rate * wd * (1.0 - 1.0 / norm);
    }
}

/// Convergence test on minibatch losses (module docs).
fn converged(hist: &[f64]) -> bool {
    let steps = hist.len();
    if steps < 20 {
        return false;
    }
    let tenth = (steps / 10).max(1);
    let stats = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
        (m, (var / v.len() as f64).sqrt())
    };
    let (a, sa) = stats(&hist[steps - tenth..]);
    let (b, sb) = stats(&hist[steps - 2 * tenth..steps - tenth]);
    (a - b).abs() <= 3.0 * (sa * sa + sb * sb).sqrt()
}

/// Trains with Adam on minibatches and returns the best candidate (module docs).
pub fn train_sampled(
    cfg: &TrainConfig,
    sparsity: f64,
    obs: &dyn Observer,
) -> Result<SampledResult> {
    train_sampled_cached(cfg, sparsity, obs, None)
}

/// As [`train_sampled`], taking the warm start's exact chain steps from `cache`.
pub fn train_sampled_cached(
    cfg: &TrainConfig,
    sparsity: f64,
    obs: &dyn Observer,
    cache: Option<&ChainCache>,
) -> Result<SampledResult> {
    let (n, nf) = (cfg.n, cfg.features);
    let act = Activity::new(nf, sparsity, cfg.alpha)?;
    let imp = importances(nf, cfg.importance_decay);
    let l0 = act.dead_loss(&cfg.loss, &imp);
    let mut erng = ChaCha8Rng::seed_from_u64(mix_seed(cfg.seed, &[n as u64, nf as u64, 999]));
    let eval_set = act.draw_set(EVAL_SAMPLES, &mut erng);
    let guard = cfg.weight_decay == 0.0;
    let mut best: Option<SampledResult> = None;
    let mut offer = |model: Model, name: String, conv: bool| -> Result<()> {
        let (loss, stderr) = evaluate(&cfg.loss, &model, &imp, &eval_set, &act);
        if !loss.is_finite() {
            return Err(Error::Numerical("sampled training diverged".into()));
        }
        obs.event(&Event::Start {
            n,
            features: nf,
            start: name.clone(),
            loss,
        });
        if best.as_ref().map_or(true, |b| loss < b.loss) {
            best = Some(SampledResult {
                model,
                loss,
                stderr,
                l0,
                start: name,
                converged: conv,
            });
        }
        Ok(())
    };
    if guard {
        offer(Model::zeros(n, nf), "dead".into(), false)?;
    }
    if cfg.warm_start {
        let r = train_exact_cached(n, nf, cfg.seed, &cfg.loss, &warm_settings(cfg), obs, cache)?;
        let mut model = r.model.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(cfg.seed, &[n as u64, nf as u64, 7, 1]));
        let hist = adam_run(cfg, &act, &imp, &mut model, 0.1 * cfg.adam_lr, &mut rng);
        offer(model, "exact+sampled".into(), converged(&hist))?;
        if guard {
            offer(r.model, "exact".into(), r.converged)?;
        }
    }
    let sd = (2.0 / (n + nf) as f64).sqrt();
    for run in 0..cfg.restarts.max(1) {
        let mut rng =
            ChaCha8Rng::seed_from_u64(mix_seed(cfg.seed, &[n as u64, nf as u64, run as u64, 7]));
        let mut model = Model::zeros(n, nf);
        for x in model.w.iter_mut() {
            *x = sd * rng.sample::<f64, _>(StandardNormal);
        }
        let hist = adam_run(cfg, &act, &imp, &mut model, cfg.adam_lr, &mut rng);
        offer(model, format!("sampled#{run}"), converged(&hist))?;
    }
    Ok(best.expect("at least one candidate"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::{exact, Loss, NoObserver};
    use nalgebra::DVector;

    #[test]
    fn draw_has_the_right_activity() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (nf, p, m) = (50, 0.1, 20_000);
        let total: usize = (0..m).map(|_| draw(nf, p, &mut rng).idx.len()).sum();
        let mean = total as f64 / m as f64;
        // Binomial(50, 0.1): mean 5, sd of the mean √(4.5/20000) = 0.015.
        assert!((mean - 5.0).abs() < 0.06, "{mean}");
        let s = draw(nf, 1.0, &mut rng);
        assert_eq!(s.idx.len(), nf);
    }

    /// With orthogonal features (N = n) the features never interfere, so `L_S` equals the exact
    /// sparse-limit loss at any sparsity.
    #[test]
    fn orthogonal_model_matches_exact_loss_at_any_sparsity() {
        let n = 4;
        let ks: [f64; 4] = [0.5, 1.3, 2.0, 0.9];
        let bs = [-0.1, -0.4, 0.0, -0.2];
        let w = DMatrix::from_fn(n, n, |r, c| if r == c { ks[c].sqrt() } else { 0.0 });
        let m = Model::new(w, DVector::from_row_slice(&bs)).unwrap();
        let exact = exact::loss(&m, &Loss::L2);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let act = Activity::new(n, 0.5, None).unwrap();
        let samples = act.draw_set(100_000, &mut rng);
        let (l, se) = evaluate(&Loss::L2, &m, &importances(n, None), &samples, &act);
        assert!((l - exact).abs() < 4.0 * se, "{l} ± {se} vs {exact}");
    }

    #[test]
    fn sample_gradient_matches_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (n, nf) = (3, 7);
        let w = DMatrix::from_fn(n, nf, |_, _| rng.random_range(-1.0..1.0));
        let b = DVector::from_fn(nf, |_, _| rng.random_range(-0.3..0.3));
        let m = Model::new(w, b).unwrap();
        let imp = importances(nf, Some(0.8));
        let batch: Vec<Sample> = (0..20).map(|_| draw(nf, 0.4, &mut rng)).collect();
        let mut scratch = Vec::new();
        let total = |m: &Model, s: &mut Vec<f64>| {
            batch
                .iter()
                .map(|x| sample_loss(&Loss::L2, m, &imp, x, None, s))
                .sum::<f64>()
        };
        let mut gw = DMatrix::zeros(n, nf);
        let mut gb = vec![0.0; nf];
        for x in &batch {
            sample_loss(
                &Loss::L2,
                &m,
                &imp,
                x,
                Some((&mut gw, &mut gb)),
                &mut scratch,
            );
        }
        let h = 1e-6;
        for idx in 0..n * nf {
            let (mut a, mut c) = (m.clone(), m.clone());
            a.w.as_mut_slice()[idx] += h;
            c.w.as_mut_slice()[idx] -= h;
            let fd = (total(&a, &mut scratch) - total(&c, &mut scratch)) / (2.0 * h);
            assert!(
                (fd - gw.as_slice()[idx]).abs() < 1e-5 * (1.0 + fd.abs()),
                "{fd} vs {}",
                gw.as_slice()[idx]
            );
        }
        for (j, &an) in gb.iter().enumerate() {
            let (mut a, mut c) = (m.clone(), m.clone());
            a.b[j] += h;
            c.b[j] -= h;
            let fd = (total(&a, &mut scratch) - total(&c, &mut scratch)) / (2.0 * h);
            assert!((fd - an).abs() < 1e-5 * (1.0 + fd.abs()), "{fd} vs {an}");
        }
    }

    /// The stratified estimator against plain Monte Carlo on unconditional inputs (an
    /// independent sampler), for a model with positive and negative biases, with and without α.
    #[test]
    fn stratified_estimate_matches_plain_monte_carlo() {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let (n, nf) = (3, 12);
        let w = DMatrix::from_fn(n, nf, |_, _| rng.random_range(-1.0..1.0));
        let b = DVector::from_fn(nf, |_, _| rng.random_range(-0.4..0.1));
        let m = Model::new(w, b).unwrap();
        let imp = importances(nf, None);
        for (sparsity, alpha) in [(0.8, None), (0.95, Some(0.7))] {
            let act = Activity::new(nf, sparsity, alpha).unwrap();
            let set = act.draw_set(40_000, &mut rng);
            let (l, se) = evaluate(&Loss::L2, &m, &imp, &set, &act);
            // Plain: each feature active with its own p_i.
            let (mut sum, mut sum2, reps) = (0.0, 0.0, 200_000);
            let mut scratch = Vec::new();
            for _ in 0..reps {
                let mut smp = Sample::default();
                for (i, &p) in act.p.iter().enumerate() {
                    if rng.random::<f64>() < p {
                        smp.idx.push(i);
                        smp.val.push(rng.random());
                    }
                }
                let x = sample_loss(&Loss::L2, &m, &imp, &smp, None, &mut scratch);
                sum += x;
                sum2 += x * x;
            }
            let mean = sum / reps as f64;
            let se_plain = ((sum2 / reps as f64 - mean * mean) / reps as f64).sqrt();
            let plain = mean / act.expected_active;
            let tol = 4.0 * (se * se + (se_plain / act.expected_active).powi(2)).sqrt();
            assert!(
                (l - plain).abs() < tol,
                "S={sparsity}: {l} vs {plain} ± {tol}"
            );
            // The strata add up to 1.
            let total: f64 = act.strata.iter().sum();
            crate::prec::assert_close(total, 1.0, 1e-12);
        }
    }

    /// `L_S → L_exact` as `S → 1` for a fixed model with `b ≤ 0` (the exact optimum of
    /// n = 3, N = 16): at S = 1 − 10⁻⁷ the co-activation stratum weighs 10⁻⁶ and the estimate
    /// agrees with the exact loss within 4 standard errors; the dead loss is l0 exactly.
    #[test]
    fn sampled_loss_tends_to_the_exact_loss() {
        let cfg = TrainConfig::new(3, 16);
        let r = train_exact_cached(
            3,
            16,
            0,
            &Loss::L2,
            &cfg.exact_settings(),
            &NoObserver,
            None,
        )
        .unwrap();
        let exact = exact::loss(&r.model, &Loss::L2);
        let imp = importances(16, None);
        let act = Activity::new(16, 1.0 - 1e-7, None).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let set = act.draw_set(EVAL_SAMPLES, &mut rng);
        let (l, se) = evaluate(&Loss::L2, &r.model, &imp, &set, &act);
        assert!((l - exact).abs() < 4.0 * se, "{l} ± {se} vs {exact}");
        crate::prec::assert_close(act.dead_loss(&Loss::L2, &imp), 1.0 / 3.0, 1e-12);
    }

    /// The returned model is no worse than any candidate: the dead model and a cold start
    /// scored on the same evaluation set.
    #[test]
    fn never_worse_than_dead_or_cold() {
        let mut cfg = TrainConfig::new(3, 24);
        cfg.sparsity = Some(0.99);
        cfg.adam_steps = 300;
        cfg.adam_lr = 0.01;
        let warm = train_sampled(&cfg, 0.99, &NoObserver).unwrap();
        cfg.warm_start = false;
        let cold = train_sampled(&cfg, 0.99, &NoObserver).unwrap();
        assert!(warm.loss <= cold.loss, "{} vs {}", warm.loss, cold.loss);
        let act = Activity::new(24, 0.99, None).unwrap();
        let mut erng = ChaCha8Rng::seed_from_u64(mix_seed(0, &[3, 24, 999]));
        let set = act.draw_set(EVAL_SAMPLES, &mut erng);
        let imp = importances(24, None);
        let (dead, _) = evaluate(&Loss::L2, &Model::zeros(3, 24), &imp, &set, &act);
        assert!(warm.loss <= dead && cold.loss <= dead);
    }

    /// Weight decay: positive shrinks W by exactly (1 − η·wd); negative moves every feature's
    /// norm toward 1 (from above and from below).
    #[test]
    fn weight_decay_shrinks_or_normalises() {
        let w = DMatrix::from_row_slice(2, 2, &[3.0, 0.1, 4.0, 0.2]);
        let mut m = Model::new(w.clone(), DVector::zeros(2)).unwrap();
        decay_weights(&mut m, 0.5, 0.1);
        crate::prec::assert_close(m.w[(1, 0)], 4.0 * 0.95, 1e-12);
        let mut m = Model::new(w, DVector::zeros(2)).unwrap();
        let before: Vec<f64> = m.w.column_iter().map(|c| c.norm()).collect();
        decay_weights(&mut m, -1.0, 0.1);
        let after: Vec<f64> = m.w.column_iter().map(|c| c.norm()).collect();
        assert!(after[0] < before[0] && after[0] > 1.0, "{after:?}");
        assert!(after[1] > before[1] && after[1] < 1.0, "{after:?}");
    }

    /// α: the frequencies follow i^−(1+α) and keep the mean activity; a too steep α is refused.
    #[test]
    fn power_law_frequencies() {
        let act = Activity::new(100, 0.99, Some(0.5)).unwrap();
        crate::prec::assert_close(act.expected_active, 1.0, 1e-12);
        crate::prec::assert_close(act.p[0] / act.p[3], 4f64.powf(1.5), 1e-12);
        assert!(Activity::new(100, 0.5, Some(1.0)).is_err());
        assert!(Activity::new(100, 0.99, Some(-0.1)).is_err());
    }

    /// Dense inputs, N = n = 2: the optimum is the identity map (loss 0, gain 2/3).
    #[test]
    fn learns_the_identity_when_features_fit() {
        let mut cfg = TrainConfig::new(2, 2);
        cfg.sparsity = Some(0.0);
        cfg.adam_steps = 600;
        cfg.batch = 64;
        cfg.warm_start = false;
        let r = train_sampled(&cfg, 0.0, &NoObserver).unwrap();
        let g = (r.l0 - r.loss) * 2.0;
        assert!(g > 0.6, "gain {g}, loss {}", r.loss);
    }
}
