//! What SQLite does differently, named: times as Unix microseconds, lists as JSON arrays that
//! `json_each` opens.

use convene_core::Timestamp;

/// SQLite keeps times as Unix microseconds, as the shared OSDI tables do on both backends.
pub use convene_core::clock::{from_micros, micros, opt_micros};

/// A connection, as statements inside a transaction take it.
pub type Conn = sqlx::SqliteConnection;

/// A time column: Unix microseconds in an INTEGER.
pub type DbTime = i64;

pub fn db_time(t: Timestamp) -> DbTime {
    micros(t)
}

pub fn time_of(t: DbTime) -> Timestamp {
    from_micros(t)
}

/// A time travelling in a JSON row as Unix microseconds, as a time column takes it.
pub fn json_time(expr: &str) -> String {
    format!("CAST({expr} AS INTEGER)")
}

/// `column` is one of the texts bound at `$n` (bound with [`text_list`]).
pub fn in_list(column: &str, n: u8) -> String {
    format!("{column} IN (SELECT value FROM json_each(${n}))")
}

/// A list of texts as one bind: a JSON array, which `json_each` opens.
pub fn text_list<S: AsRef<str>>(items: &[S]) -> String {
    serde_json::to_string(&items.iter().map(AsRef::as_ref).collect::<Vec<_>>()).unwrap_or_default()
}

/// Row locks: none, because the single writer connection already serialises every write.
pub const FOR_UPDATE: &str = "";

/// Claims: no skipping, because no other writer can hold a row.
pub const SKIP_LOCKED: &str = "";

/// The texts of the JSON array bound at `$n`, as rows of `value`, ordered by `key`.
pub fn json_texts(n: u8) -> String {
    format!("json_each(${n})")
}

/// The elements of the JSON array bound at `$n`, as rows of `value` (read members with `->>`),
/// ordered by `key`. `jsonb_each` hands each row on in SQLite's binary form, so reading its
/// members neither writes the row out as text nor parses it again.
pub fn json_rows(n: u8) -> String {
    format!("jsonb_each(${n})")
}

/// `LIKE` as the notification filter spells it: SQLite's `LIKE` ignores ASCII case, so `GLOB`
/// is its case-sensitive match.
pub fn like(column: &str, p: &str, pattern: &str, insensitive: bool) -> (String, String) {
    if insensitive {
        (
            format!("lower({column}) LIKE {p} ESCAPE '\\'"),
            pattern.to_lowercase(),
        )
    } else {
        (format!("{column} GLOB {p}"), like_to_glob(pattern))
    }
}

/// A `LIKE` pattern (`%`, `_`, `\` escapes) as a `GLOB` pattern.
pub fn like_to_glob(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '\\' => {
                if let Some(next) = chars.next() {
                    push_literal(&mut out, next);
                }
            }
            c => push_literal(&mut out, c),
        }
    }
    out
}

fn push_literal(out: &mut String, c: char) {
    if matches!(c, '*' | '?' | '[') {
        out.push('[');
        out.push(c);
        out.push(']');
    } else {
        out.push(c);
    }
}

/// A `LIMIT` that limits nothing.
pub const NO_LIMIT: &str = "-1";

/// A list of integers as one bind, for [`in_list`].
pub fn int_list(items: &[i64]) -> String {
    serde_json::to_string(items).unwrap_or_default()
}

/// Whole Unix seconds of a time column.
pub fn epoch_seconds(column: &str) -> String {
    format!("({column} / 1000000)")
}

/// A consistent copy of the database into a new file (bound at `$1`), taken in one read
/// transaction while the server goes on writing.
pub const BACKUP_INTO: Option<&str> = Some("VACUUM INTO $1");

/// One node: nobody to nudge.
pub const NUDGE: Option<&str> = None;

/// One node: no nudges to hear.
pub async fn nudges(
    _pool: &sqlx::SqlitePool,
) -> convene_store::StoreResult<Option<Box<dyn convene_store::Nudges>>> {
    Ok(None)
}

/// This backend's name, as `/readyz` and the metrics say it.
pub const NAME: &str = "sqlite";

/// This backend's migrations, embedded: its own folder, as sqlx tracks them (version and
/// checksum).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Serialises the work on some subject lanes (see `shared::lanes`): nothing to do, because the
/// single writer connection already serialises every write.
pub async fn lock_lanes(_: &mut Conn, _: &[(String, String)]) -> convene_store::StoreResult<()> {
    Ok(())
}
