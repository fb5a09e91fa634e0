//! The reproduction plan: `superpose reproduce` trains (or reads back) the note's L2 sweep and
//! the Huber δ sweeps, computes the theory beside every model, draws every figure, judges the
//! claims and writes `report.md` and `claims.json`, with any extra sections appended.

use std::path::{Path, PathBuf};

use super::claims::{assess, Claim, ConventionFacts, Evidence, TheoryFacts};
use super::compare::{rows, symmetric_optimum, Symmetric};
use super::facts::NON_DEGENERATE;
use super::figures::{self, ANALYTIC_DIMS, ANALYTIC_MAX_EMBED};
use super::report::{markdown, Beyond, DegeneracyRow, Section, SymmetricRow};
use super::sweep::{from_records, huber_dir, sort_huber, HuberModel, Trained};
use crate::error::{Error, Result};
use crate::gain::{Convention, ThetaLaw};
use crate::loss::Loss;
use crate::phase::{dim_phase, DEFAULT_MAX_MULTIPLICITY};
use crate::plot;

/// Per n and convention: the predicted transition and whether the non-degenerate closed-form
/// gain keeps growing with E, up to `max_features` (`phase::dim_phase`, L2, small-angle law).
pub fn convention_facts(dims: &[usize], max_features: u64) -> Result<Vec<ConventionFacts>> {
    let mut out = Vec::new();
    for conv in Convention::ALL {
        for &n in dims {
            let p = dim_phase(
                n,
                conv,
                &Loss::L2,
                max_features,
                DEFAULT_MAX_MULTIPLICITY,
                ThetaLaw::SmallAngle,
            )?;
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
    pub claims: Vec<Claim>,
}

/// The theory needed beside the trained models: the finite-neighbour optimum at (n, N) and
/// the gain of the non-degenerate structured start (if measured).
pub struct TheoryHooks<'a> {
    /// `symmetric::optimize` at (n, N).
    pub symmetric: &'a dyn Fn(usize, usize) -> Option<Symmetric>,
    /// Gain of the structured non-degenerate start at (n, N), before training.
    pub structured: &'a dyn Fn(usize, usize) -> Option<f64>,
}

/// Writes every figure into `dir/figures/`, `dir/report.md` and `dir/claims.json`, with
/// `sections` appended to the report. `progress` is called with each figure's name as it is
/// drawn, then with `report`.
pub fn write_all(
    dir: &Path,
    models: &[Trained],
    huber: &[HuberModel],
    hooks: &TheoryHooks<'_>,
    header: &str,
    sections: &[Section],
    progress: &mut dyn FnMut(&str),
) -> Result<Written> {
    let figdir = dir.join("figures");
    std::fs::create_dir_all(&figdir).map_err(|e| Error::io(&figdir, e))?;
    // The symmetric theory per (n, N), once: several figures and rows ask for it.
    let mut cache = std::collections::BTreeMap::new();
    for t in models {
        let key = (t.n(), t.features());
        cache
            .entry(key)
            .or_insert_with(|| (hooks.symmetric)(key.0, key.1));
    }
    let sym = |n: usize, nf: usize| cache.get(&(n, nf)).copied().flatten();
    let theory_rows = rows(models, &sym)?;
    let mut figures = Vec::new();
    let mut drawn: Vec<&'static str> = Vec::new();
    let mut save = |name: &'static str, r: Result<()>| -> Result<()> {
        progress(name);
        r?;
        figures.push(figdir.join(format!("{name}.png")));
        drawn.push(name);
        Ok(())
    };
    let p = |name: &str| figdir.join(format!("{name}.png"));
    let has = |n: usize| models.iter().any(|t| t.n() == n);
    if has(2) {
        let f = figures::superposition(models, 2)?;
        save("superposition_2d", plot::save(&f, &p("superposition_2d")))?;
    }
    if has(3) {
        let f = figures::superposition(models, 3)?;
        save("superposition_3d", plot::save(&f, &p("superposition_3d")))?;
    }
    save(
        "theta_min",
        plot::save(&figures::theta_min(models)?, &p("theta_min")),
    )?;
    save(
        "multiplicity",
        plot::save(&figures::multiplicity(models)?, &p("multiplicity")),
    )?;
    save(
        "amplitudes",
        plot::save(&figures::amplitudes(models)?, &p("amplitudes")),
    )?;
    save(
        "theta_distribution",
        plot::save(
            &figures::theta_distribution(models)?,
            &p("theta_distribution"),
        ),
    )?;
    let finite = |n: usize, nf: usize| sym(n, nf).map(|s| s.intercept);
    save(
        "intercept",
        plot::save(&figures::intercept(models, &finite)?, &p("intercept")),
    )?;
    save(
        "training_inefficiency",
        plot::save(
            &figures::training_inefficiency(models, &theory_rows)?,
            &p("training_inefficiency"),
        ),
    )?;
    if !huber.is_empty() {
        save("huber", plot::save(&figures::huber(huber)?, &p("huber")))?;
    }
    save(
        "analytic_gain",
        plot::save(
            &figures::analytic_gain(&ANALYTIC_DIMS, ANALYTIC_MAX_EMBED)?,
            &p("analytic_gain"),
        ),
    )?;

    progress("report");
    let conventions = convention_facts(&CLAIM_DIMS, CLAIM_MAX_FEATURES)?;
    let top = models.iter().map(|t| t.n()).max().unwrap_or(0);
    let beyond = Beyond {
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
        intercept: models
            .iter()
            .filter(|t| t.n() == top && t.facts.directions >= 2)
            .map(|t| {
                (
                    t.features(),
                    t.facts.intercept_median,
                    t.facts.cos_theta_min_median,
                    sym(top, t.features()).map(|s| s.intercept),
                )
            })
            .collect(),
        intercept_n: top,
        degeneracy: models
            .iter()
            .filter(|t| t.facts.mean_multiplicity > NON_DEGENERATE)
            .map(|t| {
                let (n, nf) = (t.n(), t.features());
                let s = sym(n, nf);
                DegeneracyRow {
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
        symmetric: theory_rows
            .iter()
            .filter(|r| r.n >= 3)
            .map(|r| SymmetricRow {
                n: r.n,
                features: r.features,
                trained_gain: r.gain_trained,
                ratio_law_theta: r.ratio_gain_finite,
                ratio_trained_theta: r.ratio_gain_symmetric_trained_theta,
            })
            .collect(),
    };
    let evidence = Evidence {
        models: models.iter().map(|t| t.facts.clone()).collect(),
        huber: huber.iter().map(HuberModel::facts).collect(),
        theory: TheoryFacts {
            rows: theory_rows,
            conventions,
            max_features: CLAIM_MAX_FEATURES,
        },
    };
    let claims = assess(&evidence);
    let md = markdown(header, &claims, &beyond, &drawn, sections);
    crate::fsutil::write_atomic(&dir.join("report.md"), md.as_bytes())?;
    let json = serde_json::to_string_pretty(&claims)
        .map_err(|e| Error::Numerical(format!("claims.json: {e}")))?;
    crate::fsutil::write_atomic(&dir.join("claims.json"), json.as_bytes())?;
    Ok(Written { figures, claims })
}

/// One Huber δ sweep of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct HuberPlan {
    /// Model dimension.
    pub n: usize,
    /// Numbers of features.
    pub features: Vec<usize>,
    /// δ values.
    pub deltas: Vec<f64>,
}

/// An extra report section built at the end of a run: `build(out_dir)` returns the section
/// (reading, say, a committed `docs/<study>/result.json`) and may draw its figures into
/// `out_dir/figures/`, naming them in [`Section::figures`] relative to `out_dir`.
#[derive(Clone)]
pub struct Extra {
    /// Name (progress line).
    pub name: &'static str,
    /// Builds the section.
    pub build: fn(&Path) -> Result<Section>,
}

impl std::fmt::Debug for Extra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extra").field("name", &self.name).finish()
    }
}

