//! The body of a Dashboard-side call, parsed as the real Dashboard reads it: JSON or form fields
//! (Rails style, `name[]` for lists), anything else as no fields at all. Each field is read when
//! the order of checks reaches it, so a missing list never hides a bad secret or course.

use super::reply::Reject;
use convene_core::sync::CenterEventId;
use serde_json::{Map, Value};

pub struct Fields(Map<String, Value>);

impl Fields {
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, Reject> {
        let media = content_type
            .and_then(|c| c.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if media == "application/json" || media.ends_with("+json") {
            return match serde_json::from_slice(body) {
                Ok(Value::Object(fields)) => Ok(Self(fields)),
                Ok(_) => Err(Reject::bad_request("the body must be a JSON object")),
                Err(_) => Err(Reject::bad_request("the body is not valid JSON")),
            };
        }
        if media == "application/x-www-form-urlencoded" {
            return Ok(Self::from_form(body));
        }
        // Not parsed, as the Dashboard does: the secret is then missing.
        Ok(Self(Map::new()))
    }

    fn from_form(body: &[u8]) -> Self {
        let mut fields = Map::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            match key.strip_suffix("[]") {
                Some(list) => {
                    let entry = fields
                        .entry(list.to_owned())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(items) = entry {
                        items.push(Value::String(value.into_owned()));
                    }
                }
                None => {
                    fields.insert(key.into_owned(), Value::String(value.into_owned()));
                }
            }
        }
        Self(fields)
    }

    /// Only a string is a secret.
    pub fn secret(&self) -> Option<&str> {
        self.0.get("secret").and_then(Value::as_str)
    }

    pub fn course_slug(&self) -> Option<&str> {
        self.0.get("course_slug").and_then(Value::as_str)
    }

    /// A JSON boolean, or the documented string forms `true`/`false`/`1`/`0` (form bodies).
    pub fn dry_run(&self) -> Result<bool, Reject> {
        match self.0.get("dry_run") {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if matches!(s.as_str(), "true" | "1") => Ok(true),
            Some(Value::String(s)) if matches!(s.as_str(), "false" | "0" | "") => Ok(false),
            Some(_) => Err(Reject::bad_request(
                "dry_run must be a boolean (or \"true\"/\"false\" in a form)",
            )),
        }
    }

    /// Absent, null or blank → `None`; an integer or a string → the canonical id.
    pub fn event_id(&self) -> Result<Option<CenterEventId>, Reject> {
        match self.0.get("event_id") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(v) => CenterEventId::from_json(v)
                .map(Some)
                .ok_or_else(|| Reject::bad_request("event_id must be an integer or a string")),
        }
    }

    /// A list of strings; `None` when absent.
    pub fn names(&self, key: &str) -> Result<Option<Vec<&str>>, Reject> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str())
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| Reject::bad_request(format!("{key} must be a list of strings"))),
            Some(_) => Err(Reject::bad_request(format!(
                "{key} must be a list of strings"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(body: &str) -> Fields {
        Fields::parse(Some("application/json; charset=utf-8"), body.as_bytes()).unwrap()
    }

    #[test]
    fn json_bodies_must_be_objects() {
        for body in ["[1]", "\"x\"", "{", ""] {
            let err = Fields::parse(Some("application/json"), body.as_bytes())
                .err()
                .unwrap();
            assert_eq!(err.code, "bad_request", "{body}");
        }
    }

    #[test]
    fn other_content_types_carry_no_fields() {
        let fields = Fields::parse(Some("text/plain"), b"{\"secret\":\"s\"}").unwrap();
        assert_eq!(fields.secret(), None);
        assert_eq!(Fields::parse(None, b"secret=s").unwrap().secret(), None);
    }

    #[test]
    fn forms_have_string_values_and_bracket_lists() {
        let fields = Fields::parse(
            Some("application/x-www-form-urlencoded"),
            b"secret=s&dry_run=false&event_id=42&participant_usernames[]=A&participant_usernames[]=B+c",
        )
        .unwrap();
        assert_eq!(fields.secret(), Some("s"));
        assert!(!fields.dry_run().unwrap());
        assert_eq!(fields.event_id().unwrap().unwrap().as_str(), "42");
        assert_eq!(
            fields.names("participant_usernames").unwrap().unwrap(),
            ["A", "B c"]
        );
    }

    #[test]
    fn types_are_checked() {
        assert!(json(r#"{"dry_run": "yes"}"#).dry_run().is_err());
        assert!(json(r#"{"dry_run": 1}"#).dry_run().is_err());
        assert!(json(r#"{"dry_run": true}"#).dry_run().unwrap());
        assert!(json(r#"{"event_id": 4.5}"#).event_id().is_err());
        assert_eq!(json(r#"{"event_id": ""}"#).event_id().unwrap(), None);
        assert_eq!(
            json(r#"{"event_id": 7}"#)
                .event_id()
                .unwrap()
                .unwrap()
                .as_str(),
            "7"
        );
        assert!(
            json(r#"{"organizer_usernames": "Alice"}"#)
                .names("organizer_usernames")
                .is_err()
        );
        assert!(
            json(r#"{"organizer_usernames": [1]}"#)
                .names("organizer_usernames")
                .is_err()
        );
        assert_eq!(json("{}").names("organizer_usernames").unwrap(), None);
        assert_eq!(json(r#"{"secret": 5}"#).secret(), None);
    }
}
