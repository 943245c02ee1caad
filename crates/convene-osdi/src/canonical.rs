//! The canonical person: the mapped, normalised view both sides are compared in, and the form
//! snapshots are kept in.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Postal {
    pub address_line: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canonical {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Lower-case.
    pub email: Option<String>,
    /// `subscribed` or `unsubscribed`.
    pub email_status: Option<String>,
    /// E.164, e.g. `+15555550101`.
    pub phone: Option<String>,
    /// `None` when there is no phone.
    pub phone_status: Option<String>,
    /// Two letters.
    pub language: Option<String>,
    /// Merged as one unit; `None` unless it has a postal code.
    pub postal: Option<Postal>,
}

/// The fields of the merge, the postal address being one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    GivenName,
    FamilyName,
    Email,
    EmailStatus,
    Phone,
    PhoneStatus,
    Language,
    Postal,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::GivenName,
        Field::FamilyName,
        Field::Email,
        Field::EmailStatus,
        Field::Phone,
        Field::PhoneStatus,
        Field::Language,
        Field::Postal,
    ];
}

/// One field's value, comparable whatever its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(Option<String>),
    Postal(Option<Postal>),
}

impl Value {
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Text(t) => t.as_deref().is_none_or(str::is_empty),
            Value::Postal(p) => p.is_none(),
        }
    }
}

impl Canonical {
    pub fn get(&self, field: Field) -> Value {
        let text = |v: &Option<String>| Value::Text(v.clone());
        match field {
            Field::GivenName => text(&self.given_name),
            Field::FamilyName => text(&self.family_name),
            Field::Email => text(&self.email),
            Field::EmailStatus => text(&self.email_status),
            Field::Phone => text(&self.phone),
            Field::PhoneStatus => text(&self.phone_status),
            Field::Language => text(&self.language),
            Field::Postal => Value::Postal(self.postal.clone()),
        }
    }

    pub fn set(&mut self, field: Field, value: Value) {
        match (field, value) {
            (Field::Postal, Value::Postal(p)) => self.postal = p,
            (Field::GivenName, Value::Text(t)) => self.given_name = t,
            (Field::FamilyName, Value::Text(t)) => self.family_name = t,
            (Field::Email, Value::Text(t)) => self.email = t,
            (Field::EmailStatus, Value::Text(t)) => self.email_status = t,
            (Field::Phone, Value::Text(t)) => self.phone = t,
            (Field::PhoneStatus, Value::Text(t)) => self.phone_status = t,
            (Field::Language, Value::Text(t)) => self.language = t,
            // A field and a value of another kind never meet: `get` pairs them.
            _ => {}
        }
    }

    /// The snapshot's hash: a cheap "did anything change?" test.
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(json)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_follow_content_and_fields_round_trip() {
        let mut a = Canonical {
            given_name: Some("Ann".into()),
            ..Default::default()
        };
        let b = a.clone();
        assert_eq!(a.hash(), b.hash());
        for f in Field::ALL {
            let v = a.get(f);
            a.set(f, v);
        }
        assert_eq!(a, b);
        a.set(
            Field::Postal,
            Value::Postal(Some(Postal {
                postal_code: Some("1".into()),
                ..Default::default()
            })),
        );
        assert_ne!(a.hash(), b.hash());
        assert!(Value::Text(Some(String::new())).is_empty() && Value::Postal(None).is_empty());
    }
}
