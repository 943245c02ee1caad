//! Webhooks end to end: a real receiver on loopback, the worker drained with `run_once()`, time
//! moved with the manual clock.

use crate::support::World;
use convene_core::Clock;
use convene_delivery::signing::{WebhookSecret, verifies_v1a};
use convene_testkit::{Answer, Method, Received, Receiver, TestApp, app_tests};
use serde_json::{Value, json};
use time::Duration;

async fn hook(app: &TestApp, url: &str, body: Value) -> Value {
    let mut body = body;
    body["url"] = Value::from(url);
    let r = app
        .admin(Method::POST, "/api/v1/webhooks")
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// Checks the Standard Webhooks headers of a request against the secrets.
fn verifies(req: &Received, secret: &str) -> bool {
    let secret = WebhookSecret::parse(secret).unwrap();
    let ts: i64 = req.header("webhook-timestamp").parse().unwrap();
    req.header("webhook-signature")
        .split(' ')
        .any(|sig| secret.verifies(req.header("webhook-id"), ts, &req.body, sig))
}

/// Whether one of the request's `v1a` signatures is `public_key`'s.
fn verifies_ed25519(req: &Received, public_key: &str) -> bool {
    let ts: i64 = req.header("webhook-timestamp").parse().unwrap();
    req.header("webhook-signature")
        .split(' ')
        .any(|sig| verifies_v1a(public_key, req.header("webhook-id"), ts, &req.body, sig))
}

async fn register(app: &TestApp, w: &World, who: &str) {
    let r = app
        .admin(
            Method::PUT,
            &format!("/api/v1/events/{}/participants/{who}", w.event),
        )
        .json(&json!({"visibility": "public"}))
        .send()
        .await;
    assert!(r.status < 300, "{}", r.text);
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn a_registration_reaches_json_and_form_webhooks_signed(app: TestApp) {
        let rx = Receiver::start().await;
        let json_hook = hook(&app, &rx.url, json!({"event_types": ["participant.registered"], "headers": {"X-Team": "wiki"}})).await;
        let form_hook = hook(&app, &format!("{}?form", rx.url), json!({"event_types": ["participant.registered"], "encoding": "form"})).await;
        assert!(json_hook["secret"].as_str().unwrap().starts_with("whsec_"));
        let w = World::new(&app).await;
        app.drain().await;
        register(&app, &w, "Carol").await;
        app.drain().await;
        let got = rx.received();
        assert_eq!(got.len(), 6, "Bob's two registrations in World and Carol's, to each hook");
        let carol: Vec<_> = got.iter().filter(|r| String::from_utf8_lossy(&r.body).contains("Carol")).collect();
        let as_json = carol.iter().find(|r| r.header("content-type") == "application/json").unwrap();
        let body = as_json.json();
        assert_eq!(body["participant"]["username"], "Carol");
        assert_eq!(body["participant"]["event"]["slug"], "Open/Day_(2026)");
        assert_eq!(body["event_metadata"]["event_type"], "participant.registered");
        assert_eq!(body["event_metadata"]["source"], "convene");
        assert_eq!(as_json.header("x-team"), "wiki");
        assert_eq!(as_json.header("webhook-timestamp"), app.clock.now().unix_timestamp().to_string());
        assert!(verifies(as_json, json_hook["secret"].as_str().unwrap()));
        assert!(!verifies(as_json, form_hook["secret"].as_str().unwrap()));
        let as_form = carol.iter().find(|r| r.header("content-type") == "application/x-www-form-urlencoded").unwrap();
        let text = String::from_utf8(as_form.body.to_vec()).unwrap();
        assert!(text.contains("participant_username=Carol") && text.contains("event_metadata_event_type=participant.registered"), "{text}");
        assert!(verifies(as_form, form_hook["secret"].as_str().unwrap()), "the form bytes are what is signed");
    }

    async fn failures_retry_on_schedule_with_one_webhook_id(app: TestApp) {
        let rx = Receiver::start().await;
        rx.script([Answer::status(500), Answer { status: 429, headers: vec![("retry-after", "600".into())], body: "slow down".into(), delay: None }]);
        let h = hook(&app, &rx.url, json!({"event_types": ["custom.thing"]})).await;
        let r = app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "id": "t-1", "data": {"thing": {"n": 1}}})).send().await;
        assert_eq!((r.status, r.str("id")), (202, "t-1".to_owned()));
        app.drain().await;
        assert_eq!(rx.received().len(), 1);
        app.clock.advance(Duration::seconds(3));
        app.drain().await;
        assert_eq!(rx.received().len(), 1, "not due before 5 s less 20 %");
        app.clock.advance(Duration::seconds(4));
        app.drain().await;
        assert_eq!(rx.received().len(), 2, "due by 5 s plus 20 %");
        // 429 with Retry-After: 600 s, longer than the doubled 5 min ±20 %.
        app.clock.advance(Duration::seconds(599));
        app.drain().await;
        assert_eq!(rx.received().len(), 2, "Retry-After is honoured");
        app.clock.advance(Duration::seconds(130));
        app.drain().await;
        let got = rx.received();
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|r| r.header("webhook-id") == "t-1"), "the id is stable across retries");
        let list = app.admin(Method::GET, &format!("/api/v1/webhooks/{}/deliveries", h["id"].as_str().unwrap())).send().await;
        assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
        assert_eq!(list.body["data"][0]["status"], "delivered");
        let id = list.body["data"][0]["id"].as_str().unwrap().to_owned();
        let detail = app.admin(Method::GET, &format!("/api/v1/deliveries/{id}")).send().await;
        let attempts = detail.body["attempts"].as_array().unwrap();
        let codes: Vec<_> = attempts.iter().map(|a| a["status_code"].clone()).collect();
        assert_eq!(codes, [json!(500), json!(429), json!(200)]);
        assert_eq!(attempts[1]["error_class"], "throttled");
        assert_eq!(attempts[1]["response_body"], "slow down");
        assert_eq!(detail.body["data"], json!({"thing": {"n": 1}}));
        // A repeated signal id is accepted and changes nothing.
        let again = app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "id": "t-1", "data": {"thing": {"n": 2}}})).send().await;
        assert_eq!(again.status, 202);
        app.drain().await;
        assert_eq!(rx.received().len(), 3);
        // Manual retry sends it once more, same id.
        let retry = app.admin(Method::POST, &format!("/api/v1/deliveries/{id}/retry")).send().await;
        assert_eq!(retry.status, 202, "{}", retry.text);
        app.drain().await;
        assert_eq!(rx.received().len(), 4);
        assert_eq!(rx.received()[3].header("webhook-id"), "t-1");
    }

    async fn the_inspector_shows_each_attempt_as_sent_and_answered(app: TestApp) {
        let rx = Receiver::start().await;
        rx.script([Answer { status: 500, headers: vec![("x-request-id", "r-9".into())], body: "boom".into(), delay: None }]);
        let h = hook(&app, &rx.url, json!({"event_types": ["custom.thing"], "headers": {"X-Team": "wiki"}})).await;
        let hook_id = h["id"].as_str().unwrap().to_owned();
        for (id, ty) in [("i-1", "custom.thing"), ("i-2", "custom.other")] {
            let r = app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": ty, "id": id, "data": {"thing": {"id": id}}})).send().await;
            assert_eq!(r.status, 202, "{}", r.text);
        }
        app.drain().await;
        let list = |query: &str| app.admin(Method::GET, &format!("/api/v1/webhooks/{hook_id}/deliveries{query}")).send();
        let failing = list("").await;
        assert_eq!(failing.body["data"].as_array().unwrap().len(), 1, "the hook hears one type");
        assert!(failing.body["data"][0]["last_error"].as_str().unwrap().contains("500"), "{}", failing.text);
        app.clock.advance(Duration::seconds(7));
        app.drain().await;
        let sent = rx.received();
        assert_eq!(sent.len(), 2);
        let delivered = list("").await;
        assert_eq!(delivered.body["data"][0]["last_error"], Value::Null, "the latest attempt succeeded");
        let id = delivered.body["data"][0]["id"].as_str().unwrap().to_owned();
        let detail = app.admin(Method::GET, &format!("/api/v1/deliveries/{id}")).send().await;
        assert_eq!(detail.body["request_body"].as_str().unwrap().as_bytes(), &sent[0].body[..], "the body as sent, byte for byte");
        let attempts = detail.body["attempts"].as_array().unwrap();
        for (attempt, got) in attempts.iter().zip(&sent) {
            let headers: Vec<(String, String)> = serde_json::from_value(attempt["request_headers"].clone()).unwrap();
            let value = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
            assert_eq!(value("webhook-signature"), Some("(masked)"));
            assert_ne!(got.header("webhook-signature"), "(masked)");
            for name in ["webhook-id", "webhook-timestamp", "content-type", "x-team"] {
                assert_eq!(value(name), Some(got.header(name)), "{name}");
            }
        }
        assert!(attempts[0]["response_headers"].as_array().unwrap().contains(&json!(["x-request-id", "r-9"])), "{}", detail.text);
        assert_eq!(attempts[0]["response_body"], "boom");
        assert!(attempts[1]["response_headers"].as_array().unwrap().iter().any(|p| p[0] == "content-length"));
        // The filters: by type, by time, and a time that is none.
        assert_eq!(list("?event_type=custom.other").await.body["data"], json!([]));
        assert_eq!(list("?event_type=custom.thing&status=delivered").await.body["data"].as_array().unwrap().len(), 1);
        let created = delivered.body["data"][0]["created_at"].as_str().unwrap().to_owned();
        assert_eq!(list(&format!("?since={created}")).await.body["data"].as_array().unwrap().len(), 1);
        assert_eq!(list(&format!("?until={created}")).await.body["data"], json!([]));
        let bad = list("?since=yesterday").await;
        assert_eq!((bad.status, bad.body["error"]["fields"][0]["field"].as_str()), (422, Some("since")));
    }

    async fn a_signal_batch_is_answered_per_item_and_each_delivered_once(app: TestApp) {
        let rx = Receiver::start().await;
        hook(&app, &rx.url, json!({"event_types": ["custom.thing"]})).await;
        let one = app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "id": "b-0", "data": {"n": {"i": 0}}})).send().await;
        assert_eq!(one.status, 202);
        let batch = json!({"signals": [
            {"type": "custom.thing", "id": "b-1", "data": {"n": {"i": 1}}},
            {"type": "custom.thing", "id": "b-0", "data": {"n": {"i": 99}}},
            {"type": "Not A Type", "id": "b-2", "data": {}},
            "not an object",
            {"type": "custom.thing", "data": {"n": {"i": 3}}},
            {"type": "custom.thing", "id": "b-1", "data": {"n": {"i": 98}}},
        ]});
        let r = app.admin(Method::POST, "/api/v1/signals/batch").json(&batch).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        let results = r.body["results"].as_array().unwrap();
        let statuses: Vec<_> = results.iter().map(|x| x["status"].as_u64().unwrap()).collect();
        assert_eq!(statuses, [202, 202, 422, 422, 202, 202]);
        assert_eq!((results[0]["id"].clone(), results[2]["id"].clone(), results[3]["id"].clone()), (json!("b-1"), json!("b-2"), Value::Null));
        assert_eq!(results[2]["error"]["fields"][0]["field"], "type");
        assert_eq!(results[3]["error"]["fields"][0]["field"], "signal");
        assert!(results[4]["id"].as_str().unwrap().starts_with("sig_"), "an id is made when none is given");
        assert!(results[0].get("error").is_none());
        app.drain().await;
        let mut got: Vec<i64> = rx.received().iter().map(|q| q.json()["n"]["i"].as_i64().unwrap()).collect();
        got.sort();
        assert_eq!(got, [0, 1, 3], "repeated ids, in the batch or before it, are sent once");
        let again = app.admin(Method::POST, "/api/v1/signals/batch").json(&batch).send().await;
        assert_eq!(again.status, 200);
        app.drain().await;
        assert_eq!(rx.received().len(), 4, "sent again, only the item that gave no id is new");
        let too_many: Vec<Value> = (0..501).map(|i| json!({"type": "custom.thing", "data": {"n": {"i": i}}})).collect();
        for body in [json!({"signals": too_many}), json!({"signals": []}), json!({})] {
            let r = app.admin(Method::POST, "/api/v1/signals/batch").json(&body).send().await;
            assert_eq!((r.status, r.fields()), (422, vec!["signals".to_owned()]), "{}", r.text);
        }
        let bob = app.user_with_token("Bob").await;
        let r = app.call(Method::POST, "/api/v1/signals/batch").token(&bob).json(&batch).send().await;
        assert_eq!(r.status, 403);
    }

    async fn the_rate_limit_of_an_endpoint_is_enforced(app: TestApp) {
        let rx = Receiver::start().await;
        let h = hook(&app, &rx.url, json!({"event_types": ["custom.thing"], "rate_limit_per_s": 2})).await;
        for n in 0..5 {
            app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "data": {"n": {"i": n}}})).send().await;
        }
        app.drain().await;
        assert_eq!(rx.received().len(), 2, "a burst of one second's worth");
        app.clock.advance(Duration::milliseconds(500));
        app.drain().await;
        assert_eq!(rx.received().len(), 3);
        app.clock.advance(Duration::seconds(1));
        app.drain().await;
        assert_eq!(rx.received().len(), 5);
        let list = app.admin(Method::GET, &format!("/api/v1/webhooks/{}/deliveries", h["id"].as_str().unwrap())).send().await;
        assert!(list.body["data"].as_array().unwrap().iter().all(|d| d["attempt_count"] == 1), "waiting is no attempt: {}", list.text);
    }

    async fn gone_disables_the_endpoint_and_says_so(app: TestApp) {
        let rx = Receiver::start().await;
        rx.script([Answer::status(410)]);
        let gone = hook(&app, &format!("{}?gone", rx.url), json!({"event_types": ["custom.thing"]})).await;
        let watcher = hook(&app, &format!("{}?watch", rx.url), json!({"event_types": ["endpoint.disabled"]})).await;
        app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "data": {"x": {}}})).send().await;
        app.drain().await;
        let r = app.admin(Method::GET, &format!("/api/v1/webhooks/{}", gone["id"].as_str().unwrap())).send().await;
        assert_eq!(r.body["enabled"], false);
        assert!(r.str("disabled_reason").contains("410"));
        let told: Vec<_> = rx.received().into_iter().filter(|q| q.headers.get("webhook-id").is_some() && q.json()["event_metadata"]["event_type"] == "endpoint.disabled").collect();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].json()["webhook"]["id"], gone["id"]);
        let _ = watcher;
        // Re-enabling clears the reason.
        let r = app.admin(Method::PATCH, &format!("/api/v1/webhooks/{}", gone["id"].as_str().unwrap())).json(&json!({"enabled": true})).send().await;
        assert_eq!((r.body["enabled"].clone(), r.body["disabled_reason"].clone()), (json!(true), Value::Null));
    }

    async fn rotation_signs_with_both_secrets_during_the_grace_period(app: TestApp) {
        let rx = Receiver::start().await;
        let h = hook(&app, &rx.url, json!({"event_types": ["*"]})).await;
        let id = h["id"].as_str().unwrap();
        let rotated = app.admin(Method::POST, &format!("/api/v1/webhooks/{id}/rotate-secret")).send().await;
        assert_eq!(rotated.status, 200, "{}", rotated.text);
        let (old, new) = (h["secret"].as_str().unwrap(), rotated.str("secret"));
        assert_ne!(old, new);
        let test = app.admin(Method::POST, &format!("/api/v1/webhooks/{id}/test")).send().await;
        assert_eq!(test.status, 202, "{}", test.text);
        app.drain().await;
        let first = &rx.received()[0];
        assert_eq!(first.json()["event_metadata"]["event_type"], "webhook.test");
        assert_eq!(first.header("webhook-signature").split(' ').count(), 2);
        assert!(verifies(first, old) && verifies(first, &new));
        app.clock.advance(Duration::hours(25));
        app.admin(Method::POST, &format!("/api/v1/webhooks/{id}/test")).send().await;
        app.drain().await;
        let second = &rx.received()[1];
        assert!(verifies(second, &new) && !verifies(second, old), "the grace period ended");
    }

    async fn a_v1a_endpoint_signs_with_ed25519_and_publishes_only_its_public_key(app: TestApp) {
        let rx = Receiver::start().await;
        let h = hook(&app, &rx.url, json!({"event_types": ["*"], "signature": "v1a"})).await;
        let id = h["id"].as_str().unwrap();
        assert_eq!(h["signature"], "v1a");
        assert!(h.get("secret").is_none(), "the private key never leaves: {h}");
        let first_key = h["public_key"].as_str().unwrap().to_owned();
        assert!(first_key.starts_with("whpk_"));
        let shown = app.admin(Method::GET, &format!("/api/v1/webhooks/{id}")).send().await;
        assert_eq!(shown.str("public_key"), first_key, "published with the endpoint");
        app.admin(Method::POST, &format!("/api/v1/webhooks/{id}/test")).send().await;
        app.drain().await;
        let first = &rx.received()[0];
        assert!(first.header("webhook-signature").starts_with("v1a,"));
        assert!(verifies_ed25519(first, &first_key));
        // Rotating keeps the scheme; both keys sign during the grace period.
        let rotated = app.admin(Method::POST, &format!("/api/v1/webhooks/{id}/rotate-secret")).send().await;
        assert!(rotated.body.get("secret").is_none());
        let second_key = rotated.str("public_key");
        assert_ne!(second_key, first_key);
        app.admin(Method::POST, &format!("/api/v1/webhooks/{id}/test")).send().await;
        app.drain().await;
        let second = &rx.received()[1];
        assert!(verifies_ed25519(second, &first_key) && verifies_ed25519(second, &second_key));
        // Back to v1: the new HMAC secret is shown once, and the ed25519 key still signs beside it.
        let back = app.admin(Method::PATCH, &format!("/api/v1/webhooks/{id}")).json(&json!({"signature": "v1"})).send().await;
        assert_eq!((back.status, back.str("signature")), (200, "v1".to_owned()), "{}", back.text);
        assert!(back.body.get("public_key").is_none());
        let secret = back.str("secret");
        app.admin(Method::POST, &format!("/api/v1/webhooks/{id}/test")).send().await;
        app.drain().await;
        let third = &rx.received()[2];
        assert!(verifies(third, &secret) && verifies_ed25519(third, &second_key));
        let same = app.admin(Method::PATCH, &format!("/api/v1/webhooks/{id}")).json(&json!({"signature": "v1"})).send().await;
        assert!(same.body.get("secret").is_none(), "the same scheme keeps its key");
        let bad = app.admin(Method::PATCH, &format!("/api/v1/webhooks/{id}")).json(&json!({"signature": "v2"})).send().await;
        assert_eq!((bad.status, bad.fields()), (422, vec!["signature".to_owned()]));
    }

    async fn an_endpoint_failing_for_five_days_is_disabled(app: TestApp) {
        let rx = Receiver::start().await;
        rx.script((0..20).map(|_| Answer::status(503)));
        let h = hook(&app, &rx.url, json!({"event_types": ["custom.thing"]})).await;
        app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "data": {"x": {}}})).send().await;
        for _ in 0..10 {
            app.drain().await;
            app.clock.advance(Duration::hours(24));
        }
        // 503 is throttling: waits double (10 s, 10 min, 1 h, 4 h, 10 h, 20 h, …), and the sixth
        // failure lands past 120 hours of failing without a break.
        assert_eq!(rx.received().len(), 6);
        let r = app.admin(Method::GET, &format!("/api/v1/webhooks/{}", h["id"].as_str().unwrap())).send().await;
        assert_eq!(r.body["enabled"], false);
        assert_eq!(r.str("disabled_reason"), "every attempt failed for 120 hours");
        assert!(r.body["failing_since"].is_string());
    }
}

