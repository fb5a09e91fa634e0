//! The `superpose` binary: parse flags, call the library, print rows. Exit status 0 on success,
//! 2 on any error (one line on stderr); a closed stdout (broken pipe) exits quietly.

mod cli;

use clap::Parser;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use superpose::error::Error;

fn main() -> ExitCode {
    let parsed = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind::*;
            return match e.kind() {
                DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    if e.kind() == DisplayHelpOnMissingArgumentOrSubcommand {
                        ExitCode::from(2)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                _ => {
                    let line = one_line(&e.render().to_string());
                    eprintln!("superpose: error: {line} (see --help)");
                    ExitCode::from(2)
                }
            };
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result =
        cli::run(parsed, &mut out).and_then(|()| out.flush().map_err(|e| Error::io("<stdout>", e)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head -1`): nothing more to say, in any format.
        Err(Error::Io { source, .. }) if is_broken_pipe(&source) => ExitCode::SUCCESS,
        Err(e) => {
            let line = e.to_string().replace('\n', " ");
            eprintln!("superpose: error: {line}");
            ExitCode::from(2)
        }
    }
}

/// Whether `e` is, or wraps, a broken pipe (serde_json and csv wrap the writer's error).
fn is_broken_pipe(e: &std::io::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
            if let Some(inner) = io.get_ref() {
                cur = Some(inner);
                continue;
            }
        }
        cur = err.source();
    }
    false
}

/// Longest word (run of non-blank characters) echoed in an error line.
const MAX_WORD: usize = 60;

/// A clap error as one line: its first paragraph (the message and, for missing arguments, the
/// indented list of them) joined, without the `error: ` prefix and the usage; words longer than
/// [`MAX_WORD`] characters (a pasted value) shortened.
fn one_line(text: &str) -> String {
    let para: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
        .map(str::trim)
        .collect();
    let (first, rest) = para.split_first().map_or(("", &[][..]), |(f, r)| (*f, r));
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // A list after a colon (the missing arguments), comma-separated.
    let joined = if rest.is_empty() {
        first.to_string()
    } else {
        format!("{first} {}", rest.join(", "))
    };
    let words: Vec<String> = joined
        .split(' ')
        .map(|w| {
            let count = w.chars().count();
            if count > MAX_WORD {
                let head: String = w.chars().take(MAX_WORD - 20).collect();
                format!("{head}…({count} characters)")
            } else {
                w.to_string()
            }
        })
        .collect();
    let line = words.join(" ");
    if line.is_empty() {
        "bad arguments".into()
    } else {
        line
    }
}
