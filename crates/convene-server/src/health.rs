//! The root, liveness and readiness: outside `/api/v1`, no token needed.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

/// `GET /`: a browser goes to the admin UI; an API client gets the index of what is here.
pub async fn root(headers: HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        Redirect::to("/admin").into_response()
    } else {
        Json(json!({"links": {"api": "/api/v1", "docs": "/docs", "health": "/healthz"}}))
            .into_response()
    }
}

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// How long readiness waits for the database: a load balancer needs an answer, not a hang.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// 200 when the database answers within a second, else 503.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let ping = tokio::time::timeout(READY_WITHIN, state.store.ping())
        .await
        .unwrap_or_else(|_| {
            Err(convene_store::StoreError::Unavailable(
                "no answer within 1 s".into(),
            ))
        });
    match ping {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": state.store.backend()})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": state.store.backend()})),
            )
        }
    }
}
