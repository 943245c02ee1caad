//! The page a one-time password link opens: whoever holds the link sets the password of the
//! user it was made for, once, and every session of that user ends.

use super::pages::{Page, render};
use super::password;
use super::session::same_origin;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use convene_core::token::sha256_hex;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin/password.html")]
struct PasswordPage {
    nav: Option<super::pages::Nav>,
    username: String,
    error: Option<String>,
}

fn gone() -> Response {
    render(
        StatusCode::NOT_FOUND,
        &Page::message(
            None,
            "This link does not work",
            "It has expired, was used already, or a newer link replaced it. Ask an administrator for a new one.",
        ),
    )
}

fn down() -> Response {
    render(
        StatusCode::SERVICE_UNAVAILABLE,
        &Page::message(
            None,
            "Unavailable",
            "The database did not answer. Try again shortly.",
        ),
    )
}

pub async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state
        .store
        .password_link(&sha256_hex(&token), state.clock.now())
        .await
    {
        Ok(Some(user)) => form(user.username.as_str(), None),
        Ok(None) => gone(),
        Err(_) => down(),
    }
}

fn form(username: &str, error: Option<String>) -> Response {
    let page = PasswordPage {
        nav: None,
        username: username.to_owned(),
        error,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct NewPassword {
    password: String,
    repeat: String,
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(sent): Form<NewPassword>,
) -> Response {
    // The link is the credential; the origin check keeps another site from posting with it.
    if !same_origin(&headers) {
        return gone();
    }
    let digest = sha256_hex(&token);
    let now = state.clock.now();
    let user = match state.store.password_link(&digest, now).await {
        Ok(Some(user)) => user,
        Ok(None) => return gone(),
        Err(_) => return down(),
    };
    let name = user.username.as_str();
    if sent.password != sent.repeat {
        return form(name, Some("The two passwords differ.".into()));
    }
    let hash = match password::hash(&sent.password) {
        Ok(h) => h,
        Err(e) => return form(name, Some(format!("Not set: {e}."))),
    };
    match state.store.set_password_by_link(&digest, &hash, now).await {
        Ok(true) => render(
            StatusCode::OK,
            &Page::message(
                None,
                "Password set",
                "You can sign in with it now at /admin/login. The link is used up.",
            ),
        ),
        Ok(false) => gone(),
        Err(_) => down(),
    }
}
