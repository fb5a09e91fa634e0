//! The small harness the integration tests share: run the built `superpose` binary and read
//! its JSON rows. Each test binary uses only some of these.
#![allow(dead_code)]

use serde_json::Value;
use std::process::{Command, Output};

/// The `superpose` binary with `args`, not started (for tests that spawn, pipe or time it).
pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_superpose"));
    c.args(args);
    c
}

/// Runs `superpose ARGS` and returns its output.
pub fn run(args: &[&str]) -> Output {
    command(args).output().expect("the binary runs")
}

/// Runs `superpose --format json ARGS`, asserts success, and returns the (non-empty) rows.
pub fn json(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = run(&all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let rows = v.as_array().expect("an array of rows").clone();
    assert!(!rows.is_empty(), "{args:?}: no rows");
    rows
}

/// The number under `key` in a JSON row.
pub fn num(row: &Value, key: &str) -> f64 {
    row[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is missing or not a number in {row}"))
}

/// Asserts that a JSON row has every key in `keys`.
pub fn has_keys(row: &Value, keys: &[&str]) {
    for k in keys {
        assert!(row.get(*k).is_some(), "missing key {k} in {row}");
    }
}

/// Bad input: exit status 2 and one line on stderr starting with `superpose: error:`, no panic.
pub fn fails_cleanly(args: &[&str]) {
    let out = run(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert!(err.starts_with("superpose: error:"), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}
