//! Reading sweep folders into typed records.
//!
//! Folder layout (written by `toy::sweep` and `superpose reproduce`):
//!
//! ```text
//! DIR/models/n{n}_N{N}.json                 the L2 sweep, one `toy::sweep::SweepRecord` per model
//! DIR/huber/delta{δ}/models/*.json          the Huber δ sweep in 2-D (reproduce only)
//! DIR/huber_n{n}/delta{δ}/models/*.json     the Huber δ sweep in n ≥ 3 (reproduce only)
//! DIR/figures/*.png                         the figures
//! DIR/report.md, DIR/claims.json            the report
//! ```
//!
//! Each model file is read through serde into [`SweepRecord`]; the model's facts come from the
//! trainer's own diagnostics pass stored in the record ([`ModelFacts::of`]).

use std::path::{Path, PathBuf};

use super::facts::{HuberFacts, ModelFacts};
use crate::error::{Error, Result};
use crate::plot::ModelView;
use crate::toy::sweep::SweepRecord;
use crate::toy::{Diagnostics, Model};

/// One trained model of a study: the model, the trainer's diagnostics of it, and its facts.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model.
    pub model: Model,
    /// The trainer's diagnostics (the one diagnostics pass every figure and claim reads).
    pub diagnostics: Diagnostics,
    /// Trained gain `(l0 − L)·N`.
    pub gain: f64,
    /// Loss family (`l2`, `huber:0.5`, …).
    pub loss_fn: String,
    /// Seconds the trainer spent on it (0 when unknown).
    pub seconds: f64,
    /// Facts read from `diagnostics`.
    pub facts: ModelFacts,
}

impl Trained {
    /// From its parts.
    pub fn new(
        model: Model,
        diagnostics: Diagnostics,
        gain: f64,
        loss_fn: &str,
        seconds: f64,
    ) -> Self {
        let facts = ModelFacts::of(model.n(), &diagnostics, gain);
        Trained {
            model,
            diagnostics,
            gain,
            loss_fn: loss_fn.to_string(),
            seconds,
            facts,
        }
    }

    /// A model with a known gain, diagnosed here (tests and hand-made models).
    pub fn of_model(model: Model, gain: f64) -> Self {
        let d = Diagnostics::of(&model);
        Trained::new(model, d, gain, "l2", 0.0)
    }

    /// From a sweep record (checks the saved model's shape).
    pub fn from_record(record: SweepRecord) -> Result<Self> {
        let model = Model::from_saved(&record.model)?;
        Ok(Trained::new(
            model,
            record.diagnostics,
            record.report.gain,
            &record.report.loss_fn,
            record.report.seconds,
        ))
    }

    /// From the trainer's output.
    pub fn from_trained(t: crate::toy::Trained) -> Self {
        Trained::new(
            t.model,
            t.diagnostics,
            t.report.gain,
            &t.report.loss_fn,
            t.report.seconds,
        )
    }

    /// Model dimension n.
    pub fn n(&self) -> usize {
        self.model.n()
    }

    /// Number of features N.
    pub fn features(&self) -> usize {
        self.model.features()
    }

    /// The weights as the figures draw them.
    pub fn view(&self) -> ModelView {
        ModelView {
            n: self.model.n(),
            w: self
                .model
                .w
                .column_iter()
                .map(|c| c.iter().copied().collect())
                .collect(),
            b: self.model.b.iter().copied().collect(),
        }
    }
}

/// Trains one model per (n, N) with the trainer's default settings (exact loss, L2), in
/// parallel (rayon), sorted by (n, N).
pub fn train_models(dims: &[usize], features: &[usize]) -> Result<Vec<Trained>> {
    use rayon::prelude::*;
    let jobs: Vec<(usize, usize)> = dims
        .iter()
        .flat_map(|&n| features.iter().map(move |&nf| (n, nf)))
        .collect();
    let mut out = jobs
        .par_iter()
        .map(|&(n, nf)| {
            let cfg = crate::toy::TrainConfig::new(n, nf);
            Ok(Trained::from_trained(crate::toy::train(
                &cfg,
                &crate::toy::NoObserver,
            )?))
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|t| (t.n(), t.features()));
    Ok(out)
}

/// Reads one model file.
pub fn read_model(path: &Path) -> Result<Trained> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let rec: SweepRecord = serde_json::from_str(&text)
        .map_err(|e| Error::parse(path.display().to_string(), e.to_string()))?;
    Trained::from_record(rec)
}

