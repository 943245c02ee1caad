//! What PostgreSQL does differently, named: `timestamptz` times, `text[]` lists with `= ANY`.

use convene_core::Timestamp;

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

/// A time travelling in a JSON row as Unix microseconds, as a time column takes it (integer
/// arithmetic, so no microsecond is lost to a float).
pub fn json_time(expr: &str) -> String {
    format!("(timestamptz 'epoch' + ({expr})::bigint * interval '1 microsecond')")
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

/// `LIKE` as the notification filter spells it.
pub fn like(column: &str, p: &str, pattern: &str, insensitive: bool) -> (String, String) {
    let op = if insensitive { "ILIKE" } else { "LIKE" };
    (format!("{column} {op} {p}"), pattern.to_owned())
}

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

/// None: `pg_dump` copies a live PostgreSQL database consistently, and `pg_restore` reads it.
pub const BACKUP_INTO: Option<&str> = None;

/// The channel nodes nudge each other on when work was queued.
const NUDGES: &str = "convene_work";

/// A nudge to every listening node, outside any transaction.
pub const NUDGE: Option<&str> = Some("SELECT pg_notify('convene_work', $1)");

/// Listens on a connection of its own for other nodes' nudges.
pub async fn nudges(
    pool: &sqlx::PgPool,
) -> convene_store::StoreResult<Option<Box<dyn convene_store::Nudges>>> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(NUDGES).await?;
    Ok(Some(Box::new(Listening(listener))))
}

struct Listening(sqlx::postgres::PgListener);

#[async_trait::async_trait]
impl convene_store::Nudges for Listening {
    async fn next(&mut self) -> convene_store::StoreResult<String> {
        Ok(self.0.recv().await?.payload().to_owned())
    }
}

/// This backend's name, as `/readyz` and the metrics say it.
pub const NAME: &str = "postgres";

/// This backend's migrations, embedded: its own folder, as sqlx tracks them (version and
/// checksum).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Serialises the work on some subject lanes (see `shared::lanes`) until the transaction ends:
/// an advisory lock per lane (a hash of webhook and subject; a collision only serialises two
/// lanes), taken in key order so two transactions cannot wait on each other. Without it, a
/// fan-out parking a new delivery behind the lane's head and the transaction finishing that
/// head could each miss the other's row, and the new one would wait forever.
pub async fn lock_lanes(
    conn: &mut Conn,
    lanes: &[(String, String)],
) -> convene_store::StoreResult<()> {
    if lanes.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = lanes.iter().map(|(w, s)| format!("{w}/{s}")).collect();
    sqlx::query(
        "SELECT pg_advisory_xact_lock(k) FROM
             (SELECT DISTINCT hashtextextended(lane, 0) AS k FROM UNNEST($1::text[]) AS lane
              ORDER BY k) AS keys",
    )
    .bind(&keys)
    .execute(conn)
    .await?;
    Ok(())
}
