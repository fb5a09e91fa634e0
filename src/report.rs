//! The reproduction report: the note's ten claims (SPEC §6), each measured and judged by a
//! stated rule.
//!
//! The input is plain data ([`Evidence`]): facts about every trained model of the sweep
//! ([`ModelFacts`], built from the weights by [`ModelFacts::from_model`]), the Huber δ sweep
//! ([`HuberFacts`]) and the theory ([`TheoryFacts`]). [`assess`] turns it into ten [`Claim`]s.
//!
//! # Rule
//!
//! Every claim is split into criteria, each a yes/no test on measured numbers with its
//! threshold written out. The verdict is **holds** if every criterion passes, **does not hold**
//! if none passes, and **differs** otherwise. A criterion with no data to test (e.g. no
//! non-degenerate model in a quick run) counts as not passed and says so.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::plot::{direction_groups, median, nearest_angles, pairwise_angles, ModelView};
use crate::sphere::angle_density;

/// A model counts as non-degenerate when its mean multiplicity is at most this.
pub const NON_DEGENERATE: f64 = 1.1;
/// A model counts as degenerate when its mean multiplicity is at least this.
pub const DEGENERATE: f64 = 1.5;
/// Features whose directions are closer than this (radians; the trainer's threshold) share a direction when the
/// trainer's own grouping is not supplied.
pub const SAME_DIRECTION: f64 = 1e-2;

/// Verdict on a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Every criterion passes.
    #[serde(rename = "holds")]
    Holds,
    /// Some but not all criteria pass.
    #[serde(rename = "differs")]
    Differs,
    /// No criterion passes.
    #[serde(rename = "does not hold")]
    DoesNotHold,
}

impl Verdict {
    /// The verdict as a word.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Differs => "differs",
            Verdict::DoesNotHold => "does not hold",
        }
    }

    /// Verdict from the outcome of the criteria (see the module docs).
    pub fn from_criteria(passed: &[bool]) -> Self {
        if !passed.is_empty() && passed.iter().all(|&p| p) {
            Verdict::Holds
        } else if passed.iter().any(|&p| p) {
            Verdict::Differs
        } else {
            Verdict::DoesNotHold
        }
    }
}

/// Pairwise-angle statistics of one model against the uniform density on `S^{n−1}`.
///
/// # Formula
///
/// With `P̂(B)` the fraction of pairwise angles in a bin `B` and `U(B) = ∫_B p(θ) dθ` the mass
/// of the uniform pairwise-angle density `p(θ) = Γ(n/2)/(√π Γ((n−1)/2)) sin^{n−2}θ`
/// ([`crate::sphere::angle_density`], SPEC §4):
///
/// ```text
/// tv_distance        = ½ Σ_B |P̂(B) − U(B)|             (18 bins of 10° over [0, π])
/// peak_ratio         = P̂([0.9, 1.2]·θ_min) / U([0.9, 1.2]·θ_min)
/// right_angle_ratio  = P̂([85°, 95°]) / U([85°, 95°])
/// ```
#[derive(Debug, Clone, Copy, Serialize)]
pub struct AngleStats {
    /// Total-variation distance between the histogram (10° bins, coarse enough that a few
    /// hundred pairs do not register as a difference) and the uniform density.
    pub tv_distance: f64,
    /// Observed / uniform probability mass in `[0.9, 1.2]·θ_min` (a lattice peak is ≫ 1).
    pub peak_ratio: f64,
    /// Observed / uniform probability mass in `[85°, 95°]` (a peak at π/2 is ≫ 1).
    pub right_angle_ratio: f64,
}

/// Probability mass of the uniform pairwise-angle density on `S^{n−1}` in `[a, b]`.
///
/// # Formula
///
/// `U([a, b]) = ∫_a^b p(θ) dθ` by composite Simpson with 200 panels (the integrand is a
/// polynomial in sin θ; tested against `∫_0^π p = 1` and, for n = 3, `p = sin θ / 2`).
pub fn uniform_mass(n: usize, a: f64, b: f64) -> f64 {
    let (a, b) = (a.max(0.0), b.min(std::f64::consts::PI));
    if b <= a {
        return 0.0;
    }
    let k = 200;
    let h = (b - a) / k as f64;
    let mut s = angle_density(n, a) + angle_density(n, b);
    for i in 1..k {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        s += w * angle_density(n, a + i as f64 * h);
    }
    s * h / 3.0
}

impl AngleStats {
    /// Statistics of `angles` (radians) in dimension `n`, with lattice spacing `theta_min`.
    pub fn of(n: usize, angles: &[f64], theta_min: f64) -> Option<Self> {
        if angles.is_empty() || !theta_min.is_finite() || theta_min <= 0.0 {
            return None;
        }
        let total = angles.len() as f64;
        let frac =
            |a: f64, b: f64| angles.iter().filter(|&&x| x >= a && x < b).count() as f64 / total;
        let bins = 18;
        let w = std::f64::consts::PI / bins as f64;
        let mut tv = 0.0;
        for k in 0..bins {
            let (a, b) = (k as f64 * w, (k + 1) as f64 * w);
            let obs = if k + 1 == bins {
                angles.iter().filter(|&&x| x >= a).count() as f64 / total
            } else {
                frac(a, b)
            };
            tv += (obs - uniform_mass(n, a, b)).abs();
        }
        let ratio = |a: f64, b: f64| {
            let u = uniform_mass(n, a, b);
            if u > 0.0 {
                frac(a, b) / u
            } else {
                f64::INFINITY
            }
        };
        Some(AngleStats {
            tv_distance: 0.5 * tv,
            peak_ratio: ratio(0.9 * theta_min, 1.2 * theta_min),
            right_angle_ratio: ratio(85f64.to_radians(), 95f64.to_radians()),
        })
    }
}

