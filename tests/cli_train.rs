//! Integration tests of `superpose train` and `superpose sweep` (they run the binary).
//!
//! The slow reproduction of the note's whole sweep is `#[ignore]`d; run it with
//! `cargo test --release --test cli_train -- --ignored`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod util;
use util::run;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_superpose"))
}

fn json_rows(o: &Output) -> Vec<Value> {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    match serde_json::from_slice(&o.stdout).expect("json") {
        Value::Array(a) => a,
        other => panic!("not an array: {other}"),
    }
}

/// One clear line on stderr and a non-zero exit.
fn assert_one_line_error(o: &Output) {
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert!(err.starts_with("superpose: error:"), "stderr: {err}");
    assert!(!err.contains("panicked"));
}

/// SPEC §4's exact L2 loss written out independently of the library: `G = WᵀW` by explicit
/// sums, `cross(g, b) = (g+b)₊³/(3g)`, and `self(k, b) = t³/3 + ∫_t^1 ((k−1)x + b)² dx` by
/// composite Simpson quadrature (t = −b/k).
fn independent_l2_loss(w: &[Vec<f64>], b: &[f64]) -> f64 {
    let nf = b.len();
    let dot = |i: usize, j: usize| -> f64 { w[i].iter().zip(&w[j]).map(|(x, y)| x * y).sum() };
    let mut total = 0.0;
    for i in 0..nf {
        let k = dot(i, i);
        total += if k + b[i] <= 0.0 {
            1.0 / 3.0
        } else {
            let t = -b[i] / k;
            let f = |x: f64| ((k - 1.0) * x + b[i]).powi(2);
            let m = 4000;
            let h = (1.0 - t) / m as f64;
            let mut s = f(t) + f(1.0);
            for q in 1..m {
                s += if q % 2 == 1 { 4.0 } else { 2.0 } * f(t + q as f64 * h);
            }
            t.powi(3) / 3.0 + s * h / 3.0
        };
        for (j, &bj) in b.iter().enumerate() {
            if j != i {
                let g = dot(i, j);
                if g + bj > 0.0 {
                    total += (g + bj).powi(3) / (3.0 * g);
                }
            }
        }
    }
    total / nf as f64
}

#[test]
fn train_prints_spec_keys_and_saves_a_model_whose_loss_recomputes() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("model.json");
    let o = run(&[
        "train",
        "--dim",
        "3",
        "--features",
        "20",
        "--seed",
        "4",
        "--format",
        "json",
        "--save",
        save.to_str().unwrap(),
    ]);
    let rows = json_rows(&o);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    for key in [
        "n",
        "features",
        "loss",
        "gain",
        "embedded",
        "directions",
        "mean_multiplicity",
        "theta_min_median",
        "intercept_median",
        "seconds",
    ] {
        assert!(r.get(key).is_some(), "missing key {key}: {r}");
    }
    assert_eq!(r["n"], 3);
    assert_eq!(r["features"], 20);
    let loss = r["loss"].as_f64().unwrap();
    let gain = r["gain"].as_f64().unwrap();
    assert!(((1.0 / 3.0 - loss) * 20.0 - gain).abs() < 1e-9);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&save).unwrap()).unwrap();
    assert_eq!(saved["n"], 3);
    assert_eq!(saved["features"], 20);
    let w: Vec<Vec<f64>> = serde_json::from_value(saved["w"].clone()).unwrap();
    let b: Vec<f64> = serde_json::from_value(saved["b"].clone()).unwrap();
    assert_eq!(w.len(), 20);
    assert!(w.iter().all(|row| row.len() == 3));
    assert!(b.iter().all(|&x| x <= 0.0));
    assert_eq!(saved["loss"].as_f64().unwrap(), loss);
    let again = independent_l2_loss(&w, &b);
    assert!((again - loss).abs() < 1e-9, "{again} vs {loss}");
    // A trained 3-D model of 20 features embeds most of them and beats the dead model.
    assert!(gain > 3.0, "{gain}");
}

