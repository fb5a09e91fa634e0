//! The large-n study: the comparison table reproduced from the small committed sweep, the
//! committed result read back, and `extrapolate`'s checked-range columns.

mod util;

use std::path::Path;
use superpose::large_dim::{self, Settings};

/// Recomputing the rows from `docs/large_dim/small` (trained models committed with the sweep
/// command recorded in the result) gives the committed `small_result.json`, table and numbers.
#[test]
fn small_sweep_reproduces_the_committed_table() {
    let committed = large_dim::read(Path::new("docs/large_dim/small_result.json")).unwrap();
    let records = superpose::toy::sweep::load(Path::new("docs/large_dim/small")).unwrap();
    let s = Settings {
        random_iters: 100,
        ..Settings::default()
    };
    let rows = large_dim::rows(&records, &s).unwrap();
    assert_eq!(rows.len(), committed.rows.len());
    assert_eq!(large_dim::table(&rows), large_dim::table(&committed.rows));
    for (a, b) in rows.iter().zip(&committed.rows) {
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-12);
        assert!(close(a.shell.gain, b.shell.gain) && close(a.kissing.gain, b.kissing.gain));
        assert!(close(a.shell.intercept, b.shell.intercept));
        assert!(close(
            a.random.as_ref().unwrap().gain,
            b.random.as_ref().unwrap().gain
        ));
        // Packing buys something: trained models beat random directions with optimised
        // slopes and biases.
        assert!(a.trained.gain >= a.random.as_ref().unwrap().gain * (1.0 - 1e-9));
    }
    let md = large_dim::markdown_section(&committed);
    assert!(md.starts_with("## Large n") && md.contains(&committed.sweep_command));
}

/// The committed large-n result parses, and its markdown carries every row and the worst
/// deviations; the CLI reads it and rejects a missing file or missing source cleanly.
#[test]
fn committed_result_and_cli() {
    let r = large_dim::committed().unwrap();
    assert!(r.rows.iter().any(|x| x.n >= 16));
    let md = large_dim::markdown_section(&r);
    for row in &r.rows {
        assert!(md.contains(&format!("| {} | {} |", row.n, row.features)));
    }
    let rows = util::json(&["large-dim", "--from", "docs/large_dim/result.json"]);
    assert_eq!(rows.len(), r.rows.len());
    util::has_keys(
        &rows[0],
        &[
            "ratio_intercept_shell",
            "ratio_gain_shell",
            "ratio_intercept_frame",
            "ratio_gain_frame",
            "theta_frame_source",
            "ratio_intercept_collapse",
            "ratio_gain_collapse",
            "theta_collapse_source",
            "gain_random",
        ],
    );
    util::fails_cleanly(&["large-dim"]);
    util::fails_cleanly(&["large-dim", "--from", "docs/large_dim/nonexistent.json"]);
    util::fails_cleanly(&[
        "large-dim",
        "--from",
        "docs/large_dim/result.json",
        "--out",
        "x.json",
    ]);
    // One (n, N) in two folders.
    util::fails_cleanly(&[
        "large-dim",
        "--dir",
        "docs/large_dim/small",
        "docs/large_dim/small",
        "--no-random",
    ]);
}

/// `extrapolate` says where it leaves the checked range, with the measured error there.
#[test]
fn extrapolate_reports_the_checked_range() {
    let c = large_dim::extrapolation_check().unwrap();
    let &(n, _, hi) = c.grid.last().unwrap();
    assert_eq!(n, c.max_n);
    let inside = util::json(&[
        "extrapolate",
        "--dims",
        &n.to_string(),
        "--features",
        &hi.to_string(),
    ]);
    assert_eq!(inside[0]["in_checked_range"], true);
    assert_eq!(util::num(&inside[0], "checked_up_to_n") as usize, c.max_n);
    // The model that matched is the one extrapolate uses, at its own θ.
    assert_eq!(inside[0]["neighbour_model"], c.model.to_string());
    let (g, ic, th) = large_dim::model_extrapolation(c.model, n, hi as f64).unwrap();
    assert!((util::num(&inside[0], "gain_per_feature_model") - g).abs() < 1e-12);
    assert!((util::num(&inside[0], "intercept_model") - ic).abs() < 1e-12);
    assert!((util::num(&inside[0], "theta_model") - th).abs() < 1e-12);
    // Beyond the largest N checked at the largest n: outside.
    let beyond = util::json(&[
        "extrapolate",
        "--dims",
        &n.to_string(),
        "--features",
        &(2 * hi).to_string(),
    ]);
    assert_eq!(beyond[0]["in_checked_range"], false);
    let out = util::run(&["extrapolate", "--dims", "512", "--features", "1e6"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("outside the checked range"), "{err}");
    let far = util::json(&["extrapolate", "--dims", "512", "--features", "1e6"]);
    assert_eq!(far[0]["in_checked_range"], false);
    let lo = util::num(&far[0], "random_code_max_cos_lower");
    let hi = util::num(&far[0], "random_code_max_cos_upper");
    let est = util::num(&far[0], "random_code_max_cos");
    assert!(lo <= est && est <= hi && est > util::num(&far[0], "random_max_cos"));
}
