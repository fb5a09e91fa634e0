//! Weight pictures and responses: `superposition_2d`, `superposition_3d`, `intercept`.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

use super::style::{color_for_n, dashed_vline, font, legend, palette, titled, GREY, RED};
use super::{de, tick, Figure, ModelView};
use plotters::style::colors::TRANSPARENT;

/// Picks at most `k` indices out of `0..len`, evenly spread, always keeping the first and last.
pub fn pick(len: usize, k: usize) -> Vec<usize> {
    if len <= k {
        return (0..len).collect();
    }
    let mut v: Vec<usize> = (0..k)
        .map(|j| ((j as f64) * (len - 1) as f64 / (k - 1).max(1) as f64).round() as usize)
        .collect();
    v.dedup();
    v
}

/// `superposition_2d` / `superposition_3d`: for each model (one column per N), the weight
/// vectors on top and the responses `x_i'` against `x_i` below.
///
/// Top panel: in 2-D the weight vectors `W_i` themselves; in 3-D the unit directions of the
/// embedded features with a positive third component, projected onto the first two axes (a
/// front view of the sphere). In 2-D each direction (features within
/// [`crate::toy::diagnostics::DIRECTION_THRESHOLD`] of each other) is a spoke to its longest
/// member, a filled marker, its other members as small hollow markers, and its multiplicity
/// written as "×m" when m ≥ 2; in 3-D markers share one opacity, so features that share a
/// direction stack into darker markers. Not-embedded features are drawn as hollow grey
/// circles (2-D). Bottom panel: `x_i' = (|W_i|² x + b_i)₊` for every embedded feature, with
/// the identity dashed.
#[derive(Debug, Clone)]
pub struct Superposition {
    /// 2 or 3.
    pub n: usize,
    /// Models, one column each (ordered by N).
    pub models: Vec<ModelView>,
}

impl Superposition {
    fn check(&self) -> Result<()> {
        if self.n != 2 && self.n != 3 {
            return Err(Error::invalid("superposition figure", "n must be 2 or 3"));
        }
        if self.models.is_empty() {
            return Err(Error::invalid("superposition figure", "no models"));
        }
        if let Some(m) = self.models.iter().find(|m| m.n != self.n) {
            return Err(Error::invalid(
                "superposition figure",
                format!("a model has n = {}, expected {}", m.n, self.n),
            ));
        }
        Ok(())
    }
}

