//! The Event Center side towards a remote Dashboard: link an event to a course
//! (`confirm_event_sync`, dry run first), see the link and its pushes, unlink (`unsync_event`);
//! and the sync log of an event, both directions.

use super::{EventAccess, List, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::event_sync::{Answer, DashboardCall, log_call};
use crate::extract::{Caller, JsonBody, PageQuery, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::access::Principal;
use convene_core::event::Event;
use convene_core::job::JobKind;
use convene_core::sync::{DashboardLink, Endpoint, SyncCall, dashboard_base};
use convene_core::validation::FieldErrors;
use convene_store::LinkWrite;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_link, put_link, delete_link))
        .routes(routes!(push_now))
        .routes(routes!(sync_log))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PutLink {
    /// The Dashboard's base URL, e.g. `https://outreachdashboard.wmflabs.org/`.
    base_url: Option<Value>,
    /// The course slug (`School/Course_(term)`).
    course_slug: Option<Value>,
    /// The Dashboard's shared secret. Write-only.
    secret: Option<Value>,
    /// Who confirms as facilitator; default: the event's organizers.
    organizer_usernames: Option<Vec<String>>,
    /// Validate with a dry run before linking (default true).
    dry_run_first: Option<bool>,
}

/// A link to a remote Dashboard course. The secret is never shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkBody {
    base_url: String,
    course_slug: String,
    /// The id this server sends as `event_id`: the event's id.
    event_id: String,
    linked_at: String,
    /// `linked`, `pushing` (a push waits or is being retried) or `failed` (the last push was
    /// refused; the next change tries again).
    state: String,
    last_push_at: Option<String>,
    /// `success`, or the Dashboard's error code or the failure's class.
    last_push_result: Option<String>,
    pending_push: bool,
    /// Failed attempts of the waiting push, its next attempt and last error.
    push_attempts: u32,
    next_push_at: Option<String>,
    last_error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncCallBody {
    id: String,
    at: String,
    /// `inbound` (an Event Center called this server) or `outbound` (this server called a
    /// Dashboard).
    direction: String,
    endpoint: String,
    course_slug: String,
    event_center_event_id: Option<String>,
    dry_run: bool,
    /// `success` or the error code.
    outcome: String,
    status: Option<u16>,
    added: u32,
    removed: u32,
    skipped: u32,
    detail: Option<String>,
}

impl From<SyncCall> for SyncCallBody {
    fn from(c: SyncCall) -> Self {
        Self {
            id: c.id,
            at: rfc3339(c.at),
            direction: c.direction.as_str().to_owned(),
            endpoint: c.endpoint.as_str().to_owned(),
            course_slug: c.course_slug,
            event_center_event_id: c.center_event_id,
            dry_run: c.dry_run,
            outcome: c.outcome,
            status: c.status,
            added: c.added,
            removed: c.removed,
            skipped: c.skipped,
            detail: c.detail,
        }
    }
}

async fn manage(state: &AppState, caller: &Principal, id: &str) -> ApiResult<Event> {
    let access = EventAccess::load(state, caller, id).await?;
    access.require_manager()?;
    Ok(access.event)
}

