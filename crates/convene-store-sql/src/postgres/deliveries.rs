use super::PgStore;
use super::dialect::map_err;
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
    occurred_at: Timestamp,
    status: String,
    attempts: i32,
    next_attempt_at: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
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
            occurred_at: r.occurred_at,
            status: DeliveryStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Other(format!("unknown status {}", r.status).into()))?,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AttemptRow {
    attempted_at: Timestamp,
    duration_ms: i32,
    status_code: Option<i32>,
    error_class: Option<String>,
    error: Option<String>,
    response_body: Option<String>,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Self {
        Attempt {
            attempted_at: r.attempted_at,
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
impl DeliveryStore for PgStore {
    async fn ingest_signal(&self, s: Signal) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO outbox (id, event_type, data, occurred_at, source) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&s.id)
        .bind(&s.event_type)
        .bind(Json(&s.data))
        .bind(s.occurred_at)
        .bind(&s.source)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn dispatch(&self, limit: u32, at: Timestamp) -> StoreResult<u32> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let messages: Vec<(i64, String, String, Json<Value>, Timestamp, String)> = sqlx::query_as(
            "SELECT seq, id, event_type, data, occurred_at, source FROM outbox
             WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
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
        let plan = fan_out(messages.iter().map(|m| m.2.as_str()), &hooks);
        let pick = |f: fn(&(i64, String, String, Json<Value>, Timestamp, String)) -> String| {
            plan.iter()
                .map(|(i, _)| f(&messages[*i]))
                .collect::<Vec<_>>()
        };
        sqlx::query(
            "INSERT INTO deliveries (id, webhook_id, message_id, event_type, data, source,
                 occurred_at, status, attempts, next_attempt_at, created_at, updated_at)
             SELECT id, webhook_id, message_id, event_type, data::jsonb, source, occurred_at,
                 'pending', 0, $8, $8, $8
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::timestamptz[]) AS t(id, webhook_id, message_id, event_type, data, source, occurred_at)
             ON CONFLICT (webhook_id, message_id) DO NOTHING",
        )
        .bind(plan.iter().map(|_| DeliveryId::new().to_string()).collect::<Vec<_>>())
        .bind(plan.iter().map(|(_, hook)| *hook).collect::<Vec<_>>())
        .bind(pick(|m| m.1.clone()))
        .bind(pick(|m| m.2.clone()))
        .bind(pick(|m| m.3.0.to_string()))
        .bind(pick(|m| m.5.clone()))
        .bind(plan.iter().map(|(i, _)| messages[*i].4).collect::<Vec<_>>())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let seqs: Vec<i64> = messages.iter().map(|m| m.0).collect();
        sqlx::query("UPDATE outbox SET dispatched_at = $1 WHERE seq = ANY($2)")
            .bind(at)
            .bind(&seqs)
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
            .bind(at)
            .bind(webhook.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn claim(&self, request: &ClaimRequest) -> StoreResult<Vec<Claim>> {
        let token = uuid::Uuid::now_v7().to_string();
        let sql = "WITH due AS (
                SELECT c.id FROM webhooks w
                CROSS JOIN LATERAL (
                    SELECT d.id, d.next_attempt_at FROM deliveries d
                    WHERE d.webhook_id = w.id AND d.status = 'pending' AND d.next_attempt_at <= $1
                      AND (d.lease_until IS NULL OR d.lease_until <= $1)
                    ORDER BY d.next_attempt_at, d.id LIMIT $5 FOR UPDATE SKIP LOCKED) c
                WHERE w.enabled AND NOT (w.id = ANY($6))
                ORDER BY c.next_attempt_at, c.id LIMIT $2)
             UPDATE deliveries d SET lease_token = $3, lease_until = $4 FROM due WHERE d.id = due.id
             RETURNING d.*";
        let skip: Vec<&str> = request.skip.iter().map(WebhookId::as_str).collect();
        let rows: Vec<DeliveryRow> = sqlx::query_as(sql)
            .bind(request.now)
            .bind(i64::from(request.limit))
            .bind(&token)
            .bind(request.now + request.lease)
            .bind(i64::from(request.per_endpoint))
            .bind(&skip)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut claimed = deliveries(rows)?;
        claimed.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        let ids: Vec<String> = claimed.iter().map(|d| d.webhook_id.to_string()).collect();
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ANY($1)");
        let hooks: Vec<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&ids)
            .fetch_all(&self.pool)
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
        if done.is_empty() {
            return Ok(Vec::new());
        }
        // A few statements for the whole round, whatever its size: round trips are the cost here.
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let ids: Vec<&str> = done.iter().map(|(c, _)| c.delivery.id.as_str()).collect();
        let tokens: Vec<&str> = done.iter().map(|(c, _)| c.lease_token.as_str()).collect();
        let statuses: Vec<&str> = done.iter().map(|(_, r)| r.status.as_str()).collect();
        let next: Vec<Option<Timestamp>> = done.iter().map(|(_, r)| r.next_attempt_at).collect();
        let at: Vec<Timestamp> = done.iter().map(|(_, r)| r.attempt.attempted_at).collect();
        let moved: Vec<(String,)> = sqlx::query_as(
            "UPDATE deliveries d SET status = i.status, attempts = d.attempts + 1,
                 next_attempt_at = i.next_at, lease_token = NULL, lease_until = NULL, updated_at = i.at
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
                 AS i(id, token, status, next_at, at)
             WHERE d.id = i.id AND d.lease_token = i.token
             RETURNING d.id",
        )
        .bind(&ids)
        .bind(&tokens)
        .bind(&statuses)
        .bind(&next)
        .bind(&at)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let moved: std::collections::HashSet<String> = moved.into_iter().map(|(id,)| id).collect();
        let kept: Vec<&(&Claim, &AttemptRecord)> = done
            .iter()
            .filter(|(c, _)| moved.contains(c.delivery.id.as_str()))
            .collect();
        let attempt = |f: fn(&AttemptRecord) -> Option<String>| {
            kept.iter().map(|(_, r)| f(r)).collect::<Vec<_>>()
        };
        sqlx::query(
            "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error_class,
                 error, response_body)
             SELECT * FROM UNNEST($1::text[], $2::timestamptz[], $3::int[], $4::int[], $5::text[],
                 $6::text[], $7::text[])",
        )
        .bind(kept.iter().map(|(c, _)| c.delivery.id.as_str()).collect::<Vec<_>>())
        .bind(kept.iter().map(|(_, r)| r.attempt.attempted_at).collect::<Vec<_>>())
        .bind(kept.iter().map(|(_, r)| i32::try_from(r.attempt.duration_ms).unwrap_or(i32::MAX)).collect::<Vec<_>>())
        .bind(kept.iter().map(|(_, r)| r.attempt.status_code.map(i32::from)).collect::<Vec<_>>())
        .bind(attempt(|r| r.attempt.error_class.clone()))
        .bind(attempt(|r| r.attempt.error.clone()))
        .bind(attempt(|r| r.attempt.response_body.clone()))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        for (webhook, streak) in failure_streaks(kept.iter().copied()) {
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
                .bind(streak.map(|(since, _)| since))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(done
            .iter()
            .map(|(c, _)| moved.contains(c.delivery.id.as_str()))
            .collect())
    }

    async fn release_claim(&self, claim: &Claim, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE deliveries SET next_attempt_at = $3, lease_token = NULL, lease_until = NULL
             WHERE id = $1 AND lease_token = $2",
        )
        .bind(claim.delivery.id.as_str())
        .bind(&claim.lease_token)
        .bind(at)
        .execute(&self.pool)
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
             AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR id < $3)
             ORDER BY id DESC LIMIT $4"
        );
        let rows: Vec<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(webhook.as_str())
            .bind(status.map(DeliveryStatus::as_str))
            .bind(page.after.as_deref())
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.pool)
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
            .fetch_optional(&self.pool)
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
        .fetch_all(&self.pool)
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
        .bind(at)
        .execute(&self.pool)
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
        .bind(since)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn purge_attempts(&self, before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM attempts WHERE attempted_at < $1")
            .bind(before)
            .execute(&self.pool)
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
            "SELECT (floor(extract(epoch FROM attempted_at) / $2) * $2)::bigint AS bucket,
                    COUNT(*) FILTER (WHERE status_code BETWEEN 200 AND 299),
                    COUNT(*) FILTER (WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299)
             FROM attempts WHERE attempted_at >= $1 GROUP BY bucket ORDER BY bucket",
        )
        .bind(since)
        .bind(bucket_s.max(1))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(rows
            .into_iter()
            .map(|(b, ok, failed)| (b, count(ok), count(failed)))
            .collect())
    }
}
