//! Symmetric configurations with finite neighbours (SPEC §3 "Beyond the note"), searched with
//! argmin: over the intercept `c`, then over the integers `m` and `E ≤ N`.
//!
//! # Formula
//!
//! `D = E/m` directions on `S^{n−1}`, each carrying `m` features of slope `k` and intercept
//! `c` (bias `−kc`), each with `K` neighbouring directions at the θ_min of the law
//! ([`crate::theta`]). When one feature is active with value `x ~ U[0,1]`, its own output is
//! `k(x − c)₊` (target `x`), its `m − 1` copies output the same (target 0), and the `K m`
//! neighbour features see the pre-activation `k(x cos θ − c)` (target 0). The remaining
//! `D − 1 − K` directions are spread with the uniform angle density `p(φ)` of
//! [`crate::sphere::angle_density`] beyond the angle `φ_K` of a cap that holds `K + 1`
//! directions, `D F(φ_K) = K + 1` with `F(φ) = ½ I_{sin²φ}((n−1)/2, ½)` (so they fire only when
//! `c < cos φ_K`; without them a low intercept would look free). The loss per embedded feature is
//!
//! ```text
//! L(k, c) = R(k, −kc, 1) + (m − 1) R(k, −kc, 0) + K m R(k cos θ, −kc, 0)
//!           + m ∫_{φ_K}^{π/2} D p(φ) R(k cos φ, −kc, 0) dφ
//! ```
//!
//! with `R` the response integral [`Loss::response`]; for L2 the neighbour term is
//! `k² (cos θ − c)₊³ / (3 cos θ)` (SPEC §3) and the whole loss is quadratic in `k`:
//!
//! ```text
//! L = 1/3 − B²/A,   k* = B/A,
//! B = (1 − c)² (2 + c) / 6,   A = m [ (1 − c)³/3 + K (cos θ − c)₊³ / (3 cos θ)
//!                                       + ∫_{φ_K} D p(φ) (cos φ − c)₊³ / (3 cos φ) dφ ]
//! ```
//!
//! (the φ integral by 10-point Gauss–Legendre on `[φ_K, arccos c]`).
//!
//! (with `K → ∞` this is SPEC §3's closed form, `c = cos θ`; with `K = 0`, `c = 0`). The
//! intercept `c ∈ [0, max(cos θ, 0)]` is a 1-D search, written as `c = cos θ (1 − v)`,
//! `v ∈ [0, 1]`, so that `1 − c = 2 sin²(θ/2) + v cos θ` and `cos θ − c = v cos θ` stay
//! accurate when θ is tiny. The loss can have two local minima in `c` (just below `cos θ`, and
//! near 0 with a small slope), and the one below `cos θ` is narrow, of width
//! `~ (1 − cos θ)/√(3K)` (small-angle expansion of `B²/A`); so the search is a grid in `ln v`
//! from `10⁻⁴ (1 − cos θ)/(cos θ √(3K + 1))` to 1
//! (49 points for L2, 17 otherwise), argmin's Brent between the best point's neighbours, and
//! the end points `c = cos θ` and `c = 0`.
//! Other losses minimise over `k` numerically inside the `c` search.
//!
//! Of `N` features, `E` are embedded; the rest cost `l0` each and never fire. Mean loss
//! `(E L + (N − E) l0)/N`, gain `E (l0 − L)`.
//!
//! For L2 the gain depends on `E` and `m` only through `D = E/m`: `g = D · B²/A₁` with
//! `A₁ = A/m`. So `m` copies of `D` directions tie exactly with `D` single features (SPEC §4's
//! identity) and, with `E` free, degeneracy never strictly wins; ties are broken towards the
//! smaller `m`, then the larger `E` (so `E` drops below `N` only when strictly better).
//!
//! ## Neighbour count `K`
//!
//! Default: the kissing number in `d = n − 1` dimensions (the local packing on `S^{n−1}` is
//! `d`-dimensional), taking the table's **lower bound** — a configuration that exists, exact
//! for d = 1..4, 8, 24 (`data/kissing.csv`). Beyond the table (d > 32): the rigorous lower
//! bound of [`crate::packing::kissing_bounds`] (the larger of `τ_32 + 2(d − 32)` and the
//! greedy Chabauty–Shannon–Wyner bound). With few directions a direction cannot have more neighbours than
//! there are other directions, so `K_eff = min(K, D − 1)`. Overridable.
//!
//! ## The frame model (large n)
//!
//! The θ law packs caps of radius θ/2 in flat `d = n − 1` space: a direction sees a local
//! lattice. At large n and `D ≲ n³` that picture fails — one direction has far fewer than the
//! kissing number of neighbours, and the caps (θ/2 ≈ 0.7 rad) are not small — and the law's θ
//! falls below what codes reach (n = 32, N = 256: trained θ_min 1.404 against the law's 1.263).
//! What limits θ there is the frame identity. For unit directions `u_i`,
//! `Σ_{i,j} cos²_ij = ‖Σ_i u_i u_iᵀ‖²_F ≥ D²/n` (equality for tight frames), so around a
//! typical direction `Σ_{j≠i} cos²_ij ≥ D/n − 1` and `max_j cos²_ij ≥ μ_W²`,
//! `μ_W² = (D − n)/(n (D − 1))` (Welch). A code whose cosines around each direction are spread
//! symmetrically about 0 — as trained codes' are: the note's pairwise-angle density, and
//! `Σ_{i≠j} cos_ij = |Σ u_i|² − D ≥ −D` keeps their mean at or above `−1/(D − 1)` — has its
//! largest *positive* cosine at that level too: it packs lines, and the bounds for line packings
//! bound its θ_min from above. Trained codes at n ≥ 16 reach them where the law says less
//! (n = 32, N = 256: Welch 1.404, trained 1.404; n = 16, N = 256: Levenshtein 1.231, trained
//! 1.234; `superpose large-dim --from docs/large_dim/result.json`).
//!
//! # Formula
//!
//! ```text
//! θ = max(θ_law(n, D), θ_code(n, D), θ_known(n, D))
//! ```
//!
//! with `θ_known` of [`known_theta`]: the largest angle of a listed code with at least `D`
//! points (a lower bound on the best code's θ). It decides where the law is provably low: at
//! n = 16 for `2730 ≲ D ≤ 4320` (the Barnes–Wall minimal vectors at π/3; at D = 4096 the law
//! gives 1.019 rad, and the trained model, started from those vectors by `train`'s `code#k`,
//! has θ_min 1.047), at n = 8 near D = 240 (E8), n = 4 near D = 120 (the 600-cell) and at
//! n = 3, D = 12 (the icosahedron), none of them a point of the note's sweep. It takes the
//! shell distribution, as a bound's angle does.
//!
//! with `θ_code` of [`code_theta`]: the simplex for `D ≤ n + 1`, `π/2` for `D ≤ 2n` (Rankin;
//! the cross-polytope), Welch's bound for `D ≤ n(n+1)/2`, Levenshtein's second bound for lines
//! for `D ≤ n(n+1)(n+2)/6`, and none beyond (the law alone). Where the law's θ is the larger —
//! n ≤ 8 at every N ≥ 2n+1 of the note's sweep, and any n at `D > n(n+1)(n+2)/6` — the code is
//! taken to be lattice-like, as the law assumes, and the frame model *is* the kissing model
//! (K neighbours at θ, the continuum beyond): so at n = 3–8 it gives today's numbers except at
//! `D ≤ 2n`, where the simplex and the cross-polytope are exact (no interference, gain `E/3`;
//! the trained models agree, e.g. n = 8, N = 16: gain 16/3, intercept 0). Where the bound's θ
//! is the larger, the other directions lie as in the shell model: the uniform density
//! `(D − 1) p(φ)` beyond θ and a shell at θ holding the `(D − 1) F(θ)` that the uniform density
//! puts below θ, so the loss is the shell model's formula above (L2: closed form per shell,
//! Gauss–Legendre panels for the continuum in `t = cos φ`; intercept by argmin). That
//! distribution clips only the positive tail; it has less `Σ_j cos²_ij` than the frame
//! identity asks (`(D − 1)/n` of the uniform density minus what the clipping removes), and the
//! deficit must sit at negative cosines, which never fire under the ReLU (`cross(g, b) = 0`
//! for `g + b ≤ 0`) — so the identity constrains θ and leaves the loss as it is. (A shell
//! holding every positive cosine, as an equiangular frame would, puts the intercept closer to
//! `cos θ`, away from the trained one: at the trained θ the shell's uniform mass gives the
//! trained intercept within 3.3 % at n = 16, 32.)
//!
//! Where it misses (measured, `docs/large_dim/`): near `D = n(n+1)/2` Welch's bound is far
//! from attainable (equiangular tight frames are rare; n = 32, N = 512: trained θ_min 1.345
//! against 1.399; Levenshtein's bound is not reached either at n = 32, N = 1024: 1.292 against
//! 1.326, intercept 9 % off, while the shell model at the trained θ is within 3.2 %; at
//! n = 32, N = 2048 1.242 against 1.296, 14 % off), and for `D ≲ 8n` codes beat the line
//! bounds by using the sign, which the ReLU allows (n = 64, N = 256: trained 1.501 against
//! Welch's 1.462; n = 128, N = 512: 1.522 against 1.494). Over the 14 trained points at
//! n = 16–128 the shell distribution at the trained θ gives the intercept within 4.4 % and the
//! gain within 1.2 %, so the misses are in θ. The model's θ jumps at
//! `D = 2n` (π/2 to Welch) and at `D = n(n+1)(n+2)/6` (the end of Levenshtein's range, to the
//! law).
//!
//! ## The collapse model (large n, fitted)
//!
//! Since the shell distribution is right at the trained θ and the bounds' θ is not, the
//! collapse model takes θ from the trained codes themselves: [`collapse_theta`] is the
//! curve `√n cos θ = z(D/n, n)` of [`crate::collapse`], fitted to the committed study's codes
//! at n ≥ 16 (`2n < D`, α = D/n in 4–64), with the shell distribution, and the frame model
//! wherever the curve is not defined (n < 16, D ≤ 2n, α outside the fitted range). It is an
//! empirical model: `superpose large-dim` checks it leave-one-n-out (each row predicted by
//! the curve fitted to the *other* dimensions' codes, [`crate::large_dim::cross_validate`]),
//! and on the committed study that prediction gives the intercept within 5 % at 12 of 13
//! points (n = 16, N = 256: 5.8 %, where the shell distribution itself is 4.3 % off) and the
//! gain within 1.3 %.
//!
//! ## Search over `E` and `m`
//!
//! `m = 1..=M` (default 16) and an integer number of directions `D`, `E = m D ≤ N` (unlike
//! the closed form, which allows a fractional `E/m`; here a fractional `D` would let `m = 2`
//! reach a `D` that `m = 1` cannot and look better for no physical reason). For each `m`:
//! every `D ≤ N/m` for L2 with `N ≤ 4096`; otherwise every `D` up to 64, a geometric grid of
//! ratio 1.05 up to `⌊N/m⌋`, then an integer golden-section refinement between the best grid
//! point's neighbours.

