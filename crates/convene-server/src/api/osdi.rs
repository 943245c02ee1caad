//! `/api/v1/osdi` (admins): sync profiles (the API token is write-only and sealed), runs (one
//! queued or running per profile; 202 when queued), their sync log and errors, flags that park
//! a pair until someone resolves them, and the events linked to Action Network events.

use super::{List, require_admin, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Query, Search};
use crate::osdi::settings::{Job, Origin, ProfileSettings};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::EventId;
use convene_core::page::Page;
use convene_store::{Flag, NewProfile, Profile, Run};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_profile, list_profiles))
        .routes(routes!(get_profile, update_profile, delete_profile))
        .routes(routes!(start_run, list_runs))
        .routes(routes!(get_run))
        .routes(routes!(list_flags))
        .routes(routes!(resolve_flag))
        .routes(routes!(list_event_links))
        .routes(routes!(link_event, unlink_event))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileBody {
    id: String,
    name: String,
    entry_point: String,
    /// Always true: the token is kept sealed and never shown.
    api_token_set: bool,
    #[serde(flatten)]
    settings: ProfileSettings,
    created_at: String,
    updated_at: String,
}

impl ProfileBody {
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl From<Profile> for ProfileBody {
    fn from(p: Profile) -> Self {
        Self {
            settings: ProfileSettings::from_stored(&p.settings),
            id: p.id,
            name: p.name,
            entry_point: p.entry_point,
            api_token_set: true,
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
        }
    }
}

/// `name`, `entry_point` and `api_token` are required on create; every setting is optional
/// (Appendix A's defaults). `PATCH` takes any of them; a missing `api_token` keeps the old one.
/// Unknown keys are refused by the settings, which the rest of the body is read into.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileInput {
    name: Option<String>,
    entry_point: Option<String>,
    api_token: Option<String>,
    /// Accepted so a profile can be written in the reference configuration's shape (Appendix
    /// A), and ignored: runs use the server's clock.
    #[allow(dead_code)]
    now: Option<String>,
    #[serde(flatten)]
    settings: Map<String, Value>,
}

fn bad(field: &str, detail: &str) -> ApiError {
    ApiError::field(field, detail.to_owned())
}

fn entry_point(raw: &str) -> ApiResult<String> {
    let url =
        url::Url::parse(raw.trim()).map_err(|_| bad("entry_point", "must be an http(s) URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad("entry_point", "must be an http(s) URL"));
    }
    Ok(url.to_string())
}

fn name(raw: &str) -> ApiResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(bad(
            "name",
            "must be 1 to 100 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Settings from `base` with `changes` laid over them, checked.
fn settings(base: &ProfileSettings, changes: Map<String, Value>) -> ApiResult<ProfileSettings> {
    let mut merged = serde_json::to_value(base).map_err(|e| ApiError::Internal(e.into()))?;
    for (k, v) in changes {
        merged[k.as_str()] = v;
    }
    let parsed: ProfileSettings =
        serde_json::from_value(merged).map_err(|e| bad("body", &e.to_string()))?;
    parsed
        .check()
        .map_err(|(field, detail)| bad(field, detail))?;
    Ok(parsed)
}

fn token(raw: &str) -> ApiResult<&str> {
    let t = raw.trim();
    if t.is_empty() || t.len() > 512 || t.chars().any(char::is_control) {
        return Err(bad("api_token", "must be 1 to 512 characters"));
    }
    Ok(t)
}

/// Add a sync profile.
#[utoipa::path(post, path = "/osdi/profiles", tag = "osdi", request_body = ProfileInput,
    responses((status = 201, body = ProfileBody), (status = 403), (status = 409), (status = 422)))]
pub(crate) async fn create_profile(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<ProfileInput>,
) -> ApiResult<(StatusCode, Json<ProfileBody>)> {
    require_admin(&caller)?;
    let new = NewProfile {
        name: name(
            input
                .name
                .as_deref()
                .ok_or_else(|| bad("name", "is required"))?,
        )?,
        entry_point: entry_point(
            input
                .entry_point
                .as_deref()
                .ok_or_else(|| bad("entry_point", "is required"))?,
        )?,
        token_sealed: state.keys.seal(token(
            input
                .api_token
                .as_deref()
                .ok_or_else(|| bad("api_token", "is required"))?,
        )?),
        settings: json!(settings(&ProfileSettings::default(), input.settings)?),
    };
    let profile = state.store.create_profile(&new, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(profile.into())))
}

