//! Storage of CRM sync over OSDI: profiles, runs (one active per profile), per-pair state,
//! tombstones, flags, the sync log and errors, cursors, tag and event links, attendances.
//!
//! The OSDI tables use only types both databases read the same way (text, 64-bit integers), so
//! their statements need no dialect.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::{EventId, PersonId, Timestamp};
use serde_json::Value;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub entry_point: String,
    /// The API token, sealed by the server's key; never shown.
    pub token_sealed: String,
    /// Throttle, policies, schedule: the server's `ProfileSettings` as JSON.
    pub settings: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewProfile {
    pub name: String,
    pub entry_point: String,
    pub token_sealed: String,
    pub settings: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: String,
    pub profile_id: String,
    pub job: String,
    pub origin: String,
    /// `queued`, `running`, `completed`, `aborted`.
    pub state: String,
    pub counts: Value,
    /// Where a resumed run picks up (the engine's own shape).
    pub resume: Value,
    pub error: Option<String>,
    pub lease_token: Option<String>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

/// What the sync knows of one (local person, remote person) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub profile_id: String,
    pub remote_id: String,
    pub person_id: PersonId,
    pub remote_modified: Timestamp,
    pub local_modified: Timestamp,
    /// The canonical form both sides held after the last sync.
    pub snapshot: Value,
    pub hash: String,
    pub last_origin: String,
    /// `ok` or `deleted`.
    pub status: String,
}

