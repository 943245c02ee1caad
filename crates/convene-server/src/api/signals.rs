//! Signal ingest (events from other platforms, fanned out like Convene's own) and the catalogue
//! of event types.

use super::{parse_time, require_admin};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody};
use crate::state::{AppState, SignalsOnly};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use convene_core::webhook::{SIGNAL_LABEL_MAX as MAX_ID, is_event_type_name, is_signal_label};
use convene_core::{FieldErrors, Timestamp};
use convene_store::Signal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest))
        .routes(routes!(ingest_batch))
        .routes(routes!(event_types))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignalBody {
    /// A dotted lower-case name, e.g. `org.openedx.learning.course.enrollment.created.v1`.
    #[serde(rename = "type")]
    event_type: Option<String>,
    /// An object; its members become the webhook body next to `event_metadata`.
    #[schema(value_type = Object)]
    data: Option<Value>,
    /// RFC 3339; default now.
    occurred_at: Option<String>,
    /// The sender's id; repeating it is a no-op. Default: a new id.
    id: Option<String>,
    /// Who sent it (`event_metadata.source`); default `external`.
    source: Option<String>,
    /// What it is about (1-200 visible ASCII characters, e.g. `course/42/user/7`): webhooks
    /// ordered `per_subject` take one message of a subject at a time, in order. Default: none.
    subject: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    id: String,
}

impl SignalBody {
    /// The signal, or every problem with it; a missing id becomes a new one.
    fn parse(self, now: Timestamp) -> Result<Signal, FieldErrors> {
        let mut errors = FieldErrors::new();
        let event_type = errors.require("type", self.event_type).filter(|t| {
            let ok = is_event_type_name(t);
            if !ok {
                errors.add(
                    "type",
                    "must be a dotted lower-case name such as custom.thing_happened",
                );
            }
            ok
        });
        let data: Option<Map<String, Value>> = match errors.require("data", self.data) {
            Some(Value::Object(members)) if !members.contains_key("event_metadata") => {
                Some(members)
            }
            Some(_) => {
                errors.add("data", "must be an object without an event_metadata member");
                None
            }
            None => None,
        };
        let occurred_at = match self.occurred_at {
            Some(raw) => errors.check("occurred_at", parse_time(&raw)),
            None => Some(now),
        };
        let id = self
            .id
            .unwrap_or_else(|| format!("sig_{}", uuid::Uuid::now_v7().simple()));
        if !is_signal_label(&id) {
            errors.add("id", format!("must be 1-{MAX_ID} visible ASCII characters"));
        }
        let source = self.source.unwrap_or_else(|| "external".to_owned());
        if !is_signal_label(&source) {
            errors.add(
                "source",
                format!("must be 1-{MAX_ID} visible ASCII characters"),
            );
        } else if source == convene_store::CONVENE_SOURCE {
            // Convene's own messages are told to people; a signal may not pass for one.
            errors.add("source", "is reserved for Convene's own events");
        }
        if self.subject.as_deref().is_some_and(|s| !is_signal_label(s)) {
            errors.add(
                "subject",
                format!("must be 1-{MAX_ID} visible ASCII characters"),
            );
        }
        errors.finish(|| Signal {
            id,
            subject: self.subject,
            event_type: event_type.expect("checked"),
            data: Value::Object(data.expect("checked")),
            source,
            occurred_at: occurred_at.expect("checked"),
        })
    }
}

/// Accept a signal from another platform; it is delivered to the webhooks of its type.
#[utoipa::path(post, path = "/signals", tag = "signals", request_body = SignalBody,
    responses((status = 202, body = Accepted), (status = 403), (status = 422),
        (status = 503, description = "deliveries are further behind than `delivery.max_backlog_age_s` (`backlog_full`, with `Retry-After`), or the database is unavailable")))]
