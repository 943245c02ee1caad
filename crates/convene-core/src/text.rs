//! Small validated strings of the domain: event slugs, titles, emails, locales, time zones.

use serde::{Serialize, Serializer};
use std::fmt;

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// For values read back from our own storage, which were parsed on the way in.
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    Control,
    #[error("must not start or end with white space")]
    OuterSpace,
    #[error("must not contain white space")]
    Space,
    #[error("is not a valid email address")]
    Email,
    #[error("is not a language tag such as `en` or `pt-BR`")]
    Locale,
    #[error("is not a known IANA time zone such as `Europe/Berlin`")]
    TimeZone,
    #[error("must be 1-64 lower-case letters, digits, `-` or `_`, such as `wikiproject-x`")]
    Channel,
}

fn bounded(raw: &str, max: usize) -> Result<&str, TextError> {
    if raw.is_empty() {
        return Err(TextError::Empty);
    }
    if raw.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    if raw.chars().any(char::is_control) {
        return Err(TextError::Control);
    }
    Ok(raw)
}

/// An event's unique slug, kept exactly as given: Dashboard course slugs contain `/`,
/// parentheses, dots and any script (`Wiki_Org/Edit-a-thon_(2026)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);
string_newtype!(Slug);

impl Slug {
    pub const MAX: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let s = bounded(raw, Self::MAX)?;
        if s.trim() != s {
            return Err(TextError::OuterSpace);
        }
        Ok(Self(s.to_owned()))
    }

    /// `{slug}-{n}`, the slug shortened first if it would not fit.
    pub fn suffixed(&self, n: u32) -> Self {
        let tail = format!("-{n}");
        let keep: String = self.0.chars().take(Self::MAX - tail.len()).collect();
        Self(format!("{keep}{tail}"))
    }
}

/// A one-line human title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);
string_newtype!(Title);

impl Title {
    pub const MAX: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let s = bounded(raw.trim(), Self::MAX)?;
        Ok(Self(s.to_owned()))
    }
}

/// Free text: may span lines, so only NUL and other non-line controls are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);
string_newtype!(Description);

impl Description {
    pub const MAX: usize = 20_000;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        if raw.chars().count() > Self::MAX {
            return Err(TextError::TooLong(Self::MAX));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(TextError::Control);
        }
        Ok(Self(raw.to_owned()))
    }
}

/// A person's display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);
string_newtype!(DisplayName);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        Ok(Self(bounded(raw.trim(), 255)?.to_owned()))
    }
}

/// An email address: one `@`, a non-empty local part, a dotted domain, no white space.
/// Deliverability is the mail system's business, not a parser's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let s = bounded(raw.trim(), 254)?;
        let (local, domain) = s.rsplit_once('@').ok_or(TextError::Email)?;
        let domain_ok = !domain.is_empty()
            && domain.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local.is_empty() || local.len() > 64 || !domain_ok || s.chars().any(char::is_whitespace)
        {
            return Err(TextError::Email);
        }
        Ok(Self(s.to_owned()))
    }
}

/// A BCP 47 language tag in its common shape (`en`, `pt-BR`, `zh-Hant-TW`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale(String);
string_newtype!(Locale);

impl Locale {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let mut parts = raw.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if !(primary_ok && rest_ok) {
            return Err(TextError::Locale);
        }
        Ok(Self(raw.to_owned()))
    }
}

/// An IANA time zone name known to the bundled time zone database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(String);
string_newtype!(TimeZoneName);

impl TimeZoneName {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        if raw.is_empty() || raw.len() > 64 || raw.chars().any(char::is_whitespace) {
            return Err(TextError::TimeZone);
        }
        jiff::tz::TimeZone::get(raw).map_err(|_| TextError::TimeZone)?;
        Ok(Self(raw.to_owned()))
    }
}

/// A channel label set on events, by which webhooks may be scoped: `wikiproject-x`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Channel(String);
string_newtype!(Channel);

impl Channel {
    pub const MAX_PER_LIST: usize = 20;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(TextError::Channel)
        }
    }

    /// A list as given: each label checked, duplicates dropped, sorted, at most
    /// [`Channel::MAX_PER_LIST`].
    pub fn parse_list(raw: &[String]) -> Result<Vec<Self>, String> {
        if raw.len() > Self::MAX_PER_LIST {
            return Err(format!("must list at most {} channels", Self::MAX_PER_LIST));
        }
        let mut list = raw
            .iter()
            .map(|c| Self::parse(c).map_err(|e| format!("{c:?} {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        list.sort();
        list.dedup();
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn channels_are_plain_labels() {
        assert_eq!(
            Channel::parse("wikiproject-x").unwrap().as_str(),
            "wikiproject-x"
        );
        for bad in ["", "Wiki", "a b", "ü", &"x".repeat(65)] {
            assert_eq!(Channel::parse(bad), Err(TextError::Channel), "{bad}");
        }
        let list = Channel::parse_list(&["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(
            list.iter().map(Channel::as_str).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(Channel::parse_list(&vec!["a".to_owned(); 21]).is_err());
    }

    #[test]
    fn slugs_keep_dashboard_shapes() {
        for ok in ["Wiki_Org/Edit-a-thon_(2026)", "a.b", "Вики/Марафон", "x"] {
            assert_eq!(Slug::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(Slug::parse(""), Err(TextError::Empty));
        assert_eq!(Slug::parse(" a"), Err(TextError::OuterSpace));
        assert_eq!(Slug::parse("a\u{7}"), Err(TextError::Control));
        assert_eq!(Slug::parse(&"s".repeat(256)), Err(TextError::TooLong(255)));
    }

    #[test]
    fn emails_locales_zones() {
        assert!(Email::parse("jane@example.org").is_ok());
        for bad in ["jane", "@x.org", "jane@", "jane@x..org", "ja ne@x.org"] {
            assert_eq!(Email::parse(bad), Err(TextError::Email), "{bad}");
        }
        assert!(Locale::parse("pt-BR").is_ok());
        assert!(Locale::parse("e").is_err());
        assert!(TimeZoneName::parse("Europe/Berlin").is_ok());
        assert!(TimeZoneName::parse("UTC").is_ok());
        assert!(TimeZoneName::parse("Europe/Berln").is_err());
        assert!(Title::parse("   ").is_err());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(raw in ".*") {
            let _ = Slug::parse(&raw);
            let _ = Title::parse(&raw);
            let _ = Email::parse(&raw);
            let _ = Locale::parse(&raw);
            let _ = TimeZoneName::parse(&raw);
            let _ = Description::parse(&raw);
            let _ = DisplayName::parse(&raw);
            let _ = crate::event::Role::parse(&raw);
            let _ = crate::event::Visibility::parse(&raw);
        }
    }
}
