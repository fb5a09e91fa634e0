//! Sphere-packing densities, Hermite constants and kissing numbers.
//!
//! The literature values live in `data/packing.csv` (d = 1..48) and `data/kissing.csv`
//! (d = 1..32), each row with its source and status; they are embedded with `include_str!` and
//! parsed once. Beyond the tables, [`hermite`] gives rigorous finite-d bounds:
//!
//! * lower: the best orthogonal direct sum of tabulated lattices (`γ_d ≥ (Π γ_{d_i}^{d_i})^{1/d}`,
//!   `d = Σ d_i`), or Minkowski–Hlawka, `δ_d ≥ ζ(d) / 2^{d−1}` (a lattice with that density
//!   exists), whichever is larger;
//! * upper: Blichfeldt (1929), `δ_d ≤ ((d+2)/2) · 2^{−d/2}` (no packing is denser).
//!
//! # Notation
//!
//! `δ_d` is the packing density (fraction of `R^d` covered), `V_d` the unit-ball volume, and the
//! Hermite constant `γ_d = 4 (δ_d / V_d)^{2/d}`. The note's `ξ_d = 2πe γ_d / d` tends to a value
//! in `[1, 1.7434]` only as `d → ∞` ([`XI_BAND`]); at `d = 8` it is `2πe·2/8 ≈ 4.27`.

use serde::{Deserialize, Serialize};
use std::f64::consts::{E, LN_10, LN_2, PI};
use std::sync::LazyLock;

use crate::error::{Error, Result};
use crate::sphere::ln_ball_volume;

/// Where a number comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// A proven value (exact).
    #[serde(rename = "proven")]
    Proven,
    /// The best known construction (a lower bound on the optimum).
    #[serde(rename = "best known")]
    BestKnown,
    /// A rigorous bound (lower or upper), not a construction.
    #[serde(rename = "bound")]
    Bound,
    /// The note's `d → ∞` band `ξ ∈ [1, 1.7434]`, not a finite-d statement.
    #[serde(rename = "asymptotic")]
    Asymptotic,
}

impl Status {
    /// The word used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proven => "proven",
            Status::BestKnown => "best known",
            Status::Bound => "bound",
            Status::Asymptotic => "asymptotic",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "proven" => Some(Status::Proven),
            "best known" => Some(Status::BestKnown),
            "bound" => Some(Status::Bound),
            "asymptotic" => Some(Status::Asymptotic),
            _ => None,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of `data/packing.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct PackingRow {
    /// Dimension of the packing.
    pub d: usize,
    /// Best known lattice.
    pub lattice: String,
    /// Its density.
    pub lattice_density: f64,
    /// Its Hermite constant `γ_d = 4 (δ/V_d)^{2/d}` (exact where `status` is proven).
    pub hermite: f64,
    /// Status of `hermite`: proven or best known.
    pub status: Status,
    /// Best known packing (may be non-lattice).
    pub best_packing: String,
    /// Its density.
    pub density: f64,
    /// Proven optimal or best known.
    pub density_status: Status,
    /// Upper bound on the density of any packing (Cohn's table).
    pub density_upper: f64,
    /// Sources.
    pub source: String,
}

/// One row of `data/kissing.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct KissingRow {
    /// Dimension.
    pub d: usize,
    /// Best known kissing configuration.
    pub lower: u64,
    /// Best upper bound.
    pub upper: u64,
    /// Proven (lower = upper) or bound.
    pub status: Status,
    /// Sources.
    pub source: String,
}

/// One row of `data/tammes.csv`: the best known code of `points` points on `S²`.
#[derive(Debug, Clone, Serialize)]
pub struct TammesRow {
    /// Number of points.
    pub points: usize,
    /// Minimal angle, radians.
    pub min_angle: f64,
    /// Proven optimal or best known.
    pub status: Status,
    /// Source.
    pub source: String,
}

const PACKING_CSV: &str = include_str!("../data/packing.csv");
const KISSING_CSV: &str = include_str!("../data/kissing.csv");
const TAMMES_CSV: &str = include_str!("../data/tammes.csv");

/// Reads a `#`-commented CSV into header-keyed records.
fn records(name: &str, text: &str) -> Result<Vec<csv::StringRecord>> {
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    rdr.records()
        .map(|r| r.map_err(|e| Error::parse(name, e.to_string())))
        .collect()
}

fn column(name: &str, text: &str, col: &str) -> Result<usize> {
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| Error::parse(name, e.to_string()))?;
    headers
        .iter()
        .position(|h| h == col)
        .ok_or_else(|| Error::parse(name, format!("no column {col}")))
}

