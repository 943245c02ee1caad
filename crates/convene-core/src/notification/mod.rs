//! In-app notifications and the kinds of message Convene sends to people, with the rules of
//! who may silence what.

pub mod query;

use crate::{EventId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// A notification as stored: its text is rendered once, in the recipient's locale, when it is
/// made; `kind` and `event` keep what it is about so it can be found and re-rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Numeric and increasing (the JSON:API id is its decimal string).
    pub id: i64,
    pub user: UserId,
    pub kind: String,
    pub event: Option<EventId>,
    pub title: String,
    pub message: String,
    pub accept: Option<String>,
    pub received_at: Timestamp,
    pub is_read: bool,
    pub actions: Vec<NotificationAction>,
}

/// A link the reader may follow ("view the event").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationAction {
    pub action_type: String,
    pub subject: String,
    pub subject_id: String,
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub user: UserId,
    pub kind: Kind,
    pub event: Option<EventId>,
    pub title: String,
    pub message: String,
    pub accept: Option<String>,
    pub received_at: Timestamp,
    pub is_read: bool,
    pub actions: Vec<NotificationAction>,
    /// At most one notification per key: a message planned twice (two nodes, a retried round)
    /// is stored once. `None` for admin sends, which are each their own.
    pub dedupe_key: Option<String>,
}

/// What a message is about. Each kind has its templates and its preference switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// To an event's organizers: someone registered.
    ParticipantRegistered,
    /// To an event's participants: its title, time or place changed.
    EventChanged,
    /// To an event's participants and organizers: it (or one of its sessions) starts soon.
    EventReminder,
    /// To a participant: they are registered (with a calendar invitation).
    RegistrationConfirmed,
    /// To a participant: their registration is cancelled (the invitation withdrawn).
    RegistrationCancelled,
    /// To an event's organizers: a session's video room could not be made.
    RoomFailed,
    /// To an event's organizers: the Dashboard refused a participant push or stayed away.
    SyncFailed,
    /// To administrators: a webhook endpoint started failing, recovered or was turned off, or a
    /// message's last attempt to it failed.
    WebhookHealth,
    /// To administrators: a connector's work failed for good (a Dashboard push, a room, a mail,
    /// a CRM sync run).
    ConnectorFailed,
    /// An administrator's message.
    Announcement,
    /// An administrator checking the mail settings.
    TestMail,
    /// What waited for a person's daily or weekly mail, in one mail.
    Digest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    InApp,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::InApp => "in_app",
            Channel::Email => "email",
        }
    }
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::ParticipantRegistered,
        Kind::EventChanged,
        Kind::EventReminder,
        Kind::RegistrationConfirmed,
        Kind::RegistrationCancelled,
        Kind::RoomFailed,
        Kind::SyncFailed,
        Kind::WebhookHealth,
        Kind::ConnectorFailed,
        Kind::Announcement,
        Kind::TestMail,
        Kind::Digest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ParticipantRegistered => "participant_registered",
            Kind::EventChanged => "event_changed",
            Kind::EventReminder => "event.reminder",
            Kind::RegistrationConfirmed => "registration_confirmed",
            Kind::RegistrationCancelled => "registration_cancelled",
            Kind::RoomFailed => "room_failed",
            Kind::SyncFailed => "sync_failed",
            Kind::WebhookHealth => "webhook_health",
            Kind::ConnectorFailed => "connector_failed",
            Kind::Announcement => "announcement",
            Kind::TestMail => "test_mail",
            Kind::Digest => "digest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A mandatory kind reaches its recipient whatever their preferences say.
    pub fn is_mandatory(self) -> bool {
        matches!(self, Kind::TestMail | Kind::Digest)
    }

    /// Whether people have switches for it (a digest is what their switches asked for).
    pub fn has_preferences(self) -> bool {
        self != Kind::Digest
    }

    /// Whether its mail may wait for a daily or weekly digest. Not what must arrive in time
    /// (reminders), what answers the person (registrations), or what carries a calendar
    /// invitation (a changed event moves the calendar entry at once).
    pub fn may_wait(self) -> bool {
        !self.is_transactional()
            && !self.is_mandatory()
            && !matches!(self, Kind::EventReminder | Kind::EventChanged)
    }

    /// Transactional mail answers something the recipient did; the rest is bulk-like and
    /// carries one-click unsubscribe headers (RFC 8058).
    pub fn is_transactional(self) -> bool {
        matches!(
            self,
            Kind::TestMail
                | Kind::RegistrationConfirmed
                | Kind::RegistrationCancelled
                | Kind::Digest
        )
    }

    /// What the kind sends when nobody said otherwise.
    pub fn default_on(self, channel: Channel) -> bool {
        match (self, channel) {
            (Kind::TestMail | Kind::Digest, Channel::InApp) => false,
            // Changes to an event reach participants in the app; mail is opt-in.
            (Kind::EventChanged, Channel::Email) => false,
            _ => true,
        }
    }
}

/// How often a kind's mail goes out to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Cadence {
    #[default]
    Instant,
    /// Gathered into one mail a day, at a local hour.
    Daily,
    /// Gathered into one mail a week.
    Weekly,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Instant => "instant",
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Instant, Self::Daily, Self::Weekly]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// One user's word on one kind and channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preference {
    pub kind: Kind,
    pub channel: Channel,
    pub enabled: bool,
    /// For mail: how often (`None` = as before, instant when never said).
    pub cadence: Option<Cadence>,
}

/// How often a kind's mail goes out to a user who said `prefs`.
pub fn cadence(prefs: &[Preference], kind: Kind) -> Cadence {
    if !kind.may_wait() {
        return Cadence::Instant;
    }
    prefs
        .iter()
        .find(|p| p.kind == kind && p.channel == Channel::Email)
        .and_then(|p| p.cadence)
        .unwrap_or_default()
}

/// Whether a kind goes out on a channel to a user who said `prefs`.
pub fn wants(prefs: &[Preference], kind: Kind, channel: Channel) -> bool {
    if kind.is_mandatory() {
        return true;
    }
    prefs
        .iter()
        .find(|p| p.kind == kind && p.channel == channel)
        .map_or(kind.default_on(channel), |p| p.enabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_preferences_override_defaults() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        let off = [Preference {
            kind: Kind::ParticipantRegistered,
            channel: Channel::Email,
            enabled: false,
            cadence: None,
        }];
        assert!(!wants(&off, Kind::ParticipantRegistered, Channel::Email));
        assert!(wants(&off, Kind::ParticipantRegistered, Channel::InApp));
        assert!(!wants(&[], Kind::EventChanged, Channel::Email));
        let test_off = [Preference {
            kind: Kind::TestMail,
            channel: Channel::Email,
            enabled: false,
            cadence: None,
        }];
        assert!(
            wants(&test_off, Kind::TestMail, Channel::Email),
            "mandatory"
        );
    }
}
