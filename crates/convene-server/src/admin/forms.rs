//! Form posts: each is checked for CSRF, then handed to the very API handler that serves the
//! same action over JSON, so the UI has no rules of its own.

use super::pages::{Nav, Page, render};
use super::session::{Viewer, same_origin, token_matches};
use crate::error::ApiError;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use convene_core::access::Principal;
use std::collections::HashMap;

pub type Fields = HashMap<String, String>;

/// A form post that passed the same-origin and token checks, with who sent it. As the last
/// extractor of a handler (it reads the body), it answers a forged post for the handler.
pub struct Posted(pub Viewer, pub Fields);

impl axum::extract::FromRequest<crate::state::AppState> for Posted {
    type Rejection = Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &crate::state::AppState,
    ) -> Result<Self, Response> {
        use axum::extract::FromRequestParts;
        use axum::response::IntoResponse;
        let (mut parts, body) = request.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let request = axum::extract::Request::from_parts(parts, body);
        let axum::Form(form) = axum::Form::<Fields>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match forged(&viewer, &headers, &form) {
            Some(refusal) => Err(refusal),
            None => Ok(Self(viewer, form)),
        }
    }
}

/// The same-origin and token checks every form passes: the refusal when one fails.
pub fn forged(viewer: &Viewer, headers: &HeaderMap, form: &Fields) -> Option<Response> {
    let token = form.get("csrf").map(String::as_str).unwrap_or_default();
    if same_origin(headers) && token_matches(&viewer.csrf, token) {
        None
    } else {
        Some(render(
            StatusCode::FORBIDDEN,
            &Page::message(
                Nav::of(viewer, ""),
                "Refused",
                "That form came from another site or has expired. Reload the page and try again.",
            ),
        ))
    }
}

/// The viewer as the API's caller.
pub fn principal(viewer: &Viewer) -> Principal {
    Principal::User {
        id: viewer.user.id.clone(),
        username: viewer.user.username.clone(),
        is_admin: viewer.admin,
    }
}

/// What a refusal says to a person: the fields and what is wrong with each, or one sentence.
pub fn said(e: &ApiError) -> String {
    match e {
        ApiError::Validation(errors) => errors
            .clone()
            .into_vec()
            .into_iter()
            .map(|f| format!("{}: {}", f.field.replace('_', " "), f.message))
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::Internal(_) => "Something went wrong on our side; it has been logged.".to_owned(),
        other => other.to_string(),
    }
}

fn status_of(e: &ApiError) -> StatusCode {
    match e {
        ApiError::Validation(_) | ApiError::Unprocessable { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ApiError::NotFound => StatusCode::NOT_FOUND,
        ApiError::Forbidden(_) | ApiError::Halted { .. } => StatusCode::FORBIDDEN,
        ApiError::Conflict { .. } => StatusCode::CONFLICT,
        ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// An API refusal as a page that says what to fix.
pub fn refused(viewer: &Viewer, current: &'static str, e: ApiError) -> Response {
    render(
        status_of(&e),
        &Page::message(Nav::of(viewer, current), "Not done", &said(&e)),
    )
}

/// A form as it is shown again after a refusal: what was typed, and what is wrong, per field
/// where the API named one, else for the form as a whole. The page answers 200: it is the form
/// to fix, and a browser logs any 4xx page as an error.
#[derive(Debug, Default)]
pub struct FormState {
    values: Fields,
    errors: Vec<(String, String)>,
    /// What is wrong that names no field.
    pub problem: Option<String>,
}

impl FormState {
    /// The form `form` came back refused with `e`.
    pub fn refused(form: &Fields, e: &ApiError) -> Self {
        let mut values = form.clone();
        values.remove("csrf");
        let (errors, problem) = match e {
            ApiError::Validation(errors) => (
                errors
                    .clone()
                    .into_vec()
                    .into_iter()
                    .map(|f| (f.field, f.message))
                    .collect(),
                None,
            ),
            // `username_taken`, `slug_taken`: said beside the field, naming what was typed.
            ApiError::Conflict { code, .. }
                if let Some(name) = code.strip_suffix("_taken")
                    && let Some(typed) = form.get(name) =>
            {
                let message = format!("“{}” is taken: choose another", typed.trim());
                (vec![(name.to_owned(), message)], None)
            }
            other => (Vec::new(), Some(said(other))),
        };
        Self {
            values,
            errors,
            problem,
        }
    }

    /// The form with one field's error, said here (not by the API).
    pub fn with_error(form: &Fields, field: &str, message: String) -> Self {
        Self::refused(form, &ApiError::field(field, message))
    }

    /// What was typed in `name` (empty when nothing, or on a fresh form).
    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    pub fn checked(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, message)| message.as_str())
    }

    /// Whether anything is wrong (the form opens itself, and a summary leads).
    pub fn failed(&self) -> bool {
        self.problem.is_some() || !self.errors.is_empty()
    }

    /// Errors the form has no field for, said with the field's name.
    pub fn others<'s>(&self, shown: impl AsRef<[&'s str]>) -> Vec<String> {
        self.errors
            .iter()
            .filter(|(field, _)| !shown.as_ref().contains(&field.as_str()))
            .map(|(field, message)| format!("{}: {message}", field.replace('_', " ")))
            .collect()
    }
}

