//! Webhook endpoints, the deliveries of messages to them, and every attempt made.

use crate::{DeliveryId, Timestamp, WebhookId};
use std::collections::BTreeMap;

/// Where a webhook posts: an absolute `http`/`https` URL with a host and no credentials in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl(String);

impl TargetUrl {
    pub const MAX: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.len() > Self::MAX {
            return Err("must be at most 2048 characters");
        }
        let url = url::Url::parse(raw.trim()).map_err(|_| "must be an absolute URL")?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must be an http or https URL");
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("must name a host");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials; use headers");
        }
        if url.fragment().is_some() {
            return Err("must not have a #fragment");
        }
        Ok(Self(url.to_string()))
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which event types a webhook receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTypes {
    All,
    Only(Vec<String>),
}

impl EventTypes {
    pub fn matches(&self, event_type: &str) -> bool {
        match self {
            EventTypes::All => true,
            EventTypes::Only(types) => types.iter().any(|t| t == event_type),
        }
    }

    /// `["*"]` for all, else the names.
    pub fn to_list(&self) -> Vec<String> {
        match self {
            EventTypes::All => vec!["*".to_owned()],
            EventTypes::Only(types) => types.clone(),
        }
    }

    pub fn from_list(list: Vec<String>) -> Self {
        if list.iter().any(|t| t == "*") {
            EventTypes::All
        } else {
            EventTypes::Only(list)
        }
    }
}

/// The longest id or source name a signal may carry.
pub const SIGNAL_LABEL_MAX: usize = 200;

/// An id or source name a signal carries into every delivery's metadata: 1 to
/// [`SIGNAL_LABEL_MAX`] visible ASCII characters.
pub fn is_signal_label(raw: &str) -> bool {
    (1..=SIGNAL_LABEL_MAX).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether a name is a dotted lower-case event type (`participant.registered`,
/// `org.openedx.learning.course.enrollment.created.v1`).
pub fn is_event_type_name(name: &str) -> bool {
    (3..=200).contains(&name.len())
        && name.contains('.')
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: TargetUrl,
    pub event_types: EventTypes,
    pub enabled: bool,
    /// `json` or `form`.
    pub encoding: String,
    pub description: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub rate_limit_per_s: Option<u32>,
    /// `whsec_…`.
    pub secret: String,
    /// The secret before the last rotation, still signed with until `previous_secret_until`.
    pub previous_secret: Option<(String, Timestamp)>,
    /// Why the engine disabled it (410, failing too long), if it did.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; cleared by a success.
    pub failing_since: Option<Timestamp>,
    /// Who made it (`None`: the bootstrap token); a scoped webhook hears what its owner may read.
    pub owner: Option<crate::UserId>,
    pub scope: crate::webhook_scope::WebhookScope,
    pub order: SubjectOrder,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// How an endpoint takes messages about one subject (see [`EventType::subject`]).
///
/// [`EventType::subject`]: crate::outbound::EventType::subject
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubjectOrder {
    /// As they fall due, many at once (the default).
    #[default]
    Any,
    /// One at a time per subject, in commit order; a subject waiting on a retry holds up only
    /// itself.
    PerSubject,
    /// As `PerSubject`, and a newer message supersedes the older ones still queued: the latest
    /// state wins.
    Coalesce,
}

impl SubjectOrder {
    /// From the API's `ordering` (`none`, `per_subject`) and `coalesce`; `None` when coalescing
    /// is asked of an endpoint that is not ordered per subject.
    pub fn parse(per_subject: bool, coalesce: bool) -> Option<Self> {
        match (per_subject, coalesce) {
            (false, false) => Some(Self::Any),
            (true, false) => Some(Self::PerSubject),
            (true, true) => Some(Self::Coalesce),
            (false, true) => None,
        }
    }

    pub fn per_subject(self) -> bool {
        self != Self::Any
    }

    pub fn coalesces(self) -> bool {
        self == Self::Coalesce
    }

    /// The stored column: NULL, `per_subject` or `coalesce`.
    pub fn to_stored(self) -> Option<&'static str> {
        match self {
            Self::Any => None,
            Self::PerSubject => Some("per_subject"),
            Self::Coalesce => Some("coalesce"),
        }
    }

    pub fn from_stored(raw: Option<&str>) -> Self {
        match raw {
            Some("per_subject") => Self::PerSubject,
            Some("coalesce") => Self::Coalesce,
            _ => Self::Any,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
    /// A newer message about the same subject replaced it before it was sent (`coalesce`).
    Superseded,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            "superseded" => Some(DeliveryStatus::Superseded),
            _ => None,
        }
    }
}

/// One message on its way to one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    /// The outbox message id: the `webhook-id` header, the same on every retry.
    pub message_id: String,
    pub event_type: String,
    /// The message's data object (the wire body without `event_metadata`).
    pub data: serde_json::Value,
    pub source: String,
    pub occurred_at: Timestamp,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The W3C `traceparent` of the request that caused the message, if it was traced.
    pub traceparent: Option<String>,
    /// What the message is about, when its endpoint takes one message per subject at a time;
    /// a pending delivery with no `next_attempt_at` waits for an older one of its subject.
    pub subject: Option<String>,
}

/// One try, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempted_at: Timestamp,
    pub duration_ms: u32,
    pub status_code: Option<u16>,
    /// `None` on success.
    pub error_class: Option<String>,
    pub error: Option<String>,
    /// The start of the response body, truncated to the configured size.
    pub response_body: Option<String>,
    /// The answer's headers, in order, as many as [`ResponseHeaders::MAX`] (empty when nothing
    /// answered).
    pub response_headers: ResponseHeaders,
}

