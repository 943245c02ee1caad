//! Reminders planned with the events and sessions they remind of, and settled once.

use async_trait::async_trait;
use convene_core::outbound::OutboundEvent;
use convene_core::{EventId, SessionId, Timestamp};

use crate::StoreResult;

/// A planned reminder whose time has come. Its key is what it reminds of (`subject`: the
/// event's id or the session's), its offset and the start it was planned for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    pub subject: String,
    pub event: EventId,
    pub session: Option<SessionId>,
    pub offset_s: i64,
    /// The offset as it was written (`"24h"`).
    pub label: String,
    pub starts_at: Timestamp,
    pub due_at: Timestamp,
}

/// What becomes of a due reminder: sent as its message, or passed over (a nearer one of the
/// same start is due too, or what it reminds of has started or gone).
#[derive(Debug, Clone)]
pub enum Settle {
    Send(OutboundEvent),
    PassOver,
}

#[async_trait]
pub trait ReminderStore: Send + Sync {
    /// Unsettled reminders due at `now`, oldest first.
    async fn due_reminders(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<DueReminder>>;
    /// Settles each reminder that no one (this node or another) has settled yet, in one
    /// transaction; a sent one's message goes to the outbox in it. How many were sent.
    async fn settle_reminders(
        &self,
        settled: &[(DueReminder, Settle)],
        at: Timestamp,
    ) -> StoreResult<usize>;
    /// When the next unsettled reminder falls due.
    async fn next_reminder(&self) -> StoreResult<Option<Timestamp>>;
}
