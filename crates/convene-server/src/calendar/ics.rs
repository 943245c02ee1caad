//! iCalendar objects (RFC 5545, written by the `icalendar` crate) for events and their
//! sessions: times in UTC, a stable `UID` per event and session, the rising `SEQUENCE`, and the
//! `METHOD` an invitation or a cancellation by mail needs.

use convene_core::Timestamp;
use convene_core::conference::Session;
use convene_core::event::Event;
use icalendar::{Calendar, Component, EventLike, EventStatus, Property};

/// What a calendar object is for: a feed or download (`PUBLISH`), an invitation (`REQUEST`),
/// or withdrawing one (`CANCEL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Publish,
    Request,
    Cancel,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// An event with the sessions to list beside it.
pub struct Entry<'a> {
    pub event: &'a Event,
    pub sessions: &'a [Session],
}

fn utc(t: Timestamp) -> chrono::DateTime<chrono::Utc> {
    let nanos = t.unix_timestamp_nanos();
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(0);
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, sub).unwrap_or_default()
}

/// The `UID` of an event or session: stable across feeds, downloads and mails, so a calendar
/// app updates the entry it has instead of adding another.
fn uid(kind: &str, id: &str, host: &str) -> String {
    format!("{kind}-{id}@{host}")
}

/// Where and when a calendar is written: the server's public URL, its host (for `UID`s), read
/// once per calendar, and the `DTSTAMP`.
struct Origin<'a> {
    public_url: &'a str,
    host: String,
    now: Timestamp,
}

impl<'a> Origin<'a> {
    fn new(public_url: &'a str, now: Timestamp) -> Self {
        let host = url::Url::parse(public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "convene".to_owned());
        Self {
            public_url,
            host,
            now,
        }
    }

    fn link(&self, event: &Event) -> String {
        format!("{}/api/v1/events/{}", self.public_url, event.id)
    }
}

fn status(method: Method) -> EventStatus {
    if method == Method::Cancel {
        EventStatus::Cancelled
    } else {
        EventStatus::Confirmed
    }
}

fn head(name: &str, method: Method) -> Calendar {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Convene//Convene//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", method.as_str()))
        .name(name);
    calendar
}

/// The event's `VEVENT`, if it has a start.
fn event_component(event: &Event, method: Method, at: &Origin<'_>) -> Option<icalendar::Event> {
    let starts_at = event.starts_at?;
    let mut e = icalendar::Event::new();
    e.uid(&uid("event", event.id.as_str(), &at.host))
        .timestamp(utc(at.now))
        .sequence(event.sequence)
        .summary(event.title.as_str())
        .starts(utc(starts_at))
        .url(&at.link(event));
    if let Some(ends_at) = event.ends_at {
        e.ends(utc(ends_at));
    }
    if let Some(d) = &event.description {
        e.description(d.as_str());
    }
    e.status(status(method));
    Some(e)
}

fn session_component(
    s: &Session,
    event: &Event,
    method: Method,
    at: &Origin<'_>,
) -> icalendar::Event {
    let mut e = icalendar::Event::new();
    e.uid(&uid("session", s.id.as_str(), &at.host))
        .timestamp(utc(at.now))
        .sequence(s.sequence)
        .summary(&format!("{} ({})", s.title, event.title))
        .starts(utc(s.starts_at))
        .ends(utc(s.ends_at()))
        .url(&at.link(event));
    if let Some(url) = s
        .conference
        .as_ref()
        .and_then(|c| c.room.as_ref())
        .and_then(|r| r.handle.shared_url())
    {
        e.location(url);
        e.description(&format!("Join: {url}"));
    }
    e.status(status(method));
    e
}

/// The calendar: one `VEVENT` per event that has a start and one per session. `public_url`
/// names the server in links and `UID`s; `now` is the `DTSTAMP`.
pub fn calendar(
    name: &str,
    method: Method,
    entries: &[Entry<'_>],
    public_url: &str,
    now: Timestamp,
) -> String {
    let at = Origin::new(public_url, now);
    let mut calendar = head(name, method);
    for Entry { event, sessions } in entries {
        if let Some(mut e) = event_component(event, method, &at) {
            calendar.push(e.done());
        }
        for s in sessions.iter() {
            calendar.push(session_component(s, event, method, &at).done());
        }
    }
    calendar.done().to_string()
}

/// An iTIP invitation (`REQUEST`) or its withdrawal (`CANCEL`) of one event to one attendee,
/// from `organizer` (the mail's sender); `None` for an event without a start.
pub fn invitation(
    method: Method,
    event: &Event,
    organizer: &str,
    attendee: &str,
    public_url: &str,
    now: Timestamp,
) -> Option<String> {
    let mut e = event_component(event, method, &Origin::new(public_url, now))?;
    e.append_property(Property::new("ORGANIZER", format!("mailto:{organizer}")));
    e.append_property(
        Property::new("ATTENDEE", format!("mailto:{attendee}"))
            .add_parameter("ROLE", "REQ-PARTICIPANT")
            .add_parameter("RSVP", "FALSE")
            .done(),
    );
    let mut calendar = head(event.title.as_str(), method);
    calendar.push(e.done());
    Some(calendar.done().to_string())
}
