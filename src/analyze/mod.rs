//! Models trained elsewhere: read W (and b) from a file, measure the geometry and, where b is
//! given, the toy model's diagnostics, and set the theory at the model's `(n, N)` beside them.
//!
//! * [`formats`] — our `--save` JSON, NumPy `.npy` / `.npz`, safetensors; float32 / float64.
//! * [`geometry`] — nearest neighbours, pairwise-angle histogram, feature dimensionality and
//!   interference, by blocked products (SAE scale: no `N × N` matrix).
//!
//! With b (a toy model `x' = ReLU(WᵀWx + b)`): the exact sparse-limit loss and gain (when
//! `b ≤ 0`), embedded features, directions, multiplicity, θ_min, amplitudes and intercepts
//! ([`crate::toy::Diagnostics`]). Without b (an SAE decoder): the geometry only. Always: the θ law
//! at the model's number of directions, the finite-neighbour symmetric optimum at `(n, N)`
//! ([`crate::symmetric::optimize`]) and the random-code baseline ([`crate::random_codes`]): the
//! expected largest `|cos|` from one of `N` uniform random unit vectors to the others, so that a
//! mean `max_abs_cos` below it says "packed better than random".
//!
//! # Layout
//!
//! W is `n × N` (the toy model: column `i` is feature `i`) or `N × n` (an SAE decoder `W_dec`
//! `[d_sae, d_model]`, a row per feature). [`Layout::Auto`] decides from b's length when b is
//! given, else takes the longer side as N (decoders have more features than dimensions); a
//! square W without b, or a b that fits both sides, is ambiguous and an error.

pub mod formats;
pub mod geometry;

use std::path::Path;
use std::str::FromStr;

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::sphere::angle_density;
use crate::toy::diagnostics::{quantile, ANGLE_BINS};
use crate::toy::{exact, Diagnostics, Model};

pub use formats::{Array, Format, Keys, RawModel};

/// How W is laid out in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Layout {
    /// Decide from the shapes (module docs).
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// `n × N`: a column per feature (the toy model's convention).
    #[serde(rename = "n-by-N")]
    DimByFeatures,
    /// `N × n`: a row per feature (an SAE decoder `[d_sae, d_model]`).
    #[serde(rename = "N-by-n")]
    FeaturesByDim,
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layout::Auto => "auto",
            Layout::DimByFeatures => "n-by-N",
            Layout::FeaturesByDim => "N-by-n",
        })
    }
}

impl FromStr for Layout {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Layout::Auto),
            "n-by-N" | "n×N" | "nxN" => Ok(Layout::DimByFeatures),
            "N-by-n" | "N×n" | "Nxn" => Ok(Layout::FeaturesByDim),
            _ => Err(Error::invalid(
                "--layout",
                format!(
                    "{s:?}: use n-by-N (a column per feature), N-by-n (a row per feature) or auto"
                ),
            )),
        }
    }
}

/// W (`n × N`, column per feature) and optional b, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// `n × N`.
    pub w: DMatrix<f64>,
    /// `N` biases, if given.
    pub b: Option<DVector<f64>>,
    /// The layout that was used (never `Auto`).
    pub layout: Layout,
}

