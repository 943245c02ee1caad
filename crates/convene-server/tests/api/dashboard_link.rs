//! The Event Center side against a real Dashboard: two Convene servers, A linked to a course on
//! B. A's public participant list converges on B; B's refusals surface on A; B going away and
//! coming back loses nothing.

use crate::support::{create_event, usernames};
use convene_server::config::{Config, Secret};
use convene_testkit::{Backend, Gate, Method, Receiver, Reply, TestApp, spawn_app_with};
use serde_json::{Value, json};
use time::Duration;

const SECRET: &str = "dashboard-secret-from-b";

struct Pair {
    a: TestApp,
    b: TestApp,
    /// Alice's token on each side; she organizes the event on A and the course on B.
    alice_a: String,
    alice_b: String,
    event: String,
    course: String,
}

const COURSE: &str = "Wiki_Club/Spring_(2027)";

async fn pair(backend: Backend) -> Option<Pair> {
    let b = spawn_app_with(backend, |c: &mut Config| {
        c.event_center_secret = Some(Secret::new(SECRET));
    })
    .await?;
    let a = spawn_app_with(backend, |c: &mut Config| {
        c.allow_private_targets = true;
        c.delivery.retry_jitter = 0.0;
    })
    .await?;
    let alice_b = b.user_with_token("Alice").await;
    let course = create_event(&b, &alice_b, json!({"slug": COURSE, "title": "Spring"})).await;
    let alice_a = a.user_with_token("Alice").await;
    let event = create_event(
        &a,
        &alice_a,
        json!({"slug": "spring-meetup", "title": "Spring meetup"}),
    )
    .await;
    for name in ["Bob", "Carol", "Dan", "Erin"] {
        a.user_with_token(name).await;
    }
    Some(Pair {
        a,
        b,
        alice_a,
        alice_b,
        event,
        course,
    })
}

impl Pair {
    async fn link(&self, base_url: &str, course: &str, secret: &str) -> Reply {
        self.a
            .call(
                Method::PUT,
                &format!("/api/v1/events/{}/dashboard-link", self.event),
            )
            .token(&self.alice_a)
            .json(&json!({"base_url": base_url, "course_slug": course, "secret": secret}))
            .send()
            .await
    }

    async fn set(&self, name: &str, visibility: Option<&str>) {
        let path = format!("/api/v1/events/{}/participants/{name}", self.event);
        let r = match visibility {
            Some(v) => {
                self.a
                    .admin(Method::PUT, &path)
                    .json(&json!({"visibility": v}))
                    .send()
                    .await
            }
            None => self.a.admin(Method::DELETE, &path).send().await,
        };
        assert!(r.status < 300, "{name}: {}", r.text);
    }

    async fn on_b(&self) -> Vec<String> {
        let r = self
            .b
            .call(
                Method::GET,
                &format!("/api/v1/events/{}/participants", self.course),
            )
            .token(&self.alice_b)
            .send()
            .await;
        usernames(&r.body)
    }

    async fn b_updates(&self) -> usize {
        let r = self
            .b
            .call(
                Method::GET,
                &format!("/api/v1/events/{}/sync-log?limit=500", self.course),
            )
            .token(&self.alice_b)
            .send()
            .await;
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["endpoint"] == "update_event_participants")
            .count()
    }

    async fn link_state(&self) -> Value {
        let r = self
            .a
            .call(
                Method::GET,
                &format!("/api/v1/events/{}/dashboard-link", self.event),
            )
            .token(&self.alice_a)
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(!r.text.contains(SECRET), "the secret is write-only");
        r.body
    }
}

