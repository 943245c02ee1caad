//! Structured logs (pretty on a terminal, JSON for collectors; level from `RUST_LOG`) and, when
//! an OTLP endpoint is configured, traces: the spans Convene marks for export
//! (`convene_delivery::trace::TARGET`: requests, delivery attempts, connector jobs, CRM pages),
//! batched and POSTed as OTLP/HTTP protobuf to `{endpoint}/v1/traces` by the SDK's exporter.

use crate::config::{LogFormat, TelemetryConfig};
use convene_delivery::trace::TARGET;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The standard variables that turn tracing on without `[telemetry] otlp_endpoint`.
const OTLP_ENV: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
];

/// Keeps the trace exporter; [`Telemetry::shutdown`] sends what is still batched.
#[must_use]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes the batch and stops the exporter (it blocks, so off the async workers).
    pub async fn shutdown(self) {
        if let Some(provider) = self.traces {
            let stopped = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(e)) = stopped {
                tracing::warn!(error = %e, "the trace exporter did not stop cleanly");
            }
        }
    }
}

/// Installs the global subscriber: the log, and the trace exporter when one is configured.
pub fn init(format: LogFormat, telemetry: &TelemetryConfig) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(format!("{TARGET}=off").parse()?);
    let ansi = std::env::var_os("NO_COLOR").is_none();
    let log = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let log = match format {
        LogFormat::Json => log.json().with_filter(filter).boxed(),
        LogFormat::Pretty => log.with_ansi(ansi).with_filter(filter).boxed(),
    };
    let traces = exporter(telemetry)?;
    let spans = traces.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("convene"))
            .with_filter(Targets::new().with_target(TARGET, Level::INFO))
    });
    let _ = tracing_subscriber::registry()
        .with(log)
        .with(spans)
        .try_init();
    if traces.is_some() {
        tracing::info!("traces are exported over OTLP/HTTP");
    }
    Ok(Telemetry { traces })
}

fn exporter(telemetry: &TelemetryConfig) -> anyhow::Result<Option<SdkTracerProvider>> {
    let from_env = OTLP_ENV
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    let builder = match &telemetry.otlp_endpoint {
        Some(base) => SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{}/v1/traces", base.trim_end_matches('/'))),
        None if from_env => SpanExporter::builder().with_http(),
        None => return Ok(None),
    };
    // The exporter's client is built on the same TLS provider as every other client.
    convene_delivery::http::install_crypto();
    let resource = Resource::builder()
        .with_service_name(telemetry.service_name.clone())
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(builder.build()?)
        .with_resource(resource)
        .build();
    Ok(Some(provider))
}
