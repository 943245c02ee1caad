use super::Backend;
use super::dialect::{Conn, DbTime, db_time, in_list, json_rows, text_list, time_of};
use super::jobs::enqueue_all_in;
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::job::JobKind;
use convene_core::mail::{Mail, MailAttempt, MailOutcome, MailStatus, NewMail};
use convene_core::page::{Page, PageRequest};
use convene_core::{EventId, Timestamp, UserId};
use convene_store::{MailStore, StoreResult};
use serde_json::Value;
use sqlx::types::Json;

const SETTING: &str = "SELECT value FROM settings WHERE key = $1";

const COLUMNS: &str = "id, recipient, user_id, action, subject, text_body, html_body, headers, calendar, status, provider, provider_message_id, error, attempts, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    recipient: String,
    user_id: Option<String>,
    action: String,
    subject: String,
    text_body: String,
    html_body: String,
    headers: Json<Vec<(String, String)>>,
    calendar: Option<String>,
    status: String,
    provider: Option<String>,
    provider_message_id: Option<String>,
    error: Option<String>,
    attempts: i32,
    created_at: DbTime,
    updated_at: DbTime,
}

impl From<Row> for Mail {
    fn from(r: Row) -> Self {
        Mail {
            id: r.id,
            recipient: r.recipient,
            user: r.user_id.map(UserId::from_trusted),
            action: r.action,
            subject: r.subject,
            text: r.text_body,
            html: r.html_body,
            headers: r.headers.0,
            calendar: r.calendar,
            status: MailStatus::parse(&r.status).unwrap_or(MailStatus::Failed),
            provider: r.provider,
            provider_message_id: r.provider_message_id,
            error: r.error,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            created_at: time_of(r.created_at),
            updated_at: time_of(r.updated_at),
        }
    }
}

/// Records mails inside the caller's transaction and queues a send for each new queued one.
pub(crate) async fn insert_mails(
    conn: &mut Conn,
    mails: &[NewMail],
    at: Timestamp,
) -> StoreResult<Vec<Mail>> {
    if mails.is_empty() {
        return Ok(Vec::new());
    }
    // One statement for the mails and one for their send jobs, however many there are.
    let rows: Vec<Value> = mails
        .iter()
        .map(|m| {
            serde_json::json!([
                uuid::Uuid::now_v7().to_string(),
                m.recipient,
                m.user.as_ref().map(UserId::as_str),
                m.kind.as_str(),
                m.subject,
                m.text,
                m.html,
                m.headers,
                m.dedupe_key,
                m.status.as_str(),
                m.calendar,
                m.event.as_ref().map(|e| e.as_str()),
            ])
        })
        .collect();
    let sql = format!(
        "INSERT INTO mails (id, recipient, user_id, action, subject, text_body, html_body, headers,
             dedupe_key, status, calendar, event_id, attempts, created_at, updated_at)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
             value ->> 6, value -> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, 0, $2, $2
         FROM {} WHERE true ORDER BY key
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING {COLUMNS}",
        json_rows(1)
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .binds((Json(&rows), db_time(at)))
        .fetch_all(&mut *conn)
        .await?;
    let mut out: Vec<Mail> = rows.into_iter().map(Mail::from).collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    let queued: Vec<&str> = out
        .iter()
        .filter(|m| m.status == MailStatus::Queued)
        .map(|m| m.id.as_str())
        .collect();
    let no_payload = serde_json::json!({});
    enqueue_all_in(conn, JobKind::MailSend, &queued, &no_payload, at).await?;
    Ok(out)
}

