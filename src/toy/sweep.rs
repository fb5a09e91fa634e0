//! Resumable sweeps over `(n, N)`: one JSON file per finished model.
//!
//! Layout of a sweep directory `DIR`:
//!
//! * `DIR/sweep.json` — the sweep's arguments (dims, features, the configuration template).
//!   A rerun with different arguments is refused (one clear error), so results of different
//!   settings never mix.
//! * `DIR/models/n{n}_N{N}.json` — `{config, report, diagnostics, model}` of one finished model,
//!   written atomically (a temporary file in the same directory, then `rename`). A rerun reads
//!   finished files back and trains only the missing models, so an interrupted sweep loses
//!   nothing that had finished.
//! * With a list of sparsities (`sparsities` in `sweep.json`), the grid is `dims × features ×
//!   sparsities` and the files are `models/n{n}_N{N}_S{S}.json` (`S1` is the exact sparse limit).
//! * `DIR/times/<model file>` — the model's wall time, kept out of the model file so that model
//!   files are deterministic (the same bytes from any shard; see [`super::shard`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::shard::{self, Job, Shard};
use super::train::ChainCache;
use super::{train_with_cache, Diagnostics, Model, Observer, SavedModel, TrainConfig, TrainReport};
use crate::error::{Error, Result};

/// One finished model of a sweep (the content of `models/n{n}_N{N}.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepRecord {
    /// Its configuration.
    pub config: TrainConfig,
    /// Summary row.
    pub report: TrainReport,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
    /// The model (saved form).
    pub model: SavedModel,
}

/// The arguments of a sweep (`DIR/sweep.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepArgs {
    /// Model dimensions.
    pub dims: Vec<usize>,
    /// Feature counts.
    pub features: Vec<usize>,
    /// Configuration template (`n`, `features` are overwritten per model).
    pub template: TrainConfig,
    /// Sparsities of the grid (1 = the exact sparse limit); empty: the template's only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sparsities: Vec<f64>,
}

/// The models of a sweep, in `(n, N, S)` order.
pub fn grid(args: &SweepArgs) -> Vec<Job> {
    let ss: Vec<Option<f64>> = if args.sparsities.is_empty() {
        vec![args.template.sparsity]
    } else {
        args.sparsities
            .iter()
            .map(|&s| (s < 1.0).then_some(s))
            .collect()
    };
    let mut out = Vec::new();
    for &n in &args.dims {
        for &nf in &args.features {
            out.extend(ss.iter().map(|&s| (n, nf, s)));
        }
    }
    out
}

/// File name of a model of the sweep (`n{n}_N{N}.json`, or `n{n}_N{N}_S{S}.json` with a list of
/// sparsities).
pub fn file_name(args: &SweepArgs, job: Job) -> String {
    let (n, nf, s) = job;
    if args.sparsities.is_empty() {
        format!("n{n}_N{nf}.json")
    } else {
        format!("n{n}_N{nf}_S{}.json", s.unwrap_or(1.0))
    }
}

/// Sweep progress, reported to [`SweepObserver::model_done`].
pub trait SweepObserver: Observer {
    /// Called once before training with the number of models in total and already finished.
    fn begin(&self, _total: usize, _finished: usize) {}
    /// Called when a model is finished (or read back).
    fn model_done(&self, _rec: &SweepRecord, _resumed: bool) {}
}

/// Path of the file of model `(n, N)`.
pub fn model_path(dir: &Path, n: usize, features: usize) -> PathBuf {
    dir.join("models").join(format!("n{n}_N{features}.json"))
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|s| s.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut f = fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// The wall-time file of a model file (`DIR/times/<name>`).
fn times_path(model: &Path) -> PathBuf {
    let name = model.file_name().unwrap_or_default();
    let dir = model
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    dir.join("times").join(name)
}

fn read_record(path: &Path) -> Result<SweepRecord> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut r: SweepRecord = serde_json::from_str(&text)
        .map_err(|e| Error::parse(path.display().to_string(), e.to_string()))?;
    if let Some(t) = fs::read_to_string(times_path(path))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["seconds"].as_f64())
    {
        r.report.seconds = t;
    }
    Ok(r)
}