/// What `superpose reproduce` runs.
#[derive(Debug, Clone)]
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
    /// The Huber δ sweeps (claim 8 is judged in each dimension).
    pub huber: Vec<HuberPlan>,
    /// Sub-folder of the L2 sweep (`sweep` or `sweep_quick`).
    pub sweep_subdir: &'static str,
    /// Name of the plan (for the report).
    pub name: &'static str,
    /// Extra report sections, appended in order after "Beyond the note".
    pub extras: Vec<Extra>,
}

impl Plan {
    /// The note's sweep: n ∈ {2, 3, 4, 6, 8}, N ∈ {4, 8, …, 1024}; Huber n = 2,
    /// N ∈ {16, 64, 256}, δ ∈ {1, 0.99, 0.97, 0.95, 0.92, 0.9, 0.8, …, 0.5, 0.3, 0.2, 0.1, 0.05,
    /// 0.02} (dense near 1, where the 2-D packing changes), and Huber n = 3, 4,
    /// N ∈ {64, 256}, δ ∈ {1, 0.7, 0.5, 0.3, 0.1, 0.02}.
    ///
    /// The 2-D sweep starts from the degenerate packing the note's Huber figure starts from; in
    /// 3-D and 4-D the L2 models at these N are non-degenerate or nearly so, and the sweep
    /// shows whether lowering δ still moves the packing.
    pub fn full() -> Self {
        let defaults = crate::toy::TrainConfig::new(2, 4);
        let high = vec![1.0, 0.7, 0.5, 0.3, 0.1, 0.02];
        Plan {
            dims: vec![2, 3, 4, 6, 8],
            features: (2..=10).map(|k| 1usize << k).collect(),
            restarts: defaults.restarts,
            lbfgs_iters: defaults.lbfgs_iters,
            adam_steps: defaults.adam_steps,
            seed: 0,
            huber: vec![
                HuberPlan {
                    n: 2,
                    features: vec![16, 64, 256],
                    deltas: vec![
                        1.0, 0.99, 0.97, 0.95, 0.92, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1, 0.05,
                        0.02,
                    ],
                },
                HuberPlan {
                    n: 3,
                    features: vec![64, 256],
                    deltas: high.clone(),
                },
                HuberPlan {
                    n: 4,
                    features: vec![64, 256],
                    deltas: high,
                },
            ],
            sweep_subdir: "sweep",
            name: "full",
            extras: Vec::new(),
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
            huber: vec![HuberPlan {
                n: 2,
                features: vec![16, 64],
                deltas: vec![1.0, 0.7, 0.5, 0.2, 0.05],
            }],
            sweep_subdir: "sweep_quick",
            name: "quick",
            extras: Vec::new(),
        }
    }

