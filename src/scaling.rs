//! The scaling-law study: loss versus model dimension `n` at fixed `N`, over feature-frequency
//! exponents α and weight decays, with the fitted exponent of each.
//!
//! The setup follows Liu, Liu & Gore, "Superposition Yields Robust Neural Scaling" (NeurIPS
//! 2025; code `liuyz0/SuperpositionScaling`, `exp/exp-10.py`): the toy model
//! `ReLU(WᵀW x + b)` with feature frequencies `p_i ∝ i^{−(1+α)}` normalised to one active
//! feature per input on average (`Σ p_i = 1`, i.e. `S = 1 − 1/N` here), free bias, and
//! decoupled weight decay on `W` (AdamW; their negative weight decay pulls each feature's norm
//! toward 1, forcing strong superposition). Their grid: `N = 1000`, `n` from 10 to 100 (6
//! values), α ∈ [0, 1] (9), weight decay ∈ [−1, 1] (10), 20 000 Adam steps of batch 2048; they
//! report loss ∝ 1/n (exponent ≈ 1) under strong superposition for a broad range of α. Here the
//! sampled trainer of [`crate::toy::sampled`] trains every model (cold starts), each
//! `(α, weight decay)` as one resumable, shardable sweep folder `DIR/a{α}_wd{wd}`.
//!
//! # Formula
//!
//! The exponent is the least-squares slope of `ln L` against `ln n` (`L ∝ n^{−β}`):
//!
//! ```text
//! β = −Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²,   x = ln n, y = ln L,
//! se(β) = sqrt( Σ r² / (k − 2) / Σ(x−x̄)² )      (k points, residuals r)
//! ```
//!
//! The packing law's prediction is the same fit applied to the loss of the best symmetric
//! configuration ([`crate::symmetric::optimize`], the sparse limit with uniform frequencies),
//! `L(n) = l0 − g(n, N)/N`, over the same `n`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::toy::shard::Shard;
use crate::toy::sweep::{self, SweepObserver};
use crate::toy::TrainConfig;

/// The grid of a scaling study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingGrid {
    /// Model dimensions `n`.
    pub dims: Vec<usize>,
    /// Number of features `N`.
    pub features: usize,
    /// Frequency exponents α.
    pub alphas: Vec<f64>,
    /// Weight decays (negative allowed).
    pub weight_decays: Vec<f64>,
    /// Sparsity `S` (default `1 − 1/N`: one active feature per input on average).
    pub sparsity: f64,
    /// Adam steps per model.
    pub steps: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Seed.
    pub seed: u64,
}

impl ScalingGrid {
    /// The reduced default grid (minutes on 2 cores): `N = 256`, `n ∈ {4, 8, 16, 32}`,
    /// α ∈ {0, 1}, weight decay ∈ {−1, 0}, 2000 steps of batch 256.
    pub fn reduced() -> Self {
        ScalingGrid {
            dims: vec![4, 8, 16, 32],
            features: 256,
            alphas: vec![0.0, 1.0],
            weight_decays: vec![-1.0, 0.0],
            sparsity: 1.0 - 1.0 / 256.0,
            steps: 2000,
            batch: 256,
            seed: 0,
        }
    }

    /// The template of the sub-sweep `(α, wd)`.
    pub fn template(&self, alpha: f64, wd: f64) -> TrainConfig {
        let mut t = TrainConfig::new(1, self.features);
        t.sparsity = Some(self.sparsity);
        t.alpha = Some(alpha);
        t.weight_decay = wd;
        t.adam_steps = self.steps;
        t.adam_lr = 0.01;
        t.batch = self.batch;
        t.seed = self.seed;
        t.warm_start = false;
        t
    }

    /// Folder of the sub-sweep `(α, wd)` under `dir`.
    pub fn folder(dir: &Path, alpha: f64, wd: f64) -> PathBuf {
        dir.join(format!("a{alpha}_wd{wd}"))
    }
}

/// One trained model of the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingPoint {
    /// α.
    pub alpha: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Model dimension.
    pub n: usize,
    /// `L_S` per active feature.
    pub loss: f64,
    /// Its standard error.
    pub loss_stderr: f64,
    /// Fraction of features embedded.
    pub fraction_embedded: f64,
}

/// A fitted exponent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// α (`None` for the packing law).
    pub alpha: Option<f64>,
    /// Weight decay (`None` for the packing law).
    pub weight_decay: Option<f64>,
    /// `trained` or `packing law (sparse limit, uniform p)`.
    pub source: String,
    /// Dimensions used.
    pub dims: Vec<usize>,
    /// Losses at those dimensions.
    pub losses: Vec<f64>,
    /// β in `L ∝ n^{−β}`.
    pub exponent: f64,
    /// Standard error of β (`None` with fewer than 3 points).
    pub exponent_stderr: Option<f64>,
}

