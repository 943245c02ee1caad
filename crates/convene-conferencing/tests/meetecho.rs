//! Every Meetecho call against a real local HTTP server: method, path, headers, exact body, and
//! every way an answer can go wrong.

use convene_conferencing::meetecho::{Deck, Meetecho, MeetechoConfig, MeetechoError};
use convene_conferencing::provider::{
    ConferenceProvider, DebugProvider, Joiner, MeetechoProvider, SessionSpec, SlideChange,
};
use convene_delivery::target::TargetPolicy;
use convene_testkit::{Answer, Receiver};
use serde_json::{Value, json};
use std::time::Duration;
use time::macros::datetime;

fn config(peer: &Receiver, ttl: Duration) -> MeetechoConfig {
    MeetechoConfig {
        api_base: peer.url.replace("/hook", "/api/v1"),
        client_id: "convene-client".into(),
        client_secret: "s3cr3t".into(),
        timeout: Duration::from_millis(3010),
        token_ttl: ttl,
        policy: TargetPolicy {
            allow_private: true,
            ..TargetPolicy::default()
        },
    }
}

fn tokens(group: &str, token: &str) -> Answer {
    Answer::json(200, &json!({"tokens": {group: token}}))
}

fn rooms_reply() -> Value {
    json!({"group": "ietf", "rooms": {
        "3f6a1c2e-0000-4000-8000-000000000001": {
            "room": {"id": 42, "start_time": "2026-11-23 09:30:00", "duration": 89,
                "description": "IETF interim: routing", "extra": "ignored"},
            "url": "https://meetings.conf.meetecho.com/interim/?short=3f6a",
            "deletion_token": "del-3f6a", "unknown": [1, 2]
        }
    }})
}

fn text(body: &[u8]) -> &str {
    std::str::from_utf8(body).unwrap()
}

fn plain(status: u16, body: &str, content_type: Option<&str>) -> Answer {
    let mut answer = Answer::status(status);
    answer.body = body.to_owned();
    if let Some(kind) = content_type {
        answer.headers.push(("content-type", kind.to_owned()));
    }
    answer
}

fn session() -> SessionSpec {
    SessionSpec {
        id: "0193a0b4-8000-7c3d-8e9f-0a1b2c3d4e62".into(),
        number: 42,
        group: "ietf".into(),
        title: "IETF interim: routing".into(),
        starts_at: datetime!(2026-11-23 11:30:00.75 +02:00),
        duration: time::Duration::seconds(89 * 60 + 59),
        extrainfo: "Zürich".into(),
    }
}

#[tokio::test]
async fn create_room_asks_for_the_group_token_then_creates_with_it() {
    let peer = Receiver::start().await;
    peer.script([
        tokens("ietf", "tok-ietf"),
        Answer::json(200, &rooms_reply()),
    ]);
    let client = Meetecho::new(&config(&peer, Duration::from_secs(3600))).unwrap();
    let s = session();
    let rooms = client
        .create_room(
            &s.group,
            s.number,
            &s.title,
            s.starts_at,
            s.duration,
            &s.extrainfo,
        )
        .await
        .unwrap();
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].public_id, "3f6a1c2e-0000-4000-8000-000000000001");
    assert_eq!((rooms[0].room_id, rooms[0].duration_minutes), (42, 89));
    assert_eq!(rooms[0].start_time, datetime!(2026-11-23 09:30:00 UTC));
    assert_eq!(rooms[0].deletion_token, "del-3f6a");
    let sent = peer.received();
    assert_eq!(
        (sent[0].method.as_str(), sent[0].path.as_str()),
        ("POST", "/api/v1/auth/ietfservice/tokens")
    );
    assert_eq!(sent[0].header("accept"), "application/json");
    assert_eq!(sent[0].header("content-type"), "application/json");
    assert_eq!(sent[0].header("authorization"), "");
    assert_eq!(
        text(&sent[0].body),
        r#"{"client": "convene-client", "secret": "s3cr3t", "wgs": ["ietf"]}"#
    );
    assert_eq!(
        (sent[1].method.as_str(), sent[1].path.as_str()),
        ("POST", "/api/v1/meeting/interim/createRoom")
    );
    assert_eq!(sent[1].header("authorization"), "bearer tok-ietf");
    assert_eq!(sent[1].header("accept"), "application/json");
    assert_eq!(
        text(&sent[1].body),
        r#"{"room_id": 42, "description": "IETF interim: routing", "start_time": "2026-11-23 09:30:00", "duration": 89, "extrainfo": "Z\u00fcrich"}"#
    );
}

