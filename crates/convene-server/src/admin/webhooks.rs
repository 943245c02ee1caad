//! Webhooks: list and create, one endpoint with its deliveries, every attempt of a delivery,
//! and the actions (test send, rotate secret, retry one, recover since). Admins see all; other
//! users the webhooks they made, scoped to events they organise: the API's handlers decide.

use super::forms::Posted;
use super::forms::{Cursor, Fields, FormState, field, principal, refused, text};
use super::once;
use super::pages::{Nav, Page, render};
use super::session::Viewer;
use crate::api::{deliveries, webhooks};
use crate::extract::{Caller, JsonBody, Query};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use convene_core::outbound::EventType;
use serde_json::{Value, json};

pub struct HookRow {
    pub id: String,
    pub url: String,
    pub description: String,
    pub types: String,
    pub enabled: bool,
    pub failing_since: String,
    pub disabled_reason: String,
    /// `v1` or `v1a`.
    pub signature: String,
    /// A `v1a` endpoint's `whpk_…`; empty for `v1`.
    pub public_key: String,
    /// What it is limited to, in words; empty when it hears everything.
    pub scope: String,
    /// Its order, in words.
    pub order: &'static str,
}

/// A webhook's scope as a line of text: "events …; mine; channels …".
fn scope_text(v: &Value) -> String {
    let list = |key: &str| {
        v[key].as_array().map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let mut parts = Vec::new();
    if let Some(ids) = list("event_ids") {
        parts.push(format!("events {ids}"));
    }
    if v["events"] == "mine" {
        parts.push("events its maker organizes".to_owned());
    }
    if let Some(channels) = list("channels") {
        parts.push(format!("channels {channels}"));
    }
    parts.join("; ")
}

/// The words of a text field: split at commas, spaces and new lines.
fn words(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn hook_row(v: &Value) -> HookRow {
    HookRow {
        id: text(&v["id"]),
        url: text(&v["url"]),
        description: text(&v["description"]),
        types: v["event_types"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        enabled: v["enabled"].as_bool().unwrap_or(false),
        failing_since: text(&v["failing_since"]),
        disabled_reason: text(&v["disabled_reason"]),
        signature: text(&v["signature"]),
        public_key: text(&v["public_key"]),
        scope: scope_text(v),
        order: match (v["ordering"].as_str(), v["coalesce"].as_bool()) {
            (Some("per_subject"), Some(true)) => "per subject, the latest of those waiting",
            (Some("per_subject"), _) => "per subject, one at a time",
            _ => "any",
        },
    }
}

/// The secret an answer shows once: a `v1` endpoint's, when made or rotated.
fn shown_secret(v: &Value) -> Option<String> {
    v["secret"].as_str().map(str::to_owned)
}

/// 303 to the webhook's page, with its new secret shown there once.
fn to_page_with(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    secret: Option<String>,
) -> Response {
    once::redirect_with(state, headers, &format!("/admin/webhooks/{id}"), id, secret)
}

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct ListPage {
    nav: Option<Nav>,
    /// Whether the viewer sees every webhook, or only their own.
    nav_admin: bool,
    csrf: String,
    hooks: Vec<HookRow>,
    next: Option<String>,
    /// The create form, as sent back after a refusal (empty otherwise).
    form: FormState,
    /// Every event type Convene sends: name, description, example body.
    catalogue: Vec<(&'static str, &'static str, String)>,
    notice: Option<String>,
    /// The search, as typed.
    q: String,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    UrlQuery(q): UrlQuery<Cursor>,
) -> Response {
    list_page(&state, &viewer, q, FormState::default()).await
}

/// The list, with the create form as `form` says (fresh, or sent back refused).
async fn list_page(state: &AppState, viewer: &Viewer, q: Cursor, form: FormState) -> Response {
    let notice = q.notice();
    let (search, query) = q.search();
    let caller = Caller(principal(viewer));
    let listed = webhooks::list_webhooks(State(state.clone()), caller, Query(query)).await;
    match listed {
        Ok(list) => {
            let v = serde_json::to_value(&list.0).unwrap_or_default();
            let hooks = super::forms::rows(&v, hook_row);
            let next = super::forms::next_cursor(&v);
            render(
                StatusCode::OK,
                &ListPage {
                    nav: Nav::of(viewer, "webhooks"),
                    nav_admin: viewer.admin,
                    csrf: viewer.csrf.clone(),
                    hooks,
                    next,
                    q: search,
                    form,
                    notice,
                    catalogue: crate::catalogue::examples()
                        .into_iter()
                        .map(|(name, about, example)| {
                            let shown = serde_json::to_string_pretty(&example).unwrap_or_default();
                            (name, about, shown)
                        })
                        .collect(),
                },
            )
        }
        Err(e) => refused(viewer, "webhooks", e),
    }
}

/// The types the picker chose: each ticked one (`type:<name>`) with the other types typed in
/// (another platform's, from an inbound source); when none, all (`*`) if that is ticked. An
/// `event_types` field (the form before the picker, and scripts) is read as before.
fn chosen_types(form: &Fields) -> Vec<String> {
    if let Some(typed) = field(form, "event_types") {
        return words(&typed);
    }
    let mut types: Vec<String> = form
        .keys()
        .filter_map(|k| k.strip_prefix("type:"))
        .map(str::to_owned)
        .collect();
    types.sort();
    types.extend(words(&field(form, "other_types").unwrap_or_default()));
    if types.is_empty() && form.contains_key("all_types") {
        types.push("*".to_owned());
    }
    types
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Posted(viewer, form): Posted,
) -> Response {
    let types = chosen_types(&form);
    let mut body = json!({
        "url": field(&form, "url"),
        "event_types": types,
        "encoding": field(&form, "encoding").unwrap_or_else(|| "json".into()),
        "description": field(&form, "description"),
        "signature": field(&form, "signature").unwrap_or_else(|| "v1".into()),
    });
    let order = field(&form, "ordering");
    if matches!(order.as_deref(), Some("per_subject" | "coalesce")) {
        body["ordering"] = json!("per_subject");
        body["coalesce"] = json!(order.as_deref() == Some("coalesce"));
    }
    if let Some(ids) = field(&form, "event_ids") {
        body["event_ids"] = json!(words(&ids));
    }
    if field(&form, "mine").is_some() {
        body["events"] = json!("mine");
    }
    if let Some(channels) = field(&form, "channels") {
        body["channels"] = json!(words(&channels));
    }
    let made = match serde_json::from_value(body) {
        Ok(dto) => {
            let caller = Caller(principal(&viewer));
            webhooks::create_webhook(State(state.clone()), caller, JsonBody(dto)).await
        }
        Err(_) => Err(crate::error::ApiError::field("url", "is required")),
    };
    match made {
        Ok((_, created)) => {
            let v = serde_json::to_value(&created.0).unwrap_or_default();
            to_page_with(&state, &headers, &text(&v["id"]), shown_secret(&v))
        }
        Err(e) => {
            let sent_back = FormState::refused(&form, &e);
            list_page(&state, &viewer, Cursor::default(), sent_back).await
        }
    }
}

pub struct DeliveryRow {
    pub id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: String,
    pub next_attempt_at: String,
    pub created_at: String,
    pub last_error: String,
}

#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct DetailPage {
    nav: Option<Nav>,
    csrf: String,
    hook: HookRow,
    secret: Option<String>,
    notice: Option<String>,
    deliveries: Vec<DeliveryRow>,
    next: Option<String>,
    /// The list's filters as sent (empty: not narrowed), and as a query string for its pager.
    filter: Cursor,
    filter_query: String,
    /// Why the filters were not applied (a time that is not one).
    filter_error: Option<String>,
    /// Convene's event types, for the filter's suggestions.
    known_types: Vec<&'static str>,
    /// The edit, recover or delete form, as sent back after a refusal (empty otherwise).
    form: FormState,
}

async fn detail_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    secret: Option<String>,
    q: Cursor,
    form: FormState,
) -> Response {
    let caller = || Caller(principal(viewer));
    let hook =
        match webhooks::get_webhook(State(state.clone()), caller(), Path(id.to_owned())).await {
            Ok(h) => hook_row(&serde_json::to_value(&h.0).unwrap_or_default()),
            Err(e) => return refused(viewer, "webhooks", e),
        };
    let done = q.notice();
    let (listed, filter_error) = match deliveries_of(state, viewer, id, &q).await {
        Ok(listed) => (listed, None),
        Err(crate::error::ApiError::Validation(fields)) => (
            serde_json::Value::Null,
            Some(super::forms::said(&crate::error::ApiError::Validation(
                fields,
            ))),
        ),
        Err(e) => return refused(viewer, "webhooks", e),
    };
    let rows = super::forms::rows(&listed, |d| DeliveryRow {
        id: text(&d["id"]),
        event_type: text(&d["event_type"]),
        status: text(&d["status"]),
        attempts: text(&d["attempt_count"]),
        next_attempt_at: text(&d["next_attempt_at"]),
        created_at: text(&d["created_at"]),
        last_error: text(&d["last_error"]),
    });
    let notice = secret
        .as_ref()
        .map(|_| "Copy the signing secret now: it is not shown again.".to_owned())
        .or(done);
    render(
        StatusCode::OK,
        &DetailPage {
            nav: Nav::of(viewer, "webhooks"),
            csrf: viewer.csrf.clone(),
            hook,
            secret,
            notice,
            deliveries: rows,
            next: super::forms::next_cursor(&listed),
            filter_query: q.filters(),
            filter: q,
            filter_error,
            known_types: EventType::ALL.iter().map(|t| t.as_str()).collect(),
            form,
        },
    )
}

/// One page of the webhook's deliveries as `q` filters them, through the API's handler.
async fn deliveries_of(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    q: &Cursor,
) -> Result<serde_json::Value, crate::error::ApiError> {
    let given = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let utc = |name: &str, v: &Option<String>| {
        given(v)
            .map(|t| super::forms::instant(&t, None))
            .transpose()
            .map_err(|e| crate::error::ApiError::field(name, e))
    };
    let query = deliveries::DeliveryQuery {
        status: given(&q.status),
        event_type: given(&q.event_type),
        since: utc("since", &q.since)?,
        until: utc("until", &q.until)?,
        limit: Some("50".into()),
        cursor: q.cursor.clone(),
    };
    let caller = Caller(principal(viewer));
    let path = Path(id.to_owned());
    let listed = deliveries::list_deliveries(State(state.clone()), caller, path, Query(query));
    Ok(serde_json::to_value(&listed.await?.0).unwrap_or_default())
}

pub async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    UrlQuery(q): UrlQuery<Cursor>,
) -> Response {
    let secret = once::take(&state, &headers, &id);
    let shown = secret.is_some();
    let mut page = detail_page(&state, &viewer, &id, secret, q, FormState::default()).await;
    if shown {
        once::spend(&mut page, &state, &headers);
    }
    page
}

