//! What the study needs to know about one trained model, read from the trainer's one
//! diagnostics pass ([`crate::toy::Diagnostics`]): no geometry is recomputed here except the
//! pairwise angles between the direction unit vectors the diagnostics already found.

use serde::Serialize;

use crate::sphere::angle_density;
use crate::stats::{cv, median, quantile_of, spearman};
use crate::toy::Diagnostics;

/// A model counts as non-degenerate when its mean multiplicity is at most this (10 % of the
/// directions may carry a second feature: the trainer leaves a few near-copies at large N).
pub const NON_DEGENERATE: f64 = 1.1;
/// A model counts as degenerate when its mean multiplicity is at least this (half of the
/// directions carry two features or more).
pub const DEGENERATE: f64 = 1.5;

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
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
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

/// All pairwise angles between unit vectors (i < j).
pub fn pairwise_angles(units: &[Vec<f64>]) -> Vec<f64> {
    let mut out = Vec::with_capacity(units.len() * units.len().saturating_sub(1) / 2);
    for i in 0..units.len() {
        for j in i + 1..units.len() {
            let c: f64 = units[i].iter().zip(&units[j]).map(|(a, b)| a * b).sum();
            out.push(c.clamp(-1.0, 1.0).acos());
        }
    }
    out
}

/// What the study needs to know about one trained model.
///
/// # Formula
///
/// From [`Diagnostics`]: embedded `|W_i|² + b_i > 0`; directions are the diagnostics'
/// clusters (single linkage at [`crate::toy::diagnostics::DIRECTION_THRESHOLD`]), each with
/// its unit vector and the angle `θ_min` to the nearest other direction; spread
/// `(q₀.₉ − q₀.₁)/median` of the per-direction θ_min; intercept `−b_i/|W_i|²`; coefficient of
/// variation `s/x̄` (sample standard deviation).
#[derive(Debug, Clone, Serialize, Default)]
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
    /// Largest multiplicity of a direction.
    pub max_multiplicity: usize,
    /// Trained gain `(l0 − L)·N`.
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
    /// Per direction: `(multiplicity, mean amplitude of its members)`.
    #[serde(skip)]
    pub direction_amplitudes: Vec<(f64, f64)>,
    /// Spearman correlation between multiplicity and mean amplitude over directions
    /// (`None` if the multiplicity does not vary).
    pub amplitude_multiplicity_correlation: Option<f64>,
    /// Pairwise angles between directions (radians).
    #[serde(skip)]
    pub pairwise: Vec<f64>,
    /// Pairwise-angle statistics.
    pub angle_stats: Option<AngleStats>,
}

impl ModelFacts {
    /// Facts of a trained model from its diagnostics (`n` the model dimension).
    pub fn of(n: usize, diag: &Diagnostics, gain: f64) -> Self {
        let features = diag.embedded.len();
        let dirs = &diag.directions;
        let dir_theta: Vec<f64> = dirs.iter().filter_map(|d| d.theta_min).collect();
        let theta_min_median = median(dir_theta.clone()).unwrap_or(f64::NAN);
        let spread = match (quantile_of(&dir_theta, 0.9), quantile_of(&dir_theta, 0.1)) {
            (Some(hi), Some(lo)) if theta_min_median > 0.0 => (hi - lo) / theta_min_median,
            _ => f64::NAN,
        };
        let emb: Vec<usize> = (0..features).filter(|&i| diag.embedded[i]).collect();
        let mult_of = |i: usize| {
            diag.direction_of[i]
                .and_then(|d| dirs.get(d))
                .map_or(1, |d| d.multiplicity.max(1))
        };
        let amps: Vec<f64> = emb.iter().map(|&i| diag.amplitude[i]).collect();
        let group_cvs: Vec<f64> = dirs
            .iter()
            .filter(|d| d.features.len() >= 2)
            .map(|d| {
                cv(&d
                    .features
                    .iter()
                    .map(|&i| diag.amplitude[i])
                    .collect::<Vec<_>>())
            })
            .collect();
        let direction_amplitudes: Vec<(f64, f64)> = dirs
            .iter()
            .filter(|d| !d.features.is_empty())
            .map(|d| {
                let a = d.features.iter().map(|&i| diag.amplitude[i]).sum::<f64>()
                    / d.features.len() as f64;
                (d.features.len() as f64, a)
            })
            .collect();
        let (gm, ga): (Vec<f64>, Vec<f64>) = direction_amplitudes.iter().copied().unzip();
        let directions = dirs.len();
        let embedded = emb.len();
        let units: Vec<Vec<f64>> = dirs.iter().map(|d| d.unit.clone()).collect();
        let pairwise = pairwise_angles(&units);
        let angle_stats = AngleStats::of(n, &pairwise, theta_min_median);
        let theta_min = emb
            .iter()
            .map(|&i| {
                if mult_of(i) >= 2 {
                    0.0
                } else {
                    diag.direction_of[i]
                        .and_then(|d| dirs[d].theta_min)
                        .unwrap_or(std::f64::consts::PI)
                }
            })
            .collect();
        ModelFacts {
            n,
            features,
            embedded,
            directions,
            mean_multiplicity: if directions > 0 {
                embedded as f64 / directions as f64
            } else {
                0.0
            },
            max_multiplicity: dirs.iter().map(|d| d.multiplicity).max().unwrap_or(0),
            gain,
            theta_min,
            theta_min_median,
            theta_min_spread: spread,
            intercept_median: median(emb.iter().filter_map(|&i| diag.intercept[i]).collect())
                .unwrap_or(f64::NAN),
            cos_theta_min_median: theta_min_median.cos(),
            amplitudes: emb
                .iter()
                .map(|&i| (diag.amplitude[i], mult_of(i)))
                .collect(),
            amplitude_median: median(amps.clone()).unwrap_or(f64::NAN),
            amplitude_cv: cv(&amps),
            group_amplitude_cv: median(group_cvs),
            amplitude_multiplicity_correlation: spearman(&gm, &ga),
            direction_amplitudes,
            pairwise,
            angle_stats,
        }
    }

