//! Reminders: how long before an event's or a session's start its people are reminded.

use crate::clock::Timestamp;
use std::fmt;

/// The longest offset taken: a year.
const MAX_SECONDS: i64 = 366 * 86_400;
/// The most offsets one event or session keeps.
pub const MAX_REMINDERS: usize = 10;

/// One offset before the start: a positive number with `s`, `m`, `h` or `d`. Kept as written
/// (`"90m"` stays `"90m"`), compared by its length in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offset {
    seconds: i64,
    text: String,
}

impl Offset {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let wrong = || format!("{raw:?} is not an offset: a whole number with s, m, h or d");
        let split = raw.len().checked_sub(1).ok_or_else(wrong)?;
        let (number, unit) = raw.split_at_checked(split).ok_or_else(wrong)?;
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(wrong());
        }
        let unit_seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(wrong()),
        };
        let seconds = number
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_seconds))
            .filter(|s| (1..=MAX_SECONDS).contains(s))
            .ok_or_else(|| format!("{raw:?} must be from 1s to 366d"))?;
        Ok(Self {
            seconds,
            text: raw.to_owned(),
        })
    }

    pub fn seconds(&self) -> i64 {
        self.seconds
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// When a reminder this far ahead of `starts_at` is due.
    pub fn due(&self, starts_at: Timestamp) -> Timestamp {
        starts_at - time::Duration::seconds(self.seconds)
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The offsets of one event or session, longest first, no two of the same length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminders(Vec<Offset>);

impl Default for Reminders {
    /// A day before and an hour before.
    fn default() -> Self {
        Self::parse(&["24h", "1h"]).expect("the default offsets parse")
    }
}

impl Reminders {
    pub fn none() -> Self {
        Self(Vec::new())
    }

    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, String> {
        if raw.len() > MAX_REMINDERS {
            return Err(format!("at most {MAX_REMINDERS} reminders"));
        }
        let mut offsets = raw
            .iter()
            .map(|r| Offset::parse(r.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        offsets.sort_by_key(|o| std::cmp::Reverse(o.seconds));
        if let Some(pair) = offsets.windows(2).find(|w| w[0].seconds == w[1].seconds) {
            return Err(format!("{} and {} are the same offset", pair[0], pair[1]));
        }
        Ok(Self(offsets))
    }

    /// Reads the stored JSON list back; unreadable text reads as the default.
    pub fn from_stored(text: &str) -> Self {
        serde_json::from_str::<Vec<String>>(text)
            .ok()
            .and_then(|list| Self::parse(&list).ok())
            .unwrap_or_default()
    }

    /// The stored form: a JSON list of the offsets as written.
    pub fn stored(&self) -> String {
        serde_json::json!(self.names()).to_string()
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(Offset::as_str).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Offset> {
        self.0.iter()
    }

    /// The offsets still ahead at `now` for a start at `starts_at`: what is planned.
    pub fn ahead(&self, starts_at: Timestamp, now: Timestamp) -> impl Iterator<Item = &Offset> {
        self.0.iter().filter(move |o| o.due(starts_at) > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn offsets_take_a_number_and_a_unit() {
        assert_eq!(Offset::parse("24h").unwrap().seconds(), 86_400);
        assert_eq!(Offset::parse("90m").unwrap().as_str(), "90m");
        assert_eq!(Offset::parse("2d").unwrap().seconds(), 172_800);
        assert_eq!(Offset::parse("45s").unwrap().seconds(), 45);
        for bad in [
            "",
            "h",
            "24",
            "1.5h",
            "-1h",
            "0m",
            "+1h",
            "1H",
            "1 h",
            "367d",
            "99999999999999999999d",
            "1w",
            "١h",
        ] {
            assert!(Offset::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lists_are_sorted_longest_first_and_refuse_repeats() {
        let r = Reminders::parse(&["1h", "2d", "15m"]).unwrap();
        assert_eq!(r.names(), ["2d", "1h", "15m"]);
        assert!(Reminders::parse(&["60m", "1h"]).is_err());
        assert!(Reminders::parse(&["1h"; 11]).is_err());
        assert_eq!(Reminders::default().names(), ["24h", "1h"]);
        assert_eq!(Reminders::from_stored(&r.stored()), r);
        assert_eq!(Reminders::from_stored("[]"), Reminders::none());
        assert_eq!(Reminders::from_stored("junk"), Reminders::default());
    }

    #[test]
    fn only_offsets_still_ahead_are_planned() {
        let start = datetime!(2026-12-10 10:00 UTC);
        let r = Reminders::default();
        let ahead = |now| r.ahead(start, now).map(Offset::as_str).collect::<Vec<_>>();
        assert_eq!(ahead(datetime!(2026-12-01 00:00 UTC)), ["24h", "1h"]);
        assert_eq!(ahead(datetime!(2026-12-09 12:00 UTC)), ["1h"]);
        assert!(
            ahead(datetime!(2026-12-10 09:00 UTC)).is_empty(),
            "due exactly now is past"
        );
    }
}
