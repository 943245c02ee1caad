//! `GET /api/v1/events/{id}/calendar.ics`, the feed token under `/api/v1/me/calendar-feed`, and
//! the feed itself at `/calendar/{token}.ics` (no bearer: the token in the URL is the key).

use super::ics::{Entry, Method, calendar};
use crate::api::EventAccess;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use convene_core::conference::Session;
use convene_core::event::Event;
use convene_core::page::PageRequest;
use convene_core::token::{TokenSecret, sha256_hex};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The most events a feed lists, and sessions per event.
const FEED_EVENTS: u32 = 500;
const SESSIONS_PER_EVENT: u32 = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(event_calendar))
        .routes(routes!(create_feed, revoke_feed))
}

/// The feed, outside `/api/v1`: calendar apps fetch it without headers.
pub fn feed_router() -> Router<AppState> {
    Router::new().route("/calendar/{file}", get(feed))
}

/// A `text/calendar` answer, never stored by a cache on the way: it may name private events.
fn ics(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn sessions_of(state: &AppState, event: &Event) -> ApiResult<Vec<Session>> {
    let page = PageRequest {
        limit: SESSIONS_PER_EVENT,
        after: None,
    };
    Ok(state.store.sessions(&event.id, None, &page).await?.items)
}

/// The event and its sessions as iCalendar (`METHOD:PUBLISH`, times in UTC): anyone who may
/// see the event may download it.
#[utoipa::path(get, path = "/events/{id}/calendar.ics", tag = "calendars", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404)))]
async fn event_calendar(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    let sessions = sessions_of(&state, &access.event).await?;
    let entries = [Entry {
        event: &access.event,
        sessions: &sessions,
    }];
    let body = calendar(
        access.event.title.as_str(),
        Method::Publish,
        &entries,
        state.mailer.public_url(),
        state.clock.now(),
    );
    Ok(ics(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedBody {
    /// `/calendar/<token>.ics` on this server: keep it private, it opens the feed to anyone.
    url: String,
}

/// A feed of the events the caller is registered for, with their sessions. A new feed replaces
/// (revokes) the one before.
#[utoipa::path(post, path = "/me/calendar-feed", tag = "calendars",
    responses((status = 201, body = FeedBody), (status = 403, description = "not a user's token")))]
async fn create_feed(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<(StatusCode, Json<FeedBody>)> {
    let user = caller.user_id().ok_or(ApiError::Forbidden(
        "a calendar feed belongs to a user; the admin token has none",
    ))?;
    let token = TokenSecret::generate();
    state
        .store
        .set_calendar_feed(user, &sha256_hex(token.expose()), state.clock.now())
        .await?;
    let url = format!(
        "{}/calendar/{}.ics",
        state.mailer.public_url(),
        token.expose()
    );
    Ok((StatusCode::CREATED, Json(FeedBody { url })))
}

/// Revoke the caller's feed: its URL answers 404 from now on.
#[utoipa::path(delete, path = "/me/calendar-feed", tag = "calendars",
    responses((status = 204), (status = 404, description = "no feed")))]
async fn revoke_feed(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<StatusCode> {
    let user = caller.user_id().ok_or(ApiError::NotFound)?;
    if state.store.drop_calendar_feed(user).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let token = file
        .strip_suffix(".ics")
        .and_then(TokenSecret::parse)
        .ok_or(ApiError::NotFound)?;
    let owner = state
        .store
        .calendar_feed_owner(&sha256_hex(token.expose()))
        .await?
        .ok_or(ApiError::NotFound)?;
    let user = state
        .store
        .user_by_id(&owner)
        .await?
        .ok_or(ApiError::NotFound)?;
    let events = state.store.registered_events(&owner, FEED_EVENTS).await?;
    let mut sessions = Vec::with_capacity(events.len());
    for event in &events {
        sessions.push(sessions_of(&state, event).await?);
    }
    let entries: Vec<Entry<'_>> = events
        .iter()
        .zip(&sessions)
        .map(|(event, sessions)| Entry { event, sessions })
        .collect();
    let name = format!("{} — Convene", user.username);
    Ok(ics(calendar(
        &name,
        Method::Publish,
        &entries,
        state.mailer.public_url(),
        state.clock.now(),
    )))
}
