//! The finite-sparsity phase diagram (issue 11): one resumable sweep over
//! `n × N × S` including the exact sparse limit, then the study JSON, its report section and
//! the `phase_sparsity` figure.
//!
//! ```text
//! nice -n 10 cargo run --release --example phase_sparsity -- [WORK_DIR] [OUT_DIR] [--full]
//! ```
//!
//! Defaults: `WORK_DIR = runs/phase_sparsity`, `OUT_DIR = docs/sparsity`; the default grid is
//! n ∈ {3, 4, 8}, N ∈ {16, 64, 256}, S ∈ {0.9, 0.97, 0.99, 0.997, 0.999, 0.9999, 1} with 2000
//! Adam steps (minutes on 2 cores); `--full` extends N to 1024 and uses the sampled trainer's
//! default 4000 steps (a cluster job: the same sweep with `superpose sweep --shard slurm`).
//! Writes `OUT_DIR/phase_sparsity.json`, `OUT_DIR/phase_sparsity.md` and
//! `OUT_DIR/phase_sparsity.svg`.

use std::path::PathBuf;

use superpose::toy::shard::Shard;
use superpose::toy::sweep::{self, SweepObserver, SweepRecord};
use superpose::toy::{Observer, TrainConfig};

struct Progress;
impl Observer for Progress {}
impl SweepObserver for Progress {
    fn begin(&self, total: usize, finished: usize) {
        eprintln!("phase_sparsity: {total} models, {finished} already finished");
    }
    fn model_done(&self, r: &SweepRecord, resumed: bool) {
        let p = &r.report;
        eprintln!(
            "phase_sparsity: {} n={} N={} S={:?} g/N={:.4} ({:.1} s)",
            if resumed { "kept" } else { "done" },
            p.n,
            p.features,
            p.sparsity,
            p.gain / p.features as f64,
            p.seconds
        );
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("phase_sparsity: error: {e}");
        std::process::exit(2);
    }
}

fn run() -> superpose::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--full");
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let work = PathBuf::from(pos.first().map_or("runs/phase_sparsity", |s| s.as_str()));
    let out = PathBuf::from(pos.get(1).map_or("docs/sparsity", |s| s.as_str()));
    let dims = [3, 4, 8];
    let features: Vec<usize> = if full {
        vec![16, 64, 256, 1024]
    } else {
        vec![16, 64, 256]
    };
    let sparsities = [0.9, 0.97, 0.99, 0.997, 0.999, 0.9999, 1.0];
    let mut t = TrainConfig::new(1, 1);
    t.sparsity = Some(0.9);
    t.adam_steps = if full { 4000 } else { 2000 };
    t.adam_lr = 0.01;
    let recs = sweep::run_grid(
        &dims,
        &features,
        &sparsities,
        &work,
        &t,
        Shard::ALL,
        &Progress,
    )?;
    let command = format!(
        "cargo run --release --example phase_sparsity -- {} {}{}",
        work.display(),
        out.display(),
        if full { " --full" } else { "" }
    );
    let study = superpose::sparsity::from_records(&recs, &command)?;
    std::fs::create_dir_all(&out).map_err(|e| superpose::Error::io(&out, e))?;
    let json = serde_json::to_vec_pretty(&study)
        .map_err(|e| superpose::Error::Numerical(e.to_string()))?;
    sweep::write_atomic(&out.join("phase_sparsity.json"), &json)?;
    let md = superpose::sparsity::markdown_section(&study);
    sweep::write_atomic(&out.join("phase_sparsity.md"), md.as_bytes())?;
    superpose::plot::save(
        &superpose::plot::PhaseSparsityFig::from(&study),
        &out.join("phase_sparsity.svg"),
    )?;
    print!("{md}");
    Ok(())
}
