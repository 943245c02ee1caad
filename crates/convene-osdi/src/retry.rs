//! What to do after each answer of the OSDI server: 429 waits for `Retry-After`, 5xx and
//! connection failures back off exponentially with jitter, both within a bounded number of
//! attempts (then the run aborts); another 4xx fails the record and the run goes on. Only
//! idempotent requests are retried.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    pub max_attempts: u32,
    pub backoff_initial_ms: u64,
    pub backoff_factor: u32,
    pub backoff_max_ms: u64,
    pub retry_after_default_s: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            backoff_initial_ms: 500,
            backoff_factor: 2,
            backoff_max_ms: 30_000,
            retry_after_default_s: 5,
        }
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `retry_after`: the header's wait, already parsed (seconds or HTTP date).
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No answer: refused, reset, timed out.
    Connection,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Done,
    RetryAfter(Duration),
    /// This record failed; the run goes on.
    FailRecord,
    /// Attempts are used up (or a failure cannot be retried safely): the run stops, its
    /// cursors unmoved.
    AbortRun,
}

/// `attempt` is 1 for the first try; `jitter` is uniform in [0, 1).
pub fn decide(
    config: &RetryConfig,
    attempt: u32,
    answer: &Answer,
    idempotent: bool,
    jitter: f64,
) -> Decision {
    let transient = match answer {
        Answer::Status { status, .. } if (200..300).contains(status) => return Decision::Done,
        Answer::Status { status: 429, .. } | Answer::Connection => true,
        Answer::Status { status, .. } if *status >= 500 => true,
        Answer::Status { .. } => return Decision::FailRecord,
    };
    if !transient || !idempotent || attempt >= config.max_attempts {
        return Decision::AbortRun;
    }
    match answer {
        Answer::Status {
            status: 429,
            retry_after,
        } => Decision::RetryAfter(
            retry_after.unwrap_or(Duration::from_secs(config.retry_after_default_s)),
        ),
        _ => Decision::RetryAfter(backoff(config, attempt, jitter)),
    }
}

/// Exponential from `backoff_initial_ms`, capped at `backoff_max_ms`. Jitter adds up to half
/// again, so clients that failed together do not return together; it never shortens the wait
/// (the configured value is a floor) and never passes the cap.
pub fn backoff(config: &RetryConfig, attempt: u32, jitter: f64) -> Duration {
    let factor = u64::from(config.backoff_factor.max(1)).saturating_pow(attempt.saturating_sub(1));
    let base = config
        .backoff_initial_ms
        .saturating_mul(factor)
        .min(config.backoff_max_ms);
    let extra = (base as f64 / 2.0 * jitter.clamp(0.0, 1.0)) as u64;
    Duration::from_millis(
        base.saturating_add(extra)
            .min(config.backoff_max_ms.max(base)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: RetryConfig = RetryConfig {
        max_attempts: 5,
        backoff_initial_ms: 500,
        backoff_factor: 2,
        backoff_max_ms: 30_000,
        retry_after_default_s: 5,
    };

    fn status(s: u16) -> Answer {
        Answer::Status {
            status: s,
            retry_after: None,
        }
    }

    #[test]
    fn each_class_of_answer_has_its_rule() {
        assert_eq!(decide(&C, 1, &status(200), true, 0.0), Decision::Done);
        assert_eq!(decide(&C, 1, &status(404), true, 0.0), Decision::FailRecord);
        assert_eq!(decide(&C, 1, &status(422), true, 0.0), Decision::FailRecord);
        let wait = Answer::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            decide(&C, 1, &wait, true, 0.9),
            Decision::RetryAfter(Duration::from_secs(7))
        );
        assert_eq!(
            decide(&C, 1, &status(429), true, 0.9),
            Decision::RetryAfter(Duration::from_secs(5)),
            "the default wait"
        );
        assert_eq!(
            decide(&C, 2, &status(503), true, 0.0),
            Decision::RetryAfter(Duration::from_millis(1000))
        );
        assert_eq!(
            decide(&C, 1, &Answer::Connection, true, 0.999),
            Decision::RetryAfter(Duration::from_millis(749))
        );
        assert_eq!(
            decide(&C, 5, &status(503), true, 0.0),
            Decision::AbortRun,
            "attempts used up"
        );
        assert_eq!(
            decide(&C, 1, &status(500), false, 0.0),
            Decision::AbortRun,
            "never retried when not idempotent"
        );
    }

    #[test]
    fn backoff_doubles_to_its_cap_and_jitter_only_adds() {
        let waits = |jitter: f64| -> Vec<u64> {
            (1..=8)
                .map(|a| backoff(&C, a, jitter).as_millis() as u64)
                .collect()
        };
        assert_eq!(
            waits(0.0),
            vec![500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]
        );
        assert_eq!(
            waits(0.999),
            vec![749, 1499, 2999, 5998, 11996, 23992, 30000, 30000]
        );
        assert_eq!(backoff(&C, 3, 0.5).as_millis(), 2500);
        // Five attempts wait at least 0.5 + 1 + 2 + 4 s between them, whatever the jitter.
        let least: Duration = (1..C.max_attempts).map(|a| backoff(&C, a, 0.0)).sum();
        assert_eq!(least, Duration::from_millis(7500));
    }
}