use argmin::core::CostFunction;
use serde::Serialize;

use crate::error::{finite, Error, Result};
use crate::gain::{argmin_1d, intercept_parts, Convention, SymmetricPoint, ThetaLaw};
use crate::loss::{Loss, GL10_W, GL10_X};
use crate::packing::{kissing_bounds, kissing_row};
use crate::sphere::ln_angle_density_norm;
use crate::theta::theta_min_ln;

/// Default largest multiplicity searched.
pub const DEFAULT_MAX_MULTIPLICITY: u64 = 16;
/// Largest `N` for which L2 scans every `E`.
const EXACT_E_SCAN: u64 = 4096;
/// Integers scanned before the geometric grid (other losses, or large `N`).
const GRID_START: u64 = 64;
/// Ratio of the geometric `E` grid.
const GRID_RATIO: f64 = 1.05;
/// Relative margin within which two gains tie.
const TIE: f64 = 1e-12;

/// A neighbour count and where it came from.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Neighbours {
    /// `K`.
    pub value: f64,
    /// Where `K` comes from: the kissing table's lower bound, or the rigorous lower bound beyond it.
    pub source: &'static str,
}

/// The default `K` for model dimension `n` (module docs).
pub fn default_neighbours(n: usize) -> Result<Neighbours> {
    crate::sphere::check_dim(n)?;
    if n < 2 {
        return Err(Error::invalid(
            "dimension n",
            "the symmetric model needs n ≥ 2",
        ));
    }
    let d = n - 1;
    if let Some(r) = kissing_row(d) {
        return Ok(Neighbours {
            value: r.lower as f64,
            source: "kissing lower bound (table)",
        });
    }
    let k = kissing_bounds(d)?;
    Ok(Neighbours {
        value: k
            .lower
            .map_or_else(|| 10f64.powf(k.log10_lower), |x| x as f64),
        source: "kissing lower bound (beyond the table)",
    })
}

/// How the other `D − 1` directions lie around one direction (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeighbourModel {
    /// `K` neighbours at θ (the kissing number), the rest uniform beyond the cap that holds
    /// `K + 1` directions: the original finite-neighbour model.
    #[default]
    Kissing,
    /// A shell at θ holding what the uniform density puts below θ, `(D − 1) F(θ)`, and the
    /// uniform density `(D − 1) p(φ)` beyond θ.
    Shell,
    /// θ of [`frame_theta`], the larger of the law's and the coding bound's: the shell model's
    /// distribution where the bound's is larger, the kissing model's where the law's is (module
    /// docs, "The frame model").
    Frame,
    /// θ of [`collapse_theta`] (the collapse curve fitted to trained codes at n ≥ 16,
    /// [`crate::collapse`]) with the shell model's distribution, where that curve is defined;
    /// the frame model elsewhere.
    Collapse,
}

impl NeighbourModel {
    /// Every model, the original first.
    pub const ALL: [NeighbourModel; 4] = [
        NeighbourModel::Kissing,
        NeighbourModel::Shell,
        NeighbourModel::Frame,
        NeighbourModel::Collapse,
    ];

    /// Whether the model spreads the other directions as the shell model does (shell, frame
    /// and collapse).
    fn has_shell(self) -> bool {
        !matches!(self, NeighbourModel::Kissing)
    }
}

impl std::fmt::Display for NeighbourModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NeighbourModel::Kissing => "kissing",
            NeighbourModel::Shell => "shell",
            NeighbourModel::Frame => "frame",
            NeighbourModel::Collapse => "collapse",
        })
    }
}

impl std::str::FromStr for NeighbourModel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "kissing" => Ok(NeighbourModel::Kissing),
            "shell" => Ok(NeighbourModel::Shell),
            "frame" => Ok(NeighbourModel::Frame),
            "collapse" => Ok(NeighbourModel::Collapse),
            other => Err(Error::invalid(
                "neighbour model",
                format!("{other:?}: expected kissing, shell, frame or collapse"),
            )),
        }
    }
}

/// The frame model's θ for `D` directions in `R^n` and where it comes from (module docs, "The
/// frame model").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrameAngle {
    /// θ of the model: the largest of `theta_law`, `theta_code` and [`known_theta`].
    pub theta: f64,
    /// The θ law's angle (small-angle or chord, as chosen).
    pub theta_law: f64,
    /// The coding bound's angle [`code_theta`] (null beyond the bounds' range).
    pub theta_code: Option<f64>,
    /// Which one θ is: `law`, `known code`, or the bound's name.
    pub source: &'static str,
}

/// The largest minimal angle that `D` directions in `R^n` can have under the coding bounds
/// used by the frame model, and the bound's name (null for `D < 2` or beyond
/// `D = n(n+1)(n+2)/6`, where none of them applies).
///
/// # Formula
///
/// * `D ≤ n + 1`: the regular simplex, `cos θ = −1/(D − 1)` (optimal);
/// * `n + 1 < D ≤ 2n`: `θ = π/2` (Rankin: more than `n + 1` points have a pair at `cos ≥ 0`;
///   the cross-polytope's `2n` reach it);
/// * `2n < D ≤ n(n+1)/2`: Welch's bound for lines, `cos² θ = (D − n)/(n (D − 1))` (Welch 1974;
///   met by equiangular tight frames);
/// * `n(n+1)/2 < D ≤ n(n+1)(n+2)/6`: Levenshtein's second bound for lines,
///   `D ≤ n(n+2)(1 − μ²)/(3 − (n+2)μ²)` for `1/(n+2) ≤ μ² ≤ 3/(n+4)`, i.e.
///   `cos² θ = (3D − n(n+2)) / ((n+2)(D − n))` (Levenshtein 1982; Haas, Hammen and Mixon,
///   "The Levenstein bound for packings in projective spaces", 2017). It equals Welch's at
///   `D = n(n+1)/2` and is met by the 120 lines of E8's roots at `n = 8` (`μ = 1/2`).
pub fn code_theta(n: usize, d: f64) -> Option<(f64, &'static str)> {
    let nf = n as f64;
    if d.is_nan() || d < 2.0 || n < 2 {
        return None;
    }
    if d <= nf + 1.0 {
        return Some(((-1.0 / (d - 1.0)).acos(), "simplex"));
    }
    if d <= 2.0 * nf {
        return Some((std::f64::consts::FRAC_PI_2, "cross-polytope (Rankin)"));
    }
    if d <= 0.5 * nf * (nf + 1.0) {
        return Some((((d - nf) / (nf * (d - 1.0))).sqrt().acos(), "Welch"));
    }
    if d <= nf * (nf + 1.0) * (nf + 2.0) / 6.0 {
        let mu2 = (3.0 * d - nf * (nf + 2.0)) / ((nf + 2.0) * (d - nf));
        return Some((mu2.sqrt().acos(), "Levenshtein (lines)"));
    }
    None
}

/// The largest minimal angle of a known code in `R^n` ([`crate::codes::known_codes`]: the
/// simplex, the cross-polytope, the 24-cell, the 600-cell, E8, the Barnes–Wall minimal
/// vectors, the Tammes table) with at least `D` points: any `D` of its points keep that angle,
/// so the best code of `D` points has at least it (null when no listed code is that large).
///
/// # Formula
///
/// `θ_known(n, D) = max { θ_c : code c in R^n, |c| ≥ D }`.
pub fn known_theta(n: usize, d: f64) -> Option<f64> {
    crate::codes::known_codes(n)
        .ok()?
        .into_iter()
        .filter(|c| c.points as f64 >= d)
        .map(|c| c.theta)
        .fold(None, |a: Option<f64>, t| Some(a.map_or(t, |a| a.max(t))))
}

/// The frame model's θ: the largest of the law's θ, [`code_theta`] and [`known_theta`] (module
/// docs): a known code of at least `D` points at a larger angle than the law's proves the
/// law too low there (n = 16, D ≤ 4320: the Barnes–Wall minimal vectors at π/3, above the
/// law's 1.019 rad at D = 4096).
pub fn frame_theta(n: usize, d: f64, law: ThetaLaw) -> Result<FrameAngle> {
    let theta_law = law.pick(&theta_min_ln(n, d.ln().max(0.0))?);
    let code = code_theta(n, d);
    let known = known_theta(n, d).filter(|&t| t > theta_law);
    Ok(match (code, known) {
        (Some((t, src)), k) if t > theta_law && k.map_or(true, |k| t >= k) => FrameAngle {
            theta: t,
            theta_law,
            theta_code: Some(t),
            source: src,
        },
        (_, Some(k)) => FrameAngle {
            theta: k,
            theta_law,
            theta_code: code.map(|c| c.0),
            source: "known code",
        },
        _ => FrameAngle {
            theta: theta_law,
            theta_law,
            theta_code: code.map(|c| c.0),
            source: "law",
        },
    })
}

