//! `theta_distribution` and `analytic_gain`.

use std::f64::consts::PI;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::sphere::angle_density;

use super::style::{
    color_for_n, dashed_vline, font, legend, legend_auto, palette, titled, GREY, RED,
};
use super::{de, log_range, log_tick, tick, Figure};
use plotters::style::colors::TRANSPARENT;

/// `theta_distribution`: histogram of the pairwise angles between the embedded directions of
/// one model, with the density of the angle between two independent uniform points on
/// `S^{n−1}` (`sphere::angle_density`) beside it, θ_min (median) and π/2 marked.
#[derive(Debug, Clone)]
pub struct ThetaDistributionFig {
    /// Model dimension.
    pub n: usize,
    /// Number of features N of the model.
    pub features: usize,
    /// Pairwise angles (radians) between embedded directions.
    pub angles: Vec<f64>,
    /// Median θ_min (radians).
    pub theta_min: f64,
    /// Number of histogram bins over [0°, 180°].
    pub bins: usize,
}

impl ThetaDistributionFig {
    /// Histogram densities per degree: `(left edge°, right edge°, density)`.
    pub fn histogram(&self) -> Vec<(f64, f64, f64)> {
        let bins = self.bins.max(1);
        let w = 180.0 / bins as f64;
        let mut counts = vec![0usize; bins];
        let mut total = 0usize;
        for a in self.angles.iter().filter(|a| a.is_finite()) {
            let k = ((a.to_degrees() / w).floor() as usize).min(bins - 1);
            counts[k] += 1;
            total += 1;
        }
        counts
            .iter()
            .enumerate()
            .map(|(k, &c)| {
                let d = if total == 0 {
                    0.0
                } else {
                    c as f64 / (total as f64 * w)
                };
                (k as f64 * w, (k + 1) as f64 * w, d)
            })
            .collect()
    }
}

impl Figure for ThetaDistributionFig {
    fn size(&self) -> (u32, u32) {
        (1100, 650)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.angles.is_empty() {
            return Err(Error::invalid("theta_distribution figure", "no angles"));
        }
        let body = titled(
            root,
            &format!(
                "Pairwise angles between embedded directions, n = {}, N = {}",
                self.n, self.features
            ),
        )?;
        let hist = self.histogram();
        let per_degree = PI / 180.0;
        let uniform: Vec<(f64, f64)> = (0..=360)
            .map(|k| {
                let deg = k as f64 * 0.5;
                (deg, angle_density(self.n, deg.to_radians()) * per_degree)
            })
            .filter(|p| p.1.is_finite())
            .collect();
        let ymax = hist
            .iter()
            .map(|h| h.2)
            .chain(uniform.iter().map(|u| u.1))
            .fold(0.0, f64::max)
            * 1.12;
        let mut chart = ChartBuilder::on(&body)
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(85)
            .build_cartesian_2d(0.0..180.0, 0.0..ymax.max(1e-6))
            .map_err(de)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GREY.mix(0.25))
            .x_desc("angle between two embedded directions (degrees)")
            .y_desc("density (per degree)")
            .x_labels(10)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style(font(16))
            .axis_desc_style(font(19))
            .draw()
            .map_err(de)?;
        let c = color_for_n(self.n);
        chart
            .draw_series(
                hist.iter()
                    .map(|&(a, b, d)| Rectangle::new([(a, 0.0), (b, d)], c.mix(0.45).filled())),
            )
            .map_err(de)?
            .label("trained model (histogram)")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 6), (x + 20, y + 6)], c.mix(0.45).filled())
            });
        let u = palette(0);
        let u = if u == c { palette(7) } else { u };
        chart
            .draw_series(LineSeries::new(uniform, u.stroke_width(3)))
            .map_err(de)?
            .label(format!("uniform directions on S^{}", self.n - 1))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], u.stroke_width(3)));
        if self.theta_min.is_finite() {
            dashed_vline(
                &mut chart,
                self.theta_min.to_degrees(),
                0.0,
                ymax,
                RED,
                Some(&format!(
                    "θ_min (median) = {:.1}°",
                    self.theta_min.to_degrees()
                )),
            )?;
        }
        dashed_vline(&mut chart, 90.0, 0.0, ymax, GREY, Some("π/2"))?;
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}

/// One curve of the analytic gain: multiplicity m and `(E, g)` points.
#[derive(Debug, Clone)]
pub struct GainCurve {
    /// Multiplicity m.
    pub m: usize,
    /// `(E, gain)` ordered by E.
    pub points: Vec<(f64, f64)>,
}

