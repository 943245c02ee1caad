//! What a limited API token may reach: each `/api/v1` route needs one scope, and a token limited
//! to events reaches only routes under those events. Decided here, once, before any handler runs;
//! handlers still check what the user may do, so a token never does more than its user could.

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::Method;
use convene_core::scope::{Scope, TokenLimits};
use convene_core::{EventId, SessionId};

/// What a request needs: a scope (`None`: any token, e.g. reading who it belongs to), and the
/// event it acts on, when its path names one.
#[derive(Debug, PartialEq, Eq)]
struct Need<'a> {
    scope: Option<Scope>,
    event: Subject<'a>,
}

#[derive(Debug, PartialEq, Eq)]
enum Subject<'a> {
    Event(&'a str),
    Session(&'a str),
    /// A route about no single event (lists, users, webhooks, signals…).
    None,
}

/// The scope and subject of a request to `path` (relative to `/api/v1`).
fn need<'a>(method: &Method, path: &'a str) -> Need<'a> {
    let read = matches!(*method, Method::GET | Method::HEAD);
    let by = |reads: Scope, writes: Scope| Some(if read { reads } else { writes });
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (scope, event) = match segments.as_slice() {
        ["events", id, "participants", ..] => (
            by(Scope::EventsRead, Scope::ParticipantsWrite),
            Subject::Event(id),
        ),
        ["events", id, "attendances", ..] => (
            by(Scope::PeopleRead, Scope::PeopleWrite),
            Subject::Event(id),
        ),
        ["events", id, ..] => (
            by(Scope::EventsRead, Scope::EventsWrite),
            Subject::Event(id),
        ),
        ["events"] => (by(Scope::EventsRead, Scope::EventsWrite), Subject::None),
        ["sessions", id, ..] => (
            by(Scope::EventsRead, Scope::EventsWrite),
            Subject::Session(id),
        ),
        ["event-types"] => (None, Subject::None),
        ["me"] if read => (None, Subject::None),
        ["me"] => (Some(Scope::Admin), Subject::None),
        ["webhooks" | "deliveries", ..] => {
            (by(Scope::WebhooksRead, Scope::WebhooksWrite), Subject::None)
        }
        ["signals", ..] => (Some(Scope::SignalsWrite), Subject::None),
        ["me", ..] | ["notifications", ..] => (Some(Scope::NotificationsWrite), Subject::None),
        ["people", ..] => (by(Scope::PeopleRead, Scope::PeopleWrite), Subject::None),
        ["osdi", ..] => (Some(Scope::OsdiWrite), Subject::None),
        // Users, tokens (a limited token must not mint a wider one), sources, webfilters, mail,
        // settings, conferencing: the operator's routes.
        _ => (Some(Scope::Admin), Subject::None),
    };
    Need { scope, event }
}

/// 403 `insufficient_scope` unless the token carries `scope`.
pub fn require(limits: &TokenLimits, scope: Scope) -> Result<(), ApiError> {
    if limits.allows(scope) {
        Ok(())
    } else {
        Err(ApiError::InsufficientScope(format!(
            "this token lacks the scope {}",
            scope.as_str()
        )))
    }
}

/// Checks a request against its token's limits.
pub async fn check(
    state: &AppState,
    limits: &TokenLimits,
    method: &Method,
    path: &str,
) -> Result<(), ApiError> {
    let need = need(method, path);
    if let Some(scope) = need.scope {
        require(limits, scope)?;
    }
    if !limits.is_event_limited() {
        return Ok(());
    }
    let event = match need.event {
        Subject::Event(raw) => EventId::parse(raw),
        Subject::Session(raw) => match SessionId::parse(raw) {
            Some(id) => state.store.session(&id).await?.map(|s| s.event),
            None => None,
        },
        Subject::None => {
            return Err(ApiError::InsufficientScope(
                "this token is limited to some events, and this route is about none of them"
                    .to_owned(),
            ));
        }
    };
    match event {
        Some(id) if limits.allows_event(&id) => Ok(()),
        // An id that names nothing is left to the handler's 404.
        None => Ok(()),
        Some(_) => Err(ApiError::InsufficientScope(
            "this token is not for this event".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_the_scope_of_their_resource() {
        let cases = [
            (Method::GET, "/events", Some(Scope::EventsRead)),
            (Method::POST, "/events", Some(Scope::EventsWrite)),
            (Method::PATCH, "/events/e1", Some(Scope::EventsWrite)),
            (
                Method::GET,
                "/events/e1/participants",
                Some(Scope::EventsRead),
            ),
            (
                Method::PUT,
                "/events/e1/participants/Bob",
                Some(Scope::ParticipantsWrite),
            ),
            (
                Method::PUT,
                "/events/e1/organizers/Bob",
                Some(Scope::EventsWrite),
            ),
            (
                Method::POST,
                "/events/e1/attendances",
                Some(Scope::PeopleWrite),
            ),
            (Method::PATCH, "/sessions/s1", Some(Scope::EventsWrite)),
            (Method::GET, "/webhooks", Some(Scope::WebhooksRead)),
            (
                Method::POST,
                "/deliveries/d1/retry",
                Some(Scope::WebhooksWrite),
            ),
            (Method::POST, "/signals/batch", Some(Scope::SignalsWrite)),
            (Method::GET, "/me", None),
            (Method::PATCH, "/me", Some(Scope::Admin)),
            (Method::GET, "/event-types", None),
            (
                Method::PUT,
                "/me/notification-preferences",
                Some(Scope::NotificationsWrite),
            ),
            (Method::GET, "/people/p1/donations", Some(Scope::PeopleRead)),
            (Method::POST, "/osdi/profiles", Some(Scope::OsdiWrite)),
            (Method::POST, "/tokens", Some(Scope::Admin)),
            (Method::GET, "/users", Some(Scope::Admin)),
            (Method::POST, "/sources", Some(Scope::Admin)),
        ];
        for (method, path, scope) in cases {
            assert_eq!(need(&method, path).scope, scope, "{method} {path}");
        }
        assert_eq!(
            need(&Method::GET, "/events/e1/sessions").event,
            Subject::Event("e1")
        );
        assert_eq!(
            need(&Method::GET, "/sessions/s1/slides").event,
            Subject::Session("s1")
        );
        assert_eq!(need(&Method::GET, "/events").event, Subject::None);
    }
}
