//! Integration tests of `gain`, `phase`, `claims` and `optimize`: they run the binary.

use std::f64::consts::PI;

mod util;
use util::{has_keys, json, num, run};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs())
}

/// `(1 − c)(2 + c)²`, SPEC §3.
fn f(c: f64) -> f64 {
    (1.0 - c) * (2.0 + c) * (2.0 + c)
}

#[test]
fn gain_keys_and_closed_form_in_both_conventions() {
    // θ for D = 100 directions in R^4 from the `theta` subcommand (independent of gain.rs).
    let th = num(
        &json(&["theta", "--dim", "4", "--directions", "100"])[0],
        "theta",
    );
    let c = th.cos();
    let rows = json(&[
        "gain",
        "--dim",
        "4",
        "--embed",
        "300",
        "--multiplicity",
        "3",
        "--convention",
        "both",
    ]);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        has_keys(
            r,
            &[
                "n",
                "embed",
                "multiplicity",
                "directions",
                "theta",
                "intercept",
                "slope",
                "loss",
                "gain",
            ],
        );
    }
    let (cons, note) = (&rows[0], &rows[1]);
    assert_eq!(cons["convention"], "consistent");
    assert!(close(num(cons, "theta"), th, 1e-12));
    // Consistent: D = E/m = 100, m = 3 in the gain.
    assert!(close(num(cons, "gain"), 300.0 * f(c) / 36.0, 1e-10));
    assert!(close(
        num(cons, "slope"),
        (1.0 + c / 2.0) / (3.0 * (1.0 - c)),
        1e-10
    ));
    // Note: D = E/n_deg = 100 as well, but n_deg + 1 = 4 in the gain.
    assert_eq!(note["convention"], "note");
    assert!(close(num(note, "gain"), 300.0 * f(c) / 48.0, 1e-10));
    assert!(close(num(note, "loss"), 1.0 / 3.0 - f(c) / 48.0, 1e-10));
}

#[test]
fn gain_in_two_dimensions_is_exact() {
    // θ = 2π/D exactly in 2-D.
    let r = &json(&["gain", "--dim", "2", "--embed", "12"])[0];
    let c = (2.0 * PI / 12.0).cos();
    assert!(close(num(r, "theta"), PI / 6.0, 1e-12));
    assert!(close(num(r, "intercept"), c, 1e-12));
    assert!(close(num(r, "gain"), 12.0 * f(c) / 12.0, 1e-12));
    // Derivatives are printed for L2 and agree with a finite difference of the printed gain.
    let de = num(r, "dgain_dembed");
    let g = |e: &str| num(&json(&["gain", "--dim", "2", "--embed", e])[0], "gain");
    // Central difference over E = 11, 13 of a smooth function: O(1/E²) accurate only.
    let fd = (g("13") - g("11")) / 2.0;
    assert!(
        (de - fd).abs() < 0.05 * fd.abs().max(de.abs()),
        "{de} vs {fd}"
    );
}

#[test]
fn phase_rows_and_two_dimensional_transition() {
    let rows = json(&[
        "phase",
        "--dims",
        "2,5",
        "--max-features",
        "1e6",
        "--neighbour-max-features",
        "256",
    ]);
    assert_eq!(rows.len(), 4);
    for r in &rows {
        has_keys(
            r,
            &[
                "n",
                "transition_features",
                "convention",
                "embed_drop_features",
                "multiplicity_rise_features",
            ],
        );
    }
    // 2-D, consistent: smallest N with h(N/2) > h(N), h(D) = D f(cos(2π/D))₊/12.
    let h = |d: f64| d * f((2.0 * PI / d).cos().max(0.0)) / 12.0;
    let expect = (2u64..1000)
        .find(|&n| h(n as f64 / 2.0) > h(n as f64) * (1.0 + 1e-10))
        .unwrap();
    let cons2 = rows
        .iter()
        .find(|r| r["n"] == 2 && r["convention"] == "consistent")
        .unwrap();
    assert_eq!(cons2["transition_features"].as_u64(), Some(expect));
    // 5-D in the note convention: (2/3)·2^{2/4} < 1, no transition at any N.
    let note5 = rows
        .iter()
        .find(|r| r["n"] == 5 && r["convention"] == "note")
        .unwrap();
    assert!(note5["transition_features"].is_null());
}

#[test]
fn claims_are_listed_per_convention() {
    let rows = json(&["claims", "--dims", "2..8", "--max-features", "1e6"]);
    assert_eq!(rows.len(), 4);
    let conventions: Vec<&str> = rows
        .iter()
        .map(|r| r["convention"].as_str().unwrap())
        .collect();
    assert_eq!(conventions, ["consistent", "note", "consistent", "note"]);
    for r in &rows {
        has_keys(
            r,
            &[
                "claim",
                "holds",
                "verdict",
                "dims_checked",
                "counterexamples",
            ],
        );
        assert_eq!(
            r["holds"].as_bool().unwrap(),
            r["counterexamples"].as_array().unwrap().is_empty()
        );
    }
    // `claims --dims 4`: nothing above the n > 5 threshold was checked, so that claim is
    // untested, not false.
    let rows = json(&["claims", "--dims", "4", "--max-features", "1e4"]);
    assert_eq!(rows[2]["verdict"], "untested");
    assert!(rows[2]["holds"].is_null());
}

