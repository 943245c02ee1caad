//! Sessions, rooms and slides end to end: the API, the queue, and a provider — the debug one,
//! and a fake Meetecho server that records what the datatracker's client would have sent.

use crate::support::World;
use convene_core::Clock;
use convene_server::config::{Config, NotifyMinutes, Secret};
use convene_testkit::{Answer, Backend, Method, Receiver, TestApp, app_tests, spawn_app_with};
use serde_json::{Value, json};
use time::Duration;
use time::format_description::well_known::Rfc3339;

fn in_hours(app: &TestApp, hours: i64) -> String {
    (app.clock.now() + Duration::hours(hours))
        .format(&Rfc3339)
        .unwrap()
}

async fn new_session(app: &TestApp, token: &str, event: &str, body: Value) -> Value {
    let path = format!("/api/v1/events/{event}/sessions");
    crate::support::created(app, token, &path, &body).await.body
}

async fn session(app: &TestApp, id: &str) -> Value {
    app.admin(Method::GET, &format!("/api/v1/sessions/{id}"))
        .send()
        .await
        .body
}

app_tests! {
    config = |c| {
        c.conferencing.provider = "debug".into();
        c.allow_private_targets = true;
    };

    async fn remote_sessions_get_rooms_through_the_queue(app: TestApp) {
        let w = World::new(&app).await;
        let hook = Receiver::start().await;
        let r = app.admin(Method::POST, "/api/v1/webhooks").json(&json!({"url": hook.url,
            "event_types": ["session.created", "session.updated", "session.deleted", "conference.ready", "slides.updated"]})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let s = new_session(&app, &w.alice, &w.event, json!({"title": "Opening", "group": "wiki-club",
            "starts_at": in_hours(&app, 24), "duration_minutes": 90})).await;
        assert_eq!(s["conference"], json!({"status": "pending", "provider": "debug", "url": null,
            "join_url": null, "moderator_url": null, "error": null, "recordings": []}));
        assert!(s["number"].as_i64().unwrap() > 0);
        let id = s["id"].as_str().unwrap().to_owned();
        app.drain().await;
        let ready = session(&app, &id).await;
        assert_eq!(ready["conference"]["status"], "ready");
        let url = format!("https://conference.invalid/debug/{}", s["number"]);
        assert_eq!(ready["conference"]["url"], url.as_str());

        let r = app.call(Method::PATCH, &format!("/api/v1/sessions/{id}")).token(&w.alice)
            .json(&json!({"starts_at": in_hours(&app, 48)})).send().await;
        assert_eq!((r.status, r.body["conference"]["status"].as_str()), (200, Some("pending")), "{}", r.text);
        app.drain().await;
        assert_eq!(session(&app, &id).await["conference"]["status"], "ready");

        let plain = new_session(&app, &w.alice, &w.event, json!({"title": "Lunch", "group": "wiki-club",
            "starts_at": in_hours(&app, 26), "duration_minutes": 60, "remote": false})).await;
        assert!(plain["conference"].is_null());
        let list = app.call(Method::GET, &format!("/api/v1/events/{}/sessions", w.event)).token(&w.carol).send().await;
        let titles: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
        assert_eq!(titles, ["Lunch", "Opening"], "by start time, for anyone who sees the event");

        let r = app.call(Method::DELETE, &format!("/api/v1/sessions/{id}")).token(&w.carol).send().await;
        assert_eq!(r.status, 403);
        let r = app.call(Method::DELETE, &format!("/api/v1/sessions/{id}")).token(&w.alice).send().await;
        assert_eq!(r.status, 204);
        assert_eq!(app.admin(Method::GET, &format!("/api/v1/sessions/{id}")).send().await.status, 404);
        app.drain().await;
        let types: Vec<String> = hook.received().iter().map(|r| r.json()["event_metadata"]["event_type"].as_str().unwrap().to_owned()).collect();
        for t in ["session.created", "conference.ready", "session.updated", "session.deleted"] {
            assert!(types.contains(&t.to_owned()), "{t} in {types:?}");
        }
    }

    async fn bad_sessions_and_decks_are_named(app: TestApp) {
        let w = World::new(&app).await;
        let path = format!("/api/v1/events/{}/sessions", w.event);
        let r = app.call(Method::POST, &path).token(&w.alice).json(&json!({"title": "", "group": "a b",
            "starts_at": "tomorrow", "duration_minutes": 0})).send().await;
        assert_eq!(r.status, 422, "{}", r.text);
        let mut fields = r.fields();
        fields.sort();
        assert_eq!(fields, ["duration_minutes", "group", "starts_at", "title"]);
        let r = app.call(Method::POST, &path).token(&w.carol).json(&json!({"title": "x", "group": "g",
            "starts_at": in_hours(&app, 1), "duration_minutes": 5})).send().await;
        assert_eq!(r.status, 403);
        let s = new_session(&app, &w.alice, &w.event, json!({"title": "S", "group": "g",
            "starts_at": in_hours(&app, 1), "duration_minutes": 5})).await;
        let slides = format!("/api/v1/sessions/{}/slides", s["id"].as_str().unwrap());
        let r = app.call(Method::POST, &slides).token(&w.alice).json(&json!({"title": "Deck", "url": "not a url"})).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["url".to_owned()]), "{}", r.text);
        let r = app.call(Method::PUT, &format!("{slides}/order")).token(&w.alice).json(&json!(["nope"])).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["order".to_owned()]), "{}", r.text);
    }
}

