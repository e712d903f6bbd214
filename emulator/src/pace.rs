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

/// A request or answer younger than this is never shed: a client that starts one is not
/// cut in its first moments for what its connection did before.
const SHED_MIN_STEP: Duration = Duration::from_millis(100);

/// A rate window in whole milliseconds, at least 1.
///
/// At the cap, a connection is judged by its rate over the last one to two rate windows
/// ([`Rules::rate_window`], by default [`crate::DEFAULT_RATE_WINDOW`]), not since it began:
/// bytes sent fast at the start buy time under the rate rule (an average, as Apache's), but no
/// right to hold a slot while others wait.
fn window_ms(window: Duration) -> u64 {
    u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1)
}

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
    /// At the cap, a connection's recent rate is measured over the last one to two of these.
    pub(crate) rate_window: Duration,
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
    state: Mutex<State>,
    /// The rate window, in milliseconds (at least 1).
    window_ms: u64,
}

/// Which way bytes move on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Request bytes read from the client.
    In,
    /// Answer bytes written to the client.
    Out,
}

/// When the current phase began, and the bytes moved each way over the connection's life.
#[derive(Debug, Clone, Copy)]
struct State {
    /// Milliseconds ([`millis`]) at which the phase's request, answer or idleness began.
    since_ms: u64,
    received: Meter,
    sent: Meter,
}

/// The bytes moved one way over a connection's life, across its requests, with the marks
/// its recent rate is measured from: a connection is judged by what it did lately, whatever
/// its requests' boundaries (a client cannot reset its clock by starting a new request).
#[derive(Debug, Clone, Copy, Default)]
struct Meter {
    /// When the first byte moved.
    started_ms: Option<u64>,
    total: u64,
    /// When bytes last moved.
    last_ms: u64,
    /// `(milliseconds, total)` marks, rolled forward at most every rate window: the recent
    /// rate is measured from `older`, one to two windows back.
    older: (u64, u64),
    newer: (u64, u64),
}

impl Meter {
    /// `n` more bytes moved at `now_ms`; the rate window is `window_ms`.
    fn record(&mut self, now_ms: u64, n: u64, window_ms: u64) {
        let before = self.total;
        if self.started_ms.is_none() {
            self.started_ms = Some(now_ms);
            self.older = (now_ms, 0);
            self.newer = (now_ms, 0);
        } else if now_ms.saturating_sub(self.last_ms) >= window_ms {
            // Nothing moved for a window: a mark one window back is exact.
            let mark = (now_ms - window_ms, before);
            self.older = mark;
            self.newer = mark;
        }
        self.total = before.saturating_add(n);
        self.last_ms = now_ms;
        if now_ms.saturating_sub(self.newer.0) >= window_ms {
            self.older = self.newer;
            self.newer = (now_ms, self.total);
        }
    }

    /// Whether bytes first moved at least [`SHED_MIN_AGE`] before `now_ms`.
    fn old(&self, now_ms: u64) -> bool {
        self.started_ms
            .is_some_and(|at| Duration::from_millis(now_ms.saturating_sub(at)) >= SHED_MIN_AGE)
    }

    /// Bytes a second since the `older` mark, up to `now_ms`; 0 when nothing has moved for a
    /// whole window of `window_ms` (as when a write has blocked since).
    fn recent_rate(&self, now_ms: u64, window_ms: u64) -> u64 {
        if now_ms.saturating_sub(self.last_ms) >= window_ms {
            return 0;
        }
        let (at, total) = self.older;
        let span = now_ms.saturating_sub(at).max(1);
        self.total.saturating_sub(total).saturating_mul(1000) / span
    }
}

