//! When and how long to wait before trying a failed call again: exponential backoff with full
//! jitter, and the server's `Retry-After`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::rand::random_fraction;

pub(crate) mod gate;

pub(crate) use gate::Gate;

/// How a client retries failed calls.
///
/// The default tries a call up to 3 times in all (2 retries), waiting a random time up to
/// `base_delay × 2^attempt` (capped at `max_delay`) between tries, or what the server's
/// `Retry-After` asks when that is at most `max_retry_after`.
///
/// ```
/// use std::time::Duration;
/// use openrouter_files::RetryPolicy;
///
/// let patient = RetryPolicy::default()
///     .with_max_retries(5)
///     .with_base_delay(Duration::from_millis(250))
///     .with_max_retry_after(Duration::from_secs(120));
/// assert_eq!(patient.max_retries(), 5);
/// assert_eq!(RetryPolicy::none().max_retries(), 0);
/// # let _ = patient;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> RetryPolicy {
        RetryPolicy::default().with_max_retries(0)
    }

    /// How many times a failed call is tried again (default 2). Every wait still has to end
    /// before the call's [deadline](crate::FilesClientBuilder::deadline); uploads and
    /// downloads have none by default, so give them one when this number is large.
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The backoff unit: the wait before retry `n` is random in `0..=base × 2^n` (default 500 ms).
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest backoff between two tries (default 8 s).
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest `Retry-After` the client waits for (default 60 s). A longer one ends the call
    /// at once with the error, which carries the requested wait; so does one that would pass
    /// the call's deadline, or one of a century or more (`Duration::MAX` here takes every
    /// other wait).
    pub fn with_max_retry_after(mut self, delay: Duration) -> Self {
        self.max_retry_after = delay;
        self
    }

    /// How many times a failed call is tried again.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The backoff unit.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The longest backoff between two tries.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The longest `Retry-After` the client waits for.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The wait before retry number `retry` (0 for the first), or None when the server asked
    /// for longer than [`RetryPolicy::max_retry_after`].
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if let Some(wait) = retry_after {
            return (wait <= self.max_retry_after).then_some(wait);
        }
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(30)))
            .min(self.max_delay);
        // Not `mul_f64`: it panics when a huge `max_delay` rounds up past `Duration::MAX`.
        let wait = Duration::try_from_secs_f64(ceiling.as_secs_f64() * random_fraction());
        Some(wait.unwrap_or(ceiling).min(ceiling))
    }
}

/// Timeouts this long are taken as no limit at all, and waits this long as never ending.
pub(crate) const UNLIMITED: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Whether a retry may wait `wait` from now: the wait must end before `deadline`, if there is
/// one, and in practice at all: a wait of 100 years or more (a `Retry-After` of 1e300 ms that
/// the policy accepts) would never end, so the call gives up at once instead.
pub(crate) fn may_wait(wait: Duration, deadline: Option<Instant>) -> bool {
    wait < UNLIMITED
        && Instant::now()
            .checked_add(wait)
            .is_some_and(|end| deadline.is_none_or(|d| end < d))
}

/// The wait a response asks for: `retry-after-ms`, else `Retry-After` in seconds or as an
/// HTTP date. Any value a server sends gives a wait or `None`, never a panic: a wait too long
/// for a [`Duration`] saturates to [`Duration::MAX`] (and is then above any cap).
pub(crate) fn retry_after(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms >= 0.0
    {
        // NaN fails `>= 0.0`; infinity and 1e300 do not fit a Duration and saturate.
        return Some(Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX));
    }
    let value = text("retry-after")?;
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let when = crate::codec::date::parse_http_date(value)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i128::from(d.as_secs()));
    let secs = (when - now).max(0);
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_the_exponential_ceiling() {
        let policy = RetryPolicy::default()
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_millis(300));
        for retry in 0..6 {
            let ceiling = Duration::from_millis((100u64 << retry).min(300));
            let wait = policy.delay(retry, None).unwrap();
            assert!(wait <= ceiling, "retry {retry}: {wait:?} > {ceiling:?}");
        }
    }

    #[test]
    fn retry_after_above_the_cap_stops_retrying() {
        let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(5));
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3))
        );
        assert_eq!(policy.delay(0, Some(Duration::from_secs(6))), None);
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_milliseconds() {
        let mut headers = ureq::http::HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = SystemTime::now() + Duration::from_secs(30);
        headers.insert(
            "retry-after",
            crate::codec::date::format_http_date(later).parse().unwrap(),
        );
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(28) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        headers.insert("retry-after-ms", "1500".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        headers.clear();
        headers.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn absurd_retry_after_values_saturate_instead_of_panicking() {
        let wait = |name: &str, value: &str| {
            let mut headers = ureq::http::HeaderMap::new();
            headers.insert(
                ureq::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
            retry_after(&headers)
        };
        assert_eq!(wait("retry-after-ms", "1e300"), Some(Duration::MAX));
        assert_eq!(wait("retry-after-ms", "inf"), Some(Duration::MAX));
        assert_eq!(wait("retry-after-ms", "NaN"), None);
        assert_eq!(wait("retry-after-ms", "-5"), None);
        assert_eq!(
            wait("retry-after", "99999999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            wait("retry-after", "Sun, 06 Nov 99999999999999 08:49:37 GMT"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            wait("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(0, Some(Duration::MAX)), None);
    }
}
