//! `Idempotency-Key` on writes: a repeat with the same key and request returns the first answer
//! and changes nothing. Keys are scoped to the caller and kept in the database, so they hold
//! across restarts and nodes.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use convene_core::access::Principal;
use convene_store::{KeyClaim, SavedResponse};
use sha2::{Digest, Sha256};
use std::fmt::Write;
use time::Duration;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn fingerprint(method: &Method, uri: &str, body: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(method.as_str())
        .chain_update(b"\n")
        .chain_update(uri)
        .chain_update(b"\n")
        .chain_update(body)
        .finalize();
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_write = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let Some(key) = req.headers().get(HEADER).filter(|_| is_write) else {
        return next.run(req).await;
    };
    let Some(key) = key
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .map(str::to_owned)
    else {
        return ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1-255 visible ASCII characters",
        )
        .into_response();
    };
    match replay_or_run(&state, key, req, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn replay_or_run(
    state: &AppState,
    key: String,
    req: Request,
    next: Next,
) -> Result<Response, Response> {
    let scope = req
        .extensions()
        .get::<Principal>()
        .map(Principal::scope_key)
        .ok_or_else(|| ApiError::Unauthorized.into_response())?;
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, state.config.http.body_limit_bytes)
        .await
        .map_err(|_| ApiError::PayloadTooLarge.into_response())?;
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_default();
    let print = fingerprint(&parts.method, uri, &bytes);
    let now = state.clock.now();
    let stale_before = now - Duration::seconds(state.config.idempotency.stale_after_s as i64);
    let claim = state
        .store
        .claim_key(&scope, &key, &print, now, stale_before)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    match claim {
        KeyClaim::Replay(saved) => Ok(replayed(saved)),
        KeyClaim::InProgress => Err(ApiError::conflict(
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still running",
        )
        .into_response()),
        KeyClaim::Mismatch => Err(ApiError::Unprocessable {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was used with a different request".into(),
        }
        .into_response()),
        KeyClaim::Fresh => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            Ok(remember(state, &scope, &key, response).await)
        }
    }
}

/// Saves the answer for replay; a 5xx is not an answer, so the key is released for a retry.
async fn remember(state: &AppState, scope: &str, key: &str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        let _ = state.store.release_key(scope, key).await;
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let outcome = if parts.status.is_server_error() {
        state.store.release_key(scope, key).await
    } else {
        state
            .store
            .save_response(
                scope,
                key,
                &SavedResponse {
                    status: parts.status.as_u16(),
                    body: bytes.to_vec(),
                },
            )
            .await
    };
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "could not record an idempotency key's answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replayed(saved: SavedResponse) -> Response {
    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    let has_body = !saved.body.is_empty();
    let mut response = (status, saved.body).into_response();
    let headers = response.headers_mut();
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    if has_body {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    response
}
