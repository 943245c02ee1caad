//! Tokens limited to scopes and events: refused with 403 `insufficient_scope` outside them, and
//! never more than their user could do.

use crate::support::{World, create_event, created};
use convene_testkit::{Method, Reply, TestApp, app_tests};
use serde_json::{Value, json};

/// A token of `username` limited as `limits` says, made with the token `by`; its answer.
async fn limited(app: &TestApp, by: &str, username: &str, limits: Value) -> Reply {
    let mut body = limits;
    body["username"] = json!(username);
    created(app, by, "/api/v1/tokens", &body).await
}

fn refused(r: &Reply) -> bool {
    r.status == 403 && r.code() == "insufficient_scope"
}

app_tests! {
    async fn a_scoped_token_reaches_only_its_scopes(app: TestApp) {
        let w = World::new(&app).await;
        let made = limited(&app, &w.alice, "Alice", json!({"scopes": ["events:read"]})).await;
        assert_eq!(made.body["scopes"], json!(["events:read"]));
        assert!(made.body["event_ids"].is_null());
        let read_only = made.str("token");
        let event = format!("/api/v1/events/{}", w.event);
        assert_eq!(app.call(Method::GET, &event).token(&read_only).send().await.status, 200);
        assert_eq!(app.call(Method::GET, "/api/v1/events").token(&read_only).send().await.status, 200);
        assert_eq!(app.call(Method::GET, "/api/v1/me").token(&read_only).send().await.status, 200);
        let calls = [
            (Method::PATCH, event.clone(), json!({"title": "Renamed"})),
            (Method::PUT, format!("{event}/participants/Carol"), json!({"visibility": "public"})),
            (Method::POST, "/api/v1/tokens".to_owned(), json!({})),
            (Method::PUT, "/api/v1/me/notification-preferences".to_owned(), json!({})),
        ];
        for (method, path, body) in calls {
            let r = app.call(method.clone(), &path).token(&read_only).json(&body).send().await;
            assert!(refused(&r), "{method} {path}: {} {}", r.status, r.text);
        }
        let r = app.call(Method::GET, "/v1/notifications").token(&read_only).send().await;
        assert_eq!(r.status, 403, "the JSON:API inbox needs notifications:write: {}", r.text);
        assert_eq!(r.body["errors"][0]["code"], "insufficient_scope");
        let title = app.call(Method::GET, &event).token(&w.alice).send().await;
        assert_eq!(title.str("title"), "Open day", "nothing was changed");
        // The same user with the write scope may, as the user may.
        let writer = limited(&app, &w.alice, "Alice", json!({"scopes": ["events:write", "participants:write"]})).await.str("token");
        let r = app.call(Method::PATCH, &event).token(&writer).json(&json!({"title": "Renamed"})).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.call(Method::PUT, &format!("{event}/participants/Carol")).token(&writer).json(&json!({"visibility": "public"})).send().await;
        assert!(r.status < 300, "{}", r.text);
        assert!(refused(&app.call(Method::GET, &event).token(&writer).send().await), "writing is not reading");
    }

    async fn a_token_never_does_more_than_its_user(app: TestApp) {
        let w = World::new(&app).await;
        let everything = limited(&app, &w.carol, "Carol", json!({"scopes": ["admin"]})).await.str("token");
        let r = app.call(Method::GET, "/api/v1/users").token(&everything).send().await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "admin scope is no admin role");
        let r = app.call(Method::PATCH, &format!("/api/v1/events/{}", w.event)).token(&everything).json(&json!({"title": "x"})).send().await;
        assert_eq!(r.status, 403, "Carol organizes nothing: {}", r.text);
        let r = app.call(Method::GET, &format!("/api/v1/events/{}", w.hidden)).token(&everything).send().await;
        assert_eq!(r.status, 404, "a private event stays hidden");
        // An admin's scoped token: webhooks may be read, not written; signals not at all.
        let reader = limited(&app, &w.root, "Root", json!({"scopes": ["webhooks:read"]})).await.str("token");
        assert_eq!(app.call(Method::GET, "/api/v1/webhooks").token(&reader).send().await.status, 200);
        let r = app.call(Method::POST, "/api/v1/webhooks").token(&reader).json(&json!({"url": "https://x.example/", "event_types": ["*"]})).send().await;
        assert!(refused(&r), "{}", r.text);
        let r = app.call(Method::POST, "/api/v1/signals").token(&reader).json(&json!({"type": "a.b", "data": {}})).send().await;
        assert!(refused(&r), "{}", r.text);
        let signals = limited(&app, &w.root, "Root", json!({"scopes": ["signals:write"]})).await.str("token");
        let r = app.call(Method::POST, "/api/v1/signals").token(&signals).json(&json!({"type": "a.b", "data": {}})).send().await;
        assert_eq!(r.status, 202, "{}", r.text);
        let r = app.call(Method::POST, "/api/v1/users").token(&signals).json(&json!({"username": "Eve"})).send().await;
        assert!(refused(&r), "a limited admin token makes no users: {}", r.text);
    }

    async fn an_event_limited_token_reaches_only_its_events(app: TestApp) {
        let w = World::new(&app).await;
        let other = create_event(&app, &w.alice, json!({"slug": "other", "title": "Other"})).await;
        let made = limited(&app, &w.alice, "Alice", json!({"event_ids": [w.event]})).await;
        assert_eq!(made.body["event_ids"], json!([w.event]));
        let token = made.str("token");
        let r = app.call(Method::PATCH, &format!("/api/v1/events/{}", w.event)).token(&token).json(&json!({"title": "Mine"})).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.call(Method::POST, &format!("/api/v1/events/{}/sessions", w.event)).token(&token)
            .json(&json!({"title": "Opening", "group": "wiki", "starts_at": "2030-01-01T10:00:00Z", "duration_minutes": 30})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let session = r.str("id");
        assert_eq!(app.call(Method::GET, &format!("/api/v1/sessions/{session}")).token(&token).send().await.status, 200);
        let r = app.call(Method::POST, &format!("/api/v1/events/{other}/sessions", )).token(&w.alice)
            .json(&json!({"title": "Elsewhere", "group": "wiki", "starts_at": "2030-01-01T10:00:00Z", "duration_minutes": 30})).send().await;
        let elsewhere = r.str("id");
        for path in [format!("/api/v1/events/{other}"), format!("/api/v1/events/{}", w.hidden), format!("/api/v1/sessions/{elsewhere}"), "/api/v1/events".to_owned(), "/api/v1/webhooks".to_owned(), "/api/v1/tokens".to_owned()] {
            let r = app.call(Method::GET, &path).token(&token).send().await;
            assert!(refused(&r), "{path}: {} {}", r.status, r.text);
        }
        let r = app.call(Method::GET, "/api/v1/events/0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e5f").token(&token).send().await;
        assert!(refused(&r), "an id not listed is refused whether or not it exists, so none is revealed");
    }

    async fn limits_are_checked_when_a_token_is_made(app: TestApp) {
        let w = World::new(&app).await;
        let cases = [
            (json!({"scopes": ["events:delete"]}), "scopes"),
            (json!({"scopes": []}), "scopes"),
            (json!({"scopes": "events:read"}), "scopes"),
            (json!({"event_ids": []}), "event_ids"),
            (json!({"event_ids": ["0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e5f"]}), "event_ids"),
            (json!({"event_ids": ["not an id"]}), "event_ids"),
        ];
        for (body, field) in cases {
            let r = app.call(Method::POST, "/api/v1/tokens").token(&w.alice).json(&body).send().await;
            assert_eq!(r.status, 422, "{body}: {}", r.text);
            assert_eq!(r.fields(), [field], "{body}");
        }
        let plain = app.call(Method::POST, "/api/v1/tokens").token(&w.alice).json(&json!({})).send().await;
        assert!(plain.body["scopes"].is_null() && plain.body["event_ids"].is_null(), "{}", plain.text);
    }
}
