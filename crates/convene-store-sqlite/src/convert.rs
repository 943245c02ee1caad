//! Conversions between SQLite's column types and the domain's.

use convene_core::Timestamp;
use convene_store::StoreError;
use time::OffsetDateTime;

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

pub fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.into())
        }
        sqlx::Error::Database(ref db) if db.code().as_deref() == Some("5") => {
            StoreError::Unavailable(e.into())
        }
        other => StoreError::Other(other.into()),
    }
}

/// True for a UNIQUE or PRIMARY KEY violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// True for a FOREIGN KEY violation (the row referred to was deleted meanwhile).
pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}
