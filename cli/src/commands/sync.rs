//! `sync DIR --manifest FILE`: the library's `FolderSync`, with the plan printed (all of it
//! under `--dry-run`, which sends no write), progress in files and bytes, and one line (or
//! JSON object) per action.

use openrouter_files::sync::SyncDone;
use openrouter_files::{BatchItem, FilesClient, Outcome, SyncAction, SyncPlan};
use serde_json::{Value, json};

use crate::failure::{Failure, Tally};
use crate::job_args::Sync;
use crate::output::Out;
use crate::report::Report;
use crate::text::{json_line, tsv_field};

pub fn sync(
    client: &FilesClient,
    args: &Sync,
    json: bool,
    report: &Report,
    out: &mut Out,
) -> Result<(), Failure> {
    let job = || {
        client
            .sync(&args.dir, &args.manifest)
            .delete(args.delete)
            .follow_symlinks(args.follow_symlinks)
            .concurrency(args.jobs.into())
    };
    if !args.dir.is_dir() {
        return Err(Failure::usage(format!(
            "sync: {} is not a folder",
            args.dir.display()
        )));
    }
    let plan = job().plan()?;
    if args.dry_run.dry_run {
        for action in plan.actions() {
            out.line(&line(action, json, &[("dry_run", true.into())]))?;
        }
        return summary(&plan, report, "would be");
    }
    let bar = report.bar("sync", Some(plan.upload_bytes()));
    let progress = bar.clone();
    let unchanged = plan.unchanged();
    let result = job()
        .on_progress(move |p| {
            progress.set_prefix(format!("sync {}/{} files", p.files_done, p.files_total));
            progress.set_position(p.bytes_done);
        })
        .apply(plan);
    bar.finish_and_clear();
    let mut tally = Tally::default();
    for item in result.into_items() {
        reported(item, json, report, out, &mut tally)?;
    }
    if !json {
        report.notice("sync", &format!("{unchanged} unchanged"));
    }
    tally.finish("done", 0)
}

/// Prints one item of an applied sync (a line for what was done, the error for what failed)
/// and counts it.
fn reported(
    item: BatchItem<SyncAction, SyncDone>,
    json: bool,
    report: &Report,
    out: &mut Out,
    tally: &mut Tally,
) -> Result<(), Failure> {
    match item.outcome {
        Outcome::Failed(error) => {
            let failure = Failure::from(error).about(path_of(&item.input));
            report.error(&failure);
            tally.failed(failure);
        }
        Outcome::Skipped => {
            let failure =
                Failure::usage("not started: the sync stopped first").about(path_of(&item.input));
            tally.failed(failure);
        }
        outcome => {
            let mut extra = Vec::new();
            if let Some(done) = outcome.done() {
                if let Some(file) = &done.file {
                    extra.push(("id", file.id.clone().into()));
                }
                if done.found {
                    extra.push(("found", true.into()));
                }
            }
            out.line(&line(&item.input, json, &extra))?;
            tally.succeeded();
        }
    }
    Ok(())
}

/// The path (or id) an action is about.
fn path_of(action: &SyncAction) -> &str {
    match action {
        SyncAction::Upload { path, .. }
        | SyncAction::Delete { path, .. }
        | SyncAction::Adopt { path, .. }
        | SyncAction::Abandon { path }
        | SyncAction::Touch { path, .. } => path,
        SyncAction::DeleteReplaced { id } => id,
        _ => "",
    }
}

/// One action as a TSV line (`upload`, the path, then details) or a JSON object.
fn line(action: &SyncAction, json: bool, extra: &[(&str, Value)]) -> String {
    let mut object = match action {
        SyncAction::Upload {
            path,
            size,
            replaces,
            ..
        } => json!({"action": "upload", "path": path, "size": size, "replaces": replaces}),
        SyncAction::Delete { path, id } => json!({"action": "delete", "path": path, "id": id}),
        SyncAction::DeleteReplaced { id } => json!({"action": "delete_replaced", "id": id}),
        SyncAction::Adopt { path, file } => {
            json!({"action": "adopt", "path": path, "id": file.id})
        }
        SyncAction::Abandon { path } => json!({"action": "abandon", "path": path}),
        SyncAction::Touch { path, .. } => json!({"action": "touch", "path": path}),
        other => json!({"action": format!("{other:?}")}),
    };
    for (key, value) in extra {
        object[*key] = value.clone();
    }
    if json {
        return json_line(&object);
    }
    let fields: Vec<String> = [
        "action", "path", "id", "size", "replaces", "found", "dry_run",
    ]
    .iter()
    .filter_map(|key| match object.get(*key) {
        Some(Value::String(s)) => Some(tsv_field(s)),
        Some(Value::Null) | None => None,
        Some(Value::Bool(true)) => Some((*key).to_string()),
        Some(Value::Bool(false)) => None,
        Some(other) => Some(other.to_string()),
    })
    .collect();
    fields.join("\t")
}

/// The plan's counts on standard error: what would be sent, and what is already there.
fn summary(plan: &SyncPlan, report: &Report, mood: &str) -> Result<(), Failure> {
    let uploads = plan
        .actions()
        .iter()
        .filter(|a| matches!(a, SyncAction::Upload { .. }))
        .count();
    let deletes = plan.actions().iter().filter(|a| a.writes()).count() - uploads;
    let counts = format!(
        "{uploads} files ({} bytes) {mood} uploaded, {deletes} {mood} deleted, {} unchanged",
        plan.upload_bytes(),
        plan.unchanged()
    );
    report.notice("sync", &counts);
    Ok(())
}
