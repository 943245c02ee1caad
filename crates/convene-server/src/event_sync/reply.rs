//! What the Dashboard side answers: `{"success": true}`, or `{"error", "error_code"}` with the
//! real statuses. Always JSON.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Reject {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn invalid_secret() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_secret", "Invalid secret")
    }

    pub fn course_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "course_not_found",
            "Course not found",
        )
    }

    pub fn not_organizer() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "not_organizer",
            "This user is not an organizer for the course.",
        )
    }

    pub fn already_in_use() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "already_in_use",
            "This course already has participants.",
        )
    }

    pub fn sync_already_enabled() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "sync_already_enabled",
            "Sync is already enabled for this course",
        )
    }

    pub fn missing_event_id() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "missing_event_id",
            "An Event Center event ID is required.",
        )
    }

    pub fn sync_not_enabled() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "sync_not_enabled",
            "Syncing with Event Center is not enabled for this course.",
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is larger than the limit",
        )
    }

    pub fn account_check_failed(detail: &str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "account_check_failed",
            format!("Could not check the accounts: {detail}"),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error; nothing was changed",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The database is unavailable; nothing was changed",
        )
    }
}

impl From<convene_store::StoreError> for Reject {
    fn from(e: convene_store::StoreError) -> Self {
        match e {
            convene_store::StoreError::Unavailable(_) => Reject::unavailable(),
            other => {
                tracing::error!(error = %other, "event sync call failed");
                Reject::internal()
            }
        }
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.message, "error_code": self.code})),
        )
            .into_response()
    }
}

pub fn success() -> Response {
    Json(json!({"success": true})).into_response()
}
