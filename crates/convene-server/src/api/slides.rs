//! A session's slide decks, and the provider's rooms. Each deck change is queued for the
//! provider and sent if the session is inside the notify window when the change goes out.

use super::sessions::{managed_session, visible_session};
use super::{List, require_admin, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, JsonList, PageQuery, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_conferencing::provider::{ConferenceProvider, ProviderError};
use convene_core::DeckId;
use convene_core::conference::{GroupName, SlideDeck};
use convene_core::page::Page;
use convene_core::text::Title;
use convene_core::validation::FieldErrors;
use convene_core::webhook::TargetUrl;
use convene_store::DeckRevision;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_deck, list_decks))
        .routes(routes!(reorder_decks))
        .routes(routes!(revise_deck, delete_deck))
        .routes(routes!(list_rooms))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeckBody {
    id: String,
    /// Unique per deployment: the deck id the provider sees.
    number: i64,
    title: String,
    url: String,
    rev: String,
    /// 1-based position.
    order: u32,
}

impl From<SlideDeck> for DeckBody {
    fn from(d: SlideDeck) -> Self {
        Self {
            id: d.id.to_string(),
            number: d.number,
            title: d.title.to_string(),
            url: d.url.as_str().to_owned(),
            rev: d.rev,
            order: d.order,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecksBody {
    data: Vec<DeckBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewDeck {
    title: Option<String>,
    url: Option<String>,
    /// Default `00`.
    rev: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviseDeck {
    title: Option<String>,
    url: Option<String>,
    /// The new revision.
    rev: Option<String>,
}

fn rev(errors: &mut FieldErrors, raw: Option<String>) -> Option<String> {
    raw.filter(|r| {
        let fine = !r.is_empty() && r.len() <= 32 && r.chars().all(|c| c.is_ascii_graphic());
        if !fine {
            errors.add("rev", "must be 1 to 32 visible ASCII characters");
        }
        fine
    })
}

fn deck_id(raw: &str) -> ApiResult<DeckId> {
    DeckId::parse(raw).ok_or(ApiError::NotFound)
}

/// Add a deck at the end.
#[utoipa::path(post, path = "/sessions/{id}/slides", tag = "conferencing", params(("id" = String, Path)),
    request_body = NewDeck,
    responses((status = 201, body = DeckBody), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn add_deck(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewDeck>,
) -> ApiResult<(StatusCode, Json<DeckBody>)> {
    let session = managed_session(&state, &caller, &id).await?;
    let mut errors = FieldErrors::new();
    let title = errors
        .require("title", body.title)
        .and_then(|t| errors.check("title", Title::parse(&t)));
    let url = errors
        .require("url", body.url)
        .and_then(|u| errors.check("url", TargetUrl::parse(&u)));
    let rev = rev(&mut errors, body.rev);
    errors.finish(|| ())?;
    let deck = state
        .store
        .add_deck(
            &session,
            title.expect("checked"),
            url.expect("checked"),
            rev.unwrap_or_else(|| "00".into()),
            state.clock.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(deck.into())))
}

#[utoipa::path(get, path = "/sessions/{id}/slides", tag = "conferencing", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = List<DeckBody>), (status = 404), (status = 422)))]
async fn list_decks(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<List<DeckBody>>> {
    let page = query.parse()?;
    let session = visible_session(&state, &caller, &id).await?;
    let mut decks = state.store.decks(&session.id).await?;
    decks.sort_by_key(|d| d.order);
    // Zero-padded, so the order of the keys is the decks' order.
    let page = Page::of_sorted(decks, &page, |d| format!("{:010}", d.order));
    Ok(Json(List::from_page(page, DeckBody::from)))
}

/// A new revision of a deck (pushed as delete + add at the same place).
#[utoipa::path(put, path = "/sessions/{id}/slides/{deck_id}", tag = "conferencing",
    params(("id" = String, Path), ("deck_id" = String, Path)), request_body = ReviseDeck,
    responses((status = 200, body = DeckBody), (status = 403), (status = 404), (status = 422)))]
async fn revise_deck(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, deck)): Path<(String, String)>,
    JsonBody(body): JsonBody<ReviseDeck>,
) -> ApiResult<Json<DeckBody>> {
    let session = managed_session(&state, &caller, &id).await?;
    let deck = deck_id(&deck)?;
    let mut errors = FieldErrors::new();
    let revision = DeckRevision {
        title: body
            .title
            .and_then(|t| errors.check("title", Title::parse(&t))),
        url: body
            .url
            .and_then(|u| errors.check("url", TargetUrl::parse(&u))),
        rev: errors
            .require("rev", body.rev)
            .and_then(|r| rev(&mut errors, Some(r)))
            .unwrap_or_default(),
    };
    let revision = errors.finish(|| revision)?;
    let revised = state
        .store
        .revise_deck(&session, &deck, revision, state.clock.now())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(revised.into()))
}

#[utoipa::path(delete, path = "/sessions/{id}/slides/{deck_id}", tag = "conferencing",
    params(("id" = String, Path), ("deck_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub(crate) async fn delete_deck(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, deck)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let session = managed_session(&state, &caller, &id).await?;
    let deck = deck_id(&deck)?;
    if state
        .store
        .delete_deck(&session, &deck, state.clock.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The new order: every deck id of the session, once each.
#[utoipa::path(put, path = "/sessions/{id}/slides/order", tag = "conferencing", params(("id" = String, Path)),
    request_body = Vec<String>,
    responses((status = 200, body = DecksBody), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn reorder_decks(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonList(order): JsonList<String>,
) -> ApiResult<Json<DecksBody>> {
    let session = managed_session(&state, &caller, &id).await?;
    let ids: Option<Vec<DeckId>> = order.iter().map(|d| DeckId::parse(d)).collect();
    let reordered = match ids {
        Some(ids) => {
            state
                .store
                .reorder_decks(&session, &ids, state.clock.now())
                .await?
        }
        None => None,
    };
    let decks = reordered.ok_or_else(|| {
        ApiError::field("order", "must list every deck of the session exactly once")
    })?;
    Ok(Json(DecksBody {
        data: decks.into_iter().map(DeckBody::from).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoomsQuery {
    /// The group whose rooms to list.
    group: Option<String>,
    /// Which configured provider to ask (`meetecho`, `bigbluebutton`); default: the configured
    /// default.
    provider: Option<String>,
}

/// A room as the provider lists it (no deletion tokens).
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomBody {
    pub public_id: String,
    pub room_id: i64,
    pub description: String,
    pub start_time: String,
    pub duration_minutes: i64,
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomsBody {
    data: Vec<RoomBody>,
}

/// The provider's rooms of a group (admins).
#[utoipa::path(get, path = "/conferencing/rooms", tag = "conferencing", params(RoomsQuery),
    responses((status = 200, body = RoomsBody), (status = 403), (status = 422), (status = 502)))]
async fn list_rooms(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<RoomsQuery>,
) -> ApiResult<Json<RoomsBody>> {
    require_admin(&caller)?;
    let group = query
        .group
        .ok_or_else(|| ApiError::field("group", "is required"))
        .and_then(|g| GroupName::parse(&g).map_err(|m| ApiError::field("group", m)))?;
    let provider = match query.provider.as_deref() {
        None => state.conferencing.default(),
        Some(name) => state.conferencing.named(name).ok_or_else(|| {
            ApiError::field(
                "provider",
                format!("{name} is not configured on this server"),
            )
        })?,
    };
    Ok(Json(RoomsBody {
        data: rooms(&**provider, &group).await?,
    }))
}

/// The provider's rooms of `group`, as the API and the CLI show them.
pub async fn rooms(
    provider: &dyn ConferenceProvider,
    group: &GroupName,
) -> ApiResult<Vec<RoomBody>> {
    let listed = provider.list(group.as_str()).await.map_err(|e| match e {
        ProviderError::Unsupported { .. } => ApiError::Unprocessable {
            code: "not_supported",
            detail: e.to_string(),
        },
        ProviderError::Remote { message, .. } => ApiError::BadGateway {
            code: "provider_error",
            detail: message,
        },
        ProviderError::BadLink => ApiError::Forbidden("this join link is not valid"),
    })?;
    Ok(listed
        .into_iter()
        .map(|r| RoomBody {
            public_id: r.public_id,
            room_id: r.room_id,
            description: r.description,
            start_time: rfc3339(r.start_time),
            duration_minutes: r.duration_minutes,
            url: r.url,
        })
        .collect())
}
