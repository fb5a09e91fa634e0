//! Synthetic inputs for every figure (tests only): hand-made models with a known geometry —
//! evenly spread directions (circle in 2-D, Fibonacci lattice on S², seeded random points
//! otherwise), with `m`-fold degeneracy once N exceeds a capacity, slope and bias of the
//! symmetric theory.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::*;

/// Draws one figure into a file; returns its declared size.
pub type Draw = Box<dyn Fn(&std::path::Path) -> crate::Result<(u32, u32)>>;

/// Unit directions: D evenly spread points on S^{n−1}.
pub fn directions(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    match n {
        2 => (0..d)
            .map(|k| {
                let a = k as f64 * std::f64::consts::TAU / d as f64;
                vec![a.cos(), a.sin()]
            })
            .collect(),
        3 => {
            let g = std::f64::consts::PI * (3.0 - 5f64.sqrt());
            (0..d)
                .map(|k| {
                    let z = 1.0 - 2.0 * (k as f64 + 0.5) / d as f64;
                    let r = (1.0 - z * z).sqrt();
                    vec![r * (g * k as f64).cos(), r * (g * k as f64).sin(), z]
                })
                .collect()
        }
        _ => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..d)
                .map(|_| {
                    let v: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
                    let a = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                    v.into_iter().map(|x| x / a).collect()
                })
                .collect()
        }
    }
}

/// A model of N features in n dimensions: at most `cap` directions, the rest degenerate;
/// every second feature beyond `2·cap` is not embedded.
pub fn model(n: usize, features: usize, cap: usize, seed: u64) -> ModelView {
    let d = features.min(cap);
    let dirs = directions(n, d, seed);
    let mut w = Vec::new();
    let mut b = Vec::new();
    for i in 0..features {
        let m = features.div_ceil(d) as f64;
        let k = 1.5 / m * (1.0 + 0.05 * ((i * 7 % 5) as f64 - 2.0) / 2.0);
        let c = 0.3 + 0.5 * (1.0 - 1.0 / (d as f64).sqrt());
        let a = k.sqrt();
        w.push(dirs[i % d].iter().map(|x| x * a).collect());
        let dead = i >= 2 * cap && i % 2 == 1;
        b.push(if dead { -2.0 * k } else { -k * c });
    }
    ModelView { n, w, b }
}

/// Features in the sweep of the synthetic figures.
pub const FEATURES: [usize; 6] = [4, 8, 16, 32, 64, 128];

fn cap(n: usize) -> usize {
    match n {
        2 => 6,
        3 => 20,
        4 => 60,
        _ => 1000,
    }
}

