//! The notification extras of `/api/v1`: unread count, mark-all-read, the live stream (SSE),
//! admin sends, and the caller's notification preferences.

use super::{parse_time, require_admin};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody};
use crate::notifications::mail::Recipient;
use crate::notifications::v1::resource;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use convene_core::access::Principal;
use convene_core::notification::{
    Cadence, Channel, Kind, NewNotification, Notification, Preference, cadence, wants,
};
use convene_core::user::User;
use convene_core::username::Username;
use convene_core::{EventId, FieldErrors, UserId};
use convene_store::NotificationQuery;
use futures_util::stream::Stream;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(unread_count))
        .routes(routes!(mark_all_read))
        .routes(routes!(stream))
        .routes(routes!(send))
        .routes(routes!(get_preferences, put_preferences))
}

/// The caller as a user: the bootstrap admin token is no user and has no notifications.
fn own_id(caller: &Principal) -> ApiResult<UserId> {
    caller.user_id().cloned().ok_or(ApiError::Forbidden(
        "the bootstrap admin token is no user and has no notifications",
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    unread_count: u64,
}

/// How many of the caller's notifications are unread.
#[utoipa::path(get, path = "/me/notifications/unread-count", tag = "notifications",
    responses((status = 200, body = UnreadCount), (status = 403)))]
