//! What a batch hands back: one [`BatchItem`] per input, in input order, and the
//! [`BatchProgress`] snapshots its callback sees while it runs.

use crate::error::Error;

/// How one item of a batch ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<T> {
    /// The operation succeeded.
    Done(T),
    /// The operation failed; nothing was sent for [`Error::InvalidInput`].
    Failed(Error),
    /// Nothing was sent for the item because the batch stopped first (an error with
    /// [`Batch::stop_on_error`](crate::Batch::stop_on_error), the caller's
    /// [`Batch::cancel_flag`](crate::Batch::cancel_flag), or a panicking callback).
    Skipped,
    /// Nothing was sent: the workspace already holds this file (a file of the same name and
    /// size, with [`Batch::skip_existing`](crate::Batch::skip_existing)); the value is that
    /// file. Counts as a success.
    Existing(T),
}

impl<T> Outcome<T> {
    /// The value, if the item succeeded (or was [`Outcome::Existing`]).
    pub fn done(&self) -> Option<&T> {
        match self {
            Outcome::Done(value) | Outcome::Existing(value) => Some(value),
            _ => None,
        }
    }

    /// The error, if the item failed.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Outcome::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// True if the item succeeded (or was [`Outcome::Existing`]).
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Done(_) | Outcome::Existing(_))
    }

    /// `Ok` for a success, `Err(Some(error))` for a failure, `Err(None)` for a skipped item.
    pub fn into_result(self) -> Result<T, Option<Error>> {
        match self {
            Outcome::Done(value) | Outcome::Existing(value) => Ok(value),
            Outcome::Failed(error) => Err(Some(error)),
            Outcome::Skipped => Err(None),
        }
    }
}

/// One input of a batch and how it ended.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchItem<I, T> {
    /// The input as given (a path, an id, …).
    pub input: I,
    /// What happened to it.
    pub outcome: Outcome<T>,
}

/// The result of a batch: one [`BatchItem`] per input, **in input order** whatever order the
/// workers finished in, so a script can zip it with what it passed in.
#[derive(Debug)]
pub struct BatchReport<I, T> {
    pub(crate) items: Vec<BatchItem<I, T>>,
}

impl<I, T> BatchReport<I, T> {
    /// Every item, in input order.
    pub fn items(&self) -> &[BatchItem<I, T>] {
        &self.items
    }

    /// Every item, in input order, by value.
    pub fn into_items(self) -> Vec<BatchItem<I, T>> {
        self.items
    }

    /// The items that succeeded, with their values.
    pub fn done(&self) -> impl Iterator<Item = (&I, &T)> {
        self.items
            .iter()
            .filter_map(|item| Some((&item.input, item.outcome.done()?)))
    }

    /// The items that failed, with their errors.
    pub fn failed(&self) -> impl Iterator<Item = (&I, &Error)> {
        self.items
            .iter()
            .filter_map(|item| Some((&item.input, item.outcome.error()?)))
    }

    /// The items that were never started because the batch stopped early.
    pub fn skipped(&self) -> impl Iterator<Item = &I> {
        self.items
            .iter()
            .filter(|item| matches!(item.outcome, Outcome::Skipped))
            .map(|item| &item.input)
    }

    /// True when every item succeeded (also for an empty batch).
    pub fn is_success(&self) -> bool {
        self.items.iter().all(|item| item.outcome.is_done())
    }

    /// The first failure in input order, if any.
    pub fn first_error(&self) -> Option<&Error> {
        self.failed().next().map(|(_, error)| error)
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True for a batch of no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<I, T> IntoIterator for BatchReport<I, T> {
    type Item = BatchItem<I, T>;
    type IntoIter = std::vec::IntoIter<BatchItem<I, T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// How far a batch has got, as passed to [`Batch::on_progress`](crate::Batch::on_progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchProgress {
    /// Items finished so far, failed ones included.
    pub files_done: usize,
    /// Of those, how many failed.
    pub files_failed: usize,
    /// Items in the batch.
    pub files_total: usize,
    /// Bytes transferred so far: uploads count as they are sent (every 256 KiB), downloads
    /// when each file is complete.
    pub bytes_done: u64,
    /// The bytes the batch will move, when known before it starts (path uploads: the sum of
    /// the sizes of the files that can be sent, so not of a directory, an empty file or one
    /// over the upload limit); `None` otherwise.
    pub bytes_total: Option<u64>,
}
