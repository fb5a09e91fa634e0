//! Figures over a sweep of N: `theta_min`, `multiplicity`, `amplitudes`,
//! `training_inefficiency`, `huber`.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

use super::style::{color_for_n, font, legend, legend_auto, palette, titled, GREY, RED};
use super::weights::median;
use super::{de, lin_range, log_range, log_tick, tick, Figure};
use plotters::style::colors::TRANSPARENT;

/// Deterministic jitter in [−1, 1] for point `i` (golden-ratio sequence), to spread markers
/// that share an x value.
fn jitter(i: usize) -> f64 {
    let g = 0.618_033_988_749_895_f64;
    ((i as f64 * g).fract() - 0.5) * 2.0
}

fn grid_shape(k: usize) -> (usize, usize) {
    match k {
        0 | 1 => (1, 1),
        2 => (1, 2),
        3 => (1, 3),
        4 => (2, 2),
        5 | 6 => (2, 3),
        k => (k.div_ceil(4), 4),
    }
}

/// θ_min of the embedded features of each model of one n.
#[derive(Debug, Clone)]
pub struct ThetaMinSeries {
    /// Model dimension.
    pub n: usize,
    /// `(N, θ_min of every embedded feature)`; 0 for features sharing a direction.
    pub models: Vec<(usize, Vec<f64>)>,
    /// The θ_min law with `D = N` directions: `(N, small-angle θ, chord θ)`.
    pub law: Vec<(usize, f64, f64)>,
}

/// `theta_min`: one panel per n; each embedded feature is a translucent marker at its θ_min
/// (degenerate features sit at 0), the median is a line, the θ_min law (D = N, small-angle and
/// chord forms) a shaded band.
#[derive(Debug, Clone)]
pub struct ThetaMinFig {
    /// One series per n.
    pub series: Vec<ThetaMinSeries>,
}

impl Figure for ThetaMinFig {
    fn size(&self) -> (u32, u32) {
        let (r, c) = grid_shape(self.series.len());
        (520 * c as u32, 60 + 430 * r as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.series.is_empty() {
            return Err(Error::invalid("theta_min figure", "no data"));
        }
        let body = titled(
            root,
            "θ_min: angle from each embedded feature to its nearest neighbour",
        )?;
        let (r, c) = grid_shape(self.series.len());
        let panels = body.split_evenly((r, c));
        for (s, area) in self.series.iter().zip(panels.iter()) {
            let color = color_for_n(s.n);
            let xs = s.models.iter().map(|m| m.0 as f64);
            let (x0, x1) = log_range(xs.chain(s.law.iter().map(|l| l.0 as f64)), 1.4);
            let ymax = s
                .models
                .iter()
                .flat_map(|m| m.1.iter().copied())
                .chain(s.law.iter().map(|l| l.2.min(std::f64::consts::PI)))
                .filter(|v| v.is_finite())
                .fold(0.2_f64, f64::max)
                .to_degrees()
                * 1.08;
            let mut chart = ChartBuilder::on(area)
                .caption(format!("n = {}", s.n), font(22))
                .margin(10)
                .x_label_area_size(45)
                .y_label_area_size(60)
                .build_cartesian_2d((x0..x1).log_scale().base(2.0), -ymax * 0.03..ymax)
                .map_err(de)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(GREY.mix(0.25))
                .x_desc("number of features N")
                .y_desc("θ_min (degrees)")
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .label_style(font(14))
                .axis_desc_style(font(17))
                .draw()
                .map_err(de)?;
            if !s.law.is_empty() {
                let band: Vec<(f64, f64)> = s
                    .law
                    .iter()
                    .map(|l| (l.0 as f64, l.1.to_degrees()))
                    .chain(s.law.iter().rev().map(|l| (l.0 as f64, l.2.to_degrees())))
                    .collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(band, GREY.mix(0.4).filled())))
                    .map_err(de)?
                    .label("θ_min law, D = N (small-angle … chord)")
                    .legend(|(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 20, y + 6)], GREY.mix(0.35).filled())
                    });
            }
            chart
                .draw_series(s.models.iter().flat_map(|(nf, th)| {
                    th.iter().enumerate().map(move |(i, t)| {
                        let x = *nf as f64 * 2f64.powf(0.12 * jitter(i));
                        Circle::new((x, t.to_degrees()), 3, color.mix(0.25).filled())
                    })
                }))
                .map_err(de)?
                .label("embedded features")
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
            let med: Vec<(f64, f64)> = s
                .models
                .iter()
                .filter_map(|(nf, th)| Some((*nf as f64, median(th.clone())?.to_degrees())))
                .collect();
            chart
                .draw_series(LineSeries::new(med, color.stroke_width(3)))
                .map_err(de)?
                .label("median")
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(3))
                });
            let pts: Vec<(f64, f64)> = s
                .models
                .iter()
                .flat_map(|(nf, th)| th.iter().map(move |t| (*nf as f64, t.to_degrees())))
                .chain(s.law.iter().map(|l| (l.0 as f64, l.1.to_degrees())))
                .collect();
            legend_auto(&mut chart, &pts, 0.55, 0.3)?;
        }
        Ok(())
    }
}

