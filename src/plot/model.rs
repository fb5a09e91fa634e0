//! A trained model as plain numbers, and the geometry the figures need from it.

/// A toy model `x' = ReLU(WᵀWx + b)` as plain data: `w[i]` is the weight vector `W_i ∈ R^n` of
/// feature `i`, `b[i] ≤ 0` its bias.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelView {
    /// Model dimension n.
    pub n: usize,
    /// Weight vector of each feature (length n each).
    pub w: Vec<Vec<f64>>,
    /// Bias of each feature.
    pub b: Vec<f64>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl ModelView {
    /// Number of features N.
    pub fn features(&self) -> usize {
        self.w.len()
    }

    /// Slope `k_i = |W_i|²` of feature i's own response.
    pub fn slope(&self, i: usize) -> f64 {
        dot(&self.w[i], &self.w[i])
    }

    /// Amplitude `|W_i|`.
    pub fn amplitude(&self, i: usize) -> f64 {
        self.slope(i).sqrt()
    }

    /// Embedded: `|W_i|² + b_i > 0` (the note's definition: a unit input produces output).
    pub fn embedded(&self, i: usize) -> bool {
        self.slope(i) + self.b[i] > 0.0
    }

    /// Indices of the embedded features.
    pub fn embedded_indices(&self) -> Vec<usize> {
        (0..self.features()).filter(|&i| self.embedded(i)).collect()
    }

    /// Intercept `c_i = −b_i/|W_i|²` (the smallest input that produces output).
    pub fn intercept(&self, i: usize) -> f64 {
        -self.b[i] / self.slope(i)
    }

    /// Own response `x_i' = (|W_i|² x + b_i)₊` to input `x` on feature i alone.
    pub fn response(&self, i: usize, x: f64) -> f64 {
        (self.slope(i) * x + self.b[i]).max(0.0)
    }

    /// Unit direction of feature i (`None` for a zero vector).
    pub fn direction(&self, i: usize) -> Option<Vec<f64>> {
        let a = self.amplitude(i);
        (a > 0.0).then(|| self.w[i].iter().map(|x| x / a).collect())
    }

    /// Unit directions of the embedded features, in the order of [`Self::embedded_indices`].
    pub fn embedded_directions(&self) -> Vec<Vec<f64>> {
        self.embedded_indices()
            .into_iter()
            .filter_map(|i| self.direction(i))
            .collect()
    }
}

fn angle(u: &[f64], v: &[f64]) -> f64 {
    dot(u, v).clamp(-1.0, 1.0).acos()
}

/// For each unit vector, the angle to its nearest other vector (π for a single vector).
/// Vectors sharing a direction give 0: the note's θ_min per embedded feature.
pub fn nearest_angles(dirs: &[Vec<f64>]) -> Vec<f64> {
    (0..dirs.len())
        .map(|i| {
            (0..dirs.len())
                .filter(|&j| j != i)
                .map(|j| angle(&dirs[i], &dirs[j]))
                .fold(std::f64::consts::PI, f64::min)
        })
        .collect()
}

/// All pairwise angles between the unit vectors (i < j).
pub fn pairwise_angles(dirs: &[Vec<f64>]) -> Vec<f64> {
    let mut out = Vec::with_capacity(dirs.len() * dirs.len().saturating_sub(1) / 2);
    for i in 0..dirs.len() {
        for j in i + 1..dirs.len() {
            out.push(angle(&dirs[i], &dirs[j]));
        }
    }
    out
}

/// Groups the embedded features of `view` into directions: features whose unit directions are
/// within `threshold` radians of each other are linked, and a direction is a connected
/// component (single linkage). Groups are sorted by their smallest feature index.
pub fn direction_groups(view: &ModelView, threshold: f64) -> Vec<Vec<usize>> {
    let emb: Vec<(usize, Vec<f64>)> = view
        .embedded_indices()
        .into_iter()
        .filter_map(|i| Some((i, view.direction(i)?)))
        .collect();
    let mut parent: Vec<usize> = (0..emb.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let cos_t = threshold.cos();
    for a in 0..emb.len() {
        for b in a + 1..emb.len() {
            if dot(&emb[a].1, &emb[b].1) >= cos_t {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                if ra != rb {
                    parent[ra.max(rb)] = ra.min(rb);
                }
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (a, (i, _)) in emb.iter().enumerate() {
        let r = root(&mut parent, a);
        groups.entry(r).or_default().push(*i);
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::{FRAC_PI_2, PI};

    #[test]
    fn diagnostics_of_a_hand_model() {
        // Two features on the x axis (degenerate), one on y, one not embedded.
        let m = ModelView {
            n: 2,
            w: vec![
                vec![2.0, 0.0],
                vec![1.0, 0.0],
                vec![0.0, 1.0],
                vec![0.1, 0.1],
            ],
            b: vec![-1.0, -0.5, 0.0, -1.0],
        };
        assert_eq!(m.embedded_indices(), vec![0, 1, 2]);
        assert_eq!(m.intercept(0), 0.25);
        assert_eq!(m.response(0, 0.5), 1.0);
        assert_eq!(m.response(0, 0.1), 0.0);
        let th = nearest_angles(&m.embedded_directions());
        assert_eq!(th, vec![0.0, 0.0, FRAC_PI_2]);
        let mut p = pairwise_angles(&m.embedded_directions());
        p.sort_by(f64::total_cmp);
        assert_eq!(p, vec![0.0, FRAC_PI_2, FRAC_PI_2]);
        assert_eq!(nearest_angles(&[vec![1.0, 0.0]]), vec![PI]);
        assert_eq!(direction_groups(&m, 0.01), vec![vec![0, 1], vec![2]]);
    }
}