async fn ingest(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<SignalBody>,
) -> ApiResult<(StatusCode, Extension<SignalsOnly>, Json<Accepted>)> {
    require_admin(&caller)?;
    let signal = body.parse(state.clock.now())?;
    let id = signal.id.clone();
    if state.intake.ingest(vec![signal]).await? == [false] {
        tracing::debug!(id, "signal already accepted; nothing to do");
    }
    Ok((
        StatusCode::ACCEPTED,
        Extension(SignalsOnly),
        Json(Accepted { id }),
    ))
}

/// The most signals one batch may carry.
const MAX_BATCH: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignalBatch {
    /// 1 to 500 signal bodies, each as `POST /signals` takes it.
    #[schema(value_type = Vec<SignalBody>)]
    signals: Option<Vec<Value>>,
}

/// One signal's answer, in the order sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// The signal's id (`null` when a refused item gave none).
    id: Option<String>,
    /// 202 accepted (also when the id was already accepted), or 422.
    status: u16,
    /// Why it was refused: `{code, detail, fields}` as a 422 answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    error: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResults {
    results: Vec<BatchResult>,
}

/// An item's refusal, shaped as a 422's `error` member.
fn refusal(id: Option<String>, errors: FieldErrors) -> BatchResult {
    BatchResult {
        id,
        status: 422,
        error: Some(json!({
            "code": "validation_failed",
            "detail": "the signal is not valid",
            "fields": errors.into_vec(),
        })),
    }
}

/// Accept up to 500 signals at once: the valid ones in one transaction, each idempotent by its
/// id; the answer says per item what became of it.
#[utoipa::path(post, path = "/signals/batch", tag = "signals", request_body = SignalBatch,
    responses((status = 200, body = BatchResults), (status = 403), (status = 413), (status = 422),
        (status = 503, description = "deliveries are further behind than `delivery.max_backlog_age_s` (`backlog_full`, with `Retry-After`), or the database is unavailable")))]
async fn ingest_batch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<SignalBatch>,
) -> ApiResult<(Extension<SignalsOnly>, Json<BatchResults>)> {
    require_admin(&caller)?;
    state.intake.admit()?;
    let items = match body.signals {
        Some(items) if (1..=MAX_BATCH).contains(&items.len()) => items,
        _ => {
            return Err(ApiError::field(
                "signals",
                format!("must list 1-{MAX_BATCH} signals"),
            ));
        }
    };
    let now = state.clock.now();
    let mut results = Vec::with_capacity(items.len());
    let mut accepted = Vec::with_capacity(items.len());
    for item in items {
        let given_id = item.get("id").and_then(Value::as_str).map(str::to_owned);
        let parsed = serde_json::from_value::<SignalBody>(item)
            .map_err(|e| FieldErrors::single("signal", format!("is not a signal body: {e}")))
            .and_then(|b| b.parse(now));
        match parsed {
            Ok(signal) => {
                results.push(BatchResult {
                    id: Some(signal.id.clone()),
                    status: 202,
                    error: None,
                });
                accepted.push(signal);
            }
            Err(errors) => results.push(refusal(given_id, errors)),
        }
    }
    if !accepted.is_empty() {
        state.intake.ingest(accepted).await?;
    }
    Ok((Extension(SignalsOnly), Json(BatchResults { results })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeBody {
    name: String,
    description: String,
    /// JSON Schema of the webhook body.
    #[schema(value_type = Object)]
    schema: Value,
    /// A webhook body of this type.
    #[schema(value_type = Object)]
    example: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeList {
    data: Vec<EventTypeBody>,
}

/// The event types Convene emits, each with a JSON Schema and an example body.
#[utoipa::path(get, path = "/event-types", tag = "signals", responses((status = 200, body = EventTypeList)))]
async fn event_types(Caller(_caller): Caller) -> ApiResult<Json<EventTypeList>> {
    let data = crate::catalogue::examples()
        .into_iter()
        .map(|(name, description, example)| EventTypeBody {
            name: name.to_owned(),
            description: description.to_owned(),
            schema: crate::catalogue::schema_of(&example),
            example,
        })
        .collect();
    Ok(Json(EventTypeList { data }))
}
