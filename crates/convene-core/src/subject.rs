//! What a message is about, for endpoints that take messages one subject at a time: messages
//! with the same subject are delivered in commit order, subjects independently of each other.
//! A signal names its own (`subject`, checked like its id); Convene's own types derive theirs.

use crate::outbound::EventType;
use serde_json::Value;

impl EventType {
    /// The subject of a message of this type, read from its data: `event/{id}`,
    /// `participant/{event}/{username}`, `organizer/{event}/{username}`, `session/{id}`,
    /// `user/{id}`, `person/{id}`, `donation/{id}`, `osdi_run/{id}`, `osdi_flag/{id}`,
    /// `webhook/{id}` (operational), `connector/{connector}/{subject}`. `None` only for data
    /// that lacks the id, which Convene never writes.
    pub fn subject(self, data: &Value) -> Option<String> {
        use EventType as T;
        let inner = &data[self.data_key()];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let (kind, id) = match self {
            T::UserCreated | T::UserUpdated | T::UserDeleted => ("user", text(&inner["id"])?),
            T::EventCreated
            | T::EventUpdated
            | T::EventDeleted
            | T::EventReminderDue
            | T::EventSyncEnabled
            | T::EventSyncDisabled
            | T::EventSyncParticipantsUpdated => ("event", self.subject_event(data)?.to_owned()),
            T::OrganizerAdded | T::OrganizerRemoved => ("organizer", member(self, data)?),
            T::ParticipantRegistered
            | T::ParticipantCancelled
            | T::ParticipantVisibilityChanged => ("participant", member(self, data)?),
            T::SessionCreated | T::SessionUpdated | T::SessionDeleted => {
                ("session", text(&inner["id"])?)
            }
            T::ConferenceReady | T::ConferenceFailed | T::SlidesUpdated => {
                ("session", text(&inner["session"]["id"])?)
            }
            T::PersonCreated | T::PersonUpdated | T::PersonDeleted => {
                ("person", text(&inner["id"])?)
            }
            T::DonationCreated | T::DonationSynced => ("donation", text(&inner["id"])?),
            T::OsdiRunCompleted => ("osdi_run", text(&inner["run_id"])?),
            T::OsdiConflictFlagged => ("osdi_flag", text(&inner["flag_id"])?),
            T::EndpointDisabled
            | T::EndpointFailing
            | T::EndpointRecovered
            | T::DeliveryExhausted => ("webhook", text(&data["webhook"]["id"])?),
            T::ConnectorFailed => (
                "connector",
                format!(
                    "{}/{}",
                    data["connector"].as_str()?,
                    data["subject"].as_str()?
                ),
            ),
        };
        Some(format!("{kind}/{id}"))
    }
}

/// `{event id}/{username}` of an organizer or participant message.
fn member(t: EventType, data: &Value) -> Option<String> {
    let inner = &data[t.data_key()];
    Some(format!(
        "{}/{}",
        t.subject_event(data)?,
        inner["username"].as_str()?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_participant_is_its_own_subject_apart_from_its_event() {
        let data = json!({"participant": {"username": "Jane", "event": {"id": "ev1"}}});
        assert_eq!(
            EventType::ParticipantCancelled.subject(&data).as_deref(),
            Some("participant/ev1/Jane")
        );
        let event = json!({"event": {"id": "ev1"}});
        assert_eq!(
            EventType::EventUpdated.subject(&event).as_deref(),
            Some("event/ev1")
        );
    }

    #[test]
    fn a_session_and_its_room_and_slides_share_a_subject() {
        let session = json!({"session": {"id": "s1", "event_id": "ev1"}});
        let room = json!({"conference": {"session": {"id": "s1", "event_id": "ev1"}}});
        let slides = json!({"slides": {"session": {"id": "s1", "event_id": "ev1"}}});
        let of = |t: EventType, d: &Value| t.subject(d);
        assert_eq!(
            of(EventType::SessionUpdated, &session).as_deref(),
            Some("session/s1")
        );
        assert_eq!(
            of(EventType::ConferenceReady, &room),
            of(EventType::SessionUpdated, &session)
        );
        assert_eq!(
            of(EventType::SlidesUpdated, &slides),
            of(EventType::SessionUpdated, &session)
        );
    }

    #[test]
    fn data_without_the_id_has_no_subject() {
        assert_eq!(
            EventType::PersonUpdated.subject(&json!({"person": {}})),
            None
        );
    }
}
