//! The conventions every `/api/v1` route shares: error shapes, limits, methods, idempotency,
//! and the operational endpoints.

use convene_testkit::{Method, app_tests};
use serde_json::json;

app_tests! {
    async fn operational_endpoints(app: TestApp) {
        let r = app.call(Method::GET, "/healthz").send().await;
        assert_eq!((r.status, r.body.clone()), (200, json!({"status": "ok"})));
        let r = app.call(Method::GET, "/readyz").send().await;
        assert_eq!(r.status, 200);
        app.admin(Method::GET, "/api/v1/users").send().await;
        let r = app.call(Method::GET, "/metrics").send().await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("# TYPE http_requests_total counter"), "{}", r.text);
        assert!(r.text.contains("route=\"/api/v1/users\""), "labelled by route template");
        assert!(r.text.contains("db_pool_connections"), "{}", r.text);
        assert!(r.text.contains("http_request_duration_seconds_bucket{"), "a latency histogram");
        let r = app.call(Method::GET, "/api/v1/openapi.json").send().await;
        assert_eq!(r.status, 200, "the document needs no token");
        assert!(r.body["paths"]["/api/v1/events/{id}/participants/{username}"]["put"].is_object(), "a path in full");
        let r = app.call(Method::GET, "/docs").send().await;
        assert_eq!(r.status, 200);
        assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(r.text.contains("/api/v1/events"));
    }

    async fn the_root_sends_browsers_to_the_admin_ui_and_clients_to_an_index(app: TestApp) {
        let r = app.call(Method::GET, "/").header("accept", "text/html,application/xhtml+xml,*/*;q=0.8").send().await;
        assert_eq!(r.status, 303, "{}", r.text);
        assert_eq!(r.headers["location"], "/admin");
        let r = app.call(Method::GET, "/").send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body, json!({"links": {"api": "/api/v1", "docs": "/docs", "health": "/healthz"}}));
    }

    async fn unknown_paths_and_methods(app: TestApp) {
        for path in ["/api/v1/nothing-here", "/nothing", "/api/v2/users"] {
            let r = app.admin(Method::GET, path).send().await;
            assert_eq!((r.status, r.code()), (404, "not_found"), "{path}");
        }
        let r = app.call(Method::GET, "/api/v1/nothing-here").send().await;
        assert_eq!(r.status, 401, "no token, no hints about which paths exist");
        let r = app.admin(Method::PUT, "/api/v1/users").json(&json!({})).send().await;
        assert_eq!((r.status, r.code()), (405, "method_not_allowed"));
        assert!(r.headers.get("allow").is_some());
    }

    async fn bodies_are_json_within_the_limit(app: TestApp) {
        let alice = app.user_with_token("Alice").await;
        let r = app.call(Method::POST, "/api/v1/events").token(&alice).raw("application/x-www-form-urlencoded", "slug=x").send().await;
        assert_eq!((r.status, r.code()), (415, "unsupported_media_type"));
        let r = app.call(Method::POST, "/api/v1/events").token(&alice).send().await;
        assert_eq!((r.status, r.code()), (415, "unsupported_media_type"), "no body, no content type");
        let r = app.call(Method::POST, "/api/v1/events").token(&alice).raw("application/json; charset=utf-8", r#"{"slug":"cs","title":"T"}"#).send().await;
        assert_eq!(r.status, 201, "parameters on the media type are fine");
        let r = app.call(Method::POST, "/api/v1/events").token(&alice).raw("application/json", "{not json").send().await;
        assert_eq!((r.status, r.code()), (400, "malformed_json"));
        let r = app.call(Method::POST, "/api/v1/events").token(&alice).raw("application/json", vec![0xff, 0xfe, b'{']).send().await;
        assert_eq!((r.status, r.code()), (400, "malformed_json"));
        let big = format!(r#"{{"slug":"{}","title":"t"}}"#, "x".repeat(2 * 1024 * 1024));
        let r = app.call(Method::POST, "/api/v1/events").token(&alice).raw("application/json", big).send().await;
        assert_eq!((r.status, r.code()), (413, "payload_too_large"));
        let r = app.call(Method::POST, "/api/v1/events").token(&alice).raw("application/json", r#"{"slug":"s","title":"t","extra":1}"#).send().await;
        assert_eq!(r.status, 201, "unknown members are ignored, as clients of a growing API expect");
    }

    async fn idempotency_keys_replay_and_refuse_reuse(app: TestApp) {
        let alice = app.user_with_token("Alice").await;
        let post = |body: serde_json::Value, key: &'static str, token: String| {
            let app = &app;
            async move {
                app.call(Method::POST, "/api/v1/events").token(&token).header("idempotency-key", key).json(&body).send().await
            }
        };
        let body = json!({"slug": "idem", "title": "Once"});
        let first = post(body.clone(), "k-1", alice.clone()).await;
        let again = post(body.clone(), "k-1", alice.clone()).await;
        assert_eq!((first.status, again.status), (201, 201));
        assert_eq!(first.body, again.body);
        assert!(first.headers.get("idempotent-replayed").is_none());
        assert_eq!(again.headers["idempotent-replayed"], "true");
        let reused = post(json!({"slug": "other", "title": "Else"}), "k-1", alice.clone()).await;
        assert_eq!((reused.status, reused.code()), (422, "idempotency_key_reused"));
        // Keys are per caller: Bob's k-1 is his own, and runs (and meets the slug Alice took).
        let bob = app.user_with_token("Bob").await;
        let bobs = post(body.clone(), "k-1", bob).await;
        assert_eq!((bobs.status, bobs.code()), (409, "slug_taken"));
        // A failed write is remembered too: the same request gives the same answer.
        let failed = post(json!({"slug": "idem", "title": "Dup"}), "k-2", alice.clone()).await;
        let failed_again = post(json!({"slug": "idem", "title": "Dup"}), "k-2", alice.clone()).await;
        assert_eq!((failed.status, failed_again.status), (409, 409));
        let r = app.call(Method::POST, "/api/v1/events").token(&alice).header("idempotency-key", "has space").json(&body).send().await;
        assert_eq!((r.status, r.code()), (400, "invalid_idempotency_key"));
        let r = app.call(Method::GET, "/api/v1/events").token(&alice).send().await;
        assert_eq!(r.body["data"].as_array().unwrap().len(), 1, "one event, whatever was repeated");
    }

    async fn idempotency_covers_deletes(app: TestApp) {
        let alice = app.user_with_token("Alice").await;
        let id = crate::support::create_event(&app, &alice, json!({"slug": "gone", "title": "T"})).await;
        let delete = || app.call(Method::DELETE, &format!("/api/v1/events/{id}")).token(&alice).header("idempotency-key", "del-1").send();
        assert_eq!(delete().await.status, 204);
        let replay = delete().await;
        assert_eq!(replay.status, 204, "a retried delete is not a 404: {}", replay.text);
        assert_eq!(replay.headers["idempotent-replayed"], "true");
    }

    async fn graceful_stop(app: TestApp) {
        app.stop().await.expect("run returns Ok after shutdown");
    }
}

#[tokio::test]
async fn two_nodes_on_one_postgres_database_serve_the_same_data() {
    let Some(first) = convene_testkit::spawn_app(convene_testkit::Backend::Postgres).await else {
        return;
    };
    let second = first.another_node().await;
    let alice = first.user_with_token("Alice").await;
    let id =
        crate::support::create_event(&first, &alice, json!({"slug": "shared", "title": "T"})).await;
    let r = second
        .call(Method::GET, &format!("/api/v1/events/{id}"))
        .token(&alice)
        .send()
        .await;
    assert_eq!(
        (r.status, r.str("slug")),
        (200, "shared".to_owned()),
        "{}",
        r.text
    );
    let r = second
        .call(Method::POST, "/api/v1/events")
        .token(&alice)
        .json(&json!({"slug": "shared", "title": "T"}))
        .send()
        .await;
    assert_eq!(r.code(), "slug_taken", "uniqueness holds across nodes");
}
