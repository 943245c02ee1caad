//! CRM sync beyond the first round: tag changes in people runs, donations both ways, changes
//! synced as they happen, merges, profiles limited to a tag, several schedules.

use super::osdi::{add_person, count, local, people, profile, sync};
use convene_testkit::osdi::{OsdiFake, person};
use convene_testkit::{Method, app_tests};
use serde_json::json;

/// Where in the fake's request log the first request containing `text` is.
fn position(fake: &OsdiFake, text: &str) -> usize {
    let log = fake.requests();
    log.iter()
        .position(|r| r.contains(text))
        .unwrap_or_else(|| panic!("no request with {text}: {log:?}"))
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn a_people_run_carries_the_tag_changes_of_the_people_it_visits(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org")], 25).await;
        let donor = fake.add_tag("donor");
        fake.tag(&donor, "an-1");
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "both").await;
        sync(&app, &id, "tags", "both").await;
        let ann = people(&app).await[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(local(&app, &ann).await["tags"], json!(["donor"]));

        // Only the tags change: "donor" becomes "Donors". The stale tagging goes first.
        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"tags": ["Donors"]})).send().await;
        fake.clear_requests();
        let run = sync(&app, &id, "people", "both").await;
        assert_eq!((count(&run, "untagged_remote"), count(&run, "tagged_remote")), (1, 1), "{}", run.body["counts"]);
        assert_eq!(fake.tags_of("an-1"), ["Donors"]);
        assert!(position(&fake, "DELETE /api/v2/tags/") < position(&fake, "POST /api/v2/tags"), "{:?}", fake.requests());

        // A person the signup helper tagged has no tagging href stored: it is looked up.
        let bob = add_person(&app, json!({"given_name": "Bob", "family_name": "Ray", "email": "bob@example.org", "tags": ["x"]})).await;
        let run = sync(&app, &id, "people", "local").await;
        assert_eq!(count(&run, "created_remote"), 1, "{}", run.body["counts"]);
        let twin = fake.people().into_iter().find(|p| p["email_addresses"][0]["address"] == "bob@example.org").unwrap();
        let twin_id = twin["identifiers"][0].as_str().unwrap().trim_start_matches("action_network:").to_owned();
        assert_eq!(fake.tags_of(&twin_id), ["x"]);
        app.admin(Method::PATCH, &format!("/api/v1/people/{bob}")).json(&json!({"tags": []})).send().await;
        let run = sync(&app, &id, "people", "local").await;
        assert_eq!(count(&run, "untagged_remote"), 1, "{}", run.body["counts"]);
        assert!(fake.tags_of(&twin_id).is_empty());

        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"tags": []})).send().await;
        let run = sync(&app, &id, "people", "both").await;
        assert_eq!(count(&run, "untagged_remote"), 1, "{}", run.body["counts"]);
        assert!(fake.tags_of("an-1").is_empty());

        // Nothing changed since: a people run writes nothing.
        fake.clear_requests();
        sync(&app, &id, "people", "both").await;
        assert!(fake.writes().is_empty(), "{:?}", fake.writes());
    }
}

