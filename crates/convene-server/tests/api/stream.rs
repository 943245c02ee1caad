//! The live stream (SSE) of a user's new notifications, on one node and across two.

use convene_testkit::{Method, TestApp, app_tests, http_client};
use serde_json::{Value, json};
use std::time::Duration;

/// An open `text/event-stream` response, read event by event.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Self {
        let mut request = http_client()
            .get(app.url("/api/v1/me/notifications/stream"))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("the stream opens");
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event's name and data, skipping keep-alive comments.
    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if !name.is_empty() {
                    return (name, serde_json::from_str(&data).unwrap_or(Value::Null));
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("an event within 10 s")
                .expect("the stream stays open")
                .expect("the stream is not over");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn send(app: &TestApp, title: &str) -> String {
    let r = app
        .admin(Method::POST, "/api/v1/notifications")
        .json(&json!({"usernames": ["Dana"], "title": title, "message": "<p>live</p>"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["ids"][0].as_str().unwrap().to_owned()
}

app_tests! {
    async fn new_notifications_reach_the_owners_stream(app: TestApp) {
        let dana = app.user_with_token("Dana").await;
        let _eve = app.user_with_token("Eve").await;
        let first = send(&app, "Before").await;
        let mut stream = Stream::open(&app, &dana, None).await;
        let (name, ready) = stream.next().await;
        assert_eq!((name.as_str(), ready["unread_count"].clone()), ("ready", json!(1)));
        let r = app.admin(Method::POST, "/api/v1/notifications")
            .json(&json!({"usernames": ["Eve"], "title": "Not Dana's", "message": "x"})).send().await;
        assert_eq!(r.status, 201);
        let id = send(&app, "Live one").await;
        let (name, n) = stream.next().await;
        assert_eq!(name, "notification");
        assert_eq!((n["id"].as_str(), n["attributes"]["title"].as_str()), (Some(id.as_str()), Some("Live one")), "only Dana's: {n}");

        // A reconnect names the last event it saw and gets what it missed.
        let mut again = Stream::open(&app, &dana, Some(&first)).await;
        assert_eq!(again.next().await.0, "ready");
        let (_, missed) = again.next().await;
        assert_eq!(missed["id"].as_str(), Some(id.as_str()));

        assert_eq!(app.admin(Method::GET, "/api/v1/me/notifications/stream").send().await.status, 403);

        // Another node (PostgreSQL only: SQLite runs one process) writes; this one streams.
        if app.config.database_url.starts_with("postgres") {
            let other = app.another_node().await;
            let r = other.admin(Method::POST, "/api/v1/notifications")
                .json(&json!({"usernames": ["Dana"], "title": "From node B", "message": "x"})).send().await;
            assert_eq!(r.status, 201);
            let (_, n) = stream.next().await;
            assert_eq!(n["attributes"]["title"], "From node B");
        }
    }
}