app_tests! {
    config = |c| {
        c.allow_private_targets = true;
        c.delivery.retry_schedule_s = vec![1, 1];
    };

    async fn recover_resends_failed_deliveries_since_a_time(app: TestApp) {
        let rx = Receiver::start().await;
        rx.script((0..3).map(|_| Answer::status(500)));
        let h = hook(&app, &rx.url, json!({"event_types": ["custom.thing"]})).await;
        let id = h["id"].as_str().unwrap().to_owned();
        let start = app.clock.now();
        app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "data": {"x": {}}})).send().await;
        for _ in 0..5 {
            app.drain().await;
            app.clock.advance(Duration::seconds(2));
        }
        assert_eq!(rx.received().len(), 3, "1 + the 2 configured retries, then failed");
        let failed = app.admin(Method::GET, &format!("/api/v1/webhooks/{id}/deliveries?status=failed")).send().await;
        assert_eq!(failed.body["data"].as_array().unwrap().len(), 1, "{}", failed.text);
        let since = (start - Duration::seconds(1)).format(&time::format_description::well_known::Rfc3339).unwrap();
        let r = app.admin(Method::POST, &format!("/api/v1/webhooks/{id}/recover")).json(&json!({"since": since})).send().await;
        assert_eq!((r.status, r.body["recovered"].clone()), (202, json!(1)));
        app.drain().await;
        assert_eq!(rx.received().len(), 4, "one more attempt, which succeeds");
        let delivered = app.admin(Method::GET, &format!("/api/v1/webhooks/{id}/deliveries?status=delivered")).send().await;
        assert_eq!(delivered.body["data"].as_array().unwrap().len(), 1);
    }
}

