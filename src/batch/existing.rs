//! Skip-existing for path uploads: one listing pass finds the files the workspace already
//! holds (same name, same size), and only the others are sent.

use std::collections::HashMap;
use std::path::PathBuf;

use super::report::{BatchItem, BatchReport, Outcome};
use crate::client::FilesClient;
use crate::error::Result;
use crate::model::FileMetadata;

/// The stored files by name and size, the oldest of each kept. One listing pass.
pub(crate) fn stored_by_name_and_size(
    client: &FilesClient,
) -> Result<HashMap<(String, u64), FileMetadata>> {
    let mut stored = HashMap::new();
    for file in crate::list_all::every_file(client, None) {
        let file = file?;
        stored
            .entry((file.filename.clone(), file.size_bytes))
            .or_insert(file);
    }
    Ok(stored)
}

/// The upload of `paths`, with those already stored as [`Outcome::Existing`] and the rest
/// handed to `send`; the report keeps the input order. A listing that fails fails the first
/// item with its error and skips the rest: nothing is sent on a guess.
pub(crate) fn skip(
    client: &FilesClient,
    paths: Vec<PathBuf>,
    send: impl FnOnce(Vec<PathBuf>) -> BatchReport<PathBuf, FileMetadata>,
) -> BatchReport<PathBuf, FileMetadata> {
    let stored = match stored_by_name_and_size(client) {
        Ok(stored) => stored,
        Err(error) => {
            let mut error = Some(error);
            let items = paths
                .into_iter()
                .map(|input| BatchItem {
                    input,
                    outcome: error.take().map_or(Outcome::Skipped, Outcome::Failed),
                })
                .collect();
            return BatchReport { items };
        }
    };
    let found: Vec<Option<FileMetadata>> = paths
        .iter()
        .map(|path| {
            let name = path.file_name()?.to_string_lossy().into_owned();
            let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
            stored.get(&(name, meta.len())).cloned()
        })
        .collect();
    let to_send = paths
        .iter()
        .zip(&found)
        .filter(|(_, found)| found.is_none())
        .map(|(path, _)| path.clone())
        .collect();
    let mut sent = send(to_send).into_items().into_iter();
    let items = paths
        .into_iter()
        .zip(found)
        .map(|(input, found)| match found {
            Some(file) => BatchItem {
                input,
                outcome: Outcome::Existing(file),
            },
            None => sent.next().unwrap_or(BatchItem {
                input,
                outcome: Outcome::Skipped,
            }),
        })
        .collect();
    BatchReport { items }
}
