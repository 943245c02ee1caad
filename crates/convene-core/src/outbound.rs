//! The events Convene emits for every domain change. Each is written to the outbox in the same
//! transaction as the change, so a committed change always has its message and a rolled-back
//! one never does.

use crate::clock::Timestamp;
use crate::conference::{Session, SlideDeck};
use crate::event::{Event, Organizer, Participant, Visibility};
use crate::sync::CenterEventId;
use crate::user::User;
use crate::username::Username;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    UserCreated,
    UserUpdated,
    UserDeleted,
    EventCreated,
    EventUpdated,
    EventDeleted,
    EventReminderDue,
    OrganizerAdded,
    OrganizerRemoved,
    ParticipantRegistered,
    ParticipantCancelled,
    ParticipantVisibilityChanged,
    EventSyncEnabled,
    EventSyncDisabled,
    EventSyncParticipantsUpdated,
    SessionCreated,
    SessionUpdated,
    SessionDeleted,
    ConferenceReady,
    ConferenceFailed,
    SlidesUpdated,
    PersonCreated,
    PersonUpdated,
    PersonDeleted,
    DonationCreated,
    DonationSynced,
    OsdiRunCompleted,
    OsdiConflictFlagged,
    EndpointDisabled,
    EndpointFailing,
    EndpointRecovered,
    DeliveryExhausted,
    ConnectorFailed,
}

impl EventType {
    pub const ALL: [EventType; 33] = [
        EventType::UserCreated,
        EventType::UserUpdated,
        EventType::UserDeleted,
        EventType::EventCreated,
        EventType::EventUpdated,
        EventType::EventDeleted,
        EventType::EventReminderDue,
        EventType::OrganizerAdded,
        EventType::OrganizerRemoved,
        EventType::ParticipantRegistered,
        EventType::ParticipantCancelled,
        EventType::ParticipantVisibilityChanged,
        EventType::EventSyncEnabled,
        EventType::EventSyncDisabled,
        EventType::EventSyncParticipantsUpdated,
        EventType::SessionCreated,
        EventType::SessionUpdated,
        EventType::SessionDeleted,
        EventType::ConferenceReady,
        EventType::ConferenceFailed,
        EventType::SlidesUpdated,
        EventType::PersonCreated,
        EventType::PersonUpdated,
        EventType::PersonDeleted,
        EventType::DonationCreated,
        EventType::DonationSynced,
        EventType::OsdiRunCompleted,
        EventType::OsdiConflictFlagged,
        EventType::EndpointDisabled,
        EventType::EndpointFailing,
        EventType::EndpointRecovered,
        EventType::DeliveryExhausted,
        EventType::ConnectorFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserCreated => "user.created",
            EventType::UserUpdated => "user.updated",
            EventType::UserDeleted => "user.deleted",
            EventType::EventCreated => "event.created",
            EventType::EventUpdated => "event.updated",
            EventType::EventDeleted => "event.deleted",
            EventType::EventReminderDue => "event.reminder_due",
            EventType::OrganizerAdded => "organizer.added",
            EventType::OrganizerRemoved => "organizer.removed",
            EventType::ParticipantRegistered => "participant.registered",
            EventType::ParticipantCancelled => "participant.cancelled",
            EventType::ParticipantVisibilityChanged => "participant.visibility_changed",
            EventType::EventSyncEnabled => "event_sync.enabled",
            EventType::EventSyncDisabled => "event_sync.disabled",
            EventType::EventSyncParticipantsUpdated => "event_sync.participants_updated",
            EventType::SessionCreated => "session.created",
            EventType::SessionUpdated => "session.updated",
            EventType::SessionDeleted => "session.deleted",
            EventType::ConferenceReady => "conference.ready",
            EventType::ConferenceFailed => "conference.failed",
            EventType::SlidesUpdated => "slides.updated",
            EventType::PersonCreated => "person.created",
            EventType::PersonUpdated => "person.updated",
            EventType::PersonDeleted => "person.deleted",
            EventType::DonationCreated => "donation.created",
            EventType::DonationSynced => "donation.synced",
            EventType::OsdiRunCompleted => "osdi.run.completed",
            EventType::OsdiConflictFlagged => "osdi.conflict.flagged",
            EventType::EndpointDisabled => "endpoint.disabled",
            EventType::EndpointFailing => "endpoint.failing",
            EventType::EndpointRecovered => "endpoint.recovered",
            EventType::DeliveryExhausted => "delivery.exhausted",
            EventType::ConnectorFailed => "connector.failed",
        }
    }

    /// The type a name stands for; `None` for names Convene does not emit itself.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The one top-level key of the type's data: what the message is about.
    /// Convene's own word on a webhook endpoint's health, about `data.webhook`.
    pub fn is_operational(self) -> bool {
        matches!(
            self,
            EventType::EndpointDisabled
                | EventType::EndpointFailing
                | EventType::EndpointRecovered
                | EventType::DeliveryExhausted
        )
    }

    /// The id of the event a message of this type is about, read from its data; `None` for
    /// users, people, donations, CRM runs and operations, which scoped webhooks never hear.
    pub fn subject_event(self, data: &Value) -> Option<&str> {
        use EventType as T;
        let inner = &data[self.data_key()];
        let id = match self {
            T::EventCreated | T::EventUpdated | T::EventDeleted | T::EventReminderDue => {
                &inner["id"]
            }
            T::OrganizerAdded
            | T::OrganizerRemoved
            | T::ParticipantRegistered
            | T::ParticipantCancelled
            | T::ParticipantVisibilityChanged
            | T::EventSyncEnabled
            | T::EventSyncDisabled
            | T::EventSyncParticipantsUpdated => &inner["event"]["id"],
            T::SessionCreated | T::SessionUpdated | T::SessionDeleted => &inner["event_id"],
            T::ConferenceReady | T::ConferenceFailed | T::SlidesUpdated => {
                &inner["session"]["event_id"]
            }
            _ => return None,
        };
        id.as_str()
    }

    pub fn data_key(self) -> &'static str {
        match self {
            EventType::OsdiRunCompleted => return "run",
            EventType::OsdiConflictFlagged => return "flag",
            // Operational events: their subject is the webhook (data beside it, not under it).
            t if t.is_operational() => return "webhook",
            _ => {}
        }
        self.as_str()
            .split_once('.')
            .map_or("data", |(subject, _)| subject)
    }
}

