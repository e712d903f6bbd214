//! A pause shared by the workers of a batch: when one call is told to wait (`Retry-After`),
//! every worker waits before its next request instead of each finding out with its own 429.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The earliest moment the next request of a batch may be sent.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    open_at: Mutex<Option<Instant>>,
}

impl Gate {
    /// Closes the gate for `wait` from now (a later deadline already set is kept).
    pub(crate) fn hold_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut open_at = self.open_at.lock().unwrap_or_else(|e| e.into_inner());
        if open_at.is_none_or(|t| t < until) {
            *open_at = Some(until);
        }
    }

    /// Blocks until the gate is open.
    pub(crate) fn wait(&self) {
        loop {
            let open_at = *self.open_at.lock().unwrap_or_else(|e| e.into_inner());
            match open_at.map(|t| t.saturating_duration_since(Instant::now())) {
                Some(left) if !left.is_zero() => std::thread::sleep(left),
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_gate_blocks_until_its_deadline_and_keeps_the_later_one() {
        let gate = Gate::default();
        gate.wait(); // open: returns at once
        gate.hold_for(Duration::from_millis(150));
        gate.hold_for(Duration::from_millis(10));
        let start = Instant::now();
        gate.wait();
        assert!(start.elapsed() >= Duration::from_millis(100));
    }
}
