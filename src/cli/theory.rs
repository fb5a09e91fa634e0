//! `packing`, `theta`, `capacity`: the theory calculator.

use clap::Args;
use serde::Serialize;
use std::io::Write;

use super::output::{emit, Format};
use super::{Counts, Reals};
use superpose::error::Result;
use superpose::packing::{hermite, kissing_bounds, xi, Status};
use superpose::sphere::{ball_volume, ln_ball_volume, ln_sphere_area, sphere_area};
use superpose::theta::{capacity as capacity_of, theta_min, Capacity, ThetaEstimate};

/// `superpose packing --dims L`.
#[derive(Debug, Args)]
pub struct PackingArgs {
    /// Packing dimensions d (list or range, e.g. `1..24` or `8,24,100`).
    #[arg(long, visible_alias = "dim", value_name = "LIST", value_parser = super::counts, default_value = "1..24")]
    pub dims: Counts,
}

/// One row of `packing`.
#[derive(Debug, Serialize)]
pub struct PackingOut {
    /// Packing dimension.
    pub d: usize,
    /// `V_d` (null when it under/overflows).
    pub ball_volume: Option<f64>,
    /// `ln V_d`.
    pub log_ball_volume: f64,
    /// `S_d`, area of the unit sphere `S^d ⊂ R^{d+1}` on which a d-dimensional packing lives.
    pub sphere_area: Option<f64>,
    /// `ln S_d`.
    pub log_sphere_area: f64,
    /// Density implied by `hermite`: `δ = V_d (γ/4)^{d/2}`.
    pub density: Option<f64>,
    /// `ln δ`.
    pub log_density: f64,
    /// Density of the best known packing, lattice or not (table only; differs from `density`
    /// in d = 10, 11, 13, 18–23, 27–30, 44–47, where a non-lattice packing is denser).
    pub best_density: Option<f64>,
    /// Hermite constant `γ_d` (tabulated lattice, or the Minkowski–Hlawka bound).
    pub hermite: f64,
    /// Lower and upper figures of `γ_d`.
    pub hermite_lower: f64,
    /// Upper figure of `γ_d` (from an upper bound on any packing's density).
    pub hermite_upper: f64,
    /// `ξ_d = 2πe γ_d/d`.
    pub xi: f64,
    /// Kissing number, lower bound: the table (d ≤ 32), else a rigorous construction bound
    /// (null when above 2^53; see `log10_kissing_lower`).
    pub kissing_lower: Option<u64>,
    /// Kissing number, upper bound: the table, else Levenshtein's L(d, 1/2) (d ≤ 10^6) or the
    /// cap-packing bound 1/μ(30°) (null when above 2^53; see `log10_kissing_upper`).
    pub kissing_upper: Option<u64>,
    /// log10 of the kissing lower figure.
    pub log10_kissing_lower: f64,
    /// log10 of the kissing upper figure.
    pub log10_kissing_upper: f64,
    /// Status of the kissing figures: proven (lower = upper) or bound.
    pub kissing_status: Status,
    /// Status of `hermite`, the lattice constant the θ law uses: proven / best known / bound
    /// (d = 4..7: the lattice constant is proven, the densest packing is not).
    pub status: Status,
    /// Status of `best_density`, the densest packing of any kind: proven (d = 1, 2, 3, 8, 24)
    /// or best known (null beyond the table).
    pub density_status: Option<Status>,
}

