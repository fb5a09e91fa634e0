//! `large_n`: the large-N study (issue 8, part 5) — four panels against N per n: mean
//! multiplicity, embedded fraction, gain per feature, and median θ_min over the θ_min law.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::TRANSPARENT;

use super::style::{color_for_n, font, legend_auto, titled, GREY};
use super::{de, lin_range, log_range, log_tick, tick, Figure};
use crate::error::{Error, Result};
use crate::toy::large::study::LargeNStudy;

/// The large-N figure, drawn from the study's rows.
#[derive(Debug, Clone)]
pub struct LargeNFig<'a> {
    /// The study.
    pub study: &'a LargeNStudy,
}

type Getter = fn(&crate::toy::large::study::LargeNRow) -> Option<f64>;

impl Figure for LargeNFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 900)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let rows = &self.study.rows;
        if rows.is_empty() {
            return Err(Error::invalid("large_n figure", "no data"));
        }
        let body = titled(root, "Large N: trained models in 3-D and 4-D")?;
        let panels = body.split_evenly((2, 2));
        let mut dims: Vec<usize> = rows.iter().map(|r| r.n).collect();
        dims.dedup();
        let specs: [(&str, bool, Getter, Option<f64>); 4] = [
            (
                "mean multiplicity E/D",
                false,
                |r| r.mean_multiplicity,
                Some(1.0),
            ),
            (
                "embedded fraction E/N",
                false,
                |r| Some(r.fraction_embedded),
                Some(1.0),
            ),
            (
                "gain per feature g/N",
                true,
                |r| Some(r.gain_per_feature),
                None,
            ),
            ("median θ_min / θ law", false, |r| r.theta_ratio, Some(1.0)),
        ];
        let (x0, x1) = log_range(rows.iter().map(|r| r.features as f64), 1.4);
        for ((label, log_y, get, reference), area) in specs.iter().zip(panels.iter()) {
            let vals = rows.iter().filter_map(get).chain(*reference);
            let mut chart_builder = ChartBuilder::on(area);
            chart_builder
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(70)
                .caption(*label, font(20));
            if *log_y {
                let (y0, y1) = log_range(vals, 1.5);
                let mut chart = chart_builder
                    .build_cartesian_2d((x0..x1).log_scale().base(2.0), (y0..y1).log_scale())
                    .map_err(de)?;
                lines(
                    &mut chart,
                    rows,
                    &dims,
                    *get,
                    *reference,
                    (x0, x1),
                    log_tick,
                )?;
            } else {
                let (y0, y1) = lin_range(vals, 0.1);
                let mut chart = chart_builder
                    .build_cartesian_2d((x0..x1).log_scale().base(2.0), y0..y1)
                    .map_err(de)?;
                lines(&mut chart, rows, &dims, *get, *reference, (x0, x1), tick)?;
            }
        }
        Ok(())
    }
}

/// The mesh (y labels by `yfmt`), one line with markers per n, a grey reference line at
/// `reference`, and the legend.
#[allow(clippy::too_many_arguments)]
fn lines<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    rows: &[crate::toy::large::study::LargeNRow],
    dims: &[usize],
    get: Getter,
    reference: Option<f64>,
    (x0, x1): (f64, f64),
    yfmt: fn(f64) -> String,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .x_desc("number of features N")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| yfmt(*v))
        .label_style(font(14))
        .axis_desc_style(font(16))
        .draw()
        .map_err(de)?;
    if let Some(y) = reference {
        chart
            .draw_series(LineSeries::new(
                [(x0, y), (x1, y)],
                GREY.mix(0.6).stroke_width(1),
            ))
            .map_err(de)?;
    }
    let mut all = Vec::new();
    for &n in dims {
        let c = color_for_n(n);
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.n == n)
            .filter_map(|r| Some((r.features as f64, get(r)?)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))
            .map_err(de)?
            .label(format!("n = {n}"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(3)));
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
            .map_err(de)?;
        all.extend(pts);
    }
    legend_auto(chart, &all, 0.25, 0.25)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy::large::study::LargeNRow;

    fn row(n: usize, nf: usize, g: f64) -> LargeNRow {
        LargeNRow {
            n,
            features: nf,
            gain: g,
            gain_per_feature: g / nf as f64,
            best_smaller_gain: None,
            fraction_embedded: 1.0,
            directions: nf,
            mean_multiplicity: Some(1.0),
            theta_min_median: Some(0.1),
            theta_law: Some(0.11),
            theta_ratio: Some(0.1 / 0.11),
            packing_density: Some(0.7),
            lattice_density: Some(0.9),
            converged: true,
            start: "lattice".into(),
            gain_unlifted: Some(g),
            seconds: 1.0,
        }
    }

    #[test]
    fn draws_png_and_refuses_empty() {
        let s = LargeNStudy {
            command: "test".into(),
            rows: vec![row(3, 1024, 6.5), row(3, 4096, 6.0), row(4, 1024, 28.0)],
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("large_n.png");
        super::super::save(&LargeNFig { study: &s }, &p).unwrap();
        let img = image::open(&p).unwrap();
        assert_eq!((img.width(), img.height()), (1100, 900));
        let empty = LargeNStudy {
            command: "t".into(),
            rows: vec![],
        };
        assert!(super::super::save(&LargeNFig { study: &empty }, &p).is_err());
    }
}