/// The webhook's page again, with the form that was sent back.
async fn again(state: &AppState, viewer: &Viewer, id: &str, form: FormState) -> Response {
    detail_page(state, viewer, id, None, Cursor::default(), form).await
}

/// `test`, `rotate`, `edit`, `recover`, `delete`: the endpoint's actions.
pub async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Posted(viewer, form): Posted,
) -> Response {
    let caller = Caller(principal(&viewer));
    let back =
        |done: &str| Redirect::to(&format!("/admin/webhooks/{id}?done={done}")).into_response();
    match action.as_str() {
        "test" => match webhooks::test_webhook(State(state), caller, Path(id.clone())).await {
            Ok(_) => back("tested"),
            Err(e) => refused(&viewer, "webhooks", e),
        },
        "rotate" => {
            match webhooks::rotate_secret(State(state.clone()), caller, Path(id.clone())).await {
                Ok(rotated) => {
                    let v = serde_json::to_value(&rotated.0).unwrap_or_default();
                    to_page_with(&state, &headers, &id, shown_secret(&v))
                }
                Err(e) => refused(&viewer, "webhooks", e),
            }
        }
        "edit" => {
            let types: Option<Vec<String>> = field(&form, "event_types").map(|t| words(&t));
            let body = json!({"url": field(&form, "url"), "event_types": types, "enabled": form.contains_key("enabled"), "description": field(&form, "description")});
            let done = match serde_json::from_value(body) {
                Ok(dto) => {
                    let path = Path(id.clone());
                    webhooks::update_webhook(State(state.clone()), caller, path, JsonBody(dto))
                        .await
                        .map(drop)
                }
                Err(_) => Err(crate::error::ApiError::field("url", "is required")),
            };
            match done {
                Ok(()) => back("saved"),
                Err(e) => again(&state, &viewer, &id, FormState::refused(&form, &e)).await,
            }
        }
        "recover" => {
            // A `datetime-local` value is read in UTC, as the label says; RFC 3339 passes.
            let since = match field(&form, "since").map(|t| super::forms::instant(&t, None)) {
                Some(Ok(t)) => t,
                Some(Err(m)) => {
                    return again(
                        &state,
                        &viewer,
                        &id,
                        FormState::with_error(&form, "since", m),
                    )
                    .await;
                }
                None => {
                    let asked = FormState::with_error(&form, "since", "is required".into());
                    return again(&state, &viewer, &id, asked).await;
                }
            };
            let dto = deliveries::Recover { since: Some(since) };
            match deliveries::recover(
                State(state.clone()),
                caller,
                Path(id.clone()),
                JsonBody(dto),
            )
            .await
            {
                Ok((_, recovered)) => back(&format!("recovered&n={}", recovered.0.recovered)),
                Err(e) => again(&state, &viewer, &id, FormState::refused(&form, &e)).await,
            }
        }
        // Asked twice: the form's box must be ticked.
        "delete" if !form.contains_key("confirm") => {
            let message = "tick the box that says you mean it, then delete again".to_owned();
            again(
                &state,
                &viewer,
                &id,
                FormState::with_error(&form, "confirm", message),
            )
            .await
        }
        "delete" => match webhooks::delete_webhook(State(state), caller, Path(id)).await {
            Ok(_) => Redirect::to("/admin/webhooks?done=deleted").into_response(),
            Err(e) => refused(&viewer, "webhooks", e),
        },
        _ => render(
            StatusCode::NOT_FOUND,
            &Page::message(Nav::of(&viewer, "webhooks"), "Not found", "No such action."),
        ),
    }
}