/// The study's result (committed as `docs/scaling/scaling.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// The command that made it.
    pub command: String,
    /// The grid.
    pub grid: ScalingGrid,
    /// Every trained model found.
    pub points: Vec<ScalingPoint>,
    /// One fit per complete `(α, wd)`, then the packing law's.
    pub fits: Vec<Fit>,
}

/// Least-squares exponent `β` of `L ∝ n^{−β}` and its standard error (module docs).
pub fn fit_exponent(dims: &[usize], losses: &[f64]) -> Result<(f64, Option<f64>)> {
    if dims.len() != losses.len() || dims.len() < 2 || losses.iter().any(|&l| l <= 0.0) {
        return Err(Error::invalid(
            "scaling fit",
            "needs at least two dimensions with positive losses",
        ));
    }
    let k = dims.len() as f64;
    let x: Vec<f64> = dims.iter().map(|&n| (n as f64).ln()).collect();
    let y: Vec<f64> = losses.iter().map(|l| l.ln()).collect();
    let (mx, my) = (x.iter().sum::<f64>() / k, y.iter().sum::<f64>() / k);
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    if sxx == 0.0 {
        return Err(Error::invalid(
            "scaling fit",
            "needs two different dimensions",
        ));
    }
    let sxy: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    let se = (dims.len() > 2).then(|| {
        let rss: f64 = x
            .iter()
            .zip(&y)
            .map(|(a, b)| (b - my - slope * (a - mx)).powi(2))
            .sum();
        (rss / (k - 2.0) / sxx).sqrt()
    });
    Ok((-slope, se))
}

/// Trains (or resumes) this shard's part of the grid into `dir`, then fits every `(α, wd)`
/// whose models are all present (a shard sees the others' models in a shared `dir`).
pub fn run(
    grid: &ScalingGrid,
    dir: &Path,
    shard: Shard,
    command: &str,
    progress: &dyn SweepObserver,
) -> Result<Scaling> {
    if grid.dims.len() < 2 {
        return Err(Error::invalid(
            "--dims",
            "the fit needs at least two dimensions",
        ));
    }
    for &a in &grid.alphas {
        for &wd in &grid.weight_decays {
            sweep::run_grid(
                &grid.dims,
                &[grid.features],
                &[],
                &ScalingGrid::folder(dir, a, wd),
                &grid.template(a, wd),
                shard,
                progress,
            )?;
        }
    }
    collect(grid, dir, command)
}

/// Reads the models of the grid found in `dir` and fits them (no training).
pub fn collect(grid: &ScalingGrid, dir: &Path, command: &str) -> Result<Scaling> {
    let mut points = Vec::new();
    let mut fits = Vec::new();
    for &a in &grid.alphas {
        for &wd in &grid.weight_decays {
            let folder = ScalingGrid::folder(dir, a, wd);
            let recs = if folder.join("models").is_dir() {
                sweep::load(&folder)?
            } else {
                Vec::new()
            };
            let mut got: Vec<(usize, f64)> = Vec::new();
            for r in recs.iter().filter(|r| grid.dims.contains(&r.report.n)) {
                points.push(ScalingPoint {
                    alpha: a,
                    weight_decay: wd,
                    n: r.report.n,
                    loss: r.report.loss,
                    loss_stderr: r.report.loss_stderr,
                    fraction_embedded: r.report.fraction_embedded,
                });
                got.push((r.report.n, r.report.loss));
            }
            if got.len() == grid.dims.len() {
                let dims: Vec<usize> = got.iter().map(|g| g.0).collect();
                let losses: Vec<f64> = got.iter().map(|g| g.1).collect();
                let (exponent, exponent_stderr) = fit_exponent(&dims, &losses)?;
                fits.push(Fit {
                    alpha: Some(a),
                    weight_decay: Some(wd),
                    source: "trained".into(),
                    dims,
                    losses,
                    exponent,
                    exponent_stderr,
                });
            }
        }
    }
    fits.push(packing_fit(&grid.dims, grid.features)?);
    Ok(Scaling {
        command: command.to_string(),
        grid: grid.clone(),
        points,
        fits,
    })
}

/// The packing law's exponent: the fit of the best symmetric configuration's loss (module docs).
pub fn packing_fit(dims: &[usize], features: usize) -> Result<Fit> {
    let losses = dims
        .iter()
        .map(|&n| crate::symmetric::optimize(n, features as u64, &Loss::L2, None).map(|p| p.loss))
        .collect::<Result<Vec<f64>>>()?;
    let (exponent, exponent_stderr) = fit_exponent(dims, &losses)?;
    Ok(Fit {
        alpha: None,
        weight_decay: None,
        source: "packing law (sparse limit, uniform p)".into(),
        dims: dims.to_vec(),
        losses,
        exponent,
        exponent_stderr,
    })
}

