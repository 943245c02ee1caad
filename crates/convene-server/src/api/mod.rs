//! `/api/v1`: one module per resource, each with its `router()`.

mod attendances;
mod dashboard_link;
pub(crate) mod deliveries;
mod donations;
pub(crate) mod events;
pub(crate) mod mails;
pub(crate) mod notifications;
pub(crate) mod organizers;
pub(crate) mod osdi;
pub(crate) mod participants;
mod people;
mod session_room;
pub(crate) mod sessions;
mod signals;
pub mod slides;
mod sources;
pub mod tokens;
pub mod users;
pub(crate) mod webfilters;
mod webhook_scopes;
pub(crate) mod webhooks;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use convene_core::EventId;
use convene_core::access::{Principal, Standing};
use convene_core::event::Event;
use convene_core::page::Page;
use convene_core::user::User;
use convene_core::username::Username;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

/// The `reminders` of an event or a session, when given: a bad offset is a 422 on the field.
pub fn reminders(
    errors: &mut convene_core::FieldErrors,
    raw: Option<Vec<String>>,
) -> Option<convene_core::reminder::Reminders> {
    raw.and_then(|r| errors.check("reminders", convene_core::reminder::Reminders::parse(&r)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(users::router())
        .merge(tokens::router())
        .merge(events::router())
        .merge(organizers::router())
        .merge(participants::router())
        .merge(webhooks::router())
        .merge(deliveries::router())
        .merge(signals::router())
        .merge(webfilters::router())
        .merge(dashboard_link::router())
        .merge(sessions::router())
        .merge(slides::router())
        .merge(notifications::router())
        .merge(mails::router())
        .merge(people::router())
        .merge(donations::router())
        .merge(sources::router())
        .merge(attendances::router())
        .merge(osdi::router())
        .merge(crate::calendar::api::router())
}

/// A page of a list: `{"data": [...], "next_cursor": "…" | null}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    pub fn from_page<D>(page: Page<D>, f: impl FnMut(D) -> T) -> Self {
        let next_cursor = page.next_cursor();
        Self {
            data: page.items.into_iter().map(f).collect(),
            next_cursor,
        }
    }
}

/// RFC 3339 text of a time (`2026-11-23T10:00:00Z`).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Parses an RFC 3339 time from input, recording a problem under `field`.
pub fn parse_time(raw: &str) -> Result<OffsetDateTime, &'static str> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .map(|t| convene_core::clock::truncate_to_micros(t.to_offset(time::UtcOffset::UTC)))
        .map_err(|_| "must be an RFC 3339 time such as 2026-11-23T10:00:00Z")
}

/// The user a path names; a name that cannot exist names nobody (404).
pub async fn user_at(state: &AppState, raw: &str) -> ApiResult<User> {
    let name = Username::parse(raw).map_err(|_| ApiError::NotFound)?;
    state
        .store
        .user_by_name(&name)
        .await?
        .ok_or(ApiError::NotFound)
}

/// An event as the caller may see it, with their standing towards it.
pub struct EventAccess {
    pub event: Event,
    pub standing: Standing,
}

impl EventAccess {
    pub async fn load(state: &AppState, principal: &Principal, raw_id: &str) -> ApiResult<Self> {
        let id = EventId::parse(raw_id).ok_or(ApiError::NotFound)?;
        let event = state
            .store
            .event_by_id(&id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let (organizer, participant) = match principal.user_id() {
            Some(user) => state.store.standing(&event.id, user).await?,
            None => (None, false),
        };
        let standing = Standing {
            admin: principal.is_admin(),
            organizer,
            participant,
        };
        if !standing.sees(&event) {
            return Err(ApiError::NotFound);
        }
        Ok(Self { event, standing })
    }

    /// While an Event Center owns the participant list, local edits would be undone by its next
    /// call (and would never reach it): refused.
    pub fn require_unsynced(&self) -> ApiResult<()> {
        match &self.event.sync {
            None => Ok(()),
            Some(link) => Err(ApiError::conflict(
                "participants_managed_by_sync",
                format!(
                    "the participants of this event are managed by Event Center event {}; change them there",
                    link.event_id.as_str()
                ),
            )),
        }
    }

    pub fn require_manager(&self) -> ApiResult<()> {
        if self.standing.manages() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "only the event's organizers and admins may do this",
            ))
        }
    }
}

pub fn require_admin(principal: &Principal) -> ApiResult<()> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only admins may do this"))
    }
}
