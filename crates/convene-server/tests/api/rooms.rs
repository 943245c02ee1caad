//! Rooms by the provider an event chooses: BigBlueButton against a fake that checks every
//! checksum (join links signed per person, the meeting made when someone arrives, recordings
//! listed after the session, the meeting ended with the session), and Jitsi with tokens.

use crate::support::World;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convene_core::Clock;
use convene_server::config::{Config, Secret};
use convene_testkit::{Backend, FakeBbb, Method, Reply, TestApp, on_both_backends, spawn_app_with};
use serde_json::{Value, json};
use time::Duration;
use time::format_description::well_known::Rfc3339;

async fn app(backend: Backend, fake: &FakeBbb) -> Option<TestApp> {
    let (url, secret) = (fake.url.clone(), fake.secret.clone());
    spawn_app_with(backend, move |c: &mut Config| {
        c.conferencing.provider = "debug".into();
        c.conferencing.bigbluebutton.url = url;
        c.conferencing.bigbluebutton.secret = Some(Secret::new(secret));
        c.conferencing.bigbluebutton.checksum = "sha256".into();
        c.conferencing.jitsi.domain = "meet.example.org".into();
        c.conferencing.jitsi.app_id = Some("convene".into());
        c.conferencing.jitsi.app_secret = Some(Secret::new("jitsi-secret"));
        c.allow_private_targets = true;
    })
    .await
}

async fn choose(app: &TestApp, w: &World, provider: Value) -> Reply {
    app.call(Method::PATCH, &format!("/api/v1/events/{}", w.event))
        .token(&w.alice)
        .json(&json!({"conference_provider": provider}))
        .send()
        .await
}

async fn ready_session(app: &TestApp, w: &World) -> String {
    let starts_at = (app.clock.now() + Duration::hours(24))
        .format(&Rfc3339)
        .unwrap();
    let path = format!("/api/v1/events/{}/sessions", w.event);
    let s = crate::support::created(
        app,
        &w.alice,
        &path,
        &json!({"title": "Opening",
        "group": "wiki-club", "starts_at": starts_at, "duration_minutes": 60}),
    )
    .await
    .body;
    app.drain().await;
    s["id"].as_str().unwrap().to_owned()
}

async fn conference(app: &TestApp, id: &str, token: &str) -> Value {
    let r = app
        .call(Method::GET, &format!("/api/v1/sessions/{id}"))
        .token(token)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["conference"].clone()
}

/// Opens a join link as a browser would: the answer and where it sends the person.
async fn open(url: &str) -> (u16, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(url).send().await.unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), location)
}

