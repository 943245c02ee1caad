//! Organizers and participants: the read rules for private participants, and every bad input.

use crate::support::{World, create_event, usernames};
use convene_testkit::{Method, app_tests};
use serde_json::json;

app_tests! {
    async fn non_organizers_never_see_private_participants_nor_their_count(app: TestApp) {
        let w = World::new(&app).await;
        for name in ["Dan", "Erin", "Finn"] {
            app.user_with_token(name).await;
        }
        for (name, visibility) in [("Dan", "private"), ("Erin", "public"), ("Finn", "private")] {
            let r = app.admin(Method::PUT, &format!("/api/v1/events/{}/participants/{name}", w.event))
                .json(&json!({"visibility": visibility})).send().await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let list = format!("/api/v1/events/{}/participants", w.event);
        for token in [&w.carol, &w.bob] {
            let r = app.call(Method::GET, &list).token(token).send().await;
            assert_eq!(usernames(&r.body), ["Bob", "Erin"]);
            assert_eq!(r.body.as_object().unwrap().keys().collect::<Vec<_>>(), ["data", "next_cursor"]);
            // Paging over public participants only: no page reveals a hidden row.
            let first = app.call(Method::GET, &format!("{list}?limit=1")).token(token).send().await;
            assert_eq!(usernames(&first.body), ["Bob"]);
            let cursor = first.str("next_cursor");
            let second = app.call(Method::GET, &format!("{list}?limit=1&cursor={cursor}")).token(token).send().await;
            assert_eq!(usernames(&second.body), ["Erin"]);
            assert!(second.body["next_cursor"].is_null(), "{}", second.text);
        }
        for token in [&w.alice, &w.root, &app.admin_token] {
            let r = app.call(Method::GET, &list).token(token).send().await;
            assert_eq!(usernames(&r.body), ["Bob", "Dan", "Erin", "Finn"]);
            assert_eq!(r.body["data"][1]["visibility"], "private");
            assert!(r.body["data"][1]["registered_at"].as_str().unwrap().ends_with('Z'));
        }
        // A private participant sees themself through their own standing, not the others.
        let dan = app.token_for("Dan").await;
        let r = app.call(Method::GET, &list).token(&dan).send().await;
        assert_eq!(usernames(&r.body), ["Bob", "Erin"]);
    }

    async fn usernames_in_paths_are_normalised(app: TestApp) {
        let w = World::new(&app).await;
        app.user_with_token("Jane Doe").await;
        for (path_name, status) in [("jane_Doe", 201), ("Jane%20Doe", 200), ("User:Jane_Doe", 200)] {
            let r = app.call(Method::PUT, &format!("/api/v1/events/{}/participants/{path_name}", w.event))
                .token(&w.alice).json(&json!({"visibility": "public"})).send().await;
            assert_eq!(r.status, status, "{path_name}: {}", r.text);
            assert_eq!(r.str("username"), "Jane Doe");
        }
        let r = app.call(Method::PUT, &format!("/api/v1/events/{}/participants/JANE_DOE", w.event))
            .token(&w.alice).json(&json!({"visibility": "public"})).send().await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "the rest of a name is case-sensitive");
    }

    async fn the_creator_facilitates_and_the_bootstrap_token_owns_nothing(app: TestApp) {
        let w = World::new(&app).await;
        let r = app.call(Method::GET, &format!("/api/v1/events/{}/organizers", w.event)).token(&w.carol).send().await;
        assert_eq!(r.body["data"][0]["username"], "Alice");
        assert_eq!(r.body["data"][0]["role"], "facilitator");
        let unowned = create_event(&app, &app.admin_token, json!({"slug": "unowned", "title": "Nobody's"})).await;
        let r = app.admin(Method::GET, &format!("/api/v1/events/{unowned}/organizers")).send().await;
        assert_eq!(r.body["data"], json!([]));
        // An organizer may also be a participant.
        let r = app.call(Method::PUT, &format!("/api/v1/events/{}/participants/Alice", w.event))
            .token(&w.alice).json(&json!({"visibility": "private"})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
    }

    async fn organizer_bad_inputs(app: TestApp) {
        let w = World::new(&app).await;
        let base = format!("/api/v1/events/{}/organizers", w.event);
        let put = |path: String, body: serde_json::Value| {
            let app = &app;
            let token = w.alice.clone();
            async move { app.call(Method::PUT, &path).token(&token).json(&body).send().await }
        };
        let r = put(format!("{base}/Carol"), json!({"role": "host"})).await;
        assert_eq!((r.status, r.code(), r.fields()), (422, "validation_failed", vec!["role".to_owned()]));
        let r = put(format!("{base}/Carol"), json!({"role": 7})).await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"));
        let r = put(format!("{base}/Nobody"), json!({"role": "facilitator"})).await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
        let r = put("/api/v1/events/not-an-id/organizers/Carol".into(), json!({"role": "facilitator"})).await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
        let r = app.call(Method::DELETE, &format!("{base}/Carol")).token(&w.alice).send().await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "Carol is no organizer");
        let r = app.call(Method::DELETE, &format!("{base}/Alice")).token(&w.alice).send().await;
        assert_eq!((r.status, r.code()), (409, "last_organizer"));
        let r = app.call(Method::PUT, &format!("{base}/Carol")).token(&w.alice)
            .raw("application/json", "{\"role\":").send().await;
        assert_eq!((r.status, r.code()), (400, "malformed_json"));
    }

    async fn participant_bad_inputs(app: TestApp) {
        let w = World::new(&app).await;
        let bob = format!("/api/v1/events/{}/participants/Bob", w.event);
        for body in [json!({}), json!({"visibility": "secret"}), json!({"visibility": null}), json!({"visibility": true})] {
            let r = app.call(Method::PUT, &bob).token(&w.bob).json(&body).send().await;
            assert_eq!((r.status, r.code()), (422, "validation_failed"), "{body}: {}", r.text);
            assert_eq!(r.fields(), ["visibility"], "{body}");
        }
        let r = app.call(Method::PUT, &bob).token(&w.bob).raw("text/plain", "public").send().await;
        assert_eq!((r.status, r.code()), (415, "unsupported_media_type"));
        let r = app.call(Method::PUT, &format!("/api/v1/events/{}/participants/Nobody", w.event))
            .token(&w.alice).json(&json!({"visibility": "public"})).send().await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
        let r = app.call(Method::PUT, &format!("/api/v1/events/{}/participants/Nobody", w.event))
            .token(&w.carol).json(&json!({"visibility": "public"})).send().await;
        assert_eq!(r.status, 403, "a non-manager learns nothing about which names exist");
        let r = app.call(Method::DELETE, &format!("/api/v1/events/{}/participants/Carol", w.event)).token(&w.carol).send().await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "Carol is not registered");
        let r = app.call(Method::GET, &format!("/api/v1/events/{}/participants?limit=0", w.event)).token(&w.bob).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["limit".to_owned()]));
        let r = app.call(Method::GET, &format!("/api/v1/events/{}/participants?cursor=%%%", w.event)).token(&w.bob).send().await;
        assert_eq!(r.status, 422, "{}", r.text);
    }
}
