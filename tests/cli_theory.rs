//! Runs the `superpose` binary: packing, theta, capacity, codes, extrapolate in every format,
//! numbers against closed forms, and bad input.

use std::f64::consts::PI;

mod util;
use util::{has_keys, json, num, run};

fn close(a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * a.abs().max(b.abs()),
        "{a} vs {b} (tol {tol})"
    );
}

/// Each subcommand's CSV header starts with its first SPEC key; the table exits 0 and shows
/// degrees for angle columns.
fn csv_and_table(args: &[&str], first_keys: &str, angle: bool) {
    let mut a = vec!["--format", "csv"];
    a.extend_from_slice(args);
    let out = run(&a);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with(first_keys), "{header}");
    assert!(!text.contains("NaN") && !text.contains("inf"));
    let out = run(args);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 4);
    if angle {
        assert!(text.contains('°'), "{text}");
    }
}

#[test]
fn packing() {
    let rows = json(&["packing", "--dims", "1..24,100"]);
    assert_eq!(rows.len(), 25);
    for r in &rows {
        has_keys(
            r,
            &[
                "d",
                "ball_volume",
                "log_ball_volume",
                "sphere_area",
                "log_sphere_area",
                "density",
                "hermite",
                "xi",
                "kissing_lower",
                "kissing_upper",
                "status",
            ],
        );
    }
    let e8 = &rows[7];
    assert_eq!(e8["d"], 8);
    close(num(e8, "hermite"), 2.0, 1e-12);
    close(num(e8, "density"), PI.powi(4) / 384.0, 1e-12);
    close(num(e8, "ball_volume"), PI.powi(4) / 24.0, 1e-12);
    close(
        num(e8, "xi"),
        2.0 * PI * std::f64::consts::E * 2.0 / 8.0,
        1e-12,
    );
    assert_eq!(e8["kissing_lower"], 240);
    assert_eq!(e8["status"], "proven");
    assert_eq!(e8["density_status"], "proven");
    // d = 4: the lattice constant γ_4 is proven (Korkine–Zolotareff), the densest packing only
    // best known: both statuses are printed.
    assert_eq!(rows[3]["status"], "proven");
    assert_eq!(rows[3]["density_status"], "best known");
    // d = 10: the best packing (P10c, non-lattice) beats the best lattice (Λ10).
    assert!(num(&rows[9], "best_density") > num(&rows[9], "density"));
    close(num(e8, "best_density"), num(e8, "density"), 1e-12);
    // S_2 = 4π: the sphere on which a 2-dimensional packing lives.
    close(num(&rows[1], "sphere_area"), 4.0 * PI, 1e-12);
    let far = &rows[24];
    assert_eq!(far["status"], "bound");
    assert_eq!(far["kissing_status"], "bound");
    // d = 100: kissing between the greedy 1/μ(60°) ≈ 2.0e7 and Levenshtein's L(100, 1/2)
    // ≈ 2.4e16 (too large for an exact integer, so kissing_upper is null).
    let lo = num(far, "kissing_lower");
    assert!(lo > 1.9e7 && lo < 2.0e7, "{lo}");
    assert!(far["kissing_upper"].is_null());
    let k40 = json(&["packing", "--dims", "40"]);
    assert_eq!(k40[0]["kissing_lower"], 345_408 + 2 * 8);
    let up = num(far, "log10_kissing_upper");
    assert!(up > 16.0 && up < 17.0, "{up}");
    let huge = json(&["packing", "--dims", "1000000"]);
    assert!(huge[0]["kissing_upper"].is_null() && huge[0]["kissing_lower"].is_null());
    assert!(num(&huge[0], "log10_kissing_lower") > 60_000.0);
    csv_and_table(&["packing", "--dims", "1..4"], "d,ball_volume", false);
}

#[test]
fn theta() {
    let rows = json(&["theta", "--dim", "2", "--directions", "3,7,1e6"]);
    for r in &rows {
        has_keys(
            r,
            &[
                "n",
                "directions",
                "theta",
                "theta_upper",
                "theta_asymptotic",
                "source",
            ],
        );
        // n = 2: the law is exact, θ = 2π/D.
        close(num(r, "theta"), 2.0 * PI / num(r, "directions"), 1e-12);
        assert!(num(r, "theta_upper") >= num(r, "theta"));
    }
    let big = json(&["theta", "--dim", "1000000", "--directions", "1e300"]);
    assert!(num(&big[0], "theta").is_finite());
    assert_eq!(big[0]["source"], "bound");
    csv_and_table(
        &["theta", "--dim", "3", "--directions", "12"],
        "n,directions",
        true,
    );
}

#[test]
fn capacity() {
    let rows = json(&["capacity", "--dim", "2", "--theta", "0.1,1"]);
    for r in &rows {
        has_keys(r, &["n", "theta", "log10_directions", "directions"]);
        // n = 2: D(θ) = 2π/θ.
        close(num(r, "directions"), 2.0 * PI / num(r, "theta"), 1e-12);
    }
    let deg = json(&["capacity", "--dim", "2", "--theta", "90", "--degrees"]);
    close(num(&deg[0], "directions"), 4.0, 1e-12);
    let huge = json(&["capacity", "--dim", "100000", "--theta", "0.1"]);
    assert!(huge[0]["directions"].is_null());
    assert!(num(&huge[0], "log10_directions") > 300.0);
    csv_and_table(
        &["capacity", "--dim", "8", "--theta", "1"],
        "n,theta,log10_directions,directions",
        true,
    );
}

