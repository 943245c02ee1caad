//! Bearer-token authentication for `/api/v1`: the caller becomes a `Principal` in the request.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use convene_core::access::Principal;
use convene_core::scope::{Scope, TokenLimits};
use convene_core::token::{TokenSecret, secrets_equal};
use time::Duration;

/// `last_used_at` is written at most this often per token, so reads stay reads.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// `/api/v1`: the caller, and what its token may reach (`crate::scopes`), before any handler.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let (principal, limits) = match caller(&state, req.headers()).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = crate::scopes::check(&state, &limits, req.method(), req.uri().path()).await {
        return e.into_response();
    }
    req.extensions_mut().insert(principal);
    req.extensions_mut().insert(limits);
    next.run(req).await
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    // `JWT` is the scheme Open Event Server's clients send; the token is ours either way.
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("jwt"))
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The caller of a route outside `/api/v1` that needs `scope` (the JSON:API notifications).
pub(crate) async fn principal_with(
    state: &AppState,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<Principal, ApiError> {
    let (principal, limits) = caller(state, headers).await?;
    crate::scopes::require(&limits, scope)?;
    Ok(principal)
}

/// The bearer's principal and its token's limits (none for the bootstrap token).
pub(crate) async fn caller(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Principal, TokenLimits), ApiError> {
    let presented = bearer(headers).ok_or(ApiError::Unauthorized)?;
    if let Some(admin) = &state.config.admin_token
        && secrets_equal(presented, admin.expose())
    {
        return Ok((Principal::Bootstrap, TokenLimits::default()));
    }
    let digest = TokenSecret::parse(presented)
        .ok_or(ApiError::Unauthorized)?
        .digest();
    let credential = state
        .store
        .tokens_by_lookup(&digest.lookup)
        .await?
        .into_iter()
        .find(|c| digest.matches(&c.sha256))
        .ok_or(ApiError::Unauthorized)?;
    let now = state.clock.now();
    let token = credential.token;
    if token.is_expired(now) {
        return Err(ApiError::Unauthorized);
    }
    if token
        .last_used_at
        .is_none_or(|used| now - used >= TOUCH_EVERY)
        && let Err(e) = state.store.touch_token(&token.id, now).await
    {
        tracing::warn!(token_id = %token.id, error = %e, "could not record token use");
    }
    let principal = Principal::User {
        id: token.user_id,
        username: token.username,
        is_admin: credential.user_is_admin,
    };
    Ok((principal, token.limits))
}
