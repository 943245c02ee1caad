//! Events: the list (search, paging), one event with its roster, link, sync log and sessions,
//! and the forms that create an event and register someone.

use super::forms::Posted;
use super::forms::{Fields, FormState, field, principal, refused, segment, typed};
use super::pages::{Nav, Page, audience, render, unavailable};
use super::session::Viewer;
use crate::api::rfc3339;
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use convene_core::EventId;
use convene_core::event::Event;
use convene_core::page::PageRequest;
use convene_core::search::as_name;
use convene_store::EventFilter;
use serde::Deserialize;

pub struct EventRow {
    pub id: String,
    pub title: String,
    pub slug: String,
    pub starts_at: Option<String>,
    pub private: bool,
}

#[derive(Template)]
#[template(path = "admin/events.html")]
struct Events {
    nav: Option<Nav>,
    csrf: String,
    /// The create form, as sent back after a refusal (empty otherwise).
    form: FormState,
    /// Every IANA time zone name, for the form's list.
    zones: &'static [String],
    q: String,
    notice: Option<&'static str>,
    events: Vec<EventRow>,
    /// How many events match, and the cursor of the next page.
    total: u64,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct EventQuery {
    q: Option<String>,
    cursor: Option<String>,
    /// `deleted` after an event was deleted.
    done: Option<String>,
}

const PER_PAGE: u32 = 25;
const ORGANIZERS_PER_PAGE: usize = 50;

pub async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<EventQuery>,
) -> Response {
    events_page(&state, &viewer, query, FormState::default()).await
}

/// The list, with the create form as `form` says (fresh, or sent back refused).
async fn events_page(
    state: &AppState,
    viewer: &Viewer,
    query: EventQuery,
    form: FormState,
) -> Response {
    let notice = (query.done.as_deref() == Some("deleted"))
        .then_some("The event is deleted, with its organizers, participants and sessions.");
    let q = typed(query.q.as_deref());
    let filter = EventFilter {
        slug: None,
        audience: audience(viewer),
        search: Some(q.clone()).filter(|q| !q.is_empty()),
    };
    let page = PageRequest {
        limit: PER_PAGE,
        after: PageRequest::parse_cursor(query.cursor.as_deref()).unwrap_or_default(),
    };
    let store = &state.store;
    let (Ok(listed), Ok(total)) = (
        store.list_events(&filter, &page).await,
        store.count_events(&filter).await,
    ) else {
        return unavailable(viewer, "events");
    };
    let next = listed.next_cursor();
    let events = listed
        .items
        .into_iter()
        .map(|e| EventRow {
            id: e.id.to_string(),
            title: e.title.as_str().to_owned(),
            slug: e.slug.as_str().to_owned(),
            starts_at: e.starts_at.map(rfc3339),
            private: e.private,
        })
        .collect();
    render(
        StatusCode::OK,
        &Events {
            nav: Nav::of(viewer, "events"),
            csrf: viewer.csrf.clone(),
            form,
            zones: zone_names(),
            q,
            notice,
            events,
            total,
            next,
        },
    )
}

#[derive(Template)]
#[template(path = "admin/event.html")]
struct EventPage {
    nav: Option<Nav>,
    csrf: String,
    /// The register form, as sent back after a refusal (empty otherwise).
    form: FormState,
    id: String,
    title: String,
    slug: String,
    private: bool,
    starts_at: Option<String>,
    /// What the edit form starts from: the event as it is, times in its own zone.
    current: EventFields,
    zones: &'static [String],
    /// The conferencing providers this server has settings for.
    providers: Vec<&'static str>,
    /// The participant search.
    q: String,
    notice: Option<&'static str>,
    /// Name, role, and the name as a path segment.
    organizers: Vec<(String, String, String)>,
    /// The organizer search, and the number of the next page of organizers.
    oq: String,
    more_organizers: Option<usize>,
    /// Name, visibility, registered at, and the name as a path segment.
    participants: Vec<(String, String, String, String)>,
    /// The cursor of the next page of participants.
    more_participants: Option<String>,
    link: Option<String>,
    sync_log: Vec<(String, String, String, String)>,
    /// The session search, and the cursor of the next page of sessions.
    sq: String,
    more_sessions: Option<String>,
    sessions: Vec<SessionRow>,
}

