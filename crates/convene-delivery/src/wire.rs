//! The bytes a webhook carries: openedx-webhooks' shape `{<data key>: {...}, "event_metadata":
//! {...}}`, as JSON or flattened into a form. The signature covers exactly these bytes.
//!
//! One deliberate difference from upstream's form flattening (which applies Python's `str()` to
//! every leaf): booleans and null are written as JSON writes them (`true`, `false`, `null`, not
//! `True`/`None`), and lists as JSON text (`[1,{"c":2}]`, not a Python repr). Everything else
//! follows upstream: objects recurse with `_` between keys, an empty object vanishes, and when
//! two paths flatten to the same key the later one wins.

use convene_core::Timestamp;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;

/// `event_metadata`, in openedx-events' field set; times in RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata<'a> {
    pub event_type: &'a str,
    /// The message id: also the `webhook-id` header, stable across retries.
    pub id: &'a str,
    pub time: Timestamp,
    /// Who emitted it: `convene` for Convene's own events, the ingesting platform's for signals.
    pub source: &'a str,
    pub sourcehost: &'a str,
}

/// The version triple of the library that shaped the message (upstream's `sourcelib`).
const SOURCELIB: [u32; 3] = [0, 1, 0];

/// `data`'s members (one short key for Convene's own events) plus `event_metadata`.
pub fn payload(data: Map<String, Value>, meta: &Metadata<'_>) -> Value {
    let mut body = data;
    // Serialising plain strings and numbers cannot fail.
    let metadata = serde_json::to_value(MetadataMembers::of(meta)).unwrap_or_default();
    body.insert(METADATA_KEY.into(), metadata);
    Value::Object(body)
}

/// `event_metadata`'s members, in key order (the order a JSON object's members are written
/// in): [`payload`] holds them as a value, [`json_body`] writes them straight out.
#[derive(serde::Serialize)]
struct MetadataMembers<'a> {
    event_type: &'a str,
    id: &'a str,
    minorversion: u8,
    source: &'a str,
    sourcehost: &'a str,
    sourcelib: [u32; 3],
    time: String,
}

impl<'a> MetadataMembers<'a> {
    fn of(meta: &Metadata<'a>) -> Self {
        Self {
            event_type: meta.event_type,
            id: meta.id,
            minorversion: 0,
            source: meta.source,
            sourcehost: meta.sourcehost,
            sourcelib: SOURCELIB,
            time: meta.time.format(&Rfc3339).unwrap_or_default(),
        }
    }
}

const METADATA_KEY: &str = "event_metadata";

/// The JSON bytes of `payload(data, meta)`, written straight from `data` (a delivery's data is
/// not copied into a new object for each attempt).
pub fn json_body(data: &Map<String, Value>, meta: &Metadata<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.push(b'{');
    let mut metadata = Some(MetadataMembers::of(meta));
    // `data` is in key order; `event_metadata` goes in its place and replaces a member so named.
    for (key, value) in data.iter().filter(|(k, _)| *k != METADATA_KEY) {
        if key.as_str() > METADATA_KEY
            && let Some(m) = metadata.take()
        {
            member(&mut out, METADATA_KEY, &m);
        }
        member(&mut out, key, value);
    }
    if let Some(m) = metadata.take() {
        member(&mut out, METADATA_KEY, &m);
    }
    out.push(b'}');
    out
}

/// Writes `"key":value`, after a comma unless it is the object's first member.
fn member(out: &mut Vec<u8>, key: &str, value: &impl serde::Serialize) {
    if out.len() > 1 {
        out.push(b',');
    }
    // Writing into memory fails only for a map with non-string keys, which JSON values lack.
    let _ = serde_json::to_writer(&mut *out, key);
    out.push(b':');
    let _ = serde_json::to_writer(&mut *out, value);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Json,
    Form,
}

impl Encoding {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "json" => Some(Encoding::Json),
            "form" => Some(Encoding::Form),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Form => "form",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Form => "application/x-www-form-urlencoded",
        }
    }

    /// The exact bytes to send (and sign) for `payload(data, meta)`.
    pub fn body(self, data: &Map<String, Value>, meta: &Metadata<'_>) -> Vec<u8> {
        match self {
            Encoding::Json => json_body(data, meta),
            Encoding::Form => self.encode(&payload(data.clone(), meta)),
        }
    }

    /// The exact bytes to send (and sign).
    pub fn encode(self, payload: &Value) -> Vec<u8> {
        match self {
            Encoding::Json => serde_json::to_vec(payload).unwrap_or_default(),
            Encoding::Form => url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(flatten(payload))
                .finish()
                .into_bytes(),
        }
    }
}

