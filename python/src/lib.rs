//! Python bindings of `superpose` (PyO3 + rust-numpy), module `superpose._superpose`.
//!
//! Thin: every function checks its arguments through the library, calls it with the GIL
//! released (`Python::detach`, PyO3's name for `allow_threads` since 0.26) and returns plain
//! dicts (the library's serde rows) and NumPy arrays. Every library error becomes a
//! `ValueError` with the CLI's one-line message.

use nalgebra::{DMatrix, DVector};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};
use serde::Serialize;
use serde_json::Value;

use superpose::analyze::{self, Analysis, Keys, Layout};
use superpose::gain::{Convention, ThetaLaw};
use superpose::loss::Loss;
use superpose::toy::{self, Model, NoObserver, TrainConfig};

fn err(e: superpose::Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn parse<T: std::str::FromStr>(what: &str, s: &str) -> PyResult<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>()
        .map_err(|e| PyValueError::new_err(format!("invalid {what}: {e}")))
}

fn value<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(x) => {
            if let Some(i) = x.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = x.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                x.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| value(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, value(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// A serde row as a plain dict.
fn dict<'py, T: Serialize>(py: Python<'py>, row: &T) -> PyResult<Bound<'py, PyDict>> {
    let v = serde_json::to_value(row).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(value(py, &v)?.cast_into::<PyDict>()?)
}

/// A NumPy float64 array as the library's C-order [`analyze::Array`].
fn array<D: numpy::ndarray::Dimension>(a: numpy::ndarray::ArrayView<'_, f64, D>) -> analyze::Array {
    analyze::Array {
        shape: a.shape().to_vec(),
        data: a.iter().copied().collect(),
        dtype: "float64",
    }
}

/// W (n × N) from a 2-D float64 array in the given layout.
fn matrix(w: &PyReadonlyArray2<'_, f64>, layout: Layout) -> PyResult<DMatrix<f64>> {
    Ok(analyze::orient(&array(w.as_array()), None, layout)
        .map_err(err)?
        .w)
}

fn vector(b: &PyReadonlyArray1<'_, f64>) -> DVector<f64> {
    DVector::from_vec(b.as_array().iter().copied().collect())
}

fn opt_array<'py>(py: Python<'py>, v: &[Option<f64>]) -> Bound<'py, PyArray1<f64>> {
    v.iter()
        .map(|x| x.unwrap_or(f64::NAN))
        .collect::<Vec<_>>()
        .into_pyarray(py)
}

/// The θ law for `directions` directions in R^n: theta, theta_upper, theta_asymptotic, the
/// density band theta_low / theta_high and the source of γ.
#[pyfunction]
fn theta(py: Python<'_>, n: usize, directions: f64) -> PyResult<Bound<'_, PyDict>> {
    let t = superpose::theta::theta_min(n, directions).map_err(err)?;
    dict(py, &t)
}

/// Capacity D(θ): how many directions fit in R^n at separation `theta` (radians).
#[pyfunction]
fn capacity(py: Python<'_>, n: usize, theta: f64) -> PyResult<Bound<'_, PyDict>> {
    let c = superpose::theta::capacity(n, theta).map_err(err)?;
    dict(py, &c)
}

/// Closed-form gain of `embed` features at multiplicity `multiplicity` in R^n.
#[pyfunction]
#[pyo3(signature = (n, embed, multiplicity = 1, convention = "consistent", loss = "l2", law = "small-angle"))]
fn gain<'py>(
    py: Python<'py>,
    n: usize,
    embed: u64,
    multiplicity: u64,
    convention: &str,
    loss: &str,
    law: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let conv: Convention = parse("--convention", convention)?;
    let loss: Loss = parse("--loss", loss)?;
    let law: ThetaLaw = parse("--law", law)?;
    let p = py
        .detach(|| superpose::gain::closed_form_with(n, embed, multiplicity, conv, &loss, law))
        .map_err(err)?;
    dict(py, &p)
}

/// Phase point of R^n: the first N at which degeneracy wins (`transition_features`).
#[pyfunction]
#[pyo3(signature = (n, convention = "consistent", loss = "l2", max_features = superpose::phase::DEFAULT_MAX_FEATURES))]
fn phase<'py>(
    py: Python<'py>,
    n: usize,
    convention: &str,
    loss: &str,
    max_features: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let conv: Convention = parse("--convention", convention)?;
    let loss: Loss = parse("--loss", loss)?;
    let p = py
        .detach(|| {
            superpose::phase::dim_phase(
                n,
                conv,
                &loss,
                max_features,
                superpose::phase::DEFAULT_MAX_MULTIPLICITY,
                ThetaLaw::SmallAngle,
            )
        })
        .map_err(err)?;
    dict(py, &p)
}