pub struct SessionRow {
    pub id: String,
    pub number: i64,
    pub title: String,
    pub starts_at: String,
    /// The start as the reschedule form shows it: in the event's zone.
    pub starts_local: String,
    pub duration_minutes: u32,
    pub room: String,
    /// `(id, title, url)` in the session's order.
    pub decks: Vec<(String, String, String)>,
}

pub struct EventFields {
    /// Labels webhooks may be scoped by, and reminder offsets, each comma-separated.
    pub channels: String,
    pub reminders: String,
    pub description: String,
    pub timezone: String,
    pub starts_at: String,
    pub ends_at: String,
    pub provider: String,
}

impl EventFields {
    /// The event as the edit form shows it: times in its own zone, lists comma-separated.
    fn of(e: &Event) -> Self {
        let zone = e.timezone.as_ref().map(|z| z.as_str());
        let local = |t: Option<convene_core::Timestamp>| {
            t.map(|t| super::forms::local_input(t, zone))
                .unwrap_or_default()
        };
        let channels: Vec<String> = e.channels.iter().map(|c| c.to_string()).collect();
        Self {
            channels: channels.join(", "),
            reminders: e.reminders.names().join(", "),
            description: e
                .description
                .as_ref()
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
            starts_at: local(e.starts_at),
            ends_at: local(e.ends_at),
            timezone: zone.unwrap_or_default().to_owned(),
            provider: e.conference_provider.clone().unwrap_or_default(),
        }
    }
}

/// Where the event page's lists are: each its own search and page.
#[derive(serde::Deserialize, Default)]
pub struct EventPageQuery {
    /// The participants' page and search.
    after: Option<String>,
    q: Option<String>,
    /// The sessions' search and page, apart from the participants'.
    sq: Option<String>,
    safter: Option<String>,
    /// The organizers' search and page number (an event's organizers are read whole).
    oq: Option<String>,
    opage: Option<usize>,
    /// `saved` after an edit.
    done: Option<String>,
}

pub async fn event(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(raw): Path<String>,
    axum::extract::Query(q): axum::extract::Query<EventPageQuery>,
) -> Response {
    let not_found = || {
        render(
            StatusCode::NOT_FOUND,
            &Page::message(
                Nav::of(&viewer, "events"),
                "Not found",
                "There is no such event, or it is not yours to see.",
            ),
        )
    };
    let Some(id) = EventId::parse(&raw).filter(|id| viewer.sees_event(id)) else {
        return not_found();
    };
    match event_page(&state, &viewer, &id, q).await {
        Ok(Some(page)) => render(StatusCode::OK, &page),
        Ok(None) => not_found(),
        Err(_) => unavailable(&viewer, "events"),
    }
}

/// The event's page again, with its register form sent back as `form`.
pub(super) async fn event_page_with(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    form: FormState,
) -> Response {
    let Some(id) = EventId::parse(id).filter(|id| viewer.sees_event(id)) else {
        return refused(viewer, "events", crate::error::ApiError::NotFound);
    };
    match event_page(state, viewer, &id, EventPageQuery::default()).await {
        Ok(Some(page)) => render(StatusCode::OK, &EventPage { form, ..page }),
        Ok(None) => refused(viewer, "events", crate::error::ApiError::NotFound),
        Err(_) => unavailable(viewer, "events"),
    }
}

