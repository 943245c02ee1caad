//! `/unsubscribe/{token}`: RFC 8058 one-click unsubscribe. `POST` unsubscribes at once, with
//! no session and no confirmation; `GET` (a person clicking the link, or a scanner following
//! it) only shows a button, so nothing changes on a prefetch.

use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use convene_core::notification::{Channel, Preference};

pub fn router() -> Router<AppState> {
    Router::new().route("/unsubscribe/{token}", get(page).post(unsubscribe))
}

fn html(status: StatusCode, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Unsubscribe</title></head><body><main>{body}</main></body></html>"
    );
    (status, Html(page)).into_response()
}

fn unknown() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "<p>This unsubscribe link is not valid.</p>",
    )
}

async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some((_, kind)) = state.mailer.unsubscribe.verify(&token) else {
        return unknown();
    };
    html(
        StatusCode::OK,
        &format!(
            "<h1>Unsubscribe</h1><p>Stop mails about “{}”?</p><form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
            kind.as_str().replace('_', " ")
        ),
    )
}

async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some((user, kind)) = state.mailer.unsubscribe.verify(&token) else {
        return unknown();
    };
    if kind.is_mandatory() {
        return html(StatusCode::OK, "<p>These mails cannot be turned off.</p>");
    }
    let off = Preference {
        kind,
        channel: Channel::Email,
        enabled: false,
        cadence: None,
    };
    match state.store.set_preferences(&user, &[off]).await {
        Ok(()) => html(
            StatusCode::OK,
            "<p>You are unsubscribed. You will get no more mails like this.</p>",
        ),
        // The user is gone: there is nothing left to mail them.
        Err(convene_store::StoreError::NotFound) => {
            html(StatusCode::OK, "<p>You are unsubscribed.</p>")
        }
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe failed");
            html(
                StatusCode::SERVICE_UNAVAILABLE,
                "<p>Please try again later.</p>",
            )
        }
    }
}
