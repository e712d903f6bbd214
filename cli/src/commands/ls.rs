//! `ls`: every file (or the first `--limit`), page by page as the output is read, as TSV or
//! JSON lines.

use openrouter_files::{FileMetadata, FilesClient, Order};

use crate::args::{self, Ls};
use crate::failure::Failure;
use crate::output::Out;
use crate::summary::{Summary, size};
use crate::text::{answer_line, tsv_field};

pub fn ls(client: &FilesClient, args: &Ls, json: bool, out: &mut Out) -> Result<(), Failure> {
    let extra = &args.summary;
    let filter = extra
        .select
        .filter()
        .map_err(|e| Failure::usage(e.to_string()))?;
    let mut request = client.list();
    // A small --limit needs no bigger page than itself (unless a filter skips files).
    let small_limit = args
        .limit
        .filter(|_| filter.is_none())
        .and_then(|n| u32::try_from(n).ok())
        .map(|n| n.min(1000));
    if let Some(size) = args.page_size.or(small_limit) {
        request = request.page_size(size);
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
    let mut summary = Summary::default();
    // The next page is fetched only when this one is written, so a reader that leaves
    // (`| head -1`) stops the requests too.
    let mut left = args.limit.unwrap_or(u64::MAX);
    'pages: for page in request.pages() {
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
            left -= 1;
            if left == 0 {
                break 'pages;
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
