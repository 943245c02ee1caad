//! Events, their organizers and their participants.

use crate::text::{Channel, Description, Slug, TimeZoneName, Title};
use crate::user::Change;
use crate::username::Username;
use crate::validation::FieldErrors;
use crate::{EventId, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub slug: Slug,
    pub title: Title,
    pub description: Option<Description>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub timezone: Option<TimeZoneName>,
    pub private: bool,
    /// Labels webhooks may be scoped by; sorted, without duplicates.
    pub channels: Vec<Channel>,
    /// How long before `starts_at` its people are reminded.
    pub reminders: crate::reminder::Reminders,
    /// Rises with every change: iCalendar's `SEQUENCE`, so calendars take the newest invitation.
    pub sequence: u32,
    /// The conferencing provider its sessions' rooms are made with; `None` = the configured one.
    pub conference_provider: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set while an Event Center owns the participant list.
    pub sync: Option<crate::sync::SyncLink>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub slug: Slug,
    pub title: Title,
    pub description: Option<Description>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub timezone: Option<TimeZoneName>,
    pub private: bool,
    pub channels: Vec<Channel>,
    pub reminders: crate::reminder::Reminders,
    pub conference_provider: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventPatch {
    pub slug: Option<Slug>,
    pub title: Option<Title>,
    pub description: Change<Description>,
    pub starts_at: Change<Timestamp>,
    pub ends_at: Change<Timestamp>,
    pub timezone: Change<TimeZoneName>,
    pub private: Option<bool>,
    pub channels: Option<Vec<Channel>>,
    pub reminders: Option<crate::reminder::Reminders>,
    pub conference_provider: Change<String>,
}

/// An event must not end before it starts.
pub fn check_time_order(
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
    errors: &mut FieldErrors,
) {
    if let (Some(s), Some(e)) = (starts_at, ends_at)
        && e < s
    {
        errors.add("ends_at", "must not be before starts_at");
    }
}

impl EventPatch {
    /// The event as it will be stored, or the fields that make the result invalid.
    pub fn apply_to(self, mut event: Event, at: Timestamp) -> Result<Event, FieldErrors> {
        event.slug = self.slug.unwrap_or(event.slug);
        event.title = self.title.unwrap_or(event.title);
        event.description = self.description.apply(event.description);
        event.starts_at = self.starts_at.apply(event.starts_at);
        event.ends_at = self.ends_at.apply(event.ends_at);
        event.timezone = self.timezone.apply(event.timezone);
        event.private = self.private.unwrap_or(event.private);
        event.channels = self.channels.unwrap_or(event.channels);
        event.reminders = self.reminders.unwrap_or(event.reminders);
        event.conference_provider = self.conference_provider.apply(event.conference_provider);
        event.sequence = event.sequence.saturating_add(1);
        event.updated_at = at;
        let mut errors = FieldErrors::new();
        check_time_order(event.starts_at, event.ends_at, &mut errors);
        errors.finish(|| event)
    }
}

/// The one organizer role the Dashboard protocol knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Facilitator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Facilitator => "facilitator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        (s == "facilitator").then_some(Role::Facilitator)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organizer {
    pub user_id: UserId,
    pub username: Username,
    pub role: Role,
    pub added_at: Timestamp,
}

/// Whether a participant may be seen by people who do not organize the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "public" => Some(Visibility::Public),
            "private" => Some(Visibility::Private),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub user_id: UserId,
    pub username: Username,
    pub visibility: Visibility,
    pub registered_at: Timestamp,
}

/// What registering (or re-registering) a participant did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    Registered(Participant),
    VisibilityChanged {
        participant: Participant,
        from: Visibility,
    },
    Unchanged(Participant),
}

impl Registration {
    pub fn participant(&self) -> &Participant {
        match self {
            Registration::Registered(p) | Registration::Unchanged(p) => p,
            Registration::VisibilityChanged { participant, .. } => participant,
        }
    }
}

/// What removing an organizer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizerRemoval {
    Removed,
    NotAnOrganizer,
    /// Refused: the event would be left with nobody to manage it.
    LastOrganizer,
}