/// Runs (or resumes) a sweep over `dims × features` into `dir`. Each dimension is one task that
/// trains its feature counts in increasing order, sharing a [`ChainCache`] so that a model
/// reuses the halving-chain steps already trained for the smaller ones; the dimensions run in
/// parallel (rayon, the current thread pool), most expensive first, and large models also
/// parallelise their loss evaluations. Every model is written as soon as it finishes. Returns
/// the records sorted by `(n, N)`.
pub fn run(
    dims: &[usize],
    features: &[usize],
    dir: &Path,
    template: &TrainConfig,
    progress: &dyn SweepObserver,
) -> Result<Vec<SweepRecord>> {
    run_grid(dims, features, &[], dir, template, Shard::ALL, progress)
}

/// As [`run`], over `dims × features × sparsities` (empty `sparsities`: the template's; 1 =
/// the exact sparse limit), training only the models of `shard` (module [`super::shard`]);
/// returns the records of that shard.
pub fn run_grid(
    dims: &[usize],
    features: &[usize],
    sparsities: &[f64],
    dir: &Path,
    template: &TrainConfig,
    shard: Shard,
    progress: &dyn SweepObserver,
) -> Result<Vec<SweepRecord>> {
    if dims.is_empty() || features.is_empty() {
        return Err(Error::invalid(
            "sweep",
            "needs at least one dimension and one feature count",
        ));
    }
    let mut dims = dims.to_vec();
    dims.sort_unstable();
    dims.dedup();
    let mut feats = features.to_vec();
    feats.sort_unstable();
    feats.dedup();
    let mut ss = sparsities.to_vec();
    ss.sort_by(f64::total_cmp);
    ss.dedup();
    let args = SweepArgs {
        dims: dims.clone(),
        features: feats.clone(),
        template: TrainConfig {
            n: 0,
            features: 0,
            sparsity: if ss.is_empty() {
                template.sparsity
            } else {
                None
            },
            ..template.clone()
        },
        sparsities: ss,
    };
    let list = !args.sparsities.is_empty();
    for &j in &grid(&args) {
        shard::job_config(&args.template, j, list).check()?;
    }
    let models = dir.join("models");
    fs::create_dir_all(&models).map_err(|e| Error::io(&models, e))?;
    let args_path = dir.join("sweep.json");
    if args_path.exists() {
        let text = fs::read_to_string(&args_path).map_err(|e| Error::io(&args_path, e))?;
        let old: SweepArgs = serde_json::from_str(&text)
            .map_err(|e| Error::parse(args_path.display().to_string(), e.to_string()))?;
        if old != args {
            return Err(Error::invalid(
                "--out",
                format!(
                    "{} holds a sweep with different settings; use another directory",
                    dir.display()
                ),
            ));
        }
    } else {
        let json = serde_json::to_vec_pretty(&args).map_err(|e| Error::Numerical(e.to_string()))?;
        write_atomic(&args_path, &json)?;
    }
    let jobs = shard::select(&grid(&args), &args.template, list, shard);
    let path_of = |j: Job| models.join(file_name(&args, j));
    let mut done = Vec::new();
    let mut todo = Vec::new();
    for &j in &jobs {
        let p = path_of(j);
        match p.exists().then(|| read_record(&p)) {
            Some(Ok(r)) => done.push(r),
            // A file that does not parse (cannot happen with atomic writes) is recomputed.
            _ => todo.push(j),
        }
    }
    progress.begin(jobs.len(), done.len());
    for r in &done {
        progress.model_done(r, true);
    }
    // One task per dimension, feature counts ascending (grid order); tasks in order of their
    // largest model.
    let mut tasks: Vec<Vec<Job>> = Vec::new();
    for &n in &dims {
        let t: Vec<Job> = grid(&args)
            .into_iter()
            .filter(|j| j.0 == n && todo.contains(j))
            .collect();
        if !t.is_empty() {
            tasks.push(t);
        }
    }
    let cost = |t: &Vec<Job>| {
        t.iter()
            .map(|&j| shard::estimated_cost(&shard::job_config(&args.template, j, list)))
            .fold(0.0, f64::max)
    };
    tasks.sort_by(|a, b| cost(b).total_cmp(&cost(a)));
    let cache = ChainCache::default();
    let fresh: Vec<Vec<SweepRecord>> = tasks
        .par_iter()
        .map(|task| {
            task.iter()
                .map(|&j| {
                    let cfg = shard::job_config(&args.template, j, list);
                    let t = train_with_cache(&cfg, progress, Some(&cache))?;
                    let mut rec = SweepRecord {
                        config: cfg,
                        model: t.model.to_saved(t.report.loss),
                        report: t.report,
                        diagnostics: t.diagnostics,
                    };
                    // The wall time goes to its own file, so that model files are deterministic.
                    let seconds = std::mem::replace(&mut rec.report.seconds, 0.0);
                    let json =
                        serde_json::to_vec(&rec).map_err(|e| Error::Numerical(e.to_string()))?;
                    let p = path_of(j);
                    let tp = times_path(&p);
                    fs::create_dir_all(tp.parent().unwrap_or(dir))
                        .map_err(|e| Error::io(&tp, e))?;
                    write_atomic(&tp, format!("{{\"seconds\":{seconds}}}").as_bytes())?;
                    write_atomic(&p, &json)?;
                    rec.report.seconds = seconds;
                    progress.model_done(&rec, false);
                    Ok(rec)
                })
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<_>>()?;
    let fresh: Vec<SweepRecord> = fresh.into_iter().flatten().collect();
    let mut all: Vec<SweepRecord> = done.into_iter().chain(fresh).collect();
    all.sort_by(|a, b| {
        record_key(a)
            .partial_cmp(&record_key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(all)
}

/// Reads every finished model of the sweep in `dir`, sorted by `(n, N)`.
pub fn load(dir: &Path) -> Result<Vec<SweepRecord>> {
    let models = dir.join("models");
    let mut out = Vec::new();
    for e in fs::read_dir(&models).map_err(|e| Error::io(&models, e))? {
        let p = e.map_err(|e| Error::io(&models, e))?.path();
        let name = p.file_name().and_then(|s| s.to_str()).unwrap_or("");
        if name.starts_with('n') && name.ends_with(".json") {
            out.push(read_record(&p)?);
        }
    }
    out.sort_by(|a, b| {
        record_key(a)
            .partial_cmp(&record_key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(out)
}

/// Sort key `(n, N, S)` of a record (the exact limit as S = 1).
fn record_key(r: &SweepRecord) -> (usize, usize, f64) {
    (
        r.report.n,
        r.report.features,
        r.report.sparsity.unwrap_or(1.0),
    )
}

/// The model of a record.
pub fn model_of(rec: &SweepRecord) -> Result<Model> {
    Model::from_saved(&rec.model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::{exact, NoObserver};

    struct Quiet;
    impl Observer for Quiet {}
    impl SweepObserver for Quiet {}

    #[test]
    fn resumes_and_refuses_other_settings() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = TrainConfig::new(2, 4);
        t.restarts = 0;
        t.lbfgs_iters = 200;
        let a = run(&[2], &[4, 8], dir.path(), &t, &Quiet).unwrap();
        assert_eq!(a.len(), 2);
        let p = model_path(dir.path(), 2, 8);
        let before = fs::read(&p).unwrap();
        let b = run(&[2], &[4, 8], dir.path(), &t, &Quiet).unwrap();
        assert_eq!(fs::read(&p).unwrap(), before);
        assert_eq!(a[1].report, b[1].report);
        // The stored model reproduces its stored loss.
        let m = model_of(&b[1]).unwrap();
        crate::prec::assert_close(exact::loss(&m, &t.loss), b[1].report.loss, 1e-12);
        t.seed = 1;
        assert!(run(&[2], &[4, 8], dir.path(), &t, &Quiet).is_err());
        assert_eq!(load(dir.path()).unwrap().len(), 2);
        let _ = NoObserver;
    }
}
