use super::{List, parse_time, rfc3339, user_at};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, PageQuery, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::FieldErrors;
use convene_core::access::Principal;
use convene_core::scope::{MAX_TOKEN_EVENTS, Scope, TokenLimits};
use convene_core::token::TokenSecret;
use convene_core::user::{ApiToken, NewToken};
use convene_core::{EventId, TokenId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(delete_token))
}

const MAX_NAME: usize = 100;

/// A token's metadata. `token`, the secret, appears only in the answer that created it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenBody {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    name: String,
    username: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    /// The scopes it is limited to; `null`: everything its user may do.
    scopes: Option<Vec<&'static str>>,
    /// The events it is limited to; `null`: not limited to events.
    event_ids: Option<Vec<String>>,
}

impl TokenBody {
    pub fn new(t: ApiToken, secret: Option<&TokenSecret>) -> Self {
        Self {
            id: t.id.to_string(),
            token: secret.map(|s| s.expose().to_owned()),
            name: t.name,
            username: t.username.to_string(),
            created_at: rfc3339(t.created_at),
            expires_at: t.expires_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
            scopes: t.limits.scope_names(),
            event_ids: t
                .limits
                .event_names()
                .map(|ids| ids.into_iter().map(str::to_owned).collect()),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateToken {
    /// Whose token; default the caller. Admins may name anyone.
    username: Option<String>,
    name: Option<String>,
    /// RFC 3339; in the future.
    expires_at: Option<String>,
    /// Limit the token to these scopes (`events:read`, `events:write`, `participants:write`,
    /// `webhooks:read`, `webhooks:write`, `signals:write`, `notifications:write`, `people:read`,
    /// `people:write`, `osdi:write`, `admin`); absent: everything its user may do.
    scopes: Option<Vec<String>>,
    /// Limit the token to these events (1-100 ids); absent: not limited to events.
    event_ids: Option<Vec<String>>,
}

/// The limits a body asks for, each list checked whole.
async fn check_limits(
    state: &AppState,
    errors: &mut FieldErrors,
    scopes: Option<Vec<String>>,
    event_ids: Option<Vec<String>>,
) -> ApiResult<TokenLimits> {
    let scopes = match scopes {
        Some(names) if names.is_empty() => {
            errors.add("scopes", "must list at least one scope, or be left out");
            None
        }
        Some(names) => match names.iter().find(|n| Scope::parse(n).is_none()) {
            Some(bad) => {
                let known: Vec<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                errors.add(
                    "scopes",
                    format!("{bad:?} is not a scope; one of {}", known.join(", ")),
                );
                None
            }
            None => Some(names.iter().filter_map(|n| Scope::parse(n)).collect()),
        },
        None => None,
    };
    let event_ids = match event_ids {
        Some(ids) if !(1..=MAX_TOKEN_EVENTS).contains(&ids.len()) => {
            errors.add(
                "event_ids",
                format!("must list 1-{MAX_TOKEN_EVENTS} event ids, or be left out"),
            );
            None
        }
        Some(ids) => {
            let mut known = BTreeSet::new();
            for raw in &ids {
                let found = match EventId::parse(raw) {
                    Some(id) => state.store.event_by_id(&id).await?,
                    None => None,
                };
                match found {
                    Some(event) => {
                        known.insert(event.id);
                    }
                    None => errors.add("event_ids", format!("no event has the id {raw:?}")),
                }
            }
            Some(known)
        }
        None => None,
    };
    Ok(TokenLimits { scopes, event_ids })
}

/// Create an API token; the secret is shown once. `scopes` and `event_ids` limit it; a token
/// never does more than its user could.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = TokenBody), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<CreateToken>,
) -> ApiResult<(StatusCode, Json<TokenBody>)> {
    let now = state.clock.now();
    let mut errors = FieldErrors::new();
    let name = body.name.unwrap_or_default().trim().to_owned();
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        errors.add(
            "name",
            format!("must be at most {MAX_NAME} characters, with no control characters"),
        );
    }
    let expires_at = body
        .expires_at
        .and_then(|raw| errors.check("expires_at", parse_time(&raw)));
    if expires_at.is_some_and(|t| t <= now) {
        errors.add("expires_at", "must be in the future");
    }
    let limits = check_limits(&state, &mut errors, body.scopes, body.event_ids).await?;
    let owner = match (body.username, &caller) {
        (Some(username), _) => Some(user_at(&state, &username).await?),
        (None, Principal::User { id, .. }) => state.store.user_by_id(id).await?,
        (None, Principal::Bootstrap) => {
            errors.add(
                "username",
                "is required with the bootstrap admin token, which is no user",
            );
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let owner = owner.ok_or(ApiError::NotFound)?;
    if !(caller.is_admin() || caller.is_user(&owner.id)) {
        return Err(ApiError::Forbidden(
            "only admins may create tokens for other users",
        ));
    }
    let secret = TokenSecret::generate();
    let digest = secret.digest();
    let new = NewToken {
        user_id: owner.id,
        name,
        lookup: digest.lookup,
        sha256: digest.sha256,
        expires_at,
        limits,
    };
    let token = state.store.create_token(new, now).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenBody::new(token, Some(&secret))),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Admins: list this user's tokens (default: the caller's; the bootstrap admin: everyone's).
    pub username: Option<String>,
    /// Only tokens whose name contains this, ignoring case.
    pub q: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// List tokens (metadata only).
#[utoipa::path(get, path = "/tokens", tag = "tokens", params(TokenQuery), responses((status = 200, body = List<TokenBody>)))]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<TokenQuery>,
) -> ApiResult<Json<List<TokenBody>>> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let owner = match (query.username, &caller) {
        (Some(username), _) => {
            let user = user_at(&state, &username).await?;
            if !(caller.is_admin() || caller.is_user(&user.id)) {
                return Err(ApiError::Forbidden(
                    "only admins may list other users' tokens",
                ));
            }
            Some(user.id)
        }
        (None, Principal::User { id, .. }) => Some(id.clone()),
        (None, Principal::Bootstrap) => None,
    };
    let search = crate::extract::needle(&query.q)?;
    let tokens = state
        .store
        .list_tokens(owner.as_ref(), search, &page)
        .await?;
    Ok(Json(List::from_page(tokens, |t| TokenBody::new(t, None))))
}

/// Revoke a token: its owner or an admin. Another user's token id is a 404.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub(crate) async fn delete_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = TokenId::parse(&id).ok_or(ApiError::NotFound)?;
    let token = state
        .store
        .token_by_id(&id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !(caller.is_admin() || caller.is_user(&token.user_id)) {
        return Err(ApiError::NotFound);
    }
    state.store.delete_token(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
