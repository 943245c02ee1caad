//! Users: wiki-style names, fields, and every bad input.

use convene_testkit::{Method, app_tests};
use serde_json::json;

app_tests! {
    async fn wiki_style_names_are_one_user(app: TestApp) {
        let r = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": " jane_Doe\u{200E}"})).send().await;
        assert_eq!((r.status, r.str("username")), (201, "Jane Doe".to_owned()), "{}", r.text);
        for same in ["Jane Doe", "jane_Doe", "User:Jane_Doe", "  Jane  Doe "] {
            let r = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": same})).send().await;
            assert_eq!((r.status, r.code()), (409, "username_taken"), "{same:?}");
        }
        let r = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": "JANE DOE"})).send().await;
        assert_eq!(r.status, 201, "the rest of the name is case-sensitive");
        let r = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": "émile"})).send().await;
        assert_eq!(r.str("username"), "Émile", "upper-casing is Unicode-aware");
        let r = app.admin(Method::GET, "/api/v1/users/jane_Doe").send().await;
        assert_eq!(r.str("username"), "Jane Doe");
    }

    async fn create_user_bad_inputs(app: TestApp) {
        let cases = [
            (json!({}), "username"),
            (json!({"username": ""}), "username"),
            (json!({"username": "   "}), "username"),
            (json!({"username": "a/b"}), "username"),
            (json!({"username": "tab\there"}), "username"),
            (json!({"username": "x".repeat(256)}), "username"),
            (json!({"username": 42}), "username"),
            (json!({"username": "Ok", "email": "not-an-email"}), "email"),
            (json!({"username": "Ok", "locale": "english please"}), "locale"),
            (json!({"username": "Ok", "display_name": "x".repeat(300)}), "display_name"),
            (json!({"username": "Ok", "is_admin": "yes"}), "is_admin"),
        ];
        for (body, field) in cases {
            let r = app.admin(Method::POST, "/api/v1/users").json(&body).send().await;
            assert_eq!((r.status, r.code()), (422, "validation_failed"), "{body}: {}", r.text);
            assert_eq!(r.fields(), [field], "{body}");
            assert!(!r.body["error"]["detail"].as_str().unwrap().is_empty());
        }
        let r = app.admin(Method::POST, "/api/v1/users").json(&json!({"email": "bad", "locale": "??"})).send().await;
        assert_eq!(r.fields(), ["username", "email", "locale"], "every bad field is named at once");
        let r = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": "x".repeat(255)})).send().await;
        assert_eq!(r.status, 201, "255 characters is the limit, inclusive");
        let r = app.admin(Method::GET, "/api/v1/users").send().await;
        assert_eq!(r.body["data"].as_array().unwrap().len(), 1, "nothing else was created");
    }

    async fn patch_user_sets_and_clears(app: TestApp) {
        app.user_with_token("Bob").await;
        let r = app.admin(Method::PATCH, "/api/v1/users/Bob")
            .json(&json!({"display_name": "Bob B.", "email": "bob@example.test", "locale": "de-CH"})).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!((r.str("display_name"), r.str("locale")), ("Bob B.".into(), "de-CH".into()));
        let r = app.admin(Method::PATCH, "/api/v1/users/Bob").json(&json!({"display_name": null})).send().await;
        assert!(r.body["display_name"].is_null());
        assert_eq!(r.str("email"), "bob@example.test", "absent members are left alone");
        let r = app.admin(Method::PATCH, "/api/v1/users/Bob").json(&json!({"email": "nope"})).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["email".to_owned()]));
        let r = app.admin(Method::PATCH, "/api/v1/users/Nobody").json(&json!({})).send().await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
        let r = app.admin(Method::PATCH, "/api/v1/users/Bob").json(&json!([1])).send().await;
        assert_eq!(r.status, 422, "{}", r.text);
    }

    async fn deleting_a_user_takes_their_tokens_and_registrations(app: TestApp) {
        let w = crate::support::World::new(&app).await;
        let r = app.admin(Method::DELETE, "/api/v1/users/Bob").send().await;
        assert_eq!(r.status, 204);
        let r = app.call(Method::GET, "/api/v1/me").token(&w.bob).send().await;
        assert_eq!(r.status, 401, "the deleted user's tokens are gone");
        let r = app.admin(Method::GET, &format!("/api/v1/events/{}/participants", w.event)).send().await;
        assert_eq!(r.body["data"], json!([]));
        let r = app.admin(Method::DELETE, "/api/v1/users/Bob").send().await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
        let r = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": "Bob"})).send().await;
        assert_eq!(r.status, 201, "the name is free again");
    }

    async fn users_are_paged(app: TestApp) {
        for n in 0..5 {
            app.admin(Method::POST, "/api/v1/users").json(&json!({"username": format!("U{n}")})).send().await;
        }
        let mut seen = Vec::new();
        let mut path = "/api/v1/users?limit=2".to_owned();
        loop {
            let r = app.admin(Method::GET, &path).send().await;
            assert_eq!(r.status, 200, "{}", r.text);
            seen.extend(crate::support::usernames(&r.body));
            match r.body["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/users?limit=2&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, ["U0", "U1", "U2", "U3", "U4"]);
        for bad in ["limit=501", "limit=-1", "limit=x", "cursor=!!"] {
            let r = app.admin(Method::GET, &format!("/api/v1/users?{bad}")).send().await;
            assert_eq!((r.status, r.code()), (422, "validation_failed"), "{bad}");
        }
    }
}