async fn converges(backend: Backend) {
    let Some(p) = pair(backend).await else { return };
    p.set("Bob", Some("public")).await;
    let b_url = format!("{}/", p.b.base_url);
    let r = p.link(&b_url, COURSE, SECRET).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (r.str("state"), r.body["pending_push"].clone()),
        ("pushing".into(), json!(true))
    );
    let course =
        p.b.admin(Method::GET, &format!("/api/v1/events/{}", p.course))
            .send()
            .await;
    assert_eq!(
        course.body["sync"]["event_id"],
        p.event.as_str(),
        "B is linked to A's event"
    );
    p.a.drain().await;
    assert_eq!(
        p.on_b().await,
        ["Bob"],
        "linking pushes the current public list"
    );

    p.set("Carol", Some("private")).await;
    p.set("Dan", Some("public")).await;
    p.a.drain().await;
    assert_eq!(
        p.on_b().await,
        ["Bob", "Dan"],
        "private participants never leave A"
    );
    p.set("Dan", Some("private")).await;
    p.set("Carol", Some("public")).await;
    p.set("Bob", None).await;
    p.set("Erin", Some("public")).await;
    p.a.drain().await;
    assert_eq!(p.on_b().await, ["Carol", "Erin"]);

    // A burst coalesces: ten changes, one push of the final list.
    let before = p.b_updates().await;
    for i in 0..10 {
        p.set("Dan", Some(if i % 2 == 0 { "public" } else { "private" }))
            .await;
    }
    p.a.drain().await;
    assert_eq!(p.b_updates().await, before + 1);
    assert_eq!(p.on_b().await, ["Carol", "Erin"]);
    let state = p.link_state().await;
    assert_eq!(
        (state["state"].as_str(), state["last_push_result"].as_str()),
        (Some("linked"), Some("success"))
    );
    assert_eq!(state["pending_push"], false);
    let log =
        p.a.admin(Method::GET, &format!("/api/v1/events/{}/sync-log", p.event))
            .send()
            .await;
    assert!(
        log.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["direction"] == "outbound")
    );

    // B's participants are the Event Center's: B refuses local edits.
    let r =
        p.b.call(
            Method::DELETE,
            &format!("/api/v1/events/{}/participants/Carol", p.course),
        )
        .token(&p.alice_b)
        .send()
        .await;
    assert_eq!((r.status, r.code()), (409, "participants_managed_by_sync"));

    let r =
        p.a.call(
            Method::DELETE,
            &format!("/api/v1/events/{}/dashboard-link", p.event),
        )
        .token(&p.alice_a)
        .send()
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let course =
        p.b.admin(Method::GET, &format!("/api/v1/events/{}", p.course))
            .send()
            .await;
    assert!(course.body["sync"].is_null(), "unlinking on A unlinks B");
    assert_eq!(
        p.on_b().await,
        ["Carol", "Erin"],
        "B keeps its participants"
    );
    p.set("Dan", Some("public")).await;
    p.a.drain().await;
    assert_eq!(
        p.on_b().await,
        ["Carol", "Erin"],
        "nothing is pushed once unlinked"
    );
    let r =
        p.a.call(
            Method::GET,
            &format!("/api/v1/events/{}/dashboard-link", p.event),
        )
        .token(&p.alice_a)
        .send()
        .await;
    assert_eq!(r.status, 404);
}

async fn refusals_surface(backend: Backend) {
    let Some(p) = pair(backend).await else { return };
    let b_url = p.b.base_url.clone();
    let r = p.link(&b_url, COURSE, "wrong").await;
    assert_eq!((r.status, r.code()), (422, "invalid_secret"), "{}", r.text);
    let r = p.link(&b_url, "No/Such_course", SECRET).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "course_not_found"),
        "{}",
        r.text
    );
    let r =
        p.b.admin(
            Method::PUT,
            &format!("/api/v1/events/{}/participants/Alice", p.course),
        )
        .json(&json!({"visibility": "public"}))
        .send()
        .await;
    assert_eq!(r.status, 201);
    let r = p.link(&b_url, COURSE, SECRET).await;
    assert_eq!((r.status, r.code()), (409, "already_in_use"), "{}", r.text);
    let r =
        p.a.call(
            Method::GET,
            &format!("/api/v1/events/{}/dashboard-link", p.event),
        )
        .token(&p.alice_a)
        .send()
        .await;
    assert_eq!(r.status, 404, "a refused link is not stored");
    let r = p.link("http://127.0.0.1:9/", COURSE, SECRET).await;
    assert_eq!(
        (r.status, r.code()),
        (502, "dashboard_unreachable"),
        "{}",
        r.text
    );
    let r = p.link("ftp://example.org/", COURSE, SECRET).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "validation_failed"),
        "{}",
        r.text
    );
    let r =
        p.a.call(
            Method::PUT,
            &format!("/api/v1/events/{}/dashboard-link", p.event),
        )
        .token(&p.a.user_with_token("Mallory").await)
        .json(&json!({"base_url": b_url, "course_slug": COURSE, "secret": SECRET}))
        .send()
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let log =
        p.a.admin(Method::GET, &format!("/api/v1/events/{}/sync-log", p.event))
            .send()
            .await;
    let outcomes: Vec<&str> = log.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["outcome"].as_str())
        .collect();
    assert_eq!(
        outcomes,
        [
            "connection",
            "already_in_use",
            "course_not_found",
            "invalid_secret"
        ]
    );
}