struct Cols<'a> {
    name: &'a str,
    text: &'a str,
}

impl Cols<'_> {
    fn get<T: std::str::FromStr>(&self, rec: &csv::StringRecord, col: &str) -> Result<T> {
        let i = column(self.name, self.text, col)?;
        let s = rec.get(i).unwrap_or("");
        s.trim()
            .parse()
            .map_err(|_| Error::parse(self.name, format!("column {col}: cannot parse {s:?}")))
    }
    fn status(&self, rec: &csv::StringRecord, col: &str) -> Result<Status> {
        let s: String = self.get(rec, col)?;
        Status::parse(&s)
            .ok_or_else(|| Error::parse(self.name, format!("column {col}: unknown status {s:?}")))
    }
}

fn parse_packing() -> Result<Vec<PackingRow>> {
    let c = Cols {
        name: "data/packing.csv",
        text: PACKING_CSV,
    };
    records(c.name, c.text)?
        .iter()
        .map(|r| {
            Ok(PackingRow {
                d: c.get(r, "d")?,
                lattice: c.get(r, "lattice")?,
                lattice_density: c.get(r, "lattice_density")?,
                hermite: c.get(r, "hermite")?,
                status: c.status(r, "status")?,
                best_packing: c.get(r, "best_packing")?,
                density: c.get(r, "density")?,
                density_status: c.status(r, "density_status")?,
                density_upper: c.get(r, "density_upper")?,
                source: c.get(r, "source")?,
            })
        })
        .collect()
}

fn parse_kissing() -> Result<Vec<KissingRow>> {
    let c = Cols {
        name: "data/kissing.csv",
        text: KISSING_CSV,
    };
    records(c.name, c.text)?
        .iter()
        .map(|r| {
            Ok(KissingRow {
                d: c.get(r, "d")?,
                lower: c.get(r, "kissing_lower")?,
                upper: c.get(r, "kissing_upper")?,
                status: c.status(r, "status")?,
                source: c.get(r, "source")?,
            })
        })
        .collect()
}

fn parse_tammes() -> Result<Vec<TammesRow>> {
    let c = Cols {
        name: "data/tammes.csv",
        text: TAMMES_CSV,
    };
    records(c.name, c.text)?
        .iter()
        .map(|r| {
            let deg: f64 = c.get(r, "min_angle_deg")?;
            Ok(TammesRow {
                points: c.get(r, "points")?,
                min_angle: deg.to_radians(),
                status: c.status(r, "status")?,
                source: c.get(r, "source")?,
            })
        })
        .collect()
}

// The tables are compiled into the binary and checked by the tests below, so a parse failure is
// a build defect, not user input: failing loudly at first use is correct.
static PACKING: LazyLock<Vec<PackingRow>> =
    LazyLock::new(|| parse_packing().expect("data/packing.csv is checked by the test suite"));
static KISSING: LazyLock<Vec<KissingRow>> =
    LazyLock::new(|| parse_kissing().expect("data/kissing.csv is checked by the test suite"));
static TAMMES: LazyLock<Vec<TammesRow>> =
    LazyLock::new(|| parse_tammes().expect("data/tammes.csv is checked by the test suite"));

/// All rows of `data/packing.csv`, d = 1, 2, ….
pub fn packing_table() -> &'static [PackingRow] {
    &PACKING
}

/// All rows of `data/kissing.csv`, d = 1, 2, ….
pub fn kissing_table() -> &'static [KissingRow] {
    &KISSING
}

/// All rows of `data/tammes.csv`.
pub fn tammes_table() -> &'static [TammesRow] {
    &TAMMES
}

/// The packing row for dimension `d`, if tabulated.
pub fn packing_row(d: usize) -> Option<&'static PackingRow> {
    PACKING.iter().find(|r| r.d == d)
}

