//! Diagnostics of a trained model (SPEC §4; the note's figures).

use serde::{Deserialize, Serialize};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::neighbours::KdTree;
use super::Model;
use crate::sphere::angle_density;

/// Two embedded features whose directions differ by less than this angle (radians) are one
/// direction. Degenerate copies at a polished minimum coincide to ~1e-6 rad, while distinct
/// directions in the note's sweep are ≥ 0.1 rad apart except in non-degenerate 2-D packings
/// of hundreds of directions (2π/N); 1e-2 rad (0.57°) separates the two cleanly.
pub const DIRECTION_THRESHOLD: f64 = 1e-2;

/// Number of bins of the pairwise-angle histogram over `[0, π]` (5° each).
pub const ANGLE_BINS: usize = 36;

/// Above this many embedded features (for clustering) or directions (for θ_min and the
/// histogram) the diagnostics go through a k-d tree ([`super::neighbours::KdTree`]) instead of
/// all pairs: clustering and θ_min are the same numbers, in `O(N log N)`; the pairwise-angle
/// histogram is then estimated from [`HIST_SAMPLES`] pairs drawn uniformly with replacement
/// (ChaCha8 seeded with [`HIST_SEED`]), so its `counts` sum to [`HIST_SAMPLES`] and its
/// `density` has a relative standard error of about `1/√count` per bin.
pub const INDEXED_FROM: usize = 4096;
/// Sampled pairs of the angle histogram above [`INDEXED_FROM`] directions.
pub const HIST_SAMPLES: usize = 1_000_000;
/// Seed of the sampled histogram.
pub const HIST_SEED: u64 = 0x5eed;

/// Per-feature, per-direction and histogram diagnostics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Diagnostics {
    /// `|W_i|² + b_i > 0`, per feature.
    pub embedded: Vec<bool>,
    /// `|W_i|`, per feature.
    pub amplitude: Vec<f64>,
    /// `−b_i/|W_i|²` for embedded features (null otherwise).
    pub intercept: Vec<Option<f64>>,
    /// Index into `directions` of each embedded feature's direction (null if not embedded).
    pub direction_of: Vec<Option<usize>>,
    /// Directions: clusters of embedded features (single linkage at [`DIRECTION_THRESHOLD`]).
    pub directions: Vec<Direction>,
    /// The threshold used for clustering, radians.
    pub direction_threshold: f64,
    /// Pairwise angles between distinct directions against the uniform density on `S^{n−1}`.
    pub angle_histogram: AngleHistogram,
}

/// One direction (a cluster of embedded features).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Direction {
    /// Member feature indices.
    pub features: Vec<usize>,
    /// Multiplicity (number of members).
    pub multiplicity: usize,
    /// Unit vector (normalised mean of the members' unit vectors).
    pub unit: Vec<f64>,
    /// Angle to the nearest other direction (null when there is only one).
    pub theta_min: Option<f64>,
}

/// Histogram of pairwise angles of distinct directions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AngleHistogram {
    /// `ANGLE_BINS + 1` bin edges over `[0, π]`.
    pub edges: Vec<f64>,
    /// Pair counts per bin (sampled pairs above [`INDEXED_FROM`] directions).
    pub counts: Vec<u64>,
    /// Empirical density: `count / (pairs · width)` (0 when there are no pairs).
    pub density: Vec<f64>,
    /// Uniform density `p(θ) = Γ(n/2)/(√π Γ((n−1)/2)) sin^{n−2}θ` at the bin centres.
    pub uniform: Vec<f64>,
}

/// Summary numbers (the `train` row).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Embedded features `E`.
    pub embedded: usize,
    /// `E / N`.
    pub fraction_embedded: f64,
    /// Distinct directions `D`.
    pub directions: usize,
    /// `E / D` (null when nothing is embedded).
    pub mean_multiplicity: Option<f64>,
    /// Median over directions of `θ_min`.
    pub theta_min_median: Option<f64>,
    /// Interquartile range over directions of `θ_min`.
    pub theta_min_spread: Option<f64>,
    /// Median over embedded features of `cos θ_min` of their direction.
    pub cos_theta_min_median: Option<f64>,
    /// Median over embedded features of `−b_i/|W_i|²`.
    pub intercept_median: Option<f64>,
    /// Median over embedded features of `|W_i|`.
    pub amplitude_median: Option<f64>,
}

