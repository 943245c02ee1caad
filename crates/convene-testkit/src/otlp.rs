//! A local OTLP/HTTP collector: a real receiver whose `POST /v1/traces` bodies (protobuf
//! `ExportTraceServiceRequest`) are decoded into spans a test can look at.

use crate::Receiver;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use prost::Message;
use std::collections::BTreeMap;

/// One span as it arrived.
#[derive(Debug, Clone)]
pub struct Span {
    pub name: String,
    /// Hex, as a `traceparent` writes it.
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// Attributes as text; the resource's too, prefixed `resource.`.
    pub attributes: BTreeMap<String, String>,
    /// 0 unset, 1 ok, 2 error.
    pub status: i32,
}

impl Span {
    pub fn attr(&self, key: &str) -> &str {
        self.attributes.get(key).map_or("", String::as_str)
    }
}

pub struct OtlpCollector {
    receiver: Receiver,
}

impl OtlpCollector {
    pub async fn start() -> Self {
        Self {
            receiver: Receiver::start().await,
        }
    }

    /// The base URL (`[telemetry] otlp_endpoint`, `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub fn endpoint(&self) -> &str {
        self.receiver.url.trim_end_matches("/hook")
    }

    /// Every span received so far, in arrival order. Panics on a body that is not OTLP.
    pub fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        for request in self.receiver.received() {
            assert_eq!(
                (request.method.as_str(), request.path.as_str()),
                ("POST", "/v1/traces")
            );
            assert_eq!(request.header("content-type"), "application/x-protobuf");
            let export = ExportTraceServiceRequest::decode(request.body.as_ref())
                .expect("an OTLP protobuf body");
            for resource_spans in export.resource_spans {
                let resource: BTreeMap<String, String> = resource_spans
                    .resource
                    .map(|r| r.attributes)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|kv| (format!("resource.{}", kv.key), text(kv.value)))
                    .collect();
                for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
                    let mut attributes = resource.clone();
                    attributes.extend(
                        span.attributes
                            .into_iter()
                            .map(|kv| (kv.key, text(kv.value))),
                    );
                    spans.push(Span {
                        name: span.name,
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        attributes,
                        status: span.status.map_or(0, |s| s.code),
                    });
                }
            }
        }
        spans
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(value: Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.and_then(|v| v.value) {
        Some(Any::StringValue(s)) => s,
        Some(Any::IntValue(i)) => i.to_string(),
        Some(Any::BoolValue(b)) => b.to_string(),
        Some(Any::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}
