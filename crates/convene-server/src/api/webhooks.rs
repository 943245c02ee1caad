//! Webhook endpoints: CRUD, secret rotation, test send. Admins manage all; other users the
//! webhooks they made, which are scoped to events they organise.

use super::webhook_scopes::{authorize_scope, check_scope};
use super::{List, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Query, Search, patch_field};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::access::Principal;
use convene_core::webhook::{EventTypes, SubjectOrder, TargetUrl, Webhook, is_event_type_name};
use convene_core::{FieldErrors, Timestamp, WebhookId};
use convene_delivery::request::RESERVED_HEADERS;
use convene_delivery::signing::{Scheme, SigningKey};
use convene_delivery::wire::Encoding;
use convene_store::NewWebhook;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(test_webhook))
}

const MAX_DESCRIPTION: usize = 1000;
const MAX_HEADERS: usize = 20;
const MAX_RATE: u32 = 10_000;

/// A webhook endpoint. `secret` (a `v1` endpoint's HMAC secret) appears only when created and
/// when rotated; a `v1a` endpoint's private key never leaves, its `public_key` is always shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    id: String,
    url: String,
    /// Event type names, or `["*"]` for all.
    event_types: Vec<String>,
    enabled: bool,
    /// `json` or `form`.
    encoding: String,
    description: Option<String>,
    headers: BTreeMap<String, String>,
    rate_limit_per_s: Option<u32>,
    /// Why the engine turned it off (410 Gone, failing too long), if it did.
    disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    failing_since: Option<String>,
    created_at: String,
    updated_at: String,
    /// Only these events (`null`: not limited to a list).
    event_ids: Option<Vec<String>>,
    /// `"mine"`: only the events its owner organises, now or later.
    events: Option<&'static str>,
    /// Only events carrying one of these channels.
    channels: Option<Vec<String>>,
    /// The user who made it (`null`: the bootstrap token).
    owner_id: Option<String>,
    /// `v1` (HMAC-SHA256) or `v1a` (ed25519).
    signature: &'static str,
    /// `whpk_…`, what receivers of a `v1a` endpoint verify with.
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    /// `none` (default) or `per_subject`: one message about a subject at a time, in order.
    ordering: &'static str,
    /// With `per_subject`: a newer message supersedes queued older ones of its subject.
    coalesce: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl WebhookBody {
    fn new(w: Webhook, show_secret: bool) -> Self {
        let key = SigningKey::parse(&w.secret).ok();
        let scheme = key.as_ref().map_or(Scheme::V1, SigningKey::scheme);
        Self {
            id: w.id.to_string(),
            url: w.url.as_str().to_owned(),
            event_types: w.event_types.to_list(),
            enabled: w.enabled,
            encoding: w.encoding,
            description: w.description,
            headers: w.headers,
            rate_limit_per_s: w.rate_limit_per_s,
            disabled_reason: w.disabled_reason,
            failing_since: w.failing_since.map(rfc3339),
            created_at: rfc3339(w.created_at),
            updated_at: rfc3339(w.updated_at),
            event_ids: w
                .scope
                .event_ids
                .as_ref()
                .map(|ids| ids.iter().map(|i| i.to_string()).collect()),
            events: w.scope.mine.then_some("mine"),
            channels: w
                .scope
                .channels
                .as_ref()
                .map(|c| c.iter().map(|c| c.to_string()).collect()),
            owner_id: w.owner.as_ref().map(|o| o.to_string()),
            signature: scheme.as_str(),
            public_key: key.as_ref().and_then(SigningKey::public_key),
            ordering: if w.order.per_subject() {
                "per_subject"
            } else {
                "none"
            },
            coalesce: w.order.coalesces(),
            secret: (show_secret && scheme == Scheme::V1).then_some(w.secret),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWebhook {
    /// `http` or `https`; private addresses are refused at delivery unless allowed.
    url: Option<String>,
    /// Event type names, or `["*"]`.
    event_types: Option<Vec<String>>,
    enabled: Option<bool>,
    /// `json` (default) or `form`.
    encoding: Option<String>,
    description: Option<String>,
    /// Extra request headers.
    headers: Option<BTreeMap<String, String>>,
    rate_limit_per_s: Option<u32>,
    /// `v1` (default, HMAC-SHA256) or `v1a` (ed25519; receivers need only `public_key`).
    signature: Option<String>,
    /// Only messages about these events (1-100 ids).
    event_ids: Option<Vec<String>>,
    /// `"mine"`: only messages about events the maker organises, now or later.
    events: Option<String>,
    /// Only messages about events carrying one of these channels (up to 20).
    channels: Option<Vec<String>>,
    /// `none` (default) or `per_subject`: messages about one subject (an event, a participant,
    /// a person, a signal's `subject`) one at a time, in commit order.
    ordering: Option<String>,
    /// With `per_subject`: a newer message supersedes queued older ones (the latest state wins).
    coalesce: Option<bool>,
}

pub(super) fn check_url(errors: &mut FieldErrors, raw: String) -> Option<TargetUrl> {
    errors.check("url", TargetUrl::parse(&raw))
}

fn check_types(errors: &mut FieldErrors, list: Vec<String>) -> Option<EventTypes> {
    if list.is_empty() || list.len() > 100 {
        errors.add("event_types", "must list 1-100 event types, or [\"*\"]");
        return None;
    }
    if let Some(bad) = list.iter().find(|t| *t != "*" && !is_event_type_name(t)) {
        errors.add(
            "event_types",
            format!("{bad:?} is not a dotted lower-case event type"),
        );
        return None;
    }
    Some(EventTypes::from_list(list))
}

pub(super) fn check_encoding(errors: &mut FieldErrors, raw: &str) -> Option<Encoding> {
    errors.check(
        "encoding",
        Encoding::parse(raw).ok_or("must be \"json\" or \"form\""),
    )
}

fn check_headers(
    errors: &mut FieldErrors,
    headers: BTreeMap<String, String>,
) -> Option<BTreeMap<String, String>> {
    let valid = headers.len() <= MAX_HEADERS
        && headers.iter().all(|(name, value)| {
            axum::http::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && axum::http::HeaderValue::from_str(value).is_ok()
                && !RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str())
        });
    if !valid {
        errors.add(
            "headers",
            format!("at most {MAX_HEADERS} valid header names and values; content-type, host and webhook-* are set by Convene"),
        );
        return None;
    }
    Some(headers)
}

pub(super) fn check_description(errors: &mut FieldErrors, raw: Option<String>) -> Option<String> {
    let text = raw?.trim().to_owned();
    if text.chars().count() > MAX_DESCRIPTION {
        errors.add(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        );
        return None;
    }
    (!text.is_empty()).then_some(text)
}

fn check_scheme(errors: &mut FieldErrors, raw: &str) -> Option<Scheme> {
    errors.check(
        "signature",
        Scheme::parse(raw).ok_or("must be \"v1\" (HMAC) or \"v1a\" (ed25519)"),
    )
}

/// The order asked for: `ordering` and `coalesce` as given, else as they are.
fn check_order(
    errors: &mut FieldErrors,
    ordering: Option<String>,
    coalesce: Option<bool>,
    now: SubjectOrder,
) -> Option<SubjectOrder> {
    let per_subject = match ordering.as_deref() {
        None => now.per_subject(),
        Some("none") => false,
        Some("per_subject") => true,
        Some(_) => {
            errors.add("ordering", "must be \"none\" or \"per_subject\"");
            return None;
        }
    };
    // Turning ordering off turns coalescing off with it, unless it is asked for.
    let coalesce = coalesce.unwrap_or(now.coalesces() && per_subject);
    let order = SubjectOrder::parse(per_subject, coalesce);
    if order.is_none() {
        errors.add("coalesce", "needs \"ordering\": \"per_subject\"");
    }
    order
}

fn check_rate(errors: &mut FieldErrors, rate: u32) -> Option<u32> {
    if (1..=MAX_RATE).contains(&rate) {
        Some(rate)
    } else {
        errors.add("rate_limit_per_s", format!("must be 1-{MAX_RATE}"));
        None
    }
}

impl TryFrom<CreateWebhook> for NewWebhook {
    type Error = FieldErrors;

    fn try_from(body: CreateWebhook) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let url = errors
            .require("url", body.url)
            .and_then(|u| check_url(&mut errors, u));
        let types = errors
            .require("event_types", body.event_types)
            .and_then(|t| check_types(&mut errors, t));
        let encoding = check_encoding(&mut errors, body.encoding.as_deref().unwrap_or("json"));
        let headers = check_headers(&mut errors, body.headers.unwrap_or_default());
        let description = check_description(&mut errors, body.description);
        let rate = body
            .rate_limit_per_s
            .and_then(|r| check_rate(&mut errors, r));
        let scheme = check_scheme(&mut errors, body.signature.as_deref().unwrap_or("v1"));
        let scope = check_scope(&mut errors, body.event_ids, body.events, body.channels);
        let order = check_order(
            &mut errors,
            body.ordering,
            body.coalesce,
            Default::default(),
        );
        errors.finish(|| NewWebhook {
            url: url.expect("checked"),
            event_types: types.expect("checked"),
            enabled: body.enabled.unwrap_or(true),
            encoding: encoding.expect("checked").as_str().to_owned(),
            description,
            headers: headers.expect("checked"),
            rate_limit_per_s: rate,
            secret: SigningKey::generate(scheme.expect("checked")).expose(),
            owner: None,
            scope,
            order: order.expect("checked"),
        })
    }
}

/// Create a webhook; the answer carries its signing secret, shown this once. Admins may make
/// any; other users only webhooks scoped to events they organise.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = WebhookBody), (status = 403), (status = 422)))]
pub(crate) async fn create_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookBody>)> {
    let mut new = NewWebhook::try_from(body)?;
    authorize_scope(&state, &caller, &new.scope).await?;
    new.owner = caller.user_id().cloned();
    let hook = state.store.create_webhook(new, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(WebhookBody::new(hook, true))))
}

