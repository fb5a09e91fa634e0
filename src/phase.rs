//! Phase points of the closed-form gain, and the note's two large-n claims, in both conventions.
//!
//! # Formula
//!
//! With every feature embedded (`E = N`), the transition to degeneracy is the smallest `N` with
//!
//! ```text
//! g(N, 2) > g(N, 1)          (gain of [`crate::gain::evaluate`]; in the note convention
//!                             "2" and "1" are the note's n_deg, i.e. its red line in the
//!                             "analytic gain" figure)
//! ```
//!
//! The note's claims (section "Loss function: Why packing all features?"):
//!
//! * **"n > 3 always embeds more features"** — `g(E)` increases with `E` at fixed multiplicity.
//!   In both conventions `g(E, ·) ∝ h(E/m)` with `h(D) = D f(θ(D))/12`, so this claim does not
//!   depend on the convention; it is checked at multiplicity 1.
//! * **"n > 5 never prefers degeneracy"** — no multiplicity `m ∈ 2..=M` beats `m = 1` at any
//!   `E = N ≤ max_features`.
//!
//! In the consistent convention with L2, `g(E, m) = h(E/m)` exactly, so degeneracy at `E = N`
//! wins exactly where `h` falls between `N/m` and `N`; with `E` free (`E ≤ N`) it never wins
//! (SPEC §4's identity).
//!
//! # Search
//!
//! Every integer `N` up to 512, then a geometric grid with ratio 1.02 up to `max_features`
//! (≈ 730 points to 10⁹); the first grid point where the condition holds is refined by integer
//! bisection against the previous one. A crossing and re-crossing between two grid points 2 %
//! apart would be missed; the gains here vary on the scale of `N` itself, so that does not occur
//! for the laws used (the phase tests compare against a dense scan). Comparisons use a relative
//! margin of 1e-10 so that rounding is not reported as a transition.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::gain::{evaluate, Convention, ThetaLaw};
use crate::loss::Loss;

/// Default upper limit of the searches.
pub const DEFAULT_MAX_FEATURES: u64 = 1_000_000_000;
/// Default largest multiplicity tried in the degeneracy claim: the one default of the crate,
/// shared with the finite-neighbour search.
pub use crate::symmetric::DEFAULT_MAX_MULTIPLICITY;
/// Integers below this are scanned one by one.
const EXACT_SCAN: u64 = 512;
/// Ratio of the geometric grid beyond [`EXACT_SCAN`].
const GRID_RATIO: f64 = 1.02;
/// Relative margin for "beats".
const MARGIN: f64 = 1e-10;

fn beats(a: f64, b: f64) -> bool {
    a > b + MARGIN * a.abs().max(b.abs())
}