/// The event the caller manages, with its link (404 when it has none).
async fn linked(
    state: &AppState,
    caller: &Principal,
    id: &str,
) -> ApiResult<(Event, DashboardLink)> {
    let event = manage(state, caller, id).await?;
    let link = state
        .store
        .dashboard_link(&event.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((event, link))
}

async fn view(state: &AppState, link: DashboardLink) -> ApiResult<LinkBody> {
    let job = state
        .store
        .pending_job(JobKind::DashboardPush, link.event.as_str())
        .await?;
    let failed = link
        .last_push_result
        .as_deref()
        .is_some_and(|r| r != "success");
    Ok(LinkBody {
        base_url: link.base_url.as_str().to_owned(),
        course_slug: link.course_slug,
        event_id: link.event.to_string(),
        linked_at: rfc3339(link.linked_at),
        state: match (&job, failed) {
            (Some(_), _) => "pushing",
            (None, true) => "failed",
            (None, false) => "linked",
        }
        .to_owned(),
        last_push_at: link.last_push_at.map(rfc3339),
        last_push_result: link.last_push_result,
        pending_push: job.is_some(),
        push_attempts: job.as_ref().map_or(0, |j| j.attempts),
        next_push_at: job.as_ref().map(|j| rfc3339(j.next_attempt_at)),
        last_error: job.and_then(|j| j.last_error),
    })
}

/// The Dashboard's refusal as this API's error: its code, 409 for its conflicts, 422 for the
/// rest; no usable answer is a 502.
fn remote_error(answer: Answer) -> ApiError {
    const CODES: [&str; 7] = [
        "invalid_secret",
        "course_not_found",
        "not_organizer",
        "already_in_use",
        "sync_already_enabled",
        "missing_event_id",
        "sync_not_enabled",
    ];
    match answer {
        Answer::Success => ApiError::Internal(anyhow::anyhow!("a success is no error")),
        Answer::Refused {
            outcome,
            code,
            message,
        } => {
            let known = CODES.iter().find(|c| **c == code).copied();
            let detail = format!("the Dashboard refused: {message}");
            match (outcome.status(), known) {
                (Some(409), Some(code)) => ApiError::conflict(code, detail),
                (Some(s), Some(code)) if s < 500 => ApiError::Unprocessable { code, detail },
                _ => ApiError::BadGateway {
                    code: "dashboard_error",
                    detail: format!("the Dashboard answered {code}: {message}"),
                },
            }
        }
        Answer::Broken { error, .. } => ApiError::BadGateway {
            code: "dashboard_unreachable",
            detail: format!("no usable answer from the Dashboard: {error}"),
        },
    }
}

/// Calls the Dashboard for `event` and logs the call.
async fn call(
    state: &AppState,
    event: &Event,
    base: &convene_core::webhook::TargetUrl,
    request: DashboardCall<'_>,
) -> ApiResult<Answer> {
    let (endpoint, dry_run) = (request.endpoint, request.dry_run);
    let course = request.course_slug.to_owned();
    let answer = state
        .sync
        .dashboard
        .call(base, &request, state.clock.now())
        .await;
    log_call(
        &*state.store,
        &event.id,
        &course,
        endpoint,
        dry_run,
        &answer,
        state.clock.now(),
    )
    .await?;
    Ok(answer)
}

fn text_field(errors: &mut FieldErrors, name: &str, value: Option<&Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 1024 => {
            Some(s.trim().to_owned())
        }
        Some(Value::String(_)) | None | Some(Value::Null) => {
            errors.add(name, "is required");
            None
        }
        Some(_) => {
            errors.add(name, "must be a string");
            None
        }
    }
}

/// Links the event to a course on a remote Dashboard: `confirm_event_sync` as a dry run, then
/// for real; then its public participants are pushed. The same course again only replaces the
/// secret.
#[utoipa::path(put, path = "/events/{id}/dashboard-link", tag = "event sync", params(("id" = String, Path)),
    request_body = PutLink,
    responses((status = 201, body = LinkBody), (status = 200, body = LinkBody), (status = 403), (status = 404),
        (status = 409, description = "linked to another course, or the Dashboard's conflict code"),
        (status = 422, description = "bad input, or the Dashboard's refusal code"), (status = 502)))]
