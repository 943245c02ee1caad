//! The Dashboard side of the Event Center protocol, called as the real CampaignEvents calls it.

use crate::support::{World, create_event, usernames};
use convene_server::config::Secret;
use convene_testkit::{
    Answer, Backend, Method, Receiver, Reply, TestApp, app_tests, spawn_app_with,
};
use serde_json::{Value, json};

const SECRET: &str = "s3cret-shared-with-the-event-center";

async fn sync(app: &TestApp, endpoint: &str, body: Value) -> Reply {
    app.call(Method::POST, &format!("/wikimedia_event_center/{endpoint}"))
        .json(&body)
        .send()
        .await
}

fn assert_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(
        (r.status, r.body["error_code"].as_str()),
        (status, Some(code)),
        "{}",
        r.text
    );
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error", "error_code"]);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

fn assert_success(r: &Reply) {
    assert_eq!(
        (r.status, &r.body),
        (200, &json!({"success": true})),
        "{}",
        r.text
    );
}

/// A course Alice facilitates, with no participants.
async fn course(app: &TestApp, w: &World, slug: &str) -> String {
    create_event(app, &w.alice, json!({"slug": slug, "title": "Course"})).await
}

async fn event(app: &TestApp, id: &str) -> Value {
    app.admin(Method::GET, &format!("/api/v1/events/{id}"))
        .send()
        .await
        .body
}

async fn participants(app: &TestApp, id: &str) -> Vec<String> {
    let r = app
        .admin(Method::GET, &format!("/api/v1/events/{id}/participants"))
        .send()
        .await;
    usernames(&r.body)
}

async fn sync_log(app: &TestApp, id: &str) -> Vec<Value> {
    let r = app
        .admin(Method::GET, &format!("/api/v1/events/{id}/sync-log"))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"].as_array().unwrap().clone()
}

fn confirm_body(slug: &str, organizers: Value, event_id: Value, dry_run: bool) -> Value {
    let mut body = json!({"course_slug": slug, "secret": SECRET, "dry_run": dry_run,
        "organizer_usernames": organizers});
    if !event_id.is_null() {
        body["event_id"] = event_id;
    }
    body
}

fn update_body(slug: &str, event_id: Value, names: Value) -> Value {
    json!({"course_slug": slug, "secret": SECRET, "dry_run": false, "event_id": event_id,
        "participant_usernames": names})
}

async fn linked_course(app: &TestApp, w: &World, slug: &str, center: i64) -> String {
    let id = course(app, w, slug).await;
    assert_success(
        &sync(
            app,
            "confirm_event_sync",
            confirm_body(slug, json!(["Alice"]), json!(center), false),
        )
        .await,
    );
    id
}

