//! Webfilters (admins): CRUD and the log of calls made to each.

use super::deliveries::AttemptBody;
use super::webhooks::{check_description, check_encoding, check_url};
use super::{List, require_admin, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Query, Search, patch_field};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::webfilter::{FilterType, OnFailure, Webfilter};
use convene_core::webhook::TargetUrl;
use convene_core::{FieldErrors, WebfilterId};
use convene_delivery::filters::Verdict;
use convene_store::NewWebfilter;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webfilter, list_webfilters))
        .routes(routes!(get_webfilter, update_webfilter, delete_webfilter))
        .routes(routes!(filter_calls))
        .routes(routes!(test_webfilter))
}

const DEFAULT_TIMEOUT_MS: u32 = 2000;
const MAX_TIMEOUT_MS: u32 = 30_000;
const CALLS_SHOWN: u32 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebfilterBody {
    id: String,
    filter_type: String,
    url: String,
    enabled: bool,
    description: Option<String>,
    disable_filtering: bool,
    disable_halt: bool,
    halt_on_4xx: bool,
    redirect_on_4xx: Option<String>,
    halt_on_5xx: bool,
    redirect_on_5xx: Option<String>,
    halt_on_request_exception: bool,
    redirect_on_request_exception: Option<String>,
    encoding: String,
    timeout_ms: u32,
    created_at: String,
    updated_at: String,
}

fn redirect(o: &OnFailure) -> Option<String> {
    o.redirect_to.as_ref().map(|u| u.as_str().to_owned())
}

impl From<Webfilter> for WebfilterBody {
    fn from(f: Webfilter) -> Self {
        Self {
            id: f.id.to_string(),
            filter_type: f.filter_type.as_str().to_owned(),
            url: f.url.as_str().to_owned(),
            enabled: f.enabled,
            description: f.description,
            disable_filtering: f.disable_filtering,
            disable_halt: f.disable_halt,
            halt_on_4xx: f.on_4xx.halt,
            redirect_on_4xx: redirect(&f.on_4xx),
            halt_on_5xx: f.on_5xx.halt,
            redirect_on_5xx: redirect(&f.on_5xx),
            halt_on_request_exception: f.on_request_exception.halt,
            redirect_on_request_exception: redirect(&f.on_request_exception),
            encoding: f.encoding,
            timeout_ms: f.timeout_ms,
            created_at: rfc3339(f.created_at),
            updated_at: rfc3339(f.updated_at),
        }
    }
}

/// Create and change bodies alike: every member optional (create requires `filter_type`, `url`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct WebfilterInput {
    /// `participant.registration.requested`, `participant.cancellation.requested`,
    /// `event.creation.requested` or `event.update.requested` (fixed once created).
    filter_type: Option<String>,
    url: Option<String>,
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    /// Ignore the reply's `data`.
    disable_filtering: Option<bool>,
    /// Ignore the reply's `exception`.
    disable_halt: Option<bool>,
    halt_on_4xx: Option<bool>,
    /// Where a halt on 4xx sends the user (`redirect_to` of the 403).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    redirect_on_4xx: Option<Option<String>>,
    halt_on_5xx: Option<bool>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    redirect_on_5xx: Option<Option<String>>,
    /// Halt when the filter cannot be reached or does not answer in time.
    halt_on_request_exception: Option<bool>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    redirect_on_request_exception: Option<Option<String>>,
    /// `json` (default) or `form`.
    encoding: Option<String>,
    /// 1-30000, default 2000.
    timeout_ms: Option<u32>,
}

fn set_redirect(
    errors: &mut FieldErrors,
    field: &str,
    change: Option<Option<String>>,
    into: &mut Option<TargetUrl>,
) {
    match change {
        None => {}
        Some(None) => *into = None,
        Some(Some(raw)) => {
            if let Some(url) = errors.check(field, TargetUrl::parse(&raw)) {
                *into = Some(url);
            }
        }
    }
}

