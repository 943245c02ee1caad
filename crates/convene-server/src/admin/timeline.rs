//! One timeline per event of what its connectors did: Dashboard sync calls, rooms and slide
//! pushes waiting on their provider or given up, CRM attendances, and (for admins, whose endpoints and addresses they are) webhook deliveries and
//! mails. Failures come first, then the newest.

use super::pages::{Nav, Page, render, unavailable};
use super::session::Viewer;
use crate::api::rfc3339;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use convene_core::job::JobKind;
use convene_core::page::PageRequest;
use convene_core::{EventId, Timestamp};
use convene_store::{DeliveryFilter, StoreResult};

/// How many of each kind the page reads.
const EACH: u32 = 50;

pub struct Entry {
    pub at: Timestamp,
    pub connector: &'static str,
    pub what: String,
    pub outcome: String,
    pub failed: bool,
    /// Where to see more, if somewhere.
    pub link: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/timeline.html")]
struct TimelinePage {
    nav: Option<Nav>,
    id: String,
    title: String,
    /// `(time, entry)`, failures first, then newest first.
    entries: Vec<(String, Entry)>,
    /// Whether deliveries and mails are shown (admins only).
    everything: bool,
}

pub async fn timeline(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(raw): Path<String>,
) -> Response {
    let Some(id) = EventId::parse(&raw).filter(|id| viewer.sees_event(id)) else {
        return missing(&viewer);
    };
    let event = match state.store.event_by_id(&id).await {
        Ok(Some(e)) => e,
        Ok(None) => return missing(&viewer),
        Err(_) => return unavailable(&viewer, "events"),
    };
    let mut entries = match entries(&state, &id, viewer.admin).await {
        Ok(e) => e,
        Err(_) => return unavailable(&viewer, "events"),
    };
    entries.sort_by_key(|e| std::cmp::Reverse((e.failed, e.at)));
    let page = TimelinePage {
        nav: Nav::of(&viewer, "events"),
        id: event.id.to_string(),
        title: event.title.as_str().to_owned(),
        entries: entries.into_iter().map(|e| (rfc3339(e.at), e)).collect(),
        everything: viewer.admin,
    };
    render(StatusCode::OK, &page)
}

fn missing(viewer: &Viewer) -> Response {
    let text = "There is no such event, or it is not yours to see.";
    render(
        StatusCode::NOT_FOUND,
        &Page::message(Nav::of(viewer, "events"), "Not found", text),
    )
}

async fn entries(state: &AppState, id: &EventId, admin: bool) -> StoreResult<Vec<Entry>> {
    let store = &state.store;
    let page = PageRequest {
        limit: EACH,
        after: None,
    };
    let mut out = Vec::new();
    for c in store.sync_calls(id, &page).await?.items {
        let failed = c.outcome != "success";
        out.push(Entry {
            at: c.at,
            connector: "Dashboard",
            what: format!("{} {}", c.direction.as_str(), c.endpoint.as_str()),
            outcome: match (failed, &c.detail) {
                (true, Some(detail)) => format!("{}: {detail}", c.outcome),
                _ => format!("{} (+{} −{})", c.outcome, c.added, c.removed),
            },
            failed,
            link: None,
        });
    }
    let sessions = store.sessions(id, None, &page).await?.items;
    let subjects: Vec<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
    // Room and slide pushes still waiting for their provider, or given up, with why.
    for job in store.jobs_of_subjects(&subjects, EACH).await? {
        let Some(s) = sessions.iter().find(|s| s.id.as_str() == job.subject) else {
            continue;
        };
        let (connector, what) = match job.kind {
            JobKind::ConferenceSlides => ("Slides", "slides"),
            JobKind::ConferenceRoom => ("Rooms", "room"),
            _ => continue,
        };
        out.push(Entry {
            at: job.created_at,
            connector,
            what: format!("{what} push for #{} {}", s.number, s.title.as_str()),
            outcome: match (&job.last_error, job.given_up) {
                (Some(e), true) => format!("gave up after {} attempts: {e}", job.attempts),
                (Some(e), false) => format!("retrying after {} attempts: {e}", job.attempts),
                (None, _) => "queued".to_owned(),
            },
            failed: job.last_error.is_some(),
            link: Some(format!("/admin/events/{id}#session-{}", s.id)),
        });
    }
    for s in &sessions {
        let Some(room) = &s.conference else { continue };
        let status = room.status.as_str();
        out.push(Entry {
            at: s.updated_at,
            connector: "Rooms",
            what: format!(
                "room for #{} {} ({})",
                s.number,
                s.title.as_str(),
                room.provider
            ),
            outcome: outcome(status, room.error.as_deref()),
            failed: status == "failed",
            link: Some(format!("/admin/events/{id}#session-{}", s.id)),
        });
    }
    for a in store.attendances(id).await? {
        out.push(Entry {
            at: a.updated_at,
            connector: "CRM",
            what: format!("attendance of person {}", a.person_id),
            outcome: match &a.remote_href {
                Some(_) => format!("{} (synced)", a.status),
                None => format!("{} (not on Action Network yet)", a.status),
            },
            failed: false,
            link: None,
        });
    }
    if admin {
        let about = DeliveryFilter {
            event: Some(id.clone()),
            ..DeliveryFilter::default()
        };
        for l in store.deliveries(&about, &page).await?.items {
            let d = l.delivery;
            let status = d.status.as_str();
            out.push(Entry {
                at: d.updated_at,
                connector: "Webhooks",
                what: format!("{} (attempt {})", d.event_type, d.attempts),
                outcome: outcome(status, l.last_error.as_deref()),
                failed: status == "failed" || (status == "pending" && d.attempts > 0),
                link: Some(format!("/admin/deliveries/{}", d.id)),
            });
        }
        for m in store.mails_of_event(id, EACH).await? {
            let status = m.status.as_str();
            out.push(Entry {
                at: m.updated_at,
                connector: "Mail",
                what: format!("{} to {}", m.action, m.recipient),
                outcome: outcome(status, m.error.as_deref()),
                failed: status == "failed",
                link: None,
            });
        }
    }
    Ok(out)
}

/// A status with what went wrong, if anything did.
fn outcome(status: &str, error: Option<&str>) -> String {
    error.map_or(status.to_owned(), |e| format!("{status}: {e}"))
}
