//! The Dashboard side: `/wikimedia_event_center/{confirm_event_sync, update_event_participants,
//! unsync_event}` in the real Dashboard's order of checks, with its weaknesses fixed (see
//! `reference/dashboard-sync.md`). Every call is written to the sync log.

use super::reply::{Reject, success};
use super::request::Fields;
use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use convene_core::event::Event;
use convene_core::page::PageRequest;
use convene_core::sync::{CenterEventId, Direction, Endpoint, SyncCall, wanted_names};
use convene_core::text::Slug;
use convene_core::token::secrets_equal;
use convene_core::username::Username;
use convene_store::{Audience, EventFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/wikimedia_event_center/confirm_event_sync",
            post(|s, h, b| call(Endpoint::Confirm, s, h, b)),
        )
        .route(
            "/wikimedia_event_center/update_event_participants",
            post(|s, h, b| call(Endpoint::Update, s, h, b)),
        )
        .route(
            "/wikimedia_event_center/unsync_event",
            post(|s, h, b| call(Endpoint::Unsync, s, h, b)),
        )
}

/// What a call did, for the log.
#[derive(Default)]
struct Tally {
    event: Option<Event>,
    center: Option<CenterEventId>,
    dry_run: bool,
    added: u32,
    removed: u32,
    skipped: u32,
    detail: Option<String>,
}

async fn call(
    endpoint: Endpoint,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut tally = Tally::default();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let fields = match body {
        Err(_) => Err(Reject::payload_too_large()),
        Ok(body) => Fields::parse(content_type, &body),
    };
    let course_slug = fields
        .as_ref()
        .ok()
        .and_then(Fields::course_slug)
        .unwrap_or_default()
        .to_owned();
    let result = match &fields {
        Ok(fields) => run(&state, endpoint, fields, &mut tally).await,
        Err(reject) => Err(reject.clone()),
    };
    let (status, outcome) = match &result {
        Ok(()) => (StatusCode::OK, "success"),
        Err(reject) => (reject.status, reject.code),
    };
    let entry = SyncCall {
        id: uuid::Uuid::now_v7().to_string(),
        event: tally.event.map(|e| e.id),
        direction: Direction::Inbound,
        endpoint,
        course_slug,
        center_event_id: tally.center.map(|c| c.as_str().to_owned()),
        dry_run: tally.dry_run,
        outcome: outcome.to_owned(),
        status: Some(status.as_u16()),
        added: tally.added,
        removed: tally.removed,
        skipped: tally.skipped,
        detail: tally
            .detail
            .or_else(|| result.as_ref().err().map(|r| r.message.clone())),
        at: state.clock.now(),
    };
    if entry.event.is_none() {
        // No course was reached (bad secret, body or slug): there is no event to file it
        // under, and an unauthenticated caller must not be able to write to the database.
        tracing::warn!(endpoint = endpoint.as_str(), course = %entry.course_slug, outcome, "Event Center call refused");
    } else if let Err(e) = state.store.record_sync_call(&entry).await {
        tracing::warn!(error = %e, "could not write the sync log");
    }
    match result {
        Ok(()) => success(),
        Err(reject) => reject.into_response(),
    }
}

async fn run(
    state: &AppState,
    endpoint: Endpoint,
    fields: &Fields,
    tally: &mut Tally,
) -> Result<(), Reject> {
    check_secret(state, fields.secret())?;
    tally.dry_run = fields.dry_run()?;
    tally.center = fields.event_id()?;
    let event = course(state, fields.course_slug()).await?;
    tally.event = Some(event.clone());
    match endpoint {
        Endpoint::Confirm => confirm(state, fields, &event, tally).await,
        Endpoint::Update => update(state, fields, &event, tally).await,
        Endpoint::Unsync => unsync(state, &event, tally).await,
    }
}

/// Unset (or empty) secret → nothing matches; compared in constant time.
fn check_secret(state: &AppState, given: Option<&str>) -> Result<(), Reject> {
    let (Some(expected), Some(given)) = (state.config.event_center_secret.as_ref(), given) else {
        return Err(Reject::invalid_secret());
    };
    if !expected.expose().is_empty() && secrets_equal(expected.expose(), given) {
        Ok(())
    } else {
        Err(Reject::invalid_secret())
    }
}

