//! A pause shared by the workers of a batch (the retry layer's, so that the request loop
//! below the batch can honour it): when one call is told to wait (`Retry-After`),
//! every worker waits before its next request instead of each finding out with its own 429;
//! and when the batch stops (an error with `stop_on_error`, the cancel flag, a panic), every
//! pause ends at once and nothing more is sent.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The earliest moment the next request of a batch may be sent, and whether the batch has
/// stopped.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    open_at: Option<Instant>,
    stopped: bool,
}

impl Gate {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes the gate for `wait` from now (a later deadline already set is kept). A wait too
    /// long to be an [`Instant`] closes it until the batch stops.
    pub(crate) fn hold_for(&self, wait: Duration) {
        let until = Instant::now().checked_add(wait);
        let mut state = self.state();
        state.open_at = match (state.open_at, until) {
            (Some(current), Some(until)) => Some(current.max(until)),
            (None, Some(until)) => Some(until),
            (_, None) => Some(far_future()),
        };
    }

    /// Opens the gate for good, once its batch has ended: a client cloned out of the batch
    /// (in a [`Batch::run`](crate::Batch::run) closure) must not keep its stop or its pause.
    pub(crate) fn reopen(&self) {
        *self.state() = State::default();
        self.changed.notify_all();
    }

    /// Ends every pause, now and later: the batch sends nothing more.
    pub(crate) fn stop(&self) {
        self.state().stopped = true;
        self.changed.notify_all();
    }

    /// Blocks until the gate is open; see [`Gate::pause`].
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> Result<(), Closed> {
        self.pause(Duration::ZERO, deadline)
    }

    /// Blocks for `wait` and until the gate is open. Gives up at once when the gate opens at
    /// or after `deadline` ([`Closed::PastDeadline`]: the call could not be sent in time), and
    /// as soon as the batch stops ([`Closed::Stopped`]).
    pub(crate) fn pause(&self, wait: Duration, deadline: Option<Instant>) -> Result<(), Closed> {
        let own = Instant::now().checked_add(wait).unwrap_or_else(far_future);
        let mut state = self.state();
        loop {
            if state.stopped {
                return Err(Closed::Stopped);
            }
            let until = state.open_at.map_or(own, |t| t.max(own));
            if deadline.is_some_and(|d| until >= d) {
                return Err(Closed::PastDeadline);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Why a call did not get through the gate.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    /// The batch stopped.
    Stopped,
    /// The gate opens too late for the call's deadline.
    PastDeadline,
}

/// A moment no pause reaches: far enough for any wait, near enough to be an [`Instant`].
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_gate_blocks_until_its_deadline_and_keeps_the_later_one() {
        let gate = Gate::default();
        assert_eq!(gate.wait(None), Ok(())); // open: returns at once
        gate.hold_for(Duration::from_millis(150));
        gate.hold_for(Duration::from_millis(10));
        let far = Instant::now().checked_add(Duration::from_secs(3600));
        let start = Instant::now();
        assert_eq!(gate.wait(far), Ok(()));
        assert!(start.elapsed() >= Duration::from_millis(100));
    }

    #[test]
    fn a_huge_hold_does_not_overflow_and_a_stop_ends_the_pause() {
        let gate = std::sync::Arc::new(Gate::default());
        gate.hold_for(Duration::MAX);
        gate.hold_for(Duration::from_secs(u64::MAX / 2));
        let stopper = std::sync::Arc::clone(&gate);
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            stopper.stop();
        });
        let soon = Instant::now().checked_add(Duration::from_secs(1));
        assert_eq!(gate.wait(soon), Err(Closed::PastDeadline), "at once");
        assert_eq!(gate.pause(Duration::MAX, None), Err(Closed::Stopped));
        assert_eq!(
            gate.wait(None),
            Err(Closed::Stopped),
            "a stopped gate stays"
        );
        thread.join().unwrap();
    }
}
