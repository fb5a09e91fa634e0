//! Output of result rows: a comfy-table table (default), JSON (an array of row objects) or CSV.
//!
//! Rows are any `Serialize` structs; their field names are the JSON keys, in declaration order.
//! Keys that start with `theta` are angles in radians; the table shows
//! them in degrees too. Non-finite numbers are written as `null` (JSON) or empty (CSV), never
//! as NaN.

use std::io::Write;

use clap::ValueEnum;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;
use serde_json::{Map, Value};

use superpose::error::{Error, Result};

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A table for people (angles also in degrees).
    #[default]
    Table,
    /// An array of row objects.
    Json,
    /// One header line, then one line per row.
    Csv,
}

fn is_angle(key: &str) -> bool {
    key.starts_with("theta") && !key.ends_with("_deg")
}

fn to_objects<T: Serialize>(rows: &[T]) -> Result<Vec<Map<String, Value>>> {
    rows.iter()
        .map(|r| match serde_json::to_value(r) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(other) => Err(Error::Numerical(format!("row is not an object: {other}"))),
            Err(e) => Err(Error::Numerical(e.to_string())),
        })
        .collect()
}

/// Formats a number for a table: 6 significant digits, scientific outside [1e-4, 1e7).
pub fn fmt_num(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let a = x.abs();
    if !(1e-4..1e7).contains(&a) {
        return format!("{x:.5e}");
    }
    let digits = (6 - 1 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn cell(key: &str, v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Number(num) => {
            let x = num.as_f64().unwrap_or(f64::NAN);
            if num.is_f64() || num.is_i64() || num.is_u64() {
                if is_angle(key) {
                    format!("{} ({}°)", fmt_num(x), fmt_num(x.to_degrees()))
                } else if num.is_f64() {
                    fmt_num(x)
                } else {
                    num.to_string()
                }
            } else {
                num.to_string()
            }
        }
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn io_err(e: std::io::Error) -> Error {
    Error::io("<stdout>", e)
}

/// Writes `rows` to `out` in `format`.
pub fn emit<T: Serialize>(rows: &[T], format: Format, out: &mut dyn Write) -> Result<()> {
    let objs = to_objects(rows)?;
    match format {
        // JSON and CSV are rendered in memory and written with one `write_all`, so that a
        // failed write (a closed pipe) reaches `main` as the plain I/O error it is.
        Format::Json => {
            let arr = Value::Array(objs.into_iter().map(Value::Object).collect());
            let mut text = serde_json::to_vec_pretty(&arr)
                .map_err(|e| Error::Numerical(format!("rows do not serialise: {e}")))?;
            text.push(b'\n');
            out.write_all(&text).map_err(io_err)?;
        }
        Format::Csv => {
            let keys: Vec<String> = objs
                .first()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let mut w = csv::Writer::from_writer(Vec::new());
            let csv_err = |e: csv::Error| Error::Numerical(format!("rows do not serialise: {e}"));
            w.write_record(&keys).map_err(csv_err)?;
            for m in &objs {
                let rec: Vec<String> = keys
                    .iter()
                    .map(|k| csv_cell(m.get(k).unwrap_or(&Value::Null)))
                    .collect();
                w.write_record(&rec).map_err(csv_err)?;
            }
            let text = w
                .into_inner()
                .map_err(|e| Error::Numerical(format!("rows do not serialise: {e}")))?;
            out.write_all(&text).map_err(io_err)?;
        }
        Format::Table => {
            let keys: Vec<String> = objs
                .first()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let mut t = Table::new();
            t.load_style(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Disabled)
                .set_header(keys.iter().map(|k| {
                    if is_angle(k) {
                        format!("{k} rad (deg)")
                    } else {
                        k.clone()
                    }
                }));
            for m in &objs {
                t.add_row(
                    keys.iter()
                        .map(|k| cell(k, m.get(k).unwrap_or(&Value::Null))),
                );
            }
            writeln!(out, "{t}").map_err(io_err)?;
        }
    }
    out.flush().map_err(io_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        n: usize,
        theta: f64,
        x: Option<f64>,
        name: &'static str,
    }

    fn render(format: Format) -> String {
        let rows = [Row {
            n: 3,
            theta: std::f64::consts::FRAC_PI_2,
            x: None,
            name: "a,b",
        }];
        let mut buf = Vec::new();
        emit(&rows, format, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn formats() {
        let j: Value = serde_json::from_str(&render(Format::Json)).unwrap();
        assert_eq!(j[0]["n"], 3);
        assert!(j[0]["x"].is_null());
        let c = render(Format::Csv);
        assert_eq!(c.lines().next().unwrap(), "n,theta,x,name");
        assert!(c.lines().nth(1).unwrap().ends_with(",,\"a,b\""));
        let t = render(Format::Table);
        assert!(t.contains("(90°)"), "{t}");
    }

    #[test]
    fn only_theta_keys_are_angles() {
        assert!(is_angle("theta_min_median"));
        assert!(!is_angle("dgain_dembed_small_angle"));
        assert!(!is_angle("theta_deg"));
    }

    #[test]
    fn numbers() {
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(0.123456789), "0.123457");
        assert_eq!(fmt_num(1234.56789), "1234.57");
        assert_eq!(fmt_num(1.5e-7), "1.50000e-7");
    }
}
