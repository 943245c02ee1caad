//! Trace context across Convene's boundaries (W3C `traceparent`). Spans meant for the OTLP
//! exporter use [`TARGET`]: only its layer sees them, so the log does not change and a server
//! without an exporter does not even build them.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The target of every exported span.
pub const TARGET: &str = "convene::trace";

const HEADER: &str = "traceparent";

/// What an outbound call carries: the current span's context when it is traced, else the
/// cause of the work in progress (a request's own `traceparent`, passed on unchanged).
pub fn traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    if context.span().span_context().is_valid() {
        let mut carrier = HashMap::new();
        TraceContextPropagator::new().inject_context(&context, &mut carrier);
        return carrier.remove(HEADER);
    }
    convene_store::cause::traceparent()
}

/// Makes `span` a child of the span `traceparent` names (a request's header, a stored message).
pub fn adopt(span: &tracing::Span, traceparent: &str) {
    if let Some(context) = extract(traceparent) {
        let _ = span.set_parent(context);
    }
}

/// `value` written as a well-formed `traceparent`, or `None` when it is not one.
pub fn parse(value: &str) -> Option<String> {
    let context = extract(value)?;
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove(HEADER)
}

fn extract(value: &str) -> Option<opentelemetry::Context> {
    let carrier = HashMap::from([(HEADER.to_owned(), value.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    context.span().span_context().is_valid().then_some(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_traceparents_pass() {
        let good = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        assert_eq!(parse(good).as_deref(), Some(good));
        for bad in [
            "",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "zz-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn without_a_traced_span_the_cause_is_passed_on() {
        assert_eq!(traceparent(), None);
        let cause = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let seen = convene_store::cause::caused_by(Some(cause.into()), async { traceparent() });
        assert_eq!(seen.await.as_deref(), Some(cause));
    }
}
