//! Reminders before an event's and a session's start: in the app, by mail through a real SMTP
//! server, and as `event.reminder_due` webhooks; moved with the start, dropped with the event,
//! sent once, and driven by the injected clock alone.

use crate::support::{app_with_smtp, register, user_with_mail};
use convene_testkit::{Backend, Method, Receiver, SmtpSink, TestApp, on_both_backends};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

fn now(app: &TestApp) -> OffsetDateTime {
    convene_core::Clock::now(&*app.clock)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// Subjects of the reminder mails received so far, each with its one recipient, sorted.
fn reminder_mails(sink: &SmtpSink) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = sink
        .received()
        .iter()
        .filter_map(|m| {
            let subject = m.decoded_header("Subject")?;
            (subject.starts_with("Reminder") || subject.starts_with("Erinnerung"))
                .then(|| (m.to.join(","), subject))
        })
        .collect();
    got.sort();
    got
}

/// The `event.reminder_due` bodies that reached the receiver.
fn reminder_hooks(rx: &Receiver) -> Vec<Value> {
    rx.received()
        .iter()
        .map(|r| r.json())
        .filter(|b| b["event_metadata"]["event_type"] == "event.reminder_due")
        .collect()
}

async fn advance_to(app: &TestApp, t: OffsetDateTime) {
    let by = t - now(app);
    assert!(by > Duration::ZERO, "the clock only moves forward");
    app.clock.advance(by);
    app.drain().await;
}

