//! `superpose analyze` on fixtures written here in every format and layout, and its errors.

mod util;

use std::path::{Path, PathBuf};

use nalgebra::{DMatrix, DVector};
use npyz::WriterBuilder;
use serde_json::Value;
use superpose::loss::Loss;
use superpose::toy::{exact, Model};
use util::{fails_cleanly, json, num, run};

/// A pentagon of directions in R^2 (72° apart) with unequal norms, plus one dead feature:
/// N = 6, n = 2, b ≤ 0.
fn toy() -> (DMatrix<f64>, DVector<f64>) {
    let w = DMatrix::from_fn(2, 6, |r, i| {
        if i == 5 {
            return 0.05;
        }
        let phi = i as f64 * 2.0 * std::f64::consts::PI / 5.0 + 0.1;
        let a = 1.0 + 0.1 * i as f64;
        a * if r == 0 { phi.cos() } else { phi.sin() }
    });
    let b = DVector::from_fn(6, |i, _| if i == 5 { -0.5 } else { -0.2 - 0.01 * i as f64 });
    (w, b)
}

/// C-order values of W in the layout `rows_per_feature` (N × n) or n × N.
fn c_order(w: &DMatrix<f64>, rows_per_feature: bool) -> (Vec<u64>, Vec<f64>) {
    let (n, nf) = (w.nrows(), w.ncols());
    if rows_per_feature {
        (vec![nf as u64, n as u64], w.as_slice().to_vec())
    } else {
        (vec![n as u64, nf as u64], w.transpose().as_slice().to_vec())
    }
}

fn npy_bytes<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
    shape: &[u64],
    data: &[T],
    fortran: bool,
) -> Vec<u8> {
    let mut buf = Vec::new();
    let order = if fortran {
        npyz::Order::Fortran
    } else {
        npyz::Order::C
    };
    let mut wr = npyz::WriteOptions::<T>::new()
        .default_dtype()
        .shape(shape)
        .order(order)
        .writer(&mut buf)
        .begin_nd()
        .unwrap();
    wr.extend(data.iter().copied()).unwrap();
    wr.finish().unwrap();
    buf
}

fn npz(path: &Path, arrays: &[(&str, Vec<u8>)]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    for (name, bytes) in arrays {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file(format!("{name}.npy"), opts).unwrap();
        std::io::Write::write_all(&mut z, bytes).unwrap();
    }
    z.finish().unwrap();
}

fn f32_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect()
}

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|&x| x.to_le_bytes()).collect()
}

