//! The toy model `x' = ReLU(WᵀW x + b)` and its JSON form.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The toy model `x' = ReLU(WᵀW x + b)`.
///
/// `w` is `n × N`; column `i` is the embedding `W_i ∈ R^n` of feature `i`. `b` has `N` entries.
/// The exact sparse-limit loss ([`super::exact`]) requires `b ≤ 0` (the note's constraint); the
/// sampled trainer at finite sparsity leaves `b` free, as in the Toy Models paper.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// `n × N` embedding matrix, column `i` = `W_i`.
    pub w: DMatrix<f64>,
    /// Biases, one per feature.
    pub b: DVector<f64>,
}

/// The saved form of a model (`train --save F`):
/// `{"n", "features", "w": [[n floats] per feature], "b": [N floats], "loss"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    /// Model dimension `n`.
    pub n: usize,
    /// Number of features `N`.
    pub features: usize,
    /// `W_i` for each feature `i` (`N` rows of `n` numbers).
    pub w: Vec<Vec<f64>>,
    /// Biases `b_i`.
    pub b: Vec<f64>,
    /// The model's loss as reported by the trainer (exact loss, or the sampled estimate).
    pub loss: f64,
}

/// Checks that every squared norm `|W_i|²` is finite: finite weights whose square overflows
/// (a weight of `1e160`) would make every later computation infinite or NaN (and the angle
/// searches of the figures never end). Every reader of models calls this.
pub fn check_norms(norms_squared: impl IntoIterator<Item = f64>) -> Result<()> {
    match norms_squared
        .into_iter()
        .enumerate()
        .find(|(_, s)| !s.is_finite())
    {
        Some((i, _)) => Err(Error::invalid(
            "model",
            format!("|W_{i}|² of feature {i} is not a finite number (a weight is too large)"),
        )),
        None => Ok(()),
    }
}

impl Model {
    /// A model from its parts; checks shapes and finiteness.
    pub fn new(w: DMatrix<f64>, b: DVector<f64>) -> Result<Self> {
        if w.ncols() != b.len() {
            return Err(Error::invalid(
                "model",
                format!("W has {} columns but b has {} entries", w.ncols(), b.len()),
            ));
        }
        if w.nrows() == 0 || w.ncols() == 0 {
            return Err(Error::invalid("model", "n and N must be at least 1"));
        }
        if w.iter().chain(b.iter()).any(|x| !x.is_finite()) {
            return Err(Error::invalid("model", "non-finite weight or bias"));
        }
        check_norms(w.column_iter().map(|c| c.norm_squared()))?;
        Ok(Model { w, b })
    }

    /// The all-dead model: `W = 0`, `b = 0` (every feature unembedded, loss `l0`).
    pub fn zeros(n: usize, features: usize) -> Self {
        Model {
            w: DMatrix::zeros(n, features),
            b: DVector::zeros(features),
        }
    }

    /// Model dimension `n`.
    pub fn n(&self) -> usize {
        self.w.nrows()
    }

    /// Number of features `N`.
    pub fn features(&self) -> usize {
        self.w.ncols()
    }

    /// The JSON form, with the given loss value.
    pub fn to_saved(&self, loss: f64) -> SavedModel {
        SavedModel {
            n: self.n(),
            features: self.features(),
            w: self
                .w
                .column_iter()
                .map(|c| c.iter().copied().collect())
                .collect(),
            b: self.b.iter().copied().collect(),
            loss,
        }
    }

    /// Reads back the JSON form (checks that the shapes agree with `n` and `features`).
    pub fn from_saved(s: &SavedModel) -> Result<Self> {
        if s.w.len() != s.features || s.b.len() != s.features {
            return Err(Error::parse(
                "saved model",
                format!(
                    "features = {} but w has {} rows and b {} entries",
                    s.features,
                    s.w.len(),
                    s.b.len()
                ),
            ));
        }
        if let Some(r) = s.w.iter().find(|r| r.len() != s.n) {
            return Err(Error::parse(
                "saved model",
                format!("n = {} but a row of w has {} entries", s.n, r.len()),
            ));
        }
        let w = DMatrix::from_fn(s.n, s.features, |d, i| s.w[i][d]);
        Model::new(w, DVector::from_vec(s.b.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_form_round_trips() {
        let w = DMatrix::from_fn(3, 5, |d, i| (d * 7 + i) as f64 * 0.1 - 0.4);
        let b = DVector::from_fn(5, |i, _| -(i as f64) * 0.05);
        let m = Model::new(w, b).unwrap();
        let s = m.to_saved(0.25);
        assert_eq!(s.w[2], vec![m.w[(0, 2)], m.w[(1, 2)], m.w[(2, 2)]]);
        let json = serde_json::to_string(&s).unwrap();
        let back: SavedModel = serde_json::from_str(&json).unwrap();
        assert_eq!(Model::from_saved(&back).unwrap(), m);
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(Model::new(DMatrix::zeros(2, 3), DVector::zeros(4)).is_err());
        let mut s = Model::zeros(2, 3).to_saved(0.0);
        s.w[1].push(1.0);
        assert!(Model::from_saved(&s).is_err());
        // Finite weights whose squared norm overflows.
        let mut s = Model::zeros(2, 3).to_saved(0.0);
        s.w[2][0] = 1e160;
        assert!(Model::from_saved(&s).is_err());
    }
}
