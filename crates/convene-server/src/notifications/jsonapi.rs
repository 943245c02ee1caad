//! JSON:API 1.0 as the notification resource speaks it: the media type, documents, error
//! objects (string `status`, `title`, `detail`, `source`), and the `page`/`sort`/`filter`/
//! `include`/`fields` parameters in Open Event Server's dialect.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use convene_core::notification::query::{self, Filter, SortKey};
use convene_store::StoreError;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const MEDIA_TYPE: &str = "application/vnd.api+json";
pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;
/// The last page whose offset a database can take (a signed 64-bit `OFFSET`).
pub const MAX_PAGE_NUMBER: u64 = i64::MAX as u64 / MAX_PAGE_SIZE as u64;

/// A JSON:API response: any status, the JSON:API media type.
pub struct Doc(pub StatusCode, pub Value);

impl IntoResponse for Doc {
    fn into_response(self) -> Response {
        let mut body = self.1;
        body["jsonapi"] = json!({"version": "1.0"});
        let mut response = (self.0, body.to_string()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
        response
    }
}

/// Where an error points: into the body, or at a query parameter.
#[derive(Debug, Clone)]
pub enum Source {
    None,
    Pointer(String),
    Parameter(String),
}

/// One JSON:API error, the only kind of failure `/v1` answers with.
#[derive(Debug)]
pub struct JsonApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub source: Source,
}

pub type JsonApiResult<T> = Result<T, JsonApiError>;

impl JsonApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            source: Source::None,
        }
    }

    pub fn at(mut self, source: Source) -> Self {
        self.source = source;
        self
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "a valid token is required",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Access Forbidden",
            detail,
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Object not found",
            "Object Not Found",
        )
        .at(Source::Pointer(String::new()))
    }

    pub fn bad_request(code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, title, detail)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method Not Allowed",
            "this resource does not support that method",
        )
    }
}

impl From<StoreError> for JsonApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Unavailable(source) => {
                tracing::error!(error = %source, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "Service Unavailable",
                    "the database is unavailable",
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal Server Error",
                    "internal error",
                )
            }
        }
    }
}

impl IntoResponse for JsonApiError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "status": self.status.as_u16().to_string(),
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        });
        match self.source {
            Source::None => {}
            Source::Pointer(p) => error["source"] = json!({"pointer": p}),
            Source::Parameter(p) => error["source"] = json!({"parameter": p}),
        }
        let mut response = Doc(self.status, json!({"errors": [error]})).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            response.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static("GET, PATCH, DELETE"),
            );
        }
        response
    }
}

/// 406 when `Accept` names the JSON:API media type only with media type parameters: JSON:API
/// 1.0's rule. An `Accept` that does not name it at all gets JSON:API anyway (a browser, a
/// generic client), as the specification allows.
pub async fn negotiate(req: Request, next: Next) -> Response {
    if !acceptable(req.headers()) {
        return JsonApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            "Not Acceptable",
            format!("Accept must allow {MEDIA_TYPE} without media type parameters"),
        )
        .into_response();
    }
    next.run(req).await
}

fn acceptable(headers: &HeaderMap) -> bool {
    // For each instance of the JSON:API media type: whether it has media type parameters
    // (`q` is an accept parameter, not one of them).
    let instances: Vec<bool> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default();
            media
                .eq_ignore_ascii_case(MEDIA_TYPE)
                .then(|| parts.any(|p| !p.to_ascii_lowercase().starts_with("q=")))
        })
        .collect();
    instances.is_empty() || instances.iter().any(|with_params| !with_params)
}

/// 415 unless the body's `Content-Type` is exactly the JSON:API media type.
pub fn require_media_type(headers: &HeaderMap) -> JsonApiResult<()> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(MEDIA_TYPE));
    if ok {
        Ok(())
    } else {
        Err(JsonApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported Media Type",
            format!("Content-Type must be {MEDIA_TYPE} without media type parameters"),
        ))
    }
}

/// The parsed listing parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub filter: Option<Filter>,
    pub sort: Vec<SortKey>,
    pub size: u32,
    pub number: u64,
    pub include_user: bool,
    /// `fields[notification]`: the members to show; `None` = all.
    pub fields: Option<Vec<String>>,
    /// The managed parameters as given, to rebuild links.
    pub echo: BTreeMap<String, String>,
}

fn bad_param(
    parameter: &'static str,
    title: &'static str,
    detail: impl Into<String>,
) -> JsonApiError {
    JsonApiError::bad_request("invalid_query", title, detail)
        .at(Source::Parameter(parameter.to_owned()))
}

/// `include`: only the `user` relationship exists; anything else is 400 naming the parameter.
fn parse_include(value: &str) -> JsonApiResult<bool> {
    let mut user = false;
    for part in value.split(',').map(str::trim) {
        match part {
            "user" => user = true,
            other => {
                return Err(bad_param(
                    "include",
                    "Invalid include querystring parameter.",
                    format!("{other} cannot be included"),
                ));
            }
        }
    }
    Ok(user)
}

fn parse_fields(value: &str) -> Vec<String> {
    value.split(',').map(|f| f.trim().to_owned()).collect()
}

/// What a single resource's query may shape: `include` and `fields[notification]`, read as
/// lists read them; the paging, sorting and filtering parameters mean nothing there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailParams {
    pub include_user: bool,
    pub fields: Option<Vec<String>>,
}

impl DetailParams {
    pub fn parse(query: &[(String, String)]) -> JsonApiResult<Self> {
        let mut params = DetailParams::default();
        for (key, value) in query {
            match key.as_str() {
                "include" => params.include_user = parse_include(value)?,
                "fields[notification]" => params.fields = Some(parse_fields(value)),
                _ => {}
            }
        }
        Ok(params)
    }
}

