//! Storage of webhook endpoints and of the deliveries the outbox fans out to them.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::outbound::{CONVENE_SOURCE, EventType};
use convene_core::page::{Page, PageRequest};
use convene_core::text::Channel;
use convene_core::webhook::{Attempt, Delivery, DeliveryStatus, Webhook};
use convene_core::webhook::{EventTypes, SubjectOrder};
use convene_core::webhook_scope::{EventFacts, OwnerNow, WebhookScope};
use convene_core::{DeliveryId, Timestamp, WebhookId};
use convene_core::{EventId, UserId};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use time::Duration;

/// A webhook as first stored (the id, times and health fields are the store's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub url: convene_core::webhook::TargetUrl,
    pub event_types: convene_core::webhook::EventTypes,
    pub enabled: bool,
    pub encoding: String,
    pub description: Option<String>,
    pub headers: std::collections::BTreeMap<String, String>,
    pub rate_limit_per_s: Option<u32>,
    pub secret: String,
    /// Who made it (`None`: the bootstrap token).
    pub owner: Option<UserId>,
    pub scope: WebhookScope,
    pub order: SubjectOrder,
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_webhook(&self, new: NewWebhook, at: Timestamp) -> StoreResult<Webhook>;
    async fn webhook(&self, id: &WebhookId) -> StoreResult<Option<Webhook>>;
    /// Webhooks in id order; only those `owner` made, when given.
    /// With `search`, only those whose URL or description contains it, ignoring case.
    async fn list_webhooks(
        &self,
        owner: Option<&UserId>,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Webhook>>;
    /// How many webhooks there are, and up to `limit` of those failing now, longest first: the
    /// overview's health card, without opening every webhook's secret.
    async fn webhook_health(&self, limit: u32) -> StoreResult<(u64, Vec<Webhook>)>;
    /// Writes every mutable field of `webhook` (url, types, flags, secrets, health).
    async fn update_webhook(&self, webhook: &Webhook) -> StoreResult<Webhook>;
    /// Turns it off on the engine's own account (410, failing too long); `false` if it was off.
    async fn disable_webhook(
        &self,
        id: &WebhookId,
        reason: &str,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Deletes it with its deliveries and attempts.
    async fn delete_webhook(&self, id: &WebhookId) -> StoreResult<bool>;
}

/// A message from another platform, fanned out like Convene's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub id: String,
    pub event_type: String,
    pub data: Value,
    pub source: String,
    pub occurred_at: Timestamp,
    /// What it is about, for endpoints that take one message per subject at a time.
    pub subject: Option<String>,
}

/// A due delivery, leased to one worker until `lease_until`, with its endpoint as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub delivery: Delivery,
    /// Shared by the round's claims to the same endpoint.
    pub webhook: Arc<Webhook>,
    /// Proves the lease when the attempt is recorded: a worker whose lease expired and was
    /// taken over records nothing.
    pub lease_token: String,
}

/// Which due deliveries to lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    pub now: Timestamp,
    pub lease: Duration,
    /// At most this many in all.
    pub limit: u32,
    /// At most this many per endpoint, so one slow endpoint cannot fill a round.
    pub per_endpoint: u32,
    /// Endpoints this worker is still sending to.
    pub skip: Vec<WebhookId>,
}

/// What an attempt leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub attempt: Attempt,
    pub status: DeliveryStatus,
    /// When to try again (`status` pending), else `None`.
    pub next_attempt_at: Option<Timestamp>,
}

/// What the delivery worker asks of a store: its deliveries, and the webhooks it turns off.
/// Every store has it (`Store` requires it), so an `Arc<dyn Store>` narrows to it.
pub trait DeliveryWork: DeliveryStore + WebhookStore {}

