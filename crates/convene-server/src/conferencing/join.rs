//! `GET /conference/{session}/join?role=&name=&user=&sig=`: the join link of providers whose
//! meetings exist only while used (BigBlueButton). No bearer token: the link is signed for one
//! person and role, so a browser can open it from a mail or a calendar. The provider starts the
//! meeting (or finds it running) and the person is sent on to it.

use super::spec;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use convene_conferencing::provider::{JoinPass, ProviderError};
use convene_core::SessionId;
use convene_core::conference::ConferenceStatus;

pub fn router() -> Router<AppState> {
    Router::new().route("/conference/{session}/join", get(join))
}

async fn join(
    State(state): State<AppState>,
    Path(session): Path<String>,
    Query(pass): Query<JoinPass>,
) -> ApiResult<Response> {
    let id = SessionId::parse(&session).ok_or(ApiError::NotFound)?;
    let session = state.store.session(&id).await?.ok_or(ApiError::NotFound)?;
    let conference = session.conference.as_ref().ok_or(ApiError::NotFound)?;
    let room = match (&conference.room, conference.status) {
        (Some(room), ConferenceStatus::Ready) => room,
        _ => {
            return Err(ApiError::conflict(
                "room_not_ready",
                "the session's room is not ready yet; try again in a moment",
            ));
        }
    };
    let provider = state
        .conferencing
        .named(&conference.provider)
        .ok_or(ApiError::NotFound)?;
    let url = provider
        .admit(&room.handle, &spec(&session), &pass)
        .await
        .map_err(|e| match e {
            ProviderError::Unsupported { .. } => ApiError::NotFound,
            ProviderError::BadLink => ApiError::Forbidden("this join link is not valid"),
            ProviderError::Remote { message, .. } => ApiError::BadGateway {
                code: "provider_error",
                detail: message,
            },
        })?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&url).map_err(|e| ApiError::Internal(e.into()))?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}
