//! From a finished sweep folder to the note's figures and the report.
//!
//! Folder layout (written by `toy::sweep` and `superpose reproduce`):
//!
//! ```text
//! DIR/models/n{n}_N{N}.json           the L2 sweep, one file per model
//! DIR/huber/delta{δ}/models/*.json    the Huber δ sweep (reproduce only)
//! DIR/figures/*.png                   the figures
//! DIR/report.md, DIR/claims.json      the report
//! ```
//!
//! A model file holds `{config, report, diagnostics, model: {n, features, w, b, loss}}`; this
//! module reads it as JSON, so it needs only the file format, not the trainer's types.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::gain::{closed_form, Convention, ThetaLaw};
use crate::loss::Loss;
use crate::phase::{dim_phase, transition};
use crate::plot::{
    self, median, nearest_angles, AmplitudesFig, AmplitudesSeries, GainFig, GainSeries, HuberFig,
    HuberPoint, InterceptFig, InterceptModel, ModelView, MultiplicityFig, MultiplicityPoint,
    MultiplicitySeries, Superposition, ThetaDistributionFig, ThetaMinFig, ThetaMinSeries,
};
use crate::plot::{AnalyticGainFig, GainCurve, GainPanel};
use crate::report::{ConventionFacts, HuberFacts, ModelFacts, TheoryAt};

/// One trained model read from a sweep folder.
#[derive(Debug, Clone)]
pub struct Trained {
    /// Weights and biases.
    pub view: ModelView,
    /// Gain `(1/3 − L)·N` as reported by the trainer (for non-L2 losses: `(l0 − L)·N`).
    pub gain: f64,
    /// Loss function name (`l2`, `huber:0.5`, …).
    pub loss: String,
    /// The trainer's report object (SPEC §5 keys).
    pub report: Value,
    /// Facts computed from the weights (directions grouped by the trainer when it lists them).
    pub facts: ModelFacts,
}

fn parse_err(path: &Path, why: impl Into<String>) -> Error {
    Error::parse(path.display().to_string(), why)
}

fn f64_of(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Direction groups listed by the trainer's diagnostics, if present: an array under
/// `diagnostics.directions` whose elements carry member feature indices under `members` or
/// `features`.
fn groups_of(diag: &Value) -> Option<Vec<Vec<usize>>> {
    let dirs = diag.get("directions")?.as_array()?;
    dirs.iter()
        .map(|d| {
            let m = d.get("members").or_else(|| d.get("features"))?.as_array()?;
            m.iter().map(|i| i.as_u64().map(|i| i as usize)).collect()
        })
        .collect()
}

/// Reads one model file.
pub fn read_model(path: &Path) -> Result<Trained> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| parse_err(path, e.to_string()))?;
    trained_from_value(&v, path)
}

/// A model from its JSON record `{config, report, diagnostics, model}`; `path` names it in
/// errors.
pub fn trained_from_value(v: &Value, path: &Path) -> Result<Trained> {
    let model = v.get("model").unwrap_or(v);
    let n = model
        .get("n")
        .and_then(Value::as_u64)
        .ok_or_else(|| parse_err(path, "missing model.n"))? as usize;
    let w: Vec<Vec<f64>> = model
        .get("w")
        .and_then(Value::as_array)
        .ok_or_else(|| parse_err(path, "missing model.w"))?
        .iter()
        .map(|col| {
            col.as_array()
                .and_then(|c| c.iter().map(f64_of).collect::<Option<Vec<f64>>>())
                .filter(|c| c.len() == n)
        })
        .collect::<Option<_>>()
        .ok_or_else(|| parse_err(path, "model.w must be N arrays of n numbers"))?;
    let b: Vec<f64> = model
        .get("b")
        .and_then(Value::as_array)
        .and_then(|b| b.iter().map(f64_of).collect::<Option<Vec<f64>>>())
        .filter(|b| b.len() == w.len())
        .ok_or_else(|| parse_err(path, "model.b must be N numbers"))?;
    crate::toy::model::check_norms(w.iter().map(|c| c.iter().map(|x| x * x).sum()))
        .map_err(|e| parse_err(path, e.to_string()))?;
    let report = v.get("report").cloned().unwrap_or(Value::Null);
    let gain = report
        .get("gain")
        .and_then(f64_of)
        .ok_or_else(|| parse_err(path, "missing report.gain"))?;
    let loss = report
        .get("loss_fn")
        .or_else(|| v.get("config").and_then(|c| c.get("loss")))
        .and_then(Value::as_str)
        .unwrap_or("l2")
        .to_string();
    let view = ModelView { n, w, b };
    let groups = v.get("diagnostics").and_then(groups_of);
    let facts = ModelFacts::from_model(&view, gain, groups);
    Ok(Trained {
        view,
        gain,
        loss,
        report,
        facts,
    })
}

/// Sub-folders of a reproduce folder that may hold the L2 sweep, in the order they are tried
/// after `dir/models` itself.
pub const SWEEP_SUBDIRS: [&str; 2] = ["sweep", "sweep_quick"];