/// Flattens an object into `(key, text)` pairs, in key order.
pub fn flatten(value: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Value::Object(members) = value {
        walk(members, "", &mut pairs);
    }
    pairs
}

fn walk(members: &Map<String, Value>, prefix: &str, pairs: &mut Vec<(String, String)>) {
    for (key, value) in members {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}_{key}")
        };
        let text = match value {
            Value::Object(inner) => {
                walk(inner, &path, pairs);
                continue;
            }
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match pairs.iter_mut().find(|(k, _)| *k == path) {
            Some(existing) => existing.1 = text,
            None => pairs.push((path, text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn meta() -> Metadata<'static> {
        Metadata {
            event_type: "participant.registered",
            id: "msg_01",
            time: datetime!(2026-11-23 10:00:00.5 UTC),
            source: "convene",
            sourcehost: "convene.example",
        }
    }

    #[test]
    fn the_payload_is_data_plus_event_metadata() {
        let data = json!({"participant": {"username": "Bob", "visibility": "public"}});
        let body = payload(data.as_object().unwrap().clone(), &meta());
        assert_eq!(body["participant"]["username"], "Bob");
        assert_eq!(
            body["event_metadata"],
            json!({"event_type": "participant.registered", "id": "msg_01", "minorversion": 0,
                   "source": "convene", "sourcehost": "convene.example",
                   "time": "2026-11-23T10:00:00.5Z", "sourcelib": [0, 1, 0]})
        );
    }

    #[test]
    fn the_json_body_is_the_payload_written_out() {
        let datas = [
            json!({}),
            json!({"participant": {"username": "Bob"}, "event": {"id": "e1"}}),
            // Keys before and after `event_metadata`, and one it replaces.
            json!({"a": 1, "event_metadata": "mine", "eventz": [1, "x\"y"], "zz": null}),
            json!({"event_metadatb": true, "ünicode": "Zoë"}),
        ];
        for data in datas {
            let data = data.as_object().unwrap();
            let expected = Encoding::Json.encode(&payload(data.clone(), &meta()));
            assert_eq!(
                String::from_utf8(json_body(data, &meta())).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }

    #[test]
    fn flattening_follows_upstream_but_for_json_scalars() {
        let value = json!({
            "user": {"name": "andres", "active": true, "pii": {"email": null}},
            "a": {"b": {"c": 1}}, "ratio": 1.5, "list": [1, {"c": 2}], "empty": {},
        });
        let pairs = flatten(&value);
        let expected = [
            ("a_b_c", "1"),
            ("list", "[1,{\"c\":2}]"),
            ("ratio", "1.5"),
            ("user_active", "true"),
            ("user_name", "andres"),
            ("user_pii_email", "null"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn colliding_paths_keep_the_last_value() {
        let pairs = flatten(&json!({"a": {"b": 2}, "a_b": 1}));
        assert_eq!(
            pairs,
            [("a_b".to_owned(), "1".to_owned())],
            "keys sort as a, a_b: the top-level a_b comes last and wins"
        );
    }

    #[test]
    fn form_bytes_are_percent_encoded() {
        let bytes = Encoding::Form
            .encode(&json!({"a": {"s": "x y&z"}, "event_metadata": {"event_type": "t.x"}}));
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "a_s=x+y%26z&event_metadata_event_type=t.x"
        );
        assert_eq!(Encoding::Json.encode(&json!({"a": 1})), br#"{"a":1}"#);
        assert_eq!(Encoding::parse("form"), Some(Encoding::Form));
        assert_eq!(Encoding::parse("xml"), None);
    }

    proptest::proptest! {
        #[test]
        fn flatten_never_panics_and_yields_unique_keys(s in ".*", n in proptest::num::i64::ANY) {
            let value = json!({"k": {"s": s, "n": n, "deep": {"x": [s.clone()]}}, "k_s": n});
            let pairs = flatten(&value);
            let mut keys: Vec<_> = pairs.iter().map(|(k, _)| k.clone()).collect();
            keys.sort();
            keys.dedup();
            proptest::prop_assert_eq!(keys.len(), pairs.len());
        }
    }
}