/// What the report needs to know about one trained model.
///
/// # Formula
///
/// Embedded: `|W_i|² + b_i > 0`. Directions: the trainer's groups (angle < 10⁻² rad), each
/// represented by the normalised mean of its members' unit vectors; `θ_min` of a direction is
/// the angle to the nearest other representative; spread `(q₀.₉ − q₀.₁)/median`. Intercept
/// `−b_i/|W_i|²`. Coefficient of variation `s/x̄` (sample standard deviation).
#[derive(Debug, Clone, Serialize)]
pub struct ModelFacts {
    /// Model dimension.
    pub n: usize,
    /// N.
    pub features: usize,
    /// Embedded features E.
    pub embedded: usize,
    /// Distinct directions D.
    pub directions: usize,
    /// E / D.
    pub mean_multiplicity: f64,
    /// Trained gain `(1/3 − L)·N`.
    pub gain: f64,
    /// θ_min of every embedded feature (0 for features sharing a direction).
    #[serde(skip)]
    pub theta_min: Vec<f64>,
    /// Median over directions of the angle to the nearest other direction.
    pub theta_min_median: f64,
    /// Relative spread of the per-direction θ_min, `(p90 − p10) / median`.
    pub theta_min_spread: f64,
    /// Median intercept `−b/|W|²` of the embedded features.
    pub intercept_median: f64,
    /// cos of `theta_min_median`.
    pub cos_theta_min_median: f64,
    /// `(|W_i|, multiplicity of i's direction)` per embedded feature.
    #[serde(skip)]
    pub amplitudes: Vec<(f64, usize)>,
    /// Median amplitude of embedded features.
    pub amplitude_median: f64,
    /// Coefficient of variation of the amplitudes of embedded features.
    pub amplitude_cv: f64,
    /// Median over degenerate groups (m ≥ 2) of the within-group coefficient of variation.
    pub group_amplitude_cv: Option<f64>,
    /// Spearman correlation between multiplicity and mean amplitude over directions
    /// (`None` if the multiplicity does not vary).
    pub amplitude_multiplicity_correlation: Option<f64>,
    /// Pairwise angles between directions (radians).
    #[serde(skip)]
    pub pairwise: Vec<f64>,
    /// Pairwise-angle statistics.
    pub angle_stats: Option<AngleStats>,
}

fn quantile(v: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

fn cv(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    if m > 0.0 {
        var.sqrt() / m
    } else {
        0.0
    }
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation (`None` if either variable is constant or fewer than 3 points).
///
/// # Formula
///
/// Pearson correlation of the ranks (ties get their average rank):
/// `ρ = Σ (r_x − r̄_x)(r_y − r̄_y) / √(Σ (r_x − r̄_x)² Σ (r_y − r̄_y)²)`.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 3 {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    (vx > 0.0 && vy > 0.0).then(|| cov / (vx * vy).sqrt())
}

impl ModelFacts {
    /// Facts of a trained model from its weights. `groups` are the trainer's directions
    /// (member feature indices); when `None`, directions are grouped at [`SAME_DIRECTION`].
    pub fn from_model(view: &ModelView, gain: f64, groups: Option<Vec<Vec<usize>>>) -> Self {
        let groups = groups.unwrap_or_else(|| direction_groups(view, SAME_DIRECTION));
        let emb = view.embedded_indices();
        let mut mult_of = vec![0usize; view.features()];
        for g in &groups {
            for &i in g {
                if i < mult_of.len() {
                    mult_of[i] = g.len();
                }
            }
        }
        // Representative direction of each group: normalized mean of its members.
        let reps: Vec<Vec<f64>> = groups
            .iter()
            .filter_map(|g| {
                let mut s = vec![0.0; view.n];
                for &i in g {
                    for (k, x) in view.direction(i)?.iter().enumerate() {
                        s[k] += x;
                    }
                }
                let a = s.iter().map(|x| x * x).sum::<f64>().sqrt();
                (a > 0.0).then(|| s.iter().map(|x| x / a).collect())
            })
            .collect();
        let dir_theta = nearest_angles(&reps);
        let theta_min_median = median(dir_theta.clone()).unwrap_or(f64::NAN);
        let spread = match (quantile(&dir_theta, 0.9), quantile(&dir_theta, 0.1)) {
            (Some(hi), Some(lo)) if theta_min_median > 0.0 => (hi - lo) / theta_min_median,
            _ => f64::NAN,
        };
        let amps: Vec<f64> = emb.iter().map(|&i| view.amplitude(i)).collect();
        let group_cvs: Vec<f64> = groups
            .iter()
            .filter(|g| g.len() >= 2)
            .map(|g| cv(&g.iter().map(|&i| view.amplitude(i)).collect::<Vec<_>>()))
            .collect();
        let (gm, ga): (Vec<f64>, Vec<f64>) = groups
            .iter()
            .map(|g| {
                let a = g.iter().map(|&i| view.amplitude(i)).sum::<f64>() / g.len() as f64;
                (g.len() as f64, a)
            })
            .unzip();
        let directions = groups.len();
        let embedded = emb.len();
        let pairwise = pairwise_angles(&reps);
        let angle_stats = AngleStats::of(view.n, &pairwise, theta_min_median);
        ModelFacts {
            n: view.n,
            features: view.features(),
            embedded,
            directions,
            mean_multiplicity: if directions > 0 {
                embedded as f64 / directions as f64
            } else {
                0.0
            },
            gain,
            theta_min: nearest_angles(&view.embedded_directions()),
            theta_min_median,
            theta_min_spread: spread,
            intercept_median: median(emb.iter().map(|&i| view.intercept(i)).collect())
                .unwrap_or(f64::NAN),
            cos_theta_min_median: theta_min_median.cos(),
            amplitudes: emb
                .iter()
                .map(|&i| (view.amplitude(i), mult_of[i].max(1)))
                .collect(),
            amplitude_median: median(amps.clone()).unwrap_or(f64::NAN),
            amplitude_cv: cv(&amps),
            group_amplitude_cv: median(group_cvs),
            amplitude_multiplicity_correlation: spearman(&gm, &ga),
            pairwise,
            angle_stats,
        }
    }

    /// Mean multiplicity at most [`NON_DEGENERATE`].
    pub fn non_degenerate(&self) -> bool {
        self.mean_multiplicity <= NON_DEGENERATE
    }

    /// Fraction embedded E/N.
    pub fn embedded_fraction(&self) -> f64 {
        self.embedded as f64 / self.features.max(1) as f64
    }
}

/// One model of the Huber δ sweep.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HuberFacts {
    /// δ.
    pub delta: f64,
    /// N.
    pub features: usize,
    /// E/N.
    pub embedded_fraction: f64,
    /// D.
    pub directions: usize,
    /// E/D.
    pub mean_multiplicity: f64,
}

/// Theory at one trained (n, N).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TheoryAt {
    /// n.
    pub n: usize,
    /// N.
    pub features: usize,
    /// θ_min law, small-angle form, with D = the trained number of directions.
    pub theta_small: f64,
    /// θ_min law, chord form, same D.
    pub theta_chord: f64,
    /// Closed-form gain (consistent convention) with E = trained embedded, m = 1.
    pub gain_closed: f64,
    /// Finite-neighbour symmetric optimum at N: gain.
    pub finite_gain: Option<f64>,
    /// … its intercept.
    pub finite_intercept: Option<f64>,
    /// … its multiplicity.
    pub finite_multiplicity: Option<usize>,
    /// … its number embedded.
    pub finite_embed: Option<usize>,
    /// Gain of the best non-degenerate symmetric configuration (m = 1) at N.
    pub finite_gain_m1: Option<f64>,
}

