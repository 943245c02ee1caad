//! `/api/v1/events/{id}/attendances`: people (CRM contacts) at an event with Action Network's
//! statuses; the event's organizers and admins manage them. Events linked to an Action Network
//! event sync them both ways.

use super::{EventAccess, List, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, PageQuery, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::PersonId;
use convene_store::Attendance;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_attendance, list_attendances))
        .routes(routes!(delete_attendance))
}

/// Action Network's attendance statuses, verbatim.
pub const STATUSES: [&str; 4] = ["accepted", "declined", "tentative", "needs action"];

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceBody {
    event_id: String,
    person_id: String,
    status: String,
    /// The Action Network attendance, once synced.
    remote_href: Option<String>,
    /// The referrer source code Action Network recorded, if any.
    source: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<Attendance> for AttendanceBody {
    fn from(a: Attendance) -> Self {
        Self {
            event_id: a.event_id.to_string(),
            person_id: a.person_id.to_string(),
            status: a.status,
            remote_href: a.remote_href,
            source: a.source,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    person_id: String,
    /// `accepted`, `declined`, `tentative` or `needs action`.
    status: String,
}

/// Record a person's attendance (or change its status).
#[utoipa::path(post, path = "/events/{id}/attendances", tag = "attendances", params(("id" = String, Path)),
    request_body = AttendanceInput,
    responses((status = 200, body = AttendanceBody), (status = 403), (status = 404), (status = 422)))]
async fn put_attendance(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AttendanceInput>,
) -> ApiResult<Json<AttendanceBody>> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    access.require_manager()?;
    if !STATUSES.contains(&input.status.as_str()) {
        return Err(ApiError::field(
            "status",
            "must be accepted, declined, tentative or needs action".to_owned(),
        ));
    }
    let person = PersonId::parse(&input.person_id)
        .ok_or_else(|| ApiError::field("person_id", "no such person".to_owned()))?;
    if state.store.person(&person).await?.is_none() {
        return Err(ApiError::field("person_id", "no such person".to_owned()));
    }
    let a = state
        .store
        .put_attendance(
            &access.event.id,
            &person,
            &input.status,
            None,
            None,
            state.clock.now(),
        )
        .await?;
    Ok(Json(a.into()))
}

#[utoipa::path(get, path = "/events/{id}/attendances", tag = "attendances", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = List<AttendanceBody>), (status = 403), (status = 404), (status = 422)))]
async fn list_attendances(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<List<AttendanceBody>>> {
    let page = query.parse()?;
    let access = EventAccess::load(&state, &caller, &id).await?;
    access.require_manager()?;
    let page = state
        .store
        .attendances_page(&access.event.id, &page)
        .await?;
    Ok(Json(List::from_page(page, Into::into)))
}

#[utoipa::path(delete, path = "/events/{id}/attendances/{person_id}", tag = "attendances",
    params(("id" = String, Path), ("person_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
async fn delete_attendance(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, person_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    access.require_manager()?;
    let person = PersonId::parse(&person_id).ok_or(ApiError::NotFound)?;
    if state
        .store
        .delete_attendance(&access.event.id, &person)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