/// Runs `packing`.
pub fn packing(a: &PackingArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    use rayon::prelude::*;
    let steps = super::progress::Steps::new("packing", a.dims.0.len(), "dimensions");
    let rows = a
        .dims
        .0
        .par_iter()
        .map(|&d| {
            let _step = StepOnDrop(&steps);
            let h = hermite(d)?;
            let ln_delta = superpose::packing::ln_density_from_hermite(d, h.value.ln());
            let k = kissing_bounds(d)?;
            Ok(PackingOut {
                d,
                ball_volume: ball_volume(d as f64),
                log_ball_volume: ln_ball_volume(d as f64),
                sphere_area: sphere_area(d as f64 + 1.0),
                log_sphere_area: ln_sphere_area(d as f64 + 1.0),
                density: superpose::sphere::exp_checked(ln_delta),
                log_density: ln_delta,
                best_density: superpose::packing::packing_row(d).map(|r| r.density),
                hermite: h.value,
                hermite_lower: h.lower,
                hermite_upper: h.upper,
                xi: xi(d, h.value),
                kissing_lower: k.lower,
                kissing_upper: k.upper,
                log10_kissing_lower: k.log10_lower,
                log10_kissing_upper: k.log10_upper,
                kissing_status: k.status,
                status: h.status,
                density_status: superpose::packing::packing_row(d).map(|r| r.density_status),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    emit(&rows, f, out)
}

/// Counts a step of `steps` when dropped (at the end of one row, however it ends).
struct StepOnDrop<'a>(&'a super::progress::Steps);

impl Drop for StepOnDrop<'_> {
    fn drop(&mut self) {
        self.0.step();
    }
}

/// `superpose theta --dim n --directions L`.
#[derive(Debug, Args)]
pub struct ThetaArgs {
    /// Model dimensions n, list or range (directions live on S^(n−1)).
    #[arg(long = "dims", visible_alias = "dim", value_name = "LIST", value_parser = super::counts)]
    pub dim: Counts,
    /// Numbers of directions D (list; `1e30` is fine).
    #[arg(long, value_name = "LIST", value_parser = super::reals)]
    pub directions: Reals,
}

/// One row of `theta`: the law's estimate and the greedy guarantee.
#[derive(Debug, Serialize)]
pub struct ThetaOut {
    /// The θ law (all forms).
    #[serde(flatten)]
    pub estimate: ThetaEstimate,
    /// Rigorous lower bound on the best code's minimal angle (greedy: μ(θ) = 1/D; null for
    /// D < 2).
    pub theta_greedy: Option<f64>,
}

/// Runs `theta`.
pub fn theta(a: &ThetaArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let mut rows: Vec<ThetaOut> = Vec::new();
    for &n in &a.dim.0 {
        for &d in &a.directions.0 {
            let estimate = theta_min(n, d)?;
            let theta_greedy = if d >= 2.0 {
                Some(superpose::random_codes::theta_greedy(n, d)?)
            } else {
                None
            };
            rows.push(ThetaOut {
                estimate,
                theta_greedy,
            });
        }
    }
    emit(&rows, f, out)
}

/// `superpose capacity --dim n --theta t`.
#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// Model dimensions n (list or range).
    #[arg(long = "dims", visible_alias = "dim", value_name = "LIST", value_parser = super::counts)]
    pub dim: Counts,
    /// Separation angles θ in radians (list), or degrees with `--degrees`.
    #[arg(long, value_name = "LIST", value_parser = super::reals, allow_hyphen_values = true)]
    pub theta: Reals,
    /// Read `--theta` in degrees.
    #[arg(long)]
    pub degrees: bool,
}

/// Runs `capacity`.
pub fn capacity(a: &CapacityArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let mut rows: Vec<Capacity> = Vec::new();
    for &n in &a.dim.0 {
        for &t in &a.theta.0 {
            let t = if a.degrees { t.to_radians() } else { t };
            rows.push(capacity_of(n, t)?);
        }
    }
    emit(&rows, f, out)
}

/// `superpose codes [--dims L]`.
#[derive(Debug, Args)]
pub struct CodesArgs {
    /// Dimensions n (list or range, n ≥ 2). Each n lists its simplex and cross-polytope; n = 2
    /// adds polygons, n = 3 the Tammes table, n = 4 the 24-cell and 600-cell, n = 8 the E8 roots.
    #[arg(long, visible_alias = "dim", value_name = "LIST", value_parser = super::counts, default_value = "2,3,4,8")]
    pub dims: Counts,
}

/// Runs `codes`.
pub fn codes(a: &CodesArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let mut rows = Vec::new();
    for &n in &a.dims.0 {
        for c in superpose::codes::known_codes(n)? {
            rows.push(superpose::codes::compare(&c)?);
        }
    }
    emit(&rows, f, out)
}
