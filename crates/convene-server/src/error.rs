//! The one HTTP error type, mapped in one place to `{"error": {"code", "detail"}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use convene_core::FieldErrors;
use convene_store::{Conflict, StoreError};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    /// The caller's token is limited to less than the request needs.
    #[error("{0}")]
    InsufficientScope(String),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("the request body is larger than the limit")]
    PayloadTooLarge,
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the request is not valid")]
    Validation(FieldErrors),
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("{message}")]
    Halted {
        message: String,
        redirect_to: Option<String>,
    },
    #[error("{detail}")]
    BadGateway { code: &'static str, detail: String },
    #[error("the database is unavailable")]
    Unavailable,
    #[error("deliveries are {age_s} s behind; signals are taken again once they catch up")]
    BacklogFull { age_s: u64, retry_after_s: u64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(FieldErrors::single(field, message))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::InsufficientScope(_) => (StatusCode::FORBIDDEN, "insufficient_scope"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            ApiError::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::Halted { .. } => (StatusCode::FORBIDDEN, "halted_by_filter"),
            ApiError::BadGateway { code, .. } => (StatusCode::BAD_GATEWAY, code),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
            ApiError::BacklogFull { .. } => (StatusCode::SERVICE_UNAVAILABLE, "backlog_full"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(Conflict::Username) => {
                ApiError::conflict("username_taken", "that username is taken")
            }
            StoreError::Conflict(Conflict::Slug) => {
                ApiError::conflict("slug_taken", "that slug is taken")
            }
            StoreError::Conflict(Conflict::ProfileName) => {
                ApiError::conflict("profile_name_taken", "a sync profile has that name")
            }
            StoreError::Conflict(Conflict::SourceName) => {
                ApiError::conflict("source_name_taken", "an inbound source has that name")
            }
            StoreError::Conflict(Conflict::RunActive) => ApiError::conflict(
                "run_in_progress",
                "this profile already has a run queued or running",
            ),
            StoreError::Unavailable(source) => {
                tracing::error!(error = %source, "database unavailable");
                ApiError::Unavailable
            }
            StoreError::Other(source) => ApiError::Internal(anyhow::Error::from_boxed(source)),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Validation(errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = match &self {
            ApiError::Validation(errors) => json!({"error": {
                "code": code,
                "detail": "the request is not valid",
                "fields": errors.clone().into_vec(),
            }}),
            ApiError::Halted {
                message,
                redirect_to,
            } => {
                let mut error = json!({"code": code, "detail": message});
                if let Some(url) = redirect_to {
                    error["redirect_to"] = json!(url);
                }
                json!({ "error": error })
            }
            ApiError::Internal(source) => {
                // Logged once, with the cause chain; the client learns nothing of it.
                tracing::error!(error = format!("{source:#}"), "internal error");
                json!({"error": {"code": code, "detail": "internal error"}})
            }
            other => json!({"error": {"code": code, "detail": other.to_string()}}),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750: say which scheme would have been accepted.
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        let retry_after = match &self {
            // The database comes back on its own: a client may try again shortly.
            ApiError::Unavailable => Some(5),
            ApiError::BacklogFull { retry_after_s, .. } => Some(*retry_after_s),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_500_tells_the_client_nothing_of_its_cause() {
        let cause = anyhow::anyhow!("password authentication failed for user convene at 10.0.0.7");
        let (status, body) = body_of(ApiError::Internal(cause.context("loading the event"))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            json!({"error": {"code": "internal", "detail": "internal error"}})
        );
    }

    #[tokio::test]
    async fn store_errors_map_to_their_codes() {
        let (status, body) = body_of(StoreError::Conflict(Conflict::Slug).into()).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (StatusCode::CONFLICT, &json!("slug_taken"))
        );
        let (status, _) = body_of(StoreError::NotFound.into()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let unavailable = StoreError::Unavailable("connection refused".into());
        let (status, body) = body_of(unavailable.into()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["code"], "database_unavailable");
        assert!(!body.to_string().contains("refused"));
    }
}