fn shape_str(s: &[usize]) -> String {
    format!(
        "[{}]",
        s.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Orients a stored 2-D W (C order) with optional b into `n × N` and checks shapes and values.
pub fn orient(w: &Array, b: Option<&Array>, layout: Layout) -> Result<Weights> {
    let bad = |why: String| Error::invalid("model", why);
    // Accept [r, c], and [r, c] with leading 1s (a batch dimension of one).
    let dims: Vec<usize> = w.shape.clone();
    let core: Vec<usize> = {
        let mut d = dims.clone();
        while d.len() > 2 && d[0] == 1 {
            d.remove(0);
        }
        d
    };
    if core.len() != 2 {
        return Err(bad(format!(
            "W must be a 2-D array (n × N or N × n), got shape {}",
            shape_str(&dims)
        )));
    }
    let (r, c) = (core[0], core[1]);
    if r == 0 || c == 0 {
        return Err(bad(format!("W has an empty shape {}", shape_str(&dims))));
    }
    if w.data.len() != r * c {
        return Err(bad(format!(
            "W has {} values for shape {}",
            w.data.len(),
            shape_str(&dims)
        )));
    }
    let b_len = match b {
        Some(b) => {
            let nonunit: Vec<usize> = b.shape.iter().copied().filter(|&d| d != 1).collect();
            if nonunit.len() > 1 || b.data.is_empty() {
                return Err(bad(format!(
                    "b must be a vector (one bias per feature), got shape {}",
                    shape_str(&b.shape)
                )));
            }
            Some(b.data.len())
        }
        None => None,
    };
    let rows_per_feature = match (layout, b_len) {
        (Layout::DimByFeatures, _) => false,
        (Layout::FeaturesByDim, _) => true,
        (Layout::Auto, Some(l)) if l == r && l == c => {
            return Err(bad(format!(
                "W is square {} and b has {l} entries: the layout is ambiguous; pass --layout n-by-N or N-by-n",
                shape_str(&dims)
            )))
        }
        (Layout::Auto, Some(l)) if l == c => false,
        (Layout::Auto, Some(l)) if l == r => true,
        (Layout::Auto, Some(l)) => {
            return Err(bad(format!(
                "b has {l} entries but W has shape {}: neither side is the number of features",
                shape_str(&dims)
            )))
        }
        (Layout::Auto, None) if r == c => {
            return Err(bad(format!(
                "W is square {}: the layout is ambiguous; pass --layout n-by-N or N-by-n",
                shape_str(&dims)
            )))
        }
        (Layout::Auto, None) => r > c,
    };
    let (n, nf) = if rows_per_feature { (c, r) } else { (r, c) };
    if let Some(l) = b_len {
        if l != nf {
            return Err(bad(format!(
                "b has {l} entries but W (shape {}, layout {}) has {nf} features",
                shape_str(&dims),
                if rows_per_feature { "N-by-n" } else { "n-by-N" }
            )));
        }
    }
    if let Some(k) = w.data.iter().position(|x| !x.is_finite()) {
        let (a, bb) = (k / c, k % c);
        return Err(bad(format!(
            "W[{a}, {bb}] = {} is not a finite number",
            w.data[k]
        )));
    }
    if let Some(b) = b {
        if let Some(k) = b.data.iter().position(|x| !x.is_finite()) {
            return Err(bad(format!(
                "b[{k}] = {} is not a finite number",
                b.data[k]
            )));
        }
    }
    let w = if rows_per_feature {
        // C-order N × n is the column-major n × N matrix.
        DMatrix::from_vec(n, nf, w.data.clone())
    } else {
        DMatrix::from_row_slice(n, nf, &w.data)
    };
    Ok(Weights {
        w,
        b: b.map(|b| DVector::from_vec(b.data.clone())),
        layout: if rows_per_feature {
            Layout::FeaturesByDim
        } else {
            Layout::DimByFeatures
        },
    })
}

/// Reads and orients a model file (any [`Format`]).
pub fn load(path: &Path, keys: &Keys, layout: Layout) -> Result<(Weights, RawModel)> {
    let raw = formats::read(path, keys)?;
    let layout = match (layout, raw.rows_are_features) {
        (Layout::Auto, Some(true)) => Layout::FeaturesByDim,
        (l, _) => l,
    };
    let wts = orient(&raw.w, raw.b.as_ref(), layout)
        .map_err(|e| Error::parse(path.display().to_string(), e.to_string()))?;
    Ok((wts, raw))
}

/// Per-feature numbers.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureStats {
    /// `‖W_i‖`.
    pub norm: Vec<f64>,
    /// Largest `cos` to another feature (null for a zero vector).
    pub max_cos: Vec<Option<f64>>,
    /// Largest `|cos|` to another feature.
    pub max_abs_cos: Vec<Option<f64>>,
    /// Index of the nearest feature (largest cos).
    pub nearest: Vec<Option<usize>>,
    /// Angle to the nearest feature, `acos(max_cos)`.
    pub theta_nearest: Vec<Option<f64>>,
    /// Feature dimensionality `D_i` ([`geometry::dimensionality`]).
    pub dimensionality: Vec<f64>,
    /// Interference `Σ_{j≠i} (Ŵ_i·W_j)²`.
    pub interference: Vec<f64>,
    /// With b: `‖W_i‖² + b_i > 0`.
    pub embedded: Option<Vec<bool>>,
    /// With b: `−b_i/‖W_i‖²` of embedded features.
    pub intercept: Option<Vec<Option<f64>>>,
}

/// Histogram of pairwise angles against the uniform density on `S^{n−1}`.
#[derive(Debug, Clone, Serialize)]
pub struct Histogram {
    /// `bins + 1` edges over `[0, π]`.
    pub edges: Vec<f64>,
    /// Pairs per bin.
    pub counts: Vec<u64>,
    /// `count / (pairs · width)`.
    pub density: Vec<f64>,
    /// `p(θ) = Γ(n/2)/(√π Γ((n−1)/2)) sin^{n−2} θ` at the bin centres.
    pub uniform: Vec<f64>,
    /// What was counted: `features` (all pairs of non-zero features) or `directions` (pairs of
    /// distinct directions of embedded features, with b, as in `train`).
    pub over: &'static str,
}

impl Histogram {
    fn new(n: usize, counts: Vec<u64>, over: &'static str) -> Self {
        let bins = counts.len();
        let width = std::f64::consts::PI / bins as f64;
        let pairs: u64 = counts.iter().sum();
        Histogram {
            edges: (0..=bins).map(|q| q as f64 * width).collect(),
            density: counts
                .iter()
                .map(|&c| {
                    if pairs == 0 {
                        0.0
                    } else {
                        c as f64 / (pairs as f64 * width)
                    }
                })
                .collect(),
            uniform: (0..bins)
                .map(|q| angle_density(n.max(2), (q as f64 + 0.5) * width))
                .collect(),
            counts,
            over,
        }
    }

    /// CSV: `theta_lo,theta_hi,count,density,uniform` (radians).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("theta_lo,theta_hi,count,density,uniform\n");
        for q in 0..self.counts.len() {
            s.push_str(&format!(
                "{},{},{},{},{}\n",
                self.edges[q],
                self.edges[q + 1],
                self.counts[q],
                self.density[q],
                self.uniform[q]
            ));
        }
        s
    }
}

