//! Where errors and progress go: standard error, as plain lines or one JSON object per line
//! (`--json`), drawn around the progress bars so neither garbles the other.

use std::io::{self, IsTerminal, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::failure::Failure;
use crate::text::{clean, hide, json_line};

/// The name errors are prefixed with.
pub const NAME: &str = "openrouter-files";

/// Standard error for one run: errors, and progress bars when it is a terminal.
pub struct Report {
    json: bool,
    secret: Option<String>,
    bars: MultiProgress,
    style: ProgressStyle,
}

impl Report {
    /// `quiet` turns the progress bars off; so does a standard error that is not a terminal.
    /// `secret`, the API key, is replaced in every error printed.
    pub fn new(json: bool, quiet: bool, secret: Option<String>) -> Report {
        let target = if quiet || !io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {percent:>3}% {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#>-");
        Report {
            json,
            secret,
            bars: MultiProgress::with_draw_target(target),
            style,
        }
    }

    /// Whether output is JSON lines (`--json`).
    pub fn json(&self) -> bool {
        self.json
    }

    /// Prints `failure` on standard error: `openrouter-files: ITEM: MESSAGE`, or one JSON
    /// object with `--json`.
    pub fn error(&self, failure: &Failure) {
        let line = if self.json {
            let mut value = serde_json::to_value(failure).unwrap_or_default();
            value["exit_code"] = failure.code().into();
            json_line(&value)
        } else {
            match &failure.item {
                Some(item) => format!("{NAME}: {item}: {}", failure.message),
                None => format!("{NAME}: {}", failure.message),
            }
        };
        let line = hide(&line, self.secret.as_deref());
        // Not `eprintln!`, which panics when standard error is closed: the exit status says
        // what happened even when nobody can read why.
        self.bars
            .suspend(|| drop(writeln!(io::stderr().lock(), "{line}")));
    }

    /// Prints a note about `item` on standard error (`openrouter-files: ITEM: MESSAGE`, or
    /// `{"notice":…,"item":…}` with `--json`), such as a file left out; not an error.
    pub fn notice(&self, item: &str, message: &str) {
        let line = if self.json {
            json_line(&serde_json::json!({"notice": clean(message), "item": clean(item)}))
        } else {
            format!("{NAME}: {}: {}", clean(item), clean(message))
        };
        let line = hide(&line, self.secret.as_deref());
        self.bars
            .suspend(|| drop(writeln!(io::stderr().lock(), "{line}")));
    }

    /// A progress bar for one transfer, labelled `label` (hidden when bars are off).
    pub fn bar(&self, label: &str, total: Option<u64>) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden())
            .with_style(self.style.clone())
            .with_prefix(label.to_string());
        self.bars.add(bar)
    }

    /// Runs `f` with the bars cleared, for printing on standard output in between.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bars.suspend(f)
    }
}

/// A progress callback for the library that moves `bar`.
pub fn follow(bar: &ProgressBar) -> impl FnMut(u64, Option<u64>) + Send + 'static {
    let bar = bar.clone();
    move |done, total| {
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(done);
    }
}