/// Webhooks: admins see all, other users the ones they made.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", params(Search), responses((status = 200, body = List<WebhookBody>)))]
pub(crate) async fn list_webhooks(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<Search>,
) -> ApiResult<Json<List<WebhookBody>>> {
    let owner = (!caller.is_admin()).then(|| caller.user_id()).flatten();
    let (search, page) = (query.needle()?, query.page()?);
    let page = state.store.list_webhooks(owner, search, &page).await?;
    Ok(Json(List::from_page(page, |w| WebhookBody::new(w, false))))
}

/// The webhook a path names, when the caller may manage it: admins any, other users the ones
/// they made (404 otherwise, as for ids that cannot exist, so none is revealed).
pub async fn webhook_at(state: &AppState, caller: &Principal, raw: &str) -> ApiResult<Webhook> {
    let id = WebhookId::parse(raw).ok_or(ApiError::NotFound)?;
    let hook = state.store.webhook(&id).await?.ok_or(ApiError::NotFound)?;
    let owns = hook.owner.as_ref().is_some_and(|o| caller.is_user(o));
    if caller.is_admin() || owns {
        Ok(hook)
    } else {
        Err(ApiError::NotFound)
    }
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookBody), (status = 404)))]
pub(crate) async fn get_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookBody>> {
    Ok(Json(WebhookBody::new(
        webhook_at(&state, &caller, &id).await?,
        false,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchWebhook {
    url: Option<String>,
    event_types: Option<Vec<String>>,
    /// `true` also clears `disabled_reason` and the failure streak.
    enabled: Option<bool>,
    encoding: Option<String>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    headers: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<u32>)]
    rate_limit_per_s: Option<Option<u32>>,
    /// A new scheme makes a new key; the old one keeps signing for the rotation grace period.
    signature: Option<String>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<Vec<String>>)]
    event_ids: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    events: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<Vec<String>>)]
    channels: Option<Option<Vec<String>>>,
    /// `none` or `per_subject`; deliveries waiting in a subject's order go out once it is `none`.
    ordering: Option<String>,
    coalesce: Option<bool>,
}