/// Claims of the closed-form theory per n and convention.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ConventionFacts {
    /// n.
    pub n: usize,
    /// "consistent" or "note".
    pub convention: &'static str,
    /// First N at which m ≥ 2 beats m = 1 (`phase::transition`), up to `max_features`.
    pub transition: Option<u64>,
    /// The closed-form gain with m = 1 never decreases as E grows (E = 2…max_features).
    pub gain_increases_with_embed: bool,
}

/// The theory side of the evidence.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TheoryFacts {
    /// Per trained (n, N).
    pub at: Vec<TheoryAt>,
    /// Per n and convention.
    pub conventions: Vec<ConventionFacts>,
    /// Largest N searched for transitions.
    pub max_features: u64,
}

/// Everything the report is computed from.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// The L2 sweep, one entry per model.
    pub models: Vec<ModelFacts>,
    /// Dimension of the Huber sweep.
    pub huber_n: usize,
    /// The Huber sweep.
    pub huber: Vec<HuberFacts>,
    /// Theory.
    pub theory: TheoryFacts,
}

/// One row of the report / one element of `claims.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// 1…10 (SPEC §6).
    pub id: usize,
    /// The claim in the note's words.
    pub claim: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The rule that decided it: the criteria with their thresholds.
    pub rule: String,
    /// Measured numbers, and the outcome of each criterion.
    pub measured: Map<String, Value>,
}

/// Claims of SPEC §6, in order.
pub const CLAIMS: [&str; 10] = [
    "Models embed all or nearly all features up to N = 1024.",
    "Low dimensions (n = 2, 3, 4) go from non-degenerate to degenerate packing as N grows.",
    "In the non-degenerate regime θ_min is nearly the same for every feature and falls with N.",
    "Non-degenerate amplitudes are nearly uniform and grow with N; degenerate groups share an amplitude that falls with multiplicity.",
    "Pairwise angles follow the uniform density on the sphere, with a lattice peak near θ_min and no peak at π/2.",
    "The intercept approaches cos θ_min from below; in 8-D it is still visibly below.",
    "Gain stops growing with N once degeneracy develops (sub-optimal training) in 3-D and 4-D.",
    "Lowering Huber's δ moves the model from degenerate to non-degenerate packing, then to embedding fewer features.",
    "The θ_min law, the gain formula and the predicted transition agree with the trained models (by how much, in both conventions).",
    "\"n > 3 always embeds more features\" and \"n > 5 never prefers degeneracy\": true, false or convention-dependent.",
];

struct Builder {
    criteria: Vec<(String, bool)>,
    measured: Map<String, Value>,
}

impl Builder {
    fn new() -> Self {
        Builder {
            criteria: Vec::new(),
            measured: Map::new(),
        }
    }
    fn test(&mut self, text: impl Into<String>, passed: bool) {
        self.criteria.push((text.into(), passed));
    }
    fn put(&mut self, key: &str, v: Value) {
        self.measured.insert(key.to_string(), v);
    }
    fn finish(mut self, id: usize) -> Claim {
        let passed: Vec<bool> = self.criteria.iter().map(|c| c.1).collect();
        let verdict = Verdict::from_criteria(&passed);
        let rule = format!(
            "{}. Holds if every criterion passes, does not hold if none does, differs otherwise.",
            self.criteria
                .iter()
                .enumerate()
                .map(|(k, c)| format!("({}) {}", (b'a' + k as u8) as char, c.0))
                .collect::<Vec<_>>()
                .join("; ")
        );
        self.measured.insert(
            "criteria_passed".into(),
            Value::Array(passed.iter().map(|&p| Value::Bool(p)).collect()),
        );
        Claim {
            id,
            claim: CLAIMS[id - 1].to_string(),
            verdict,
            rule,
            measured: self.measured,
        }
    }
}

/// Rounds for the report: 4 significant digits, non-finite as null.
fn num(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    if x == 0.0 {
        return json!(0.0);
    }
    let d = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.d$}");
    s.parse::<f64>().map(|v| json!(v)).unwrap_or(Value::Null)
}

fn fraction(pass: usize, total: usize) -> f64 {
    if total == 0 {
        f64::NAN
    } else {
        pass as f64 / total as f64
    }
}