/// A form field, trimmed; `None` when empty.
pub fn field(form: &Fields, name: &str) -> Option<String> {
    form.get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The refusal of an administrators' page to anyone else.
pub fn admins_only(viewer: &Viewer, current: &'static str) -> Option<Response> {
    (!viewer.admin).then(|| {
        render(
            StatusCode::FORBIDDEN,
            &Page::message(
                Nav::of(viewer, current),
                "Administrators only",
                "This page is for administrators.",
            ),
        )
    })
}

/// `?cursor=` of an admin list page, as the API's paging of 50 rows.
#[derive(serde::Deserialize, Default)]
pub struct Cursor {
    pub cursor: Option<String>,
    /// What the action that redirected here did (`tested`, `recovered`, `saved`, `deleted`),
    /// with its count: the page says so in its own words, so no text travels in the URL.
    pub done: Option<String>,
    pub n: Option<u64>,
    /// A list's status filter (`pending`, `delivered`, `failed`, `superseded`).
    pub status: Option<String>,
    /// The delivery list's other filters: one event type, and created since and until
    /// (`datetime-local`, read in UTC).
    pub event_type: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// A list's search.
    pub q: Option<String>,
}

impl Cursor {
    /// The sentence for `done`, if it is one this UI redirects with.
    pub fn notice(&self) -> Option<String> {
        Some(match self.done.as_deref()? {
            "tested" => "A test event is queued for this endpoint.".to_owned(),
            "recovered" => match self.n.unwrap_or(0) {
                0 => "No failed delivery was created since then: nothing was queued again."
                    .to_owned(),
                1 => "1 failed delivery is queued again.".to_owned(),
                n => format!("{n} failed deliveries are queued again."),
            },
            "saved" => "Saved.".to_owned(),
            "deleted" => "The webhook is deleted, with its delivery log.".to_owned(),
            "retried" => "The delivery is queued to be sent now.".to_owned(),
            "made-admin" => "They are an administrator now.".to_owned(),
            "unmade-admin" => "They are no longer an administrator.".to_owned(),
            "deactivated" => {
                "Deactivated: their tokens, sessions and password no longer work.".to_owned()
            }
            "reactivated" => "Reactivated: their tokens and password work again.".to_owned(),
            "revoked" => "The token is revoked.".to_owned(),
            _ => return None,
        })
    }
}

impl Cursor {
    /// The filters as a query string (no cursor), for the next page's link.
    pub fn filters(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("status", &self.status),
            ("event_type", &self.event_type),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                query.append_pair(name, v);
            }
        }
        query.finish()
    }

    /// The search as typed (trimmed), and this page of the list with it.
    pub fn search(&self) -> (String, crate::extract::Search) {
        searched(self.q.as_deref(), self.cursor.clone())
    }
}