#[tokio::test]
async fn fetch_and_delete_rooms() {
    let peer = Receiver::start().await;
    peer.script([
        tokens("ietf", "tok"),
        Answer::json(200, &rooms_reply()),
        Answer::json(200, &json!({})),
    ]);
    let client = Meetecho::new(&config(&peer, Duration::from_secs(3600))).unwrap();
    let rooms = client.fetch_rooms("ietf").await.unwrap();
    assert_eq!(
        rooms[0].url,
        "https://meetings.conf.meetecho.com/interim/?short=3f6a"
    );
    client.delete_room(&rooms[0].deletion_token).await.unwrap();
    let sent = peer.received();
    assert_eq!(
        (sent[1].method.as_str(), sent[1].path.as_str()),
        ("GET", "/api/v1/meeting/interim/fetchRooms")
    );
    assert!(sent[1].body.is_empty() && sent[1].header("content-type").is_empty());
    assert_eq!(
        (sent[2].method.as_str(), sent[2].path.as_str()),
        ("POST", "/api/v1/meeting/interim/deleteRoom")
    );
    assert_eq!(
        sent[2].header("authorization"),
        "bearer del-3f6a",
        "the deletion token is the credential"
    );
    assert!(
        sent[2].body.is_empty() && sent[2].header("content-type").is_empty(),
        "no body"
    );
    assert_eq!(sent.len(), 3, "deleting needs no group token");
}

fn deck(id: i64, order: u32) -> Deck {
    Deck {
        id,
        title: format!("Slides {id}"),
        url: format!("https://example.org/slides/{id}"),
        rev: "01".into(),
        order,
    }
}

#[tokio::test]
async fn slide_calls_send_the_datatracker_bodies() {
    let peer = Receiver::start().await;
    let accepted = || plain(202, "", None);
    peer.script([tokens("ietf", "tok"), accepted(), accepted(), accepted()]);
    let client = Meetecho::new(&config(&peer, Duration::from_secs(3600))).unwrap();
    client.add_deck("ietf", "42", &deck(7, 3)).await.unwrap();
    client.delete_deck("ietf", "42", 7).await.unwrap();
    client
        .update_decks("ietf", "42", &[deck(8, 1), deck(9, 2)])
        .await
        .unwrap();
    let sent = peer.received();
    let calls: Vec<(&str, &str, &str)> = sent[1..]
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), text(&r.body)))
        .collect();
    assert_eq!(
        calls,
        [
            (
                "POST",
                "/api/v1/materials",
                r#"{"session": "42", "title": "Slides 7", "id": 7, "url": "https://example.org/slides/7", "rev": "01", "order": 3}"#
            ),
            (
                "DELETE",
                "/api/v1/materials",
                r#"{"session": "42", "id": 7}"#
            ),
            (
                "PUT",
                "/api/v1/materials",
                r#"{"session": "42", "decks": [{"id": 8, "title": "Slides 8", "url": "https://example.org/slides/8", "rev": "01", "order": 1}, {"id": 9, "title": "Slides 9", "url": "https://example.org/slides/9", "rev": "01", "order": 2}]}"#
            ),
        ]
    );
    assert!(
        sent[1..]
            .iter()
            .all(|r| r.header("authorization") == "bearer tok"
                && r.header("content-type") == "application/json")
    );
}

#[tokio::test]
async fn only_200_and_202_succeed_and_json_is_judged_by_its_label() {
    let peer = Receiver::start().await;
    let client = Meetecho::new(&config(&peer, Duration::from_secs(3600))).unwrap();
    let one = deck(1, 1);
    let add = || client.add_deck("ietf", "42", &one);
    peer.script([tokens("ietf", "tok")]);
    for status in [201, 204, 301, 400, 401, 403, 404, 500, 503] {
        // 401 is tried once more with a fresh token: script both answers.
        if status == 401 {
            peer.script([
                plain(401, "", None),
                tokens("ietf", "tok2"),
                plain(401, "", None),
            ]);
        } else {
            peer.script([plain(status, "", None)]);
        }
        let err = add().await.unwrap_err();
        assert_eq!(err, MeetechoError::Status { status }, "{status}");
        assert!(err.to_string().contains(&status.to_string()));
    }
    peer.script([plain(200, "<html>ok</html>", Some("text/html"))]);
    assert_eq!(
        add().await,
        Ok(()),
        "a body that is not JSON and says so is no data"
    );
    peer.script([plain(202, "", Some("application/json"))]);
    assert_eq!(
        add().await,
        Err(MeetechoError::Decode),
        "an empty body labelled JSON"
    );
    peer.script([plain(
        200,
        "{broken",
        Some("application/json; charset=utf-8"),
    )]);
    assert_eq!(add().await, Err(MeetechoError::Decode));
    peer.script([plain(200, "{}", Some("text/plain"))]);
    assert_eq!(add().await, Ok(()), "valid JSON whatever the label");
    // Calls that need data get a typed error instead of carrying on with none.
    peer.script([plain(200, "not json", Some("text/plain"))]);
    assert!(matches!(
        client.fetch_rooms("ietf").await,
        Err(MeetechoError::Unexpected(_))
    ));
    peer.script([Answer::json(200, &json!({}))]);
    assert!(matches!(
        client.fetch_rooms("ietf").await,
        Err(MeetechoError::Unexpected(_))
    ));
    peer.script([Answer::json(
        200,
        &json!({"rooms": {"x": {"room": {"id": 1}}}}),
    )]);
    assert!(matches!(
        client.fetch_rooms("ietf").await,
        Err(MeetechoError::Unexpected(_))
    ));
    peer.script([Answer::json(200, &json!({"rooms": {}}))]);
    assert_eq!(client.fetch_rooms("ietf").await, Ok(vec![]));
}

