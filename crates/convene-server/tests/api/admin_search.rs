//! Every list an operator reads is searched and paged, in the console and over the API:
//! events, webfilters, API tokens, an event's sessions, CRM profiles and notifications.

use crate::admin_console::{Operator, link};
use crate::support::World;
use convene_testkit::{Method, app_tests};
use serde_json::json;

/// The `name` of each row of an API list answer.
fn names(listed: &convene_testkit::Reply, key: &str) -> Vec<String> {
    listed.body["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|row| row[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn webfilters_and_crm_profiles_are_searched(app: TestApp) {
        let _w = World::new(&app).await;
        for (path, description) in [("seats", "Seat limit"), ("spam", "Keeps bots out")] {
            let made = app.admin(Method::POST, "/api/v1/webfilters")
                .json(&json!({"filter_type": "participant.registration.requested",
                    "url": format!("http://127.0.0.1:9/{path}"), "description": description}))
                .send().await;
            assert_eq!(made.status, 201, "{}", made.text);
        }
        let long = "x".repeat(201);
        for list in ["/api/v1/webfilters", "/api/v1/events", "/api/v1/users", "/api/v1/tokens", "/api/v1/mails", "/api/v1/osdi/profiles"] {
            let refused = app.admin(Method::GET, &format!("{list}?q={long}")).send().await;
            assert_eq!((refused.status, refused.fields()), (422, vec!["q".to_owned()]), "{list}: {}", refused.text);
        }
        let by_url = app.admin(Method::GET, "/api/v1/webfilters?q=/SEATS").send().await;
        assert_eq!(names(&by_url, "url"), ["http://127.0.0.1:9/seats"]);
        let by_description = app.admin(Method::GET, "/api/v1/webfilters?q=bots").send().await;
        assert_eq!(names(&by_description, "url"), ["http://127.0.0.1:9/spam"]);
        let root = Operator::sign_in(&app, "Root").await;
        let page = root.get("/admin/webfilters?q=bots").await;
        assert!(page.text.contains("Keeps bots out") && !page.text.contains("/seats"), "{}", page.text);
        let none = root.get("/admin/webfilters?q=100%25").await;
        assert!(none.text.contains("No webfilter's URL or description contains “100%”"), "{}", none.text);
        let described = root.post("/admin/webfilters", &[("form", "create"),
            ("filter_type", "event.creation.requested"), ("url", "http://127.0.0.1:9/titles"),
            ("description", "Title style")]).await;
        assert_eq!(described.status, 303, "{}", described.text);
        let found = app.admin(Method::GET, "/api/v1/webfilters?q=style").send().await;
        assert_eq!(names(&found, "description"), ["Title style"], "the add form keeps a description");

        for (name, host) in [("Berlin chapter", "crm-berlin"), ("Lisbon chapter", "crm-lisbon")] {
            let made = app.admin(Method::POST, "/api/v1/osdi/profiles")
                .json(&json!({"name": name, "entry_point": format!("http://127.0.0.1:9/{host}/api/v2/"), "api_token": "t"}))
                .send().await;
            assert_eq!(made.status, 201, "{}", made.text);
        }
        let found = app.admin(Method::GET, "/api/v1/osdi/profiles?q=LISBON").send().await;
        assert_eq!(names(&found, "name"), ["Lisbon chapter"]);
        let by_entry = app.admin(Method::GET, "/api/v1/osdi/profiles?q=crm-berlin").send().await;
        assert_eq!(names(&by_entry, "name"), ["Berlin chapter"]);
        let paged = app.admin(Method::GET, "/api/v1/osdi/profiles?q=chapter&limit=1").send().await;
        assert_eq!(names(&paged, "name").len(), 1);
        assert!(paged.body["next_cursor"].is_string(), "{}", paged.text);
        let page = root.get("/admin/crm?q=berlin").await;
        assert!(page.text.contains("Berlin chapter") && !page.text.contains("Lisbon chapter"), "{}", page.text);
        let none = root.get("/admin/crm?q=porto").await;
        assert!(none.text.contains("No profile's name or entry point contains “porto”"), "{}", none.text);
    }

    async fn users_are_paged_with_their_search(app: TestApp) {
        let _w = World::new(&app).await;
        for n in 0..51 {
            let made = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": format!("Member {n:02}")})).send().await;
            assert_eq!(made.status, 201, "{}", made.text);
        }
        let root = Operator::sign_in(&app, "Root").await;
        let first = root.get("/admin/users?q=member_").await;
        assert_eq!(first.text.matches(">Member ").count(), 50, "50 a page");
        let next = root.get(&link(&first.text, "/admin/users?cursor=")).await;
        assert!(next.text.contains(">Member 50<") && !next.text.contains(">Alice<"), "the next page keeps the search: {}", next.text);
    }

    async fn tokens_are_searched_and_paged_per_user(app: TestApp) {
        let _w = World::new(&app).await;
        for n in 0..51 {
            let name = if n == 7 { "Deploy bot".to_owned() } else { format!("ci-{n:02}") };
            let made = app.admin(Method::POST, "/api/v1/tokens")
                .json(&json!({"username": "Alice", "name": name})).send().await;
            assert_eq!(made.status, 201, "{}", made.text);
        }
        let found = app.admin(Method::GET, "/api/v1/tokens?username=Alice&q=DEPLOY").send().await;
        assert_eq!(names(&found, "name"), ["Deploy bot"]);
        let root = Operator::sign_in(&app, "Root").await;
        let first = root.get("/admin/users/Alice").await;
        assert_eq!(first.text.matches("Revoke…").count(), 50, "50 a page");
        let next = root.get(&link(&first.text, "/admin/users/Alice?cursor=")).await;
        assert!(next.status == 200 && next.text.contains("Revoke…"), "{}", next.text);
        assert!(!next.text.contains("More tokens"), "two pages: {}", next.text);
        let searched = root.get("/admin/users/Alice?q=deploy").await;
        assert_eq!(searched.text.matches("Revoke…").count(), 1, "{}", searched.text);
        assert!(searched.text.contains("Revoke Deploy bot"), "{}", searched.text);
        let none = root.get("/admin/users/Alice?q=nightly").await;
        assert!(none.text.contains("No token's name contains “nightly”"), "{}", none.text);
    }

    async fn sessions_and_notifications_are_searched_and_paged(app: TestApp) {
        let w = World::new(&app).await;
        let sessions = format!("/api/v1/events/{}/sessions", w.event);
        for n in 0..21 {
            let title = if n == 3 { "Closing keynote".to_owned() } else { format!("Workshop {n:02}") };
            let made = app.admin(Method::POST, &sessions)
                .json(&json!({"title": title, "group": "wiki-club",
                    "starts_at": format!("2027-04-01T{:02}:00:00Z", n), "duration_minutes": 30}))
                .send().await;
            assert_eq!(made.status, 201, "{}", made.text);
        }
        let found = app.admin(Method::GET, &format!("{sessions}?q=KEYNOTE")).send().await;
        assert_eq!(names(&found, "title"), ["Closing keynote"]);
        let root = Operator::sign_in(&app, "Root").await;
        let path = format!("/admin/events/{}", w.event);
        let first = root.get(&path).await;
        assert_eq!(first.text.matches("Delete session").count(), 20, "20 a page");
        let next = root.get(&link(&first.text, &format!("{path}?safter="))).await;
        assert_eq!(next.text.matches("Delete session").count(), 1, "{}", next.text);
        let searched = root.get(&format!("{path}?sq=keynote")).await;
        assert_eq!(searched.text.matches("Delete session").count(), 1);
        assert!(searched.text.contains("Closing keynote"), "{}", searched.text);
        let none = root.get(&format!("{path}?sq=dinner")).await;
        assert!(none.text.contains("No session's title contains “dinner”"), "{}", none.text);

        let made = app.admin(Method::PUT, &format!("/api/v1/events/{}/organizers/Bob", w.event)).json(&json!({})).send().await;
        assert!(made.status < 300, "{}", made.text);
        let bob = root.get(&format!("{path}?oq=BO")).await;
        assert!(bob.text.contains("Remove Bob as organizer") && !bob.text.contains("Remove Alice as organizer"), "{}", bob.text);
        let far = root.get(&format!("{path}?opage={}", u64::MAX)).await;
        assert!(far.status == 200 && far.text.contains("No organizers."), "a page far past the end: {}", far.status);
        let far = root.get(&format!("/admin/notifications?page={}", u64::MAX)).await;
        assert_eq!(far.status, 200, "{}", far.text);
        let nobody = root.get(&format!("{path}?oq=zed")).await;
        assert!(nobody.text.contains("No organizer's name contains “zed”"), "{}", nobody.text);

        for (title, message) in [("Doors open at nine", "<p>See you</p>"), ("Room change", "Now in hall B")] {
            let sent = app.admin(Method::POST, "/api/v1/notifications")
                .json(&json!({"usernames": ["Root"], "title": title, "message": message})).send().await;
            assert_eq!(sent.status, 201, "{}", sent.text);
        }
        let by_title = root.get("/admin/notifications?q=DOORS").await;
        assert!(by_title.text.contains("Doors open at nine") && !by_title.text.contains("Room change"), "{}", by_title.text);
        let by_message = root.get("/admin/notifications?q=hall b").await;
        assert!(by_message.text.contains("Room change") && !by_message.text.contains("Doors open"), "{}", by_message.text);
        assert!(!by_message.text.contains("id=\"live-notifications\""), "a search does not follow the stream");
        let none = root.get("/admin/notifications?q=_").await;
        assert!(none.text.contains("No notification's title or message contains “_”"), "{}", none.text);
    }

    async fn events_are_searched_and_paged_in_the_store(app: TestApp) {
        let w = World::new(&app).await;
        for n in 0..26 {
            let title = if n == 9 { "Spring gathering".to_owned() } else { format!("Meetup {n:02}") };
            let made = app.admin(Method::POST, "/api/v1/events")
                .json(&json!({"slug": format!("Meetups/{n:02}"), "title": title})).send().await;
            assert_eq!(made.status, 201, "{}", made.text);
        }
        let found = app.admin(Method::GET, "/api/v1/events?q=GATHERING").send().await;
        assert_eq!(names(&found, "title"), ["Spring gathering"]);
        let by_slug = app.admin(Method::GET, "/api/v1/events?q=meetups/0").send().await;
        assert_eq!(names(&by_slug, "title").len(), 10);
        let hidden = app.call(Method::GET, "/api/v1/events?q=e").token(&w.carol).send().await;
        assert!(!hidden.text.contains(&w.hidden), "a search keeps private events private");
        let root = Operator::sign_in(&app, "Root").await;
        let first = root.get("/admin/events").await;
        assert!(first.text.contains("28 events"), "{}", first.text);
        assert_eq!(first.text.matches("<tr><td><a href=\"/admin/events/").count(), 25, "25 a page");
        let next = root.get(&link(&first.text, "/admin/events?q=")).await;
        assert_eq!(next.text.matches("<tr><td><a href=\"/admin/events/").count(), 3, "{}", next.text);
        let searched = root.get("/admin/events?q=gathering").await;
        assert!(searched.text.contains("1 event found") && searched.text.contains("Spring gathering"), "{}", searched.text);
        let alice = Operator::sign_in(&app, "Alice").await;
        let hers = alice.get("/admin/events").await;
        assert!(hers.text.contains("2 events") && !hers.text.contains("Meetup 00"), "only what she organizes: {}", hers.text);
    }
}