/// One panel of `analytic_gain`: one n in one convention.
#[derive(Debug, Clone)]
pub struct GainPanel {
    /// Model dimension.
    pub n: usize,
    /// Convention name ("consistent" or "note").
    pub convention: String,
    /// Curves for m = 1, 2, 3.
    pub curves: Vec<GainCurve>,
    /// Predicted transition (first N at which m ≥ 2 wins), if within the range.
    pub transition: Option<f64>,
}

/// `analytic_gain`: the closed-form gain over E for m = 1, 2, 3, one column per n and one row
/// per convention (consistent: multiplicity m everywhere; note: `n_deg + 1` in the loss but
/// `n_dir = E/n_deg` in the θ law), the predicted transition marked by a red line.
#[derive(Debug, Clone)]
pub struct AnalyticGainFig {
    /// Panels; rows are the distinct conventions in order of appearance, columns the n.
    pub panels: Vec<GainPanel>,
}

impl Figure for AnalyticGainFig {
    fn size(&self) -> (u32, u32) {
        let (r, c) = self.shape();
        (40 + 400 * c as u32, 60 + 400 * r as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.panels.is_empty() {
            return Err(Error::invalid("analytic_gain figure", "no panels"));
        }
        let body = titled(
            root,
            "Closed-form gain g(E, m) of symmetric packing; red line: predicted transition to m ≥ 2",
        )?;
        let (rows, cols) = self.shape();
        let convs = self.conventions();
        let ns = self.dims();
        let areas = body.split_evenly((rows, cols));
        for p in &self.panels {
            let r = convs.iter().position(|c| *c == p.convention).unwrap_or(0);
            let c = ns.iter().position(|n| *n == p.n).unwrap_or(0);
            let area = &areas[r * cols + c];
            let (x0, x1) = log_range(
                p.curves.iter().flat_map(|c| c.points.iter().map(|q| q.0)),
                1.2,
            );
            let (y0, y1) = log_range(
                p.curves.iter().flat_map(|c| c.points.iter().map(|q| q.1)),
                1.5,
            );
            let mut chart = ChartBuilder::on(area)
                .caption(
                    format!("n = {}, {} convention", p.n, p.convention),
                    font(19),
                )
                .margin(8)
                .x_label_area_size(42)
                .y_label_area_size(if c == 0 { 62 } else { 50 })
                .build_cartesian_2d((x0..x1).log_scale().base(2.0), (y0..y1).log_scale())
                .map_err(de)?;
            let mut mesh = chart.configure_mesh();
            mesh.light_line_style(TRANSPARENT)
                .bold_line_style(GREY.mix(0.25))
                .x_desc("embedded features E")
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| log_tick(*v))
                .x_labels(6)
                .label_style(font(13))
                .axis_desc_style(font(16));
            if c == 0 {
                mesh.y_desc("gain g");
            }
            mesh.draw().map_err(de)?;
            for (k, curve) in p.curves.iter().enumerate() {
                let col = palette(k);
                let pts: Vec<(f64, f64)> =
                    curve.points.iter().copied().filter(|q| q.1 > 0.0).collect();
                chart
                    .draw_series(LineSeries::new(pts, col.stroke_width(3)))
                    .map_err(de)?
                    .label(format!("m = {}", curve.m))
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], col.stroke_width(3))
                    });
            }
            if let Some(t) = p.transition.filter(|t| *t >= x0 && *t <= x1) {
                dashed_vline(
                    &mut chart,
                    t,
                    y0,
                    y1,
                    RED,
                    Some(&format!("transition N = {}", tick(t))),
                )?;
            }
            let pts: Vec<(f64, f64)> = p
                .curves
                .iter()
                .flat_map(|c| c.points.iter().copied())
                .filter(|q| q.1 > 0.0)
                .collect();
            legend_auto(&mut chart, &pts, 0.4, 0.35)?;
        }
        Ok(())
    }
}

impl AnalyticGainFig {
    fn conventions(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for p in &self.panels {
            if !v.contains(&p.convention) {
                v.push(p.convention.clone());
            }
        }
        v
    }

    fn dims(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.panels.iter().map(|p| p.n).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    fn shape(&self) -> (usize, usize) {
        (self.conventions().len().max(1), self.dims().len().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_a_density() {
        let f = ThetaDistributionFig {
            n: 3,
            features: 4,
            angles: vec![0.1, 0.2, 1.0, 3.0, PI],
            theta_min: 0.1,
            bins: 36,
        };
        let h = f.histogram();
        assert_eq!(h.len(), 36);
        let total: f64 = h.iter().map(|(a, b, d)| (b - a) * d).sum();
        assert!((total - 1.0).abs() < 1e-12);
        // π falls into the last bin, not past it.
        assert!(h[35].2 > 0.0);
    }
}
