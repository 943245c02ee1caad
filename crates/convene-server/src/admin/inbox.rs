//! The signed-in user's notifications (live, through the same stream the API serves) and the
//! mail log (admins).

use super::forms::Posted;
use super::forms::{admins_only, principal};
use super::pages::{Nav, Page, render};
use super::session::Viewer;
use crate::api::rfc3339;
use crate::extract::Caller;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use convene_core::mail::MailStatus;
use convene_core::notification::query::{DEFAULT_SORT, Field, Filter, Op, Value};
use convene_core::page::PageRequest;
use convene_core::search::like_pattern;
use convene_store::NotificationQuery;
use serde::Deserialize;

pub struct NoteRow {
    pub title: String,
    pub message: String,
    pub received_at: String,
    pub read: bool,
}

#[derive(Template)]
#[template(path = "admin/notifications.html")]
struct Inbox {
    nav: Option<Nav>,
    csrf: String,
    notes: Vec<NoteRow>,
    page: u64,
    pages: u64,
    /// The search, as typed.
    q: String,
}

#[derive(Deserialize)]
pub struct PageNumber {
    page: Option<u64>,
    q: Option<String>,
}

/// Notifications whose title or message contains `search`, ignoring case.
fn containing(search: &str) -> Filter {
    let like = |field| Filter::Compare {
        field,
        op: Op::ILike,
        values: vec![Value::Text(like_pattern(search))],
    };
    Filter::Or(vec![like(Field::Title), like(Field::Message)])
}

const PER_PAGE: u32 = 25;

pub async fn notifications(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<PageNumber>,
) -> Response {
    // A hand-made page number far past the end shows an empty page, never an overflow.
    let page = q.page.unwrap_or(1).clamp(1, u64::from(u32::MAX));
    let search = super::forms::typed(q.q.as_deref());
    let query = NotificationQuery {
        owner: Some(viewer.user.id.clone()),
        filter: Some(search.as_str())
            .filter(|s| !s.is_empty())
            .map(containing),
        sort: DEFAULT_SORT.to_vec(),
        limit: Some(PER_PAGE),
        offset: (page - 1) * u64::from(PER_PAGE),
    };
    let Ok((items, total)) = state.store.query_notifications(&query).await else {
        return render(
            StatusCode::SERVICE_UNAVAILABLE,
            &Page::message(
                Nav::of(&viewer, "notifications"),
                "Unavailable",
                "The database did not answer.",
            ),
        );
    };
    let notes = items
        .into_iter()
        .map(|n| NoteRow {
            title: n.title,
            message: crate::notifications::html::sanitize(&n.message),
            received_at: rfc3339(n.received_at),
            read: n.is_read,
        })
        .collect();
    let pages = total.div_ceil(u64::from(PER_PAGE)).max(1);
    render(
        StatusCode::OK,
        &Inbox {
            nav: Nav::of(&viewer, "notifications"),
            csrf: viewer.csrf.clone(),
            notes,
            page,
            pages,
            q: search,
        },
    )
}

pub async fn read_all(State(state): State<AppState>, Posted(viewer, _form): Posted) -> Response {
    let _ = state.store.mark_all_read(&viewer.user.id).await;
    Redirect::to("/admin/notifications").into_response()
}

pub async fn stream(State(state): State<AppState>, viewer: Viewer, headers: HeaderMap) -> Response {
    match crate::api::notifications::stream(State(state), Caller(principal(&viewer)), headers).await
    {
        Ok(sse) => sse.into_response(),
        Err(e) => e.into_response(),
    }
}

pub struct MailRow {
    pub time: String,
    pub recipient: String,
    pub action: String,
    pub subject: String,
    pub status: &'static str,
    pub provider: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "admin/mails.html")]
struct MailLog {
    nav: Option<Nav>,
    mails: Vec<MailRow>,
    status: String,
    /// The recipient search, as typed.
    q: String,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct MailQuery {
    status: Option<String>,
    /// Part of the recipient's address.
    q: Option<String>,
    cursor: Option<String>,
}

pub async fn mails(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<MailQuery>,
) -> Response {
    if let Some(r) = admins_only(&viewer, "mails") {
        return r;
    }
    let status = q.status.as_deref().and_then(MailStatus::parse);
    let typed = super::forms::typed(q.q.as_deref());
    let search = Some(typed.clone()).filter(|s| !s.is_empty());
    let after = PageRequest::parse_cursor(q.cursor.as_deref())
        .ok()
        .flatten();
    let Ok(page) = state
        .store
        .list_mails(status, search.as_deref(), &PageRequest { limit: 50, after })
        .await
    else {
        return render(
            StatusCode::SERVICE_UNAVAILABLE,
            &Page::message(
                Nav::of(&viewer, "mails"),
                "Unavailable",
                "The database did not answer.",
            ),
        );
    };
    let next = page.next_cursor();
    let mails = page
        .items
        .into_iter()
        .map(|m| MailRow {
            time: rfc3339(m.created_at),
            recipient: m.recipient,
            action: m.action,
            subject: m.subject,
            status: m.status.as_str(),
            provider: m.provider.unwrap_or_default(),
            error: m.error.unwrap_or_default(),
        })
        .collect();
    render(
        StatusCode::OK,
        &MailLog {
            nav: Nav::of(&viewer, "mails"),
            mails,
            status: status.map_or("", MailStatus::as_str).to_owned(),
            q: typed,
            next,
        },
    )
}