/// One message for the outbox: its type and its `data` object.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundEvent {
    pub event_type: EventType,
    pub data: Value,
}

fn time(t: Timestamp) -> Value {
    t.format(&Rfc3339).map(Value::String).unwrap_or(Value::Null)
}

fn opt_time(t: Option<Timestamp>) -> Value {
    t.map(time).unwrap_or(Value::Null)
}

fn user_data(u: &User) -> Value {
    json!({"id": u.id.as_str(), "username": u.username.as_str(), "is_admin": u.is_admin})
}

fn event_data(e: &Event) -> Value {
    json!({
        "id": e.id.as_str(), "slug": e.slug.as_str(), "title": e.title.as_str(),
        "starts_at": opt_time(e.starts_at), "ends_at": opt_time(e.ends_at),
        "timezone": e.timezone.as_ref().map(|t| t.as_str()), "private": e.private,
        "channels": e.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
    })
}

/// An event as messages and webfilters name it: id, slug, title.
pub fn event_ref(e: &Event) -> Value {
    json!({"id": e.id.as_str(), "slug": e.slug.as_str(), "title": e.title.as_str()})
}

fn participant_data(event: &Event, p: &Participant) -> Value {
    json!({
        "username": p.username.as_str(), "visibility": p.visibility.as_str(),
        "registered_at": time(p.registered_at), "event": event_ref(event),
    })
}

fn session_ref(s: &Session) -> Value {
    json!({"id": s.id.as_str(), "number": s.number, "event_id": s.event.as_str()})
}

fn session_data(s: &Session) -> Value {
    json!({
        "id": s.id.as_str(), "number": s.number, "event_id": s.event.as_str(),
        "title": s.title.as_str(), "group": s.group.as_str(), "starts_at": time(s.starts_at),
        "duration_minutes": s.duration_minutes,
        "conference": s.conference.as_ref().map(|c| json!({
            "status": c.status.as_str(), "provider": c.provider,
            "url": c.room.as_ref().and_then(|r| r.handle.shared_url()), "error": c.error,
        })),
    })
}

impl OutboundEvent {
    /// `data` is always one object under one short key (openedx-webhooks' shape: the wire body is
    /// `data` plus `event_metadata`).
    fn new(event_type: EventType, data: Value) -> Self {
        Self {
            event_type,
            data: json!({ event_type.data_key(): data }),
        }
    }

    /// `osdi.run.completed` with the run's summary.
    pub fn osdi_run(summary: Value) -> Self {
        Self::new(EventType::OsdiRunCompleted, summary)
    }

    /// `endpoint.disabled`: Convene turned a webhook endpoint off, and why.
    pub fn endpoint_disabled(
        id: &crate::WebhookId,
        url: &crate::webhook::TargetUrl,
        reason: &str,
    ) -> Self {
        Self::endpoint_health(EventType::EndpointDisabled, id, url, Some(reason))
    }

