//! `ls`: every file, page by page as the output is read, as TSV or JSON lines.

use openrouter_files::{FileMetadata, FilesClient, Order};

use crate::args::{self, Ls};
use crate::failure::Failure;
use crate::output::Out;
use crate::summary::{Summary, size};
use crate::text::{answer_line, tsv_field};

pub fn ls(client: &FilesClient, args: &Ls, json: bool, out: &mut Out) -> Result<(), Failure> {
    let mut request = client.list();
    if let Some(limit) = args.limit {
        request = request.limit(limit);
    }
    if let Some(provider) = &args.provider {
        request = request.provider(provider.as_str());
    }
    if let Some(order) = args.order {
        request = request.order(match order {
            args::Order::Asc => Order::Asc,
            args::Order::Desc => Order::Desc,
        });
    }
    let extra = &args.summary;
    let filter = extra
        .select
        .filter()
        .map_err(|e| Failure::usage(e.to_string()))?;
    let mut summary = Summary::default();
    // The next page is fetched only when this one is written, so a reader that leaves
    // (`| head -1`) stops the requests too.
    for page in request.pages() {
        for file in page?.data {
            if filter.as_ref().is_some_and(|f| !f.matches(&file)) {
                continue;
            }
            summary.add(&file);
            out.line(&if json {
                answer_line(&file, file.request_id())
            } else {
                tsv(&file, extra.human_readable)
            })?;
            if out.closed() {
                return Ok(());
            }
        }
    }
    if extra.summarize {
        out.line(&summary.line(json, extra.human_readable))?;
    }
    Ok(())
}

/// `id, size_bytes, mime_type (- when absent), created_at, filename`, TAB-separated.
fn tsv(file: &FileMetadata, human: bool) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        tsv_field(&file.id),
        size(file.size_bytes, human),
        tsv_field(file.mime_type.as_deref().unwrap_or("-")),
        tsv_field(&file.created_at),
        tsv_field(&file.filename)
    )
}