impl Figure for Superposition {
    fn size(&self) -> (u32, u32) {
        let cols = self.models.len().max(1) as u32;
        (40 + 300 * cols, 740)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        self.check()?;
        let title = if self.n == 2 {
            "2-D models: weight vectors W_i (top) and responses x_i' vs x_i (bottom)"
        } else {
            "3-D models: directions of embedded W_i with W_i3 > 0, front view (top); responses (bottom)"
        };
        let body = titled(root, title)?;
        let (top, bottom) = body.split_vertically(340);
        let tops = top.split_evenly((1, self.models.len()));
        let bottoms = bottom.split_evenly((1, self.models.len()));
        let color = color_for_n(self.n);
        for (j, m) in self.models.iter().enumerate() {
            let emb = m.embedded_indices();
            let ylab = j == 0;
            // Top: weights.
            let r = if self.n == 2 {
                (0..m.features())
                    .map(|i| m.amplitude(i))
                    .fold(0.0, f64::max)
                    .max(1e-9)
                    * 1.15
            } else {
                1.1
            };
            // Square plotting area: pad the longer side.
            let ylab_w = if ylab { 70 } else { 45 };
            let (pw, ph) = tops[j].dim_in_pixel();
            let avail_w = pw as i32 - 16 - ylab_w;
            let avail_h = ph as i32 - 16 - 30 - 32;
            let (pad_r, pad_b) = if avail_w > avail_h {
                (avail_w - avail_h, 0)
            } else {
                (0, avail_h - avail_w)
            };
            let mut chart = ChartBuilder::on(&tops[j])
                .caption(
                    if self.n == 2 {
                        let d = super::direction_groups(
                            m,
                            crate::toy::diagnostics::DIRECTION_THRESHOLD,
                        )
                        .len();
                        format!("N = {}: E = {}, D = {d}", m.features(), emb.len())
                    } else {
                        format!("N = {}   ({} embedded)", m.features(), emb.len())
                    },
                    font(20),
                )
                .margin(8)
                .margin_right(8 + pad_r)
                .margin_bottom(8 + pad_b)
                .x_label_area_size(30)
                .y_label_area_size(ylab_w)
                .build_cartesian_2d(-r..r, -r..r)
                .map_err(de)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(GREY.mix(0.25))
                .disable_mesh()
                .x_labels(5)
                .y_labels(5)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .label_style(font(14))
                .draw()
                .map_err(de)?;
            // Reference circle: unit circle in 3-D, median amplitude in 2-D.
            let rad = if self.n == 3 {
                1.0
            } else {
                median(emb.iter().map(|&i| m.amplitude(i)).collect()).unwrap_or(1.0)
            };
            chart
                .draw_series(LineSeries::new(
                    (0..=200).map(|t| {
                        let a = t as f64 / 200.0 * std::f64::consts::TAU;
                        (rad * a.cos(), rad * a.sin())
                    }),
                    GREY.mix(0.5).stroke_width(1),
                ))
                .map_err(de)?;
            if self.n == 2 {
                let dead: Vec<usize> = (0..m.features()).filter(|&i| !m.embedded(i)).collect();
                chart
                    .draw_series(
                        dead.iter()
                            .map(|&i| Circle::new((m.w[i][0], m.w[i][1]), 5, GREY.stroke_width(1))),
                    )
                    .map_err(de)?;
                // Multiplicity shown explicitly, not by stacking translucent markers (which
                // saturate: m = 2 and m = 128 would look alike): each direction is a spoke from
                // the origin to its longest member, a filled marker there, every member a small
                // hollow marker, and "×m" beside the direction when m ≥ 2.
                let groups =
                    super::direction_groups(m, crate::toy::diagnostics::DIRECTION_THRESHOLD);
                for g in &groups {
                    let top = g
                        .iter()
                        .copied()
                        .max_by(|&a, &b| m.amplitude(a).total_cmp(&m.amplitude(b)))
                        .expect("groups are non-empty");
                    let (x, y) = (m.w[top][0], m.w[top][1]);
                    chart
                        .draw_series(LineSeries::new(
                            [(0.0, 0.0), (x, y)],
                            color.mix(0.5).stroke_width(1),
                        ))
                        .map_err(de)?;
                    chart
                        .draw_series(g.iter().filter(|&&i| i != top).map(|&i| {
                            Circle::new((m.w[i][0], m.w[i][1]), 3, color.stroke_width(1))
                        }))
                        .map_err(de)?;
                    chart
                        .draw_series(std::iter::once(Circle::new((x, y), 6, color.filled())))
                        .map_err(de)?;
                    if g.len() >= 2 {
                        let a = m.amplitude(top).max(1e-12);
                        let (ux, uy) = (x / a, y / a);
                        let off = 0.09 * r;
                        chart
                            .draw_series(std::iter::once(
                                EmptyElement::at((x + ux * off, y + uy * off))
                                    + Text::new(
                                        format!("×{}", g.len()),
                                        (if ux > 0.7 { -44 } else { -12 }, -8),
                                        font(15).color(&BLACK),
                                    ),
                            ))
                            .map_err(de)?;
                    }
                }
            } else {
                chart
                    .draw_series(emb.iter().filter_map(|&i| {
                        let d = m.direction(i)?;
                        (d[2] > 0.0).then(|| Circle::new((d[0], d[1]), 5, color.mix(0.35).filled()))
                    }))
                    .map_err(de)?;
            }
            // Bottom: responses.
            let ymax = emb.iter().map(|&i| m.response(i, 1.0)).fold(1.0, f64::max) * 1.05;
            let mut chart = ChartBuilder::on(&bottoms[j])
                .margin(8)
                .x_label_area_size(45)
                .y_label_area_size(if ylab { 70 } else { 45 })
                .build_cartesian_2d(0.0..1.0, 0.0..ymax)
                .map_err(de)?;
            response_mesh(&mut chart, ylab)?;
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, 0.0), (1.0, 1.0)],
                    6,
                    5,
                    GREY.stroke_width(1),
                ))
                .map_err(de)?;
            draw_responses(&mut chart, m, &emb, color.mix(0.3))?;
        }
        Ok(())
    }
}

/// A response chart on `[0, 1] × [0, ymax]`: x_i' against x_i.
type ResponseChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The mesh of a response panel (the y axis is labelled only where `ylab`).
fn response_mesh<DB: DrawingBackend>(chart: &mut ResponseChart<'_, DB>, ylab: bool) -> Result<()> {
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .x_labels(5)
        .y_labels(5)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .x_desc("input x_i")
        .label_style(font(14))
        .axis_desc_style(font(17));
    if ylab {
        mesh.y_desc("output x_i'");
    }
    mesh.draw().map_err(de)
}

/// One line per feature in `features`: the response `x_i' = ReLU(|W_i|² x + b_i)` for
/// `x ∈ [0, 1]`, zero up to the intercept `−b_i/|W_i|²`.
fn draw_responses<DB: DrawingBackend>(
    chart: &mut ResponseChart<'_, DB>,
    m: &ModelView,
    features: &[usize],
    color: RGBAColor,
) -> Result<()> {
    for &i in features {
        let c = m.intercept(i).clamp(0.0, 1.0);
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (c, 0.0), (1.0, m.response(i, 1.0))],
                color.stroke_width(2),
            ))
            .map_err(de)?;
    }
    Ok(())
}

pub use crate::stats::median;

