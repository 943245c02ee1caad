//! A secret shown once: carried across the redirect after the action that made it (a webhook's
//! secret, an API token, a password link) in a sealed cookie for the next view of one page only,
//! so a reload neither repeats the action nor shows the secret again.

use super::session::{cookie, set_cookie};
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

const SECRET_ONCE: &str = "convene_secret_once";

/// 303 to `location`, with `secret` sealed for the page that names itself `key`.
pub fn redirect_with(
    state: &AppState,
    headers: &HeaderMap,
    location: &str,
    key: &str,
    secret: Option<String>,
) -> Response {
    let mut response = Redirect::to(location).into_response();
    if let Some(secret) = secret {
        let sealed = state.keys.seal(&format!("{key}\n{secret}"));
        let value: String = url::form_urlencoded::byte_serialize(sealed.as_bytes()).collect();
        let cookie = set_cookie(SECRET_ONCE, &value, 300, headers, state);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// The secret [`redirect_with`] left for `key`, if any.
pub fn take(state: &AppState, headers: &HeaderMap, key: &str) -> Option<String> {
    let raw = cookie(headers, SECRET_ONCE)?;
    let sealed: String = url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()?
        .1
        .into_owned();
    let plain = state.keys.open_sealed(&sealed).ok()?;
    let (for_key, secret) = plain.split_once('\n')?;
    (for_key == key).then(|| secret.to_owned())
}

/// Ends the cookie on the page that showed its secret.
pub fn spend(page: &mut Response, state: &AppState, headers: &HeaderMap) {
    let spent = set_cookie(SECRET_ONCE, "", 0, headers, state);
    if let Ok(v) = HeaderValue::from_str(&spent) {
        page.headers_mut().append(header::SET_COOKIE, v);
    }
}