/// The collapse model's θ for `D` directions in `R^n` and its source: the committed collapse
/// curve's angle ([`crate::collapse::committed`], `"collapse fit"`), or a known code's
/// ([`known_theta`], `"known code"`) where that is larger; null where the curve is not
/// defined (`n < 16`, `D ≤ 2n`, `D/n` outside the fitted range), where the model is the frame
/// model.
///
/// # Formula
///
/// `θ = max(arccos(z(D/n, n)/√n), θ_known(n, D))` with `z` of [`crate::collapse`].
pub fn collapse_theta(n: usize, d: f64) -> Option<(f64, &'static str)> {
    if d.is_nan() || d <= 2.0 * n as f64 {
        return None;
    }
    Some(above_known(
        n,
        d,
        crate::collapse::committed()?.theta(n, d)?,
    ))
}

/// `θ_fit` of a collapse curve, or a known code's angle where that is larger: `(θ, "collapse
/// fit" | "known code")` (the collapse model's rule, [`collapse_theta`]).
pub fn above_known(n: usize, d: f64, theta_fit: f64) -> (f64, &'static str) {
    match known_theta(n, d) {
        Some(k) if k > theta_fit => (k, "known code"),
        _ => (theta_fit, "collapse fit"),
    }
}

/// Search settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Neighbour model.
    pub model: NeighbourModel,
    /// `K` of the kissing model (`None`: [`default_neighbours`]; must be `None` for the shell
    /// model, whose shell is set by θ).
    pub neighbours: Option<f64>,
    /// Largest multiplicity searched.
    pub max_multiplicity: u64,
    /// θ law.
    pub law: ThetaLaw,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            model: NeighbourModel::default(),
            neighbours: None,
            max_multiplicity: DEFAULT_MAX_MULTIPLICITY,
            law: ThetaLaw::SmallAngle,
        }
    }
}

/// The geometry of one `(E, m)`: θ, `cos θ` (clamped at 0), `1 − cos θ`, `K_eff`.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    theta: f64,
    cos: f64,
    omc: f64,
    k_eff: f64,
    /// The continuum of farther directions, if any can fire (`φ_K < π/2`).
    rest: Option<Rest>,
}

/// The directions beyond the first shell, spread with the uniform angle density from `φ_K`:
/// kissing model `D p(φ)` from the angle at which a cap holds `K + 1` directions,
/// `D F(φ_K) = K + 1`; shell model `(D − 1) p(φ)` from `φ_K = θ`.
#[derive(Debug, Clone, Copy)]
struct Rest {
    phi_k: f64,
    cos_k: f64,
    /// `ln` of the count (`D` or `D − 1`) plus `ln` of the angle density's normalisation.
    ln_scale: f64,
    n: f64,
    /// Integrate in `t = cos φ` on panels (shell model); otherwise one 10-point Gauss–Legendre
    /// panel in φ (kissing model, as originally).
    panels: bool,
}

/// Most panels of [`Rest::integrate`] in `t`.
const MAX_PANELS: usize = 64;

impl Rest {
    /// `∫_{φ_K}^{arccos c} count · p(φ) f(cos φ) dφ` (zero when `c ≥ cos φ_K`; the integrands
    /// used vanish at `φ = arccos c`).
    ///
    /// # Formula
    ///
    /// Shell model: in `t = cos φ`, `p(φ) dφ = Γ(n/2)/(√π Γ((n−1)/2)) (1 − t²)^{(n−3)/2} dt`,
    /// integrated over `[max(c, 0), cos φ_K]` by 10-point Gauss–Legendre on `P` equal panels,
    /// `P = ⌈Δ/2⌉` (1 to 64) with `Δ = (n−3)/2 |ln(1 − t_lo²) − ln(1 − t_hi²)|` the change of
    /// the log-weight, so that the weight varies by at most `e²` on a panel (n = 8192 stays
    /// accurate). Kissing model: one 10-point panel in φ on `[φ_K, arccos c]`.
    fn integrate(&self, c: f64, mut f: impl FnMut(f64) -> f64) -> f64 {
        if c >= self.cos_k {
            return 0.0;
        }
        if self.panels {
            let (lo, hi) = (c.max(0.0), self.cos_k);
            let h = 0.5 * (self.n - 3.0);
            let lw = |t: f64| (-t * t).ln_1p();
            let delta = (h * (lw(lo) - lw(hi))).abs();
            let p = ((0.5 * delta).ceil() as usize).clamp(1, MAX_PANELS);
            let width = (hi - lo) / p as f64;
            let mut s = 0.0;
            for i in 0..p {
                let a = lo + width * i as f64;
                let half = 0.5 * width;
                let mid = a + half;
                for (x, w) in GL10_X.iter().zip(GL10_W.iter()) {
                    for t in [mid - half * x, mid + half * x] {
                        s += half * w * (self.ln_scale + h * lw(t)).exp() * f(t);
                    }
                }
            }
            return s;
        }
        let hi = c.clamp(0.0, 1.0).acos();
        let lo = self.phi_k;
        if hi <= lo {
            return 0.0;
        }
        let h = 0.5 * (hi - lo);
        let mid = 0.5 * (hi + lo);
        let mut s = 0.0;
        for (x, w) in GL10_X.iter().zip(GL10_W.iter()) {
            for phi in [mid - h * x, mid + h * x] {
                let dens = (self.ln_scale + (self.n - 2.0) * phi.sin().ln()).exp();
                s += h * w * dens * f(phi.cos());
            }
        }
        s
    }
}

/// Cap fraction `F(φ) = ∫₀^φ p = ½ I_{sin²φ}((n−1)/2, ½)` for `φ ≤ π/2`.
fn cap_fraction(n: f64, phi: f64) -> Result<f64> {
    let x = phi.sin().powi(2).clamp(0.0, 1.0);
    statrs::function::beta::checked_beta_reg(0.5 * (n - 1.0), 0.5, x)
        .map(|i| 0.5 * i)
        .map_err(|e| Error::Numerical(format!("cap fraction: {e}")))
}

/// The continuum beyond `K` neighbours for `D` directions in `R^n`, if it reaches below π/2.
fn rest_of(n: usize, d: f64, k_eff: f64) -> Result<Option<Rest>> {
    let nf = n as f64;
    let target = (k_eff + 1.0) / d;
    if target >= 0.5 {
        return Ok(None);
    }
    let (mut lo, mut hi) = (0.0f64, std::f64::consts::FRAC_PI_2);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if cap_fraction(nf, mid)? < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let phi_k = 0.5 * (lo + hi);
    Ok(Some(Rest {
        phi_k,
        cos_k: phi_k.cos(),
        ln_scale: d.ln() + ln_angle_density_norm(nf),
        n: nf,
        panels: false,
    }))
}

/// The shell model's first shell and continuum for `D` directions in `R^n` at angle θ with
/// `0 < θ < π/2`: `(K, rest)` with `K = (D − 1) F(θ)` and the rest `(D − 1) p(φ)` beyond θ.
fn shell_of(n: usize, d: f64, theta: f64) -> Result<(f64, Option<Rest>)> {
    let nf = n as f64;
    if d <= 1.0 {
        return Ok((0.0, None));
    }
    let k = (d - 1.0) * cap_fraction(nf, theta)?;
    Ok((
        k,
        Some(Rest {
            phi_k: theta,
            cos_k: theta.cos(),
            ln_scale: (d - 1.0).ln() + ln_angle_density_norm(nf),
            n: nf,
            panels: true,
        }),
    ))
}

/// L2 gain per embedded feature `B²/A` and slope `B/A` at `v` (`c = cos θ (1 − v)`).
fn l2_at(g: &Geometry, m: f64, v: f64) -> (f64, f64) {
    let omc = g.omc + v * g.cos;
    let b = omc * omc * (3.0 - omc) / 6.0;
    // K gap³/(3 cos θ) = K v³ cos²θ / 3.
    let mut a1 = omc * omc * omc / 3.0 + g.k_eff * v * v * v * g.cos * g.cos / 3.0;
    if let Some(r) = &g.rest {
        let c = g.cos - v * g.cos;
        a1 += r.integrate(c, |cp| (cp - c).max(0.0).powi(3) / (3.0 * cp));
    }
    let a = m * a1;
    (b * b / a, b / a)
}

/// Per-embedded-feature loss of any loss family at slope `k`.
fn loss_at(loss: &Loss, g: &Geometry, m: f64, c: f64, k: f64) -> f64 {
    let b = -k * c;
    let mut l = loss.response(k, b, 1.0).0 + (m - 1.0) * loss.response(k, b, 0.0).0;
    if g.k_eff > 0.0 && g.cos > 0.0 {
        l += g.k_eff * m * loss.response(k * g.cos, b, 0.0).0;
    }
    if let Some(r) = &g.rest {
        l += m * r.integrate(c, |cp| loss.response(k * cp, b, 0.0).0);
    }
    l
}

#[derive(Clone, Copy)]
struct SlopeCost<'a> {
    loss: &'a Loss,
    g: &'a Geometry,
    m: f64,
    c: f64,
}

impl CostFunction for SlopeCost<'_> {
    type Param = f64;
    type Output = f64;
    fn cost(&self, u: &f64) -> std::result::Result<f64, argmin::core::Error> {
        Ok(loss_at(self.loss, self.g, self.m, self.c, u.exp()))
    }
}

