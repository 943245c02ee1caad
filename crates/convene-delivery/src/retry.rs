//! When a failed delivery is tried again: a schedule with jitter, `Retry-After` honoured within a
//! bound, throttling and timeouts penalised, 410 disabling the endpoint.

use crate::outcome::{ErrorClass, Outcome};
use convene_core::Timestamp;
use rand::Rng;
use time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Delay before each retry; attempts in all = 1 + its length.
    pub schedule: Vec<Duration>,
    /// Each delay is scaled by a factor drawn from `1 ± jitter`.
    pub jitter: f64,
    /// A `Retry-After` longer than this is cut to it.
    pub max_retry_after: Duration,
    /// Throttled and timed-out attempts wait this many times longer.
    pub penalty: u32,
}

impl Default for RetryPolicy {
    /// Svix's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, ±20 %.
    fn default() -> Self {
        Self {
            schedule: vec![
                Duration::seconds(5),
                Duration::minutes(5),
                Duration::minutes(30),
                Duration::hours(2),
                Duration::hours(5),
                Duration::hours(10),
                Duration::hours(10),
            ],
            jitter: 0.2,
            max_retry_after: Duration::hours(1),
            penalty: 2,
        }
    }
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(Timestamp),
    /// The last attempt failed: the delivery is `failed` and waits for a manual retry.
    Exhausted,
    /// 410 Gone: no retry, and the endpoint is disabled.
    DisableEndpoint,
}

impl RetryPolicy {
    /// `attempts` counts the attempts made so far, this one included (1 after the first).
    pub fn next(
        &self,
        attempts: u32,
        outcome: &Outcome,
        now: Timestamp,
        rng: &mut impl Rng,
    ) -> Next {
        let Some(class) = outcome.error_class() else {
            return Next::Delivered;
        };
        if class == ErrorClass::Gone {
            return Next::DisableEndpoint;
        }
        let Some(base) = attempts
            .checked_sub(1)
            .and_then(|i| self.schedule.get(i as usize))
        else {
            return Next::Exhausted;
        };
        let factor = if self.jitter > 0.0 {
            rng.random_range(1.0 - self.jitter..=1.0 + self.jitter)
        } else {
            1.0
        };
        let mut delay = *base * factor;
        if class.is_penalised() {
            delay *= self.penalty as f64;
        }
        if let Outcome::Answered {
            retry_after: Some(asked),
            ..
        } = outcome
        {
            delay = delay.max((*asked).min(self.max_retry_after));
        }
        Next::RetryAt(now + delay)
    }

    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.schedule.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use time::macros::datetime;

    const NOW: Timestamp = datetime!(2026-11-23 10:00:00 UTC);

    fn failed(status: u16) -> Outcome {
        Outcome::Answered {
            status,
            retry_after: None,
        }
    }

    fn exact() -> RetryPolicy {
        RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn follows_the_schedule_then_gives_up() {
        let policy = exact();
        let mut rng = StdRng::seed_from_u64(1);
        let waits: Vec<_> = (1..=7)
            .map(|n| match policy.next(n, &failed(500), NOW, &mut rng) {
                Next::RetryAt(at) => at - NOW,
                other => panic!("attempt {n}: {other:?}"),
            })
            .collect();
        assert_eq!(waits, policy.schedule);
        assert_eq!(policy.next(8, &failed(500), NOW, &mut rng), Next::Exhausted);
        assert_eq!(policy.max_attempts(), 8);
    }

    #[test]
    fn success_gone_and_redirects() {
        let mut rng = StdRng::seed_from_u64(1);
        let policy = RetryPolicy::default();
        assert_eq!(policy.next(1, &failed(204), NOW, &mut rng), Next::Delivered);
        assert_eq!(
            policy.next(1, &failed(410), NOW, &mut rng),
            Next::DisableEndpoint
        );
        assert!(matches!(
            policy.next(1, &failed(302), NOW, &mut rng),
            Next::RetryAt(_)
        ));
    }

    #[test]
    fn throttling_and_timeouts_wait_longer_and_retry_after_is_bounded() {
        let policy = exact();
        let mut rng = StdRng::seed_from_u64(1);
        let wait = |outcome: Outcome, rng: &mut StdRng| match policy.next(2, &outcome, NOW, rng) {
            Next::RetryAt(at) => at - NOW,
            other => panic!("{other:?}"),
        };
        assert_eq!(wait(failed(429), &mut rng), Duration::minutes(10));
        assert_eq!(wait(Outcome::TimedOut, &mut rng), Duration::minutes(10));
        assert_eq!(
            wait(Outcome::Unreachable("refused".into()), &mut rng),
            Duration::minutes(5)
        );
        let asked = |secs| Outcome::Answered {
            status: 503,
            retry_after: Some(Duration::seconds(secs)),
        };
        assert_eq!(
            wait(asked(1800), &mut rng),
            Duration::minutes(30),
            "a longer Retry-After wins"
        );
        assert_eq!(
            wait(asked(1), &mut rng),
            Duration::minutes(10),
            "a shorter one does not hurry us"
        );
        assert_eq!(
            wait(asked(86_400), &mut rng),
            Duration::hours(1),
            "and it is bounded"
        );
    }

    proptest! {
        #[test]
        fn jitter_stays_within_twenty_percent(seed in any::<u64>(), attempt in 1u32..=7) {
            let policy = RetryPolicy::default();
            let base = policy.schedule[attempt as usize - 1];
            let mut rng = StdRng::seed_from_u64(seed);
            match policy.next(attempt, &failed(500), NOW, &mut rng) {
                Next::RetryAt(at) => {
                    let wait = at - NOW;
                    prop_assert!(wait >= base * 0.8 && wait <= base * 1.2, "{wait} for {base}");
                }
                other => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