/// The smallest integer `x ∈ [start, max]` with `pred(x)`, by an exact scan to 512, a geometric
/// grid beyond, and bisection after the first grid hit (module docs).
pub fn first_true(
    start: u64,
    max: u64,
    mut pred: impl FnMut(u64) -> Result<bool>,
) -> Result<Option<u64>> {
    if start > max {
        return Ok(None);
    }
    let mut x = start;
    while x <= max.min(EXACT_SCAN) {
        if pred(x)? {
            return Ok(Some(x));
        }
        x += 1;
    }
    let mut prev = x - 1;
    while prev < max {
        let next = ((prev as f64 * GRID_RATIO).ceil() as u64)
            .max(prev + 1)
            .min(max);
        if pred(next)? {
            // pred(prev) false, pred(next) true: bisect.
            let (mut lo, mut hi) = (prev, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if pred(mid)? {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            return Ok(Some(hi));
        }
        prev = next;
    }
    Ok(None)
}

fn check_max(max_features: u64) -> Result<()> {
    if max_features < 2 {
        return Err(Error::invalid(
            "max features",
            format!("{max_features} must be at least 2"),
        ));
    }
    Ok(())
}

/// Smallest `N ≤ max_features` with `g(N, 2) > g(N, 1)` (all features embedded), small-angle law.
pub fn transition(
    n: usize,
    conv: Convention,
    loss: &Loss,
    max_features: u64,
) -> Result<Option<u64>> {
    transition_with(n, conv, loss, max_features, ThetaLaw::SmallAngle)
}

/// [`transition`] with a choice of θ law.
pub fn transition_with(
    n: usize,
    conv: Convention,
    loss: &Loss,
    max_features: u64,
    law: ThetaLaw,
) -> Result<Option<u64>> {
    check_max(max_features)?;
    loss.check()?;
    crate::theta::theta_min(n, 2.0)?;
    first_true(2, max_features, |nf| {
        let e = nf as f64;
        let g1 = evaluate(n, e, 1.0, conv, loss, law)?.gain;
        let g2 = evaluate(n, e, 2.0, conv, loss, law)?.gain;
        Ok(beats(g2, g1))
    })
}

/// Smallest `E ≤ max_features` at which the non-degenerate gain starts to fall:
/// `g(E') < g(E)` for the next `E' = E + 1` (`E < 1000`) or `E (1 + 10⁻³)`. `None`: `g`
/// increases all the way.
pub fn first_decrease(
    n: usize,
    conv: Convention,
    loss: &Loss,
    max_features: u64,
    law: ThetaLaw,
) -> Result<Option<u64>> {
    check_max(max_features)?;
    loss.check()?;
    first_true(1, max_features - 1, |e| {
        let x = e as f64;
        let x2 = if e < 1000 { x + 1.0 } else { x * 1.001 };
        let g = evaluate(n, x, 1.0, conv, loss, law)?.gain;
        let g2 = evaluate(n, x2, 1.0, conv, loss, law)?.gain;
        Ok(beats(g, g2))
    })
}

/// Smallest `N ≤ max_features` at which some multiplicity `2 ≤ m ≤ max_multiplicity` (`m ≤ N`)
/// beats `m = 1` with every feature embedded; `(N, best m)`.
pub fn first_degenerate(
    n: usize,
    conv: Convention,
    loss: &Loss,
    max_features: u64,
    max_multiplicity: u64,
    law: ThetaLaw,
) -> Result<Option<(u64, u64)>> {
    check_max(max_features)?;
    loss.check()?;
    let best_m = |nf: u64| -> Result<Option<u64>> {
        let e = nf as f64;
        let g1 = evaluate(n, e, 1.0, conv, loss, law)?.gain;
        let mut best: Option<(u64, f64)> = None;
        for m in 2..=max_multiplicity.min(nf) {
            let g = evaluate(n, e, m as f64, conv, loss, law)?.gain;
            if beats(g, g1) && best.map_or(true, |(_, gb)| g > gb) {
                best = Some((m, g));
            }
        }
        Ok(best.map(|b| b.0))
    };
    let hit = first_true(2, max_features, |nf| Ok(best_m(nf)?.is_some()))?;
    match hit {
        Some(nf) => Ok(best_m(nf)?.map(|m| (nf, m))),
        None => Ok(None),
    }
}

/// Phase data of one dimension in one convention.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DimPhase {
    /// Model dimension.
    pub n: usize,
    /// Convention.
    pub convention: Convention,
    /// Loss family.
    pub loss_fn: String,
    /// First `N` at which multiplicity 2 beats 1 (all embedded); null if none.
    pub transition_features: Option<u64>,
    /// First `E` at which the non-degenerate gain falls; null if it increases throughout.
    pub gain_peak_features: Option<u64>,
    /// First `N` at which any multiplicity `2..=M` beats 1; null if none.
    pub degenerate_features: Option<u64>,
    /// The winning multiplicity there.
    pub degenerate_multiplicity: Option<u64>,
    /// Search limit.
    pub max_features: u64,
}

/// Phase data for `n` in one convention.
pub fn dim_phase(
    n: usize,
    conv: Convention,
    loss: &Loss,
    max_features: u64,
    max_multiplicity: u64,
    law: ThetaLaw,
) -> Result<DimPhase> {
    if max_multiplicity < 2 {
        return Err(Error::invalid(
            "max multiplicity",
            format!("{max_multiplicity} must be at least 2"),
        ));
    }
    let deg = first_degenerate(n, conv, loss, max_features, max_multiplicity, law)?;
    Ok(DimPhase {
        n,
        convention: conv,
        loss_fn: loss.to_string(),
        transition_features: transition_with(n, conv, loss, max_features, law)?,
        gain_peak_features: first_decrease(n, conv, loss, max_features, law)?,
        degenerate_features: deg.map(|d| d.0),
        degenerate_multiplicity: deg.map(|d| d.1),
        max_features,
    })
}

/// Verdict on one of the note's claims in one convention.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClaimVerdict {
    /// The claim, in the note's words.
    pub claim: String,
    /// Convention.
    pub convention: Convention,
    /// Loss family.
    pub loss_fn: String,
    /// Whether it holds for every checked dimension it speaks about (null when no dimension it
    /// speaks about was checked).
    pub holds: Option<bool>,
    /// `holds`, `does not hold`, or `untested` (no checked dimension above the threshold).
    pub verdict: &'static str,
    /// Dimensions the claim speaks about that were checked.
    pub dims_checked: Vec<usize>,
    /// Those among them where it fails.
    pub counterexamples: Vec<usize>,
    /// Dimensions at or below the claim's threshold where the behaviour *does* occur
    /// (the note says it should: n = 2, 3 do not always embed more; n ≤ 5 may prefer degeneracy).
    pub below_threshold_violations: Vec<usize>,
    /// The smallest checked `n₀` such that the claim holds for every checked `n ≥ n₀`
    /// (the threshold the data supports; the note says 4 and 6). Null if it fails at the
    /// largest checked dimension.
    pub holds_from_n: Option<usize>,
    /// Numbers behind the verdict, per dimension.
    pub detail: String,
    /// Search limit.
    pub max_features: u64,
}