#[tokio::test]
async fn transport_failures_are_errors_too() {
    let peer = Receiver::start().await;
    let mut slow = Answer::json(200, &json!({"tokens": {"ietf": "t"}}));
    slow.delay = Some(Duration::from_millis(800));
    peer.script([slow]);
    let mut fast = config(&peer, Duration::from_secs(3600));
    fast.timeout = Duration::from_millis(200);
    let client = Meetecho::new(&fast).unwrap();
    let err = client.fetch_rooms("ietf").await.unwrap_err();
    assert!(
        matches!(err, MeetechoError::TimedOut(_)) && err.is_transient(),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "Meetecho did not answer within 200ms",
        "the session's conference.error says the time ran out"
    );
    let refused = MeetechoConfig {
        api_base: "http://127.0.0.1:9/api/v1/".into(),
        ..fast
    };
    let err = Meetecho::new(&refused)
        .unwrap()
        .delete_room("x")
        .await
        .unwrap_err();
    assert!(matches!(err, MeetechoError::Transport(_)), "{err}");
    assert!(
        err.to_string()
            .to_lowercase()
            .contains("connection refused"),
        "the cause is named, not only the URL: {err}"
    );
}

#[tokio::test]
async fn rooms_made_at_once_for_one_group_fetch_one_token() {
    let peer = Receiver::start().await;
    let mut slow_token = tokens("ietf", "tok");
    slow_token.delay = Some(Duration::from_millis(300));
    peer.script([
        slow_token,
        Answer::json(200, &rooms_reply()),
        Answer::json(200, &rooms_reply()),
        Answer::json(200, &rooms_reply()),
    ]);
    let client = Meetecho::new(&config(&peer, Duration::from_secs(3600))).unwrap();
    let s = session();
    let make =
        |n: i64| client.create_room(&s.group, n, &s.title, s.starts_at, s.duration, &s.extrainfo);
    let (a, b, c) = tokio::join!(make(1), make(2), make(3));
    assert!(a.is_ok() && b.is_ok() && c.is_ok(), "{a:?} {b:?} {c:?}");
    let paths: Vec<String> = peer
        .received()
        .iter()
        .map(|r| r.path.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        paths.iter().filter(|p| *p == "tokens").count(),
        1,
        "one token for the group: {paths:?}"
    );
    assert_eq!(paths.len(), 4, "{paths:?}");
}

#[tokio::test]
async fn tokens_are_kept_until_their_ttl_and_renewed_once_on_401() {
    let peer = Receiver::start().await;
    let ok = || plain(202, "", None);
    peer.script([
        tokens("ietf", "t1"),
        ok(),
        ok(),
        plain(401, "", None),
        tokens("ietf", "t2"),
        ok(),
        ok(),
    ]);
    let client = Meetecho::new(&config(&peer, Duration::from_secs(3600))).unwrap();
    for _ in 0..3 {
        client.add_deck("ietf", "1", &deck(1, 1)).await.unwrap();
    }
    client.add_deck("ietf", "1", &deck(1, 1)).await.unwrap();
    let auth: Vec<String> = peer
        .received()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.path.rsplit('/').next().unwrap(),
                r.header("authorization")
            )
        })
        .collect();
    assert_eq!(
        auth,
        [
            "tokens ",
            "materials bearer t1",
            "materials bearer t1",
            "materials bearer t1",
            "tokens ",
            "materials bearer t2",
            "materials bearer t2",
        ]
    );

    let expiring = Receiver::start().await;
    expiring.script([tokens("ietf", "a"), ok(), tokens("ietf", "b"), ok()]);
    let client = Meetecho::new(&config(&expiring, Duration::ZERO)).unwrap();
    client.add_deck("ietf", "1", &deck(1, 1)).await.unwrap();
    client.add_deck("ietf", "1", &deck(1, 1)).await.unwrap();
    assert_eq!(
        expiring.received().len(),
        4,
        "an expired token is asked for again"
    );

    let missing = Receiver::start().await;
    missing.script([Answer::json(200, &json!({"tokens": {"other": "x"}}))]);
    let client = Meetecho::new(&config(&missing, Duration::from_secs(60))).unwrap();
    assert!(matches!(
        client.fetch_rooms("ietf").await,
        Err(MeetechoError::Unexpected(_))
    ));
}

