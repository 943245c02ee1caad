//! Users and their API tokens (admins): the list with search and pager, create, make or unmake
//! an admin, deactivate and reactivate, a one-time password link; per user, tokens created
//! (the secret shown once) and revoked. Every change goes through the API's own handler.

use super::forms::Posted;
use super::forms::{
    Cursor, Fields, FormState, admins_only, field, principal, refused, rows, segment, text,
};
use super::once;
use super::pages::{Nav, render};
use super::session::{Viewer, random_token};
use crate::api::{tokens, users};
use crate::extract::{Caller, JsonBody, Query};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use convene_core::scope::Scope;
use convene_core::token::sha256_hex;
use serde_json::{Value, json};

/// How long a password link works.
const LINK_HOURS: i64 = 24;

pub struct UserRow {
    pub username: String,
    /// The name as one path segment.
    pub segment: String,
    pub email: String,
    pub is_admin: bool,
    pub deactivated_at: String,
    pub created_at: String,
}

fn user_row(u: &Value) -> UserRow {
    let username = text(&u["username"]);
    UserRow {
        segment: segment(&username),
        username,
        email: text(&u["email"]),
        is_admin: u["is_admin"].as_bool().unwrap_or(false),
        deactivated_at: text(&u["deactivated_at"]),
        created_at: text(&u["created_at"]),
    }
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    nav: Option<Nav>,
    csrf: String,
    form: FormState,
    q: String,
    users: Vec<UserRow>,
    next: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    UrlQuery(q): UrlQuery<Cursor>,
) -> Response {
    if let Some(r) = admins_only(&viewer, "users") {
        return r;
    }
    list_page(&state, &viewer, q, FormState::default()).await
}

async fn list_page(state: &AppState, viewer: &Viewer, q: Cursor, form: FormState) -> Response {
    let (search, query) = q.search();
    let caller = Caller(principal(viewer));
    let listed = match users::list_users(State(state.clone()), caller, Query(query)).await {
        Ok(l) => serde_json::to_value(&l.0).unwrap_or_default(),
        Err(e) => return refused(viewer, "users", e),
    };
    let next = super::forms::next_cursor(&listed);
    render(
        StatusCode::OK,
        &ListPage {
            nav: Nav::of(viewer, "users"),
            csrf: viewer.csrf.clone(),
            form,
            q: search,
            users: rows(&listed, user_row),
            next,
        },
    )
}

/// Creates a user through the API's handler, then shows them.
pub async fn create(State(state): State<AppState>, Posted(viewer, form): Posted) -> Response {
    if let Some(r) = admins_only(&viewer, "users") {
        return r;
    }
    let body = json!({
        "username": field(&form, "username"),
        "email": field(&form, "email"),
        "display_name": field(&form, "display_name"),
        "is_admin": form.contains_key("is_admin"),
    });
    let made = match serde_json::from_value(body) {
        Ok(dto) => {
            let caller = Caller(principal(&viewer));
            users::create_user(State(state.clone()), caller, JsonBody(dto)).await
        }
        Err(_) => Err(crate::error::ApiError::field("username", "is required")),
    };
    match made {
        Ok((_, user)) => {
            let v = serde_json::to_value(&user.0).unwrap_or_default();
            Redirect::to(&format!("/admin/users/{}", segment(&text(&v["username"]))))
                .into_response()
        }
        Err(e) => {
            let sent_back = FormState::refused(&form, &e);
            list_page(&state, &viewer, Cursor::default(), sent_back).await
        }
    }
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: String,
    pub limits: String,
}

