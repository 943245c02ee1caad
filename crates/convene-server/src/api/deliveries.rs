//! The delivery log (admins): deliveries per webhook, one with every attempt, manual retry and
//! bulk recovery.

use super::webhooks::webhook_at;
use super::{List, parse_time, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, PageQuery, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::access::Principal;
use convene_core::webhook::{Attempt, Delivery, DeliveryStatus, Webhook};
use convene_core::{DeliveryId, Timestamp, WebhookId};
use convene_delivery::request::Request;
use convene_store::{DeliveryFilter, ListedDelivery};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(retry_delivery))
        .routes(routes!(recover))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    id: String,
    webhook_id: String,
    /// The `webhook-id` header: the same on every retry.
    message_id: String,
    event_type: String,
    /// `pending`, `delivered`, `failed` or `superseded` (a newer message about its subject
    /// replaced it, on a `coalesce` webhook).
    status: String,
    /// Attempts made so far.
    attempt_count: u32,
    /// `null` while pending: it waits for an older message about its subject.
    next_attempt_at: Option<String>,
    /// What the message is about, on a webhook ordered `per_subject`.
    subject: Option<String>,
    created_at: String,
    updated_at: String,
}

/// A delivery in a list, with what its latest attempt failed with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedDeliveryBody {
    #[serde(flatten)]
    delivery: DeliveryBody,
    /// The latest attempt's error; `null` when it succeeded or none was made.
    last_error: Option<String>,
}

impl From<ListedDelivery> for ListedDeliveryBody {
    fn from(l: ListedDelivery) -> Self {
        Self {
            delivery: l.delivery.into(),
            last_error: l.last_error,
        }
    }
}

impl From<Delivery> for DeliveryBody {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id.to_string(),
            webhook_id: d.webhook_id.to_string(),
            message_id: d.message_id,
            event_type: d.event_type,
            status: d.status.as_str().to_owned(),
            attempt_count: d.attempts,
            next_attempt_at: d.next_attempt_at.map(rfc3339),
            subject: d.subject,
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptBody {
    attempted_at: String,
    duration_ms: u32,
    status_code: Option<u16>,
    /// `redirect`, `client_error`, `server_error`, `throttled`, `gone`, `timeout`,
    /// `connection`, `refused`; null on success.
    error_class: Option<String>,
    error: Option<String>,
    /// The start of the answer's body (see `delivery.response_body_limit_bytes`).
    response_body: Option<String>,
    /// The answer's headers as `[name, value]` pairs, in order (at most 32, values cut at 256
    /// bytes); empty when nothing answered.
    response_headers: Vec<(String, String)>,
    /// The headers this attempt sent, rebuilt from the delivery and the webhook as it is now,
    /// the signature masked; empty for webfilter calls. The `traceparent` is the one stored
    /// with the message (when spans are exported, the attempt sent its own span as the parent).
    request_headers: Vec<(String, String)>,
    /// The webhook's settings changed after this attempt, so its own headers may have differed.
    webhook_changed_since: bool,
}

impl From<Attempt> for AttemptBody {
    /// An attempt whose request is not shown (a webfilter call).
    fn from(a: Attempt) -> Self {
        Self::of(Vec::new(), a)
    }
}

impl AttemptBody {
    fn of(request_headers: Vec<(String, String)>, a: Attempt) -> Self {
        Self::since(request_headers, a, None)
    }

