//! `analyze`: diagnostics of a model trained elsewhere (JSON, .npy, .npz, safetensors), with the
//! theory at its `(n, N)` beside them.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use serde_json::Value;

use super::output::{emit, fmt_num, Format};
use superpose::analyze::{analyze_file, AnalysisSummary, Keys, Layout};
use superpose::error::{Error, Result};

fn parse_layout(s: &str) -> std::result::Result<Layout, String> {
    s.parse::<Layout>().map_err(|e| e.to_string())
}

/// `superpose analyze --model F [--layout] [--w-key] [--b-key] [--histogram F.csv]`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Model file: `train --save` JSON, .npy (W only), .npz (arrays W and optionally b) or
    /// safetensors.
    #[arg(long)]
    pub model: PathBuf,
    /// W as n-by-N (a column per feature: the toy model), N-by-n (a row per feature: an SAE
    /// decoder [d_sae, d_model]) or auto (from b's length, else the longer side is N).
    #[arg(long, value_parser = parse_layout, default_value = "auto")]
    pub layout: Layout,
    /// Name of W in .npz / safetensors files.
    #[arg(long, default_value = "W")]
    pub w_key: String,
    /// Name of b in .npz / safetensors files (default b, optional; naming it makes it required).
    #[arg(long)]
    pub b_key: Option<String>,
    /// Also write the pairwise-angle histogram (theta_lo, theta_hi, count, density, uniform).
    #[arg(long)]
    pub histogram: Option<PathBuf>,
}

/// The json / csv row: the library's summary plus where it came from.
#[derive(Debug, Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    summary: &'a AnalysisSummary,
    format: String,
    dtype: &'static str,
    bias: bool,
}

/// One line of the table: a quantity and its value.
#[derive(Debug, Serialize)]
struct Line {
    quantity: String,
    value: String,
}

fn show(key: &str, v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Number(x) if x.is_f64() => {
            let x = x.as_f64().unwrap_or(f64::NAN);
            if key.starts_with("theta") {
                format!("{} ({}°)", fmt_num(x), fmt_num(x.to_degrees()))
            } else {
                fmt_num(x)
            }
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Runs `analyze`.
pub fn analyze(a: &AnalyzeArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let keys = Keys {
        w: a.w_key.clone(),
        b: a.b_key.clone().unwrap_or_else(|| "b".into()),
        b_required: a.b_key.is_some(),
    };
    if let Some(h) = &a.histogram {
        // Fail on an unwritable path before the work.
        std::fs::File::create(h).map_err(|e| Error::io(h, e))?;
    }
    let (an, raw) = analyze_file(&a.model, &keys, a.layout)?;
    if let Some(h) = &a.histogram {
        superpose::toy::sweep::write_atomic(h, an.histogram.to_csv().as_bytes())?;
    }
    let row = Row {
        summary: &an.summary,
        format: raw.format.to_string(),
        dtype: raw.w.dtype,
        bias: raw.b.is_some(),
    };
    match f {
        Format::Table => {
            let obj = serde_json::to_value(&row).map_err(|e| Error::Numerical(e.to_string()))?;
            let lines: Vec<Line> = obj
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| Line {
                    quantity: k.clone(),
                    value: show(k, v),
                })
                .collect();
            emit(&lines, f, out)
        }
        _ => emit(&[row], f, out),
    }
}