/// The summary row of `analyze` (the `train` keys where b is given, then geometry and theory).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnalysisSummary {
    /// Model dimension.
    pub n: usize,
    /// Number of features (rows of a decoder, columns of a toy W).
    pub features: usize,
    /// Exact sparse-limit L2 loss (with b ≤ 0; null otherwise).
    pub loss: Option<f64>,
    /// Gain `(1/3 − loss)·N`.
    pub gain: Option<f64>,
    /// Embedded features (with b).
    pub embedded: Option<usize>,
    /// Distinct directions (with b: clusters of embedded features; without: non-zero features).
    pub directions: usize,
    /// `E / D` (with b).
    pub mean_multiplicity: Option<f64>,
    /// Median θ_min: over directions (with b), over features' nearest neighbours (without).
    pub theta_min_median: Option<f64>,
    /// Median intercept `−b/|W|²` over embedded features (with b).
    pub intercept_median: Option<f64>,
    /// `E / N` (with b).
    pub fraction_embedded: Option<f64>,
    /// Interquartile range of θ_min.
    pub theta_min_spread: Option<f64>,
    /// Smallest θ_min.
    pub theta_min_min: Option<f64>,
    /// Median `cos θ_min` over embedded features (with b).
    pub cos_theta_min_median: Option<f64>,
    /// Median `‖W_i‖` over embedded features (with b) or all features (without).
    pub amplitude_median: Option<f64>,
    /// Mean feature dimensionality `D_i` over all features (dead ones count 0).
    pub feature_dimensionality: f64,
    /// `Σ_i D_i` (at most n: the dimensions the features use).
    pub dimensions_used: f64,
    /// Mean interference `Σ_{j≠i} (Ŵ_i·W_j)²`.
    pub interference_mean: f64,
    /// Median over features of the largest `|cos|` to another feature.
    pub max_abs_cos_median: Option<f64>,
    /// Mean of the same.
    pub max_abs_cos_mean: Option<f64>,
    /// Largest `|cos|` of any pair (the code's coherence).
    pub max_abs_cos_max: Option<f64>,
    /// Features with `‖W_i‖ = 0` (left out of the geometry).
    pub zero_features: usize,
    /// Biases `b_i > 0` (the exact loss needs `b ≤ 0`; with b).
    pub positive_biases: Option<usize>,
    /// The θ law (small-angle) at `D = directions` directions in `R^n`.
    pub theta_law: Option<f64>,
    /// The chord form of the law.
    pub theta_law_upper: Option<f64>,
    /// Source of the law's Hermite constant.
    pub theta_law_source: Option<String>,
    /// Finite-neighbour symmetric optimum at `(n, N)`, L2: embedded features.
    pub optimum_embed: Option<u64>,
    /// Its multiplicity.
    pub optimum_multiplicity: Option<u64>,
    /// Its θ.
    pub theta_optimum: Option<f64>,
    /// Its intercept.
    pub optimum_intercept: Option<f64>,
    /// Its loss.
    pub optimum_loss: Option<f64>,
    /// Its gain.
    pub optimum_gain: Option<f64>,
    /// Random code: expected largest `|cos|` from one of N random unit vectors to the others.
    pub random_max_abs_cos: Option<f64>,
    /// `acos(random_max_abs_cos)`.
    pub theta_random: Option<f64>,
    /// `max_abs_cos_mean < random_max_abs_cos`: packed better than random.
    pub better_than_random: Option<bool>,
    /// Layout used.
    pub layout: Layout,
}

