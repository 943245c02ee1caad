//! Sessions of an event and their video rooms. A remote session's room is made, moved and
//! removed in the background (`conference.status`: pending → ready | failed).

use super::session_room::{ConferenceBody, Viewer, conference_body};
use super::{EventAccess, List, parse_time, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Query, Search};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::SessionId;
use convene_core::access::Principal;
use convene_core::conference::{GroupName, NewSession, Session, SessionPatch};
use convene_core::text::Title;
use convene_core::validation::FieldErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(get_session, update_session, delete_session))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionBody {
    id: String,
    event_id: String,
    /// Unique per deployment; the provider's room id.
    number: i64,
    title: String,
    group: String,
    starts_at: String,
    ends_at: String,
    duration_minutes: u32,
    extrainfo: String,
    /// Offsets before `starts_at` at which the event's people are reminded of the session.
    reminders: Vec<String>,
    conference: Option<ConferenceBody>,
    created_at: String,
    updated_at: String,
}

impl SessionBody {
    fn new(state: &AppState, s: Session, viewer: &Viewer) -> Self {
        Self {
            ends_at: rfc3339(s.ends_at()),
            conference: s
                .conference
                .as_ref()
                .map(|c| conference_body(state, &s, c, viewer)),
            id: s.id.to_string(),
            event_id: s.event.to_string(),
            number: s.number,
            title: s.title.to_string(),
            group: s.group.as_str().to_owned(),
            starts_at: rfc3339(s.starts_at),
            duration_minutes: s.duration_minutes,
            extrainfo: s.extrainfo,
            reminders: s.reminders.names().into_iter().map(str::to_owned).collect(),
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateSession {
    title: Option<String>,
    /// The group the provider keys rooms by (`ietf`, `wiki-club`).
    group: Option<String>,
    /// RFC 3339.
    starts_at: Option<String>,
    duration_minutes: Option<u32>,
    /// Make a video room (default: whenever a provider is configured).
    remote: Option<bool>,
    extrainfo: Option<String>,
    /// Up to 10 offsets before `starts_at` (`"24h"`, `"15m"`: a whole number with `s`, `m`, `h`
    /// or `d`); default `["24h", "1h"]`, `[]` for none.
    reminders: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchSession {
    title: Option<String>,
    group: Option<String>,
    starts_at: Option<String>,
    duration_minutes: Option<u32>,
    extrainfo: Option<String>,
    /// Replaces the offsets; pending reminders move with them.
    reminders: Option<Vec<String>>,
}

const MAX_MINUTES: u32 = 7 * 24 * 60;

fn duration(errors: &mut FieldErrors, minutes: Option<u32>) -> Option<u32> {
    minutes.filter(|m| {
        let fine = (1..=MAX_MINUTES).contains(m);
        if !fine {
            errors.add("duration_minutes", "must be 1 to 10080 (a week)");
        }
        fine
    })
}

fn extrainfo(errors: &mut FieldErrors, text: Option<String>) -> Option<String> {
    text.filter(|t| {
        let fine = t.len() <= 2000 && !t.chars().any(char::is_control);
        if !fine {
            errors.add(
                "extrainfo",
                "must be at most 2000 characters, without control characters",
            );
        }
        fine
    })
}

impl PatchSession {
    fn parse(self) -> Result<SessionPatch, FieldErrors> {
        let mut errors = FieldErrors::new();
        let patch = SessionPatch {
            title: self
                .title
                .and_then(|t| errors.check("title", Title::parse(&t))),
            group: self
                .group
                .and_then(|g| errors.check("group", GroupName::parse(&g))),
            starts_at: self
                .starts_at
                .and_then(|t| errors.check("starts_at", parse_time(&t))),
            duration_minutes: duration(&mut errors, self.duration_minutes),
            extrainfo: extrainfo(&mut errors, self.extrainfo),
            reminders: super::reminders(&mut errors, self.reminders),
        };
        errors.finish(|| patch)
    }
}

/// A session the caller manages (organizer of its event, or admin).
pub async fn managed_session(state: &AppState, caller: &Principal, id: &str) -> ApiResult<Session> {
    let (session, access) = session_access(state, caller, id).await?;
    access.require_manager()?;
    Ok(session)
}

/// A session of an event the caller may see.
pub async fn visible_session(state: &AppState, caller: &Principal, id: &str) -> ApiResult<Session> {
    Ok(session_access(state, caller, id).await?.0)
}

/// A session of an event the caller may see, with what the caller is to the event.
async fn session_access(
    state: &AppState,
    caller: &Principal,
    id: &str,
) -> ApiResult<(Session, EventAccess)> {
    let id = SessionId::parse(id).ok_or(ApiError::NotFound)?;
    let session = state.store.session(&id).await?.ok_or(ApiError::NotFound)?;
    let access = EventAccess::load(state, caller, session.event.as_str()).await?;
    Ok((session, access))
}

fn viewer<'a>(caller: &'a Principal, access: &'a EventAccess) -> Viewer<'a> {
    Viewer {
        caller,
        standing: &access.standing,
    }
}

/// Add a session; a remote one gets a room through the queue (`conference.status` `pending`).
#[utoipa::path(post, path = "/events/{id}/sessions", tag = "conferencing", params(("id" = String, Path)),
    request_body = CreateSession,
    responses((status = 201, body = SessionBody), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn create_session(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CreateSession>,
) -> ApiResult<(StatusCode, Json<SessionBody>)> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    access.require_manager()?;
    let mut errors = FieldErrors::new();
    let title = errors
        .require("title", body.title)
        .and_then(|t| errors.check("title", Title::parse(&t)));
    let group = errors
        .require("group", body.group)
        .and_then(|g| errors.check("group", GroupName::parse(&g)));
    let starts_at = errors
        .require("starts_at", body.starts_at)
        .and_then(|t| errors.check("starts_at", parse_time(&t)));
    let minutes = errors.require("duration_minutes", body.duration_minutes);
    let minutes = duration(&mut errors, minutes);
    let extrainfo = extrainfo(&mut errors, body.extrainfo);
    let reminders = super::reminders(&mut errors, body.reminders);
    let provider = access
        .event
        .conference_provider
        .as_deref()
        .and_then(|name| state.conferencing.named(name))
        .unwrap_or(state.conferencing.default());
    let configured = provider.name() != "none";
    if body.remote == Some(true) && !configured {
        errors.add("remote", "no conferencing provider is configured");
    }
    let new = errors.finish(|| NewSession {
        title: title.expect("checked"),
        group: group.expect("checked"),
        starts_at: starts_at.expect("checked"),
        duration_minutes: minutes.expect("checked"),
        extrainfo: extrainfo.unwrap_or_default(),
        reminders: reminders.unwrap_or_default(),
        provider: (configured && body.remote.unwrap_or(true)).then(|| provider.name().to_owned()),
    })?;
    let session = state
        .store
        .create_session(&access.event, new, state.clock.now())
        .await?;
    let body = SessionBody::new(&state, session, &viewer(&caller, &access));
    Ok((StatusCode::CREATED, Json(body)))
}

/// The event's sessions by start time.
#[utoipa::path(get, path = "/events/{id}/sessions", tag = "conferencing", params(("id" = String, Path), Search),
    responses((status = 200, body = List<SessionBody>), (status = 404)))]
async fn list_sessions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<Search>,
) -> ApiResult<Json<List<SessionBody>>> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    let (search, page) = (query.needle()?, query.page()?);
    let page = state
        .store
        .sessions(&access.event.id, search, &page)
        .await?;
    let viewer = viewer(&caller, &access);
    Ok(Json(List::from_page(page, |s| {
        SessionBody::new(&state, s, &viewer)
    })))
}

