//! The catalogue of event types: an example webhook body for each, built by the same code that
//! builds real messages, and a JSON Schema read off the example.

use convene_core::conference::{
    Conference, ConferenceStatus, GroupName, RoomHandle, RoomRecord, Session, SlideDeck,
};
use convene_core::event::{Event, Organizer, Participant, Role, Visibility};
use convene_core::outbound::{EventType, OutboundEvent};
use convene_core::sync::CenterEventId;
use convene_core::text::{Channel, Slug, TimeZoneName, Title};
use convene_core::user::User;
use convene_core::username::Username;
use convene_core::webhook::TargetUrl;
use convene_core::{DeckId, EventId, SessionId, UserId, WebhookId};
use convene_delivery::wire::{Metadata, payload};
use serde_json::{Map, Value, json};
use time::macros::datetime;

fn describe(t: EventType) -> &'static str {
    match t {
        EventType::UserCreated => "A user account was created.",
        EventType::UserUpdated => "A user's profile changed.",
        EventType::UserDeleted => "A user account was deleted.",
        EventType::EventCreated => "An event was created.",
        EventType::EventUpdated => "An event's details changed.",
        EventType::EventDeleted => "An event was deleted.",
        EventType::EventReminderDue => {
            "An event (or one of its sessions, then given as session) starts in offset: a reminder its people were sent."
        }
        EventType::OrganizerAdded => "Someone became an organizer of an event.",
        EventType::OrganizerRemoved => "Someone stopped organizing an event.",
        EventType::ParticipantRegistered => "Someone registered for an event.",
        EventType::ParticipantCancelled => "A registration was cancelled.",
        EventType::ParticipantVisibilityChanged => "A participant became public or private.",
        EventType::EventSyncEnabled => "An Event Center event took over an event's participants.",
        EventType::EventSyncDisabled => "An Event Center event let go of an event's participants.",
        EventType::EventSyncParticipantsUpdated => {
            "An Event Center sync call added or removed participants."
        }
        EventType::SessionCreated => "A session was added to an event.",
        EventType::SessionUpdated => "A session's title, group or time changed.",
        EventType::SessionDeleted => "A session was deleted (its room is removed).",
        EventType::ConferenceReady => "A session's video room is ready, with its join URL.",
        EventType::ConferenceFailed => {
            "A session's video room could not be made, moved or removed."
        }
        EventType::SlidesUpdated => "A session's slide decks changed; the decks in order.",
        EventType::PersonCreated => "A person (a CRM contact) was added.",
        EventType::DonationCreated => {
            "A donation of a person was recorded (through the API or pulled from Action Network)."
        }
        EventType::DonationSynced => {
            "A donation was paired with its Action Network twin (pushed or found there); remote_id is set."
        }
        EventType::PersonUpdated => "A person's details or tags changed.",
        EventType::PersonDeleted => "A person was deleted (a deletion record is kept for sync).",
        EventType::OsdiRunCompleted => {
            "A CRM sync run ended (completed or aborted), with its counts per outcome."
        }
        EventType::OsdiConflictFlagged => {
            "A CRM sync pair was parked until a person resolves its flag."
        }
        EventType::EndpointDisabled => {
            "Convene turned a webhook endpoint off (410 Gone, or failing for too long)."
        }
        EventType::EndpointFailing => {
            "A webhook endpoint's first failed attempt after a success (or since it was made); once per failing streak."
        }
        EventType::EndpointRecovered => {
            "A webhook endpoint's first successful attempt after a failing streak."
        }
        EventType::DeliveryExhausted => {
            "A message's last attempt to a webhook endpoint failed: it will not be sent again unless retried."
        }
        EventType::ConnectorFailed => {
            "A connector's work failed for good: a Dashboard push refused or out of retries, a room, a mail after all providers, a CRM sync run aborted."
        }
    }
}

