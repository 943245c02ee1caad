//! A small world most scenarios start from.

use convene_testkit::{Backend, Method, Reply, TestApp, spawn_app_with};
use serde_json::{Value, json};

/// Alice organizes `event` (public) and `hidden` (private); Bob is a public participant of
/// both; Carol has no standing; Root is an admin user.
pub struct World {
    pub alice: String,
    pub bob: String,
    pub carol: String,
    pub root: String,
    pub event: String,
    pub hidden: String,
}

impl World {
    pub async fn new(app: &TestApp) -> Self {
        let alice = app.user_with_token("Alice").await;
        let bob = app.user_with_token("Bob").await;
        let carol = app.user_with_token("Carol").await;
        let created = app
            .admin(Method::POST, "/api/v1/users")
            .json(&json!({"username": "Root", "is_admin": true}))
            .send()
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let root = app.token_for("Root").await;
        let event = create_event(
            app,
            &alice,
            json!({"slug": "Open/Day_(2026)", "title": "Open day"}),
        )
        .await;
        let hidden = create_event(
            app,
            &alice,
            json!({"slug": "board-retreat", "title": "Board retreat", "private": true}),
        )
        .await;
        for id in [&event, &hidden] {
            let r = app
                .call(
                    Method::PUT,
                    &format!("/api/v1/events/{id}/participants/Bob"),
                )
                .token(&alice)
                .json(&json!({"visibility": "public"}))
                .send()
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
        Self {
            alice,
            bob,
            carol,
            root,
            event,
            hidden,
        }
    }
}

pub async fn create_event(app: &TestApp, token: &str, body: Value) -> String {
    created(app, token, "/api/v1/events", &body).await.str("id")
}

/// POSTs `body` to `path` as `token`, expecting 201; the answer.
pub async fn created(app: &TestApp, token: &str, path: &str, body: &Value) -> Reply {
    let r = app
        .call(Method::POST, path)
        .token(token)
        .json(body)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r
}

/// The usernames in a list answer, in order.
pub fn usernames(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["username"].as_str().expect("username").to_owned())
        .collect()
}

/// A server that sends its mail to `smtp_url` (a local SMTP sink, so loopback is allowed).
pub async fn app_with_smtp(backend: Backend, smtp_url: &str) -> Option<TestApp> {
    let url = smtp_url.to_owned();
    spawn_app_with(backend, move |c| {
        c.smtp_url = Some(convene_server::config::Secret::new(url));
        c.allow_private_targets = true;
    })
    .await
}

/// A user with the address `{name in lower case}@example.org` and `locale`; their token.
pub async fn user_with_mail(app: &TestApp, name: &str, locale: Option<&str>) -> String {
    let email = format!("{}@example.org", name.to_lowercase());
    let r = app
        .admin(Method::POST, "/api/v1/users")
        .json(&json!({"username": name, "email": email, "locale": locale}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    app.token_for(name).await
}

/// `name` registers publicly for `event`, as `token` (their own, or an organizer's).
pub async fn register(app: &TestApp, event: &str, token: &str, name: &str) {
    let path = format!("/api/v1/events/{event}/participants/{name}");
    let r = app
        .call(Method::PUT, &path)
        .token(token)
        .json(&json!({"visibility": "public"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}
