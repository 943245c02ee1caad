//! Storage of CRM sync over OSDI: profiles, runs (one active per profile), per-pair state,
//! tombstones, flags, the sync log and errors, cursors, tag and event links, attendances.
//!
//! The OSDI tables use only types both databases read the same way (text, 64-bit integers), so
//! their statements need no dialect.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::osdi::{Attendance, Flag, Pair, Profile, RecordLog, Run, SyncError};
use convene_core::{EventId, PersonId, Timestamp};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct NewProfile {
    pub name: String,
    pub entry_point: String,
    pub token_sealed: String,
    pub settings: Value,
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
    /// Queues a one-person sync of `person` (job `person`, origin `local`), beside any batch
    /// run; its resume position names the person.
    async fn enqueue_person_run(
        &self,
        profile_id: &str,
        person: &convene_core::PersonId,
        at: Timestamp,
    ) -> StoreResult<Run>;
    /// The profile's queued or running batch run.
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
    /// When the profile's newest run of this job and origin was queued (a schedule's clock).
    async fn last_run_at(
        &self,
        profile_id: &str,
        job: &str,
        origin: &str,
    ) -> StoreResult<Option<Timestamp>>;

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

pub fn json_text(v: &str) -> Value {
    serde_json::from_str(v).unwrap_or(Value::Null)
}
