//! Sessions of an event, the video room each remote one gets, and their slide decks.

use crate::text::Title;
use crate::webhook::TargetUrl;
use crate::{DeckId, EventId, SessionId, Timestamp};
use serde_json::Value;
use time::Duration;

/// A group acronym as conferencing providers key rooms by (`ietf`, `dnsop`, `wiki-club`):
/// 1–64 letters, digits, `-`, `_` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupName(String);

impl GroupName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 64 {
            return Err("must be 1 to 64 characters");
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err("may hold only letters, digits, '-', '_' and '.'");
        }
        Ok(Self(s.to_owned()))
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a remote session's room stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConferenceStatus {
    /// Queued: the room is being made (or moved, or removed).
    Pending,
    Ready,
    /// The provider refused or every attempt failed; `error` says why.
    Failed,
}

impl ConferenceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConferenceStatus::Pending => "pending",
            ConferenceStatus::Ready => "ready",
            ConferenceStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(ConferenceStatus::Pending),
            "ready" => Some(ConferenceStatus::Ready),
            "failed" => Some(ConferenceStatus::Failed),
            _ => None,
        }
    }
}

/// A provisioned room, provider-neutral, kept with its session so removing it never depends on
/// matching join URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomHandle {
    pub provider: String,
    pub remote_id: String,
    pub join_url: String,
    /// What deletes the room (Meetecho's deletion token); never shown.
    pub secret_handle: Option<String>,
    pub data: Value,
}

impl RoomHandle {
    /// The room's one URL for everyone, to put in webhooks, reminders and calendars; `None`
    /// when each person has their own way in (`data.personal`), which only the API hands out.
    pub fn shared_url(&self) -> Option<&str> {
        let personal = self.data.get("personal").and_then(Value::as_bool) == Some(true);
        (!personal).then_some(self.join_url.as_str())
    }
}

/// A room as stored with its session: its handle and the schedule it was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    pub handle: RoomHandle,
    /// The schedule the room was made for: a different one means the room must move.
    pub starts_at: Timestamp,
    pub duration_minutes: u32,
}

/// A recording of a session's room, as its provider reported it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recording {
    pub id: String,
    /// Where it is watched (the provider's playback page).
    pub url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: Timestamp,
}

/// The conference of a remote session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conference {
    pub status: ConferenceStatus,
    pub provider: String,
    pub room: Option<RoomRecord>,
    pub error: Option<String>,
    /// Newest first.
    pub recordings: Vec<Recording>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub event: EventId,
    /// Positive and unique per deployment: Meetecho's `room_id` and the slides' `session`.
    pub number: i64,
    pub title: Title,
    pub group: GroupName,
    pub starts_at: Timestamp,
    pub duration_minutes: u32,
    pub extrainfo: String,
    /// How long before `starts_at` the event's people are reminded of the session.
    pub reminders: crate::reminder::Reminders,
    /// Rises with every change: iCalendar's `SEQUENCE`.
    pub sequence: u32,
    /// `None` for a session without a video room.
    pub conference: Option<Conference>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Session {
    pub fn ends_at(&self) -> Timestamp {
        self.starts_at + Duration::minutes(i64::from(self.duration_minutes))
    }

    /// Whether the stored room was made for another time (or group) than the session's.
    pub fn room_is_stale(&self) -> bool {
        self.conference
            .as_ref()
            .and_then(|c| c.room.as_ref())
            .is_some_and(|r| {
                r.starts_at != self.starts_at
                    || r.duration_minutes != self.duration_minutes
                    || r.handle
                        .data
                        .get("group")
                        .and_then(Value::as_str)
                        .is_some_and(|g| g != self.group.as_str())
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub title: Title,
    pub group: GroupName,
    pub starts_at: Timestamp,
    pub duration_minutes: u32,
    pub extrainfo: String,
    pub reminders: crate::reminder::Reminders,
    /// The provider to make a room with; `None` for no room.
    pub provider: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionPatch {
    pub title: Option<Title>,
    pub group: Option<GroupName>,
    pub starts_at: Option<Timestamp>,
    pub duration_minutes: Option<u32>,
    pub extrainfo: Option<String>,
    pub reminders: Option<crate::reminder::Reminders>,
}

impl SessionPatch {
    pub fn apply_to(self, mut session: Session, at: Timestamp) -> Session {
        session.title = self.title.unwrap_or(session.title);
        session.group = self.group.unwrap_or(session.group);
        session.starts_at = self.starts_at.unwrap_or(session.starts_at);
        session.duration_minutes = self.duration_minutes.unwrap_or(session.duration_minutes);
        session.extrainfo = self.extrainfo.unwrap_or(session.extrainfo);
        session.reminders = self.reminders.unwrap_or(session.reminders);
        session.sequence = session.sequence.saturating_add(1);
        session.updated_at = at;
        session
    }
}

/// A slide deck of a session, at its 1-based `order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlideDeck {
    pub id: DeckId,
    pub session: SessionId,
    /// Positive and unique per deployment: the deck `id` Meetecho sees.
    pub number: i64,
    pub title: Title,
    pub url: TargetUrl,
    pub rev: String,
    pub order: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_acronyms() {
        assert_eq!(GroupName::parse(" dnsop ").unwrap().as_str(), "dnsop");
        for bad in ["", "a b", "a/b", &"x".repeat(65), "ünï"] {
            assert!(GroupName::parse(bad).is_err(), "{bad}");
        }
    }
}
