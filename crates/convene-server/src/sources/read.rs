//! What each kind of source sends, read into a signal: openedx-webhooks' JSON or flattened form
//! POST (typed by `event_metadata.event_type`), Standard Webhooks (signature checked, typed by
//! `type`, its `webhook-id` the id), or generic JSON (typed by `type`, the id from a configured
//! member). Anything else is refused with a status and a reason.

use axum::http::{HeaderMap, StatusCode};
use convene_core::Timestamp;
use convene_core::webhook::{SIGNAL_LABEL_MAX, is_event_type_name, is_signal_label};
use convene_delivery::signing::WebhookSecret;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;

/// Standard Webhooks' replay window.
const TOLERANCE_S: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OpenedxWebhooks,
    StandardWebhooks,
    Generic,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "openedx-webhooks" => Kind::OpenedxWebhooks,
            "standard-webhooks" => Kind::StandardWebhooks,
            "generic" => Kind::Generic,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OpenedxWebhooks => "openedx-webhooks",
            Kind::StandardWebhooks => "standard-webhooks",
            Kind::Generic => "generic",
        }
    }
}

/// A body read: the signal's parts, before the source scopes its id.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub event_type: String,
    /// The sender's id, when it gave one.
    pub id: Option<String>,
    pub data: Map<String, Value>,
    pub occurred_at: Option<Timestamp>,
    pub source: Option<String>,
}

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: StatusCode,
    pub reason: String,
}

fn refuse(status: StatusCode, reason: impl Into<String>) -> Refused {
    Refused {
        status,
        reason: reason.into(),
    }
}

/// What a source is told to expect.
pub struct Expect<'a> {
    pub kind: Kind,
    pub secret: Option<&'a WebhookSecret>,
    pub id_member: Option<&'a str>,
    pub now: Timestamp,
}

/// A body accepted before, read again for a replay: its signature held when it arrived, and
/// the headers are not kept, so it is not checked again.
pub fn reread(
    expect: &Expect<'_>,
    content_type: Option<&str>,
    body: &[u8],
    id: &str,
) -> Result<Read, Refused> {
    if expect.kind == Kind::StandardWebhooks {
        return standard_body(body, id);
    }
    let mut headers = HeaderMap::new();
    if let Some(v) = content_type.and_then(|c| c.parse().ok()) {
        headers.insert("content-type", v);
    }
    read(expect, &headers, body)
}

pub fn read(expect: &Expect<'_>, headers: &HeaderMap, body: &[u8]) -> Result<Read, Refused> {
    let mut read = read_kind(expect, headers, body)?;
    if read.id.as_deref().is_some_and(|id| !is_signal_label(id)) {
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the id must be 1-{SIGNAL_LABEL_MAX} visible ASCII characters"),
        ));
    }
    read.source = read.source.filter(|s| is_signal_label(s));
    Ok(read)
}

fn read_kind(expect: &Expect<'_>, headers: &HeaderMap, body: &[u8]) -> Result<Read, Refused> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    if !form && !content_type.starts_with("application/json") && !content_type.is_empty() {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{content_type} is not JSON or a form"),
        ));
    }
    match expect.kind {
        Kind::OpenedxWebhooks if form => openedx_form(body),
        Kind::OpenedxWebhooks => openedx_json(object(body)?),
        Kind::StandardWebhooks => standard(expect, headers, body),
        Kind::Generic => generic(expect, object(body)?),
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>, Refused> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(members)) => Ok(members),
        Ok(_) => Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the body must be a JSON object",
        )),
        Err(e) => Err(refuse(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )),
    }
}

fn event_type(raw: Option<&str>, member: &str) -> Result<String, Refused> {
    match raw {
        Some(t) if is_event_type_name(t) => Ok(t.to_owned()),
        Some(t) => Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{member} {t:?} is not a dotted lower-case event type"),
        )),
        None => Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{member} is missing"),
        )),
    }
}