fn sample_message(t: EventType) -> OutboundEvent {
    let at = datetime!(2026-11-23 10:00:00 UTC);
    let user = User {
        deactivated_at: None,
        id: UserId::from_trusted("0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e5f".into()),
        username: Username::parse("Jane Doe").expect("a valid sample"),
        email: None,
        display_name: None,
        locale: None,
        timezone: None,
        is_admin: false,
        created_at: at,
        updated_at: at,
    };
    let event = Event {
        id: EventId::from_trusted("0193a0b4-6a00-7c3d-8e9f-0a1b2c3d4e60".into()),
        slug: Slug::parse("Wiki_Org/Edit-a-thon_(2026)").expect("a valid sample"),
        title: Title::parse("Edit-a-thon").expect("a valid sample"),
        description: None,
        starts_at: Some(datetime!(2026-12-01 09:00:00 UTC)),
        ends_at: Some(datetime!(2026-12-01 17:00:00 UTC)),
        timezone: TimeZoneName::parse("Europe/Berlin").ok(),
        private: false,
        channels: vec![Channel::parse("wikiproject-x").expect("a valid sample")],
        reminders: Default::default(),
        sequence: 0,
        conference_provider: None,
        created_at: at,
        updated_at: at,
        sync: None,
    };
    let center = CenterEventId::from_trusted("42".into());
    let session = Session {
        id: SessionId::from_trusted("0193a0b4-8000-7c3d-8e9f-0a1b2c3d4e62".into()),
        event: event.id.clone(),
        number: 42,
        title: Title::parse("Opening session").expect("a valid sample"),
        group: GroupName::parse("wiki-club").expect("a valid sample"),
        starts_at: datetime!(2026-12-01 09:00:00 UTC),
        duration_minutes: 60,
        extrainfo: String::new(),
        reminders: Default::default(),
        sequence: 0,
        conference: Some(Conference {
            recordings: Vec::new(),
            status: ConferenceStatus::Ready,
            provider: "meetecho".into(),
            room: Some(RoomRecord {
                handle: RoomHandle {
                    provider: "meetecho".into(),
                    remote_id: "3f6a1c2e-0000-4000-8000-000000000001".into(),
                    join_url: "https://meetings.conf.meetecho.com/interim/?short=3f6a".into(),
                    secret_handle: None,
                    data: Value::Null,
                },
                starts_at: datetime!(2026-12-01 09:00:00 UTC),
                duration_minutes: 60,
            }),
            error: None,
        }),
        created_at: at,
        updated_at: at,
    };
    let deck = SlideDeck {
        id: DeckId::from_trusted("0193a0b4-9000-7c3d-8e9f-0a1b2c3d4e63".into()),
        session: session.id.clone(),
        number: 7,
        title: Title::parse("Welcome").expect("a valid sample"),
        url: TargetUrl::parse("https://example.org/slides/welcome.pdf").expect("a valid sample"),
        rev: "00".into(),
        order: 1,
    };
    let participant = Participant {
        user_id: user.id.clone(),
        username: user.username.clone(),
        visibility: Visibility::Public,
        registered_at: at,
    };
    let organizer = Organizer {
        user_id: user.id.clone(),
        username: user.username.clone(),
        role: Role::Facilitator,
        added_at: at,
    };
    match t {
        EventType::UserCreated | EventType::UserUpdated | EventType::UserDeleted => {
            OutboundEvent::user(t, &user)
        }
        EventType::EventCreated | EventType::EventUpdated | EventType::EventDeleted => {
            OutboundEvent::event(t, &event)
        }
        EventType::EventReminderDue => OutboundEvent::reminder_due(&event, None, "24h"),
        EventType::OrganizerAdded | EventType::OrganizerRemoved => {
            OutboundEvent::organizer(t, &event, &organizer)
        }
        EventType::ParticipantRegistered | EventType::ParticipantCancelled => {
            OutboundEvent::participant(t, &event, &participant)
        }
        EventType::ParticipantVisibilityChanged => {
            OutboundEvent::visibility_changed(&event, &participant, Visibility::Private)
        }
        EventType::EventSyncEnabled | EventType::EventSyncDisabled => {
            OutboundEvent::sync_link(t, &event, &center)
        }
        EventType::SessionCreated | EventType::SessionUpdated | EventType::SessionDeleted => {
            OutboundEvent::session(t, &session)
        }
        EventType::ConferenceReady | EventType::ConferenceFailed => {
            OutboundEvent::conference(t, &session)
        }
        EventType::SlidesUpdated => OutboundEvent::slides(&session, std::slice::from_ref(&deck)),
        EventType::PersonCreated | EventType::PersonUpdated | EventType::PersonDeleted => {
            let person = convene_core::person::Person {
                id: convene_core::PersonId::from_trusted(
                    "0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e60".into(),
                ),
                fields: convene_core::person::PersonFields {
                    given_name: Some("Jane".into()),
                    family_name: Some("Doe".into()),
                    email: convene_core::text::Email::parse("jane@example.org").ok(),
                    tags: vec!["volunteer".into()],
                    ..Default::default()
                },
                created_at: at,
                updated_at: at,
            };
            OutboundEvent::person(t, &person)
        }
        EventType::DonationCreated | EventType::DonationSynced => {
            use convene_core::donation::{Amount, Currency, Donation, NewDonation, Recurrence};
            let donation = Donation {
                id: convene_core::DonationId::from_trusted(
                    "0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e61".into(),
                ),
                person_id: convene_core::PersonId::from_trusted(
                    "0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e60".into(),
                ),
                fields: NewDonation {
                    amount: Amount::parse("40.00").expect("a sample amount"),
                    currency: Currency::parse("USD").expect("a sample currency"),
                    received_at: at,
                    recurrence: Some(Recurrence::Monthly),
                    fundraising_page: Some(
                        "https://actionnetwork.org/api/v2/fundraising_pages/spring-drive".into(),
                    ),
                    referrer: Some("newsletter".into()),
                },
                remote_id: (t == EventType::DonationSynced)
                    .then(|| "d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3".into()),
                created_at: at,
            };
            OutboundEvent::donation(t, &donation)
        }
        EventType::OsdiRunCompleted => OutboundEvent::osdi_run(serde_json::json!({
            "run_id": "0193a0b4-a000-7c3d-8e9f-0a1b2c3d4e70",
            "profile_id": "0193a0b4-a000-7c3d-8e9f-0a1b2c3d4e71",
            "job": "people", "origin": "both", "state": "completed",
            "counts": {"created_local": 12, "updated_remote": 3, "unchanged": 240}, "error": null,
        })),
        EventType::OsdiConflictFlagged => OutboundEvent::osdi_flag(serde_json::json!({
            "flag_id": "0193a0b4-a000-7c3d-8e9f-0a1b2c3d4e72",
            "profile_id": "0193a0b4-a000-7c3d-8e9f-0a1b2c3d4e71",
            "kind": "email_conflict_remote",
            "person_id": "0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e60",
            "remote_id": "d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3",
            "detail": "jane@example.org already belongs to Action Network person 1efc3644",
        })),
        EventType::EndpointDisabled => OutboundEvent::endpoint_disabled(
            &WebhookId::from_trusted("0193a0b4-8000-7c3d-8e9f-0a1b2c3d4e62".into()),
            &TargetUrl::parse("https://hooks.example.org/in").expect("a valid URL"),
            "the endpoint answered 410 Gone",
        ),
        EventType::EndpointFailing | EventType::EndpointRecovered => {
            OutboundEvent::endpoint_health(
                t,
                &WebhookId::from_trusted("0193a0b4-8000-7c3d-8e9f-0a1b2c3d4e62".into()),
                &TargetUrl::parse("https://hooks.example.org/in").expect("a valid URL"),
                (t == EventType::EndpointFailing).then_some("server_error: HTTP 503"),
            )
        }
        EventType::DeliveryExhausted => OutboundEvent::delivery_exhausted(
            &WebhookId::from_trusted("0193a0b4-8000-7c3d-8e9f-0a1b2c3d4e62".into()),
            &TargetUrl::parse("https://hooks.example.org/in").expect("a valid URL"),
            &convene_core::DeliveryId::from_trusted("0193a0b4-9000-7c3d-8e9f-0a1b2c3d4e63".into()),
            "participant.registered",
            Some("timeout: no answer within 15 s"),
        ),
        EventType::ConnectorFailed => OutboundEvent::connector_failed(
            convene_core::job::Connector::Dashboard,
            "dashboard.push",
            "0193a0b4-6000-7c3d-8e9f-0a1b2c3d4e50",
            "HTTP 403: the course's secret does not match",
        ),
        EventType::EventSyncParticipantsUpdated => OutboundEvent::participants_synced(
            &event,
            &center,
            std::slice::from_ref(&user.username),
            &[],
        ),
    }
}