/// The best symmetric configuration of `features` features in R^n with finite neighbours.
#[pyfunction]
#[pyo3(signature = (n, features, loss = "l2", neighbours = None))]
fn optimize<'py>(
    py: Python<'py>,
    n: usize,
    features: u64,
    loss: &str,
    neighbours: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let loss: Loss = parse("--loss", loss)?;
    let p = py
        .detach(|| superpose::symmetric::optimize(n, features, &loss, neighbours))
        .map_err(err)?;
    dict(py, &p)
}

/// θ law and random-code baseline at large n for `features` (= directions, m = 1): the law's
/// θ and its density band, the expected largest |cos| of a random code, the greedy lower bound
/// on the best code's angle, and the gain per feature at θ.
#[pyfunction]
fn extrapolate(py: Python<'_>, n: usize, features: f64) -> PyResult<Bound<'_, PyDict>> {
    let (t, random, greedy) = py
        .detach(|| -> superpose::Result<_> {
            let t = superpose::theta::theta_min(n, features)?;
            let (random, greedy) = if features >= 2.0 {
                (
                    superpose::random_codes::expected_max_abs_cos(n, features).ok(),
                    superpose::random_codes::theta_greedy(n, features).ok(),
                )
            } else {
                (None, None)
            };
            Ok((t, random, greedy))
        })
        .map_err(err)?;
    let d = dict(py, &t)?;
    d.set_item("random_max_cos", random)?;
    d.set_item("theta_random", random.map(f64::acos))?;
    d.set_item("theta_greedy", greedy)?;
    d.set_item(
        "gain_per_feature",
        superpose::gain::intercept_parts(t.theta).2 / 12.0,
    )?;
    Ok(d)
}

/// Trains the toy model x' = ReLU(WᵀWx + b) (exact sparse-limit loss, or sampled at `sparsity`).
/// Returns the `train` report as a dict with `W` (n × N) and `b` (N) as NumPy arrays.
#[pyfunction]
#[pyo3(signature = (n, features, seed = 0, restarts = 1, loss = "l2", sparsity = None))]
fn train<'py>(
    py: Python<'py>,
    n: usize,
    features: usize,
    seed: u64,
    restarts: usize,
    loss: &str,
    sparsity: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut cfg = TrainConfig::new(n, features);
    cfg.seed = seed;
    cfg.restarts = restarts;
    cfg.loss = parse("--loss", loss)?;
    cfg.sparsity = sparsity;
    if sparsity.is_some() {
        // The CLI's defaults for the sampled trainer.
        cfg.adam_steps = 4000;
        cfg.adam_lr = 0.01;
    }
    cfg.check().map_err(err)?;
    let t = py.detach(|| toy::train(&cfg, &NoObserver)).map_err(err)?;
    let d = dict(py, &t.report)?;
    let w = Array2::from_shape_fn((n, features), |(r, c)| t.model.w[(r, c)]);
    d.set_item("W", w.into_pyarray(py))?;
    d.set_item("b", t.model.b.as_slice().to_vec().into_pyarray(py))?;
    Ok(d)
}

