//! Webhooks scoped to events and managed by their organizers: each hears only its events and
//! nothing its owner may not read, before and after the owner loses the role.

use crate::support::{World, create_event, created};
use convene_testkit::{Method, Received, Receiver, TestApp, app_tests};
use serde_json::{Value, json};

async fn hook(app: &TestApp, token: &str, url: String, scope: Value) -> Value {
    let mut body = scope;
    body["url"] = json!(url);
    body["event_types"] = json!(["*"]);
    created(app, token, "/api/v1/webhooks", &body).await.body
}

/// `(event type, participant username or "")` of what reached `?{tag}`, sorted (deliveries to
/// one endpoint may overlap).
fn seen(rx: &Receiver, tag: &str) -> Vec<(String, String)> {
    let mut got: Vec<_> = rx
        .received()
        .iter()
        .filter(|r: &&Received| r.query == tag)
        .map(|r| {
            let body = r.json();
            (
                body["event_metadata"]["event_type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                body["participant"]["username"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    got.sort();
    got
}

async fn register(app: &TestApp, token: &str, event: &str, who: &str, visibility: &str) {
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/events/{event}/participants/{who}"),
        )
        .token(token)
        .json(&json!({"visibility": visibility}))
        .send()
        .await;
    assert!(r.status < 300, "{}", r.text);
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn an_organizers_webhook_hears_only_its_events_until_the_role_is_lost(app: TestApp) {
        let w = World::new(&app).await;
        let rx = Receiver::start().await;
        let other = create_event(&app, &w.root, json!({"slug": "elsewhere", "title": "Elsewhere"})).await;
        app.drain().await;
        let listed = hook(&app, &w.alice, format!("{}?listed", rx.url), json!({"event_ids": [w.event]})).await;
        assert_eq!((listed["event_ids"].clone(), listed["owner_id"].is_string()), (json!([w.event]), true));
        hook(&app, &w.alice, format!("{}?mine", rx.url), json!({"events": "mine"})).await;
        hook(&app, &w.root, format!("{}?channel", rx.url), json!({"channels": ["wikiproject-x"]})).await;
        hook(&app, &w.root, format!("{}?all", rx.url), json!({})).await;
        let before = rx.received().len();

        register(&app, &w.carol, &w.event, "Carol", "private").await;
        register(&app, &w.alice, &w.hidden, "Carol", "private").await;
        register(&app, &w.root, &other, "Carol", "public").await;
        // Scopes are judged when a message is fanned out (moments after its change).
        app.drain().await;
        let r = app.call(Method::PATCH, &format!("/api/v1/events/{}", w.event)).token(&w.alice).json(&json!({"channels": ["wikiproject-x"]})).send().await;
        assert_eq!(r.body["channels"], json!(["wikiproject-x"]), "{}", r.text);
        app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "data": {"x": {}}})).send().await;
        app.admin(Method::POST, "/api/v1/users").json(&json!({"username": "Eve"})).send().await;
        app.drain().await;
        assert!(rx.received().len() > before);
        let carol = |t: &str| (t.to_owned(), "Carol".to_owned());
        let updated = ("event.updated".to_owned(), String::new());
        assert_eq!(seen(&rx, "listed"), [updated.clone(), carol("participant.registered")], "its one event, private participant included: Alice organizes it");
        assert_eq!(seen(&rx, "mine"), [updated.clone(), carol("participant.registered"), carol("participant.registered")], "both of Alice's events, not Root's");
        assert_eq!(seen(&rx, "channel"), [updated], "the event joined the channel with this update");
        let all: Vec<_> = seen(&rx, "all").into_iter().map(|(t, _)| t).collect();
        assert!(all.contains(&"custom.thing".to_owned()) && all.contains(&"user.created".to_owned()), "{all:?}");

        // Root takes Alice's role on the listed event: her list webhook is paused and she is told.
        let r = app.call(Method::DELETE, &format!("/api/v1/events/{}/organizers/Alice", w.event)).token(&w.root).send().await;
        assert_eq!(r.status, 204, "{}", r.text);
        let paused = app.call(Method::GET, &format!("/api/v1/webhooks/{}", listed["id"].as_str().unwrap())).token(&w.alice).send().await;
        assert_eq!(paused.body["enabled"], false);
        assert!(paused.str("disabled_reason").contains("no longer organizes"), "{}", paused.text);
        register(&app, &w.root, &w.event, "Bob", "private").await;
        app.drain().await;
        assert_eq!(seen(&rx, "listed").len(), 2, "a paused webhook hears nothing");
        assert_eq!(seen(&rx, "mine").len(), 3, "\"mine\" follows Alice's events: this one no longer is");
        assert!(seen(&rx, "channel").contains(&("participant.visibility_changed".to_owned(), "Bob".to_owned())), "an admin's channel webhook still hears it");
        let me = app.call(Method::GET, "/api/v1/me").token(&w.alice).send().await;
        let inbox = app.call(Method::GET, &format!("/v1/users/{}/notifications", me.str("id"))).token(&w.alice).send().await;
        let titles: Vec<&str> = inbox.body["data"].as_array().unwrap().iter().filter_map(|n| n["attributes"]["title"].as_str()).collect();
        assert!(titles.iter().any(|t| t.contains("disabled")), "the owner is told: {titles:?}");
        // Turning it on again does not bring the event back: Alice still does not organize it.
        let again = app.call(Method::PATCH, &format!("/api/v1/webhooks/{}", listed["id"].as_str().unwrap())).token(&w.alice).json(&json!({"enabled": true})).send().await;
        assert_eq!(again.status, 403, "{}", again.text);
    }

    async fn organizers_manage_only_their_own_scoped_webhooks(app: TestApp) {
        let w = World::new(&app).await;
        let rx = Receiver::start().await;
        let alices = hook(&app, &w.alice, rx.url.clone(), json!({"event_ids": [w.event], "channels": ["a"]})).await;
        let id = alices["id"].as_str().unwrap();
        let refusals = [
            json!({"url": rx.url, "event_types": ["*"]}),
            json!({"url": rx.url, "event_types": ["*"], "channels": ["a"]}),
            json!({"url": rx.url, "event_types": ["*"], "event_ids": [w.event]}),
        ];
        for body in refusals {
            let r = app.call(Method::POST, "/api/v1/webhooks").token(&w.carol).json(&body).send().await;
            assert_eq!((r.status, r.code()), (403, "forbidden"), "{body}: {}", r.text);
        }
        let carols = hook(&app, &w.carol, rx.url.clone(), json!({"events": "mine"})).await;
        let list = app.call(Method::GET, "/api/v1/webhooks").token(&w.carol).send().await;
        let ids: Vec<&str> = list.body["data"].as_array().unwrap().iter().filter_map(|h| h["id"].as_str()).collect();
        assert_eq!(ids, [carols["id"].as_str().unwrap()], "only her own");
        for (method, path) in [(Method::GET, format!("/api/v1/webhooks/{id}")), (Method::POST, format!("/api/v1/webhooks/{id}/test")),
                               (Method::DELETE, format!("/api/v1/webhooks/{id}")), (Method::GET, format!("/api/v1/webhooks/{id}/deliveries"))] {
            let r = app.call(method.clone(), &path).token(&w.carol).send().await;
            assert_eq!(r.status, 404, "{method} {path}: another's webhook is not revealed");
        }
        let test = app.call(Method::POST, &format!("/api/v1/webhooks/{id}/test")).token(&w.alice).send().await;
        assert_eq!(test.status, 202, "{}", test.text);
        let delivery = test.str("delivery_id");
        assert_eq!(app.call(Method::GET, &format!("/api/v1/deliveries/{delivery}")).token(&w.alice).send().await.status, 200);
        assert_eq!(app.call(Method::GET, &format!("/api/v1/deliveries/{delivery}")).token(&w.carol).send().await.status, 404);
        let r = app.call(Method::PATCH, &format!("/api/v1/webhooks/{id}")).token(&w.alice).json(&json!({"event_ids": null})).send().await;
        assert_eq!(r.status, 403, "an organizer cannot unscope it: {}", r.text);
        let r = app.call(Method::PATCH, &format!("/api/v1/webhooks/{id}")).token(&w.alice).json(&json!({"event_ids": [w.event, w.hidden], "channels": null})).send().await;
        assert_eq!((r.status, r.body["event_ids"].as_array().map(Vec::len)), (200, Some(2)), "{}", r.text);
        assert!(r.body["channels"].is_null());
        let cases = [
            (json!({"event_ids": []}), "event_ids"),
            (json!({"event_ids": ["nope"]}), "event_ids"),
            (json!({"event_ids": ["0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e5f"]}), "event_ids"),
            (json!({"events": "all"}), "events"),
            (json!({"channels": ["Not A Label"]}), "channels"),
        ];
        for (scope, field) in cases {
            let mut body = scope.clone();
            body["url"] = json!(rx.url);
            body["event_types"] = json!(["*"]);
            let r = app.admin(Method::POST, "/api/v1/webhooks").json(&body).send().await;
            assert_eq!((r.status, r.fields()), (422, vec![field.to_owned()]), "{scope}: {}", r.text);
        }
        let r = app.call(Method::POST, "/api/v1/events").token(&w.alice).json(&json!({"slug": "x", "title": "X", "channels": ["Bad Label"]})).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["channels".to_owned()]));
    }
}
