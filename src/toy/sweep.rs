//! Resumable sweeps over `(n, N)`: one JSON file per finished model.
//!
//! Layout of a sweep directory `DIR`:
//!
//! * `DIR/sweep.json` — the sweep's arguments (dims, features, the configuration template).
//!   A rerun with different arguments is refused with one error that names the settings that
//!   differ, so results of different settings never mix.
//! * `DIR/sweep.lock` — an advisory lock (`fs4`, `flock`/`LockFileEx`) held for the whole run.
//!   The first run to take it exclusively sets the folder up (writes or checks `sweep.json`,
//!   removes stale temporary files), then holds it shared while it trains; a run that finds it
//!   held waits for the set-up and then checks its settings against `sweep.json`: the same
//!   settings share the work (each writes only whole files, and they train the same models to
//!   the same bytes), different settings are refused.
//! * `DIR/models/n{n}_N{N}.json` — `{config, report, diagnostics, model}` of one finished model,
//!   written atomically ([`crate::fsutil::write_atomic`]: temporary file, `fsync`, `rename`). A
//!   rerun reads finished files back and trains only the missing models, so an interrupted
//!   sweep loses nothing that had finished. A file is reused only if its configuration is the
//!   sweep's for that model and its model has that shape with finite weights and norms;
//!   anything else (another seed, a missing row, a truncated or garbage file) is reported to
//!   the observer ([`Event::Discarded`]) and trained again.
//! * With a list of sparsities (`sparsities` in `sweep.json`), the grid is `dims × features ×
//!   sparsities` and the files are `models/n{n}_N{N}_S{S}.json` (`S1` is the exact sparse limit).
//! * `DIR/times/<model file>` — the model's wall time, kept out of the model file so that model
//!   files are deterministic (the same bytes from any shard; see [`super::shard`]).

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::shard::{self, Job, Shard};
use super::train::ChainCache;
use super::{
    train_with_cache, Diagnostics, Event, Model, Observer, SavedModel, TrainConfig, TrainReport,
};
use crate::error::{Error, Result};
use crate::fsutil::remove_stale_temps;
pub use crate::fsutil::write_atomic;

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

/// The keys at which two serialised values differ, with both values; nested objects (the
/// template) are compared key by key and named by their own keys.
fn differences(ours: &Value, theirs: &Value, key: &str, out: &mut Vec<(String, Value, Value)>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let keys = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k)));
            for k in keys {
                let get = |m: &serde_json::Map<String, Value>| m.get(k).cloned();
                let (va, vb) = (get(a).unwrap_or(Value::Null), get(b).unwrap_or(Value::Null));
                differences(&va, &vb, k, out);
            }
        }
        (a, b) if a != b => out.push((key.to_string(), a.clone(), b.clone())),
        _ => {}
    }
}

/// The settings in which `ours` differs from `theirs`, as `key OURS here, THEIRS there`
/// phrases (`here` and `there` name the two sides); empty if none.
pub fn setting_differences<T: Serialize>(
    ours: &T,
    theirs: &T,
    here: &str,
    there: &str,
) -> Vec<String> {
    let (Ok(a), Ok(b)) = (serde_json::to_value(ours), serde_json::to_value(theirs)) else {
        return vec!["(settings do not serialise)".into()];
    };
    let mut out = Vec::new();
    differences(&a, &b, "", &mut out);
    out.into_iter()
        .map(|(k, a, b)| format!("{k} {a} {here}, {b} {there}"))
        .collect()
}

/// Cost weight of a model for load balance and time-left estimates
/// ([`shard::estimated_cost`]).
fn cost(template: &TrainConfig, job: Job, list: bool) -> f64 {
    shard::estimated_cost(&shard::job_config(template, job, list))
}

