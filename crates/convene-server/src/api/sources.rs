//! Inbound sources (admins): other platforms' webhooks received at `/in/<token>`, each POST
//! logged with its raw body, accepted ones replayable.

use super::{require_admin, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Query};
use crate::sources::read::{Expect, Kind};
use crate::sources::{new_token, signal_of};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::FieldErrors;
use convene_core::token::sha256_hex;
use convene_delivery::signing::WebhookSecret;
use convene_store::{Receipt, Source};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_source, list_sources))
        .routes(routes!(get_source, delete_source))
        .routes(routes!(rotate_url))
        .routes(routes!(received))
        .routes(routes!(replay))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceBody {
    id: String,
    name: String,
    /// `openedx-webhooks`, `standard-webhooks` or `generic`.
    kind: String,
    /// Where the other platform posts: shown when made and when rotated, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// A Standard Webhooks source's `whsec_` secret: shown once, when made.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    id_member: Option<String>,
    created_at: String,
}

impl SourceBody {
    fn of(s: Source) -> Self {
        Self {
            id: s.id,
            name: s.name,
            kind: s.kind,
            url: None,
            secret: None,
            id_member: s.id_member,
            created_at: rfc3339(s.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSourceInput {
    name: Option<String>,
    /// `openedx-webhooks`, `standard-webhooks` or `generic`.
    kind: Option<String>,
    /// Standard Webhooks only: the sender's `whsec_` secret; one is made when left out.
    secret: Option<String>,
    /// Generic only: the member (dotted path) holding the sender's id, for deduplication.
    id_member: Option<String>,
}

fn source_url(token: &str) -> String {
    format!("/in/{token}")
}

/// Make an inbound source; its URL (and a Standard Webhooks secret) is shown once.
#[utoipa::path(post, path = "/sources", tag = "sources", request_body = NewSourceInput,
    responses((status = 201, body = SourceBody), (status = 403), (status = 409), (status = 422)))]
async fn create_source(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<NewSourceInput>,
) -> ApiResult<(StatusCode, Json<SourceBody>)> {
    require_admin(&caller)?;
    let mut errors = FieldErrors::new();
    let name = errors.require(
        "name",
        input
            .name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
    );
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 100 || n.chars().any(char::is_control))
    {
        errors.add(
            "name",
            "must be at most 100 characters without control characters",
        );
    }
    let kind = errors.require("kind", input.kind).and_then(|k| {
        let kind = Kind::parse(&k);
        if kind.is_none() {
            errors.add(
                "kind",
                "must be openedx-webhooks, standard-webhooks or generic",
            );
        }
        kind
    });
    let secret = match (kind, input.secret) {
        (Some(Kind::StandardWebhooks), Some(s)) => errors.check("secret", WebhookSecret::parse(&s)),
        (Some(Kind::StandardWebhooks), None) => Some(WebhookSecret::generate()),
        (_, Some(_)) => {
            errors.add("secret", "only a standard-webhooks source has a secret");
            None
        }
        (_, None) => None,
    };
    let id_member = match (kind, input.id_member.filter(|m| !m.trim().is_empty())) {
        (Some(Kind::Generic), Some(m)) if m.len() <= 200 && !m.split('.').any(str::is_empty) => {
            Some(m)
        }
        (Some(Kind::Generic), Some(_)) => {
            errors.add("id_member", "must be a dotted path such as meta.id");
            None
        }
        (_, Some(_)) => {
            errors.add("id_member", "only a generic source names its id member");
            None
        }
        (_, None) => None,
    };
    errors.finish(|| ()).map_err(ApiError::from)?;
    let token = new_token();
    let source = Source {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.expect("checked"),
        kind: kind.expect("checked").as_str().to_owned(),
        token_sha256: sha256_hex(&token),
        secret_sealed: secret.as_ref().map(|s| state.keys.seal(&s.expose())),
        id_member,
        created_at: state.clock.now(),
    };
    state.store.create_source(&source).await?;
    let mut body = SourceBody::of(source);
    body.url = Some(source_url(&token));
    body.secret = secret.map(|s| s.expose());
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceList {
    data: Vec<SourceBody>,
}

#[utoipa::path(get, path = "/sources", tag = "sources", responses((status = 200, body = SourceList), (status = 403)))]
async fn list_sources(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<SourceList>> {
    require_admin(&caller)?;
    let data = state
        .store
        .sources()
        .await?
        .into_iter()
        .map(SourceBody::of)
        .collect();
    Ok(Json(SourceList { data }))
}

async fn source_at(state: &AppState, id: &str) -> ApiResult<Source> {
    state.store.source(id).await?.ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/sources/{id}", tag = "sources", params(("id" = String, Path)),
    responses((status = 200, body = SourceBody), (status = 403), (status = 404)))]
async fn get_source(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SourceBody>> {
    require_admin(&caller)?;
    Ok(Json(SourceBody::of(source_at(&state, &id).await?)))
}

/// Delete a source; its URL stops working and its log goes with it.
#[utoipa::path(delete, path = "/sources/{id}", tag = "sources", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
async fn delete_source(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&caller)?;
    if state.store.delete_source(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// A new URL for the source; the old one answers 404 from now on.
#[utoipa::path(post, path = "/sources/{id}/rotate-url", tag = "sources", params(("id" = String, Path)),
    responses((status = 200, body = SourceBody), (status = 403), (status = 404)))]
async fn rotate_url(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SourceBody>> {
    require_admin(&caller)?;
    let source = source_at(&state, &id).await?;
    let token = new_token();
    if !state
        .store
        .set_source_token(&source.id, &sha256_hex(&token))
        .await?
    {
        return Err(ApiError::NotFound);
    }
    let mut body = SourceBody::of(source);
    body.url = Some(source_url(&token));
    Ok(Json(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptBody {
    id: String,
    /// What the sender was answered: 202 accepted, a 4xx refused.
    status: u16,
    reason: Option<String>,
    content_type: Option<String>,
    /// The raw body (a refused one cut to 4,096 characters).
    body: String,
    /// The signal an accepted body became.
    signal_id: Option<String>,
    received_at: String,
}

impl From<Receipt> for ReceiptBody {
    fn from(r: Receipt) -> Self {
        Self {
            id: r.id,
            status: r.status,
            reason: r.reason,
            content_type: r.content_type,
            body: r.body,
            signal_id: r.signal_id,
            received_at: rfc3339(r.received_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptList {
    data: Vec<ReceiptBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReceivedQuery {
    /// At most this many, newest first (1–500, default 100).
    limit: Option<u32>,
}

/// What the source received, newest first, accepted and refused.
#[utoipa::path(get, path = "/sources/{id}/received", tag = "sources", params(("id" = String, Path), ReceivedQuery),
    responses((status = 200, body = ReceiptList), (status = 403), (status = 404)))]
async fn received(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(q): Query<ReceivedQuery>,
) -> ApiResult<Json<ReceiptList>> {
    require_admin(&caller)?;
    let source = source_at(&state, &id).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let data = state
        .store
        .receipts(&source.id, limit)
        .await?
        .into_iter()
        .map(ReceiptBody::from)
        .collect();
    Ok(Json(ReceiptList { data }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// The new signal's id.
    id: String,
}

/// Fan an accepted body out again, as a new signal (after adding a webhook, say).
#[utoipa::path(post, path = "/sources/{id}/received/{receipt}/replay", tag = "sources",
    params(("id" = String, Path), ("receipt" = String, Path)),
    responses((status = 202, body = Replayed), (status = 403), (status = 404), (status = 409)))]
async fn replay(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, receipt)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Replayed>)> {
    require_admin(&caller)?;
    let source = source_at(&state, &id).await?;
    let receipt = state
        .store
        .receipt(&receipt)
        .await?
        .filter(|r| r.source_id == source.id)
        .ok_or(ApiError::NotFound)?;
    let Some(original) = receipt.signal_id.clone().filter(|_| receipt.status == 202) else {
        return Err(ApiError::conflict(
            "not_accepted",
            "only an accepted body can be replayed",
        ));
    };
    let now = state.clock.now();
    let kind = Kind::parse(&source.kind).unwrap_or(Kind::Generic);
    let expect = Expect {
        kind,
        secret: None,
        id_member: source.id_member.as_deref(),
        now,
    };
    let sender = original
        .split_once(':')
        .map_or(original.as_str(), |(_, s)| s);
    let mut read = crate::sources::read::reread(
        &expect,
        receipt.content_type.as_deref(),
        receipt.body.as_bytes(),
        sender,
    )
    .map_err(|r| ApiError::conflict("not_accepted", r.reason))?;
    read.id = Some(format!("{sender}~replay-{}", uuid::Uuid::now_v7().simple()));
    let signal = signal_of(&source, read, now);
    let new_id = signal.id.clone();
    state.store.ingest_signal(signal).await?;
    state.wake_workers();
    Ok((StatusCode::ACCEPTED, Json(Replayed { id: new_id })))
}
