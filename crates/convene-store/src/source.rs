//! Inbound sources (other platforms' webhooks received at `/in/<token>`) and the log of what
//! each one sent.

use crate::{Signal, StoreResult};
use async_trait::async_trait;
use convene_core::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub id: String,
    pub name: String,
    /// `openedx-webhooks`, `standard-webhooks` or `generic`.
    pub kind: String,
    /// SHA-256 (hex) of the token in the source's URL.
    pub token_sha256: String,
    /// A Standard Webhooks source's `whsec_` secret, sealed.
    pub secret_sealed: Option<String>,
    /// A generic source's member holding the sender's id (dotted path).
    pub id_member: Option<String>,
    pub created_at: Timestamp,
}

/// One POST to a source, as received and answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub id: String,
    pub source_id: String,
    /// The HTTP status answered: 202 accepted, a 4xx refused.
    pub status: u16,
    pub reason: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    /// The signal it became (accepted only).
    pub signal_id: Option<String>,
    pub received_at: Timestamp,
}

#[async_trait]
pub trait SourceStore: Send + Sync {
    /// `Conflict::SourceName` when the name is taken.
    async fn create_source(&self, source: &Source) -> StoreResult<()>;
    /// Ordered by name.
    async fn sources(&self) -> StoreResult<Vec<Source>>;
    async fn source(&self, id: &str) -> StoreResult<Option<Source>>;
    async fn source_by_token(&self, token_sha256: &str) -> StoreResult<Option<Source>>;
    /// A new URL token; the old one stops working at once. `false` when there is no such source.
    async fn set_source_token(&self, id: &str, token_sha256: &str) -> StoreResult<bool>;
    async fn delete_source(&self, id: &str) -> StoreResult<bool>;
    /// Logs a POST and, when it was accepted, ingests its signal in the same transaction;
    /// whether the signal was new (a repeated id is logged, not fanned out again).
    async fn receive(&self, receipt: &Receipt, signal: Option<&Signal>) -> StoreResult<bool>;
    /// Newest first.
    async fn receipts(&self, source_id: &str, limit: u32) -> StoreResult<Vec<Receipt>>;
    async fn receipt(&self, id: &str) -> StoreResult<Option<Receipt>>;
}
