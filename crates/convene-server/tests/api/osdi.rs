//! CRM sync over OSDI against a real local fake of Action Network: profiles, first sync, the
//! echo, three-way merges, deletions, flags, HTTP discipline, cursors behind a lagging index,
//! resumed runs, one run per profile, schedules, tags, attendances, and a 10,000-person walk.

use convene_server::osdi::engine::Ended;
use convene_testkit::osdi::{OsdiFake, person};
use convene_testkit::{Method, Receiver, Reply, TestApp, app_tests};
use serde_json::{Value, json};
use std::time::Duration;

pub async fn profile(app: &TestApp, fake: &OsdiFake, extra: Value) -> String {
    profile_at(app, &fake.entry_point, extra).await
}

pub async fn profile_at(app: &TestApp, entry_point: &str, extra: Value) -> String {
    let mut body = json!({"name": "an", "entry_point": entry_point, "api_token": "test-token-0000",
        "max_requests_per_second": 1000, "retry": {"backoff_initial_ms": 10, "backoff_max_ms": 50}});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let r = app
        .admin(Method::POST, "/api/v1/osdi/profiles")
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.str("id")
}

/// Queues a run, executes it, and returns it as the API shows it.
pub async fn sync(app: &TestApp, profile: &str, job: &str, origin: &str) -> Reply {
    let r = app
        .admin(
            Method::POST,
            &format!("/api/v1/osdi/profiles/{profile}/runs"),
        )
        .json(&json!({"job": job, "origin": origin}))
        .send()
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.str("state"), "queued");
    let id = r.str("id");
    let ended = app.sync_osdi().await;
    assert!(ended.iter().any(|(run, _)| *run == id), "{ended:?}");
    let run = app
        .admin(
            Method::GET,
            &format!("/api/v1/osdi/runs/{id}?records_limit=1000"),
        )
        .send()
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
    run
}

pub fn count(run: &Reply, outcome: &str) -> u64 {
    run.body["counts"][outcome].as_u64().unwrap_or(0)
}