/// The kissing row for dimension `d`, if tabulated.
pub fn kissing_row(d: usize) -> Option<&'static KissingRow> {
    KISSING.iter().find(|r| r.d == d)
}

/// Lower and upper figures for the kissing number `τ_d` in `R^d`, inside or beyond the table.
#[derive(Debug, Clone, Serialize)]
pub struct KissingBounds {
    /// Dimension.
    pub d: usize,
    /// A lower bound (a construction), `None` when it exceeds 2^53.
    pub lower: Option<u64>,
    /// An upper bound, `None` when it exceeds 2^53.
    pub upper: Option<u64>,
    /// `log10` of the lower figure.
    pub log10_lower: f64,
    /// `log10` of the upper figure (always computed).
    pub log10_upper: f64,
    /// `proven` (lower = upper) or `bound`.
    pub status: Status,
    /// Where the figures come from.
    pub source: String,
}

/// Largest dimension for which Levenshtein's bound is evaluated (0.1 s at 10^6; beyond it the
/// cap-packing bound is used).
pub const LEVENSHTEIN_MAX_D: usize = 1_000_000;

/// Kissing-number figures for any `d ≥ 1`.
///
/// # Formula
///
/// `d ≤ 32`: `data/kissing.csv`. Beyond, both rigorous (status [`Status::Bound`]):
/// * lower: the larger of `τ_32 + 2(d − 32)` (a kissing configuration in `R^{d−1}` plus
///   `±e_d`, which are at 90° to it, gives `τ_d ≥ τ_{d−1} + 2`) and the greedy bound
///   `τ_d = A(d, π/3) ≥ 1/μ(π/3)` ([`crate::random_codes::ln_capacity_greedy`]);
/// * upper: Levenshtein's `L(d, ½)` ([`crate::bounds::ln_levenshtein_bound`]) for
///   `d ≤` [`LEVENSHTEIN_MAX_D`], beyond it the cap-packing bound `τ_d ≤ 1/μ(π/6)` (the caps of
///   angular radius 30° around kissing points, pairwise ≥ 60° apart, are disjoint;
///   [`crate::random_codes::ln_cap_measure`]), weaker but rigorous, so that the log is always
///   there.
///
/// Integers are rounded safely: `⌊x (1 − 10^{−9})⌋` for the lower figure, `⌊x (1 + 10^{−9})⌋`
/// for the upper (the count is an integer and `x` carries ~1e-12 relative error).
pub fn kissing_bounds(d: usize) -> Result<KissingBounds> {
    if d == 0 {
        return Err(Error::invalid("dimension d", "must be at least 1"));
    }
    if let Some(r) = kissing_row(d) {
        return Ok(KissingBounds {
            d,
            lower: Some(r.lower),
            upper: Some(r.upper),
            log10_lower: (r.lower as f64).log10(),
            log10_upper: (r.upper as f64).log10(),
            status: r.status,
            source: r.source.clone(),
        });
    }
    let last = KISSING.last().map_or((0, 0), |r| (r.d, r.lower));
    let step = last.1 + 2 * (d - last.0) as u64;
    let ln_step = (step as f64).ln();
    let ln_greedy = crate::random_codes::ln_capacity_greedy(d, PI / 3.0)?;
    let ln_lower = ln_step.max(ln_greedy);
    let levenshtein = d <= LEVENSHTEIN_MAX_D;
    let ln_upper = if levenshtein {
        crate::bounds::ln_levenshtein_bound(d, 0.5)?
    } else {
        -crate::random_codes::ln_cap_measure(d, PI / 6.0)?
    };
    let as_int = |ln: f64, factor: f64| {
        let x = ln.exp() * factor;
        (x < 9.007e15).then(|| x.floor() as u64)
    };
    Ok(KissingBounds {
        d,
        lower: if ln_greedy > ln_step {
            as_int(ln_greedy, 1.0 - 1e-9)
        } else {
            Some(step)
        },
        upper: as_int(ln_upper, 1.0 + 1e-9),
        log10_lower: ln_lower / LN_10,
        log10_upper: ln_upper / LN_10,
        status: Status::Bound,
        source: format!(
            "lower: {}; upper: {}",
            if ln_greedy > ln_step {
                "greedy 1/mu(60 deg) (Chabauty-Shannon-Wyner)"
            } else {
                "tau_32 + 2(d-32) (add +-e_i to the d = 32 record)"
            },
            if levenshtein {
                "Levenshtein L(d,1/2)"
            } else {
                "cap packing 1/mu(30 deg)"
            }
        ),
    })
}