impl WebfilterInput {
    /// Applies the members given onto `f`.
    fn apply(self, mut f: Webfilter) -> Result<Webfilter, FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(raw) = self.filter_type
            && FilterType::parse(&raw) != Some(f.filter_type)
        {
            errors.add("filter_type", "cannot change; create another webfilter");
        }
        if let Some(url) = self.url.and_then(|u| check_url(&mut errors, u)) {
            f.url = url;
        }
        if let Some(description) = self.description {
            f.description = check_description(&mut errors, description);
        }
        if let Some(encoding) = self.encoding.and_then(|e| check_encoding(&mut errors, &e)) {
            f.encoding = encoding.as_str().to_owned();
        }
        if let Some(ms) = self.timeout_ms {
            if (1..=MAX_TIMEOUT_MS).contains(&ms) {
                f.timeout_ms = ms;
            } else {
                errors.add("timeout_ms", format!("must be 1-{MAX_TIMEOUT_MS}"));
            }
        }
        let flags = [
            (self.enabled, &mut f.enabled),
            (self.disable_filtering, &mut f.disable_filtering),
            (self.disable_halt, &mut f.disable_halt),
            (self.halt_on_4xx, &mut f.on_4xx.halt),
            (self.halt_on_5xx, &mut f.on_5xx.halt),
            (
                self.halt_on_request_exception,
                &mut f.on_request_exception.halt,
            ),
        ];
        for (given, field) in flags {
            if let Some(value) = given {
                *field = value;
            }
        }
        set_redirect(
            &mut errors,
            "redirect_on_4xx",
            self.redirect_on_4xx,
            &mut f.on_4xx.redirect_to,
        );
        set_redirect(
            &mut errors,
            "redirect_on_5xx",
            self.redirect_on_5xx,
            &mut f.on_5xx.redirect_to,
        );
        set_redirect(
            &mut errors,
            "redirect_on_request_exception",
            self.redirect_on_request_exception,
            &mut f.on_request_exception.redirect_to,
        );
        errors.finish(|| f)
    }
}

/// A webfilter, called before every action of its type.
#[utoipa::path(post, path = "/webfilters", tag = "webfilters", request_body = WebfilterInput,
    responses((status = 201, body = WebfilterBody), (status = 403), (status = 422)))]
pub(crate) async fn create_webfilter(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(mut body): JsonBody<WebfilterInput>,
) -> ApiResult<(StatusCode, Json<WebfilterBody>)> {
    require_admin(&caller)?;
    let mut errors = FieldErrors::new();
    let filter_type = errors
        .require("filter_type", body.filter_type.take())
        .and_then(|raw| {
            errors.check(
                "filter_type",
                FilterType::parse(&raw).ok_or("is not a known filter type"),
            )
        });
    let url = errors
        .require("url", body.url.take())
        .and_then(|u| check_url(&mut errors, u));
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let now = state.clock.now();
    // A template filled by the same rules as a change.
    let draft = Webfilter {
        id: WebfilterId::new(),
        filter_type: filter_type.expect("checked"),
        url: url.expect("checked"),
        enabled: true,
        description: None,
        disable_filtering: false,
        disable_halt: false,
        on_4xx: OnFailure::default(),
        on_5xx: OnFailure::default(),
        on_request_exception: OnFailure::default(),
        encoding: "json".into(),
        timeout_ms: DEFAULT_TIMEOUT_MS,
        created_at: now,
        updated_at: now,
    };
    let f = body.apply(draft)?;
    let new = NewWebfilter {
        filter_type: f.filter_type,
        url: f.url,
        enabled: f.enabled,
        description: f.description,
        disable_filtering: f.disable_filtering,
        disable_halt: f.disable_halt,
        on_4xx: f.on_4xx,
        on_5xx: f.on_5xx,
        on_request_exception: f.on_request_exception,
        encoding: f.encoding,
        timeout_ms: f.timeout_ms,
    };
    let saved = state.store.create_webfilter(new, now).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(get, path = "/webfilters", tag = "webfilters", params(Search), responses((status = 200, body = List<WebfilterBody>)))]
pub(crate) async fn list_webfilters(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<Search>,
) -> ApiResult<Json<List<WebfilterBody>>> {
    require_admin(&caller)?;
    let (search, page) = (query.needle()?, query.page()?);
    let page = state.store.list_webfilters(search, &page).await?;
    Ok(Json(List::from_page(page, WebfilterBody::from)))
}