#[tokio::test]
async fn the_meetecho_provider_maps_the_verbs() {
    let peer = Receiver::start().await;
    let ok = || plain(202, "", None);
    peer.script([tokens("ietf", "tok"), Answer::json(200, &rooms_reply())]);
    let provider = MeetechoProvider {
        client: Meetecho::new(&config(&peer, Duration::from_secs(3600))).unwrap(),
    };
    let room = provider.provision(&session()).await.unwrap();
    assert_eq!(room.provider, "meetecho");
    assert_eq!(room.secret_handle.as_deref(), Some("del-3f6a"));
    assert_eq!(
        provider.join_url(
            &room,
            &Joiner {
                name: "Ann".into(),
                user_id: "u1".into(),
                moderator: true,
                until: datetime!(2026-11-23 13:00 UTC),
            }
        ),
        "https://meetings.conf.meetecho.com/interim/?short=3f6a"
    );
    // Meetecho cannot move a room: delete with its token, then create.
    peer.script([
        Answer::json(200, &json!({})),
        Answer::json(200, &rooms_reply()),
    ]);
    provider.reschedule(&room, &session()).await.unwrap();
    let s = session();
    peer.script([ok(), ok(), ok(), ok(), ok()]);
    provider
        .push_slides(
            &s,
            &SlideChange::Delete {
                id: 7,
                remaining: vec![deck(8, 1)],
            },
        )
        .await
        .unwrap();
    provider
        .push_slides(
            &s,
            &SlideChange::Delete {
                id: 8,
                remaining: vec![],
            },
        )
        .await
        .unwrap();
    provider
        .push_slides(&s, &SlideChange::Revise(deck(9, 2)))
        .await
        .unwrap();
    let calls: Vec<String> = peer.received()[2..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.path.trim_start_matches("/api/v1/")))
        .collect();
    assert_eq!(
        calls,
        [
            "POST meeting/interim/deleteRoom",
            "POST meeting/interim/createRoom",
            "DELETE materials",
            "PUT materials",
            "DELETE materials",
            "DELETE materials",
            "POST materials",
        ]
    );
    peer.script([Answer::json(200, &json!({"rooms": {}}))]);
    let err = provider.provision(&session()).await.unwrap_err();
    assert!(
        !err.is_transient() && err.to_string().contains("0 rooms"),
        "{err}"
    );
}

#[tokio::test]
async fn the_debug_provider_calls_nothing_and_records() {
    let debug = DebugProvider::default();
    let room = debug.provision(&session()).await.unwrap();
    debug
        .push_slides(&session(), &SlideChange::Add(deck(3, 1)))
        .await
        .unwrap();
    debug.deprovision(&room).await.unwrap();
    let calls = debug.calls();
    assert_eq!(calls[0]["start_time"], "2026-11-23 09:30:00");
    assert_eq!(calls[0]["duration"], 89);
    assert_eq!(calls[1]["change"]["deck"]["id"], 3);
    assert_eq!(calls[2]["op"], "deprovision");
    assert!(debug.list("ietf").await.is_err());
}

#[tokio::test]
async fn a_private_api_base_is_refused_without_a_request() {
    let peer = Receiver::start().await;
    let guarded = MeetechoConfig {
        policy: TargetPolicy::default(),
        ..config(&peer, Duration::from_secs(60))
    };
    let err = Meetecho::new(&guarded)
        .unwrap()
        .fetch_rooms("ietf")
        .await
        .unwrap_err();
    assert!(
        matches!(err, MeetechoError::Refused(_)) && !err.is_transient(),
        "{err}"
    );
    assert!(peer.received().is_empty());
}