    /// Number of models trained (or reused).
    pub fn models(&self) -> usize {
        self.dims.len() * self.features.len()
            + self
                .huber
                .iter()
                .map(|h| h.features.len() * h.deltas.len())
                .sum::<usize>()
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

impl<'a> Bridge<'a> {
    fn new(progress: &'a dyn Progress, label: String) -> Self {
        Bridge {
            progress,
            label,
            spread: Default::default(),
            reused: Default::default(),
        }
    }
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
            if start.starts_with("spread") {
                if let Ok(mut m) = self.spread.lock() {
                    let best = m.entry((*n, *features)).or_insert(*loss);
                    *best = best.min(*loss);
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

/// Runs `plan` into `dir`: the L2 sweep (`toy::sweep::run`, resumable), the Huber sweeps, the
/// theory, every figure, the extra sections, `report.md` and `claims.json`.
pub fn run(plan: &Plan, dir: &Path, progress: &dyn Progress) -> Result<Outcome> {
    let t0 = std::time::Instant::now();
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let bridge = Bridge::new(progress, "L2".into());
    let sweep_dir = dir.join(plan.sweep_subdir);
    let recs = crate::toy::sweep::run(
        &plan.dims,
        &plan.features,
        &sweep_dir,
        &plan.template(Loss::L2),
        &bridge,
    )?;
    let models = from_records(recs)?;
    let t_sweep = t0.elapsed().as_secs_f64();
    let mut huber = Vec::new();
    let mut reused = bridge.reused.load(std::sync::atomic::Ordering::Relaxed);
    for h in &plan.huber {
        for &delta in &h.deltas {
            let hb = Bridge::new(progress, format!("Huber n = {} δ = {delta}", h.n));
            let hdir = huber_dir(dir, h.n, delta);
            let recs = crate::toy::sweep::run(
                &[h.n],
                &h.features,
                &hdir,
                &plan.template(Loss::Huber { delta }),
                &hb,
            )?;
            reused += hb.reused.load(std::sync::atomic::Ordering::Relaxed);
            for t in from_records(recs)? {
                huber.push(HuberModel { delta, model: t });
            }
        }
    }
    sort_huber(&mut huber);
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
    let huber_text: Vec<String> = plan
        .huber
        .iter()
        .map(|h| format!("n = {}, N ∈ {:?}, δ ∈ {:?}", h.n, h.features, h.deltas))
        .collect();
    let header = format!(
        "Plan `{}`: L2 sweep n ∈ {:?}, N ∈ {:?} ({} models; exact sparse-limit loss; structured, \
         lifted and {} random start(s) per size; L-BFGS ≤ {} iterations; seed {}), Huber sweeps \
         {}. {} of {} models were read back from an earlier run. \
         This run spent {:.0} s (L2) + {:.0} s (Huber) on training, on {} thread(s); the \
         models' own recorded training times add up to {:.0} s.",
        plan.name,
        plan.dims,
        plan.features,
        plan.dims.len() * plan.features.len(),
        plan.restarts,
        plan.lbfgs_iters,
        plan.seed,
        huber_text.join("; "),
        reused,
        plan.models(),
        t_sweep,
        t_huber,
        rayon::current_num_threads(),
        models
            .iter()
            .chain(huber.iter().map(|h| &h.model))
            .map(|t| t.seconds)
            .sum::<f64>(),
    );
    let mut sections = Vec::new();
    for e in &plan.extras {
        progress.step(&format!("section {}", e.name));
        sections.push((e.build)(dir)?);
    }
    let mut step = |name: &str| progress.step(&format!("figure {name}"));
    let written = write_all(dir, &models, &huber, &hooks, &header, &sections, &mut step)?;
    Ok(Outcome {
        written,
        reused,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::figures::draw_from_dir;
    use crate::study::sweep::read_sweep;

    struct Quiet;
    impl Progress for Quiet {
        fn step(&self, _: &str) {}
    }

    /// A small real sweep (n = 2, 3; N = 4, 8, 16) trained once into `dir`.
    fn small_sweep(dir: &Path) -> Vec<Trained> {
        let mut t = crate::toy::TrainConfig::new(0, 0);
        t.restarts = 0;
        t.lbfgs_iters = 200;
        t.adam_steps = 50;
        let b = Bridge::new(&Quiet, "test".into());
        from_records(crate::toy::sweep::run(&[2, 3], &[4, 8, 16], dir, &t, &b).unwrap()).unwrap()
    }

    #[test]
    fn reads_a_sweep_folder_and_draws_from_it() {
        let d = tempfile::tempdir().unwrap();
        let trained = small_sweep(d.path());
        let m = read_sweep(d.path()).unwrap();
        assert_eq!(m.len(), 6);
        assert_eq!((m[0].n(), m[0].features()), (2, 4));
        assert_eq!(m[2].facts.embedded, trained[2].facts.embedded);
        let none = |_: usize, _: usize| None;
        for name in ["superposition_2d", "theta_min", "training_inefficiency"] {
            let out = d.path().join(format!("{name}.png"));
            draw_from_dir(name, Some(d.path()), &out, &none).unwrap();
            assert!(out.is_file());
        }
        // Missing --dir, unknown name, bad file: errors.
        let out = d.path().join("x.png");
        assert!(draw_from_dir("theta_min", None, &out, &none).is_err());
        assert!(draw_from_dir("nope", Some(d.path()), &out, &none).is_err());
        std::fs::write(d.path().join("models/n9_N9.json"), "{").unwrap();
        assert!(read_sweep(d.path()).is_err());
    }

    #[test]
    fn writes_figures_report_claims_and_extra_sections() {
        let d = tempfile::tempdir().unwrap();
        let models = small_sweep(&d.path().join("sweep"));
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
        let extra = Section {
            markdown: "## Another study\n\nIts numbers.\n".into(),
            figures: vec!["figures/theta_min.png".into()],
        };
        let w = write_all(
            d.path(),
            &models,
            &[],
            &hooks,
            "header",
            &[extra],
            &mut |s| seen.push(s.to_string()),
        )
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
        assert!(md.contains("## Another study"));
        // No temporary files are left behind.
        let left: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(left.is_empty());
    }
}