/// openedx-events writes times as `2026-01-31 20:24:32.598387+00:00` (a space, not `T`).
fn openedx_time(raw: Option<&str>) -> Option<Timestamp> {
    let t = raw?.trim();
    Timestamp::parse(t, &Rfc3339)
        .or_else(|_| Timestamp::parse(&t.replacen(' ', "T", 1), &Rfc3339))
        .ok()
}

fn openedx_json(mut body: Map<String, Value>) -> Result<Read, Refused> {
    let Some(Value::Object(meta)) = body.remove("event_metadata") else {
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "event_metadata is missing",
        ));
    };
    Ok(Read {
        event_type: event_type(
            meta.get("event_type").and_then(Value::as_str),
            "event_metadata.event_type",
        )?,
        id: meta.get("id").and_then(Value::as_str).map(str::to_owned),
        occurred_at: openedx_time(meta.get("time").and_then(Value::as_str)),
        source: meta
            .get("source")
            .and_then(Value::as_str)
            .map(str::to_owned),
        data: body,
    })
}

/// The plugin's form mode flattens with `_`, so `event_metadata_event_type` and friends carry
/// the metadata; the rest is the data, kept flat as the plugin sent it.
fn openedx_form(body: &[u8]) -> Result<Read, Refused> {
    let mut data = Map::new();
    let mut meta = Map::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        match k.strip_prefix("event_metadata_") {
            Some(m) => meta.insert(m.to_owned(), Value::String(v.into_owned())),
            None => data.insert(k.into_owned(), Value::String(v.into_owned())),
        };
    }
    if meta.is_empty() && data.is_empty() {
        return Err(refuse(StatusCode::BAD_REQUEST, "the form is empty"));
    }
    let mut body = data;
    body.insert("event_metadata".into(), Value::Object(meta));
    openedx_json(body)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn standard(expect: &Expect<'_>, headers: &HeaderMap, body: &[u8]) -> Result<Read, Refused> {
    let unauthorized = |why: &str| refuse(StatusCode::UNAUTHORIZED, why);
    let (Some(id), Some(ts), Some(signatures)) = (
        header(headers, "webhook-id"),
        header(headers, "webhook-timestamp"),
        header(headers, "webhook-signature"),
    ) else {
        return Err(unauthorized(
            "webhook-id, webhook-timestamp and webhook-signature are required",
        ));
    };
    let ts: i64 = ts
        .trim()
        .parse()
        .map_err(|_| unauthorized("webhook-timestamp is not a number"))?;
    if (expect.now.unix_timestamp() - ts).abs() > TOLERANCE_S {
        return Err(unauthorized(
            "webhook-timestamp is more than five minutes away",
        ));
    }
    let secret = expect
        .secret
        .ok_or_else(|| unauthorized("the source has no secret"))?;
    if !signatures
        .split(' ')
        .any(|s| secret.verifies(id, ts, body, s))
    {
        return Err(unauthorized("no signature matches the source's secret"));
    }
    standard_body(body, id)
}

/// A Standard Webhooks body, `{type, timestamp, data}`, once its signature held.
fn standard_body(body: &[u8], id: &str) -> Result<Read, Refused> {
    let mut members = object(body)?;
    let data = match members.remove("data") {
        Some(Value::Object(data)) => data,
        _ => {
            return Err(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "data must be an object",
            ));
        }
    };
    Ok(Read {
        event_type: event_type(members.get("type").and_then(Value::as_str), "type")?,
        id: Some(id.to_owned()),
        occurred_at: members
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(|t| Timestamp::parse(t, &Rfc3339).ok()),
        source: None,
        data,
    })
}

