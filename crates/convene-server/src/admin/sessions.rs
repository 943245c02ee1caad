//! An event's sessions from its page: create, reschedule, delete; slide decks added, moved up or
//! down, removed. Each goes through the API's handler; times are typed in the event's zone.

use super::events::event_page_with;
use super::forms::Posted;
use super::forms::{Fields, FormState, field, principal, refused};
use super::session::Viewer;
use crate::api::{sessions, slides};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, JsonList};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use convene_core::EventId;
use serde_json::{Map, Value, json};

/// The event's zone, for reading typed times (`None`: UTC).
async fn zone_of(state: &AppState, event: &str) -> Option<String> {
    let id = EventId::parse(event)?;
    let event = state.store.event_by_id(&id).await.ok()??;
    event.timezone.map(|z| z.as_str().to_owned())
}

/// `title`, `starts_at` (in the event's zone) and `duration_minutes` of a session form, as the
/// API reads them; a time or number that is none is said on `form`.
async fn session_fields(
    state: &AppState,
    event: &str,
    form: &Fields,
) -> Result<Map<String, Value>, FormState> {
    let mut body = Map::new();
    for key in ["title", "group", "extrainfo"] {
        if let Some(v) = field(form, key) {
            body.insert(key.into(), v.into());
        }
    }
    if let Some(local) = field(form, "starts_at") {
        let zone = zone_of(state, event).await;
        let at = super::forms::instant(&local, zone.as_deref())
            .map_err(|m| FormState::with_error(form, "starts_at", m))?;
        body.insert("starts_at".into(), at.into());
    }
    if let Some(raw) = field(form, "duration_minutes") {
        let minutes: u32 = raw.parse().map_err(|_| {
            FormState::with_error(form, "duration_minutes", "must be a whole number".into())
        })?;
        body.insert("duration_minutes".into(), minutes.into());
    }
    Ok(body)
}

/// Back to the event's page, or it again with what went wrong on the form that was sent.
async fn after<T>(
    state: &AppState,
    viewer: &Viewer,
    event: &str,
    done: Result<T, ApiError>,
    form: &Fields,
) -> Response {
    match done {
        Ok(_) => Redirect::to(&format!("/admin/events/{event}#sessions")).into_response(),
        Err(e) => event_page_with(state, viewer, event, FormState::refused(form, &e)).await,
    }
}

/// Creates a session of the event through the API's handler.
pub async fn create(
    State(state): State<AppState>,
    Path(event): Path<String>,
    Posted(viewer, form): Posted,
) -> Response {
    let body = match session_fields(&state, &event, &form).await {
        Ok(body) => body,
        Err(sent_back) => return event_page_with(&state, &viewer, &event, sent_back).await,
    };
    let done = match serde_json::from_value(Value::Object(body)) {
        Ok(dto) => {
            let caller = Caller(principal(&viewer));
            let path = Path(event.clone());
            sessions::create_session(State(state.clone()), caller, path, JsonBody(dto)).await
        }
        Err(e) => Err(ApiError::Internal(anyhow::anyhow!("a session body: {e}"))),
    };
    after(&state, &viewer, &event, done, &form).await
}

/// `reschedule`, `delete`, `slides` (add a deck), `move` (a deck up or down), `remove-slide`.
pub async fn act(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    Posted(viewer, form): Posted,
) -> Response {
    let caller = principal(&viewer);
    let session = match sessions::managed_session(&state, &caller, &id).await {
        Ok(s) => s,
        Err(e) => return refused(&viewer, "events", e),
    };
    let event = session.event.to_string();
    let st = || State(state.clone());
    let call = || Caller(caller.clone());
    let path = || Path(id.clone());
    let deck = || Path((id.clone(), field(&form, "deck").unwrap_or_default()));
    let done: Result<(), ApiError> = match action.as_str() {
        "reschedule" => match session_fields(&state, &event, &form).await {
            Err(sent_back) => return event_page_with(&state, &viewer, &event, sent_back).await,
            Ok(body) => match serde_json::from_value(Value::Object(body)) {
                Ok(dto) => sessions::update_session(st(), call(), path(), JsonBody(dto))
                    .await
                    .map(drop),
                Err(e) => Err(ApiError::Internal(anyhow::anyhow!("a session patch: {e}"))),
            },
        },
        "delete" if !form.contains_key("confirm") => {
            let asked = FormState::with_error(&form, "confirm", "Tick the box to delete".into());
            return event_page_with(&state, &viewer, &event, asked).await;
        }
        "delete" => sessions::delete_session(st(), call(), path())
            .await
            .map(drop),
        "slides" => {
            let body = json!({"title": field(&form, "title"), "url": field(&form, "url")});
            match serde_json::from_value(body) {
                Ok(dto) => slides::add_deck(st(), call(), path(), JsonBody(dto))
                    .await
                    .map(drop),
                Err(e) => Err(ApiError::Internal(anyhow::anyhow!("a deck body: {e}"))),
            }
        }
        "remove-slide" => slides::delete_deck(st(), call(), deck()).await.map(drop),
        "move" => match moved(&state, &session.id, &form).await {
            Some(order) => slides::reorder_decks(st(), call(), path(), JsonList(order))
                .await
                .map(|Json(_)| ()),
            None => Err(ApiError::NotFound),
        },
        _ => Err(ApiError::NotFound),
    };
    after(&state, &viewer, &event, done, &form).await
}

/// The session's deck ids with `deck` moved one place `up` or down; `None` when it is not one
/// of them (the order is left as it is at either end).
async fn moved(
    state: &AppState,
    session: &convene_core::SessionId,
    form: &Fields,
) -> Option<Vec<String>> {
    let deck = field(form, "deck")?;
    let decks = state.store.decks(session).await.ok()?;
    let mut order: Vec<String> = decks.iter().map(|d| d.id.to_string()).collect();
    let at = order.iter().position(|d| *d == deck)?;
    let other = if form.contains_key("up") {
        at.checked_sub(1)
    } else {
        Some(at + 1).filter(|o| *o < order.len())
    };
    if let Some(other) = other {
        order.swap(at, other);
    }
    Some(order)
}
