use super::SqliteStore;
use super::dialect::{from_micros, map_err, micros, opt_micros};
use super::webhooks::{WEBHOOK_COLUMNS, WebhookRow};
use async_trait::async_trait;
use convene_core::page::{Page, PageRequest};
use convene_core::webhook::{Attempt, Delivery, DeliveryStatus, EventTypes, Webhook};
use convene_core::{DeliveryId, Timestamp, WebhookId};
use convene_store::{
    AttemptRecord, Claim, ClaimRequest, DeliveryStore, Signal, StoreError, StoreResult,
    failure_streaks, fan_out,
};
use serde_json::Value;
use sqlx::types::Json;

const DELIVERY_COLUMNS: &str = "id, webhook_id, message_id, event_type, data, source, occurred_at,
    status, attempts, next_attempt_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    webhook_id: String,
    message_id: String,
    event_type: String,
    data: Json<Value>,
    source: String,
    occurred_at: i64,
    status: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(r: DeliveryRow) -> StoreResult<Self> {
        Ok(Delivery {
            id: DeliveryId::from_trusted(r.id),
            webhook_id: WebhookId::from_trusted(r.webhook_id),
            message_id: r.message_id,
            event_type: r.event_type,
            data: r.data.0,
            source: r.source,
            occurred_at: from_micros(r.occurred_at),
            status: DeliveryStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Other(format!("unknown status {}", r.status).into()))?,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            next_attempt_at: r.next_attempt_at.map(from_micros),
            created_at: from_micros(r.created_at),
            updated_at: from_micros(r.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AttemptRow {
    attempted_at: i64,
    duration_ms: i64,
    status_code: Option<i64>,
    error_class: Option<String>,
    error: Option<String>,
    response_body: Option<String>,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Self {
        Attempt {
            attempted_at: from_micros(r.attempted_at),
            duration_ms: u32::try_from(r.duration_ms).unwrap_or(0),
            status_code: r.status_code.and_then(|c| u16::try_from(c).ok()),
            error_class: r.error_class,
            error: r.error,
            response_body: r.response_body,
        }
    }
}

fn deliveries(rows: Vec<DeliveryRow>) -> StoreResult<Vec<Delivery>> {
    rows.into_iter().map(Delivery::try_from).collect()
}

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn ingest_signal(&self, s: Signal) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO outbox (id, event_type, data, occurred_at, source) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&s.id)
        .bind(&s.event_type)
        .bind(Json(&s.data))
        .bind(micros(s.occurred_at))
        .bind(&s.source)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn dispatch(&self, limit: u32, at: Timestamp) -> StoreResult<u32> {
        // The single writer connection serialises dispatchers: no row is taken twice.
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        let messages: Vec<(i64, String, String, Json<Value>, i64, String)> = sqlx::query_as(
            "SELECT seq, id, event_type, data, occurred_at, source FROM outbox
             WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        if messages.is_empty() {
            return Ok(0);
        }
        let hooks: Vec<(String, Json<Vec<String>>)> =
            sqlx::query_as("SELECT id, event_types FROM webhooks WHERE enabled ORDER BY id")
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
        let hooks: Vec<(String, EventTypes)> = hooks
            .into_iter()
            .map(|(id, types)| (id, EventTypes::from_list(types.0)))
            .collect();
        // One statement for the whole plan: the rows travel as one JSON array.
        let rows: Vec<Value> = fan_out(messages.iter().map(|m| m.2.as_str()), &hooks)
            .into_iter()
            .map(|(i, hook)| {
                let (_, id, event_type, data, occurred_at, source) = &messages[i];
                serde_json::json!([
                    DeliveryId::new().as_str(),
                    hook,
                    id,
                    event_type,
                    data.0,
                    source,
                    occurred_at
                ])
            })
            .collect();
        sqlx::query(
            "INSERT INTO deliveries (id, webhook_id, message_id, event_type, data, source,
                 occurred_at, status, attempts, next_attempt_at, created_at, updated_at)
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value -> 4, value ->> 5,
                 value ->> 6, 'pending', 0, $2, $2, $2
             FROM json_each($1)
             WHERE true -- SQLite needs a WHERE before ON CONFLICT after a SELECT
             ON CONFLICT (webhook_id, message_id) DO NOTHING",
        )
        .bind(Json(&rows))
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let seqs: Vec<i64> = messages.iter().map(|m| m.0).collect();
        sqlx::query(
            "UPDATE outbox SET dispatched_at = $1 WHERE seq IN (SELECT value FROM json_each($2))",
        )
        .bind(micros(at))
        .bind(Json(&seqs))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(u32::try_from(messages.len()).unwrap_or(u32::MAX))
    }

    async fn enqueue_direct(
        &self,
        webhook: &WebhookId,
        event_type: &str,
        data: Value,
        at: Timestamp,
    ) -> StoreResult<Delivery> {
        let sql = format!(
            "INSERT INTO deliveries (id, webhook_id, message_id, event_type, data, source,
             occurred_at, status, attempts, next_attempt_at, created_at, updated_at)
             SELECT $1, id, $2, $3, $4, 'convene', $5, 'pending', 0, $5, $5, $5 FROM webhooks WHERE id = $6
             RETURNING {DELIVERY_COLUMNS}"
        );
        let row: Option<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(DeliveryId::new().as_str())
            .bind(format!("msg_{}", uuid::Uuid::now_v7().simple()))
            .bind(event_type)
            .bind(Json(&data))
            .bind(micros(at))
            .bind(webhook.as_str())
            .fetch_optional(&self.writer)
            .await
            .map_err(map_err)?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn claim(&self, request: &ClaimRequest) -> StoreResult<Vec<Claim>> {
        let token = uuid::Uuid::now_v7().to_string();
        let now = micros(request.now);
        // Endpoint by endpoint on the (webhook, due time) index: SQLite has no LATERAL, and a
        // window over every due row would read a whole backlog each round.
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        let skip: Vec<&str> = request.skip.iter().map(WebhookId::as_str).collect();
        let hooks: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM webhooks WHERE enabled = 1 AND id NOT IN (SELECT value FROM json_each($1))",
        )
        .bind(Json(&skip))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let mut due: Vec<(i64, String)> = Vec::new();
        for (hook,) in hooks {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT next_attempt_at, id FROM deliveries
                 WHERE webhook_id = $1 AND status = 'pending' AND next_attempt_at <= $2
                   AND (lease_until IS NULL OR lease_until <= $2)
                 ORDER BY next_attempt_at, id LIMIT $3",
            )
            .bind(&hook)
            .bind(now)
            .bind(i64::from(request.per_endpoint))
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
            due.extend(rows);
        }
        due.sort();
        due.truncate(request.limit as usize);
        let ids: Vec<&str> = due.iter().map(|(_, id)| id.as_str()).collect();
        let rows: Vec<DeliveryRow> = sqlx::query_as(
            "UPDATE deliveries SET lease_token = $1, lease_until = $2
             WHERE id IN (SELECT value FROM json_each($3)) RETURNING *",
        )
        .bind(&token)
        .bind(micros(request.now + request.lease))
        .bind(Json(&ids))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        let mut claimed = deliveries(rows)?;
        claimed.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        let ids: Vec<String> = claimed.iter().map(|d| d.webhook_id.to_string()).collect();
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id IN (SELECT value FROM json_each($1))"
        );
        let hooks: Vec<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(Json(&ids))
            .fetch_all(&self.writer)
            .await
            .map_err(map_err)?;
        let keys = self.keys.get();
        let hooks: Vec<Webhook> = hooks
            .into_iter()
            .map(|r| keys.opened_webhook(r.into()))
            .collect::<StoreResult<_>>()?;
        Ok(claimed
            .into_iter()
            .filter_map(|delivery| {
                let webhook = hooks.iter().find(|w| w.id == delivery.webhook_id)?.clone();
                Some(Claim {
                    delivery,
                    webhook,
                    lease_token: token.clone(),
                })
            })
            .collect())
    }

    async fn finish_attempts(&self, done: &[(&Claim, &AttemptRecord)]) -> StoreResult<Vec<bool>> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        let mut recorded = Vec::with_capacity(done.len());
        for (claim, record) in done {
            let at = micros(record.attempt.attempted_at);
            let moved = sqlx::query(
                "UPDATE deliveries SET status = $3, attempts = attempts + 1, next_attempt_at = $4,
             lease_token = NULL, lease_until = NULL, updated_at = $5
             WHERE id = $1 AND lease_token = $2",
            )
            .bind(claim.delivery.id.as_str())
            .bind(&claim.lease_token)
            .bind(record.status.as_str())
            .bind(opt_micros(record.next_attempt_at))
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if moved.rows_affected() == 0 {
                recorded.push(false);
                continue;
            }
            let a = &record.attempt;
            sqlx::query(
                "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error_class,
                 error, response_body) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(claim.delivery.id.as_str())
            .bind(at)
            .bind(i64::from(a.duration_ms))
            .bind(a.status_code.map(i64::from))
            .bind(&a.error_class)
            .bind(&a.error)
            .bind(&a.response_body)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            recorded.push(true);
        }
        let kept = done
            .iter()
            .zip(&recorded)
            .filter(|(_, kept)| **kept)
            .map(|(d, _)| d);
        for (webhook, streak) in failure_streaks(kept) {
            let sql = match streak {
                None => {
                    "UPDATE webhooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL"
                }
                Some((_, true)) => "UPDATE webhooks SET failing_since = $2 WHERE id = $1",
                Some((_, false)) => {
                    "UPDATE webhooks SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL"
                }
            };
            sqlx::query(sql)
                .bind(webhook)
                .bind(streak.map(|(since, _)| micros(since)))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(recorded)
    }

    async fn release_claim(&self, claim: &Claim, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE deliveries SET next_attempt_at = $3, lease_token = NULL, lease_until = NULL
             WHERE id = $1 AND lease_token = $2",
        )
        .bind(claim.delivery.id.as_str())
        .bind(&claim.lease_token)
        .bind(micros(at))
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn deliveries(
        &self,
        webhook: &WebhookId,
        status: Option<DeliveryStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE webhook_id = $1
             AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR id < $3)
             ORDER BY id DESC LIMIT $4"
        );
        let rows: Vec<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(webhook.as_str())
            .bind(status.map(DeliveryStatus::as_str))
            .bind(page.after.as_deref())
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(Page::from_overfetch(
            deliveries(rows)?,
            page.limit,
            |d: &Delivery| d.id.to_string(),
        ))
    }

    async fn delivery(&self, id: &DeliveryId) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1");
        let Some(row): Option<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?
        else {
            return Ok(None);
        };
        let attempts: Vec<AttemptRow> = sqlx::query_as(
            "SELECT attempted_at, duration_ms, status_code, error_class, error, response_body
             FROM attempts WHERE delivery_id = $1 ORDER BY id",
        )
        .bind(id.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(Some((
            row.try_into()?,
            attempts.into_iter().map(Attempt::from).collect(),
        )))
    }

    async fn retry_delivery(&self, id: &DeliveryId, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $2, lease_token = NULL,
             lease_until = NULL, updated_at = $2 WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(micros(at))
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn recover(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        at: Timestamp,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $3, updated_at = $3
             WHERE webhook_id = $1 AND status = 'failed' AND created_at >= $2",
        )
        .bind(webhook.as_str())
        .bind(micros(since))
        .bind(micros(at))
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn purge_attempts(&self, before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM attempts WHERE attempted_at < $1")
            .bind(micros(before))
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn attempt_stats(
        &self,
        since: Timestamp,
        bucket_s: i64,
    ) -> StoreResult<Vec<(i64, u64, u64)>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT (attempted_at / 1000000 / $2) * $2 AS bucket,
                    SUM(CASE WHEN status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status_code BETWEEN 200 AND 299 THEN 0 ELSE 1 END)
             FROM attempts WHERE attempted_at >= $1 GROUP BY bucket ORDER BY bucket",
        )
        .bind(micros(since))
        .bind(bucket_s.max(1))
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(rows
            .into_iter()
            .map(|(b, ok, failed)| (b, count(ok), count(failed)))
            .collect())
    }
}
