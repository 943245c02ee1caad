//! What the CRM sync (OSDI / Action Network) keeps: profiles, runs (one active per profile), the
//! state of each paired person, the sync log and its errors, flags for a person to resolve, and
//! attendances.

use crate::{EventId, PersonId, Timestamp};
use serde_json::Value;

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