struct Meet {
    app: TestApp,
    fake: Receiver,
    w: World,
}

async fn with_meetecho(backend: Backend, notify: i64) -> Option<Meet> {
    let fake = Receiver::start().await;
    let base = fake.url.replace("/hook", "/api/v1");
    let app = spawn_app_with(backend, |c: &mut Config| {
        c.conferencing.provider = "meetecho".into();
        c.conferencing.meetecho.api_base = base;
        c.conferencing.meetecho.client_id = "convene".into();
        c.conferencing.meetecho.client_secret = Some(Secret::new("s3cr3t"));
        c.conferencing.meetecho.slides_notify_minutes = NotifyMinutes::Minutes(notify);
        c.delivery.retry_jitter = 0.0;
        c.allow_private_targets = true;
    })
    .await?;
    let w = World::new(&app).await;
    Some(Meet { app, fake, w })
}

fn rooms(number: i64, start: &str) -> Answer {
    Answer::json(
        200,
        &json!({"rooms": {"3f6a1c2e-0000-4000-8000-00000000000a": {
        "room": {"id": number, "start_time": start, "duration": 90, "description": "Opening"},
        "url": "https://meetings.conf.meetecho.com/interim/?short=3f6a", "deletion_token": "del-3f6a"}}}),
    )
}

fn calls(fake: &Receiver) -> Vec<String> {
    fake.received()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r.method,
                r.path.trim_start_matches("/api/v1/"),
                r.header("authorization"),
                String::from_utf8_lossy(&r.body)
            )
        })
        .collect()
}

