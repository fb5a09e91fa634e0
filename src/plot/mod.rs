//! Figures of the note, drawn with `plotters` from plain data.
//!
//! Every figure is a struct of plain numbers (so it can be tested with synthetic input) that
//! implements [`Figure`]; [`save`] writes it as PNG or SVG, chosen by the file extension, with
//! an embedded font (DejaVu Sans, `assets/fonts/`, registered through `ab_glyph`), so no system
//! fontconfig is needed. Files are written atomically (temporary file in the same folder, then
//! rename).
//!
//! | figure | struct | what it shows |
//! |---|---|---|
//! | `superposition_2d`, `superposition_3d` | [`Superposition`] | weight vectors (top) and responses (bottom) for several N |
//! | `theta_min` | [`ThetaMinFig`] | θ_min of every embedded feature vs N, per n, with the θ_min law |
//! | `multiplicity` | [`MultiplicityFig`] | number of directions and mean multiplicity vs N |
//! | `amplitudes` | [`AmplitudesFig`] | `|W_i|` per feature vs N, coloured by multiplicity |
//! | `theta_distribution` | [`ThetaDistributionFig`] | pairwise angles of one model vs the uniform density |
//! | `intercept` | [`InterceptFig`] | 8-D responses with cos θ_min marked, and intercept vs N |
//! | `training_inefficiency` | [`GainFig`] | gain vs N per n, sub-optimal models flagged |
//! | `huber` | [`HuberFig`] | Huber δ sweep: embedded fraction, directions, multiplicity vs δ |
//! | `analytic_gain` | [`AnalyticGainFig`] | closed-form gain over E for m = 1, 2, 3, transition marked |
//! | `phase_sparsity` | [`PhaseSparsityFig`] | embedded fraction, multiplicity, θ_min, gain per feature over (1 − S)·N |
//! | `scaling` | [`ScalingFig`] | loss versus n per (α, weight decay), fitted exponents, packing law |

mod model;
mod phase_sparsity;
mod scaling;
mod style;
mod sweep;
#[cfg(test)]
mod synthetic;
mod theory;
mod weights;

pub use model::{direction_groups, nearest_angles, pairwise_angles, ModelView};
pub use phase_sparsity::PhaseSparsityFig;
pub use scaling::ScalingFig;
pub use style::{palette, register_fonts, FONT};
pub use sweep::{
    stalled, suboptimal, AmplitudesFig, AmplitudesSeries, GainFig, GainSeries, HuberFig,
    HuberPoint, MultiplicityFig, MultiplicityPoint, MultiplicitySeries, ThetaMinFig,
    ThetaMinSeries,
};
pub use theory::{AnalyticGainFig, GainCurve, GainPanel, ThetaDistributionFig};
pub use weights::{median, pick as pick_spread, InterceptFig, InterceptModel, Superposition};

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// Names of the figures, in the order of the note.
pub const NAMES: [&str; 10] = [
    "superposition_2d",
    "superposition_3d",
    "theta_min",
    "multiplicity",
    "amplitudes",
    "theta_distribution",
    "intercept",
    "training_inefficiency",
    "huber",
    "analytic_gain",
];

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    /// Size in pixels (width, height).
    fn size(&self) -> (u32, u32);
    /// Draws the figure on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Output format of a figure file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Portable network graphics.
    Png,
    /// Scalable vector graphics.
    Svg,
}

/// The output format named by `path`'s extension (`.png` or `.svg`, any case).
pub fn kind_of(path: &Path) -> Result<Kind> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png") => Ok(Kind::Png),
        Some("svg") => Ok(Kind::Svg),
        _ => Err(Error::invalid(
            "--out",
            format!("{}: the file name must end in .png or .svg", path.display()),
        )),
    }
}

/// Converts a plotters drawing error into the crate error.
pub(crate) fn de<E: std::fmt::Display>(e: E) -> Error {
    Error::Numerical(format!("drawing failed: {e}"))
}

fn temp_path(path: &Path, ext: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "figure".into());
    path.with_file_name(format!(".{name}.{}.tmp.{ext}", std::process::id()))
}