    /// An endpoint's health changed (`endpoint.disabled`, `.failing`, `.recovered`). Operational
    /// events are not wrapped in a subject key: their data is `{webhook: {id, url}, delivery?:
    /// {id, event_type}, error?}`, and `webhook` and `delivery` are the subjects.
    pub fn endpoint_health(
        event_type: EventType,
        id: &crate::WebhookId,
        url: &crate::webhook::TargetUrl,
        error: Option<&str>,
    ) -> Self {
        let mut data = json!({"webhook": {"id": id.as_str(), "url": url.as_str()}});
        if let Some(error) = error {
            data["error"] = Value::from(error);
        }
        Self { event_type, data }
    }

    /// `delivery.exhausted`: a message's last attempt to an endpoint failed.
    pub fn delivery_exhausted(
        id: &crate::WebhookId,
        url: &crate::webhook::TargetUrl,
        delivery: &crate::DeliveryId,
        event_type: &str,
        error: Option<&str>,
    ) -> Self {
        let mut event = Self::endpoint_health(EventType::DeliveryExhausted, id, url, error);
        event.data["delivery"] = json!({"id": delivery.as_str(), "event_type": event_type});
        event
    }

    /// `connector.failed`: a connector's unit of work (`kind`, e.g. `dashboard.push`, about
    /// `subject`, the id the work is keyed by) failed for good. Unwrapped, like the endpoint
    /// events: `{connector, kind, subject, error}`.
    pub fn connector_failed(
        connector: crate::job::Connector,
        kind: &str,
        subject: &str,
        error: &str,
    ) -> Self {
        Self {
            event_type: EventType::ConnectorFailed,
            data: json!({"connector": connector.as_str(), "kind": kind, "subject": subject, "error": error}),
        }
    }

    /// `osdi.conflict.flagged` with the flag.
    pub fn osdi_flag(flag: Value) -> Self {
        Self::new(EventType::OsdiConflictFlagged, flag)
    }

    pub fn user(event_type: EventType, user: &User) -> Self {
        Self::new(event_type, user_data(user))
    }

    pub fn event(event_type: EventType, event: &Event) -> Self {
        Self::new(event_type, event_data(event))
    }

    pub fn organizer(event_type: EventType, event: &Event, organizer: &Organizer) -> Self {
        Self::new(
            event_type,
            json!({
                "username": organizer.username.as_str(), "role": organizer.role.as_str(),
                "event": event_ref(event),
            }),
        )
    }

    pub fn participant(event_type: EventType, event: &Event, participant: &Participant) -> Self {
        Self::new(event_type, participant_data(event, participant))
    }

    pub fn visibility_changed(event: &Event, participant: &Participant, from: Visibility) -> Self {
        let mut data = participant_data(event, participant);
        data["previous_visibility"] = Value::from(from.as_str());
        Self::new(EventType::ParticipantVisibilityChanged, data)
    }

    /// `event.reminder_due`: the event (or one of its sessions) starts `offset` from now. The
    /// offset sits beside the event, as the contract shows it: `{event, offset, session?}`.
    pub fn reminder_due(event: &Event, session: Option<&Session>, offset: &str) -> Self {
        let mut data = json!({
            "event": {
                "id": event.id.as_str(), "slug": event.slug.as_str(), "title": event.title.as_str(),
                "starts_at": opt_time(event.starts_at),
                "timezone": event.timezone.as_ref().map(|t| t.as_str()),
            },
            "offset": offset,
        });
        if let Some(s) = session {
            data["session"] = json!({
                "id": s.id.as_str(), "number": s.number, "title": s.title.as_str(),
                "starts_at": time(s.starts_at), "duration_minutes": s.duration_minutes,
                "url": s.conference.as_ref().and_then(|c| c.room.as_ref()).and_then(|r| r.handle.shared_url()),
            });
        }
        Self {
            event_type: EventType::EventReminderDue,
            data,
        }
    }

    /// `session.created`, `session.updated`, `session.deleted`.
    pub fn session(event_type: EventType, session: &Session) -> Self {
        Self::new(event_type, session_data(session))
    }

    /// `conference.ready` (with the join URL) or `conference.failed` (with the error).
    pub fn conference(event_type: EventType, session: &Session) -> Self {
        let conference = session.conference.as_ref();
        Self::new(
            event_type,
            json!({
                "session": session_ref(session),
                "provider": conference.map(|c| c.provider.as_str()),
                "url": conference.and_then(|c| c.room.as_ref()).and_then(|r| r.handle.shared_url()),
                "error": conference.and_then(|c| c.error.as_deref()),
            }),
        )
    }

