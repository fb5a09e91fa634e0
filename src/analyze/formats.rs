//! Reading weights saved elsewhere: our `train --save` JSON, NumPy `.npy` / `.npz`, and
//! safetensors (the format of PyTorch and the SAE libraries).
//!
//! The parsers are well-kept crates: `npyz` reads the `.npy` header and data (either byte order,
//! C or Fortran order), `zip` opens `.npz` archives (stored or deflated, as `np.savez` and
//! `np.savez_compressed` write them), `safetensors` reads safetensors files. This module only
//! picks the arrays by name, converts float32 / float64 to `f64` and reports what is wrong in one
//! line. The format comes from the file extension (`.json`, `.npy`, `.npz`, `.safetensors` /
//! `.st`), else from the first bytes.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};
use crate::toy::SavedModel;

/// A file format `analyze` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `train --save` JSON: `{"n", "features", "w": [[n floats] per feature], "b", "loss"}`.
    Json,
    /// One NumPy array (W only).
    Npy,
    /// A NumPy archive of named arrays (`np.savez`).
    Npz,
    /// safetensors: named tensors.
    Safetensors,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Json => "json",
            Format::Npy => "npy",
            Format::Npz => "npz",
            Format::Safetensors => "safetensors",
        })
    }
}

/// A dense array in C (row-major) order, converted to `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Shape, outermost first.
    pub shape: Vec<usize>,
    /// Values in C order.
    pub data: Vec<f64>,
    /// Element type in the file (`float32`, `float64`).
    pub dtype: &'static str,
}

/// The arrays read from a model file: W, and b when the file has one.
#[derive(Debug, Clone, PartialEq)]
pub struct RawModel {
    /// Format that was read.
    pub format: Format,
    /// The weight matrix as stored (2-D).
    pub w: Array,
    /// The biases, if any.
    pub b: Option<Array>,
    /// Which layout the file itself fixes (`Some(true)`: `N × n` rows per feature, as in our
    /// JSON), `None` when only the shape can tell.
    pub rows_are_features: Option<bool>,
}

/// Which arrays to read from `.npz` and safetensors files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// Name of W (default `W`).
    pub w: String,
    /// Name of b (default `b`); a missing b is an error only when the name was given.
    pub b: String,
    /// Whether `b` was given explicitly.
    pub b_required: bool,
}

impl Default for Keys {
    fn default() -> Self {
        Keys {
            w: "W".into(),
            b: "b".into(),
            b_required: false,
        }
    }
}

fn one_line(s: impl std::fmt::Display) -> String {
    s.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_err(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::parse(path.display().to_string(), one_line(why))
}

/// The format of `path`: by extension, else by its first bytes.
pub fn detect(path: &Path) -> Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("json") => return Ok(Format::Json),
        Some("npy") => return Ok(Format::Npy),
        Some("npz") => return Ok(Format::Npz),
        Some("safetensors") | Some("st") => return Ok(Format::Safetensors),
        _ => {}
    }
    let mut head = [0u8; 8];
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let got = f.read(&mut head).map_err(|e| Error::io(path, e))?;
    let head = &head[..got];
    if head.starts_with(b"\x93NUMPY") {
        Ok(Format::Npy)
    } else if head.starts_with(b"PK") {
        Ok(Format::Npz)
    } else if head
        .first()
        .is_some_and(|c| *c == b'{' || c.is_ascii_whitespace())
    {
        Ok(Format::Json)
    } else if got == 8 {
        Ok(Format::Safetensors)
    } else {
        Err(parse_err(
            path,
            "unknown model format (use .json, .npy, .npz or .safetensors)",
        ))
    }
}

/// Reads W (and b, where the format has it) from `path`.
pub fn read(path: &Path, keys: &Keys) -> Result<RawModel> {
    match detect(path)? {
        Format::Json => read_json(path),
        Format::Npy => {
            let f = File::open(path).map_err(|e| Error::io(path, e))?;
            let w = npy_array(path, "W", BufReader::new(f))?;
            if keys.b_required {
                return Err(parse_err(
                    path,
                    "a .npy file holds one array (W); save W and b together as .npz or safetensors",
                ));
            }
            Ok(RawModel {
                format: Format::Npy,
                w,
                b: None,
                rows_are_features: None,
            })
        }
        Format::Npz => read_npz(path, keys),
        Format::Safetensors => read_safetensors(path, keys),
    }
}