async fn event_page(
    state: &AppState,
    viewer: &Viewer,
    id: &EventId,
    at: EventPageQuery,
) -> convene_store::StoreResult<Option<EventPage>> {
    let (q, sq, oq) = (
        typed(at.q.as_deref()),
        typed(at.sq.as_deref()),
        typed(at.oq.as_deref()),
    );
    let notice = (at.done.as_deref() == Some("saved")).then_some("Saved.");
    let store = &state.store;
    let Some(e) = store.event_by_id(id).await? else {
        return Ok(None);
    };
    let zone = e.timezone.as_ref().map(|z| z.as_str());
    let matching: Vec<_> = store
        .organizers(id)
        .await?
        .into_iter()
        .filter(|o| convene_core::search::contains(o.username.as_str(), &as_name(&oq)))
        .collect();
    // A hand-made page number far past the end shows an empty page, never an overflow.
    let organizer_page = at
        .opage
        .unwrap_or(1)
        .clamp(1, usize::MAX / ORGANIZERS_PER_PAGE);
    let more_organizers =
        (matching.len() > organizer_page * ORGANIZERS_PER_PAGE).then_some(organizer_page + 1);
    let organizers = matching
        .into_iter()
        .skip((organizer_page - 1) * ORGANIZERS_PER_PAGE)
        .take(ORGANIZERS_PER_PAGE)
        .map(|o| {
            let name = o.username.as_str();
            (name.to_owned(), o.role.as_str().to_owned(), segment(name))
        })
        .collect();
    let got = store
        .participants(
            id,
            true,
            Some(q.as_str()).filter(|q| !q.is_empty()),
            &PageRequest {
                limit: 50,
                after: at.after,
            },
        )
        .await?;
    let more_participants = got.next_after;
    let participants = got
        .items
        .into_iter()
        .map(|p| {
            (
                p.username.as_str().to_owned(),
                p.visibility.as_str().to_owned(),
                rfc3339(p.registered_at),
                segment(p.username.as_str()),
            )
        })
        .collect();
    let link = store.dashboard_link(id).await?.map(|l| {
        format!(
            "{}courses/{} · linked {} · last push: {}",
            l.base_url.as_str(),
            l.course_slug,
            rfc3339(l.linked_at),
            l.last_push_result.as_deref().unwrap_or("none yet")
        )
    });
    let sync_log = store
        .sync_calls(
            id,
            &PageRequest {
                limit: 20,
                after: None,
            },
        )
        .await?
        .items
        .into_iter()
        .map(|c| {
            (
                rfc3339(c.at),
                c.direction.as_str().to_owned(),
                c.endpoint.as_str().to_owned(),
                c.outcome,
            )
        })
        .collect();
    let sessions = store
        .sessions(
            id,
            Some(sq.as_str()).filter(|q| !q.is_empty()),
            &PageRequest {
                limit: 20,
                after: at.safter,
            },
        )
        .await?;
    let more_sessions = sessions.next_after;
    let shown: Vec<&str> = sessions.items.iter().map(|s| s.id.as_str()).collect();
    let decks = store.decks_of_sessions(&shown).await?;
    let mut rows = Vec::with_capacity(sessions.items.len());
    for s in sessions.items {
        let room = s.conference.as_ref().map_or("no room".to_owned(), |c| {
            let url = c
                .room
                .as_ref()
                .map(|r| r.handle.join_url.as_str().to_owned());
            match (c.status.as_str(), url, &c.error) {
                ("ready", Some(url), _) => format!("ready: {url}"),
                (status, _, Some(error)) => format!("{status}: {error}"),
                (status, _, None) => status.to_owned(),
            }
        });
        let decks = decks
            .iter()
            .filter(|d| d.session == s.id)
            .map(|d| {
                let (title, url) = (d.title.as_str().to_owned(), d.url.as_str().to_owned());
                (d.id.to_string(), title, url)
            })
            .collect();
        rows.push(SessionRow {
            id: s.id.to_string(),
            number: s.number,
            title: s.title.as_str().to_owned(),
            starts_at: rfc3339(s.starts_at),
            starts_local: super::forms::local_input(s.starts_at, zone),
            duration_minutes: s.duration_minutes,
            room,
            decks,
        });
    }
    Ok(Some(EventPage {
        form: FormState::default(),
        nav: Nav::of(viewer, "events"),
        csrf: viewer.csrf.clone(),
        id: e.id.to_string(),
        title: e.title.as_str().to_owned(),
        slug: e.slug.as_str().to_owned(),
        private: e.private,
        starts_at: e.starts_at.map(rfc3339),
        current: EventFields::of(&e),
        zones: zone_names(),
        providers: state.conferencing.names(),
        q,
        notice,
        organizers,
        oq,
        more_organizers,
        participants,
        more_participants,
        link,
        sync_log,
        sq,
        more_sessions,
        sessions: rows,
    }))
}