impl Activity {
    /// A connection just accepted, busy, whose recent rate is measured over `rate_window`.
    pub(crate) fn new(rate_window: Duration) -> Activity {
        Activity {
            phase: AtomicU8::new(Phase::Busy as u8),
            state: Mutex::new(State {
                since_ms: millis(Instant::now()),
                received: Meter::default(),
                sent: Meter::default(),
            }),
            window_ms: window_ms(rate_window),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Enters `phase`, whose request, answer or idleness began at `since`.
    pub(crate) fn begin(&self, phase: Phase, since: Instant) {
        self.state().since_ms = millis(since);
        self.enter(phase);
    }

    /// Only the phase changes.
    pub(crate) fn enter(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
    }

    /// `n` more bytes moved `flow`.
    pub(crate) fn moved(&self, flow: Flow, n: u64) {
        let now_ms = millis(Instant::now());
        let mut state = self.state();
        match flow {
            Flow::In => state.received.record(now_ms, n, self.window_ms),
            Flow::Out => state.sent.record(now_ms, n, self.window_ms),
        }
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
    /// requests, or new and silent for [`SHED_MIN_AGE`]; longest idle first), then those
    /// receiving a request or sending an answer that have lately moved bytes that way slower
    /// than the rate rule (slowest first; once [`SHED_MIN_AGE`] into their first bytes and
    /// [`SHED_MIN_STEP`] into this request or answer).
    fn shed_rank(&self, now: Instant, rules: &Rules) -> Option<(u8, u64)> {
        let state = *self.state();
        let now_ms = millis(now);
        let age = Duration::from_millis(now_ms.saturating_sub(state.since_ms));
        let idle_rank = u64::MAX - now_ms.saturating_sub(state.since_ms);
        let meter = match self.phase() {
            Phase::Lingering => return Some((0, idle_rank)),
            Phase::Idle => return Some((1, idle_rank)),
            Phase::New => return (age >= SHED_MIN_AGE).then_some((1, idle_rank)),
            Phase::Receiving => state.received,
            Phase::Sending => state.sent,
            Phase::Busy => return None,
        };
        if rules.min_rate == 0 || age < SHED_MIN_STEP || !meter.old(now_ms) {
            return None;
        }
        let rate = meter.recent_rate(now_ms, self.window_ms);
        (rate < rules.min_rate).then_some((2, rate))
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
        rate_window: crate::DEFAULT_RATE_WINDOW,
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
    fn a_fast_start_leaves_the_recent_rate_within_two_windows_of_any_size() {
        for window in [crate::DEFAULT_RATE_WINDOW.as_millis() as u64, 500, 40] {
            let mut meter = Meter::default();
            // A megabyte at once, then a byte every tenth of a window.
            meter.record(0, 1_000_000, window);
            let tick = window / 10;
            let mut now = 0;
            while now < window + tick {
                now += tick;
                meter.record(now, 1, window);
            }
            // Within two windows the start still shows...
            assert!(meter.recent_rate(now, window) > 100_000, "window {window}");
            while now < 2 * window + 2 * tick {
                now += tick;
                meter.record(now, 1, window);
            }
            // ...past them only the trickle does: ten bytes a window.
            let rate = meter.recent_rate(now, window);
            assert!(
                rate <= 10_000 / window + 1,
                "window {window}: {rate} bytes/s"
            );
            // Nothing for a whole window: no rate at all.
            assert_eq!(meter.recent_rate(now + window, window), 0);
        }
    }

    #[test]
    fn the_rate_window_is_two_seconds_by_default_and_never_zero() {
        assert_eq!(crate::DEFAULT_RATE_WINDOW, Duration::from_secs(2));
        assert_eq!(Activity::new(crate::DEFAULT_RATE_WINDOW).window_ms, 2_000);
        assert_eq!(Activity::new(Duration::from_millis(250)).window_ms, 250);
        assert_eq!(Activity::new(Duration::ZERO).window_ms, 1);
        assert_eq!(Activity::new(Duration::MAX).window_ms, u64::MAX);
    }

    #[test]
    fn lingering_then_idle_then_the_slowest_give_way_and_busy_and_new_ones_never() {
        let long_ago = Instant::now();
        let make = |phase, since, bytes| {
            let activity = Activity::new(RULES.rate_window);
            activity.moved(Flow::In, bytes);
            activity.begin(phase, since);
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