#[test]
fn optimize_keys_and_landscape() {
    let rows = json(&["optimize", "--dim", "8", "--features", "200"]);
    assert_eq!(rows.len(), 1);
    let best = &rows[0];
    has_keys(
        best,
        &[
            "n",
            "features",
            "embed",
            "multiplicity",
            "directions",
            "theta",
            "intercept",
            "slope",
            "loss",
            "gain",
        ],
    );
    assert_eq!(best["features"], 200);
    // Interference from neighbours keeps the intercept at or below cos θ.
    assert!(num(best, "intercept") <= num(best, "theta").cos() + 1e-12);
    // Mean loss and gain are consistent: gain = (1/3 − loss) N.
    assert!(close(
        num(best, "gain"),
        (1.0 / 3.0 - num(best, "loss")) * 200.0,
        1e-9
    ));
    let all = json(&["optimize", "--dim", "8", "--features", "200", "--all"]);
    assert!(all.len() > 100);
    let top = all.iter().map(|r| num(r, "gain")).fold(0.0, f64::max);
    assert!(close(top, num(best, "gain"), 1e-12));
}

/// `--model collapse` is the library's collapse model: at n = 64, N = 1024 (inside the fitted
/// range) its θ is the committed collapse curve's, below n = 16 it is the frame model's.
#[test]
fn optimize_takes_the_neighbour_model() {
    let c = &json(&[
        "optimize",
        "--dim",
        "64",
        "--features",
        "1024",
        "--model",
        "collapse",
    ])[0];
    let (t, src) = superpose::symmetric::collapse_theta(64, num(c, "directions")).unwrap();
    assert_eq!(src, "collapse fit");
    assert!(close(num(c, "theta"), t, 1e-12));
    let small = |m: &str| json(&["optimize", "--dim", "8", "--features", "200", "--model", m]);
    assert_eq!(small("collapse"), small("frame"));
    assert_eq!(
        small("kissing"),
        json(&["optimize", "--dim", "8", "--features", "200"])
    );
}

#[test]
fn other_losses_run() {
    let r = &json(&["gain", "--dim", "3", "--embed", "50", "--loss", "huber:0.5"])[0];
    assert_eq!(r["loss_fn"], "huber:0.5");
    assert!(num(r, "gain") > 0.0);
    assert!(r["dgain_dembed"].is_null());
    let o = &json(&[
        "optimize",
        "--dim",
        "3",
        "--features",
        "30",
        "--loss",
        "l1",
        "--max-multiplicity",
        "2",
    ])[0];
    assert!(num(o, "gain") > 0.0);
}

#[test]
fn tables_and_csv_render() {
    for fmt in ["table", "csv"] {
        let out = run(&["gain", "--dim", "3", "--embed", "10", "--format", fmt]);
        assert!(out.status.success());
        assert!(!out.stdout.is_empty());
    }
}

#[test]
fn bad_input_is_one_line_and_non_zero() {
    let cases: &[&[&str]] = &[
        &["gain", "--dim", "3", "--embed", "10", "--multiplicity", "0"],
        &["gain", "--dim", "3", "--embed", "0"],
        &["gain", "--dim", "3", "--embed", "nan"],
        &["gain", "--dim", "3", "--embed", "4", "--multiplicity", "5"],
        &["gain", "--dim", "0", "--embed", "10"],
        &["gain", "--dim", "3", "--embed", "10", "--loss", "foo"],
        &["gain", "--dim", "3", "--embed", "10", "--loss", "huber:-1"],
        &["gain", "--dim", "3", "--embed", "10", "--loss", "gauss:nan"],
        &["gain", "--dim", "3", "--embed", "10", "--convention", "foo"],
        &["phase", "--dims", "3", "--max-features", "1"],
        &["phase", "--dims", "3", "--max-features", "nan"],
        &["optimize", "--dim", "3", "--features", "0"],
        &[
            "optimize",
            "--dim",
            "3",
            "--features",
            "10",
            "--model",
            "lattice",
        ],
        &[
            "optimize",
            "--dim",
            "3",
            "--features",
            "10",
            "--model",
            "shell",
            "--neighbours",
            "4",
        ],
        &[
            "optimize",
            "--dim",
            "3",
            "--features",
            "10",
            "--neighbours",
            "nan",
        ],
        &[
            "optimize",
            "--dim",
            "3",
            "--features",
            "10",
            "--neighbours",
            "-1",
        ],
    ];
    for args in cases {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("superpose: error:"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
