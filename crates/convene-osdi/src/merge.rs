//! The three-way merge of one person pair: what each side becomes, what is sent where, and
//! which fields were changed on both sides (conflicts, logged).

use crate::canonical::{Canonical, Field};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Local,
    Remote,
}

/// A field both sides changed to different values, and who won.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub field: Field,
    pub winner: Side,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// What both sides hold after the sync (the next snapshot).
    pub result: Canonical,
    /// Fields to write locally, and to send to the remote side (only these members).
    pub to_local: Vec<Field>,
    pub to_remote: Vec<Field>,
    pub conflicts: Vec<Conflict>,
}

/// When each side's record last changed, as comparable instants (Unix microseconds), and the
/// profile's conflict policy: `prefer` names a side that always wins a field both sides
/// changed; `None` lets the later record win.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    pub local: i64,
    pub remote: i64,
    pub prefer: Option<Side>,
}

/// Merges `local` and `remote` against the last `snapshot`, field by field (the postal address
/// as one unit):
/// - changed on one side: that side's value;
/// - changed on both to the same value: that value;
/// - changed on both to different values: the later record wins, the remote on an exact tie,
///   and the conflict is reported.
///
/// Without a snapshot (a pair linked for the first time), a value present on one side only
/// fills the other, and different non-empty values go to the batch's `origin`.
pub fn merge(
    snapshot: Option<&Canonical>,
    local: &Canonical,
    remote: &Canonical,
    times: Times,
    origin: Side,
) -> Merged {
    let mut result = Canonical::default();
    let (mut to_local, mut to_remote, mut conflicts) = (Vec::new(), Vec::new(), Vec::new());
    for field in Field::ALL {
        let (l, r) = (local.get(field), remote.get(field));
        let winner = match snapshot {
            Some(snap) => {
                let s = snap.get(field);
                match (l != s, r != s) {
                    (false, false) | (true, false) => Side::Local,
                    (false, true) => Side::Remote,
                    (true, true) if l == r => Side::Local,
                    (true, true) => {
                        let side = if let Some(side) = times.prefer {
                            side
                        } else if times.local > times.remote {
                            Side::Local
                        } else {
                            Side::Remote
                        };
                        conflicts.push(Conflict {
                            field,
                            winner: side,
                        });
                        side
                    }
                }
            }
            None => match (l.is_empty(), r.is_empty()) {
                (false, true) => Side::Local,
                (true, false) => Side::Remote,
                _ if l == r => Side::Local,
                (true, true) => Side::Local,
                (false, false) => origin,
            },
        };
        let value = match winner {
            Side::Local => l.clone(),
            Side::Remote => r.clone(),
        };
        if value != l {
            to_local.push(field);
        }
        if value != r {
            to_remote.push(field);
        }
        result.set(field, value);
    }
    // A status only means something with its address or number.
    if result.phone.is_none() {
        result.phone_status = None;
    }
    Merged {
        result,
        to_local,
        to_remote,
        conflicts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(given: &str, email: &str, city: Option<&str>) -> Canonical {
        Canonical {
            given_name: Some(given.into()),
            email: Some(email.into()),
            email_status: Some("subscribed".into()),
            postal: city.map(|c| crate::canonical::Postal {
                locality: Some(c.into()),
                postal_code: Some("10115".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    const LOCAL_LATER: Times = Times {
        local: 20,
        remote: 10,
        prefer: None,
    };

    #[test]
    fn one_sided_changes_travel_and_nothing_else_is_sent() {
        let snap = person("Ann", "ann@example.org", Some("Berlin"));
        let local = person("Anna", "ann@example.org", Some("Berlin"));
        let remote = person("Ann", "ann@example.org", Some("Hamburg"));
        let m = merge(Some(&snap), &local, &remote, LOCAL_LATER, Side::Remote);
        assert_eq!(m.result.given_name.as_deref(), Some("Anna"));
        assert_eq!(
            m.result.postal.as_ref().unwrap().locality.as_deref(),
            Some("Hamburg")
        );
        assert_eq!(
            (m.to_remote, m.to_local),
            (vec![Field::GivenName], vec![Field::Postal])
        );
        assert!(m.conflicts.is_empty());
    }

    #[test]
    fn both_sides_changed_the_later_record_wins_remote_on_a_tie() {
        let snap = person("Ann", "ann@example.org", None);
        let local = person("Anna", "ann@example.org", None);
        let remote = person("Annie", "ann@example.org", None);
        let m = merge(Some(&snap), &local, &remote, LOCAL_LATER, Side::Remote);
        assert_eq!(m.result.given_name.as_deref(), Some("Anna"));
        assert_eq!(
            m.conflicts,
            vec![Conflict {
                field: Field::GivenName,
                winner: Side::Local
            }]
        );
        let tie = merge(
            Some(&snap),
            &local,
            &remote,
            Times {
                local: 5,
                remote: 5,
                prefer: None,
            },
            Side::Local,
        );
        assert_eq!(
            tie.result.given_name.as_deref(),
            Some("Annie"),
            "remote on an exact tie"
        );
        let same = merge(Some(&snap), &local, &local, LOCAL_LATER, Side::Remote);
        assert!(same.conflicts.is_empty() && same.to_local.is_empty() && same.to_remote.is_empty());
    }

    #[test]
    fn the_postal_address_merges_as_one_unit() {
        let snap = person("Ann", "a@x.org", Some("Berlin"));
        let mut local = snap.clone();
        local.postal.as_mut().unwrap().region = Some("BE".into());
        let mut remote = snap.clone();
        remote.postal.as_mut().unwrap().locality = Some("Potsdam".into());
        let m = merge(
            Some(&snap),
            &local,
            &remote,
            Times {
                local: 1,
                remote: 2,
                prefer: None,
            },
            Side::Local,
        );
        assert_eq!(
            m.result.postal, remote.postal,
            "the whole remote address, not a mix"
        );
        assert_eq!(m.conflicts.len(), 1);
    }

    #[test]
    fn a_preferred_side_wins_every_conflict_whatever_the_times() {
        let snap = person("Ann", "a@x.org", None);
        let (local, remote) = (
            person("Anna", "a@x.org", None),
            person("Annie", "a@x.org", None),
        );
        let prefer_local = Times {
            prefer: Some(Side::Local),
            ..LOCAL_LATER
        };
        let m = merge(
            Some(&snap),
            &local,
            &remote,
            Times {
                local: 1,
                remote: 2,
                ..prefer_local
            },
            Side::Remote,
        );
        assert_eq!(m.result.given_name.as_deref(), Some("Anna"));
        assert_eq!(
            m.conflicts,
            [Conflict {
                field: Field::GivenName,
                winner: Side::Local
            }]
        );
    }

    #[test]
    fn a_first_link_fills_gaps_and_the_origin_wins_differences() {
        let mut local = person("Ann", "ann@example.org", None);
        local.phone = Some("+15555550101".into());
        local.phone_status = Some("subscribed".into());
        let remote = person("Annie", "ann@example.org", Some("Berlin"));
        let m = merge(None, &local, &remote, LOCAL_LATER, Side::Remote);
        assert_eq!(
            m.result.given_name.as_deref(),
            Some("Annie"),
            "the batch origin"
        );
        assert_eq!(
            m.result.phone.as_deref(),
            Some("+15555550101"),
            "one side only fills the other"
        );
        assert!(m.result.postal.is_some());
        assert!(m.to_remote.contains(&Field::Phone) && m.to_local.contains(&Field::Postal));
        assert!(m.conflicts.is_empty(), "no snapshot, no conflict");
    }
}