async fn course(state: &AppState, slug: Option<&str>) -> Result<Event, Reject> {
    let slug = slug
        .and_then(|s| Slug::parse(s).ok())
        .ok_or_else(Reject::course_not_found)?;
    let filter = EventFilter {
        slug: Some(slug),
        audience: Audience::Everything,
        search: None,
    };
    let page = state
        .store
        .list_events(
            &filter,
            &PageRequest {
                limit: 1,
                after: None,
            },
        )
        .await?;
    page.items
        .into_iter()
        .next()
        .ok_or_else(Reject::course_not_found)
}

/// The event is linked to exactly this Event Center event; no id never matches.
fn linked_to(event: &Event, center: Option<&CenterEventId>) -> Result<CenterEventId, Reject> {
    match (&event.sync, center) {
        (Some(link), Some(center)) if link.event_id == *center => Ok(center.clone()),
        _ => Err(Reject::sync_not_enabled()),
    }
}

async fn confirm(
    state: &AppState,
    fields: &Fields,
    event: &Event,
    tally: &mut Tally,
) -> Result<(), Reject> {
    let named = fields.names("organizer_usernames")?.unwrap_or_default();
    let (named, _) = wanted_names(named);
    let organizers = state.store.organizers(&event.id).await?;
    if !organizers.iter().any(|o| named.contains(&o.username)) {
        return Err(Reject::not_organizer());
    }
    let center = tally.center.clone();
    if let (Some(link), Some(center)) = (&event.sync, &center)
        && link.event_id == *center
    {
        // A retry after a lost answer: already done.
        tally.detail = Some("already linked to this event; nothing changed".into());
        return Ok(());
    }
    let any = state
        .store
        .participants(
            &event.id,
            true,
            None,
            &PageRequest {
                limit: 1,
                after: None,
            },
        )
        .await?;
    if !any.items.is_empty() {
        return Err(Reject::already_in_use());
    }
    if event.sync.is_some() {
        return Err(Reject::sync_already_enabled());
    }
    if tally.dry_run {
        return Ok(());
    }
    let center = center.ok_or_else(Reject::missing_event_id)?;
    if state
        .store
        .enable_sync(event, &center, state.clock.now())
        .await?
    {
        Ok(())
    } else {
        Err(Reject::sync_already_enabled())
    }
}

async fn update(
    state: &AppState,
    fields: &Fields,
    event: &Event,
    tally: &mut Tally,
) -> Result<(), Reject> {
    let center = linked_to(event, tally.center.as_ref())?;
    let names = fields
        .names("participant_usernames")?
        .ok_or_else(|| Reject::bad_request("participant_usernames is required"))?;
    let (wanted, invalid) = wanted_names(names);
    if tally.dry_run {
        return Ok(());
    }
    let create = creatable(state, &wanted).await?;
    let change = state
        .store
        .apply_roster(event, &center, &wanted, &create, state.clock.now())
        .await?
        .ok_or_else(Reject::sync_not_enabled)?;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    tally.added = count(change.added.len());
    tally.removed = count(change.removed.len());
    tally.skipped = count(change.skipped.len() + invalid.len());
    let list = |v: &[Username]| {
        v.iter()
            .map(Username::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut detail = format!(
        "added: [{}]; removed: [{}]",
        list(&change.added),
        list(&change.removed)
    );
    if !change.skipped.is_empty() || !invalid.is_empty() {
        let mut skipped: Vec<&str> = change.skipped.iter().map(Username::as_str).collect();
        skipped.extend(invalid.iter().map(String::as_str));
        detail.push_str(&format!("; skipped: [{}]", skipped.join(", ")));
    }
    tally.detail = Some(detail);
    Ok(())
}

/// The unknown wanted names that may become users: all of them, or with an account check
/// configured, those the wiki says exist.
async fn creatable(
    state: &AppState,
    wanted: &std::collections::BTreeSet<Username>,
) -> Result<Vec<Username>, Reject> {
    let names: Vec<Username> = wanted.iter().cloned().collect();
    let unknown = state.store.unknown_usernames(&names).await?;
    match &state.config.event_center_account_check_url {
        None => Ok(unknown),
        Some(url) => super::account_check::existing(&state.sync.accounts, url, &unknown)
            .await
            .map_err(|e| Reject::account_check_failed(&e)),
    }
}

async fn unsync(state: &AppState, event: &Event, tally: &mut Tally) -> Result<(), Reject> {
    let center = linked_to(event, tally.center.as_ref())?;
    if tally.dry_run {
        return Ok(());
    }
    if state
        .store
        .disable_sync(event, &center, state.clock.now())
        .await?
    {
        Ok(())
    } else {
        Err(Reject::sync_not_enabled())
    }
}