fn outcomes(run: &Reply) -> Vec<String> {
    run.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn add_person(app: &TestApp, body: Value) -> String {
    let r = app
        .admin(Method::POST, "/api/v1/people")
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.str("id")
}

pub async fn local(app: &TestApp, id: &str) -> Value {
    app.admin(Method::GET, &format!("/api/v1/people/{id}"))
        .send()
        .await
        .body
}

pub async fn people(app: &TestApp) -> Vec<Value> {
    let r = app
        .admin(Method::GET, "/api/v1/people?limit=200")
        .send()
        .await;
    r.body["data"].as_array().unwrap().clone()
}

fn email_status(p: &Value) -> String {
    p["email_addresses"][0]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn profiles_keep_their_token_sealed_and_check_their_settings(app: TestApp) {
        let fake = OsdiFake::start(vec![], 25).await;
        let r = app.admin(Method::POST, "/api/v1/osdi/profiles")
            .json(&json!({"name": "main", "entry_point": fake.entry_point, "api_token": "secret-token-123"}))
            .send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert!(!r.text.contains("secret-token-123"), "the token is write-only");
        assert_eq!(r.body["api_token_set"], true);
        assert_eq!((r.body["max_requests_per_second"].clone(), r.body["page_size"].clone()), (json!(4), json!(25)));
        assert_eq!(r.body["conflict_policy"], "field_merge_newest_wins");
        assert_eq!(r.body["remote_delete_mode"], "unsubscribe");
        let id = r.str("id");

        let dup = app.admin(Method::POST, "/api/v1/osdi/profiles")
            .json(&json!({"name": "main", "entry_point": fake.entry_point, "api_token": "x"})).send().await;
        assert_eq!((dup.status, dup.code()), (409, "profile_name_taken"));
        for (bad, field) in [
            (json!({"name": "b", "entry_point": "ftp://x", "api_token": "x"}), "entry_point"),
            (json!({"name": "b", "entry_point": fake.entry_point}), "api_token"),
            (json!({"name": "b", "entry_point": fake.entry_point, "api_token": "x", "max_requests_per_second": 0}), "max_requests_per_second"),
        ] {
            let r = app.admin(Method::POST, "/api/v1/osdi/profiles").json(&bad).send().await;
            assert_eq!((r.status, r.fields()), (422, vec![field.to_owned()]), "{}", r.text);
        }
        let r = app.admin(Method::POST, "/api/v1/osdi/profiles")
            .json(&json!({"name": "b", "entry_point": fake.entry_point, "api_token": "x", "conflict_policy": "coin_toss"})).send().await;
        assert_eq!(r.status, 422);
        // The reference configuration's shape (Appendix A) is taken as it is.
        let appendix = json!({"name": "appendix", "entry_point": fake.entry_point, "api_token": "test-token-0000",
            "now": "2026-11-22T12:00:00Z", "page_size": 25, "max_requests_per_second": 4, "remote_cursor_overlap_seconds": 60,
            "retry": {"max_attempts": 5, "backoff_initial_ms": 500, "backoff_factor": 2, "backoff_max_ms": 30000, "retry_after_default_s": 5},
            "conflict_policy": "field_merge_newest_wins", "first_link_policy": "union_then_origin_wins", "remote_delete_mode": "unsubscribe",
            "create_local_from_remote": true, "language_map_remote_to_local": {"en": "en_US", "es": "es_MX", "fr": "fr_FR"}, "sync_tags": true});
        let r = app.admin(Method::POST, "/api/v1/osdi/profiles").json(&appendix).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = app.admin(Method::POST, "/api/v1/osdi/profiles")
            .json(&json!({"name": "c", "entry_point": fake.entry_point, "api_token": "x", "page_sise": 25})).send().await;
        assert_eq!(r.status, 422, "a typo is named, not ignored");

        let r = app.admin(Method::PATCH, &format!("/api/v1/osdi/profiles/{id}"))
            .json(&json!({"max_requests_per_second": 10, "schedule": {"every_minutes": 30}})).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!((r.body["max_requests_per_second"].clone(), r.body["name"].clone()), (json!(10), json!("main")));
        assert_eq!(r.body["schedule"], json!({"every_minutes": 30, "job": "people", "origin": "both"}));
        let by_name = app.admin(Method::GET, "/api/v1/osdi/profiles/main").send().await;
        assert_eq!(by_name.str("id"), id);

        let carol = app.user_with_token("Carol").await;
        assert_eq!(app.call(Method::GET, "/api/v1/osdi/profiles").token(&carol).send().await.status, 403);
        // The token still works after the edit: the run authenticates with it.
        let run = sync(&app, &id, "people", "both").await;
        assert_eq!(run.str("state"), "completed", "{}", run.text);
        assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/osdi/profiles/{id}")).send().await.status, 204);
        assert_eq!(app.admin(Method::GET, &format!("/api/v1/osdi/profiles/{id}")).send().await.status, 404);
    }

    async fn a_first_sync_links_fills_and_creates_on_both_sides_then_echoes_nothing(app: TestApp) {
        let mut lauren = person("an-lauren", "Lauren", "Smith", "LSmith@Example.org");
        lauren["languages_spoken"] = json!(["en"]);
        let fake = OsdiFake::start(vec![lauren, person("an-ada", "Ada", "Lovelace", "ada@example.org")], 25).await;
        let local_lauren = add_person(&app, json!({"email": "lsmith@example.org", "family_name": "Smith-Jones",
            "phone": "+12024561111", "language": "en-GB", "tags": ["volunteer"]})).await;
        let grace = add_person(&app, json!({"given_name": "Grace", "family_name": "Hopper", "email": "grace@example.org",
            "tags": ["speaker"]})).await;
        let id = profile(&app, &fake, json!({})).await;

        let run = sync(&app, &id, "people", "both").await;
        assert_eq!(run.str("state"), "completed", "{}", run.text);
        assert_eq!((count(&run, "linked"), count(&run, "created_local"), count(&run, "created_remote")), (1, 1, 1), "{}", run.body["counts"]);

        // First link: gaps filled both ways; different values go to the batch's origin (the
        // pull phase: Action Network).
        let l = local(&app, &local_lauren).await;
        assert_eq!((l["given_name"].clone(), l["family_name"].clone()), (json!("Lauren"), json!("Smith")));
        assert_eq!(l["language"], "en-GB", "a local en-GB stays when Action Network says en");
        let remote = fake.person("an-lauren").unwrap();
        assert_eq!(remote["phone_numbers"][0]["number"], "12024561111", "the local phone filled the gap");
        let put = fake.bodies().into_iter().find(|(line, _)| line.starts_with("PUT /api/v2/people/an-lauren")).unwrap();
        assert_eq!(put.1.as_object().unwrap().keys().collect::<Vec<_>>(), ["phone_numbers"], "only the changed members");

        // Remote-only Ada is now local; local-only Grace went through the signup helper with her tags.
        let all = people(&app).await;
        assert!(all.iter().any(|p| p["email"] == "ada@example.org" && p["given_name"] == "Ada"));
        let signup = fake.bodies().into_iter().find(|(line, _)| line == "POST /api/v2/people").unwrap();
        assert_eq!(signup.1["add_tags"], json!(["speaker"]));
        assert!(signup.1["person"].get("identifiers").is_none(), "identifiers are never sent");
        assert!(fake.people().iter().any(|p| p["given_name"] == "Grace"));
        assert_eq!(local(&app, &grace).await["tags"], json!(["speaker"]));

        // The echo: our own writes come back (Action Network bumped modified_date, our
        // updated_at moved), yet nothing is written anywhere.
        fake.clear_requests();
        let again = sync(&app, &id, "people", "both").await;
        assert_eq!(fake.writes(), Vec::<String>::new(), "{}", again.body["counts"]);
        assert!(outcomes(&again).iter().all(|o| o == "unchanged"), "{:?}", outcomes(&again));
        let webhooks_types = app.admin(Method::GET, "/api/v1/event-types").send().await;
        assert!(webhooks_types.text.contains("osdi.run.completed") && webhooks_types.text.contains("osdi.conflict.flagged"));
    }

    async fn fields_changed_on_both_sides_merge_one_by_one_and_log_the_conflict(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Old", "ann@example.org")], 25).await;
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "remote").await;
        let ann = people(&app).await[0]["id"].as_str().unwrap().to_owned();

        // Action Network changes her given and family name now; Convene changes her given
        // name and address an hour later (by its clock): the later record wins the given name,
        // the family name changed on one side only and travels.
        fake.edit_person("an-1", json!({"given_name": "Annie", "family_name": "New"}));
        app.clock.advance(time::Duration::hours(1));
        let r = app.admin(Method::PATCH, &format!("/api/v1/people/{ann}"))
            .json(&json!({"given_name": "Anna", "address": {"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}}))
            .send().await;
        assert_eq!(r.status, 200);
        fake.clear_requests();
        let run = sync(&app, &id, "people", "both").await;
        let l = local(&app, &ann).await;
        assert_eq!((l["given_name"].clone(), l["family_name"].clone()), (json!("Anna"), json!("New")));
        let remote = fake.person("an-1").unwrap();
        assert_eq!(remote["given_name"], "Anna");
        assert_eq!(remote["postal_addresses"][0]["locality"], "Springfield");
        let record = run.body["records"].as_array().unwrap().iter().find(|r| r["outcome"] == "updated_both").unwrap();
        assert_eq!(record["conflicts"], json!([{"field": "given_name", "winner": "local"}]));
        let put = fake.bodies().into_iter().find(|(l, _)| l.starts_with("PUT ")).unwrap();
        let mut keys: Vec<&String> = put.1.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["given_name", "postal_addresses"], "no family_name: Action Network has it");

        // An exact tie goes to Action Network; with conflict_policy field_merge_local_wins the
        // local side takes every conflict whatever the times.
        let r = app.admin(Method::PATCH, &format!("/api/v1/osdi/profiles/{id}"))
            .json(&json!({"conflict_policy": "field_merge_local_wins"})).send().await;
        assert_eq!(r.status, 200);
        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"family_name": "Local"})).send().await;
        app.clock.advance(time::Duration::hours(-3));
        fake.edit_person("an-1", json!({"family_name": "Remote"}));
        sync(&app, &id, "people", "both").await;
        assert_eq!(fake.person("an-1").unwrap()["family_name"], "Local");
        assert_eq!(local(&app, &ann).await["family_name"], "Local");
    }

    async fn values_cleared_here_stay_cleared_without_flip_flopping(app: TestApp) {
        let mut ann = person("an-1", "Ann", "Lee", "ann@example.org");
        ann["phone_numbers"] = json!([{"primary": true, "number": "12024561111", "status": "subscribed"}]);
        let fake = OsdiFake::start(vec![ann], 25).await;
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "both").await;
        let local_ann = people(&app).await[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(local(&app, &local_ann).await["phone"], "+12024561111");
        app.admin(Method::PATCH, &format!("/api/v1/people/{local_ann}")).json(&json!({"phone": null, "family_name": null})).send().await;
        sync(&app, &id, "people", "both").await;
        let remote = fake.person("an-1").unwrap();
        assert_eq!(remote["family_name"], json!(null), "a name is cleared on Action Network");
        assert_eq!(remote["phone_numbers"][0]["number"], "12024561111", "a phone cannot be");
        fake.clear_requests();
        sync(&app, &id, "people", "both").await;
        sync(&app, &id, "people", "both").await;
        assert!(fake.writes().is_empty(), "{:?}", fake.writes());
        let l = local(&app, &local_ann).await;
        assert_eq!((l["phone"].clone(), l["family_name"].clone()), (json!(null), json!(null)), "still cleared here");
    }

    async fn a_deleted_person_is_unsubscribed_and_tombstoned_never_recreated(app: TestApp) {
        let mut ann_remote = person("an-1", "Ann", "Lee", "ann@example.org");
        ann_remote["phone_numbers"] = json!([{"primary": true, "number": "12024561111", "number_type": "Home", "status": "subscribed"}]);
        let fake = OsdiFake::start(vec![ann_remote], 25).await;
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "both").await;
        let ann = people(&app).await[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/people/{ann}")).send().await.status, 204);
        let run = sync(&app, &id, "people", "local").await;
        assert_eq!(count(&run, "deleted_remote"), 1, "{}", run.body["counts"]);
        let remote = fake.person("an-1").unwrap();
        assert_eq!(email_status(&remote), "unsubscribed");
        let phone = &remote["phone_numbers"][0];
        assert_eq!((&phone["status"], &phone["number_type"]), (&json!("unsubscribed"), &json!("Home")), "the phone keeps its type");
        assert_eq!(remote["given_name"], "Ann", "names stay: blanking is opt-in");

        fake.edit_person("an-1", json!({"given_name": "Annie"}));
        let run = sync(&app, &id, "people", "remote").await;
        assert_eq!(count(&run, "skipped_deleted"), 1, "{}", run.body["counts"]);
        assert!(people(&app).await.is_empty(), "a tombstoned remote person never comes back");
    }

    async fn blanking_is_the_opt_in_delete_mode(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org")], 25).await;
        let id = profile(&app, &fake, json!({"remote_delete_mode": "blank"})).await;
        sync(&app, &id, "people", "both").await;
        let ann = people(&app).await[0]["id"].as_str().unwrap().to_owned();
        app.admin(Method::DELETE, &format!("/api/v1/people/{ann}")).send().await;
        sync(&app, &id, "people", "local").await;
        let remote = fake.person("an-1").unwrap();
        assert_eq!((remote["given_name"].clone(), email_status(&remote)), (json!(null), "unsubscribed".to_owned()), "cleared with U+2400");
        let blanked = fake.bodies().into_iter().rev().find(|(l, _)| l.starts_with("PUT ")).unwrap().1;
        assert_eq!(blanked["family_name"], "\u{2400}");
    }

    async fn an_email_owned_by_someone_else_remotely_is_flagged_not_written(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org"),
            person("an-2", "Bob", "Ray", "bob@example.org")], 25).await;
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "both").await;
        let ann = people(&app).await.into_iter().find(|p| p["given_name"] == "Ann").unwrap()["id"].as_str().unwrap().to_owned();
        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"email": "bob@example.org"})).send().await;
        let run = sync(&app, &id, "people", "local").await;
        assert_eq!(count(&run, "flagged"), 1, "{}", run.body["counts"]);
        assert_eq!(fake.person("an-1").unwrap()["email_addresses"][0]["address"], "ann@example.org", "nothing written");
        let flags = app.admin(Method::GET, "/api/v1/osdi/flags").send().await;
        let flag = &flags.body["data"][0];
        assert_eq!((flag["kind"].clone(), flag["person_id"].clone(), flag["status"].clone()),
            (json!("email_conflict_remote"), json!(ann), json!("open")));

        // A flag parks the pair until resolved, in every direction.
        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"given_name": "Anne"})).send().await;
        let run = sync(&app, &id, "people", "both").await;
        assert!(count(&run, "skipped_flagged") >= 1, "{}", run.body["counts"]);
        let flag_id = flag["id"].as_str().unwrap();
        assert_eq!(app.admin(Method::POST, &format!("/api/v1/osdi/flags/{flag_id}/resolve")).send().await.status, 204);
        assert_eq!(app.admin(Method::POST, &format!("/api/v1/osdi/flags/{flag_id}/resolve")).send().await.status, 404);
        let open = app.admin(Method::GET, "/api/v1/osdi/flags").send().await;
        assert_eq!(open.body["data"].as_array().map(Vec::len), Some(0));
        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"email": "ann@example.org"})).send().await;
        sync(&app, &id, "people", "both").await;
        assert_eq!(fake.person("an-1").unwrap()["given_name"], "Anne", "synced again once resolved");
    }

    async fn several_local_matches_are_flagged_instead_of_guessed(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Sam", "Kim", "family@example.org")], 25).await;
        add_person(&app, json!({"given_name": "Alex", "family_name": "Kim", "email": "family@example.org"})).await;
        add_person(&app, json!({"given_name": "Jo", "family_name": "Kim", "email": "family@example.org"})).await;
        let id = profile(&app, &fake, json!({})).await;
        let run = sync(&app, &id, "people", "remote").await;
        assert_eq!(count(&run, "flagged"), 1, "{}", run.body["counts"]);
        let flags = app.admin(Method::GET, &format!("/api/v1/osdi/flags?profile={id}")).send().await;
        assert_eq!(flags.body["data"][0]["kind"], "ambiguous_match");
        assert_eq!(people(&app).await.len(), 2, "nobody created or linked");

        // Pushing the same people changes nothing on the flagged Action Network person: the
        // signup helper would upsert into it.
        fake.clear_requests();
        let run = sync(&app, &id, "people", "local").await;
        assert_eq!(fake.writes(), Vec::<String>::new(), "{}", run.body["counts"]);
        assert_eq!(count(&run, "skipped_flagged"), 2, "{}", run.body["counts"]);
        assert_eq!(fake.person("an-1").unwrap()["given_name"], "Sam");

        // With email and names, the match is unique.
        let fake2 = OsdiFake::start(vec![person("an-9", "Jo", "Kim", "family@example.org")], 25).await;
        let id2 = profile(&app, &fake2, json!({"name": "second"})).await;
        let run = sync(&app, &id2, "people", "remote").await;
        assert_eq!(count(&run, "linked"), 1, "{}", run.body["counts"]);
    }

    async fn a_second_local_person_with_a_linked_email_is_flagged_not_merged(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org")], 25).await;
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "both").await;
        let twin = add_person(&app, json!({"given_name": "Annette", "email": "ann@example.org"})).await;
        fake.clear_requests();
        let run = sync(&app, &id, "people", "local").await;
        assert_eq!(count(&run, "flagged"), 1, "{}", run.body["counts"]);
        assert!(fake.writes().is_empty(), "no signup upsert into Ann: {:?}", fake.writes());
        let flags = app.admin(Method::GET, "/api/v1/osdi/flags").send().await;
        assert_eq!((flags.body["data"][0]["kind"].clone(), flags.body["data"][0]["person_id"].clone()),
            (json!("email_linked_elsewhere"), json!(twin)));
        assert_eq!(fake.person("an-1").unwrap()["given_name"], "Ann");
    }

    async fn throttling_and_server_errors_are_retried_and_client_errors_fail_one_record(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org")], 25).await;
        let id = profile(&app, &fake, json!({})).await;
        fake.fail_next([(429, Some("0")), (503, None), (502, None)]);
        let run = sync(&app, &id, "people", "remote").await;
        assert_eq!((run.str("state"), count(&run, "created_local")), ("completed".to_owned(), 1), "{}", run.text);

        // A 404 on one person's twin fails that record; the run goes on and completes.
        let ann = people(&app).await[0]["id"].as_str().unwrap().to_owned();
        let bob = add_person(&app, json!({"given_name": "Bob", "email": "bob@example.org"})).await;
        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"given_name": "Anne"})).send().await;
        fake.fail_matching("GET /api/v2/people/an-1", 404, 1);
        let run = sync(&app, &id, "people", "local").await;
        assert_eq!(run.str("state"), "completed", "{}", run.text);
        assert_eq!((count(&run, "failed"), count(&run, "created_remote")), (1, 1), "{}", run.body["counts"]);
        let error = &run.body["errors"][0];
        assert_eq!((error["kind"].clone(), error["status"].clone(), error["retryable"].clone()), (json!("http"), json!(404), json!(false)));
        assert!(error["excerpt"].as_str().unwrap().contains("Couldn't find"));
        assert!(local(&app, &bob).await["id"].is_string());
    }

    async fn a_pulled_email_another_local_person_has_is_kept_out_and_flagged(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org"), person("an-2", "Bob", "Ray", "bob@example.org")], 10).await;
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "remote").await;
        let all = people(&app).await;
        let of = |name: &str| all.iter().find(|p| p["given_name"] == name).unwrap()["id"].as_str().unwrap().to_owned();
        let (ann, bob) = (of("Ann"), of("Bob"));
        // Bob's family email, on Action Network: Ann has it locally.
        fake.edit_person("an-2", json!({"family_name": "Ray-Lee", "email_addresses": [{"primary": true, "address": "ann@example.org", "status": "subscribed"}]}));
        let run = sync(&app, &id, "people", "remote").await;
        assert_eq!(run.str("state"), "completed", "{}", run.text);
        let bob_now = local(&app, &bob).await;
        assert_eq!((bob_now["email"].as_str(), bob_now["family_name"].as_str()), (Some("bob@example.org"), Some("Ray-Lee")), "the other fields apply; the email stays");
        assert_eq!(local(&app, &ann).await["email"], "ann@example.org");
        let flags = app.admin(Method::GET, "/api/v1/osdi/flags").send().await;
        let flag = &flags.body["data"][0];
        assert_eq!((&flag["kind"], &flag["person_id"], &flag["remote_id"]), (&json!("email_collision_local"), &json!(bob), &json!("an-2")), "{}", flags.text);
        assert!(flag["detail"].as_str().unwrap().contains(&ann), "names both people: {flag}");
        // Parked until resolved.
        fake.edit_person("an-2", json!({"given_name": "Robert"}));
        let run = sync(&app, &id, "people", "remote").await;
        assert!(count(&run, "skipped_flagged") >= 1, "{}", run.body["counts"]);
        assert_eq!(local(&app, &bob).await["given_name"], "Bob");
    }

    async fn a_malformed_record_is_written_nowhere_and_the_run_goes_on(app: TestApp) {
        let mut odd = person("an-2", "Odd", "Types", "odd@example.org");
        odd["email_addresses"] = json!("odd@example.org");
        let mut undated = person("an-3", "No", "Date", "undated@example.org");
        undated["modified_date"] = json!("last tuesday");
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org"), odd, undated], 10).await;
        let id = profile(&app, &fake, json!({})).await;
        let run = sync(&app, &id, "people", "remote").await;
        assert_eq!(run.str("state"), "completed", "{}", run.text);
        assert_eq!((count(&run, "created_local"), count(&run, "failed")), (1, 2), "{}", run.body["counts"]);
        assert_eq!(people(&app).await.len(), 1, "only Ann became a contact");
        let errors = run.body["errors"].as_array().unwrap();
        let rows: Vec<(&str, &str)> = errors.iter().map(|e| (e["kind"].as_str().unwrap(), e["remote_id"].as_str().unwrap())).collect();
        assert_eq!(rows, [("malformed", "an-2"), ("malformed", "an-3")], "{}", run.text);
        assert!(errors[0]["excerpt"].as_str().unwrap().starts_with("email_addresses has the wrong type"));
        assert!(errors[1]["excerpt"].as_str().unwrap().contains("last tuesday"));
    }

    async fn a_refused_entry_point_aborts_with_its_status(app: TestApp) {
        let fake = OsdiFake::start(vec![], 10).await;
        let id = profile(&app, &fake, json!({})).await;
        fake.fail_next([(401, None)]);
        let run = sync(&app, &id, "people", "remote").await;
        assert_eq!(run.str("state"), "aborted", "{}", run.text);
        let error = &run.body["errors"][0];
        assert_eq!((&error["kind"], &error["status"]), (&json!("aborted"), &json!(401)), "{}", run.text);
        assert!(error["excerpt"].as_str().unwrap().contains("entry point"), "{}", run.text);
    }

    async fn an_aborted_run_moves_no_cursor(app: TestApp) {
        let fake = OsdiFake::start((0..30).map(|i| person(&format!("an-{i}"), "P", &format!("F{i}"), &format!("p{i}@example.org"))).collect(), 10).await;
        let id = profile(&app, &fake, json!({})).await;
        let ops = Receiver::start().await;
        let r = app.admin(Method::POST, "/api/v1/webhooks").json(&json!({"url": ops.url, "event_types": ["connector.failed"]})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        // Page 1 is read, then five 500s on page 2 use up the attempts: the run aborts.
        fake.fail_matching("page=2", 500, 5);
        let r = app.admin(Method::POST, &format!("/api/v1/osdi/profiles/{id}/runs")).json(&json!({"origin": "remote"})).send().await;
        let run = r.str("id");
        let ended = app.sync_osdi().await;
        assert!(matches!(ended[0].1, Ended::Aborted(_)), "{ended:?}");
        let r = app.admin(Method::GET, &format!("/api/v1/osdi/runs/{run}")).send().await;
        assert_eq!(r.str("state"), "aborted");
        assert!(r.body["error"].as_str().unwrap().contains("500"), "{}", r.text);
        let error = &r.body["errors"][0];
        assert_eq!((&error["kind"], &error["status"]), (&json!("aborted"), &json!(500)), "{}", r.text);
        app.drain().await;
        let told: Vec<Value> = ops.received().iter().map(|r| r.json()).collect();
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!((told[0]["connector"].as_str(), told[0]["kind"].as_str(), told[0]["subject"].as_str()), (Some("osdi"), Some("osdi.people"), Some(run.as_str())));
        // No cursor moved: the next run walks from the start, without a modified filter.
        fake.clear_requests();
        let next = sync(&app, &id, "people", "remote").await;
        assert_eq!(next.str("state"), "completed");
        let first_walk = fake.requests().into_iter().find(|r| r.starts_with("GET /api/v2/people")).unwrap();
        assert!(!first_walk.contains("filter"), "{first_walk}");
        // That one completed: the cursor is run start − 60 s, used as a filter from now on.
        fake.clear_requests();
        sync(&app, &id, "people", "remote").await;
        let walk = fake.requests().into_iter().find(|r| r.starts_with("GET /api/v2/people")).unwrap();
        assert!(walk.contains("filter=modified_date+gt"), "{walk}");
        app.drain().await;
        assert_eq!(ops.received().len(), 1, "completed runs fail nothing");
    }

    async fn the_overlap_covers_the_lagging_filter_index(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org")], 25).await;
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "remote").await;
        let ann = people(&app).await[0]["id"].as_str().unwrap().to_owned();
        // The edit is not in the filter index yet when the next run walks.
        fake.set_index_lag(Duration::from_secs(3600));
        fake.edit_person("an-1", json!({"given_name": "Annie"}));
        sync(&app, &id, "people", "remote").await;
        assert_eq!(local(&app, &ann).await["given_name"], "Ann");
        // The index caught up; the cursor was set 60 s before that run's start, so the edit
        // is still found.
        fake.set_index_lag(Duration::ZERO);
        sync(&app, &id, "people", "remote").await;
        assert_eq!(local(&app, &ann).await["given_name"], "Annie");
    }

    async fn a_run_whose_node_stopped_resumes_at_its_last_page(app: TestApp) {
        let fake = OsdiFake::start((0..40).map(|i| person(&format!("an-{i}"), "P", &format!("F{i}"), &format!("p{i}@example.org"))).collect(), 10).await;
        let id = profile(&app, &fake, json!({"max_requests_per_second": 1})).await;
        let r = app.admin(Method::POST, &format!("/api/v1/osdi/profiles/{id}/runs")).json(&json!({"origin": "remote"})).send().await;
        let run_id = r.str("id");
        // The node stops mid-walk (the future is dropped, as a killed process would).
        let stopped = tokio::time::timeout(Duration::from_millis(1500), app.sync_osdi()).await;
        assert!(stopped.is_err(), "the walk takes longer than that at 1 request/s");
        let seen = app.admin(Method::GET, &format!("/api/v1/osdi/runs/{run_id}")).send().await;
        assert_eq!(seen.str("state"), "running");
        let saved: u64 = seen.body["counts"]["created_local"].as_u64().unwrap_or(0);
        assert!(saved >= 10, "at least one page saved: {}", seen.body["counts"]);
        // Nobody takes it while its lease holds; after that another round resumes it.
        assert!(app.sync_osdi().await.is_empty());
        app.clock.advance(time::Duration::minutes(3));
        fake.clear_requests();
        let ended = app.sync_osdi().await;
        assert_eq!(ended, vec![(run_id.clone(), Ended::Completed)]);
        let walked: Vec<String> = fake.requests().into_iter().filter(|r| r.starts_with("GET /api/v2/people")).collect();
        assert!(!walked[0].ends_with("per_page=25"), "resumed at a later page, not the first: {walked:?}");
        let done = app.admin(Method::GET, &format!("/api/v1/osdi/runs/{run_id}")).send().await;
        assert_eq!(people(&app).await.len(), 40, "everyone exactly once");
        assert!(done.body["counts"]["created_local"].as_u64().unwrap() >= 40 - 10);
    }

    async fn a_profile_has_one_run_at_a_time_and_schedules_queue_runs(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org")], 25).await;
        let id = profile(&app, &fake, json!({"schedule": {"every_minutes": 60}})).await;
        let first = app.admin(Method::POST, &format!("/api/v1/osdi/profiles/{id}/runs")).json(&json!({})).send().await;
        assert_eq!(first.status, 202);
        let second = app.admin(Method::POST, &format!("/api/v1/osdi/profiles/{id}/runs")).json(&json!({"job": "tags"})).send().await;
        assert_eq!((second.status, second.code()), (409, "run_in_progress"));
        let bad = app.admin(Method::POST, &format!("/api/v1/osdi/profiles/{id}/runs")).json(&json!({"job": "everything"})).send().await;
        assert_eq!(bad.status, 422);
        assert_eq!(app.sync_osdi().await.len(), 1, "the queued run; the schedule sees a run already");
        assert!(app.sync_osdi().await.is_empty(), "not due yet");
        app.clock.advance(time::Duration::minutes(61));
        let ended = app.sync_osdi().await;
        assert_eq!(ended.len(), 1, "due again: queued and executed");
        let runs = app.admin(Method::GET, &format!("/api/v1/osdi/profiles/{id}/runs")).send().await;
        assert_eq!(runs.body["data"].as_array().map(Vec::len), Some(2));
    }

    async fn tags_travel_both_ways(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org")], 25).await;
        let donor = fake.add_tag("donor");
        fake.tag(&donor, "an-1");
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "both").await;
        let ann = people(&app).await[0]["id"].as_str().unwrap().to_owned();
        let run = sync(&app, &id, "tags", "both").await;
        assert_eq!(count(&run, "tagged_local"), 1, "{}", run.body["counts"]);
        assert_eq!(local(&app, &ann).await["tags"], json!(["donor"]));

        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"tags": ["donor", "volunteer"]})).send().await;
        let run = sync(&app, &id, "tags", "local").await;
        assert_eq!(count(&run, "tagged_remote"), 1, "{}", run.body["counts"]);
        assert_eq!(fake.tags_of("an-1"), ["donor", "volunteer"], "the tag was created, then the tagging");

        // With tag sync off, no tags run is queued.
        app.admin(Method::PATCH, &format!("/api/v1/osdi/profiles/{id}")).json(&json!({"sync_tags": false})).send().await;
        let off = app.admin(Method::POST, &format!("/api/v1/osdi/profiles/{id}/runs")).json(&json!({"job": "tags"})).send().await;
        assert_eq!((off.status, off.fields()), (422, vec!["job".to_owned()]));
        app.admin(Method::PATCH, &format!("/api/v1/osdi/profiles/{id}")).json(&json!({"sync_tags": true})).send().await;

        // Local origin: a tag taken off locally is taken off remotely.
        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"tags": ["donor"]})).send().await;
        let run = sync(&app, &id, "tags", "local").await;
        assert_eq!(count(&run, "untagged_remote"), 1, "{}", run.body["counts"]);
        assert_eq!(fake.tags_of("an-1"), ["donor"]);
    }

    async fn attendances_travel_both_ways_for_linked_events(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org"),
            person("an-2", "Bob", "Ray", "bob@example.org")], 25).await;
        let id = profile(&app, &fake, json!({})).await;
        let event = app.admin(Method::POST, "/api/v1/events").json(&json!({"slug": "meetup", "title": "Meetup"})).send().await;
        let event_id = event.str("id");
        let r = app.admin(Method::PUT, &format!("/api/v1/osdi/profiles/{id}/events/{event_id}"))
            .json(&json!({"remote_event_id": "ev-1"})).send().await;
        assert_eq!(r.status, 204, "{}", r.text);
        // Bob signed up on Action Network's event page before anyone synced people.
        fake.add_attendance("ev-1", "an-2", "accepted");
        let run = sync(&app, &id, "attendances", "remote").await;
        assert_eq!(count(&run, "attendance_pulled"), 1, "{}", run.body["counts"]);
        let list = app.admin(Method::GET, &format!("/api/v1/events/{event_id}/attendances")).send().await;
        assert_eq!(list.body["data"][0]["status"], "accepted");
        assert_eq!(list.body["data"][0]["source"], "fake-page");

        sync(&app, &id, "people", "both").await;
        let ann = people(&app).await.into_iter().find(|p| p["given_name"] == "Ann").unwrap()["id"].as_str().unwrap().to_owned();
        let bad = app.admin(Method::POST, &format!("/api/v1/events/{event_id}/attendances"))
            .json(&json!({"person_id": ann, "status": "maybe"})).send().await;
        assert_eq!((bad.status, bad.fields()), (422, vec!["status".to_owned()]));
        let r = app.admin(Method::POST, &format!("/api/v1/events/{event_id}/attendances"))
            .json(&json!({"person_id": ann, "status": "tentative"})).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        let run = sync(&app, &id, "attendances", "local").await;
        assert_eq!(count(&run, "attendance_pushed"), 1, "{}", run.body["counts"]);
        let remote = fake.attendances("ev-1");
        assert!(remote.iter().any(|a| a["status"] == "tentative" && a["_links"]["osdi:person"]["href"].as_str().unwrap().ends_with("/an-1")));
        fake.clear_requests();
        sync(&app, &id, "attendances", "local").await;
        assert!(fake.writes().is_empty(), "nothing changed, nothing written: {:?}", fake.writes());
    }

    async fn ten_thousand_people_walk_through_the_throttle(app: TestApp) {
        let many: Vec<Value> = (0..10_000).map(|i| person(&format!("an-{i}"), "Given", &format!("F{i}"), &format!("p{i}@example.org"))).collect();
        let fake = OsdiFake::start(many, 25).await;
        let id = profile(&app, &fake, json!({"max_requests_per_second": 400})).await;
        let started = std::time::Instant::now();
        let run = sync(&app, &id, "people", "remote").await;
        assert_eq!(run.str("state"), "completed", "{}", run.text);
        assert_eq!(count(&run, "created_local"), 10_000);
        // 401 pages (the last one empty) at 400 requests/s cannot take less than a second.
        let pages = fake.requests().iter().filter(|r| r.starts_with("GET /api/v2/people")).count();
        assert_eq!(pages, 401);
        assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    }
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn runs_and_flags_reach_their_webhooks(app: TestApp) {
        let rx = Receiver::start().await;
        let r = app.admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": rx.url, "event_types": ["osdi.run.completed", "osdi.conflict.flagged", "person.created"]}))
            .send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let fake = OsdiFake::start(vec![person("an-1", "Sam", "Kim", "kim@example.org"), person("an-2", "Ann", "Lee", "ann@example.org")], 25).await;
        add_person(&app, json!({"given_name": "Alex", "family_name": "Kim", "email": "kim@example.org"})).await;
        add_person(&app, json!({"given_name": "Jo", "family_name": "Kim", "email": "kim@example.org"})).await;
        let id = profile(&app, &fake, json!({})).await;
        let run = sync(&app, &id, "people", "remote").await;
        app.drain().await;
        let types: Vec<String> = rx.received().iter().map(|r| r.json()["event_metadata"]["event_type"].as_str().unwrap().to_owned()).collect();
        assert_eq!(types.iter().filter(|t| *t == "person.created").count(), 3, "two by the API, Ann by the sync: {types:?}");
        let bodies: Vec<Value> = rx.received().iter().map(|r| r.json()).collect();
        let flagged = bodies.iter().find(|b| b["event_metadata"]["event_type"] == "osdi.conflict.flagged").unwrap();
        assert_eq!((flagged["flag"]["kind"].clone(), flagged["flag"]["remote_id"].clone()), (json!("ambiguous_match"), json!("an-1")));
        let done = bodies.iter().find(|b| b["event_metadata"]["event_type"] == "osdi.run.completed").unwrap();
        assert_eq!(done["run"]["run_id"], run.body["id"]);
        assert_eq!((done["run"]["state"].clone(), done["run"]["counts"]["created_local"].clone()), (json!("completed"), json!(1)));
    }
}
