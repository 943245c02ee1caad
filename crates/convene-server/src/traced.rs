//! The span of each HTTP request (`GET /api/v1/events/{id}`: the route template, never the raw
//! path, and the status), a child of the caller's `traceparent` when it sent one. The request's
//! trace context becomes the cause of what it writes, so the outbox rows carry it and their
//! deliveries join the trace.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use convene_delivery::trace::{TARGET, adopt, parse, traceparent};
use convene_store::cause::caused_by;
use tracing::Instrument;
use tracing::field::Empty;

pub async fn trace_request(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map(MatchedPath::as_str);
    let method = request.method().clone();
    let incoming = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(parse);
    let span = tracing::info_span!(
        target: TARGET,
        "HTTP request",
        otel.name = %format_args!("{method} {}", route.unwrap_or("unmatched")),
        otel.kind = "server",
        http.request.method = %method,
        http.route = route,
        http.response.status_code = Empty,
        otel.status_code = Empty,
    );
    if let Some(parent) = &incoming {
        adopt(&span, parent);
    }
    // Traced: the request's own span is the cause; otherwise the caller's, passed on unchanged.
    let cause = span.in_scope(traceparent).or(incoming);
    let response = caused_by(cause, next.run(request))
        .instrument(span.clone())
        .await;
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    response
}
