//! `openrouter-files`: a command-line tool for the OpenRouter Files API, and a local emulator
//! of the API. See `openrouter-files --help`, and the README for the exit codes and formats.

mod args;
mod commands;
mod completions;
mod failure;
mod ids;
mod interrupt;
mod job_args;
mod network;
mod output;
mod report;
mod summary;
mod text;
mod verbose;

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;

use crate::args::Cli;
use crate::failure::{Exit, Failure};
use crate::report::Report;
use crate::text::{clean, is_unsafe};

fn main() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    let quiet = cli.global.bars.quiet || cli.global.api.verbose;
    let report = Report::new(cli.global.api.json, quiet, commands::api_key());
    match commands::run(cli, &report) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            interrupt::yield_to_signal();
            if !failure.reported {
                report.error(&failure);
            }
            failure.exit.into()
        }
    }
}

/// Help and `--version` go to standard output with status 0; usage errors to standard error
/// with status 2, as one JSON object when `--json` was given.
fn usage_error(error: clap::Error) -> ExitCode {
    let json = std::env::args_os()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json");
    let is_usage = !matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    );
    if json && is_usage {
        let message = error.render().to_string();
        let first = message.lines().next().unwrap_or_default();
        let first = first.strip_prefix("error: ").unwrap_or(first);
        Report::new(true, true, commands::api_key()).error(&Failure::usage(first));
        return Exit::Usage.into();
    }
    // clap quotes the arguments it refuses; one holding an escape sequence or a bidi control
    // is printed cleaned (and without clap's colours) so the terminal does not obey it.
    // (On a terminal clap writes the arguments raw; the rendering below is plain text.)
    let plain = error.render().to_string();
    let unsafe_args = std::env::args_os().any(|arg| arg.to_string_lossy().contains(is_unsafe));
    if is_usage && (unsafe_args || plain.lines().any(|line| clean(line) != line)) {
        let mut stderr = std::io::stderr().lock();
        for line in plain.lines() {
            let _ = writeln!(stderr, "{}", clean(line));
        }
        return Exit::Usage.into();
    }
    error.exit()
}