    /// `slides.updated`: the session's decks in order after a change.
    pub fn slides(session: &Session, decks: &[SlideDeck]) -> Self {
        let decks: Vec<Value> = decks
            .iter()
            .map(|d| {
                json!({"id": d.id.as_str(), "number": d.number, "title": d.title.as_str(),
                    "url": d.url.as_str(), "rev": d.rev, "order": d.order})
            })
            .collect();
        Self::new(
            EventType::SlidesUpdated,
            json!({"session": session_ref(session), "decks": decks}),
        )
    }

    /// `person.created`, `person.updated`, `person.deleted`: the contact as it is (was).
    pub fn person(event_type: EventType, p: &crate::person::Person) -> Self {
        let f = &p.fields;
        Self::new(
            event_type,
            json!({
                "id": p.id.as_str(), "given_name": f.given_name, "family_name": f.family_name,
                "email": f.email.as_ref().map(|e| e.as_str()), "phone": f.phone.as_ref().map(|x| x.as_str()),
                "language": f.language.as_ref().map(|l| l.as_str()), "address": f.address,
                "do_not_email": f.do_not_email, "is_opt_out": f.is_opt_out, "do_not_sms": f.do_not_sms,
                "tags": f.tags, "user_id": f.user.as_ref().map(|u| u.as_str()),
                "updated_at": time(p.updated_at),
            }),
        )
    }

    /// `donation.created` (recorded here, by the API or a sync) or `donation.synced` (paired
    /// with an Action Network donation, `remote_id` set).
    pub fn donation(event_type: EventType, d: &crate::donation::Donation) -> Self {
        let f = &d.fields;
        Self::new(
            event_type,
            json!({
                "id": d.id.as_str(), "person_id": d.person_id.as_str(), "amount": f.amount.as_str(),
                "currency": f.currency.as_str(), "received_at": time(f.received_at),
                "recurrence": f.recurrence.map(|r| r.as_str()), "fundraising_page": f.fundraising_page,
                "referrer": f.referrer, "remote_id": d.remote_id,
            }),
        )
    }

    /// `event_sync.enabled` or `event_sync.disabled`: the event and the Event Center event id.
    pub fn sync_link(event_type: EventType, event: &Event, center: &CenterEventId) -> Self {
        Self::new(
            event_type,
            json!({"event": event_ref(event), "event_center_event_id": center.as_str()}),
        )
    }

    /// `event_sync.participants_updated`: the names one sync call added and removed.
    pub fn participants_synced(
        event: &Event,
        center: &CenterEventId,
        added: &[Username],
        removed: &[Username],
    ) -> Self {
        fn names(v: &[Username]) -> Vec<&str> {
            v.iter().map(Username::as_str).collect()
        }
        Self::new(
            EventType::EventSyncParticipantsUpdated,
            json!({
                "event": event_ref(event), "event_center_event_id": center.as_str(),
                "added": names(added), "removed": names(removed),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dotted_lowercase_and_unique() {
        let mut names: Vec<_> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert!(names.iter().all(|n| {
            n.contains('.')
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
        }));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventType::ALL.len());
    }

    #[test]
    fn data_sits_under_one_short_key() {
        assert_eq!(
            EventType::ParticipantVisibilityChanged.data_key(),
            "participant"
        );
        assert_eq!(EventType::UserCreated.data_key(), "user");
        for t in EventType::ALL {
            assert!(
                [
                    "user",
                    "event",
                    "organizer",
                    "participant",
                    "event_sync",
                    "session",
                    "conference",
                    "slides",
                    "person",
                    "donation",
                    "run",
                    "flag",
                    "webhook",
                    "connector"
                ]
                .contains(&t.data_key())
            );
        }
    }
}

/// What an outbox message is, parsed once where it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageType {
    /// One of Convene's own events.
    Event(EventType),
    /// A signal another system sent, by the name it gave.
    Signal(String),
}

impl MessageType {
    /// A message's type from its stored name and source: only Convene's own messages
    /// (`source` "convene") are its events, whatever name a signal chose.
    pub fn parse(name: String, source: &str) -> Self {
        match EventType::parse(&name) {
            Some(t) if source == CONVENE_SOURCE => Self::Event(t),
            _ => Self::Signal(name),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Event(t) => t.as_str(),
            Self::Signal(name) => name,
        }
    }
}

/// The `source` of the messages Convene emits itself.
pub const CONVENE_SOURCE: &str = "convene";