#[derive(Template)]
#[template(path = "admin/delivery.html")]
struct DeliveryPage {
    nav: Option<Nav>,
    csrf: String,
    id: String,
    webhook_id: String,
    event_type: String,
    status: String,
    message_id: String,
    request_body: String,
    /// Newest first: what an operator opens the page for.
    attempts: Vec<AttemptRow>,
}

pub struct AttemptRow {
    /// 1 for the first attempt made.
    pub number: usize,
    pub attempted_at: String,
    pub status_code: String,
    pub duration_ms: String,
    pub error_class: String,
    pub error: String,
    pub request_headers: Vec<(String, String)>,
    /// The webhook's settings changed after this attempt: its own headers may have differed.
    pub webhook_changed_since: bool,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
}

impl AttemptRow {
    fn of(number: usize, a: &serde_json::Value) -> Self {
        let pairs = |v: &serde_json::Value| -> Vec<(String, String)> {
            serde_json::from_value(v.clone()).unwrap_or_default()
        };
        Self {
            number,
            attempted_at: text(&a["attempted_at"]),
            status_code: text(&a["status_code"]),
            duration_ms: text(&a["duration_ms"]),
            error_class: text(&a["error_class"]),
            error: text(&a["error"]),
            request_headers: pairs(&a["request_headers"]),
            webhook_changed_since: a["webhook_changed_since"].as_bool().unwrap_or(false),
            response_headers: pairs(&a["response_headers"]),
            response_body: text(&a["response_body"]),
        }
    }
}

