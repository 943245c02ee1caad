//! The layout's parts, rendering, and the overview. Pages read through the same store traits
//! and rules as the API; an organizer sees only the events they organize.

use super::session::Viewer;
use crate::api::rfc3339;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use convene_store::{Audience, EventFilter};
use time::Duration;

/// What the layout's navigation needs.
pub struct Nav {
    pub current: &'static str,
    pub admin: bool,
    pub username: String,
    pub csrf: String,
}

impl Nav {
    pub fn of(viewer: &Viewer, current: &'static str) -> Option<Self> {
        Some(Self {
            current,
            admin: viewer.admin,
            username: viewer.user.username.as_str().to_owned(),
            csrf: viewer.csrf.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "admin/message.html")]
pub struct Page {
    nav: Option<Nav>,
    heading: String,
    text: String,
}

impl Page {
    pub fn message(nav: Option<Nav>, heading: &str, text: &str) -> Self {
        Self {
            nav,
            heading: heading.to_owned(),
            text: text.to_owned(),
        }
    }
}

pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "an admin page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub(super) fn unavailable(viewer: &Viewer, current: &'static str) -> Response {
    render(
        StatusCode::SERVICE_UNAVAILABLE,
        &Page::message(
            Nav::of(viewer, current),
            "Unavailable",
            "The database did not answer. Please try again.",
        ),
    )
}

pub struct Bar {
    pub x: usize,
    pub ok_y: f64,
    pub ok_h: f64,
    pub failed_y: f64,
    pub failed_h: f64,
    pub label: String,
}

pub struct Failing {
    pub id: String,
    pub url: String,
    pub since: String,
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct Overview {
    nav: Option<Nav>,
    admin: bool,
    events: u64,
    webhooks: u64,
    attempts: u64,
    failure_rate: String,
    unread: u64,
    chart: Vec<Bar>,
    peak: String,
    /// The y axis, top to bottom (per minute), and the x axis, oldest first (UTC times).
    y_ticks: [String; 3],
    x_ticks: Vec<String>,
    failing: Vec<Failing>,
}

/// Five times along the chart's 24 hours, every 6 hours, as `HH:MM` UTC.
fn x_ticks(now: i64) -> Vec<String> {
    let start = (now / BUCKET_S - 95) * BUCKET_S;
    (0..=4)
        .map(|i| {
            let at = start + i * 6 * 3600;
            time::OffsetDateTime::from_unix_timestamp(at)
                .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
                .unwrap_or_default()
        })
        .collect()
}

const BUCKET_S: i64 = 900;
/// Failing endpoints the overview lists, longest failing first (the webhooks page shows every
/// endpoint's state).
const FAILING_SHOWN: u32 = 50;

/// One bar per 15 minutes over 24 hours, heights relative to the busiest bucket.
fn chart(stats: &[(i64, u64, u64)], now: i64) -> (Vec<Bar>, f64) {
    // 96 buckets, the last one holding `now`.
    let start = (now / BUCKET_S - 95) * BUCKET_S;
    let recent: Vec<&(i64, u64, u64)> = stats.iter().filter(|(b, _, _)| *b >= start).collect();
    let max = recent
        .iter()
        .map(|(_, ok, failed)| ok + failed)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bars = recent
        .into_iter()
        .map(|(b, ok, failed)| {
            let x = usize::try_from((b - start) / BUCKET_S).unwrap_or(0) * 10;
            let ok_h = *ok as f64 / max * 118.0;
            let failed_h = *failed as f64 / max * 118.0;
            let at = time::OffsetDateTime::from_unix_timestamp(*b)
                .map(rfc3339)
                .unwrap_or_default();
            Bar {
                x,
                ok_y: 120.0 - ok_h,
                ok_h,
                failed_y: 120.0 - ok_h - failed_h,
                failed_h,
                label: format!("{at}: {ok} succeeded, {failed} failed"),
            }
        })
        .collect();
    (bars, max / (BUCKET_S as f64 / 60.0))
}

pub async fn overview(State(state): State<AppState>, viewer: Viewer) -> Response {
    match overview_page(&state, &viewer).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(_) => unavailable(&viewer, "overview"),
    }
}

async fn overview_page(state: &AppState, viewer: &Viewer) -> convene_store::StoreResult<Overview> {
    let store = &state.store;
    let now = state.clock.now();
    let every = EventFilter {
        slug: None,
        audience: audience(viewer),
        search: None,
    };
    let events = store.count_events(&every).await?;
    let unread = store.unread_count(&viewer.user.id).await?;
    let (mut webhooks, mut attempts, mut failure_rate, mut bars, mut peak, mut failing) =
        (0, 0, "—".to_owned(), Vec::new(), 0.0, Vec::new());
    if viewer.admin {
        let (total, hooks) = store.webhook_health(FAILING_SHOWN).await?;
        webhooks = total;
        failing = hooks
            .iter()
            .filter_map(|h| {
                let state = if h.enabled { "retrying" } else { "disabled" };
                h.failing_since.map(|since| Failing {
                    id: h.id.to_string(),
                    url: h.url.as_str().to_owned(),
                    since: rfc3339(since),
                    state,
                })
            })
            .collect();
        let stats = store
            .attempt_stats(now - Duration::hours(24), BUCKET_S)
            .await?;
        let (ok, failed) = stats
            .iter()
            .fold((0, 0), |(a, b), (_, ok, f)| (a + ok, b + f));
        attempts = ok + failed;
        if attempts > 0 {
            failure_rate = format!("{:.1} %", failed as f64 * 100.0 / attempts as f64);
        }
        (bars, peak) = chart(&stats, now.unix_timestamp());
    }
    Ok(Overview {
        nav: Nav::of(viewer, "overview"),
        admin: viewer.admin,
        events,
        webhooks,
        attempts,
        failure_rate,
        unread,
        chart: bars,
        peak: format!("{peak:.1}"),
        y_ticks: [
            format!("{peak:.1}"),
            format!("{:.1}", peak / 2.0),
            "0".to_owned(),
        ],
        x_ticks: x_ticks(now.unix_timestamp()),
        failing,
    })
}

/// The events the console lists to `viewer`: all of them to an admin, else those they organize.
pub(super) fn audience(viewer: &Viewer) -> Audience {
    if viewer.admin {
        Audience::Everything
    } else {
        Audience::Organizer(viewer.user.id.clone())
    }
}

/// Any other `/admin/…` address: a page that says so, in the UI's own frame.
pub async fn not_found(viewer: Viewer, uri: axum::http::Uri) -> Response {
    let text = format!("There is no page at {}.", uri.path());
    render(
        StatusCode::NOT_FOUND,
        &Page::message(Nav::of(&viewer, ""), "Not found", &text),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_spans_96_buckets_ending_now() {
        let now = 1_800_000_000;
        let current = now / BUCKET_S * BUCKET_S;
        let (bars, peak) = chart(
            &[
                (current - 95 * BUCKET_S, 3, 0),
                (current, 1, 2),
                (current - 96 * BUCKET_S, 9, 9),
            ],
            now,
        );
        assert_eq!(bars.len(), 2, "the bucket older than 24 h is left out");
        assert_eq!((bars[0].x, bars[1].x), (0, 950));
        assert!((bars[0].ok_h - 118.0).abs() < 1e-9, "{}", bars[0].ok_h);
        assert!(
            (bars[1].failed_h - 78.666).abs() < 0.01,
            "{}",
            bars[1].failed_h
        );
        assert!((peak - 0.2).abs() < 1e-9, "3 in 15 minutes");
    }
}