async fn unread_count(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<UnreadCount>> {
    let id = own_id(&caller)?;
    Ok(Json(UnreadCount {
        unread_count: state.store.unread_count(&id).await?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    /// How many were unread and are read now.
    marked: u64,
}

/// Marks every notification of the caller as read.
#[utoipa::path(post, path = "/me/notifications/mark-all-read", tag = "notifications",
    responses((status = 200, body = Marked), (status = 403)))]
async fn mark_all_read(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<Marked>> {
    let id = own_id(&caller)?;
    Ok(Json(Marked {
        marked: state.store.mark_all_read(&id).await?,
    }))
}

fn sse(n: &Notification) -> SseEvent {
    SseEvent::default()
        .event("notification")
        .id(n.id.to_string())
        .data(resource(n, None).to_string())
}

/// The caller's new notifications as they arrive (Server-Sent Events): first `ready` with the
/// unread count, then one `notification` event (the JSON:API resource) each. A reconnect with
/// `Last-Event-ID` first gets what it missed.
#[utoipa::path(get, path = "/me/notifications/stream", tag = "notifications",
    responses((status = 200, content_type = "text/event-stream", description = "the stream"), (status = 403)))]
pub(crate) async fn stream(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let me = own_id(&caller)?;
    // Subscribe before reading, so nothing written in between is missed.
    let mut live = state.feed.subscribe();
    let unread = state.store.unread_count(&me).await?;
    // What exists now was counted in `unread`; the feed may still broadcast it a moment later.
    let mut sent_up_to = own_notifications(&state, &me, None, 1, true)
        .await?
        .first()
        .map_or(0, |n| n.id);
    let mut missed = Vec::new();
    if let Some(last) = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        missed = own_notifications(&state, &me, Some(last), 500, false).await?;
        sent_up_to = sent_up_to.max(missed.last().map_or(last, |n| n.id));
    }
    let stream = async_stream(move |tx| async move {
        let ready = SseEvent::default()
            .event("ready")
            .data(serde_json::json!({"unread_count": unread}).to_string());
        if tx.send(ready).await.is_err() {
            return;
        }
        for n in &missed {
            if tx.send(sse(n)).await.is_err() {
                return;
            }
        }
        loop {
            match live.recv().await {
                Ok(n) if n.user == me && n.id > sent_up_to => {
                    sent_up_to = sent_up_to.max(n.id);
                    if tx.send(sse(&n)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(skipped)) => {
                    tracing::warn!(skipped, "a notification stream fell behind");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The caller's notifications after `after` (all, without one), by id in the given order.
async fn own_notifications(
    state: &AppState,
    me: &UserId,
    after: Option<i64>,
    limit: u32,
    descending: bool,
) -> ApiResult<Vec<convene_core::notification::Notification>> {
    let filter = after
        .map(|last| {
            convene_core::notification::query::parse_filter(&format!(
                r#"[{{"name":"id","op":"gt","val":{last}}}]"#
            ))
            .map_err(|e| ApiError::bad_request("bad_request", e.detail))
        })
        .transpose()?;
    let query = NotificationQuery {
        owner: Some(me.clone()),
        filter,
        sort: vec![convene_core::notification::query::SortKey {
            field: convene_core::notification::query::Field::Id,
            descending,
        }],
        limit: Some(limit),
        offset: 0,
    };
    Ok(state.store.query_notifications(&query).await?.0)
}

/// A stream fed by a task: ends when the task ends or the client goes away.
fn async_stream<F, Fut>(produce: F) -> impl Stream<Item = Result<SseEvent, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<SseEvent>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(produce(tx));
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendNotification {
    /// Recipients by username; or
    usernames: Option<Vec<String>>,
    /// every participant of this event.
    event_id: Option<String>,
    title: Option<String>,
    /// HTML, shown as given.
    message: Option<String>,
    accept: Option<String>,
    /// For imports; default now.
    received_at: Option<String>,
    /// For imports; default false.
    is_read: Option<bool>,
    /// Also mail it to recipients who want announcements by mail (default false).
    email: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Sent {
    ids: Vec<String>,
    /// Mails queued (or logged as suppressed or disabled).
    mails: usize,
}

/// Usernames one send may name: enough for a team, bounded for the database and the 422.
const MAX_USERNAMES: usize = 1_000;

async fn recipients(
    state: &AppState,
    body: &SendNotification,
    errors: &mut FieldErrors,
) -> ApiResult<Vec<User>> {
    match (&body.usernames, &body.event_id) {
        (Some(_), Some(_)) | (None, None) => {
            errors.add("usernames", "give either usernames or event_id");
            Ok(vec![])
        }
        (Some(names), None) if names.len() > MAX_USERNAMES => {
            errors.add(
                "usernames",
                format!("at most {MAX_USERNAMES} per request; send to an event_id, or in parts"),
            );
            Ok(vec![])
        }
        (Some(names), None) => {
            let parsed: Vec<Username> = names
                .iter()
                .filter_map(|n| Username::parse(n).ok())
                .collect();
            let users = state.store.users_by_names(&parsed).await?;
            let unknown: Vec<&str> = names
                .iter()
                .filter(|raw| {
                    Username::parse(raw).map_or(true, |n| !users.iter().any(|u| u.username == n))
                })
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                errors.add(
                    "usernames",
                    format!("no such users: {}", unknown.join(", ")),
                );
            }
            Ok(users)
        }
        (None, Some(raw)) => {
            let event = match EventId::parse(raw) {
                Some(id) => state.store.event_by_id(&id).await?,
                None => None,
            };
            match event {
                Some(e) => Ok(state
                    .store
                    .audience(&e.id, convene_store::Recipients::Participants)
                    .await?),
                None => {
                    errors.add("event_id", "no such event");
                    Ok(vec![])
                }
            }
        }
    }
}

/// Sends a notification to users, or to every participant of an event (admin).
#[utoipa::path(post, path = "/notifications", tag = "notifications", request_body = SendNotification,
    responses((status = 201, body = Sent), (status = 403), (status = 422)))]
async fn send(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<SendNotification>,
) -> ApiResult<(StatusCode, Json<Sent>)> {
    require_admin(&caller)?;
    let mut errors = FieldErrors::new();
    let title = errors.require("title", body.title.clone().filter(|t| !t.trim().is_empty()));
    let message = errors.require(
        "message",
        body.message
            .as_deref()
            .map(crate::notifications::html::sanitize),
    );
    if title.as_ref().is_some_and(|t| t.chars().count() > 255) {
        errors.add("title", "must be at most 255 characters");
    }
    let received_at = match &body.received_at {
        Some(raw) => errors.check("received_at", parse_time(raw)),
        None => Some(state.clock.now()),
    };
    let users = recipients(&state, &body, &mut errors).await?;
    errors.finish(|| ())?;
    let (Some(title), Some(message), Some(received_at)) = (title, message, received_at) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "validated fields went missing"
        )));
    };
    let new: Vec<NewNotification> = users
        .iter()
        .map(|u| NewNotification {
            user: u.id.clone(),
            kind: Kind::Announcement,
            event: body.event_id.as_deref().and_then(EventId::parse),
            title: title.clone(),
            message: message.clone(),
            accept: body.accept.clone(),
            received_at,
            is_read: body.is_read.unwrap_or(false),
            actions: vec![],
            dedupe_key: None,
        })
        .collect();
    let made = state.store.insert_notifications(&new).await?;
    state.feed.waker().notify_one();
    let mails = if body.email.unwrap_or(false) {
        mail_announcement(&state, &users, &title, &message).await?
    } else {
        0
    };
    Ok((
        StatusCode::CREATED,
        Json(Sent {
            ids: made.iter().map(|n| n.id.to_string()).collect(),
            mails,
        }),
    ))
}

async fn mail_announcement(
    state: &AppState,
    users: &[User],
    title: &str,
    message: &str,
) -> ApiResult<usize> {
    let mailer = &state.mailer;
    let settings = mailer.settings(state.store.as_ref()).await?;
    let batch = uuid::Uuid::now_v7();
    let text = strip_tags(message);
    let mut mails = Vec::new();
    for user in users {
        let Some(to) = Recipient::user(user) else {
            continue;
        };
        if !wants(
            &state.store.preferences(&user.id).await?,
            Kind::Announcement,
            Channel::Email,
        ) {
            continue;
        }
        let locale = mailer
            .templates
            .locale(user.locale.as_ref().map(|l| l.as_str()));
        let message = crate::notifications::html::sanitize(message);
        let ctx = minijinja::context! { title => title, text => text, message => message };
        let rendered = mailer
            .templates
            .render(Kind::Announcement, locale, &ctx)
            .map_err(|e| ApiError::Internal(e.into()))?;
        let suppressed = state.store.is_suppressed(to.address).await?;
        mails.extend(mailer.compose(
            to,
            Kind::Announcement,
            &rendered,
            format!("announcement:{batch}:{}", user.id),
            &settings,
            suppressed,
        ));
    }
    Ok(state
        .store
        .queue_mails(&mails, state.clock.now())
        .await?
        .len())
}

/// The text of an HTML fragment, for the plain-text part of a mail.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PreferenceBody {
    kind: String,
    /// Mandatory kinds reach everyone; their switches cannot be turned off.
    #[serde(default, skip_deserializing)]
    mandatory: bool,
    in_app: Option<bool>,
    email: Option<bool>,
    /// How often its mail goes out: `instant`, or gathered into a `daily` or `weekly` digest at
    /// the configured local hour. Reminders, registrations and changed events (which carry
    /// calendar invitations) are always `instant`.
    delivery: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Preferences {
    data: Vec<PreferenceBody>,
}

fn shown(prefs: &[Preference]) -> Preferences {
    Preferences {
        data: Kind::ALL
            .into_iter()
            .filter(|kind| kind.has_preferences())
            .map(|kind| PreferenceBody {
                kind: kind.as_str().to_owned(),
                mandatory: kind.is_mandatory(),
                in_app: Some(wants(prefs, kind, Channel::InApp)),
                email: Some(wants(prefs, kind, Channel::Email)),
                delivery: Some(cadence(prefs, kind).as_str().to_owned()),
            })
            .collect(),
    }
}

/// Which kinds of notification reach the caller, in the app and by mail.
#[utoipa::path(get, path = "/me/notification-preferences", tag = "notifications",
    responses((status = 200, body = Preferences), (status = 403)))]