/// The note's claim "n > 3 always embeds more features".
pub const CLAIM_EMBED_MORE: &str = "n > 3 always embeds more features";
/// The note's claim "n > 5 never prefers degeneracy".
pub const CLAIM_NO_DEGENERACY: &str = "n > 5 never prefers degeneracy";

/// Checks both claims over `dims` in both conventions (module docs); four verdicts, claim
/// "embeds more" first, consistent convention first.
pub fn check_claims(
    dims: &[usize],
    loss: &Loss,
    max_features: u64,
    max_multiplicity: u64,
    law: ThetaLaw,
    on_step: &(dyn Fn() + Sync),
) -> Result<Vec<ClaimVerdict>> {
    use rayon::prelude::*;
    let jobs: Vec<(Convention, usize)> = Convention::ALL
        .iter()
        .flat_map(|&conv| dims.iter().map(move |&n| (conv, n)))
        .collect();
    let phases = jobs
        .par_iter()
        .map(|&(conv, n)| {
            let p = dim_phase(n, conv, loss, max_features, max_multiplicity, law);
            on_step();
            p
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(verdicts(&phases, loss, max_features))
}

/// Turns per-dimension phase data (both conventions) into the four claim verdicts.
pub fn verdicts(phases: &[DimPhase], loss: &Loss, max_features: u64) -> Vec<ClaimVerdict> {
    let mut out = Vec::new();
    for (claim, threshold) in [(CLAIM_EMBED_MORE, 3usize), (CLAIM_NO_DEGENERACY, 5usize)] {
        for conv in Convention::ALL {
            let mut checked = vec![];
            let mut bad = vec![];
            let mut below = vec![];
            let mut detail = vec![];
            let mut violations: Vec<(usize, bool)> = vec![];
            for p in phases.iter().filter(|p| p.convention == conv) {
                let violation = if threshold == 3 {
                    detail.push(match p.gain_peak_features {
                        Some(e) => format!("n={}: gain falls from E={e}", p.n),
                        None => format!("n={}: gain rises throughout", p.n),
                    });
                    p.gain_peak_features.is_some()
                } else {
                    detail.push(match (p.degenerate_features, p.degenerate_multiplicity) {
                        (Some(f), Some(m)) => {
                            format!("n={}: degeneracy wins from N={f} (m={m})", p.n)
                        }
                        _ => format!("n={}: degeneracy never wins", p.n),
                    });
                    p.degenerate_features.is_some()
                };
                violations.push((p.n, violation));
                if p.n > threshold {
                    checked.push(p.n);
                    if violation {
                        bad.push(p.n);
                    }
                } else if violation {
                    below.push(p.n);
                }
            }
            violations.sort();
            let mut holds_from_n = None;
            for &(n, v) in violations.iter().rev() {
                if v {
                    break;
                }
                holds_from_n = Some(n);
            }
            out.push(ClaimVerdict {
                claim: claim.to_string(),
                convention: conv,
                loss_fn: loss.to_string(),
                holds: (!checked.is_empty()).then_some(bad.is_empty()),
                verdict: match (checked.is_empty(), bad.is_empty()) {
                    (true, _) => "untested",
                    (false, true) => "holds",
                    (false, false) => "does not hold",
                },
                dims_checked: checked,
                counterexamples: bad,
                below_threshold_violations: below,
                holds_from_n,
                detail: detail.join("; "),
                max_features,
            });
        }
    }
    out
}

/// One row of `superpose phase`: the closed-form phase of one n in one convention beside the
/// finite-neighbour model's phase points (`symmetric::neighbour_phase`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseRow {
    /// Model dimension.
    pub n: usize,
    /// First N (all embedded) at which multiplicity 2 beats 1; null if none.
    pub transition_features: Option<u64>,
    /// Convention.
    pub convention: Convention,
    /// Loss family.
    pub loss_fn: String,
    /// First E at which the non-degenerate closed-form gain falls; null if never.
    pub gain_peak_features: Option<u64>,
    /// First N at which any multiplicity 2..=M beats 1 (all embedded).
    pub degenerate_features: Option<u64>,
    /// The winning multiplicity there.
    pub degenerate_multiplicity: Option<u64>,
    /// Limit of the closed-form searches.
    pub max_features: u64,
    /// Finite-neighbour model: first N at which the optimal E is below N.
    pub embed_drop_features: Option<u64>,
    /// Finite-neighbour model: first N at which the optimal multiplicity exceeds 1.
    pub multiplicity_rise_features: Option<u64>,
    /// K used by the finite-neighbour model.
    pub neighbours: Option<f64>,
    /// Limit of the finite-neighbour scan.
    pub neighbour_max_features: u64,
}

/// The rows of `superpose phase`: per n, the finite-neighbour scan up to
/// `neighbour_max_features` (0 skips it; `neighbours` overrides K), then one row per
/// convention.
#[allow(clippy::too_many_arguments)]
pub fn phase_rows(
    dims: &[usize],
    conventions: &[Convention],
    loss: &Loss,
    max_features: u64,
    max_multiplicity: u64,
    law: ThetaLaw,
    neighbours: Option<f64>,
    neighbour_max_features: u64,
    on_dim: &dyn Fn(),
) -> Result<Vec<PhaseRow>> {
    use crate::symmetric::{default_neighbours, neighbour_phase, Options};
    let mut rows = Vec::new();
    for &n in dims {
        let o = Options {
            neighbours,
            max_multiplicity,
            law,
            ..Options::default()
        };
        let (np, k) = if neighbour_max_features > 0 {
            let k = match neighbours {
                Some(k) => k,
                None => default_neighbours(n)?.value,
            };
            (
                Some(neighbour_phase(n, loss, &o, neighbour_max_features)?),
                Some(k),
            )
        } else {
            (None, None)
        };
        for &conv in conventions {
            let p = dim_phase(n, conv, loss, max_features, max_multiplicity, law)?;
            rows.push(PhaseRow {
                n,
                transition_features: p.transition_features,
                convention: conv,
                loss_fn: p.loss_fn,
                gain_peak_features: p.gain_peak_features,
                degenerate_features: p.degenerate_features,
                degenerate_multiplicity: p.degenerate_multiplicity,
                max_features: p.max_features,
                embed_drop_features: np.and_then(|x| x.embed_drop_features),
                multiplicity_rise_features: np.and_then(|x| x.multiplicity_rise_features),
                neighbours: k,
                neighbour_max_features,
            });
        }
        on_dim();
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dense reference: every N (no grid) up to `max`.
    fn dense_transition(n: usize, conv: Convention, max: u64) -> Option<u64> {
        (2..=max).find(|&nf| {
            let e = nf as f64;
            let g1 = evaluate(n, e, 1.0, conv, &Loss::L2, ThetaLaw::SmallAngle)
                .unwrap()
                .gain;
            let g2 = evaluate(n, e, 2.0, conv, &Loss::L2, ThetaLaw::SmallAngle)
                .unwrap()
                .gain;
            beats(g2, g1)
        })
    }

    #[test]
    fn first_true_finds_the_first_crossing() {
        for target in [2u64, 7, 512, 513, 514, 1000, 123_457, 999_999_999] {
            let got = first_true(2, 1_000_000_000, |x| Ok(x >= target)).unwrap();
            assert_eq!(got, Some(target));
        }
        assert_eq!(first_true(2, 10_000, |_| Ok(false)).unwrap(), None);
        assert_eq!(first_true(5, 4, |_| Ok(true)).unwrap(), None);
    }

    /// The grid search agrees with a dense scan of every N up to 20 000, in both conventions.
    #[test]
    fn transition_matches_dense_scan() {
        for conv in Convention::ALL {
            for n in [2usize, 3, 4, 5] {
                let dense = dense_transition(n, conv, 20_000);
                let grid = transition(n, conv, &Loss::L2, 20_000).unwrap();
                assert_eq!(grid, dense, "{conv} n={n}");
            }
        }
    }

    /// In 2-D the θ law is exact (θ = 2π/D): the consistent transition is where h(N/2) > h(N)
    /// with h(D) = D f(cos(2π/D))/12, found here by brute force from the formula itself.
    #[test]
    fn two_dimensional_transition_from_first_principles() {
        let h = |d: f64| {
            let c = (2.0 * std::f64::consts::PI / d).cos().max(0.0);
            d * (1.0 - c) * (2.0 + c) * (2.0 + c) / 12.0
        };
        let expect = (2u64..10_000).find(|&nf| {
            let a = h(nf as f64 / 2.0);
            let b = h(nf as f64);
            a > b + 1e-10 * a.abs().max(b.abs())
        });
        let got = transition(2, Convention::Consistent, &Loss::L2, 10_000).unwrap();
        assert_eq!(got, expect);
        assert!(got.is_some());
    }

    /// Small-angle asymptotics: in the note convention j = 2 beats j = 1 at large N iff
    /// (2/3)·2^{2/d} > 1, i.e. d < 2/log2(1.5) ≈ 3.42 (n ≤ 4); in the consistent convention
    /// iff 2^{2/d−1} > 1, i.e. d < 2 (n = 2).
    #[test]
    fn asymptotic_thresholds() {
        let max = 1_000_000_000;
        assert!(transition(4, Convention::Note, &Loss::L2, max)
            .unwrap()
            .is_some());
        assert!(transition(5, Convention::Note, &Loss::L2, max)
            .unwrap()
            .is_none());
        assert!(transition(2, Convention::Consistent, &Loss::L2, max)
            .unwrap()
            .is_some());
        assert!(transition(4, Convention::Consistent, &Loss::L2, max)
            .unwrap()
            .is_none());
    }

    #[test]
    fn claims_are_structured() {
        let v = check_claims(
            &[2, 3, 4, 6, 8],
            &Loss::L2,
            1_000_000,
            8,
            ThetaLaw::SmallAngle,
            &|| {},
        )
        .unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].claim, CLAIM_EMBED_MORE);
        assert_eq!(v[0].convention, Convention::Consistent);
        assert_eq!(v[0].dims_checked, vec![4, 6, 8]);
        assert_eq!(v[2].dims_checked, vec![6, 8]);
        // n = 2 does stop embedding more (θ = 2π/D exactly, gain peaks at D = 6).
        assert!(v[0].below_threshold_violations.contains(&2));
        assert_eq!(v[0].holds_from_n, Some(3));
        // Degeneracy: from n = 3 in the consistent convention (only 2-D transitions); the note's
        // mixture transitions in 3-D and 4-D, so its threshold is 6 among the checked dims.
        assert_eq!(v[2].holds_from_n, Some(3));
        assert_eq!(v[3].holds_from_n, Some(6));
        for x in &v {
            assert_eq!(x.holds, Some(x.counterexamples.is_empty()));
        }
        // No checked dimension above a claim's threshold: untested, never a failure.
        let v = check_claims(&[4], &Loss::L2, 10_000, 8, ThetaLaw::SmallAngle, &|| {}).unwrap();
        assert_eq!(v[2].dims_checked, Vec::<usize>::new());
        assert_eq!((v[2].holds, v[2].verdict), (None, "untested"));
        assert_eq!(
            v[0].verdict,
            if v[0].counterexamples.is_empty() {
                "holds"
            } else {
                "does not hold"
            }
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(transition(0, Convention::Note, &Loss::L2, 100).is_err());
        assert!(transition(3, Convention::Note, &Loss::L2, 1).is_err());
        assert!(transition(3, Convention::Note, &Loss::Huber { delta: -1.0 }, 100).is_err());
    }
}
