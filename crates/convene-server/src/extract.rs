//! Extractors that turn raw requests into parsed values or documented errors.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use convene_core::FieldErrors;
use convene_core::access::Principal;
use convene_core::page::{PageError, PageRequest};
use convene_core::user::Change;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// No text holds NUL (PostgreSQL's text cannot, and no name, id or cursor needs it), so a path or
/// query carrying `%00` is refused before routing: 400 `invalid_parameter` (JSON:API's shape on
/// `/v1`). Bodies are parsed into newtypes that refuse control characters.
pub async fn refuse_nul(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let encoded_nul = |s: &str| s.contains("%00");
    let uri = req.uri();
    if !encoded_nul(uri.path()) && !uri.query().is_some_and(encoded_nul) {
        return next.run(req).await;
    }
    let detail = "the path and query must not contain NUL characters (%00)";
    if uri.path().starts_with("/v1/") {
        crate::notifications::jsonapi::JsonApiError::bad_request(
            "invalid_parameter",
            "Invalid parameter",
            detail,
        )
        .into_response()
    } else {
        ApiError::bad_request("invalid_parameter", detail).into_response()
    }
}

/// A JSON request body: 415 for another content type, 413 over the limit, 400 when it is not
/// JSON, 422 naming the field when it has the wrong shape.
pub struct JsonBody<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A JSON body that is a list (`[...]`), with the same rules as [`JsonBody`].
pub struct JsonList<T>(pub Vec<T>);

async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_json(content_type) {
        return Err(ApiError::UnsupportedMediaType);
    }
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        }
    })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse_json(&json_bytes(req, state).await?).map(JsonBody)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonList<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(req, state).await?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        })?;
        if !value.is_array() {
            return Err(ApiError::field("body", "must be a JSON list"));
        }
        serde_path_to_error::deserialize(value)
            .map(JsonList)
            .map_err(|e| ApiError::field(&e.path().to_string(), e.into_inner().to_string()))
    }
}

/// Parses a body: syntax errors are 400, shape errors 422 with the field's path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    from_value(value)
}

/// A JSON object into `T`; shape errors are 422 with the field's path.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ApiError::field(&field, e.into_inner().to_string())
    })
}

/// The authenticated caller, put into the request by the auth middleware.
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or(ApiError::Unauthorized)
    }
}

/// `?limit=&cursor=`, checked: a bad value is a 422 naming the parameter.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, 1–500 (default 50).
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of a list, optionally only the rows that contain `q`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Only rows containing this, ignoring case: in the name (users, participants; `_`
    /// matches a space, as in names), the URL or description (webhooks, webfilters), the
    /// title (sessions), or the name or entry point (CRM profiles).
    pub q: Option<String>,
    /// Rows per page, 1–500 (default 50).
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The longest search `q` taken, in characters, as the console's search fields allow.
pub const MAX_SEARCH: usize = 200;

/// A search parameter `q` as the store takes it: trimmed, none when nothing is left; longer
/// than [`MAX_SEARCH`] is a 422 on `q`.
pub fn needle(q: &Option<String>) -> Result<Option<&str>, ApiError> {
    let needle = q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if needle.is_some_and(|n| n.chars().count() > MAX_SEARCH) {
        return Err(ApiError::field(
            "q",
            format!("must be at most {MAX_SEARCH} characters"),
        ));
    }
    Ok(needle)
}

impl Search {
    /// What to look for, if anything.
    pub fn needle(&self) -> Result<Option<&str>, ApiError> {
        needle(&self.q)
    }

    pub fn page(&self) -> Result<PageRequest, ApiError> {
        PageQuery {
            limit: self.limit.clone(),
            cursor: self.cursor.clone(),
        }
        .parse()
    }
}

impl PageQuery {
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        let limit = PageRequest::parse_limit(self.limit.as_deref())
            .map_err(|e| ApiError::field("limit", e.to_string()))?;
        let after = PageRequest::parse_cursor(self.cursor.as_deref()).map_err(|e| match e {
            PageError::Control => ApiError::bad_request("invalid_parameter", format!("cursor {e}")),
            _ => ApiError::field("cursor", e.to_string()),
        })?;
        Ok(PageRequest { limit, after })
    }
}

/// A number in a query where an empty value (`?limit=`) means "not given", as an empty cursor
/// does; anything else that is not a number is still refused.
pub fn empty_is_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    /// A query gives text; the admin UI calls the same handlers with JSON numbers.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(i64),
    }
    let text = match Option::<Raw>::deserialize(d)? {
        None => return Ok(None),
        Some(Raw::Number(n)) => n.to_string(),
        Some(Raw::Text(t)) if t.is_empty() => return Ok(None),
        Some(Raw::Text(t)) => t,
    };
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

/// A query string that may be malformed: parsed into `T`, or a 422 naming the problem.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::field("query", e.body_text()))
    }
}

/// Parses a PATCH member into a `Change`, recording a bad value under `field`.
pub fn patch_change<T, E: std::fmt::Display>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Change<T> {
    match value {
        None => Change::Keep,
        Some(None) => Change::Clear,
        Some(Some(raw)) => errors
            .check(field, parse(&raw))
            .map_or(Change::Keep, Change::Set),
    }
}

/// A PATCH member: absent (`None`), `null` (`Some(None)`), or a value.
pub fn patch_field<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[allow(dead_code)]
        title: Option<String>,
    }

    #[test]
    fn content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }

    #[test]
    fn body_errors_have_their_codes() {
        let status = |r: Result<Body, ApiError>| r.unwrap_err().into_response_status();
        assert_eq!(status(parse_json(b"{not json")), 400);
        assert_eq!(status(parse_json(b"[1]")), 422);
        assert_eq!(status(parse_json(b"{\"title\": 5}")), 422);
        assert!(parse_json::<Body>(b"{\"title\": \"x\"}").is_ok());
    }

    impl ApiError {
        fn into_response_status(self) -> u16 {
            axum::response::IntoResponse::into_response(self)
                .status()
                .as_u16()
        }
    }
}