#[utoipa::path(get, path = "/osdi/profiles", tag = "osdi", params(Search),
    responses((status = 200, body = List<ProfileBody>), (status = 403), (status = 422)))]
pub(crate) async fn list_profiles(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<Search>,
) -> ApiResult<Json<List<ProfileBody>>> {
    let page = query.page()?;
    require_admin(&caller)?;
    // A handful of profiles, each a configured connection: read whole, searched here.
    let mut all = state.store.list_profiles().await?;
    if let Some(needle) = query.needle()? {
        all.retain(|p| {
            convene_core::search::contains(&p.name, needle)
                || convene_core::search::contains(p.entry_point.as_str(), needle)
        });
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let page = Page::of_sorted(all, &page, |p| p.id.clone());
    Ok(Json(List::from_page(page, Into::into)))
}

pub(crate) async fn profile_at(state: &AppState, id: &str) -> ApiResult<Profile> {
    state.store.profile(id).await?.ok_or(ApiError::NotFound)
}

/// A profile, by id or name.
#[utoipa::path(get, path = "/osdi/profiles/{id}", tag = "osdi", params(("id" = String, Path)),
    responses((status = 200, body = ProfileBody), (status = 403), (status = 404)))]
pub(crate) async fn get_profile(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ProfileBody>> {
    require_admin(&caller)?;
    Ok(Json(profile_at(&state, &id).await?.into()))
}

/// Change a profile; settings not given keep their values, a new `api_token` replaces the old.
#[utoipa::path(patch, path = "/osdi/profiles/{id}", tag = "osdi", params(("id" = String, Path)), request_body = ProfileInput,
    responses((status = 200, body = ProfileBody), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn update_profile(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ProfileInput>,
) -> ApiResult<Json<ProfileBody>> {
    require_admin(&caller)?;
    let current = profile_at(&state, &id).await?;
    let new = NewProfile {
        name: match input.name.as_deref() {
            Some(n) => name(n)?,
            None => current.name.clone(),
        },
        entry_point: match input.entry_point.as_deref() {
            Some(e) => entry_point(e)?,
            None => current.entry_point.clone(),
        },
        token_sealed: match input.api_token.as_deref() {
            Some(t) => state.keys.seal(token(t)?),
            None => current.token_sealed.clone(),
        },
        settings: json!(settings(
            &ProfileSettings::from_stored(&current.settings),
            input.settings
        )?),
    };
    let profile = state
        .store
        .update_profile(&current.id, &new, state.clock.now())
        .await?;
    Ok(Json(profile.into()))
}

/// Delete a profile with its runs, pairs, flags and cursors (people stay).
#[utoipa::path(delete, path = "/osdi/profiles/{id}", tag = "osdi", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
async fn delete_profile(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&caller)?;
    let profile = profile_at(&state, &id).await?;
    if state.store.delete_profile(&profile.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunBody {
    id: String,
    profile_id: String,
    job: String,
    origin: String,
    /// `queued`, `running`, `completed`, `aborted`.
    state: String,
    /// Pairs visited per outcome, plus `errors`.
    #[schema(value_type = Object)]
    counts: Value,
    error: Option<String>,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    /// The sync log: one row per pair visited (on `GET /osdi/runs/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    records: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_records_after: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    errors: Option<Vec<Value>>,
}

impl RunBody {
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl From<Run> for RunBody {
    fn from(r: Run) -> Self {
        Self {
            id: r.id,
            profile_id: r.profile_id,
            job: r.job,
            origin: r.origin,
            state: r.state,
            counts: r.counts,
            error: r.error,
            created_at: rfc3339(r.created_at),
            started_at: r.started_at.map(rfc3339),
            finished_at: r.finished_at.map(rfc3339),
            records: None,
            next_records_after: None,
            errors: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// `people` (default), `tags`, `attendances`.
    job: Option<String>,
    /// `remote`, `local`, `both` (default).
    origin: Option<String>,
}

/// Queue a run of a profile; 409 `run_in_progress` while one is queued or running, 422 for a
/// tags run while the profile's `sync_tags` is off.
#[utoipa::path(post, path = "/osdi/profiles/{id}/runs", tag = "osdi", params(("id" = String, Path)), request_body = RunInput,
    responses((status = 202, body = RunBody), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn start_run(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<RunInput>,
) -> ApiResult<(StatusCode, Json<RunBody>)> {
    require_admin(&caller)?;
    let profile = profile_at(&state, &id).await?;
    let job = match input.job.as_deref() {
        None => Job::People,
        Some(j) => Job::parse_requested(j)
            .ok_or_else(|| bad("job", &format!("must be {}", Job::REQUESTABLE)))?,
    };
    let origin = match input.origin.as_deref() {
        None => Origin::Both,
        Some(o) => {
            Origin::parse(o).ok_or_else(|| bad("origin", "must be remote, local or both"))?
        }
    };
    if job == Job::Tags && !ProfileSettings::from_stored(&profile.settings).sync_tags {
        return Err(bad("job", "tag sync is off for this profile (sync_tags)"));
    }
    let run = state
        .store
        .enqueue_run(
            &profile.id,
            job.as_str(),
            origin.as_str(),
            state.clock.now(),
        )
        .await?;
    state.wake_workers();
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `next_cursor` of the page before.
    pub(crate) cursor: Option<String>,
    /// 1 to 100, default 50.
    #[serde(default, deserialize_with = "crate::extract::empty_is_none")]
    pub(crate) limit: Option<u32>,
}

impl ListQuery {
    fn limit(&self) -> u32 {
        self.limit.unwrap_or(50).clamp(1, 100)
    }
}

/// `{"data", "next_cursor"}` of a newest-first list paged by the last item's id.
fn page_of<T: Serialize>(items: Vec<T>, limit: u32, id: impl Fn(&T) -> String) -> Value {
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(&id))
        .flatten();
    json!({"data": items, "next_cursor": next})
}

/// A profile's runs, newest first.
#[utoipa::path(get, path = "/osdi/profiles/{id}/runs", tag = "osdi", params(("id" = String, Path), ListQuery),
    responses((status = 200, body = List<RunBody>), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn list_runs(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    require_admin(&caller)?;
    let profile = profile_at(&state, &id).await?;
    let runs: Vec<RunBody> = state
        .store
        .list_runs(Some(&profile.id), query.cursor.as_deref(), query.limit())
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(page_of(runs, query.limit(), |r| r.id.clone())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    /// Sync log rows after this sequence number (from `next_records_after`).
    #[serde(default, deserialize_with = "crate::extract::empty_is_none")]
    records_after: Option<i64>,
    /// Rows per page: 1 to 1000, default 200.
    #[serde(default, deserialize_with = "crate::extract::empty_is_none")]
    records_limit: Option<u32>,
}

/// A run: state, counts, the sync log (paged) and its errors.
#[utoipa::path(get, path = "/osdi/runs/{id}", tag = "osdi", params(("id" = String, Path), RecordsQuery),
    responses((status = 200, body = RunBody), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn get_run(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<RecordsQuery>,
) -> ApiResult<Json<RunBody>> {
    require_admin(&caller)?;
    let run = state.store.run(&id).await?.ok_or(ApiError::NotFound)?;
    let limit = query.records_limit.unwrap_or(200).clamp(1, 1000);
    let records = state
        .store
        .run_records(&run.id, query.records_after.unwrap_or(0), limit)
        .await?;
    let errors = state.store.run_errors(&run.id, 1000).await?;
    let mut body = RunBody::from(run);
    body.next_records_after = (records.len() == limit as usize)
        .then(|| records.last().map(|(s, _)| *s))
        .flatten();
    body.records = Some(
        records
            .into_iter()
            .map(|(seq, r)| {
                json!({"seq": seq, "person_id": r.person_id, "remote_id": r.remote_id, "outcome": r.outcome,
                    "fields": r.fields, "conflicts": r.conflicts, "at": rfc3339(r.at)})
            })
            .collect(),
    );
    body.errors = Some(
        errors
            .into_iter()
            .map(|e| {
                json!({"kind": e.kind, "retryable": e.retryable, "person_id": e.person_id, "remote_id": e.remote_id,
                    "status": e.status, "excerpt": e.excerpt, "at": rfc3339(e.at)})
            })
            .collect(),
    );
    Ok(Json(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlagBody {
    id: String,
    profile_id: String,
    /// `email_conflict_remote`, `ambiguous_match`, `ambiguous_match_remote`, `email_linked_elsewhere`.
    kind: String,
    person_id: Option<String>,
    remote_id: Option<String>,
    detail: String,
    /// `open` or `resolved`.
    status: String,
    created_at: String,
    resolved_at: Option<String>,
}

impl From<Flag> for FlagBody {
    fn from(f: Flag) -> Self {
        Self {
            id: f.id,
            profile_id: f.profile_id,
            kind: f.kind,
            person_id: f.person_id,
            remote_id: f.remote_id,
            detail: f.detail,
            status: f.status,
            created_at: rfc3339(f.created_at),
            resolved_at: f.resolved_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FlagQuery {
    /// A profile's id or name.
    profile: Option<String>,
    /// `open` (default) or `all`.
    status: Option<String>,
    cursor: Option<String>,
    /// 1 to 100, default 50.
    #[serde(default, deserialize_with = "crate::extract::empty_is_none")]
    limit: Option<u32>,
}

/// Flags: pairs parked until a person resolves them (open ones by default).
#[utoipa::path(get, path = "/osdi/flags", tag = "osdi", params(FlagQuery),
    responses((status = 200, body = List<FlagBody>), (status = 403), (status = 422)))]
pub(crate) async fn list_flags(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<FlagQuery>,
) -> ApiResult<Json<Value>> {
    require_admin(&caller)?;
    let open_only = match query.status.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(_) => {
            return Err(ApiError::BadRequest {
                code: "bad_query",
                detail: "status must be open or all".into(),
            });
        }
    };
    let profile = match query.profile.as_deref() {
        Some(p) => Some(profile_at(&state, p).await?.id),
        None => None,
    };
    let limit = query.limit.unwrap_or(50).clamp(1, 100);
    let flags: Vec<FlagBody> = state
        .store
        .list_flags(
            profile.as_deref(),
            open_only,
            query.cursor.as_deref(),
            limit,
        )
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(page_of(flags, limit, |f| f.id.clone())))
}

/// Resolve a flag: the pair syncs again on the next run.
#[utoipa::path(post, path = "/osdi/flags/{id}/resolve", tag = "osdi", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub(crate) async fn resolve_flag(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&caller)?;
    if state.store.resolve_flag(&id, state.clock.now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Events linked to Action Network events (their attendances sync).
#[utoipa::path(get, path = "/osdi/profiles/{id}/events", tag = "osdi", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 403), (status = 404)))]
async fn list_event_links(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    require_admin(&caller)?;
    let profile = profile_at(&state, &id).await?;
    let links: Vec<Value> = state
        .store
        .event_links(&profile.id)
        .await?
        .into_iter()
        .map(|(e, r)| json!({"event_id": e.as_str(), "remote_event_id": r}))
        .collect();
    Ok(Json(json!({"data": links})))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventLinkInput {
    /// The Action Network event's id.
    remote_event_id: String,
}

/// Link an event to an Action Network event.
#[utoipa::path(put, path = "/osdi/profiles/{id}/events/{event_id}", tag = "osdi",
    params(("id" = String, Path), ("event_id" = String, Path)), request_body = EventLinkInput,
    responses((status = 204), (status = 403), (status = 404), (status = 422)))]
async fn link_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, event_id)): Path<(String, String)>,
    JsonBody(input): JsonBody<EventLinkInput>,
) -> ApiResult<StatusCode> {
    require_admin(&caller)?;
    let profile = profile_at(&state, &id).await?;
    let event = EventId::parse(&event_id).ok_or(ApiError::NotFound)?;
    let remote = input.remote_event_id.trim();
    if remote.is_empty() || remote.len() > 200 || remote.contains(['/', '?', '#']) {
        return Err(bad("remote_event_id", "must be an Action Network event id"));
    }
    state.store.link_event(&profile.id, &event, remote).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/osdi/profiles/{id}/events/{event_id}", tag = "osdi",
    params(("id" = String, Path), ("event_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
async fn unlink_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, event_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    require_admin(&caller)?;
    let profile = profile_at(&state, &id).await?;
    let event = EventId::parse(&event_id).ok_or(ApiError::NotFound)?;
    if state.store.unlink_event(&profile.id, &event).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