/// The large-d band of `ξ = 2πe γ_d / d`: `[1, 1.7434]`, from Minkowski–Hlawka (lower) and
/// Kabatiansky–Levenshtein (upper, `4 · 2^{−2·0.5990557669}` = 1.743381694). Only a limit.
pub const XI_BAND: (f64, f64) = (1.0, 1.743_381_694);

/// `ξ_d = 2πe γ_d / d`.
pub fn xi(d: usize, gamma: f64) -> f64 {
    2.0 * PI * E * gamma / d as f64
}

/// `ln γ_d` from a density: `γ_d = 4 (δ/V_d)^{2/d}`.
///
/// # Formula
///
/// `ln γ_d = ln 4 + (2/d)(ln δ − ln V_d)`.
pub fn ln_hermite_from_density(d: usize, ln_density: f64) -> f64 {
    let d = d as f64;
    2.0 * LN_2 + (2.0 / d) * (ln_density - ln_ball_volume(d))
}

/// `ln δ` from `ln γ_d` (inverse of [`ln_hermite_from_density`]).
pub fn ln_density_from_hermite(d: usize, ln_gamma_d: f64) -> f64 {
    let d = d as f64;
    0.5 * d * (ln_gamma_d - 2.0 * LN_2) + ln_ball_volume(d)
}

/// Riemann ζ(s) for real `s ≥ 2`: direct sum to 1000 terms with the Euler–Maclaurin tail
/// `∫_K^∞ x^{−s} dx + K^{−s}/2 + s K^{−s−1}/12` (relative error below 1e-14 for s ≥ 2).
pub fn zeta(s: f64) -> f64 {
    if s >= 40.0 {
        // The tail beyond k = 10 is below 11^{−39} relative: ten terms are exact in double.
        return (1..=10).rev().map(|k| (k as f64).powf(-s)).sum();
    }
    let k_max = 1000usize;
    let mut sum = 0.0;
    for k in (1..k_max).rev() {
        sum += (k as f64).powf(-s);
    }
    let k = k_max as f64;
    sum + k.powf(1.0 - s) / (s - 1.0) + 0.5 * k.powf(-s) + s * k.powf(-s - 1.0) / 12.0
}

/// `ln δ` of the Minkowski–Hlawka lower bound, `δ_d ≥ ζ(d)/2^{d−1}` (d ≥ 2; d = 1 gives 1).
pub fn ln_density_minkowski_hlawka(d: usize) -> f64 {
    if d < 2 {
        return 0.0;
    }
    zeta(d as f64).ln() - (d as f64 - 1.0) * LN_2
}

/// `ln δ` of Blichfeldt's upper bound, `δ_d ≤ ((d+2)/2) 2^{−d/2}`, capped at 1.
pub fn ln_density_blichfeldt(d: usize) -> f64 {
    let d = d as f64;
    (((d + 2.0) / 2.0).ln() - 0.5 * d * LN_2).min(0.0)
}

/// Largest dimension for which [`ln_hermite_direct_sum`] is tabulated. Beyond it the
/// Minkowski–Hlawka bound is larger anyway (it passes γ = 6, the best per-dimension value of any
/// tabulated lattice, near d ≈ 95).
pub const DIRECT_SUM_MAX_D: usize = 256;

static DIRECT_SUM: LazyLock<Vec<f64>> = LazyLock::new(|| {
    // best[d] = max Σ d_i ln γ_{d_i} over ways of writing d = Σ d_i with tabulated d_i.
    let table: Vec<(usize, f64)> = PACKING.iter().map(|r| (r.d, r.hermite.ln())).collect();
    let mut best = vec![f64::NEG_INFINITY; DIRECT_SUM_MAX_D + 1];
    best[0] = 0.0;
    for d in 1..=DIRECT_SUM_MAX_D {
        for &(k, lg) in &table {
            if k <= d && best[d - k].is_finite() {
                best[d] = best[d].max(best[d - k] + k as f64 * lg);
            }
        }
    }
    best
});

