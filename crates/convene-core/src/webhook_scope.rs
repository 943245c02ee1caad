//! Webhooks scoped to events: which events a webhook hears about, and the one rule dispatch
//! applies to every message. Unscoped webhooks (made by admins) hear everything of their types;
//! a scoped one hears only messages about an event, and, when its owner is no admin, only while
//! its owner organises that event, so it never carries what its owner may not read.

use crate::text::Channel;
use crate::{EventId, UserId};
use std::collections::BTreeSet;

/// What a webhook is limited to. The default limits nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookScope {
    /// Only these events.
    pub event_ids: Option<BTreeSet<EventId>>,
    /// Only the events its owner organises, now or later (`events: "mine"`).
    pub mine: bool,
    /// Only events carrying one of these channels.
    pub channels: Option<BTreeSet<Channel>>,
}

/// The most events a webhook may list.
pub const MAX_SCOPE_EVENTS: usize = 100;

/// A webhook's owner as dispatch finds it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerNow<'a> {
    /// A user who is an admin now, or the bootstrap token (`None`, which organises nothing).
    Admin(Option<&'a UserId>),
    User(&'a UserId),
    /// The user who made it was deleted.
    Gone,
}

/// What dispatch knows of the event a message is about; `None` when it no longer exists (its
/// deletion, read after the delete committed).
#[derive(Debug, Clone, Copy)]
pub struct EventFacts<'a> {
    pub channels: &'a [Channel],
    pub organizers: &'a [UserId],
}

impl WebhookScope {
    /// The stored form: a JSON object, `None` when unscoped.
    pub fn to_stored(&self) -> Option<String> {
        self.is_scoped().then(|| {
            serde_json::json!({
                "event_ids": self.event_ids.as_ref().map(|ids| ids.iter().map(EventId::as_str).collect::<Vec<_>>()),
                "mine": self.mine,
                "channels": self.channels.as_ref().map(|c| c.iter().map(Channel::as_str).collect::<Vec<_>>()),
            })
            .to_string()
        })
    }

    /// Reads the stored form back. Unreadable text is a scope that admits nothing but listed
    /// events of an empty list, so a damaged row narrows, never widens.
    pub fn from_stored(text: Option<&str>) -> Self {
        let Some(text) = text else {
            return Self::default();
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
            return Self {
                event_ids: Some(BTreeSet::new()),
                ..Self::default()
            };
        };
        let texts = |key: &str| {
            v[key].as_array().map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
        };
        Self {
            event_ids: texts("event_ids")
                .map(|ids| ids.into_iter().map(EventId::from_trusted).collect()),
            mine: v["mine"].as_bool().unwrap_or(false),
            channels: texts("channels").map(|c| c.into_iter().map(Channel::from_trusted).collect()),
        }
    }

    pub fn is_scoped(&self) -> bool {
        self.event_ids.is_some() || self.mine || self.channels.is_some()
    }

    /// Whether a message about `subject` (`None`: about no event) reaches a webhook so scoped.
    pub fn admits(
        &self,
        owner: OwnerNow<'_>,
        subject: Option<(&EventId, Option<EventFacts<'_>>)>,
    ) -> bool {
        if !self.is_scoped() {
            return true;
        }
        let Some((event, facts)) = subject else {
            return false;
        };
        let listed = self.event_ids.as_ref().map(|ids| ids.contains(event));
        let Some(facts) = facts else {
            // A deleted event: only a webhook that named it hears of it (its owner was allowed
            // to name it, and losing the role pauses the webhook).
            return listed == Some(true) && !self.mine && self.channels.is_none();
        };
        let organizes = |user: &UserId| facts.organizers.contains(user);
        let owner_reads = match owner {
            OwnerNow::Admin(_) => true,
            OwnerNow::User(user) => organizes(user),
            OwnerNow::Gone => false,
        };
        let mine = !self.mine
            || match owner {
                OwnerNow::Admin(user) => user.is_some_and(organizes),
                OwnerNow::User(user) => organizes(user),
                OwnerNow::Gone => false,
            };
        let in_channels = self
            .channels
            .as_ref()
            .is_none_or(|wanted| facts.channels.iter().any(|c| wanted.contains(c)));
        owner_reads && listed != Some(false) && mine && in_channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channels(names: &[&str]) -> Vec<Channel> {
        names.iter().map(|n| Channel::parse(n).unwrap()).collect()
    }

    #[test]
    fn unscoped_webhooks_hear_everything_and_scoped_ones_only_events() {
        let open = WebhookScope::default();
        assert!(open.admits(OwnerNow::Gone, None));
        let e = EventId::new();
        let scoped = WebhookScope {
            event_ids: Some([e.clone()].into()),
            ..WebhookScope::default()
        };
        assert!(
            !scoped.admits(OwnerNow::Admin(None), None),
            "users, people, operations"
        );
        let facts = EventFacts {
            channels: &[],
            organizers: &[],
        };
        assert!(scoped.admits(OwnerNow::Admin(None), Some((&e, Some(facts)))));
        assert!(!scoped.admits(OwnerNow::Admin(None), Some((&EventId::new(), Some(facts)))));
    }

    #[test]
    fn an_organizers_webhook_hears_only_while_the_owner_organizes() {
        let (alice, bob) = (UserId::new(), UserId::new());
        let e = EventId::new();
        let scoped = WebhookScope {
            event_ids: Some([e.clone()].into()),
            ..WebhookScope::default()
        };
        let organized = [alice.clone()];
        let facts = EventFacts {
            channels: &[],
            organizers: &organized,
        };
        assert!(scoped.admits(OwnerNow::User(&alice), Some((&e, Some(facts)))));
        assert!(!scoped.admits(OwnerNow::User(&bob), Some((&e, Some(facts)))));
        assert!(!scoped.admits(OwnerNow::Gone, Some((&e, Some(facts)))));
        assert!(
            scoped.admits(OwnerNow::User(&bob), Some((&e, None))),
            "a listed event's deletion"
        );
    }

    #[test]
    fn stored_scopes_read_back() {
        assert_eq!(WebhookScope::default().to_stored(), None);
        let scope = WebhookScope {
            event_ids: Some([EventId::new()].into()),
            mine: true,
            channels: Some(channels(&["a"]).into_iter().collect()),
        };
        assert_eq!(
            WebhookScope::from_stored(scope.to_stored().as_deref()),
            scope
        );
        assert!(WebhookScope::from_stored(Some("{oops")).is_scoped());
    }

    #[test]
    fn mine_and_channels_narrow() {
        let alice = UserId::new();
        let e = EventId::new();
        let mine = WebhookScope {
            mine: true,
            ..WebhookScope::default()
        };
        let organized = [alice.clone()];
        let wiki = channels(&["wikiproject-x", "zz"]);
        let facts = EventFacts {
            channels: &wiki,
            organizers: &organized,
        };
        let nobody = EventFacts {
            channels: &wiki,
            organizers: &[],
        };
        assert!(mine.admits(OwnerNow::User(&alice), Some((&e, Some(facts)))));
        assert!(!mine.admits(OwnerNow::User(&alice), Some((&e, Some(nobody)))));
        assert!(!mine.admits(OwnerNow::User(&alice), Some((&e, None))));
        let channel = WebhookScope {
            channels: Some(channels(&["wikiproject-x"]).into_iter().collect()),
            ..WebhookScope::default()
        };
        assert!(channel.admits(OwnerNow::Admin(None), Some((&e, Some(nobody)))));
        let other = EventFacts {
            channels: &[],
            organizers: &[],
        };
        assert!(!channel.admits(OwnerNow::Admin(None), Some((&e, Some(other)))));
    }
}
