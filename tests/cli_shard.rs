//! Sharded sweeps: shards of a sweep over sparsities, merged, are byte-for-byte the models of
//! an unsharded run; bad shard values fail cleanly.

mod util;
use std::fs;
use std::path::Path;
use util::{fails_cleanly, json};

fn sweep(out: &Path, extra: &[&str]) {
    let o = out.to_str().unwrap();
    let mut a = vec![
        "sweep",
        "--dims",
        "2,3",
        "--features",
        "4,8",
        "--sparsity",
        "0.9,1",
        "--steps",
        "100",
        "--out",
        o,
    ];
    a.extend_from_slice(extra);
    json(&a);
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir.join("models"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn merged_shards_equal_an_unsharded_sweep() {
    let t = tempfile::tempdir().unwrap();
    let full = t.path().join("full");
    sweep(&full, &[]);
    assert_eq!(files(&full).len(), 8);
    // Three shards into their own folders, merged; and three into one shared folder.
    let shared = t.path().join("shared");
    let mut parts = Vec::new();
    for k in 0..3 {
        let d = t.path().join(format!("s{k}"));
        let shard = format!("{k}/3");
        sweep(&d, &["--shard", &shard]);
        sweep(&shared, &["--shard", &shard]);
        parts.push(d.to_str().unwrap().to_string());
    }
    let merged = t.path().join("merged");
    let mut a = vec!["merge"];
    a.extend(parts.iter().map(String::as_str));
    a.extend(["--out", merged.to_str().unwrap()]);
    let rows = json(&a);
    let copied: u64 = rows.iter().map(|r| r["copied"].as_u64().unwrap()).sum();
    assert_eq!(copied, 8);
    assert_eq!(files(&merged), files(&full));
    assert_eq!(files(&shared), files(&full));
    assert_eq!(
        fs::read(merged.join("sweep.json")).unwrap(),
        fs::read(full.join("sweep.json")).unwrap()
    );
    // Merging again is a no-op; merging a different sweep is refused.
    json(&a);
    let other = t.path().join("other");
    json(&[
        "sweep",
        "--dims",
        "2",
        "--features",
        "4",
        "--out",
        other.to_str().unwrap(),
    ]);
    fails_cleanly(&[
        "merge",
        other.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
}

#[test]
fn bad_shards_fail_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let o = t.path().join("x");
    let o = o.to_str().unwrap();
    for bad in ["3/3", "1/0", "a/b", "slurm"] {
        fails_cleanly(&[
            "sweep",
            "--dims",
            "2",
            "--features",
            "4",
            "--out",
            o,
            "--shard",
            bad,
        ]);
    }
    fails_cleanly(&[
        "sweep",
        "--dims",
        "2",
        "--features",
        "4",
        "--out",
        o,
        "--sparsity",
        "0.9,1.5",
    ]);
}
