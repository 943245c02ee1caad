//! People: CRM contacts (Action Network's people), separate from login users.

use crate::text::{Email, Locale};
use crate::validation::FieldErrors;
use crate::{PersonId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// A phone number in E.164: `+`, then 8 to 15 digits, the first not 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let digits = raw
            .strip_prefix('+')
            .ok_or("must be E.164, e.g. +15555550101")?;
        let ok = (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        ok.then(|| Self(raw.to_owned()))
            .ok_or("must be E.164, e.g. +15555550101")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// What a person holds, as written by the API or by a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonFields {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub language: Option<Locale>,
    pub address: Option<Address>,
    pub do_not_email: bool,
    pub is_opt_out: bool,
    pub do_not_sms: bool,
    /// Sorted, without repeats.
    pub tags: Vec<String>,
    pub user: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub fields: PersonFields,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const MAX_NAME: usize = 255;
const MAX_TAGS: usize = 100;

/// Names, address parts and tags: trimmed, bounded, no control characters; empty is none.
fn text(errors: &mut FieldErrors, field: &str, raw: Option<String>) -> Option<String> {
    let s = raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())?;
    if s.chars().count() > MAX_NAME || s.chars().any(char::is_control) {
        errors.add(
            field,
            format!("must be at most {MAX_NAME} characters without control characters"),
        );
        return None;
    }
    Some(s)
}

impl PersonFields {
    /// Checks raw values into fields, naming each problem.
    #[allow(clippy::too_many_arguments)]
    pub fn check(
        errors: &mut FieldErrors,
        given_name: Option<String>,
        family_name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        language: Option<String>,
        address: Option<Address>,
        flags: (bool, bool, bool),
        tags: Vec<String>,
    ) -> Self {
        let address = address.map(|a| Address {
            street: text(errors, "address.street", a.street),
            city: text(errors, "address.city", a.city),
            region: text(errors, "address.region", a.region),
            postal_code: text(errors, "address.postal_code", a.postal_code),
            country: text(errors, "address.country", a.country),
        });
        let mut clean: Vec<String> = tags
            .into_iter()
            .filter_map(|t| text(errors, "tags", Some(t)))
            .collect();
        clean.sort();
        clean.dedup();
        if clean.len() > MAX_TAGS {
            errors.add("tags", format!("at most {MAX_TAGS} tags"));
        }
        Self {
            given_name: text(errors, "given_name", given_name),
            family_name: text(errors, "family_name", family_name),
            email: email
                .filter(|e| !e.trim().is_empty())
                .and_then(|e| errors.check("email", Email::parse(&e))),
            phone: phone
                .filter(|p| !p.trim().is_empty())
                .and_then(|p| errors.check("phone", Phone::parse(p.trim()))),
            language: language
                .filter(|l| !l.trim().is_empty())
                .and_then(|l| errors.check("language", Locale::parse(l.trim()))),
            address: address.filter(|a| *a != Address::default()),
            do_not_email: flags.0,
            is_opt_out: flags.1,
            do_not_sms: flags.2,
            tags: clean,
            user: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_e164() {
        assert!(Phone::parse("+15555550101").is_ok());
        for bad in [
            "15555550101",
            "+0123456789",
            "+1555",
            "+1 555 555 0101",
            "+1234567890123456",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fields_are_checked_and_tags_sorted() {
        let mut errors = FieldErrors::new();
        let f = PersonFields::check(
            &mut errors,
            Some(" Ann ".into()),
            None,
            Some("ann@example.org".into()),
            Some("+4930123456".into()),
            Some("de-DE".into()),
            Some(Address {
                city: Some("Berlin".into()),
                ..Default::default()
            }),
            (false, true, false),
            vec!["b".into(), "a".into(), "b".into(), " ".into()],
        );
        assert!(errors.is_empty());
        assert_eq!(
            (f.given_name.as_deref(), f.tags),
            (Some("Ann"), vec!["a".to_owned(), "b".to_owned()])
        );
        let mut errors = FieldErrors::new();
        PersonFields::check(
            &mut errors,
            None,
            None,
            Some("nope".into()),
            Some("123".into()),
            Some("x".into()),
            None,
            (false, false, false),
            vec![],
        );
        assert_eq!(errors.clone().into_vec().len(), 3);
    }
}