/// An answer's headers as logged: at most [`Self::MAX`] of them, each value at most
/// [`Self::MAX_VALUE`] bytes, so a peer cannot make the log grow without bound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHeaders(Vec<(String, String)>);

impl ResponseHeaders {
    pub const MAX: usize = 32;
    pub const MAX_VALUE: usize = 256;

    /// Keeps the first [`Self::MAX`] headers, values cut at a character boundary.
    pub fn keep<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            headers
                .into_iter()
                .take(Self::MAX)
                .map(|(name, value)| {
                    let mut end = value.len().min(Self::MAX_VALUE);
                    while !value.is_char_boundary(end) {
                        end -= 1;
                    }
                    (name.to_ascii_lowercase(), value[..end].to_owned())
                })
                .collect(),
        )
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// As stored: a JSON array of `[name, value]` pairs, `None` when there are none.
    pub fn to_json(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| serde_json::to_string(&self.0).unwrap_or_default())
    }

    /// From what [`Self::to_json`] stored; anything else reads as none.
    pub fn from_json(stored: Option<&str>) -> Self {
        Self(
            stored
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_headers_are_bounded_and_round_trip() {
        let long = "é".repeat(200);
        let many: Vec<(String, String)> =
            (0..40).map(|i| (format!("X-{i}"), long.clone())).collect();
        let kept = ResponseHeaders::keep(many.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        assert_eq!(kept.pairs().len(), ResponseHeaders::MAX);
        assert_eq!(kept.pairs()[0].0, "x-0");
        assert_eq!(kept.pairs()[0].1.len(), ResponseHeaders::MAX_VALUE);
        assert_eq!(ResponseHeaders::from_json(kept.to_json().as_deref()), kept);
        assert_eq!(ResponseHeaders::default().to_json(), None);
        assert_eq!(
            ResponseHeaders::from_json(Some("not json")),
            ResponseHeaders::default()
        );
    }

    #[test]
    fn target_urls() {
        assert!(TargetUrl::parse("https://hooks.example.org/convene?x=1").is_ok());
        assert!(
            TargetUrl::parse("http://127.0.0.1:9000/").is_ok(),
            "addresses are judged at delivery"
        );
        for bad in [
            "ftp://x/",
            "hooks.example.org",
            "https://user:pw@x/",
            "https://x/#f",
            "",
            "http://",
        ] {
            assert!(TargetUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_type_names() {
        for ok in [
            "participant.registered",
            "org.openedx.learning.course.enrollment.created.v1",
            "custom.thing",
        ] {
            assert!(is_event_type_name(ok), "{ok}");
        }
        for bad in ["nodots", ".a.b", "a..b", "A.b", "a.b.", "a b.c", "*"] {
            assert!(!is_event_type_name(bad), "{bad}");
        }
        assert!(EventTypes::from_list(vec!["*".into()]).matches("anything.at_all"));
        assert!(!EventTypes::from_list(vec!["a.b".into()]).matches("a.c"));
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(raw in ".*") {
            let _ = TargetUrl::parse(&raw);
            let _ = is_event_type_name(&raw);
            let _ = DeliveryStatus::parse(&raw);
        }
    }
}
