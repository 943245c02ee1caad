//! The Event Center side's client of a Dashboard: the CampaignEvents request shape (JSON body
//! with `course_slug`, `secret`, `dry_run`, `event_id` when known, and the list), through the
//! guarded outbound HTTP client, and the real success rule (a 2xx JSON object).

use convene_core::Timestamp;
use convene_core::sync::Endpoint;
use convene_core::webhook::TargetUrl;
use convene_delivery::http::Sender;
use convene_delivery::outcome::{ErrorClass, Outcome};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Clone)]
pub struct DashboardClient {
    sender: Sender,
}

pub struct DashboardCall<'a> {
    pub endpoint: Endpoint,
    pub course_slug: &'a str,
    pub secret: &'a str,
    pub dry_run: bool,
    pub event_id: Option<&'a str>,
    /// `organizer_usernames` (confirm) or `participant_usernames` (update).
    pub names: Option<Vec<String>>,
}

/// How a Dashboard answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Success,
    /// A JSON error with an `error_code`.
    Refused {
        outcome: Outcome,
        code: String,
        message: String,
    },
    /// No usable answer: transport failure, or not the protocol's JSON.
    Broken {
        outcome: Outcome,
        error: String,
    },
}

impl Answer {
    /// `success` or the code / class of the failure, as the link and the log show it.
    pub fn label(&self) -> String {
        match self {
            Answer::Success => "success".into(),
            Answer::Refused { code, .. } => code.clone(),
            Answer::Broken { outcome, .. } => outcome
                .error_class()
                .map_or("bad_answer", ErrorClass::as_str)
                .to_owned(),
        }
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        match self {
            Answer::Success => None,
            Answer::Refused { outcome, .. } | Answer::Broken { outcome, .. } => Some(outcome),
        }
    }

    /// Worth trying again later: the peer was away, slow, overloaded or throttling.
    pub fn is_transient(&self) -> bool {
        self.outcome()
            .and_then(Outcome::error_class)
            .is_some_and(|c| {
                matches!(
                    c,
                    ErrorClass::Throttled
                        | ErrorClass::ServerError
                        | ErrorClass::Timeout
                        | ErrorClass::Connection
                )
            })
    }

    pub fn message(&self) -> String {
        match self {
            Answer::Success => "success".into(),
            Answer::Refused { code, message, .. } => format!("{code}: {message}"),
            Answer::Broken { error, .. } => error.clone(),
        }
    }
}

impl DashboardClient {
    pub fn new(sender: Sender) -> Self {
        Self { sender }
    }

    pub async fn call(&self, base: &TargetUrl, call: &DashboardCall<'_>, now: Timestamp) -> Answer {
        let mut body = json!({
            "course_slug": call.course_slug, "secret": call.secret, "dry_run": call.dry_run,
        });
        if let Some(id) = call.event_id {
            body["event_id"] = Value::from(id);
        }
        if let Some(names) = &call.names {
            let key = match call.endpoint {
                Endpoint::Confirm => "organizer_usernames",
                _ => "participant_usernames",
            };
            body[key] = Value::from(names.clone());
        }
        let url = format!(
            "{}wikimedia_event_center/{}",
            base.as_str(),
            call.endpoint.as_str()
        );
        let headers = [
            ("content-type".to_owned(), "application/json".to_owned()),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        let sent = self
            .sender
            .post_within(&url, &headers, body.to_string().into_bytes(), now, None)
            .await;
        let json_reply = sent.content_type().is_some_and(|c| {
            c.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
        let parsed: Option<serde_json::Map<String, Value>> = sent
            .response_body
            .as_deref()
            .filter(|_| json_reply)
            .and_then(|b| serde_json::from_str(b).ok());
        let code = parsed
            .as_ref()
            .and_then(|o| o.get("error_code"))
            .and_then(Value::as_str);
        match (&sent.outcome, &parsed, code) {
            (Outcome::Answered { .. }, Some(_), None) if sent.outcome.is_success() => {
                Answer::Success
            }
            (Outcome::Answered { .. }, Some(reply), Some(code)) if !sent.outcome.is_success() => {
                Answer::Refused {
                    outcome: sent.outcome.clone(),
                    code: code.to_owned(),
                    message: reply
                        .get("error")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                }
            }
            (Outcome::Answered { status, .. }, _, _) => Answer::Broken {
                outcome: sent.outcome.clone(),
                error: format!("the Dashboard answered {status} without the protocol's JSON"),
            },
            _ => Answer::Broken {
                error: sent.outcome.failure_text().unwrap_or_default(),
                outcome: sent.outcome,
            },
        }
    }
}

/// The outbound client for Dashboard calls: the webhook target policy, the protocol's timeout.
pub fn dashboard_client(
    policy: convene_delivery::target::TargetPolicy,
    timeout: Duration,
) -> anyhow::Result<DashboardClient> {
    Ok(DashboardClient::new(Sender::new(
        policy,
        timeout,
        64 * 1024,
    )?))
}
