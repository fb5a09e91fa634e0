//! `large-dim`: the large-n study (trained models against the neighbour models and the random
//! code), from a sweep folder or from a committed result.

use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

use super::output::{emit, Format};
use superpose::error::{Error, Result};
use superpose::large_dim::{self, LargeDim, Row, Settings};

/// `superpose large-dim (--dir SWEEP [--out FILE] | --from FILE) [--figure PATH] [--markdown]`.
#[derive(Debug, Args)]
pub struct LargeDimArgs {
    /// Read the trained models of these sweep folders (L2, exact loss; one or more, e.g.
    /// `--dir A B`; an `(n, N)` found in two folders is an error).
    #[arg(long, conflicts_with = "from", num_args = 1..)]
    pub dir: Vec<PathBuf>,
    /// Read a result written by `--out` instead (e.g. `docs/large_dim/result.json`).
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Also keep the rows of this earlier result whose `(n, N)` no `--dir` folder holds: their
    /// trained side and random code as recorded, the neighbour models recomputed.
    #[arg(long, requires = "dir")]
    pub keep: Option<PathBuf>,
    /// Write the result as JSON (atomically).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The command that trained the sweep, recorded in the result.
    #[arg(long, default_value = "")]
    pub sweep_command: String,
    /// Skip the random-code baseline.
    #[arg(long)]
    pub no_random: bool,
    /// L-BFGS iterations of the random-code baseline.
    #[arg(long, default_value_t = 400)]
    pub random_iters: u64,
    /// Draw the figure (trained against predicted θ_min, intercept, gain per feature vs n).
    #[arg(long)]
    pub figure: Option<PathBuf>,
    /// Print the markdown section instead of rows.
    #[arg(long)]
    pub markdown: bool,
}

/// One printed row.
#[derive(Debug, Serialize)]
struct Out {
    n: usize,
    features: usize,
    theta_trained: Option<f64>,
    theta_law: f64,
    intercept_trained: Option<f64>,
    intercept_kissing: f64,
    intercept_shell: f64,
    ratio_intercept_kissing: Option<f64>,
    ratio_intercept_shell: Option<f64>,
    gain_trained: f64,
    gain_kissing: f64,
    gain_shell: f64,
    gain_random: Option<f64>,
    ratio_gain_kissing: Option<f64>,
    ratio_gain_shell: Option<f64>,
    theta_frame: f64,
    theta_frame_source: Option<String>,
    intercept_frame: f64,
    gain_frame: f64,
    ratio_intercept_frame: Option<f64>,
    ratio_gain_frame: Option<f64>,
    theta_collapse: Option<f64>,
    theta_collapse_source: Option<String>,
    intercept_collapse: Option<f64>,
    gain_collapse: Option<f64>,
    ratio_intercept_collapse: Option<f64>,
    ratio_gain_collapse: Option<f64>,
    ratio_gain_random: Option<f64>,
    intercept_shell_trained_theta: Option<f64>,
    gain_shell_trained_theta: Option<f64>,
    ratio_intercept_shell_trained_theta: Option<f64>,
    ratio_gain_shell_trained_theta: Option<f64>,
    theta_welch: f64,
    intercept_shell_welch: f64,
    gain_shell_welch: f64,
}