async fn get_preferences(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<Preferences>> {
    let id = own_id(&caller)?;
    Ok(Json(shown(&state.store.preferences(&id).await?)))
}

/// Changes some switches; kinds and channels left out keep theirs.
#[utoipa::path(put, path = "/me/notification-preferences", tag = "notifications", request_body = Preferences,
    responses((status = 200, body = Preferences), (status = 403), (status = 422)))]
async fn put_preferences(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<Preferences>,
) -> ApiResult<Json<Preferences>> {
    let id = own_id(&caller)?;
    let current = state.store.preferences(&id).await?;
    let mut errors = FieldErrors::new();
    let mut changes = Vec::new();
    for (i, p) in body.data.iter().enumerate() {
        let Some(kind) = Kind::parse(&p.kind).filter(|k| k.has_preferences()) else {
            errors.add(&format!("data[{i}].kind"), "is not a notification kind");
            continue;
        };
        let cadence = match p.delivery.as_deref().map(Cadence::parse) {
            None => None,
            Some(None) => {
                errors.add(
                    &format!("data[{i}].delivery"),
                    "must be instant, daily or weekly",
                );
                continue;
            }
            Some(Some(c)) if c != Cadence::Instant && !kind.may_wait() => {
                errors.add(
                    &format!("data[{i}].delivery"),
                    "this kind is always sent at once",
                );
                continue;
            }
            Some(c) => c,
        };
        if cadence.is_some() && p.email.is_none() {
            // The cadence lives on the mail switch: keep the switch as it stands.
            changes.push(Preference {
                kind,
                channel: Channel::Email,
                enabled: wants(&current, kind, Channel::Email),
                cadence,
            });
        }
        for (channel, value) in [(Channel::InApp, p.in_app), (Channel::Email, p.email)] {
            let Some(enabled) = value else { continue };
            if kind.is_mandatory() && !enabled {
                errors.add(
                    &format!("data[{i}].{}", channel.as_str()),
                    "this kind is mandatory and cannot be turned off",
                );
                continue;
            }
            changes.push(Preference {
                kind,
                channel,
                enabled,
                cadence: cadence.filter(|_| channel == Channel::Email),
            });
        }
    }
    errors.finish(|| ())?;
    state.store.set_preferences(&id, &changes).await?;
    Ok(Json(shown(&state.store.preferences(&id).await?)))
}