fn fmt_opt(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{v}"))
}

/// The report section (a `## …` section with the numbers and the command that made them).
pub fn markdown_section(s: &Scaling) -> String {
    let g = &s.grid;
    let mut out = String::from("## Scaling law: loss versus model dimension\n\n");
    out.push_str(&format!(
        "Loss per active feature `L` of the toy model at `N = {}`, sparsity `S = {:.6}` \
         ({:.3} active features per input on average), feature frequencies \
         `p_i ∝ i^−(1+α)`, decoupled weight decay on `W`, trained by the sampled trainer \
         ({} Adam steps of batch {}, cold start, seed {}). The exponent β of `L ∝ n^−β` is the \
         least-squares slope in log–log over n ∈ {:?}, ± its standard error. Made by `{}`.\n\n",
        g.features,
        g.sparsity,
        (1.0 - g.sparsity) * g.features as f64,
        g.steps,
        g.batch,
        g.seed,
        g.dims,
        s.command
    ));
    out.push_str(
        "| α | weight decay | source | L at each n | β | ± |\n|---|---|---|---|---|---|\n",
    );
    for f in &s.fits {
        let ls: Vec<String> = f.losses.iter().map(|l| format!("{l:.4}")).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.3} | {} |\n",
            fmt_opt(f.alpha),
            fmt_opt(f.weight_decay),
            f.source,
            ls.join(", "),
            f.exponent,
            f.exponent_stderr.map_or("—".into(), |e| format!("{e:.3}"))
        ));
    }
    out.push_str(
        "\nBeside: Liu, Liu & Gore (\"Superposition Yields Robust Neural Scaling\", NeurIPS \
         2025, `liuyz0/SuperpositionScaling`) report β ≈ 1 (loss ∝ 1/n) under strong \
         superposition (negative weight decay) for a broad range of α, and β depending on α \
         under weak superposition. The packing law's row is the sparse-limit prediction with \
         uniform frequencies: the loss of the best symmetric configuration, `l0 − g/N`, fitted \
         the same way. The reduced default grid is small (four n, short training); the \
         paper's grid (N = 1000, n = 10…100, 9 α × 10 weight decays, 20 000 steps) is the one \
         to send to a cluster (`superpose scaling … --shard slurm`).\n",
    );
    out
}

/// Reads a committed result.
pub fn load(path: &Path) -> Result<Scaling> {
    read_json(path)
}

/// Reads a JSON file into `T` (the committed study results).
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let t = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&t).map_err(|e| Error::parse(path.display().to_string(), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_power_law() {
        let dims = [4, 8, 16, 32];
        let l: Vec<f64> = dims.iter().map(|&n| 3.0 * (n as f64).powf(-0.7)).collect();
        let (b, se) = fit_exponent(&dims, &l).unwrap();
        crate::prec::assert_close(b, 0.7, 1e-12);
        assert!(se.unwrap() < 1e-12);
        // Noise: the standard error matches the textbook formula on a hand-made example.
        let (b, se) = fit_exponent(&[1, 2, 4], &[1.0, 0.5, 0.3]).unwrap();
        // x = (0, ln2, 2ln2), y = (0, −ln2, ln0.3): slope by hand.
        let (x, y) = ([0.0, 2f64.ln(), 4f64.ln()], [0.0, 0.5f64.ln(), 0.3f64.ln()]);
        let mx = x.iter().sum::<f64>() / 3.0;
        let my = y.iter().sum::<f64>() / 3.0;
        let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
        let s: f64 = x
            .iter()
            .zip(&y)
            .map(|(a, c)| (a - mx) * (c - my))
            .sum::<f64>()
            / sxx;
        crate::prec::assert_close(b, -s, 1e-12);
        let r: f64 = x
            .iter()
            .zip(&y)
            .map(|(a, c)| (c - my - s * (a - mx)).powi(2))
            .sum();
        crate::prec::assert_close(se.unwrap(), (r / sxx).sqrt(), 1e-12);
        assert!(fit_exponent(&[4], &[1.0]).is_err());
        assert!(fit_exponent(&[4, 8], &[1.0, 0.0]).is_err());
    }

    #[test]
    fn packing_law_loss_falls_with_n() {
        let f = packing_fit(&[4, 8, 16], 256).unwrap();
        assert!(f.losses.windows(2).all(|w| w[1] < w[0]), "{:?}", f.losses);
        assert!(f.exponent > 0.0);
    }
}
