//! Inbound sources: `POST /in/<token>` receives another platform's webhook as it sends it (no
//! bearer: the unguessable token is the credential), reads it by the source's kind, and in one
//! transaction logs it with its raw body and, when accepted, ingests it as a signal, fanned out
//! to webhooks like Convene's own events. A refused body is logged too, with its reason; nothing
//! is half-accepted. The signal's id is the source's id and the sender's id, so a sender
//! repeating itself is a no-op and two sources never collide.

pub mod read;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use convene_core::token::sha256_hex;
use convene_delivery::signing::WebhookSecret;
use convene_store::{Receipt, Signal, Source};
use read::{Expect, Kind, Read};
use serde_json::{Value, json};

/// A refused body is kept up to this many characters: enough to see what went wrong.
const REFUSED_EXCERPT: usize = 4096;

pub fn router() -> Router<AppState> {
    Router::new().route("/in/{token}", post(receive))
}

/// A new unguessable URL token (32 random bytes, base64url).
pub fn new_token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "invalid_signature",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::BAD_REQUEST => "malformed_body",
        _ => "unreadable_body",
    }
}

async fn receive(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let source = state
        .store
        .source_by_token(&sha256_hex(&token))
        .await?
        .ok_or(ApiError::NotFound)?;
    // A sender told to come back later keeps its message; nothing is logged for it.
    state.intake.admit()?;
    let now = state.clock.now();
    let secret = match &source.secret_sealed {
        Some(sealed) => {
            let plain = state
                .keys
                .open_sealed(sealed)
                .map_err(|e| ApiError::Internal(e.into()))?;
            Some(WebhookSecret::parse(&plain).map_err(|e| ApiError::Internal(e.into()))?)
        }
        None => None,
    };
    let kind = Kind::parse(&source.kind).unwrap_or(Kind::Generic);
    let expect = Expect {
        kind,
        secret: secret.as_ref(),
        id_member: source.id_member.as_deref(),
        now,
    };
    let read = read::read(&expect, &headers, &body);
    let mut receipt = Receipt {
        id: uuid::Uuid::now_v7().to_string(),
        source_id: source.id.clone(),
        status: 202,
        reason: None,
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: String::from_utf8_lossy(&body).into_owned(),
        signal_id: None,
        received_at: now,
    };
    match read {
        Ok(read) => {
            let signal = signal_of(&source, read, now);
            receipt.signal_id = Some(signal.id.clone());
            if !state.store.receive(&receipt, Some(&signal)).await? {
                tracing::debug!(
                    id = signal.id,
                    "inbound signal already accepted; logged only"
                );
            }
            state.wake_outbox();
            Ok((StatusCode::ACCEPTED, Json(json!({"id": signal.id}))).into_response())
        }
        Err(refused) => {
            receipt.status = refused.status.as_u16();
            receipt.reason = Some(refused.reason.clone());
            receipt.body = receipt.body.chars().take(REFUSED_EXCERPT).collect();
            state.store.receive(&receipt, None).await?;
            let error =
                json!({"error": {"code": code_of(refused.status), "detail": refused.reason}});
            Ok((refused.status, Json(error)).into_response())
        }
    }
}

/// The signal a read body becomes, its id scoped to the source.
pub fn signal_of(source: &Source, read: Read, now: convene_core::Timestamp) -> Signal {
    let sender = read.id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    Signal {
        id: format!("{}:{sender}", source.id),
        event_type: read.event_type,
        data: Value::Object(read.data),
        source: read
            .source
            .unwrap_or_else(|| format!("source/{}", source.name)),
        occurred_at: read.occurred_at.unwrap_or(now),
        subject: None,
    }
}
