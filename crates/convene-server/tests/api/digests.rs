//! Digests over several simulated days, through a real SMTP server: a kind set to `daily` or
//! `weekly` gathers what arrived into one mail at the reader's local hour, once; in-app
//! notifications stay instant; going back to `instant` sends at once again.

use crate::support::{app_with_smtp, create_event, register, user_with_mail};
use convene_testkit::{Backend, Method, SmtpSink, TestApp, on_both_backends};
use serde_json::json;
use time::{Duration, OffsetDateTime};

fn now(app: &TestApp) -> OffsetDateTime {
    convene_core::Clock::now(&*app.clock)
}

/// The next `hour`:00 in `zone` after `t` (on `weekday` when given), worked out with jiff.
fn next_local(
    t: OffsetDateTime,
    zone: &str,
    hour: i8,
    weekday: Option<jiff::civil::Weekday>,
) -> OffsetDateTime {
    let tz = jiff::tz::TimeZone::get(zone).unwrap();
    let here = jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos())
        .unwrap()
        .to_zoned(tz.clone());
    let mut day = here.date();
    loop {
        let at = day.at(hour, 0, 0, 0).to_zoned(tz.clone()).unwrap();
        if at.timestamp() > here.timestamp() && weekday.is_none_or(|w| day.weekday() == w) {
            return OffsetDateTime::from_unix_timestamp(at.timestamp().as_second()).unwrap();
        }
        day = day.tomorrow().unwrap();
    }
}

async fn advance_to(app: &TestApp, t: OffsetDateTime) {
    app.clock.advance(t - now(app));
    app.drain().await;
}

/// Subjects of the mails `to` got so far, in order.
fn subjects(sink: &SmtpSink, to: &str) -> Vec<String> {
    sink.received()
        .iter()
        .filter(|m| m.to.iter().any(|t| t == to))
        .filter_map(|m| m.decoded_header("Subject"))
        .collect()
}

async fn prefer(app: &TestApp, token: &str, body: serde_json::Value) -> convene_testkit::Reply {
    app.call(Method::PUT, "/api/v1/me/notification-preferences")
        .token(token)
        .json(&json!({"data": [body]}))
        .send()
        .await
}

