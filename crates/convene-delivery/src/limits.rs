//! Rate limits: a token bucket per webhook, refilled at a rate per second
//! with a burst of one second's worth. Kept per process (several nodes each allow the rate).

use convene_core::{Timestamp, WebhookId};
use std::collections::HashMap;
use std::sync::Mutex;
use time::Duration;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

#[derive(Debug)]
pub struct RateLimits<K = WebhookId>(Mutex<HashMap<K, Bucket>>);

impl<K> Default for RateLimits<K> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + std::hash::Hash + Clone> RateLimits<K> {
    /// Takes a token for `key` at `now`, or says how long until one is there.
    pub fn take(&self, key: &K, rate_per_s: u32, now: Timestamp) -> Result<(), Duration> {
        let rate = f64::from(rate_per_s.max(1));
        let mut buckets = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: rate,
            at: now,
        });
        let elapsed = (now - bucket.at).as_seconds_f64().max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::seconds_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_burst_of_one_second_then_the_rate() {
        let limits = RateLimits::default();
        let hook = WebhookId::new();
        let t0 = datetime!(2026-11-23 10:00:00 UTC);
        for _ in 0..3 {
            assert!(limits.take(&hook, 3, t0).is_ok());
        }
        let wait = limits.take(&hook, 3, t0).unwrap_err();
        assert!((wait.as_seconds_f64() - 1.0 / 3.0).abs() < 1e-6, "{wait}");
        assert!(
            limits
                .take(&hook, 3, t0 + Duration::milliseconds(334))
                .is_ok()
        );
        assert!(
            limits
                .take(&hook, 3, t0 + Duration::milliseconds(334))
                .is_err()
        );
        assert!(
            limits.take(&WebhookId::new(), 3, t0).is_ok(),
            "each endpoint has its own"
        );
    }
}
