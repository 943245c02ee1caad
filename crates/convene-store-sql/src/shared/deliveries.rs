use super::dialect::{
    Conn, DbTime, db_time, epoch_seconds, in_list, json_rows, json_time, text_list, time_of,
};
use super::lanes::{Change, Lane, distinct, settle};
use super::webhooks::{WEBHOOK_COLUMNS, WebhookRow};
use super::{Backend, emit_all};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::outbound::{EventType, OutboundEvent};
use convene_core::page::{Page, PageRequest};
use convene_core::webhook::{
    Attempt, Delivery, DeliveryStatus, EventTypes, ResponseHeaders, SubjectOrder, Webhook,
};
use convene_core::webhook_scope::WebhookScope;
use convene_core::{DeliveryId, Timestamp, UserId, WebhookId};
use convene_store::CONVENE_SOURCE;
use convene_store::cause::traceparent;
use convene_store::{
    AttemptRecord, Backlog, Claim, ClaimRequest, DeliveryFilter, DeliveryStore, ListedDelivery,
    MessageType, Route, ScopeFacts, Signal, StoreError, StoreResult, events_about, failure_streaks,
    fan_out,
};
use serde_json::Value;
use sqlx::types::Json;
use std::collections::HashSet;
use std::sync::Arc;

/// A retry or recovery may put older deliveries back in a lane, of any webhook.
const RESET: Change = Change {
    added: true,
    coalescing: true,
};

pub(crate) const DELIVERY_COLUMNS: &str =
    "id, webhook_id, message_id, event_type, data, source, occurred_at,
    status, attempts, next_attempt_at, created_at, updated_at, traceparent, subject";

#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    id: String,
    webhook_id: String,
    message_id: String,
    event_type: String,
    data: Json<Value>,
    source: String,
    occurred_at: DbTime,
    status: String,
    attempts: i32,
    next_attempt_at: Option<DbTime>,
    created_at: DbTime,
    updated_at: DbTime,
    traceparent: Option<String>,
    subject: Option<String>,
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
            occurred_at: time_of(r.occurred_at),
            status: DeliveryStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Other(format!("unknown status {}", r.status).into()))?,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            next_attempt_at: r.next_attempt_at.map(time_of),
            created_at: time_of(r.created_at),
            updated_at: time_of(r.updated_at),
            traceparent: r.traceparent,
            subject: r.subject,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    delivery: DeliveryRow,
    last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AttemptRow {
    attempted_at: DbTime,
    duration_ms: i32,
    status_code: Option<i32>,
    error_class: Option<String>,
    error: Option<String>,
    response_body: Option<String>,
    response_headers: Option<String>,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Self {
        Attempt {
            attempted_at: time_of(r.attempted_at),
            duration_ms: u32::try_from(r.duration_ms).unwrap_or(0),
            status_code: r.status_code.and_then(|c| u16::try_from(c).ok()),
            error_class: r.error_class,
            error: r.error,
            response_body: r.response_body,
            response_headers: ResponseHeaders::from_json(r.response_headers.as_deref()),
        }
    }
}

pub(crate) fn deliveries(rows: Vec<DeliveryRow>) -> StoreResult<Vec<Delivery>> {
    rows.into_iter().map(Delivery::try_from).collect()
}

/// Per message of a fan-out (`(type, data, source)`, as `plan` takes them), the event it is
/// about, kept on its deliveries for the event's timeline; `None` for other platforms' signals
/// and for messages about no event. Read once per message, not per endpoint.
pub(crate) fn events_of(messages: &[(&str, &Value, &str)]) -> Vec<Option<String>> {
    messages
        .iter()
        .map(|(event_type, data, source)| {
            match MessageType::parse((*event_type).to_owned(), source) {
                MessageType::Event(t) => t.subject_event(data).map(str::to_owned),
                MessageType::Signal(_) => None,
            }
        })
        .collect()
}