fn token_row(t: &Value) -> TokenRow {
    let list = |v: &Value| {
        v.as_array()
            .map(|a| a.iter().map(text).collect::<Vec<_>>().join(", "))
    };
    let limits = match (list(&t["scopes"]), list(&t["event_ids"])) {
        (None, None) => String::new(),
        (Some(s), None) => s,
        (None, Some(e)) => format!("events {e}"),
        (Some(s), Some(e)) => format!("{s}; events {e}"),
    };
    TokenRow {
        id: text(&t["id"]),
        name: text(&t["name"]),
        created_at: text(&t["created_at"]),
        expires_at: text(&t["expires_at"]),
        last_used_at: text(&t["last_used_at"]),
        limits,
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    nav: Option<Nav>,
    csrf: String,
    user: UserRow,
    display_name: String,
    /// Whether this is the viewer's own account (no deactivating or unmaking oneself).
    own: bool,
    notice: Option<String>,
    /// A new token's secret or a new password link, shown this once.
    secret: Option<String>,
    secret_is_link: bool,
    /// The token form, as sent back after a refusal (empty otherwise).
    form: FormState,
    tokens: Vec<TokenRow>,
    /// The token search, and the cursor of the next page of tokens.
    q: String,
    next: Option<String>,
    scopes: Vec<&'static str>,
}

pub async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(name): Path<String>,
    UrlQuery(q): UrlQuery<Cursor>,
) -> Response {
    if let Some(r) = admins_only(&viewer, "users") {
        return r;
    }
    let secret = once::take(&state, &headers, &format!("user:{name}"));
    let shown = secret.is_some();
    let mut page = user_page(&state, &viewer, &name, secret, q, FormState::default()).await;
    if shown {
        once::spend(&mut page, &state, &headers);
    }
    page
}

async fn user_page(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    secret: Option<String>,
    at: Cursor,
    form: FormState,
) -> Response {
    let caller = || Caller(principal(viewer));
    let path = Path(name.to_owned());
    let user = match users::get_user(State(state.clone()), caller(), path).await {
        Ok(u) => serde_json::to_value(&u.0).unwrap_or_default(),
        Err(e) => return refused(viewer, "users", e),
    };
    let (search, tokens_at) = at.search();
    let query = tokens::TokenQuery {
        username: Some(name.to_owned()),
        q: tokens_at.q,
        limit: tokens_at.limit,
        cursor: tokens_at.cursor,
    };
    let listed = match tokens::list_tokens(State(state.clone()), caller(), Query(query)).await {
        Ok(l) => serde_json::to_value(&l.0).unwrap_or_default(),
        Err(e) => return refused(viewer, "users", e),
    };
    let secret_is_link = secret
        .as_deref()
        .is_some_and(|s| s.contains("/admin/password/"));
    render(
        StatusCode::OK,
        &UserPage {
            nav: Nav::of(viewer, "users"),
            csrf: viewer.csrf.clone(),
            own: text(&user["id"]) == viewer.user.id.as_str(),
            display_name: text(&user["display_name"]),
            user: user_row(&user),
            notice: at.notice(),
            secret,
            secret_is_link,
            form,
            tokens: rows(&listed, token_row),
            q: search,
            next: super::forms::next_cursor(&listed),
            scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        },
    )
}

/// `admin`, `unadmin`, `deactivate`, `reactivate`, `password-link`, `tokens` (create one).
pub async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((name, action)): Path<(String, String)>,
    Posted(viewer, form): Posted,
) -> Response {
    if let Some(r) = admins_only(&viewer, "users") {
        return r;
    }
    let page = format!("/admin/users/{}", segment(&name));
    let back = |done: &str| Redirect::to(&format!("{page}?done={done}")).into_response();
    let patch = |body: Value| {
        let state = state.clone();
        let caller = Caller(principal(&viewer));
        let name = name.clone();
        async move {
            let dto = serde_json::from_value(body).map_err(|e| {
                crate::error::ApiError::Internal(anyhow::anyhow!("a user patch: {e}"))
            })?;
            users::update_user(State(state), caller, Path(name), JsonBody(dto)).await
        }
    };
    let done = match action.as_str() {
        "admin" => patch(json!({"is_admin": true})).await.map(|_| "made-admin"),
        "unadmin" => patch(json!({"is_admin": false}))
            .await
            .map(|_| "unmade-admin"),
        "deactivate" if !form.contains_key("confirm") => {
            let asked =
                FormState::with_error(&form, "confirm", "Tick the box to deactivate".into());
            return user_page(&state, &viewer, &name, None, Cursor::default(), asked).await;
        }
        "deactivate" => patch(json!({"deactivated": true}))
            .await
            .map(|_| "deactivated"),
        "reactivate" => patch(json!({"deactivated": false}))
            .await
            .map(|_| "reactivated"),
        "password-link" => return password_link(&state, &viewer, &headers, &name, &page).await,
        "tokens" => return create_token(&state, &viewer, &headers, &name, &page, &form).await,
        _ => Err(crate::error::ApiError::NotFound),
    };
    match done {
        Ok(done) => back(done),
        Err(e @ crate::error::ApiError::Validation(_)) => {
            let sent_back = FormState::refused(&form, &e);
            user_page(&state, &viewer, &name, None, Cursor::default(), sent_back).await
        }
        Err(e) => refused(&viewer, "users", e),
    }
}

