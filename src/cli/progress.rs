//! Progress of `train` and `sweep` on stderr: the library's [`Observer`] events shown as a bar
//! on a terminal, or as plain lines elsewhere (a notebook cell, CI, a batch job's log).
//!
//! Plain lines: one per finished model of a sweep, with the time elapsed and an estimate of
//! the time left weighted by each model's cost ([`superpose::toy::shard::estimated_cost`]): the time spent so far
//! per unit of cost, times the cost still to train. `train` prints a line per chain size once
//! the run has taken more than [`QUIET_SECONDS`], and a line about the start being screened or
//! the chunk being polished at most every [`LINE_EVERY`] seconds; `sweep` prints such a line
//! at most every [`SWEEP_LINE_EVERY`] seconds, so that a model that trains for many minutes
//! (large n or N) still shows it is working. Files that a resumed sweep trains again and
//! stale temporary files it removes are reported in both modes.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use superpose::toy::{Event, Observer};

/// `train` is quiet for runs shorter than this (seconds).
pub const QUIET_SECONDS: f64 = 2.0;

#[derive(Default)]
struct State {
    total: usize,
    total_cost: f64,
    /// Cost of the models finished (read back or trained).
    done_cost: f64,
    /// Cost trained by this run.
    run_cost: f64,
    done: usize,
    trained: usize,
    reused: usize,
    /// Elapsed seconds of the last plain line about a start.
    last_start_line: f64,
}

/// The CLI's observer (module docs).
pub struct Progress {
    what: &'static str,
    bar: Option<ProgressBar>,
    t0: Instant,
    state: Mutex<State>,
}

/// `h:mm:ss`.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The cost-weighted estimate of the time left: seconds per unit of cost so far, times the
/// cost left (`None` before anything was trained).
pub fn time_left(elapsed: f64, run_cost: f64, left_cost: f64) -> Option<f64> {
    (run_cost > 0.0).then(|| elapsed * left_cost.max(0.0) / run_cost)
}