impl ListParams {
    pub fn parse(query: &[(String, String)]) -> JsonApiResult<Self> {
        let mut params = ListParams {
            filter: None,
            sort: query::DEFAULT_SORT.to_vec(),
            size: DEFAULT_PAGE_SIZE,
            number: 1,
            include_user: false,
            fields: None,
            echo: BTreeMap::new(),
        };
        for (key, value) in query {
            match key.as_str() {
                "filter" => {
                    params.filter = Some(query::parse_filter(value).map_err(|e| {
                        bad_param("filter", "Invalid filters querystring parameter.", e.detail)
                    })?);
                }
                "sort" => {
                    params.sort = query::parse_sort(value).map_err(|e| {
                        bad_param("sort", "Invalid sort querystring parameter.", e.detail)
                    })?;
                }
                "page[size]" => {
                    let n: u32 = value.trim().parse().map_err(|_| {
                        bad_param(
                            "page[size]",
                            "Parse error",
                            "page[size] must be a whole number",
                        )
                    })?;
                    params.size = if n == 0 {
                        MAX_PAGE_SIZE
                    } else {
                        n.min(MAX_PAGE_SIZE)
                    };
                }
                "page[number]" => {
                    params.number = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE_NUMBER).contains(n))
                        .ok_or_else(|| {
                            bad_param(
                                "page[number]",
                                "Parse error",
                                format!("page[number] must be a whole number from 1 to {MAX_PAGE_NUMBER}"),
                            )
                        })?;
                }
                k if k.starts_with("page[") => {
                    return Err(bad_param(
                        "page",
                        "Invalid page querystring parameter.",
                        format!("{k} is not a paging parameter: use page[size] and page[number]"),
                    ));
                }
                "include" => params.include_user = parse_include(value)?,
                "fields[notification]" => params.fields = Some(parse_fields(value)),
                _ => continue,
            }
            params.echo.insert(key.clone(), value.clone());
        }
        Ok(params)
    }

    pub fn offset(&self) -> u64 {
        (self.number - 1) * u64::from(self.size)
    }

    /// `self`, and `first`/`last`/`prev`/`next` when the matches span more than one page.
    pub fn links(&self, path: &str, total: u64) -> Value {
        let url = |number: Option<u64>| {
            let mut echo = self.echo.clone();
            if let Some(n) = number {
                echo.insert("page[number]".into(), n.to_string());
            }
            if echo.is_empty() {
                return path.to_owned();
            }
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(echo.iter())
                .finish();
            format!("{path}?{query}")
        };
        let mut links = json!({"self": url(None)});
        let size = u64::from(self.size);
        if total > size {
            let last = total.div_ceil(size);
            links["first"] = json!(url(Some(1)));
            links["last"] = json!(url(Some(last)));
            if self.number > 1 {
                links["prev"] = json!(url(Some((self.number - 1).min(last))));
            }
            if self.number < last {
                links["next"] = json!(url(Some(self.number + 1)));
            }
        }
        links
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn paging_defaults_caps_and_links() {
        let p = ListParams::parse(&[]).unwrap();
        assert_eq!((p.size, p.number, p.offset()), (20, 1, 0));
        let p = ListParams::parse(&q(&[("page[size]", "0")])).unwrap();
        assert_eq!(p.size, 100);
        let p = ListParams::parse(&q(&[("page[size]", "500"), ("page[number]", "2")])).unwrap();
        assert_eq!((p.size, p.offset()), (100, 100));
        let p = ListParams::parse(&q(&[("page[size]", "2"), ("page[number]", "2")])).unwrap();
        let links = p.links("/v1/notifications", 5);
        assert_eq!(
            links["first"],
            "/v1/notifications?page%5Bnumber%5D=1&page%5Bsize%5D=2"
        );
        assert_eq!(
            links["last"],
            "/v1/notifications?page%5Bnumber%5D=3&page%5Bsize%5D=2"
        );
        assert_eq!(
            links["prev"],
            "/v1/notifications?page%5Bnumber%5D=1&page%5Bsize%5D=2"
        );
        assert_eq!(
            links["next"],
            "/v1/notifications?page%5Bnumber%5D=3&page%5Bsize%5D=2"
        );
        let one = ListParams::parse(&[])
            .unwrap()
            .links("/v1/notifications", 3);
        assert_eq!(one, json!({"self": "/v1/notifications"}));
    }

    #[test]
    fn bad_parameters_name_themselves() {
        for (k, v, param) in [
            ("page[size]", "x", "page[size]"),
            ("page[number]", "0", "page[number]"),
            ("page[offset]", "1", "page"),
            ("sort", "nope", "sort"),
            ("filter", "[{", "filter"),
            ("include", "owner", "include"),
        ] {
            let e = ListParams::parse(&q(&[(k, v)])).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert!(
                matches!(&e.source, Source::Parameter(p) if p == param),
                "{k}"
            );
        }
    }

    #[test]
    fn accept_follows_json_api() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
            acceptable(&h)
        };
        assert!(acceptable(&HeaderMap::new()));
        assert!(with("application/vnd.api+json"));
        assert!(with("*/*"));
        assert!(with("text/html, application/vnd.api+json;q=0.9"));
        assert!(!with("application/vnd.api+json; version=1"));
        assert!(!with("application/vnd.api+json; ext=bulk, text/html"));
        assert!(with(
            "application/vnd.api+json; ext=bulk, application/vnd.api+json"
        ));
        assert!(
            with("text/html"),
            "JSON:API only refuses its own type with parameters"
        );
    }
}