fn dims(models: &[ModelFacts]) -> Vec<usize> {
    let mut v: Vec<usize> = models.iter().map(|m| m.n).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn of_n(models: &[ModelFacts], n: usize) -> Vec<&ModelFacts> {
    let mut v: Vec<&ModelFacts> = models.iter().filter(|m| m.n == n).collect();
    v.sort_by_key(|m| m.features);
    v
}

/// Fraction of consecutive steps (by N, same n, among `keep`) where `f` moves in `dir`
/// (−1 falls, +1 grows), and the number of steps.
fn monotone_share(
    models: &[ModelFacts],
    keep: impl Fn(&ModelFacts) -> bool,
    f: impl Fn(&ModelFacts) -> f64,
    dir: f64,
) -> (f64, usize) {
    let (mut ok, mut total) = (0, 0);
    for n in dims(models) {
        let v: Vec<&ModelFacts> = of_n(models, n).into_iter().filter(|m| keep(m)).collect();
        for w in v.windows(2) {
            let (a, b) = (f(w[0]), f(w[1]));
            if a.is_finite() && b.is_finite() {
                total += 1;
                if (b - a) * dir > 0.0 {
                    ok += 1;
                }
            }
        }
    }
    (fraction(ok, total), total)
}

/// First N at which a model of dimension n is degenerate (mean multiplicity ≥ [`DEGENERATE`]).
pub fn observed_transition(models: &[ModelFacts], n: usize) -> Option<usize> {
    of_n(models, n)
        .into_iter()
        .find(|m| m.mean_multiplicity >= DEGENERATE)
        .map(|m| m.features)
}

/// Judges the ten claims.
pub fn assess(e: &Evidence) -> Vec<Claim> {
    let ms = &e.models;
    let mut out = Vec::new();

    // 1. Embedding.
    {
        let mut b = Builder::new();
        let total = ms.len();
        let nearly = ms.iter().filter(|m| m.embedded_fraction() >= 0.95).count();
        let min = ms
            .iter()
            .map(|m| m.embedded_fraction())
            .fold(f64::INFINITY, f64::min);
        let largest: Vec<Value> = dims(ms)
            .iter()
            .filter_map(|&n| of_n(ms, n).last().copied())
            .map(|m| json!({"n": m.n, "features": m.features, "embedded_fraction": num(m.embedded_fraction())}))
            .collect();
        let last_ok = dims(ms)
            .iter()
            .filter_map(|&n| of_n(ms, n).last().copied())
            .all(|m| m.embedded_fraction() >= 0.9);
        b.put("models", json!(total));
        b.put(
            "share_with_embedded_fraction_ge_0.95",
            num(fraction(nearly, total)),
        );
        b.put("min_embedded_fraction", num(min));
        b.put("largest_n_per_dim", Value::Array(largest));
        b.test(
            "E/N ≥ 0.95 in at least 90% of the models",
            total > 0 && fraction(nearly, total) >= 0.9,
        );
        b.test(
            "E/N ≥ 0.9 at the largest N of every n",
            total > 0 && last_ok,
        );
        out.push(b.finish(1));
    }

    // 2. Non-degenerate → degenerate at n = 2, 3, 4.
    {
        let mut b = Builder::new();
        for n in [2usize, 3, 4] {
            let v = of_n(ms, n);
            let (first, last) = (v.first(), v.last());
            let ok = matches!((first, last), (Some(f), Some(l)) if f.non_degenerate() && l.mean_multiplicity >= DEGENERATE);
            b.put(
                &format!("n{n}"),
                json!({
                    "smallest_features": first.map(|m| m.features),
                    "multiplicity_at_smallest": first.map(|m| num(m.mean_multiplicity)),
                    "largest_features": last.map(|m| m.features),
                    "multiplicity_at_largest": last.map(|m| num(m.mean_multiplicity)),
                    "first_degenerate_features": observed_transition(ms, n),
                }),
            );
            b.test(
                format!(
                    "n = {n}: mean multiplicity ≤ {NON_DEGENERATE} at the smallest N and ≥ {DEGENERATE} at the largest N"
                ),
                ok,
            );
        }
        out.push(b.finish(2));
    }

    // 3. θ_min uniform and falling in the non-degenerate regime.
    {
        let mut b = Builder::new();
        let nd: Vec<&ModelFacts> = ms
            .iter()
            .filter(|m| m.non_degenerate() && m.directions >= 4)
            .collect();
        let tight = nd.iter().filter(|m| m.theta_min_spread <= 0.3).count();
        let spreads: Vec<f64> = nd.iter().map(|m| m.theta_min_spread).collect();
        let (fall, steps) = monotone_share(
            ms,
            |m| m.non_degenerate() && m.directions >= 2,
            |m| m.theta_min_median,
            -1.0,
        );
        b.put("non_degenerate_models", json!(nd.len()));
        b.put(
            "median_relative_spread",
            num(median(spreads).unwrap_or(f64::NAN)),
        );
        b.put("share_with_spread_le_0.3", num(fraction(tight, nd.len())));
        b.put("share_of_steps_where_theta_min_falls", num(fall));
        b.put("steps", json!(steps));
        b.test(
            "in ≥ 75% of non-degenerate models (D ≥ 4) the per-direction θ_min spread (p90 − p10)/median is ≤ 0.3",
            !nd.is_empty() && fraction(tight, nd.len()) >= 0.75,
        );
        b.test(
            "the median θ_min falls in ≥ 80% of the steps N → next N between non-degenerate models of the same n",
            steps > 0 && fall >= 0.8,
        );
        out.push(b.finish(3));
    }

    // 4. Amplitudes.
    {
        let mut b = Builder::new();
        let low = |m: &ModelFacts| m.n == 3 || m.n == 4;
        let nd: Vec<&ModelFacts> = ms.iter().filter(|m| low(m) && m.non_degenerate()).collect();
        let uniform = nd.iter().filter(|m| m.amplitude_cv <= 0.1).count();
        let (grow, steps) = monotone_share(
            ms,
            |m| low(m) && m.non_degenerate(),
            |m| m.amplitude_median,
            1.0,
        );
        let dg: Vec<&ModelFacts> = ms
            .iter()
            .filter(|m| low(m) && m.mean_multiplicity >= DEGENERATE)
            .collect();
        let gcv = median(dg.iter().filter_map(|m| m.group_amplitude_cv).collect());
        let corr = median(
            dg.iter()
                .filter_map(|m| m.amplitude_multiplicity_correlation)
                .collect(),
        );
        b.put("non_degenerate_models_n3_n4", json!(nd.len()));
        b.put(
            "median_amplitude_cv_non_degenerate",
            num(median(nd.iter().map(|m| m.amplitude_cv).collect()).unwrap_or(f64::NAN)),
        );
        b.put("share_of_steps_where_amplitude_grows", num(grow));
        b.put("degenerate_models_n3_n4", json!(dg.len()));
        b.put(
            "median_within_group_amplitude_cv",
            num(gcv.unwrap_or(f64::NAN)),
        );
        b.put(
            "median_spearman_multiplicity_vs_amplitude",
            num(corr.unwrap_or(f64::NAN)),
        );
        b.test(
            "n = 3, 4: amplitude coefficient of variation ≤ 0.1 in ≥ 75% of non-degenerate models",
            !nd.is_empty() && fraction(uniform, nd.len()) >= 0.75,
        );
        b.test(
            "n = 3, 4: the median amplitude grows in ≥ 80% of the steps between non-degenerate models",
            steps > 0 && grow >= 0.8,
        );
        b.test(
            "n = 3, 4, degenerate models: median within-group amplitude CV ≤ 0.1",
            gcv.is_some_and(|g| g <= 0.1),
        );
        b.test(
            "n = 3, 4, degenerate models: median Spearman correlation of multiplicity and amplitude over directions < 0",
            corr.is_some_and(|c| c < 0.0),
        );
        out.push(b.finish(4));
    }

    // 5. Pairwise angles.
    {
        let mut b = Builder::new();
        let el: Vec<(&ModelFacts, AngleStats)> = ms
            .iter()
            .filter(|m| m.n >= 3 && m.non_degenerate() && m.directions >= 32)
            .filter_map(|m| Some((m, m.angle_stats?)))
            .collect();
        let share = |f: &dyn Fn(&AngleStats) -> bool| {
            fraction(el.iter().filter(|(_, s)| f(s)).count(), el.len())
        };
        let tv = share(&|s| s.tv_distance <= 0.3);
        let peak = share(&|s| s.peak_ratio >= 1.5);
        let right = share(&|s| s.right_angle_ratio <= 1.25);
        b.put("models_tested", json!(el.len()));
        b.put(
            "median_tv_distance",
            num(median(el.iter().map(|e| e.1.tv_distance).collect()).unwrap_or(f64::NAN)),
        );
        b.put(
            "median_peak_ratio_near_theta_min",
            num(median(el.iter().map(|e| e.1.peak_ratio).collect()).unwrap_or(f64::NAN)),
        );
        b.put(
            "median_ratio_at_right_angle",
            num(median(el.iter().map(|e| e.1.right_angle_ratio).collect()).unwrap_or(f64::NAN)),
        );
        b.test(
            "total-variation distance to the uniform density ≤ 0.3 in ≥ 75% of non-degenerate models with n ≥ 3, D ≥ 32",
            tv >= 0.75,
        );
        b.test(
            "observed/uniform mass in [0.9, 1.2]·θ_min ≥ 1.5 in ≥ 75% of them",
            peak >= 0.75,
        );
        b.test(
            "observed/uniform mass in [85°, 95°] ≤ 1.25 in ≥ 75% of them",
            right >= 0.75,
        );
        out.push(b.finish(5));
    }

    // 6. Intercept.
    {
        let mut b = Builder::new();
        let el: Vec<&ModelFacts> = ms
            .iter()
            .filter(|m| m.n >= 3 && m.non_degenerate() && m.directions >= 8)
            .collect();
        let below = el
            .iter()
            .filter(|m| m.intercept_median < m.cos_theta_min_median)
            .count();
        let rel: Vec<f64> = el
            .iter()
            .map(|m| (m.cos_theta_min_median - m.intercept_median) / m.cos_theta_min_median.abs())
            .collect();
        let gap8: Vec<f64> = el
            .iter()
            .filter(|m| m.n == 8)
            .map(|m| m.cos_theta_min_median - m.intercept_median)
            .collect();
        let per_n: Vec<Value> = dims(ms)
            .iter()
            .filter_map(|&n| {
                let g: Vec<f64> = el
                    .iter()
                    .filter(|m| m.n == n)
                    .map(|m| m.cos_theta_min_median - m.intercept_median)
                    .collect();
                Some(json!({"n": n, "median_gap_cos_minus_intercept": num(median(g)?)}))
            })
            .collect();
        let rel_med = median(rel).unwrap_or(f64::NAN);
        let gap8_med = median(gap8);
        b.put("models_tested", json!(el.len()));
        b.put("share_below_cos_theta_min", num(fraction(below, el.len())));
        b.put("median_relative_gap", num(rel_med));
        b.put("per_n", Value::Array(per_n));
        b.put("n8_median_gap", num(gap8_med.unwrap_or(f64::NAN)));
        b.test(
            "intercept median < cos θ_min in ≥ 75% of non-degenerate models with n ≥ 3, D ≥ 8",
            !el.is_empty() && fraction(below, el.len()) >= 0.75,
        );
        b.test(
            "it approaches: median relative gap (cos θ_min − intercept)/cos θ_min ≤ 0.25",
            rel_med <= 0.25,
        );
        b.test(
            "n = 8: median gap cos θ_min − intercept ≥ 0.02 (visibly below)",
            gap8_med.is_some_and(|g| g >= 0.02),
        );
        out.push(b.finish(6));
    }

    // 7. Gain stops growing once degeneracy develops.
    {
        let mut b = Builder::new();
        let mut per_n = Vec::new();
        let mut found = [false; 2];
        let mut all_degenerate = true;
        for n in dims(ms) {
            let v = of_n(ms, n);
            let pts: Vec<(usize, f64)> = v.iter().map(|m| (m.features, m.gain)).collect();
            let bad = crate::plot::suboptimal(&pts, 1e-3);
            let bad_n: Vec<usize> = bad.iter().map(|&i| v[i].features).collect();
            let degenerate_bad = bad
                .iter()
                .filter(|&&i| v[i].mean_multiplicity >= NON_DEGENERATE)
                .count();
            if n == 3 || n == 4 {
                found[n - 3] = !bad.is_empty();
                all_degenerate &= degenerate_bad == bad.len();
            }
            per_n.push(
                json!({"n": n, "suboptimal_features": bad_n, "of_which_degenerate": degenerate_bad,
                "gain_at_largest": v.last().map(|m| num(m.gain))}),
            );
        }
        b.put("per_n", Value::Array(per_n));
        // Beside the note's test: degenerate models against the symmetric optimum at their N.
        let vs_opt: Vec<Value> = ms
            .iter()
            .filter(|m| m.mean_multiplicity > NON_DEGENERATE)
            .filter_map(|m| {
                let t = e
                    .theory
                    .at
                    .iter()
                    .find(|t| t.n == m.n && t.features == m.features)?;
                let opt = t.finite_gain?;
                Some(json!({"n": m.n, "features": m.features,
                    "trained_gain_over_symmetric_optimum": num(m.gain / opt)}))
            })
            .collect();
        b.put(
            "degenerate_models_vs_symmetric_optimum",
            Value::Array(vs_opt),
        );
        b.test(
            "n = 3: some model's gain is below that of a model with fewer features (by > 0.1%)",
            found[0],
        );
        b.test("n = 4: the same", found[1]);
        b.test(
            "every such sub-optimal model at n = 3, 4 is degenerate (mean multiplicity > 1.1)",
            (found[0] || found[1]) && all_degenerate,
        );
        out.push(b.finish(7));
    }

    // 8. Huber.
    {
        let mut b = Builder::new();
        let mut ns: Vec<usize> = e.huber.iter().map(|h| h.features).collect();
        ns.sort_unstable();
        ns.dedup();
        let (mut deg_top, mut nd_mid, mut fewer_low) = (0, 0, 0);
        let mut rows = Vec::new();
        for &nf in &ns {
            let mut v: Vec<&HuberFacts> = e.huber.iter().filter(|h| h.features == nf).collect();
            v.sort_by(|a, b| b.delta.total_cmp(&a.delta));
            let (top, low) = (v[0], v[v.len() - 1]);
            let mid = v
                .iter()
                .any(|h| h.mean_multiplicity <= NON_DEGENERATE && h.embedded_fraction >= 0.95);
            deg_top += usize::from(top.mean_multiplicity >= 1.3);
            nd_mid += usize::from(mid);
            fewer_low += usize::from(low.embedded_fraction < 0.95);
            rows.push(json!({"features": nf,
                "delta_max": top.delta, "multiplicity_at_delta_max": num(top.mean_multiplicity),
                "embedded_fraction_at_delta_max": num(top.embedded_fraction),
                "non_degenerate_full_embedding_at_some_delta": mid,
                "delta_min": low.delta, "multiplicity_at_delta_min": num(low.mean_multiplicity),
                "embedded_fraction_at_delta_min": num(low.embedded_fraction)}));
        }
        let half = |k: usize| !ns.is_empty() && 2 * k >= ns.len();
        b.put("n", json!(e.huber_n));
        b.put("per_features", Value::Array(rows));
        b.test(
            "at the largest δ the model is degenerate (mean multiplicity ≥ 1.3) for at least half of the N",
            half(deg_top),
        );
        b.test(
            "some δ gives non-degenerate packing (≤ 1.1) with E/N ≥ 0.95, for at least half of the N",
            half(nd_mid),
        );
        b.test(
            "at the smallest δ fewer features are embedded (E/N < 0.95), for at least half of the N",
            half(fewer_low),
        );
        out.push(b.finish(8));
    }

    // 9. Theory vs simulation.
    {
        let mut b = Builder::new();
        let at = |m: &ModelFacts| {
            e.theory
                .at
                .iter()
                .find(|t| t.n == m.n && t.features == m.features)
        };
        let nd: Vec<(&ModelFacts, &TheoryAt)> = ms
            .iter()
            .filter(|m| m.n >= 3 && m.non_degenerate() && m.directions >= 4)
            .filter_map(|m| Some((m, at(m)?)))
            .collect();
        let within = nd
            .iter()
            .filter(|(m, t)| {
                m.theta_min_median >= 0.8 * t.theta_small
                    && m.theta_min_median <= 1.2 * t.theta_chord
            })
            .count();
        let mut per_n = Vec::new();
        for n in dims(ms) {
            let v: Vec<&(&ModelFacts, &TheoryAt)> = nd.iter().filter(|p| p.0.n == n).collect();
            if v.is_empty() {
                continue;
            }
            per_n.push(json!({
                "n": n,
                "median_theta_trained_over_small_angle_law": num(median(v.iter().map(|p| p.0.theta_min_median / p.1.theta_small).collect()).unwrap_or(f64::NAN)),
                "median_theta_trained_over_chord_law": num(median(v.iter().map(|p| p.0.theta_min_median / p.1.theta_chord).collect()).unwrap_or(f64::NAN)),
                "median_gain_trained_over_closed_form": num(median(v.iter().map(|p| p.0.gain / p.1.gain_closed).collect()).unwrap_or(f64::NAN)),
            }));
        }
        let gain_ok = nd
            .iter()
            .filter(|(m, t)| {
                t.gain_closed > 0.0 && (0.8..=1.25).contains(&(m.gain / t.gain_closed))
            })
            .count();
        b.put("non_degenerate_models", json!(nd.len()));
        b.put(
            "share_theta_within_law_band_20pct",
            num(fraction(within, nd.len())),
        );
        b.put("share_gain_within_25pct", num(fraction(gain_ok, nd.len())));
        b.put("per_n", Value::Array(per_n));
        b.test(
            "trained median θ_min within [0.8 × small-angle law, 1.2 × chord law] (D = trained directions) in ≥ 75% of non-degenerate models with n ≥ 3",
            !nd.is_empty() && fraction(within, nd.len()) >= 0.75,
        );
        b.test(
            "trained gain / closed-form gain (E = trained, m = 1, consistent) within [0.8, 1.25] in ≥ 75% of them",
            !nd.is_empty() && fraction(gain_ok, nd.len()) >= 0.75,
        );
        let mut trans = Vec::new();
        for conv in ["consistent", "note"] {
            let mut ok = 0;
            let mut tested = 0;
            for n in [2usize, 3, 4] {
                let obs = observed_transition(ms, n);
                let pred = e
                    .theory
                    .conventions
                    .iter()
                    .find(|c| c.n == n && c.convention == conv)
                    .and_then(|c| c.transition);
                if let Some(o) = obs {
                    tested += 1;
                    if pred
                        .is_some_and(|p| (p as f64) <= 2.0 * o as f64 && 2.0 * p as f64 >= o as f64)
                    {
                        ok += 1;
                    }
                }
                trans.push(json!({"n": n, "convention": conv, "predicted_transition": pred, "observed_first_degenerate": obs}));
            }
            b.test(
                format!("{conv} convention: the predicted transition N is within a factor 2 of the first degenerate trained N for every n ∈ {{2, 3, 4}} that has one"),
                tested > 0 && ok == tested,
            );
        }
        b.put("transitions", Value::Array(trans));
        out.push(b.finish(9));
    }

    // 10. n > 3 embeds more, n > 5 never degenerate.
    {
        let mut b = Builder::new();
        let mut status = Map::new();
        let mut rows = Vec::new();
        for (name, range, pick) in [
            ("n > 3 always embeds more features", 4usize, 0),
            ("n > 5 never prefers degeneracy", 6usize, 1),
        ] {
            let mut by_conv = Map::new();
            for conv in ["consistent", "note"] {
                let v: Vec<&ConventionFacts> = e
                    .theory
                    .conventions
                    .iter()
                    .filter(|c| c.convention == conv && c.n >= range)
                    .collect();
                let holds = !v.is_empty()
                    && v.iter().all(|c| {
                        if pick == 0 {
                            c.gain_increases_with_embed
                        } else {
                            c.transition.is_none()
                        }
                    });
                let counter: Vec<usize> = v
                    .iter()
                    .filter(|c| {
                        if pick == 0 {
                            !c.gain_increases_with_embed
                        } else {
                            c.transition.is_some()
                        }
                    })
                    .map(|c| c.n)
                    .collect();
                // Smallest n from which the statement holds for every checked larger n.
                let mut all: Vec<&ConventionFacts> = e
                    .theory
                    .conventions
                    .iter()
                    .filter(|c| c.convention == conv)
                    .collect();
                all.sort_by_key(|c| std::cmp::Reverse(c.n));
                let mut from = None;
                for c in all {
                    let ok = if pick == 0 {
                        c.gain_increases_with_embed
                    } else {
                        c.transition.is_none()
                    };
                    if !ok {
                        break;
                    }
                    from = Some(c.n);
                }
                by_conv.insert(conv.into(), json!(holds));
                let checked: Vec<usize> = v.iter().map(|c| c.n).collect();
                rows.push(json!({"statement": name, "convention": conv, "true": holds,
                    "holds_from_n": from, "counterexamples_n": counter,
                    "dims_checked": format!("{}…{}", checked.first().copied().unwrap_or(0),
                        checked.last().copied().unwrap_or(0))}));
                b.test(
                    format!("\"{name}\" holds in the {conv} convention for every checked n (closed form, N ≤ {})", e.theory.max_features),
                    holds,
                );
            }
            let t: Vec<bool> = ["consistent", "note"]
                .iter()
                .map(|c| by_conv[*c].as_bool().unwrap_or(false))
                .collect();
            let word = match (t[0], t[1]) {
                (true, true) => "true",
                (false, false) => "false",
                _ => "convention-dependent",
            };
            status.insert(name.into(), json!(word));
        }
        let trained: Vec<Value> = ms
            .iter()
            .filter(|m| m.n >= 6)
            .map(|m| json!({"n": m.n, "features": m.features, "mean_multiplicity": num(m.mean_multiplicity)}))
            .collect();
        let trained_nd = ms.iter().filter(|m| m.n >= 6).all(|m| m.non_degenerate());
        b.put("status", Value::Object(status));
        b.put("theory", Value::Array(rows));
        b.put("trained_n_ge_6_all_non_degenerate", json!(trained_nd));
        b.put("trained_n_ge_6", Value::Array(trained));
        out.push(b.finish(10));
    }
    out
}

/// Everything in the report's section "Beyond the note", as plain numbers.
#[derive(Debug, Clone, Default)]
pub struct Beyond {
    /// Transitions in both conventions per n: `(n, consistent, note)`.
    pub transitions: Vec<(usize, Option<u64>, Option<u64>)>,
    /// Intercept at the largest n (8 in the note): `(N, trained median, cos θ_min median,
    /// finite-neighbour optimum)`.
    pub intercept: Vec<(usize, f64, f64, Option<f64>)>,
    /// The n of `intercept`.
    pub intercept_n: usize,
    /// Degeneracy optimality: `(n, N, trained gain, trained multiplicity, symmetric optimum
    /// gain, its multiplicity, best non-degenerate symmetric gain, structured-start gain)`.
    pub degeneracy: Vec<DegeneracyRow>,
}

/// One row of the "is degeneracy optimal" table.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DegeneracyRow {
    /// n.
    pub n: usize,
    /// N.
    pub features: usize,
    /// Trained gain.
    pub trained_gain: f64,
    /// Trained mean multiplicity.
    pub trained_multiplicity: f64,
    /// Finite-neighbour symmetric optimum gain.
    pub symmetric_gain: Option<f64>,
    /// … its multiplicity.
    pub symmetric_multiplicity: Option<usize>,
    /// Best non-degenerate (m = 1) symmetric gain.
    pub symmetric_m1_gain: Option<f64>,
    /// Gain of the model polished from the non-degenerate structured start alone (the
    /// trainer's `spread` start at N), if measured in this run.
    pub structured_gain: Option<f64>,
}