#[test]
fn codes() {
    let rows = json(&["codes", "--dims", "2,3,4,8"]);
    for r in &rows {
        has_keys(
            r,
            &[
                "n",
                "name",
                "points",
                "theta_true",
                "theta",
                "theta_upper",
                "ratio",
                "ratio_upper",
                "status",
            ],
        );
        if r["n"] == 2 {
            close(num(r, "ratio"), 1.0, 1e-12);
        }
    }
    let e8 = rows.iter().find(|r| r["name"] == "E8 roots").unwrap();
    assert_eq!(e8["points"], 240);
    close(num(e8, "theta_true"), PI / 3.0, 1e-12);
    let c600 = rows.iter().find(|r| r["name"] == "600-cell").unwrap();
    close(num(c600, "theta_true"), PI / 5.0, 1e-12);
    let simplex5 = json(&["codes", "--dims", "5"]);
    close(num(&simplex5[0], "theta_true"), (-0.2f64).acos(), 1e-12);
    csv_and_table(&["codes", "--dims", "4"], "n,name,points,theta_true", true);
}

#[test]
fn extrapolate() {
    let rows = json(&[
        "extrapolate",
        "--dims",
        "3,8..64:x2",
        "--features",
        "1e3,1e13",
    ]);
    assert_eq!(rows.len(), 10);
    for r in &rows {
        has_keys(
            r,
            &[
                "n",
                "features",
                "theta",
                "theta_upper",
                "theta_low",
                "theta_high",
                "theta_xi_low",
                "theta_xi_high",
                "cos_theta",
                "random_max_cos",
                "log10_directions",
                "gain_per_feature",
                "source",
            ],
        );
        close(num(r, "cos_theta"), num(r, "theta").cos(), 1e-12);
        assert_eq!(r["xi_band_status"], "asymptotic");
        assert!(num(r, "theta_low") <= num(r, "theta"));
        assert!(num(r, "theta") <= num(r, "theta_high"));
        assert!(num(r, "theta_xi_low") < num(r, "theta_xi_high"));
        // (1 − c)(2 + c)²/12 with 1 − c = 2 sin²(θ/2) (θ < 90° in every row here).
        let th = num(r, "theta");
        let c = th.cos();
        assert!(c > 0.0);
        close(
            num(r, "gain_per_feature"),
            2.0 * (th / 2.0).sin().powi(2) * (2.0 + c) * (2.0 + c) / 12.0,
            1e-12,
        );
    }
    // n = 3: the greedy bound has cos θ_g = 1 − 2/N (cap measure (1 − cos θ)/2 = 1/N).
    close(num(&rows[0], "theta_greedy").cos(), 1.0 - 2e-3, 1e-10);
    // n = 3: |cos| is uniform, so the random baseline is 1 − 1/N exactly.
    close(num(&rows[0], "random_max_cos"), 1.0 - 1e-3, 1e-10);
    close(num(&rows[1], "random_max_cos"), 1.0 - 1e-13, 1e-12);
    // n = 8, D = 10^3: the law with the proven γ_7.
    assert_eq!(rows[2]["source"], "proven");
    let far = json(&["extrapolate", "--dims", "1000000", "--features", "1e13"]);
    assert!(num(&far[0], "random_max_cos") > 0.0 && num(&far[0], "random_max_cos") < 0.01);
    csv_and_table(
        &["extrapolate", "--dims", "8,4096", "--features", "1e6"],
        "n,features,theta",
        true,
    );
}

/// Bad input: non-zero exit, exactly one line on stderr, no panic.
#[test]
fn bad_input() {
    let cases: &[&[&str]] = &[
        &["theta", "--dim", "0", "--directions", "10"],
        &["theta", "--dim", "3", "--directions", "0.5"],
        &["theta", "--dim", "3", "--directions", "nan"],
        &["capacity", "--dim", "3", "--theta", "0"],
        &["capacity", "--dim", "3", "--theta", "3.2"],
        &["capacity", "--dim", "3", "--theta", "-1"],
        &["capacity", "--dim", "0", "--theta", "1"],
        &["packing", "--dims", "0"],
        &["packing", "--dims", "NaN"],
        &["codes", "--dims", "1"],
        &["extrapolate", "--dims", "0"],
        &["extrapolate", "--dims", "8", "--features", "0.5"],
        &["extrapolate", "--dims", "8", "--theta", "4"],
        &["extrapolate", "--dims", "8", "--theta", "NaN"],
        &["extrapolate", "--dims", "8", "--theta", "0"],
        &["--format", "xml", "packing"],
    ];
    for args in cases {
        let out = run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("superpose: error:"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(out.stdout.is_empty(), "{args:?} printed rows");
    }
}
