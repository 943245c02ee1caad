//! Who is signed in: the session cookie (its SHA-256 is what the database keeps), the viewer it
//! names, and the two CSRF defences every form passes (same-origin `Origin`, and a token).

use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convene_core::EventId;
use convene_core::token::{secrets_equal, sha256_hex};
use convene_core::user::User;

pub const SESSION_COOKIE: &str = "convene_session";
pub const LOGIN_COOKIE: &str = "convene_login";
pub const SESSION_HOURS: i64 = 12;

/// A fresh random token for a cookie or a form.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether the browser reached us over TLS (directly or through a proxy that says so).
fn secure(headers: &HeaderMap, state: &AppState) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
        || state.config.email.public_url.starts_with("https://")
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, scoped to `/admin`, `Secure` behind TLS.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_s: i64,
    headers: &HeaderMap,
    state: &AppState,
) -> String {
    let secure = if secure(headers, state) {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}")
}

/// The signed-in user of a page, with what they may see.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: User,
    pub csrf: String,
    pub admin: bool,
    /// The events they organize; admins see every event.
    pub organizes: Vec<EventId>,
}

impl Viewer {
    pub fn sees_event(&self, id: &EventId) -> bool {
        self.admin || self.organizes.contains(id)
    }
}

/// Pages send the unsigned-in to the sign-in page; everything else gets a plain 403.
pub enum NotSignedIn {
    Redirect(String),
    Unavailable,
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Redirect(next) => Redirect::to(&format!(
                "/admin/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ))
            .into_response(),
            NotSignedIn::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable",
            )
                .into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map_or("/admin".to_owned(), |p| p.to_string());
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(NotSignedIn::Redirect(next));
        };
        let now = state.clock.now();
        let session = match state.store.web_session(&sha256_hex(&token), now).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(NotSignedIn::Redirect(next)),
            Err(_) => return Err(NotSignedIn::Unavailable),
        };
        let organizes = state
            .store
            .organized_events(&session.user.id)
            .await
            .map_err(|_| NotSignedIn::Unavailable)?;
        if !session.user.is_admin && organizes.is_empty() {
            // No longer an organizer of anything: the session ends with the right to it.
            return Err(NotSignedIn::Redirect(next));
        }
        Ok(Viewer {
            admin: session.user.is_admin,
            user: session.user,
            csrf: session.csrf,
            organizes,
        })
    }
}

/// A form post is ours when the browser says it comes from this origin (`Origin`, or
/// `Referer` when a browser sends no `Origin`) and it carries the token we gave.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let matches = |url: &str| {
        url::Url::parse(url).is_ok_and(|u| {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            matches!(u.scheme(), "http" | "https")
                && u.host_str()
                    .is_some_and(|h| format!("{h}{port}").eq_ignore_ascii_case(host))
        })
    };
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => matches(origin),
        None => headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(matches),
    }
}

pub fn token_matches(expected: &str, given: &str) -> bool {
    !given.is_empty() && secrets_equal(expected, given)
}
