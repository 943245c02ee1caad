//! Action Network's rate rule as it states it: at most N request starts in any 1,000 ms
//! window, per API token. A token bucket lets a burst through on top of the rate; this keeps
//! the start times of the last N requests of each token and lets the next one start only when
//! the oldest of them is a window old. Every client of a token in this process shares it, so
//! concurrent runs of profiles with the same token stay under the limit together.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window, with a margin: the server sees arrivals, which network jitter can bring a few
/// milliseconds closer together than the starts were.
const WINDOW: Duration = Duration::from_millis(1_025);

#[derive(Default)]
pub struct Throttle {
    starts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    /// Waits until a request of `token` may start, and counts it as started.
    pub async fn start(&self, token: &str, per_second: u32) {
        while let Some(wait) = self.try_start(token, per_second, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }

    /// `None` when a request may start at `now` (it is counted), else how long to wait.
    fn try_start(&self, token: &str, per_second: u32, now: Instant) -> Option<Duration> {
        let limit = per_second.max(1) as usize;
        let mut starts = self
            .starts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let recent = starts.entry(token.to_owned()).or_default();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            recent.pop_front();
        }
        if recent.len() < limit {
            recent.push_back(now);
            return None;
        }
        recent.front().map(|oldest| *oldest + WINDOW - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_window_holds_more_than_the_limit() {
        let throttle = Throttle::default();
        let t0 = Instant::now();
        let mut started = Vec::new();
        let mut now = t0;
        while started.len() < 12 {
            match throttle.try_start("t", 4, now) {
                None => started.push(now),
                Some(wait) => now += wait,
            }
        }
        for (i, at) in started.iter().enumerate() {
            let within = started[i..].iter().filter(|t| **t - *at < WINDOW).count();
            assert!(
                within <= 4,
                "{within} starts within a window from start {i}"
            );
        }
        assert_eq!(
            started[4] - started[0],
            WINDOW,
            "the fifth waits for the first"
        );
        assert!(
            throttle.try_start("other", 4, t0).is_none(),
            "tokens are apart"
        );
    }
}
