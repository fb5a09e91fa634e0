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

impl Figure for GainFig {
    fn size(&self) -> (u32, u32) {
        (1100, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.series.iter().all(|s| s.points.is_empty()) {
            return Err(Error::invalid("training_inefficiency figure", "no data"));
        }
        let body = titled(
            root,
            "Gain g = (l0 − mean loss)·N: a drop with N means sub-optimal training",
        )?;
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0 as f64));
        let (x0, x1) = log_range(xs, 1.3);
        let ys = self.series.iter().flat_map(|s| {
            s.points
                .iter()
                .map(|p| p.1)
                .chain(s.optimum.iter().map(|p| p.1))
        });
        let (y0, y1) = log_range(ys, 1.5);
        let mut chart = ChartBuilder::on(&body)
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(75)
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
            .label_style(font(16))
            .axis_desc_style(font(19))
            .draw()
            .map_err(de)?;
        let mut any_bad = false;
        let mut any_flat = false;
        let mut any_opt = false;
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
                .label(format!("n = {} (trained)", s.n))
                .legend(legend_line(c));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))
                .map_err(de)?;
            let opt: Vec<(f64, f64)> = s
                .optimum
                .iter()
                .filter(|p| p.1 > 0.0)
                .map(|p| (p.0 as f64, p.1))
                .collect();
            if !opt.is_empty() {
                any_opt = true;
                chart
                    .draw_series(DashedLineSeries::new(opt, 7, 5, c.mix(0.8).stroke_width(2)))
                    .map_err(de)?;
            }
            let bad = suboptimal(&s.points, 1e-3);
            any_bad |= !bad.is_empty();
            // Gain that stops growing (flat), not already circled as a strict drop.
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
        if any_opt {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(de)?
                .label("symmetric optimum (dashed)")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 8, y)], GREY.stroke_width(2)));
        }
        if any_flat {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(de)?
                .label("gain stops growing (≤ +0.1% over smaller N)")
                .legend(|(x, y)| {
                    Rectangle::new([(x + 2, y - 8), (x + 18, y + 8)], BLACK.stroke_width(2))
                });
        }
        if any_bad {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(de)?
                .label("sub-optimal: below a smaller-N gain")
                .legend(|(x, y)| Circle::new((x + 10, y), 8, RED.stroke_width(2)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
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
        let x0 = 0.0;
        let x1 = self.points.iter().map(|p| p.delta).fold(0.0, f64::max) * 1.05;
        type Get = fn(&HuberPoint) -> f64;
        let what: [(&str, Get, bool); 3] = [
            ("fraction embedded E/N", |p| p.embedded_fraction, false),
            ("number of directions D", |p| p.directions as f64, true),
            ("mean multiplicity E/D", |p| p.mean_multiplicity, true),
        ];
        for (k, (label, get, log_y)) in what.iter().enumerate() {
            let (mut y0, mut y1) = lin_range(self.points.iter().map(get), 0.08);
            if k == 0 {
                y0 = y0.min(0.0);
                y1 = y1.max(1.05);
            }
            if k == 2 {
                y0 = y0.min(0.9);
                y1 = y1.max(2.0);
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
                let (ly0, ly1) = log_range(self.points.iter().map(get), 1.3);
                let mut chart = cb
                    .build_cartesian_2d(x0..x1, (ly0..ly1).log_scale().base(2.0))
                    .map_err(de)?;
                huber_panel(&mut chart, label, &series(ly0))?;
            } else {
                let mut chart = cb.build_cartesian_2d(x0..x1, y0..y1).map_err(de)?;
                huber_panel(&mut chart, label, &series(f64::NEG_INFINITY))?;
            }
        }
        Ok(())
    }
}

/// One panel of the Huber figure on any y axis (linear or log): the mesh, one line with
/// markers per `N`, and the legend in the emptiest corner.
fn huber_panel<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    label: &str,
    series: &[(usize, Vec<(f64, f64)>)],
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .x_desc("Huber δ")
        .y_desc(label)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style(font(15))
        .axis_desc_style(font(18))
        .draw()
        .map_err(de)?;
    for (j, (nf, pts)) in series.iter().enumerate() {
        let c = palette(j);
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))
            .map_err(de)?
            .label(format!("N = {nf}"))
            .legend(legend_line(c));
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))
            .map_err(de)?;
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
