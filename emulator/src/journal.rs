//! The request log: the last N requests in full, and running totals as counters, so memory
//! stays bounded however many requests a server sees.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::lock;

/// One request as the emulator saw it, from [`Emulator::requests`](super::Emulator::requests).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// `GET`, `POST`, `DELETE`…
    pub method: String,
    /// The path, still percent-encoded, such as `/api/v1/files/or_file_1`.
    pub path: String,
    /// The raw query string without `?`, if there was one.
    pub query: Option<String>,
    /// The status sent; 0 when the connection was dropped without an answer.
    pub status: u16,
    /// Body bytes read from the client.
    pub request_bytes: u64,
    /// Body bytes sent to the client.
    pub response_bytes: u64,
}

/// The last `limit` requests and the count of all of them.
#[derive(Debug)]
pub(crate) struct Journal {
    limit: usize,
    recent: Mutex<VecDeque<LoggedRequest>>,
    total: AtomicU64,
}

impl Journal {
    pub(crate) fn new(limit: usize) -> Journal {
        Journal {
            limit,
            recent: Mutex::new(VecDeque::with_capacity(limit.min(1024))),
            total: AtomicU64::new(0),
        }
    }

    /// Counts `entry` and keeps it, forgetting the oldest entry when full.
    pub(crate) fn record(&self, entry: LoggedRequest) {
        self.total.fetch_add(1, Ordering::SeqCst);
        if self.limit == 0 {
            return;
        }
        let mut recent = lock(&self.recent);
        if recent.len() >= self.limit {
            recent.pop_front();
        }
        recent.push_back(entry);
    }

    /// The kept entries, oldest first.
    pub(crate) fn recent(&self) -> Vec<LoggedRequest> {
        lock(&self.recent).iter().cloned().collect()
    }

    /// Forgets the kept entries; the total stays.
    pub(crate) fn clear(&self) {
        lock(&self.recent).clear();
    }

    /// Every request recorded since the start.
    pub(crate) fn total(&self) -> u64 {
        self.total.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u16) -> LoggedRequest {
        LoggedRequest {
            method: "GET".into(),
            path: "/".into(),
            query: None,
            status: n,
            request_bytes: 0,
            response_bytes: 0,
        }
    }

    #[test]
    fn keeps_the_last_entries_and_counts_all() {
        let journal = Journal::new(3);
        for n in 0..10 {
            journal.record(entry(n));
        }
        let kept: Vec<u16> = journal.recent().iter().map(|e| e.status).collect();
        assert_eq!(kept, [7, 8, 9]);
        assert_eq!(journal.total(), 10);
        journal.clear();
        assert!(journal.recent().is_empty());
        assert_eq!(journal.total(), 10);
    }
}
