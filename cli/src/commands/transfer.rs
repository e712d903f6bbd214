//! Running the transfers of `put` and `get` on the library's many-files API
//! ([`FilesClient::batch`]): `-j` at once, a progress bar per running transfer, each failure
//! reported as it happens, and a stop at the first failure unless told to go on.

use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressBar;
use openrouter_files::{FilesClient, Outcome};

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

/// Runs `work` on each job, `plan.jobs` at a time, then hands each success to `done` in input
/// order. `tally` may already hold failures found before any transfer.
///
/// A failure is printed when it happens. It stops the jobs not yet started when the plan does
/// not keep going, or when it is fatal (a refused key); jobs already running finish.
pub fn run<T: Sync, R: Send>(
    client: &FilesClient,
    plan: &Plan<'_>,
    batch: Vec<Job<T>>,
    mut tally: Tally,
    report: &Report,
    work: impl Fn(&FilesClient, &T, &ProgressBar) -> Result<R, Failure> + Sync,
    mut done: impl FnMut(R) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let stop = AtomicBool::new(false);
    let results = client
        .batch()
        .concurrency(plan.jobs)
        .cancel_flag(&stop)
        .run(batch, |client, job| {
            let bar = report.bar(&format!("{} {}", plan.command, job.label), job.size);
            let result = work(client, &job.task, &bar).map_err(|f| f.about(&job.label));
            match &result {
                Ok(_) => bar.finish(),
                Err(failure) => {
                    bar.abandon();
                    if failure.is_fatal() || !plan.keep_going {
                        stop.store(true, Ordering::SeqCst);
                    }
                    if !failure.is_fatal() {
                        report.error(failure);
                    }
                }
            }
            Ok(result)
        });
    let mut not_started = 0;
    let mut fatal = None;
    for item in results {
        match item.outcome {
            Outcome::Done(Ok(value)) => {
                done(value)?;
                tally.succeeded();
            }
            Outcome::Done(Err(failure)) if failure.is_fatal() => {
                fatal.get_or_insert(failure);
            }
            Outcome::Done(Err(failure)) => tally.failed(failure),
            Outcome::Failed(error) => {
                let failure = Failure::from(error).about(&item.input.label);
                report.error(&failure);
                tally.failed(failure);
            }
            _ => not_started += 1,
        }
    }
    match fatal {
        Some(failure) => Err(failure),
        None => tally.finish(plan.verb, not_started),
    }
}