/// `ln` of the Hermite constant of the best orthogonal direct sum of tabulated lattices in
/// dimension `d` (`1 ≤ d ≤` [`DIRECT_SUM_MAX_D`]), a rigorous lower bound on `ln γ_d`.
///
/// # Formula
///
/// Scale lattices `L_i ⊂ R^{d_i}` to minimal norm 1, so `det L_i = γ(L_i)^{−d_i}`. The orthogonal
/// sum `L_1 ⊕ … ⊕ L_k` has minimal norm 1 and determinant `Π det L_i`, hence
/// `γ_d ≥ (Π γ_{d_i}^{d_i})^{1/d}` for `d = Σ d_i` (Conway & Sloane, SPLAG ch. 1 §1.5; the
/// best decomposition is a small dynamic programme over the table). With `P48p` (γ = 6) this
/// beats Minkowski–Hlawka for `49 ≤ d ≲ 95`.
pub fn ln_hermite_direct_sum(d: usize) -> Option<f64> {
    DIRECT_SUM
        .get(d)
        .copied()
        .filter(|x| d >= 1 && x.is_finite())
        .map(|s| s / d as f64)
}

/// A Hermite constant with its uncertainty and source.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Hermite {
    /// Dimension `d`.
    pub d: usize,
    /// The value the θ law uses: the tabulated lattice constant, or beyond the table the
    /// Minkowski–Hlawka lower bound.
    pub value: f64,
    /// A lower figure: what a known (or proven to exist) lattice achieves.
    pub lower: f64,
    /// An upper figure from an upper bound on the density of any packing.
    pub upper: f64,
    /// Status of `value`.
    pub status: Status,
}