/// Best `(k, L)` at intercept `c` for a non-L2 loss.
fn slope_numeric(loss: &Loss, g: &Geometry, m: f64, v: f64) -> Result<(f64, f64)> {
    let c = g.cos * (1.0 - v);
    let (_, k2) = l2_at(g, m, v);
    let centre = k2.ln();
    let p = SlopeCost { loss, g, m, c };
    let (u, l) = argmin_1d(p, centre - 6.0, centre + 6.0, 25)?;
    let l0 = loss.l0();
    Ok(if l < l0 { (u.exp(), l) } else { (0.0, l0) })
}

/// The intercept problem: per-feature loss (minimised over `k`) as a function of `v`.
#[derive(Clone, Copy)]
struct InterceptCost<'a> {
    loss: &'a Loss,
    g: &'a Geometry,
    m: f64,
}

impl InterceptCost<'_> {
    fn eval(&self, v: f64) -> Result<(f64, f64)> {
        if *self.loss == Loss::L2 {
            let (gain, k) = l2_at(self.g, self.m, v);
            Ok((k, 1.0 / 3.0 - gain))
        } else {
            slope_numeric(self.loss, self.g, self.m, v)
        }
    }
}

/// Cost in `w = ln v`: `−B²/A` for L2 (no cancellation against `1/3` when the gain per
/// feature is tiny), the loss itself otherwise.
impl CostFunction for InterceptCost<'_> {
    type Param = f64;
    type Output = f64;
    fn cost(&self, w: &f64) -> std::result::Result<f64, argmin::core::Error> {
        let v = w.exp();
        if *self.loss == Loss::L2 {
            return Ok(-l2_at(self.g, self.m, v).0);
        }
        match self.eval(v) {
            Ok((_, l)) => Ok(l),
            Err(e) => Err(argmin::core::Error::msg(e.to_string())),
        }
    }
}

/// One evaluated `(E, m)`.
#[derive(Debug, Clone, Copy)]
struct Eval {
    embed: u64,
    m: u64,
    theta: f64,
    k_eff: f64,
    c: f64,
    k: f64,
    /// Gain per embedded feature, `l0 − L`.
    gain_pf: f64,
}

impl Eval {
    fn gain(&self) -> f64 {
        self.gain_pf * self.embed as f64
    }
}

/// What a search needs besides `(n, E, m)`: the neighbour model, its `K` (kissing model) and
/// the θ law.
#[derive(Debug, Clone, Copy)]
struct Spec {
    model: NeighbourModel,
    k: f64,
    law: ThetaLaw,
    /// θ given instead of the law's (see [`configuration_at_theta`]).
    theta: Option<f64>,
}

fn geometry(n: usize, embed: u64, m: u64, spec: &Spec) -> Result<Geometry> {
    let d = embed as f64 / m as f64;
    // The frame model: the coding bound's angle with the shell's distribution, or the law's
    // angle with the kissing model's (module docs).
    // The collapse model: the fitted curve's angle with the shell's distribution where it is
    // defined, the frame model elsewhere.
    let collapse = match spec.model {
        NeighbourModel::Collapse => collapse_theta(n, d),
        _ => None,
    };
    let (theta, lattice) = match (spec.theta, spec.model) {
        (Some(t), NeighbourModel::Collapse) if collapse.is_some() => (t, false),
        (None, NeighbourModel::Collapse) if collapse.is_some() => {
            (collapse.map_or(0.0, |c| c.0), false)
        }
        (Some(t), NeighbourModel::Frame | NeighbourModel::Collapse) => {
            let f = frame_theta(n, d, spec.law)?;
            (t, f.source == "law")
        }
        (Some(t), m) => (t, m == NeighbourModel::Kissing),
        (None, NeighbourModel::Frame | NeighbourModel::Collapse) => {
            let f = frame_theta(n, d, spec.law)?;
            (f.theta, f.source == "law")
        }
        (None, m) => (
            spec.law.pick(&theta_min_ln(n, d.ln().max(0.0))?),
            m == NeighbourModel::Kissing,
        ),
    };
    let (cos, omc, _) = intercept_parts(theta);
    let (k_eff, rest) = match spec.model {
        _ if lattice => {
            let k_eff = spec.k.min((d - 1.0).max(0.0));
            (k_eff, rest_of(n, d, k_eff)?)
        }
        _ if cos > 0.0 => shell_of(n, d, theta)?,
        _ => (0.0, None),
    };
    Ok(Geometry {
        theta,
        cos,
        omc,
        k_eff,
        rest,
    })
}

/// Best `(v, k, gain per embedded feature)` for a geometry: argmin over `v` (in `ln v`),
/// closed-form or numerical `k` inside.
fn solve(g: &Geometry, m: f64, loss: &Loss) -> Result<(f64, f64, f64)> {
    let cost = InterceptCost { loss, g, m };
    let v = if g.cos > 0.0 {
        // The optimum sits at v ~ (1 − cos θ)/cos θ times a factor set by K, or far from
        // cos θ: a grid in ln v from 10⁻⁴ of that scale up to v = 1, then Brent, then the ends.
        // For large K the optimum is at v ≈ scale / √(3K) (small-angle expansion).
        let scale = g.omc / g.cos / (3.0 * g.k_eff + 1.0).sqrt();
        let lo = (1e-4 * scale).max(1e-300).ln();
        let grid = if *loss == Loss::L2 { 49 } else { 17 };
        let (w, best) = argmin_1d(cost, lo, 0.0, grid)?;
        let at = |v: f64| -> Result<f64> {
            Ok(if *loss == Loss::L2 {
                -l2_at(g, m, v).0
            } else {
                cost.eval(v)?.1
            })
        };
        // The end points c = cos θ (v = 0) and c = 0 (v = 1) exactly, if they are better.
        let (at_zero, at_one) = (at(0.0)?, at(1.0)?);
        if at_zero <= best.min(at_one) {
            0.0
        } else if at_one <= best {
            1.0
        } else {
            w.exp()
        }
    } else {
        1.0
    };
    let (kk, l) = cost.eval(v)?;
    let gain_pf = if *loss == Loss::L2 {
        l2_at(g, m, v).0
    } else {
        loss.l0() - l
    };
    Ok((v, kk, gain_pf))
}

/// Best intercept and slope for `E` features at multiplicity `m` with `K` neighbours.
fn eval(n: usize, embed: u64, m: u64, loss: &Loss, spec: &Spec) -> Result<Eval> {
    let g = geometry(n, embed, m, spec)?;
    let (v, kk, gain_pf) = solve(&g, m as f64, loss)?;
    Ok(Eval {
        embed,
        m,
        theta: g.theta,
        k_eff: g.k_eff,
        c: g.cos * (1.0 - v),
        k: kk,
        gain_pf,
    })
}

fn point(n: usize, features: u64, e: &Eval, loss: &Loss) -> SymmetricPoint {
    let l0 = loss.l0();
    let nf = features as f64;
    SymmetricPoint {
        n,
        features,
        embed: e.embed,
        multiplicity: e.m,
        directions: e.embed as f64 / e.m as f64,
        theta: e.theta,
        intercept: e.c,
        slope: e.k,
        loss: l0 - e.gain() / nf,
        gain: e.gain(),
        cos_theta: e.theta.cos(),
        neighbours: e.k_eff,
        loss_fn: loss.to_string(),
        convention: Convention::Consistent,
    }
}

/// `a` is better than `b`: larger gain, ties to smaller `m`, then larger `E`.
fn better(a: &Eval, b: &Eval) -> bool {
    let (ga, gb) = (a.gain(), b.gain());
    let tie = TIE * ga.abs().max(gb.abs());
    if ga > gb + tie {
        return true;
    }
    if ga < gb - tie {
        return false;
    }
    (a.m, std::cmp::Reverse(a.embed)) < (b.m, std::cmp::Reverse(b.embed))
}

fn check(n: usize, features: u64, loss: &Loss, opts: &Options) -> Result<Spec> {
    loss.check()?;
    if features < 1 {
        return Err(Error::invalid("features N", "must be at least 1"));
    }
    if opts.max_multiplicity < 1 {
        return Err(Error::invalid("max multiplicity", "must be at least 1"));
    }
    let k = match opts.neighbours {
        Some(_) if opts.model.has_shell() => {
            return Err(Error::invalid(
                "neighbours K",
                "the shell, frame and collapse models set their neighbours from θ; K applies \
                 to the kissing model",
            ))
        }
        Some(k) => {
            finite("neighbours K", k)?;
            if k < 0.0 {
                return Err(Error::invalid("neighbours K", format!("{k} must be ≥ 0")));
            }
            k
        }
        None if opts.model == NeighbourModel::Shell => {
            crate::sphere::check_dim(n)?;
            if n < 2 {
                return Err(Error::invalid(
                    "dimension n",
                    "the symmetric model needs n ≥ 2",
                ));
            }
            0.0
        }
        None => default_neighbours(n)?.value,
    };
    theta_min_ln(n, 0.0)?;
    Ok(Spec {
        model: opts.model,
        k,
        law: opts.law,
        theta: None,
    })
}

/// Candidate numbers of directions `D` (so `E = m D ≤ N`) for multiplicity `m`.
fn candidates(features: u64, m: u64, loss: &Loss) -> Vec<u64> {
    let dmax = features / m;
    if dmax == 0 {
        return vec![];
    }
    if *loss == Loss::L2 && features <= EXACT_E_SCAN {
        return (1..=dmax).collect();
    }
    let mut v: Vec<u64> = (1..=dmax.min(GRID_START)).collect();
    let mut x = *v.last().unwrap_or(&1);
    while x < dmax {
        x = ((x as f64 * GRID_RATIO).ceil() as u64).max(x + 1).min(dmax);
        v.push(x);
    }
    v
}