/// One model's directions and multiplicity.
#[derive(Debug, Clone, Copy)]
pub struct MultiplicityPoint {
    /// N.
    pub features: usize,
    /// Embedded features E.
    pub embedded: usize,
    /// Number of distinct directions D.
    pub directions: usize,
    /// Mean multiplicity E/D.
    pub mean_multiplicity: f64,
}

/// Multiplicity data of one n.
#[derive(Debug, Clone)]
pub struct MultiplicitySeries {
    /// Model dimension.
    pub n: usize,
    /// Points ordered by N.
    pub points: Vec<MultiplicityPoint>,
}

/// `multiplicity`: number of directions D (left, with D = N dashed) and mean multiplicity E/D
/// (right) against N, one line per n.
#[derive(Debug, Clone)]
pub struct MultiplicityFig {
    /// One series per n.
    pub series: Vec<MultiplicitySeries>,
}

fn legend_line(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(3))
}

impl Figure for MultiplicityFig {
    fn size(&self) -> (u32, u32) {
        (1400, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.series.iter().all(|s| s.points.is_empty()) {
            return Err(Error::invalid("multiplicity figure", "no data"));
        }
        let body = titled(root, "Number of directions and mean multiplicity against N")?;
        let (l, r) = body.split_horizontally(700);
        let all = || self.series.iter().flat_map(|s| s.points.iter());
        let (x0, x1) = log_range(all().map(|p| p.features as f64), 1.3);
        let (_, ymax) = log_range(all().map(|p| p.features as f64), 1.3);
        let mut chart = ChartBuilder::on(&l)
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(
                (x0..x1).log_scale().base(2.0),
                (1.0..ymax).log_scale().base(2.0),
            )
            .map_err(de)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GREY.mix(0.25))
            .x_desc("number of features N")
            .y_desc("number of directions D")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style(font(15))
            .axis_desc_style(font(18))
            .draw()
            .map_err(de)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(x0, x0), (x1, x1)],
                8,
                6,
                GREY.stroke_width(2),
            ))
            .map_err(de)?
            .label("D = N (no degeneracy)")
            .legend(legend_line(GREY));
        for s in &self.series {
            let c = color_for_n(s.n);
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|p| (p.features as f64, (p.directions as f64).max(1.0)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))
                .map_err(de)?
                .label(format!("n = {}", s.n))
                .legend(legend_line(c));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))
                .map_err(de)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;

        let (_, my) = lin_range(all().map(|p| p.mean_multiplicity), 0.1);
        let mut chart = ChartBuilder::on(&r)
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((x0..x1).log_scale().base(2.0), 0.9..my.max(2.0))
            .map_err(de)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GREY.mix(0.25))
            .x_desc("number of features N")
            .y_desc("mean multiplicity E/D")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style(font(15))
            .axis_desc_style(font(18))
            .draw()
            .map_err(de)?;
        for s in &self.series {
            let c = color_for_n(s.n);
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|p| (p.features as f64, p.mean_multiplicity))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))
                .map_err(de)?
                .label(format!("n = {}", s.n))
                .legend(legend_line(c));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))
                .map_err(de)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}

/// Amplitudes of one n: per model, `(N, [(|W_i|, multiplicity of i's direction)])`.
#[derive(Debug, Clone)]
pub struct AmplitudesSeries {
    /// Model dimension.
    pub n: usize,
    /// Per model: N and, per embedded feature, its amplitude and multiplicity.
    pub models: Vec<(usize, Vec<(f64, usize)>)>,
}

