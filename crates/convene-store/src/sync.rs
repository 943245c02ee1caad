//! Storage of both sides of the Event Center ↔ Dashboard protocol and of its audit trail.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::event::Event;
use convene_core::page::{Page, PageRequest};
use convene_core::sync::{CenterEventId, DashboardLink, SyncCall};
use convene_core::username::Username;
use convene_core::{EventId, Timestamp};
use std::collections::BTreeSet;

/// What replacing the participant list did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterChange {
    pub added: Vec<Username>,
    pub removed: Vec<Username>,
    /// Users created for names Convene did not know.
    pub created: Vec<Username>,
    /// Wanted names that are no user and were not to be created.
    pub skipped: Vec<Username>,
}

/// How a Dashboard link was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkWrite {
    Created,
    /// The same course was already linked: only the secret may have changed.
    Kept,
    /// The event is linked to another course.
    LinkedElsewhere,
}

#[async_trait]
pub trait SyncStore: Send + Sync {
    /// Links the event (as a course) to an Event Center event; `false` when it is linked already
    /// (to any event). Emits `event_sync.enabled`.
    async fn enable_sync(
        &self,
        event: &Event,
        center: &CenterEventId,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Unlinks it if it is linked to `center`; `false` otherwise. Emits `event_sync.disabled`.
    async fn disable_sync(
        &self,
        event: &Event,
        center: &CenterEventId,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Makes the participants exactly `wanted`, in one transaction serialised per event, as
    /// long as the event is still linked to `center` (`None` otherwise, nothing changed).
    /// Wanted names without a user are created when `create` holds them, else skipped. Added
    /// participants are public; removals keep organizer roles. Emits the participant and user
    /// events and, when anything changed, `event_sync.participants_updated`.
    async fn apply_roster(
        &self,
        event: &Event,
        center: &CenterEventId,
        wanted: &BTreeSet<Username>,
        create: &[Username],
        at: Timestamp,
    ) -> StoreResult<Option<RosterChange>>;
    /// The names in `names` that are no user yet.
    async fn unknown_usernames(&self, names: &[Username]) -> StoreResult<Vec<Username>>;

    async fn record_sync_call(&self, call: &SyncCall) -> StoreResult<()>;
    /// The event's sync calls, newest first.
    async fn sync_calls(&self, event: &EventId, page: &PageRequest) -> StoreResult<Page<SyncCall>>;

    /// Stores the link and queues a first push of the public participants.
    async fn put_dashboard_link(&self, link: &DashboardLink) -> StoreResult<LinkWrite>;
    async fn dashboard_link(&self, event: &EventId) -> StoreResult<Option<DashboardLink>>;
    /// Removes the link with its queued push.
    async fn delete_dashboard_link(&self, event: &EventId) -> StoreResult<bool>;
    /// Notes how the last push went (`success` or an error).
    async fn record_push(&self, event: &EventId, result: &str, at: Timestamp) -> StoreResult<()>;
    /// The public participants' usernames, in order: what a push sends.
    async fn public_usernames(&self, event: &EventId) -> StoreResult<Vec<Username>>;
}