/// The claimed rows as claims, in due order, each with its webhook (secrets opened).
pub(crate) async fn claims_of(
    store: &Backend,
    rows: Vec<DeliveryRow>,
    token: String,
) -> StoreResult<Vec<Claim>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut claimed = deliveries(rows)?;
    claimed.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
    let ids: Vec<String> = claimed.iter().map(|d| d.webhook_id.to_string()).collect();
    let sql = format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE {}",
        in_list("id", 1)
    );
    let hooks: Vec<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(text_list(&ids))
        .fetch_all(store.writes())
        .await?;
    let hooks: Vec<Arc<Webhook>> = store
        .opened_webhooks(hooks)?
        .into_iter()
        .map(Arc::new)
        .collect();
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

/// An enabled webhook's row as a fan-out reads it: id, types, owner, scope, ordering.
type RouteRow = (
    String,
    Json<Vec<String>>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The enabled webhooks with the types, owner and scope of each, for a fan-out.
pub(crate) async fn enabled_hooks(tx: &mut Conn) -> StoreResult<Vec<Route>> {
    let hooks: Vec<RouteRow> = sqlx::query_as(
        "SELECT id, event_types, owner_id, scope, ordering FROM webhooks WHERE enabled ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(hooks
        .into_iter()
        .map(|(id, types, owner, scope, ordering)| Route {
            id,
            types: EventTypes::from_list(types.0),
            owner: owner.map(UserId::from_trusted),
            scope: WebhookScope::from_stored(scope.as_deref()),
            order: SubjectOrder::from_stored(ordering.as_deref()),
        })
        .collect())
}

/// The fan-out plan of a batch of messages (`(type, data, source)`), read in the dispatch's
/// transaction: the enabled webhooks and, when some are scoped, what their scopes ask about.
/// Each pair is `(message index, webhook id, the webhook's order)`.
pub(crate) async fn plan(
    tx: &mut Conn,
    messages: &[(&str, &Value, &str)],
) -> StoreResult<Vec<(usize, String, SubjectOrder)>> {
    let hooks = enabled_hooks(tx).await?;
    let mut facts = ScopeFacts::default();
    if hooks.iter().any(|h| h.scope.is_scoped()) {
        let events = events_about(messages.iter().copied());
        let sql = format!("SELECT id, channels FROM events WHERE {}", in_list("id", 1));
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(text_list(&events))
            .fetch_all(&mut *tx)
            .await?;
        for (id, channels) in rows {
            facts
                .events
                .insert(id, (super::events::stored_channels(channels), Vec::new()));
        }
        let sql = format!(
            "SELECT event_id, user_id FROM organizers WHERE {}",
            in_list("event_id", 1)
        );
        let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(text_list(&events))
            .fetch_all(&mut *tx)
            .await?;
        for (event, user) in rows {
            if let Some((_, organizers)) = facts.events.get_mut(&event) {
                organizers.push(UserId::from_trusted(user));
            }
        }
        let owners: Vec<&str> = hooks
            .iter()
            .filter_map(|h| h.owner.as_ref().map(UserId::as_str))
            .collect();
        let sql = format!("SELECT id, is_admin FROM users WHERE {}", in_list("id", 1));
        let rows: Vec<(String, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(text_list(&owners))
            .fetch_all(&mut *tx)
            .await?;
        facts.owners = rows
            .into_iter()
            .map(|(id, admin)| (UserId::from_trusted(id), admin))
            .collect();
    }
    Ok(fan_out(messages.iter().copied(), &hooks, &facts)
        .into_iter()
        .map(|(i, hook)| (i, hook.id.clone(), hook.order))
        .collect())
}

/// What a wave's update did, read from its answer: one row per delivery it moved (its lease
/// still held) with whether that delivery's endpoint had a stored failure streak.
pub(crate) struct Moved<'d, 'c> {
    /// Per sent claim, whether it was recorded.
    pub recorded: Vec<bool>,
    /// The sent claims that were recorded.
    pub kept: Vec<&'d (&'c Claim, &'c AttemptRecord)>,
    /// The endpoints with a stored streak.
    pub streaking: HashSet<&'c str>,
}

impl<'d, 'c> Moved<'d, 'c> {
    pub(crate) fn of(
        done: &'d [(&'c Claim, &'c AttemptRecord)],
        rows: Vec<(String, bool)>,
    ) -> Self {
        let streak_of: std::collections::HashMap<String, bool> = rows.into_iter().collect();
        let recorded: Vec<bool> = done
            .iter()
            .map(|(c, _)| streak_of.contains_key(c.delivery.id.as_str()))
            .collect();
        let kept = done
            .iter()
            .zip(&recorded)
            .filter(|(_, kept)| **kept)
            .map(|(d, _)| d)
            .collect();
        let streaking = done
            .iter()
            .filter(|(c, _)| streak_of.get(c.delivery.id.as_str()) == Some(&true))
            .map(|(c, _)| c.webhook.id.as_str())
            .collect();
        Self {
            recorded,
            kept,
            streaking,
        }
    }
}

/// After a round: moves each endpoint's failure streak and emits what an operator acts on.
/// `endpoint.failing` when a streak starts and `endpoint.recovered` when one ends, each once
/// per streak (the conditional update that changes the row decides, whichever node runs it);
/// `delivery.exhausted` when a delivery's last attempt failed (but not for a `delivery.exhausted`
/// message itself, so a dead endpoint that subscribes to it cannot feed a chain).
/// `streaking` holds the endpoints with a stored streak, as the wave's own update read them in
/// this transaction: only those can recover, so a wave of successes writes nothing more.
pub(crate) async fn record_health(
    tx: &mut Conn,
    kept: &[&(&Claim, &AttemptRecord)],
    streaking: &HashSet<&str>,
) -> StoreResult<()> {
    let mut events = Vec::new();
    let streaks = failure_streaks(kept.iter().copied());
    let hook_of = |webhook: &str| {
        kept.iter()
            .map(|(c, _)| &c.webhook)
            .find(|h| h.id.as_str() == webhook)
    };
    // A success ends a stored streak: every such endpoint in one statement.
    let succeeded: Vec<&str> = streaks
        .iter()
        .filter(|(_, streak)| matches!(streak, None | Some((_, true))))
        .map(|(webhook, _)| *webhook)
        .filter(|webhook| streaking.contains(webhook))
        .collect();
    if !succeeded.is_empty() {
        let sql = format!(
            "UPDATE webhooks SET failing_since = NULL
             WHERE {} AND failing_since IS NOT NULL RETURNING id",
            in_list("id", 1)
        );
        let recovered: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(text_list(&succeeded))
            .fetch_all(&mut *tx)
            .await?;
        for hook in recovered.iter().filter_map(|(id,)| hook_of(id)) {
            tracing::info!(webhook = %hook.id, "webhook endpoint recovered");
            events.push(OutboundEvent::endpoint_health(
                EventType::EndpointRecovered,
                &hook.id,
                &hook.url,
                None,
            ));
        }
    }
    for (webhook, streak) in streaks {
        let (Some((since, _)), Some(hook)) = (streak, hook_of(webhook)) else {
            continue;
        };
        let sql = "UPDATE webhooks SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL";
        let started = sqlx::query(sql)
            .binds((webhook, db_time(since)))
            .execute(&mut *tx)
            .await?;
        if started.rows_affected() == 1 {
            let first = kept
                .iter()
                .find(|(c, r)| c.webhook.id.as_str() == webhook && r.attempt.attempted_at == since);
            let error = first.and_then(|(_, r)| failure(r));
            tracing::warn!(webhook, error, "webhook endpoint failing");
            events.push(OutboundEvent::endpoint_health(
                EventType::EndpointFailing,
                &hook.id,
                &hook.url,
                error,
            ));
        }
    }
    for (claim, record) in kept {
        let d = &claim.delivery;
        if record.status == DeliveryStatus::Failed
            && d.event_type != EventType::DeliveryExhausted.as_str()
        {
            let (hook, error) = (&claim.webhook, failure(record));
            events.push(OutboundEvent::delivery_exhausted(
                &hook.id,
                &hook.url,
                &d.id,
                &d.event_type,
                error,
            ));
        }
    }
    let at = kept.iter().map(|(_, r)| r.attempt.attempted_at).max();
    match at {
        Some(at) => emit_all(tx, events, at).await,
        None => Ok(()),
    }
}

/// What went wrong in an attempt, as an operator reads it.
fn failure(record: &AttemptRecord) -> Option<&str> {
    let a = &record.attempt;
    a.error.as_deref().or(a.error_class.as_deref())
}

#[async_trait]
impl DeliveryStore for Backend {
    async fn ingest_signal(&self, s: Signal) -> StoreResult<bool> {
        let mut conn = self.writes().acquire().await?;
        Ok(signals_in(&mut conn, std::slice::from_ref(&s)).await?[0])
    }

    async fn ingest_signals(&self, signals: &[Signal]) -> StoreResult<Vec<bool>> {
        let mut conn = self.writes().acquire().await?;
        signals_in(&mut conn, signals).await
    }

    async fn dispatch(&self, limit: u32, at: Timestamp) -> StoreResult<u32> {
        super::claims::dispatch(self, limit, at).await
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
            .binds((event_type, Json(&data), db_time(at), webhook.as_str()))
            .fetch_optional(self.writes())
            .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn claim(&self, request: &ClaimRequest) -> StoreResult<Vec<Claim>> {
        super::claims::claim(self, request).await
    }

    async fn finish_attempts(&self, done: &[(&Claim, &AttemptRecord)]) -> StoreResult<Vec<bool>> {
        super::claims::finish_attempts(self, done).await
    }

    async fn release_claim(&self, claim: &Claim, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE deliveries SET next_attempt_at = $3, lease_token = NULL, lease_until = NULL
             WHERE id = $1 AND lease_token = $2",
        )
        .binds((claim.delivery.id.as_str(), &claim.lease_token))
        .bind(db_time(at))
        .execute(self.writes())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn deliveries(
        &self,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ListedDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS},
             (SELECT a.error FROM attempts a WHERE a.delivery_id = deliveries.id
              ORDER BY a.id DESC LIMIT 1) AS last_error
             FROM deliveries WHERE ($1 IS NULL OR webhook_id = $1)
             AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR event_type = $3)
             AND ($4 IS NULL OR created_at >= $4) AND ($5 IS NULL OR created_at < $5)
             AND ($6 IS NULL OR id < $6) AND ($8 IS NULL OR event_id = $8)
             ORDER BY id DESC LIMIT $7"
        );
        let rows: Vec<ListedRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((
                filter.webhook.as_ref().map(WebhookId::as_str),
                filter.status.map(DeliveryStatus::as_str),
                filter.event_type.as_deref(),
            ))
            .binds((filter.since.map(db_time), filter.until.map(db_time)))
            .binds((page.after.as_deref(), i64::from(page.limit) + 1))
            .bind(filter.event.as_ref().map(|e| e.as_str()))
            .fetch_all(self.reads())
            .await?;
        let listed = rows
            .into_iter()
            .map(|r| {
                Ok(ListedDelivery {
                    delivery: r.delivery.try_into()?,
                    last_error: r.last_error,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(
            listed,
            page.limit,
            |l: &ListedDelivery| l.delivery.id.to_string(),
        ))
    }

    async fn delivery(&self, id: &DeliveryId) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1");
        let Some(row): Option<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.reads())
            .await?
        else {
            return Ok(None);
        };
        let attempts: Vec<AttemptRow> = sqlx::query_as(
            "SELECT attempted_at, duration_ms, status_code, error_class, error, response_body,
             response_headers FROM attempts WHERE delivery_id = $1 ORDER BY id",
        )
        .bind(id.as_str())
        .fetch_all(self.reads())
        .await?;
        Ok(Some((
            row.try_into()?,
            attempts.into_iter().map(Attempt::from).collect(),
        )))
    }

    async fn retry_delivery(&self, id: &DeliveryId, at: Timestamp) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let retried: Option<(String, Option<String>)> = sqlx::query_as(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $2, lease_token = NULL,
             lease_until = NULL, updated_at = $2 WHERE id = $1 RETURNING webhook_id, subject",
        )
        .binds((id.as_str(), db_time(at)))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((hook, subject)) = retried else {
            return Ok(false);
        };
        // It takes its place in its subject's order again.
        let lanes: Vec<Lane> = subject.map(|s| (hook, s)).into_iter().collect();
        settle(&mut tx, &lanes, at, RESET).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn recover(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        at: Timestamp,
    ) -> StoreResult<u64> {
        let mut tx = self.writes().begin().await?;
        let recovered: Vec<(Option<String>,)> = sqlx::query_as(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $3, updated_at = $3
             WHERE webhook_id = $1 AND status = 'failed' AND created_at >= $2 RETURNING subject",
        )
        .binds((webhook.as_str(), db_time(since), db_time(at)))
        .fetch_all(&mut *tx)
        .await?;
        let count = recovered.len() as u64;
        let subjects = recovered.into_iter().filter_map(|(s,)| s);
        let lanes = distinct(subjects.map(|s| (webhook.to_string(), s)));
        settle(&mut tx, &lanes, at, RESET).await?;
        tx.commit().await?;
        Ok(count)
    }

    async fn purge_attempts(&self, before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM attempts WHERE attempted_at < $1")
            .bind(db_time(before))
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected())
    }

    async fn oldest_due(&self) -> StoreResult<Option<Timestamp>> {
        // Per webhook, the smallest due time is the first entry of its index range.
        let (oldest,): (Option<DbTime>,) = sqlx::query_as(
            "SELECT min((SELECT min(next_attempt_at) FROM deliveries
                          WHERE webhook_id = webhooks.id AND status = 'pending'))
             FROM webhooks WHERE enabled = true",
        )
        .fetch_one(self.reads())
        .await?;
        Ok(oldest.map(time_of))
    }

    async fn backlog(&self, now: Timestamp) -> StoreResult<Backlog> {
        let (messages, deliveries): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM outbox WHERE dispatched_at IS NULL),
                    (SELECT count(*) FROM deliveries JOIN webhooks ON webhooks.id = webhook_id
                      WHERE webhooks.enabled = true AND status = 'pending'
                        AND next_attempt_at <= $1)",
        )
        .bind(db_time(now))
        .fetch_one(self.reads())
        .await?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Backlog {
            messages: count(messages),
            deliveries: count(deliveries),
            oldest_due: self.oldest_due().await?.filter(|t| *t <= now),
        })
    }

    async fn attempt_stats(
        &self,
        since: Timestamp,
        bucket_s: i64,
    ) -> StoreResult<Vec<(i64, u64, u64)>> {
        let sql = format!(
            "SELECT ({} / $2) * $2 AS bucket,
                    SUM(CASE WHEN status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status_code BETWEEN 200 AND 299 THEN 0 ELSE 1 END)
             FROM attempts WHERE attempted_at >= $1 GROUP BY bucket ORDER BY bucket",
            epoch_seconds("attempted_at")
        );
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((db_time(since), bucket_s.max(1)))
            .fetch_all(self.reads())
            .await?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(rows
            .into_iter()
            .map(|(b, ok, failed)| (b, count(ok), count(failed)))
            .collect())
    }
}

