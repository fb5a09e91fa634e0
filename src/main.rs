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
                    let text = e.render().to_string();
                    let first = text.lines().next().unwrap_or("bad arguments");
                    let first = first.strip_prefix("error: ").unwrap_or(first);
                    eprintln!("superpose: error: {first} (see --help)");
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
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            let line = e.to_string().replace('\n', " ");
            eprintln!("superpose: error: {line}");
            ExitCode::from(2)
        }
    }
}
