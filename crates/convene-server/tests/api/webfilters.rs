//! Webfilters end to end against a real receiver: halts, rewrites, merge order, failure flags.

use crate::support::World;
use convene_testkit::{Answer, Method, Receiver, TestApp, app_tests};
use serde_json::{Value, json};

fn reply(body: Value) -> Answer {
    Answer::json(200, &body)
}

async fn filter(app: &TestApp, body: Value) -> Value {
    let r = app
        .admin(Method::POST, "/api/v1/webfilters")
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn put_carol(app: &TestApp, w: &World, visibility: &str) -> convene_testkit::Reply {
    app.call(
        Method::PUT,
        &format!("/api/v1/events/{}/participants/Carol", w.event),
    )
    .token(&w.carol)
    .json(&json!({"visibility": visibility}))
    .send()
    .await
}

async fn participants(app: &TestApp, w: &World) -> Value {
    app.admin(
        Method::GET,
        &format!("/api/v1/events/{}/participants", w.event),
    )
    .send()
    .await
    .body
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn an_exception_halts_the_registration_and_nothing_is_written(app: TestApp) {
        let w = World::new(&app).await;
        let rx = Receiver::start().await;
        let f = filter(&app, json!({"filter_type": "participant.registration.requested", "url": rx.url})).await;
        rx.script([reply(json!({"exception": {"PreventRegistration": "Registrations are closed"}, "data": {"visibility": "private"}}))]);
        let r = put_carol(&app, &w, "public").await;
        assert_eq!((r.status, r.code()), (403, "halted_by_filter"));
        assert_eq!(r.body["error"]["detail"], "Registrations are closed");
        assert!(!participants(&app, &w).await.to_string().contains("Carol"));
        let sent = rx.received()[0].json();
        assert_eq!(sent["username"], "Carol");
        assert_eq!(sent["visibility"], "public");
        assert_eq!(sent["event"]["slug"], "Open/Day_(2026)");
        assert_eq!(sent["event_metadata"]["event_type"], "participant.registration.requested");
        let calls = app.admin(Method::GET, &format!("/api/v1/webfilters/{}/calls", f["id"].as_str().unwrap())).send().await;
        assert_eq!(calls.body["data"][0]["status_code"], 200);
        assert!(calls.body["data"][0]["response_body"].as_str().unwrap().contains("closed"));
    }

    async fn replies_rewrite_only_writable_keys_and_the_last_filter_wins(app: TestApp) {
        let w = World::new(&app).await;
        let rx = Receiver::start().await;
        filter(&app, json!({"filter_type": "participant.registration.requested", "url": format!("{}?first", rx.url)})).await;
        filter(&app, json!({"filter_type": "participant.registration.requested", "url": format!("{}?second", rx.url)})).await;
        rx.script([
            reply(json!({"data": {"visibility": "public", "username": "Mallory"}})),
            reply(json!({"data": {"visibility": "private"}})),
        ]);
        let r = put_carol(&app, &w, "public").await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!((r.str("username"), r.str("visibility")), ("Carol".into(), "private".into()));
        let got = rx.received();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].json()["visibility"], got[1].json()["visibility"], "every filter sees the same input");
        assert!(got[0].path.ends_with("/hook") && got[0].json()["event_metadata"]["time"].is_string());
        rx.script([reply(json!({"data": {"visibility": "secret"}})), reply(json!({}))]);
        let r = put_carol(&app, &w, "public").await;
        assert_eq!((r.status, r.fields()), (422, vec!["visibility".to_owned()]), "a rewrite is validated like input");
    }

    async fn failure_flags_decide_between_halting_and_going_on(app: TestApp) {
        let w = World::new(&app).await;
        let rx = Receiver::start().await;
        let f = filter(&app, json!({"filter_type": "participant.registration.requested", "url": rx.url,
            "halt_on_5xx": true, "redirect_on_5xx": "https://example.org/try-later"})).await;
        rx.script([Answer::status(503)]);
        let r = put_carol(&app, &w, "public").await;
        assert_eq!((r.status, r.code()), (403, "halted_by_filter"));
        assert_eq!(r.body["error"]["redirect_to"], "https://example.org/try-later");
        assert!(r.body["error"]["detail"].as_str().unwrap().contains("503"));
        let id = f["id"].as_str().unwrap();
        app.admin(Method::PATCH, &format!("/api/v1/webfilters/{id}")).json(&json!({"halt_on_5xx": false})).send().await;
        rx.script([Answer::status(500), Answer::status(404)]);
        assert_eq!(put_carol(&app, &w, "public").await.status, 201, "a 5xx without halt_on_5xx goes on");
        let r = app.call(Method::DELETE, &format!("/api/v1/events/{}/participants/Carol", w.event)).token(&w.carol).send().await;
        assert_eq!(r.status, 204, "no cancellation filter: nothing to ask");
        // A filter nobody answers: go on, unless halt_on_request_exception.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = format!("http://{}/gone", closed.local_addr().unwrap());
        drop(closed);
        app.admin(Method::PATCH, &format!("/api/v1/webfilters/{id}")).json(&json!({"url": dead})).send().await;
        assert_eq!(put_carol(&app, &w, "public").await.status, 201);
        app.call(Method::DELETE, &format!("/api/v1/events/{}/participants/Carol", w.event)).token(&w.carol).send().await;
        app.admin(Method::PATCH, &format!("/api/v1/webfilters/{id}")).json(&json!({"halt_on_request_exception": true})).send().await;
        let r = put_carol(&app, &w, "public").await;
        assert_eq!((r.status, r.code()), (403, "halted_by_filter"));
        let calls = app.admin(Method::GET, &format!("/api/v1/webfilters/{id}/calls")).send().await;
        assert_eq!(calls.body["data"][0]["error_class"], "connection", "{}", calls.text);
    }

    async fn disable_flags_ignore_parts_of_the_reply(app: TestApp) {
        let w = World::new(&app).await;
        let rx = Receiver::start().await;
        filter(&app, json!({"filter_type": "participant.registration.requested", "url": rx.url,
            "disable_halt": true, "disable_filtering": true})).await;
        rx.script([reply(json!({"exception": {"PreventRegistration": "no"}, "data": {"visibility": "private"}}))]);
        let r = put_carol(&app, &w, "public").await;
        assert_eq!((r.status, r.str("visibility")), (201, "public".to_owned()));
    }

    async fn event_creation_and_update_filters_rewrite_and_halt(app: TestApp) {
        let w = World::new(&app).await;
        let rx = Receiver::start().await;
        filter(&app, json!({"filter_type": "event.creation.requested", "url": rx.url})).await;
        rx.script([reply(json!({"data": {"title": "Renamed by policy", "slug": "not-writable"}}))]);
        let r = app.call(Method::POST, "/api/v1/events").token(&w.alice).json(&json!({"slug": "filtered", "title": "Mine"})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!((r.str("slug"), r.str("title")), ("filtered".into(), "Renamed by policy".into()));
        assert_eq!(rx.received()[0].json()["title"], "Mine");
        rx.script([reply(json!({"data": {"title": ""}}))]);
        let r = app.call(Method::POST, "/api/v1/events").token(&w.alice).json(&json!({"slug": "filtered-2", "title": "Mine"})).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["title".to_owned()]));
        filter(&app, json!({"filter_type": "event.update.requested", "url": rx.url})).await;
        rx.script([reply(json!({"data": {"changes": {"title": "Policy title"}}}))]);
        let r = app.call(Method::PATCH, &format!("/api/v1/events/{}", w.event)).token(&w.alice).json(&json!({"title": "Asked"})).send().await;
        assert_eq!(r.str("title"), "Policy title", "{}", r.text);
        let sent = rx.received().last().unwrap().json();
        assert_eq!((sent["changes"]["title"].clone(), sent["event"]["title"].clone()), (json!("Asked"), json!("Open day")));
        rx.script([reply(json!({"exception": {"PreventEventUpdate": {"message": "Frozen", "redirect_to": "https://example.org/frozen"}}}))]);
        let r = app.call(Method::PATCH, &format!("/api/v1/events/{}", w.event)).token(&w.alice).json(&json!({"title": "Again"})).send().await;
        assert_eq!((r.status, r.body["error"]["detail"].clone()), (403, json!("Frozen")));
        assert_eq!(r.body["error"]["redirect_to"], "https://example.org/frozen");
        let r = app.call(Method::GET, &format!("/api/v1/events/{}", w.event)).token(&w.alice).send().await;
        assert_eq!(r.str("title"), "Policy title", "a halted update writes nothing");
    }

    async fn cancellations_can_be_prevented(app: TestApp) {
        let w = World::new(&app).await;
        let rx = Receiver::start().await;
        filter(&app, json!({"filter_type": "participant.cancellation.requested", "url": rx.url})).await;
        rx.script([reply(json!({"exception": {"PreventCancellation": "Ask an organizer"}}))]);
        let r = app.call(Method::DELETE, &format!("/api/v1/events/{}/participants/Bob", w.event)).token(&w.bob).send().await;
        assert_eq!((r.status, r.code()), (403, "halted_by_filter"));
        assert!(participants(&app, &w).await.to_string().contains("Bob"));
    }
}