/// Writes `fig` to `path` as PNG or SVG (by extension), atomically.
///
/// Errors: an extension other than `.png`/`.svg`, a folder that does not exist or is not
/// writable, a failed drawing.
pub fn save<F: Figure>(fig: &F, path: &Path) -> Result<()> {
    let kind = kind_of(path)?;
    register_fonts();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "folder does not exist"),
        ));
    }
    let size = fig.size();
    match kind {
        Kind::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
                root.fill(&WHITE).map_err(de)?;
                fig.draw(&root)?;
                root.present().map_err(de)?;
            }
            let tmp = temp_path(path, "svg");
            std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
            std::fs::rename(&tmp, path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::io(path, e)
            })
        }
        Kind::Png => {
            let tmp = temp_path(path, "png");
            // Check writability first: plotters only opens the file at `present`.
            std::fs::write(&tmp, b"").map_err(|e| Error::io(path, e))?;
            let drawn = (|| {
                let root = BitMapBackend::new(&tmp, size).into_drawing_area();
                root.fill(&WHITE).map_err(de)?;
                fig.draw(&root)?;
                root.present().map_err(de)
            })();
            if let Err(e) = drawn {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            std::fs::rename(&tmp, path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::io(path, e)
            })
        }
    }
}

/// Formats a tick value compactly: integers without decimals, otherwise 3 significant digits.
pub(crate) fn tick(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if (x - x.round()).abs() < 1e-9 * x.abs().max(1.0) && x.abs() < 1e6 {
        return format!("{}", x.round() as i64);
    }
    let a = x.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{x:.1e}");
    }
    let digits = (2 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Tick label for a log axis: only values 1, 2 or 5 × 10^k are labelled (others get an empty
/// label), so that dense log ticks stay readable.
pub(crate) fn log_tick(x: f64) -> String {
    if x.is_nan() || x <= 0.0 {
        return String::new();
    }
    let e = x.log10().floor();
    let mant = x / 10f64.powf(e);
    if [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|m| (mant - m).abs() < 1e-6 * m)
    {
        tick(x)
    } else {
        String::new()
    }
}

/// Padded range `[lo, hi]` of finite values (linear), never empty.
pub(crate) fn lin_range(values: impl IntoIterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        let w = lo.abs().max(1.0) * 0.1;
        return (lo - w, hi + w);
    }
    let w = (hi - lo) * pad;
    (lo - w, hi + w)
}

/// Range `[lo, hi]` of positive finite values, padded by a factor, for log axes.
pub(crate) fn log_range(values: impl IntoIterator<Item = f64>, factor: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (1.0, 10.0);
    }
    if hi / lo < 1.0 + 1e-9 {
        return (lo / 2.0, hi * 2.0);
    }
    (lo / factor, hi * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_decides_kind() {
        assert_eq!(kind_of(Path::new("a/b.PNG")).unwrap(), Kind::Png);
        assert_eq!(kind_of(Path::new("b.svg")).unwrap(), Kind::Svg);
        assert!(kind_of(Path::new("b.jpg")).is_err());
        assert!(kind_of(Path::new("b")).is_err());
    }

    #[test]
    fn ticks_are_compact() {
        assert_eq!(tick(1024.0), "1024");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(0.02), "0.02");
        assert_eq!(tick(0.123456), "0.123");
        assert_eq!(log_tick(0.2), "0.2");
        assert_eq!(log_tick(0.3), "");
        assert_eq!(log_tick(100.0), "100");
        assert_eq!(tick(12.345), "12.3");
    }

    #[test]
    fn ranges_never_empty() {
        assert_eq!(lin_range([f64::NAN], 0.1), (0.0, 1.0));
        let (a, b) = lin_range([2.0, 2.0], 0.1);
        assert!(a < 2.0 && b > 2.0);
        let (a, b) = log_range([4.0, 1024.0], 1.5);
        assert!((a - 4.0 / 1.5).abs() < 1e-12 && (b - 1536.0).abs() < 1e-9);
    }
}
