//! Which constraint a failed write broke, as both databases report it through sqlx, told as the
//! store error callers act on.

use convene_store::{Conflict, StoreError};

/// A write that names a deleted row (a broken foreign key) is `NotFound`, not a server error.
pub(crate) fn gone(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
        _ => StoreError::from(e),
    }
}

/// A write that breaks a UNIQUE or PRIMARY KEY constraint is `conflict`.
pub(crate) fn taken(conflict: Conflict) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(conflict),
        _ => StoreError::from(e),
    }
}