/// Synthetic instances of all ten figures, by name.
pub fn all() -> Vec<(&'static str, Draw)> {
    let ns = [2usize, 3, 4, 8];
    let models = |n: usize| -> Vec<ModelView> {
        FEATURES
            .iter()
            .map(|&f| model(n, f, cap(n), f as u64))
            .collect()
    };
    let theta = ThetaMinFig {
        series: ns
            .iter()
            .map(|&n| ThetaMinSeries {
                n,
                models: models(n)
                    .iter()
                    .map(|m| (m.features(), nearest_angles(&m.embedded_directions())))
                    .collect(),
                law: FEATURES
                    .iter()
                    .filter_map(|&f| {
                        let t = crate::theta::theta_min(n, f as f64).ok()?;
                        Some((f, t.theta, t.theta_upper))
                    })
                    .collect(),
            })
            .collect(),
    };
    let mult = MultiplicityFig {
        series: [3usize, 4]
            .iter()
            .map(|&n| MultiplicitySeries {
                n,
                points: FEATURES
                    .iter()
                    .map(|&f| {
                        let d = f.min(cap(n));
                        MultiplicityPoint {
                            features: f,
                            embedded: f,
                            directions: d,
                            mean_multiplicity: f as f64 / d as f64,
                        }
                    })
                    .collect(),
            })
            .collect(),
    };
    let amps = AmplitudesFig {
        series: [3usize, 4]
            .iter()
            .map(|&n| AmplitudesSeries {
                n,
                models: models(n)
                    .iter()
                    .map(|m| {
                        let d = m.features().min(cap(n));
                        let mult = m.features().div_ceil(d);
                        (
                            m.features(),
                            m.embedded_indices()
                                .iter()
                                .map(|&i| (m.amplitude(i), mult))
                                .collect(),
                        )
                    })
                    .collect(),
            })
            .collect(),
    };
    let m8 = model(6, 128, 1000, 3);
    let dist = ThetaDistributionFig {
        n: 6,
        features: 128,
        angles: pairwise_angles(&m8.embedded_directions()),
        theta_min: weights::median(nearest_angles(&m8.embedded_directions())).unwrap(),
        bins: 60,
    };
    let inter = InterceptFig {
        n: 8,
        models: models(8)
            .into_iter()
            .map(|m| {
                let c = weights::median(nearest_angles(&m.embedded_directions()))
                    .unwrap()
                    .cos();
                InterceptModel {
                    model: m,
                    cos_theta_min: c,
                    finite_neighbour: Some(c - 0.05),
                }
            })
            .collect(),
    };
    let gain = GainFig {
        series: ns
            .iter()
            .map(|&n| GainSeries {
                n,
                points: FEATURES
                    .iter()
                    .map(|&f| (f, f.min(cap(n)) as f64 * (0.2 + 0.01 * (f % 3) as f64)))
                    .collect(),
                optimum: FEATURES.iter().map(|&f| (f, f as f64 * 0.25)).collect(),
                optimum_trained_theta: FEATURES.iter().map(|&f| (f, f as f64 * 0.23)).collect(),
            })
            .collect(),
    };
    let huber = HuberFig {
        n: 3,
        points: [64usize, 128]
            .iter()
            .flat_map(|&f| {
                [1.0, 0.5, 0.2, 0.1, 0.05]
                    .into_iter()
                    .map(move |d: f64| HuberPoint {
                        delta: d,
                        features: f,
                        embedded_fraction: (0.5 + d).min(1.0),
                        directions: ((f as f64) * (1.2 - d).min(1.0)) as usize,
                        mean_multiplicity: 1.0 + d * 2.0,
                    })
            })
            .collect(),
    };
    let analytic = AnalyticGainFig {
        panels: ["consistent", "note"]
            .iter()
            .flat_map(|conv| {
                [2usize, 3, 4, 8].into_iter().map(move |n| GainPanel {
                    n,
                    convention: conv.to_string(),
                    curves: (1..=3)
                        .map(|m| GainCurve {
                            m,
                            points: (2..=10)
                                .map(|k| {
                                    let e = 2f64.powi(k);
                                    (e, e / m as f64 * (1.0 - 1.0 / e.powf(1.0 / n as f64)))
                                })
                                .collect(),
                        })
                        .collect(),
                    transition: Some(64.0),
                })
            })
            .collect(),
    };
    let s2 = Superposition {
        n: 2,
        models: models(2),
    };
    let s3 = Superposition {
        n: 3,
        models: models(3),
    };
    fn boxed<F: Figure + 'static>(f: F) -> Draw {
        Box::new(move |p| save(&f, p).map(|()| f.size()))
    }
    vec![
        ("superposition_2d", boxed(s2)),
        ("superposition_3d", boxed(s3)),
        ("theta_min", boxed(theta)),
        ("multiplicity", boxed(mult)),
        ("amplitudes", boxed(amps)),
        ("theta_distribution", boxed(dist)),
        ("intercept", boxed(inter)),
        ("training_inefficiency", boxed(gain)),
        ("huber", boxed(huber)),
        ("analytic_gain", boxed(analytic)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens a PNG and checks size and that it is not blank: many distinct colours and a
    /// sizeable share of non-white pixels.
    fn check_png(path: &std::path::Path, size: (u32, u32)) {
        let img = image::open(path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), size, "{}", path.display());
        let mut colours = std::collections::HashSet::new();
        let mut ink = 0usize;
        for p in img.pixels() {
            colours.insert(p.0);
            if p.0 != [255, 255, 255] {
                ink += 1;
            }
        }
        let total = (size.0 * size.1) as usize;
        assert!(
            colours.len() > 50,
            "{}: {} colours",
            path.display(),
            colours.len()
        );
        assert!(
            ink * 50 > total,
            "{}: {ink} of {total} pixels inked",
            path.display()
        );
    }

    #[test]
    fn every_figure_renders_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        // SUPERPOSE_FIGURE_DIR keeps the synthetic figures for a look.
        let keep = std::env::var_os("SUPERPOSE_FIGURE_DIR").map(std::path::PathBuf::from);
        let out = keep.as_deref().unwrap_or(dir.path());
        let figs = all();
        assert_eq!(figs.len(), NAMES.len());
        for (name, draw) in &figs {
            assert!(NAMES.contains(name));
            let png = out.join(format!("{name}.png"));
            let size = draw(&png).unwrap();
            check_png(&png, size);
            let svg = dir.path().join(format!("{name}.svg"));
            draw(&svg).unwrap();
            let text = std::fs::read_to_string(&svg).unwrap();
            assert!(
                text.starts_with("<svg") && text.contains("</svg>"),
                "{name}"
            );
            assert!(text.contains("<text"), "{name}: no text in the SVG");
        }
    }

    #[test]
    fn sizes_are_the_declared_ones() {
        let dir = tempfile::tempdir().unwrap();
        let f = Superposition {
            n: 2,
            models: vec![model(2, 8, 6, 1), model(2, 16, 6, 2)],
        };
        let p = dir.path().join("s.png");
        save(&f, &p).unwrap();
        check_png(&p, f.size());
    }

    #[test]
    fn bad_paths_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let f = Superposition {
            n: 2,
            models: vec![model(2, 8, 6, 1)],
        };
        assert!(save(&f, &dir.path().join("x.jpg")).is_err());
        assert!(save(&f, &dir.path().join("missing/x.png")).is_err());
        assert!(save(&f, &dir.path().join("missing/x.svg")).is_err());
        // Nothing is left behind by a failed or successful save but the figure itself.
        save(&f, &dir.path().join("ok.png")).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn wrong_dimension_is_an_error() {
        let f = Superposition {
            n: 2,
            models: vec![model(3, 8, 6, 1)],
        };
        let dir = tempfile::tempdir().unwrap();
        assert!(save(&f, &dir.path().join("x.png")).is_err());
    }
}