/// Everything `analyze` measures.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The summary row.
    pub summary: AnalysisSummary,
    /// Per-feature numbers.
    pub features: FeatureStats,
    /// Pairwise-angle histogram.
    pub histogram: Histogram,
    /// The toy model's full diagnostics (with b).
    #[serde(skip)]
    pub diagnostics: Option<Diagnostics>,
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn spread(v: &[f64]) -> Option<f64> {
    quantile(v, 0.75).zip(quantile(v, 0.25)).map(|(a, b)| a - b)
}

/// Analyses W (`n × N`) with optional b (module docs).
pub fn analyze(w: &DMatrix<f64>, b: Option<&DVector<f64>>, layout: Layout) -> Result<Analysis> {
    let (n, nf) = (w.nrows(), w.ncols());
    if n == 0 || nf == 0 {
        return Err(Error::invalid("model", "n and N must be at least 1"));
    }
    if let Some(b) = b {
        if b.len() != nf {
            return Err(Error::invalid(
                "model",
                format!("b has {} entries but W has {nf} features", b.len()),
            ));
        }
    }
    if w.iter()
        .chain(b.into_iter().flatten())
        .any(|x| !x.is_finite())
    {
        return Err(Error::invalid("model", "non-finite weight or bias"));
    }
    let nb = geometry::neighbours(w, ANGLE_BINS);
    let (dim, inter) = geometry::dimensionality(w);
    let norm: Vec<f64> = w.column_iter().map(|c| c.norm()).collect();
    let theta_nearest: Vec<Option<f64>> = nb.max_cos.iter().map(|c| c.map(f64::acos)).collect();
    let abs_cos: Vec<f64> = sorted(nb.max_abs_cos.iter().flatten().copied().collect());
    let zero_features = norm.iter().filter(|&&x| x == 0.0).count();

    let (mut s, diagnostics, histogram, embedded, intercept) = match b {
        Some(b) => {
            let model = Model::new(w.clone(), b.clone())?;
            let d = Diagnostics::of(&model);
            let sm = d.summary();
            let positive = b.iter().filter(|&&x| x > 0.0).count();
            let loss = (positive == 0).then(|| exact::loss(&model, &Loss::L2));
            let tm = sorted(d.directions.iter().filter_map(|x| x.theta_min).collect());
            let h = Histogram::new(n, d.angle_histogram.counts.clone(), "directions");
            let s = AnalysisSummary {
                n,
                features: nf,
                loss,
                gain: loss.map(|l| (Loss::L2.l0() - l) * nf as f64),
                embedded: Some(sm.embedded),
                directions: sm.directions,
                mean_multiplicity: sm.mean_multiplicity,
                theta_min_median: sm.theta_min_median,
                intercept_median: sm.intercept_median,
                fraction_embedded: Some(sm.fraction_embedded),
                theta_min_spread: sm.theta_min_spread,
                theta_min_min: tm.first().copied(),
                cos_theta_min_median: sm.cos_theta_min_median,
                amplitude_median: sm.amplitude_median,
                positive_biases: Some(positive),
                ..blank(n, nf, layout)
            };
            let (e, i) = (d.embedded.clone(), d.intercept.clone());
            (s, Some(d), h, Some(e), Some(i))
        }
        None => {
            let tm = sorted(theta_nearest.iter().flatten().copied().collect());
            let amp = sorted(norm.iter().copied().filter(|&x| x > 0.0).collect());
            let s = AnalysisSummary {
                directions: nf - zero_features,
                theta_min_median: quantile(&tm, 0.5),
                theta_min_spread: spread(&tm),
                theta_min_min: tm.first().copied(),
                amplitude_median: quantile(&amp, 0.5),
                ..blank(n, nf, layout)
            };
            (
                s,
                None,
                Histogram::new(n, nb.counts.clone(), "features"),
                None,
                None,
            )
        }
    };
    s.feature_dimensionality = dim.iter().sum::<f64>() / nf as f64;
    s.dimensions_used = dim.iter().sum();
    s.interference_mean = inter.iter().sum::<f64>() / nf as f64;
    s.max_abs_cos_median = quantile(&abs_cos, 0.5);
    s.max_abs_cos_mean =
        (!abs_cos.is_empty()).then(|| abs_cos.iter().sum::<f64>() / abs_cos.len() as f64);
    s.max_abs_cos_max = abs_cos.last().copied();
    s.zero_features = zero_features;
    theory(&mut s);
    Ok(Analysis {
        summary: s,
        features: FeatureStats {
            norm,
            max_cos: nb.max_cos,
            max_abs_cos: nb.max_abs_cos,
            nearest: nb.nearest,
            theta_nearest,
            dimensionality: dim,
            interference: inter,
            embedded,
            intercept,
        },
        histogram,
        diagnostics,
    })
}

