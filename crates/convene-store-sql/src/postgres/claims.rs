//! Dispatch, claims and recorded attempts on PostgreSQL: several nodes claim at once, so rows
//! are locked and skipped (`FOR UPDATE SKIP LOCKED`), due rows are found per endpoint with a
//! `LATERAL` join, and a round is written in a few statements over `UNNEST`ed arrays.

use super::PgStore;
use super::dialect::lock_lanes;
use super::shared::deliveries::{DeliveryRow, Moved, claims_of, events_of, plan, record_health};
use super::shared::lanes::{claimed_lanes, lanes_of, settle, settle_locked};
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
    Timestamp,
    String,
    Option<String>,
    Option<String>,
);

pub(super) async fn dispatch(store: &PgStore, limit: u32, at: Timestamp) -> StoreResult<u32> {
    let mut tx = store.pool.begin().await?;
    // While some webhook orders per subject, one fan-out runs at a time (across nodes too), so
    // a lane is filled in outbox order. It waits its turn rather than skipping it: a skipped
    // round would leave a message its wake-up was for until the next poll.
    sqlx::query(
        "SELECT pg_advisory_xact_lock(1129270862, 1) FROM webhooks
             WHERE ordering IS NOT NULL AND enabled LIMIT 1",
    )
    .execute(&mut *tx)
    .await?;
    // Marked fanned out as they are taken: the transaction makes both or neither happen.
    let mut messages: Vec<Undispatched> = sqlx::query_as(
        "UPDATE outbox SET dispatched_at = $2 WHERE seq IN (
             SELECT seq FROM outbox WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1
             FOR UPDATE SKIP LOCKED)
         RETURNING seq, id, event_type, data, occurred_at, source, traceparent, subject",
    )
    .binds((i64::from(limit), at))
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
    // Read once per message, bound once per delivery.
    let (data, events) = (
        about.iter().map(|m| m.1.to_string()).collect::<Vec<_>>(),
        events_of(&about),
    );
    let pick = |f: fn(&Undispatched) -> String| {
        plan.iter()
            .map(|(i, _, _)| f(&messages[*i]))
            .collect::<Vec<_>>()
    };
    sqlx::query(
            "INSERT INTO deliveries (id, webhook_id, message_id, event_type, data, source,
                 occurred_at, status, attempts, next_attempt_at, created_at, updated_at, traceparent,
                 subject, seq, event_id)
             SELECT id, webhook_id, message_id, event_type, data::jsonb, source, occurred_at,
                 'pending', 0, $8, $8, $8, traceparent, subject, seq, event_id
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::timestamptz[], $9::text[], $10::text[], $11::bigint[], $12::text[])
                 AS t(id, webhook_id, message_id, event_type, data, source, occurred_at, traceparent,
                     subject, seq, event_id)
             ON CONFLICT (webhook_id, message_id) DO NOTHING",
        )
        .bind(plan.iter().map(|_| DeliveryId::new().to_string()).collect::<Vec<_>>())
        .bind(plan.iter().map(|(_, hook, _)| hook.as_str()).collect::<Vec<_>>())
        .binds((pick(|m| m.1.clone()), pick(|m| m.2.clone())))
        .bind(plan.iter().map(|(i, _, _)| data[*i].as_str()).collect::<Vec<_>>())
        .bind(pick(|m| m.5.clone()))
        .bind(plan.iter().map(|(i, _, _)| messages[*i].4).collect::<Vec<_>>())
        .bind(at)
        .bind(plan.iter().map(|(i, _, _)| messages[*i].6.clone()).collect::<Vec<_>>())
        .bind(
            plan.iter()
                .map(|(i, _, order)| messages[*i].7.clone().filter(|_| order.per_subject()))
                .collect::<Vec<_>>(),
        )
        .bind(plan.iter().map(|(i, _, _)| messages[*i].0).collect::<Vec<_>>())
        .bind(plan.iter().map(|(i, _, _)| events[*i].as_deref()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    settle(&mut tx, &lanes, at, change).await?;
    tx.commit().await?;
    Ok(u32::try_from(messages.len()).unwrap_or(u32::MAX))
}

pub(super) async fn claim(store: &PgStore, request: &ClaimRequest) -> StoreResult<Vec<Claim>> {
    let token = uuid::Uuid::now_v7().to_string();
    // Each endpoint's due rows from where it last began (see `heads`), or from the front.
    let (hooks, starts) = store.heads.starts(request.now);
    let sql = "WITH due AS (
                SELECT c.id FROM webhooks w
                LEFT JOIN UNNEST($7::text[], $8::timestamptz[]) AS h(webhook_id, start)
                    ON h.webhook_id = w.id
                CROSS JOIN LATERAL (
                    SELECT d.id, d.next_attempt_at FROM deliveries d
                    WHERE d.webhook_id = w.id AND d.status = 'pending'
                      AND d.next_attempt_at >= COALESCE(h.start, '-infinity')
                      AND d.next_attempt_at <= $1
                      AND (d.lease_until IS NULL OR d.lease_until <= $1)
                    ORDER BY d.next_attempt_at, d.id LIMIT $5 FOR UPDATE SKIP LOCKED) c
                WHERE w.enabled AND NOT (w.id = ANY($6))
                ORDER BY c.next_attempt_at, c.id LIMIT $2)
             UPDATE deliveries d SET lease_token = $3, lease_until = $4 FROM due WHERE d.id = due.id
             RETURNING d.*";
    let skip: Vec<&str> = request.skip.iter().map(WebhookId::as_str).collect();
    let rows: Vec<DeliveryRow> = sqlx::query_as(sql)
        .binds((request.now, i64::from(request.limit), &token))
        .bind(request.now + request.lease)
        .binds((i64::from(request.per_endpoint), &skip, &hooks, &starts))
        .fetch_all(&store.pool)
        .await?;
    let limit_reached = rows.len() >= usize::try_from(request.limit).unwrap_or(usize::MAX);
    let claims = claims_of(store, rows, token).await?;
    store
        .heads
        .learn(request.now, &request.skip, &claims, limit_reached);
    Ok(claims)
}

