use super::{EventAccess, List, parse_time, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, PageQuery, Query, from_value, patch_change, patch_field};
use crate::screening::{object, screen};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::FieldErrors;
use convene_core::access::Principal;
use convene_core::event::{Event, EventPatch, NewEvent, check_time_order};
use convene_core::page::PageRequest;
use convene_core::text::{Channel, Description, Slug, TimeZoneName, Title};
use convene_core::webfilter::FilterType;
use convene_store::{Audience, Conflict, EventFilter, PatchOutcome, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_event, list_events))
        .routes(routes!(get_event, update_event, delete_event))
}

/// The Dashboard link of an event, when it has one.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncBody {
    event_id: String,
    since: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    id: String,
    slug: String,
    title: String,
    description: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    timezone: Option<String>,
    private: bool,
    /// Labels webhooks may be scoped by.
    channels: Vec<String>,
    /// Offsets before `starts_at` at which participants and organizers are reminded.
    reminders: Vec<String>,
    /// The provider its sessions' rooms are made with; `null` = the configured default.
    conference_provider: Option<String>,
    created_at: String,
    updated_at: String,
    sync: Option<SyncBody>,
}

impl From<Event> for EventBody {
    fn from(e: Event) -> Self {
        Self {
            id: e.id.to_string(),
            slug: e.slug.to_string(),
            title: e.title.to_string(),
            description: e.description.map(|d| d.to_string()),
            starts_at: e.starts_at.map(rfc3339),
            ends_at: e.ends_at.map(rfc3339),
            timezone: e.timezone.map(|t| t.to_string()),
            private: e.private,
            channels: e.channels.iter().map(|c| c.to_string()).collect(),
            reminders: e.reminders.names().into_iter().map(str::to_owned).collect(),
            conference_provider: e.conference_provider,
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
            sync: e.sync.map(|link| SyncBody {
                event_id: link.event_id.as_str().to_owned(),
                since: rfc3339(link.since),
            }),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateEvent {
    /// Unique; kept exactly (may contain `/`, parentheses, dots, any script).
    slug: Option<String>,
    title: Option<String>,
    description: Option<String>,
    /// RFC 3339.
    starts_at: Option<String>,
    /// RFC 3339, not before `starts_at`.
    ends_at: Option<String>,
    /// IANA name, e.g. `Europe/Berlin`.
    timezone: Option<String>,
    /// A private event is seen only by its organizers, participants and admins.
    private: Option<bool>,
    /// Up to 20 labels (`wikiproject-x`: lower-case letters, digits, `-`, `_`) webhooks may be
    /// scoped by.
    channels: Option<Vec<String>>,
    /// Up to 10 offsets before `starts_at` (a whole number with `s`, `m`, `h` or `d`) at which
    /// participants and organizers are reminded; default `["24h", "1h"]`, `[]` for none.
    reminders: Option<Vec<String>>,
    /// `meetecho`, `bigbluebutton` or `jitsi`, one this server has settings for; absent = the
    /// configured default provider.
    conference_provider: Option<String>,
}

impl TryFrom<CreateEvent> for NewEvent {
    type Error = FieldErrors;

    fn try_from(body: CreateEvent) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let slug = errors
            .require("slug", body.slug)
            .and_then(|s| errors.check("slug", Slug::parse(&s)));
        let title = errors
            .require("title", body.title)
            .and_then(|t| errors.check("title", Title::parse(&t)));
        let description = body
            .description
            .and_then(|d| errors.check("description", Description::parse(&d)));
        let starts_at = body
            .starts_at
            .and_then(|t| errors.check("starts_at", parse_time(&t)));
        let ends_at = body
            .ends_at
            .and_then(|t| errors.check("ends_at", parse_time(&t)));
        let timezone = body
            .timezone
            .and_then(|z| errors.check("timezone", TimeZoneName::parse(&z)));
        let channels = errors.check(
            "channels",
            Channel::parse_list(&body.channels.unwrap_or_default()),
        );
        let reminders = super::reminders(&mut errors, body.reminders);
        let conference_provider = body
            .conference_provider
            .and_then(|p| errors.check("conference_provider", provider_name(p)));
        check_time_order(starts_at, ends_at, &mut errors);
        errors.finish(|| NewEvent {
            slug: slug.expect("checked"),
            title: title.expect("checked"),
            description,
            starts_at,
            ends_at,
            timezone,
            private: body.private.unwrap_or(false),
            channels: channels.expect("checked"),
            reminders: reminders.unwrap_or_default(),
            conference_provider,
        })
    }
}

/// The providers an event may name; whether this server has its settings is checked after.
fn provider_name(name: String) -> Result<String, &'static str> {
    match name.as_str() {
        "meetecho" | "bigbluebutton" | "jitsi" | "debug" => Ok(name),
        _ => Err("must be meetecho, bigbluebutton or jitsi"),
    }
}

/// An event's provider must be one this server has the settings of.
fn require_configured(state: &AppState, provider: Option<&str>) -> ApiResult<()> {
    match provider {
        Some(name) if state.conferencing.named(name).is_none() => Err(ApiError::field(
            "conference_provider",
            format!(
                "{name} is not configured on this server (configured: {})",
                match state.conferencing.names().join(", ") {
                    none if none.is_empty() => "none".to_owned(),
                    names => names,
                }
            ),
        )),
        _ => Ok(()),
    }
}

/// Create an event; the creator becomes its facilitator.
#[utoipa::path(post, path = "/events", tag = "events", request_body = CreateEvent,
    responses((status = 201, body = EventBody), (status = 409, description = "slug_taken"), (status = 422, description = "validation_failed")))]