fn blank(n: usize, nf: usize, layout: Layout) -> AnalysisSummary {
    AnalysisSummary {
        n,
        features: nf,
        loss: None,
        gain: None,
        embedded: None,
        directions: 0,
        mean_multiplicity: None,
        theta_min_median: None,
        intercept_median: None,
        fraction_embedded: None,
        theta_min_spread: None,
        theta_min_min: None,
        cos_theta_min_median: None,
        amplitude_median: None,
        feature_dimensionality: 0.0,
        dimensions_used: 0.0,
        interference_mean: 0.0,
        max_abs_cos_median: None,
        max_abs_cos_mean: None,
        max_abs_cos_max: None,
        zero_features: 0,
        positive_biases: None,
        theta_law: None,
        theta_law_upper: None,
        theta_law_source: None,
        optimum_embed: None,
        optimum_multiplicity: None,
        theta_optimum: None,
        optimum_intercept: None,
        optimum_loss: None,
        optimum_gain: None,
        random_max_abs_cos: None,
        theta_random: None,
        better_than_random: None,
        layout,
    }
}

/// Fills the theory columns (each left null where its domain excludes `(n, N)`).
fn theory(s: &mut AnalysisSummary) {
    let (n, nf) = (s.n, s.features);
    if n >= 2 && s.directions >= 1 {
        if let Ok(t) = crate::theta::theta_min(n, s.directions as f64) {
            s.theta_law = Some(t.theta);
            s.theta_law_upper = Some(t.theta_upper);
            s.theta_law_source = Some(t.source.to_string());
        }
    }
    if n >= 2 {
        if let Ok(p) = crate::symmetric::optimize(n, nf as u64, &Loss::L2, None) {
            s.optimum_embed = Some(p.embed);
            s.optimum_multiplicity = Some(p.multiplicity);
            s.theta_optimum = Some(p.theta);
            s.optimum_intercept = Some(p.intercept);
            s.optimum_loss = Some(p.loss);
            s.optimum_gain = Some(p.gain);
        }
    }
    if nf >= 2 {
        if let Ok(r) = crate::random_codes::expected_max_abs_cos(n, nf as f64) {
            s.random_max_abs_cos = Some(r);
            s.theta_random = Some(r.acos());
            s.better_than_random = s.max_abs_cos_mean.map(|m| m < r);
        }
    }
}