    /// `changed`: when the webhook's settings last changed, for a delivery attempt.
    fn since(
        request_headers: Vec<(String, String)>,
        a: Attempt,
        changed: Option<Timestamp>,
    ) -> Self {
        Self {
            webhook_changed_since: changed.is_some_and(|c| c > a.attempted_at),
            attempted_at: rfc3339(a.attempted_at),
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error_class: a.error_class,
            error: a.error,
            response_body: a.response_body,
            response_headers: a.response_headers.pairs().to_vec(),
            request_headers,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    delivery: DeliveryBody,
    /// The message's data (the wire body without `event_metadata`).
    #[schema(value_type = Object)]
    data: serde_json::Value,
    /// The body every attempt sends, byte for byte as the webhook's encoding makes it.
    request_body: String,
    /// Every attempt, oldest first.
    attempts: Vec<AttemptBody>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `delivered`, `failed` or `superseded`.
    pub status: Option<String>,
    /// One event type, exactly.
    pub event_type: Option<String>,
    /// RFC 3339: created at or after.
    pub since: Option<String>,
    /// RFC 3339: created before.
    pub until: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl DeliveryQuery {
    /// The filter it names for `webhook`; 422 on a bad status or time.
    fn filter(&self, webhook: &WebhookId) -> ApiResult<DeliveryFilter> {
        let status = match self.status.as_deref() {
            None => None,
            Some(raw) => Some(DeliveryStatus::parse(raw).ok_or_else(|| {
                ApiError::field(
                    "status",
                    "must be \"pending\", \"delivered\", \"failed\" or \"superseded\"",
                )
            })?),
        };
        let time = |name: &str, raw: &Option<String>| {
            raw.as_deref()
                .map(|t| parse_time(t).map_err(|e| ApiError::field(name, e)))
                .transpose()
        };
        Ok(DeliveryFilter {
            webhook: Some(webhook.clone()),
            status,
            event_type: self.event_type.clone(),
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
            event: None,
        })
    }
}

/// A delivery the caller may see, with its attempts and its webhook: one of a webhook they may
/// manage (404 otherwise).
async fn delivery_at(
    state: &AppState,
    caller: &Principal,
    raw: &str,
) -> ApiResult<(Delivery, Vec<Attempt>, Webhook)> {
    let id = DeliveryId::parse(raw).ok_or(ApiError::NotFound)?;
    let (delivery, attempts) = state.store.delivery(&id).await?.ok_or(ApiError::NotFound)?;
    let webhook = webhook_at(state, caller, delivery.webhook_id.as_str()).await?;
    Ok((delivery, attempts, webhook))
}

/// A webhook's deliveries, newest first.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "deliveries", params(("id" = String, Path), DeliveryQuery),
    responses((status = 200, body = List<ListedDeliveryBody>), (status = 404), (status = 422)))]
pub(crate) async fn list_deliveries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<DeliveryQuery>,
) -> ApiResult<Json<List<ListedDeliveryBody>>> {
    let hook = webhook_at(&state, &caller, &id).await?;
    let filter = query.filter(&hook.id)?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let deliveries = state.store.deliveries(&filter, &page).await?;
    Ok(Json(List::from_page(deliveries, ListedDeliveryBody::from)))
}

/// One delivery with its data and every attempt, oldest first.
#[utoipa::path(get, path = "/deliveries/{id}", tag = "deliveries", params(("id" = String, Path)),
    responses((status = 200, body = DeliveryDetail), (status = 404)))]
pub(crate) async fn get_delivery(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryDetail>> {
    let (delivery, attempts, webhook) = delivery_at(&state, &caller, &id).await?;
    let host = crate::delivery::source_host();
    let sent = |at| Request::masked(&webhook, &delivery, &host, at);
    let request_body = String::from_utf8_lossy(&sent(delivery.created_at).body).into_owned();
    let headers = |at| {
        let mut headers = sent(at).headers;
        if let Some(cause) = &delivery.traceparent {
            headers.push(("traceparent".to_owned(), cause.clone()));
        }
        headers
    };
    let changed = Some(webhook.updated_at);
    let attempts = attempts
        .into_iter()
        .map(|a| AttemptBody::since(headers(a.attempted_at), a, changed))
        .collect();
    Ok(Json(DeliveryDetail {
        data: delivery.data.clone(),
        delivery: delivery.into(),
        request_body,
        attempts,
    }))
}

/// Send a delivery again now, whatever its state (one more attempt; the `webhook-id` stays).
#[utoipa::path(post, path = "/deliveries/{id}/retry", tag = "deliveries", params(("id" = String, Path)),
    responses((status = 202, body = DeliveryBody), (status = 404)))]
pub(crate) async fn retry_delivery(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryBody>)> {
    let id = delivery_at(&state, &caller, &id).await?.0.id;
    if !state.store.retry_delivery(&id, state.clock.now()).await? {
        return Err(ApiError::NotFound);
    }
    let (delivery, _) = state.store.delivery(&id).await?.ok_or(ApiError::NotFound)?;
    Ok((StatusCode::ACCEPTED, Json(delivery.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Recover {
    /// RFC 3339: failed deliveries created at or after this time are sent again.
    pub since: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recovered {
    pub(crate) recovered: u64,
}

/// Send again every failed delivery of this webhook created since a time.
#[utoipa::path(post, path = "/webhooks/{id}/recover", tag = "deliveries", params(("id" = String, Path)), request_body = Recover,
    responses((status = 202, body = Recovered), (status = 404), (status = 422)))]
pub(crate) async fn recover(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Recover>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    let raw = body
        .since
        .ok_or_else(|| ApiError::field("since", "is required"))?;
    let since = parse_time(&raw).map_err(|e| ApiError::field("since", e))?;
    let hook = webhook_at(&state, &caller, &id).await?;
    let recovered = state
        .store
        .recover(&hook.id, since, state.clock.now())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Recovered { recovered })))
}
