//! The Event Center ↔ Dashboard protocol: links on both sides, the audit trail of sync calls,
//! and how a wanted participant list becomes additions and removals.

use crate::event::Participant;
use crate::username::Username;
use crate::webhook::TargetUrl;
use crate::{EventId, Timestamp};
use std::collections::BTreeSet;

/// An Event Center event id in canonical form: `42` and `"42"` are the same id. Never empty, so
/// "no id" can never equal "not linked".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CenterEventId(String);

impl CenterEventId {
    pub const MAX: usize = 255;

    /// A JSON integer or a non-blank string; `None` for anything else (absent, blank, float…).
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        match value {
            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => Some(Self(n.to_string())),
            serde_json::Value::String(s) => Self::parse(s),
            _ => None,
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let s = raw.trim();
        (!s.is_empty() && s.len() <= Self::MAX && !s.chars().any(char::is_control))
            .then(|| Self(s.to_owned()))
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Dashboard side: this event is the course an Event Center event is linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLink {
    pub event_id: CenterEventId,
    pub since: Timestamp,
}

/// Which way a sync call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// An Event Center called this server's Dashboard endpoints.
    Inbound,
    /// This server called a remote Dashboard.
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            _ => None,
        }
    }
}

/// The protocol's three calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Confirm,
    Update,
    Unsync,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Confirm => "confirm_event_sync",
            Endpoint::Update => "update_event_participants",
            Endpoint::Unsync => "unsync_event",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Endpoint::Confirm, Endpoint::Update, Endpoint::Unsync]
            .into_iter()
            .find(|e| e.as_str() == s)
    }
}

/// One sync call, either way, as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCall {
    pub id: String,
    pub event: Option<EventId>,
    pub direction: Direction,
    pub endpoint: Endpoint,
    pub course_slug: String,
    pub center_event_id: Option<String>,
    pub dry_run: bool,
    /// `success` or the error code.
    pub outcome: String,
    pub status: Option<u16>,
    pub added: u32,
    pub removed: u32,
    pub skipped: u32,
    pub detail: Option<String>,
    pub at: Timestamp,
}

/// The Event Center side: this event pushes its public participants to a remote course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardLink {
    pub event: EventId,
    /// The Dashboard's base URL, ending in `/`.
    pub base_url: TargetUrl,
    pub course_slug: String,
    /// Write-only: sent to the Dashboard, never shown.
    pub secret: String,
    pub linked_at: Timestamp,
    pub last_push_at: Option<Timestamp>,
    /// `success` or the error of the last push.
    pub last_push_result: Option<String>,
}

/// A Dashboard base URL: an http(s) URL, always ending in `/` so endpoint names append.
pub fn dashboard_base(raw: &str) -> Result<TargetUrl, &'static str> {
    let url = TargetUrl::parse(raw)?;
    if url.as_str().contains('?') {
        return Err("must not have a query");
    }
    Ok(if url.as_str().ends_with('/') {
        url
    } else {
        TargetUrl::from_trusted(format!("{}/", url.as_str()))
    })
}

/// What replacing a participant list must do. Both sides are canonical usernames, compared
/// exactly, so a name normalised on the way in is never removed on the next identical call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterDiff {
    pub add: Vec<Username>,
    pub remove: Vec<Participant>,
}

impl RosterDiff {
    pub fn between(current: &[Participant], wanted: &BTreeSet<Username>) -> Self {
        let have: BTreeSet<&str> = current.iter().map(|p| p.username.as_str()).collect();
        Self {
            add: wanted
                .iter()
                .filter(|u| !have.contains(u.as_str()))
                .cloned()
                .collect(),
            remove: current
                .iter()
                .filter(|p| !wanted.contains(&p.username))
                .cloned()
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// Wanted names as sent: blanks dropped, each normalised MediaWiki-style, duplicates merged.
/// Names that cannot be usernames are returned apart, to be reported as skipped.
pub fn wanted_names<'a>(
    raw: impl IntoIterator<Item = &'a str>,
) -> (BTreeSet<Username>, Vec<String>) {
    let mut wanted = BTreeSet::new();
    let mut invalid = Vec::new();
    for name in raw {
        if name.trim().is_empty() {
            continue;
        }
        match Username::parse(name) {
            Ok(u) => {
                wanted.insert(u);
            }
            Err(_) => invalid.push(name.to_owned()),
        }
    }
    (wanted, invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;
    use crate::event::Visibility;
    use proptest::prelude::*;
    use serde_json::json;

    fn participant(name: &str) -> Participant {
        Participant {
            user_id: UserId::new(),
            username: Username::parse(name).unwrap(),
            visibility: Visibility::Public,
            registered_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn center_ids_are_canonical_strings() {
        assert_eq!(
            CenterEventId::from_json(&json!(42)),
            CenterEventId::from_json(&json!("42"))
        );
        assert_eq!(
            CenterEventId::from_json(&json!(" 42 ")).unwrap().as_str(),
            "42"
        );
        for bad in [
            json!(null),
            json!(""),
            json!("  "),
            json!(4.2),
            json!([1]),
            json!({}),
        ] {
            assert_eq!(CenterEventId::from_json(&bad), None, "{bad}");
        }
    }

    #[test]
    fn names_are_normalised_before_comparing() {
        let (wanted, invalid) =
            wanted_names(["bob_smith", "", "  ", "Bob smith", "a/b", "User:Eve"]);
        let names: Vec<&str> = wanted.iter().map(Username::as_str).collect();
        assert_eq!(names, ["Bob smith", "Eve"]);
        assert_eq!(invalid, ["a/b"]);
        let current = [participant("Bob smith"), participant("Carol")];
        let diff = RosterDiff::between(&current, &wanted);
        assert_eq!(
            diff.add.iter().map(Username::as_str).collect::<Vec<_>>(),
            ["Eve"]
        );
        assert_eq!(diff.remove.len(), 1);
        assert_eq!(diff.remove[0].username.as_str(), "Carol");
    }

    #[test]
    fn case_after_the_first_letter_matters() {
        let (wanted, _) = wanted_names(["ALICE"]);
        let diff = RosterDiff::between(&[participant("Alice")], &wanted);
        assert_eq!(diff.add.len(), 1);
        assert_eq!(diff.remove.len(), 1);
    }

    #[test]
    fn base_urls_end_in_a_slash() {
        assert_eq!(
            dashboard_base("https://dash.example/base")
                .unwrap()
                .as_str(),
            "https://dash.example/base/"
        );
        assert!(dashboard_base("https://dash.example/?x=1").is_err());
        assert!(dashboard_base("ftp://dash.example/").is_err());
    }

    proptest! {
        #[test]
        fn applying_a_diff_gives_the_wanted_set(
            current in proptest::collection::btree_set("[A-Z][a-z]{0,3}", 0..8),
            wanted in proptest::collection::vec("[a-zA-Z_ ]{0,5}", 0..8),
        ) {
            let current: Vec<Participant> = current.iter().map(|n| participant(n)).collect();
            let (wanted, _) = wanted_names(wanted.iter().map(String::as_str));
            let diff = RosterDiff::between(&current, &wanted);
            let mut after: BTreeSet<Username> = current.iter().map(|p| p.username.clone()).collect();
            for p in &diff.remove { after.remove(&p.username); }
            after.extend(diff.add.iter().cloned());
            prop_assert_eq!(&after, &wanted);
            // A second identical call changes nothing.
            let again: Vec<Participant> = after.iter().map(|u| participant(u.as_str())).collect();
            prop_assert!(RosterDiff::between(&again, &wanted).is_empty());
        }
    }
}
