//! The figure data of a study: from studied models to the plot module's figure types, and
//! `superpose plot NAME --dir DIR`.

use std::path::Path;

use super::compare::{rows, CompareRow, Symmetric};
use super::sweep::{read_huber, read_sweep, HuberModel, Trained};
use crate::error::{Error, Result};
use crate::gain::{closed_form, Convention};
use crate::loss::Loss;
use crate::phase::transition;
use crate::plot::{
    self, AmplitudesFig, AmplitudesSeries, AnalyticGainFig, GainCurve, GainFig, GainPanel,
    GainSeries, HuberFig, HuberPoint, InterceptFig, InterceptModel, MultiplicityFig,
    MultiplicityPoint, MultiplicitySeries, Superposition, ThetaDistributionFig, ThetaMinFig,
    ThetaMinSeries,
};

fn of_n(models: &[Trained], n: usize) -> Vec<&Trained> {
    models.iter().filter(|t| t.n() == n).collect()
}

fn dims(models: &[Trained]) -> Vec<usize> {
    let mut v: Vec<usize> = models.iter().map(|t| t.n()).collect();
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
        models: chosen.into_iter().map(|i| v[i].view()).collect(),
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
    let key = |t: &&Trained| (t.facts.directions, t.n());
    models
        .iter()
        .filter(|t| t.n() >= 4 && t.facts.non_degenerate())
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
        n: t.n(),
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
                model: t.view(),
                cos_theta_min: t.facts.cos_theta_min_median,
                finite_neighbour: finite(n, t.facts.features),
            })
            .collect(),
    })
}

/// `training_inefficiency`: the trained gain per n beside the symmetric estimate at the law's θ
/// and the symmetric model at the trained θ (from the `compare` rows of the same models).
pub fn training_inefficiency(models: &[Trained], rows: &[CompareRow]) -> Result<GainFig> {
    need("training_inefficiency", !models.is_empty())?;
    let of = |n: usize, f: &dyn Fn(&CompareRow) -> Option<f64>| -> Vec<(usize, f64)> {
        rows.iter()
            .filter(|r| r.n == n)
            .filter_map(|r| Some((r.features, f(r)?)))
            .collect()
    };
    Ok(GainFig {
        series: dims(models)
            .into_iter()
            .map(|n| GainSeries {
                n,
                points: of_n(models, n)
                    .iter()
                    .map(|t| (t.facts.features, t.gain))
                    .collect(),
                optimum: of(n, &|r| r.gain_finite),
                optimum_trained_theta: of(n, &|r| r.gain_symmetric_trained_theta),
            })
            .collect(),
    })
}

/// `huber`: the Huber sweep of the lowest dimension in `h`.
pub fn huber(h: &[HuberModel]) -> Result<HuberFig> {
    need("huber", !h.is_empty())?;
    let n = h.iter().map(|x| x.model.n()).min().unwrap_or(2);
    Ok(HuberFig {
        n,
        points: h
            .iter()
            .filter(|x| x.model.n() == n)
            .map(|x| {
                let f = x.facts();
                HuberPoint {
                    delta: f.delta,
                    features: f.features,
                    embedded_fraction: f.embedded_fraction,
                    directions: f.directions,
                    mean_multiplicity: f.mean_multiplicity,
                }
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

/// Draws figure `name` from a sweep folder into `out` (`analytic_gain` needs no folder);
/// `symmetric` supplies the symmetric theory at (n, N).
pub fn draw_from_dir(
    name: &str,
    dir: Option<&Path>,
    out: &Path,
    symmetric: &dyn Fn(usize, usize) -> Option<Symmetric>,
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
        "intercept" => plot::save(
            &intercept(&models, &|n, nf| symmetric(n, nf).map(|s| s.intercept))?,
            out,
        ),
        "training_inefficiency" => plot::save(
            &training_inefficiency(&models, &rows(&models, symmetric)?)?,
            out,
        ),
        other => Err(Error::invalid(
            "figure",
            format!("unknown figure {other:?}"),
        )),
    }
}