#[utoipa::path(get, path = "/sessions/{id}", tag = "conferencing", params(("id" = String, Path)),
    responses((status = 200, body = SessionBody), (status = 404)))]
async fn get_session(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionBody>> {
    let (session, access) = session_access(&state, &caller, &id).await?;
    Ok(Json(SessionBody::new(
        &state,
        session,
        &viewer(&caller, &access),
    )))
}

/// Change a session; a new time or group moves its room (delete + create for Meetecho).
#[utoipa::path(patch, path = "/sessions/{id}", tag = "conferencing", params(("id" = String, Path)),
    request_body = PatchSession,
    responses((status = 200, body = SessionBody), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn update_session(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchSession>,
) -> ApiResult<Json<SessionBody>> {
    let (session, access) = session_access(&state, &caller, &id).await?;
    access.require_manager()?;
    let patch = body.parse()?;
    let updated = state
        .store
        .update_session(&session.id, patch, state.clock.now())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(SessionBody::new(
        &state,
        updated,
        &viewer(&caller, &access),
    )))
}

/// Delete a session; its room is removed in the background.
#[utoipa::path(delete, path = "/sessions/{id}", tag = "conferencing", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub(crate) async fn delete_session(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let session = managed_session(&state, &caller, &id).await?;
    if state
        .store
        .delete_session(&session.id, state.clock.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
