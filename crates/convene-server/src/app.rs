//! The router: `/api/v1` behind authentication and idempotency, health and docs outside it.

use crate::api;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::health::{healthz, readyz, root};
use crate::idempotency::idempotency;
use crate::metrics;
use crate::openapi::{ApiDoc, docs_page, finish};
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;
use utoipa_axum::router::OpenApiRouter;

/// The OpenAPI document of `/api/v1`, generated from the handlers.
pub fn openapi() -> Document {
    api_parts().1
}

fn api_parts() -> (Router<AppState>, Document) {
    let (api, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::router())
        .split_for_parts();
    // One document for every route: the API's paths written in full, beside the others.
    doc.paths.paths = std::mem::take(&mut doc.paths.paths)
        .into_iter()
        .map(|(path, item)| (format!("/api/v1{path}"), item))
        .collect();
    (api, finish(crate::openapi_outer::add(doc)))
}

/// A successful write may have queued messages: start a delivery round now.
async fn wake_worker(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let writes = req.method() != axum::http::Method::GET;
    let response = next.run(req).await;
    if writes && response.status().is_success() {
        if response
            .extensions()
            .get::<crate::state::SignalsOnly>()
            .is_some()
        {
            state.wake_deliveries();
        } else {
            state.wake_workers();
        }
    }
    response
}

pub fn router(state: AppState) -> Router {
    // Installed now, so requests before the first scrape are counted.
    metrics::handle();
    let (api, doc) = api_parts();
    let doc = Arc::new(doc);
    let docs_html = Arc::new(docs_page(&doc));
    // The fallback sits behind authentication: without a token, no path is revealed to exist.
    let api = api
        .fallback(|| async { ApiError::NotFound })
        .layer(from_fn_with_state(state.clone(), wake_worker))
        .layer(from_fn_with_state(state.clone(), idempotency))
        .layer(from_fn_with_state(state.clone(), authenticate));
    let timeout = Duration::from_secs(state.config.http.request_timeout_s);
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || async move { axum::Json(doc.as_ref().clone()) }),
        )
        .nest("/api/v1", api)
        .merge(crate::event_sync::router().layer(from_fn_with_state(state.clone(), wake_worker)))
        .merge(crate::notifications::v1::router(state.clone()))
        .merge(crate::notifications::unsubscribe_page::router())
        .merge(crate::calendar::api::feed_router())
        .merge(crate::conferencing::join_router())
        .merge(crate::admin::router())
        .merge(crate::sources::router())
        .route(
            "/docs",
            get(move || async move { Html(docs_html.as_ref().clone()) }),
        )
        .route("/", get(root))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(state.config.http.body_limit_bytes))
        .layer(from_fn(crate::extract::refuse_nul))
        .layer(from_fn(metrics::track))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(from_fn(crate::traced::trace_request))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
        }))
        .with_state(state)
}