async fn bigbluebutton_rooms(backend: Backend) {
    let fake = FakeBbb::start("sha256").await;
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    let w = World::new(&app).await;
    let r = choose(&app, &w, json!("zoom")).await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["conference_provider".to_owned()])
    );
    let r = choose(&app, &w, json!("meetecho")).await;
    assert_eq!(r.status, 422);
    assert!(
        r.text.contains("configured: debug, bigbluebutton, jitsi"),
        "{}",
        r.text
    );
    let r = choose(&app, &w, json!("bigbluebutton")).await;
    assert_eq!(
        (r.status, &r.body["conference_provider"]),
        (200, &json!("bigbluebutton"))
    );

    let id = ready_session(&app, &w).await;
    assert!(
        fake.calls().is_empty(),
        "nothing is made before someone arrives"
    );
    let organizer = conference(&app, &id, &w.alice).await;
    assert_eq!(
        (organizer["status"].as_str(), organizer["provider"].as_str()),
        (Some("ready"), Some("bigbluebutton"))
    );
    let participant = conference(&app, &id, &w.bob).await;
    let prefix = format!(
        "{}/conference/{id}/join?role=attendee&name=Bob&user=",
        app.base_url
    );
    let join = participant["join_url"].as_str().unwrap().to_owned();
    assert!(join.starts_with(&prefix), "{join}");
    assert_eq!(participant["url"], participant["join_url"]);
    assert!(participant["moderator_url"].is_null(), "{participant}");
    let stranger = conference(&app, &id, &w.carol).await;
    assert!(
        stranger["join_url"].is_null() && stranger["moderator_url"].is_null(),
        "{stranger}"
    );

    // Personal links stay out of what is shared: the event's calendar names no way in.
    let ics = app
        .call(
            Method::GET,
            &format!("/api/v1/events/{}/calendar.ics", w.event),
        )
        .token(&w.bob)
        .send()
        .await;
    assert!(
        ics.text.contains("Opening") && !ics.text.contains("/conference/"),
        "{}",
        ics.text
    );

    // Bob arrives: the meeting is made (checksum checked by the fake) and he is sent in.
    let (status, location) = open(&join).await;
    assert_eq!(status, 303);
    let create = fake.calls()[0].clone();
    assert_eq!(create.call, "create");
    assert!(create.checksum_ok);
    assert_eq!(create.params["meta_convene-session"], id);
    assert!(
        location.starts_with(&format!("{}join?", fake.url)),
        "{location}"
    );
    assert!(fake.follow(&location).contains("successfullyJoined"));
    let entered = fake.calls().pop().unwrap();
    assert!(entered.checksum_ok);
    assert_eq!(
        (
            entered.params["fullName"].as_str(),
            entered.params["role"].as_str()
        ),
        ("Bob", "VIEWER")
    );

    // A link made a moderator's by hand, or cut short, lets nobody in.
    let promoted = join.replace("role=attendee", "role=moderator");
    assert_eq!(open(&promoted).await.0, 403);
    assert_eq!(
        open(&format!("{}/conference/{id}/join", app.base_url))
            .await
            .0,
        403
    );
    let moderator = organizer["moderator_url"].as_str().unwrap();
    let (status, location) = open(moderator).await;
    assert_eq!(status, 303);
    fake.follow(&location);
    assert_eq!(fake.calls().pop().unwrap().params["role"], "MODERATOR");

    // The admin's room list asks BigBlueButton's getMeetings.
    let listed = app
        .admin(
            Method::GET,
            "/api/v1/conferencing/rooms?group=wiki-club&provider=bigbluebutton",
        )
        .send()
        .await;
    assert_eq!(
        listed.body["data"][0]["public_id"],
        create.params["meetingID"].as_str(),
        "{}",
        listed.text
    );
    let r = app
        .admin(
            Method::GET,
            "/api/v1/conferencing/rooms?group=wiki-club&provider=zoom",
        )
        .send()
        .await;
    assert_eq!((r.status, r.fields()), (422, vec!["provider".to_owned()]));

    // After the session, the recordings BigBlueButton reports are listed on it.
    let meeting = create.params["meetingID"].clone();
    let start = app.clock.now() + Duration::hours(24);
    let ms = |t: time::OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
    let url = "https://bbb.example.org/playback/presentation/2.3/rec-1";
    fake.add_recording(
        &meeting,
        "rec-1",
        url,
        ms(start),
        ms(start + Duration::minutes(58)),
    );
    app.drain().await;
    assert_eq!(
        conference(&app, &id, &w.bob).await["recordings"],
        json!([]),
        "not before the end"
    );
    app.clock
        .advance(Duration::hours(25) + Duration::minutes(11));
    app.drain().await;
    let recordings = conference(&app, &id, &w.bob).await["recordings"].clone();
    assert_eq!(recordings[0]["id"], "rec-1");
    assert_eq!(recordings[0]["url"], url);
    let to_ms =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms(start)) * 1_000_000).unwrap();
    assert_eq!(
        recordings[0]["started_at"],
        to_ms.format(&Rfc3339).unwrap(),
        "to BigBlueButton's millisecond"
    );
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.call == "getRecordings" && c.checksum_ok)
    );

    // The session goes: so does the meeting.
    let r = app
        .call(Method::DELETE, &format!("/api/v1/sessions/{id}"))
        .token(&w.alice)
        .send()
        .await;
    assert_eq!(r.status, 204);
    app.drain().await;
    assert!(!fake.meeting(&meeting).unwrap().running);
    assert!(
        fake.calls().iter().all(|c| c.checksum_ok),
        "{:?}",
        fake.calls()
    );
}

fn claims(url: &str) -> Value {
    let token = url.split_once("?jwt=").unwrap().1;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn jitsi_rooms(backend: Backend) {
    let fake = FakeBbb::start("sha256").await;
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    let w = World::new(&app).await;
    assert_eq!(choose(&app, &w, json!("jitsi")).await.status, 200);
    let id = ready_session(&app, &w).await;
    let bob = conference(&app, &id, &w.bob).await;
    let join = bob["join_url"].as_str().unwrap();
    assert!(
        join.starts_with("https://meet.example.org/wiki-club-"),
        "{join}"
    );
    let c = claims(join);
    assert_eq!(
        (c["room"].as_str(), c["context"]["user"]["name"].as_str()),
        (join.split(['/', '?']).nth(3), Some("Bob"))
    );
    assert_eq!(c["context"]["user"]["moderator"], false);
    let alice = conference(&app, &id, &w.alice).await;
    assert_eq!(
        claims(alice["moderator_url"].as_str().unwrap())["context"]["user"]["moderator"],
        true
    );
    assert!(conference(&app, &id, &w.carol).await["join_url"].is_null());

    // Back to the default: the next session's room is the configured provider's.
    assert_eq!(choose(&app, &w, Value::Null).await.status, 200);
    let next = ready_session(&app, &w).await;
    let carol = conference(&app, &next, &w.carol).await;
    assert_eq!(carol["provider"], "debug");
    assert!(
        carol["join_url"]
            .as_str()
            .unwrap()
            .starts_with("https://conference.invalid/debug/")
    );
    assert!(carol["moderator_url"].is_null());
}

on_both_backends! {
    bigbluebutton_rooms => bigbluebutton,
    jitsi_rooms => jitsi,
}