async fn an_event_reminds_its_people_once_at_each_offset(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_smtp(backend, &sink.url()).await else {
        return;
    };
    let rx = Receiver::start().await;
    let ana = user_with_mail(&app, "Ana", Some("de")).await;
    let ben = user_with_mail(&app, "Ben", None).await;
    let cleo = user_with_mail(&app, "Cleo", None).await;
    let hook = json!({"url": rx.url, "event_types": ["event.reminder_due"]});
    let r = app
        .admin(Method::POST, "/api/v1/webhooks")
        .json(&hook)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let start = now(&app) + Duration::days(2);
    let body = json!({"slug": "wiki-loves-reminders", "title": "Wiki Loves Reminders",
        "starts_at": rfc3339(start), "timezone": "Europe/Berlin"});
    let r = app
        .call(Method::POST, "/api/v1/events")
        .token(&ana)
        .json(&body)
        .send()
        .await;
    assert_eq!(
        (r.status, r.body["reminders"].clone()),
        (201, json!(["24h", "1h"])),
        "{}",
        r.text
    );
    let event = r.str("id");
    register(&app, &event, &ben, "Ben").await;
    app.drain().await;
    assert!(reminder_mails(&sink).is_empty());

    advance_to(&app, start - Duration::hours(24) - Duration::seconds(1)).await;
    assert!(reminder_mails(&sink).is_empty(), "not before its time");
    advance_to(&app, start - Duration::hours(24) + Duration::seconds(5)).await;
    assert_eq!(
        reminder_mails(&sink),
        [
            (
                "ana@example.org".into(),
                "Erinnerung: Wiki Loves Reminders beginnt in 24 Stunden".into()
            ),
            (
                "ben@example.org".into(),
                "Reminder: Wiki Loves Reminders starts in 24 hours".into()
            ),
        ],
        "organizer and participant, each in their locale"
    );
    let hooks = reminder_hooks(&rx);
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["event"]["id"], event.as_str());
    assert_eq!(hooks[0]["event"]["slug"], "wiki-loves-reminders");
    assert_eq!(hooks[0]["event"]["starts_at"], rfc3339(start));
    assert_eq!(hooks[0]["offset"], "24h");
    let message = reminder_message(&app, "Ben", &ben).await;
    let berlin = start.to_offset(time::macros::offset!(+1));
    let local = format!("{:02}:{:02} CET", berlin.hour(), berlin.minute());
    assert!(
        message.contains(&local),
        "the time in the event's zone ({local}): {message}"
    );

    // Nothing twice, however often the pass runs.
    app.clock.advance(Duration::minutes(10));
    app.drain().await;
    assert_eq!(reminder_mails(&sink).len(), 2);
    assert_eq!(reminder_hooks(&rx).len(), 1);

    // Registering late still gets what is ahead; a participant who turned the kind's mail off
    // is reminded in the app only.
    register(&app, &event, &cleo, "Cleo").await;
    let r = app
        .call(Method::PUT, "/api/v1/me/notification-preferences")
        .token(&ben)
        .json(&json!({"data": [{"kind": "event.reminder", "email": false}]}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    advance_to(&app, start - Duration::minutes(59)).await;
    let mails = reminder_mails(&sink);
    let hour: Vec<_> = mails
        .iter()
        .filter(|(_, s)| s.contains("1 hour") || s.contains("1 Stunde"))
        .collect();
    assert_eq!(
        hour.iter().map(|(to, _)| to.as_str()).collect::<Vec<_>>(),
        ["ana@example.org", "cleo@example.org"],
        "{mails:?}"
    );
    let ben_notes = app
        .call(Method::GET, "/v1/users/Ben/notifications")
        .token(&ben)
        .send()
        .await;
    assert_eq!(
        ben_notes.body["data"][0]["attributes"]["title"],
        "Reminder: Wiki Loves Reminders starts in 1 hour"
    );
    assert_eq!(reminder_hooks(&rx).len(), 2);

    // After the start, nothing more.
    advance_to(&app, start + Duration::hours(1)).await;
    assert_eq!(reminder_hooks(&rx).len(), 2);
}

async fn reschedules_move_reminders_and_deletion_drops_them(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_smtp(backend, &sink.url()).await else {
        return;
    };
    let ana = user_with_mail(&app, "Ana", None).await;
    let start = now(&app) + Duration::hours(30);
    let body = json!({"slug": "moving", "title": "Moving", "starts_at": rfc3339(start), "reminders": ["2h"]});
    let r = app
        .call(Method::POST, "/api/v1/events")
        .token(&ana)
        .json(&body)
        .send()
        .await;
    assert_eq!(
        (r.status, r.body["reminders"].clone()),
        (201, json!(["2h"])),
        "{}",
        r.text
    );
    let event = r.str("id");

    for bad in [
        json!(["2x"]),
        json!(["0m"]),
        json!(["1h", "60m"]),
        json!("1h"),
        json!(vec!["1h"; 11]),
    ] {
        let r = app
            .call(Method::PATCH, &format!("/api/v1/events/{event}"))
            .token(&ana)
            .json(&json!({"reminders": bad}))
            .send()
            .await;
        assert_eq!(
            (r.status, r.code()),
            (422, "validation_failed"),
            "{bad}: {}",
            r.text
        );
        assert_eq!(r.fields(), ["reminders"], "{bad}: {}", r.text);
    }

    // Moved a day later: nothing at the old time, the reminder at the new one.
    let later = start + Duration::days(1);
    let r = app
        .call(Method::PATCH, &format!("/api/v1/events/{event}"))
        .token(&ana)
        .json(&json!({"starts_at": rfc3339(later)}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    advance_to(&app, start - Duration::minutes(119)).await;
    assert!(
        reminder_mails(&sink).is_empty(),
        "the old time passed in silence"
    );
    advance_to(&app, later - Duration::minutes(119)).await;
    assert_eq!(
        reminder_mails(&sink),
        [(
            "ana@example.org".into(),
            "Reminder: Moving starts in 2 hours".into()
        )]
    );

    // A session has its own offsets; deleting the event drops what was still planned.
    let session_start = later + Duration::days(3);
    let r = app
        .call(Method::POST, &format!("/api/v1/events/{event}/sessions"))
        .token(&ana)
        .json(
            &json!({"title": "Keynote", "group": "wiki-club", "starts_at": rfc3339(session_start),
            "duration_minutes": 45, "remote": false, "reminders": ["15m"]}),
        )
        .send()
        .await;
    assert_eq!(
        (r.status, r.body["reminders"].clone()),
        (201, json!(["15m"])),
        "{}",
        r.text
    );
    let doomed = r.str("id");
    let r = app.call(Method::POST, &format!("/api/v1/events/{event}/sessions")).token(&ana)
        .json(&json!({"title": "Workshop", "group": "wiki-club", "starts_at": rfc3339(session_start + Duration::hours(2)),
            "duration_minutes": 45, "remote": false, "reminders": ["15m"]})).send().await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .call(Method::DELETE, &format!("/api/v1/sessions/{doomed}"))
        .token(&ana)
        .send()
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    advance_to(
        &app,
        session_start + Duration::hours(2) - Duration::minutes(14),
    )
    .await;
    assert_eq!(
        reminder_mails(&sink).last().map(|(_, s)| s.as_str()),
        Some("Reminder: Workshop (Moving) starts in 15 minutes"),
        "only the session still there"
    );
    let r = app.call(Method::POST, "/api/v1/events").token(&ana)
        .json(&json!({"slug": "cancelled", "title": "Cancelled", "starts_at": rfc3339(now(&app) + Duration::hours(5))})).send().await;
    let cancelled = r.str("id");
    let r = app
        .call(Method::DELETE, &format!("/api/v1/events/{cancelled}"))
        .token(&ana)
        .send()
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let before = reminder_mails(&sink).len();
    advance_to(&app, now(&app) + Duration::hours(6)).await;
    assert_eq!(
        reminder_mails(&sink).len(),
        before,
        "a deleted event reminds no one"
    );
}

/// The reminder's message in `name`'s inbox.
async fn reminder_message(app: &TestApp, name: &str, token: &str) -> String {
    let notes = app
        .call(Method::GET, &format!("/v1/users/{name}/notifications"))
        .token(token)
        .send()
        .await;
    let data = notes.body["data"].as_array().cloned().unwrap_or_default();
    let reminder = data.iter().find(|n| {
        n["attributes"]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Reminder"))
    });
    reminder.map_or_else(String::new, |n| {
        n["attributes"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    })
}

async fn an_event_without_a_zone_shows_each_reader_their_own(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_smtp(backend, &sink.url()).await else {
        return;
    };
    let ana = user_with_mail(&app, "Ana", None).await;
    let ben = user_with_mail(&app, "Ben", None).await;
    let r = app
        .call(Method::PATCH, "/api/v1/users/Ben")
        .token(&ben)
        .json(&json!({"timezone": "America/New_York"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let start = now(&app) + Duration::days(2);
    let body = json!({"slug": "zoneless", "title": "Zoneless", "starts_at": rfc3339(start),
        "reminders": ["1h"]});
    let r = app
        .call(Method::POST, "/api/v1/events")
        .token(&ana)
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    register(&app, &r.str("id"), &ben, "Ben").await;
    advance_to(&app, start - Duration::minutes(59)).await;
    let utc = format!("{:02}:{:02} UTC", start.hour(), start.minute());
    let ny = start.to_offset(time::macros::offset!(-5));
    let est = format!("{:02}:{:02} EST", ny.hour(), ny.minute());
    let (for_ana, for_ben) = (
        reminder_message(&app, "Ana", &ana).await,
        reminder_message(&app, "Ben", &ben).await,
    );
    assert!(
        for_ana.contains(&utc),
        "UTC without a zone ({utc}): {for_ana}"
    );
    assert!(for_ben.contains(&est), "Ben's own zone ({est}): {for_ben}");
}

on_both_backends!(
    an_event_without_a_zone_shows_each_reader_their_own => reminders_in_the_readers_zone,
    an_event_reminds_its_people_once_at_each_offset => reminders_once_per_offset,
    reschedules_move_reminders_and_deletion_drops_them => reminders_move_and_drop,
);
