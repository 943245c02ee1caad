use super::Backend;
use super::dialect::{Conn, DbTime, db_time, in_list, json_rows, json_time, text_list, time_of};
use super::mails::insert_mails;
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::clock::micros;
use convene_core::mail::NewMail;
use convene_core::notification::{Cadence, Kind};
use convene_core::{Timestamp, UserId};
use convene_store::{DigestItem, DigestStore, NewDigestItem, StoreResult};
use serde_json::Value;
use sqlx::types::Json;

/// Writes items for later digests (a known dedupe key writes nothing), in one statement.
pub(crate) async fn insert_digest_items(
    conn: &mut Conn,
    items: &[NewDigestItem],
    at: Timestamp,
) -> StoreResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let rows: Vec<Value> = items
        .iter()
        .map(|i| {
            serde_json::json!([
                uuid::Uuid::now_v7().to_string(),
                i.user.as_str(),
                i.kind.as_str(),
                i.cadence.as_str(),
                micros(i.due_at),
                i.title,
                i.message,
                i.text,
                i.dedupe_key,
            ])
        })
        .collect();
    let sql = format!(
        "INSERT INTO digest_items (id, user_id, kind, cadence, due_at, title, message, text_body, dedupe_key, created_at)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, {}, value ->> 5, value ->> 6,
             value ->> 7, value ->> 8, $2
         FROM {} WHERE true ORDER BY key
         ON CONFLICT (dedupe_key) DO NOTHING",
        json_time("value ->> 4"),
        json_rows(1)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .binds((Json(&rows), db_time(at)))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: String,
    kind: String,
    title: String,
    message: String,
    text_body: String,
    created_at: DbTime,
}

#[async_trait]
impl DigestStore for Backend {
    async fn due_digests(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<(UserId, Cadence)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT user_id, cadence FROM digest_items WHERE due_at <= $1
             GROUP BY user_id, cadence ORDER BY min(due_at), user_id LIMIT $2",
        )
        .binds((db_time(now), i64::from(limit)))
        .fetch_all(self.reads())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(user, cadence)| {
                Some((UserId::from_trusted(user), Cadence::parse(&cadence)?))
            })
            .collect())
    }

    async fn digest_items(
        &self,
        user: &UserId,
        cadence: Cadence,
        now: Timestamp,
    ) -> StoreResult<Vec<DigestItem>> {
        let rows: Vec<ItemRow> = sqlx::query_as(
            "SELECT id, kind, title, message, text_body, created_at FROM digest_items
             WHERE user_id = $1 AND cadence = $2 AND due_at <= $3 ORDER BY created_at, id",
        )
        .binds((user.as_str(), cadence.as_str(), db_time(now)))
        .fetch_all(self.reads())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(DigestItem {
                    kind: Kind::parse(&r.kind)?,
                    id: r.id,
                    title: r.title,
                    message: r.message,
                    text: r.text_body,
                    created_at: time_of(r.created_at),
                })
            })
            .collect())
    }

    async fn record_digest(
        &self,
        items: &[DigestItem],
        mail: Option<&NewMail>,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let sql = format!("DELETE FROM digest_items WHERE {}", in_list("id", 1));
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        let taken = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(text_list(&ids))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if taken != items.len() as u64 {
            // Another node sent some of them: its digest holds them, and this one is dropped.
            return Ok(false);
        }
        if let Some(mail) = mail {
            insert_mails(&mut tx, std::slice::from_ref(mail), at).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn next_digest(&self) -> StoreResult<Option<Timestamp>> {
        let (next,): (Option<DbTime>,) = sqlx::query_as("SELECT min(due_at) FROM digest_items")
            .fetch_one(self.reads())
            .await?;
        Ok(next.map(time_of))
    }
}
