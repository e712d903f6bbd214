//! How fast a client must send: the rules a request's head and body are read under (a wait
//! between reads, a minimum average rate after a grace period, a whole-request time), what each
//! connection is doing right now, and which connection gives way when all are taken.
//!
//! The rate rule is Apache `mod_reqtimeout`'s `MinRate`: a request may take the grace period,
//! plus one second for every `min_rate` bytes it has sent, so a trickle of a few bytes a
//! second fails in about the grace period, while a large upload at a fair rate never does.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A connection younger than this in what it is doing (new and silent, or sending a request)
/// is never shed, so a client that has only just connected is not taken for a slow one.
pub(crate) const SHED_MIN_AGE: Duration = Duration::from_secs(1);

/// At the cap, a request or answer is judged by its rate over the last one to two of these,
/// not since it began: bytes sent fast at the start buy time under the rate rule (an average,
/// as Apache's), but no right to hold a slot while others wait.
const RATE_WINDOW_MS: u64 = 2_000;

/// The limits a request is read under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// The longest wait for one read (and for an idle kept-alive connection).
    pub(crate) read_timeout: Duration,
    /// The least average rate, in bytes per second, a request must keep after `grace`
    /// (0: no rate rule).
    pub(crate) min_rate: u64,
    /// How long a request may take before the rate rule applies.
    pub(crate) grace: Duration,
    /// The longest a whole request (head and body) may take to arrive, whatever its rate.
    pub(crate) request_timeout: Option<Duration>,
}

impl Rules {
    /// When a request that started at `started` and has sent `bytes` so far must have sent
    /// its next byte by the rate rule (None: no rate rule, or one past any clock's reach).
    pub(crate) fn rate_deadline(&self, started: Instant, bytes: u64) -> Option<Instant> {
        if self.min_rate == 0 {
            return None;
        }
        let earned = Duration::from_secs_f64(bytes as f64 / self.min_rate as f64);
        started.checked_add(self.grace.saturating_add(earned))
    }

    /// When a request that started at `started` must have arrived whole (None: no bound, or
    /// one past any clock's reach, as `Duration::MAX` says).
    pub(crate) fn whole_deadline(&self, started: Instant) -> Option<Instant> {
        started.checked_add(self.request_timeout?)
    }
}

/// What a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Kept alive between requests, waiting for the first byte of the next one: may be
    /// closed at any time (RFC 9112 §9.3.1), so it gives way at the cap at any age.
    Idle = 0,
    /// Waiting for more bytes of a request it has started.
    Receiving = 1,
    /// Working on a request or writing its answer: never shed.
    Busy = 2,
    /// Reading what a client still sends after its answer, before closing: shed first.
    Lingering = 3,
    /// Writing an answer the client reads too slowly (or not at all): judged as a request.
    Sending = 4,
    /// A new connection waiting for its first request: gives way only once it is
    /// [`SHED_MIN_AGE`] old, so a client that has only just connected is served.
    New = 5,
}

/// What a connection is doing, shared between its thread and the accept thread.
#[derive(Debug)]
pub(crate) struct Activity {
    phase: AtomicU8,
    progress: Mutex<Progress>,
}

/// How far the current request (or answer, or idleness) has come.
#[derive(Debug, Clone, Copy)]
struct Progress {
    /// Milliseconds ([`millis`]) at which it began.
    since_ms: u64,
    /// Bytes received (or sent) so far.
    bytes: u64,
    /// When `bytes` last changed (or was last recorded).
    last_ms: u64,
    /// `(milliseconds, bytes)` marks, rolled forward at most every [`RATE_WINDOW_MS`]: the
    /// recent rate is measured from `older`, one to two windows back.
    older: (u64, u64),
    newer: (u64, u64),
}

impl Progress {
    fn starting(since_ms: u64) -> Progress {
        Progress {
            since_ms,
            bytes: 0,
            last_ms: since_ms,
            older: (since_ms, 0),
            newer: (since_ms, 0),
        }
    }

    /// Bytes a second since the `older` mark, up to `now_ms`; 0 when nothing has moved for a
    /// whole window (as when a write has blocked since).
    fn recent_rate(&self, now_ms: u64) -> u64 {
        if now_ms.saturating_sub(self.last_ms) >= RATE_WINDOW_MS {
            return 0;
        }
        let (at, bytes) = self.older;
        let span = now_ms.saturating_sub(at).max(1);
        self.bytes.saturating_sub(bytes).saturating_mul(1000) / span
    }
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            phase: AtomicU8::new(Phase::Busy as u8),
            progress: Mutex::new(Progress::starting(millis(Instant::now()))),
        }
    }
}

