//! The routes outside `/api/v1`, in the same document, with every status each one answers: the
//! root and health, the JSON:API notifications resource under `/v1`, the Dashboard side of the
//! Event Center sync, one-click unsubscribe, and inbound sources' URLs. (Their handlers speak other wire formats than
//! the API's, so they are described here rather than derived.)

use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathsBuilder,
};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Required, schema::Type};

const JSONAPI: &[(u16, &str)] = &[
    (401, "no valid token"),
    (403, "not the owner or an admin"),
    (404, "no such notification or user"),
    (406, "Accept names JSON:API only with parameters"),
    (409, "a mismatched id or type"),
    (415, "a body that is not application/vnd.api+json"),
    (422, "a body of the wrong shape"),
];

struct Route {
    path: &'static str,
    method: HttpMethod,
    summary: &'static str,
    tag: &'static str,
    params: &'static [&'static str],
    /// Whether a bearer token is how it is called (else it needs none).
    bearer: bool,
    answers: &'static [(u16, &'static str)],
}

const ROUTES: &[Route] = &[
    Route {
        path: "/",
        method: HttpMethod::Get,
        summary: "A browser goes to /admin; a client gets {\"links\": {api, docs, health}}",
        tag: "operating",
        params: &[],
        bearer: false,
        answers: &[
            (200, "the index of links"),
            (303, "a browser, sent to /admin"),
        ],
    },
    Route {
        path: "/healthz",
        method: HttpMethod::Get,
        summary: "Liveness",
        tag: "operating",
        params: &[],
        bearer: false,
        answers: &[(200, "{\"status\": \"ok\"}")],
    },
    Route {
        path: "/readyz",
        method: HttpMethod::Get,
        summary: "Readiness: the database answers within a second",
        tag: "operating",
        params: &[],
        bearer: false,
        answers: &[(200, "ready"), (503, "the database does not answer")],
    },
    Route {
        path: "/metrics",
        method: HttpMethod::Get,
        summary: "Prometheus metrics (a bearer token when [metrics] token is set)",
        tag: "operating",
        params: &[],
        bearer: false,
        answers: &[
            (200, "Prometheus text"),
            (401, "[metrics] token is set and not given"),
        ],
    },
    jsonapi(
        "/v1/notifications",
        HttpMethod::Get,
        "Every notification (JSON:API; admins): filter, sort, page[size], page[number], include, fields",
        &[],
        &[(200, "a JSON:API document")],
    ),
    jsonapi(
        "/v1/users/{id}/notifications",
        HttpMethod::Get,
        "A user's notifications (the owner, admins); id or username",
        &["id"],
        &[(200, "a JSON:API document")],
    ),
    jsonapi(
        "/v1/notifications/{id}",
        HttpMethod::Get,
        "One notification",
        &["id"],
        &[(200, "a JSON:API document")],
    ),
    jsonapi(
        "/v1/notifications/{id}",
        HttpMethod::Patch,
        "Mark read or unread (only is-read; the owner)",
        &["id"],
        &[(200, "the notification as changed")],
    ),
    jsonapi(
        "/v1/notifications/{id}",
        HttpMethod::Delete,
        "Delete one (the owner)",
        &["id"],
        &[(204, "deleted")],
    ),
    jsonapi(
        "/v1/notifications/{id}/user",
        HttpMethod::Get,
        "The notification's user",
        &["id"],
        &[(200, "a JSON:API document")],
    ),
    jsonapi(
        "/v1/notifications/{id}/relationships/user",
        HttpMethod::Get,
        "The user relationship",
        &["id"],
        &[(200, "a JSON:API document")],
    ),
    Route {
        path: "/wikimedia_event_center/confirm_event_sync",
        method: HttpMethod::Post,
        summary: "Event Center → Dashboard: link a course (form or JSON; the shared secret in the body)",
        tag: "event center",
        params: &[],
        bearer: false,
        answers: &EVENT_CENTER,
    },
    Route {
        path: "/wikimedia_event_center/update_event_participants",
        method: HttpMethod::Post,
        summary: "Event Center → Dashboard: the public participant list",
        tag: "event center",
        params: &[],
        bearer: false,
        answers: &EVENT_CENTER,
    },
    Route {
        path: "/wikimedia_event_center/unsync_event",
        method: HttpMethod::Post,
        summary: "Event Center → Dashboard: unlink a course",
        tag: "event center",
        params: &[],
        bearer: false,
        answers: &EVENT_CENTER,
    },
    Route {
        path: "/unsubscribe/{token}",
        method: HttpMethod::Get,
        summary: "The one-click unsubscribe page (a button; changes nothing)",
        tag: "mail",
        params: &["token"],
        bearer: false,
        answers: &[(200, "the page"), (404, "not a link this server signed")],
    },
    Route {
        path: "/unsubscribe/{token}",
        method: HttpMethod::Post,
        summary: "Unsubscribe (RFC 8058 one-click)",
        tag: "mail",
        params: &["token"],
        bearer: false,
        answers: &[(200, "done"), (404, "not a link this server signed")],
    },
    Route {
        path: "/calendar/{file}",
        method: HttpMethod::Get,
        summary: "A person's calendar feed, `/calendar/<token>.ics` (text/calendar): the events they are registered for and their sessions; the token is the key",
        tag: "calendars",
        params: &["file"],
        bearer: false,
        answers: &[
            (200, "the feed"),
            (404, "no feed has this token (never made, or revoked)"),
        ],
    },
    Route {
        path: "/conference/{session}/join",
        method: HttpMethod::Get,
        summary: "A person's join link to a BigBlueButton room (`?role=&name=&user=&sig=`, as the session's `conference.join_url` or `moderator_url` gives it): the meeting is made, or found running, and the person is sent to it",
        tag: "conferencing",
        params: &["session"],
        bearer: false,
        answers: &[
            (
                303,
                "to BigBlueButton's join URL, signed, in the link's role",
            ),
            (403, "a link that was altered or made for another room"),
            (404, "no such session, or its provider has no join links"),
            (409, "the room is not ready yet"),
            (502, "BigBlueButton refused or did not answer"),
        ],
    },
    Route {
        path: "/in/{token}",
        method: HttpMethod::Post,
        summary: "An inbound source receives another platform's webhook as it sends it (openedx-webhooks JSON or form, Standard Webhooks signed JSON, or generic JSON)",
        tag: "sources",
        params: &["token"],
        bearer: false,
        answers: &[
            (202, "accepted as a signal: {\"id\"}"),
            (400, "a body that does not parse"),
            (
                401,
                "a Standard Webhooks signature that does not match, or is too old",
            ),
            (404, "no source has this URL"),
            (413, "a body over the limit"),
            (415, "neither JSON nor a form"),
            (422, "a body without its event type or id"),
        ],
    },
];

