//! CRM sync (admins): sync profiles, their runs with live progress (htmx polls a fragment while
//! the run is queued or running), each run's sync log and errors, and the open flags to
//! resolve, all through the API's handlers.

use super::forms::Posted;
use super::forms::{Fields, FormState, admins_only, field, principal, refused, rows, text};
use super::pages::{Nav, render};
use super::session::Viewer;
use crate::api::osdi;
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, Query};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

const HERE: &str = "crm";

pub struct ProfileRow {
    pub id: String,
    pub name: String,
    pub entry_point: String,
    pub rate: String,
    pub schedule: String,
    pub policy: String,
}

pub struct RunRow {
    pub id: String,
    pub job: String,
    pub origin: String,
    pub state: String,
    pub counts: Vec<(String, String)>,
    pub created_at: String,
    pub finished_at: String,
    pub error: String,
}

pub struct FlagRow {
    pub id: String,
    pub kind: String,
    pub person_id: String,
    pub remote_id: String,
    pub detail: String,
    pub created_at: String,
}

fn profile_row(p: &Value) -> ProfileRow {
    ProfileRow {
        id: text(&p["id"]),
        name: text(&p["name"]),
        entry_point: text(&p["entry_point"]),
        rate: text(&p["max_requests_per_second"]),
        schedule: schedules(p),
        policy: text(&p["conflict_policy"]).replace('_', " "),
    }
}

/// "people (both) every 15 min; donations (both) every 60 min", or "manual".
fn schedules(p: &Value) -> String {
    let listed = p["schedules"].as_array().cloned().unwrap_or_default();
    let all: Vec<String> = std::iter::once(&p["schedule"])
        .chain(&listed)
        .filter_map(|s| {
            let minutes = s["every_minutes"].as_u64()?;
            Some(format!(
                "{} ({}) every {minutes} min",
                text(&s["job"]),
                text(&s["origin"])
            ))
        })
        .collect();
    if all.is_empty() {
        "manual".to_owned()
    } else {
        all.join("; ")
    }
}

fn run_row(r: &Value) -> RunRow {
    RunRow {
        id: text(&r["id"]),
        job: text(&r["job"]),
        origin: text(&r["origin"]),
        state: text(&r["state"]),
        counts: r["counts"]
            .as_object()
            .map(|c| {
                c.iter()
                    .map(|(k, v)| (k.replace('_', " "), text(v)))
                    .collect()
            })
            .unwrap_or_default(),
        created_at: text(&r["created_at"]),
        finished_at: text(&r["finished_at"]),
        error: text(&r["error"]),
    }
}

fn flag_row(f: &Value) -> FlagRow {
    FlagRow {
        id: text(&f["id"]),
        kind: text(&f["kind"]).replace('_', " "),
        person_id: text(&f["person_id"]),
        remote_id: text(&f["remote_id"]),
        detail: text(&f["detail"]),
        created_at: text(&f["created_at"]),
    }
}

#[derive(Template)]
#[template(path = "admin/crm.html")]
struct CrmPage {
    nav: Option<Nav>,
    csrf: String,
    profiles: Vec<ProfileRow>,
    /// The profile search, and the cursor of the next page of profiles.
    q: String,
    more_profiles: Option<String>,
    flags: Vec<FlagRow>,
    more_flags: Option<String>,
    /// This page, for the flags' next link.
    here: String,
    /// The add form, as sent back after a refusal (empty otherwise).
    form: FormState,
}

/// The cursors of the lists on a CRM page.
#[derive(serde::Deserialize, Default)]
pub struct Cursors {
    runs: Option<String>,
    flags: Option<String>,
    /// The profiles' search and page.
    q: Option<String>,
    profiles: Option<String>,
}

