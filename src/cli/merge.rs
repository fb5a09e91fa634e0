//! `merge DIR… --out DIR`: one sweep folder from the folders of its shards.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::output::{emit, Format};
use superpose::error::Result;
use superpose::toy::shard;

/// `superpose merge DIR… --out DIR`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Sweep folders of the shards (each with its `sweep.json` and `models/`).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// The merged sweep folder (created, or completed if it holds the same sweep).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `merge`: one row per input folder; a note on stderr if models of the grid are missing.
pub fn merge(a: &MergeArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    let m = shard::merge(&a.dirs, &a.out)?;
    if !m.missing.is_empty() {
        eprintln!(
            "superpose: note: {} model(s) of the sweep are in none of the folders (e.g. {}); \
             run the missing shards, or `sweep` into {} to train them",
            m.missing.len(),
            m.missing[0],
            a.out.display()
        );
    }
    emit(&m.rows, f, out)
}
