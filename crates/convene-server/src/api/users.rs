use super::{List, require_admin, rfc3339, user_at};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Query, Search, patch_change, patch_field};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::FieldErrors;
use convene_core::access::Principal;
use convene_core::text::{DisplayName, Email, Locale, TimeZoneName};
use convene_core::user::{NewUser, User, UserPatch};
use convene_core::username::Username;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(me))
}

/// A user. `email` is shown only to the user itself and to admins.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    id: String,
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    display_name: Option<String>,
    locale: Option<String>,
    /// IANA name: digests go out at a local hour, and times of events without a zone show in it.
    timezone: Option<String>,
    is_admin: bool,
    /// Since when the account opens nothing (its tokens, sessions and password); `null`:
    /// active. Shown to admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    deactivated_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl UserBody {
    pub fn new(user: User, viewer: &Principal) -> Self {
        let private_ok = viewer.is_admin() || viewer.is_user(&user.id);
        Self {
            id: user.id.to_string(),
            username: user.username.to_string(),
            email: user.email.filter(|_| private_ok).map(|e| e.to_string()),
            display_name: user.display_name.map(|d| d.to_string()),
            locale: user.locale.map(|l| l.to_string()),
            timezone: user.timezone.map(|z| z.to_string()),
            is_admin: user.is_admin,
            deactivated_at: user
                .deactivated_at
                .filter(|_| viewer.is_admin())
                .map(rfc3339),
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUser {
    /// 1–255 characters, no control characters, no `/`; normalised wiki-style.
    username: Option<String>,
    email: Option<String>,
    display_name: Option<String>,
    locale: Option<String>,
    /// IANA name, e.g. `Europe/Berlin`.
    timezone: Option<String>,
    is_admin: Option<bool>,
}

impl TryFrom<CreateUser> for NewUser {
    type Error = FieldErrors;

    fn try_from(body: CreateUser) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let username = errors
            .require("username", body.username)
            .and_then(|u| errors.check("username", Username::parse(&u)));
        let email = body
            .email
            .and_then(|e| errors.check("email", Email::parse(&e)));
        let display_name = body
            .display_name
            .and_then(|d| errors.check("display_name", DisplayName::parse(&d)));
        let locale = body
            .locale
            .and_then(|l| errors.check("locale", Locale::parse(&l)));
        let timezone = body
            .timezone
            .and_then(|z| errors.check("timezone", TimeZoneName::parse(&z)));
        errors.finish(|| NewUser {
            username: username.expect("checked"),
            email,
            display_name,
            locale,
            timezone,
            is_admin: body.is_admin.unwrap_or(false),
        })
    }
}

/// Create a user (admins only).
#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserBody), (status = 409, description = "username_taken"), (status = 422, description = "validation_failed")))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserBody>)> {
    require_admin(&caller)?;
    let new = NewUser::try_from(body)?;
    let user = state.store.create_user(new, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(UserBody::new(user, &caller))))
}

/// List users by username (admins only).
#[utoipa::path(get, path = "/users", tag = "users", params(Search), responses((status = 200, body = List<UserBody>)))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<Search>,
) -> ApiResult<Json<List<UserBody>>> {
    require_admin(&caller)?;
    let page = state
        .store
        .list_users(query.needle()?, &query.page()?)
        .await?;
    Ok(Json(List::from_page(page, |u| UserBody::new(u, &caller))))
}

/// A user by name (percent-encoded; `Jane_Doe` and `jane Doe` name the same user).
#[utoipa::path(get, path = "/users/{username}", tag = "users", params(("username" = String, Path)),
    responses((status = 200, body = UserBody), (status = 404)))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(username): Path<String>,
) -> ApiResult<Json<UserBody>> {
    let user = user_at(&state, &username).await?;
    Ok(Json(UserBody::new(user, &caller)))
}

/// The caller.
#[utoipa::path(get, path = "/me", tag = "users", responses((status = 200, body = UserBody), (status = 404, description = "the bootstrap admin token is no user")))]
async fn me(State(state): State<AppState>, Caller(caller): Caller) -> ApiResult<Json<UserBody>> {
    let id = caller.user_id().ok_or(ApiError::NotFound)?;
    let user = state
        .store
        .user_by_id(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(UserBody::new(user, &caller)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchUser {
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    locale: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    timezone: Option<Option<String>>,
    /// Admins only.
    is_admin: Option<bool>,
    /// Admins only: `true` deactivates the account (its tokens, sessions and password stop
    /// working; nothing is deleted), `false` reactivates it.
    deactivated: Option<bool>,
}

impl TryFrom<PatchUser> for UserPatch {
    type Error = FieldErrors;

    fn try_from(body: PatchUser) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = patch_change(&mut errors, "email", body.email, Email::parse);
        let display_name = patch_change(
            &mut errors,
            "display_name",
            body.display_name,
            DisplayName::parse,
        );
        let locale = patch_change(&mut errors, "locale", body.locale, Locale::parse);
        let timezone = patch_change(&mut errors, "timezone", body.timezone, TimeZoneName::parse);
        errors.finish(|| UserPatch {
            email,
            display_name,
            locale,
            timezone,
            is_admin: body.is_admin,
            deactivated: body.deactivated,
        })
    }
}

/// Change a user: the user itself (not `is_admin`) or an admin.
#[utoipa::path(patch, path = "/users/{username}", tag = "users", params(("username" = String, Path)), request_body = PatchUser,
    responses((status = 200, body = UserBody), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(username): Path<String>,
    JsonBody(body): JsonBody<PatchUser>,
) -> ApiResult<Json<UserBody>> {
    let user = user_at(&state, &username).await?;
    if !(caller.is_admin() || caller.is_user(&user.id)) {
        return Err(ApiError::Forbidden(
            "only the user itself and admins may change a user",
        ));
    }
    if (body.is_admin.is_some() || body.deactivated.is_some()) && !caller.is_admin() {
        return Err(ApiError::Forbidden(
            "only admins may change is_admin or deactivated",
        ));
    }
    if body.deactivated == Some(true) && caller.is_user(&user.id) {
        return Err(ApiError::field(
            "deactivated",
            "you cannot deactivate yourself: another admin can",
        ));
    }
    let patch = UserPatch::try_from(body)?;
    let updated = state
        .store
        .update_user(&patch.apply_to(user, state.clock.now()))
        .await?;
    Ok(Json(UserBody::new(updated, &caller)))
}

/// Delete a user with their tokens, roles and registrations (admins only).
#[utoipa::path(delete, path = "/users/{username}", tag = "users", params(("username" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
async fn delete_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&caller)?;
    let user = user_at(&state, &username).await?;
    if state.store.delete_user(&user, state.clock.now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
