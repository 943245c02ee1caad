//! Cookies sealed with the server's key (`sealed`, `unsealed`; the sign-in flow's too), and a
//! secret shown once: carried across the redirect after the action that made it (a webhook's
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
        let value = sealed_for(state, key, &secret);
        let cookie = set_cookie(SECRET_ONCE, &value, 300, headers, state);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Whether [`redirect_with`] can carry `secret` for `key`: browsers keep a cookie of up to
/// 4,096 bytes, name and attributes included.
pub fn fits(state: &AppState, key: &str, secret: &str) -> bool {
    sealed_for(state, key, secret).len() <= 3800
}

/// The cookie value that carries `secret` for the page `key`, which [`take`] reads back.
fn sealed_for(state: &AppState, key: &str, secret: &str) -> String {
    sealed(state, &format!("{key}\n{secret}"))
}

/// The secret [`redirect_with`] left for `key`, if any.
pub fn take(state: &AppState, headers: &HeaderMap, key: &str) -> Option<String> {
    let plain = unsealed(state, headers, SECRET_ONCE)?;
    let (for_key, secret) = plain.split_once('\n')?;
    (for_key == key).then(|| secret.to_owned())
}

/// `plain` sealed with the server's key, as a cookie value.
pub fn sealed(state: &AppState, plain: &str) -> String {
    url::form_urlencoded::byte_serialize(state.keys.seal(plain).as_bytes()).collect()
}

/// What [`sealed`] put in the cookie `name`, if it is there and opens.
pub fn unsealed(state: &AppState, headers: &HeaderMap, name: &str) -> Option<String> {
    let raw = cookie(headers, name)?;
    let value: String = url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()?
        .1
        .into_owned();
    state.keys.open_sealed(&value).ok()
}

/// Ends the cookie on the page that showed its secret.
pub fn spend(page: &mut Response, state: &AppState, headers: &HeaderMap) {
    let spent = set_cookie(SECRET_ONCE, "", 0, headers, state);
    if let Ok(v) = HeaderValue::from_str(&spent) {
        page.headers_mut().append(header::SET_COOKIE, v);
    }
}
