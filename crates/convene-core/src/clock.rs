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