/// A page of open flags (20) and the cursor of the next.
async fn open_flags(
    state: &AppState,
    viewer: &Viewer,
    profile: Option<&str>,
    cursor: Option<&str>,
) -> Result<(Vec<FlagRow>, Option<String>), ApiError> {
    let query = serde_json::from_value(json!({"profile": profile, "cursor": cursor, "limit": 20}))
        .map_err(|e| ApiError::Internal(e.into()))?;
    let flags = osdi::list_flags(
        State(state.clone()),
        Caller(principal(viewer)),
        Query(query),
    )
    .await?;
    Ok((
        rows(&flags.0, flag_row),
        super::forms::next_cursor(&flags.0),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Query(q): axum::extract::Query<Cursors>,
) -> Response {
    if let Some(r) = admins_only(&viewer, HERE) {
        return r;
    }
    list_page(&state, &viewer, q, FormState::default()).await
}

async fn list_page(state: &AppState, viewer: &Viewer, at: Cursors, form: FormState) -> Response {
    let (search, query) = super::forms::searched(at.q.as_deref(), at.profiles);
    let listed = osdi::list_profiles(
        State(state.clone()),
        Caller(principal(viewer)),
        crate::extract::Query(query),
    )
    .await
    .map(|list| serde_json::to_value(list.0).unwrap_or_default());
    let flags = open_flags(state, viewer, None, at.flags.as_deref()).await;
    match (listed, flags) {
        (Ok(profiles), Ok((flags, more_flags))) => render(
            StatusCode::OK,
            &CrmPage {
                nav: Nav::of(viewer, HERE),
                csrf: viewer.csrf.clone(),
                profiles: rows(&profiles, profile_row),
                q: search,
                more_profiles: super::forms::next_cursor(&profiles),
                flags,
                more_flags,
                here: "/admin/crm".into(),
                form,
            },
        ),
        (Err(e), _) | (_, Err(e)) => refused(viewer, HERE, e),
    }
}

/// A whole number typed in `name`, or the form sent back saying it is not one.
fn whole(form: &Fields, name: &str) -> Result<Option<u32>, FormState> {
    match field(form, name) {
        None => Ok(None),
        Some(raw) => raw
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| FormState::with_error(form, name, "must be a whole number".into())),
    }
}

pub async fn create(State(state): State<AppState>, Posted(viewer, form): Posted) -> Response {
    if let Some(r) = admins_only(&viewer, HERE) {
        return r;
    }
    let mut body = json!({"name": field(&form, "name"), "entry_point": field(&form, "entry_point"),
        "api_token": field(&form, "api_token"), "conflict_policy": field(&form, "conflict_policy"),
        "remote_delete_mode": field(&form, "remote_delete_mode"), "sync_tags": form.contains_key("sync_tags")});
    let numbers = whole(&form, "max_requests_per_second")
        .and_then(|rate| Ok((rate, whole(&form, "every_minutes")?)));
    let (rate, every) = match numbers {
        Ok(n) => n,
        Err(sent_back) => return list_page(&state, &viewer, Cursors::default(), sent_back).await,
    };
    body["max_requests_per_second"] = json!(rate);
    if let Some(m) = every {
        body["schedule"] = json!({"every_minutes": m});
    }
    let made = match serde_json::from_value(body) {
        Ok(input) => {
            osdi::create_profile(
                State(state.clone()),
                Caller(principal(&viewer)),
                JsonBody(input),
            )
            .await
        }
        Err(e) => Err(ApiError::field("body", e.to_string())),
    };
    match made {
        Ok((_, profile)) => Redirect::to(&format!("/admin/crm/{}", profile.0.id())).into_response(),
        Err(e) => {
            list_page(
                &state,
                &viewer,
                Cursors::default(),
                FormState::refused(&form, &e),
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/crm_profile.html")]
struct ProfilePage {
    nav: Option<Nav>,
    csrf: String,
    profile: ProfileRow,
    delete_mode: String,
    sync_tags: bool,
    /// "everyone", or the tag a limited profile syncs.
    scope: String,
    /// Where local donations are created, or "not pushed".
    fundraising_page: String,
    realtime: bool,
    runs: Vec<RunRow>,
    more_runs: Option<String>,
    flags: Vec<FlagRow>,
    more_flags: Option<String>,
    here: String,
}

pub async fn profile(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Cursors>,
) -> Response {
    if let Some(r) = admins_only(&viewer, HERE) {
        return r;
    }
    let caller = || Caller(principal(&viewer));
    let shown = osdi::get_profile(State(state.clone()), caller(), Path(id.clone())).await;
    let runs_query = osdi::ListQuery {
        cursor: q.runs.clone(),
        limit: Some(20),
    };
    let runs = osdi::list_runs(
        State(state.clone()),
        caller(),
        Path(id.clone()),
        Query(runs_query),
    )
    .await;
    let flags = open_flags(&state, &viewer, Some(&id), q.flags.as_deref()).await;
    match (shown, runs, flags) {
        (Ok(p), Ok(runs), Ok((flags, more_flags))) => {
            let p = serde_json::to_value(&p.0).unwrap_or_default();
            render(
                StatusCode::OK,
                &ProfilePage {
                    nav: Nav::of(&viewer, HERE),
                    csrf: viewer.csrf.clone(),
                    delete_mode: text(&p["remote_delete_mode"]),
                    sync_tags: p["sync_tags"].as_bool().unwrap_or(false),
                    scope: p["limit_to_tag"]
                        .as_str()
                        .map_or("everyone".to_owned(), |t| format!("people tagged {t}")),
                    fundraising_page: p["fundraising_page"].as_str().map_or(
                        "none: local donations are not pushed".to_owned(),
                        str::to_owned,
                    ),
                    realtime: p["realtime"].as_bool().unwrap_or(false),
                    profile: profile_row(&p),
                    more_runs: super::forms::next_cursor(&runs.0),
                    runs: rows(&runs.0, run_row),
                    flags,
                    more_flags,
                    here: format!("/admin/crm/{id}"),
                },
            )
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => refused(&viewer, HERE, e),
    }
}

pub async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(viewer, form): Posted,
) -> Response {
    if let Some(r) = admins_only(&viewer, HERE) {
        return r;
    }
    let input = serde_json::from_value(
        json!({"job": field(&form, "job"), "origin": field(&form, "origin")}),
    );
    let Ok(input) = input else {
        return refused(&viewer, HERE, ApiError::field("job", "is required"));
    };
    match osdi::start_run(
        State(state),
        Caller(principal(&viewer)),
        Path(id),
        JsonBody(input),
    )
    .await
    {
        Ok((_, run)) => Redirect::to(&format!("/admin/crm/runs/{}", run.0.id())).into_response(),
        Err(e) => refused(&viewer, HERE, e),
    }
}

pub struct RecordRow {
    pub outcome: String,
    pub person_id: String,
    pub remote_id: String,
    pub fields: String,
    pub conflicts: String,
    pub at: String,
}

pub struct ErrorRow {
    pub kind: String,
    pub status: String,
    pub person_id: String,
    pub remote_id: String,
    pub excerpt: String,
}

#[derive(Template)]
#[template(path = "admin/crm_run.html")]
struct RunPage {
    nav: Option<Nav>,
    view: RunView,
}

/// The state, counts, errors and log of a run: the run page's body, polled while it is live.
#[derive(Template)]
#[template(path = "admin/crm_progress.html")]
struct RunView {
    run: RunRow,
    profile_id: String,
    live: bool,
    records: Vec<RecordRow>,
    errors: Vec<ErrorRow>,
    next: Option<i64>,
    after: Option<i64>,
}

async fn load_run(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    after: Option<i64>,
) -> Result<Value, ApiError> {
    let query = serde_json::from_value(json!({"records_after": after, "records_limit": 100}))
        .map_err(|e| ApiError::Internal(e.into()))?;
    let run = osdi::get_run(
        State(state.clone()),
        Caller(principal(viewer)),
        Path(id.to_owned()),
        Query(query),
    )
    .await?;
    Ok(serde_json::to_value(&run.0).unwrap_or_default())
}

fn is_live(run: &Value) -> bool {
    matches!(run["state"].as_str(), Some("queued" | "running"))
}

#[derive(serde::Deserialize)]
pub struct After {
    after: Option<i64>,
}

fn run_view(run: &Value, after: Option<i64>) -> RunView {
    let records = run["records"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| RecordRow {
                    outcome: text(&r["outcome"]).replace('_', " "),
                    person_id: text(&r["person_id"]),
                    remote_id: text(&r["remote_id"]),
                    fields: changed_fields(&r["fields"]),
                    conflicts: r["conflicts"]
                        .as_array()
                        .map(|c| {
                            c.iter()
                                .map(|c| {
                                    format!(
                                        "{} ({} won)",
                                        text(&c["field"]).replace('_', " "),
                                        text(&c["winner"])
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default(),
                    at: text(&r["at"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let errors = run["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| ErrorRow {
                    kind: text(&e["kind"]),
                    status: text(&e["status"]),
                    person_id: text(&e["person_id"]),
                    remote_id: text(&e["remote_id"]),
                    excerpt: text(&e["excerpt"]),
                })
                .collect()
        })
        .unwrap_or_default();
    RunView {
        live: is_live(run),
        profile_id: text(&run["profile_id"]),
        next: run["next_records_after"].as_i64(),
        run: run_row(run),
        records,
        errors,
        after,
    }
}

/// The run page; `?after=` pages its sync log.
pub async fn run(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<After>,
) -> Response {
    if let Some(r) = admins_only(&viewer, HERE) {
        return r;
    }
    match load_run(&state, &viewer, &id, q.after).await {
        Ok(run) => render(
            StatusCode::OK,
            &RunPage {
                nav: Nav::of(&viewer, HERE),
                view: run_view(&run, q.after),
            },
        ),
        Err(e) => refused(&viewer, HERE, e),
    }
}

/// `{"to_local": [...], "to_remote": [...]}` or a tag as words.
fn changed_fields(v: &Value) -> String {
    let list = |k: &str| {
        v[k].as_array()
            .map(|a| {
                a.iter()
                    .map(|f| text(f).replace('_', " "))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|s| !s.is_empty())
    };
    let mut parts = Vec::new();
    if let Some(l) = list("to_local") {
        parts.push(format!("here: {l}"));
    }
    if let Some(r) = list("to_remote") {
        parts.push(format!("Action Network: {r}"));
    }
    if let Some(tag) = v["tag"].as_str() {
        parts.push(format!("tag {tag}"));
    }
    parts.join("; ")
}

/// The run page's body alone, for htmx to swap in while the run is live.
pub async fn progress(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<After>,
) -> Response {
    if let Some(r) = admins_only(&viewer, HERE) {
        return r;
    }
    match load_run(&state, &viewer, &id, q.after).await {
        Ok(run) => render(StatusCode::OK, &run_view(&run, q.after)),
        Err(e) => refused(&viewer, HERE, e),
    }
}

pub async fn resolve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(viewer, form): Posted,
) -> Response {
    if let Some(r) = admins_only(&viewer, HERE) {
        return r;
    }
    let back = form
        .get("back")
        .filter(|b| b.starts_with("/admin/crm"))
        .cloned();
    match osdi::resolve_flag(State(state), Caller(principal(&viewer)), Path(id)).await {
        Ok(_) => Redirect::to(back.as_deref().unwrap_or("/admin/crm")).into_response(),
        Err(e) => refused(&viewer, HERE, e),
    }
}