/// A route of the JSON:API notifications resource (bearer-authenticated).
const fn jsonapi(
    path: &'static str,
    method: HttpMethod,
    summary: &'static str,
    params: &'static [&'static str],
    answers: &'static [(u16, &'static str)],
) -> Route {
    Route {
        path,
        method,
        summary,
        tag: "notifications (JSON:API)",
        params,
        bearer: true,
        answers,
    }
}

const EVENT_CENTER: [(u16, &str); 7] = [
    (200, "done, in the Dashboard's reply shape"),
    (401, "invalid_secret"),
    (404, "no such course"),
    (
        409,
        "already linked, not linked, or refused by the course's state",
    ),
    (413, "too many participants"),
    (415, "neither form nor JSON"),
    (422, "a field of the wrong shape"),
];

/// `doc` with the routes outside `/api/v1` added.
pub fn add(mut doc: Document) -> Document {
    let mut paths = PathsBuilder::new().build();
    for route in ROUTES {
        let mut op = OperationBuilder::new()
            .summary(Some(route.summary))
            .tag(route.tag);
        for name in route.params {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(
                        utoipa::openapi::ObjectBuilder::new().schema_type(Type::String),
                    )),
            );
        }
        let errors = if route.path.starts_with("/v1/") {
            JSONAPI
        } else {
            &[]
        };
        // What every route may answer is added with the rest of the document (`finish`).
        for (status, what) in route.answers.iter().chain(errors) {
            op = op.response(
                status.to_string(),
                ResponseBuilder::new().description(*what).build(),
            );
        }
        if !route.bearer {
            op = op.securities(Some([SecurityRequirement::default()]));
        }
        paths.add_path_operation(route.path, vec![route.method.clone()], op.build());
    }
    doc.paths.paths.extend(paths.paths);
    doc
}