async fn meetecho_rooms(backend: Backend) {
    let Some(Meet { app, fake, w }) = with_meetecho(backend, 15).await else {
        return;
    };
    let starts = app.clock.now() + Duration::hours(24);
    let s = new_session(&app, &w.alice, &w.event, json!({"title": "Opening", "group": "ietf",
        "starts_at": starts.format(&Rfc3339).unwrap(), "duration_minutes": 90, "extrainfo": "Room 1"})).await;
    let (id, number) = (
        s["id"].as_str().unwrap().to_owned(),
        s["number"].as_i64().unwrap(),
    );
    let wire = |t: time::OffsetDateTime| convene_conferencing::wire::format_time(t);
    fake.script([
        Answer::json(200, &json!({"tokens": {"ietf": "tok"}})),
        rooms(number, &wire(starts)),
    ]);
    app.drain().await;
    let ready = session(&app, &id).await;
    assert_eq!(
        ready["conference"]["url"],
        "https://meetings.conf.meetecho.com/interim/?short=3f6a"
    );
    assert_eq!(calls(&fake), [
        r#"POST auth/ietfservice/tokens  {"client": "convene", "secret": "s3cr3t", "wgs": ["ietf"]}"#.to_owned(),
        format!(r#"POST meeting/interim/createRoom bearer tok {{"room_id": {number}, "description": "Opening", "start_time": "{}", "duration": 90, "extrainfo": "Room 1"}}"#, wire(starts)),
    ]);
    assert!(
        !ready.to_string().contains("del-3f6a"),
        "the deletion token is never shown"
    );

    // Rescheduling: delete with the stored token, then create (Meetecho cannot move a room).
    let later = starts + Duration::hours(2);
    let r = app
        .call(Method::PATCH, &format!("/api/v1/sessions/{id}"))
        .token(&w.alice)
        .json(&json!({"starts_at": later.format(&Rfc3339).unwrap(), "title": "Opening (moved)"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    fake.script([Answer::json(200, &json!({})), rooms(number, &wire(later))]);
    app.drain().await;
    let sent = calls(&fake);
    assert_eq!(sent[2], "POST meeting/interim/deleteRoom bearer del-3f6a ");
    assert!(
        sent[3].starts_with("POST meeting/interim/createRoom bearer tok")
            && sent[3].contains("Opening (moved)"),
        "{}",
        sent[3]
    );
    assert_eq!(session(&app, &id).await["conference"]["status"], "ready");

    // The provider failing: retried with the error shown, then failed for good on a refusal.
    let r = app
        .call(Method::PATCH, &format!("/api/v1/sessions/{id}"))
        .token(&w.alice)
        .json(&json!({"duration_minutes": 30}))
        .send()
        .await;
    assert_eq!(r.status, 200);
    fake.script([Answer::status(503)]);
    app.drain().await;
    let retrying = session(&app, &id).await["conference"].clone();
    assert_eq!(retrying["status"], "pending");
    assert!(
        retrying["error"].as_str().unwrap().contains("503"),
        "{retrying}"
    );
    fake.script([Answer::json(200, &json!({})), Answer::status(403)]);
    app.clock.advance(Duration::seconds(10));
    app.drain().await;
    let failed = session(&app, &id).await["conference"].clone();
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed["error"].as_str().unwrap().contains("403"));
    let inbox = app
        .call(Method::GET, "/v1/users/Alice/notifications?filter=%5B%7B%22name%22%3A%22title%22%2C%22op%22%3A%22startswith%22%2C%22val%22%3A%22No%20video%20room%22%7D%5D")
        .token(&w.alice)
        .send()
        .await;
    assert_eq!(
        inbox.body["meta"]["count"], 1,
        "the organizer is told: {}",
        inbox.text
    );

    // Listing: the API and nothing secret.
    fake.script([rooms(number, &wire(later))]);
    let r = app
        .admin(Method::GET, "/api/v1/conferencing/rooms?group=ietf")
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"][0]["room_id"], number);
    assert!(!r.text.contains("del-3f6a"));
    let r = app
        .call(Method::GET, "/api/v1/conferencing/rooms?group=ietf")
        .token(&w.alice)
        .send()
        .await;
    assert_eq!(r.status, 403);

    // Deleting the session removes its room (none is stored after the failure: nothing to call).
    let r = app
        .call(Method::DELETE, &format!("/api/v1/sessions/{id}"))
        .token(&w.alice)
        .send()
        .await;
    assert_eq!(r.status, 204);
    let before = fake.received().len();
    app.drain().await;
    assert_eq!(fake.received().len(), before);
}

async fn meetecho_slides(backend: Backend) {
    let Some(Meet { app, fake, w }) = with_meetecho(backend, 15).await else {
        return;
    };
    let starts = app.clock.now() + Duration::hours(3);
    let s = new_session(
        &app,
        &w.alice,
        &w.event,
        json!({"title": "Slides", "group": "ietf",
        "starts_at": starts.format(&Rfc3339).unwrap(), "duration_minutes": 60, "remote": true}),
    )
    .await;
    let (id, number) = (
        s["id"].as_str().unwrap().to_owned(),
        s["number"].as_i64().unwrap(),
    );
    fake.script([
        Answer::json(200, &json!({"tokens": {"ietf": "tok"}})),
        rooms(number, "2026-11-23 13:00:00"),
    ]);
    app.drain().await;
    let slides = format!("/api/v1/sessions/{id}/slides");
    let add = |title: &str| json!({"title": title, "url": format!("https://example.org/{title}.pdf"), "rev": "00"});
    // Far outside the window: stored, not sent, and not sent later either.
    let first = app
        .call(Method::POST, &slides)
        .token(&w.alice)
        .json(&add("one"))
        .send()
        .await;
    assert_eq!(
        (first.status, first.body["order"].as_u64()),
        (201, Some(1)),
        "{}",
        first.text
    );
    app.drain().await;
    assert_eq!(
        fake.received().len(),
        2,
        "outside the window nothing is sent"
    );

    // Inside the window (15 min before the start, exclusive).
    app.clock
        .advance(Duration::hours(3) - Duration::minutes(15) + Duration::seconds(1));
    let second = app
        .call(Method::POST, &slides)
        .token(&w.alice)
        .json(&add("two"))
        .send()
        .await;
    let (one, two) = (
        first.body["id"].as_str().unwrap().to_owned(),
        second.body["id"].as_str().unwrap().to_owned(),
    );
    let (n1, n2) = (
        first.body["number"].as_i64().unwrap(),
        second.body["number"].as_i64().unwrap(),
    );
    app.drain().await;
    let r = app
        .call(Method::PUT, &format!("{slides}/{one}"))
        .token(&w.alice)
        .json(&json!({"rev": "01"}))
        .send()
        .await;
    assert_eq!((r.status, r.body["rev"].as_str()), (200, Some("01")));
    app.drain().await;
    let r = app
        .call(Method::PUT, &format!("{slides}/order"))
        .token(&w.alice)
        .json(&json!([two, one]))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.drain().await;
    let r = app
        .call(Method::DELETE, &format!("{slides}/{two}"))
        .token(&w.alice)
        .send()
        .await;
    assert_eq!(r.status, 204);
    app.drain().await;
    let deck = |n: i64, title: &str, rev: &str, order: u32| {
        format!(
            r#"{{"id": {n}, "title": "{title}", "url": "https://example.org/{title}.pdf", "rev": "{rev}", "order": {order}}}"#
        )
    };
    let sent: Vec<String> = calls(&fake)[2..].to_vec();
    assert_eq!(
        sent,
        [
            format!(
                r#"POST materials bearer tok {{"session": "{number}", "title": "two", "id": {n2}, "url": "https://example.org/two.pdf", "rev": "00", "order": 2}}"#
            ),
            format!(r#"DELETE materials bearer tok {{"session": "{number}", "id": {n1}}}"#),
            format!(
                r#"POST materials bearer tok {{"session": "{number}", "title": "one", "id": {n1}, "url": "https://example.org/one.pdf", "rev": "01", "order": 1}}"#
            ),
            format!(
                r#"PUT materials bearer tok {{"session": "{number}", "decks": [{}, {}]}}"#,
                deck(n2, "two", "00", 1),
                deck(n1, "one", "01", 2)
            ),
            format!(r#"DELETE materials bearer tok {{"session": "{number}", "id": {n2}}}"#),
            format!(
                r#"PUT materials bearer tok {{"session": "{number}", "decks": [{}]}}"#,
                deck(n1, "one", "01", 1)
            ),
        ]
    );
    let listed = app.call(Method::GET, &slides).token(&w.carol).send().await;
    assert_eq!(listed.body["data"][0]["order"], 1);
}

convene_testkit::on_both_backends!(
    meetecho_rooms => meetecho_rooms_follow_sessions,
    meetecho_slides => meetecho_gets_slide_changes_inside_the_window,
);
