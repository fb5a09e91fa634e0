//! The sampled trainer for finite sparsity (what the exact loss does not cover).
//!
//! Each feature `i` is active independently with probability `p = 1 − S`, with value
//! `x_i ~ U[0,1]` (else 0), so several features can be active at once. The bias is free (no
//! `b ≤ 0` constraint), as in the Toy Models paper, and feature `i` may carry an importance
//! `I_i = r^i`.
//!
//! # Formula
//!
//! The reported loss is per active feature, so that it tends to the exact sparse-limit loss as
//! `S → 1` and a dead model scores `l0 = mean(I)·∫₀¹ρ(x)dx` (`mean(I)/3` for L2):
//!
//! ```text
//! L_S = E[ Σ_j I_j ρ(ReLU(W_jᵀ W x + b_j) − x_j) ] / (N (1 − S)),    g = (l0 − L_S) · N
//! ```
//!
//! Run 0 starts, by default (`warm_start`), from the exact-loss optimum of the same `(n, N)`
//! (found by [`super::train`]): sampled Adam from random starts gets stuck in degenerate minima
//! just as the note reports; it is fine-tuned at a tenth of the learning rate, and kept
//! untouched if fine-tuning made it worse on the evaluation set. The other runs start from Gaussian weights (variance `2/(n+N)`,
//! `b = 0`). Training is Adam on minibatches (`batch` samples per step, learning rate cosine-decayed to
//! 1/30); `restarts` independent runs, the best kept by `L_S` on a common evaluation set of
//! [`EVAL_SAMPLES`] samples, whose standard error is reported. A run counts as converged when the
//! mean minibatch loss of its last 10% of steps is within 3 standard errors of the previous 10%.

use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::train::{mix_seed, train_exact};
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
    /// `l0 = mean(I)·∫₀¹ρ(x)dx`.
    pub l0: f64,
    /// Which run won (`exact+sampled` for the warm start, `sampled#k`).
    pub start: String,
    /// Convergence test of the winning run.
    pub converged: bool,
}

/// One input: active feature indices and values.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Active features.
    pub idx: Vec<usize>,
    /// Their values.
    pub val: Vec<f64>,
}

/// Draws one input: feature `i` active w.p. `p`, value `U[0,1]` (geometric skipping).
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

/// Importances `I_i = r^i` (all 1 without decay).
pub fn importances(features: usize, decay: Option<f64>) -> Vec<f64> {
    (0..features)
        .map(|i| decay.map_or(1.0, |r| r.powi(i as i32)))
        .collect()
}

/// Mean of `Σ_j I_j ρ(x'_j − x_j)` over `samples`, normalised by `N p`, with standard error.
pub fn evaluate(loss: &Loss, model: &Model, imp: &[f64], samples: &[Sample], p: f64) -> (f64, f64) {
    let mut scratch = Vec::new();
    let (mut s, mut s2) = (0.0, 0.0);
    for smp in samples {
        let l = sample_loss(loss, model, imp, smp, None, &mut scratch);
        s += l;
        s2 += l * l;
    }
    let m = samples.len() as f64;
    let norm = model.features() as f64 * p;
    let mean = s / m;
    let var = (s2 / m - mean * mean).max(0.0);
    (mean / norm, (var / m).sqrt() / norm)
}

