//! Runs the `superpose` binary: `plot` (from a sweep folder, PNG and SVG, bad input),
//! `reproduce --quick` end to end, `compare`.

use serde_json::Value;
use std::path::Path;

mod util;
use util::{fails_cleanly, run};

/// Opens a PNG: expected size (if given), many colours, a sizeable share of non-white pixels.
fn check_png(path: &Path, size: Option<(u32, u32)>) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    if let Some(s) = size {
        assert_eq!(img.dimensions(), s, "{}", path.display());
    }
    let (w, h) = img.dimensions();
    assert!(w >= 600 && h >= 400, "{}: {w}×{h}", path.display());
    let mut colours = std::collections::HashSet::new();
    let mut ink = 0usize;
    for p in img.pixels() {
        colours.insert(p.0);
        if p.0 != [255, 255, 255] {
            ink += 1;
        }
    }
    assert!(
        colours.len() > 50,
        "{}: {} colours",
        path.display(),
        colours.len()
    );
    assert!(
        ink * 50 > (w * h) as usize,
        "{}: almost blank",
        path.display()
    );
}

/// A small real sweep written by `superpose sweep` (the study reads typed records, so a folder
/// must hold what the trainer writes).
fn fake_sweep(dir: &Path, dims: &[usize], features: &[usize]) {
    let list = |v: &[usize]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let out = run(&[
        "sweep",
        "--dims",
        &list(dims),
        "--features",
        &list(features),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn plot_draws_from_a_sweep_folder() {
    let d = tempfile::tempdir().unwrap();
    fake_sweep(d.path(), &[2, 3, 4], &[4, 8, 16, 32]);
    let dir = d.path().to_str().unwrap();
    for name in [
        "superposition_2d",
        "superposition_3d",
        "theta_min",
        "multiplicity",
        "amplitudes",
        "theta_distribution",
        "intercept",
        "training_inefficiency",
    ] {
        let png = d.path().join(format!("{name}.png"));
        let out = run(&[
            "--format",
            "json",
            "plot",
            name,
            "--out",
            png.to_str().unwrap(),
            "--dir",
            dir,
        ]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rows[0]["figure"], name);
        check_png(&png, None);
    }
    let svg = d.path().join("t.svg");
    let out = run(&[
        "plot",
        "theta_min",
        "--out",
        svg.to_str().unwrap(),
        "--dir",
        dir,
    ]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("θ_min"));
}

#[test]
fn plot_rejects_bad_input() {
    let d = tempfile::tempdir().unwrap();
    fake_sweep(d.path(), &[2], &[4, 8]);
    let dir = d.path().to_str().unwrap();
    let png = d.path().join("x.png");
    let png = png.to_str().unwrap();
    fails_cleanly(&["plot", "no_such_figure", "--out", png, "--dir", dir]);
    fails_cleanly(&["plot", "theta_min", "--out", "x.jpg", "--dir", dir]);
    fails_cleanly(&["plot", "theta_min", "--out", "x", "--dir", dir]);
    fails_cleanly(&["plot", "theta_min", "--out", png]);
    fails_cleanly(&[
        "plot",
        "theta_min",
        "--out",
        "/nonexistent/dir/x.png",
        "--dir",
        dir,
    ]);
    fails_cleanly(&[
        "plot",
        "theta_min",
        "--out",
        png,
        "--dir",
        "/nonexistent/sweep",
    ]);
    // n = 3 figure from a folder with only n = 2 models.
    fails_cleanly(&["plot", "superposition_3d", "--out", png, "--dir", dir]);
    assert!(!Path::new(png).exists());
}

#[test]
fn compare_reads_a_sweep_folder() {
    let d = tempfile::tempdir().unwrap();
    fake_sweep(d.path(), &[2, 3], &[4, 8, 16]);
    let dir = d.path().to_str().unwrap();
    let out = run(&[
        "--format",
        "json",
        "compare",
        "--dims",
        "2",
        "--features",
        "4,8",
        "--dir",
        dir,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        for k in [
            "theta_trained",
            "theta_law",
            "theta_law_chord",
            "ratio_theta_small",
            "intercept_trained",
            "cos_theta_min",
            "intercept_finite",
            "gain_trained",
            "gain_closed",
            "gain_finite",
            "gain_symmetric_trained_theta",
            "ratio_gain_symmetric_trained_theta",
            "multiplicity_trained",
            "multiplicity_finite",
        ] {
            assert!(r.get(k).is_some(), "{k} missing in {r}");
        }
        // 2-D models are regular polygons of their D directions: θ = 2π/D is the n = 2 law
        // exactly (to the trainer's convergence).
        let ratio = r["ratio_theta_small"].as_f64().unwrap();
        assert!((ratio - 1.0).abs() < 1e-6, "{r}");
    }
    fails_cleanly(&["compare", "--dims", "0", "--features", "4", "--dir", dir]);
    fails_cleanly(&["compare", "--dims", "5", "--features", "4", "--dir", dir]);
}

/// `reproduce --quick` end to end: every figure opens, is its declared size and not blank;
/// `report.md` and `claims.json` (a verdict for each of the 10 claims); a rerun reuses the
/// finished models; `plot --dir` works on the result.
#[test]
fn reproduce_quick_end_to_end() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("repro");
    let dir_s = dir.to_str().unwrap();
    let out = run(&["--format", "json", "reproduce", "--quick", "--out", dir_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 10);
    // Regression: the progress count ran past its total ("129/125"): the committed sections'
    // steps were not counted. Off a terminal each step is a "k/total" line; the last is the
    // report, at k = total.
    let err = String::from_utf8_lossy(&out.stderr);
    let counts: Vec<(u64, u64)> = err
        .lines()
        .filter_map(|l| l.strip_prefix("superpose: reproduce: "))
        .filter_map(|l| {
            let (k, t) = l.split_whitespace().next()?.split_once('/')?;
            Some((k.parse().ok()?, t.parse().ok()?))
        })
        .collect();
    assert!(counts.len() > 20, "{err}");
    assert!(counts.iter().all(|&(k, t)| k <= t), "{err}");
    assert_eq!(counts.last().map(|&(k, t)| k == t), Some(true), "{err}");
    // Sizes follow from the layouts: 300 px per model column (+40) for the weight pictures
    // (5 models of n = 2 and of n = 3 in the quick plan), 520 × 430 px per n panel (+60 title)
    // for θ_min (n ∈ {2, 3, 8} in one row), 700 px per n for amplitudes (only n = 3 of 3, 4),
    // 400 px panels for analytic_gain (5 n × 2 conventions, +40/+60), fixed sizes otherwise.
    for (name, size) in [
        ("superposition_2d", (1540, 740)),
        ("superposition_3d", (1540, 740)),
        ("theta_min", (1560, 490)),
        ("multiplicity", (1400, 600)),
        ("amplitudes", (700, 620)),
        ("theta_distribution", (1100, 650)),
        ("intercept", (1600, 900)),
        ("training_inefficiency", (1800, 640)),
        ("huber", (1650, 560)),
        ("analytic_gain", (2040, 860)),
    ] {
        check_png(&dir.join("figures").join(format!("{name}.png")), Some(size));
    }
    let claims: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("claims.json")).unwrap()).unwrap();
    let claims = claims.as_array().unwrap();
    assert_eq!(claims.len(), 10);
    for (k, c) in claims.iter().enumerate() {
        assert_eq!(c["id"], k + 1);
        let v = c["verdict"].as_str().unwrap();
        assert!(
            ["holds", "differs", "does not hold", "untested"].contains(&v),
            "{c}"
        );
        // Every criterion states its test, its basis and its numbers.
        let cr = c["criteria"].as_array().unwrap();
        assert!(!cr.is_empty());
        for x in cr {
            assert!(!x["test"].as_str().unwrap().is_empty());
            let basis = x["basis"].as_str().unwrap();
            assert!(
                ["significance test:", "measured spread:", "stated reason:"]
                    .iter()
                    .any(|b| basis.starts_with(b)),
                "{basis}"
            );
            assert!(["pass", "fail", "untested"].contains(&x["outcome"].as_str().unwrap()));
        }
        assert!(c["measured"].is_object());
    }
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("## Beyond the note"));
    assert!(!md.contains("NaN") && !md.contains("inf"));
    // A rerun trains nothing: every model is read back.
    let out = run(&["reproduce", "--quick", "--out", dir_s]);
    assert!(out.status.success());
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("25 of 25 models were read back"),
        "{}",
        &md[..400]
    );
    // plot reads the reproduce folder.
    let png = d.path().join("t.png");
    let out = run(&[
        "plot",
        "huber",
        "--out",
        png.to_str().unwrap(),
        "--dir",
        dir_s,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_png(&png, None);
}

#[test]
fn reproduce_rejects_a_bad_output_folder() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("a_file");
    std::fs::write(&file, "x").unwrap();
    fails_cleanly(&["reproduce", "--quick", "--out", file.to_str().unwrap()]);
    let below = file.join("sub");
    fails_cleanly(&["reproduce", "--quick", "--out", below.to_str().unwrap()]);
}

#[test]
fn compare_trains_when_no_folder_is_given() {
    let out = run(&[
        "--format",
        "json",
        "compare",
        "--dims",
        "3",
        "--features",
        "8",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &rows[0];
    assert_eq!(r["n"], 3);
    assert_eq!(r["features"], 8);
    // 8 points on S²: the trained θ_min is within 15% of the law.
    let ratio = r["ratio_theta_small"].as_f64().unwrap();
    assert!((0.85..1.15).contains(&ratio), "{r}");
}
