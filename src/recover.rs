//! Finding an upload whose answer was lost: after a failure that may have come after the server
//! stored the file (the body was sent, then a reset, a timeout, or a 5xx other than 503), the
//! workspace is searched for it before the upload is reported failed or sent again.
//!
//! A file is taken for the lost upload when it was created since the attempt began (less
//! [`LOST_UPLOAD_CLOCK_SKEW`], for the server's clock), has the size sent, and is named either
//! the name sent or its base name (the published documents do not say whether a server keeps
//! a path in a name). Exactly one such file created since the attempt began (to the second,
//! by our clock) is the upload; none means it was not stored; more than one, or one created
//! before the attempt began (in the allowance for the server's clock), is
//! [`Error::LostUpload`], listing them, since guessing could lose or duplicate one: such a
//! file may as well be an earlier upload of the same name and size (a previous version of
//! the file, edited since), and taking it would report stored what was not.

use std::time::{Duration, Instant, SystemTime};

use crate::client::FilesClient;
use crate::error::{Error, Result};
use crate::model::FileMetadata;

/// How far the server's clock may be behind ours when looking for a lost upload: files created
/// up to this long before the attempt began are candidates too.
pub const LOST_UPLOAD_CLOCK_SKEW: Duration = Duration::from_secs(120);

/// What an upload returned, and how the client knows it was stored.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Uploaded {
    /// The stored file.
    pub file: FileMetadata,
    /// True when the server's answer was lost and the file was found in the workspace
    /// instead (by time, size and name, see [`FilesClient::upload_detailed`]); false when the
    /// server confirmed the upload.
    pub found: bool,
}

/// True when `error` may have come after the server stored the upload: not a failure before
/// anything was sent, not an answer saying the file was refused.
pub(crate) fn may_have_stored(error: &Error) -> bool {
    match error {
        Error::Transport(transport) => !transport.failed_before_sending(),
        // 503 and 408 say the request was not processed; 4xx other than 408 refuse it.
        Error::Api(api) => api.status() >= 500 && api.status() != 503,
        // A 2xx whose body could not be read: the file is stored, the answer lost.
        Error::Decode { .. } | Error::Truncated { .. } | Error::Protocol(_) => true,
        _ => false,
    }
}

/// The files of the client's workspace that may be the upload of `name` (`size` bytes) begun
/// at `since`, leaving out those `known` says the caller already accounts for. One listing
/// pass.
pub(crate) fn candidates(
    client: &FilesClient,
    name: &str,
    size: u64,
    since: SystemTime,
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<FileMetadata>> {
    let mut found = Vec::new();
    // Under a deadline, the search ends by it too, counted from when the upload began.
    let until = client.options.timeouts.deadline.and_then(|d| {
        Instant::now().checked_add(d.saturating_sub(since.elapsed().unwrap_or_default()))
    });
    for file in crate::list_all::every_file(client, until) {
        let file = file?;
        if may_be(&file, name, size, since) && !known(&file.id) {
            found.push(file);
        }
    }
    Ok(found)
}

/// Whether `file` may be the upload of `name` (`size` bytes) begun at `since`: created since
/// then (less [`LOST_UPLOAD_CLOCK_SKEW`]), of that size, with that name or its base name.
pub(crate) fn may_be(file: &FileMetadata, name: &str, size: u64, since: SystemTime) -> bool {
    let earliest = since
        .checked_sub(LOST_UPLOAD_CLOCK_SKEW)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    file.size_bytes == size
        && same_upload_name(&file.filename, name)
        && file.created().is_some_and(|t| t >= earliest)
}

/// Whether `file` was created before `since`, to the second (the precision of `created_at`):
/// by our clock, before the attempt began.
fn created_before(file: &FileMetadata, since: SystemTime) -> bool {
    let second = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    file.created().is_some_and(|t| second(t) < second(since))
}

/// Whether a file stored as `stored` may be the upload sent as `sent`: the same name, or the
/// base name of a name sent with `/` or `\` separators.
pub(crate) fn same_upload_name(stored: &str, sent: &str) -> bool {
    stored == sent || sent.rsplit(['/', '\\']).next() == Some(stored)
}

/// What a search for a lost upload concluded.
pub(crate) enum Search {
    /// The one file that is the upload.
    Found(FileMetadata),
    /// Not stored (the failure, handed back): sending again cannot duplicate it.
    NotStored(Error),
}

/// Looks for the upload of `name` after `error`, which may have followed its storing.
/// A search that fails leaves the caller with the original error: the upload's fate is still
/// unknown, so it must not be sent again.
pub(crate) fn search(
    client: &FilesClient,
    name: &str,
    size: u64,
    since: SystemTime,
    known: &dyn Fn(&str) -> bool,
    error: Error,
) -> Result<Search> {
    let mut found = match candidates(client, name, size, since, known) {
        Ok(found) => found,
        Err(search) => {
            // Only the kind of failure: an error's text may quote a server's body.
            let why = search
                .status()
                .map_or_else(|| "no usable answer".to_string(), |s| format!("HTTP {s}"));
            log::debug!(
                "could not look for the lost upload of {name} ({why}); not sending it again"
            );
            return Err(error);
        }
    };
    match found.len() {
        0 => Ok(Search::NotStored(error)),
        1 if created_before(&found[0], since) => {
            log::debug!("the only file that may be the upload of {name} is older than it");
            Err(Error::LostUpload {
                filename: name.to_string(),
                candidates: vec![found.remove(0).id],
                source: Box::new(error),
            })
        }
        1 => {
            log::debug!("the answer to the upload of {name} was lost; found it stored");
            Ok(Search::Found(found.remove(0)))
        }
        _ => Err(Error::LostUpload {
            filename: name.to_string(),
            candidates: found.into_iter().map(|f| f.id).collect(),
            source: Box::new(error),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_name_matches_the_name_sent_or_its_base_name() {
        assert!(same_upload_name("a/b/c.txt", "a/b/c.txt"));
        assert!(same_upload_name("c.txt", "a/b/c.txt"));
        assert!(same_upload_name("c.txt", "a\\c.txt"));
        assert!(same_upload_name("c.txt", "c.txt"));
        assert!(!same_upload_name("b/c.txt", "a/b/c.txt"));
        assert!(!same_upload_name("d.txt", "a/c.txt"));
    }
}
