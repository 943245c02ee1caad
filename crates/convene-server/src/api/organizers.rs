use super::{EventAccess, List, rfc3339, user_at};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, PageQuery, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::event::{Organizer, OrganizerRemoval, Role};
use convene_core::page::Page;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organizers))
        .routes(routes!(put_organizer, remove_organizer))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizerBody {
    username: String,
    /// `facilitator`.
    role: String,
    added_at: String,
}

impl From<Organizer> for OrganizerBody {
    fn from(o: Organizer) -> Self {
        Self {
            username: o.username.to_string(),
            role: o.role.as_str().to_owned(),
            added_at: rfc3339(o.added_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PutOrganizer {
    /// `facilitator` (the default).
    role: Option<String>,
}

#[utoipa::path(get, path = "/events/{id}/organizers", tag = "organizers", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = List<OrganizerBody>), (status = 404), (status = 422)))]
async fn list_organizers(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<List<OrganizerBody>>> {
    let page = query.parse()?;
    let access = EventAccess::load(&state, &caller, &id).await?;
    let mut organizers = state.store.organizers(&access.event.id).await?;
    organizers.sort_by(|a, b| a.username.as_str().cmp(b.username.as_str()));
    let page = Page::of_sorted(organizers, &page, |o| o.username.as_str().to_owned());
    Ok(Json(List::from_page(page, OrganizerBody::from)))
}

/// Make a user an organizer (organizers and admins). 201 when added, 200 when already one.
#[utoipa::path(put, path = "/events/{id}/organizers/{username}", tag = "organizers",
    params(("id" = String, Path), ("username" = String, Path)), request_body = PutOrganizer,
    responses((status = 201, body = OrganizerBody), (status = 200, body = OrganizerBody), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn put_organizer(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, username)): Path<(String, String)>,
    JsonBody(body): JsonBody<PutOrganizer>,
) -> ApiResult<(StatusCode, Json<OrganizerBody>)> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    access.require_manager()?;
    let role = match body.role.as_deref() {
        None => Role::Facilitator,
        Some(raw) => {
            Role::parse(raw).ok_or_else(|| ApiError::field("role", "must be \"facilitator\""))?
        }
    };
    let user = user_at(&state, &username).await?;
    let (organizer, added) = state
        .store
        .put_organizer(&access.event, &user, role, state.clock.now())
        .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(organizer.into())))
}

/// Remove an organizer (organizers and admins). Only an admin may remove the last one.
#[utoipa::path(delete, path = "/events/{id}/organizers/{username}", tag = "organizers",
    params(("id" = String, Path), ("username" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409, description = "last_organizer")))]
pub(crate) async fn remove_organizer(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    access.require_manager()?;
    let user = user_at(&state, &username).await?;
    let keep_one = !caller.is_admin();
    match state
        .store
        .remove_organizer(&access.event, &user.id, keep_one, state.clock.now())
        .await?
    {
        OrganizerRemoval::Removed => {
            super::webhook_scopes::pause_for_lost_role(&state, &access.event, &user).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        OrganizerRemoval::NotAnOrganizer => Err(ApiError::NotFound),
        OrganizerRemoval::LastOrganizer => Err(ApiError::conflict(
            "last_organizer",
            "an event keeps at least one organizer; add another first",
        )),
    }
}
