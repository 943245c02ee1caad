//! Opaque string ids. New ids are UUIDv7, so they sort by creation time.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7().to_string())
            }

            /// `None` for anything that is not a UUID in canonical lower-case form: such an id
            /// names nothing, so callers answer 404 rather than 422.
            pub fn parse(s: &str) -> Option<Self> {
                let uuid = Uuid::try_parse(s).ok()?;
                let canonical = uuid.to_string();
                (canonical == s).then_some(Self(canonical))
            }

            /// For ids read back from our own storage.
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A user account (a login, not a CRM contact).
    UserId
);
id_type!(
    /// An event (a Dashboard "course").
    EventId
);
id_type!(
    /// An API token's public id.
    TokenId
);

id_type!(
    /// A webhook endpoint.
    WebhookId
);
id_type!(
    /// One message on its way to one webhook endpoint.
    DeliveryId
);

id_type!(
    /// A webfilter: a synchronous call before an action.
    WebfilterId
);

id_type!(
    /// A session of an event (a talk, a meeting slot), which may have a video room.
    SessionId
);
id_type!(
    /// A person: a CRM contact, separate from login users (a user may link to one).
    PersonId
);
id_type!(
    /// A slide deck of a session.
    DeckId
);
id_type!(
    /// A donation (a contribution) of a person.
    DonationId
);

/// A text every id made before `t` sorts below: the time prefix of a UUIDv7 made at `t`. Ids
/// made in the same millisecond sort above it, so a range read with it never takes a newer id.
pub fn made_before(t: crate::Timestamp) -> String {
    let ms = u64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    format!("{:08x}-{:04x}", ms >> 16, ms & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_other_forms() {
        let id = EventId::new();
        assert_eq!(EventId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(EventId::parse("does-not-exist"), None);
        assert_eq!(EventId::parse(&id.as_str().to_uppercase()), None);
        assert_eq!(EventId::parse(""), None);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_canonical_forms(raw in ".*") {
            if let Some(id) = EventId::parse(&raw) {
                proptest::prop_assert_eq!(id.as_str(), raw.as_str());
            }
        }
    }

    #[test]
    fn ids_made_earlier_sort_below_the_bound_and_later_ones_above() {
        let before = DeliveryId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let bound = made_before(crate::clock::truncate_to_micros(
            time::OffsetDateTime::now_utc(),
        ));
        std::thread::sleep(std::time::Duration::from_millis(2));
        let after = DeliveryId::new();
        assert!(before.as_str() < bound.as_str(), "{before:?} {bound}");
        assert!(after.as_str() > bound.as_str(), "{after:?} {bound}");
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b);
    }
}