pub(crate) async fn create_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(raw): JsonBody<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<EventBody>)> {
    let new = NewEvent::try_from(from_value::<CreateEvent>(Value::Object(raw.clone()))?)?;
    let rewrites = screen(&state, FilterType::EventCreationRequested, raw.clone()).await?;
    let new = if rewrites.is_empty() {
        new
    } else {
        let mut input = raw;
        input.extend(rewrites);
        NewEvent::try_from(from_value::<CreateEvent>(Value::Object(input))?)?
    };
    require_configured(&state, new.conference_provider.as_deref())?;
    let creator = match caller.user_id() {
        Some(id) => Some(
            state
                .store
                .user_by_id(id)
                .await?
                .ok_or(ApiError::Unauthorized)?,
        ),
        None => None,
    };
    let event = create_without_telling(&state, &caller, new, creator.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(event.into())))
}

/// `{slug}-{n}` tried before a random suffix is.
const SUFFIXES_TRIED: u32 = 50;

/// Creates the event; see [`without_telling`] for a slug that is taken.
async fn create_without_telling(
    state: &AppState,
    caller: &Principal,
    new: NewEvent,
    creator: Option<&convene_core::user::User>,
) -> ApiResult<Event> {
    let now = state.clock.now();
    let slug = new.slug.clone();
    without_telling(state, caller, &slug, |slug| {
        let attempt = NewEvent {
            slug,
            ..new.clone()
        };
        state.store.create_event(attempt, creator, now)
    })
    .await
}

/// Writes with `slug` by `write`. A slug taken by an event the caller may see is a 409
/// `slug_taken`; one taken by a private event they may not see is answered as if it were free,
/// with the first free `{slug}-{n}`: the slug of a private event must not leak.
async fn without_telling<T, F, Fut>(
    state: &AppState,
    caller: &Principal,
    slug: &Slug,
    mut write: F,
) -> ApiResult<T>
where
    F: FnMut(Slug) -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    match write(slug.clone()).await {
        Err(StoreError::Conflict(Conflict::Slug)) => {}
        other => return Ok(other?),
    }
    let filter = EventFilter {
        slug: Some(slug.clone()),
        audience: audience(caller),
        search: None,
    };
    let page = PageRequest {
        limit: 1,
        after: None,
    };
    if !state
        .store
        .list_events(&filter, &page)
        .await?
        .items
        .is_empty()
    {
        return Err(StoreError::Conflict(Conflict::Slug).into());
    }
    for n in 2..=SUFFIXES_TRIED + 1 {
        match write(slug.suffixed(n)).await {
            Err(StoreError::Conflict(Conflict::Slug)) => continue,
            other => return Ok(other?),
        }
    }
    Ok(write(slug.suffixed(rand::random::<u32>())).await?)
}

/// The events a caller may see: admins (and the bootstrap token) all, a user the public ones and
/// the private ones they organize or attend.
fn audience(caller: &Principal) -> Audience {
    match caller {
        Principal::User {
            id,
            is_admin: false,
            ..
        } => Audience::User(id.clone()),
        _ => Audience::Everything,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Exact slug.
    slug: Option<String>,
    /// Only events whose title or slug contains this, ignoring case.
    q: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Events the caller may see, oldest first.
#[utoipa::path(get, path = "/events", tag = "events", params(EventQuery), responses((status = 200, body = List<EventBody>)))]
async fn list_events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<EventQuery>,
) -> ApiResult<Json<List<EventBody>>> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let slug = match query.slug {
        // A slug that cannot exist matches nothing.
        Some(raw) => match Slug::parse(&raw) {
            Ok(slug) => Some(slug),
            Err(_) => {
                return Ok(Json(List {
                    data: vec![],
                    next_cursor: None,
                }));
            }
        },
        None => None,
    };
    let events = state
        .store
        .list_events(
            &EventFilter {
                slug,
                audience: audience(&caller),
                search: crate::extract::needle(&query.q)?.map(str::to_owned),
            },
            &page,
        )
        .await?;
    Ok(Json(List::from_page(events, EventBody::from)))
}