fn generic(expect: &Expect<'_>, mut body: Map<String, Value>) -> Result<Read, Refused> {
    let id = match expect.id_member {
        None => None,
        Some(path) => {
            let found = path
                .split('.')
                .try_fold(&Value::Object(body.clone()), |v, k| v.get(k))
                .cloned();
            match found {
                Some(Value::String(s)) if !s.is_empty() => Some(s),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => {
                    return Err(refuse(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("{path} (the id) is missing"),
                    ));
                }
            }
        }
    };
    let kind = match body.remove("type") {
        Some(Value::String(t)) => event_type(Some(&t), "type")?,
        _ => "inbound.received".to_owned(),
    };
    Ok(Read {
        event_type: kind,
        id,
        data: body,
        occurred_at: None,
        source: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn expect(kind: Kind) -> Expect<'static> {
        Expect {
            kind,
            secret: None,
            id_member: None,
            now: time::OffsetDateTime::now_utc(),
        }
    }

    #[test]
    fn openedx_json_and_form_read_alike() {
        let json_body = json!({"user": {"id": 7, "pii": {"username": "ann"}}, "event_metadata": {
            "event_type": "org.openedx.learning.student.registration.completed.v1", "id": "4c8a-1",
            "time": "2026-01-31 20:24:32.598387+00:00", "source": "openedx/lms/web"}});
        let r = read(
            &expect(Kind::OpenedxWebhooks),
            &headers(&[("content-type", "application/json")]),
            json_body.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(
            (
                r.event_type.as_str(),
                r.id.as_deref(),
                r.data["user"]["pii"]["username"].clone()
            ),
            (
                "org.openedx.learning.student.registration.completed.v1",
                Some("4c8a-1"),
                json!("ann")
            )
        );
        assert_eq!(r.occurred_at.unwrap().unix_timestamp(), 1_769_891_072);
        let form = "user_id=7&user_pii_username=ann&event_metadata_event_type=org.openedx.learning.student.registration.completed.v1&event_metadata_id=4c8a-1&event_metadata_time=2026-01-31+20%3A24%3A32.598387%2B00%3A00&event_metadata_sourcelib=%2810%2C+5%2C+0%29";
        let r = read(
            &expect(Kind::OpenedxWebhooks),
            &headers(&[("content-type", "application/x-www-form-urlencoded")]),
            form.as_bytes(),
        )
        .unwrap();
        assert_eq!(
            (r.id.as_deref(), r.data["user_pii_username"].clone()),
            (Some("4c8a-1"), json!("ann"))
        );
        let bad = read(
            &expect(Kind::OpenedxWebhooks),
            &headers(&[]),
            br#"{"user": 1}"#,
        )
        .unwrap_err();
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn standard_webhooks_need_a_fresh_matching_signature() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let now = time::OffsetDateTime::now_utc();
        let body =
            json!({"type": "invoice.paid", "timestamp": "2026-12-06T10:00:00Z", "data": {"n": 1}})
                .to_string();
        let ts = now.unix_timestamp();
        let sig = secret.sign("msg_1", ts, body.as_bytes());
        let e = Expect {
            kind: Kind::StandardWebhooks,
            secret: Some(&secret),
            id_member: None,
            now,
        };
        let ok = |sig: &str, ts: i64| {
            read(
                &e,
                &headers(&[
                    ("content-type", "application/json"),
                    ("webhook-id", "msg_1"),
                    ("webhook-timestamp", &ts.to_string()),
                    ("webhook-signature", sig),
                ]),
                body.as_bytes(),
            )
        };
        assert_eq!(
            ok(&format!("v1,bm9wZQ== {sig}"), ts).unwrap().id.as_deref(),
            Some("msg_1")
        );
        assert_eq!(
            ok("v1,bm9wZQ==", ts).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        let old = secret.sign("msg_1", ts - 600, body.as_bytes());
        assert_eq!(
            ok(&old, ts - 600).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn generic_bodies_take_their_id_from_the_named_member() {
        let e = Expect {
            kind: Kind::Generic,
            secret: None,
            id_member: Some("meta.uid"),
            now: time::OffsetDateTime::now_utc(),
        };
        let r = read(
            &e,
            &headers(&[]),
            json!({"type": "shop.order_placed", "meta": {"uid": 42}})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            (r.event_type.as_str(), r.id.as_deref()),
            ("shop.order_placed", Some("42"))
        );
        assert_eq!(
            read(&e, &headers(&[]), b"{}").unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            read(&e, &headers(&[("content-type", "text/plain")]), b"{}")
                .unwrap_err()
                .status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }
}
