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
