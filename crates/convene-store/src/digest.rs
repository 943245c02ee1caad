//! Mail that waits for a person's daily or weekly digest. An item leaves only in the
//! transaction that writes its digest mail: none is sent twice, none is lost to a restart.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::mail::NewMail;
use convene_core::notification::{Cadence, Kind};
use convene_core::{Timestamp, UserId};

/// A mail planned for a digest instead of being sent at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDigestItem {
    pub user: UserId,
    pub kind: Kind,
    pub cadence: Cadence,
    /// The digest it goes out with.
    pub due_at: Timestamp,
    pub title: String,
    /// The notification's message (HTML).
    pub message: String,
    pub text: String,
    /// One item per key, ever (the mail's key, as if it had been sent).
    pub dedupe_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestItem {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub message: String,
    pub text: String,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait DigestStore: Send + Sync {
    /// The digests due at `now`: whose, and which cadence; the longest waiting first.
    async fn due_digests(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<(UserId, Cadence)>>;
    /// What waits for one person's digest and is due by `now`, oldest first.
    async fn digest_items(
        &self,
        user: &UserId,
        cadence: Cadence,
        now: Timestamp,
    ) -> StoreResult<Vec<DigestItem>>;
    /// Takes `items` away and writes `mail` (queued with its send job) in one transaction;
    /// `false`, with nothing written, when any item was taken already (by another node).
    /// Without a mail (the person has no address any more) the items just go.
    async fn record_digest(
        &self,
        items: &[DigestItem],
        mail: Option<&NewMail>,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// When the next digest falls due.
    async fn next_digest(&self) -> StoreResult<Option<Timestamp>>;
}
