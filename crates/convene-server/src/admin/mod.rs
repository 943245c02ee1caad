//! The admin web UI under `/admin`: server-rendered pages (askama) with htmx 2 vendored, behind
//! a password sign-in with a session cookie and CSRF checks. It reads and writes through the
//! same store traits and rules as the API.

mod crm;
mod events;
mod forms;
mod inbox;
mod login;
mod oauth;
mod once;
mod pages;
pub mod password;
mod reset;
mod session;
mod sessions;
mod settings;
pub mod throttle;
mod timeline;
mod users;
mod webfilters;
mod webhooks;

use crate::state::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(pages::overview))
        .route("/admin/login", get(login::show).post(login::submit))
        .route("/admin/login/{provider}", get(oauth::start))
        .route("/admin/login/{provider}/callback", get(oauth::callback))
        .route("/admin/logout", post(login::logout))
        .route(
            "/admin/events",
            get(events::events).post(events::create_event),
        )
        .route("/admin/events/{id}", get(events::event))
        .route("/admin/events/{id}/timeline", get(timeline::timeline))
        .route("/admin/events/{id}/edit", post(events::edit))
        .route("/admin/events/{id}/delete", post(events::delete))
        .route("/admin/events/{id}/sessions", post(sessions::create))
        .route("/admin/sessions/{id}/{action}", post(sessions::act))
        .route("/admin/events/{id}/participants", post(events::register))
        .route("/admin/events/{id}/organizers", post(events::add_organizer))
        .route(
            "/admin/events/{id}/{who}/{name}/remove",
            post(events::remove),
        )
        .route(
            "/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/admin/webhooks/{id}", get(webhooks::detail))
        .route("/admin/webhooks/{id}/{action}", post(webhooks::act))
        .route("/admin/deliveries/{id}", get(webhooks::delivery))
        .route("/admin/deliveries/{id}/retry", post(webhooks::retry))
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/{name}", get(users::detail))
        .route("/admin/users/{name}/{action}", post(users::act))
        .route("/admin/tokens/{id}/revoke", post(users::revoke))
        .route(
            "/admin/password/{token}",
            get(reset::show).post(reset::submit),
        )
        .route("/admin/notifications", get(inbox::notifications))
        .route("/admin/notifications/read-all", post(inbox::read_all))
        .route("/admin/notifications/stream", get(inbox::stream))
        .route("/admin/mails", get(inbox::mails))
        .route(
            "/admin/webfilters",
            get(webfilters::list).post(webfilters::create),
        )
        .route("/admin/webfilters/{id}/delete", post(webfilters::delete))
        .route("/admin/webfilters/{id}/test", post(webfilters::test))
        .route("/admin/crm", get(crm::list).post(crm::create))
        .route("/admin/crm/{id}", get(crm::profile))
        .route("/admin/crm/{id}/runs", post(crm::start))
        .route("/admin/crm/runs/{id}", get(crm::run))
        .route("/admin/crm/runs/{id}/progress", get(crm::progress))
        .route("/admin/crm/flags/{id}/resolve", post(crm::resolve))
        .route("/admin/{*rest}", get(pages::not_found))
        .route("/admin/settings", get(settings::page))
        .route("/admin/settings/email", post(settings::save))
        .route("/admin/settings/email/test", post(settings::test))
        .route(
            "/admin/static/htmx.min.js",
            get(|| asset("text/javascript", include_str!("../../static/htmx.min.js"))),
        )
        .route(
            "/admin/static/admin.js",
            get(|| asset("text/javascript", include_str!("../../static/admin.js"))),
        )
        .route(
            "/admin/static/admin.css",
            get(|| asset("text/css", include_str!("../../static/admin.css"))),
        )
        .layer(axum::middleware::map_response(guard_pages))
}

/// What every admin response carries: no framing by any origin (clickjacking), scripts only
/// from this origin, and, for pages (assets set their own), no copy kept by the browser, so Back
/// after signing out shows nothing signed-in.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn guard_pages(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::HeaderValue;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}