/// Makes the user's one-time password link (an earlier one stops working) and shows it once.
async fn password_link(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    name: &str,
    page: &str,
) -> Response {
    let caller = Caller(principal(viewer));
    let user = match users::get_user(State(state.clone()), caller, Path(name.to_owned())).await {
        Ok(u) => serde_json::to_value(&u.0).unwrap_or_default(),
        Err(e) => return refused(viewer, "users", e),
    };
    let Some(id) = convene_core::UserId::parse(&text(&user["id"])) else {
        return refused(viewer, "users", crate::error::ApiError::NotFound);
    };
    let token = random_token();
    let now = state.clock.now();
    let until = now + time::Duration::hours(LINK_HOURS);
    if let Err(e) = state
        .store
        .create_password_link(&sha256_hex(&token), &id, now, until)
        .await
    {
        return refused(viewer, "users", e.into());
    }
    let link = format!("{}/admin/password/{token}", state.config.public_url());
    once::redirect_with(state, headers, page, &format!("user:{name}"), Some(link))
}

/// Creates a token for the user through the API's handler and shows its secret once.
async fn create_token(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    name: &str,
    page: &str,
    form: &Fields,
) -> Response {
    let expires_at = match field(form, "expires_at").map(|t| super::forms::instant(&t, None)) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(message)) => {
            let sent_back = FormState::with_error(form, "expires_at", message);
            return user_page(state, viewer, name, None, Cursor::default(), sent_back).await;
        }
    };
    let scopes: Vec<&str> = Scope::ALL
        .iter()
        .map(|s| s.as_str())
        .filter(|s| form.contains_key(&format!("scope:{s}")))
        .collect();
    let event_ids: Vec<String> = field(form, "event_ids")
        .map(|t| {
            t.split([',', ' ', '\n'])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let body = json!({
        "username": name,
        "name": field(form, "name"),
        "expires_at": expires_at,
        "scopes": (!scopes.is_empty()).then_some(scopes),
        "event_ids": (!event_ids.is_empty()).then_some(event_ids),
    });
    let made = match serde_json::from_value(body) {
        Ok(dto) => {
            let caller = Caller(principal(viewer));
            tokens::create_token(State(state.clone()), caller, JsonBody(dto)).await
        }
        Err(e) => Err(crate::error::ApiError::Internal(anyhow::anyhow!(
            "a token body: {e}"
        ))),
    };
    match made {
        Ok((_, created)) => {
            let v = serde_json::to_value(&created.0).unwrap_or_default();
            let secret = v["token"].as_str().map(str::to_owned);
            once::redirect_with(state, headers, page, &format!("user:{name}"), secret)
        }
        Err(e) => {
            let sent_back = FormState::refused(form, &e);
            user_page(state, viewer, name, None, Cursor::default(), sent_back).await
        }
    }
}

/// Revokes a token (the form names its user, to go back to their page).
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(viewer, form): Posted,
) -> Response {
    if let Some(r) = admins_only(&viewer, "users") {
        return r;
    }
    let caller = Caller(principal(&viewer));
    match tokens::delete_token(State(state), caller, Path(id)).await {
        Ok(_) => {
            let name = field(&form, "user").unwrap_or_default();
            Redirect::to(&format!("/admin/users/{}?done=revoked", segment(&name))).into_response()
        }
        Err(e) => refused(&viewer, "users", e),
    }
}
