//! Storage of webhook endpoints and of the deliveries the outbox fans out to them.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::page::{Page, PageRequest};
use convene_core::webhook::{Attempt, Delivery, DeliveryStatus, Webhook};
use convene_core::{DeliveryId, Timestamp, WebhookId};
use serde_json::Value;
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
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_webhook(&self, new: NewWebhook, at: Timestamp) -> StoreResult<Webhook>;
    async fn webhook(&self, id: &WebhookId) -> StoreResult<Option<Webhook>>;
    async fn list_webhooks(&self, page: &PageRequest) -> StoreResult<Page<Webhook>>;
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
}

/// A due delivery, leased to one worker until `lease_until`, with its endpoint as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub delivery: Delivery,
    pub webhook: Webhook,
    /// Proves the lease when the attempt is recorded: a worker whose lease expired and was
    /// taken over records nothing.
    pub lease_token: String,
}

/// What an attempt leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub attempt: Attempt,
    pub status: DeliveryStatus,
    /// When to try again (`status` pending), else `None`.
    pub next_attempt_at: Option<Timestamp>,
}

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Adds a signal to the outbox; `false` when its id is already there (nothing changes).
    async fn ingest_signal(&self, signal: Signal) -> StoreResult<bool>;
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
    /// Leases up to `limit` pending deliveries due at `now` whose webhook is enabled, oldest due
    /// first, skipping those another worker holds.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<Claim>>;
    /// Logs the attempt and moves the delivery on; `false` (and nothing written) when the lease
    /// was lost meanwhile.
    async fn finish_attempt(&self, claim: &Claim, record: &AttemptRecord) -> StoreResult<bool>;
    /// Gives a claim back unsent (the endpoint's rate limit), due again at `at`; no attempt is
    /// counted. `false` when the lease was lost meanwhile.
    async fn release_claim(&self, claim: &Claim, at: Timestamp) -> StoreResult<bool>;
    async fn deliveries(
        &self,
        webhook: &WebhookId,
        status: Option<DeliveryStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<Delivery>>;
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
    /// Forgets attempts logged before `before`; returns how many.
    async fn purge_attempts(&self, before: Timestamp) -> StoreResult<u64>;
}