/// `amplitudes`: `|W_i|` of every embedded feature against N, one panel per n, markers
/// coloured by the multiplicity of the feature's direction.
#[derive(Debug, Clone)]
pub struct AmplitudesFig {
    /// One series per n.
    pub series: Vec<AmplitudesSeries>,
}

const MULT_CLASSES: [&str; 5] = ["m = 1", "m = 2", "m = 3", "m = 4", "m ≥ 5"];

impl Figure for AmplitudesFig {
    fn size(&self) -> (u32, u32) {
        (700 * self.series.len().max(1) as u32, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.series.is_empty() {
            return Err(Error::invalid("amplitudes figure", "no data"));
        }
        let body = titled(
            root,
            "Amplitudes |W_i| of embedded features, by multiplicity of their direction",
        )?;
        let panels = body.split_evenly((1, self.series.len()));
        for (s, area) in self.series.iter().zip(panels.iter()) {
            let (x0, x1) = log_range(s.models.iter().map(|m| m.0 as f64), 1.4);
            let (_, y1) = lin_range(s.models.iter().flat_map(|m| m.1.iter().map(|a| a.0)), 0.08);
            let mut chart = ChartBuilder::on(area)
                .caption(format!("n = {}", s.n), font(22))
                .margin(12)
                .x_label_area_size(50)
                .y_label_area_size(65)
                .build_cartesian_2d((x0..x1).log_scale().base(2.0), 0.0..y1.max(0.1))
                .map_err(de)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(GREY.mix(0.25))
                .x_desc("number of features N")
                .y_desc("amplitude |W_i|")
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .label_style(font(15))
                .axis_desc_style(font(18))
                .draw()
                .map_err(de)?;
            for (class, name) in MULT_CLASSES.iter().enumerate() {
                let c = palette(class);
                let pts: Vec<(f64, f64)> = s
                    .models
                    .iter()
                    .flat_map(|(nf, amps)| {
                        amps.iter()
                            .enumerate()
                            .filter(move |(_, a)| a.1.clamp(1, 5) == class + 1)
                            .map(move |(i, a)| (*nf as f64 * 2f64.powf(0.15 * jitter(i)), a.0))
                    })
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.mix(0.4).filled())))
                    .map_err(de)?
                    .label(*name)
                    .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
            }
            legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    }
}

/// Gains of one n.
#[derive(Debug, Clone)]
pub struct GainSeries {
    /// Model dimension.
    pub n: usize,
    /// `(N, trained gain)` ordered by N.
    pub points: Vec<(usize, f64)>,
    /// `(N, gain of the symmetric finite-neighbour optimum)`, an estimate at the law's θ, if
    /// computed.
    pub optimum: Vec<(usize, f64)>,
    /// `(N, gain of the symmetric model at the trained median θ_min)`, if computed.
    pub optimum_trained_theta: Vec<(usize, f64)>,
}

/// Indices of points whose gain is below that of a model with fewer features (the note's
/// sufficient test of sub-optimal training), with a relative tolerance `tol`.
pub fn suboptimal(points: &[(usize, f64)], tol: f64) -> Vec<usize> {
    let mut sorted: Vec<usize> = (0..points.len()).collect();
    sorted.sort_by_key(|&i| points[i].0);
    let mut best = f64::NEG_INFINITY;
    let mut best_n = 0;
    let mut out = Vec::new();
    for i in sorted {
        let (nf, g) = points[i];
        if nf > best_n && g < best * (1.0 - tol) {
            out.push(i);
        }
        if g > best {
            best = g;
            best_n = nf;
        }
    }
    out.sort_unstable();
    out
}

/// Indices of points whose gain does not grow: `g(N) ≤ (1 + tol) · max_{N' < N} g(N')` (the
/// gain "stops growing"; a weaker statement than [`suboptimal`], which needs a strict drop).
pub fn stalled(points: &[(usize, f64)], tol: f64) -> Vec<usize> {
    let mut sorted: Vec<usize> = (0..points.len()).collect();
    sorted.sort_by_key(|&i| points[i].0);
    let mut best = f64::NEG_INFINITY;
    let mut best_n = 0;
    let mut out = Vec::new();
    for i in sorted {
        let (nf, g) = points[i];
        if nf > best_n && best.is_finite() && g <= best + tol * best.abs() {
            out.push(i);
        }
        if g > best {
            best = g;
            best_n = nf;
        }
    }
    out.sort_unstable();
    out
}