/// A search as typed: trimmed, and cut to what the search fields take (a longer one comes only
/// from a hand-made URL).
pub fn typed(q: Option<&str>) -> String {
    let q = q.unwrap_or_default().trim();
    q.chars().take(crate::extract::MAX_SEARCH).collect()
}

/// A list's search `q` as typed (trimmed), and its page after `cursor` with it, 50 rows a page.
pub fn searched(q: Option<&str>, cursor: Option<String>) -> (String, crate::extract::Search) {
    let search = typed(q);
    let query = crate::extract::Search {
        q: Some(search.clone()),
        limit: Some("50".into()),
        cursor,
    };
    (search, query)
}

/// A username as one path segment. Names are stored with spaces, which MediaWiki's rule reads
/// back from `_`, so `Jane Doe` goes as `Jane_Doe` (a `+` in a path would stay a `+`).
pub fn segment(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.replace(' ', "_").as_bytes()).collect()
}

/// The rows of an API list answer (`data`), each made by `row`.
pub fn rows<T>(listed: &serde_json::Value, row: impl Fn(&serde_json::Value) -> T) -> Vec<T> {
    listed["data"]
        .as_array()
        .map(|a| a.iter().map(row).collect())
        .unwrap_or_default()
}

/// The cursor of the next page of an API list answer, if there is one.
pub fn next_cursor(listed: &serde_json::Value) -> Option<String> {
    listed["next_cursor"].as_str().map(str::to_owned)
}

/// A value of an API answer as page text: strings as they are, nothing for null.
pub fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `at` as a `datetime-local` value in `zone` (UTC without one, or with a name jiff lacks).
pub fn local_input(at: convene_core::Timestamp, zone: Option<&str>) -> String {
    let tz = zone
        .and_then(|z| jiff::tz::TimeZone::get(z).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_second(at.unix_timestamp())
        .map(|t| t.to_zoned(tz).strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// A `datetime-local` value (`2026-12-01T10:00`) read in `zone` (UTC without one) as RFC 3339;
/// RFC 3339 itself (from scripts) passes as it is, for the API to judge.
pub fn instant(local: &str, zone: Option<&str>) -> Result<String, String> {
    if local.ends_with('Z') || local.get(19..).is_some_and(|t| t.contains(['+', '-'])) {
        return Ok(local.to_owned());
    }
    let civil: jiff::civil::DateTime = local
        .parse()
        .map_err(|_| "must be a date and time, such as 2027-04-01T09:30".to_owned())?;
    let tz = match zone {
        Some(name) => jiff::tz::TimeZone::get(name)
            .map_err(|_| format!("cannot be read in {name}: not a time zone"))?,
        None => jiff::tz::TimeZone::UTC,
    };
    let at = civil
        .to_zoned(tz)
        .map_err(|e| format!("does not exist there: {e}"))?;
    Ok(at.timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::{instant, local_input};

    #[test]
    fn local_times_are_read_in_the_events_zone() {
        let berlin = Some("Europe/Berlin");
        #[rustfmt::skip]
        let cases = [
            ("2027-04-01T09:30", berlin, "2027-04-01T07:30:00Z"),
            ("2026-12-01T09:30", berlin, "2026-12-01T08:30:00Z"),
            ("2026-12-01T09:30", None, "2026-12-01T09:30:00Z"),
            // RFC 3339 passes as it is.
            ("2026-12-01T09:30:00Z", berlin, "2026-12-01T09:30:00Z"),
            ("2026-12-01T09:30:00+01:00", None, "2026-12-01T09:30:00+01:00"),
        ];
        for (local, zone, at) in cases {
            assert_eq!(instant(local, zone).unwrap(), at, "{local} in {zone:?}");
        }
        assert!(instant("tomorrow", berlin).is_err());
        let at = time::macros::datetime!(2027-04-01 07:30 UTC);
        assert_eq!(
            local_input(at, berlin),
            "2027-04-01T09:30",
            "and shown back in it"
        );
        assert_eq!(local_input(at, None), "2027-04-01T07:30");
        assert!(instant("2026-12-01T09:30", Some("Mars/Olympus")).is_err());
    }
}
