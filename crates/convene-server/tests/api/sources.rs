//! Inbound sources: other platforms' webhooks received as they send them, logged, replayable.

use convene_delivery::signing::WebhookSecret;
use convene_testkit::{Method, Receiver, TestApp, app_tests};
use serde_json::{Value, json};

const REGISTERED: &str = "org.openedx.learning.student.registration.completed.v1";

async fn source(app: &TestApp, body: Value) -> Value {
    let r = app
        .admin(Method::POST, "/api/v1/sources")
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// What the openedx-webhooks plugin posts in JSON mode (its time with a space, not `T`).
fn plugin_json(id: &str) -> String {
    json!({"user": {"id": 7, "is_active": true, "pii": {"username": "ann", "email": "ann@example.org", "name": "Ann"}},
        "event_metadata": {"event_type": REGISTERED, "id": id, "minorversion": 0, "source": "openedx/lms/web",
            "sourcehost": "lms.example.org", "time": "2026-12-06 10:24:32.598387+00:00", "sourcelib": [10, 5, 0]}}).to_string()
}

fn received_types(rx: &Receiver) -> Vec<String> {
    rx.received()
        .iter()
        .map(|r| {
            r.json()["event_metadata"]["event_type"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn an_openedx_site_posts_as_it_always_does(app: TestApp) {
        let rx = Receiver::start().await;
        let r = app.admin(Method::POST, "/api/v1/webhooks").json(&json!({"url": rx.url, "event_types": [REGISTERED]})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let made = source(&app, json!({"name": "lms", "kind": "openedx-webhooks"})).await;
        let (id, url) = (made["id"].as_str().unwrap().to_owned(), made["url"].as_str().unwrap().to_owned());
        assert!(url.starts_with("/in/") && url.len() > 40, "unguessable: {url}");

        let post = |body: String, content_type: &'static str| {
            let (app, url) = (&app, url.clone());
            async move { app.call(Method::POST, &url).header("accept", "text/plain").raw(content_type, body).send().await }
        };
        let r = post(plugin_json("a1b2-1"), "application/json").await;
        assert_eq!(r.status, 202, "{}", r.text);
        assert_eq!(r.str("id"), format!("{id}:a1b2-1"));
        assert_eq!(post(plugin_json("a1b2-1"), "application/json").await.status, 202, "a repeat is accepted and ignored");
        let form = format!("user_id=7&user_pii_username=ann&event_metadata_event_type={REGISTERED}&event_metadata_id=a1b2-2&event_metadata_time=2026-12-06+10%3A24%3A32.598387%2B00%3A00");
        assert_eq!(post(form, "application/x-www-form-urlencoded").await.status, 202);
        let bad = post(json!({"user": {"id": 7}}).to_string(), "application/json").await;
        assert_eq!((bad.status, bad.code()), (422, "unreadable_body"), "{}", bad.text);
        assert_eq!(post("{not json".into(), "application/json").await.status, 400);
        assert_eq!(app.call(Method::POST, "/in/nope").raw("application/json", plugin_json("x")).send().await.status, 404);

        app.drain().await;
        assert_eq!(received_types(&rx), [REGISTERED, REGISTERED], "the repeat went out once");
        let bodies: Vec<Value> = rx.received().iter().map(|r| r.json()).collect();
        assert_eq!(bodies[0]["user"]["pii"]["username"], "ann", "{}", bodies[0]);
        assert_eq!(bodies[1]["user_pii_username"], "ann", "the form stays flat: {}", bodies[1]);

        // Everything is logged, refused bodies with their reason, newest first.
        let log = app.admin(Method::GET, &format!("/api/v1/sources/{id}/received")).send().await;
        let rows = log.body["data"].as_array().unwrap();
        assert_eq!(rows.iter().map(|r| r["status"].as_u64().unwrap()).collect::<Vec<_>>(), [400, 422, 202, 202, 202]);
        assert!(rows[1]["reason"].as_str().unwrap().contains("event_metadata"), "{}", log.text);
        assert_eq!(rows[4]["body"], plugin_json("a1b2-1"), "the raw body");

        // A replay fans the body out again, under a new id.
        let first = rows[4]["id"].as_str().unwrap();
        let r = app.admin(Method::POST, &format!("/api/v1/sources/{id}/received/{first}/replay")).send().await;
        assert_eq!(r.status, 202, "{}", r.text);
        let refused = rows[1]["id"].as_str().unwrap();
        assert_eq!(app.admin(Method::POST, &format!("/api/v1/sources/{id}/received/{refused}/replay")).send().await.status, 409);
        app.drain().await;
        assert_eq!(received_types(&rx).len(), 3);

        // A new URL: the old one is gone at once.
        let rotated = app.admin(Method::POST, &format!("/api/v1/sources/{id}/rotate-url")).send().await;
        let new_url = rotated.str("url");
        assert_eq!(app.call(Method::POST, &url).raw("application/json", plugin_json("a1b2-3")).send().await.status, 404);
        assert_eq!(app.call(Method::POST, &new_url).raw("application/json", plugin_json("a1b2-3")).send().await.status, 202);
        let listed = app.admin(Method::GET, "/api/v1/sources").send().await;
        assert!(!listed.text.contains(&new_url[4..]), "the URL is shown once: {}", listed.text);
        let user = app.user_with_token("Eve").await;
        assert_eq!(app.call(Method::GET, "/api/v1/sources").token(&user).send().await.status, 403);
    }

    async fn standard_webhooks_sources_check_signatures_and_generic_ones_their_id(app: TestApp) {
        let made = source(&app, json!({"name": "billing", "kind": "standard-webhooks"})).await;
        let secret = WebhookSecret::parse(made["secret"].as_str().unwrap()).unwrap();
        let url = made["url"].as_str().unwrap().to_owned();
        let body = json!({"type": "invoice.paid", "timestamp": "2026-12-06T10:00:00Z", "data": {"invoice": "in_1"}}).to_string();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let send = |signature: String, ts: i64| {
            let (app, url, body) = (&app, url.clone(), body.clone());
            async move {
                app.call(Method::POST, &url).header("webhook-id", "msg_1").header("webhook-timestamp", &ts.to_string())
                    .header("webhook-signature", &signature).raw("application/json", body).send().await
            }
        };
        let forged = WebhookSecret::generate().sign("msg_1", now, body.as_bytes());
        let r = send(forged, now).await;
        assert_eq!((r.status, r.code()), (401, "invalid_signature"), "{}", r.text);
        let r = send(secret.sign("msg_1", now, body.as_bytes()), now).await;
        assert_eq!(r.status, 202, "{}", r.text);
        let bad = app.admin(Method::POST, "/api/v1/sources").json(&json!({"name": "x", "kind": "openedx-webhooks", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})).send().await;
        assert_eq!((bad.status, bad.fields()), (422, vec!["secret".to_owned()]));
        let dup = app.admin(Method::POST, "/api/v1/sources").json(&json!({"name": "billing", "kind": "generic"})).send().await;
        assert_eq!((dup.status, dup.code()), (409, "source_name_taken"));

        let shop = source(&app, json!({"name": "shop", "kind": "generic", "id_member": "order.id"})).await;
        let url = shop["url"].as_str().unwrap().to_owned();
        let order = json!({"type": "shop.order_placed", "order": {"id": 42, "total": "9.00"}}).to_string();
        let r = app.call(Method::POST, &url).raw("application/json", order.clone()).send().await;
        assert_eq!(r.str("id"), format!("{}:42", shop["id"].as_str().unwrap()));
        let r = app.call(Method::POST, &url).raw("application/json", json!({"order": {}}).to_string()).send().await;
        assert_eq!(r.status, 422, "no id: {}", r.text);
    }
}
