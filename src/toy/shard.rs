//! Sweeps split across machines: shards balanced by estimated cost, and merging their folders.
//!
//! A sweep's grid is `dims × features × sparsities` (see [`super::sweep`]). `--shard K/M`
//! (`0 ≤ K < M`) trains shard `K` of `M`; `--shard slurm` reads the job array's
//! `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN` and `SLURM_ARRAY_TASK_COUNT`. Every shard
//! computes the same assignment from the grid alone, so no coordination is needed: the jobs
//! are sorted by [`estimated_cost`] (largest first, ties by `(n, N, S)`) and each goes to the
//! shard with the least total cost so far (ties to the lowest index) — the longest-processing-
//! time rule, within 4/3 of the best possible makespan.
//!
//! Shards may write into one shared folder (each model file is written atomically, and no two
//! shards own the same model) or into folders of their own, merged afterwards by [`merge`].
//! Model files are deterministic — the same bytes whichever shard, thread count or machine
//! trained them — because the wall time of a model is kept out of them, in
//! `DIR/times/<model>.json` (read back into `report.seconds` by [`super::sweep::load`]).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::sweep::{self, SweepArgs};
use super::TrainConfig;
use crate::error::{Error, Result};

/// One model of a sweep grid: `(n, N, S)` with `S = None` for the exact sparse limit.
pub type Job = (usize, usize, Option<f64>);

/// Shard `index` of `count` (`0 ≤ index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// The whole sweep (one shard).
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `K/M` or `slurm` (module docs); `env` looks up environment variables.
    ///
    /// # Errors
    /// A malformed value, `K ≥ M`, `M = 0`, or missing SLURM variables.
    pub fn parse(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard> {
        let bad = |why: String| Error::invalid("--shard", why);
        let (index, count) = if s.trim().eq_ignore_ascii_case("slurm") {
            let var = |k: &str| -> Result<usize> {
                let v = env(k).ok_or_else(|| {
                    bad(format!("{k} is not set (run inside an sbatch --array job)"))
                })?;
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| bad(format!("{k}={v:?} is not a count")))
            };
            let min = match env("SLURM_ARRAY_TASK_MIN") {
                Some(_) => var("SLURM_ARRAY_TASK_MIN")?,
                None => 0,
            };
            let id = var("SLURM_ARRAY_TASK_ID")?;
            let count = var("SLURM_ARRAY_TASK_COUNT")?;
            if id < min {
                return Err(bad(format!(
                    "SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
                )));
            }
            (id - min, count)
        } else {
            let (k, m) = s
                .split_once('/')
                .ok_or_else(|| bad(format!("{s:?}: use K/M (0 ≤ K < M) or slurm")))?;
            let num = |x: &str| {
                x.trim()
                    .parse::<usize>()
                    .map_err(|_| bad(format!("{s:?}: {x:?} is not a count")))
            };
            (num(k)?, num(m)?)
        };
        if count == 0 || index >= count {
            return Err(bad(format!(
                "shard {index} of {count}: need 0 ≤ K < M (shards count from 0; with SLURM use \
                 a contiguous --array=0-{})",
                count.max(1) - 1
            )));
        }
        Ok(Shard { index, count })
    }
}

