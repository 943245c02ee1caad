//! Which constraint a failed write broke, as both databases report it through sqlx.

/// True for a UNIQUE or PRIMARY KEY violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// True for a FOREIGN KEY violation (the row referred to was deleted meanwhile).
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}