app_tests! {
    config = |c| {
        c.event_center_secret = Some(Secret::new(SECRET));
        c.allow_private_targets = true;
    };

    async fn confirm_checks_in_the_real_order(app: TestApp) {
        let w = World::new(&app).await;
        let slug = "Uni/Course_(Fall 2026)";
        let id = course(&app, &w, slug).await;
        let mut bad = confirm_body("No/Such", json!(["Alice"]), json!(42), false);
        bad["secret"] = json!("wrong");
        assert_error(&sync(&app, "confirm_event_sync", bad.clone()).await, 401, "invalid_secret");
        bad["secret"] = json!(12345);
        assert_error(&sync(&app, "confirm_event_sync", bad.clone()).await, 401, "invalid_secret");
        bad.as_object_mut().unwrap().remove("secret");
        assert_error(&sync(&app, "confirm_event_sync", bad).await, 401, "invalid_secret");
        let unknown = confirm_body("No/Such", json!(["Alice"]), json!(42), false);
        assert_error(&sync(&app, "confirm_event_sync", unknown).await, 404, "course_not_found");
        let no_slug = json!({"secret": SECRET, "event_id": 42, "organizer_usernames": ["Alice"]});
        assert_error(&sync(&app, "confirm_event_sync", no_slug).await, 404, "course_not_found");
        for organizers in [json!(["Carol"]), json!(null), json!([]), json!(["ALICE"])] {
            let r = sync(&app, "confirm_event_sync", confirm_body(slug, organizers.clone(), json!(42), false)).await;
            assert_error(&r, 401, "not_organizer");
        }
        let r = sync(&app, "confirm_event_sync", confirm_body(slug, json!("Alice"), json!(42), false)).await;
        assert_error(&r, 400, "bad_request");
        // not_organizer beats already_in_use; already_in_use beats missing_event_id.
        let busy = confirm_body("Open/Day_(2026)", json!(["Carol"]), json!(null), false);
        assert_error(&sync(&app, "confirm_event_sync", busy).await, 401, "not_organizer");
        let busy = confirm_body("Open/Day_(2026)", json!(["alice"]), json!(null), false);
        assert_error(&sync(&app, "confirm_event_sync", busy).await, 409, "already_in_use");

        // The validation call: a dry run without an event id, read-only.
        let before = event(&app, &id).await;
        let r = sync(&app, "confirm_event_sync", confirm_body(slug, json!(["User:Alice"]), json!(null), true)).await;
        assert_success(&r);
        assert_eq!(event(&app, &id).await, before, "a dry run changes nothing, not even times");
        assert_error(&sync(&app, "confirm_event_sync", confirm_body(slug, json!(["Alice"]), json!(null), false)).await, 409, "missing_event_id");
        assert_success(&sync(&app, "confirm_event_sync", confirm_body(slug, json!(["Carol", "Alice"]), json!(42), false)).await);
        let linked = event(&app, &id).await;
        assert_eq!(linked["sync"]["event_id"], "42");
        assert!(linked["sync"]["since"].as_str().unwrap().ends_with('Z'));
        // A retry of the same confirm (its answer was lost) succeeds and changes nothing.
        assert_success(&sync(&app, "confirm_event_sync", confirm_body(slug, json!(["Alice"]), json!("42"), false)).await);
        assert_eq!(event(&app, &id).await, linked);
        for dry_run in [true, false] {
            let r = sync(&app, "confirm_event_sync", confirm_body(slug, json!(["Alice"]), json!(43), dry_run)).await;
            assert_error(&r, 409, "sync_already_enabled");
        }
        assert_success(&sync(&app, "update_event_participants", update_body(slug, json!(42), json!(["Bob"]))).await);
        let r = sync(&app, "confirm_event_sync", confirm_body(slug, json!(["Alice"]), json!(43), false)).await;
        assert_error(&r, 409, "already_in_use");
        let log = sync_log(&app, &id).await;
        assert_eq!(log[0]["outcome"], "already_in_use");
        assert_eq!(log[0]["direction"], "inbound");
        assert_eq!(log.iter().filter(|c| c["endpoint"] == "confirm_event_sync").count(), log.len() - 1);
        assert!(log.iter().any(|c| c["dry_run"] == true && c["outcome"] == "success"));
        let r = app.call(Method::GET, &format!("/api/v1/events/{id}/sync-log")).token(&w.carol).send().await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = app.call(Method::GET, &format!("/api/v1/events/{id}/sync-log")).token(&w.alice).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
    }

    async fn updates_replace_the_participants_exactly(app: TestApp) {
        let w = World::new(&app).await;
        let slug = "Uni/Roster";
        let id = linked_course(&app, &w, slug, 42).await;
        let hook = Receiver::start().await;
        let r = app.admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": hook.url, "event_types": ["event_sync.participants_updated"]})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        app.user_with_token("Bob smith").await;
        let names = json!(["bob_smith", "Alice", "", "  ", "Alice", "New person", "bad/name"]);
        assert_success(&sync(&app, "update_event_participants", update_body(slug, json!("42"), names.clone())).await);
        assert_eq!(participants(&app, &id).await, ["Alice", "Bob smith", "New person"]);
        let r = app.admin(Method::GET, "/api/v1/users/New_person").send().await;
        assert_eq!(r.status, 200, "unknown names become users: {}", r.text);
        let log = sync_log(&app, &id).await;
        assert_eq!((&log[0]["added"], &log[0]["removed"], &log[0]["skipped"]), (&json!(3), &json!(0), &json!(1)));
        // The same list again: nothing moves (no flip-flop of normalised names).
        assert_success(&sync(&app, "update_event_participants", update_body(slug, json!(42), names)).await);
        assert_eq!(participants(&app, &id).await, ["Alice", "Bob smith", "New person"]);
        assert_eq!((&sync_log(&app, &id).await[0]["added"], &sync_log(&app, &id).await[0]["removed"]), (&json!(0), &json!(0)));

        assert_success(&sync(&app, "update_event_participants", update_body(slug, json!(42), json!(["Bob smith"]))).await);
        assert_eq!(participants(&app, &id).await, ["Bob smith"]);
        let organizers = app.admin(Method::GET, &format!("/api/v1/events/{id}/organizers")).send().await;
        assert_eq!(usernames(&organizers.body), ["Alice"], "organizers keep their role");
        app.drain().await;
        let sent: Vec<Value> = hook.received().iter().map(|r| r.json()).collect();
        assert_eq!(sent.len(), 2, "an unchanged list emits nothing");
        assert_eq!(sent[1]["event_sync"]["removed"], json!(["Alice", "New person"]));
        assert_eq!(sent[1]["event_sync"]["event_center_event_id"], "42");
        assert_eq!(sent[0]["event_sync"]["added"], json!(["Alice", "Bob smith", "New person"]));

        // Dry runs, wrong links and malformed lists change nothing.
        let mut dry = update_body(slug, json!(42), json!([]));
        dry["dry_run"] = json!(true);
        assert_success(&sync(&app, "update_event_participants", dry).await);
        for wrong in [json!(43), json!(null), json!("")] {
            assert_error(&sync(&app, "update_event_participants", update_body(slug, wrong, json!([]))).await, 409, "sync_not_enabled");
        }
        for bad in [json!(null), json!("Bob"), json!([1, 2]), json!({"a": 1})] {
            let r = sync(&app, "update_event_participants", update_body(slug, json!(42), bad.clone())).await;
            assert_error(&r, 400, "bad_request");
        }
        assert_eq!(participants(&app, &id).await, ["Bob smith"]);
        // An unlinked course is never emptied by a call without an event id.
        let r = sync(&app, "update_event_participants", update_body("Open/Day_(2026)", json!(null), json!([]))).await;
        assert_error(&r, 409, "sync_not_enabled");
        assert_eq!(participants(&app, &w.event).await, ["Bob"]);

        // The Event Center owns the list: local edits are refused, with a clear code.
        let path = format!("/api/v1/events/{id}/participants/Bob_smith");
        let r = app.call(Method::PUT, &path).token(&w.alice).json(&json!({"visibility": "private"})).send().await;
        assert_eq!((r.status, r.code()), (409, "participants_managed_by_sync"), "{}", r.text);
        let r = app.call(Method::DELETE, &path).token(&w.alice).send().await;
        assert_eq!((r.status, r.code()), (409, "participants_managed_by_sync"), "{}", r.text);
        let r = app.call(Method::PUT, &path).token(&w.carol).json(&json!({"visibility": "public"})).send().await;
        assert_eq!(r.status, 403, "permissions come first: {}", r.text);

        assert_success(&sync(&app, "update_event_participants", update_body(slug, json!(42), json!([]))).await);
        assert!(participants(&app, &id).await.is_empty(), "an empty list removes everyone");
    }

    async fn unsync_keeps_participants_and_frees_the_event(app: TestApp) {
        let w = World::new(&app).await;
        let slug = "Uni/Leaving";
        let id = linked_course(&app, &w, slug, 7).await;
        assert_success(&sync(&app, "update_event_participants", update_body(slug, json!(7), json!(["Bob"]))).await);
        let unsync = |event_id: Value, dry_run: bool| json!({"course_slug": slug, "secret": SECRET, "event_id": event_id, "dry_run": dry_run});
        assert_error(&sync(&app, "unsync_event", unsync(json!(8), false)).await, 409, "sync_not_enabled");
        assert_error(&sync(&app, "unsync_event", unsync(json!(null), false)).await, 409, "sync_not_enabled");
        assert_success(&sync(&app, "unsync_event", unsync(json!(7), true)).await);
        assert_eq!(event(&app, &id).await["sync"]["event_id"], "7", "a dry run keeps the link");
        assert_success(&sync(&app, "unsync_event", unsync(json!("7"), false)).await);
        assert!(event(&app, &id).await["sync"].is_null());
        assert_eq!(participants(&app, &id).await, ["Bob"], "participants stay");
        assert_error(&sync(&app, "unsync_event", unsync(json!(7), false)).await, 409, "sync_not_enabled");
        assert_error(&sync(&app, "update_event_participants", update_body(slug, json!(7), json!([]))).await, 409, "sync_not_enabled");
        let r = app.call(Method::DELETE, &format!("/api/v1/events/{id}/participants/Bob")).token(&w.alice).send().await;
        assert_eq!(r.status, 204, "local edits are allowed again: {}", r.text);
    }

    async fn malformed_bodies_get_json_errors_and_change_nothing(app: TestApp) {
        let w = World::new(&app).await;
        let slug = "Uni/Forms";
        let id = course(&app, &w, slug).await;
        let path = "/wikimedia_event_center/confirm_event_sync";
        for (kind, body) in [("application/json", "{not json"), ("application/json", "[1, 2]"), ("application/json", "\"x\"")] {
            let r = app.call(Method::POST, path).raw(kind, body).send().await;
            assert_error(&r, 400, "bad_request");
        }
        let r = app.call(Method::POST, path).raw("text/plain", json!({"secret": SECRET}).to_string()).send().await;
        assert_error(&r, 401, "invalid_secret");
        let r = app.call(Method::POST, path).raw("application/json", vec![b' '; 2 * 1024 * 1024]).send().await;
        assert_error(&r, 413, "payload_too_large");
        let form = |dry_run: &str| format!(
            "course_slug=Uni%2FForms&secret={SECRET}&dry_run={dry_run}&event_id=42&organizer_usernames[]=Alice"
        );
        let r = app.call(Method::POST, path).raw("application/x-www-form-urlencoded", form("yes")).send().await;
        assert_error(&r, 400, "bad_request");
        assert!(event(&app, &id).await["sync"].is_null());
        let r = app.call(Method::POST, path).raw("application/x-www-form-urlencoded", form("true")).send().await;
        assert_success(&r);
        assert!(event(&app, &id).await["sync"].is_null(), "\"true\" in a form is a dry run");
        let r = app.call(Method::POST, path).raw("application/x-www-form-urlencoded", form("false")).send().await;
        assert_success(&r);
        assert_eq!(event(&app, &id).await["sync"]["event_id"], "42", "form ids are strings, the same id");
        let r = app.call(Method::GET, path).send().await;
        assert_eq!(r.status, 405);
    }
}

