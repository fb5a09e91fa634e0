//! The `phase_sparsity` figure: embedded fraction, multiplicity, θ_min and gain per feature
//! (relative to the exact sparse-limit model) over the expected number of active features
//! `(1 − S)·N`, one line per `(n, N)`.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{color_for_n, font, legend, titled, GREY, RED};
use super::{de, log_range, log_tick, tick, Figure};
use crate::error::{Error, Result};
use crate::sparsity::{PhaseSparsity, DEPARTURE};

/// One `(n, N)` line: `((1 − S)·N, [embedded, multiplicity, θ_min°, g/g_exact])`.
#[derive(Debug, Clone)]
pub struct PhaseLine {
    /// Model dimension.
    pub n: usize,
    /// Number of features.
    pub features: usize,
    /// Points, `(1 − S)·N` ascending.
    pub points: Vec<(f64, [Option<f64>; 4])>,
}

/// The figure's data.
#[derive(Debug, Clone)]
pub struct PhaseSparsityFig {
    /// One line per `(n, N)`.
    pub lines: Vec<PhaseLine>,
}

impl From<&PhaseSparsity> for PhaseSparsityFig {
    fn from(s: &PhaseSparsity) -> Self {
        let lines = s
            .departures
            .iter()
            .map(|d| {
                let mut points: Vec<(f64, [Option<f64>; 4])> = s
                    .points
                    .iter()
                    .filter(|p| p.n == d.n && p.features == d.features && p.sparsity.is_some())
                    .map(|p| {
                        (
                            p.expected_active,
                            [
                                Some(p.fraction_embedded),
                                p.mean_multiplicity,
                                p.theta_min_median.map(f64::to_degrees),
                                Some(p.gain_per_feature / d.exact_gain_per_feature),
                            ],
                        )
                    })
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                PhaseLine {
                    n: d.n,
                    features: d.features,
                    points,
                }
            })
            .collect();
        PhaseSparsityFig { lines }
    }
}

const PANELS: [&str; 4] = [
    "fraction embedded",
    "mean multiplicity",
    "median θ_min (degrees)",
    "gain per feature / exact sparse limit",
];

impl Figure for PhaseSparsityFig {
    fn size(&self) -> (u32, u32) {
        (1400, 1000)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.lines.iter().all(|l| l.points.is_empty()) {
            return Err(Error::invalid("phase_sparsity figure", "no data"));
        }
        let body = titled(
            root,
            "Finite sparsity: the geometry over (1 − S)·N, expected active features",
        )?;
        let xs = self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
        let (x0, x1) = log_range(xs, 1.5);
        let nmax = self.lines.iter().map(|l| l.features).max().unwrap_or(1) as f64;
        for (k, area) in body.split_evenly((2, 2)).iter().enumerate() {
            let ys = self
                .lines
                .iter()
                .flat_map(|l| l.points.iter().filter_map(move |p| p.1[k]));
            let (lo, hi) = super::lin_range(ys.chain([if k == 3 { 1.0 } else { 0.0 }]), 0.08);
            let mut chart = ChartBuilder::on(area)
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(65)
                .caption(PANELS[k], font(20))
                .build_cartesian_2d((x0..x1).log_scale(), lo..hi)
                .map_err(de)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(GREY.mix(0.25))
                .x_desc("(1 − S)·N")
                .x_label_formatter(&|v| log_tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .label_style(font(15))
                .axis_desc_style(font(17))
                .draw()
                .map_err(de)?;
            if k == 3 {
                let y = 1.0 - DEPARTURE;
                chart
                    .draw_series(LineSeries::new([(x0, y), (x1, y)], RED.stroke_width(2)))
                    .map_err(de)?
                    .label(format!("{:.0} % below (departure)", DEPARTURE * 100.0))
                    .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
            }
            for l in &self.lines {
                let c = color_for_n(l.n);
                // Line width grows with N, so that N is readable without a legend per line.
                let w = 1 + (3.0 * (l.features as f64).ln() / nmax.ln().max(1.0)).round() as u32;
                let pts: Vec<(f64, f64)> = l
                    .points
                    .iter()
                    .filter_map(|p| p.1[k].map(|y| (p.0, y)))
                    .collect();
                let s = chart
                    .draw_series(LineSeries::new(pts.clone(), c.stroke_width(w)))
                    .map_err(de)?;
                if k == 3 {
                    s.label(format!("n = {}, N = {}", l.n, l.features))
                        .legend(move |(x, y)| {
                            PathElement::new([(x, y), (x + 20, y)], c.stroke_width(w))
                        });
                }
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                    .map_err(de)?;
            }
            if k == 3 {
                legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparsity::{Departure, PhasePoint};

    #[test]
    fn draws_from_a_synthetic_study() {
        let pt = |s: Option<f64>, g: f64| PhasePoint {
            n: 3,
            features: 16,
            sparsity: s,
            expected_active: s.map_or(0.0, |s| (1.0 - s) * 16.0),
            fraction_embedded: 1.0,
            mean_multiplicity: Some(1.0),
            theta_min_median: Some(0.8),
            gain_per_feature: g,
            gain_stderr: 0.0,
        };
        let s = PhaseSparsity {
            command: "test".into(),
            points: vec![pt(None, 0.25), pt(Some(0.99), 0.2), pt(Some(0.999), 0.24)],
            departures: vec![Departure {
                n: 3,
                features: 16,
                exact_gain_per_feature: 0.25,
                expected_active: Some(0.1),
                kind: "exact".into(),
            }],
        };
        let fig = PhaseSparsityFig::from(&s);
        assert_eq!(fig.lines[0].points.len(), 2);
        crate::prec::assert_close(fig.lines[0].points[1].1[3].unwrap(), 0.8, 1e-12);
        let dir = tempfile::tempdir().unwrap();
        super::super::save(&fig, &dir.path().join("p.svg")).unwrap();
    }
}
