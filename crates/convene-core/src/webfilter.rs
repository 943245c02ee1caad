//! Webfilters: endpoints called synchronously before an action, which may rewrite its input or
//! halt it (openedx-webhooks' filters, with explicit order and no write before the halt check).

use crate::webhook::TargetUrl;
use crate::{Timestamp, WebfilterId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterType {
    RegistrationRequested,
    CancellationRequested,
    EventCreationRequested,
    EventUpdateRequested,
}

impl FilterType {
    pub const ALL: [FilterType; 4] = [
        FilterType::RegistrationRequested,
        FilterType::CancellationRequested,
        FilterType::EventCreationRequested,
        FilterType::EventUpdateRequested,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FilterType::RegistrationRequested => "participant.registration.requested",
            FilterType::CancellationRequested => "participant.cancellation.requested",
            FilterType::EventCreationRequested => "event.creation.requested",
            FilterType::EventUpdateRequested => "event.update.requested",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// An input as the action would send it, for trying a filter out (`event_metadata` is
    /// added on the way, as for a real call).
    pub fn sample_input(self) -> serde_json::Value {
        let event = serde_json::json!({"id": "01935f3a-8f4e-7c61-9d55-3a1c2b4d5e6f", "slug": "Wiki_Club/Spring_(2027)", "title": "Spring meetup"});
        match self {
            FilterType::RegistrationRequested => {
                serde_json::json!({"event": event, "username": "Jane Doe", "visibility": "public"})
            }
            FilterType::CancellationRequested => {
                serde_json::json!({"event": event, "username": "Jane Doe"})
            }
            FilterType::EventCreationRequested => serde_json::json!({
                "slug": "Wiki_Club/Spring_(2027)", "title": "Spring meetup",
                "starts_at": "2027-04-01T07:30:00Z", "timezone": "Europe/Berlin", "private": false
            }),
            FilterType::EventUpdateRequested => {
                serde_json::json!({"event": event, "changes": {"title": "Spring meetup (moved)"}})
            }
        }
    }

    /// The key of `exception` in a reply that halts this action.
    pub fn exception_name(self) -> &'static str {
        match self {
            FilterType::RegistrationRequested => "PreventRegistration",
            FilterType::CancellationRequested => "PreventCancellation",
            FilterType::EventCreationRequested => "PreventEventCreation",
            FilterType::EventUpdateRequested => "PreventEventUpdate",
        }
    }

    /// The input keys a reply's `data` may replace; others are ignored.
    pub fn writable(self) -> &'static [&'static str] {
        match self {
            FilterType::RegistrationRequested => &["visibility"],
            FilterType::CancellationRequested => &[],
            FilterType::EventCreationRequested => &[
                "title",
                "description",
                "starts_at",
                "ends_at",
                "timezone",
                "private",
            ],
            FilterType::EventUpdateRequested => &["changes"],
        }
    }
}

/// What to do when a call fails in one way: go on, or halt (optionally sending the user on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnFailure {
    pub halt: bool,
    pub redirect_to: Option<TargetUrl>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webfilter {
    pub id: WebfilterId,
    pub filter_type: FilterType,
    pub url: TargetUrl,
    pub enabled: bool,
    pub description: Option<String>,
    /// Ignore the reply's `data`.
    pub disable_filtering: bool,
    /// Ignore the reply's `exception`.
    pub disable_halt: bool,
    pub on_4xx: OnFailure,
    pub on_5xx: OnFailure,
    /// Timeouts, refused connections, refused addresses.
    pub on_request_exception: OnFailure,
    /// `json` or `form`.
    pub encoding: String,
    pub timeout_ms: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in FilterType::ALL {
            assert_eq!(FilterType::parse(t.as_str()), Some(t));
            assert!(t.exception_name().starts_with("Prevent"));
        }
        assert_eq!(FilterType::parse("participant.registered"), None);
    }
}