impl Activity {
    /// Records the phase, and when the request (or the idleness) began with its bytes so far.
    pub(crate) fn set(&self, phase: Phase, since: Instant, bytes: u64) {
        let (since_ms, now_ms) = (millis(since), millis(Instant::now()));
        {
            let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
            if progress.since_ms != since_ms {
                *progress = Progress::starting(since_ms);
            }
            progress.bytes = bytes;
            progress.last_ms = now_ms;
            if now_ms.saturating_sub(progress.newer.0) >= RATE_WINDOW_MS {
                progress.older = progress.newer;
                progress.newer = (now_ms, bytes);
            }
        }
        self.phase.store(phase as u8, Ordering::Release);
    }

    /// Only the phase changes.
    pub(crate) fn enter(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
    }

    fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Idle,
            1 => Phase::Receiving,
            3 => Phase::Lingering,
            4 => Phase::Sending,
            5 => Phase::New,
            _ => Phase::Busy,
        }
    }

    /// How readily this connection gives way to a new one now, when all are taken: None for
    /// never; otherwise smaller first. Lingering first, then idle ones (kept alive between
    /// requests, or new and silent for [`SHED_MIN_AGE`]; longest idle first), then requests
    /// received or answers sent slower than the rate rule lately (slowest first).
    fn shed_rank(&self, now: Instant, rules: &Rules) -> Option<(u8, u64)> {
        let progress = *self.progress.lock().unwrap_or_else(|e| e.into_inner());
        let now_ms = millis(now);
        let age_ms = now_ms.saturating_sub(progress.since_ms);
        let old = Duration::from_millis(age_ms) >= SHED_MIN_AGE;
        match self.phase() {
            Phase::Lingering => Some((0, u64::MAX - age_ms)),
            Phase::Idle => Some((1, u64::MAX - age_ms)),
            Phase::New if old => Some((1, u64::MAX - age_ms)),
            Phase::Receiving | Phase::Sending if old && rules.min_rate > 0 => {
                let rate = progress.recent_rate(now_ms);
                (rate < rules.min_rate).then_some((2, rate))
            }
            _ => None,
        }
    }
}

/// The connection, of `live`, that gives way first to a new one, if any may.
pub(crate) fn victim<'a, K: Copy + 'a>(
    live: impl Iterator<Item = (K, &'a Activity)>,
    rules: &Rules,
) -> Option<K> {
    let now = Instant::now();
    live.filter_map(|(key, activity)| Some((activity.shed_rank(now, rules)?, key)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, key)| key)
}

/// Milliseconds since the first call in this process: a clock cheap to keep in an atomic.
fn millis(at: Instant) -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    at.saturating_duration_since(epoch).as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        read_timeout: Duration::from_secs(30),
        min_rate: 500,
        grace: Duration::from_secs(20),
        request_timeout: None,
    };

    #[test]
    fn each_byte_sent_buys_time_at_the_minimum_rate() {
        let start = Instant::now();
        let secs = Duration::from_secs;
        assert_eq!(RULES.rate_deadline(start, 0), Some(start + secs(20)));
        assert_eq!(RULES.rate_deadline(start, 5_000), Some(start + secs(30)));
        assert_eq!(RULES.whole_deadline(start), None);
        let whole = Rules {
            request_timeout: Some(secs(25)),
            ..RULES
        };
        assert_eq!(whole.whole_deadline(start), Some(start + secs(25)));
        let off = Rules {
            min_rate: 0,
            ..RULES
        };
        assert_eq!(off.rate_deadline(start, 0), None);
    }

    #[test]
    fn lingering_then_idle_then_the_slowest_give_way_and_busy_and_new_ones_never() {
        let long_ago = Instant::now();
        let make = |phase, since, bytes| {
            let activity = Activity::default();
            activity.set(phase, since, bytes);
            activity
        };
        let busy = make(Phase::Busy, long_ago, 0);
        let fast = make(Phase::Receiving, long_ago, 1_000_000);
        let slow = make(Phase::Receiving, long_ago, 100);
        let slower = make(Phase::Receiving, long_ago, 10);
        let idle = make(Phase::Idle, long_ago, 0);
        // Those above are now past the age at which a connection may give way.
        std::thread::sleep(SHED_MIN_AGE + Duration::from_millis(100));
        let fresh = make(Phase::New, Instant::now(), 0);
        let kept_alive = make(Phase::Idle, Instant::now(), 0);
        let lingering = make(Phase::Lingering, Instant::now(), 0);
        let pick = |set: &[(u8, &Activity)]| victim(set.iter().map(|(k, a)| (*k, *a)), &RULES);
        assert_eq!(pick(&[(0, &busy), (1, &fast), (2, &fresh)]), None);
        assert_eq!(pick(&[(0, &busy), (1, &slow), (2, &slower)]), Some(2));
        assert_eq!(pick(&[(1, &slower), (2, &idle)]), Some(2));
        assert_eq!(pick(&[(1, &idle), (2, &lingering)]), Some(2));
        // Between requests, a kept-alive connection gives way at any age, before slow ones.
        assert_eq!(pick(&[(1, &slower), (2, &kept_alive)]), Some(2));
        assert_eq!(pick(&[(1, &kept_alive), (2, &idle)]), Some(2));
    }
}