/// The jobs of the runs the scheduler queued and executed in one pass.
async fn scheduled_jobs(app: &convene_testkit::TestApp) -> Vec<String> {
    let mut jobs = Vec::new();
    for (run, _) in app.sync_osdi().await {
        let r = app
            .admin(Method::GET, &format!("/api/v1/osdi/runs/{run}"))
            .send()
            .await;
        jobs.push(r.str("job"));
    }
    jobs
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn a_profile_keeps_several_schedules_each_on_its_own_clock(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org")], 25).await;
        let r = app.admin(Method::POST, "/api/v1/osdi/profiles")
            .json(&json!({"name": "dup", "entry_point": fake.entry_point, "api_token": "t",
                "schedules": [{"every_minutes": 15, "job": "tags"}, {"every_minutes": 60, "job": "tags"}]})).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["schedules".to_owned()]), "{}", r.text);

        let id = profile(&app, &fake, json!({"schedules": [{"every_minutes": 15, "job": "people"},
            {"every_minutes": 60, "job": "tags", "origin": "remote"}]})).await;
        // Both are due; one run per profile at a time, so the second waits for the next pass.
        assert_eq!(scheduled_jobs(&app).await, ["people"]);
        assert_eq!(scheduled_jobs(&app).await, ["tags"]);
        assert!(scheduled_jobs(&app).await.is_empty());
        app.clock.advance(time::Duration::minutes(16));
        assert_eq!(scheduled_jobs(&app).await, ["people"]);
        assert!(scheduled_jobs(&app).await.is_empty(), "tags is not due for 44 minutes more");
        app.clock.advance(time::Duration::minutes(45));
        assert_eq!(scheduled_jobs(&app).await, ["people"]);
        assert_eq!(scheduled_jobs(&app).await, ["tags"]);
        let shown = app.admin(Method::GET, &format!("/api/v1/osdi/profiles/{id}")).send().await;
        assert_eq!(shown.body["schedules"][1]["job"], "tags", "{}", shown.text);
    }
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn a_profile_limited_to_a_tag_syncs_only_the_people_who_carry_it(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org"),
            person("an-2", "Bob", "Ray", "bob@example.org"), person("an-3", "Cy", "New", "cy@example.org")], 25).await;
        let ann = add_person(&app, json!({"given_name": "Ann", "family_name": "Lee", "email": "ann@example.org", "tags": ["members"]})).await;
        let bob = add_person(&app, json!({"given_name": "Bob", "family_name": "Ray", "email": "bob@example.org"})).await;
        let dee = add_person(&app, json!({"given_name": "Dee", "family_name": "Out", "email": "dee@example.org"})).await;
        let bad = app.admin(Method::POST, "/api/v1/osdi/profiles").json(&json!({"name": "x",
            "entry_point": fake.entry_point, "api_token": "t", "limit_to_tag": " "})).send().await;
        assert_eq!((bad.status, bad.fields()), (422, vec!["limit_to_tag".to_owned()]));
        let id = profile(&app, &fake, json!({"limit_to_tag": "Members"})).await;

        let run = sync(&app, &id, "people", "both").await;
        assert_eq!(run.str("state"), "completed", "{}", run.text);
        // Ann is linked; Bob is not matched (he lacks the tag), Cy is not created, Dee not pushed.
        assert_eq!(count(&run, "created_local"), 0, "{}", run.body["counts"]);
        assert_eq!(count(&run, "created_remote"), 0, "{}", run.body["counts"]);
        assert_eq!(people(&app).await.len(), 3);
        assert!(fake.people().iter().all(|p| p["email_addresses"][0]["address"] != "dee@example.org"));
        let linked = app.admin(Method::GET, &format!("/api/v1/osdi/runs/{}?records_limit=1000", run.str("id"))).send().await;
        let of = |pid: &str| linked.body["records"].as_array().unwrap().iter()
            .filter(|r| r["person_id"] == pid).map(|r| r["outcome"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert!(of(&bob).iter().all(|o| o == "skipped_out_of_scope") && !of(&bob).is_empty(), "{:?}", of(&bob));
        assert_eq!(of(&dee), ["skipped_out_of_scope"]);
        assert!(!of(&ann).iter().any(|o| o == "skipped_out_of_scope"), "{:?}", of(&ann));

        // Ann loses the tag: her changes stay here, Action Network's stay there, nothing is deleted.
        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"tags": [], "given_name": "Annie"})).send().await;
        fake.edit_person("an-1", json!({"family_name": "Lee-Park"}));
        fake.clear_requests();
        let run = sync(&app, &id, "people", "both").await;
        assert_eq!(count(&run, "deleted_remote"), 0, "{}", run.body["counts"]);
        assert!(fake.writes().is_empty(), "{:?}", fake.writes());
        assert_eq!(local(&app, &ann).await["family_name"], "Lee");
        assert_eq!(fake.person("an-1").unwrap()["given_name"], "Ann");
    }
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn donations_travel_both_ways_once(app: TestApp) {
        let rx = convene_testkit::Receiver::start().await;
        let r = app.admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": rx.url, "event_types": ["donation.created", "donation.synced"]})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org"),
            person("an-2", "Bob", "Ray", "bob@example.org")], 25).await;
        let page = format!("{}fundraising_pages/spring", fake.entry_point);
        let id = profile(&app, &fake, json!({"fundraising_page": page})).await;
        sync(&app, &id, "people", "remote").await;
        let everyone = people(&app).await;
        let named = |n: &str| everyone.iter().find(|p| p["given_name"] == n).unwrap()["id"].as_str().unwrap().to_owned();
        let (ann, bob) = (named("Ann"), named("Bob"));

        // Pull: Ann's gift arrives; a gift whose donor Action Network hides is skipped quietly.
        let gift = fake.add_donation("an-1", "25.00");
        fake.add_donation("an-hidden", "9.00");
        let run = sync(&app, &id, "donations", "both").await;
        assert_eq!(run.str("state"), "completed", "{}", run.text);
        assert_eq!((count(&run, "donation_pulled"), count(&run, "skipped_phantom"), count(&run, "errors")), (1, 1, 0), "{}", run.body["counts"]);
        let list = app.admin(Method::GET, &format!("/api/v1/people/{ann}/donations")).send().await;
        assert_eq!(list.status, 200, "{}", list.text);
        let d = &list.body["data"][0];
        assert_eq!((d["amount"].clone(), d["currency"].clone(), d["remote_id"].clone()), (json!("25.00"), json!("USD"), json!(gift)), "{}", list.text);

        // The API: decimal strings and ISO 4217 only.
        let path = format!("/api/v1/people/{bob}/donations");
        for (body, field) in [
            (json!({"amount": "-1", "currency": "EUR", "received_at": "2026-12-01T10:00:00Z"}), "amount"),
            (json!({"amount": "40", "currency": "XYZ", "received_at": "2026-12-01T10:00:00Z"}), "currency"),
            (json!({"amount": "40", "currency": "EUR", "received_at": "yesterday"}), "received_at"),
            (json!({"amount": "40", "currency": "EUR", "received_at": "2026-12-01T10:00:00Z", "recurrence": "fortnightly"}), "recurrence"),
        ] {
            let r = app.admin(Method::POST, &path).json(&body).send().await;
            assert_eq!((r.status, r.fields()), (422, vec![field.to_owned()]), "{body}: {}", r.text);
        }
        let r = app.admin(Method::POST, &path).json(&json!({"amount": 40, "currency": "EUR", "received_at": "2026-12-01T10:00:00Z"})).send().await;
        assert!(r.status == 400 || r.status == 422, "a number is no amount: {}", r.text);
        let r = app.admin(Method::POST, "/api/v1/people/0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e60/donations")
            .json(&json!({"amount": "40", "currency": "EUR", "received_at": "2026-12-01T10:00:00Z"})).send().await;
        assert_eq!(r.status, 404);
        let r = app.admin(Method::POST, &path)
            .json(&json!({"amount": "40", "currency": "eur", "received_at": "2026-12-01T10:00:00Z", "recurrence": "monthly", "referrer": "newsletter"})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!((r.str("amount"), r.str("currency")), ("40.00".to_owned(), "EUR".to_owned()));
        let local = r.str("id");

        // Push: created once under the fundraising page, with our id among its identifiers.
        let run = sync(&app, &id, "donations", "local").await;
        assert_eq!(count(&run, "donation_pushed"), 1, "{}", run.body["counts"]);
        let pushed = fake.donations().into_iter().find(|d| d["_links"]["osdi:person"]["href"].as_str().unwrap().ends_with("/an-2")).unwrap();
        assert_eq!((pushed["amount"].clone(), pushed["currency"].clone(), pushed["action_network:recurrence"]["period"].clone()), (json!("40.00"), json!("eur"), json!("Monthly")), "{pushed}");
        assert!(pushed["identifiers"].as_array().unwrap().contains(&json!(format!("convene:{local}"))), "{pushed}");
        let mine = app.admin(Method::GET, &path).send().await;
        assert!(mine.body["data"][0]["remote_id"].is_string(), "{}", mine.text);

        // Again, both ways: nothing is pulled back, nothing sent twice.
        fake.clear_requests();
        let run = sync(&app, &id, "donations", "both").await;
        assert_eq!((count(&run, "donation_pulled"), count(&run, "donation_pushed")), (0, 0), "{}", run.body["counts"]);
        assert!(fake.writes().is_empty(), "{:?}", fake.writes());
        assert_eq!(app.admin(Method::GET, &path).send().await.body["data"].as_array().map(Vec::len), Some(1));
        app.drain().await;
        let types: Vec<String> = rx.received().iter().map(|r| r.json()["event_metadata"]["event_type"].as_str().unwrap().to_owned()).collect();
        let n = |t: &str| types.iter().filter(|x| *x == t).count();
        assert_eq!((n("donation.created"), n("donation.synced")), (2, 1), "{types:?}");
    }
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn without_a_donations_collection_each_fundraising_page_is_walked(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org")], 25).await;
        fake.hide_link("osdi:donations");
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "remote").await;
        let ann = people(&app).await[0]["id"].as_str().unwrap().to_owned();
        fake.add_donation("an-1", "12.50");
        fake.clear_requests();
        let run = sync(&app, &id, "donations", "remote").await;
        assert_eq!((run.str("state"), count(&run, "donation_pulled")), ("completed".to_owned(), 1), "{}", run.text);
        let asked = fake.requests();
        assert!(asked.iter().any(|r| r.starts_with("GET /api/v2/fundraising_pages/spring/donations")), "{asked:?}");
        assert!(!asked.iter().any(|r| r.starts_with("GET /api/v2/donations")), "{asked:?}");
        let gifts = app.admin(Method::GET, &format!("/api/v1/people/{ann}/donations")).send().await;
        assert_eq!(gifts.body["data"][0]["amount"], "12.50", "{}", gifts.text);
        // The cursor moved: a second run reads the page again, filtered, and pulls nothing.
        let run = sync(&app, &id, "donations", "remote").await;
        assert_eq!(count(&run, "donation_pulled"), 0, "{}", run.body["counts"]);
    }
}
