//! Order per subject through the API: an endpoint that asks for it hears one subject's messages
//! one at a time in commit order, even across retries; a coalescing one only the latest state.

use crate::support::created;
use convene_testkit::{Answer, Method, Receiver, TestApp, app_tests};
use serde_json::{Value, json};
use std::time::Duration;

async fn hook(app: &TestApp, url: &str, order: Value) -> Value {
    let mut body = order;
    body["url"] = json!(url);
    body["event_types"] = json!(["event.created", "event.updated", "custom.changed"]);
    created(app, &app.admin_token, "/api/v1/webhooks", &body)
        .await
        .body
}

/// `(type, title or signal step)` of every message that reached `rx` and was answered 2xx, in
/// the order they arrived.
fn arrived(rx: &Receiver) -> Vec<(String, String)> {
    rx.received()
        .iter()
        .filter(|r| r.answered < 300)
        .map(|r| {
            let body = r.json();
            let what = body["event"]["title"]
                .as_str()
                .or(body["step"]["n"].as_str())
                .unwrap_or_default()
                .to_owned();
            let kind = body["event_metadata"]["event_type"]
                .as_str()
                .unwrap_or_default();
            (kind.to_owned(), what)
        })
        .collect()
}

async fn signal(app: &TestApp, subject: &str, n: &str) {
    let r = app
        .admin(Method::POST, "/api/v1/signals")
        .json(&json!({"type": "custom.changed", "subject": subject, "data": {"step": {"n": n}}}))
        .send()
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn an_ordered_endpoint_hears_a_subject_in_commit_order_across_retries(app: TestApp) {
        let (ordered, latest) = (Receiver::start().await, Receiver::start().await);
        // The ordered endpoint fails its first call: what follows about that subject waits.
        ordered.script([Answer::status(503)]);
        let h = hook(&app, &ordered.url, json!({"ordering": "per_subject"})).await;
        assert_eq!((h["ordering"].clone(), h["coalesce"].clone()), (json!("per_subject"), json!(false)));
        let l = hook(&app, &latest.url, json!({"ordering": "per_subject", "coalesce": true})).await;
        assert_eq!(l["coalesce"], json!(true));
        let event = app.admin(Method::POST, "/api/v1/events").json(&json!({"slug": "wikicon", "title": "T0"})).send().await;
        let id = event.str("id");
        for title in ["T1", "T2", "T3"] {
            let r = app.admin(Method::PATCH, &format!("/api/v1/events/{id}")).json(&json!({"title": title})).send().await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
        signal(&app, "thing/1", "1").await;
        app.drain().await;
        let first = arrived(&ordered);
        assert_eq!(first, [("custom.changed".to_owned(), "1".to_owned())], "another subject goes on meanwhile");
        let waiting = app.admin(Method::GET, &format!("/api/v1/webhooks/{}/deliveries?status=pending", h["id"].as_str().unwrap())).send().await;
        let waits: Vec<(Value, Value)> = waiting.body["data"].as_array().unwrap().iter()
            .map(|d| (d["subject"].clone(), d["next_attempt_at"].clone())).collect();
        assert_eq!(waits.len(), 4, "{waits:?}");
        assert!(waits.iter().all(|(s, _)| *s == json!(format!("event/{id}"))));
        assert_eq!(waits.iter().filter(|(_, at)| at.is_null()).count(), 3, "three wait behind the retry");

        app.clock.advance(time::Duration::hours(2));
        app.drain().await;
        let titles: Vec<String> = arrived(&ordered).into_iter().skip(1).map(|(_, t)| t).collect();
        assert_eq!(titles, ["T0", "T1", "T2", "T3"], "in commit order, the failed one first");
        // The coalescing endpoint took only the latest state of the event.
        let latest_got = arrived(&latest);
        assert!(latest_got.contains(&("event.updated".to_owned(), "T3".to_owned())), "{latest_got:?}");
        assert_eq!(latest_got.iter().filter(|(t, _)| t.starts_with("event.")).count(), 1, "{latest_got:?}");
        let superseded = app.admin(Method::GET, &format!("/api/v1/webhooks/{}/deliveries?status=superseded", l["id"].as_str().unwrap())).send().await;
        assert_eq!(superseded.body["data"].as_array().unwrap().len(), 3, "{}", superseded.text);
    }

    async fn order_holds_under_concurrent_changes_and_a_slow_failing_receiver(app: TestApp) {
        let rx = Receiver::start().await;
        // Slow, and every fifth call fails: an unordered endpoint would hear the retried
        // messages after newer ones.
        let slow = Answer { delay: Some(Duration::from_millis(20)), ..Answer::status(200) };
        rx.script((0..300).map(|n| if n % 5 == 2 { Answer::status(503) } else { slow.clone() }));
        let h = hook(&app, &rx.url, json!({"ordering": "per_subject"})).await;
        assert_eq!(h["ordering"], "per_subject");
        let mut events = Vec::new();
        for n in 0..3 {
            let e = app.admin(Method::POST, "/api/v1/events").json(&json!({"slug": format!("e{n}"), "title": "T"})).send().await;
            events.push(e.str("id"));
        }
        // Ten changes per event, all at once, while three round loops deliver.
        let changes = futures_util::future::join_all(events.iter().flat_map(|id| (0..10).map(move |k| (id.clone(), k))).map(|(id, k)| {
            let app = &app;
            async move {
                let r = app.admin(Method::PATCH, &format!("/api/v1/events/{id}")).json(&json!({"title": format!("T{k}")})).send().await;
                assert_eq!(r.status, 200, "{}", r.text);
            }
        }));
        let rounds = futures_util::future::join_all((0..3).map(|_| async {
            for _ in 0..20 {
                app.round().await;
            }
        }));
        tokio::join!(changes, rounds);
        for _ in 0..10 {
            app.drain().await;
            app.clock.advance(time::Duration::hours(2));
        }
        // What each endpoint heard about an event, in arrival order, against the outbox's
        // commit order of the same messages.
        let outbox = app.store().outbox_after(0, 1000).await.unwrap();
        for id in &events {
            let committed: Vec<String> = outbox.iter()
                .filter(|m| m.data["event"]["id"] == json!(id))
                .map(|m| m.id.clone())
                .collect();
            let heard: Vec<String> = rx.received().iter()
                .filter(|r| r.answered < 300 && r.json()["event"]["id"] == json!(id))
                .map(|r| r.header("webhook-id").to_owned())
                .collect();
            assert_eq!(committed.len(), 11, "created and ten updates");
            assert_eq!(heard, committed, "event {id} heard in commit order, each once");
        }
    }

    async fn ordering_is_checked_and_can_be_turned_off(app: TestApp) {
        let rx = Receiver::start().await;
        let bad = app.admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": rx.url, "event_types": ["*"], "coalesce": true})).send().await;
        assert_eq!((bad.status, bad.fields()), (422, vec!["coalesce".to_owned()]), "{}", bad.text);
        let bad = app.admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": rx.url, "event_types": ["*"], "ordering": "fifo"})).send().await;
        assert_eq!((bad.status, bad.fields()), (422, vec!["ordering".to_owned()]), "{}", bad.text);
        let plain = hook(&app, &rx.url, json!({})).await;
        assert_eq!((plain["ordering"].clone(), plain["coalesce"].clone()), (json!("none"), json!(false)));
        let h = hook(&app, &rx.url, json!({"ordering": "per_subject", "coalesce": true})).await;
        let path = format!("/api/v1/webhooks/{}", h["id"].as_str().unwrap());
        let off = app.admin(Method::PATCH, &path).json(&json!({"ordering": "none"})).send().await;
        assert_eq!((off.body["ordering"].clone(), off.body["coalesce"].clone()), (json!("none"), json!(false)), "{}", off.text);
        let bad = app.admin(Method::POST, "/api/v1/signals")
            .json(&json!({"type": "custom.changed", "subject": "has space", "data": {}})).send().await;
        assert_eq!((bad.status, bad.fields()), (422, vec!["subject".to_owned()]), "{}", bad.text);
    }
}
