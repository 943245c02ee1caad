//! Webfilters (admins): list, create, delete, through the API's handlers.

use super::forms::Posted;
use super::forms::{Cursor, FormState, admins_only, field, principal, refused, text};
use super::once;
use super::pages::{Nav, render};
use super::session::Viewer;
use crate::api::webfilters;
use crate::extract::{Caller, JsonBody, Query};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use convene_core::webfilter::FilterType;
use serde_json::{Value, json};

pub struct FilterRow {
    pub id: String,
    pub filter_type: String,
    pub url: String,
    pub description: String,
    pub enabled: bool,
    pub halts: bool,
    /// A sample input of its type, to start a test call from.
    pub sample: String,
}

#[derive(Template)]
#[template(path = "admin/webfilters.html")]
struct FiltersPage {
    nav: Option<Nav>,
    csrf: String,
    filters: Vec<FilterRow>,
    types: Vec<&'static str>,
    next: Option<String>,
    /// The search, as typed.
    q: String,
    /// The add form, as sent back after a refusal (empty otherwise).
    form: FormState,
    /// What a test call came to, shown above the list.
    tested: Option<Tested>,
}

/// A test call's result as the page shows it. It travels to the page after the test in the
/// shown-once cookie, so a reload shows the list and never calls the filter again.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Tested {
    pub url: String,
    pub verdict: String,
    pub rewrites: String,
    pub halt: String,
    pub status: String,
    pub duration_ms: String,
    pub error: String,
    pub response_body: String,
}

/// Where a test's result waits for the page, in the shown-once cookie.
const TESTED: &str = "webfilter-test";

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    UrlQuery(q): UrlQuery<Cursor>,
) -> Response {
    if let Some(r) = admins_only(&viewer, "webfilters") {
        return r;
    }
    let tested = once::take(&state, &headers, TESTED).and_then(|t| serde_json::from_str(&t).ok());
    let shown = tested.is_some();
    let mut page = list_page(&state, &viewer, q, FormState::default(), tested).await;
    if shown {
        once::spend(&mut page, &state, &headers);
    }
    page
}

/// `text` cut after `keep` characters, saying where the rest is when it is cut.
fn at_most(text: &str, keep: usize, filter: &str) -> String {
    match text.char_indices().nth(keep) {
        Some((end, _)) => format!(
            "{}… (cut here; GET /api/v1/webfilters/{filter}/calls has all of it)",
            &text[..end]
        ),
        None => text.to_owned(),
    }
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    q: Cursor,
    form: FormState,
    tested: Option<Tested>,
) -> Response {
    let caller = Caller(principal(viewer));
    let (search, query) = q.search();
    let listed = webfilters::list_webfilters(State(state.clone()), caller, Query(query));
    let v = match listed.await {
        Ok(list) => serde_json::to_value(&list.0).unwrap_or_default(),
        Err(e) => return refused(viewer, "webfilters", e),
    };
    let filters = super::forms::rows(&v, |f| FilterRow {
        id: text(&f["id"]),
        filter_type: text(&f["filter_type"]),
        url: text(&f["url"]),
        description: text(&f["description"]),
        enabled: f["enabled"].as_bool().unwrap_or(false),
        halts: !f["disable_halt"].as_bool().unwrap_or(false),
        sample: FilterType::parse(&text(&f["filter_type"]))
            .map(|t| serde_json::to_string_pretty(&t.sample_input()).unwrap_or_default())
            .unwrap_or_default(),
    });
    render(
        StatusCode::OK,
        &FiltersPage {
            nav: Nav::of(viewer, "webfilters"),
            csrf: viewer.csrf.clone(),
            filters,
            types: FilterType::ALL.iter().map(|t| t.as_str()).collect(),
            next: super::forms::next_cursor(&v),
            q: search,
            form,
            tested,
        },
    )
}

pub async fn create(State(state): State<AppState>, Posted(viewer, form): Posted) -> Response {
    if let Some(r) = admins_only(&viewer, "webfilters") {
        return r;
    }
    let body: Value = json!({
        "filter_type": field(&form, "filter_type"),
        "url": field(&form, "url"),
        "description": field(&form, "description"),
        "halt_on_4xx": form.contains_key("halt_on_4xx"),
        "halt_on_5xx": form.contains_key("halt_on_5xx"),
        "halt_on_request_exception": form.contains_key("halt_on_request_exception"),
    });
    let made = match serde_json::from_value(body) {
        Ok(dto) => {
            let caller = Caller(principal(&viewer));
            webfilters::create_webfilter(State(state.clone()), caller, JsonBody(dto)).await
        }
        Err(_) => Err(crate::error::ApiError::field("url", "is required")),
    };
    match made {
        Ok(_) => Redirect::to("/admin/webfilters").into_response(),
        Err(e) => {
            let sent_back = FormState::refused(&form, &e);
            list_page(&state, &viewer, Cursor::default(), sent_back, None).await
        }
    }
}

/// Calls one webfilter with the input typed (JSON) and shows what it decided.
pub async fn test(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Posted(viewer, form): Posted,
) -> Response {
    if let Some(r) = admins_only(&viewer, "webfilters") {
        return r;
    }
    let typed = field(&form, "input").unwrap_or_default();
    let input: Value = match serde_json::from_str(&typed) {
        Ok(v) => v,
        Err(e) => {
            let message = format!("is not JSON: {e}");
            let sent_back = FormState::with_error(&form, "input", message);
            return list_page(&state, &viewer, Cursor::default(), sent_back, None).await;
        }
    };
    let dto = webfilters::FilterTest { input: Some(input) };
    let caller = Caller(principal(&viewer));
    let answer = webfilters::test_webfilter(
        State(state.clone()),
        caller,
        Path(id.clone()),
        JsonBody(dto),
    );
    let v = match answer.await {
        Ok(v) => serde_json::to_value(&v.0).unwrap_or_default(),
        Err(e) => {
            let sent_back = FormState::refused(&form, &e);
            return list_page(&state, &viewer, Cursor::default(), sent_back, None).await;
        }
    };
    let call = &v["call"];
    let rewrites = match &v["rewrites"] {
        Value::Object(m) if m.is_empty() => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    let reply = text(&call["response_body"]);
    let mut tested = Tested {
        url: field(&form, "url").unwrap_or_default(),
        verdict: text(&v["verdict"]),
        rewrites: String::new(),
        halt: [text(&v["halt"]["message"]), text(&v["halt"]["redirect_to"])]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" → "),
        status: text(&call["status_code"]),
        duration_ms: text(&call["duration_ms"]),
        error: text(&call["error"]),
        response_body: String::new(),
    };
    // The reply and the rewrites are cut until the result fits a cookie, sealed.
    let mut keep = 1000;
    let shown = loop {
        tested.rewrites = at_most(&rewrites, keep, &id);
        tested.response_body = at_most(&reply, keep, &id);
        let json = serde_json::to_string(&tested).unwrap_or_default();
        if once::fits(&state, TESTED, &json) || keep < 50 {
            break json;
        }
        keep /= 2;
    };
    once::redirect_with(&state, &headers, "/admin/webfilters", TESTED, Some(shown))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(viewer, _form): Posted,
) -> Response {
    if let Some(r) = admins_only(&viewer, "webfilters") {
        return r;
    }
    match webfilters::delete_webfilter(State(state), Caller(principal(&viewer)), Path(id)).await {
        Ok(_) => Redirect::to("/admin/webfilters").into_response(),
        Err(e) => refused(&viewer, "webfilters", e),
    }
}
