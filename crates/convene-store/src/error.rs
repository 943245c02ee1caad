use std::error::Error as StdError;

pub type StoreResult<T> = Result<T, StoreError>;

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    Username,
    Slug,
    /// An OSDI sync profile's name.
    ProfileName,
    /// A profile already has a run queued or running.
    RunActive,
    /// An inbound source's name.
    SourceName,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict on {0:?}")]
    Conflict(Conflict),
    #[error("database unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    #[error("database error")]
    Other(#[source] Box<dyn StdError + Send + Sync>),
}

/// Any sqlx error as a store error, for both SQL backends: a missing row is `NotFound`; a
/// database that cannot serve now (pool, I/O or protocol failures, SQLite busy, PostgreSQL's
/// connection, shutdown and too-many-connections SQLSTATEs) is `Unavailable`; the rest `Other`.
#[cfg(feature = "sqlx")]
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.into()),
            sqlx::Error::Database(ref db) if db.code().is_some_and(|c| cannot_serve_now(&c)) => {
                StoreError::Unavailable(e.into())
            }
            other => StoreError::Other(other.into()),
        }
    }
}

/// SQLite's `SQLITE_BUSY` (5); PostgreSQL's connection exceptions (08…), operator
/// intervention (57P…: shutting down, starting up) and too many connections (53300).
#[cfg(feature = "sqlx")]
fn cannot_serve_now(code: &str) -> bool {
    code == "5" || code.starts_with("08") || code.starts_with("57P") || code == "53300"
}