    /// Mean multiplicity at most [`NON_DEGENERATE`].
    pub fn non_degenerate(&self) -> bool {
        self.mean_multiplicity <= NON_DEGENERATE
    }

    /// Mean multiplicity at least [`DEGENERATE`].
    pub fn degenerate(&self) -> bool {
        self.mean_multiplicity >= DEGENERATE
    }

    /// Fraction embedded E/N.
    pub fn embedded_fraction(&self) -> f64 {
        self.embedded as f64 / self.features.max(1) as f64
    }
}

/// One model of the Huber δ sweep.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct HuberFacts {
    /// Model dimension.
    pub n: usize,
    /// δ.
    pub delta: f64,
    /// N.
    pub features: usize,
    /// E/N.
    pub embedded_fraction: f64,
    /// E.
    pub embedded: usize,
    /// D.
    pub directions: usize,
    /// E/D.
    pub mean_multiplicity: f64,
    /// Largest multiplicity.
    pub max_multiplicity: usize,
}

impl HuberFacts {
    /// From the facts of a model trained with Huber's δ.
    pub fn of(delta: f64, f: &ModelFacts) -> Self {
        HuberFacts {
            n: f.n,
            delta,
            features: f.features,
            embedded_fraction: f.embedded_fraction(),
            embedded: f.embedded,
            directions: f.directions,
            mean_multiplicity: f.mean_multiplicity,
            max_multiplicity: f.max_multiplicity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::Model;
    use nalgebra::{DMatrix, DVector};

    #[test]
    fn uniform_mass_integrates_to_one() {
        for n in [2usize, 3, 4, 8] {
            let m = uniform_mass(n, 0.0, std::f64::consts::PI);
            assert!((m - 1.0).abs() < 1e-6, "n = {n}: {m}");
        }
        // n = 3: p(θ) = sin θ / 2, mass in [0, π/2] = 1/2.
        assert!((uniform_mass(3, 0.0, std::f64::consts::FRAC_PI_2) - 0.5).abs() < 1e-9);
    }

    fn random_units(n: usize, k: usize, seed: u64) -> Vec<Vec<f64>> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..k)
            .map(|_| {
                let v: Vec<f64> = (0..n)
                    .map(|_| rng.sample(rand_distr::StandardNormal))
                    .collect();
                let a = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                v.into_iter().map(|x| x / a).collect()
            })
            .collect()
    }

    /// Random uniform directions follow the uniform density: small TV distance, ratios ≈ 1.
    #[test]
    fn angle_stats_of_random_directions() {
        let s = AngleStats::of(4, &pairwise_angles(&random_units(4, 400, 7)), 1.0).unwrap();
        assert!(s.tv_distance < 0.05, "{s:?}");
        assert!((s.right_angle_ratio - 1.0).abs() < 0.1, "{s:?}");
        assert!((s.peak_ratio - 1.0).abs() < 0.1, "{s:?}");
    }

    /// The TV criterion does not flag small random (uniform) sets: 32 directions (496 pairs)
    /// on S² stay well below the 0.3 threshold, over several seeds.
    #[test]
    fn tv_of_small_uniform_sets_is_below_the_threshold() {
        for seed in 0..5 {
            let s = AngleStats::of(3, &pairwise_angles(&random_units(3, 32, seed)), 0.5).unwrap();
            assert!(s.tv_distance < 0.2, "seed {seed}: {s:?}");
        }
    }

    /// A square of directions in 2-D, each direction three times: the facts read from the
    /// diagnostics pass.
    #[test]
    fn facts_of_a_degenerate_polygon() {
        let (nf, d) = (12, 4);
        let w = DMatrix::from_fn(2, nf, |r, i| {
            let a = (i % d) as f64 * std::f64::consts::TAU / d as f64;
            if r == 0 {
                a.cos()
            } else {
                a.sin()
            }
        });
        let m = Model::new(w, DVector::from_element(nf, -0.5)).unwrap();
        let f = ModelFacts::of(2, &Diagnostics::of(&m), 1.0);
        assert_eq!(f.embedded, 12);
        assert_eq!(f.directions, 4);
        assert_eq!(f.mean_multiplicity, 3.0);
        assert_eq!(f.max_multiplicity, 3);
        assert!((f.theta_min_median - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert!(f.theta_min.iter().all(|&t| t == 0.0));
        assert_eq!(f.amplitude_cv, 0.0);
        assert_eq!(f.group_amplitude_cv, Some(0.0));
        assert_eq!(f.intercept_median, 0.5);
        assert!(f.degenerate() && !f.non_degenerate());
    }
}