impl<T: DeliveryStore + WebhookStore + ?Sized> DeliveryWork for T {}

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Adds a signal to the outbox; `false` when its id is already there (nothing changes).
    async fn ingest_signal(&self, signal: Signal) -> StoreResult<bool>;
    /// Adds signals in one transaction, all or none; per signal, whether it was new (a repeated
    /// id, also one repeated inside the batch, changes nothing).
    async fn ingest_signals(&self, signals: &[Signal]) -> StoreResult<Vec<bool>>;
    /// Fans up to `limit` undispatched outbox messages out to one delivery per enabled webhook
    /// whose types match, in commit order; returns how many messages it dispatched.
    async fn dispatch(&self, limit: u32, at: Timestamp) -> StoreResult<u32>;
    /// A delivery to one webhook only, outside the outbox (the "test send").
    async fn enqueue_direct(
        &self,
        webhook: &WebhookId,
        event_type: &str,
        data: Value,
        at: Timestamp,
    ) -> StoreResult<Delivery>;
    /// Leases due deliveries as `request` says, oldest due first, skipping those another worker
    /// holds and endpoints that are disabled or in `request.skip`.
    async fn claim(&self, request: &ClaimRequest) -> StoreResult<Vec<Claim>>;
    /// Logs each attempt and moves its delivery on, in one transaction; `false` (and nothing
    /// written) for a claim whose lease was lost meanwhile.
    async fn finish_attempts(&self, done: &[(&Claim, &AttemptRecord)]) -> StoreResult<Vec<bool>>;
    /// Gives a claim back unsent (the endpoint's rate limit), due again at `at`; no attempt is
    /// counted. `false` when the lease was lost meanwhile.
    async fn release_claim(&self, claim: &Claim, at: Timestamp) -> StoreResult<bool>;
    /// Deliveries as `filter` picks them, newest first, each with its latest error.
    async fn deliveries(
        &self,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ListedDelivery>>;
    /// A delivery with every attempt, oldest first.
    async fn delivery(&self, id: &DeliveryId) -> StoreResult<Option<(Delivery, Vec<Attempt>)>>;
    /// Makes a delivery pending again, due at `at` (manual retry); `false` if unknown.
    async fn retry_delivery(&self, id: &DeliveryId, at: Timestamp) -> StoreResult<bool>;
    /// Makes every failed delivery of `webhook` created since `since` pending again, due at `at`.
    async fn recover(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        at: Timestamp,
    ) -> StoreResult<u64>;
    /// Since when the longest-waiting due delivery of an enabled webhook has been due (in
    /// flight or not); `None` when none is. Cheap: one index probe per webhook.
    async fn oldest_due(&self) -> StoreResult<Option<Timestamp>>;
    /// What waits to be sent at `now`: outbox messages not fanned out yet, and due deliveries of
    /// enabled webhooks. Counts every row: for `/metrics`, not for every request.
    async fn backlog(&self, now: Timestamp) -> StoreResult<Backlog>;
    /// Forgets attempts logged before `before`; returns how many.
    async fn purge_attempts(&self, before: Timestamp) -> StoreResult<u64>;
    /// Attempts since `since` in buckets of `bucket_s` seconds: `(bucket start as Unix seconds,
    /// succeeded, failed)`, oldest first; empty buckets are left out.
    async fn attempt_stats(
        &self,
        since: Timestamp,
        bucket_s: i64,
    ) -> StoreResult<Vec<(i64, u64, u64)>>;
}

/// Which deliveries a listing shows; each part left `None` does not narrow it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    pub webhook: Option<WebhookId>,
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<String>,
    /// Created at or after.
    pub since: Option<Timestamp>,
    /// Created before.
    pub until: Option<Timestamp>,
    /// About this event (Convene's own messages only).
    pub event: Option<convene_core::EventId>,
}

impl DeliveryFilter {
    /// Every delivery to `webhook`, of `status` if given.
    pub fn of(webhook: &WebhookId, status: Option<DeliveryStatus>) -> Self {
        Self {
            webhook: Some(webhook.clone()),
            status,
            ..Self::default()
        }
    }
}

/// A delivery in a listing, with the error its latest attempt logged (`None` when that one
/// succeeded or none was made).
#[derive(Debug, Clone, PartialEq)]
pub struct ListedDelivery {
    pub delivery: Delivery,
    pub last_error: Option<String>,
}

/// What waits to be sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Outbox messages not fanned out yet.
    pub messages: u64,
    /// Due deliveries of enabled webhooks (waiting or in flight).
    pub deliveries: u64,
    /// Since when the longest-waiting of those deliveries has been due.
    pub oldest_due: Option<Timestamp>,
}

/// An enabled webhook as a fan-out sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub id: String,
    pub types: EventTypes,
    pub owner: Option<UserId>,
    pub scope: WebhookScope,
    pub order: SubjectOrder,
}

