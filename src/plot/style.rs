//! Fonts, colours and shared chart helpers.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::Result;

use super::de;

/// The embedded font (DejaVu Sans; licence in `assets/fonts/LICENSE-DejaVu.txt`).
pub const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Font family name under which [`FONT`] is registered.
pub const FAMILY: &str = "sans-serif";

static REGISTER: Once = Once::new();

/// Registers the embedded font with plotters (idempotent).
pub fn register_fonts() {
    REGISTER.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold, FontStyle::Italic] {
            // The font is a valid TTF shipped in the repository; a failure here would be
            // caught by every figure test.
            let _ = plotters::style::register_font(FAMILY, style, FONT);
        }
    });
}

/// Okabe–Ito colour-blind-safe palette (black last).
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];

/// The i-th colour of the palette (cycles; yellow is skipped on white backgrounds).
pub fn palette(i: usize) -> RGBColor {
    const ORDER: [usize; 7] = [0, 1, 2, 3, 4, 5, 7];
    OKABE_ITO[ORDER[i % ORDER.len()]]
}

/// A fixed colour per model dimension n, so n means the same colour in every figure.
pub fn color_for_n(n: usize) -> RGBColor {
    match n {
        2 => palette(0),
        3 => palette(1),
        4 => palette(2),
        6 => palette(3),
        8 => palette(4),
        other => palette(5 + other % 2),
    }
}

/// Grey used for reference lines.
pub const GREY: RGBColor = RGBColor(120, 120, 120);
/// Red used for markers of special points (transition, sub-optimal models).
pub const RED: RGBColor = RGBColor(200, 30, 30);

/// Text style of the given pixel size.
pub fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// Splits `root` into a figure title strip and the body.
pub fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>> {
    root.titled(title, font(30)).map_err(de)
}

/// Draws a vertical dashed line at `x` from `y0` to `y1` in chart coordinates.
pub fn dashed_vline<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x: X::ValueType,
    y0: Y::ValueType,
    y1: Y::ValueType,
    color: RGBColor,
    label: Option<&str>,
) -> Result<()>
where
    DB: DrawingBackend,
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
    X::ValueType: Clone + 'static,
    Y::ValueType: Clone + 'static,
{
    let series = DashedLineSeries::new([(x.clone(), y0), (x, y1)], 8, 6, color.stroke_width(2));
    let anno = chart.draw_series(series).map_err(de)?;
    if let Some(l) = label {
        anno.label(l)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    Ok(())
}

/// Standard legend at `pos`: white translucent background, grey border.
pub fn legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(GREY)
        .label_font(font(17))
        .draw()
        .map_err(de)
}

/// Draws the legend in the corner of the plot that covers the fewest of `points` (data
/// coordinates, any axis types); the legend box is taken as `w × h` of the plotting area.
pub fn legend_auto<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    points: &[(X::ValueType, Y::ValueType)],
    w: f64,
    h: f64,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
{
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let (dx, dy) = (
        (xr.end - xr.start).max(1) as f64,
        (yr.end - yr.start).max(1) as f64,
    );
    let fr: Vec<(f64, f64)> = points
        .iter()
        .map(|p| {
            let (px, py) = chart.backend_coord(p);
            (
                (px - xr.start) as f64 / dx,
                1.0 - (py - yr.start) as f64 / dy,
            )
        })
        .collect();
    legend(chart, emptiest_corner(&fr, w, h))
}

/// The legend corner with the fewest data points under it. `points` are in axis fractions
/// (`[0, 1]²`, x to the right, y up); a legend box covers `w × h` of the plot.
pub fn emptiest_corner(points: &[(f64, f64)], w: f64, h: f64) -> SeriesLabelPosition {
    let corners = [
        (SeriesLabelPosition::UpperLeft, 0.0, 1.0 - h),
        (SeriesLabelPosition::UpperRight, 1.0 - w, 1.0 - h),
        (SeriesLabelPosition::LowerRight, 1.0 - w, 0.0),
        (SeriesLabelPosition::LowerLeft, 0.0, 0.0),
    ];
    let mut best = (SeriesLabelPosition::UpperLeft, usize::MAX);
    for (pos, x0, y0) in corners {
        let k = points
            .iter()
            .filter(|(x, y)| *x >= x0 && *x <= x0 + w && *y >= y0 && *y <= y0 + h)
            .count();
        if k < best.1 {
            best = (pos, k);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legend_avoids_the_data() {
        // Data along the rising diagonal: upper-left and lower-right are free; upper-left first.
        let diag: Vec<(f64, f64)> = (0..=10)
            .map(|k| (k as f64 / 10.0, k as f64 / 10.0))
            .collect();
        assert!(matches!(
            emptiest_corner(&diag, 0.3, 0.3),
            SeriesLabelPosition::UpperLeft
        ));
        // Data in the upper half only: a lower corner.
        let top: Vec<(f64, f64)> = (0..=10).map(|k| (k as f64 / 10.0, 0.9)).collect();
        assert!(matches!(
            emptiest_corner(&top, 0.3, 0.3),
            SeriesLabelPosition::LowerRight | SeriesLabelPosition::LowerLeft
        ));
    }
}