#[async_trait]
impl MailStore for Backend {
    async fn queue_mails(&self, mails: &[NewMail], at: Timestamp) -> StoreResult<Vec<Mail>> {
        let mut tx = self.writes().begin().await?;
        let out = insert_mails(&mut tx, mails, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn mail(&self, id: &str) -> StoreResult<Option<(Mail, Vec<MailAttempt>)>> {
        let sql = format!("SELECT {COLUMNS} FROM mails WHERE id = $1");
        let Some(row): Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(self.reads())
            .await?
        else {
            return Ok(None);
        };
        let attempts: Vec<(i32, DbTime, String, bool, Option<String>)> = sqlx::query_as(
            "SELECT n, at, provider, ok, error FROM mail_attempts WHERE mail_id = $1 ORDER BY n",
        )
        .bind(id)
        .fetch_all(self.reads())
        .await?;
        let attempts = attempts
            .into_iter()
            .map(|(n, at, provider, ok, error)| MailAttempt {
                n: u32::try_from(n).unwrap_or(0),
                at: time_of(at),
                provider,
                ok,
                error,
            })
            .collect();
        Ok(Some((row.into(), attempts)))
    }

    async fn list_mails(
        &self,
        status: Option<MailStatus>,
        recipient: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Mail>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mails WHERE ($1 IS NULL OR id < $1) AND ($2 IS NULL OR status = $2)
             AND ($4 IS NULL OR lower(recipient) LIKE $4 ESCAPE '\\') ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .binds((&page.after, status.map(MailStatus::as_str)))
            .bind(i64::from(page.limit) + 1)
            .bind(recipient.map(convene_core::search::like_pattern))
            .fetch_all(self.reads())
            .await?;
        let mails = rows.into_iter().map(Mail::from).collect();
        Ok(Page::from_overfetch(mails, page.limit, |m: &Mail| {
            m.id.clone()
        }))
    }

    async fn mails_of_event(&self, event: &EventId, limit: u32) -> StoreResult<Vec<Mail>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mails WHERE event_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((event.as_str(), i64::from(limit)))
            .fetch_all(self.reads())
            .await?;
        Ok(rows.into_iter().map(Mail::from).collect())
    }

    async fn record_mail(&self, id: &str, outcome: &MailOutcome, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.writes().begin().await?;
        let (done,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM mail_attempts WHERE mail_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        for (i, a) in outcome.attempts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO mail_attempts (mail_id, n, at, provider, ok, error) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .binds((id, i32::try_from(done + 1 + i as i64).unwrap_or(i32::MAX)))
            .binds((db_time(a.at), &a.provider, a.ok, &a.error))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE mails SET status = $2, provider = COALESCE($3, provider),
                 provider_message_id = COALESCE($4, provider_message_id), error = $5,
                 attempts = attempts + $6, updated_at = $7
             WHERE id = $1",
        )
        .binds((id, outcome.status.as_str(), &outcome.provider))
        .binds((&outcome.provider_message_id, &outcome.error))
        .bind(i32::try_from(outcome.attempts.len()).unwrap_or(i32::MAX))
        .bind(db_time(at))
        .execute(&mut *tx)
        .await?;
        Ok(tx.commit().await?)
    }

    async fn setting(&self, key: &str) -> StoreResult<Option<Value>> {
        let row: Option<(Json<Value>,)> = sqlx::query_as(SETTING)
            .bind(key)
            .fetch_optional(self.reads())
            .await?;
        Ok(row.map(|(v,)| v.0))
    }

    async fn put_setting(&self, key: &str, value: &Value, at: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .binds((key, Json(value), db_time(at)))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn setting_or_insert(
        &self,
        key: &str,
        value: &Value,
        at: Timestamp,
    ) -> StoreResult<Value> {
        let mut tx = self.writes().begin().await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
        )
        .binds((key, Json(value), db_time(at)))
        .execute(&mut *tx)
        .await?;
        let (v,): (Json<Value>,) = sqlx::query_as(SETTING)
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(v.0)
    }

    async fn is_suppressed(&self, address: &str) -> StoreResult<bool> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT address FROM mail_suppressions WHERE address = $1")
                .bind(address.to_lowercase())
                .fetch_optional(self.reads())
                .await?;
        Ok(row.is_some())
    }

    async fn suppressed_among(&self, addresses: &[String]) -> StoreResult<Vec<String>> {
        let lower: Vec<String> = addresses.iter().map(|a| a.to_lowercase()).collect();
        let sql = format!(
            "SELECT address FROM mail_suppressions WHERE {}",
            in_list("address", 1)
        );
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(text_list(&lower))
            .fetch_all(self.reads())
            .await?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }

    async fn suppress(&self, address: &str, reason: &str, at: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO mail_suppressions (address, reason, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (address) DO UPDATE SET reason = excluded.reason",
        )
        .binds((address.to_lowercase(), reason, db_time(at)))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn unsuppress(&self, address: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM mail_suppressions WHERE address = $1")
            .bind(address.to_lowercase())
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn suppressions(
        &self,
        page: &PageRequest,
    ) -> StoreResult<Page<(String, String, Timestamp)>> {
        let rows: Vec<(String, String, DbTime)> = sqlx::query_as(
            "SELECT address, reason, created_at FROM mail_suppressions
             WHERE $1 IS NULL OR address > $1 ORDER BY address LIMIT $2",
        )
        .binds((page.after.as_deref(), i64::from(page.limit) + 1))
        .fetch_all(self.reads())
        .await?;
        let rows = rows
            .into_iter()
            .map(|(a, r, t)| (a, r, time_of(t)))
            .collect();
        Ok(Page::from_overfetch(rows, page.limit, |(a, _, _)| {
            a.clone()
        }))
    }
}
