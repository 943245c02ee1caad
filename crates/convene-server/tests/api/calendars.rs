//! Calendars: an event's `.ics`, a person's revocable feed, and the invitations registration,
//! reschedule and cancellation mails carry, each read back by Python's `icalendar` parser as a
//! calendar app would read it, through a real SMTP server.

use crate::support::{app_with_smtp, register, user_with_mail};
use convene_testkit::{Backend, Method, ReceivedMail, SmtpSink, on_both_backends};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

/// What Python's `icalendar` reads from an `.ics` or from the `text/calendar` parts of a raw
/// mail: per calendar its method and events (uid, sequence, summary, start, status,
/// organizer, attendee).
fn parsed(raw: &str) -> Value {
    const SCRIPT: &str = r#"
import email, json, sys, icalendar
raw = sys.stdin.read()
if raw.startswith("BEGIN:VCALENDAR"):
    blobs = [raw.encode()]
else:
    msg = email.message_from_string(raw)
    blobs = [p.get_payload(decode=True) for p in msg.walk() if p.get_content_type() == "text/calendar"]
out = []
for blob in blobs:
    cal = icalendar.Calendar.from_ical(blob)
    events = []
    for e in cal.walk("VEVENT"):
        events.append({
            "uid": str(e.get("UID")), "sequence": int(e.get("SEQUENCE", -1)),
            "summary": str(e.get("SUMMARY")), "start": e.decoded("DTSTART").isoformat(),
            "status": str(e.get("STATUS")), "organizer": str(e.get("ORGANIZER", "")),
            "attendee": str(e.get("ATTENDEE", "")), "location": str(e.get("LOCATION", "")),
        })
    out.append({"method": str(cal.get("METHOD")), "events": events})
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (pip install icalendar)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(raw.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "icalendar refused it: {}\n{raw}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn an_event_and_a_feed_read_as_calendars(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_smtp(backend, &sink.url()).await else {
        return;
    };
    let ana = user_with_mail(&app, "Ana", None).await;
    let ben = user_with_mail(&app, "Ben", None).await;
    let cleo = user_with_mail(&app, "Cleo", None).await;
    let body = json!({"slug": "ics-day", "title": "ICS day", "description": "Bring; a laptop, please",
        "starts_at": "2027-03-01T09:00:00Z", "ends_at": "2027-03-01T17:00:00Z", "timezone": "Europe/Berlin"});
    let r = app
        .call(Method::POST, "/api/v1/events")
        .token(&ana)
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let event = r.str("id");
    let r = app.call(Method::POST, &format!("/api/v1/events/{event}/sessions")).token(&ana)
        .json(&json!({"title": "Keynote", "group": "wiki-club", "starts_at": "2027-03-01T10:00:00Z", "duration_minutes": 45, "remote": false}))
        .send().await;
    assert_eq!(r.status, 201, "{}", r.text);
    let session = r.str("id");
    let r = app.call(Method::POST, "/api/v1/events").token(&ana)
        .json(&json!({"slug": "hidden-ics", "title": "Hidden", "starts_at": "2027-03-02T09:00:00Z", "private": true})).send().await;
    let hidden = r.str("id");

    let r = app
        .call(Method::GET, &format!("/api/v1/events/{event}/calendar.ics"))
        .token(&cleo)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["content-type"], "text/calendar; charset=utf-8");
    let cal = parsed(&r.text);
    assert_eq!(cal[0]["method"], "PUBLISH");
    let events = cal[0]["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "the event and its session: {cal}");
    assert_eq!(events[0]["uid"], format!("event-{event}@127.0.0.1"));
    assert_eq!(events[0]["start"], "2027-03-01T09:00:00+00:00");
    assert_eq!(
        (events[0]["sequence"].clone(), events[0]["summary"].clone()),
        (json!(0), json!("ICS day"))
    );
    assert_eq!(events[1]["uid"], format!("session-{session}@127.0.0.1"));
    assert_eq!(events[1]["summary"], "Keynote (ICS day)");
    assert!(
        r.text.contains("DESCRIPTION:Bring\\; a laptop\\, please"),
        "text escaped as RFC 5545 says: {}",
        r.text
    );
    let r = app
        .call(
            Method::GET,
            &format!("/api/v1/events/{hidden}/calendar.ics"),
        )
        .token(&cleo)
        .send()
        .await;
    assert_eq!(r.status, 404, "a private event is not Cleo's to see");
    let r = app
        .call(
            Method::GET,
            &format!("/api/v1/events/{hidden}/calendar.ics"),
        )
        .token(&ana)
        .send()
        .await;
    assert_eq!(r.status, 200, "its organizer's");

    // Ben's feed: the events he is registered for, private ones too, for an app without headers.
    for id in [&event, &hidden] {
        let r = app
            .call(
                Method::PUT,
                &format!("/api/v1/events/{id}/participants/Ben"),
            )
            .token(&ana)
            .json(&json!({"visibility": "private"}))
            .send()
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = app
        .call(Method::POST, "/api/v1/me/calendar-feed")
        .token(&ben)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let url = r.str("url");
    let path = url
        .strip_prefix(&app.base_url)
        .expect("on this server")
        .to_owned();
    assert!(
        path.starts_with("/calendar/cvn_") && path.ends_with(".ics") && path.len() > 50,
        "{path}"
    );
    let feed = app.call(Method::GET, &path).send().await;
    assert_eq!(
        (feed.status, feed.headers["cache-control"].to_str().unwrap()),
        (200, "no-store")
    );
    let uids: Vec<String> = parsed(&feed.text)[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        uids,
        [
            format!("event-{event}@127.0.0.1"),
            format!("session-{session}@127.0.0.1"),
            format!("event-{hidden}@127.0.0.1")
        ]
    );
    let r = app
        .call(Method::POST, "/api/v1/me/calendar-feed")
        .token(&ben)
        .send()
        .await;
    let rotated = r.str("url").strip_prefix(&app.base_url).unwrap().to_owned();
    assert_eq!(
        app.call(Method::GET, &path).send().await.status,
        404,
        "a new feed revokes the old one"
    );
    assert_eq!(app.call(Method::GET, &rotated).send().await.status, 200);
    assert_eq!(
        app.call(Method::DELETE, "/api/v1/me/calendar-feed")
            .token(&ben)
            .send()
            .await
            .status,
        204
    );
    assert_eq!(app.call(Method::GET, &rotated).send().await.status, 404);
    assert_eq!(
        app.call(Method::DELETE, "/api/v1/me/calendar-feed")
            .token(&ben)
            .send()
            .await
            .status,
        404
    );
    for bogus in [
        "/calendar/cvn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
        "/calendar/nothing.ics",
        "/calendar/x",
    ] {
        assert_eq!(
            app.call(Method::GET, bogus).send().await.status,
            404,
            "{bogus}"
        );
    }
    assert_eq!(
        app.admin(Method::POST, "/api/v1/me/calendar-feed")
            .send()
            .await
            .status,
        403
    );
}

fn mails_to(sink: &SmtpSink, to: &str, subject: &str) -> Vec<ReceivedMail> {
    sink.received()
        .into_iter()
        .filter(|m| {
            m.to == [to]
                && m.decoded_header("Subject")
                    .is_some_and(|s| s.contains(subject))
        })
        .collect()
}

async fn registration_mails_carry_invitations(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_smtp(backend, &sink.url()).await else {
        return;
    };
    let ana = user_with_mail(&app, "Ana", None).await;
    let ben = user_with_mail(&app, "Ben", None).await;
    let start = datetime!(2027-04-01 08:30 UTC);
    let r = app.call(Method::POST, "/api/v1/events").token(&ana)
        .json(&json!({"slug": "invited", "title": "Invited", "starts_at": start.format(&Rfc3339).unwrap()})).send().await;
    let event = r.str("id");
    register(&app, &event, &ben, "Ben").await;
    app.drain().await;

    let confirmation = mails_to(&sink, "ben@example.org", "You are registered for Invited");
    assert_eq!(confirmation.len(), 1, "{:?}", sink.received());
    assert!(
        confirmation[0]
            .data
            .contains("text/calendar; charset=utf-8; method=REQUEST"),
        "{}",
        confirmation[0].data
    );
    let cal = parsed(&confirmation[0].data);
    assert_eq!(cal[0]["method"], "REQUEST");
    let invite = &cal[0]["events"][0];
    let uid = format!("event-{event}@127.0.0.1");
    assert_eq!(
        (invite["uid"].as_str(), invite["sequence"].as_i64()),
        (Some(uid.as_str()), Some(0))
    );
    assert_eq!(invite["start"], "2027-04-01T08:30:00+00:00");
    assert_eq!(invite["organizer"], "mailto:convene@localhost");
    assert_eq!(invite["attendee"], "mailto:ben@example.org");

    // Rescheduled: the change mail (when Ben wants it) carries the invitation again, its
    // sequence risen, so his calendar moves the entry.
    let r = app
        .call(Method::PUT, "/api/v1/me/notification-preferences")
        .token(&ben)
        .json(&json!({"data": [{"kind": "event_changed", "email": true}]}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .call(Method::PATCH, &format!("/api/v1/events/{event}"))
        .token(&ana)
        .json(&json!({"starts_at": "2027-04-02T08:30:00Z"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.drain().await;
    let changed = mails_to(&sink, "ben@example.org", "Invited has changed");
    assert_eq!(changed.len(), 1, "{:?}", sink.received());
    let cal = parsed(&changed[0].data);
    assert_eq!(cal[0]["method"], "REQUEST");
    assert_eq!(
        (
            cal[0]["events"][0]["uid"].as_str(),
            cal[0]["events"][0]["sequence"].as_i64()
        ),
        (Some(uid.as_str()), Some(1))
    );
    assert_eq!(cal[0]["events"][0]["start"], "2027-04-02T08:30:00+00:00");

    // Cancelled: the invitation is withdrawn.
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/events/{event}/participants/Ben"),
        )
        .token(&ben)
        .send()
        .await;
    assert!(r.status < 300, "{}", r.text);
    app.drain().await;
    let cancelled = mails_to(&sink, "ben@example.org", "is cancelled");
    assert_eq!(cancelled.len(), 1, "{:?}", sink.received());
    let cal = parsed(&cancelled[0].data);
    assert_eq!(
        (
            cal[0]["method"].as_str(),
            cal[0]["events"][0]["status"].as_str()
        ),
        (Some("CANCEL"), Some("CANCELLED"))
    );
    assert_eq!(cal[0]["events"][0]["uid"].as_str(), Some(uid.as_str()));
}

on_both_backends!(
    an_event_and_a_feed_read_as_calendars => calendars_and_feeds,
    registration_mails_carry_invitations => invitations_by_mail,
);