app_tests! {
    async fn webfilter_routes_check_their_input(app: TestApp) {
        let bob = app.user_with_token("Bob").await;
        let ok = json!({"filter_type": "participant.registration.requested", "url": "https://f.example/"});
        let r = app.call(Method::POST, "/api/v1/webfilters").token(&bob).json(&ok).send().await;
        assert_eq!(r.status, 403);
        let cases = [
            (json!({"url": "https://f.example/"}), "filter_type"),
            (json!({"filter_type": "participant.registered", "url": "https://f.example/"}), "filter_type"),
            (json!({"filter_type": "event.creation.requested"}), "url"),
            (json!({"filter_type": "event.creation.requested", "url": "f.example"}), "url"),
            (json!({"filter_type": "event.creation.requested", "url": "https://f.example/", "timeout_ms": 0}), "timeout_ms"),
            (json!({"filter_type": "event.creation.requested", "url": "https://f.example/", "redirect_on_4xx": "nope"}), "redirect_on_4xx"),
            (json!({"filter_type": "event.creation.requested", "url": "https://f.example/", "encoding": "xml"}), "encoding"),
        ];
        for (body, field) in cases {
            let r = app.admin(Method::POST, "/api/v1/webfilters").json(&body).send().await;
            assert_eq!((r.status, r.code()), (422, "validation_failed"), "{body}: {}", r.text);
            assert_eq!(r.fields(), [field], "{body}");
        }
        let f = filter(&app, ok).await;
        assert_eq!((f["timeout_ms"].clone(), f["enabled"].clone(), f["encoding"].clone()), (json!(2000), json!(true), json!("json")));
        let id = f["id"].as_str().unwrap();
        let r = app.admin(Method::PATCH, &format!("/api/v1/webfilters/{id}")).json(&json!({"filter_type": "event.update.requested"})).send().await;
        assert_eq!(r.fields(), ["filter_type"]);
        let r = app.admin(Method::GET, "/api/v1/webfilters").send().await;
        assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
        assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/webfilters/{id}")).send().await.status, 204);
        assert_eq!(app.admin(Method::GET, &format!("/api/v1/webfilters/{id}")).send().await.status, 404);
    }
}
