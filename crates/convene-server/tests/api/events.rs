//! Events: slugs as Dashboard courses have them, times, patches, and every bad input.

use crate::support::create_event;
use convene_testkit::{Method, app_tests};
use serde_json::json;

app_tests! {
    async fn slugs_are_kept_exactly_and_found(app: TestApp) {
        let alice = app.user_with_token("Alice").await;
        for slug in ["Wiki_Org/Edit-a-thon_(2026)", "Université_de_Genève/Cours.1", "日本語/イベント", "a/b/c"] {
            let id = create_event(&app, &alice, json!({"slug": slug, "title": "T"})).await;
            let encoded: String = url_encode(slug);
            let r = app.call(Method::GET, &format!("/api/v1/events?slug={encoded}")).token(&alice).send().await;
            assert_eq!(r.body["data"].as_array().unwrap().len(), 1, "{slug}: {}", r.text);
            assert_eq!((r.body["data"][0]["id"].as_str().unwrap(), r.body["data"][0]["slug"].as_str().unwrap()), (id.as_str(), slug));
        }
        let r = app.call(Method::GET, "/api/v1/events?slug=wiki_org%2Fedit-a-thon_(2026)").token(&alice).send().await;
        assert_eq!(r.body["data"], json!([]), "slugs are case-sensitive");
        let r = app.call(Method::POST, "/api/v1/events").token(&alice).json(&json!({"slug": "a/b/c", "title": "Again"})).send().await;
        assert_eq!((r.status, r.code()), (409, "slug_taken"));
    }

    async fn an_event_round_trips(app: TestApp) {
        let alice = app.user_with_token("Alice").await;
        let body = json!({"slug": "berlin", "title": "Berlin meetup", "description": "Bring a laptop",
            "starts_at": "2026-12-01T10:00:00+01:00", "ends_at": "2026-12-01T18:30:00Z", "timezone": "Europe/Berlin"});
        let r = app.call(Method::POST, "/api/v1/events").token(&alice).json(&body).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.str("starts_at"), "2026-12-01T09:00:00Z", "times are returned in UTC");
        assert_eq!(r.str("timezone"), "Europe/Berlin");
        assert_eq!((r.body["private"].clone(), r.body["sync"].clone()), (json!(false), json!(null)));
        let id = r.str("id");
        app.clock.advance(time::Duration::seconds(5));
        let got = app.call(Method::GET, &format!("/api/v1/events/{id}")).token(&alice).send().await;
        assert_eq!(got.body, r.body);
        let patched = app.call(Method::PATCH, &format!("/api/v1/events/{id}")).token(&alice)
            .json(&json!({"description": null, "title": "Berlin meetup II", "private": true})).send().await;
        assert_eq!(patched.status, 200, "{}", patched.text);
        assert!(patched.body["description"].is_null());
        assert_eq!((patched.str("title"), patched.str("starts_at")), ("Berlin meetup II".into(), "2026-12-01T09:00:00Z".into()));
        assert_ne!(patched.str("updated_at"), r.str("updated_at"), "the server clock moved");
        assert_eq!(patched.str("created_at"), r.str("created_at"));
    }

    async fn create_event_bad_inputs(app: TestApp) {
        let alice = app.user_with_token("Alice").await;
        let cases = [
            (json!({"title": "No slug"}), vec!["slug"]),
            (json!({"slug": "no-title"}), vec!["title"]),
            (json!({"slug": "", "title": "T"}), vec!["slug"]),
            (json!({"slug": " padded ", "title": "T"}), vec!["slug"]),
            (json!({"slug": "line\nbreak", "title": "T"}), vec!["slug"]),
            (json!({"slug": "x".repeat(300), "title": "T"}), vec!["slug"]),
            (json!({"slug": "ok", "title": ""}), vec!["title"]),
            (json!({"slug": "ok", "title": "T", "starts_at": "next tuesday"}), vec!["starts_at"]),
            (json!({"slug": "ok", "title": "T", "starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"}), vec!["ends_at"]),
            (json!({"slug": "ok", "title": "T", "timezone": "Mars/Olympus"}), vec!["timezone"]),
            (json!({"slug": "ok", "title": "T", "private": "no"}), vec!["private"]),
            (json!({"slug": 1, "title": "T"}), vec!["slug"]),
            (json!({}), vec!["slug", "title"]),
        ];
        for (body, fields) in cases {
            let r = app.call(Method::POST, "/api/v1/events").token(&alice).json(&body).send().await;
            assert_eq!((r.status, r.code()), (422, "validation_failed"), "{body}: {}", r.text);
            assert_eq!(r.fields(), fields, "{body}");
        }
        for (ctype, raw) in [("application/json", "{\"slug\": "), ("application/json", ""), ("application/json", "[]"), ("application/json", "null")] {
            let r = app.call(Method::POST, "/api/v1/events").token(&alice).raw(ctype, raw).send().await;
            assert!(matches!(r.status, 400 | 422), "{raw:?}: {}", r.text);
            assert!(!r.code().is_empty(), "{raw:?}");
        }
        let r = app.call(Method::GET, "/api/v1/events").token(&alice).send().await;
        assert_eq!(r.body["data"], json!([]), "nothing was created");
    }

    async fn patch_and_delete_event_bad_inputs(app: TestApp) {
        let alice = app.user_with_token("Alice").await;
        let one = create_event(&app, &alice, json!({"slug": "one", "title": "One", "starts_at": "2026-12-01T10:00:00Z"})).await;
        create_event(&app, &alice, json!({"slug": "two", "title": "Two"})).await;
        let path = format!("/api/v1/events/{one}");
        let r = app.call(Method::PATCH, &path).token(&alice).json(&json!({"slug": "two"})).send().await;
        assert_eq!((r.status, r.code()), (409, "slug_taken"));
        let r = app.call(Method::PATCH, &path).token(&alice).json(&json!({"ends_at": "2026-11-30T10:00:00Z"})).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["ends_at".to_owned()]), "checked against the stored start");
        let r = app.call(Method::PATCH, &path).token(&alice).json(&json!({"title": "", "timezone": "Nowhere"})).send().await;
        assert_eq!(r.fields(), ["title", "timezone"]);
        let r = app.call(Method::GET, &path).token(&alice).send().await;
        assert_eq!((r.str("slug"), r.str("title")), ("one".into(), "One".into()), "a refused patch changes nothing");
        for id in ["nope", "0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e5f"] {
            for method in [Method::GET, Method::PATCH, Method::DELETE] {
                let mut call = app.call(method.clone(), &format!("/api/v1/events/{id}")).token(&alice);
                if method == Method::PATCH {
                    call = call.json(&json!({"title": "x"}));
                }
                let r = call.send().await;
                assert_eq!((r.status, r.code()), (404, "not_found"), "{method} {id}");
            }
        }
    }

    async fn events_are_paged_oldest_first(app: TestApp) {
        let alice = app.user_with_token("Alice").await;
        for n in 0..5 {
            create_event(&app, &alice, json!({"slug": format!("e{n}"), "title": "T"})).await;
        }
        let first = app.call(Method::GET, "/api/v1/events?limit=3").token(&alice).send().await;
        let cursor = first.str("next_cursor");
        let second = app.call(Method::GET, &format!("/api/v1/events?limit=3&cursor={cursor}")).token(&alice).send().await;
        let slugs: Vec<_> = [first.body, second.body.clone()].iter()
            .flat_map(|b| b["data"].as_array().unwrap().iter().map(|e| e["slug"].as_str().unwrap().to_owned()).collect::<Vec<_>>())
            .collect();
        assert_eq!(slugs, ["e0", "e1", "e2", "e3", "e4"]);
        assert!(second.body["next_cursor"].is_null());
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