#[test]
fn train_is_deterministic_per_seed() {
    let args = [
        "train",
        "--dim",
        "2",
        "--features",
        "12",
        "--seed",
        "9",
        "--format",
        "json",
    ];
    let (a, b) = (json_rows(&run(&args)), json_rows(&run(&args)));
    assert_eq!(a[0]["loss"], b[0]["loss"]);
    assert_eq!(a[0]["directions"], b[0]["directions"]);
}

#[test]
fn sampled_trainer_reports_the_same_keys() {
    let rows = json_rows(&run(&[
        "train",
        "--dim",
        "2",
        "--features",
        "5",
        "--sparsity",
        "0.7",
        "--steps",
        "300",
        "--format",
        "json",
    ]));
    let r = &rows[0];
    assert_eq!(r["sparsity"].as_f64(), Some(0.7));
    assert!(r["loss_stderr"].as_f64().unwrap() > 0.0);
    assert!(r["gain"].as_f64().unwrap() > 0.0, "{r}");
}

#[test]
fn bad_input_is_one_line_and_non_zero() {
    assert_one_line_error(&run(&["train", "--dim", "0", "--features", "8"]));
    assert_one_line_error(&run(&["train", "--dim", "2", "--features", "0"]));
    assert_one_line_error(&run(&[
        "train",
        "--dim",
        "2",
        "--features",
        "8",
        "--sparsity",
        "1.5",
    ]));
    assert_one_line_error(&run(&[
        "train",
        "--dim",
        "2",
        "--features",
        "8",
        "--sparsity",
        "NaN",
    ]));
    assert_one_line_error(&run(&[
        "train",
        "--dim",
        "2",
        "--features",
        "8",
        "--loss",
        "bogus",
    ]));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("no-such-dir").join("m.json");
    assert_one_line_error(&run(&[
        "train",
        "--dim",
        "2",
        "--features",
        "4",
        "--save",
        bad.to_str().unwrap(),
    ]));
}

