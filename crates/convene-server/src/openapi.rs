//! The OpenAPI document, generated from the handlers, and a plain browsable page of it at `/docs`.

use utoipa::OpenApi;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, PathItem};

#[derive(OpenApi)]
#[openapi(
    info(title = "Convene", description = "Integration server for event and community platforms. Every /api/v1 route but this document needs `Authorization: Bearer <token>`. Errors are `{\"error\": {\"code\", \"detail\"}}`; under /v1 they are JSON:API error objects."),
    servers((url = "/")),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// What any route may answer besides its own outcomes: before the handler runs (a NUL in the
/// path or query, a body over the limit or of another type, a slow request, the database gone)
/// or in the extractors every handler shares (a malformed parameter or body).
const ANY_ROUTE: &[(&str, &str)] = &[
    (
        "400",
        "bad request: a NUL in the path or query, malformed JSON, or a malformed parameter",
    ),
    (
        "401",
        "unauthorized: no bearer token, or an unknown, expired or revoked one",
    ),
    ("404", "not found (or not visible to the caller)"),
    (
        "422",
        "validation_failed: a parameter or member of the wrong shape, named in `fields`",
    ),
    (
        "503",
        "the database is unavailable, or the request took longer than allowed",
    ),
];

/// What a route with a request body may answer besides.
const ANY_BODY: &[(&str, &str)] = &[
    ("413", "payload_too_large: the body is over the limit"),
    (
        "415",
        "unsupported_media_type: the body is not of the documented type",
    ),
];

/// Adds what the derive cannot say: the bearer scheme, and what every route may answer.
pub fn finish(mut doc: Document) -> Document {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let body = if op.request_body.is_some() {
                ANY_BODY
            } else {
                &[]
            };
            for (status, what) in ANY_ROUTE.iter().chain(body) {
                op.responses
                    .responses
                    .entry((*status).to_owned())
                    .or_insert_with(|| ResponseBuilder::new().description(*what).build().into());
            }
        }
    }
    doc
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn operations(item: &PathItem) -> Vec<(&'static str, &utoipa::openapi::path::Operation)> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_ref().map(|op| (m, op)))
    .collect()
}

/// A self-contained HTML reference (no scripts, nothing fetched from elsewhere).
pub fn docs_page(doc: &Document) -> String {
    let mut rows = String::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in operations(item) {
            let summary = op
                .summary
                .as_deref()
                .or(op.description.as_deref())
                .unwrap_or_default();
            let statuses: Vec<&str> = op.responses.responses.keys().map(String::as_str).collect();
            let body = op
                .request_body
                .as_ref()
                .map(|_| "JSON body")
                .unwrap_or_default();
            rows.push_str(&format!(
                "<tr><td><code>{method}</code></td><td><code>/api/v1{}</code></td><td>{}</td><td>{body}</td><td>{}</td></tr>\n",
                escape(path), escape(summary), statuses.join(", ")
            ));
        }
    }
    let mut schemas = String::new();
    if let Some(components) = &doc.components {
        for (name, schema) in &components.schemas {
            let json = serde_json::to_string_pretty(schema).unwrap_or_default();
            schemas.push_str(&format!(
                "<details id=\"{0}\"><summary><code>{0}</code></summary><pre>{1}</pre></details>\n",
                escape(name),
                escape(&json)
            ));
        }
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>Convene API</title><style>body{{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem}}\
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}}\
pre{{background:#f5f5f5;padding:.5rem;overflow:auto}}</style></head><body><h1>Convene API</h1>\
<p>{}</p><p>Machine-readable: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a></p>\
<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Body</th><th>Statuses</th></tr></thead><tbody>{rows}</tbody></table>\
<h2>Schemas</h2>{schemas}</body></html>",
        escape(doc.info.description.as_deref().unwrap_or_default())
    )
}