fn analysis_dict<'py>(
    py: Python<'py>,
    a: &Analysis,
    extra: &[(&str, Value)],
) -> PyResult<Bound<'py, PyDict>> {
    let d = dict(py, &a.summary)?;
    for (k, v) in extra {
        d.set_item(*k, value(py, v)?)?;
    }
    let f = &a.features;
    let per = PyDict::new(py);
    per.set_item("norm", f.norm.clone().into_pyarray(py))?;
    per.set_item("max_cos", opt_array(py, &f.max_cos))?;
    per.set_item("max_abs_cos", opt_array(py, &f.max_abs_cos))?;
    per.set_item(
        "nearest",
        f.nearest
            .iter()
            .map(|x| x.map_or(-1, |j| j as i64))
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    per.set_item("theta_nearest", opt_array(py, &f.theta_nearest))?;
    per.set_item("dimensionality", f.dimensionality.clone().into_pyarray(py))?;
    per.set_item("interference", f.interference.clone().into_pyarray(py))?;
    if let Some(e) = &f.embedded {
        per.set_item("embedded", e.clone().into_pyarray(py))?;
    }
    if let Some(i) = &f.intercept {
        per.set_item("intercept", opt_array(py, i))?;
    }
    if let Some(diag) = &a.diagnostics {
        per.set_item(
            "theta_min",
            opt_array(
                py,
                &diag
                    .direction_of
                    .iter()
                    .map(|d| d.and_then(|k| diag.directions[k].theta_min))
                    .collect::<Vec<_>>(),
            ),
        )?;
        per.set_item(
            "multiplicity",
            diag.direction_of
                .iter()
                .map(|d| d.map_or(0, |k| diag.directions[k].multiplicity as i64))
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
    }
    d.set_item("per_feature", per)?;
    let h = &a.histogram;
    let hist = PyDict::new(py);
    hist.set_item("edges", h.edges.clone().into_pyarray(py))?;
    hist.set_item(
        "counts",
        h.counts
            .iter()
            .map(|&c| c as i64)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    hist.set_item("density", h.density.clone().into_pyarray(py))?;
    hist.set_item("uniform", h.uniform.clone().into_pyarray(py))?;
    hist.set_item("over", h.over)?;
    d.set_item("histogram", hist)?;
    Ok(d)
}

/// Analyses W (and b): the `analyze` summary keys, `per_feature` arrays and the pairwise-angle
/// `histogram`. `layout`: "n-by-N" (a column per feature), "N-by-n" (a row per feature, an SAE
/// decoder) or "auto".
#[pyfunction]
#[pyo3(signature = (w, b = None, layout = "auto"))]
fn analyze_weights<'py>(
    py: Python<'py>,
    w: PyReadonlyArray2<'py, f64>,
    b: Option<PyReadonlyArray1<'py, f64>>,
    layout: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let layout: Layout = layout.parse().map_err(err)?;
    let warr = array(w.as_array());
    let barr = b.as_ref().map(|b| array(b.as_array()));
    let wts = analyze::orient(&warr, barr.as_ref(), layout).map_err(err)?;
    let an = py
        .detach(|| analyze::analyze(&wts.w, wts.b.as_ref(), wts.layout))
        .map_err(err)?;
    analysis_dict(py, &an, &[])
}

/// As `analyze`, from a file (train --save JSON, .npy, .npz, safetensors).
#[pyfunction]
#[pyo3(signature = (path, layout = "auto", w_key = "W", b_key = None))]
fn analyze_file<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    layout: &str,
    w_key: &str,
    b_key: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let layout: Layout = layout.parse().map_err(err)?;
    let keys = Keys {
        w: w_key.to_string(),
        b: b_key.unwrap_or("b").to_string(),
        b_required: b_key.is_some(),
    };
    let (an, raw) = py
        .detach(|| analyze::analyze_file(&path, &keys, layout))
        .map_err(err)?;
    analysis_dict(
        py,
        &an,
        &[
            ("format", Value::String(raw.format.to_string())),
            ("dtype", Value::String(raw.w.dtype.to_string())),
            ("bias", Value::Bool(raw.b.is_some())),
        ],
    )
}

/// The exact sparse-limit loss of the toy model (W n × N, b ≤ 0) and its gradient:
/// returns `(L, dL/dW, dL/db)`.
#[pyfunction]
#[pyo3(signature = (w, b, loss = "l2"))]
#[allow(clippy::type_complexity)]
fn loss<'py>(
    py: Python<'py>,
    w: PyReadonlyArray2<'py, f64>,
    b: PyReadonlyArray1<'py, f64>,
    loss: &str,
) -> PyResult<(
    f64,
    Bound<'py, numpy::PyArray2<f64>>,
    Bound<'py, PyArray1<f64>>,
)> {
    let l: Loss = parse("--loss", loss)?;
    let model = Model::new(matrix(&w, Layout::DimByFeatures)?, vector(&b)).map_err(err)?;
    if let Some(i) = model.b.iter().position(|&x| x > 0.0) {
        return Err(PyValueError::new_err(format!(
            "invalid model: b[{i}] = {} > 0 (the exact loss needs b ≤ 0)",
            model.b[i]
        )));
    }
    let (value, gw, gb) = py.detach(|| toy::exact::loss_grad(&model, &l));
    let (n, nf) = (gw.nrows(), gw.ncols());
    let gw = Array2::from_shape_fn((n, nf), |(r, c)| gw[(r, c)]);
    Ok((
        value,
        gw.into_pyarray(py),
        gb.as_slice().to_vec().into_pyarray(py),
    ))
}

#[pymodule]
fn _superpose(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(theta, m)?)?;
    m.add_function(wrap_pyfunction!(capacity, m)?)?;
    m.add_function(wrap_pyfunction!(gain, m)?)?;
    m.add_function(wrap_pyfunction!(phase, m)?)?;
    m.add_function(wrap_pyfunction!(optimize, m)?)?;
    m.add_function(wrap_pyfunction!(extrapolate, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_weights, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_file, m)?)?;
    m.add_function(wrap_pyfunction!(loss, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