async fn put_link(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PutLink>,
) -> ApiResult<(StatusCode, Json<LinkBody>)> {
    let event = manage(&state, &caller, &id).await?;
    let mut errors = FieldErrors::new();
    let base = text_field(&mut errors, "base_url", body.base_url.as_ref()).and_then(|raw| {
        dashboard_base(&raw)
            .map_err(|m| errors.add("base_url", m))
            .ok()
    });
    let course_slug = text_field(&mut errors, "course_slug", body.course_slug.as_ref());
    let secret = text_field(&mut errors, "secret", body.secret.as_ref());
    let (Some(base), Some(course_slug), Some(secret)) = (base, course_slug, secret) else {
        return Err(ApiError::Validation(errors));
    };
    let link = DashboardLink {
        event: event.id.clone(),
        base_url: base.clone(),
        course_slug: course_slug.clone(),
        secret: secret.clone(),
        linked_at: state.clock.now(),
        last_push_at: None,
        last_push_result: None,
    };
    if let Some(existing) = state.store.dashboard_link(&event.id).await? {
        if existing.base_url != link.base_url || existing.course_slug != link.course_slug {
            return Err(ApiError::conflict(
                "already_linked",
                "the event is linked to another Dashboard course; unlink it first",
            ));
        }
        state.store.put_dashboard_link(&link).await?;
        let stored = state
            .store
            .dashboard_link(&event.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        return Ok((StatusCode::OK, Json(view(&state, stored).await?)));
    }
    let organizers = match body.organizer_usernames {
        Some(names) => names,
        None => state
            .store
            .organizers(&event.id)
            .await?
            .into_iter()
            .map(|o| o.username.to_string())
            .collect(),
    };
    let confirm = |dry_run: bool| DashboardCall {
        endpoint: Endpoint::Confirm,
        course_slug: &course_slug,
        secret: &secret,
        dry_run,
        // The validation call carries no id, as CampaignEvents' does.
        event_id: (!dry_run).then_some(event.id.as_str()),
        names: Some(organizers.clone()),
    };
    if body.dry_run_first.unwrap_or(true) {
        let answer = call(&state, &event, &base, confirm(true)).await?;
        if answer != Answer::Success {
            return Err(remote_error(answer));
        }
    }
    let answer = call(&state, &event, &base, confirm(false)).await?;
    if answer != Answer::Success {
        return Err(remote_error(answer));
    }
    let status = match state.store.put_dashboard_link(&link).await? {
        LinkWrite::Created => StatusCode::CREATED,
        LinkWrite::Kept => StatusCode::OK,
        LinkWrite::LinkedElsewhere => {
            return Err(ApiError::conflict(
                "already_linked",
                "the event was linked to another Dashboard course meanwhile",
            ));
        }
    };
    state.wake_workers();
    let stored = state
        .store
        .dashboard_link(&event.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((status, Json(view(&state, stored).await?)))
}

#[utoipa::path(get, path = "/events/{id}/dashboard-link", tag = "event sync", params(("id" = String, Path)),
    responses((status = 200, body = LinkBody), (status = 403), (status = 404)))]
async fn get_link(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<LinkBody>> {
    let (_, link) = linked(&state, &caller, &id).await?;
    Ok(Json(view(&state, link).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UnlinkQuery {
    /// `true` removes the link here even when the Dashboard cannot be told.
    force: Option<bool>,
}

/// Unlinks with `unsync_event` (dry run, then for real). A course the Dashboard no longer has,
/// or no longer links, counts as unlinked.
#[utoipa::path(delete, path = "/events/{id}/dashboard-link", tag = "event sync", params(("id" = String, Path), UnlinkQuery),
    responses((status = 204), (status = 403), (status = 404), (status = 422), (status = 502)))]
async fn delete_link(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<UnlinkQuery>,
) -> ApiResult<StatusCode> {
    let (event, link) = linked(&state, &caller, &id).await?;
    let unsync = |dry_run: bool| DashboardCall {
        endpoint: Endpoint::Unsync,
        course_slug: &link.course_slug,
        secret: &link.secret,
        dry_run,
        event_id: Some(event.id.as_str()),
        names: None,
    };
    let gone = |answer: &Answer| match answer {
        Answer::Success => true,
        Answer::Refused { code, .. } => code == "course_not_found" || code == "sync_not_enabled",
        Answer::Broken { .. } => false,
    };
    if !query.force.unwrap_or(false) {
        for dry_run in [true, false] {
            let answer = call(&state, &event, &link.base_url, unsync(dry_run)).await?;
            if !gone(&answer) {
                return Err(remote_error(answer));
            }
            if answer != Answer::Success {
                break;
            }
        }
    }
    state.store.delete_dashboard_link(&event.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a push of the current public participants now (after a refused push was fixed on
/// the Dashboard, say).
#[utoipa::path(post, path = "/events/{id}/dashboard-link/push", tag = "event sync", params(("id" = String, Path)),
    responses((status = 202, body = LinkBody), (status = 403), (status = 404)))]
async fn push_now(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<LinkBody>)> {
    let (event, link) = linked(&state, &caller, &id).await?;
    state
        .store
        .enqueue_job(
            JobKind::DashboardPush,
            event.id.as_str(),
            &serde_json::json!({}),
            state.clock.now(),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(view(&state, link).await?)))
}

/// Every sync call about the event, both directions, newest first.
#[utoipa::path(get, path = "/events/{id}/sync-log", tag = "event sync", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = List<SyncCallBody>), (status = 403), (status = 404)))]
async fn sync_log(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<List<SyncCallBody>>> {
    let event = manage(&state, &caller, &id).await?;
    let page = state.store.sync_calls(&event.id, &query.parse()?).await?;
    Ok(Json(List::from_page(page, SyncCallBody::from)))
}
