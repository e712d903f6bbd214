//! A little randomness for the places that need spread, not secrecy: backoff jitter and
//! multipart boundaries. No dependency: `RandomState`'s per-instance keys hashed with the clock.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// 64 bits that differ from call to call (not cryptographic).
pub(crate) fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// A number in `[0, 1)` that differs from call to call.
pub(crate) fn random_fraction() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_vary_and_stay_in_range() {
        let samples: Vec<f64> = (0..20).map(|_| random_fraction()).collect();
        assert!(samples.iter().all(|f| (0.0..1.0).contains(f)));
        assert!(samples.windows(2).any(|w| w[0] != w[1]));
    }
}
