//! Prometheus metrics: requests by route template and status, a latency histogram, pool gauges,
//! and the delivery backlog (read when scraped).

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

const LATENCY: &str = "http_request_duration_seconds";
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder (a process has one, however many servers a test starts).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.into()), BUCKETS)
            .expect("the bucket list is not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // A recorder installed earlier (another server in this process) keeps serving.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Labels by route template, never by raw path, so cardinality stays bounded.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!(LATENCY, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

pub async fn render(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics.token {
        let given = crate::auth::bearer(&headers).unwrap_or_default();
        if !convene_core::token::secrets_equal(given, token.expose()) {
            return crate::error::ApiError::Unauthorized.into_response();
        }
    }
    let pool = state.store.pool_stats();
    let backend = state.store.backend();
    metrics::gauge!("db_pool_connections", "backend" => backend).set(f64::from(pool.size));
    metrics::gauge!("db_pool_idle_connections", "backend" => backend).set(f64::from(pool.idle));
    let now = state.clock.now();
    match state.store.backlog(now).await {
        Ok(backlog) => {
            let age = backlog
                .oldest_due
                .map_or(0.0, |t| (now - t).as_seconds_f64().max(0.0));
            #[allow(clippy::cast_precision_loss)] // a gauge: counts far below 2^52
            {
                metrics::gauge!("convene_delivery_backlog").set(backlog.deliveries as f64);
                metrics::gauge!("convene_outbox_undispatched").set(backlog.messages as f64);
            }
            metrics::gauge!("convene_delivery_backlog_age_seconds").set(age);
        }
        Err(e) => tracing::warn!(error = %e, "reading the delivery backlog failed"),
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
        .into_response()
}