impl PatchWebhook {
    fn apply(self, mut w: Webhook, grace_until: Timestamp) -> Result<Webhook, FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(url) = self.url.and_then(|u| check_url(&mut errors, u)) {
            w.url = url;
        }
        if let Some(types) = self.event_types.and_then(|t| check_types(&mut errors, t)) {
            w.event_types = types;
        }
        if let Some(encoding) = self.encoding.and_then(|e| check_encoding(&mut errors, &e)) {
            w.encoding = encoding.as_str().to_owned();
        }
        if let Some(description) = self.description {
            w.description = check_description(&mut errors, description);
        }
        if let Some(headers) = self.headers.and_then(|h| check_headers(&mut errors, h)) {
            w.headers = headers;
        }
        if let Some(rate) = self.rate_limit_per_s {
            w.rate_limit_per_s = rate.and_then(|r| check_rate(&mut errors, r));
        }
        if self.event_ids.is_some() || self.events.is_some() || self.channels.is_some() {
            let given = check_scope(
                &mut errors,
                self.event_ids.clone().flatten(),
                self.events.clone().flatten(),
                self.channels.clone().flatten(),
            );
            if self.event_ids.is_some() {
                w.scope.event_ids = given.event_ids;
            }
            if self.events.is_some() {
                w.scope.mine = given.mine;
            }
            if self.channels.is_some() {
                w.scope.channels = given.channels;
            }
        }
        if let Some(scheme) = self.signature.and_then(|s| check_scheme(&mut errors, &s))
            && SigningKey::parse(&w.secret).map(|k| k.scheme()) != Ok(scheme)
        {
            replace_key(&mut w, SigningKey::generate(scheme), grace_until);
        }
        if (self.ordering.is_some() || self.coalesce.is_some())
            && let Some(order) = check_order(&mut errors, self.ordering, self.coalesce, w.order)
        {
            w.order = order;
        }
        if let Some(enabled) = self.enabled {
            if enabled && !w.enabled {
                w.disabled_reason = None;
                w.failing_since = None;
            }
            w.enabled = enabled;
        }
        errors.finish(|| w)
    }
}

