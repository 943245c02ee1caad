//! Wiki-style user names, normalised as MediaWiki normalises titles in the User namespace.
//!
//! `jane_Doe`, ` Jane Doe `, `User:Jane_Doe` and `Jane\u{200E} Doe` all name the user
//! `Jane Doe`; `JANE DOE` does not (only the first letter is case-insensitive). Names are NFC
//! first, as MediaWiki stores every title, so `Rene\u{301}` and `René` are one user; then
//! MediaWiki's invalid-username rules refuse what no wiki account can hold: zero-width and other
//! invisible characters, and private-use code points.

use serde::{Serialize, Serializer};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

pub const MAX_CHARS: usize = 255;

/// Characters MediaWiki forbids in titles; a user name containing one can never come from a wiki.
const FORBIDDEN: &[char] = &['/', '#', '<', '>', '[', ']', '|', '{', '}'];

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_CHARS} characters")]
    TooLong,
    #[error("must not contain control characters")]
    Control,
    #[error("must not contain {0:?}")]
    Forbidden(char),
    #[error("must not contain the invisible or private-use character U+{0:04X}")]
    Invisible(u32),
}

/// What MediaWiki's `isValidUserName` refuses (U+0080–009F, U+00A0, U+2000–200F, U+2028–202F,
/// U+3000, U+E000–F8FF; the spaces among them are folded to a space before this check), and the
/// other invisibles a name could hide in: soft hyphen, joiners, word joiner and invisible
/// operators, variation selectors, the byte order mark, Hangul fillers, tags, and the
/// supplementary private-use planes.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{80}'..='\u{A0}' | '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}' | '\u{1160}'
        | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{2000}'..='\u{200F}'
        | '\u{2028}'..='\u{202F}' | '\u{2060}'..='\u{206F}' | '\u{3000}' | '\u{3164}'
        | '\u{E000}'..='\u{F8FF}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}'
        | '\u{F0000}'..='\u{10FFFF}')
}

/// White space MediaWiki folds into one space (its title-normalisation character class).
fn is_wiki_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '_' | '\u{A0}' | '\u{1680}' | '\u{180E}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Direction marks and embeddings MediaWiki strips from titles.
fn is_direction_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}')
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let composed: String = raw.nfc().collect();
        let folded = fold_spaces(&composed);
        let without_ns = strip_user_namespace(&folded);
        let name = upper_first(without_ns);
        if name.is_empty() {
            return Err(UsernameError::Empty);
        }
        if name.chars().count() > MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(UsernameError::Control);
        }
        if let Some(c) = name.chars().find(|c| FORBIDDEN.contains(c)) {
            return Err(UsernameError::Forbidden(c));
        }
        if let Some(c) = name.chars().find(|c| is_invisible(*c)) {
            return Err(UsernameError::Invisible(u32::from(c)));
        }
        Ok(Self(name))
    }

    /// For names read back from our own storage, which were parsed on the way in.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Drops direction marks, folds runs of wiki white space to one space, trims the ends.
fn fold_spaces(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.chars().filter(|c| !is_direction_mark(*c)) {
        if is_wiki_space(c) {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// `User:Name` and `user: Name` both mean `Name` (namespace names are case-insensitive).
fn strip_user_namespace(mut name: &str) -> &str {
    while let Some(prefix) = name.get(..5)
        && prefix.eq_ignore_ascii_case("user:")
    {
        name = name[5..].trim_start_matches(' ');
    }
    name
}

/// Upper-cases the first character when it has a one-character upper case (`ß` stays `ß`, as
/// MediaWiki keeps it).
fn upper_first(name: &str) -> String {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut upper = first.to_uppercase();
    let head = match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => first,
    };
    std::iter::once(head).chain(chars).collect()
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Username {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(s: &str) -> String {
        Username::parse(s).unwrap().0
    }

    #[test]
    fn wiki_rules() {
        assert_eq!(name("jane_Doe"), "Jane Doe");
        assert_eq!(name("  Jane   Doe_ "), "Jane Doe");
        assert_eq!(name("User:jane_doe"), "Jane doe");
        assert_eq!(name("user: Jane"), "Jane");
        assert_eq!(name("User:User:jane"), name("User:jane"));
        assert_eq!(name("\u{200E}Jane\u{200F}"), "Jane");
        assert_eq!(name("émile"), "Émile");
        assert_eq!(name("ßtraße"), "ßtraße");
        assert_eq!(name("JANE DOE"), "JANE DOE");
        assert_eq!(name("Foo (WMF)"), "Foo (WMF)");
        assert_ne!(name("JANE DOE"), name("Jane Doe"));
    }

    #[test]
    fn refusals() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(Username::parse(" _ \u{200E}"), Err(UsernameError::Empty));
        assert_eq!(Username::parse("User:"), Err(UsernameError::Empty));
        assert_eq!(Username::parse("a/b"), Err(UsernameError::Forbidden('/')));
        assert_eq!(Username::parse("a\u{0}b"), Err(UsernameError::Control));
        assert_eq!(name("Rene\u{301}"), name("René"), "NFC: one user");
        for hidden in [
            '\u{200B}', '\u{200D}', '\u{E000}', '\u{2060}', '\u{FEFF}', '\u{AD}',
        ] {
            assert_eq!(
                Username::parse(&format!("Jane{hidden}Doe")),
                Err(UsernameError::Invisible(u32::from(hidden))),
                "{:04X}",
                u32::from(hidden)
            );
        }
        assert_eq!(
            name("Jane\u{3000}Doe"),
            "Jane Doe",
            "a wiki space is folded, not refused"
        );
        assert_eq!(Username::parse("a\nb"), Err(UsernameError::Control));
        assert_eq!(
            Username::parse(&"x".repeat(256)),
            Err(UsernameError::TooLong)
        );
        assert!(Username::parse(&"é".repeat(255)).is_ok());
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(raw in "\\PC*|.*") {
            if let Ok(u) = Username::parse(&raw) {
                prop_assert_eq!(Username::parse(u.as_str()), Ok(u.clone()));
                prop_assert!(!u.as_str().starts_with(' ') && !u.as_str().ends_with(' '));
                prop_assert!(!u.as_str().contains('_'));
            }
        }
    }
}
