//! Calendar feeds: one revocable token per user, kept as its digest.

use async_trait::async_trait;
use convene_core::event::Event;
use convene_core::{Timestamp, UserId};

use crate::StoreResult;

#[async_trait]
pub trait CalendarStore: Send + Sync {
    /// Gives the user a feed with this token digest, replacing (revoking) any earlier one.
    async fn set_calendar_feed(
        &self,
        user: &UserId,
        digest: &str,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Revokes the user's feed; whether there was one.
    async fn drop_calendar_feed(&self, user: &UserId) -> StoreResult<bool>;
    /// Whose feed a token digest opens.
    async fn calendar_feed_owner(&self, digest: &str) -> StoreResult<Option<UserId>>;
    /// The events the user is registered for, earliest start first, at most `limit`.
    async fn registered_events(&self, user: &UserId, limit: u32) -> StoreResult<Vec<Event>>;
}