/// `γ_d` for `d ≥ 1`, with lower and upper figures.
///
/// Inside the table (d ≤ 48): `value = lower` is the best known lattice's constant (proven for
/// d = 1..8 and 24), `upper` comes from Cohn's upper bound on the density of any packing.
/// Beyond it: `value = lower` is the larger of two rigorous lattice lower bounds, the best
/// orthogonal sum of tabulated lattices ([`ln_hermite_direct_sum`], wins for d ≲ 95) and
/// Minkowski–Hlawka (wins beyond), and `upper` comes from Blichfeldt (status [`Status::Bound`]).
pub fn hermite(d: usize) -> Result<Hermite> {
    if d == 0 {
        return Err(Error::invalid("packing dimension d", "must be at least 1"));
    }
    if let Some(r) = packing_row(d) {
        let upper = ln_hermite_from_density(d, r.density_upper.ln()).exp();
        return Ok(Hermite {
            d,
            value: r.hermite,
            lower: r.hermite,
            upper: upper.max(r.hermite),
            status: r.status,
        });
    }
    let mh = ln_hermite_from_density(d, ln_density_minkowski_hlawka(d));
    let lower = ln_hermite_direct_sum(d).map_or(mh, |ds| ds.max(mh)).exp();
    let upper = ln_hermite_from_density(d, ln_density_blichfeldt(d)).exp();
    Ok(Hermite {
        d,
        value: lower,
        lower,
        upper,
        status: Status::Bound,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::{assert_close, REL_TIGHT};

    #[test]
    fn tables_parse_and_are_consistent() {
        let p = parse_packing().unwrap();
        assert_eq!(p.len(), 48);
        for (i, r) in p.iter().enumerate() {
            assert_eq!(r.d, i + 1);
            assert!(
                r.lattice_density <= r.density * (1.0 + 1e-12),
                "d = {}",
                r.d
            );
            assert!(r.density <= r.density_upper * (1.0 + 1e-12), "d = {}", r.d);
            // γ from the lattice density agrees with the tabulated γ.
            let g = ln_hermite_from_density(r.d, r.lattice_density.ln()).exp();
            assert_close(g, r.hermite, 1e-9);
        }
        let k = parse_kissing().unwrap();
        assert_eq!(k.len(), 32);
        for r in &k {
            assert!(r.lower <= r.upper);
            assert_eq!(
                r.status == Status::Proven,
                r.lower == r.upper,
                "d = {}",
                r.d
            );
        }
        let t = parse_tammes().unwrap();
        assert!(t.len() >= 20);
        for w in t.windows(2) {
            assert!(w[1].min_angle <= w[0].min_angle + 1e-12);
        }
    }

    /// Exact Hermite constants: γ_d^d = 1, 4/3, 2, 4, 8, 64/3, 64, 2^8 (d = 1..8), γ_24 = 4
    /// (Conway & Sloane, SPLAG, Table 1.2; Cohn–Kumar 2009).
    #[test]
    fn exact_hermite_constants_match_closed_forms() {
        let pow: [f64; 8] = [1.0, 4.0 / 3.0, 2.0, 4.0, 8.0, 64.0 / 3.0, 64.0, 256.0];
        for (i, p) in pow.iter().enumerate() {
            let d = i + 1;
            let h = hermite(d).unwrap();
            assert_eq!(h.status, Status::Proven);
            assert_close(h.value, p.powf(1.0 / d as f64), REL_TIGHT);
        }
        let h24 = hermite(24).unwrap();
        assert_close(h24.value, 4.0, REL_TIGHT);
        assert_eq!(h24.status, Status::Proven);
    }

    /// Exact densities: δ = γ^{d/2} V_d / 2^d; e.g. δ_2 = π/√12, δ_3 = π/√18, δ_8 = π⁴/384,
    /// δ_24 = π¹²/12!.
    #[test]
    fn exact_densities_match_closed_forms() {
        let closed = [
            (1, 1.0),
            (2, PI / 12f64.sqrt()),
            (3, PI / 18f64.sqrt()),
            (4, PI * PI / 16.0),
            (5, PI * PI * 2f64.sqrt() / 30.0),
            (6, PI.powi(3) / (48.0 * 3f64.sqrt())),
            (7, PI.powi(3) / 105.0),
            (8, PI.powi(4) / 384.0),
            (24, PI.powi(12) / 479_001_600.0),
        ];
        for (d, delta) in closed {
            let r = packing_row(d).unwrap();
            assert_close(r.lattice_density, delta, REL_TIGHT);
            let from_gamma = ln_density_from_hermite(d, r.hermite.ln()).exp();
            assert_close(from_gamma, delta, 1e-12);
        }
    }

    #[test]
    fn xi_at_8_and_24_is_far_outside_the_asymptotic_band() {
        assert_close(
            xi(8, hermite(8).unwrap().value),
            2.0 * PI * E * 2.0 / 8.0,
            REL_TIGHT,
        );
        assert!(xi(8, 2.0) > 4.26 && xi(8, 2.0) < 4.28);
        let x24 = xi(24, 4.0);
        assert!(x24 > 2.84 && x24 < 2.86);
        assert!(x24 > XI_BAND.1);
    }

    #[test]
    fn bounds_bracket_the_table_and_continue_beyond_it() {
        for d in 2..=48 {
            let r = packing_row(d).unwrap();
            let mh = ln_density_minkowski_hlawka(d).exp();
            let bl = ln_density_blichfeldt(d).exp();
            // Every tabulated lattice beats Minkowski–Hlawka and respects Blichfeldt.
            assert!(r.lattice_density >= mh, "d = {d}");
            assert!(r.density_upper <= bl * (1.0 + 1e-12), "d = {d}");
        }
        for d in [49, 100, 1000, 999_999] {
            let h = hermite(d).unwrap();
            assert_eq!(h.status, Status::Bound);
            assert!(h.lower.is_finite() && h.upper.is_finite() && h.lower < h.upper);
            let xl = xi(d, h.lower);
            let xu = xi(d, h.upper);
            // ξ from Minkowski–Hlawka → 1 and from Blichfeldt → 2 as d → ∞.
            if d == 999_999 {
                assert!((xl - 1.0).abs() < 1e-3, "{xl}");
                assert!((xu - 2.0).abs() < 1e-3, "{xu}");
            }
        }
    }

    /// Orthogonal sums: `P48p ⊕ Z` in d = 49 gives `γ ≥ 6^{48/49}`, `Leech` in d = 72 gives
    /// `(6^48 4^24)^{1/72}`; far out Minkowski–Hlawka takes over, and the lower figure never exceeds Blichfeldt.
    #[test]
    fn direct_sums_extend_the_table() {
        assert_close(hermite(49).unwrap().lower, 6f64.powf(48.0 / 49.0), 1e-12);
        let p48_leech = (48.0 * 6f64.ln() + 24.0 * 4f64.ln()) / 72.0;
        assert_close(hermite(72).unwrap().lower, p48_leech.exp(), 1e-12);
        // In d = 96, P48p ⊕ P48p has γ = 6, but Minkowski–Hlawka already guarantees more.
        assert_close(ln_hermite_direct_sum(96).unwrap(), 6f64.ln(), 1e-12);
        assert!(hermite(96).unwrap().lower > 6.0);
        for d in 1..=48 {
            let ds = ln_hermite_direct_sum(d).unwrap();
            assert!(
                ds >= packing_row(d).unwrap().hermite.ln() - 1e-15,
                "d = {d}"
            );
        }
        let d = 300;
        let mh = ln_hermite_from_density(d, ln_density_minkowski_hlawka(d)).exp();
        assert_close(hermite(d).unwrap().lower, mh, REL_TIGHT);
        for d in 49..=DIRECT_SUM_MAX_D + 5 {
            let h = hermite(d).unwrap();
            assert!(h.lower < h.upper, "d = {d}");
        }
    }

    /// Beyond the kissing table: the figures continue the table (lower ≥ τ_32 + 2, upper from
    /// Levenshtein ≥ lower), the greedy bound takes over from the step bound at large d, and
    /// inside the table the rows come back unchanged.
    #[test]
    fn kissing_beyond_the_table() {
        let k24 = kissing_bounds(24).unwrap();
        assert_eq!((k24.lower, k24.upper), (Some(196_560), Some(196_560)));
        let k33 = kissing_bounds(33).unwrap();
        assert_eq!(k33.lower, Some(kissing_row(32).unwrap().lower + 2));
        assert!(k33.upper.unwrap() > kissing_row(32).unwrap().upper);
        assert_eq!(k33.status, Status::Bound);
        for d in [33usize, 50, 100, 200, 1000, 10_000] {
            let k = kissing_bounds(d).unwrap();
            assert!(k.log10_lower < k.log10_upper, "d = {d}");
        }
        // Greedy rate log2(2/√3) = 0.2075 per dimension wins far out.
        let k = kissing_bounds(10_000).unwrap();
        let rate = k.log10_lower * LN_10 / (10_000.0 * LN_2);
        assert!((rate - 0.2075).abs() < 0.01, "{rate}");
        // Beyond the Levenshtein range the cap-packing bound: above the lower figure, and
        // weaker than Levenshtein's where both are computed.
        let far = kissing_bounds(2 * LEVENSHTEIN_MAX_D).unwrap();
        assert!(far.log10_upper > far.log10_lower && far.log10_upper.is_finite());
        let d = LEVENSHTEIN_MAX_D;
        let cap = -crate::random_codes::ln_cap_measure(d, PI / 6.0).unwrap() / LN_10;
        assert!(cap > kissing_bounds(d).unwrap().log10_upper);
    }

    #[test]
    fn zeta_values() {
        assert_close(zeta(2.0), PI * PI / 6.0, 1e-12);
        assert_close(zeta(4.0), PI.powi(4) / 90.0, 1e-14);
        // ζ(40) = 1 + 2^{−40} + 3^{−40} + … ; both branches agree at the switch.
        assert_close(zeta(40.0), 1.0 + 2f64.powi(-40) + 3f64.powi(-40), 1e-16);
        assert_close(zeta(40.0 - 1e-12), zeta(40.0), 1e-15);
    }

    #[test]
    fn kissing_known_values() {
        assert_eq!(kissing_row(3).unwrap().lower, 12);
        assert_eq!(kissing_row(8).unwrap().upper, 240);
        assert_eq!(kissing_row(24).unwrap().lower, 196_560);
    }
}