/// Integer golden-section refinement of the best `D` strictly between `lo` and `hi`.
fn refine(lo: u64, hi: u64, mut f: impl FnMut(u64) -> Result<Eval>, best: &mut Eval) -> Result<()> {
    let (mut a, mut b) = (lo, hi);
    while b - a > 2 {
        let m1 = a + (b - a) / 3;
        let m2 = b - (b - a) / 3;
        let e1 = f(m1)?;
        let e2 = f(m2)?;
        for e in [&e1, &e2] {
            if better(e, best) {
                *best = *e;
            }
        }
        if e1.gain() < e2.gain() {
            a = m1;
        } else {
            b = m2;
        }
    }
    for x in a..=b {
        let e = f(x)?;
        if better(&e, best) {
            *best = e;
        }
    }
    Ok(())
}

fn search(
    n: usize,
    features: u64,
    loss: &Loss,
    opts: &Options,
    mut visit: impl FnMut(&Eval),
) -> Result<Eval> {
    let spec = check(n, features, loss, opts)?;
    let mut best: Option<Eval> = None;
    for m in 1..=opts.max_multiplicity.min(features) {
        let cands = candidates(features, m, loss);
        let mut local: Option<(usize, Eval)> = None;
        for (i, &d) in cands.iter().enumerate() {
            let ev = eval(n, m * d, m, loss, &spec)?;
            visit(&ev);
            if local.as_ref().map_or(true, |(_, b)| better(&ev, b)) {
                local = Some((i, ev));
            }
        }
        let Some((i, mut lb)) = local else { continue };
        let exact = *loss == Loss::L2 && features <= EXACT_E_SCAN;
        if !exact {
            let lo = cands[i.saturating_sub(1)];
            let hi = cands[(i + 1).min(cands.len() - 1)];
            if hi > lo + 1 {
                refine(lo, hi, |d| eval(n, m * d, m, loss, &spec), &mut lb)?;
            }
        }
        if best.as_ref().map_or(true, |b| better(&lb, b)) {
            best = Some(lb);
        }
    }
    best.ok_or_else(|| Error::Numerical("no configuration evaluated".into()))
}

/// The best symmetric configuration of `N` features in `R^n` (module docs), default options.
pub fn optimize(
    n: usize,
    features: u64,
    loss: &Loss,
    neighbours: Option<f64>,
) -> Result<SymmetricPoint> {
    optimize_with(
        n,
        features,
        loss,
        &Options {
            neighbours,
            ..Options::default()
        },
    )
}

/// [`optimize`] with all options.
pub fn optimize_with(
    n: usize,
    features: u64,
    loss: &Loss,
    opts: &Options,
) -> Result<SymmetricPoint> {
    let best = search(n, features, loss, opts, |_| {})?;
    Ok(point(n, features, &best, loss))
}

/// Every evaluated `(E, m)` of the search (the candidate grid, module docs), by `m` then `E`.
pub fn landscape(
    n: usize,
    features: u64,
    loss: &Loss,
    neighbours: Option<f64>,
) -> Result<Vec<SymmetricPoint>> {
    landscape_with(
        n,
        features,
        loss,
        &Options {
            neighbours,
            ..Options::default()
        },
    )
}

/// [`landscape`] with all options.
pub fn landscape_with(
    n: usize,
    features: u64,
    loss: &Loss,
    opts: &Options,
) -> Result<Vec<SymmetricPoint>> {
    let mut rows = Vec::new();
    search(n, features, loss, opts, |e| {
        rows.push(point(n, features, e, loss))
    })?;
    Ok(rows)
}

/// The evaluation of a given `(E, m)` with `N` features (best `c` and `k`).
pub fn configuration(
    n: usize,
    features: u64,
    embed: u64,
    multiplicity: u64,
    loss: &Loss,
    opts: &Options,
) -> Result<SymmetricPoint> {
    let spec = check(n, features, loss, opts)?;
    if embed < 1 || embed > features {
        return Err(Error::invalid(
            "number embedded E",
            format!("{embed} must lie in 1..=N = {features}"),
        ));
    }
    if multiplicity < 1 || multiplicity > embed || embed % multiplicity != 0 {
        return Err(Error::invalid(
            "multiplicity",
            format!("{multiplicity} must divide E = {embed} (E = m D with D directions)"),
        ));
    }
    let e = eval(n, embed, multiplicity, loss, &spec)?;
    Ok(point(n, features, &e, loss))
}

/// As [`configuration`], with the nearest-neighbour angle θ given (e.g. a trained model's
/// median θ_min) instead of the law's: separates the error of the law's θ from that of the
/// neighbour model.
pub fn configuration_at_theta(
    n: usize,
    features: u64,
    embed: u64,
    multiplicity: u64,
    theta: f64,
    loss: &Loss,
    opts: &Options,
) -> Result<SymmetricPoint> {
    let mut spec = check(n, features, loss, opts)?;
    finite("θ", theta)?;
    if !(theta > 0.0 && theta <= std::f64::consts::PI) {
        return Err(Error::invalid("θ", format!("{theta} must lie in (0, π]")));
    }
    if embed < 1 || embed > features || multiplicity < 1 || embed % multiplicity != 0 {
        return Err(Error::invalid(
            "E and m",
            format!("E = {embed} must lie in 1..=N = {features} and be a multiple of m = {multiplicity}"),
        ));
    }
    spec.theta = Some(theta);
    let e = eval(n, embed, multiplicity, loss, &spec)?;
    Ok(point(n, features, &e, loss))
}

/// Where the finite-neighbour optimum changes character as `N` grows.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct NeighbourPhase {
    /// First `N` at which the optimal `E` is below `N`; null if none up to the limit.
    pub embed_drop_features: Option<u64>,
    /// First `N` at which the optimal multiplicity exceeds 1; null if none.
    pub multiplicity_rise_features: Option<u64>,
    /// Search limit.
    pub max_features: u64,
}