/// One pair visited by a run: the sync log.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordLog {
    pub person_id: Option<String>,
    pub remote_id: Option<String>,
    pub outcome: String,
    pub fields: Value,
    pub conflicts: Value,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncError {
    pub kind: String,
    pub retryable: bool,
    pub person_id: Option<String>,
    pub remote_id: Option<String>,
    pub status: Option<u16>,
    /// Bounded by the engine.
    pub excerpt: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub id: String,
    pub profile_id: String,
    pub kind: String,
    pub person_id: Option<String>,
    pub remote_id: Option<String>,
    pub detail: String,
    /// `open` or `resolved`.
    pub status: String,
    pub created_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attendance {
    pub event_id: EventId,
    pub person_id: PersonId,
    /// Action Network's status verbatim: accepted, declined, tentative, needs action.
    pub status: String,
    pub remote_href: Option<String>,
    pub source: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A page of a run's progress, saved under its lease in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress<'a> {
    pub counts: &'a Value,
    pub resume: &'a Value,
    pub records: &'a [RecordLog],
    pub errors: &'a [SyncError],
    pub lease_until: Timestamp,
}

#[async_trait]
pub trait OsdiStore: Send + Sync {
    /// `Conflict::ProfileName` when the name is taken.
    async fn create_profile(&self, new: &NewProfile, at: Timestamp) -> StoreResult<Profile>;
    /// By id or by name.
    async fn profile(&self, id_or_name: &str) -> StoreResult<Option<Profile>>;
    async fn list_profiles(&self) -> StoreResult<Vec<Profile>>;
    /// `NotFound` when gone, `Conflict::ProfileName` when the new name is taken.
    async fn update_profile(
        &self,
        id: &str,
        new: &NewProfile,
        at: Timestamp,
    ) -> StoreResult<Profile>;
    async fn delete_profile(&self, id: &str) -> StoreResult<bool>;

    /// Queues a run; `Conflict::RunActive` while the profile has one queued or running.
    async fn enqueue_run(
        &self,
        profile_id: &str,
        job: &str,
        origin: &str,
        at: Timestamp,
    ) -> StoreResult<Run>;
    /// The profile's queued or running run.
    async fn active_run(&self, profile_id: &str) -> StoreResult<Option<Run>>;
    /// Leases the oldest queued run, or a running one whose lease ran out (its node died), and
    /// marks it running under a fresh lease token.
    /// `only` limits the claim to one run (the CLI executing the run it queued).
    async fn claim_run(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        only: Option<&str>,
    ) -> StoreResult<Option<Run>>;
    /// Saves a page of progress and renews the lease; `false` when the lease was lost.
    async fn save_progress(&self, run: &Run, progress: &Progress<'_>) -> StoreResult<bool>;
    /// Ends a run under its lease (`completed` or `aborted`), moves the given cursors in the
    /// same transaction, and emits `osdi.run.completed`. `false` when the lease was lost.
    async fn finish_run(
        &self,
        run: &Run,
        state: &str,
        counts: &Value,
        error: Option<&str>,
        cursors: &[(String, Timestamp)],
        at: Timestamp,
    ) -> StoreResult<bool>;
    async fn run(&self, id: &str) -> StoreResult<Option<Run>>;
    /// Newest first; `before` (a run id) pages on.
    async fn list_runs(
        &self,
        profile_id: Option<&str>,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Run>>;
    /// The run's sync log in order, from `after_seq` on.
    async fn run_records(
        &self,
        run_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<(i64, RecordLog)>>;
    async fn run_errors(&self, run_id: &str, limit: u32) -> StoreResult<Vec<SyncError>>;
    /// The newest run created by the scheduler's rule: the time of the profile's last run.
    async fn last_run_at(&self, profile_id: &str) -> StoreResult<Option<Timestamp>>;

    async fn cursor(&self, profile_id: &str, stream: &str) -> StoreResult<Option<Timestamp>>;

    async fn pair_by_remote(&self, profile_id: &str, remote_id: &str) -> StoreResult<Option<Pair>>;
    async fn pair_by_person(
        &self,
        profile_id: &str,
        person_id: &PersonId,
    ) -> StoreResult<Option<Pair>>;
    async fn save_pair(&self, pair: &Pair) -> StoreResult<()>;
    async fn is_tombstoned(&self, profile_id: &str, remote_id: &str) -> StoreResult<bool>;
    async fn add_tombstone(
        &self,
        profile_id: &str,
        remote_id: &str,
        at: Timestamp,
    ) -> StoreResult<()>;

    /// Raises a flag (emits `osdi.conflict.flagged`) unless one is already open for the same
    /// kind and ids; returns the open flag.
    async fn raise_flag(
        &self,
        profile_id: &str,
        kind: &str,
        person_id: Option<&str>,
        remote_id: Option<&str>,
        detail: &str,
        at: Timestamp,
    ) -> StoreResult<Flag>;
    /// Whether an open flag parks the local or the remote side.
    async fn is_flagged(
        &self,
        profile_id: &str,
        person_id: Option<&str>,
        remote_id: Option<&str>,
    ) -> StoreResult<bool>;
    /// Newest first; `open_only` lists what still needs a person; `before` (a flag id) pages on.
    async fn list_flags(
        &self,
        profile_id: Option<&str>,
        open_only: bool,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Flag>>;
    /// `false` when no open flag had that id.
    async fn resolve_flag(&self, id: &str, at: Timestamp) -> StoreResult<bool>;

    /// Tags known to be on the person's remote twin: `(tag, tagging href)`.
    async fn taggings(
        &self,
        profile_id: &str,
        person_id: &str,
    ) -> StoreResult<Vec<(String, Option<String>)>>;
    /// Everyone known to carry `tag` remotely: `(person id, tagging href)`.
    async fn tagged(
        &self,
        profile_id: &str,
        tag: &str,
    ) -> StoreResult<Vec<(String, Option<String>)>>;
    async fn set_tagging(
        &self,
        profile_id: &str,
        person_id: &str,
        tag: &str,
        href: Option<&str>,
    ) -> StoreResult<()>;
    async fn remove_tagging(&self, profile_id: &str, person_id: &str, tag: &str)
    -> StoreResult<()>;

    async fn link_event(
        &self,
        profile_id: &str,
        event_id: &EventId,
        remote_event_id: &str,
    ) -> StoreResult<()>;
    async fn unlink_event(&self, profile_id: &str, event_id: &EventId) -> StoreResult<bool>;
    /// `(event id, remote event id)`.
    async fn event_links(&self, profile_id: &str) -> StoreResult<Vec<(EventId, String)>>;

    /// Inserts or changes the status (and, when given, the remote href and source).
    async fn put_attendance(
        &self,
        event_id: &EventId,
        person_id: &PersonId,
        status: &str,
        remote_href: Option<&str>,
        source: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<Attendance>;
    async fn attendances(&self, event_id: &EventId) -> StoreResult<Vec<Attendance>>;
    /// An event's attendances a page at a time, in person id order.
    async fn attendances_page(
        &self,
        event_id: &EventId,
        page: &convene_core::page::PageRequest,
    ) -> StoreResult<convene_core::page::Page<Attendance>>;
    async fn delete_attendance(
        &self,
        event_id: &EventId,
        person_id: &PersonId,
    ) -> StoreResult<bool>;
}

/// Unix microseconds, the OSDI tables' time.
pub fn micros(t: Timestamp) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

pub fn from_micros(us: i64) -> Timestamp {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub fn opt_micros(t: Option<Timestamp>) -> Option<i64> {
    t.map(micros)
}

pub fn json_text(v: &str) -> Value {
    serde_json::from_str(v).unwrap_or(Value::Null)
}
