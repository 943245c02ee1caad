//! What an API token may be limited to: scopes and events. A token with no limits does
//! everything its user may do; limits only ever take away.

use crate::EventId;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    EventsRead,
    EventsWrite,
    ParticipantsWrite,
    WebhooksRead,
    WebhooksWrite,
    SignalsWrite,
    NotificationsWrite,
    PeopleRead,
    PeopleWrite,
    OsdiWrite,
    /// Everything the user may do, as if the token had no scopes.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::EventsRead,
        Scope::EventsWrite,
        Scope::ParticipantsWrite,
        Scope::WebhooksRead,
        Scope::WebhooksWrite,
        Scope::SignalsWrite,
        Scope::NotificationsWrite,
        Scope::PeopleRead,
        Scope::PeopleWrite,
        Scope::OsdiWrite,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::EventsRead => "events:read",
            Scope::EventsWrite => "events:write",
            Scope::ParticipantsWrite => "participants:write",
            Scope::WebhooksRead => "webhooks:read",
            Scope::WebhooksWrite => "webhooks:write",
            Scope::SignalsWrite => "signals:write",
            Scope::NotificationsWrite => "notifications:write",
            Scope::PeopleRead => "people:read",
            Scope::PeopleWrite => "people:write",
            Scope::OsdiWrite => "osdi:write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// The most events a token may be limited to.
pub const MAX_TOKEN_EVENTS: usize = 100;

/// A token's limits. `None` means "not limited" for either list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenLimits {
    pub scopes: Option<BTreeSet<Scope>>,
    pub event_ids: Option<BTreeSet<EventId>>,
}

impl TokenLimits {
    /// Whether the token carries `scope` (`admin` carries them all).
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|s| s.contains(&scope) || s.contains(&Scope::Admin))
    }

    /// Whether the token may act on this event.
    pub fn allows_event(&self, event: &EventId) -> bool {
        self.event_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(event))
    }

    /// Whether the token is limited to some events (and so to nothing outside them).
    pub fn is_event_limited(&self) -> bool {
        self.event_ids.is_some()
    }

    /// The scope names, for storing and showing.
    pub fn scope_names(&self) -> Option<Vec<&'static str>> {
        self.scopes
            .as_ref()
            .map(|s| s.iter().map(|s| s.as_str()).collect())
    }

    /// The event ids, for storing and showing.
    pub fn event_names(&self) -> Option<Vec<&str>> {
        self.event_ids
            .as_ref()
            .map(|ids| ids.iter().map(EventId::as_str).collect())
    }

    /// Reads stored lists back; names that no longer parse are dropped, which only narrows.
    pub fn from_stored(scopes: Option<Vec<String>>, event_ids: Option<Vec<String>>) -> Self {
        Self {
            scopes: scopes.map(|s| s.iter().filter_map(|n| Scope::parse(n)).collect()),
            event_ids: event_ids.map(|ids| ids.into_iter().map(EventId::from_trusted).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("events:delete"), None);
    }

    #[test]
    fn limits_only_take_away() {
        let open = TokenLimits::default();
        assert!(open.allows(Scope::WebhooksWrite) && open.allows_event(&EventId::new()));
        let read = TokenLimits {
            scopes: Some([Scope::EventsRead].into()),
            event_ids: None,
        };
        assert!(read.allows(Scope::EventsRead) && !read.allows(Scope::EventsWrite));
        let admin = TokenLimits {
            scopes: Some([Scope::Admin].into()),
            event_ids: None,
        };
        assert!(Scope::ALL.iter().all(|s| admin.allows(*s)));
        let one = EventId::new();
        let limited = TokenLimits {
            scopes: None,
            event_ids: Some([one.clone()].into()),
        };
        assert!(limited.allows_event(&one) && !limited.allows_event(&EventId::new()));
        let stored =
            TokenLimits::from_stored(Some(vec!["events:read".into(), "gone:scope".into()]), None);
        assert_eq!(stored.scopes, Some([Scope::EventsRead].into()));
    }
}
