//! CRM changes as they happen: realtime one-person syncs (coalesced, no echo) and merges.

use super::osdi::{add_person, count, local, people, profile, sync};
use convene_testkit::osdi::{OsdiFake, person};
use convene_testkit::{Method, app_tests};
use serde_json::{Value, json};

/// The jobs of the profile's runs, newest first.
async fn run_jobs_of(app: &convene_testkit::TestApp, profile: &str) -> Vec<String> {
    let r = app
        .admin(
            Method::GET,
            &format!("/api/v1/osdi/profiles/{profile}/runs"),
        )
        .send()
        .await;
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["job"].as_str().unwrap().to_owned())
        .collect()
}

fn named<'a>(all: &'a [Value], given: &str) -> &'a str {
    all.iter().find(|p| p["given_name"] == given).unwrap()["id"]
        .as_str()
        .unwrap()
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn a_realtime_profile_syncs_each_changed_person_on_its_own(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org")], 25).await;
        let id = profile(&app, &fake, json!({"realtime": true})).await;
        sync(&app, &id, "people", "both").await;
        let ann = people(&app).await[0]["id"].as_str().unwrap().to_owned();
        // The run's own writes queued nothing: no echo.
        assert_eq!(app.run_jobs().await, 0);

        // Two edits in a row: one job, one one-person run, the latest state.
        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"given_name": "Annie"})).send().await;
        app.admin(Method::PATCH, &format!("/api/v1/people/{ann}")).json(&json!({"given_name": "Annette", "tags": ["volunteer"]})).send().await;
        fake.clear_requests();
        assert_eq!(app.run_jobs().await, 1, "coalesced per person");
        assert_eq!(fake.person("an-1").unwrap()["given_name"], "Annette");
        assert_eq!(fake.tags_of("an-1"), ["volunteer"]);
        assert_eq!(run_jobs_of(&app, &id).await, ["person", "people"]);
        let runs = app.admin(Method::GET, &format!("/api/v1/osdi/profiles/{id}/runs")).send().await;
        assert_eq!(runs.body["data"][0]["state"], "completed", "{}", runs.text);

        // A person made here is created there; a deletion unsubscribes the twin.
        let bob = add_person(&app, json!({"given_name": "Bob", "family_name": "Ray", "email": "bob@example.org"})).await;
        app.run_jobs().await;
        assert!(fake.people().iter().any(|p| p["email_addresses"][0]["address"] == "bob@example.org"));
        app.admin(Method::DELETE, &format!("/api/v1/people/{ann}")).send().await;
        app.run_jobs().await;
        assert_eq!(fake.person("an-1").unwrap()["email_addresses"][0]["status"], "unsubscribed");
        assert!(local(&app, &bob).await["id"].is_string());

        // A profile without realtime queues nothing; manual person runs are refused.
        app.admin(Method::PATCH, &format!("/api/v1/osdi/profiles/{id}")).json(&json!({"realtime": false})).send().await;
        app.admin(Method::PATCH, &format!("/api/v1/people/{bob}")).json(&json!({"given_name": "Robert"})).send().await;
        assert_eq!(app.run_jobs().await, 0);
        let r = app.admin(Method::POST, &format!("/api/v1/osdi/profiles/{id}/runs")).json(&json!({"job": "person"})).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["job".to_owned()]));
    }

    async fn merging_people_moves_what_they_have_and_parks_two_twins(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ann", "Lee", "ann@example.org"),
            person("an-2", "Anne", "Lee", "anne.lee@example.org"), person("an-3", "Cy", "New", "cy@example.org")], 25).await;
        let id = profile(&app, &fake, json!({})).await;
        sync(&app, &id, "people", "remote").await;
        let all = people(&app).await;
        let (ann, anne, cy) = (named(&all, "Ann").to_owned(), named(&all, "Anne").to_owned(), named(&all, "Cy").to_owned());
        let dee = add_person(&app, json!({"given_name": "Dee", "tags": ["new"]})).await;
        app.admin(Method::PATCH, &format!("/api/v1/people/{anne}")).json(&json!({"tags": ["donor"], "phone": "+15555550101", "do_not_sms": true})).send().await;
        let r = app.admin(Method::POST, &format!("/api/v1/people/{anne}/donations"))
            .json(&json!({"amount": "10", "currency": "USD", "received_at": "2026-12-01T10:00:00Z"})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let event = app.admin(Method::POST, "/api/v1/events").json(&json!({"slug": "meetup", "title": "Meetup"})).send().await.str("id");
        let r = app.admin(Method::POST, &format!("/api/v1/events/{event}/attendances")).json(&json!({"person_id": anne, "status": "accepted"})).send().await;
        assert_eq!(r.status, 200, "{}", r.text);

        let merge = |gone: String, into: Value| {
            let app = &app;
            async move { app.admin(Method::POST, &format!("/api/v1/people/{gone}/merge")).json(&json!({"into": into})).send().await }
        };
        let r = merge(anne.clone(), json!(anne)).await;
        assert_eq!((r.status, r.fields()), (422, vec!["into".to_owned()]));
        let r = merge(anne.clone(), json!("0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e60")).await;
        assert_eq!((r.status, r.fields()), (422, vec!["into".to_owned()]));
        assert_eq!(merge("0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e60".into(), json!(ann)).await.status, 404);

        // Anne into Ann: both linked to different Action Network people.
        let r = merge(anne.clone(), json!(ann)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!((r.body["tags"].clone(), r.body["phone"].clone(), r.body["do_not_sms"].clone(), r.body["email"].clone()),
            (json!(["donor"]), json!("+15555550101"), json!(true), json!("ann@example.org")), "blanks filled, Ann's own kept: {}", r.text);
        assert_eq!(app.admin(Method::GET, &format!("/api/v1/people/{anne}")).send().await.status, 404);
        let gifts = app.admin(Method::GET, &format!("/api/v1/people/{ann}/donations")).send().await;
        assert_eq!(gifts.body["data"].as_array().map(Vec::len), Some(1));
        let list = app.admin(Method::GET, &format!("/api/v1/events/{event}/attendances")).send().await;
        assert_eq!(list.body["data"][0]["person_id"], json!(ann), "{}", list.text);
        let flags = app.admin(Method::GET, "/api/v1/osdi/flags").send().await;
        let mut parked: Vec<(String, String)> = flags.body["data"].as_array().unwrap().iter()
            .filter(|f| f["kind"] == "merge_incomplete")
            .map(|f| (f["person_id"].as_str().unwrap().to_owned(), f["remote_id"].as_str().unwrap().to_owned())).collect();
        parked.sort();
        assert_eq!(parked, [(ann.clone(), "an-1".to_owned()), (ann.clone(), "an-2".to_owned())], "{}", flags.text);
        // Anne's twin is a person still: nothing is unsubscribed; Ann waits for the operator.
        let run = sync(&app, &id, "people", "both").await;
        assert_eq!(count(&run, "deleted_remote"), 0, "{}", run.body["counts"]);
        assert_eq!(fake.person("an-2").unwrap()["email_addresses"][0]["status"], "subscribed");

        // Cy into Dee: Dee takes over Cy's link, and the next run sends Dee's fields to it.
        let r = merge(cy.clone(), json!(dee)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!((r.body["tags"].clone(), r.body["email"].clone()), (json!(["new"]), json!("cy@example.org")));
        let run = sync(&app, &id, "people", "local").await;
        assert_eq!(run.str("state"), "completed", "{}", run.text);
        assert_eq!(fake.person("an-3").unwrap()["given_name"], "Dee", "{}", run.body["counts"]);
    }
}