app_tests! {
    async fn private_targets_are_refused_and_logged(app: TestApp) {
        let rx = Receiver::start().await;
        let h = hook(&app, &rx.url, json!({"event_types": ["*"]})).await;
        let localhost = hook(&app, &rx.url.replace("127.0.0.1", "localhost"), json!({"event_types": ["*"]})).await;
        app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "data": {"x": {}}})).send().await;
        app.drain().await;
        assert!(rx.received().is_empty(), "nothing reached loopback");
        for webhook in [&h, &localhost] {
            let list = app.admin(Method::GET, &format!("/api/v1/webhooks/{}/deliveries", webhook["id"].as_str().unwrap())).send().await;
            let id = list.body["data"][0]["id"].as_str().unwrap().to_owned();
            let detail = app.admin(Method::GET, &format!("/api/v1/deliveries/{id}")).send().await;
            let attempt = &detail.body["attempts"][0];
            assert_eq!(attempt["error_class"], "refused", "{}", detail.text);
            assert!(attempt["error"].as_str().unwrap().contains("not a public address"), "{attempt}");
            assert_eq!(detail.body["status"], "pending", "refusals retry: DNS and settings can change");
        }
    }

    async fn webhook_routes_are_for_admins_and_check_their_input(app: TestApp) {
        let bob = app.user_with_token("Bob").await;
        let r = app.call(Method::POST, "/api/v1/webhooks").token(&bob).json(&json!({"url": "https://x.example/", "event_types": ["*"]})).send().await;
        assert_eq!(r.status, 403);
        let r = app.call(Method::GET, "/api/v1/webhooks").send().await;
        assert_eq!(r.status, 401);
        let r = app.call(Method::POST, "/api/v1/signals").token(&bob).json(&json!({"type": "a.b", "data": {}})).send().await;
        assert_eq!(r.status, 403);
        let cases = [
            (json!({"url": "not a url", "event_types": ["*"]}), "url"),
            (json!({"url": "ftp://x.example/", "event_types": ["*"]}), "url"),
            (json!({"url": "https://u:p@x.example/", "event_types": ["*"]}), "url"),
            (json!({"url": "https://x.example/", "event_types": []}), "event_types"),
            (json!({"url": "https://x.example/", "event_types": ["Not A Type"]}), "event_types"),
            (json!({"url": "https://x.example/"}), "event_types"),
            (json!({"url": "https://x.example/", "event_types": ["*"], "encoding": "xml"}), "encoding"),
            (json!({"url": "https://x.example/", "event_types": ["*"], "headers": {"webhook-id": "x"}}), "headers"),
            (json!({"url": "https://x.example/", "event_types": ["*"], "headers": {"bad name": "x"}}), "headers"),
            (json!({"url": "https://x.example/", "event_types": ["*"], "rate_limit_per_s": 0}), "rate_limit_per_s"),
            (json!({"url": "https://x.example/", "event_types": "*"}), "event_types"),
            (json!({"url": "https://x.example/", "event_types": ["*"], "signature": "ed25519"}), "signature"),
        ];
        for (body, field) in cases {
            let r = app.admin(Method::POST, "/api/v1/webhooks").json(&body).send().await;
            assert_eq!((r.status, r.code()), (422, "validation_failed"), "{body}: {}", r.text);
            assert_eq!(r.fields(), [field], "{body}");
        }
        let signal_cases = [
            (json!({"data": {}}), "type"),
            (json!({"type": "NoDots", "data": {}}), "type"),
            (json!({"type": "a.b"}), "data"),
            (json!({"type": "a.b", "data": [1]}), "data"),
            (json!({"type": "a.b", "data": {"event_metadata": {}}}), "data"),
            (json!({"type": "a.b", "data": {}, "occurred_at": "yesterday"}), "occurred_at"),
            (json!({"type": "a.b", "data": {}, "id": "has space"}), "id"),
        ];
        for (body, field) in signal_cases {
            let r = app.admin(Method::POST, "/api/v1/signals").json(&body).send().await;
            assert_eq!((r.status, r.code()), (422, "validation_failed"), "{body}: {}", r.text);
            assert_eq!(r.fields(), [field], "{body}");
        }
        for path in ["/api/v1/webhooks/nope", "/api/v1/deliveries/nope", "/api/v1/webhooks/0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e5f/deliveries"] {
            let r = app.admin(Method::GET, path).send().await;
            assert_eq!((r.status, r.code()), (404, "not_found"), "{path}");
        }
        let h = hook(&app, "https://x.example/", json!({"event_types": ["*"]})).await;
        let id = h["id"].as_str().unwrap();
        let r = app.admin(Method::GET, &format!("/api/v1/webhooks/{id}")).send().await;
        assert!(r.body.get("secret").is_none(), "the secret is shown only when made");
        let r = app.admin(Method::GET, &format!("/api/v1/webhooks/{id}/deliveries?status=lost")).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["status".to_owned()]));
        let r = app.admin(Method::POST, &format!("/api/v1/webhooks/{id}/recover")).json(&json!({})).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["since".to_owned()]));
        let r = app.admin(Method::PATCH, &format!("/api/v1/webhooks/{id}")).json(&json!({"description": "Team hook", "rate_limit_per_s": 5})).send().await;
        assert_eq!((r.str("description"), r.body["rate_limit_per_s"].clone()), ("Team hook".into(), json!(5)));
        let r = app.admin(Method::PATCH, &format!("/api/v1/webhooks/{id}")).json(&json!({"rate_limit_per_s": null, "url": "mailto:x"})).send().await;
        assert_eq!(r.fields(), ["url"], "a bad patch changes nothing");
        assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/webhooks/{id}")).send().await.status, 204);
        assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/webhooks/{id}")).send().await.status, 404);
    }

    async fn the_event_type_catalogue_has_schemas_and_examples(app: TestApp) {
        let bob = app.user_with_token("Bob").await;
        let r = app.call(Method::GET, "/api/v1/event-types").token(&bob).send().await;
        assert_eq!(r.status, 200);
        let types = r.body["data"].as_array().unwrap();
        let registered = types.iter().find(|t| t["name"] == "participant.registered").unwrap();
        assert_eq!(registered["example"]["participant"]["username"], "Jane Doe");
        assert_eq!(registered["schema"]["properties"]["event_metadata"]["type"], "object");
        for name in ["user.created", "event.deleted", "organizer.added", "participant.visibility_changed", "endpoint.disabled", "webhook.test"] {
            assert!(types.iter().any(|t| t["name"] == name), "{name}");
        }
    }
}

