//! Signal ingest (events from other platforms, fanned out like Convene's own) and the catalogue
//! of event types.

use super::{parse_time, require_admin};
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use convene_core::FieldErrors;
use convene_core::webhook::{SIGNAL_LABEL_MAX as MAX_ID, is_event_type_name, is_signal_label};
use convene_store::Signal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest))
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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    id: String,
}

/// Accept a signal from another platform; it is delivered to the webhooks of its type.
#[utoipa::path(post, path = "/signals", tag = "signals", request_body = SignalBody,
    responses((status = 202, body = Accepted), (status = 403), (status = 422)))]
async fn ingest(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<SignalBody>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    require_admin(&caller)?;
    let now = state.clock.now();
    let mut errors = FieldErrors::new();
    let event_type = errors.require("type", body.event_type).filter(|t| {
        let ok = is_event_type_name(t);
        if !ok {
            errors.add(
                "type",
                "must be a dotted lower-case name such as custom.thing_happened",
            );
        }
        ok
    });
    let data: Option<Map<String, Value>> = match errors.require("data", body.data) {
        Some(Value::Object(members)) if !members.contains_key("event_metadata") => Some(members),
        Some(_) => {
            errors.add("data", "must be an object without an event_metadata member");
            None
        }
        None => None,
    };
    let occurred_at = match body.occurred_at {
        Some(raw) => errors.check("occurred_at", parse_time(&raw)),
        None => Some(now),
    };
    let id = body
        .id
        .unwrap_or_else(|| format!("sig_{}", uuid::Uuid::now_v7().simple()));
    if !is_signal_label(&id) {
        errors.add("id", format!("must be 1-{MAX_ID} visible ASCII characters"));
    }
    let source = body.source.unwrap_or_else(|| "external".to_owned());
    if !is_signal_label(&source) {
        errors.add(
            "source",
            format!("must be 1-{MAX_ID} visible ASCII characters"),
        );
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let signal = Signal {
        id: id.clone(),
        event_type: event_type.expect("checked"),
        data: Value::Object(data.expect("checked")),
        source,
        occurred_at: occurred_at.expect("checked"),
    };
    if !state.store.ingest_signal(signal).await? {
        tracing::debug!(id, "signal already accepted; nothing to do");
    }
    Ok((StatusCode::ACCEPTED, Json(Accepted { id })))
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