async fn survives_a_dashboard_outage(backend: Backend) {
    let Some(p) = pair(backend).await else { return };
    let mut gate = Gate::open_to(&p.b.base_url).await;
    let r = p.link(&gate.url, COURSE, SECRET).await;
    assert_eq!(r.status, 201, "{}", r.text);
    p.a.drain().await;
    gate.close().await;
    p.set("Bob", Some("public")).await;
    p.set("Dan", Some("public")).await;
    p.a.drain().await;
    let state = p.link_state().await;
    assert_eq!(state["state"], "pushing");
    assert_eq!(state["push_attempts"], 1);
    assert!(state["last_error"].as_str().is_some(), "{state}");
    assert_eq!(state["last_push_result"], "connection");
    p.set("Dan", Some("private")).await;
    p.set("Erin", Some("public")).await;
    // Still down when the retry is due.
    p.a.clock.advance(Duration::seconds(6));
    p.a.drain().await;
    assert_eq!(p.link_state().await["push_attempts"], 2);
    gate.open().await;
    p.a.drain().await;
    assert!(p.on_b().await.is_empty(), "the retry waits for its time");
    p.a.clock.advance(Duration::minutes(6));
    p.a.drain().await;
    assert_eq!(p.on_b().await, ["Bob", "Erin"], "the final state arrives");
    let state = p.link_state().await;
    assert_eq!(
        (state["state"].as_str(), state["pending_push"].as_bool()),
        (Some("linked"), Some(false))
    );
}

async fn organizers_learn_of_a_refused_push(backend: Backend) {
    let Some(p) = pair(backend).await else { return };
    let ops = Receiver::start().await;
    let r =
        p.a.admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": ops.url, "event_types": ["connector.failed"]}))
            .send()
            .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r =
        p.a.admin(Method::PATCH, "/api/v1/users/Alice")
            .json(&json!({"is_admin": true}))
            .send()
            .await;
    assert!(r.status < 300, "{}", r.text);
    let r = p.link(&p.b.base_url.clone(), COURSE, SECRET).await;
    assert_eq!(r.status, 201, "{}", r.text);
    p.a.drain().await;
    let r =
        p.b.admin(Method::DELETE, &format!("/api/v1/events/{}", p.course))
            .send()
            .await;
    assert_eq!(r.status, 204, "{}", r.text);
    p.set("Bob", Some("public")).await;
    p.a.drain().await;
    assert_eq!(p.link_state().await["state"], "failed");
    let inbox =
        p.a.call(
            Method::GET,
            "/v1/users/Alice/notifications?sort=-received-at",
        )
        .token(&p.alice_a)
        .send()
        .await;
    let titles: Vec<&str> = inbox.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["attributes"]["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"Participants of Spring meetup did not reach the Dashboard"),
        "{}",
        inbox.text
    );
    assert!(
        titles.contains(&"A Dashboard push failed"),
        "admins are told: {}",
        inbox.text
    );
    p.a.drain().await;
    let told: Vec<Value> = ops.received().iter().map(|r| r.json()).collect();
    assert_eq!(told.len(), 1, "{told:?}");
    let data = &told[0];
    assert_eq!(data["event_metadata"]["event_type"], "connector.failed");
    assert_eq!(
        (&data["connector"], &data["kind"], &data["subject"]),
        (
            &json!("dashboard"),
            &json!("dashboard.push"),
            &json!(p.event)
        )
    );
    assert!(
        data["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{data}"
    );
}

convene_testkit::on_both_backends!(
    organizers_learn_of_a_refused_push => organizers_are_told_when_a_push_is_refused,
    converges => a_dashboard_follows_the_public_list,
    refusals_surface => dashboard_refusals_surface_with_their_codes,
    survives_a_dashboard_outage => nothing_is_lost_while_the_dashboard_is_down,
);