#[utoipa::path(get, path = "/events/{id}", tag = "events", params(("id" = String, Path)), responses((status = 200, body = EventBody), (status = 404)))]
async fn get_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EventBody>> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    Ok(Json(access.event.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchEvent {
    slug: Option<String>,
    title: Option<String>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    starts_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    ends_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    timezone: Option<Option<String>>,
    private: Option<bool>,
    /// Replaces the list; `[]` clears it.
    channels: Option<Vec<String>>,
    /// Replaces the offsets; `[]` for no reminders. Pending reminders move with them.
    reminders: Option<Vec<String>>,
    /// Sessions created after the change get rooms from this provider; `null` = the default.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    conference_provider: Option<Option<String>>,
}

impl TryFrom<PatchEvent> for EventPatch {
    type Error = FieldErrors;

    fn try_from(body: PatchEvent) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let slug = body
            .slug
            .and_then(|s| errors.check("slug", Slug::parse(&s)));
        let title = body
            .title
            .and_then(|t| errors.check("title", Title::parse(&t)));
        let description = patch_change(
            &mut errors,
            "description",
            body.description,
            Description::parse,
        );
        let starts_at = patch_change(&mut errors, "starts_at", body.starts_at, parse_time);
        let ends_at = patch_change(&mut errors, "ends_at", body.ends_at, parse_time);
        let timezone = patch_change(&mut errors, "timezone", body.timezone, TimeZoneName::parse);
        let channels = body
            .channels
            .and_then(|c| errors.check("channels", Channel::parse_list(&c)));
        let reminders = super::reminders(&mut errors, body.reminders);
        let conference_provider = patch_change(
            &mut errors,
            "conference_provider",
            body.conference_provider,
            |p: &str| provider_name(p.to_owned()),
        );
        errors.finish(|| EventPatch {
            slug,
            title,
            description,
            starts_at,
            ends_at,
            timezone,
            private: body.private,
            channels,
            reminders,
            conference_provider,
        })
    }
}

/// Change an event (organizers and admins). `null` clears an optional field.
#[utoipa::path(patch, path = "/events/{id}", tag = "events", params(("id" = String, Path)), request_body = PatchEvent,
    responses((status = 200, body = EventBody), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn update_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(raw): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<EventBody>> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    access.require_manager()?;
    let patch = EventPatch::try_from(from_value::<PatchEvent>(Value::Object(raw.clone()))?)?;
    let current = serde_json::to_value(EventBody::from(access.event.clone()))
        .map_err(|e| ApiError::Internal(e.into()))?;
    let input = object(json!({"event": current, "changes": raw}));
    let rewrites = screen(&state, FilterType::EventUpdateRequested, input).await?;
    let patch = match rewrites.get("changes") {
        None => patch,
        Some(changes @ Value::Object(_)) => {
            EventPatch::try_from(from_value::<PatchEvent>(changes.clone())?)?
        }
        Some(_) => {
            return Err(ApiError::field(
                "changes",
                "a webfilter rewrote it to something other than an object",
            ));
        }
    };
    if let convene_core::user::Change::Set(name) = &patch.conference_provider {
        require_configured(&state, Some(name))?;
    }
    let now = state.clock.now();
    let outcome = match patch.slug.clone() {
        None => {
            state
                .store
                .update_event(&access.event.id, patch, now)
                .await?
        }
        Some(slug) => {
            without_telling(&state, &caller, &slug, |slug| {
                let attempt = EventPatch {
                    slug: Some(slug),
                    ..patch.clone()
                };
                state.store.update_event(&access.event.id, attempt, now)
            })
            .await?
        }
    };
    match outcome {
        PatchOutcome::Updated(event) => Ok(Json((*event).into())),
        PatchOutcome::Invalid(errors) => Err(errors.into()),
    }
}

/// Delete an event with its organizers and participants (organizers and admins).
#[utoipa::path(delete, path = "/events/{id}", tag = "events", params(("id" = String, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub(crate) async fn delete_event(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let access = EventAccess::load(&state, &caller, &id).await?;
    access.require_manager()?;
    if state
        .store
        .delete_event(&access.event, state.clock.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