/// Records to studied models, sorted by (n, N).
pub fn from_records(recs: Vec<SweepRecord>) -> Result<Vec<Trained>> {
    let mut out = recs
        .into_iter()
        .map(Trained::from_record)
        .collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|t| (t.n(), t.features()));
    Ok(out)
}

/// Sub-folders of a reproduce folder that may hold the L2 sweep, in the order they are tried
/// after `dir/models` itself.
pub const SWEEP_SUBDIRS: [&str; 2] = ["sweep", "sweep_quick"];

/// Reads every model under `dir/models` (or, for a folder written by `reproduce`,
/// `dir/sweep/models` or `dir/sweep_quick/models`), sorted by (n, N).
pub fn read_sweep(dir: &Path) -> Result<Vec<Trained>> {
    let root = if dir.join("models").is_dir() {
        dir.to_path_buf()
    } else {
        SWEEP_SUBDIRS
            .iter()
            .map(|s| dir.join(s))
            .find(|p| p.join("models").is_dir())
            .unwrap_or_else(|| dir.to_path_buf())
    };
    from_records(crate::toy::sweep::load(&root)?)
}

/// Folder of one δ of the Huber sweep in dimension `n` (2-D keeps the historical `huber/`).
pub fn huber_dir(dir: &Path, n: usize, delta: f64) -> PathBuf {
    let root = if n == 2 {
        "huber".to_string()
    } else {
        format!("huber_n{n}")
    };
    dir.join(root).join(format!("delta{delta}"))
}

/// One model of a Huber sweep: δ and the model.
#[derive(Debug, Clone)]
pub struct HuberModel {
    /// δ.
    pub delta: f64,
    /// The model.
    pub model: Trained,
}

impl HuberModel {
    /// The facts the claims read.
    pub fn facts(&self) -> HuberFacts {
        HuberFacts::of(self.delta, &self.model.facts)
    }
}

/// Reads every Huber sweep under `dir` (`huber/` for 2-D, `huber_n{n}/`), sorted by n, then δ
/// falling, then N.
pub fn read_huber(dir: &Path) -> Result<Vec<HuberModel>> {
    let mut out = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for root in rd.filter_map(|e| e.ok()) {
        let name = root.file_name().to_string_lossy().into_owned();
        if name != "huber" && !name.starts_with("huber_n") {
            continue;
        }
        let sub = std::fs::read_dir(root.path()).map_err(|e| Error::io(root.path(), e))?;
        for e in sub.filter_map(|e| e.ok()) {
            let dname = e.file_name().to_string_lossy().into_owned();
            let Some(delta) = dname
                .strip_prefix("delta")
                .and_then(|d| d.parse::<f64>().ok())
            else {
                continue;
            };
            if !e.path().join("models").is_dir() {
                continue;
            }
            for t in from_records(crate::toy::sweep::load(&e.path())?)? {
                out.push(HuberModel { delta, model: t });
            }
        }
    }
    if out.is_empty() {
        return Err(Error::invalid(
            "--dir",
            format!(
                "{} holds no Huber sweep (huber/delta*/models, written by `superpose reproduce`)",
                dir.display()
            ),
        ));
    }
    sort_huber(&mut out);
    Ok(out)
}

/// Sorts a Huber sweep by n, then δ falling, then N.
pub fn sort_huber(h: &mut [HuberModel]) {
    h.sort_by(|a, b| {
        a.model
            .n()
            .cmp(&b.model.n())
            .then(b.delta.total_cmp(&a.delta))
            .then(a.model.features().cmp(&b.model.features()))
    });
}
