//! Sign-in and sign-out. Before a password is checked, the address must have sign-ins left and a
//! password check must be free (`throttle`). Failed attempts are counted per name tried from one
//! address; after five in a row that pair is locked for a minute, doubling with every further
//! failure up to an hour. Across all addresses, a name that keeps failing is only slowed down,
//! never locked, so nobody can lock a real admin out with guesses of their own.

use super::pages::{Page, render};
use super::session::{
    LOGIN_COOKIE, SESSION_COOKIE, SESSION_HOURS, Viewer, cookie, random_token, same_origin,
    set_cookie, token_matches,
};
use super::throttle::{AddressKey, Refused};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use convene_core::token::sha256_hex;
use convene_core::username::Username;
use serde::Deserialize;
use time::Duration;

const FREE_FAILURES: u32 = 5;
/// Failures of one name, from any address, after which each further failure of it is answered a
/// second later: slowed, never locked.
const SLOW_AFTER_FAILURES: u32 = 20;
const SLOW_DOWN: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    nav: Option<super::pages::Nav>,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
    /// The other ways in: `(path segment, what the button says)`.
    providers: Vec<(&'static str, String)>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only paths inside the admin UI are followed after sign-in (no open redirect).
pub(super) fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/admin") && !n.starts_with("//"))
        .unwrap_or("/admin")
        .to_owned()
}

pub(super) fn login_page(
    status: StatusCode,
    headers: &HeaderMap,
    state: &AppState,
    next: String,
    username: String,
    error: Option<String>,
) -> Response {
    // The form's token doubles as a cookie: a cross-site form cannot read or set it.
    let token = random_token();
    let sign_in = &state.config.sign_in;
    let mut providers = Vec::new();
    if sign_in.mediawiki.configured() {
        providers.push(("wikimedia", "Sign in with Wikimedia".to_owned()));
    }
    if sign_in.oidc.configured() {
        providers.push(("oidc", format!("Sign in with {}", sign_in.oidc.label)));
    }
    let page = LoginPage {
        nav: None,
        csrf: token.clone(),
        next,
        username,
        error,
        providers,
    };
    let mut response = render(status, &page);
    if let Ok(v) = HeaderValue::from_str(&set_cookie(LOGIN_COOKIE, &token, 3600, headers, state)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Response {
    login_page(
        StatusCode::OK,
        &headers,
        &state,
        safe_next(q.next.as_deref()),
        String::new(),
        None,
    )
}

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

fn lock_for(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(FREE_FAILURES).min(6);
    Duration::minutes((1_i64 << doublings).min(60))
}

/// The key of a name's failures from one address (addresses hold no spaces).
fn pair_key(address: AddressKey, name: &str) -> String {
    format!("{address} {name}")
}

pub async fn submit(
    State(state): State<AppState>,
    address: AddressKey,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !same_origin(&headers) || !token_matches(&expected, &form.csrf) {
        return forbidden("The sign-in form expired or came from another site. Please try again.");
    }
    let fail = |msg: &str, status| {
        login_page(
            status,
            &headers,
            &state,
            next.clone(),
            form.username.clone(),
            Some(msg.to_owned()),
        )
    };
    let parsed = Username::parse(&form.username).ok();
    let name = parsed.as_ref().map_or_else(
        || form.username.trim().to_owned(),
        |u| u.as_str().to_owned(),
    );
    let pair = pair_key(address, &name);
    let now = state.clock.now();
    if let Err(Refused::Address { retry_after_s }) = state.sign_in.admit(address, now) {
        tracing::warn!(address = %address, "sign-ins refused: too many failures from one address");
        let mut response = fail(
            "Too many failed sign-ins from your address. Please wait a minute and try again.",
            StatusCode::TOO_MANY_REQUESTS,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        return response;
    }
    match state.store.login_locked(&pair, now).await {
        Ok(Some(_)) => {
            return fail(
                "Too many failed sign-ins for this name. Please wait a few minutes and try again.",
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Ok(None) => {}
        Err(_) => {
            return fail(
                "Signing in is unavailable right now.",
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
    }
    let user = match &parsed {
        Some(name) => state.store.user_by_name(name).await.ok().flatten(),
        None => None,
    };
    let stored = match &user {
        Some(u) => state.store.password_hash(&u.id).await.ok().flatten(),
        None => None,
    };
    let Ok(ok) = state
        .sign_in
        .verify(&form.password, stored.as_deref())
        .await
    else {
        let mut response = fail(
            "Signing in is busy right now. Please try again in a moment.",
            StatusCode::TOO_MANY_REQUESTS,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let Some(user) = user.filter(|_| ok) else {
        state.sign_in.failed(address, now);
        if let Ok(failures) = state.store.login_failed(&pair, now).await
            && failures >= FREE_FAILURES
        {
            let _ = state
                .store
                .lock_login(&pair, now + lock_for(failures))
                .await;
        }
        if let Ok(failures) = state.store.login_failed(&name, now).await
            && failures >= SLOW_AFTER_FAILURES
        {
            tokio::time::sleep(SLOW_DOWN).await;
        }
        return fail("Wrong username or password.", StatusCode::UNAUTHORIZED);
    };
    match start_session(&state, &headers, &user, &next).await {
        Ok(response) => {
            let _ = state.store.login_succeeded(&pair).await;
            let _ = state.store.login_succeeded(&name).await;
            response
        }
        Err((message, status)) => fail(message, status),
    }
}

/// Signs `user` in (an admin or an organizer, active) and sends them to `next`; what to say
/// otherwise. The one way a session starts, whichever way the user proved who they are.
pub(super) async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &convene_core::user::User,
    next: &str,
) -> Result<Response, (&'static str, StatusCode)> {
    let now = state.clock.now();
    let organizes = state
        .store
        .organized_events(&user.id)
        .await
        .unwrap_or_default();
    if user.deactivated_at.is_some() || (!user.is_admin && organizes.is_empty()) {
        return Err((
            "Only administrators and event organizers can sign in here.",
            StatusCode::FORBIDDEN,
        ));
    }
    let token = random_token();
    let expires = now + Duration::hours(SESSION_HOURS);
    if state
        .store
        .create_web_session(&sha256_hex(&token), &user.id, &random_token(), now, expires)
        .await
        .is_err()
    {
        return Err((
            "Signing in is unavailable right now.",
            StatusCode::SERVICE_UNAVAILABLE,
        ));
    }
    let mut response = Redirect::to(next).into_response();
    let cookies = [
        set_cookie(SESSION_COOKIE, &token, SESSION_HOURS * 3600, headers, state),
        set_cookie(LOGIN_COOKIE, "", 0, headers, state),
    ];
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

fn forbidden(text: &str) -> Response {
    render(StatusCode::FORBIDDEN, &Page::message(None, "Refused", text))
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if !same_origin(&headers) || !token_matches(&viewer.csrf, &form.csrf) {
        return forbidden("That form came from another site.");
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let _ = state.store.delete_web_session(&sha256_hex(&token)).await;
    }
    let mut response = Redirect::to("/admin/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", 0, &headers, &state)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_to_an_hour_and_next_stays_inside() {
        assert_eq!(lock_for(5), Duration::minutes(1));
        assert_eq!(lock_for(6), Duration::minutes(2));
        assert_eq!(lock_for(30), Duration::minutes(60));
        assert_eq!(safe_next(Some("//evil.example")), "/admin");
        assert_eq!(safe_next(Some("https://evil.example/admin")), "/admin");
        assert_eq!(safe_next(Some("/admin/events")), "/admin/events");
    }
}