async fn webfilter_at(state: &AppState, raw: &str) -> ApiResult<Webfilter> {
    let id = WebfilterId::parse(raw).ok_or(ApiError::NotFound)?;
    state.store.webfilter(&id).await?.ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/webfilters/{id}", tag = "webfilters", params(("id" = String, Path)),
    responses((status = 200, body = WebfilterBody), (status = 404)))]
async fn get_webfilter(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebfilterBody>> {
    require_admin(&caller)?;
    Ok(Json(webfilter_at(&state, &id).await?.into()))
}

#[utoipa::path(patch, path = "/webfilters/{id}", tag = "webfilters", params(("id" = String, Path)), request_body = WebfilterInput,
    responses((status = 200, body = WebfilterBody), (status = 404), (status = 422)))]
async fn update_webfilter(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<WebfilterInput>,
) -> ApiResult<Json<WebfilterBody>> {
    require_admin(&caller)?;
    let mut f = body.apply(webfilter_at(&state, &id).await?)?;
    f.updated_at = state.clock.now();
    Ok(Json(state.store.update_webfilter(&f).await?.into()))
}

#[utoipa::path(delete, path = "/webfilters/{id}", tag = "webfilters", params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub(crate) async fn delete_webfilter(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&caller)?;
    let f = webfilter_at(&state, &id).await?;
    if state.store.delete_webfilter(&f.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FilterTest {
    /// The action's input, as the filter would get it; default: a sample of its filter type.
    #[schema(value_type = Option<Object>)]
    pub input: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FilterVerdict {
    /// `proceed` or `halt`: what the action would do after this filter alone.
    verdict: &'static str,
    /// The input keys the reply rewrote (writable ones only).
    #[schema(value_type = Object)]
    rewrites: Map<String, Value>,
    /// Why it halts, and where it would send the caller.
    halt: Option<HaltBody>,
    /// The call, as logged.
    call: Option<AttemptBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HaltBody {
    message: String,
    redirect_to: Option<String>,
}

/// Call one webfilter now with an input (enabled or not), and say what it decided; the call is
/// logged with its others. Nothing else happens: no action runs.
#[utoipa::path(post, path = "/webfilters/{id}/test", tag = "webfilters", params(("id" = String, Path)), request_body = FilterTest,
    responses((status = 200, body = FilterVerdict), (status = 404), (status = 422)))]
pub(crate) async fn test_webfilter(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<FilterTest>,
) -> ApiResult<Json<FilterVerdict>> {
    require_admin(&caller)?;
    let filter = webfilter_at(&state, &id).await?;
    let input = match body
        .input
        .unwrap_or_else(|| filter.filter_type.sample_input())
    {
        Value::Object(members) => members,
        _ => return Err(ApiError::field("input", "must be an object")),
    };
    let now = state.clock.now();
    let filters = [filter.clone()];
    let run = convene_delivery::filters::run(
        &state.filter_client,
        filter.filter_type,
        &filters,
        &input,
        now,
    );
    let (verdict, calls) = run.await;
    let call = calls.into_iter().next().map(|(_, call)| call);
    if let Some(call) = &call {
        state.store.log_filter_call(&filter.id, call).await?;
    }
    let (verdict, rewrites, halt) = match verdict {
        Verdict::Proceed(rewrites) => ("proceed", rewrites, None),
        Verdict::Halt(h) => {
            let halt = HaltBody {
                message: h.message,
                redirect_to: h.redirect_to,
            };
            ("halt", Map::new(), Some(halt))
        }
    };
    Ok(Json(FilterVerdict {
        verdict,
        rewrites,
        halt,
        call: call.map(AttemptBody::from),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallList {
    data: Vec<AttemptBody>,
}

/// The latest 100 calls to a webfilter, newest first.
#[utoipa::path(get, path = "/webfilters/{id}/calls", tag = "webfilters", params(("id" = String, Path)),
    responses((status = 200, body = CallList), (status = 404)))]
async fn filter_calls(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CallList>> {
    require_admin(&caller)?;
    let f = webfilter_at(&state, &id).await?;
    let calls = state.store.filter_calls(&f.id, CALLS_SHOWN).await?;
    Ok(Json(CallList {
        data: calls.into_iter().map(AttemptBody::from).collect(),
    }))
}
