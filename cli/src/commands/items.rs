//! `info` and `rm`: one call per id, each id's outcome reported, going on past failures.

use openrouter_files::FilesClient;

use super::dry_run;
use super::select::{Targets, targets};
use crate::failure::{Failure, Tally};
use crate::ids::ids;
use crate::job_args::{Info, Rm};
use crate::output::Out;
use crate::report::Report;
use crate::text::answer_line;

pub fn info(
    client: &FilesClient,
    args: &Info,
    report: &Report,
    out: &mut Out,
) -> Result<(), Failure> {
    match targets(client, &args.ids, &args.select, false, "info")? {
        // The listing gave the metadata already.
        Targets::Files(files) => files
            .iter()
            .try_for_each(|f| out.line(&answer_line(f, f.request_id()))),
        Targets::Ids(ids) => each_id(&ids, "retrieved", report, out, |id, out| {
            let meta = client.retrieve(id)?;
            out.line(&answer_line(&meta, meta.request_id()))
        }),
    }
}

pub fn rm(
    client: &FilesClient,
    args: &Rm,
    json: bool,
    report: &Report,
    out: &mut Out,
) -> Result<(), Failure> {
    let chosen = targets(client, &args.ids, &args.select, args.all, "rm")?;
    if args.dry_run.dry_run {
        return dry_run::deletes(&chosen, json, out);
    }
    each_id(&chosen.ids(), "deleted", report, out, |id, out| {
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