/// Creates an event through the API's own handler (validation, webfilters, the creator as
/// facilitator).
pub async fn create_event(State(state): State<AppState>, Posted(viewer, form): Posted) -> Response {
    let mut body = serde_json::Map::new();
    for key in ["slug", "title", "timezone", "description"] {
        if let Some(v) = field(&form, key) {
            body.insert(key.to_owned(), serde_json::Value::String(v));
        }
    }
    let zone = field(&form, "timezone");
    for key in ["starts_at", "ends_at"] {
        let Some(local) = field(&form, key) else {
            continue;
        };
        match super::forms::instant(&local, zone.as_deref()) {
            Ok(t) => body.insert(key.to_owned(), serde_json::Value::String(t)),
            Err(message) => {
                let sent_back = FormState::with_error(&form, key, message);
                return events_page(&state, &viewer, EventQuery::default(), sent_back).await;
            }
        };
    }
    body.insert(
        "private".into(),
        serde_json::Value::Bool(form.contains_key("private")),
    );
    let created = crate::api::events::create_event(
        State(state.clone()),
        Caller(principal(&viewer)),
        JsonBody(body),
    )
    .await;
    match created {
        Ok((_, created)) => {
            let v = serde_json::to_value(&created.0).unwrap_or_default();
            Redirect::to(&format!(
                "/admin/events/{}",
                v["id"].as_str().unwrap_or_default()
            ))
            .into_response()
        }
        Err(e) => {
            let sent_back = FormState::refused(&form, &e);
            events_page(&state, &viewer, EventQuery::default(), sent_back).await
        }
    }
}

/// What an organizer or participant change came to: back to the event's page, or the page
/// again with what went wrong, on the form's `field` (an unknown name) or for the page.
async fn changed<T>(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    done: crate::error::ApiResult<T>,
    form: &Fields,
    field: &str,
    name: &str,
) -> Response {
    let sent_back = match done {
        Ok(_) => return Redirect::to(&format!("/admin/events/{id}")).into_response(),
        Err(e @ crate::error::ApiError::Validation(_)) => FormState::refused(form, &e),
        // The event is one the viewer sees (checked again on the way back): the name is what
        // is unknown.
        Err(crate::error::ApiError::NotFound) if name.is_empty() => {
            FormState::with_error(form, field, "is required".to_owned())
        }
        Err(crate::error::ApiError::NotFound) if field == "removal" => {
            FormState::with_error(form, field, format!("{name} is not on this event any more"))
        }
        Err(crate::error::ApiError::NotFound) => {
            FormState::with_error(form, field, format!("No user named {name}"))
        }
        Err(e) => FormState::with_error(form, field, super::forms::said(&e)),
    };
    event_page_with(state, viewer, id, sent_back).await
}

/// Makes someone an organizer through the API's handler.
pub async fn add_organizer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(viewer, form): Posted,
) -> Response {
    let name = field(&form, "organizer").unwrap_or_default();
    let body = serde_json::from_value(serde_json::json!({})).expect("an empty object");
    let caller = Caller(principal(&viewer));
    let path = Path((id.clone(), name.clone()));
    let done =
        crate::api::organizers::put_organizer(State(state.clone()), caller, path, JsonBody(body))
            .await;
    changed(&state, &viewer, &id, done, &form, "organizer", &name).await
}

/// `remove` on an organizer or a participant (`who`: `organizers`, `participants`).
pub async fn remove(
    State(state): State<AppState>,
    Path((id, who, name)): Path<(String, String, String)>,
    Posted(viewer, form): Posted,
) -> Response {
    let (caller, path) = (Caller(principal(&viewer)), Path((id.clone(), name.clone())));
    let done = match who.as_str() {
        "organizers" => {
            crate::api::organizers::remove_organizer(State(state.clone()), caller, path).await
        }
        "participants" => {
            crate::api::participants::cancel(State(state.clone()), caller, path).await
        }
        _ => return refused(&viewer, "events", crate::error::ApiError::NotFound),
    };
    changed(&state, &viewer, &id, done, &form, "removal", &name).await
}

/// Every IANA time zone name jiff knows, sorted, read once.
fn zone_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
        names.sort();
        names
    })
}

/// Registers someone (or changes their visibility) through the API's handler.
pub async fn register(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(viewer, form): Posted,
) -> Response {
    let username = field(&form, "username").unwrap_or_default();
    let body = serde_json::json!({"visibility": field(&form, "visibility")});
    let Ok(dto) = serde_json::from_value(body) else {
        let sent_back = FormState::with_error(&form, "visibility", "is required".into());
        return event_page_with(&state, &viewer, &id, sent_back).await;
    };
    let registered = crate::api::participants::register(
        State(state.clone()),
        Caller(principal(&viewer)),
        Path((id.clone(), username.clone())),
        JsonBody(dto),
    )
    .await;
    changed(
        &state, &viewer, &id, registered, &form, "username", &username,
    )
    .await
}