fn fmt(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Number(x) => x.to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) if a.is_empty() => "none".into(),
        Value::Array(a) => a.iter().map(fmt).collect::<Vec<_>>().join(", "),
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| k.as_str() != "criteria_passed")
            .map(|(k, v)| format!("{k}: {}", fmt(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn opt(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.4}"),
        _ => "—".into(),
    }
}

/// Renders the report as Markdown. `header` is prepended (what was run, how long).
pub fn markdown(header: &str, claims: &[Claim], beyond: &Beyond, figures: &[&str]) -> String {
    let mut s = String::new();
    s.push_str("# superpose — reproduction report\n\n");
    s.push_str(header);
    s.push_str("\n\n## Verdicts\n\n");
    s.push_str(
        "Each claim is split into criteria with stated thresholds; a claim **holds** if every \
         criterion passes, **does not hold** if none does, and **differs** otherwise. A \
         criterion with nothing to test (no model in the regime it speaks about) fails, and its \
         numbers show as —. Every number below is computed from this run's models and the \
         theory; none is typed in.\n\n",
    );
    s.push_str("| # | claim | verdict | criteria passed |\n|---|---|---|---|\n");
    for c in claims {
        let passed = match c.measured.get("criteria_passed") {
            Some(Value::Array(p)) => format!(
                "{} of {}",
                p.iter().filter(|v| v.as_bool() == Some(true)).count(),
                p.len()
            ),
            _ => "—".into(),
        };
        s.push_str(&format!(
            "| {} | {} | **{}** | {passed} |\n",
            c.id,
            c.claim,
            c.verdict.as_str()
        ));
    }
    s.push_str("\n## Claims in detail\n\n");
    for c in claims {
        s.push_str(&format!("### {}. {}\n\n", c.id, c.claim));
        s.push_str(&format!("**Verdict: {}.**\n\n", c.verdict.as_str()));
        s.push_str(&format!("Rule: {}\n\n", c.rule));
        if let Some(Value::Array(p)) = c.measured.get("criteria_passed") {
            let w: Vec<String> = p
                .iter()
                .enumerate()
                .map(|(k, v)| {
                    format!(
                        "({}) {}",
                        (b'a' + k as u8) as char,
                        if v.as_bool() == Some(true) {
                            "pass"
                        } else {
                            "fail"
                        }
                    )
                })
                .collect();
            s.push_str(&format!("Criteria: {}.\n\n", w.join(", ")));
        }
        s.push_str("Measured:\n\n");
        for (k, v) in &c.measured {
            if k == "criteria_passed" {
                continue;
            }
            match v {
                Value::Array(a) if a.iter().all(|x| x.is_object()) && !a.is_empty() => {
                    s.push_str(&format!("- `{k}`:\n"));
                    for x in a {
                        s.push_str(&format!("  - {}\n", fmt(x)));
                    }
                }
                _ => s.push_str(&format!("- `{k}`: {}\n", fmt(v))),
            }
        }
        s.push('\n');
    }
    s.push_str("## Beyond the note\n\n");
    s.push_str("### The n_deg convention mix-up\n\n");
    s.push_str(
        "The note's loss uses `n_deg + 1` where its θ law uses `n_deg` as the multiplicity. \
         Predicted transition (first N at which m ≥ 2 beats m = 1), closed form, L2:\n\n",
    );
    s.push_str("| n | consistent (m everywhere) | note's mixture |\n|---|---|---|\n");
    for (n, a, b) in &beyond.transitions {
        let f = |x: &Option<u64>| x.map_or("none".to_string(), |v| v.to_string());
        s.push_str(&format!("| {n} | {} | {} |\n", f(a), f(b)));
    }
    s.push_str(&format!(
        "\n### The finite-neighbour intercept (n = {})\n\n",
        beyond.intercept_n
    ));
    s.push_str(&format!(
        "Trained median intercept against cos θ_min (trained median) and the intercept of the \
         finite-neighbour symmetric optimum (`symmetric::optimize`, K = kissing number in d = {}):\n\n",
        beyond.intercept_n.saturating_sub(1)
    ));
    s.push_str(
        "| N | trained intercept | cos θ_min | finite-neighbour optimum |\n|---|---|---|---|\n",
    );
    for (nf, t, c, f) in &beyond.intercept {
        s.push_str(&format!(
            "| {nf} | {} | {} | {} |\n",
            opt(Some(*t)),
            opt(Some(*c)),
            opt(*f)
        ));
    }
    s.push_str("\n### Is degeneracy optimal?\n\n");
    s.push_str(
        "Trained gain against the best symmetric configuration (finite neighbours, any m), \
         the best non-degenerate one (m = 1), and the model trained from the non-degenerate \
         structured start alone (\"—\" when the model was read back from an earlier run), for \
         the degenerate trained models (mean multiplicity > 1.1):\n\n",
    );
    s.push_str("| n | N | trained gain | trained m̄ | symmetric optimum | its m | best m = 1 | structured start |\n|---|---|---|---|---|---|---|---|\n");
    for r in &beyond.degeneracy {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.n,
            r.features,
            opt(Some(r.trained_gain)),
            opt(Some(r.trained_multiplicity)),
            opt(r.symmetric_gain),
            r.symmetric_multiplicity
                .map_or("—".into(), |m| m.to_string()),
            opt(r.symmetric_m1_gain),
            opt(r.structured_gain)
        ));
    }
    if !figures.is_empty() {
        s.push_str("\n## Figures\n\n");
        for f in figures {
            s.push_str(&format!("- [{f}](figures/{f}.png)\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_rule() {
        assert_eq!(Verdict::from_criteria(&[true, true]), Verdict::Holds);
        assert_eq!(Verdict::from_criteria(&[true, false]), Verdict::Differs);
        assert_eq!(
            Verdict::from_criteria(&[false, false]),
            Verdict::DoesNotHold
        );
        assert_eq!(Verdict::from_criteria(&[]), Verdict::DoesNotHold);
        assert_eq!(
            serde_json::to_string(&Verdict::DoesNotHold).unwrap(),
            "\"does not hold\""
        );
    }

    #[test]
    fn uniform_mass_integrates_to_one() {
        for n in [2usize, 3, 4, 8] {
            let m = uniform_mass(n, 0.0, std::f64::consts::PI);
            assert!((m - 1.0).abs() < 1e-6, "n = {n}: {m}");
        }
        // n = 3: p(θ) = sin θ / 2, mass in [0, π/2] = 1/2.
        assert!((uniform_mass(3, 0.0, std::f64::consts::FRAC_PI_2) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn spearman_of_monotone_and_tied_data() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[3.0, 2.0, 1.0]), None);
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!(r > 0.9 && r < 1.0);
    }

    /// Random uniform directions follow the uniform density: small TV distance, ratios ≈ 1.
    #[test]
    fn angle_stats_of_random_directions() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let n = 4;
        let dirs: Vec<Vec<f64>> = (0..400)
            .map(|_| {
                let v: Vec<f64> = (0..n)
                    .map(|_| rng.sample(rand_distr::StandardNormal))
                    .collect();
                let a = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                v.into_iter().map(|x| x / a).collect()
            })
            .collect();
        let s = AngleStats::of(n, &pairwise_angles(&dirs), 1.0).unwrap();
        assert!(s.tv_distance < 0.05, "{s:?}");
        assert!((s.right_angle_ratio - 1.0).abs() < 0.1, "{s:?}");
        assert!((s.peak_ratio - 1.0).abs() < 0.1, "{s:?}");
    }

    /// The TV criterion does not flag small random (uniform) sets: 32 directions (496 pairs)
    /// on S² stay well below the 0.3 threshold, over several seeds.
    #[test]
    fn tv_of_small_uniform_sets_is_below_the_threshold() {
        use rand::{Rng, SeedableRng};
        for seed in 0..5 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let dirs: Vec<Vec<f64>> = (0..32)
                .map(|_| {
                    let v: Vec<f64> = (0..3)
                        .map(|_| rng.sample(rand_distr::StandardNormal))
                        .collect();
                    let a = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                    v.into_iter().map(|x| x / a).collect()
                })
                .collect();
            let s = AngleStats::of(3, &pairwise_angles(&dirs), 0.5).unwrap();
            assert!(s.tv_distance < 0.2, "seed {seed}: {s:?}");
        }
    }

    fn model(n: usize, features: usize, directions: usize, gain: f64) -> ModelView {
        // Regular polygon in 2-D embedded in n dims; `features / directions` copies each.
        let mut w = Vec::new();
        for i in 0..features {
            let a = (i % directions) as f64 * std::f64::consts::TAU / directions as f64;
            let mut v = vec![0.0; n];
            v[0] = a.cos();
            v[1] = a.sin();
            w.push(v);
        }
        let _ = gain;
        ModelView {
            n,
            w,
            b: vec![-0.5; features],
        }
    }

    #[test]
    fn facts_of_a_degenerate_polygon() {
        let f = ModelFacts::from_model(&model(2, 12, 4, 1.0), 1.0, None);
        assert_eq!(f.embedded, 12);
        assert_eq!(f.directions, 4);
        assert_eq!(f.mean_multiplicity, 3.0);
        assert!((f.theta_min_median - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert!(f.theta_min.iter().all(|&t| t == 0.0));
        assert_eq!(f.amplitude_cv, 0.0);
        assert_eq!(f.group_amplitude_cv, Some(0.0));
        assert_eq!(f.intercept_median, 0.5);
    }

    fn evidence(degenerate_at_large_n: bool) -> Evidence {
        let mut models = Vec::new();
        for n in [2usize, 3, 4, 8] {
            for (k, nf) in [8usize, 16, 32, 64].into_iter().enumerate() {
                let d = if degenerate_at_large_n && n <= 4 && nf >= 32 {
                    nf / 4
                } else {
                    nf
                };
                let mut f = ModelFacts::from_model(&model(n, nf, d, 1.0), (k + 1) as f64, None);
                f.gain = (k + 1) as f64;
                models.push(f);
            }
        }
        Evidence {
            models,
            ..Default::default()
        }
    }

    #[test]
    fn claims_follow_the_data() {
        let c = assess(&evidence(true));
        assert_eq!(c.len(), 10);
        assert!(c
            .iter()
            .enumerate()
            .all(|(k, c)| c.id == k + 1 && !c.rule.is_empty()));
        // Everything embedded.
        assert_eq!(c[0].verdict, Verdict::Holds);
        // n = 2, 3, 4 degenerate at the largest N.
        assert_eq!(c[1].verdict, Verdict::Holds);
        // Gains always grow: no sub-optimal model.
        assert_eq!(c[6].verdict, Verdict::DoesNotHold);
        let c = assess(&evidence(false));
        assert_eq!(c[1].verdict, Verdict::DoesNotHold);
        // The JSON is well formed and has a verdict for each claim.
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(j.as_array().unwrap().len(), 10);
        assert!(j
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["verdict"].is_string()));
    }

    #[test]
    fn markdown_lists_every_claim() {
        let c = assess(&evidence(true));
        let md = markdown("header", &c, &Beyond::default(), &["theta_min"]);
        for k in 1..=10 {
            assert!(md.contains(&format!("### {k}. ")), "claim {k}");
        }
        assert!(md.contains("figures/theta_min.png"));
        assert!(!md.contains("NaN"));
    }
}
