//! Tokens: shown once, digested, expiring, revocable, and their bad inputs.

use convene_core::Clock;
use convene_testkit::{Method, app_tests};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

app_tests! {
    async fn a_token_is_shown_once_and_works_until_revoked(app: TestApp) {
        app.user_with_token("Bob").await;
        let r = app.admin(Method::POST, "/api/v1/tokens").json(&json!({"username": "Bob", "name": "laptop"})).send().await;
        assert_eq!(r.status, 201);
        let secret = r.str("token");
        assert!(secret.starts_with("cvn_") && secret.len() == 47, "{secret}");
        assert_eq!((r.str("name"), r.str("username")), ("laptop".into(), "Bob".into()));
        assert!(r.body["last_used_at"].is_null());
        let id = r.str("id");
        let me = app.call(Method::GET, "/api/v1/me").token(&secret).send().await;
        assert_eq!(me.str("username"), "Bob");
        let list = app.admin(Method::GET, "/api/v1/tokens?username=Bob").send().await;
        let mine = list.body["data"].as_array().unwrap().iter().find(|t| t["id"] == id.as_str()).unwrap().clone();
        assert!(mine["last_used_at"].is_string(), "use is recorded: {mine}");
        assert!(mine.get("token").is_none());
        let r = app.call(Method::DELETE, &format!("/api/v1/tokens/{id}")).token(&secret).send().await;
        assert_eq!(r.status, 204, "a token may revoke itself");
        let me = app.call(Method::GET, "/api/v1/me").token(&secret).send().await;
        assert_eq!((me.status, me.code()), (401, "unauthorized"));
    }

    async fn an_expired_token_is_refused(app: TestApp) {
        app.user_with_token("Bob").await;
        let expires = (app.clock.now() + time::Duration::hours(1)).format(&Rfc3339).unwrap();
        let r = app.admin(Method::POST, "/api/v1/tokens").json(&json!({"username": "Bob", "expires_at": expires})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let secret = r.str("token");
        assert_eq!(app.call(Method::GET, "/api/v1/me").token(&secret).send().await.status, 200);
        app.clock.advance(time::Duration::minutes(59));
        assert_eq!(app.call(Method::GET, "/api/v1/me").token(&secret).send().await.status, 200);
        app.clock.advance(time::Duration::minutes(1));
        let r = app.call(Method::GET, "/api/v1/me").token(&secret).send().await;
        assert_eq!((r.status, r.code()), (401, "unauthorized"), "expiry is exclusive of its instant");
    }

    async fn unknown_and_malformed_credentials_are_401(app: TestApp) {
        let real = app.user_with_token("Bob").await;
        let tampered = format!("{}A", &real[..real.len() - 1]);
        let tampered = if tampered == real { format!("{}B", &real[..real.len() - 1]) } else { tampered };
        for header in [
            "".to_owned(),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            "Basic dXNlcjpwYXNz".to_owned(),
            format!("Bearer {tampered}"),
            "Bearer cvn_short".to_owned(),
            format!("Bearer {}", app.admin_token.to_uppercase()),
        ] {
            let r = app.call(Method::GET, "/api/v1/me").header("authorization", &header).send().await;
            assert_eq!((r.status, r.code()), (401, "unauthorized"), "{header:?}");
            assert!(r.headers.get("www-authenticate").is_some(), "{header:?}");
        }
        let r = app.call(Method::GET, "/api/v1/me").header("authorization", &format!("bearer {real}")).send().await;
        assert_eq!(r.status, 200, "the scheme is case-insensitive");
    }

    async fn create_token_bad_inputs(app: TestApp) {
        app.user_with_token("Bob").await;
        let past = (app.clock.now() - time::Duration::seconds(1)).format(&Rfc3339).unwrap();
        let cases = [
            (json!({"username": "Bob", "expires_at": past}), "expires_at"),
            (json!({"username": "Bob", "expires_at": "tomorrow"}), "expires_at"),
            (json!({"username": "Bob", "name": "x".repeat(101)}), "name"),
            (json!({"username": "Bob", "name": "bell\u{7}"}), "name"),
            (json!({}), "username"),
            (json!({"username": ["Bob"]}), "username"),
        ];
        for (body, field) in cases {
            let r = app.admin(Method::POST, "/api/v1/tokens").json(&body).send().await;
            assert_eq!((r.status, r.code()), (422, "validation_failed"), "{body}: {}", r.text);
            assert_eq!(r.fields(), [field], "{body}");
        }
        let r = app.admin(Method::POST, "/api/v1/tokens").json(&json!({"username": "Nobody"})).send().await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
        for id in ["nope", "00000000-0000-0000-0000-000000000000", "0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e5f"] {
            let r = app.admin(Method::DELETE, &format!("/api/v1/tokens/{id}")).send().await;
            assert_eq!((r.status, r.code()), (404, "not_found"), "{id}");
        }
        let r = app.admin(Method::GET, "/api/v1/tokens?username=Bob").send().await;
        assert_eq!(r.body["data"].as_array().unwrap().len(), 1, "no bad request created a token");
    }
}