/// Trains with Adam on minibatches (module docs).
pub fn train_sampled(
    cfg: &TrainConfig,
    sparsity: f64,
    obs: &dyn Observer,
) -> Result<SampledResult> {
    let (n, nf) = (cfg.n, cfg.features);
    let p = 1.0 - sparsity;
    let imp = importances(nf, cfg.importance_decay);
    let l0 = imp.iter().sum::<f64>() / nf as f64 * cfg.loss.l0();
    let mut erng = ChaCha8Rng::seed_from_u64(mix_seed(cfg.seed, &[n as u64, nf as u64, 999]));
    let eval_set: Vec<Sample> = (0..EVAL_SAMPLES).map(|_| draw(nf, p, &mut erng)).collect();
    let mut best: Option<SampledResult> = None;
    for run in 0..cfg.restarts.max(1) {
        let mut rng =
            ChaCha8Rng::seed_from_u64(mix_seed(cfg.seed, &[n as u64, nf as u64, run as u64, 7]));
        let sd = (2.0 / (n + nf) as f64).sqrt();
        let warm = run == 0 && cfg.warm_start;
        let (mut model, name) = if warm {
            // Warm start: the exact sparse-limit optimum of the same (n, N).
            let r = train_exact(
                cfg.n,
                cfg.features,
                cfg.seed,
                &cfg.loss,
                &cfg.exact_settings(),
                obs,
            )?;
            (r.model, "exact+sampled".to_string())
        } else {
            let mut m = Model::zeros(n, nf);
            for x in m.w.iter_mut() {
                *x = sd * rng.sample::<f64, _>(StandardNormal);
            }
            (m, format!("sampled#{run}"))
        };
        let start_model = warm.then(|| model.clone());
        let pcount = n * nf + nf;
        let (mut m1, mut m2) = (vec![0.0; pcount], vec![0.0; pcount]);
        let mut gw = DMatrix::zeros(n, nf);
        let mut gb = vec![0.0; nf];
        let mut scratch = Vec::new();
        let steps = cfg.adam_steps.max(1);
        let mut hist = Vec::with_capacity(steps);
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        for t in 1..=steps {
            gw.fill(0.0);
            gb.fill(0.0);
            let mut bl = 0.0;
            for _ in 0..cfg.batch {
                let s = draw(nf, p, &mut rng);
                bl += sample_loss(
                    &cfg.loss,
                    &model,
                    &imp,
                    &s,
                    Some((&mut gw, &mut gb)),
                    &mut scratch,
                );
            }
            let scale = 1.0 / (cfg.batch as f64 * nf as f64 * p);
            hist.push(bl * scale);
            let frac = (t - 1) as f64 / steps.max(2) as f64;
            // The warm start is fine-tuned at a tenth of the learning rate.
            let rate = if warm { 0.1 } else { 1.0 }
                * cfg.adam_lr
                * (1.0 / 30.0
                    + (1.0 - 1.0 / 30.0) * 0.5 * (1.0 + (std::f64::consts::PI * frac).cos()));
            let (c1, c2) = (1.0 - b1.powi(t as i32), 1.0 - b2.powi(t as i32));
            let params = model
                .w
                .as_mut_slice()
                .iter_mut()
                .zip(gw.as_slice())
                .chain(model.b.as_mut_slice().iter_mut().zip(gb.iter()));
            for (q, (x, g)) in params.enumerate() {
                let g = g * scale;
                m1[q] = b1 * m1[q] + (1.0 - b1) * g;
                m2[q] = b2 * m2[q] + (1.0 - b2) * g * g;
                *x -= rate * (m1[q] / c1) / ((m2[q] / c2).sqrt() + eps);
            }
        }
        let tenth = (steps / 10).max(1);
        let converged = if steps >= 20 {
            let stats = |v: &[f64]| {
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
                (m, (var / v.len() as f64).sqrt())
            };
            let (a, sa) = stats(&hist[steps - tenth..]);
            let (b, sb) = stats(&hist[steps - 2 * tenth..steps - tenth]);
            (a - b).abs() <= 3.0 * (sa * sa + sb * sb).sqrt()
        } else {
            false
        };
        let (mut loss, mut stderr) = evaluate(&cfg.loss, &model, &imp, &eval_set, p);
        if let Some(st) = &start_model {
            // Keep the untouched warm start if fine-tuning made it worse on the evaluation set.
            let (l0s, se0) = evaluate(&cfg.loss, st, &imp, &eval_set, p);
            if l0s < loss {
                (model, loss, stderr) = (st.clone(), l0s, se0);
            }
        }
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
                converged,
            });
        }
    }
    Ok(best.expect("at least one run"))
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
        let samples: Vec<Sample> = (0..100_000).map(|_| draw(n, 0.5, &mut rng)).collect();
        let (l, se) = evaluate(&Loss::L2, &m, &importances(n, None), &samples, 0.5);
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