app_tests! {
    async fn without_a_configured_secret_every_call_is_refused(app: TestApp) {
        let w = World::new(&app).await;
        let _ = course(&app, &w, "Uni/Closed").await;
        for endpoint in ["confirm_event_sync", "update_event_participants", "unsync_event"] {
            for body in [
                json!({"course_slug": "Uni/Closed", "event_id": 1, "organizer_usernames": ["Alice"]}),
                json!({"course_slug": "Uni/Closed", "secret": "", "event_id": 1, "organizer_usernames": ["Alice"]}),
                json!({"course_slug": "Uni/Closed", "secret": null, "event_id": 1}),
            ] {
                assert_error(&sync(&app, endpoint, body).await, 401, "invalid_secret");
            }
        }
    }
}

/// Unknown names are checked against a MediaWiki `api.php` when one is configured.
async fn account_check(backend: Backend) {
    let wiki = Receiver::start().await;
    let api = wiki.url.replace("/hook", "/w/api.php");
    let Some(app) = spawn_app_with(backend, |c| {
        c.event_center_secret = Some(Secret::new(SECRET));
        c.event_center_account_check_url = Some(api);
        c.allow_private_targets = true;
    })
    .await
    else {
        return;
    };
    let w = World::new(&app).await;
    let slug = "Uni/Checked";
    let id = linked_course(&app, &w, slug, 5).await;
    wiki.script([Answer::json(
        200,
        &json!({"batchcomplete": "", "query": {"users": [
            {"userid": 11, "name": "Known person"}, {"name": "Ghost", "missing": ""},
        ]}}),
    )]);
    // `X<y` cannot be a username at all: skipped without asking.
    let names = json!(["Known_person", "Ghost", "Bob", "X<y"]);
    assert_success(
        &sync(
            &app,
            "update_event_participants",
            update_body(slug, json!(5), names),
        )
        .await,
    );
    assert_eq!(participants(&app, &id).await, ["Bob", "Known person"]);
    let asked = wiki.received();
    assert_eq!(asked.len(), 1, "only unknown names are asked about");
    assert_eq!(asked[0].path, "/w/api.php");
    assert_eq!(
        asked[0].query,
        "action=query&list=users&ususers=Ghost%7CKnown+person&format=json"
    );
    let log = sync_log(&app, &id).await;
    assert_eq!(log[0]["skipped"], 2);
    assert!(
        log[0]["detail"].as_str().unwrap().contains("Ghost"),
        "{}",
        log[0]
    );

    // The wiki cannot answer: the call fails with a JSON error and nothing changes.
    wiki.script([Answer::status(500)]);
    let r = sync(
        &app,
        "update_event_participants",
        update_body(slug, json!(5), json!(["Someone new"])),
    )
    .await;
    assert_error(&r, 503, "account_check_failed");
    assert_eq!(participants(&app, &id).await, ["Bob", "Known person"]);
}

convene_testkit::on_both_backends!(account_check => account_check_against_the_wiki);
