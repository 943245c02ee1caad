use super::{EventAccess, List, rfc3339, user_at};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Query, Search};
use crate::screening::{object, screen};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::access::Principal;
use convene_core::event::{Participant, Registration, Visibility};
use convene_core::outbound::event_ref;
use convene_core::user::User;
use convene_core::webfilter::FilterType;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_participants))
        .routes(routes!(register, cancel))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantBody {
    username: String,
    /// `public` or `private`.
    visibility: String,
    registered_at: String,
}

impl From<Participant> for ParticipantBody {
    fn from(p: Participant) -> Self {
        Self {
            username: p.username.to_string(),
            visibility: p.visibility.as_str().to_owned(),
            registered_at: rfc3339(p.registered_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PutParticipant {
    /// `public` or `private`.
    visibility: Option<String>,
}

/// Participants by username. Organizers and admins see everyone; anyone else sees only public
/// participants, and nothing that counts the private ones.
#[utoipa::path(get, path = "/events/{id}/participants", tag = "participants", params(("id" = String, Path), Search),
    responses((status = 200, body = List<ParticipantBody>), (status = 404)))]
async fn list_participants(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<Search>,
) -> ApiResult<Json<List<ParticipantBody>>> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    let include_private = access.standing.sees_private_participants();
    let (search, page) = (query.needle()?, query.page()?);
    let page = state
        .store
        .participants(&access.event.id, include_private, search, &page)
        .await?;
    Ok(Json(List::from_page(page, ParticipantBody::from)))
}

/// The user the path names, if the caller may act for them: themselves, or anyone for a manager.
async fn target(
    state: &AppState,
    caller: &Principal,
    access: &EventAccess,
    username: &str,
) -> ApiResult<User> {
    let user = match user_at(state, username).await {
        Err(ApiError::NotFound) if !access.standing.manages() => None,
        other => Some(other?),
    };
    match user {
        Some(user) if access.standing.may_act_for(caller, &user.id) => Ok(user),
        _ => Err(ApiError::Forbidden(
            "only the user itself, the event's organizers and admins may do this",
        )),
    }
}

/// Register, or change visibility: the user itself, an organizer or an admin. 201 when newly
/// registered, 200 otherwise.
#[utoipa::path(put, path = "/events/{id}/participants/{username}", tag = "participants",
    params(("id" = String, Path), ("username" = String, Path)), request_body = PutParticipant,
    responses((status = 201, body = ParticipantBody), (status = 200, body = ParticipantBody), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, username)): Path<(String, String)>,
    JsonBody(body): JsonBody<PutParticipant>,
) -> ApiResult<(StatusCode, Json<ParticipantBody>)> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    let visibility = match body.visibility.as_deref() {
        None => Err(ApiError::field("visibility", "is required")),
        Some(raw) => Visibility::parse(raw)
            .ok_or_else(|| ApiError::field("visibility", "must be \"public\" or \"private\"")),
    }?;
    let user = target(&state, &caller, &access, &username).await?;
    access.require_unsynced()?;
    let input = json!({
        "event": event_ref(&access.event), "username": user.username.as_str(),
        "visibility": visibility.as_str(),
    });
    let rewrites = screen(&state, FilterType::RegistrationRequested, object(input)).await?;
    let visibility = match rewrites.get("visibility") {
        None => visibility,
        Some(v) => v.as_str().and_then(Visibility::parse).ok_or_else(|| {
            ApiError::field(
                "visibility",
                "a webfilter rewrote it to something other than \"public\" or \"private\"",
            )
        })?,
    };
    let registration = state
        .store
        .register(&access.event, &user, visibility, state.clock.now())
        .await?;
    let status = if matches!(registration, Registration::Registered(_)) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(registration.participant().clone().into())))
}

/// Cancel a registration: the user itself, an organizer or an admin.
#[utoipa::path(delete, path = "/events/{id}/participants/{username}", tag = "participants",
    params(("id" = String, Path), ("username" = String, Path)), responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    let user = target(&state, &caller, &access, &username).await?;
    access.require_unsynced()?;
    let input = json!({"event": event_ref(&access.event), "username": user.username.as_str()});
    screen(&state, FilterType::CancellationRequested, object(input)).await?;
    match state
        .store
        .cancel(&access.event, &user.id, state.clock.now())
        .await?
    {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::NotFound),
    }
}