/// `training_inefficiency`: trained gain `g = (l0 − mean loss)·N` against N, one line per n;
/// a model whose gain is below that of a model with fewer features (provably sub-optimal) is
/// circled in red, one whose gain merely stops growing is boxed in black; the symmetric
/// finite-neighbour optimum is dashed.
#[derive(Debug, Clone)]
pub struct GainFig {
    /// One series per n.
    pub series: Vec<GainSeries>,
}

/// `g(N) / max_{N' ≤ N} g(N')` per point (ordered by N): the trained gain over the best
/// model with at most N features (dead features are free, so a model with N features can always
/// match the best smaller one). 1 where the gain grows or stalls, below 1 where it drops.
pub fn over_best(points: &[(usize, f64)]) -> Vec<(usize, f64)> {
    let mut sorted = points.to_vec();
    sorted.sort_by_key(|p| p.0);
    let mut best = f64::NEG_INFINITY;
    sorted
        .into_iter()
        .map(|(nf, g)| {
            best = best.max(g);
            (nf, if best > 0.0 { g / best } else { f64::NAN })
        })
        .collect()
}

impl GainFig {
    /// Ratios `trained / reference` at the N where both exist.
    fn ratio(points: &[(usize, f64)], reference: &[(usize, f64)]) -> Vec<(f64, f64)> {
        points
            .iter()
            .filter_map(|&(nf, g)| {
                let r = reference.iter().find(|p| p.0 == nf)?.1;
                (r > 0.0).then(|| (nf as f64, g / r))
            })
            .collect()
    }
}

impl Figure for GainFig {
    fn size(&self) -> (u32, u32) {
        (1800, 640)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.series.iter().all(|s| s.points.is_empty()) {
            return Err(Error::invalid("training_inefficiency figure", "no data"));
        }
        let body = titled(
            root,
            "Training inefficiency: a drop of the gain with N means sub-optimal training; a stall, that it stops growing",
        )?;
        let panels = body.split_evenly((1, 3));
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0 as f64));
        let (x0, x1) = log_range(xs, 1.3);

        // (a) the gain, with stall and drop markers.
        let ys = self.series.iter().flat_map(|s| {
            s.points
                .iter()
                .map(|p| p.1)
                .chain(s.optimum.iter().map(|p| p.1))
        });
        let (y0, y1) = log_range(ys, 1.5);
        let mut chart = ChartBuilder::on(&panels[0])
            .caption("(a) gain g = (l0 − mean loss)·N", font(19))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((x0..x1).log_scale().base(2.0), (y0..y1).log_scale())
            .map_err(de)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GREY.mix(0.25))
            .x_desc("number of features N")
            .y_desc("gain g")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| log_tick(*v))
            .label_style(font(15))
            .axis_desc_style(font(18))
            .draw()
            .map_err(de)?;
        let mut any_bad = false;
        let mut any_flat = false;
        for s in &self.series {
            let c = color_for_n(s.n);
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| p.1 > 0.0)
                .map(|p| (p.0 as f64, p.1))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))
                .map_err(de)?
                .label(format!("n = {}", s.n))
                .legend(legend_line(c));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))
                .map_err(de)?;
            let bad = suboptimal(&s.points, 1e-3);
            any_bad |= !bad.is_empty();
            let flat: Vec<usize> = stalled(&s.points, 1e-3)
                .into_iter()
                .filter(|i| !bad.contains(i) && s.points[*i].1 > 0.0)
                .collect();
            any_flat |= !flat.is_empty();
            chart
                .draw_series(flat.iter().map(|&i| {
                    let (x, y) = (s.points[i].0 as f64, s.points[i].1);
                    EmptyElement::at((x, y))
                        + Rectangle::new([(-10, -10), (10, 10)], BLACK.stroke_width(2))
                }))
                .map_err(de)?;
            chart
                .draw_series(bad.iter().filter(|&&i| s.points[i].1 > 0.0).map(|&i| {
                    Circle::new(
                        (s.points[i].0 as f64, s.points[i].1),
                        11,
                        RED.stroke_width(2),
                    )
                }))
                .map_err(de)?;
        }
        if any_flat {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(de)?
                .label("stall: ≤ +0.1 % over every smaller N")
                .legend(|(x, y)| {
                    Rectangle::new([(x + 2, y - 8), (x + 18, y + 8)], BLACK.stroke_width(2))
                });
        }
        if any_bad {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(de)?
                .label("drop: below a smaller N's gain")
                .legend(|(x, y)| Circle::new((x + 10, y), 8, RED.stroke_width(2)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;

        // (b) trained gain over the best model with at most N features.
        let ob: Vec<(usize, Vec<(f64, f64)>)> = self
            .series
            .iter()
            .map(|s| {
                (
                    s.n,
                    over_best(&s.points)
                        .into_iter()
                        .filter(|p| p.1.is_finite())
                        .map(|p| (p.0 as f64, p.1))
                        .collect(),
                )
            })
            .collect();
        let lo = ob
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.1))
            .fold(1.0, f64::min);
        let (b0, b1) = ((lo - 0.15 * (1.0 - lo)).min(0.995), 1.002);
        ratio_panel(
            &panels[1],
            "(b) trained gain / best gain at any N' ≤ N",
            "g(N) / max g(N' ≤ N)",
            (x0, x1),
            (b0, b1),
            &ob,
            &[],
            SeriesLabelPosition::LowerLeft,
        )?;

        // (c) trained gain over the symmetric estimate (law's θ, dashed) and the symmetric model
        // at the trained θ (solid).
        let law: Vec<(usize, Vec<(f64, f64)>)> = self
            .series
            .iter()
            .map(|s| (s.n, GainFig::ratio(&s.points, &s.optimum)))
            .collect();
        let own: Vec<(usize, Vec<(f64, f64)>)> = self
            .series
            .iter()
            .map(|s| (s.n, GainFig::ratio(&s.points, &s.optimum_trained_theta)))
            .collect();
        let all = law.iter().chain(&own).flat_map(|s| s.1.iter().map(|p| p.1));
        let (c0, c1) = lin_range(all, 0.1);
        let (c0, c1) = if c0.is_finite() {
            (c0.min(0.95), c1.max(1.02))
        } else {
            (0.9, 1.1)
        };
        ratio_panel(
            &panels[2],
            "(c) trained gain / symmetric model",
            "trained / symmetric gain",
            (x0, x1),
            (c0, c1),
            &own,
            &law,
            SeriesLabelPosition::UpperLeft,
        )
    }
}

