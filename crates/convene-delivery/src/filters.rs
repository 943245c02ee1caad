//! Running webfilters before an action, with openedx-webhooks' semantics made explicit: every
//! filter gets the same input, in creation order; replies' `data` merge shallowly (last wins)
//! and only writable keys count; `exception` halts unless `disable_halt`; 4xx, 5xx and failed
//! calls halt only when the filter says so. Nothing is applied when the action halts.

use crate::http::Sender;
use crate::outcome::Outcome;
use crate::wire::Encoding;
use convene_core::Timestamp;
use convene_core::webfilter::{FilterType, OnFailure, Webfilter};
use convene_core::webhook::Attempt;
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;

/// An action stopped by a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Halt {
    pub message: String,
    pub redirect_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Go on, with these writable input keys replaced.
    Proceed(Map<String, Value>),
    Halt(Halt),
}

/// How much of a reply the call log keeps.
const LOGGED_BODY: usize = 4096;

/// Calls `filters` (all of `filter_type`, enabled, in order) and returns the verdict with one
/// logged attempt per call made.
pub async fn run(
    sender: &Sender,
    filter_type: FilterType,
    filters: &[Webfilter],
    input: &Map<String, Value>,
    now: Timestamp,
) -> (Verdict, Vec<(Webfilter, Attempt)>) {
    let mut body = input.clone();
    body.insert(
        "event_metadata".into(),
        json!({"event_type": filter_type.as_str(), "time": now.format(&Rfc3339).unwrap_or_default()}),
    );
    let body = Value::Object(body);
    let mut data = Map::new();
    let mut exceptions = Map::new();
    let mut calls = Vec::with_capacity(filters.len());
    for filter in filters {
        let encoding = Encoding::parse(&filter.encoding).unwrap_or_default();
        let headers = [(
            "content-type".to_owned(),
            encoding.content_type().to_owned(),
        )];
        let timeout = std::time::Duration::from_millis(u64::from(filter.timeout_ms));
        let sent = sender
            .post_within(
                filter.url.as_str(),
                &headers,
                encoding.encode(&body),
                now,
                Some(timeout),
            )
            .await;
        let class = sent.outcome.error_class();
        calls.push((
            filter.clone(),
            Attempt {
                attempted_at: now,
                duration_ms: sent.duration_ms,
                status_code: sent.outcome.status(),
                error_class: class.map(|c| c.as_str().to_owned()),
                error: sent.outcome.failure_text(),
                response_body: sent
                    .response_body
                    .as_deref()
                    .map(|b| b.chars().take(LOGGED_BODY).collect()),
                response_headers: sent.response_headers.clone(),
            },
        ));
        if let Some(halt) = halt_on_failure(filter, &sent.outcome) {
            return (Verdict::Halt(halt), calls);
        }
        let reply: Value = sent
            .response_body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        if !filter.disable_filtering
            && let Some(Value::Object(members)) = reply.get("data")
        {
            data.extend(members.clone());
        }
        if !filter.disable_halt
            && let Some(Value::Object(members)) = reply.get("exception")
        {
            exceptions.extend(members.clone());
        }
    }
    if let Some(raised) = exceptions.get(filter_type.exception_name()) {
        return (Verdict::Halt(halt_from(raised)), calls);
    }
    data.retain(|key, _| filter_type.writable().contains(&key.as_str()));
    (Verdict::Proceed(data), calls)
}

/// Steps 1–3 of upstream: a failed call halts only when the filter asks for it.
fn halt_on_failure(filter: &Webfilter, outcome: &Outcome) -> Option<Halt> {
    let (rule, what): (&OnFailure, String) = match outcome {
        Outcome::Answered { status, .. } if (400..500).contains(status) => {
            (&filter.on_4xx, format!("returned status code {status}"))
        }
        Outcome::Answered { status, .. } if *status >= 500 => {
            (&filter.on_5xx, format!("returned status code {status}"))
        }
        Outcome::Answered { .. } => return None,
        other => (
            &filter.on_request_exception,
            other.failure_text().unwrap_or_default(),
        ),
    };
    rule.halt.then(|| Halt {
        message: format!("Request to {} {what}", filter.url.as_str()),
        redirect_to: rule.redirect_to.as_ref().map(|u| u.as_str().to_owned()),
    })
}

/// The exception's value: a message, or `{message, redirect_to}`; anything else still halts.
fn halt_from(raised: &Value) -> Halt {
    match raised {
        Value::String(message) => Halt {
            message: message.clone(),
            redirect_to: None,
        },
        Value::Object(fields) => Halt {
            message: fields
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            redirect_to: fields
                .get("redirect_to")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        _ => Halt {
            message: "Reason not specified".into(),
            redirect_to: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_halt_with_their_message() {
        assert_eq!(halt_from(&json!("closed")).message, "closed");
        let h = halt_from(&json!({"message": "full", "redirect_to": "https://x.example/waitlist"}));
        assert_eq!(
            (h.message.as_str(), h.redirect_to.as_deref()),
            ("full", Some("https://x.example/waitlist"))
        );
        assert_eq!(halt_from(&json!(3)).message, "Reason not specified");
    }
}
