//! How a command fails: the exit-code table, the classification of the library's errors, and
//! the tally that turns the outcomes of a multi-item command into one exit status.

use std::fmt;
use std::process::ExitCode;

use openrouter_files::Error;
use serde::Serialize;

use crate::text::clean;

/// The documented exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: anything not listed below (the server failed, the network failed, a bad response).
    Other = 1,
    /// 2: a usage error or a local problem found before sending (a bad id or limit, a missing
    /// file, `-o` into a directory that does not exist, the key not set).
    Usage = 2,
    /// 3: the server refused the key (401) or the key may not do this (403).
    Auth = 3,
    /// 4: no such file (404).
    NotFound = 4,
    /// 5: a command given several items finished, and some of them failed.
    Partial = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// A failed command or item: its exit status, a short machine-readable kind, and a message.
/// The message is cleaned of control characters when it is built.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    #[serde(skip)]
    pub exit: Exit,
    /// `usage`, `auth`, `not_found`, `api`, `invalid_input`, `local`, `transport`,
    /// `cancelled`, `bad_response`, `output` or `partial`.
    #[serde(rename = "error")]
    pub kind: &'static str,
    pub message: String,
    /// The file id or path the failure is about, for a command with several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For `partial`: the items that failed (the first [`Tally::LISTED`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
    /// Already printed when it happened (an item's failure that is also the command's).
    #[serde(skip)]
    pub reported: bool,
}

impl Failure {
    pub fn new(exit: Exit, kind: &'static str, message: impl fmt::Display) -> Failure {
        Failure {
            exit,
            kind,
            message: clean(&message.to_string()).into_owned(),
            item: None,
            status: None,
            request_id: None,
            failed: Vec::new(),
            reported: false,
        }
    }

    /// A usage error or a problem with local input, found before anything was sent.
    pub fn usage(message: impl fmt::Display) -> Failure {
        Failure::new(Exit::Usage, "usage", message)
    }

    /// Standard output could not be written (other than its reader going away).
    pub fn output(error: std::io::Error) -> Failure {
        Failure::new(
            Exit::Other,
            "output",
            format!("cannot write to standard output: {error}"),
        )
    }

    /// The same failure, about `item`.
    pub fn about(mut self, item: &str) -> Failure {
        self.item = Some(clean(item).into_owned());
        self
    }

    /// The exit code in JSON error objects.
    pub fn code(&self) -> u8 {
        self.exit as u8
    }

    /// Whether the next items would fail the same way (a refused key, an output that cannot
    /// be written), so a multi-item command should stop.
    pub fn is_fatal(&self) -> bool {
        self.exit == Exit::Auth || self.kind == "output"
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        let (exit, kind) = match &error {
            Error::Api(api) => match api.status() {
                401 | 403 => (Exit::Auth, "auth"),
                404 => (Exit::NotFound, "not_found"),
                _ => (Exit::Other, "api"),
            },
            Error::InvalidInput(_) => (Exit::Usage, "invalid_input"),
            Error::Config(_) => (Exit::Usage, "usage"),
            Error::Io { .. } => (Exit::Other, "local"),
            Error::Transport(_) => (Exit::Other, "transport"),
            Error::Cancelled => (Exit::Other, "cancelled"),
            Error::Proxy { .. } => (Exit::Other, "proxy"),
            _ => (Exit::Other, "bad_response"),
        };
        let mut failure = Failure::new(exit, kind, &error);
        failure.status = error.status();
        failure.request_id = error.request_id().map(|id| clean(id).into_owned());
        failure
    }
}

/// The outcomes of a command's items, as they finish.
#[derive(Debug, Default)]
pub struct Tally {
    done: u64,
    failed: u64,
    last: Option<Failure>,
    listed: Vec<String>,
}

impl Tally {
    /// How many failed items a JSON summary lists (its `failed` array); the rest are counted.
    /// Each failure was also reported on its own line when it happened.
    pub const LISTED: usize = 100;

    /// How many failed items a text summary names before "and N more", so that it stays one
    /// readable line.
    pub const NAMED: usize = 3;

    pub fn succeeded(&mut self) {
        self.done += 1;
    }

    pub fn failed(&mut self, failure: Failure) {
        self.failed += 1;
        if self.listed.len() < Tally::LISTED {
            self.listed.push(
                failure
                    .item
                    .clone()
                    .unwrap_or_else(|| failure.message.clone()),
            );
        }
        self.last = Some(failure);
    }

    /// The command's result: success; the item's own failure when there was one item;
    /// otherwise a `partial` failure that counts what failed and names the first few.
    /// `not_started` items were skipped after a failure.
    pub fn finish(self, verb: &str, not_started: u64) -> Result<(), Failure> {
        let Some(last) = self.last else {
            return Ok(());
        };
        let total = self.done + self.failed + not_started;
        if total <= 1 {
            return Err(Failure {
                reported: true,
                ..last
            });
        }
        let named = &self.listed[..self.listed.len().min(Tally::NAMED)];
        let mut message = format!("{} of {total} failed ({}", self.failed, named.join(", "));
        let more = self.failed - named.len() as u64;
        if more > 0 {
            message.push_str(&format!(" and {more} more"));
        }
        message.push(')');
        if self.done > 0 {
            message.push_str(&format!(", {} {verb}", self.done));
        }
        if not_started > 0 {
            message.push_str(&format!(", {not_started} not started"));
        }
        let mut failure = Failure::new(Exit::Partial, "partial", message);
        failure.failed = self.listed;
        Err(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_found(item: &str) -> Failure {
        Failure::new(Exit::NotFound, "not_found", "HTTP 404").about(item)
    }

    #[test]
    fn one_item_keeps_its_own_exit_code_and_is_not_printed_twice() {
        let mut tally = Tally::default();
        tally.failed(not_found("a"));
        let failure = tally.finish("deleted", 0).unwrap_err();
        assert_eq!(failure.exit, Exit::NotFound);
        assert!(failure.reported);
    }

    #[test]
    fn several_items_with_a_failure_exit_5_naming_what_failed() {
        let mut tally = Tally::default();
        tally.succeeded();
        tally.failed(not_found("b"));
        let failure = tally.finish("deleted", 2).unwrap_err();
        assert_eq!(failure.exit, Exit::Partial);
        assert_eq!(
            failure.message,
            "1 of 4 failed (b), 1 deleted, 2 not started"
        );
        assert_eq!(failure.failed, ["b"]);
        assert!(!failure.reported);
    }

    #[test]
    fn the_summary_names_a_few_items_and_counts_the_rest() {
        let mut tally = Tally::default();
        for i in 0..Tally::LISTED + 5 {
            tally.failed(not_found(&format!("or_file_{i}")));
        }
        tally.succeeded();
        let failure = tally.finish("deleted", 0).unwrap_err();
        assert_eq!(failure.failed.len(), Tally::LISTED);
        assert_eq!(
            failure.message,
            "105 of 106 failed (or_file_0, or_file_1, or_file_2 and 102 more), 1 deleted"
        );
    }

    #[test]
    fn no_failure_is_success() {
        let mut tally = Tally::default();
        tally.succeeded();
        assert!(tally.finish("deleted", 0).is_ok());
        assert!(Tally::default().finish("deleted", 0).is_ok());
    }

    #[test]
    fn refused_keys_and_broken_outputs_stop_a_command() {
        assert!(Failure::new(Exit::Auth, "auth", "HTTP 401").is_fatal());
        assert!(Failure::output(std::io::Error::other("disk full")).is_fatal());
        assert!(!not_found("a").is_fatal());
    }
}
