//! The whole workspace listed for the client's own jobs (the search for a lost upload, a
//! sync's pending intents, skip-existing), with an end: no caller is there to stop the lazy
//! iterator when a server sends new pages for ever.

use std::collections::VecDeque;
use std::time::Instant;

use crate::client::FilesClient;
use crate::error::{Error, Result};
use crate::model::FileMetadata;

/// The most pages read by one such listing (ten million files at the iterator's page size);
/// a listing that goes on past it fails with [`Error::Protocol`].
pub(crate) const MAX_PAGES: usize = 10_000;

/// Every stored file, in one listing pass of at most [`MAX_PAGES`] pages, starting no page
/// after `until` (a page under way ends by the client's own timeouts). Ends after the first
/// error.
pub(crate) fn every_file(
    client: &FilesClient,
    until: Option<Instant>,
) -> impl Iterator<Item = Result<FileMetadata>> {
    let mut pages = client.list().pages();
    let mut read = 0;
    let mut buffer = VecDeque::new();
    let mut ended = false;
    std::iter::from_fn(move || {
        loop {
            if let Some(file) = buffer.pop_front() {
                return Some(Ok(file));
            }
            if ended {
                return None;
            }
            if read == MAX_PAGES && pages.position().is_some() {
                ended = true;
                return Some(Err(Error::Protocol(format!(
                    "the file list went on past {MAX_PAGES} pages; stopped reading it"
                ))));
            }
            if until.is_some_and(|end| Instant::now() >= end) {
                ended = true;
                return Some(Err(Error::Protocol(
                    "the file list was not read to its end within the deadline".into(),
                )));
            }
            read += 1;
            match pages.next()? {
                Ok(page) => buffer.extend(page.data),
                Err(error) => {
                    ended = true;
                    return Some(Err(error));
                }
            }
        }
    })
}