/// Relative cost of training one model, for balancing shards and weighting a sweep's estimate
/// of the time left (not a time prediction).
///
/// # Formula
///
/// The exact loss costs `N² n` per evaluation and its halving chain adds `≈ 1/3` of that; the
/// sampled trainer costs `steps · batch · N · n` per run, for `restarts` cold runs plus, with a
/// warm start, one fine-tuning run and the exact model itself. The ratio of the two per-unit
/// costs (exact: `EXACT_WEIGHT` evaluations) comes from timing both trainers on this code base
/// at `n = 3`, `N = 64` (about 0.4 s exact, about 2 s per 4000-step sampled run).
///
/// A large-`N` exact model ([`super::large::applies`]) is one start polished for
/// `lbfgs_iters` iterations on a neighbour list, `LARGE_ITER_WEIGHT · N n` per iteration (the
/// list's pairs and L-BFGS's `O(memory · N n)` vector work), plus (L2) the multi-start model of
/// [`super::large::LIFT_FROM`] features it must beat (at its own default budget). `LARGE_ITER_WEIGHT` is calibrated on
/// this code base: `n = 3`, `N = 16384`, 3000 iterations polished in 114 s, and the multi-start
/// `n = 8`, `N = 1024` model of the note sweep trained in 94 s.
pub fn estimated_cost(cfg: &TrainConfig) -> f64 {
    /// Loss evaluations of one exact training (Adam starts, screening and final L-BFGS).
    const EXACT_WEIGHT: f64 = 2000.0;
    /// Work per L-BFGS iteration of a large-N polish, in units of `N n`.
    const LARGE_ITER_WEIGHT: f64 = 180.0;
    let (n, nf) = (cfg.n as f64, cfg.features as f64);
    if cfg.sparsity.is_none() && super::large::applies(cfg.n, cfg.features) {
        let polish = cfg.lbfgs_iters as f64 * LARGE_ITER_WEIGHT * nf * n;
        let candidate = match cfg.loss {
            super::Loss::L2 => estimated_cost(&TrainConfig {
                features: super::large::LIFT_FROM,
                lbfgs_iters: super::DEFAULT_LBFGS_ITERS,
                ..cfg.clone()
            }),
            _ => 0.0,
        };
        return polish + candidate;
    }
    let exact = EXACT_WEIGHT * nf * nf * n * 4.0 / 3.0 * (cfg.restarts.max(1) as f64 + 2.0) / 3.0;
    match cfg.sparsity {
        None => exact,
        Some(_) => {
            let run = cfg.adam_steps.max(1) as f64 * cfg.batch.max(1) as f64 * nf * n;
            let runs = cfg.restarts.max(1) as f64 + f64::from(u8::from(cfg.warm_start));
            run * runs + if cfg.warm_start { exact } else { 0.0 }
        }
    }
}

/// The configuration of one job of a sweep. In a sweep over a list of sparsities (`list`) the
/// template carries the sampled trainer's Adam settings; its exact models (`S = None`) take the
/// exact trainer's defaults for those instead. A template whose L-BFGS budget is the default
/// (`lbfgs_auto`, no `--lbfgs-iters` given) gives each job its own size's default budget.
pub fn job_config(template: &TrainConfig, job: Job, list: bool) -> TrainConfig {
    let mut c = template.clone();
    c.n = job.0;
    c.features = job.1;
    c.sparsity = job.2;
    let d = TrainConfig::new(job.0, job.1);
    if list && job.2.is_none() {
        c.adam_steps = d.adam_steps;
        c.adam_lr = d.adam_lr;
    }
    if c.lbfgs_auto {
        c.lbfgs_iters = d.lbfgs_iters;
    }
    c
}

/// Assigns every job to a shard (module docs); `out[k]` are shard `k`'s jobs.
pub fn assign(jobs: &[Job], template: &TrainConfig, list: bool, count: usize) -> Vec<Vec<Job>> {
    let mut order: Vec<(f64, Job)> = jobs
        .iter()
        .map(|&j| (estimated_cost(&job_config(template, j, list)), j))
        .collect();
    order.sort_by(|a, b| {
        b.0.total_cmp(&a.0).then_with(|| {
            (a.1 .0, a.1 .1, a.1 .2.unwrap_or(1.0))
                .partial_cmp(&(b.1 .0, b.1 .1, b.1 .2.unwrap_or(1.0)))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    });
    let mut load = vec![0.0f64; count.max(1)];
    let mut out = vec![Vec::new(); count.max(1)];
    for (c, j) in order {
        let k = (0..load.len())
            .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        load[k] += c;
        out[k].push(j);
    }
    out
}

/// The jobs of shard `shard` among `jobs`.
pub fn select(jobs: &[Job], template: &TrainConfig, list: bool, shard: Shard) -> Vec<Job> {
    if shard.count <= 1 {
        return jobs.to_vec();
    }
    assign(jobs, template, list, shard.count).swap_remove(shard.index)
}

/// One input folder of a [`merge`].
#[derive(Debug, Clone, Serialize)]
pub struct MergeRow {
    /// The folder.
    pub source: String,
    /// Model files found there.
    pub models: usize,
    /// Copied into the merged folder.
    pub copied: usize,
    /// Already there with the same bytes.
    pub identical: usize,
}

/// What a [`merge`] did.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    /// One row per input folder.
    pub rows: Vec<MergeRow>,
    /// Model files of the grid that no input had.
    pub missing: Vec<String>,
}

fn read_args(dir: &Path) -> Result<SweepArgs> {
    let p = dir.join("sweep.json");
    let text = fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
    serde_json::from_str(&text).map_err(|e| Error::parse(p.display().to_string(), e.to_string()))
}

fn files(dir: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return Ok(out);
    }
    for e in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let p = e.map_err(|e| Error::io(dir, e))?.path();
        let name = p.file_name().and_then(|s| s.to_str()).unwrap_or("");
        if name.starts_with('n') && name.ends_with(".json") {
            out.insert(name.to_string(), p);
        }
    }
    Ok(out)
}