fn read_json(path: &Path) -> Result<RawModel> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let s: SavedModel = serde_json::from_str(&text).map_err(|e| parse_err(path, e))?;
    let model = crate::toy::Model::from_saved(&s)
        .map_err(|e| parse_err(path, e.to_string().replace("saved model: ", "")))?;
    // Rows per feature, as saved: N × n in C order = the n × N column-major matrix.
    Ok(RawModel {
        format: Format::Json,
        w: Array {
            shape: vec![s.features, s.n],
            data: model.w.as_slice().to_vec(),
            dtype: "float64",
        },
        b: Some(Array {
            shape: vec![s.features],
            data: s.b,
            dtype: "float64",
        }),
        rows_are_features: Some(true),
    })
}

fn npy_array<R: Read>(path: &Path, name: &str, r: R) -> Result<Array> {
    let npy = npyz::NpyFile::new(r).map_err(|e| parse_err(path, format!("array {name}: {e}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let fortran = npy.order() == npyz::Order::Fortran;
    let ty = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => {
            return Err(parse_err(
                path,
                format!("array {name} has a structured dtype {other:?}; need float32 or float64"),
            ))
        }
    };
    let bad = |e: std::io::Error| parse_err(path, format!("array {name}: {e} (truncated file?)"));
    let (data, dtype) = match &ty[1..] {
        "f8" => (npy.into_vec::<f64>().map_err(bad)?, "float64"),
        "f4" => (
            npy.into_vec::<f32>()
                .map_err(bad)?
                .into_iter()
                .map(f64::from)
                .collect(),
            "float32",
        ),
        _ => {
            return Err(parse_err(
                path,
                format!("array {name} has dtype {ty}; need float32 or float64"),
            ))
        }
    };
    let data = if fortran && shape.len() == 2 {
        let (r, c) = (shape[0], shape[1]);
        (0..r * c).map(|k| data[(k % c) * r + k / c]).collect()
    } else if fortran && shape.len() > 2 {
        return Err(parse_err(
            path,
            format!("array {name}: Fortran-ordered arrays above 2-D are not supported"),
        ));
    } else {
        data
    };
    Ok(Array { shape, data, dtype })
}

fn read_npz(path: &Path, keys: &Keys) -> Result<RawModel> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(f))
        .map_err(|e| parse_err(path, format!("not a readable .npz archive: {e}")))?;
    let names: Vec<String> = zip
        .file_names()
        .map(|s| s.trim_end_matches(".npy").to_string())
        .collect();
    let get = |key: &str| -> Result<Option<Array>> {
        let entry = format!("{key}.npy");
        match zip.by_name(&entry) {
            Ok(file) => npy_array(path, key, file).map(Some),
            Err(zip::result::ZipError::FileNotFound) => Ok(None),
            Err(e) => Err(parse_err(path, format!("array {key}: {e}"))),
        }
    };
    pick(path, Format::Npz, keys, &names, get)
}

fn missing(path: &Path, key: &str, flag: &str, names: &[String]) -> Error {
    let mut names = names.to_vec();
    names.sort();
    parse_err(
        path,
        format!(
            "no array named {key:?} (arrays: {}); pick one with {flag}",
            names.join(", ")
        ),
    )
}

fn read_safetensors(path: &Path, keys: &Keys) -> Result<RawModel> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| parse_err(path, format!("not a readable safetensors file: {e}")))?;
    let names: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    let get = |key: &str| -> Result<Option<Array>> {
        let t = match st.tensor(key) {
            Ok(t) => t,
            Err(safetensors::SafeTensorError::TensorNotFound(_)) => return Ok(None),
            Err(e) => return Err(parse_err(path, format!("tensor {key}: {e}"))),
        };
        let raw = t.data();
        let (data, dtype): (Vec<f64>, _) = match t.dtype() {
            safetensors::Dtype::F64 => (
                raw.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
                "float64",
            ),
            safetensors::Dtype::F32 => (
                raw.chunks_exact(4)
                    .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
                    .collect(),
                "float32",
            ),
            other => {
                return Err(parse_err(
                    path,
                    format!("tensor {key} has dtype {other:?}; need F32 or F64"),
                ))
            }
        };
        Ok(Some(Array {
            shape: t.shape().to_vec(),
            data,
            dtype,
        }))
    };
    pick(path, Format::Safetensors, keys, &names, get)
}

/// W and b by name from an archive of named arrays (`get` returns `None` for a missing name).
fn pick(
    path: &Path,
    format: Format,
    keys: &Keys,
    names: &[String],
    mut get: impl FnMut(&str) -> Result<Option<Array>>,
) -> Result<RawModel> {
    let w = get(&keys.w)?.ok_or_else(|| missing(path, &keys.w, "--w-key", names))?;
    let b = get(&keys.b)?;
    if b.is_none() && keys.b_required {
        return Err(missing(path, &keys.b, "--b-key", names));
    }
    Ok(RawModel {
        format,
        w,
        b,
        rows_are_features: None,
    })
}