async fn a_days_registrations_arrive_as_one_mail_at_the_local_hour(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_smtp(backend, &sink.url()).await else {
        return;
    };
    let olga = user_with_mail(&app, "Olga", Some("de")).await;
    let r = app
        .call(Method::PATCH, "/api/v1/users/Olga")
        .token(&olga)
        .json(&json!({"timezone": "Europe/Berlin"}))
        .send()
        .await;
    assert_eq!(
        (r.status, r.str("timezone")),
        (200, "Europe/Berlin".to_owned()),
        "{}",
        r.text
    );
    let r = app
        .call(Method::PATCH, "/api/v1/users/Olga")
        .token(&olga)
        .json(&json!({"timezone": "Mars/Olympus"}))
        .send()
        .await;
    assert_eq!((r.status, r.fields()), (422, vec!["timezone".to_owned()]));

    // The choice and its limits.
    let r = prefer(
        &app,
        &olga,
        json!({"kind": "participant_registered", "delivery": "daily"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let shown = r.body["data"].as_array().unwrap();
    let registered = shown
        .iter()
        .find(|p| p["kind"] == "participant_registered")
        .unwrap();
    assert_eq!(
        (&registered["delivery"], &registered["email"]),
        (&json!("daily"), &json!(true))
    );
    assert!(
        shown.iter().all(|p| p["kind"] != "digest"),
        "a digest has no switches of its own"
    );
    for (body, field) in [
        (
            json!({"kind": "participant_registered", "delivery": "hourly"}),
            "data[0].delivery",
        ),
        (
            json!({"kind": "event.reminder", "delivery": "daily"}),
            "data[0].delivery",
        ),
        (json!({"kind": "digest", "email": false}), "data[0].kind"),
    ] {
        let r = prefer(&app, &olga, body).await;
        assert_eq!(
            (r.status, r.fields()),
            (422, vec![field.to_owned()]),
            "{}",
            r.text
        );
    }

    let event = create_event(
        &app,
        &olga,
        json!({"slug": "digest-day", "title": "Digest day"}),
    )
    .await;
    let mut participants = Vec::new();
    for name in ["Ann", "Ben", "Cal"] {
        participants.push(user_with_mail(&app, name, None).await);
    }
    // Day one: two registrations, each in its own round.
    register(&app, &event, &participants[0], "Ann").await;
    app.drain().await;
    register(&app, &event, &participants[1], "Ben").await;
    app.drain().await;
    let olga_mail = "olga@example.org";
    assert!(
        subjects(&sink, olga_mail).is_empty(),
        "nothing by mail before the digest"
    );
    let inbox = app
        .call(Method::GET, "/v1/users/Olga/notifications")
        .token(&olga)
        .send()
        .await;
    assert_eq!(
        inbox.body["data"].as_array().unwrap().len(),
        2,
        "in the app at once: {}",
        inbox.text
    );

    let eight = next_local(now(&app), "Europe/Berlin", 8, None);
    advance_to(&app, eight - Duration::minutes(1)).await;
    assert!(
        subjects(&sink, olga_mail).is_empty(),
        "not before eight in Berlin"
    );
    advance_to(&app, eight).await;
    assert_eq!(
        subjects(&sink, olga_mail),
        ["Ihre tägliche Zusammenfassung: 2 Neuigkeiten"]
    );
    let digest = sink
        .received()
        .into_iter()
        .find(|m| m.to == [olga_mail])
        .unwrap();
    for name in ["Ann", "Ben"] {
        assert!(
            digest.data.contains(&format!("{name} hat sich")),
            "{name} in {}",
            digest.data
        );
    }
    assert!(digest.header("List-Unsubscribe").is_none());
    app.drain().await;
    advance_to(&app, eight + Duration::hours(1)).await;
    assert_eq!(subjects(&sink, olga_mail).len(), 1, "sent once");

    // Day two: one more; day three: nothing arrived, nothing sent.
    register(&app, &event, &participants[2], "Cal").await;
    app.drain().await;
    advance_to(&app, eight + Duration::days(1)).await;
    advance_to(&app, eight + Duration::days(2)).await;
    assert_eq!(
        subjects(&sink, olga_mail),
        [
            "Ihre tägliche Zusammenfassung: 2 Neuigkeiten",
            "Ihre tägliche Zusammenfassung: 1 Neuigkeit"
        ]
    );

    // Weekly, for someone without a time zone: Monday 08:00 UTC.
    let pia = user_with_mail(&app, "Pia", None).await;
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/events/{event}/organizers/Pia"),
        )
        .token(&olga)
        .json(&json!({}))
        .send()
        .await;
    assert!(r.status < 300, "{}", r.text);
    assert_eq!(
        prefer(
            &app,
            &pia,
            json!({"kind": "participant_registered", "delivery": "weekly"})
        )
        .await
        .status,
        200
    );
    let dee = user_with_mail(&app, "Dee", None).await;
    register(&app, &event, &dee, "Dee").await;
    app.drain().await;
    let monday = next_local(now(&app), "UTC", 8, Some(jiff::civil::Weekday::Monday));
    advance_to(&app, monday - Duration::minutes(1)).await;
    assert!(subjects(&sink, "pia@example.org").is_empty());
    advance_to(&app, monday).await;
    assert_eq!(
        subjects(&sink, "pia@example.org"),
        ["Your weekly digest: 1 update"]
    );

    // Back to instant: the next registration is mailed at once.
    assert_eq!(
        prefer(
            &app,
            &olga,
            json!({"kind": "participant_registered", "delivery": "instant"})
        )
        .await
        .status,
        200
    );
    let eve = user_with_mail(&app, "Eve", None).await;
    register(&app, &event, &eve, "Eve").await;
    app.drain().await;
    assert_eq!(
        subjects(&sink, olga_mail).len(),
        4,
        "{:?}",
        subjects(&sink, olga_mail)
    );
}

on_both_backends! {
    a_days_registrations_arrive_as_one_mail_at_the_local_hour => digests,
}