pub use crate::stats::quantile;

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn angle(u: &[f64], v: &[f64]) -> f64 {
    let c: f64 = u.iter().zip(v).map(|(a, b)| a * b).sum();
    c.clamp(-1.0, 1.0).acos()
}

fn dot(u: &[f64], v: &[f64]) -> f64 {
    u.iter().zip(v).map(|(a, b)| a * b).sum()
}

fn find(p: &mut [usize], mut x: usize) -> usize {
    while p[x] != x {
        p[x] = p[p[x]];
        x = p[x];
    }
    x
}

impl Diagnostics {
    /// Computes the diagnostics of `model`.
    pub fn of(model: &Model) -> Self {
        Self::of_with(model, INDEXED_FROM)
    }

    /// As [`Diagnostics::of`], with the all-pairs / indexed switch at `indexed_from`.
    fn of_with(model: &Model, indexed_from: usize) -> Self {
        let (n, nf) = (model.n(), model.features());
        let mut embedded = vec![false; nf];
        let mut amplitude = vec![0.0; nf];
        let mut intercept = vec![None; nf];
        let mut units: Vec<Vec<f64>> = Vec::new();
        let mut idx = Vec::new();
        for i in 0..nf {
            let col = model.w.column(i);
            let k = col.norm_squared();
            amplitude[i] = k.sqrt();
            if k + model.b[i] > 0.0 {
                embedded[i] = true;
                intercept[i] = Some(-model.b[i] / k);
                units.push(col.iter().map(|x| x / k.sqrt()).collect());
                idx.push(i);
            }
        }
        // Single-linkage clustering of embedded unit vectors (all pairs, or a k-d tree ball
        // query of the threshold's chord for large models: the same clusters).
        let e = units.len();
        let mut parent: Vec<usize> = (0..e).collect();
        let cos_thr = DIRECTION_THRESHOLD.cos();
        if e > indexed_from {
            let flat: Vec<f64> = units.iter().flatten().copied().collect();
            let tree = KdTree::new(n, &flat, (0..e as u32).collect());
            let r2 = 2.0 * (1.0 - cos_thr);
            let links: Vec<Vec<u32>> = (0..e)
                .into_par_iter()
                .map(|a| {
                    let mut v = Vec::new();
                    tree.within(&units[a], r2 * (1.0 + 1e-9), &mut |b, _| {
                        let b = b as usize;
                        if b > a && dot(&units[a], &units[b]) > cos_thr {
                            v.push(b as u32);
                        }
                    });
                    v
                })
                .collect();
            for (a, v) in links.iter().enumerate() {
                for &b in v {
                    let (ra, rb) = (find(&mut parent, a), find(&mut parent, b as usize));
                    if ra != rb {
                        parent[ra.max(rb)] = ra.min(rb);
                    }
                }
            }
        } else {
            for a in 0..e {
                for b in a + 1..e {
                    let c: f64 = units[a].iter().zip(&units[b]).map(|(x, y)| x * y).sum();
                    if c > cos_thr {
                        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                        if ra != rb {
                            parent[ra.max(rb)] = ra.min(rb);
                        }
                    }
                }
            }
        }
        let mut root_dir = vec![usize::MAX; e];
        let mut directions: Vec<Direction> = Vec::new();
        let mut direction_of = vec![None; nf];
        for a in 0..e {
            let r = find(&mut parent, a);
            if root_dir[r] == usize::MAX {
                root_dir[r] = directions.len();
                directions.push(Direction {
                    features: Vec::new(),
                    multiplicity: 0,
                    unit: vec![0.0; n],
                    theta_min: None,
                });
            }
            let d = &mut directions[root_dir[r]];
            d.features.push(idx[a]);
            d.multiplicity += 1;
            for (s, x) in d.unit.iter_mut().zip(&units[a]) {
                *s += x;
            }
            direction_of[idx[a]] = Some(root_dir[r]);
        }
        for d in &mut directions {
            let norm = d.unit.iter().map(|x| x * x).sum::<f64>().sqrt();
            d.unit.iter_mut().for_each(|x| *x /= norm);
        }
        // θ_min per direction and the pairwise histogram.
        let width = std::f64::consts::PI / ANGLE_BINS as f64;
        let mut counts = vec![0u64; ANGLE_BINS];
        let nd = directions.len();
        let mut tmin = vec![f64::INFINITY; nd];
        if nd > indexed_from {
            // θ_min through the tree's nearest-other query; the histogram from HIST_SAMPLES
            // pairs drawn uniformly (seeded) among the nd(nd − 1)/2.
            let flat: Vec<f64> = directions.iter().flat_map(|d| d.unit.clone()).collect();
            let tree = KdTree::new(n, &flat, (0..nd as u32).collect());
            tmin.par_iter_mut().enumerate().for_each(|(a, t)| {
                if let Some((b, _)) = tree.nearest(&directions[a].unit, a as u32) {
                    *t = angle(&directions[a].unit, &directions[b as usize].unit);
                }
            });
            let mut rng = ChaCha8Rng::seed_from_u64(HIST_SEED);
            let mut drawn = 0;
            while drawn < HIST_SAMPLES {
                let (a, b) = (rng.random_range(0..nd), rng.random_range(0..nd));
                if a == b {
                    continue;
                }
                let t = angle(&directions[a].unit, &directions[b].unit);
                counts[((t / width) as usize).min(ANGLE_BINS - 1)] += 1;
                drawn += 1;
            }
        } else {
            for a in 0..nd {
                for b in a + 1..nd {
                    let t = angle(&directions[a].unit, &directions[b].unit);
                    tmin[a] = tmin[a].min(t);
                    tmin[b] = tmin[b].min(t);
                    counts[((t / width) as usize).min(ANGLE_BINS - 1)] += 1;
                }
            }
        }
        for (d, t) in directions.iter_mut().zip(&tmin) {
            d.theta_min = t.is_finite().then_some(*t);
        }
        let pairs: u64 = counts.iter().sum();
        let edges: Vec<f64> = (0..=ANGLE_BINS).map(|q| q as f64 * width).collect();
        let density = counts
            .iter()
            .map(|&c| {
                if pairs == 0 {
                    0.0
                } else {
                    c as f64 / (pairs as f64 * width)
                }
            })
            .collect();
        let uniform = (0..ANGLE_BINS)
            .map(|q| angle_density(n.max(2), (q as f64 + 0.5) * width))
            .collect();
        Diagnostics {
            embedded,
            amplitude,
            intercept,
            direction_of,
            directions,
            direction_threshold: DIRECTION_THRESHOLD,
            angle_histogram: AngleHistogram {
                edges,
                counts,
                density,
                uniform,
            },
        }
    }