impl Progress {
    /// A bar when stderr is a terminal, plain lines otherwise; `what` names the command.
    pub fn new(what: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let style = if what == "sweep" {
                "{elapsed_precise} [{bar:30}] {pos}/{len} models, {msg}"
            } else {
                "{elapsed_precise} {spinner} {msg}"
            };
            if let Ok(s) = ProgressStyle::with_template(style) {
                bar.set_style(s.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress {
            what,
            bar,
            t0: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    /// One start's progress `what` (`n=…: N=…: …`): on a terminal the bar's message; elsewhere
    /// a line (`what`, then `tail`): for `train` at most every [`LINE_EVERY`] seconds once the
    /// run is past [`QUIET_SECONDS`], for `sweep` at most every [`SWEEP_LINE_EVERY`] seconds
    /// (a model at large n or N trains for many minutes between two per-model lines).
    fn start_progress(&self, s: &mut State, elapsed: f64, what: &str, tail: &str) {
        match &self.bar {
            Some(b) => b.set_message(what.to_string()),
            None if start_line_due(self.what, elapsed, s.last_start_line) => {
                s.last_start_line = elapsed;
                self.line(&format!(
                    "{}: {what}{tail}; elapsed {}",
                    self.what,
                    clock(elapsed)
                ))
            }
            None => {}
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(b) => b.println(format!("superpose: {text}")),
            None => eprintln!("superpose: {text}"),
        }
    }

    /// Clears the bar and prints the closing line of a sweep.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        if self.what == "sweep" {
            let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            self.line(&format!(
                "sweep: {} models ({} trained, {} reused) in {}",
                s.done,
                s.trained,
                s.reused,
                clock(self.t0.elapsed().as_secs_f64())
            ));
        }
    }

    /// Clears the bar without a closing line (on error).
    pub fn abandon(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn event(&self, e: &Event) {
        let elapsed = self.t0.elapsed().as_secs_f64();
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            Event::SweepBegin {
                total,
                finished,
                total_cost,
                finished_cost,
            } => {
                s.total = *total;
                s.total_cost = *total_cost;
                if let Some(b) = &self.bar {
                    b.set_length(*total as u64);
                }
                if *finished > 0 {
                    self.line(&format!(
                        "sweep: {finished} of {total} models already finished ({:.0}% of the \
                         cost), {} to train",
                        100.0 * finished_cost / total_cost.max(f64::MIN_POSITIVE),
                        total - finished
                    ));
                }
            }
            Event::ModelDone {
                n,
                features,
                gain,
                seconds,
                resumed,
                cost,
            } => {
                s.done += 1;
                s.done_cost += cost;
                if *resumed {
                    s.reused += 1;
                } else {
                    s.trained += 1;
                    s.run_cost += cost;
                }
                let left = time_left(elapsed, s.run_cost, s.total_cost - s.done_cost)
                    .map(|t| format!(", about {} left", clock(t)))
                    .unwrap_or_default();
                match &self.bar {
                    Some(b) => {
                        b.inc(1);
                        let how = if *resumed { "kept" } else { "done" };
                        b.set_message(format!("{how} n={n} N={features} gain={gain:.4}{left}"));
                    }
                    None if !*resumed => self.line(&format!(
                        "sweep: {}/{} models: n={n} N={features} in {seconds:.1} s \
                         (gain {gain:.4}); elapsed {}{left}",
                        s.done,
                        s.total,
                        clock(elapsed)
                    )),
                    None => {}
                }
            }
            Event::Size {
                n,
                features,
                loss,
                seconds,
            } => match &self.bar {
                Some(b) => b.set_message(format!("n={n}: chain size N={features} done")),
                None if self.what == "train" && elapsed > QUIET_SECONDS => self.line(&format!(
                    "train: n={n}: chain size N={features} in {seconds:.1} s (loss {loss:.6}); \
                     elapsed {}",
                    clock(elapsed)
                )),
                None => {}
            },
            // A start screened, or a chunk of a long polish (`lbfgs done/max`): on a
            // terminal the bar's message; elsewhere, for `train`, a line at most every
            // LINE_EVERY seconds once the run is past QUIET_SECONDS (a large-N polish runs
            // for minutes between chain sizes).
            Event::Start {
                n,
                features,
                start,
                loss,
            } => self.start_progress(
                &mut s,
                elapsed,
                &format!("n={n}: N={features}: {start}"),
                &format!(" (loss {loss:.6})"),
            ),
            // A start under construction (minutes at N = 2^20): like a start's line.
            Event::Building {
                n,
                features,
                what,
                step,
                steps,
            } => self.start_progress(
                &mut s,
                elapsed,
                &format!("n={n}: N={features}: {what} {step}/{steps}"),
                "",
            ),
            Event::Discarded { path, why } => self.line(&format!(
                "{}: not reused, {why}; training it again",
                path.display()
            )),
            Event::Cleaned { paths } => self.line(&format!(
                "removed {} stale temporary file(s) of a killed run, e.g. {}",
                paths.len(),
                paths
                    .first()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )),
        }
    }
}

/// Whether command `what` (`train` or `sweep`) prints a plain line about a start at `elapsed`
/// seconds, its last such line at `last` (module docs).
fn start_line_due(what: &str, elapsed: f64, last: f64) -> bool {
    let (quiet, every) = if what == "train" {
        (QUIET_SECONDS, LINE_EVERY)
    } else {
        (SWEEP_LINE_EVERY, SWEEP_LINE_EVERY)
    };
    elapsed > quiet && elapsed - last >= every
}

/// Seconds between two plain progress lines of [`Steps`] and of `train`'s starts.
pub const LINE_EVERY: f64 = 5.0;
/// Seconds between two plain lines about a sweep's model in training (module docs).
pub const SWEEP_LINE_EVERY: f64 = 30.0;

/// Progress of a theory command's loop (`packing`, `phase`, `claims`): a bar on a terminal;
/// elsewhere, once the command has run [`QUIET_SECONDS`], a plain line at most every
/// [`LINE_EVERY`] seconds with the count done, the time elapsed and an estimate of the time
/// left (steps are taken as equally costly). Usable from rayon workers.
pub struct Steps {
    what: &'static str,
    unit: &'static str,
    total: usize,
    bar: Option<ProgressBar>,
    t0: Instant,
    /// Steps done, and the elapsed seconds of the last plain line.
    state: Mutex<(usize, f64)>,
}

impl Steps {
    /// `total` steps of `unit` (e.g. "dimensions") for command `what`.
    pub fn new(what: &'static str, total: usize, unit: &'static str) -> Self {
        let bar = (std::io::stderr().is_terminal() && total > 1).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let style =
                format!("{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{eta}} left");
            if let Ok(s) = ProgressStyle::with_template(&style) {
                bar.set_style(s.progress_chars("=> "));
            }
            bar
        });
        Steps {
            what,
            unit,
            total,
            bar,
            t0: Instant::now(),
            state: Mutex::new((0, 0.0)),
        }
    }

    /// One step done.
    pub fn step(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
            return;
        }
        let elapsed = self.t0.elapsed().as_secs_f64();
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 += 1;
        if elapsed > QUIET_SECONDS && elapsed - s.1 >= LINE_EVERY && s.0 < self.total {
            s.1 = elapsed;
            let left = time_left(elapsed, s.0 as f64, (self.total - s.0) as f64)
                .map(|t| format!(", about {} left", clock(t)))
                .unwrap_or_default();
            eprintln!(
                "superpose: {}: {}/{} {}; elapsed {}{left}",
                self.what,
                s.0,
                self.total,
                self.unit,
                clock(elapsed)
            );
        }
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_estimate() {
        assert_eq!(clock(3725.4), "1:02:05");
        assert_eq!(clock(0.2), "0:00:00");
        // 10 s for cost 100 so far, 300 left: 30 s.
        assert_eq!(time_left(10.0, 100.0, 300.0), Some(30.0));
        assert_eq!(time_left(10.0, 0.0, 300.0), None);
    }

    /// Regression (session 5): off a terminal a sweep printed nothing while one model trained,
    /// for 8 minutes at n = 16, N = 2048. Now a line every 30 s; `train` keeps its 5 s.
    #[test]
    fn sweep_reports_a_long_model_in_training() {
        assert!(!start_line_due("sweep", 29.0, 0.0));
        assert!(start_line_due("sweep", 31.0, 0.0));
        assert!(!start_line_due("sweep", 50.0, 31.0));
        assert!(start_line_due("sweep", 61.5, 31.0));
        assert!(!start_line_due("train", 4.5, 0.0));
        assert!(start_line_due("train", 5.5, 0.0));
        assert!(!start_line_due("train", 9.0, 5.5));
        assert!(start_line_due("train", 10.6, 5.5));
    }
}
