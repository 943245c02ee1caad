//! Email settings (admins): the providers, sender and switches in force, changed and tested
//! through the API's own handlers.

use super::forms::Posted;
use super::forms::{FormState, admins_only, field, principal, refused};
use super::pages::{Nav, render};
use super::session::Viewer;
use crate::api::mails;
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    nav: Option<Nav>,
    csrf: String,
    notice: Option<String>,
    providers: String,
    from_address: String,
    from_name: String,
    smtp_url: String,
    http_api_url: String,
    has_key: bool,
    disabled_actions: String,
    can_send: bool,
    /// The form that was sent back refused, with what was typed (empty otherwise).
    form: FormState,
}

fn list(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

async fn show(
    state: AppState,
    viewer: &Viewer,
    notice: Option<String>,
    form: FormState,
) -> Response {
    if let Some(r) = admins_only(viewer, "settings") {
        return r;
    }
    match mails::get_settings(State(state), Caller(principal(viewer))).await {
        Ok(s) => {
            let s = s.0;
            let text = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
            render(
                StatusCode::OK,
                &SettingsPage {
                    nav: Nav::of(viewer, "settings"),
                    csrf: viewer.csrf.clone(),
                    notice,
                    providers: list(&s["providers"]),
                    from_address: text("from_address"),
                    from_name: text("from_name"),
                    smtp_url: text("smtp_url"),
                    http_api_url: text("http_api_url"),
                    has_key: s["has_http_api_key"].as_bool().unwrap_or(false),
                    disabled_actions: list(&s["disabled_actions"]),
                    can_send: s["can_send"].as_bool().unwrap_or(false),
                    form,
                },
            )
        }
        Err(e) => refused(viewer, "settings", e),
    }
}

pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Response {
    show(state, &viewer, None, FormState::default()).await
}

fn names(raw: Option<String>) -> Vec<String> {
    raw.unwrap_or_default()
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub async fn save(State(state): State<AppState>, Posted(viewer, form): Posted) -> Response {
    let mut body = json!({
        "providers": names(field(&form, "providers")),
        "from_address": field(&form, "from_address"),
        "from_name": field(&form, "from_name").unwrap_or_default(),
        "disabled_actions": names(field(&form, "disabled_actions")),
        "http_api_url": field(&form, "http_api_url"),
    });
    // A password or key left blank keeps the stored one (they are never shown).
    if let Some(url) = field(&form, "smtp_url").filter(|u| !u.contains(":redacted@")) {
        body["smtp_url"] = json!(url);
    }
    if let Some(key) = field(&form, "http_api_key") {
        body["http_api_key"] = json!(key);
    }
    match mails::put_settings(
        State(state.clone()),
        Caller(principal(&viewer)),
        JsonBody(body),
    )
    .await
    {
        Ok(_) => show(state, &viewer, Some("Saved.".into()), FormState::default()).await,
        Err(e) => show(state, &viewer, None, FormState::refused(&form, &e)).await,
    }
}

pub async fn test(State(state): State<AppState>, Posted(viewer, form): Posted) -> Response {
    let Ok(dto) = serde_json::from_value(json!({"to": field(&form, "to")})) else {
        let sent_back = FormState::with_error(&form, "to", "is not an address".into());
        return show(state, &viewer, None, sent_back).await;
    };
    match mails::test_mail(
        State(state.clone()),
        Caller(principal(&viewer)),
        JsonBody(dto),
    )
    .await
    {
        Ok((_, mail)) => {
            let v = serde_json::to_value(&mail.0).unwrap_or_default();
            let notice = format!(
                "Test mail to {} is {}; follow it in the mail log.",
                v["recipient"].as_str().unwrap_or_default(),
                v["status"].as_str().unwrap_or_default()
            );
            show(state, &viewer, Some(notice), FormState::default()).await
        }
        Err(e) => show(state, &viewer, None, FormState::refused(&form, &e)).await,
    }
}
