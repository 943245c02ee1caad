//! What PostgreSQL does differently, named: `timestamptz` times, `text[]` lists with `= ANY`,
//! SQLSTATEs of a server that cannot serve now as unavailability.

use convene_core::Timestamp;
use convene_store::StoreError;

pub fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.into()),
        sqlx::Error::Database(ref db) if db.code().is_some_and(|c| server_unavailable(&c)) => {
            StoreError::Unavailable(e.into())
        }
        other => StoreError::Other(other.into()),
    }
}

/// SQLSTATEs of a server that cannot serve now (connection exceptions, shutting down, starting
/// up, out of connections), not of a bad statement.
fn server_unavailable(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P") || code == "53300"
}

/// True for a UNIQUE or PRIMARY KEY violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// True for a FOREIGN KEY violation (the row referred to was deleted meanwhile).
pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

/// A connection, as statements inside a transaction take it.
pub type Conn = sqlx::PgConnection;

/// A time column: `timestamptz`, read and written as the domain's time itself.
pub type DbTime = Timestamp;

pub fn db_time(t: Timestamp) -> DbTime {
    t
}

pub fn time_of(t: DbTime) -> Timestamp {
    t
}

/// `column` is one of the texts bound at `$n` (bound with [`text_list`]).
pub fn in_list(column: &str, n: u8) -> String {
    format!("{column} = ANY(${n})")
}

/// A list of texts as one bind: a `text[]`.
pub fn text_list<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    items.iter().map(|s| s.as_ref().to_owned()).collect()
}

/// Row locks: the rows read are locked until the transaction ends, serialising writers.
pub const FOR_UPDATE: &str = " FOR UPDATE";

/// Claims: rows another node is claiming are skipped, not waited for.
pub const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

/// The texts of the JSON array bound at `$n`, as rows of `value`, ordered by `key`.
pub fn json_texts(n: u8) -> String {
    format!("jsonb_array_elements_text(${n}) WITH ORDINALITY AS elements(value, key)")
}

/// The elements of the JSON array bound at `$n`, as rows of `value` (read members with `->>`),
/// ordered by `key`.
pub fn json_rows(n: u8) -> String {
    format!("jsonb_array_elements(${n}) WITH ORDINALITY AS elements(value, key)")
}

/// How the notification filter spells `LIKE` here.
pub const DIALECT: crate::notification_sql::Dialect = crate::notification_sql::Dialect::Postgres;

/// A `LIMIT` that limits nothing.
pub const NO_LIMIT: &str = "ALL";

/// A list of integers as one bind (`bigint[]`), for [`in_list`].
pub fn int_list(items: &[i64]) -> Vec<i64> {
    items.to_vec()
}

/// Whole Unix seconds of a time column.
pub fn epoch_seconds(column: &str) -> String {
    format!("floor(extract(epoch FROM {column}))::bigint")
}