fn model_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("models"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('n') && n.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn sweep_resumes_after_being_killed_without_redoing_finished_models() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let args = [
        "sweep",
        "--dims",
        "2,3,4",
        "--features",
        "16..256:x2",
        "--threads",
        "1",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ];
    let mut child = bin()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while model_files(&out).is_empty() {
        assert!(t0.elapsed() < Duration::from_secs(120), "no model finished");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let finished = model_files(&out);
    assert!(!finished.is_empty() && finished.len() < 15, "{finished:?}");
    let snapshot: Vec<(String, Vec<u8>, std::time::SystemTime)> = finished
        .iter()
        .map(|f| {
            let p = out.join("models").join(f);
            (
                f.clone(),
                std::fs::read(&p).unwrap(),
                std::fs::metadata(&p).unwrap().modified().unwrap(),
            )
        })
        .collect();
    let rows = json_rows(&run(&args));
    assert_eq!(rows.len(), 15);
    assert_eq!(model_files(&out).len(), 15);
    for (f, bytes, mtime) in snapshot {
        let p = out.join("models").join(&f);
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{f} rewritten");
        assert_eq!(
            std::fs::metadata(&p).unwrap().modified().unwrap(),
            mtime,
            "{f} touched"
        );
    }
    // Gain is non-decreasing in N for each n (the halving chain guarantees it on this grid).
    for n in [2, 3, 4] {
        let gains: Vec<f64> = rows
            .iter()
            .filter(|r| r["n"] == n)
            .map(|r| r["gain"].as_f64().unwrap())
            .collect();
        assert!(
            gains.windows(2).all(|w| w[1] >= w[0] - 1e-9),
            "n = {n}: {gains:?}"
        );
    }
    // Different settings in the same directory are refused with one line.
    let mut other: Vec<&str> = args.to_vec();
    other.extend(["--seed", "1"]);
    assert_one_line_error(&run(&other));
}

/// The note's whole sweep with default settings (slow; about two minutes on two cores):
/// `cargo test --release --test cli_train -- --ignored`.
#[test]
#[ignore]
fn note_sweep_gain_is_non_decreasing_and_n_ge_4_embeds_nearly_all() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("note");
    let rows = json_rows(&run(&[
        "sweep",
        "--dims",
        "2,3,4,6,8",
        "--features",
        "4..1024:x2",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(rows.len(), 45);
    for n in [2, 3, 4, 6, 8] {
        let rs: Vec<&Value> = rows.iter().filter(|r| r["n"] == n).collect();
        let gains: Vec<f64> = rs.iter().map(|r| r["gain"].as_f64().unwrap()).collect();
        assert!(
            gains.windows(2).all(|w| w[1] >= w[0] - 1e-9),
            "n = {n}: {gains:?}"
        );
        if n >= 4 {
            for r in rs {
                assert!(r["fraction_embedded"].as_f64().unwrap() >= 0.99, "{r}");
            }
        }
    }
}

/// Trains `superpose train --dim n --features N` (defaults) and returns its row.
fn train_row(n: usize, features: usize) -> Value {
    let (n, features) = (n.to_string(), features.to_string());
    let rows = util::json(&[
        "train",
        "--dim",
        &n,
        "--features",
        &features,
        "--format",
        "json",
    ]);
    rows.into_iter().next().expect("one row")
}

/// Issue 8: 2-D used to stop at 7 directions (gain 1.7504 = 7 directions of SPEC §3's
/// symmetric optimum, `7·(1/3 − (3c² + c³)/12)`, `c = cos(2π/7)`) for every N ≥ 8, below the
/// note's own sampled-Adam optimiser (gain 1.766 at N = 64, with one large and several small
/// vectors per direction).
#[test]
fn two_dims_at_64_features_beat_seven_directions_and_the_note() {
    let r = train_row(2, 64);
    let c = (2.0 * std::f64::consts::PI / 7.0).cos();
    let seven = 7.0 * (1.0 / 3.0 - (3.0 * c * c + c * c * c) / 12.0);
    let gain = util::num(&r, "gain");
    assert!(gain > seven + 1e-3, "{r}");
    assert!(gain >= 1.766, "{r}");
    assert!(util::num(&r, "embedded") > 7.0, "{r}");
    // One large amplitude per direction and much smaller ones (the median is a small one).
    assert!(util::num(&r, "amplitude_median") < 0.5, "{r}");
}

/// Issue 8: on main before the fix, 3-D N = 64 embedded 60/64 (gain 5.713740) and N = 128
/// 122/128 (gain 6.094498), from `superpose train --dim 3 --features N`; fully embedded,
/// non-degenerate models with a higher gain exist.
#[test]
fn three_dims_at_64_and_128_features_embed_all_and_beat_the_old_trainer() {
    for (nf, old) in [(64usize, 5.713_739_609), (128, 6.094_498_243)] {
        let r = train_row(3, nf);
        assert_eq!(util::num(&r, "embedded") as usize, nf, "{r}");
        assert_eq!(util::num(&r, "mean_multiplicity"), 1.0, "{r}");
        assert!(util::num(&r, "gain") > old + 1e-2, "{r}");
    }
}

/// Issue 8: 3-D N = 1024 was the N = 512 model doubled by the halving-chain lift (m = 2,
/// gain 6.5261, the same as N = 512). Slow (minutes on two cores):
/// `cargo test --release --test cli_train -- --ignored three_dims_at_1024`.
#[test]
#[ignore]
fn three_dims_at_1024_features_is_not_degenerate_and_beats_the_lift() {
    let r = train_row(3, 1024);
    assert!(util::num(&r, "mean_multiplicity") < 1.01, "{r}");
    assert!(util::num(&r, "fraction_embedded") > 0.99, "{r}");
    assert!(util::num(&r, "gain") > 6.5261 + 1e-2, "{r}");
}