fn body(event_type: &str, data: Value) -> Value {
    let members = match data {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    payload(
        members,
        &Metadata {
            event_type,
            id: "0193a0b4-7000-7c3d-8e9f-0a1b2c3d4e61",
            time: datetime!(2026-11-23 10:00:00 UTC),
            source: "convene",
            sourcehost: "convene.example.org",
        },
    )
}

/// `(name, description, example body)` for every type Convene emits itself.
pub fn examples() -> Vec<(&'static str, &'static str, Value)> {
    let mut all: Vec<_> = EventType::ALL
        .iter()
        .map(|t| {
            (
                t.as_str(),
                describe(*t),
                body(t.as_str(), sample_message(*t).data),
            )
        })
        .collect();
    all.push((
        "webhook.test",
        "Sent by POST /api/v1/webhooks/{id}/test to one endpoint only.",
        body(
            "webhook.test",
            json!({"test": {"webhook_id": "0193a0b4-8000-7c3d-8e9f-0a1b2c3d4e62", "sent_at": "2026-11-23T10:00:00Z"}}),
        ),
    ));
    all
}

/// A JSON Schema that the example satisfies: objects with every member required, arrays of the
/// first item's shape, scalars by type.
pub fn schema_of(example: &Value) -> Value {
    match example {
        Value::Object(members) => json!({
            "type": "object",
            "properties": members.iter().map(|(k, v)| (k.clone(), schema_of(v))).collect::<Map<_, _>>(),
            "required": members.keys().collect::<Vec<_>>(),
        }),
        Value::Array(items) => match items.first() {
            Some(first) => json!({"type": "array", "items": schema_of(first)}),
            None => json!({"type": "array"}),
        },
        Value::String(_) => json!({"type": "string"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "integer"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Null => json!({"type": "null"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scoped webhooks find a message's event with `subject_event`: every type about an event
    /// names the sample event there, and the others name none.
    #[test]
    fn every_message_about_an_event_names_it() {
        let about_events = [
            "event.",
            "organizer.",
            "participant.",
            "event_sync.",
            "session.",
            "conference.",
            "slides.",
        ];
        for t in EventType::ALL {
            let message = sample_message(t);
            let found = t.subject_event(&message.data);
            if about_events.iter().any(|p| t.as_str().starts_with(p)) {
                assert_eq!(
                    found,
                    Some("0193a0b4-6a00-7c3d-8e9f-0a1b2c3d4e60"),
                    "{}",
                    t.as_str()
                );
            } else {
                assert_eq!(found, None, "{}", t.as_str());
            }
        }
    }
}