/// Merges the sweep folders `inputs` (shards of one sweep) into `out`: their `sweep.json` must
/// be identical (and equal to `out`'s, if it has one); every model file (and its wall-time
/// file) is copied atomically; a model present in two places must have the same bytes.
///
/// # Errors
/// Different sweeps, conflicting model files, unreadable or unwritable folders.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<MergeOutcome> {
    if inputs.is_empty() {
        return Err(Error::invalid("merge", "needs at least one folder"));
    }
    let args = read_args(&inputs[0])?;
    for d in &inputs[1..] {
        if read_args(d)? != args {
            return Err(Error::invalid(
                "merge",
                format!(
                    "{} and {} hold different sweeps",
                    inputs[0].display(),
                    d.display()
                ),
            ));
        }
    }
    if out.join("sweep.json").exists() {
        if read_args(out)? != args {
            return Err(Error::invalid(
                "--out",
                format!("{} holds a different sweep", out.display()),
            ));
        }
    } else {
        fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let bytes = fs::read(inputs[0].join("sweep.json"))
            .map_err(|e| Error::io(inputs[0].join("sweep.json"), e))?;
        sweep::write_atomic(&out.join("sweep.json"), &bytes)?;
    }
    let mut rows = Vec::new();
    for d in inputs {
        let mut row = MergeRow {
            source: d.display().to_string(),
            models: 0,
            copied: 0,
            identical: 0,
        };
        for sub in ["models", "times"] {
            let target_dir = out.join(sub);
            fs::create_dir_all(&target_dir).map_err(|e| Error::io(&target_dir, e))?;
            for (name, src) in files(&d.join(sub))? {
                let bytes = fs::read(&src).map_err(|e| Error::io(&src, e))?;
                let target = target_dir.join(&name);
                let is_model = sub == "models";
                row.models += usize::from(is_model);
                if target.exists() {
                    let have = fs::read(&target).map_err(|e| Error::io(&target, e))?;
                    if have == bytes {
                        row.identical += usize::from(is_model);
                        continue;
                    }
                    if !is_model {
                        // Wall times of the same model trained twice differ; keep the first.
                        continue;
                    }
                    return Err(Error::invalid(
                        "merge",
                        format!(
                            "{} differs from {} (the same model trained differently)",
                            src.display(),
                            target.display()
                        ),
                    ));
                }
                sweep::write_atomic(&target, &bytes)?;
                row.copied += usize::from(is_model);
            }
        }
        rows.push(row);
    }
    let have = files(&out.join("models"))?;
    let missing = sweep::grid(&args)
        .into_iter()
        .map(|j| sweep::file_name(&args, j))
        .filter(|f| !have.contains_key(f))
        .collect();
    Ok(MergeOutcome { rows, missing })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let v: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        move |k: &str| v.iter().find(|(a, _)| a == k).map(|(_, b)| b.clone())
    }

    #[test]
    fn parses_shards() {
        let none = env_of(&[]);
        assert_eq!(
            Shard::parse("1/4", &none).unwrap(),
            Shard { index: 1, count: 4 }
        );
        for bad in ["4/4", "1/0", "x/2", "3", "slurm"] {
            assert!(Shard::parse(bad, &none).is_err(), "{bad}");
        }
        let slurm = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_MIN", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ]);
        assert_eq!(
            Shard::parse("slurm", &slurm).unwrap(),
            Shard { index: 2, count: 3 }
        );
    }

    /// Every job lands in exactly one shard, and the largest shard is within the LPT bound
    /// `max(total/M + max job, …)` ≤ total/M + largest job cost.
    /// Regression: a large-N model was costed as the dense `N² n` loop, so a sweep to
    /// N = 65536 printed "about 29 hours left" two minutes into a 25-minute run. Its cost is
    /// linear in N and in the polish budget, on top of the 1024-feature candidate.
    #[test]
    fn large_n_cost_is_linear_in_n_and_budget() {
        let at = |nf: usize, iters: u64| {
            let mut c = TrainConfig::new(3, nf);
            c.lbfgs_iters = iters;
            estimated_cost(&c)
        };
        let candidate = at(
            crate::toy::large::LIFT_FROM,
            crate::toy::DEFAULT_LBFGS_ITERS,
        );
        let (a, b) = (at(16384, 3000) - candidate, at(65536, 3000) - candidate);
        assert!(a > 0.0 && (b / a - 4.0).abs() < 1e-9, "{a} {b}");
        assert!(((at(16384, 6000) - candidate) / a - 2.0).abs() < 1e-9);
        // The multi-start trainer's cost at N = 1024 (N² n per evaluation) is a fixed part.
        let dense = 2000.0 * 1024f64.powi(2) * 3.0 * 4.0 / 3.0;
        assert!(
            (candidate / dense - 1.0).abs() < 1e-9,
            "{candidate} {dense}"
        );
    }

    /// Regression: a sweep's template is made at one size, and its jobs took its L-BFGS budget
    /// (12 000) at every size, so a sweep to N = 2^20 polished 12 000 iterations where `train`
    /// polishes 128, and its time-left estimate read five hours for a 20-minute sweep. A
    /// default budget follows each job's size; a given one is kept.
    #[test]
    fn jobs_take_their_own_default_budget() {
        let t = TrainConfig::new(1, 1);
        assert!(t.lbfgs_auto);
        for (n, nf) in [(3, 1024), (3, 65536), (4, 1 << 20), (2, 8192)] {
            let c = job_config(&t, (n, nf, None), false);
            assert_eq!(c.lbfgs_iters, TrainConfig::new(n, nf).lbfgs_iters);
        }
        assert_eq!(job_config(&t, (4, 1 << 20, None), false).lbfgs_iters, 128);
        let mut given = t.clone();
        given.lbfgs_iters = 3000;
        given.lbfgs_auto = false;
        assert_eq!(
            job_config(&given, (4, 1 << 20, None), false).lbfgs_iters,
            3000
        );
        // Results written before the flag read as a given budget.
        let mut old = serde_json::to_value(&given).unwrap();
        old.as_object_mut().unwrap().remove("lbfgs_auto");
        let back: TrainConfig = serde_json::from_value(old).unwrap();
        assert_eq!(back, given);
    }

    #[test]
    fn shards_partition_the_grid_and_balance_cost() {
        let t = TrainConfig::new(1, 1);
        let jobs: Vec<Job> = [2usize, 3, 8]
            .iter()
            .flat_map(|&n| [4usize, 16, 64, 256, 1024].map(move |nf| (n, nf, None)))
            .collect();
        let m = 4;
        let parts = assign(&jobs, &t, false, m);
        let mut all: Vec<Job> = parts.iter().flatten().copied().collect();
        all.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let mut want = jobs.clone();
        want.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(all, want);
        let cost = |v: &Vec<Job>| {
            v.iter()
                .map(|&j| estimated_cost(&job_config(&t, j, false)))
                .sum::<f64>()
        };
        let total: f64 = parts.iter().map(cost).sum();
        let biggest = jobs
            .iter()
            .map(|&j| estimated_cost(&job_config(&t, j, false)))
            .fold(0.0, f64::max);
        for p in &parts {
            assert!(cost(p) <= total / m as f64 + biggest + 1e-9);
        }
        // By count the shards are far from equal: the cost, not the count, is balanced.
        let counts: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert!(counts.iter().max() > counts.iter().min(), "{counts:?}");
    }
}
