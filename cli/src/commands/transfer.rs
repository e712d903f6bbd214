//! Running the transfers of `put` and `get`: each with its progress bar, its failure reported
//! as it happens, stopping at the first failure unless told to go on.
//!
//! This is the one place that decides how transfers are scheduled. It runs them one after the
//! other (`-j` is accepted and validated); the library's many-files API is the engine to run
//! them `jobs` at a time.

use indicatif::ProgressBar;

use crate::failure::{Failure, Tally};
use crate::report::Report;

/// One file to move.
pub struct Job<T> {
    /// What the bar and any error name: a path, or an id.
    pub label: String,
    /// The size, when known beforehand.
    pub size: Option<u64>,
    pub task: T,
}

/// How to run a batch of jobs.
pub struct Plan<'a> {
    /// At most this many at once.
    pub jobs: usize,
    /// Go on after a failure (`--continue-on-error`).
    pub keep_going: bool,
    /// `uploaded`, `downloaded`: for the summary.
    pub verb: &'a str,
    /// `put`, `get`: the bars' prefix.
    pub command: &'a str,
}

/// Runs `work` on each job and hands each result to `done` (on this thread). `tally` may
/// already hold failures found before any transfer (`--continue-on-error`).
pub fn run<T, R>(
    plan: &Plan<'_>,
    batch: Vec<Job<T>>,
    mut tally: Tally,
    report: &Report,
    work: impl Fn(T, &ProgressBar) -> Result<R, Failure>,
    mut done: impl FnMut(R) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let _ = plan.jobs;
    let total = batch.len();
    for (started, job) in batch.into_iter().enumerate() {
        let bar = report.bar(&format!("{} {}", plan.command, job.label), job.size);
        let result = work(job.task, &bar).map_err(|f| f.about(&job.label));
        match result {
            Ok(value) => {
                bar.finish();
                done(value)?;
                tally.succeeded();
            }
            Err(failure) => {
                bar.abandon();
                if failure.is_fatal() {
                    return Err(failure);
                }
                report.error(&failure);
                tally.failed(failure);
                if !plan.keep_going {
                    return tally.finish(plan.verb, (total - started - 1) as u64);
                }
            }
        }
    }
    tally.finish(plan.verb, 0)
}
