//! The README's example outputs are real: every `$ superpose …` line in a README code block is
//! run (through `sh`, with the built binary first on `PATH`, in a scratch folder holding a copy
//! of `examples/models/`, in README
//! order) and its output must match the lines shown below it — strings exactly, numbers to a
//! relative 1e-6 (training is deterministic for a seed, but the last digits of a float may
//! depend on the machine's summation order).
//!
//! After a deliberate change of output, `UPDATE_README=1 cargo test --release --test readme`
//! rewrites the example outputs in README.md from the real commands (then review the diff).

use std::path::Path;
use std::process::Command;

struct Example {
    command: String,
    expected: Vec<String>,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut current: Option<Example> = None;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            if let Some(ex) = current.take() {
                out.push(ex);
            }
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ superpose ") {
            if let Some(ex) = current.take() {
                out.push(ex);
            }
            current = Some(Example {
                command: format!("superpose {cmd}"),
                expected: Vec::new(),
            });
        } else if let Some(ex) = current.as_mut() {
            ex.expected.push(line.to_string());
        }
    }
    out
}

fn same_field(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1e-12),
        _ => false,
    }
}

fn same_line(a: &str, b: &str) -> bool {
    let fa: Vec<&str> = a.split(',').collect();
    let fb: Vec<&str> = b.split(',').collect();
    fa.len() == fb.len() && fa.iter().zip(&fb).all(|(x, y)| same_field(x, y))
}

#[test]
fn readme_examples_print_what_the_readme_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let exs = examples(&readme);
    assert!(exs.len() >= 10, "found only {} examples", exs.len());
    let bin = Path::new(env!("CARGO_BIN_EXE_superpose"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let scratch = tempfile::tempdir().unwrap();
    // The committed example models, at the paths the README uses (relative to the repository).
    let models = root.join("examples/models");
    if models.is_dir() {
        let dst = scratch.path().join("examples/models");
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(&models).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    let update = std::env::var_os("UPDATE_README").is_some();
    let mut updated = readme.clone();
    for ex in exs {
        let out = Command::new("sh")
            .arg("-c")
            .arg(&ex.command)
            .env("PATH", &path)
            .current_dir(scratch.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{} failed", ex.command);
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        if update {
            let old = format!("$ {}\n{}\n", ex.command, ex.expected.join("\n"));
            let new = format!("$ {}\n{}\n", ex.command, got.join("\n"));
            updated = updated.replacen(&old, &new, 1);
            continue;
        }
        assert_eq!(
            got.len(),
            ex.expected.len(),
            "{}: got\n{}",
            ex.command,
            got.join("\n")
        );
        for (g, e) in got.iter().zip(&ex.expected) {
            assert!(
                same_line(g, e),
                "{}:\n  got      {g}\n  expected {e}",
                ex.command
            );
        }
    }
    if update {
        std::fs::write(root.join("README.md"), updated).unwrap();
    }
}