/// Reads every `*.json` under `dir/models` (or, for a folder written by `reproduce`,
/// `dir/sweep/models` or `dir/sweep_quick/models`), sorted by (n, N).
pub fn read_sweep(dir: &Path) -> Result<Vec<Trained>> {
    let mut models = dir.join("models");
    if !models.is_dir() {
        if let Some(sub) = SWEEP_SUBDIRS
            .iter()
            .map(|s| dir.join(s).join("models"))
            .find(|p| p.is_dir())
        {
            models = sub;
        }
    }
    let rd = std::fs::read_dir(&models).map_err(|e| Error::io(&models, e))?;
    let mut paths: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut out = paths
        .iter()
        .map(|p| read_model(p))
        .collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|t| (t.view.n, t.view.features()));
    Ok(out)
}

fn read_sweep_exact(dir: &Path) -> Result<Vec<Trained>> {
    let models = dir.join("models");
    let rd = std::fs::read_dir(&models).map_err(|e| Error::io(&models, e))?;
    let mut out = Vec::new();
    for p in rd.filter_map(|e| e.ok().map(|e| e.path())) {
        if p.extension().is_some_and(|e| e == "json") {
            out.push(read_model(&p)?);
        }
    }
    out.sort_by_key(|t| (t.view.n, t.view.features()));
    Ok(out)
}

/// Folder name of one δ of the Huber sweep.
pub fn huber_dir(dir: &Path, delta: f64) -> PathBuf {
    dir.join("huber").join(format!("delta{delta}"))
}

/// Reads the Huber sweep under `dir/huber/delta*/`: `(δ, model)` pairs.
pub fn read_huber(dir: &Path) -> Result<Vec<(f64, Trained)>> {
    let root = dir.join("huber");
    if !root.is_dir() {
        return Err(Error::invalid(
            "--dir",
            format!(
                "{} holds no Huber sweep (huber/delta*/models, written by `superpose reproduce`)",
                dir.display()
            ),
        ));
    }
    let rd = std::fs::read_dir(&root).map_err(|e| Error::io(&root, e))?;
    let mut out = Vec::new();
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(delta) = name
            .strip_prefix("delta")
            .and_then(|d| d.parse::<f64>().ok())
        else {
            continue;
        };
        for t in read_sweep_exact(&e.path())? {
            out.push((delta, t));
        }
    }
    out.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.view.features().cmp(&b.1.view.features()))
    });
    Ok(out)
}

/// Huber facts of the Huber sweep.
pub fn huber_facts(h: &[(f64, Trained)]) -> Vec<HuberFacts> {
    h.iter()
        .map(|(d, t)| HuberFacts {
            delta: *d,
            features: t.facts.features,
            embedded_fraction: t.facts.embedded_fraction(),
            directions: t.facts.directions,
            mean_multiplicity: t.facts.mean_multiplicity,
        })
        .collect()
}

fn of_n(models: &[Trained], n: usize) -> Vec<&Trained> {
    models.iter().filter(|t| t.view.n == n).collect()
}

fn dims(models: &[Trained]) -> Vec<usize> {
    let mut v: Vec<usize> = models.iter().map(|t| t.view.n).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn need(what: &str, ok: bool) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "sweep folder",
            format!("no trained models for the {what} figure"),
        ))
    }
}

/// `superposition_2d` / `_3d`: up to 6 models of dimension `n`, spread over N.
pub fn superposition(models: &[Trained], n: usize) -> Result<Superposition> {
    let v = of_n(models, n);
    need(&format!("superposition_{n}d"), !v.is_empty())?;
    let chosen = crate::plot::pick_spread(v.len(), 6);
    Ok(Superposition {
        n,
        models: chosen.into_iter().map(|i| v[i].view.clone()).collect(),
    })
}

/// `theta_min`: every n of the sweep, with the θ_min law at D = N.
pub fn theta_min(models: &[Trained]) -> Result<ThetaMinFig> {
    need("theta_min", !models.is_empty())?;
    Ok(ThetaMinFig {
        series: dims(models)
            .into_iter()
            .map(|n| {
                let v = of_n(models, n);
                ThetaMinSeries {
                    n,
                    models: v
                        .iter()
                        .map(|t| (t.facts.features, t.facts.theta_min.clone()))
                        .collect(),
                    law: v
                        .iter()
                        .filter_map(|t| {
                            let nf = t.facts.features;
                            let e = crate::theta::theta_min(n, nf as f64).ok()?;
                            Some((nf, e.theta, e.theta_upper))
                        })
                        .collect(),
                }
            })
            .collect(),
    })
}

fn low_dims(models: &[Trained]) -> Vec<usize> {
    let d: Vec<usize> = dims(models)
        .into_iter()
        .filter(|n| *n == 3 || *n == 4)
        .collect();
    if d.is_empty() {
        dims(models).into_iter().take(2).collect()
    } else {
        d
    }
}

