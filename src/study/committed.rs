//! The studies that take longer than a default `reproduce` (large N, finite sparsity, the
//! scaling law, large n): their results are committed under `docs/<study>/` by the command
//! each records, embedded here with `include_str!`, and appended to the report as extra
//! sections ([`super::plan::Extra`]) with their figures redrawn from the committed numbers.

use std::path::Path;

use super::plan::Extra;
use super::report::Section;
use crate::error::{Error, Result};

/// `docs/large_n/summary.json` (issue 8's large-N sweep; command inside).
const LARGE_N: &str = include_str!("../../docs/large_n/summary.json");
/// `docs/sparsity/phase_sparsity.json` (finite-sparsity phase study; command inside).
const SPARSITY: &str = include_str!("../../docs/sparsity/phase_sparsity.json");
/// `docs/scaling/scaling.json` (the scaling-law study's reduced grid; command inside).
const SCALING: &str = include_str!("../../docs/scaling/scaling.json");

fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::parse(what, e.to_string()))
}

/// Draws `fig` into `out/figures/<name>` and returns the section with it.
fn section<F: crate::plot::Figure>(
    out: &Path,
    name: &str,
    fig: &F,
    markdown: String,
) -> Result<Section> {
    let rel = format!("figures/{name}");
    let dir = out.join("figures");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    crate::plot::save(fig, &out.join(&rel))?;
    Ok(Section {
        markdown,
        figures: vec![rel],
    })
}

fn large_n(out: &Path) -> Result<Section> {
    use crate::toy::large::study::{markdown_section, LargeNStudy};
    let s: LargeNStudy = parse("docs/large_n/summary.json", LARGE_N)?;
    section(
        out,
        "large_n.png",
        &crate::plot::LargeNFig { study: &s },
        markdown_section(&s),
    )
}

fn sparsity(out: &Path) -> Result<Section> {
    let s: crate::sparsity::PhaseSparsity = parse("docs/sparsity/phase_sparsity.json", SPARSITY)?;
    let fig = crate::plot::PhaseSparsityFig::from(&s);
    section(
        out,
        "phase_sparsity.png",
        &fig,
        crate::sparsity::markdown_section(&s),
    )
}

fn scaling(out: &Path) -> Result<Section> {
    let s: crate::scaling::Scaling = parse("docs/scaling/scaling.json", SCALING)?;
    let fig = crate::plot::ScalingFig::from(&s);
    section(
        out,
        "scaling.png",
        &fig,
        crate::scaling::markdown_section(&s),
    )
}

fn large_dim(out: &Path) -> Result<Section> {
    let r = crate::large_dim::committed()?;
    let fig = crate::plot::LargeDimFig::from_result(&r);
    section(
        out,
        "large_dim.png",
        &fig,
        crate::large_dim::markdown_section(&r),
    )
}

/// The committed studies, in report order.
pub fn extras() -> Vec<Extra> {
    vec![
        Extra {
            name: "large N",
            build: large_n,
        },
        Extra {
            name: "finite sparsity",
            build: sparsity,
        },
        Extra {
            name: "scaling law",
            build: scaling,
        },
        Extra {
            name: "large n",
            build: large_dim,
        },
    ]
}
