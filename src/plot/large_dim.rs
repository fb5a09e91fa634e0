//! `large_dim`: trained against predicted θ_min, intercept and gain per feature versus n, with
//! the random-code baseline beside them (the large-n study, [`crate::large_dim`]).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::TRANSPARENT;

use crate::error::{Error, Result};
use crate::large_dim::{LargeDim, Row};

use super::style::{font, legend_auto, palette, titled, GREY};
use super::{de, lin_range, log_range, tick, Figure};

/// One quantity of one row: trained, kissing model, frame model, collapse model (leave-one-n-out),
/// random code.
type Quad = (
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

/// The figure's data: the study's rows.
#[derive(Debug, Clone)]
pub struct LargeDimFig {
    /// Rows (any order).
    pub rows: Vec<Row>,
}

impl LargeDimFig {
    /// The figure of a study result.
    pub fn from_result(r: &LargeDim) -> Self {
        LargeDimFig {
            rows: r.rows.clone(),
        }
    }
}

fn theta(r: &Row) -> Quad {
    (
        r.trained.theta_min,
        Some(r.kissing.theta),
        Some(r.frame.theta),
        r.collapse.as_ref().map(|c| c.theta),
        r.random.as_ref().map(|x| x.theta_min),
    )
}

fn intercept(r: &Row) -> Quad {
    (
        r.trained.intercept,
        Some(r.kissing.intercept),
        Some(r.frame.intercept),
        r.collapse.as_ref().map(|c| c.intercept),
        r.random.as_ref().and_then(|x| x.intercept),
    )
}

fn gain_pf(r: &Row) -> Quad {
    let nf = r.features as f64;
    (
        Some(r.trained.gain / nf),
        Some(r.kissing.gain / nf),
        Some(r.frame.gain / nf),
        r.collapse.as_ref().map(|c| c.gain / nf),
        r.random.as_ref().map(|x| x.gain / nf),
    )
}

impl Figure for LargeDimFig {
    fn size(&self) -> (u32, u32) {
        (1800, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.rows.is_empty() {
            return Err(Error::invalid("large_dim figure", "no data"));
        }
        let body = titled(
            root,
            "Large n: trained (●), collapse model, leave-one-n-out (solid), frame (dashed), \
             kissing (dotted), random codes (▲); one colour per N",
        )?;
        let panels = body.split_evenly((1, 3));
        let mut ns: Vec<usize> = self.rows.iter().map(|r| r.features).collect();
        ns.sort_unstable();
        ns.dedup();
        let (x0, x1) = log_range(self.rows.iter().map(|r| r.n as f64), 1.25);
        type Get = fn(&Row) -> Quad;
        let what: [(&str, Get); 3] = [
            ("θ_min (radians)", theta),
            ("intercept c", intercept),
            ("gain per feature g/N", gain_pf),
        ];
        for (panel, (label, get)) in panels.iter().zip(what.iter()) {
            let vals = self.rows.iter().flat_map(|r| {
                let q = get(r);
                [q.0, q.1, q.2, q.3, q.4].into_iter().flatten()
            });
            let (y0, y1) = lin_range(vals, 0.08);
            let mut chart = ChartBuilder::on(panel)
                .margin(15)
                .x_label_area_size(50)
                .y_label_area_size(70)
                .build_cartesian_2d((x0..x1).log_scale().base(2.0), y0..y1)
                .map_err(de)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(GREY.mix(0.25))
                .x_desc("model dimension n")
                .y_desc(*label)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .label_style(font(16))
                .axis_desc_style(font(19))
                .draw()
                .map_err(de)?;
            let mut all = Vec::new();
            for (k, &nf) in ns.iter().enumerate() {
                let c = palette(k);
                let mut rows: Vec<&Row> = self.rows.iter().filter(|r| r.features == nf).collect();
                rows.sort_by_key(|r| r.n);
                let series = |f: fn(&Quad) -> Option<f64>| -> Vec<(f64, f64)> {
                    rows.iter()
                        .filter_map(|r| f(&get(r)).map(|y| (r.n as f64, y)))
                        .filter(|p| p.1.is_finite())
                        .collect()
                };
                let trained = series(|q| q.0);
                let kissing = series(|q| q.1);
                let frame = series(|q| q.2);
                let collapse = series(|q| q.3);
                let random = series(|q| q.4);
                all.extend(
                    trained
                        .iter()
                        .chain(&collapse)
                        .chain(&frame)
                        .chain(&random)
                        .copied(),
                );
                chart
                    .draw_series(trained.iter().map(|&p| Circle::new(p, 6, c.filled())))
                    .map_err(de)?
                    .label(format!("N = {nf}"))
                    .legend(move |(x, y)| Circle::new((x + 10, y), 6, c.filled()));
                chart
                    .draw_series(LineSeries::new(collapse, c.stroke_width(3)))
                    .map_err(de)?;
                chart
                    .draw_series(DashedLineSeries::new(
                        frame,
                        10,
                        6,
                        c.mix(0.7).stroke_width(2),
                    ))
                    .map_err(de)?;
                chart
                    .draw_series(DashedLineSeries::new(
                        kissing,
                        3,
                        5,
                        c.mix(0.5).stroke_width(2),
                    ))
                    .map_err(de)?;
                chart
                    .draw_series(
                        random
                            .iter()
                            .map(|&p| TriangleMarker::new(p, 7, c.mix(0.8).stroke_width(2))),
                    )
                    .map_err(de)?;
            }
            legend_auto(&mut chart, &all, 0.25, 0.3)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::large_dim::{ModelSide, TrainedSide};

    fn side(t: f64) -> ModelSide {
        ModelSide {
            theta: t,
            intercept: t.cos(),
            gain: 10.0,
            embed: 32,
            multiplicity: 1,
            neighbours: 1.0,
            theta_source: None,
        }
    }

    /// Draws to SVG with synthetic rows; no rows is an error.
    #[test]
    fn draws_and_rejects_empty() {
        let rows: Vec<Row> = [16usize, 32]
            .iter()
            .map(|&n| Row {
                n,
                features: 32,
                trained: TrainedSide {
                    theta_min: Some(1.0),
                    intercept: Some(0.4),
                    gain: 9.0,
                    embedded: 32,
                    directions: 32,
                    converged: true,
                },
                kissing: side(1.0),
                shell: side(1.1),
                frame: side(1.2),
                collapse: Some(side(1.25)),
                ratio_intercept_collapse: None,
                ratio_gain_collapse: None,
                shell_at_trained_theta: None,
                shell_at_welch: side(1.3),
                random: None,
                ratio_intercept_shell_trained_theta: None,
                ratio_gain_shell_trained_theta: None,
                ratio_intercept_kissing: None,
                ratio_intercept_shell: None,
                ratio_gain_kissing: None,
                ratio_gain_shell: None,
                ratio_intercept_frame: None,
                ratio_gain_frame: None,
                ratio_gain_random: None,
            })
            .collect();
        let mut s = String::new();
        {
            let root = SVGBackend::with_string(&mut s, (1800, 620)).into_drawing_area();
            super::super::register_fonts();
            LargeDimFig { rows }.draw(&root).unwrap();
        }
        assert!(s.contains("<svg") && s.contains("N = 32"));
        let mut t = String::new();
        let root = SVGBackend::with_string(&mut t, (100, 100)).into_drawing_area();
        assert!(LargeDimFig { rows: vec![] }.draw(&root).is_err());
    }
}