/// `multiplicity`: n = 3, 4 (or the lowest two dimensions present).
pub fn multiplicity(models: &[Trained]) -> Result<MultiplicityFig> {
    need("multiplicity", !models.is_empty())?;
    Ok(MultiplicityFig {
        series: low_dims(models)
            .into_iter()
            .map(|n| MultiplicitySeries {
                n,
                points: of_n(models, n)
                    .iter()
                    .map(|t| MultiplicityPoint {
                        features: t.facts.features,
                        embedded: t.facts.embedded,
                        directions: t.facts.directions,
                        mean_multiplicity: t.facts.mean_multiplicity,
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// `amplitudes`: n = 3, 4 (or the lowest two dimensions present).
pub fn amplitudes(models: &[Trained]) -> Result<AmplitudesFig> {
    need("amplitudes", !models.is_empty())?;
    Ok(AmplitudesFig {
        series: low_dims(models)
            .into_iter()
            .map(|n| AmplitudesSeries {
                n,
                models: of_n(models, n)
                    .iter()
                    .map(|t| (t.facts.features, t.facts.amplitudes.clone()))
                    .collect(),
            })
            .collect(),
    })
}

/// The model shown in `theta_distribution`: the non-degenerate model with the most
/// directions among n ≥ 4 (falling back to any model), larger n on ties.
pub fn distribution_model(models: &[Trained]) -> Option<&Trained> {
    let key = |t: &&Trained| (t.facts.directions, t.view.n);
    models
        .iter()
        .filter(|t| t.view.n >= 4 && t.facts.non_degenerate())
        .max_by_key(key)
        .or_else(|| models.iter().max_by_key(key))
}

/// `theta_distribution`.
pub fn theta_distribution(models: &[Trained]) -> Result<ThetaDistributionFig> {
    let t = distribution_model(models);
    need(
        "theta_distribution",
        t.is_some_and(|t| !t.facts.pairwise.is_empty()),
    )?;
    let t = t.expect("checked above");
    Ok(ThetaDistributionFig {
        n: t.view.n,
        features: t.facts.features,
        angles: t.facts.pairwise.clone(),
        theta_min: t.facts.theta_min_median,
        bins: 90,
    })
}

/// `intercept`: the largest dimension of the sweep (8 in the note); `finite(N)` gives the
/// finite-neighbour optimum's intercept.
pub fn intercept(
    models: &[Trained],
    finite: &dyn Fn(usize, usize) -> Option<f64>,
) -> Result<InterceptFig> {
    let n = dims(models).into_iter().max();
    need("intercept", n.is_some())?;
    let n = n.expect("checked above");
    Ok(InterceptFig {
        n,
        models: of_n(models, n)
            .into_iter()
            .map(|t| InterceptModel {
                model: t.view.clone(),
                cos_theta_min: median(
                    nearest_angles(&t.view.embedded_directions())
                        .into_iter()
                        .filter(|a| *a > crate::report::SAME_DIRECTION)
                        .collect(),
                )
                .map_or(t.facts.cos_theta_min_median, f64::cos),
                finite_neighbour: finite(n, t.facts.features),
            })
            .collect(),
    })
}

/// `training_inefficiency`; `optimum(n, N)` gives the symmetric optimum's gain.
pub fn training_inefficiency(
    models: &[Trained],
    optimum: &dyn Fn(usize, usize) -> Option<f64>,
) -> Result<GainFig> {
    need("training_inefficiency", !models.is_empty())?;
    Ok(GainFig {
        series: dims(models)
            .into_iter()
            .map(|n| {
                let v = of_n(models, n);
                GainSeries {
                    n,
                    points: v.iter().map(|t| (t.facts.features, t.gain)).collect(),
                    optimum: v
                        .iter()
                        .filter_map(|t| Some((t.facts.features, optimum(n, t.facts.features)?)))
                        .collect(),
                }
            })
            .collect(),
    })
}

/// `huber`.
pub fn huber(h: &[(f64, Trained)]) -> Result<HuberFig> {
    need("huber", !h.is_empty())?;
    Ok(HuberFig {
        n: h[0].1.view.n,
        points: huber_facts(h)
            .into_iter()
            .map(|f| HuberPoint {
                delta: f.delta,
                features: f.features,
                embedded_fraction: f.embedded_fraction,
                directions: f.directions,
                mean_multiplicity: f.mean_multiplicity,
            })
            .collect(),
    })
}

/// Dimensions of the `analytic_gain` figure.
pub const ANALYTIC_DIMS: [usize; 5] = [2, 3, 4, 6, 8];
/// Largest E of the `analytic_gain` figure.
pub const ANALYTIC_MAX_EMBED: u64 = 4096;

/// `analytic_gain`: closed-form L2 gain `g(E, m)` for m = 1, 2, 3 and `dims`, both
/// conventions, E = 2 … `max_embed` on a geometric grid, with `phase::transition` marked.
pub fn analytic_gain(dims: &[usize], max_embed: u64) -> Result<AnalyticGainFig> {
    let l2 = Loss::L2;
    let mut grid: Vec<u64> = (0..=80)
        .map(|k| (2f64 * (max_embed as f64 / 2.0).powf(k as f64 / 80.0)).round() as u64)
        .collect();
    grid.dedup();
    let mut panels = Vec::new();
    for conv in Convention::ALL {
        for &n in dims {
            let curves = (1..=3u64)
                .map(|m| {
                    let points = grid
                        .iter()
                        .filter(|&&e| e >= m)
                        .map(|&e| Ok((e as f64, closed_form(n, e, m, conv, &l2)?.gain)))
                        .collect::<Result<Vec<_>>>()?;
                    Ok(GainCurve {
                        m: m as usize,
                        points,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            panels.push(GainPanel {
                n,
                convention: conv.to_string(),
                curves,
                transition: transition(n, conv, &l2, max_embed)?.map(|t| t as f64),
            });
        }
    }
    Ok(AnalyticGainFig { panels })
}

/// Per n and convention: the predicted transition and whether the non-degenerate closed-form
/// gain keeps growing with E, up to `max_features` (`phase::dim_phase`, L2, small-angle law).
pub fn convention_facts(dims: &[usize], max_features: u64) -> Result<Vec<ConventionFacts>> {
    let mut out = Vec::new();
    for conv in Convention::ALL {
        for &n in dims {
            let p = dim_phase(n, conv, &Loss::L2, max_features, 8, ThetaLaw::SmallAngle)?;
            out.push(ConventionFacts {
                n,
                convention: match conv {
                    Convention::Consistent => "consistent",
                    Convention::Note => "note",
                },
                transition: p.transition_features,
                gain_increases_with_embed: p.gain_peak_features.is_none(),
            });
        }
    }
    Ok(out)
}

/// Theory at a trained model: θ law with D = trained directions, closed-form gain with E =
/// trained embedded and m = 1 (consistent convention). `symmetric` supplies the
/// finite-neighbour optimum.
pub fn theory_at(
    t: &Trained,
    symmetric: &dyn Fn(usize, usize) -> Option<crate::compare::Symmetric>,
) -> Option<TheoryAt> {
    let f = &t.facts;
    let est = crate::theta::theta_min(f.n, (f.directions as f64).max(1.0)).ok()?;
    let gain_closed = if f.embedded >= 1 {
        closed_form(f.n, f.embedded as u64, 1, Convention::Consistent, &Loss::L2)
            .ok()?
            .gain
    } else {
        0.0
    };
    let s = symmetric(f.n, f.features);
    Some(TheoryAt {
        n: f.n,
        features: f.features,
        theta_small: est.theta,
        theta_chord: est.theta_upper,
        gain_closed,
        finite_gain: s.map(|s| s.gain),
        finite_intercept: s.map(|s| s.intercept),
        finite_multiplicity: s.map(|s| s.multiplicity),
        finite_embed: s.map(|s| s.embed),
        finite_gain_m1: s.map(|s| s.gain_m1),
    })
}

/// Draws figure `name` from a sweep folder into `out` (`analytic_gain` needs no folder);
/// `finite` and `optimum` supply the symmetric theory's intercept and gain at (n, N).
pub fn draw_from_dir(
    name: &str,
    dir: Option<&Path>,
    out: &Path,
    finite: &dyn Fn(usize, usize) -> Option<f64>,
    optimum: &dyn Fn(usize, usize) -> Option<f64>,
) -> Result<()> {
    if !plot::NAMES.contains(&name) {
        return Err(Error::invalid(
            "figure",
            format!(
                "unknown figure {name:?} (one of: {})",
                plot::NAMES.join(", ")
            ),
        ));
    }
    plot::kind_of(out)?;
    if name == "analytic_gain" {
        return plot::save(&analytic_gain(&ANALYTIC_DIMS, ANALYTIC_MAX_EMBED)?, out);
    }
    let dir = dir.ok_or_else(|| {
        Error::invalid(
            "--dir",
            format!("figure {name} needs --dir SWEEP_DIR (a folder written by `superpose sweep` or `superpose reproduce`)"),
        )
    })?;
    if name == "huber" {
        return plot::save(&huber(&read_huber(dir)?)?, out);
    }
    let models = read_sweep(dir)?;
    match name {
        "superposition_2d" => plot::save(&superposition(&models, 2)?, out),
        "superposition_3d" => plot::save(&superposition(&models, 3)?, out),
        "theta_min" => plot::save(&theta_min(&models)?, out),
        "multiplicity" => plot::save(&multiplicity(&models)?, out),
        "amplitudes" => plot::save(&amplitudes(&models)?, out),
        "theta_distribution" => plot::save(&theta_distribution(&models)?, out),
        "intercept" => plot::save(&intercept(&models, finite)?, out),
        "training_inefficiency" => plot::save(&training_inefficiency(&models, optimum)?, out),
        other => Err(Error::invalid(
            "figure",
            format!("unknown figure {other:?}"),
        )),
    }
}

/// The finite-neighbour symmetric optimum at (n, N) for L2 (`symmetric::optimize`, default K),
/// with the best non-degenerate (m = 1) gain from `symmetric::landscape`. `None` when the
/// symmetric model does not apply (n < 2) or the search fails.
pub fn symmetric_optimum(n: usize, features: usize) -> Option<crate::compare::Symmetric> {
    let l2 = Loss::L2;
    let best = crate::symmetric::optimize(n, features as u64, &l2, None).ok()?;
    let gain_m1 = if best.multiplicity == 1 {
        best.gain
    } else {
        crate::symmetric::landscape(n, features as u64, &l2, None)
            .ok()?
            .iter()
            .filter(|p| p.multiplicity == 1)
            .map(|p| p.gain)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    Some(crate::compare::Symmetric {
        gain: best.gain,
        intercept: best.intercept,
        multiplicity: best.multiplicity as usize,
        embed: best.embed as usize,
        gain_m1,
    })
}

/// Writes `bytes` to `path` atomically ([`crate::fsutil::write_atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::fsutil::write_atomic(path, bytes)
}

/// Dimensions checked for the note's large-n claims (claim 10) and the convention table.
pub const CLAIM_DIMS: [usize; 15] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
/// Largest N searched for phase points.
pub const CLAIM_MAX_FEATURES: u64 = 1 << 20;

/// What [`write_all`] produced.
#[derive(Debug, Clone)]
pub struct Written {
    /// Figure files.
    pub figures: Vec<PathBuf>,
    /// The claims.
    pub claims: Vec<crate::report::Claim>,
}

/// The theory needed beside the trained models: the finite-neighbour optimum at (n, N) and
/// the gain of the non-degenerate structured start (if measured).
pub struct TheoryHooks<'a> {
    /// `symmetric::optimize` at (n, N).
    pub symmetric: &'a dyn Fn(usize, usize) -> Option<crate::compare::Symmetric>,
    /// Gain of the structured non-degenerate start at (n, N), before training.
    pub structured: &'a dyn Fn(usize, usize) -> Option<f64>,
}

/// Writes every figure into `dir/figures/`, `dir/report.md` and `dir/claims.json`.
/// `progress` is called with each figure's name as it is drawn.
pub fn write_all(
    dir: &Path,
    models: &[Trained],
    huber_models: &[(f64, Trained)],
    hooks: &TheoryHooks<'_>,
    header: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<Written> {
    let figdir = dir.join("figures");
    std::fs::create_dir_all(&figdir).map_err(|e| Error::io(&figdir, e))?;
    // Cache the symmetric theory per (n, N): it is asked for by several figures and rows.
    let mut cache = std::collections::BTreeMap::new();
    for t in models {
        let key = (t.view.n, t.view.features());
        cache
            .entry(key)
            .or_insert_with(|| (hooks.symmetric)(key.0, key.1));
    }
    let sym = |n: usize, nf: usize| cache.get(&(n, nf)).copied().flatten();
    let mut figures = Vec::new();
    let mut drawn = Vec::new();
    let mut save = |name: &'static str, r: Result<()>, figures: &mut Vec<PathBuf>| -> Result<()> {
        progress(name);
        r?;
        figures.push(figdir.join(format!("{name}.png")));
        drawn.push(name);
        Ok(())
    };
    let p = |name: &str| figdir.join(format!("{name}.png"));
    let has = |n: usize| models.iter().any(|t| t.view.n == n);
    if has(2) {
        save(
            "superposition_2d",
            plot::save(&superposition(models, 2)?, &p("superposition_2d")),
            &mut figures,
        )?;
    }
    if has(3) {
        save(
            "superposition_3d",
            plot::save(&superposition(models, 3)?, &p("superposition_3d")),
            &mut figures,
        )?;
    }
    save(
        "theta_min",
        plot::save(&theta_min(models)?, &p("theta_min")),
        &mut figures,
    )?;
    save(
        "multiplicity",
        plot::save(&multiplicity(models)?, &p("multiplicity")),
        &mut figures,
    )?;
    save(
        "amplitudes",
        plot::save(&amplitudes(models)?, &p("amplitudes")),
        &mut figures,
    )?;
    save(
        "theta_distribution",
        plot::save(&theta_distribution(models)?, &p("theta_distribution")),
        &mut figures,
    )?;
    let finite = |n: usize, nf: usize| sym(n, nf).map(|s| s.intercept);
    save(
        "intercept",
        plot::save(&intercept(models, &finite)?, &p("intercept")),
        &mut figures,
    )?;
    let optimum = |n: usize, nf: usize| sym(n, nf).map(|s| s.gain);
    save(
        "training_inefficiency",
        plot::save(
            &training_inefficiency(models, &optimum)?,
            &p("training_inefficiency"),
        ),
        &mut figures,
    )?;
    if !huber_models.is_empty() {
        save(
            "huber",
            plot::save(&huber(huber_models)?, &p("huber")),
            &mut figures,
        )?;
    }
    save(
        "analytic_gain",
        plot::save(
            &analytic_gain(&ANALYTIC_DIMS, ANALYTIC_MAX_EMBED)?,
            &p("analytic_gain"),
        ),
        &mut figures,
    )?;

    progress("report");
    let conventions = convention_facts(&CLAIM_DIMS, CLAIM_MAX_FEATURES)?;
    let symf = |n: usize, nf: usize| sym(n, nf);
    let evidence = crate::report::Evidence {
        models: models.iter().map(|t| t.facts.clone()).collect(),
        huber_n: huber_models.first().map_or(0, |h| h.1.view.n),
        huber: huber_facts(huber_models),
        theory: crate::report::TheoryFacts {
            at: models.iter().filter_map(|t| theory_at(t, &symf)).collect(),
            conventions: conventions.clone(),
            max_features: CLAIM_MAX_FEATURES,
        },
    };
    let claims = crate::report::assess(&evidence);
    let beyond = crate::report::Beyond {
        transitions: CLAIM_DIMS
            .iter()
            .map(|&n| {
                let get = |c: &str| {
                    conventions
                        .iter()
                        .find(|f| f.n == n && f.convention == c)
                        .and_then(|f| f.transition)
                };
                (n, get("consistent"), get("note"))
            })
            .collect(),
        intercept: {
            let top = models.iter().map(|t| t.view.n).max().unwrap_or(0);
            models
                .iter()
                .filter(|t| t.view.n == top && t.facts.directions >= 2)
                .map(|t| {
                    (
                        t.facts.features,
                        t.facts.intercept_median,
                        t.facts.cos_theta_min_median,
                        sym(top, t.facts.features).map(|s| s.intercept),
                    )
                })
                .collect()
        },
        intercept_n: models.iter().map(|t| t.view.n).max().unwrap_or(0),
        degeneracy: models
            .iter()
            .filter(|t| t.facts.mean_multiplicity > crate::report::NON_DEGENERATE)
            .map(|t| {
                let (n, nf) = (t.view.n, t.facts.features);
                let s = sym(n, nf);
                crate::report::DegeneracyRow {
                    n,
                    features: nf,
                    trained_gain: t.gain,
                    trained_multiplicity: t.facts.mean_multiplicity,
                    symmetric_gain: s.map(|s| s.gain),
                    symmetric_multiplicity: s.map(|s| s.multiplicity),
                    symmetric_m1_gain: s.map(|s| s.gain_m1),
                    structured_gain: (hooks.structured)(n, nf),
                }
            })
            .collect(),
    };
    let md = crate::report::markdown(header, &claims, &beyond, &drawn);
    write_atomic(&dir.join("report.md"), md.as_bytes())?;
    let json = serde_json::to_string_pretty(&claims)
        .map_err(|e| Error::Numerical(format!("claims.json: {e}")))?;
    write_atomic(&dir.join("claims.json"), json.as_bytes())?;
    Ok(Written { figures, claims })
}

/// What `superpose reproduce` runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Model dimensions of the L2 sweep.
    pub dims: Vec<usize>,
    /// Numbers of features of the L2 sweep.
    pub features: Vec<usize>,
    /// Random restarts per chain size (besides the structured and lifted starts).
    pub restarts: usize,
    /// Maximum L-BFGS iterations per polish.
    pub lbfgs_iters: u64,
    /// Adam steps of each random start.
    pub adam_steps: usize,
    /// Seed.
    pub seed: u64,
    /// Dimension of the Huber sweep.
    pub huber_n: usize,
    /// Numbers of features of the Huber sweep.
    pub huber_features: Vec<usize>,
    /// Huber δ values.
    pub huber_deltas: Vec<f64>,
    /// Sub-folder of the L2 sweep (`sweep` or `sweep_quick`).
    pub sweep_subdir: &'static str,
    /// Name of the plan (for the report).
    pub name: &'static str,
}

impl Plan {
    /// The note's sweep: n ∈ {2, 3, 4, 6, 8}, N ∈ {4, 8, …, 1024}; Huber n = 2,
    /// N ∈ {16, 64, 256}, δ ∈ {1, 0.9, …, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02}.
    ///
    /// The Huber sweep is 2-D: trained with structured starts, L2 models are non-degenerate up
    /// to N = 512 in 3-D, so only in 2-D does the sweep start from the degenerate packing the
    /// note's Huber figure starts from.
    pub fn full() -> Self {
        let defaults = crate::toy::TrainConfig::new(2, 4);
        Plan {
            dims: vec![2, 3, 4, 6, 8],
            features: (2..=10).map(|k| 1usize << k).collect(),
            restarts: defaults.restarts,
            lbfgs_iters: defaults.lbfgs_iters,
            adam_steps: defaults.adam_steps,
            seed: 0,
            huber_n: 2,
            huber_features: vec![16, 64, 256],
            huber_deltas: vec![1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02],
            sweep_subdir: "sweep",
            name: "full",
        }
    }

    /// A subset for CI (< 1 min): n ∈ {2, 3, 8}, N ∈ {4, …, 64}, fewer iterations; Huber
    /// n = 2, N ∈ {16, 64}, δ ∈ {1, 0.7, 0.5, 0.2, 0.05}.
    pub fn quick() -> Self {
        Plan {
            dims: vec![2, 3, 8],
            features: (2..=6).map(|k| 1usize << k).collect(),
            restarts: 1,
            lbfgs_iters: 400,
            adam_steps: 150,
            seed: 0,
            huber_n: 2,
            huber_features: vec![16, 64],
            huber_deltas: vec![1.0, 0.7, 0.5, 0.2, 0.05],
            sweep_subdir: "sweep_quick",
            name: "quick",
        }
    }

    /// Number of models trained (or reused).
    pub fn models(&self) -> usize {
        self.dims.len() * self.features.len() + self.huber_features.len() * self.huber_deltas.len()
    }

    fn template(&self, loss: Loss) -> crate::toy::TrainConfig {
        let mut t = crate::toy::TrainConfig::new(0, 0);
        t.seed = self.seed;
        t.restarts = self.restarts;
        t.lbfgs_iters = self.lbfgs_iters;
        t.adam_steps = self.adam_steps;
        t.loss = loss;
        t
    }
}

/// Progress of `reproduce` (the CLI attaches a progress bar).
pub trait Progress: Sync {
    /// One step (a model finished or reused, a figure drawn) with a short message.
    fn step(&self, message: &str);
}

struct Bridge<'a> {
    progress: &'a dyn Progress,
    label: String,
    spread: std::sync::Mutex<std::collections::HashMap<(usize, usize), f64>>,
    reused: std::sync::atomic::AtomicUsize,
}

impl crate::toy::Observer for Bridge<'_> {
    fn event(&self, e: &crate::toy::Event) {
        if let crate::toy::Event::Start {
            n,
            features,
            start,
            loss,
        } = e
        {
            if start == "spread" {
                if let Ok(mut m) = self.spread.lock() {
                    m.insert((*n, *features), *loss);
                }
            }
        }
        if let crate::toy::Event::ModelDone {
            n,
            features,
            resumed,
            ..
        } = *e
        {
            if resumed {
                self.reused
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            self.progress.step(&format!(
                "{} n = {n} N = {features}{}",
                self.label,
                if resumed { " (reused)" } else { "" }
            ));
        }
    }
}

/// What [`run`] did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Figures and claims.
    pub written: Written,
    /// Models read back from an earlier run instead of trained.
    pub reused: usize,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
}

fn records_to_trained(recs: &[crate::toy::sweep::SweepRecord], dir: &Path) -> Result<Vec<Trained>> {
    recs.iter()
        .map(|r| {
            let v = serde_json::to_value(r).map_err(|e| Error::Numerical(e.to_string()))?;
            trained_from_value(&v, dir)
        })
        .collect()
}

/// Runs `plan` into `dir`: the L2 sweep (`toy::sweep::run`, resumable), the Huber sweep, the
/// theory, every figure, `report.md` and `claims.json`.
pub fn run(plan: &Plan, dir: &Path, progress: &dyn Progress) -> Result<Outcome> {
    let t0 = std::time::Instant::now();
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let bridge = Bridge {
        progress,
        label: "L2".into(),
        spread: Default::default(),
        reused: Default::default(),
    };
    let sweep_dir = dir.join(plan.sweep_subdir);
    let recs = crate::toy::sweep::run(
        &plan.dims,
        &plan.features,
        &sweep_dir,
        &plan.template(Loss::L2),
        &bridge,
    )?;
    let models = records_to_trained(&recs, &sweep_dir)?;
    let t_sweep = t0.elapsed().as_secs_f64();
    let mut huber_models = Vec::new();
    let mut reused = bridge.reused.load(std::sync::atomic::Ordering::Relaxed);
    for &delta in &plan.huber_deltas {
        let hb = Bridge {
            progress,
            label: format!("Huber δ = {delta}"),
            spread: Default::default(),
            reused: Default::default(),
        };
        let hdir = huber_dir(dir, delta);
        let recs = crate::toy::sweep::run(
            &[plan.huber_n],
            &plan.huber_features,
            &hdir,
            &plan.template(Loss::Huber { delta }),
            &hb,
        )?;
        reused += hb.reused.load(std::sync::atomic::Ordering::Relaxed);
        for t in records_to_trained(&recs, &hdir)? {
            huber_models.push((delta, t));
        }
    }
    let t_huber = t0.elapsed().as_secs_f64() - t_sweep;
    let spread = bridge.spread.into_inner().unwrap_or_default();
    let structured = |n: usize, nf: usize| {
        spread
            .get(&(n, nf))
            .map(|l| (Loss::L2.l0() - l) * nf as f64)
    };
    let hooks = TheoryHooks {
        symmetric: &symmetric_optimum,
        structured: &structured,
    };
    let header = format!(
        "Plan `{}`: L2 sweep n ∈ {:?}, N ∈ {:?} ({} models; exact sparse-limit loss; structured, \
         lifted and {} random start(s) per size; L-BFGS ≤ {} iterations; seed {}), Huber sweep \
         n = {}, N ∈ {:?}, δ ∈ {:?}. {} of {} models were read back from an earlier run. \
         This run spent {:.0} s (L2) + {:.0} s (Huber) on training, on {} thread(s); the \
         models' own recorded training times add up to {:.0} s.",
        plan.name,
        plan.dims,
        plan.features,
        plan.dims.len() * plan.features.len(),
        plan.restarts,
        plan.lbfgs_iters,
        plan.seed,
        plan.huber_n,
        plan.huber_features,
        plan.huber_deltas,
        reused,
        plan.models(),
        t_sweep,
        t_huber,
        rayon::current_num_threads(),
        models
            .iter()
            .chain(huber_models.iter().map(|h| &h.1))
            .filter_map(|t| t.report.get("seconds").and_then(Value::as_f64))
            .sum::<f64>(),
    );
    let mut step = |name: &str| progress.step(&format!("figure {name}"));
    let written = write_all(dir, &models, &huber_models, &hooks, &header, &mut step)?;
    Ok(Outcome {
        written,
        reused,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_model(dir: &Path, n: usize, nf: usize, gain: f64) {
        let m = crate::plot::ModelView {
            n,
            w: (0..nf)
                .map(|i| {
                    let a = i as f64 * std::f64::consts::TAU / nf as f64;
                    let mut v = vec![0.0; n];
                    v[0] = a.cos();
                    v[1] = a.sin();
                    v
                })
                .collect(),
            b: vec![-0.3; nf],
        };
        let j = serde_json::json!({
            "config": {"n": n, "features": nf},
            "report": {"n": n, "features": nf, "gain": gain, "loss": "l2"},
            "diagnostics": {},
            "model": {"n": n, "features": nf, "w": m.w, "b": m.b, "loss": "l2"},
        });
        std::fs::create_dir_all(dir.join("models")).unwrap();
        std::fs::write(
            dir.join(format!("models/n{n}_N{nf}.json")),
            serde_json::to_string(&j).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn reads_a_sweep_folder_and_draws_from_it() {
        let d = tempfile::tempdir().unwrap();
        for nf in [4, 8, 16] {
            write_model(d.path(), 2, nf, nf as f64 / 10.0);
            write_model(d.path(), 3, nf, nf as f64 / 8.0);
        }
        let m = read_sweep(d.path()).unwrap();
        assert_eq!(m.len(), 6);
        assert_eq!((m[0].view.n, m[0].view.features()), (2, 4));
        assert_eq!(m[2].facts.directions, 16);
        let none = |_: usize, _: usize| None;
        for name in ["superposition_2d", "theta_min", "training_inefficiency"] {
            let out = d.path().join(format!("{name}.png"));
            draw_from_dir(name, Some(d.path()), &out, &none, &none).unwrap();
            assert!(out.is_file());
        }
        // Missing --dir, unknown name, bad file: errors.
        let out = d.path().join("x.png");
        assert!(draw_from_dir("theta_min", None, &out, &none, &none).is_err());
        assert!(draw_from_dir("nope", Some(d.path()), &out, &none, &none).is_err());
        std::fs::write(d.path().join("models/bad.json"), "{").unwrap();
        assert!(read_sweep(d.path()).is_err());
    }

    #[test]
    fn writes_figures_report_and_claims() {
        let d = tempfile::tempdir().unwrap();
        for n in [2, 3, 4, 8] {
            for nf in [4, 8, 16, 32] {
                write_model(d.path(), n, nf, nf as f64 / 10.0);
            }
        }
        let models = read_sweep(d.path()).unwrap();
        let hooks = TheoryHooks {
            symmetric: &|_, _| None,
            structured: &|_, _| None,
        };
        let mut seen = Vec::new();
        // The symmetric theory agrees with the closed form's slope structure: at n = 8, N = 64
        // its intercept sits at or below cos θ of the law, and m = 1 (degeneracy never wins).
        let s = symmetric_optimum(8, 64).unwrap();
        let cos = crate::theta::theta_min(8, s.embed as f64 / s.multiplicity as f64)
            .unwrap()
            .theta
            .cos();
        assert!(
            s.intercept <= cos + 1e-12 && s.intercept > 0.0,
            "{s:?} vs {cos}"
        );
        assert_eq!(s.multiplicity, 1);
        assert_eq!(s.gain, s.gain_m1);
        let w = write_all(d.path(), &models, &[], &hooks, "header", &mut |s| {
            seen.push(s.to_string())
        })
        .unwrap();
        assert_eq!(w.figures.len(), 9); // no Huber sweep
        assert!(w.figures.iter().all(|f| f.is_file()));
        assert_eq!(seen.last().unwrap(), "report");
        let claims: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.path().join("claims.json")).unwrap())
                .unwrap();
        assert_eq!(claims.as_array().unwrap().len(), 10);
        let md = std::fs::read_to_string(d.path().join("report.md")).unwrap();
        assert!(md.contains("## Beyond the note") && !md.contains("NaN"));
        // No temporary files are left behind.
        let left: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(left.is_empty());
    }
}