pub async fn delivery(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let d = match deliveries::get_delivery(State(state), Caller(principal(&viewer)), Path(id)).await
    {
        Ok(d) => serde_json::to_value(&d.0).unwrap_or_default(),
        Err(e) => return refused(&viewer, "webhooks", e),
    };
    let mut attempts: Vec<AttemptRow> = d["attempts"]
        .as_array()
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, x)| AttemptRow::of(i + 1, x))
                .collect()
        })
        .unwrap_or_default();
    attempts.reverse();
    let body = text(&d["request_body"]);
    // A JSON body reads better indented; a form-encoded one is shown as sent.
    let request_body = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(body);
    render(
        StatusCode::OK,
        &DeliveryPage {
            nav: Nav::of(&viewer, "webhooks"),
            csrf: viewer.csrf.clone(),
            id: text(&d["id"]),
            webhook_id: text(&d["webhook_id"]),
            event_type: text(&d["event_type"]),
            status: text(&d["status"]),
            message_id: text(&d["message_id"]),
            request_body,
            attempts,
        },
    )
}

pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(viewer, _form): Posted,
) -> Response {
    match deliveries::retry_delivery(State(state), Caller(principal(&viewer)), Path(id)).await {
        Ok((_, d)) => {
            let v = serde_json::to_value(&d.0).unwrap_or_default();
            let hook = text(&v["webhook_id"]);
            Redirect::to(&format!("/admin/webhooks/{hook}?done=retried")).into_response()
        }
        Err(e) => refused(&viewer, "webhooks", e),
    }
}