/// Writes signals to the outbox on the caller's connection, in one statement (the rows travel
/// as one JSON array); per signal, whether it was new (a repeat inside the batch finds its id
/// taken by the first). Another platform's signal is told to nobody, so it is written with the
/// notifier done (`notified_at`, its own time): the notifier never reads it.
pub(super) async fn signals_in(conn: &mut Conn, signals: &[Signal]) -> StoreResult<Vec<bool>> {
    let rows: Vec<_> = signals
        .iter()
        .map(|s| {
            (
                &s.id,
                &s.event_type,
                &s.data,
                convene_core::clock::micros(s.occurred_at),
                &s.source,
                &s.subject,
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO outbox (id, event_type, data, occurred_at, source, traceparent, subject,
             notified_at)
         SELECT value ->> 0, value ->> 1, value -> 2, {}, value ->> 4, $2, value ->> 5,
             CASE WHEN value ->> 4 = $3 THEN NULL ELSE {} END
         FROM {} WHERE true ORDER BY key
         ON CONFLICT (id) DO NOTHING RETURNING id",
        json_time("value ->> 3"),
        json_time("value ->> 3"),
        json_rows(1),
    );
    let taken: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .binds((Json(&rows), traceparent(), CONVENE_SOURCE))
        .fetch_all(conn)
        .await?;
    let mut fresh: std::collections::HashSet<String> = taken.into_iter().map(|(id,)| id).collect();
    Ok(signals.iter().map(|s| fresh.remove(&s.id)).collect())
}
