//! Connector jobs: durable, leased, retried units of outbound work that are not webhooks (a
//! Dashboard push, later a room or a mail). At most one job per `(kind, subject)` waits at a
//! time: queuing another one for the same subject coalesces into it.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::Timestamp;
use convene_core::job::JobKind;
use serde_json::Value;
use time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub subject: String,
    pub payload: Value,
    /// Raised by each coalesced enqueue: a job whose generation moved while it ran runs again.
    pub generation: i64,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    /// Proves the lease when the job is finished.
    pub lease_token: Option<String>,
    /// It ran out of attempts (or failed for good) and waits no more; `last_error` says why.
    pub given_up: bool,
}

/// How a run of a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    Done,
    /// Done without asking the peer: no word on the connector's health.
    Skipped,
    RetryAt {
        at: Timestamp,
        error: String,
    },
    /// Nothing to do yet: run again at `at`. Not a failure (no attempt counted, no word on
    /// the connector's health).
    Later(Timestamp),
    Failed(String),
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Queues a job, or coalesces into the one waiting for the same subject (its payload is
    /// replaced, its generation raised, its retry time kept).
    async fn enqueue_job(
        &self,
        kind: JobKind,
        subject: &str,
        payload: &Value,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Leases up to `limit` due jobs, oldest due first; one per subject by construction.
    async fn claim_jobs(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;
    /// Records the end of a run under the job's lease; `false` when the lease was lost. A
    /// `Done` or `Failed` job whose generation moved meanwhile waits again, due now.
    async fn finish_job(&self, job: &Job, end: &JobEnd, at: Timestamp) -> StoreResult<bool>;
    /// The waiting (or running) job of a subject.
    async fn pending_job(&self, kind: JobKind, subject: &str) -> StoreResult<Option<Job>>;
    /// The jobs of these subjects that wait or gave up, newest first, at most `limit`.
    async fn jobs_of_subjects(&self, subjects: &[&str], limit: u32) -> StoreResult<Vec<Job>>;
}