fn out_row(r: &Row) -> Out {
    Out {
        n: r.n,
        features: r.features,
        theta_trained: r.trained.theta_min,
        theta_law: r.shell.theta,
        intercept_trained: r.trained.intercept,
        intercept_kissing: r.kissing.intercept,
        intercept_shell: r.shell.intercept,
        ratio_intercept_kissing: r.ratio_intercept_kissing,
        ratio_intercept_shell: r.ratio_intercept_shell,
        gain_trained: r.trained.gain,
        gain_kissing: r.kissing.gain,
        gain_shell: r.shell.gain,
        gain_random: r.random.as_ref().map(|x| x.gain),
        ratio_gain_kissing: r.ratio_gain_kissing,
        ratio_gain_shell: r.ratio_gain_shell,
        theta_frame: r.frame.theta,
        theta_frame_source: r.frame.theta_source.clone(),
        intercept_frame: r.frame.intercept,
        gain_frame: r.frame.gain,
        ratio_intercept_frame: r.ratio_intercept_frame,
        ratio_gain_frame: r.ratio_gain_frame,
        theta_collapse: r.collapse.as_ref().map(|x| x.theta),
        theta_collapse_source: r.collapse.as_ref().and_then(|x| x.theta_source.clone()),
        intercept_collapse: r.collapse.as_ref().map(|x| x.intercept),
        gain_collapse: r.collapse.as_ref().map(|x| x.gain),
        ratio_intercept_collapse: r.ratio_intercept_collapse,
        ratio_gain_collapse: r.ratio_gain_collapse,
        ratio_gain_random: r.ratio_gain_random,
        intercept_shell_trained_theta: r.shell_at_trained_theta.as_ref().map(|x| x.intercept),
        gain_shell_trained_theta: r.shell_at_trained_theta.as_ref().map(|x| x.gain),
        ratio_intercept_shell_trained_theta: r.ratio_intercept_shell_trained_theta,
        ratio_gain_shell_trained_theta: r.ratio_gain_shell_trained_theta,
        theta_welch: r.shell_at_welch.theta,
        intercept_shell_welch: r.shell_at_welch.intercept,
        gain_shell_welch: r.shell_at_welch.gain,
    }
}

/// Runs `large-dim`.
pub fn large_dim(a: &LargeDimArgs, f: Format, out: &mut dyn Write) -> Result<()> {
    if a.out.is_some() && a.dir.is_empty() {
        return Err(Error::invalid(
            "--out",
            "needs --dir SWEEP (the result to write)",
        ));
    }
    let result = match (a.dir.as_slice(), &a.from) {
        (dirs @ [_, ..], None) => {
            let mut records = Vec::new();
            for dir in dirs {
                let r = superpose::toy::sweep::load(dir)?;
                if r.is_empty() {
                    return Err(Error::invalid(
                        "--dir",
                        format!("{} holds no finished model", dir.display()),
                    ));
                }
                records.extend(r);
            }
            records.sort_by_key(|r| (r.report.n, r.report.features));
            if let Some(w) = records.windows(2).find(|w| {
                (w[0].report.n, w[0].report.features) == (w[1].report.n, w[1].report.features)
            }) {
                return Err(Error::invalid(
                    "--dir",
                    format!(
                        "n = {}, N = {} is in more than one folder",
                        w[0].report.n, w[0].report.features
                    ),
                ));
            }
            let s = Settings {
                random: !a.no_random,
                random_iters: a.random_iters,
                ..Settings::default()
            };
            let mut rows = large_dim::rows(&records, &s)?;
            if let Some(k) = &a.keep {
                for old in large_dim::read_trained(k)? {
                    if !rows
                        .iter()
                        .any(|r| (r.n, r.features) == (old.n, old.features))
                    {
                        rows.push(large_dim::rederive(&old)?);
                    }
                }
            }
            let rows = large_dim::finish(rows)?;
            let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            let mut command = format!("superpose large-dim --dir {}", names.join(" "));
            if let Some(o) = &a.out {
                command.push_str(&format!(" --out {}", o.display()));
            }
            if let Some(k) = &a.keep {
                command.push_str(&format!(" --keep {}", k.display()));
            }
            if a.no_random {
                command.push_str(" --no-random");
            }
            if a.random_iters != Settings::default().random_iters {
                command.push_str(&format!(" --random-iters {}", a.random_iters));
            }
            let r = LargeDim {
                sweep_command: a.sweep_command.clone(),
                command,
                rows,
            };
            if let Some(o) = &a.out {
                large_dim::write(&r, o)?;
            }
            r
        }
        ([], Some(from)) => large_dim::read(from)?,
        _ => {
            return Err(Error::invalid(
                "large-dim",
                "give --dir SWEEP (compute) or --from FILE (read a result)",
            ))
        }
    };
    if let Some(p) = &a.figure {
        superpose::plot::save(&superpose::plot::LargeDimFig::from_result(&result), p)?;
    }
    if a.markdown {
        write!(out, "{}", large_dim::markdown_section(&result))
            .map_err(|e| Error::io(std::path::Path::new("<stdout>"), e))?;
        return Ok(());
    }
    let rows: Vec<Out> = result.rows.iter().map(out_row).collect();
    emit(&rows, f, out)
}
