//! Time is injected, so schedules and expiries are testable without sleeping.

use time::OffsetDateTime;

/// Every stored time is UTC with microsecond precision, so both databases round-trip it exactly.
pub type Timestamp = OffsetDateTime;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        truncate_to_micros(OffsetDateTime::now_utc())
    }
}

/// A clock that moves only when told: system time at creation, then `advance`d by tests.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new() -> Self {
        Self(std::sync::Mutex::new(SystemClock.now()))
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Drops sub-microsecond digits: PostgreSQL keeps microseconds, and a time read back must equal
/// the time written.
pub fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let micros = t.microsecond();
    t.replace_microsecond(micros)
        .unwrap_or(t)
        .to_offset(time::UtcOffset::UTC)
}

/// RFC 3339 in UTC, as the API prints every time (`2026-11-23T10:00:00Z`).
pub mod rfc3339 {
    pub use time::serde::rfc3339::{deserialize, option, serialize};
}

/// Unix microseconds: how SQLite and the OSDI tables store a time, and how cursors carry one.
pub fn micros(t: Timestamp) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

pub fn from_micros(us: i64) -> Timestamp {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub fn opt_micros(t: Option<Timestamp>) -> Option<i64> {
    t.map(micros)
}
