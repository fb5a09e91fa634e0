//! Small statistics, once for the whole crate: quantiles and medians, the coefficient of
//! variation, Spearman's rank correlation, and the two tests the report's verdicts use — a
//! stratified permutation test of a monotone trend and the sign test of a systematic bias.
//!
//! Every test here is deterministic (the permutation test draws its permutations from a fixed
//! seed, or enumerates them when there are few), so a report is reproducible bit for bit.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

/// Linear-interpolated quantile of a **sorted** slice (`None` if empty).
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let f = pos - lo as f64;
    Some(sorted[lo] * (1.0 - f) + sorted[hi] * f)
}

/// Quantile of the finite values of an unsorted slice (`None` if there are none).
pub fn quantile_of(v: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    quantile(&v, q)
}

/// Median of finite values (`None` if there are none).
pub fn median(v: Vec<f64>) -> Option<f64> {
    quantile_of(&v, 0.5)
}

/// Coefficient of variation `s / x̄` (sample standard deviation; 0 for fewer than 2 values or
/// a non-positive mean).
pub fn cv(v: &[f64]) -> f64 {
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

/// Ranks 0…k−1, ties get their average rank.
pub fn ranks(v: &[f64]) -> Vec<f64> {
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

/// Significance level of the report's tests (one-sided for trends, two-sided for bias).
pub const ALPHA: f64 = 0.05;

/// Random permutations drawn by [`trend`] when the exact enumeration is too large.
const PERMUTATIONS: usize = 4000;

/// A monotone trend of `y` with `x`, pooled over strata (e.g. one stratum per dimension n).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// Point-weighted mean over strata of the within-stratum Spearman ρ.
    pub rho: f64,
    /// One-sided p-value for `ρ > 0` (rising): the share of within-stratum permutations of `y`
    /// whose pooled ρ is at least the observed one.
    pub p_rising: f64,
    /// One-sided p-value for `ρ < 0` (falling).
    pub p_falling: f64,
    /// Points used (in strata of at least 3 points with a non-constant `y`).
    pub points: usize,
    /// Strata used.
    pub strata: usize,
}

impl Trend {
    /// Rising at level [`ALPHA`].
    pub fn rises(&self) -> bool {
        self.p_rising <= ALPHA
    }

    /// Falling at level [`ALPHA`].
    pub fn falls(&self) -> bool {
        self.p_falling <= ALPHA
    }
}

fn pooled(strata: &[(Vec<f64>, Vec<f64>)]) -> f64 {
    let mut s = 0.0;
    let mut w = 0.0;
    for (x, y) in strata {
        if let Some(r) = spearman(x, y) {
            s += r * x.len() as f64;
            w += x.len() as f64;
        }
    }
    if w > 0.0 {
        s / w
    } else {
        0.0
    }
}

/// Stratified permutation test of a monotone trend (`None` when no stratum has 3 points with
/// a non-constant `y` and `x`: the data cannot decide).
///
/// # Formula
///
/// `ρ̄ = Σ_s k_s ρ_s / Σ_s k_s` over strata `s` with `k_s ≥ 3` points, `ρ_s` the Spearman
/// correlation within the stratum. Under the null hypothesis (no trend) `y` is exchangeable
/// within each stratum; the p-values are the shares of permutations with `ρ̄* ≥ ρ̄` (rising)
/// and `ρ̄* ≤ ρ̄` (falling), the observed arrangement included. When the product of `k_s!` is
/// at most 40 320 (8!) every permutation is enumerated, otherwise 4000 are drawn from a fixed
/// seed (ChaCha8, seed 0). With 4 points in one stratum the smallest attainable p is 1/24, so
/// a one-sided test at 0.05 needs 4 points; with 3 points it can never pass (p ≥ 1/6).
pub fn trend(strata: &[(Vec<f64>, Vec<f64>)]) -> Option<Trend> {
    let used: Vec<(Vec<f64>, Vec<f64>)> = strata
        .iter()
        .filter(|(x, y)| x.len() == y.len() && spearman(x, y).is_some())
        .cloned()
        .collect();
    if used.is_empty() {
        return None;
    }
    let obs = pooled(&used);
    let eps = 1e-12;
    let total: f64 = used
        .iter()
        .map(|(x, _)| (1..=x.len()).map(|k| k as f64).product::<f64>())
        .product();
    let (mut ge, mut le, mut count) = (0usize, 0usize, 0usize);
    let mut tally = |r: f64| {
        count += 1;
        ge += usize::from(r >= obs - eps);
        le += usize::from(r <= obs + eps);
    };
    if total <= 40320.0 {
        // Enumerate the product of every stratum's permutations (Heap's algorithm per stratum,
        // as an odometer over strata).
        let perms: Vec<Vec<Vec<f64>>> = used.iter().map(|(_, y)| all_permutations(y)).collect();
        let mut idx = vec![0usize; used.len()];
        loop {
            let cur: Vec<(Vec<f64>, Vec<f64>)> = used
                .iter()
                .zip(&perms)
                .zip(&idx)
                .map(|(((x, _), p), &i)| (x.clone(), p[i].clone()))
                .collect();
            tally(pooled(&cur));
            let mut k = 0;
            loop {
                if k == idx.len() {
                    return Some(finish(obs, ge, le, count, &used));
                }
                idx[k] += 1;
                if idx[k] < perms[k].len() {
                    break;
                }
                idx[k] = 0;
                k += 1;
            }
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    tally(obs);
    let mut cur = used.clone();
    for _ in 1..PERMUTATIONS {
        for (_, y) in cur.iter_mut() {
            y.shuffle(&mut rng);
        }
        tally(pooled(&cur));
    }
    Some(finish(obs, ge, le, count, &used))
}

fn finish(obs: f64, ge: usize, le: usize, count: usize, used: &[(Vec<f64>, Vec<f64>)]) -> Trend {
    Trend {
        rho: obs,
        p_rising: ge as f64 / count as f64,
        p_falling: le as f64 / count as f64,
        points: used.iter().map(|(x, _)| x.len()).sum(),
        strata: used.len(),
    }
}

fn all_permutations(v: &[f64]) -> Vec<Vec<f64>> {
    fn heap(k: usize, a: &mut Vec<f64>, out: &mut Vec<Vec<f64>>) {
        if k <= 1 {
            out.push(a.clone());
            return;
        }
        for i in 0..k {
            heap(k - 1, a, out);
            let j = if k % 2 == 0 { i } else { 0 };
            a.swap(j, k - 1);
        }
    }
    let mut out = Vec::new();
    heap(v.len(), &mut v.to_vec(), &mut out);
    out
}

/// The sign test of a systematic bias: are values above 1 as likely as below?
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SignTest {
    /// Values below the reference.
    pub below: usize,
    /// Values above the reference (ties are dropped).
    pub above: usize,
    /// Two-sided binomial p-value `2 · P(X ≤ min(below, above))`, `X ~ Bin(below + above, ½)`,
    /// capped at 1.
    pub p_value: f64,
}

impl SignTest {
    /// No systematic bias at level [`ALPHA`] (or too few values to see one).
    pub fn unbiased(&self) -> bool {
        self.p_value > ALPHA
    }
}

/// Sign test of `values` against `reference` (`None` when every value ties with it).
pub fn sign_test(values: &[f64], reference: f64) -> Option<SignTest> {
    let below = values.iter().filter(|&&v| v < reference).count();
    let above = values.iter().filter(|&&v| v > reference).count();
    let k = below + above;
    if k == 0 {
        return None;
    }
    let lo = below.min(above);
    // P(X ≤ lo) for X ~ Bin(k, ½), in log space (k may be in the hundreds).
    let ln_half_k = -(k as f64) * std::f64::consts::LN_2;
    let mut ln_c = 0.0; // ln C(k, 0)
    let mut p = 0.0;
    for i in 0..=lo {
        if i > 0 {
            ln_c += ((k - i + 1) as f64).ln() - (i as f64).ln();
        }
        p += (ln_c + ln_half_k).exp();
    }
    Some(SignTest {
        below,
        above,
        p_value: (2.0 * p).min(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_median() {
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        assert_eq!(median(vec![3.0, f64::NAN, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![]), None);
        assert_eq!(quantile_of(&[4.0, 1.0, 3.0, 2.0], 0.0), Some(1.0));
        assert_eq!(cv(&[2.0, 2.0, 2.0]), 0.0);
    }

    #[test]
    fn spearman_of_monotone_and_tied_data() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[3.0, 2.0, 1.0]), None);
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!(r > 0.9 && r < 1.0);
    }

    /// A perfectly rising stratum of 4 points: exactly 1 of the 24 permutations has ρ = 1,
    /// so p_rising = 1/24 and p_falling = 1.
    #[test]
    fn trend_p_values_are_exact_for_small_strata() {
        let x = vec![1.0, 2.0, 3.0, 4.0];
        let t = trend(&[(x.clone(), vec![10.0, 20.0, 30.0, 40.0])]).unwrap();
        assert!((t.rho - 1.0).abs() < 1e-12);
        assert!((t.p_rising - 1.0 / 24.0).abs() < 1e-12);
        assert_eq!(t.p_falling, 1.0);
        assert!(t.rises() && !t.falls());
        // Two strata of 5 falling points: p = 1/120² by enumeration.
        let x5 = vec![1.0, 2.0, 3.0, 4.0, 5.0];
        let y5 = vec![5.0, 4.0, 3.0, 2.0, 1.0];
        let t = trend(&[(x5.clone(), y5.clone()), (x5, y5)]).unwrap();
        assert!((t.p_falling - 1.0 / 14400.0).abs() < 1e-12);
        // Constant y cannot decide.
        assert_eq!(trend(&[(x, vec![1.0; 4])]), None);
    }

    /// Large strata use random permutations: a clear trend is found, noise is not.
    #[test]
    fn trend_by_sampling() {
        let x: Vec<f64> = (0..30).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| -v + 3.0 * (v * 1.7).sin()).collect();
        let t = trend(&[(x.clone(), y)]).unwrap();
        assert!(t.falls() && t.p_falling < 0.01, "{t:?}");
        let noise: Vec<f64> = x
            .iter()
            .map(|v| (v * 12.9898).sin() * 43758.5453 % 1.0)
            .collect();
        let t = trend(&[(x, noise)]).unwrap();
        assert!(!t.rises() || !t.falls());
    }

    /// Sign test against the binomial distribution computed by hand: 1 of 10 above,
    /// p = 2 (1 + 10) / 1024.
    #[test]
    fn sign_test_matches_the_binomial() {
        let v: Vec<f64> = (0..10).map(|i| if i == 0 { 1.1 } else { 0.9 }).collect();
        let s = sign_test(&v, 1.0).unwrap();
        assert_eq!((s.below, s.above), (9, 1));
        assert!((s.p_value - 22.0 / 1024.0).abs() < 1e-12);
        assert!(!s.unbiased());
        let s = sign_test(&[0.9, 1.1, 0.95, 1.05], 1.0).unwrap();
        assert!(s.unbiased());
        assert_eq!(sign_test(&[1.0, 1.0], 1.0), None);
    }
}