/// Scans `N` upward (every integer to `min(max, 4096)` for L2, to 64 otherwise, then a
/// geometric grid of ratio 1.01 (L2) or 1.05) keeping the running optimum: the best `(E, m)`
/// for `N` is the better of the best for smaller `N` and the best with `E = N` (over `m`).
pub fn neighbour_phase(
    n: usize,
    loss: &Loss,
    opts: &Options,
    max_features: u64,
) -> Result<NeighbourPhase> {
    let spec = check(n, max_features.max(1), loss, opts)?;
    let (exact, ratio) = if *loss == Loss::L2 {
        (EXACT_E_SCAN, 1.01)
    } else {
        (GRID_START, GRID_RATIO)
    };
    let mut out = NeighbourPhase {
        embed_drop_features: None,
        multiplicity_rise_features: None,
        max_features,
    };
    let mut best: Option<Eval> = None;
    let mut nf = 1u64;
    while nf <= max_features {
        for m in (1..=opts.max_multiplicity.min(nf)).filter(|m| nf % m == 0) {
            let e = eval(n, nf, m, loss, &spec)?;
            if best.as_ref().map_or(true, |b| better(&e, b)) {
                best = Some(e);
            }
        }
        if let Some(b) = &best {
            if out.embed_drop_features.is_none() && b.embed < nf {
                out.embed_drop_features = Some(nf);
            }
            if out.multiplicity_rise_features.is_none() && b.m > 1 {
                out.multiplicity_rise_features = Some(nf);
            }
        }
        if out.embed_drop_features.is_some() && out.multiplicity_rise_features.is_some() {
            break;
        }
        nf = if nf < exact {
            nf + 1
        } else {
            ((nf as f64 * ratio).ceil() as u64).max(nf + 1)
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gain::{closed_form, slope_l2};
    use crate::prec::simpson;
    use crate::prec::{assert_close, REL_TIGHT};

    /// The kissing model's spec with `K = k`, small-angle law.
    fn kiss(k: f64) -> Spec {
        Spec {
            model: NeighbourModel::Kissing,
            k,
            law: ThetaLaw::SmallAngle,
            theta: None,
        }
    }

    /// Direct quadrature of the finite-neighbour loss at given (c, k).
    fn direct(loss: &Loss, m: f64, kk: f64, cos: f64, c: f64, k: f64) -> f64 {
        simpson(
            |x| {
                let y = (k * (x - c)).max(0.0);
                let z = (k * (x * cos - c)).max(0.0);
                loss.rho(y - x) + (m - 1.0) * loss.rho(y) + kk * m * loss.rho(z)
            },
            100_000,
        )
    }

    /// The L2 closed form in k equals direct quadrature, and the optimum (c, k) is a minimum.
    #[test]
    fn l2_finite_neighbour_loss_matches_quadrature() {
        for &(n, e, m, kk) in &[
            (8usize, 64u64, 1u64, 240.0),
            (8, 1024, 1, 240.0),
            (8, 300, 3, 40.0),
            (3, 1024, 1, 6.0),
            (3, 400, 2, 6.0),
        ] {
            let g = geometry(n, e, m, &kiss(kk)).unwrap();
            let ev = eval(n, e, m, &Loss::L2, &kiss(kk)).unwrap();
            let l = 1.0 / 3.0 - ev.gain_pf;
            let mf = m as f64;
            let d = e as f64 / mf;
            let full = |c: f64, k: f64| {
                direct(&Loss::L2, mf, g.k_eff, g.cos, c, k)
                    + mf * continuum_brute(n, d, g.k_eff, |cp| {
                        k * k * (cp - c).max(0.0).powi(3) / (3.0 * cp)
                    })
            };
            assert_close(full(ev.c, ev.k), l, 1e-7);
            for (dc, dk) in [(0.01, 0.0), (-0.01, 0.0), (0.0, 0.02), (0.0, -0.02)] {
                let c = (ev.c + dc).clamp(0.0, g.cos);
                let v = full(c, ev.k * (1.0 + dk));
                assert!(v >= l - 1e-9, "n={n} E={e}: perturbed {v} < {l}");
            }
            // Interference pushes the intercept below cos θ.
            assert!(ev.c < g.cos);
        }
    }

    /// Brute force of the continuum term `∫_{φ_K}^{π/2} D p(φ) f(cos φ) dφ`: φ_K by bisection on
    /// a Simpson integral of the angle density, the integral by Simpson (20 000 intervals).
    fn continuum_brute(n: usize, d: f64, k_eff: f64, f: impl Fn(f64) -> f64) -> f64 {
        let half = std::f64::consts::FRAC_PI_2;
        let cap = |phi: f64| simpson(|t| phi * crate::sphere::angle_density(n, phi * t), 4000);
        if d * cap(half) <= k_eff + 1.0 {
            return 0.0;
        }
        let (mut lo, mut hi) = (0.0, half);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if d * cap(mid) < k_eff + 1.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let a = 0.5 * (lo + hi);
        simpson(
            |t| {
                let phi = a + (half - a) * t;
                (half - a) * d * crate::sphere::angle_density(n, phi) * f(phi.cos())
            },
            20_000,
        )
    }

    /// The cap fraction: closed forms in 2-D (φ/π) and 3-D ((1 − cos φ)/2), quadrature of
    /// the angle density elsewhere.
    #[test]
    fn cap_fraction_and_first_shell() {
        for &phi in &[0.1, 0.7, 1.5] {
            assert_close(
                cap_fraction(2.0, phi).unwrap(),
                phi / std::f64::consts::PI,
                1e-12,
            );
            assert_close(
                cap_fraction(3.0, phi).unwrap(),
                0.5 * (1.0 - phi.cos()),
                1e-12,
            );
            for n in [5usize, 8, 20] {
                let q = simpson(|t| phi * crate::sphere::angle_density(n, phi * t), 20_000);
                assert_close(cap_fraction(n as f64, phi).unwrap(), q, 1e-9);
            }
        }
        // 3-D: D (1 − cos φ_K)/2 = K + 1.
        let r = rest_of(3, 1000.0, 6.0).unwrap().unwrap();
        assert_close(r.cos_k, 1.0 - 2.0 * 7.0 / 1000.0, 1e-12);
        // Few directions: the rest never reaches below 90°.
        assert!(rest_of(8, 100.0, 99.0).unwrap().is_none());
    }

    /// K → ∞ forbids any interference: c → cos θ and the gain falls to SPEC §3's closed form
    /// from above; K = 0 has no reason for an intercept: c = 0 and every feature is exact
    /// (gain per feature 1/(3m)). (K is set directly here, bypassing the cap K ≤ D − 1.)
    #[test]
    fn neighbour_limits_are_the_closed_forms() {
        for &(n, e, m) in &[(3usize, 50u64, 1u64), (4, 200, 2), (8, 1000, 1)] {
            let mut g = geometry(n, e, m, &kiss(0.0)).unwrap();
            // The discrete shell alone (no continuum of farther directions).
            g.rest = None;
            let mf = m as f64;
            let mut at = |k: f64| {
                g.k_eff = k;
                let (v, kk, gpf) = solve(&g, mf, &Loss::L2).unwrap();
                (g.cos * (1.0 - v), kk, gpf)
            };
            let cf = closed_form(n, e, m, Convention::Consistent, &Loss::L2).unwrap();
            let cf_pf = cf.gain / e as f64;
            let mut last = f64::INFINITY;
            for k in [1e1, 1e3, 1e6, 1e9] {
                let (c, _, gpf) = at(k);
                assert!(
                    gpf >= cf_pf * (1.0 - 1e-13) && gpf <= last * (1.0 + 1e-13),
                    "K={k}: {gpf} vs closed form {cf_pf}, previous {last}"
                );
                assert!(c <= cf.intercept);
                last = gpf;
            }
            let (c, kk, gpf) = at(1e15);
            assert_close(gpf, cf_pf, 1e-4);
            assert_close(c, cf.intercept, 1e-4);
            assert_close(kk, slope_l2(c, mf), 1e-6);
            // (f'(c) = −3c(2 + c) vanishes at c = 0, so c is flat there: within 1e-6.)
            let (c, _, gpf) = at(0.0);
            assert!(c < 1e-6, "{c}");
            assert_close(gpf, 1.0 / (3.0 * mf), REL_TIGHT);
        }
    }

    /// Regression: the narrow minimum just below cos θ must not be lost to the broad one near
    /// c = 0 (a uniform grid in c did, at n = 4, E = 1330). The search beats a dense scan of v.
    #[test]
    fn intercept_search_beats_a_dense_scan() {
        for &(n, e, m, k) in &[
            (4usize, 1329u64, 1u64, 12.0),
            (4, 1330, 1, 12.0),
            (8, 1024, 1, 126.0),
            (3, 5000, 2, 6.0),
            (2, 100, 1, 2.0),
        ] {
            let g = geometry(n, e, m, &kiss(k)).unwrap();
            let (_, _, gpf) = solve(&g, m as f64, &Loss::L2).unwrap();
            let mut top = 0.0f64;
            for i in 0..=200_000 {
                // Half the points log-spaced near v = 0, half uniform.
                let v = if i <= 100_000 {
                    (1e-12f64).powf(1.0 - i as f64 / 100_000.0)
                } else {
                    (i - 100_000) as f64 / 100_000.0
                };
                top = top.max(l2_at(&g, m as f64, v).0);
            }
            assert!(gpf >= top * (1.0 - 1e-12), "n={n} E={e}: {gpf} < {top}");
        }
    }

    /// Other losses: the optimum equals direct quadrature and perturbing (c, k) does not help.
    #[test]
    fn other_losses_optimum_is_a_minimum() {
        let n = 4;
        for loss in [
            Loss::Huber { delta: 0.3 },
            Loss::L1,
            Loss::Gauss { sigma: 0.4 },
        ] {
            let (e, m, kk) = (40u64, 1u64, 24.0);
            let g = geometry(n, e, m, &kiss(kk)).unwrap();
            let ev = eval(n, e, m, &loss, &kiss(kk)).unwrap();
            let l = loss.l0() - ev.gain_pf;
            assert_close(direct(&loss, 1.0, g.k_eff, g.cos, ev.c, ev.k), l, 1e-7);
            for (dc, dk) in [(0.02, 0.0), (-0.02, 0.0), (0.0, 0.05), (0.0, -0.05)] {
                let c = (ev.c + dc).clamp(0.0, g.cos);
                let v = direct(&loss, 1.0, g.k_eff, g.cos, c, ev.k * (1.0 + dk));
                assert!(v >= l - 1e-9, "{loss}: perturbed {v} < {l}");
            }
        }
    }

    /// SPEC §4 identity in the finite-neighbour model: m copies of D directions gain what D
    /// single features gain (L2).
    #[test]
    fn degeneracy_identity() {
        let o = Options {
            neighbours: Some(12.0),
            ..Options::default()
        };
        let a = configuration(3, 300, 300, 3, &Loss::L2, &o).unwrap();
        let b = configuration(3, 300, 100, 1, &Loss::L2, &o).unwrap();
        assert_close(a.gain, b.gain, 1e-9);
        assert_close(a.intercept, b.intercept, 1e-6);
    }

    /// The search finds the best of an exhaustive evaluation of every (E, m).
    #[test]
    fn optimize_is_the_exhaustive_best() {
        for (n, nf) in [(2usize, 40u64), (3, 60), (8, 100)] {
            let best = optimize(n, nf, &Loss::L2, None).unwrap();
            let k = default_neighbours(n).unwrap().value;
            let mut top = f64::NEG_INFINITY;
            for m in 1..=DEFAULT_MAX_MULTIPLICITY.min(nf) {
                for e in (m..=nf).filter(|e| e % m == 0) {
                    top = top.max(eval(n, e, m, &Loss::L2, &kiss(k)).unwrap().gain());
                }
            }
            assert_close(best.gain, top, REL_TIGHT);
            let all = landscape(n, nf, &Loss::L2, None).unwrap();
            assert!(all.iter().all(|p| p.gain <= best.gain * (1.0 + 1e-12)));
        }
        // Non-exhaustive grid + refinement (Huber) against a dense scan at m = 1.
        let loss = Loss::Huber { delta: 0.5 };
        let o = Options {
            max_multiplicity: 1,
            ..Options::default()
        };
        let best = optimize_with(3, 150, &loss, &o).unwrap();
        let top = (1..=150u64)
            .map(|e| eval(3, e, 1, &loss, &kiss(6.0)).unwrap().gain())
            .fold(f64::NEG_INFINITY, f64::max);
        assert_close(best.gain, top, 1e-9);
    }

    #[test]
    fn neighbour_defaults() {
        assert_eq!(default_neighbours(3).unwrap().value, 6.0);
        assert_eq!(default_neighbours(9).unwrap().value, 240.0);
        assert_eq!(default_neighbours(6).unwrap().value, 40.0);
        let big = default_neighbours(200).unwrap();
        assert!(big.value >= 345_408.0 && big.value.is_finite());
        assert!(default_neighbours(1).is_err());
    }

    #[test]
    fn rejects_bad_input() {
        assert!(optimize(3, 0, &Loss::L2, None).is_err());
        assert!(optimize(0, 10, &Loss::L2, None).is_err());
        assert!(optimize(3, 10, &Loss::L2, Some(-1.0)).is_err());
        assert!(optimize(3, 10, &Loss::L2, Some(f64::NAN)).is_err());
        assert!(optimize(3, 10, &Loss::Gauss { sigma: 0.0 }, None).is_err());
    }

    /// The shell model's spec (small-angle law).
    fn shell() -> Spec {
        Spec {
            model: NeighbourModel::Shell,
            k: 0.0,
            law: ThetaLaw::SmallAngle,
            theta: None,
        }
    }

    /// The shell model's cross-term sum `K (cos θ − c)₊³/(3 cos θ) + ∫ …` at intercept `c`.
    fn shell_cross(n: usize, d: f64, theta: f64, c: f64) -> f64 {
        let (k, rest) = shell_of(n, d, theta).unwrap();
        let cos = theta.cos();
        k * (cos - c).max(0.0).powi(3) / (3.0 * cos)
            + rest.map_or(0.0, |r| {
                r.integrate(c, |t| (t - c).max(0.0).powi(3) / (3.0 * t))
            })
    }

    /// The mean over directions of `Σ_j f(min(cos_ij, cap))`, `f(t) = (t − c)₊³/(3t)`, for D
    /// uniform random directions in R^n, and its standard error: `(sample, se)`. The pair terms
    /// are pairwise independent, so with `S = (2/D) Σ_pairs f`, `E S = (D − 1) E f` and
    /// `sd(S) = (2/D) √(P var)` over the `P` pairs.
    fn sampled_cross(n: usize, d: usize, seed: u64, c: f64, cap: f64) -> (f64, f64) {
        let u = crate::large_dim::random_directions(n, d, seed);
        let mut terms = Vec::new();
        for i in 0..d {
            for j in (i + 1)..d {
                let g: f64 = (0..n).map(|x| u[i * n + x] * u[j * n + x]).sum();
                let t = g.min(cap);
                terms.push(if t > c {
                    (t - c).powi(3) / (3.0 * t)
                } else {
                    0.0
                });
            }
        }
        let p = terms.len() as f64;
        let mean = terms.iter().sum::<f64>() / p;
        let var = terms.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (p - 1.0);
        (2.0 * p * mean / d as f64, 2.0 / d as f64 * (p * var).sqrt())
    }

    /// Brute force over a sampled code: for D uniform random directions the mean over
    /// directions of `Σ_j (cos_ij − c)₊³/(3 cos_ij)` has expectation the shell model's
    /// cross-term with an empty shell (θ → 0). The pair terms are pairwise independent, so the
    /// sample's standard error is exact; the model must lie within 4 of them.
    #[test]
    fn shell_continuum_matches_a_random_code() {
        for &(n, d, c, seed) in &[
            (16usize, 400usize, 0.3, 1u64),
            (32, 300, 0.15, 2),
            (6, 200, 0.5, 3),
        ] {
            let (sample, se) = sampled_cross(n, d, seed, c, 1.0);
            let model = shell_cross(n, d as f64, 1e-6, c);
            assert!(
                (sample - model).abs() < 4.0 * se,
                "n={n} D={d} c={c}: sample {sample} ± {se}, model {model}"
            );
        }
    }

    /// n = 3: the density in t = cos φ is uniform (½ dt) and F(θ) = (1 − cos θ)/2, so the
    /// cross-term has the closed form `(D−1)[(1−cos θ)/2 · (cos θ − c)³/(3 cos θ)
    /// + ½ ∫_c^{cos θ} (t − c)³/(3t) dt]`, `∫ (t−c)³/t = t³/3 − 3ct²/2 + 3c²t − c³ ln t`.
    #[test]
    fn shell_three_dimensions_closed_form() {
        let prim = |t: f64, c: f64| {
            t.powi(3) / 3.0 - 1.5 * c * t * t + 3.0 * c * c * t - c.powi(3) * t.ln()
        };
        for &(d, theta, c) in &[(100.0, 0.3, 0.5), (1000.0, 0.1, 0.9), (50.0, 1.2, 0.05)] {
            let ct: f64 = f64::cos(theta);
            let exact = (d - 1.0)
                * (0.5 * (1.0 - ct) * (ct - c).powi(3) / (3.0 * ct)
                    + 0.5 * (prim(ct, c) - prim(c, c)) / 3.0);
            assert_close(shell_cross(3, d, theta, c), exact, 1e-8);
        }
    }

    /// Mass: the shell plus the continuum up to 90° hold (D − 1)/2 directions (half the
    /// others have cos ≥ 0), for any n, including n = 8192 where the weight is sharp.
    #[test]
    fn shell_holds_the_other_directions() {
        for &(n, theta) in &[(3usize, 0.4), (8, 0.9), (64, 1.0), (128, 1.2), (8192, 1.5)] {
            let d = 1000.0;
            let (k, rest) = shell_of(n, d, theta).unwrap();
            let beyond = rest.unwrap().integrate(0.0, |_| 1.0);
            assert_close(k + beyond, 0.5 * (d - 1.0), 1e-9);
        }
        // One direction has no others.
        assert_eq!(shell_of(8, 1.0, 0.5).unwrap().0, 0.0);
    }

    /// The shell model's L2 optimum equals direct quadrature of its loss (φ-Simpson of the
    /// density, independent of the t-panels) and perturbing (c, k) does not help; θ ≥ 90°
    /// means no interference (c = 0, gain 1/(3m) per feature).
    #[test]
    fn shell_optimum_matches_quadrature() {
        for &(n, e, m) in &[
            (16usize, 256u64, 1u64),
            (32, 512, 1),
            (8, 300, 3),
            (128, 1024, 1),
        ] {
            let g = geometry(n, e, m, &shell()).unwrap();
            let ev = eval(n, e, m, &Loss::L2, &shell()).unwrap();
            let mf = m as f64;
            let d = e as f64 / mf;
            let theta = g.theta;
            let full = |c: f64, k: f64| {
                let half = std::f64::consts::FRAC_PI_2;
                let cont = simpson(
                    |t| {
                        let phi = theta + (half - theta) * t;
                        let cp = phi.cos();
                        let f = if cp > c {
                            k * k * (cp - c).powi(3) / (3.0 * cp)
                        } else {
                            0.0
                        };
                        (half - theta) * (d - 1.0) * crate::sphere::angle_density(n, phi) * f
                    },
                    200_000,
                );
                direct(&Loss::L2, mf, g.k_eff, g.cos, c, k) + mf * cont
            };
            let l = 1.0 / 3.0 - ev.gain_pf;
            assert_close(full(ev.c, ev.k), l, 1e-7);
            for (dc, dk) in [(0.01, 0.0), (-0.01, 0.0), (0.0, 0.02), (0.0, -0.02)] {
                let c = (ev.c + dc).clamp(0.0, g.cos);
                assert!(full(c, ev.k * (1.0 + dk)) >= l - 1e-9, "n={n} E={e}");
            }
        }
        let o = Options {
            model: NeighbourModel::Shell,
            ..Options::default()
        };
        let p = configuration_at_theta(16, 64, 64, 2, 1.7, &Loss::L2, &o).unwrap();
        assert_eq!(p.intercept, 0.0);
        assert_close(p.gain, 64.0 / 6.0, 1e-12);
        // K is the kissing model's; the shell model refuses it.
        let bad = Options {
            neighbours: Some(3.0),
            ..o
        };
        assert!(optimize_with(8, 100, &Loss::L2, &bad).is_err());
        assert!(configuration_at_theta(8, 10, 10, 1, f64::NAN, &Loss::L2, &o).is_err());
        assert_eq!(
            "shell".parse::<NeighbourModel>().unwrap(),
            NeighbourModel::Shell
        );
        assert!("kiss".parse::<NeighbourModel>().is_err());
    }

    /// The coding bounds against codes that meet them: the simplex and cross-polytope angles,
    /// the 28 equiangular lines in R^7 (the vectors of R^8 with two entries 3 and six −1, in
    /// the hyperplane Σx = 0: Welch with equality, |cos| = 1/3) and the 120 lines of E8's roots (Levenshtein's second bound with equality
    /// at μ = 1/2); Welch and Levenshtein agree at D = n(n+1)/2; none beyond n(n+1)(n+2)/6.
    #[test]
    fn code_theta_meets_the_codes_that_attain_it() {
        use crate::codes::{cross_polytope, e8_roots, min_angle, simplex};
        for n in [3usize, 8, 20] {
            let s = code_theta(n, (n + 1) as f64).unwrap();
            assert_close(s.0, min_angle(&simplex(n)), 1e-12);
            let c = code_theta(n, (2 * n) as f64).unwrap();
            assert_close(c.0, min_angle(&cross_polytope(n)), 1e-12);
        }
        // Lines: one representative per antipodal pair; the largest |cos| between lines.
        let lines = |pts: Vec<Vec<f64>>| -> (usize, f64) {
            let mut reps: Vec<Vec<f64>> = Vec::new();
            for p in pts {
                let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
                let norm = dot(&p, &p).sqrt();
                let u: Vec<f64> = p.iter().map(|x| x / norm).collect();
                if !reps.iter().any(|r| dot(r, &u) < -1.0 + 1e-9) {
                    reps.push(u);
                }
            }
            let mut mu = 0.0f64;
            for i in 0..reps.len() {
                for j in (i + 1)..reps.len() {
                    let g: f64 = reps[i].iter().zip(&reps[j]).map(|(a, b)| a * b).sum();
                    mu = mu.max(g.abs());
                }
            }
            (reps.len(), mu)
        };
        let mut ets = Vec::new();
        for a in 0..8 {
            for b in (a + 1)..8 {
                let mut v = vec![-1.0; 8];
                v[a] = 3.0;
                v[b] = 3.0;
                ets.push(v);
            }
        }
        let (d, mu) = lines(ets);
        assert_eq!(d, 28);
        let (t, src) = code_theta(7, d as f64).unwrap();
        assert_eq!(src, "Welch");
        assert_close(t.cos(), mu, 1e-12);
        assert_close(mu, 1.0 / 3.0, 1e-12);
        let (d, mu) = lines(e8_roots());
        assert_eq!(d, 120);
        let (t, src) = code_theta(8, d as f64).unwrap();
        assert_eq!(src, "Levenshtein (lines)");
        assert_close(t.cos(), mu, 1e-12);
        assert_close(mu, 0.5, 1e-12);
        for n in [4usize, 16, 64] {
            let nf = n as f64;
            let g = 0.5 * nf * (nf + 1.0);
            let (w, _) = code_theta(n, g).unwrap();
            let mu2 = (3.0 * g - nf * (nf + 2.0)) / ((nf + 2.0) * (g - nf));
            assert_close(w.cos(), mu2.sqrt(), 1e-12);
            assert_close(w.cos().powi(2), 1.0 / (nf + 2.0), 1e-12);
            assert!(code_theta(n, nf * (nf + 1.0) * (nf + 2.0) / 6.0 + 1.0).is_none());
        }
        assert!(code_theta(8, 1.0).is_none());
    }

    /// The collapse model is the shell model at the collapse curve's θ where that curve is
    /// defined (n ≥ 16, 2n < D, D/n in the fitted range), and the frame model elsewhere.
    #[test]
    fn collapse_model_is_the_shell_model_at_the_fitted_angle() {
        let opts = |model| Options {
            model,
            ..Options::default()
        };
        let fit = crate::collapse::committed().unwrap();
        for &(n, d) in &[(32usize, 512u64), (64, 1024), (128, 1024), (512, 8192)] {
            let (t, src) = collapse_theta(n, d as f64).unwrap();
            assert_eq!(src, "collapse fit");
            assert_close(t, fit.theta(n, d as f64).unwrap(), REL_TIGHT);
            let c = configuration(n, d, d, 1, &Loss::L2, &opts(NeighbourModel::Collapse)).unwrap();
            let s = configuration_at_theta(n, d, d, 1, t, &Loss::L2, &opts(NeighbourModel::Shell))
                .unwrap();
            assert_close(c.theta, t, REL_TIGHT);
            assert_close(c.intercept, s.intercept, REL_TIGHT);
            assert_close(c.gain, s.gain, REL_TIGHT);
        }
        // Undefined: below n = 16, at D ≤ 2n, beyond the fitted α; there it is the frame model.
        for &(n, d) in &[(8usize, 64u64), (64, 128), (16, 16 * 1000)] {
            assert!(collapse_theta(n, d as f64).is_none(), "{n} {d}");
            let c = configuration(n, d, d, 1, &Loss::L2, &opts(NeighbourModel::Collapse)).unwrap();
            let f = configuration(n, d, d, 1, &Loss::L2, &opts(NeighbourModel::Frame)).unwrap();
            assert_eq!(
                (c.theta, c.intercept, c.gain),
                (f.theta, f.intercept, f.gain)
            );
        }
        assert_eq!(
            "collapse".parse::<NeighbourModel>().unwrap(),
            NeighbourModel::Collapse
        );
    }

    /// The frame model's θ is the larger of the law's and the bound's; where the law's is larger
    /// the frame model is the kissing model, where the bound's, the shell model at that angle;
    /// with D ≤ 2n nothing interferes (gain E/3).
    #[test]
    fn frame_model_is_the_shell_model_at_the_larger_angle() {
        for &(n, d) in &[(8usize, 1024.0), (32, 256.0), (16, 5000.0), (64, 100.0)] {
            let f = frame_theta(n, d, ThetaLaw::SmallAngle).unwrap();
            let law = theta_min_ln(n, f64::ln(d)).unwrap().theta;
            assert_close(f.theta_law, law, REL_TIGHT);
            let code = code_theta(n, d).map(|c| c.0);
            assert_eq!(f.theta_code, code);
            assert_close(f.theta, law.max(code.unwrap_or(0.0)), REL_TIGHT);
            assert_eq!(f.source == "law", code.map_or(true, |c| c <= law));
        }
        // A known code above the law: n = 16, D = 4096 (Barnes–Wall, π/3 against the law's
        // 1.019); D = 4321 is beyond it (the law), D = 2048 below the law's 1.0675 (the law).
        let bw = frame_theta(16, 4096.0, ThetaLaw::SmallAngle).unwrap();
        assert_eq!(bw.source, "known code");
        assert_close(bw.theta, std::f64::consts::FRAC_PI_3, REL_TIGHT);
        assert!(bw.theta_law < 1.02 && bw.theta_law > 1.01, "{bw:?}");
        assert_eq!(
            frame_theta(16, 4321.0, ThetaLaw::SmallAngle)
                .unwrap()
                .source,
            "law"
        );
        assert_eq!(
            frame_theta(16, 2048.0, ThetaLaw::SmallAngle)
                .unwrap()
                .source,
            "law"
        );
        assert_eq!(
            frame_theta(16, 2720.0, ThetaLaw::SmallAngle)
                .unwrap()
                .source,
            "law"
        );
        let from = frame_theta(16, 2740.0, ThetaLaw::SmallAngle)
            .unwrap()
            .source;
        assert_eq!(from, "known code");
        // 3-D, D = 12: the icosahedron (63.43°) beats the law's 63.0°.
        let ico = frame_theta(3, 12.0, ThetaLaw::SmallAngle).unwrap();
        assert_eq!(ico.source, "known code");
        assert_close(ico.theta, (1.0 / 5f64.sqrt()).acos(), 1e-9);
        let frame = Options {
            model: NeighbourModel::Frame,
            ..Options::default()
        };
        let shell = Options {
            model: NeighbourModel::Shell,
            ..Options::default()
        };
        // n = 8, N = 1024 and n = 16, N = 2048: the law's θ is larger; the frame model is the
        // kissing model exactly.
        for (n, nf) in [(8usize, 1024u64), (16, 2048)] {
            let a = configuration(n, nf, nf, 1, &Loss::L2, &frame).unwrap();
            let b = configuration(n, nf, nf, 1, &Loss::L2, &Options::default()).unwrap();
            assert_eq!(
                (a.theta, a.intercept, a.gain),
                (b.theta, b.intercept, b.gain)
            );
        }
        // n = 32, N = 256: Welch's angle, and the shell model evaluated there.
        let a = configuration(32, 256, 256, 1, &Loss::L2, &frame).unwrap();
        let w = configuration_at_theta(32, 256, 256, 1, a.theta, &Loss::L2, &shell).unwrap();
        assert_close(a.theta, code_theta(32, 256.0).unwrap().0, REL_TIGHT);
        assert_close(a.gain, w.gain, REL_TIGHT);
        // n = 64, N = 128: the cross-polytope; the optimum embeds all at gain N/3.
        let p = optimize_with(64, 128, &Loss::L2, &frame).unwrap();
        assert!(p.embed == 128 && p.intercept.abs() < 1e-12, "{p:?}");
        assert_close(p.gain, 128.0 / 3.0, REL_TIGHT);
        assert_eq!(
            "frame".parse::<NeighbourModel>().unwrap(),
            NeighbourModel::Frame
        );
        let bad = Options {
            neighbours: Some(3.0),
            ..frame
        };
        assert!(optimize_with(32, 100, &Loss::L2, &bad).is_err());
    }

    /// Brute force over a sampled code: D uniform random directions with every cosine above
    /// cos θ moved onto the shell at cos θ have, around one direction, the frame model's
    /// distribution; so the mean over directions of `Σ_j (min(cos_ij, cos θ) − c)₊³ /
    /// (3 min(cos_ij, cos θ))` has expectation the model's cross term at the frame θ and the
    /// model's optimal c. Pair terms are pairwise independent (exact standard error); within
    /// 4 of them. Then the gain B²/A from the sampled cross term against the model's gain.
    #[test]
    fn frame_cross_term_matches_a_sampled_code() {
        let frame = Options {
            model: NeighbourModel::Frame,
            ..Options::default()
        };
        for &(n, d, seed) in &[(32usize, 256usize, 5u64), (16, 256, 6), (24, 400, 7)] {
            let p = configuration(n, d as u64, d as u64, 1, &Loss::L2, &frame).unwrap();
            let (ct, c) = (p.theta.cos(), p.intercept);
            assert!(ct > 0.0 && c > 0.0 && c < ct, "n={n}: {p:?}");
            let (sample, se) = sampled_cross(n, d, seed, c, ct);
            let model = shell_cross(n, d as f64, p.theta, c);
            assert!(se > 0.0 && se < 0.2 * model, "n={n}: se {se} vs {model}");
            assert!(
                (sample - model).abs() < 4.0 * se,
                "n={n} D={d}: sample {sample} ± {se}, model {model}"
            );
            // Gain per feature B²/A at (c, optimal k): sampled against the model's.
            let omc = 1.0 - c;
            let b = omc * omc * (2.0 + c) / 6.0;
            let g_sample = b * b / (omc.powi(3) / 3.0 + sample);
            let dg = b * b / (omc.powi(3) / 3.0 + sample).powi(2) * 4.0 * se;
            assert!(
                (g_sample * d as f64 - p.gain).abs() <= dg * d as f64 + 1e-9 * p.gain,
                "n={n}: sampled gain {} vs model {}",
                g_sample * d as f64,
                p.gain
            );
        }
    }

    /// At the law's own θ the θ-given configuration is the ordinary one.
    #[test]
    fn configuration_at_the_laws_theta_is_the_configuration() {
        let o = Options::default();
        let c = configuration(3, 64, 60, 1, &Loss::L2, &o).unwrap();
        let t = configuration_at_theta(3, 64, 60, 1, c.theta, &Loss::L2, &o).unwrap();
        crate::prec::assert_close(t.gain, c.gain, crate::prec::REL_TIGHT);
        // A wider spacing than the law's costs less interference: the gain grows.
        let w = configuration_at_theta(3, 64, 60, 1, 1.1 * c.theta, &Loss::L2, &o).unwrap();
        assert!(w.gain > c.gain);
        assert!(configuration_at_theta(3, 64, 60, 1, 0.0, &Loss::L2, &o).is_err());
    }
}