type Lines = [(usize, Vec<(f64, f64)>)];

/// A ratio panel of the gain figure: log₂ N against a linear ratio, a reference line at 1, per n
/// one solid line with markers (`solid`) and optionally one dashed line (`dashed`; then the
/// legend says which is which: the symmetric estimate at the law's θ dashed, at the trained θ
/// solid).
#[allow(clippy::too_many_arguments)]
fn ratio_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    solid: &Lines,
    dashed: &Lines,
    pos: SeriesLabelPosition,
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, font(19))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d((x0..x1).log_scale().base(2.0), y0..y1)
        .map_err(de)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .x_desc("number of features N")
        .y_desc(y_desc)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| format!("{v:.3}"))
        .label_style(font(15))
        .axis_desc_style(font(18))
        .draw()
        .map_err(de)?;
    chart
        .draw_series(LineSeries::new([(x0, 1.0), (x1, 1.0)], BLACK.mix(0.5)))
        .map_err(de)?;
    for (n, a) in dashed {
        if !a.is_empty() {
            let c = color_for_n(*n);
            chart
                .draw_series(DashedLineSeries::new(a.clone(), 7, 5, c.stroke_width(2)))
                .map_err(de)?;
        }
    }
    for (n, b) in solid {
        if b.is_empty() {
            continue;
        }
        let c = color_for_n(*n);
        chart
            .draw_series(LineSeries::new(b.clone(), c.stroke_width(3)))
            .map_err(de)?
            .label(format!("n = {n}"))
            .legend(legend_line(c));
        chart
            .draw_series(b.iter().map(|&p| Circle::new(p, 4, c.filled())))
            .map_err(de)?;
    }
    if !dashed.is_empty() {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(de)?
            .label("dashed: estimate at the law's θ")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 8, y)], GREY.stroke_width(2)));
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(de)?
            .label("solid: at the trained θ_min")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GREY.stroke_width(3)));
    }
    legend(&mut chart, pos)
}