/// Path of the file of model `(n, N)`.
pub fn model_path(dir: &Path, n: usize, features: usize) -> PathBuf {
    dir.join("models").join(format!("n{n}_N{features}.json"))
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

/// Why the record read from a model file cannot stand for the model `cfg` of this sweep
/// (`None`: it can).
fn mismatch(rec: &SweepRecord, cfg: &TrainConfig) -> Option<String> {
    if rec.config != *cfg {
        let d = setting_differences(&rec.config, cfg, "in the file", "in the sweep");
        return Some(format!("its configuration differs ({})", d.join("; ")));
    }
    let (r, m) = (&rec.report, &rec.model);
    if (r.n, r.features, m.n, m.features) != (cfg.n, cfg.features, cfg.n, cfg.features) {
        return Some(format!(
            "its report is for n = {}, N = {} and its model is {} × {}, not {} × {}",
            r.n, r.features, m.n, m.features, cfg.n, cfg.features
        ));
    }
    if let Err(e) = Model::from_saved(m) {
        return Some(e.to_string());
    }
    if !r.loss.is_finite() || !r.gain.is_finite() {
        return Some("its loss or gain is not finite".into());
    }
    None
}

/// The folder lock of a running sweep (module docs); released on drop.
struct FolderLock(fs::File);

impl Drop for FolderLock {
    fn drop(&mut self) {
        let _ = fs4::FileExt::unlock(&self.0);
    }
}

/// Takes the lock of sweep folder `dir` for a sweep with `args` (module docs): writes or checks
/// `sweep.json`, removes stale temporary files, and returns the held (shared) lock.
fn lock_folder(dir: &Path, args: &SweepArgs, observer: &dyn Observer) -> Result<FolderLock> {
    use fs4::FileExt;
    let models = dir.join("models");
    fs::create_dir_all(&models).map_err(|e| Error::io(&models, e))?;
    let lock_path = dir.join("sweep.lock");
    let lock_io = |e| Error::io(&lock_path, e);
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(lock_io)?;
    let args_path = dir.join("sweep.json");
    // A few rounds: a run that held the folder exclusively may fail before writing sweep.json.
    for _ in 0..100 {
        let exclusive = match FileExt::try_lock(&file) {
            Ok(()) => true,
            Err(fs4::TryLockError::WouldBlock) => false,
            Err(fs4::TryLockError::Error(e)) => return Err(lock_io(e)),
        };
        if !exclusive {
            // Another run holds the folder: wait for its set-up, then share or refuse.
            FileExt::lock_shared(&file).map_err(lock_io)?;
        }
        let held = FolderLock(file.try_clone().map_err(lock_io)?);
        if args_path.exists() {
            let text = fs::read_to_string(&args_path).map_err(|e| Error::io(&args_path, e))?;
            let old: SweepArgs = serde_json::from_str(&text)
                .map_err(|e| Error::parse(args_path.display().to_string(), e.to_string()))?;
            if old != *args {
                return Err(Error::invalid(
                    "--out",
                    format!(
                        "{} holds a sweep with different settings ({}); use another directory",
                        dir.display(),
                        setting_differences(args, &old, "here", "in the folder").join("; ")
                    ),
                ));
            }
        } else if exclusive {
            let json =
                serde_json::to_vec_pretty(args).map_err(|e| Error::Numerical(e.to_string()))?;
            write_atomic(&args_path, &json)?;
        } else {
            drop(held);
            std::thread::sleep(std::time::Duration::from_millis(20));
            continue;
        }
        if !exclusive {
            return Ok(held);
        }
        // Alone in the folder: every temporary file is a killed run's.
        let paths = remove_stale_temps(&models, true)?;
        if !paths.is_empty() {
            observer.event(&Event::Cleaned { paths });
        }
        // Hold it shared from here, so that runs with the same settings can join.
        drop(held);
        FileExt::lock_shared(&file).map_err(lock_io)?;
        return Ok(FolderLock(file));
    }
    Err(Error::System(format!(
        "{}: could not take the folder lock",
        lock_path.display()
    )))
}

/// Runs (or resumes) a sweep over `dims × features` into `dir`. Each dimension is one task that
/// trains its feature counts in increasing order, sharing a [`ChainCache`] so that a model
/// reuses the halving-chain steps already trained for the smaller ones; the dimensions run in
/// parallel (rayon, the current thread pool), most expensive first, and large models also
/// parallelise their loss evaluations. Every model is written as soon as it finishes. Returns
/// the records sorted by `(n, N)`. The folder is locked for the run (module docs). Progress
/// goes to `observer` ([`Event::SweepBegin`], [`Event::ModelDone`], [`Event::Discarded`],
/// [`Event::Cleaned`] and the trainer's events).
pub fn run(
    dims: &[usize],
    features: &[usize],
    dir: &Path,
    template: &TrainConfig,
    observer: &dyn Observer,
) -> Result<Vec<SweepRecord>> {
    run_grid(dims, features, &[], dir, template, Shard::ALL, observer)
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
    observer: &dyn Observer,
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
    let _lock = lock_folder(dir, &args, observer)?;
    let jobs = shard::select(&grid(&args), &args.template, list, shard);
    let path_of = |j: Job| models.join(file_name(&args, j));
    let mut done = Vec::new();
    let mut todo = Vec::new();
    for &j in &jobs {
        let p = path_of(j);
        if !p.exists() {
            todo.push(j);
            continue;
        }
        let why = match read_record(&p) {
            Ok(r) => match mismatch(&r, &shard::job_config(&args.template, j, list)) {
                None => {
                    done.push(r);
                    continue;
                }
                Some(why) => why,
            },
            Err(Error::Parse { why, .. }) => format!("it does not parse ({why})"),
            Err(e) => e.to_string(),
        };
        observer.event(&Event::Discarded { path: p, why });
        todo.push(j);
    }
    let job_of = |r: &SweepRecord| (r.config.n, r.config.features, r.config.sparsity);
    observer.event(&Event::SweepBegin {
        total: jobs.len(),
        finished: done.len(),
        total_cost: jobs.iter().map(|&j| cost(&args.template, j, list)).sum(),
        finished_cost: done
            .iter()
            .map(|r| cost(&args.template, job_of(r), list))
            .sum(),
    });
    let model_done = |r: &SweepRecord, resumed: bool| {
        observer.event(&Event::ModelDone {
            n: r.report.n,
            features: r.report.features,
            gain: r.report.gain,
            seconds: r.report.seconds,
            resumed,
            cost: cost(&args.template, job_of(r), list),
        })
    };
    for r in &done {
        model_done(r, true);
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
    let task_cost = |t: &Vec<Job>| {
        t.iter()
            .map(|&j| cost(&args.template, j, list))
            .fold(0.0, f64::max)
    };
    tasks.sort_by(|a, b| task_cost(b).total_cmp(&task_cost(a)));
    let cache = ChainCache::default();
    let fresh: Vec<Vec<SweepRecord>> = tasks
        .par_iter()
        .map(|task| {
            task.iter()
                .map(|&j| {
                    let cfg = shard::job_config(&args.template, j, list);
                    let t = train_with_cache(&cfg, observer, Some(&cache))?;
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
                    model_done(&rec, false);
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

    #[test]
    fn differences_name_each_setting() {
        let a = TrainConfig::new(2, 4);
        let mut b = a.clone();
        assert!(setting_differences(&a, &b, "here", "there").is_empty());
        b.seed = 7;
        b.loss = crate::loss::Loss::Huber { delta: 0.5 };
        assert_eq!(
            setting_differences(&a, &b, "here", "there"),
            vec![
                "seed 0 here, 7 there".to_string(),
                "loss \"l2\" here, \"huber:0.5\" there".to_string()
            ]
        );
    }

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