/// One model of the `intercept` figure.
#[derive(Debug, Clone)]
pub struct InterceptModel {
    /// The trained model.
    pub model: ModelView,
    /// Median over embedded features of cos θ_min (θ_min to the nearest other direction).
    pub cos_theta_min: f64,
    /// Intercept of the finite-neighbour symmetric optimum (`symmetric::optimize`), if known.
    pub finite_neighbour: Option<f64>,
}

/// `intercept`: responses of n-D models (the note uses n = 8) for a few N with the median
/// cos θ_min marked, and below, the median intercept `−b/|W|²` against N beside cos θ_min and
/// the finite-neighbour optimum.
#[derive(Debug, Clone)]
pub struct InterceptFig {
    /// Model dimension.
    pub n: usize,
    /// Models ordered by N.
    pub models: Vec<InterceptModel>,
}

impl Figure for InterceptFig {
    fn size(&self) -> (u32, u32) {
        (1600, 900)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.models.is_empty() {
            return Err(Error::invalid("intercept figure", "no models"));
        }
        let body = titled(
            root,
            &format!(
                "{}-D models: responses x_i' vs x_i and the intercept −b_i/|W_i|² against cos θ_min",
                self.n
            ),
        )?;
        let (top, bottom) = body.split_vertically(440);
        let chosen = pick(self.models.len(), 5);
        let tops = top.split_evenly((1, chosen.len()));
        let color = color_for_n(self.n);
        for (j, &k) in chosen.iter().enumerate() {
            let im = &self.models[k];
            let m = &im.model;
            let emb = m.embedded_indices();
            let ymax = emb.iter().map(|&i| m.response(i, 1.0)).fold(1.0, f64::max) * 1.05;
            let mut chart = ChartBuilder::on(&tops[j])
                .caption(format!("N = {}", m.features()), font(20))
                .margin(8)
                .x_label_area_size(45)
                .y_label_area_size(if j == 0 { 55 } else { 35 })
                .build_cartesian_2d(0.0..1.0, 0.0..ymax)
                .map_err(de)?;
            response_mesh(&mut chart, j == 0)?;
            draw_responses(&mut chart, m, &emb, color.mix(0.25))?;
            if im.cos_theta_min.is_finite() {
                dashed_vline(
                    &mut chart,
                    im.cos_theta_min.clamp(0.0, 1.0),
                    0.0,
                    ymax,
                    RED,
                    Some("cos θ_min (median)"),
                )?;
            }
            if j == 0 {
                legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
            }
        }
        // Summary: intercept vs N.
        let rows: Vec<(f64, Option<f64>, f64, Option<f64>)> = self
            .models
            .iter()
            .map(|im| {
                let m = &im.model;
                let ic = median(
                    m.embedded_indices()
                        .iter()
                        .map(|&i| m.intercept(i))
                        .collect(),
                );
                (
                    m.features() as f64,
                    ic,
                    im.cos_theta_min,
                    im.finite_neighbour,
                )
            })
            .collect();
        let (x0, x1) = super::log_range(rows.iter().map(|r| r.0), 1.3);
        let (y0, y1) = super::lin_range(
            rows.iter()
                .flat_map(|r| [r.1.unwrap_or(f64::NAN), r.2, r.3.unwrap_or(f64::NAN)]),
            0.08,
        );
        let mut chart = ChartBuilder::on(&bottom)
            .margin(10)
            .margin_left(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((x0..x1).log_scale().base(2.0), y0..y1)
            .map_err(de)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GREY.mix(0.25))
            .x_desc("number of features N")
            .y_desc("intercept −b_i/|W_i|²")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style(font(15))
            .axis_desc_style(font(18))
            .draw()
            .map_err(de)?;
        let tri: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.2.is_finite())
            .map(|r| (r.0, r.2))
            .collect();
        chart
            .draw_series(LineSeries::new(tri.clone(), RED.stroke_width(2)))
            .map_err(de)?
            .label("cos θ_min (trained median)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
        chart
            .draw_series(tri.iter().map(|&p| TriangleMarker::new(p, 6, RED.filled())))
            .map_err(de)?;
        let fin: Vec<(f64, f64)> = rows.iter().filter_map(|r| Some((r.0, r.3?))).collect();
        if !fin.is_empty() {
            let c = palette(2);
            chart
                .draw_series(DashedLineSeries::new(fin, 8, 5, c.stroke_width(2)))
                .map_err(de)?
                .label("finite-neighbour optimum (symmetric theory)")
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
        }
        let ic: Vec<(f64, f64)> = rows.iter().filter_map(|r| Some((r.0, r.1?))).collect();
        chart
            .draw_series(LineSeries::new(ic.clone(), color.stroke_width(2)))
            .map_err(de)?
            .label("intercept (trained median)")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        chart
            .draw_series(ic.iter().map(|&p| Circle::new(p, 5, color.filled())))
            .map_err(de)?;
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_spreads_and_keeps_ends() {
        assert_eq!(pick(3, 5), vec![0, 1, 2]);
        assert_eq!(pick(9, 5), vec![0, 2, 4, 6, 8]);
        assert_eq!(pick(9, 1), vec![0]);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN]), None);
    }
}