/// Change a webhook; `null` clears `description`, `rate_limit_per_s`, `event_ids`, `events` or
/// `channels` (a user who is no admin keeps it limited to events they organise). A new
/// `signature` scheme makes a new key: a `v1` secret is in this answer, shown once.
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), request_body = PatchWebhook,
    responses((status = 200, body = WebhookBody), (status = 404), (status = 422)))]
pub(crate) async fn update_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchWebhook>,
) -> ApiResult<Json<WebhookBody>> {
    let now = state.clock.now();
    let before = webhook_at(&state, &caller, &id).await?;
    let rekeyed = body.signature.is_some();
    let previous_secret = before.secret.clone();
    let mut hook = body.apply(before, grace_until(&state, now))?;
    authorize_scope(&state, &caller, &hook.scope).await?;
    hook.updated_at = now;
    let saved = state.store.update_webhook(&hook).await?;
    // A change to `v1` made a secret its receivers must be given, now or never.
    let new_secret = rekeyed && saved.secret != previous_secret;
    Ok(Json(WebhookBody::new(saved, new_secret)))
}

/// Delete a webhook with its deliveries and their attempts.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub(crate) async fn delete_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let hook = webhook_at(&state, &caller, &id).await?;
    if state.store.delete_webhook(&hook.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// A new signing key of the endpoint's scheme (a `v1` secret is shown once; a `v1a` endpoint
/// shows its new `public_key`); the old one keeps signing (a second signature) for the configured
/// grace period, so receivers can switch without losing a message.
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookBody), (status = 404)))]
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookBody>> {
    let mut hook = webhook_at(&state, &caller, &id).await?;
    let now = state.clock.now();
    let scheme = SigningKey::parse(&hook.secret).map_or(Scheme::V1, |k| k.scheme());
    replace_key(
        &mut hook,
        SigningKey::generate(scheme),
        grace_until(&state, now),
    );
    hook.updated_at = now;
    let saved = state.store.update_webhook(&hook).await?;
    Ok(Json(WebhookBody::new(saved, true)))
}

/// When a replaced key stops signing.
fn grace_until(state: &AppState, now: Timestamp) -> Timestamp {
    now + time::Duration::hours(state.config.delivery.secret_rotation_grace_hours as i64)
}

/// The new key signs from now on; the old one beside it until `grace_until`.
fn replace_key(hook: &mut Webhook, key: SigningKey, grace_until: Timestamp) {
    let old = std::mem::replace(&mut hook.secret, key.expose());
    hook.previous_secret = Some((old, grace_until));
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    delivery_id: String,
}

/// Queue a `webhook.test` message to this endpoint only; follow it at `/deliveries/{id}`.
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 202, body = Queued), (status = 404)))]
pub(crate) async fn test_webhook(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    let hook = webhook_at(&state, &caller, &id).await?;
    let now = state.clock.now();
    let data = json!({"test": {"webhook_id": hook.id.as_str(), "sent_at": rfc3339(now)}});
    let delivery = state
        .store
        .enqueue_direct(&hook.id, "webhook.test", data, now)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            delivery_id: delivery.id.to_string(),
        }),
    ))
}