/// What a fan-out knows, read in its transaction, when some webhook is scoped: the events its
/// messages are about (channels and organizers; a deleted one is absent) and the owners of
/// scoped webhooks that still exist (with whether each is an admin now).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeFacts {
    pub events: HashMap<String, (Vec<Channel>, Vec<UserId>)>,
    pub owners: HashMap<UserId, bool>,
}

/// The event ids a batch of messages (`(type, data, source)`) is about, for [`ScopeFacts`].
pub fn events_about<'a>(
    messages: impl IntoIterator<Item = (&'a str, &'a Value, &'a str)>,
) -> Vec<&'a str> {
    let mut ids: Vec<&str> = messages
        .into_iter()
        .filter_map(|(t, data, source)| event_about(t, data, source))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The event a message is about: only Convene's own messages are about one (a signal may carry
/// any shape, and must not reach an organizer's webhook by looking like an event's).
fn event_about<'a>(event_type: &str, data: &'a Value, source: &str) -> Option<&'a str> {
    (source == CONVENE_SOURCE)
        .then(|| EventType::parse(event_type))
        .flatten()?
        .subject_event(data)
}

/// Which enabled webhooks a message goes to: `(message index, webhook)` for each pair whose
/// types match and whose scope admits it, messages (`(type, data, source)`) in order. The same
/// plan on every backend. An endpoint is not sent operational events about itself: it could
/// only hear it failed once well again.
pub fn fan_out<'a>(
    messages: impl IntoIterator<Item = (&'a str, &'a Value, &'a str)>,
    webhooks: &'a [Route],
    facts: &ScopeFacts,
) -> Vec<(usize, &'a Route)> {
    let owner_now = |route: &'a Route| match &route.owner {
        None => OwnerNow::Admin(None),
        Some(user) => match facts.owners.get(user) {
            Some(true) => OwnerNow::Admin(Some(user)),
            Some(false) => OwnerNow::User(user),
            None => OwnerNow::Gone,
        },
    };
    let mut plan = Vec::new();
    for (i, (event_type, data, source)) in messages.into_iter().enumerate() {
        let operational = EventType::parse(event_type).is_some_and(EventType::is_operational);
        let about = data["webhook"]["id"].as_str().filter(|_| operational);
        let event = event_about(event_type, data, source).map(|id| {
            let known = facts
                .events
                .get(id)
                .map(|(channels, organizers)| EventFacts {
                    channels,
                    organizers,
                });
            (EventId::from_trusted(id.to_owned()), known)
        });
        for route in webhooks {
            let admitted = route.types.matches(event_type)
                && about != Some(route.id.as_str())
                && route.scope.admits(
                    owner_now(route),
                    event.as_ref().map(|(id, known)| (id, *known)),
                );
            if admitted {
                plan.push((i, route));
            }
        }
    }
    plan
}

/// How a round of attempts leaves each endpoint's failure streak, attempts taken in time order:
/// `None` when its last attempt succeeded (the streak ends), else `Some((since, restarted))`:
/// the first failure after its last success in the round, and whether a success came before it
/// (then the stored streak is replaced; otherwise it is only started if none is running).
pub fn failure_streaks<'a>(
    done: impl IntoIterator<Item = &'a (&'a Claim, &'a AttemptRecord)>,
) -> Vec<(&'a str, Option<(Timestamp, bool)>)> {
    let mut by_endpoint: std::collections::BTreeMap<&str, Vec<(Timestamp, bool)>> =
        std::collections::BTreeMap::new();
    for (claim, record) in done {
        by_endpoint
            .entry(claim.webhook.id.as_str())
            .or_default()
            .push((
                record.attempt.attempted_at,
                record.attempt.error_class.is_none(),
            ));
    }
    by_endpoint
        .into_iter()
        .map(|(endpoint, mut attempts)| {
            attempts.sort_by_key(|(at, _)| *at);
            let mut streak: Option<Timestamp> = None;
            let mut succeeded = false;
            for (at, ok) in attempts {
                if ok {
                    succeeded = true;
                    streak = None;
                } else {
                    streak.get_or_insert(at);
                }
            }
            (endpoint, streak.map(|since| (since, succeeded)))
        })
        .collect()
}
