//! The `scaling` figure: loss per active feature versus n (log–log) per (α, weight decay), with
//! the fitted exponents, the packing law's sparse-limit curve and a 1/n reference.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{font, legend, palette, titled, GREY};
use super::{de, log_range, log_tick, tick, Figure};
use crate::error::{Error, Result};
use crate::scaling::Scaling;

/// One curve: label, `(n, L)` points, and whether it is the packing law.
#[derive(Debug, Clone)]
pub struct ScalingCurve {
    /// Legend label (with the fitted exponent).
    pub label: String,
    /// `(n, L)`.
    pub points: Vec<(f64, f64)>,
    /// The packing law's curve (drawn dashed, black).
    pub theory: bool,
}

/// The figure's data.
#[derive(Debug, Clone)]
pub struct ScalingFig {
    /// Curves.
    pub curves: Vec<ScalingCurve>,
}

impl From<&Scaling> for ScalingFig {
    fn from(s: &Scaling) -> Self {
        let curves = s
            .fits
            .iter()
            .map(|f| {
                let pm = f
                    .exponent_stderr
                    .map_or(String::new(), |e| format!(" ± {e:.2}"));
                let label = match (f.alpha, f.weight_decay) {
                    (Some(a), Some(w)) => format!("α = {a}, wd = {w}: β = {:.2}{pm}", f.exponent),
                    _ => format!("packing law (sparse limit): β = {:.2}{pm}", f.exponent),
                };
                ScalingCurve {
                    label,
                    points: f
                        .dims
                        .iter()
                        .zip(&f.losses)
                        .map(|(&n, &l)| (n as f64, l))
                        .collect(),
                    theory: f.alpha.is_none(),
                }
            })
            .collect();
        ScalingFig { curves }
    }
}

impl Figure for ScalingFig {
    fn size(&self) -> (u32, u32) {
        (1100, 760)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.curves.iter().all(|c| c.points.is_empty()) {
            return Err(Error::invalid("scaling figure", "no data"));
        }
        let body = titled(root, "Loss versus model dimension n (fits L ∝ n^−β)")?;
        let (x0, x1) = log_range(
            self.curves
                .iter()
                .flat_map(|c| c.points.iter().map(|p| p.0)),
            1.2,
        );
        let (y0, y1) = log_range(
            self.curves
                .iter()
                .flat_map(|c| c.points.iter().map(|p| p.1)),
            1.6,
        );
        let mut chart = ChartBuilder::on(&body)
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d((x0..x1).log_scale().base(2.0), (y0..y1).log_scale())
            .map_err(de)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GREY.mix(0.25))
            .x_desc("model dimension n")
            .y_desc("loss per active feature L")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| log_tick(*v))
            .label_style(font(16))
            .axis_desc_style(font(19))
            .draw()
            .map_err(de)?;
        // 1/n through the geometric mean of the first trained points.
        let firsts: Vec<(f64, f64)> = self
            .curves
            .iter()
            .filter_map(|c| c.points.first().copied())
            .collect();
        if let Some(&(n0, _)) = firsts.first() {
            let l0 = (firsts.iter().map(|p| p.1.ln()).sum::<f64>() / firsts.len() as f64).exp();
            let line: Vec<(f64, f64)> = [x0, x1].iter().map(|&n| (n, l0 * n0 / n)).collect();
            chart
                .draw_series(DashedLineSeries::new(line, 4, 6, GREY.stroke_width(2)))
                .map_err(de)?
                .label("1/n (Liu, Liu & Gore, strong superposition)")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GREY.stroke_width(2)));
        }
        let mut k = 0;
        for c in &self.curves {
            let col = if c.theory {
                BLACK
            } else {
                k += 1;
                palette(k - 1)
            };
            let s = if c.theory {
                chart
                    .draw_series(DashedLineSeries::new(
                        c.points.clone(),
                        10,
                        5,
                        col.stroke_width(3),
                    ))
                    .map_err(de)?
            } else {
                chart
                    .draw_series(LineSeries::new(c.points.clone(), col.stroke_width(3)))
                    .map_err(de)?
            };
            s.label(c.label.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], col.stroke_width(3)));
            chart
                .draw_series(c.points.iter().map(|&p| Circle::new(p, 5, col.filled())))
                .map_err(de)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerLeft)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::{packing_fit, ScalingGrid};

    #[test]
    fn draws_the_packing_curve() {
        let s = Scaling {
            command: "test".into(),
            grid: ScalingGrid::reduced(),
            points: Vec::new(),
            fits: vec![packing_fit(&[4, 8], 64).unwrap()],
        };
        let fig = ScalingFig::from(&s);
        assert!(fig.curves[0].theory);
        let dir = tempfile::tempdir().unwrap();
        super::super::save(&fig, &dir.path().join("s.svg")).unwrap();
    }
}
