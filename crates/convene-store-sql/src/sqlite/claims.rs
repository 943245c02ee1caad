//! Dispatch, claims and recorded attempts on SQLite: the single writer serialises them, so a
//! round reads due rows endpoint by endpoint on the (webhook, due time) index and writes them
//! in a few statements, rows travelling as JSON arrays.

use super::SqliteStore;
use super::dialect::{json_rows, micros, opt_micros};
use super::shared::deliveries::{DeliveryRow, Moved, claims_of, events_of, plan, record_health};
use super::shared::lanes::{claimed_lanes, lanes_of, settle};
use crate::binds::Binds;
use convene_core::{DeliveryId, Timestamp, WebhookId};
use convene_store::{AttemptRecord, Claim, ClaimRequest, StoreResult};
use serde_json::Value;
use sqlx::types::Json;

/// An outbox row not fanned out yet: seq, id, type, data, time, source, traceparent, subject.
type Undispatched = (
    i64,
    String,
    String,
    Json<Value>,
    i64,
    String,
    Option<String>,
    Option<String>,
);

pub(super) async fn dispatch(store: &SqliteStore, limit: u32, at: Timestamp) -> StoreResult<u32> {
    // The single writer connection serialises dispatchers: no row is taken twice.
    let mut tx = store.writer.begin().await?;
    // Marked fanned out as they are read: the transaction makes both or neither happen. The
    // limit is written in (see `claim`).
    let sql = format!(
        "UPDATE outbox SET dispatched_at = $1 WHERE seq IN (
             SELECT seq FROM outbox WHERE dispatched_at IS NULL ORDER BY seq LIMIT {limit})
         RETURNING seq, id, event_type, data, occurred_at, source, traceparent, subject"
    );
    let mut messages: Vec<Undispatched> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(micros(at))
        .fetch_all(&mut *tx)
        .await?;
    if messages.is_empty() {
        return Ok(0);
    }
    messages.sort_unstable_by_key(|m| m.0);
    let about: Vec<_> = messages
        .iter()
        .map(|m| (m.2.as_str(), &m.3.0, m.5.as_str()))
        .collect();
    let plan = plan(&mut tx, &about).await?;
    let (lanes, change) = lanes_of(&plan, |i| messages[i].7.as_deref());
    // One statement for the whole plan: the rows travel as one JSON array, written from
    // borrowed tuples (a message's data is not copied, nor its event read, per endpoint).
    let events = events_of(&about);
    let rows: Vec<_> = plan
        .iter()
        .map(|(i, hook, order)| {
            let (seq, id, event_type, data, occurred_at, source, traceparent, subject) =
                &messages[*i];
            (
                DeliveryId::new(),
                hook,
                id,
                event_type,
                &data.0,
                source,
                occurred_at,
                traceparent,
                subject.as_ref().filter(|_| order.per_subject()),
                seq,
                &events[*i],
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO deliveries (id, webhook_id, message_id, event_type, data, source,
                 occurred_at, status, attempts, next_attempt_at, created_at, updated_at, traceparent,
                 subject, seq, event_id)
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value -> 4, value ->> 5,
                 value ->> 6, 'pending', 0, $2, $2, $2, value ->> 7, value ->> 8, value ->> 9,
                 value ->> 10
             FROM {}
             WHERE true -- SQLite needs a WHERE before ON CONFLICT after a SELECT
             ON CONFLICT (webhook_id, message_id) DO NOTHING",
        json_rows(1)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .binds((Json(&rows), micros(at)))
        .execute(&mut *tx)
        .await?;
    settle(&mut tx, &lanes, at, change).await?;
    tx.commit().await?;
    Ok(u32::try_from(messages.len()).unwrap_or(u32::MAX))
}

pub(super) async fn claim(store: &SqliteStore, request: &ClaimRequest) -> StoreResult<Vec<Claim>> {
    let token = uuid::Uuid::now_v7().to_string();
    let now = micros(request.now);
    // Endpoint by endpoint on the (webhook, due time) index, in one statement: SQLite has no
    // LATERAL, so a correlated list per webhook (CROSS JOIN keeps webhooks the outer loop)
    // stands in for it; a window over every due row would read a whole backlog each round.
    // The limits are written in, not bound: binding a parameter that a LIMIT reads makes SQLite
    // prepare the statement again, and these limits are the same every round.
    let skip: Vec<&str> = request.skip.iter().map(WebhookId::as_str).collect();
    let (per_endpoint, limit) = (request.per_endpoint, request.limit);
    let sql = format!(
        "UPDATE deliveries SET lease_token = $1, lease_until = $2
         WHERE rowid IN (
             SELECT d.rowid FROM webhooks w CROSS JOIN deliveries d
             WHERE w.enabled = 1 AND w.id NOT IN (SELECT value FROM json_each($3))
               AND d.rowid IN (
                   SELECT rowid FROM deliveries
                   WHERE webhook_id = w.id AND status = 'pending' AND next_attempt_at <= $4
                     AND (lease_until IS NULL OR lease_until <= $4)
                   ORDER BY next_attempt_at, id LIMIT {per_endpoint})
             ORDER BY d.next_attempt_at, d.id LIMIT {limit})
         RETURNING *"
    );
    let rows: Vec<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .binds((&token, micros(request.now + request.lease), Json(&skip)))
        .bind(now)
        .fetch_all(&store.writer)
        .await?;
    claims_of(store, rows, token).await
}

pub(super) async fn finish_attempts(
    store: &SqliteStore,
    done: &[(&Claim, &AttemptRecord)],
) -> StoreResult<Vec<bool>> {
    // Two statements for the wave, whatever its size: the rows travel as JSON arrays.
    let moves: Vec<_> = done
        .iter()
        .map(|(claim, record)| {
            (
                claim.delivery.id.as_str(),
                &claim.lease_token,
                record.status.as_str(),
                opt_micros(record.next_attempt_at),
                micros(record.attempt.attempted_at),
            )
        })
        .collect();
    let mut tx = store.writer.begin().await?;
    let sql = format!(
        "UPDATE deliveries SET status = r.value ->> 2, attempts = attempts + 1,
             next_attempt_at = r.value ->> 3, lease_token = NULL, lease_until = NULL,
             updated_at = r.value ->> 4
         FROM {} AS r
         WHERE deliveries.id = r.value ->> 0 AND deliveries.lease_token = r.value ->> 1
         RETURNING deliveries.id, (SELECT w.failing_since IS NOT NULL FROM webhooks w
             WHERE w.id = deliveries.webhook_id)",
        json_rows(1)
    );
    let moved: Vec<(String, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Json(&moves))
        .fetch_all(&mut *tx)
        .await?;
    let moved = Moved::of(done, moved);
    let attempts: Vec<_> = moved
        .kept
        .iter()
        .map(|(claim, record)| {
            let a = &record.attempt;
            (
                claim.delivery.id.as_str(),
                micros(a.attempted_at),
                a.duration_ms,
                a.status_code,
                &a.error_class,
                &a.error,
                &a.response_body,
                a.response_headers.to_json(),
            )
        })
        .collect();
    if !attempts.is_empty() {
        let sql = format!(
            "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error_class,
                 error, response_body, response_headers)
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
                 value ->> 6, value ->> 7
             FROM {} ORDER BY key",
            json_rows(1)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(Json(&attempts))
            .execute(&mut *tx)
            .await?;
    }
    let kept = &moved.kept;
    record_health(&mut tx, kept, &moved.streaking).await?;
    if let Some(at) = kept.iter().map(|(_, r)| r.attempt.attempted_at).max() {
        let (lanes, change) = claimed_lanes(kept);
        settle(&mut tx, &lanes, at, change).await?;
    }
    tx.commit().await?;
    Ok(moved.recorded)
}
