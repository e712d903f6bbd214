//! `info` and `rm`: one call per id, each id's outcome reported, going on past failures.

use openrouter_files::FilesClient;

use crate::failure::{Failure, Tally};
use crate::ids::ids;
use crate::output::Out;
use crate::report::Report;
use crate::text::answer_line;

pub fn info(
    client: &FilesClient,
    args: &[String],
    report: &Report,
    out: &mut Out,
) -> Result<(), Failure> {
    each_id(args, "retrieved", report, out, |id, out| {
        let meta = client.retrieve(id)?;
        out.line(&answer_line(&meta, meta.request_id()))
    })
}

pub fn rm(
    client: &FilesClient,
    args: &[String],
    json: bool,
    report: &Report,
    out: &mut Out,
) -> Result<(), Failure> {
    each_id(args, "deleted", report, out, |id, out| {
        let gone = client.delete(id)?;
        // The id asked for, which the server confirmed deleting: not whatever id its answer
        // names, which a script would take for the deleted one.
        out.line(&if json {
            answer_line(&gone, gone.request_id())
        } else {
            id.to_string()
        })
    })
}

/// Runs `call` for each id, reporting each failure as it happens. Stops early only when the
/// key is refused (every other id would fail the same way) or the output has closed.
fn each_id(
    args: &[String],
    verb: &str,
    report: &Report,
    out: &mut Out,
    mut call: impl FnMut(&str, &mut Out) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut tally = Tally::default();
    for id in ids(args) {
        let id = id?;
        match call(&id, out) {
            Ok(()) => tally.succeeded(),
            Err(failure) if failure.is_fatal() => return Err(failure.about(&id)),
            Err(failure) => {
                let failure = failure.about(&id);
                report.error(&failure);
                tally.failed(failure);
            }
        }
        if out.closed() {
            break;
        }
    }
    tally.finish(verb, 0)
}