app_tests! {
    config = |c| {
        c.allow_private_targets = true;
        c.delivery.retry_schedule_s = vec![5];
        c.delivery.retry_jitter = 0.0;
    };

    async fn a_failing_endpoint_is_told_once_per_streak_exhausted_and_recovered(app: TestApp) {
        let ops = Receiver::start().await;
        hook(&app, &ops.url, json!({"event_types": ["endpoint.failing", "endpoint.recovered", "delivery.exhausted"]})).await;
        let flaky = Receiver::start().await;
        flaky.script([Answer::status(500), Answer::status(503), Answer::status(500)]);
        let bad = hook(&app, &flaky.url, json!({"event_types": ["custom.thing"]})).await;
        app.user_with_token("Ops").await;
        let r = app.admin(Method::PATCH, "/api/v1/users/Ops").json(&json!({"is_admin": true})).send().await;
        assert!(r.status < 300, "{}", r.text);
        let admin = app.token_for("Ops").await;
        let signal = |id: &str| app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "id": id, "data": {}})).send();
        assert_eq!(signal("s-1").await.status, 202);
        app.drain().await;
        assert_eq!(signal("s-2").await.status, 202);
        app.drain().await;
        app.clock.advance(Duration::seconds(6));
        app.drain().await;
        assert_eq!(flaky.received().len(), 3, "s-1 twice, s-2 once so far");
        let told = || ops.received().iter().map(|r| r.json()).collect::<Vec<Value>>();
        let types = |got: &[Value]| got.iter().map(|b| b["event_metadata"]["event_type"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        let got = told();
        assert_eq!(types(&got), ["endpoint.failing", "delivery.exhausted"], "one failing per streak; s-1 gave up");
        let failing = &got[0];
        // Operational data is not wrapped: its members stand beside `event_metadata`.
        let data_of = |b: &Value| b.clone();
        assert_eq!(data_of(failing)["webhook"]["id"], bad["id"], "{failing}");
        assert_eq!(data_of(failing)["webhook"]["url"], flaky.url.as_str());
        let exhausted = data_of(&got[1]);
        assert_eq!(exhausted["delivery"]["event_type"], "custom.thing");
        assert!(exhausted["error"].as_str().unwrap().contains("500"), "{exhausted}");

        app.clock.advance(Duration::seconds(6));
        app.drain().await;
        let got = told();
        assert_eq!(types(&got), ["endpoint.failing", "delivery.exhausted", "endpoint.recovered"], "s-2 went through on its retry");
        assert_eq!(data_of(&got[2])["webhook"]["id"], bad["id"]);
        assert_eq!(flaky.received().len(), 4, "s-2's retry, and nothing about its own health");

        let me = app.call(Method::GET, "/api/v1/me").token(&admin).send().await;
        let inbox = app.call(Method::GET, &format!("/v1/users/{}/notifications", me.str("id"))).token(&admin).send().await;
        let mut titles: Vec<String> = inbox.body["data"].as_array().unwrap().iter().map(|n| n["attributes"]["title"].as_str().unwrap().to_owned()).collect();
        titles.sort();
        let url = &flaky.url;
        assert_eq!(titles, [format!("A delivery to {url} gave up"), format!("Webhook endpoint failing: {url}"), format!("Webhook endpoint recovered: {url}")], "admins are told");
    }
}