/// Reads `path` and analyses it.
pub fn analyze_file(path: &Path, keys: &Keys, layout: Layout) -> Result<(Analysis, RawModel)> {
    let (wts, raw) = load(path, keys, layout)?;
    let a = analyze(&wts.w, wts.b.as_ref(), wts.layout)?;
    Ok((a, raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(shape: &[usize], data: Vec<f64>) -> Array {
        Array {
            shape: shape.to_vec(),
            data,
            dtype: "float64",
        }
    }

    #[test]
    fn layouts_orient_the_same_matrix() {
        // W (n = 2, N = 3): columns (1,0), (0,2), (3,4).
        let nbyn = arr(&[2, 3], vec![1.0, 0.0, 3.0, 0.0, 2.0, 4.0]);
        let nbyd = arr(&[3, 2], vec![1.0, 0.0, 0.0, 2.0, 3.0, 4.0]);
        let a = orient(&nbyn, None, Layout::DimByFeatures).unwrap();
        let b = orient(&nbyd, None, Layout::FeaturesByDim).unwrap();
        assert_eq!(a.w, b.w);
        assert_eq!(a.w[(1, 2)], 4.0);
        // Auto without b: the longer side is N.
        assert_eq!(orient(&nbyd, None, Layout::Auto).unwrap().w, a.w);
        assert_eq!(orient(&nbyn, None, Layout::Auto).unwrap().w, a.w);
        // Auto with b: b's length decides, even against the "longer side" rule.
        let wide = arr(&[3, 2], vec![1.0, 0.0, 0.0, 2.0, 3.0, 4.0]);
        let b2 = arr(&[2], vec![-0.1, -0.2]);
        let o = orient(&wide, Some(&b2), Layout::Auto).unwrap();
        assert_eq!((o.w.nrows(), o.w.ncols()), (3, 2));
        assert_eq!(o.layout, Layout::DimByFeatures);
    }

    #[test]
    fn bad_shapes_and_values_are_errors() {
        let sq = arr(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
        assert!(orient(&sq, None, Layout::Auto)
            .unwrap_err()
            .to_string()
            .contains("ambiguous"));
        assert!(orient(&sq, None, Layout::DimByFeatures).is_ok());
        let v = arr(&[4], vec![1.0; 4]);
        assert!(orient(&v, None, Layout::Auto)
            .unwrap_err()
            .to_string()
            .contains("2-D"));
        let w = arr(&[2, 3], vec![1.0, f64::NAN, 0.0, 0.0, 0.0, 1.0]);
        assert!(orient(&w, None, Layout::Auto)
            .unwrap_err()
            .to_string()
            .contains("W[0, 1]"));
        let w = arr(&[2, 3], vec![1.0; 6]);
        let b = arr(&[5], vec![0.0; 5]);
        assert!(orient(&w, Some(&b), Layout::Auto).is_err());
        assert!(orient(&w, Some(&b), Layout::DimByFeatures).is_err());
        assert!("n-by-n".parse::<Layout>().is_err());
    }

    /// With b: the loss is the exact loss of the model, and the diagnostics are train's.
    /// Without b: the regular hexagon has θ_min = 60° at every feature, |cos| = 1/2.
    #[test]
    fn hexagon_with_and_without_bias() {
        let nf = 6;
        let w = DMatrix::from_fn(2, nf, |r, i| {
            let phi = i as f64 * std::f64::consts::PI / 3.0;
            if r == 0 {
                phi.cos()
            } else {
                phi.sin()
            }
        });
        let a = analyze(&w, None, Layout::DimByFeatures).unwrap();
        let s = &a.summary;
        assert!((s.theta_min_median.unwrap() - std::f64::consts::PI / 3.0).abs() < 1e-6);
        assert!((s.max_abs_cos_max.unwrap() - 1.0).abs() < 1e-6); // antipodal pairs
        assert_eq!(a.histogram.counts.iter().sum::<u64>(), 15);
        // 6 unit vectors in R^2 at 60°: W Wᵀ = 3 I, so D_i = 1/3 and Σ D_i = n = 2.
        assert!((s.feature_dimensionality - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.dimensions_used - 2.0).abs() < 1e-12);
        let b = DVector::from_element(nf, -0.5);
        let a = analyze(&w, Some(&b), Layout::DimByFeatures).unwrap();
        let m = Model::new(w.clone(), b).unwrap();
        let l = exact::loss(&m, &Loss::L2);
        assert_eq!(a.summary.loss, Some(l));
        assert_eq!(a.summary.directions, 6);
        assert_eq!(a.summary.intercept_median, Some(0.5));
        assert!(a.summary.theta_law.is_some() && a.summary.optimum_gain.is_some());
    }
}