    /// The summary numbers.
    pub fn summary(&self) -> Summary {
        let nf = self.embedded.len();
        let e = self.embedded.iter().filter(|&&x| x).count();
        let nd = self.directions.len();
        let tm = sorted(self.directions.iter().filter_map(|d| d.theta_min).collect());
        let mut cos_t = Vec::new();
        let mut icpt = Vec::new();
        let mut amp = Vec::new();
        for i in 0..nf {
            if let (Some(c), Some(d)) = (self.intercept[i], self.direction_of[i]) {
                icpt.push(c);
                amp.push(self.amplitude[i]);
                if let Some(t) = self.directions[d].theta_min {
                    cos_t.push(t.cos());
                }
            }
        }
        Summary {
            embedded: e,
            fraction_embedded: e as f64 / nf as f64,
            directions: nd,
            mean_multiplicity: (nd > 0).then(|| e as f64 / nd as f64),
            theta_min_median: quantile(&tm, 0.5),
            theta_min_spread: quantile(&tm, 0.75)
                .zip(quantile(&tm, 0.25))
                .map(|(a, b)| a - b),
            cos_theta_min_median: quantile(&sorted(cos_t), 0.5),
            intercept_median: quantile(&sorted(icpt), 0.5),
            amplitude_median: quantile(&sorted(amp), 0.5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, DVector};
    use std::f64::consts::PI;

    /// A regular hexagon of directions, each doubled, plus two dead features.
    #[test]
    fn hexagon_with_copies() {
        let nf = 14;
        let w = DMatrix::from_fn(2, nf, |r, i| {
            if i >= 12 {
                return 0.0;
            }
            let phi = (i / 2) as f64 * PI / 3.0;
            2.0 * if r == 0 { phi.cos() } else { phi.sin() }
        });
        let b = DVector::from_fn(nf, |i, _| if i >= 12 { -1.0 } else { -2.0 });
        let d = Diagnostics::of(&Model::new(w, b).unwrap());
        let s = d.summary();
        assert_eq!(s.embedded, 12);
        assert_eq!(s.directions, 6);
        assert_eq!(s.mean_multiplicity, Some(2.0));
        assert!((s.theta_min_median.unwrap() - PI / 3.0).abs() < 1e-12);
        assert!(s.theta_min_spread.unwrap().abs() < 1e-12);
        // intercept −b/|W|² = 2/4.
        assert!((s.intercept_median.unwrap() - 0.5).abs() < 1e-12);
        assert!((s.cos_theta_min_median.unwrap() - 0.5).abs() < 1e-12);
        // Hexagon pair angles: 6 at 60°, 6 at 120°, 3 at 180°.
        let h = &d.angle_histogram;
        assert_eq!(h.counts.iter().sum::<u64>(), 15);
        // 60° and 120° sit on bin edges: rounding may put them on either side.
        assert_eq!(h.counts[11] + h.counts[12], 6);
        assert_eq!(h.counts[23] + h.counts[24], 6);
        assert_eq!(h.counts[35], 3); // 180° lands in the last bin
        assert!((h.uniform[0] - 1.0 / PI).abs() < 1e-12);
    }

    #[test]
    fn nearly_parallel_features_merge_and_separated_ones_do_not() {
        let t = DIRECTION_THRESHOLD;
        let angles = [0.0, 0.3 * t, 5.0 * t];
        let w = DMatrix::from_fn(2, 3, |r, i| {
            if r == 0 {
                angles[i].cos()
            } else {
                angles[i].sin()
            }
        });
        let d = Diagnostics::of(&Model::new(w, DVector::zeros(3)).unwrap());
        assert_eq!(d.directions.len(), 2);
        assert!((d.summary().theta_min_median.unwrap() - (5.0 * t - 0.15 * t)).abs() < 1e-9);
    }

    /// The indexed path gives the same clusters and θ_min as all pairs, and a sampled histogram
    /// within Monte Carlo error of the exact one.
    #[test]
    fn indexed_diagnostics_match_all_pairs() {
        // 1500 Fibonacci directions on S², every third one doubled (a copy 1e-4 rad away).
        let d = 1500;
        let u = crate::toy::train::spread_directions(3, d, &mut ChaCha8Rng::seed_from_u64(1));
        let nf = d + d / 3;
        let w = DMatrix::from_fn(3, nf, |r, i| {
            if i < d {
                u[(r, i)]
            } else {
                let j = 3 * (i - d);
                u[(r, j)] + 1e-4 * [1.0, -1.0, 0.5][r]
            }
        });
        let m = Model::new(w, DVector::from_element(nf, -0.5)).unwrap();
        let (all, idx) = (
            Diagnostics::of_with(&m, usize::MAX),
            Diagnostics::of_with(&m, 0),
        );
        assert_eq!(all.direction_of, idx.direction_of);
        assert_eq!(all.directions.len(), d);
        for (a, b) in all.directions.iter().zip(&idx.directions) {
            assert_eq!(a.features, b.features);
            assert_eq!(a.theta_min, b.theta_min);
        }
        assert_eq!(
            idx.angle_histogram.counts.iter().sum::<u64>(),
            HIST_SAMPLES as u64
        );
        let (ha, hi) = (&all.angle_histogram, &idx.angle_histogram);
        let width = PI / ANGLE_BINS as f64;
        for q in 0..ANGLE_BINS {
            let p = ha.density[q] * width;
            let se = (p * (1.0 - p) / HIST_SAMPLES as f64).sqrt();
            assert!(
                (hi.density[q] * width - p).abs() < 5.0 * se + 1e-12,
                "bin {q}"
            );
        }
    }
}