/// Changes the event through the API's handler. Only what the form changed is sent: a time
/// shown to the minute and saved untouched keeps its seconds, and an unchanged event is not
/// announced as updated.
pub async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(viewer, form): Posted,
) -> Response {
    // Only the event itself is read: the form is compared with it, nothing else on its page.
    let found = match EventId::parse(&id).filter(|e| viewer.sees_event(e)) {
        Some(eid) => state.store.event_by_id(&eid).await,
        None => Ok(None),
    };
    let event = match found {
        Ok(Some(event)) => event,
        Ok(None) => return refused(&viewer, "events", crate::error::ApiError::NotFound),
        Err(_) => return unavailable(&viewer, "events"),
    };
    let typed = |key: &str| {
        form.get(key)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let optional = |v: String| (!v.is_empty()).then_some(v);
    let mut body = serde_json::Map::new();
    // A field the form did not send (a script's post) is left as it is.
    let mut change = |key: &str, before: &str, value: serde_json::Value| {
        if form.contains_key(key) && typed(key) != before {
            body.insert(key.to_owned(), value);
        }
    };
    change("title", event.title.as_str(), typed("title").into());
    change("slug", event.slug.as_str(), typed("slug").into());
    let c = &EventFields::of(&event);
    change(
        "description",
        &c.description,
        optional(typed("description")).into(),
    );
    change("timezone", &c.timezone, optional(typed("timezone")).into());
    change(
        "conference_provider",
        &c.provider,
        optional(typed("conference_provider")).into(),
    );
    let zone = optional(typed("timezone"));
    let zone_changed = typed("timezone") != c.timezone;
    let times = [
        ("starts_at", c.starts_at.clone()),
        ("ends_at", c.ends_at.clone()),
    ];
    for (key, before) in times {
        // A new zone moves the times typed in it, even when their digits stay.
        if !form.contains_key(key) || (typed(key) == before && !zone_changed) {
            continue;
        }
        let value = match optional(typed(key)) {
            None => serde_json::Value::Null,
            Some(local) => match super::forms::instant(&local, zone.as_deref()) {
                Ok(t) => t.into(),
                Err(message) => {
                    let sent_back = FormState::with_error(&form, key, message);
                    return event_page_with(&state, &viewer, &id, sent_back).await;
                }
            },
        };
        body.insert(key.to_owned(), value);
    }
    // Lists are compared as lists: "a,b" and "a, b" are the same.
    for key in ["channels", "reminders"]
        .into_iter()
        .filter(|k| form.contains_key(*k))
    {
        let list = |text: &str| -> Vec<String> {
            text.split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let before = if key == "channels" {
            &c.channels
        } else {
            &c.reminders
        };
        let typed = list(&typed(key));
        if typed != list(before) {
            body.insert(key.to_owned(), typed.into());
        }
    }
    let private = form.contains_key("private");
    if private != event.private {
        body.insert("private".into(), private.into());
    }
    if body.is_empty() {
        return Redirect::to(&format!("/admin/events/{id}")).into_response();
    }
    let caller = Caller(principal(&viewer));
    let path = Path(id.clone());
    let done = crate::api::events::update_event(State(state.clone()), caller, path, JsonBody(body));
    match done.await {
        Ok(_) => Redirect::to(&format!("/admin/events/{id}?done=saved")).into_response(),
        Err(e) => {
            let sent_back = FormState::refused(&form, &e);
            event_page_with(&state, &viewer, &id, sent_back).await
        }
    }
}

/// Deletes the event through the API's handler, once the form's box says so.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(viewer, form): Posted,
) -> Response {
    if !form.contains_key("confirm") {
        let asked = FormState::with_error(&form, "confirm", "Tick the box to delete".into());
        return event_page_with(&state, &viewer, &id, asked).await;
    }
    let caller = Caller(principal(&viewer));
    match crate::api::events::delete_event(State(state.clone()), caller, Path(id.clone())).await {
        Ok(_) => Redirect::to("/admin/events?done=deleted").into_response(),
        Err(e) => {
            let sent_back = FormState::refused(&form, &e);
            event_page_with(&state, &viewer, &id, sent_back).await
        }
    }
}