/// One model of the Huber δ sweep.
#[derive(Debug, Clone, Copy)]
pub struct HuberPoint {
    /// Huber δ.
    pub delta: f64,
    /// N.
    pub features: usize,
    /// Fraction of features embedded.
    pub embedded_fraction: f64,
    /// Number of directions D.
    pub directions: usize,
    /// Mean multiplicity.
    pub mean_multiplicity: f64,
}

/// `huber`: the Huber δ sweep — embedded fraction, number of directions and mean multiplicity
/// against δ (δ = 1 is L2-like on the errors that occur here, δ → 0 is L1-like),
/// one line per N.
#[derive(Debug, Clone)]
pub struct HuberFig {
    /// Model dimension.
    pub n: usize,
    /// Points (any order).
    pub points: Vec<HuberPoint>,
}

impl Figure for HuberFig {
    fn size(&self) -> (u32, u32) {
        (1650, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.points.is_empty() {
            return Err(Error::invalid("huber figure", "no data"));
        }
        let body = titled(
            root,
            &format!(
                "Huber loss δ sweep, {}-D models: embedding, directions and multiplicity against δ",
                self.n
            ),
        )?;
        let panels = body.split_evenly((1, 3));
        let mut ns: Vec<usize> = self.points.iter().map(|p| p.features).collect();
        ns.sort_unstable();
        ns.dedup();
        // δ on a linear axis: the degenerate → non-degenerate transition sits near δ = 1, where
        // the plan samples δ densely (0.9 … 1) so it shows as a ramp, not one step.
        let x0 = 0.0;
        let x1 = self.points.iter().map(|p| p.delta).fold(0.0, f64::max) * 1.04;
        type Get = fn(&HuberPoint) -> f64;
        // (label, value, log y, integer counts)
        let what: [(&str, Get, bool, bool); 3] = [
            (
                "fraction embedded E/N",
                |p| p.embedded_fraction,
                false,
                false,
            ),
            (
                "number of directions D",
                |p| p.directions as f64,
                false,
                true,
            ),
            ("mean multiplicity E/D", |p| p.mean_multiplicity, true, true),
        ];
        for (k, (label, get, log_y, counts)) in what.iter().enumerate() {
            let (mut y0, mut y1) = lin_range(self.points.iter().map(get), 0.08);
            if k == 0 {
                y0 = y0.min(0.0);
                y1 = y1.max(1.05);
            }
            let mut cb = ChartBuilder::on(&panels[k]);
            cb.margin(12).x_label_area_size(50).y_label_area_size(65);
            // One line per N, sorted by δ; on a log axis values are clamped to its floor.
            let series = |floor: f64| -> Vec<(usize, Vec<(f64, f64)>)> {
                ns.iter()
                    .map(|&nf| {
                        let mut pts: Vec<(f64, f64)> = self
                            .points
                            .iter()
                            .filter(|p| p.features == nf)
                            .map(|p| (p.delta, get(p).max(floor)))
                            .collect();
                        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                        (nf, pts)
                    })
                    .collect()
            };
            if *log_y {
                // Counts: a log axis from below the smallest count, labelled at integers only.
                let lo = self.points.iter().map(get).fold(f64::INFINITY, f64::min);
                let hi = self.points.iter().map(get).fold(0.0, f64::max);
                let (ly0, ly1) = ((lo.max(1.0) / 1.4).max(0.7), (hi * 1.4).max(2.5));
                let mut chart = cb
                    .build_cartesian_2d(x0..x1, (ly0..ly1).log_scale().base(2.0))
                    .map_err(de)?;
                huber_panel(&mut chart, label, &series(ly0), *counts)?;
            } else {
                if *counts {
                    (y0, y1) = ((y0 - 0.6).floor().max(0.0), (y1 + 0.6).ceil());
                }
                let mut chart = cb.build_cartesian_2d(x0..x1, y0..y1).map_err(de)?;
                huber_panel(&mut chart, label, &series(f64::NEG_INFINITY), *counts)?;
            }
        }
        Ok(())
    }
}

/// Tick label of a count axis: the integer when `v` is one, else nothing.
fn integer_tick(v: f64) -> String {
    let r = v.round();
    if (v - r).abs() < 1e-6 * r.abs().max(1.0) && r >= 1.0 {
        format!("{r:.0}")
    } else {
        String::new()
    }
}

/// One panel of the Huber figure (linear δ axis; linear or log y): the mesh, one line per `N`
/// with its own marker shape and width, so that coinciding curves stay distinguishable (the
/// first N is drawn widest and with the largest marker, underneath the others), and the legend
/// in the emptiest corner. `counts`: label the y axis at integers only.
fn huber_panel<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    label: &str,
    series: &[(usize, Vec<(f64, f64)>)],
    counts: bool,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let y_fmt = |v: &f64| if counts { integer_tick(*v) } else { tick(*v) };
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .x_desc("Huber δ")
        .y_desc(label)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&y_fmt)
        .y_labels(if counts { 60 } else { 10 })
        .label_style(font(15))
        .axis_desc_style(font(18))
        .draw()
        .map_err(de)?;
    let k = series.len();
    for (j, (nf, pts)) in series.iter().enumerate() {
        let c = palette(j);
        let width = 2 + 2 * (k - 1 - j) as u32;
        let size = 4 + 3 * (k - 1 - j) as i32;
        let name = format!("N = {nf}");
        let line = LineSeries::new(pts.clone(), c.stroke_width(width));
        let leg = move |(x, y): (i32, i32)| {
            PathElement::new([(x, y), (x + 20, y)], c.stroke_width(width))
        };
        match j % 3 {
            0 => {
                chart
                    .draw_series(line)
                    .map_err(de)?
                    .label(name)
                    .legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + leg((0, 0))
                            + Circle::new((10, 0), size.min(7), c.stroke_width(2))
                    });
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, size, c.stroke_width(2))))
                    .map_err(de)?;
            }
            1 => {
                chart
                    .draw_series(line)
                    .map_err(de)?
                    .label(name)
                    .legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + leg((0, 0))
                            + TriangleMarker::new((10, 0), size.min(7), c.filled())
                    });
                chart
                    .draw_series(
                        pts.iter()
                            .map(|&p| TriangleMarker::new(p, size, c.filled())),
                    )
                    .map_err(de)?;
            }
            _ => {
                chart
                    .draw_series(line)
                    .map_err(de)?
                    .label(name)
                    .legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + leg((0, 0))
                            + Rectangle::new([(7, -3), (13, 3)], c.filled())
                    });
                chart
                    .draw_series(pts.iter().map(|&p| {
                        EmptyElement::at(p)
                            + Rectangle::new([(-size, -size), (size, size)], c.filled())
                    }))
                    .map_err(de)?;
            }
        }
    }
    let all: Vec<(f64, f64)> = series.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    legend_auto(chart, &all, 0.35, 0.3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suboptimal_flags_drops_only() {
        let pts = [(4, 1.0), (8, 2.0), (16, 1.5), (32, 3.0), (64, 2.9)];
        assert_eq!(suboptimal(&pts, 1e-3), vec![2, 4]);
        // Order does not matter.
        let pts = [(64, 2.9), (4, 1.0), (32, 3.0)];
        assert_eq!(suboptimal(&pts, 1e-3), vec![0]);
        // Within tolerance is not flagged.
        assert!(suboptimal(&[(4, 1.0), (8, 0.9999)], 1e-3).is_empty());
    }

    #[test]
    fn over_best_is_one_while_the_gain_grows_and_below_after_a_drop() {
        let r = over_best(&[(8, 2.0), (4, 1.0), (16, 1.5), (32, 3.0)]);
        assert_eq!(r, vec![(4, 1.0), (8, 1.0), (16, 0.75), (32, 1.0)]);
    }

    #[test]
    fn stalled_flags_flat_and_falling_gains() {
        let pts = [
            (4, 1.0),
            (8, 2.0),
            (16, 2.0),
            (32, 3.0),
            (64, 2.5),
            (128, 3.002),
        ];
        assert_eq!(stalled(&pts, 1e-3), vec![2, 4, 5]);
        // Every strictly sub-optimal point is also stalled.
        for i in suboptimal(&pts, 1e-3) {
            assert!(stalled(&pts, 1e-3).contains(&i));
        }
    }

    #[test]
    fn jitter_is_bounded() {
        assert!((0..1000).map(jitter).all(|j| (-1.0..=1.0).contains(&j)));
    }
}