pub(super) async fn finish_attempts(
    store: &PgStore,
    done: &[(&Claim, &AttemptRecord)],
) -> StoreResult<Vec<bool>> {
    if done.is_empty() {
        return Ok(Vec::new());
    }
    // A few statements for the whole round, whatever its size: round trips are the cost here.
    let mut tx = store.pool.begin().await?;
    // Lanes first, before their rows: the order every writer of a lane takes its locks in.
    // Every claim's lane, recorded or not: settling a lane whose claim was lost is harmless.
    let all: Vec<&(&Claim, &AttemptRecord)> = done.iter().collect();
    let (lanes, change) = claimed_lanes(&all);
    lock_lanes(&mut tx, &lanes).await?;
    let ids: Vec<&str> = done.iter().map(|(c, _)| c.delivery.id.as_str()).collect();
    let tokens: Vec<&str> = done.iter().map(|(c, _)| c.lease_token.as_str()).collect();
    let statuses: Vec<&str> = done.iter().map(|(_, r)| r.status.as_str()).collect();
    let next: Vec<Option<Timestamp>> = done.iter().map(|(_, r)| r.next_attempt_at).collect();
    let at: Vec<Timestamp> = done.iter().map(|(_, r)| r.attempt.attempted_at).collect();
    let moved: Vec<(String, bool)> = sqlx::query_as(
            "UPDATE deliveries d SET status = i.status, attempts = d.attempts + 1,
                 next_attempt_at = i.next_at, lease_token = NULL, lease_until = NULL, updated_at = i.at
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
                 AS i(id, token, status, next_at, at)
             WHERE d.id = i.id AND d.lease_token = i.token
             RETURNING d.id, (SELECT w.failing_since IS NOT NULL FROM webhooks w
                 WHERE w.id = d.webhook_id)",
        )
        .binds((&ids, &tokens, &statuses, &next, &at))
        .fetch_all(&mut *tx)
        .await?;
    let moved = Moved::of(done, moved);
    let kept = &moved.kept;
    let attempt = |f: fn(&AttemptRecord) -> Option<String>| {
        kept.iter().map(|(_, r)| f(r)).collect::<Vec<_>>()
    };
    sqlx::query(
        "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code, error_class,
                 error, response_body, response_headers)
             SELECT * FROM UNNEST($1::text[], $2::timestamptz[], $3::int[], $4::int[], $5::text[],
                 $6::text[], $7::text[], $8::text[])",
    )
    .bind(
        kept.iter()
            .map(|(c, _)| c.delivery.id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        kept.iter()
            .map(|(_, r)| r.attempt.attempted_at)
            .collect::<Vec<_>>(),
    )
    .bind(
        kept.iter()
            .map(|(_, r)| i32::try_from(r.attempt.duration_ms).unwrap_or(i32::MAX))
            .collect::<Vec<_>>(),
    )
    .bind(
        kept.iter()
            .map(|(_, r)| r.attempt.status_code.map(i32::from))
            .collect::<Vec<_>>(),
    )
    .bind(attempt(|r| r.attempt.error_class.clone()))
    .bind(attempt(|r| r.attempt.error.clone()))
    .bind(attempt(|r| r.attempt.response_body.clone()))
    .bind(attempt(|r| r.attempt.response_headers.to_json()))
    .execute(&mut *tx)
    .await?;
    record_health(&mut tx, kept, &moved.streaking).await?;
    if let Some(at) = kept.iter().map(|(_, r)| r.attempt.attempted_at).max() {
        settle_locked(&mut tx, &lanes, at, change).await?;
    }
    tx.commit().await?;
    Ok(moved.recorded)
}
