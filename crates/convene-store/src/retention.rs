//! Retention: what is final and older than its kind's cutoff is removed, a small batch at a
//! time. Pending or retrying work is never removed, whatever its age.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::Timestamp;

/// Per kind, the time before which final records go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Outbox messages no pending delivery needs, and delivered or failed deliveries with their
    /// attempts.
    pub messages: Timestamp,
    /// Mails that are no longer queued, with their attempts.
    pub mail: Timestamp,
    /// Notifications that have been read.
    pub notifications: Timestamp,
    /// Dashboard sync calls, webfilter calls, finished OSDI runs with their records and errors,
    /// failed connector jobs, what inbound sources received.
    pub logs: Timestamp,
}

/// Rows removed, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub messages: u64,
    pub deliveries: u64,
    pub attempts: u64,
    pub mails: u64,
    pub notifications: u64,
    pub logs: u64,
}

impl Purged {
    pub fn add(&mut self, other: Purged) {
        self.messages += other.messages;
        self.deliveries += other.deliveries;
        self.attempts += other.attempts;
        self.mails += other.mails;
        self.notifications += other.notifications;
        self.logs += other.logs;
    }

    /// Whether a batch of `batch` rows per table left some behind: another batch is due.
    pub fn more_after(&self, batch: u32) -> bool {
        let full = u64::from(batch);
        [
            self.messages,
            self.deliveries,
            self.mails,
            self.notifications,
            self.logs,
        ]
        .iter()
        .any(|n| *n >= full)
    }
}

#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Removes up to `batch` final rows older than their cutoff from each table, each table in
    /// its own short transaction; call again while [`Purged::more_after`] says so.
    async fn purge_batch(&self, cutoffs: &Cutoffs, batch: u32) -> StoreResult<Purged>;
}