fn safetensors_file(path: &Path, tensors: &[(&str, Vec<usize>, Vec<f64>, bool)]) {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, d, f32)| if *f32 { f32_bytes(d) } else { f64_bytes(d) })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _, f32), b)| {
            let dt = if *f32 {
                safetensors::Dtype::F32
            } else {
                safetensors::Dtype::F64
            };
            (
                name.to_string(),
                safetensors::tensor::TensorView::new(dt, shape.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

fn p(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn analyze(args: &[&str]) -> Value {
    let mut a = vec!["analyze"];
    a.extend_from_slice(args);
    json(&a).remove(0)
}

#[test]
fn every_format_and_layout_reports_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    let (w, b) = toy();
    let want = exact::loss(&Model::new(w.clone(), b.clone()).unwrap(), &Loss::L2);
    let bv: Vec<f64> = b.iter().copied().collect();
    let b64 = npy_bytes(&[6], &bv, false);
    let bvals32: Vec<f32> = bv.iter().map(|&x| x as f32).collect();
    let b32 = npy_bytes(&[6], &bvals32, false);
    let mut with_b = Vec::new();
    for rows in [false, true] {
        let (shape, data) = c_order(&w, rows);
        let tag = if rows { "Nn" } else { "nN" };
        // f64 npz, default keys, auto layout (b decides).
        let f = p(dir.path(), &format!("{tag}.npz"));
        npz(
            &f,
            &[("W", npy_bytes(&shape, &data, false)), ("b", b64.clone())],
        );
        with_b.push(analyze(&["--model", f.to_str().unwrap()]));
        // f32 npz with other names and an explicit layout.
        let d32: Vec<f32> = data.iter().map(|&x| x as f32).collect();
        let f = p(dir.path(), &format!("{tag}32.npz"));
        npz(
            &f,
            &[
                ("W_dec", npy_bytes(&shape, &d32, false)),
                ("bias", b32.clone()),
            ],
        );
        let layout = if rows { "N-by-n" } else { "n-by-N" };
        with_b.push(analyze(&[
            "--model",
            f.to_str().unwrap(),
            "--w-key",
            "W_dec",
            "--b-key",
            "bias",
            "--layout",
            layout,
        ]));
        // safetensors, f32 W and f64 b.
        let f = p(dir.path(), &format!("{tag}.safetensors"));
        let sh: Vec<usize> = shape.iter().map(|&x| x as usize).collect();
        safetensors_file(
            &f,
            &[
                ("W", sh, data.clone(), true),
                ("b", vec![6], bv.clone(), false),
            ],
        );
        with_b.push(analyze(&["--model", f.to_str().unwrap()]));
    }
    // Our own --save JSON.
    let f = p(dir.path(), "m.json");
    let saved = Model::new(w.clone(), b.clone()).unwrap().to_saved(want);
    std::fs::write(&f, serde_json::to_string(&saved).unwrap()).unwrap();
    with_b.push(analyze(&["--model", f.to_str().unwrap()]));
    for r in &with_b {
        let tol = if r["dtype"] == "float32" { 1e-6 } else { 1e-12 };
        assert!((num(r, "loss") - want).abs() < tol * want, "{r}");
        assert_eq!(r["n"], 2);
        assert_eq!(r["features"], 6);
        assert_eq!(r["embedded"], 5);
        assert_eq!(r["directions"], 5);
        assert!((num(r, "theta_min_median") - 0.4 * std::f64::consts::PI).abs() < 1e-6);
        assert!((num(r, "gain") - (1.0 / 3.0 - num(r, "loss")) * 6.0).abs() < 1e-12);
    }
    // .npy (W only) in both layouts, one of them Fortran-ordered: geometry only.
    let mut geom = Vec::new();
    for (rows, fortran) in [(false, false), (true, false), (true, true)] {
        let (shape, data) = c_order(&w, rows);
        let bytes = if fortran {
            // Fortran order of an N × n array = C order of its n × N transpose.
            let (_, t) = c_order(&w, !rows);
            npy_bytes(&shape, &t, true)
        } else {
            npy_bytes(&shape, &data, false)
        };
        let f = p(dir.path(), &format!("w{rows}{fortran}.npy"));
        std::fs::write(&f, bytes).unwrap();
        geom.push(analyze(&["--model", f.to_str().unwrap()]));
    }
    for r in &geom {
        assert!(r["loss"].is_null() && r["embedded"].is_null(), "{r}");
        assert_eq!(r["features"], 6, "{r}");
        // Nearest-neighbour angles: 72° for the pentagon; the dead feature (0.05, 0.05) at 45°
        // sits 45° − 5.73° − 0·72°... closer to its neighbours, so compare across files only.
        assert_eq!(r["theta_min_median"], geom[0]["theta_min_median"]);
        assert_eq!(
            r["feature_dimensionality"],
            geom[0]["feature_dimensionality"]
        );
    }
}

#[test]
fn histogram_file_counts_every_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (w, _) = toy();
    let (shape, data) = c_order(&w, true);
    let f = p(dir.path(), "w.npy");
    std::fs::write(&f, npy_bytes(&shape, &data, false)).unwrap();
    let h = p(dir.path(), "h.csv");
    let out = run(&[
        "analyze",
        "--model",
        f.to_str().unwrap(),
        "--histogram",
        h.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("theta_min_median") && table.contains("°"),
        "{table}"
    );
    let csv = std::fs::read_to_string(&h).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("theta_lo,theta_hi,count,density,uniform")
    );
    let mut pairs = 0u64;
    let mut area = 0.0;
    for l in lines {
        let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
        pairs += v[2] as u64;
        area += v[3] * (v[1] - v[0]);
    }
    assert_eq!(pairs, 15); // 6 features, all non-zero
    assert!((area - 1.0).abs() < 1e-12);
}

#[test]
fn bad_files_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (w, b) = toy();
    let bv: Vec<f64> = b.iter().copied().collect();
    let (shape, data) = c_order(&w, false);
    let s = |x: &PathBuf| x.to_str().unwrap().to_string();
    // Wrong shape: 3-D W.
    let f3 = p(dir.path(), "w3.npy");
    std::fs::write(&f3, npy_bytes(&[2, 3, 2], &data, false)).unwrap();
    // Square W without b: ambiguous.
    let sq = p(dir.path(), "sq.npy");
    std::fs::write(&sq, npy_bytes(&[2, 2], &[1.0, 0.0, 0.0, 1.0], false)).unwrap();
    // b of the wrong length.
    let wrong_b = p(dir.path(), "wb.npz");
    npz(
        &wrong_b,
        &[
            ("W", npy_bytes(&shape, &data, false)),
            ("b", npy_bytes(&[4], &bv[..4], false)),
        ],
    );
    // NaN in W.
    let mut nan = data.clone();
    nan[3] = f64::NAN;
    let fnan = p(dir.path(), "nan.npz");
    npz(&fnan, &[("W", npy_bytes(&shape, &nan, false))]);
    // Infinity in b (safetensors).
    let mut inf = bv.clone();
    inf[1] = f64::INFINITY;
    let finf = p(dir.path(), "inf.safetensors");
    let sh: Vec<usize> = shape.iter().map(|&x| x as usize).collect();
    safetensors_file(
        &finf,
        &[
            ("W", sh.clone(), data.clone(), false),
            ("b", vec![6], inf, false),
        ],
    );
    // Missing keys.
    let good = p(dir.path(), "good.safetensors");
    safetensors_file(&good, &[("W_dec", sh.clone(), data.clone(), true)]);
    // Truncated files of each format.
    let full_npy = npy_bytes(&shape, &data, false);
    let tnpy = p(dir.path(), "t.npy");
    std::fs::write(&tnpy, &full_npy[..full_npy.len() - 9]).unwrap();
    let full_npz = p(dir.path(), "full.npz");
    npz(&full_npz, &[("W", full_npy.clone())]);
    let bytes = std::fs::read(&full_npz).unwrap();
    let tnpz = p(dir.path(), "t.npz");
    std::fs::write(&tnpz, &bytes[..bytes.len() / 2]).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let tst = p(dir.path(), "t.safetensors");
    std::fs::write(&tst, &bytes[..bytes.len() - 5]).unwrap();
    let tjson = p(dir.path(), "t.json");
    std::fs::write(&tjson, "{\"n\": 2, \"features\": 3, \"w\": [[1").unwrap();
    // Integer dtype.
    let int = p(dir.path(), "int.npy");
    std::fs::write(&int, npy_bytes(&[2, 3], &[1i64, 2, 3, 4, 5, 6], false)).unwrap();

    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![s(&f3)], "2-D"),
        (vec![s(&sq)], "ambiguous"),
        (vec![s(&wrong_b)], "b has 4 entries"),
        (vec![s(&fnan)], "not a finite number"),
        (vec![s(&finf)], "b[1]"),
        (vec![s(&good)], "no array named \"W\""),
        (
            vec![
                s(&good),
                "--w-key".into(),
                "W_dec".into(),
                "--b-key".into(),
                "b_x".into(),
            ],
            "no array named \"b_x\"",
        ),
        (vec![s(&tnpy)], "truncated"),
        (vec![s(&tnpz)], "npz"),
        (vec![s(&tst)], "safetensors"),
        (vec![s(&tjson)], "t.json"),
        (vec![s(&int)], "float32 or float64"),
        (vec![s(&p(dir.path(), "absent.npz"))], "absent.npz"),
        (vec![s(&sq), "--layout".into(), "rows".into()], "--layout"),
    ];
    for (args, needle) in cases {
        let mut a = vec!["analyze", "--model"];
        a.extend(args.iter().map(String::as_str));
        fails_cleanly(&a);
        let err = String::from_utf8(run(&a).stderr).unwrap();
        assert!(err.contains(needle), "{a:?}: {err}");
    }
}

/// A model saved by `train --save` reports the trainer's own loss and θ_min.
#[test]
fn trained_model_round_trips_through_analyze() {
    let dir = tempfile::tempdir().unwrap();
    let f = p(dir.path(), "m.json");
    let t = json(&[
        "train",
        "--dim",
        "3",
        "--features",
        "12",
        "--save",
        f.to_str().unwrap(),
    ])
    .remove(0);
    let a = analyze(&["--model", f.to_str().unwrap()]);
    assert!((num(&a, "loss") - num(&t, "loss")).abs() < 1e-12 * num(&t, "loss"));
    for k in [
        "theta_min_median",
        "intercept_median",
        "directions",
        "embedded",
    ] {
        assert!((num(&a, k) - num(&t, k)).abs() < 1e-12, "{k}: {a} vs {t}");
    }
    assert!((num(&a, "feature_dimensionality") - num(&t, "feature_dimensionality")).abs() < 1e-12);
}
