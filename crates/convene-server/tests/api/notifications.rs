//! `/v1/notifications` (JSON:API, Open Event Server's resource with its holes closed) and the
//! `/api/v1` extras: admin sends, unread count, mark-all-read, preferences.

use crate::support::World;
use convene_testkit::{Method, Reply, TestApp, app_tests};
use serde_json::{Value, json};

const JSONAPI: &str = "application/vnd.api+json";

async fn user_id(app: &TestApp, token: &str) -> String {
    app.call(Method::GET, "/api/v1/me")
        .token(token)
        .send()
        .await
        .str("id")
}

async fn v1(app: &TestApp, token: &str, path: &str) -> Reply {
    app.call(Method::GET, path).token(token).send().await
}

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> Reply {
    app.call(Method::PATCH, &format!("/v1/notifications/{id}"))
        .token(token)
        .raw(JSONAPI, body.to_string())
        .send()
        .await
}

fn error(r: &Reply) -> &Value {
    &r.body["errors"][0]
}

async fn send(app: &TestApp, body: Value) -> Reply {
    app.admin(Method::POST, "/api/v1/notifications")
        .json(&body)
        .send()
        .await
}

app_tests! {
    async fn registrations_notify_organizers_through_the_resource(app: TestApp) {
        let w = World::new(&app).await;
        app.drain().await;
        let alice = user_id(&app, &w.alice).await;
        let r = v1(&app, &w.alice, &format!("/v1/users/{alice}/notifications")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.headers["content-type"], JSONAPI);
        assert_eq!(r.body["jsonapi"]["version"], "1.0");
        assert_eq!(r.body["meta"]["count"], 2, "Bob registered for both of Alice's events: {}", r.text);
        let first = &r.body["data"][0];
        assert_eq!(first["type"], "notification");
        let id = first["id"].as_str().unwrap().to_owned();
        let attributes: Vec<&str> = first["attributes"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(attributes, vec!["accept", "is-read", "message", "received-at", "title"]);
        let titles: Vec<&str> = r.body["data"].as_array().unwrap().iter().map(|n| n["attributes"]["title"].as_str().unwrap()).collect();
        assert!(titles.contains(&"New registration for Open day") && titles.contains(&"New registration for Board retreat"), "{titles:?}");
        assert!(first["attributes"]["message"].as_str().unwrap().contains("<strong>Bob</strong>"));
        assert_eq!(first["attributes"]["is-read"], false);
        assert_eq!(first["links"]["self"], format!("/v1/notifications/{id}"));
        assert_eq!(first["relationships"]["user"]["links"]["related"], format!("/v1/notifications/{id}/user"));
        assert_eq!(r.body["links"]["self"], format!("/v1/users/{alice}/notifications"));
        assert!(r.body["links"].get("next").is_none());
        // By username too, as the rest of Convene names users.
        assert_eq!(v1(&app, &w.alice, "/v1/users/Alice/notifications").await.body["meta"]["count"], 2);

        // Nobody else's, except an admin's.
        assert_eq!(v1(&app, &w.bob, &format!("/v1/users/{alice}/notifications")).await.status, 403);
        assert_eq!(v1(&app, &w.bob, "/v1/users/00000000-0000-7000-8000-000000000000/notifications").await.status, 403, "existence is not revealed");
        assert_eq!(v1(&app, &w.root, "/v1/users/00000000-0000-7000-8000-000000000000/notifications").await.status, 404);
        assert_eq!(v1(&app, &w.bob, "/v1/notifications").await.status, 403);
        let all = v1(&app, &w.root, "/v1/notifications").await;
        assert_eq!((all.status, all.body["meta"]["count"].clone()), (200, json!(4)), "Alice's two, and Bob's two confirmations");
        let detail = format!("/v1/notifications/{id}");
        let r = v1(&app, &w.bob, &detail).await;
        assert_eq!((r.status, error(&r)["status"].clone()), (403, json!("403")), "OES left this open; we do not");
        assert_eq!(v1(&app, &w.root, &detail).await.status, 200);
        let mine = v1(&app, &w.alice, &detail).await;
        assert_eq!((mine.status, mine.body["data"]["id"].clone()), (200, json!(id)));
        assert_eq!(mine.body["links"]["self"], detail);
        assert_eq!(v1(&app, &w.alice, "/v1/notifications/999999").await.status, 404);
        assert_eq!(v1(&app, &w.alice, "/v1/notifications/abc").await.status, 404);
        let anonymous = app.call(Method::GET, &detail).send().await;
        assert_eq!((anonymous.status, anonymous.headers["content-type"].to_str().unwrap()), (401, JSONAPI));
        assert_eq!(error(&anonymous)["status"], "401");
        let jwt = app.call(Method::GET, &detail).header("authorization", &format!("JWT {}", w.alice)).send().await;
        assert_eq!(jwt.status, 200, "OES clients send the JWT scheme");

        // Relationships: readable, never re-pointed.
        let rel = v1(&app, &w.alice, &format!("{detail}/relationships/user")).await;
        assert_eq!(rel.body["data"], json!({"type": "user", "id": alice}));
        let user = v1(&app, &w.alice, &format!("{detail}/user")).await;
        assert_eq!(user.body["data"]["attributes"]["username"], "Alice");
        let repoint = app.call(Method::PATCH, &format!("{detail}/relationships/user")).token(&w.alice)
            .raw(JSONAPI, json!({"data": {"type": "user", "id": "x"}}).to_string()).send().await;
        assert_eq!(repoint.status, 403);

        // A change to the event reaches its participants.
        let r = app.call(Method::PATCH, &format!("/api/v1/events/{}", w.event)).token(&w.alice).json(&json!({"title": "Open day (moved)"})).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        app.drain().await;
        let bob = v1(&app, &w.bob, "/v1/users/Bob/notifications").await;
        assert_eq!(bob.body["data"][0]["attributes"]["title"], "Open day (moved) has changed", "{}", bob.text);
    }

    async fn only_the_owner_changes_is_read_and_nothing_else(app: TestApp) {
        let w = World::new(&app).await;
        app.drain().await;
        let list = v1(&app, &w.alice, "/v1/users/Alice/notifications").await;
        let id = list.body["data"][0]["id"].as_str().unwrap().to_owned();
        let title = list.body["data"][0]["attributes"]["title"].clone();
        let body = |attributes: Value| json!({"data": {"type": "notification", "id": id, "attributes": attributes}});

        let r = patch(&app, &w.root, &id, body(json!({"is-read": true}))).await;
        assert_eq!(r.status, 403, "admins read, owners write");
        let r = patch(&app, &w.alice, &id, body(json!({"is-read": true, "title": "Hacked"}))).await;
        assert_eq!((r.status, error(&r)["source"]["pointer"].clone()), (403, json!("/data/attributes/title")));
        let now = v1(&app, &w.alice, &format!("/v1/notifications/{id}")).await;
        assert_eq!((now.body["data"]["attributes"]["title"].clone(), now.body["data"]["attributes"]["is-read"].clone()), (title, json!(false)), "nothing applied");
        let r = patch(&app, &w.alice, &id, json!({"data": {"type": "notification", "id": id, "attributes": {"is-read": true}, "relationships": {"user": {"data": {"type": "user", "id": "1"}}}}})).await;
        assert_eq!(r.status, 403);
        let r = patch(&app, &w.alice, &id, json!({"data": {"type": "notification", "id": "1", "attributes": {"is-read": true}}})).await;
        assert_eq!(r.status, 409, "{}", r.text);
        let r = patch(&app, &w.alice, &id, json!({"data": {"type": "user", "id": id, "attributes": {"is-read": true}}})).await;
        assert_eq!(r.status, 409);
        for not_a_boolean in [json!("maybe"), json!("yes"), json!("on"), json!(2), json!(["true"])] {
            let r = patch(&app, &w.alice, &id, body(json!({"is-read": not_a_boolean}))).await;
            assert_eq!((r.status, error(&r)["source"]["pointer"].clone(), error(&r)["detail"].clone()),
                (422, json!("/data/attributes/is-read"), json!("Not a valid boolean.")), "{not_a_boolean}: {}", r.text);
        }
        let r = patch(&app, &w.alice, &id, body(json!({"is-read": null}))).await;
        assert_eq!((r.status, error(&r)["detail"].clone()), (422, json!("Field may not be null.")));
        let r = app.call(Method::PATCH, &format!("/v1/notifications/{id}")).token(&w.alice)
            .json(&body(json!({"is-read": true}))).send().await;
        assert_eq!(r.status, 415, "application/json is not the JSON:API media type");
        let r = app.call(Method::PATCH, &format!("/v1/notifications/{id}")).token(&w.alice)
            .raw(JSONAPI, "{not json").send().await;
        assert_eq!(r.status, 400);

        let r = patch(&app, &w.alice, &id, body(json!({"is-read": "true"}))).await;
        assert_eq!((r.status, r.body["data"]["attributes"]["is-read"].clone()), (200, json!(true)), "{}", r.text);
        assert_eq!(r.headers["content-type"], JSONAPI);

        let r = app.call(Method::POST, "/v1/notifications").token(&w.root).raw(JSONAPI, body(json!({})).to_string()).send().await;
        assert_eq!((r.status, error(&r)["status"].clone()), (405, json!("405")));
        let r = app.call(Method::GET, "/v1/notifications").token(&w.root).header("accept", "application/json").send().await;
        assert_eq!(r.status, 200, "JSON:API refuses only its own type with parameters");
        let r = app.call(Method::GET, "/v1/notifications").token(&w.root).header("accept", "application/vnd.api+json; ext=bulk").send().await;
        assert_eq!(r.status, 406);
        let r = app.call(Method::GET, "/v1/notifications").token(&w.root).header("accept", JSONAPI).send().await;
        assert_eq!(r.status, 200);

        let path = format!("/v1/notifications/{id}");
        assert_eq!(app.call(Method::DELETE, &path).token(&w.root).send().await.status, 403);
        let r = app.call(Method::DELETE, &path).token(&w.alice).send().await;
        assert_eq!((r.status, r.body["meta"]["message"].clone()), (200, json!("Object successfully deleted")));
        assert_eq!(v1(&app, &w.alice, &path).await.status, 404);
    }

    async fn lists_filter_sort_and_page_as_oes_clients_ask(app: TestApp) {
        let w = World::new(&app).await;
        for i in 0..25 {
            let r = send(&app, json!({"usernames": ["Carol"], "title": format!("Note {i:02}"), "message": "<p>hi</p>",
                "received_at": format!("2026-11-{:02}T10:00:00Z", i + 1), "is_read": i % 5 == 0})).await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let page = v1(&app, &w.carol, "/v1/users/Carol/notifications?page%5Bsize%5D=10&page%5Bnumber%5D=2").await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert_eq!(page.body["meta"]["count"], 25);
        let titles = |r: &Reply| -> Vec<String> { r.body["data"].as_array().unwrap().iter().map(|n| n["attributes"]["title"].as_str().unwrap().to_owned()).collect() };
        assert_eq!(titles(&page).first().map(String::as_str), Some("Note 14"), "newest first by default");
        assert_eq!(titles(&page).len(), 10);
        for link in ["first", "last", "prev", "next"] {
            assert!(page.body["links"][link].as_str().is_some(), "{link}: {}", page.body["links"]);
        }
        assert!(page.body["links"]["last"].as_str().unwrap().contains("page%5Bnumber%5D=3"));
        let unread = v1(&app, &w.carol, "/v1/users/Carol/notifications?filter=%5B%7B%22name%22%3A%22is-read%22%2C%22op%22%3A%22eq%22%2C%22val%22%3Afalse%7D%5D&sort=-received-at").await;
        assert_eq!(unread.body["meta"]["count"], 20, "{}", unread.text);
        let sorted = v1(&app, &w.carol, "/v1/users/Carol/notifications?sort=title&page%5Bsize%5D=3").await;
        assert_eq!(titles(&sorted), vec!["Note 00", "Note 01", "Note 02"]);
        let all = v1(&app, &w.carol, "/v1/users/Carol/notifications?page%5Bsize%5D=0").await;
        assert_eq!(titles(&all).len(), 25);
        let since = v1(&app, &w.carol, "/v1/users/Carol/notifications?filter=%5B%7B%22name%22%3A%22received-at%22%2C%22op%22%3A%22ge%22%2C%22val%22%3A%222026-11-24T00%3A00%3A00Z%22%7D%5D").await;
        assert_eq!(titles(&since), vec!["Note 24", "Note 23"]);
        let bad = v1(&app, &w.carol, "/v1/users/Carol/notifications?filter=%5B%7B%22name%22%3A%22secret%22%2C%22op%22%3A%22eq%22%2C%22val%22%3A1%7D%5D").await;
        assert_eq!((bad.status, error(&bad)["source"]["parameter"].clone()), (400, json!("filter")));
        let bad = v1(&app, &w.carol, "/v1/users/Carol/notifications?sort=password").await;
        assert_eq!((bad.status, error(&bad)["source"]["parameter"].clone()), (400, json!("sort")));
        let bad = v1(&app, &w.carol, "/v1/users/Carol/notifications?page%5Bsize%5D=ten").await;
        assert_eq!((bad.status, error(&bad)["source"]["parameter"].clone()), (400, json!("page[size]")));
        let sparse = v1(&app, &w.carol, "/v1/users/Carol/notifications?fields%5Bnotification%5D=title&page%5Bsize%5D=1&include=user").await;
        assert_eq!(sparse.body["data"][0]["attributes"].as_object().unwrap().len(), 1);
        assert_eq!(sparse.body["included"][0]["attributes"]["username"], "Carol");
        let one_id = sparse.body["data"][0]["id"].as_str().unwrap().to_owned();
        let one = v1(&app, &w.carol, &format!("/v1/notifications/{one_id}?include=user")).await;
        assert_eq!(one.status, 200, "{}", one.text);
        assert_eq!(one.body["included"][0]["attributes"]["username"], "Carol", "{}", one.text);
        assert_eq!(one.body["data"]["relationships"]["user"]["data"]["type"], "user");
        let plain = v1(&app, &w.carol, &format!("/v1/notifications/{one_id}")).await;
        assert!(plain.body.get("included").is_none() && plain.body["data"]["relationships"]["user"].get("data").is_none(), "no linkage unless included: {}", plain.text);
        for path in [format!("/v1/notifications/{one_id}?include=owner"), "/v1/users/Carol/notifications?include=user,event".to_owned()] {
            let bad = v1(&app, &w.carol, &path).await;
            assert_eq!((bad.status, error(&bad)["source"]["parameter"].clone()), (400, json!("include")), "{path}: {}", bad.text);
        }

        let count = app.call(Method::GET, "/api/v1/me/notifications/unread-count").token(&w.carol).send().await;
        assert_eq!(count.body["unread_count"], 20);
        let marked = app.call(Method::POST, "/api/v1/me/notifications/mark-all-read").token(&w.carol).send().await;
        assert_eq!(marked.body["marked"], 20);
        let count = app.call(Method::GET, "/api/v1/me/notifications/unread-count").token(&w.carol).send().await;
        assert_eq!(count.body["unread_count"], 0);
        assert_eq!(app.admin(Method::GET, "/api/v1/me/notifications/unread-count").send().await.status, 403);
    }

    async fn admin_sends_are_checked_and_reach_event_participants(app: TestApp) {
        let w = World::new(&app).await;
        let r = send(&app, json!({"usernames": ["Nobody"], "title": "x", "message": "y"})).await;
        assert_eq!((r.status, r.fields()), (422, vec!["usernames".to_owned()]));
        let r = send(&app, json!({"usernames": ["Bob"], "event_id": w.event, "title": "x", "message": "y"})).await;
        assert_eq!(r.status, 422);
        let r = send(&app, json!({"usernames": ["Bob"], "message": "y", "received_at": "yesterday"})).await;
        assert_eq!(r.fields(), vec!["title".to_owned(), "received_at".to_owned()]);
        let r = app.call(Method::POST, "/api/v1/notifications").token(&w.alice).json(&json!({"usernames": ["Bob"], "title": "x", "message": "y"})).send().await;
        assert_eq!(r.status, 403);
        let r = send(&app, json!({"event_id": w.event, "title": "Doors open at nine", "message": "<p>See you</p>", "accept": "ok"})).await;
        assert_eq!((r.status, r.body["ids"].as_array().map(Vec::len)), (201, Some(1)), "{}", r.text);
        let bob = v1(&app, &w.bob, "/v1/users/Bob/notifications").await;
        assert_eq!(bob.body["data"][0]["attributes"]["title"], "Doors open at nine");
        assert_eq!(bob.body["data"][0]["attributes"]["accept"], "ok");
    }

    async fn preferences_switch_kinds_but_not_mandatory_ones(app: TestApp) {
        let w = World::new(&app).await;
        let r = app.call(Method::GET, "/api/v1/me/notification-preferences").token(&w.alice).send().await;
        let registered = r.body["data"].as_array().unwrap().iter().find(|p| p["kind"] == "participant_registered").unwrap().clone();
        assert_eq!(registered, json!({"kind": "participant_registered", "mandatory": false, "in_app": true, "email": true, "delivery": "instant"}));
        let r = app.call(Method::PUT, "/api/v1/me/notification-preferences").token(&w.alice)
            .json(&json!({"data": [{"kind": "participant_registered", "in_app": false}]})).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.call(Method::PUT, "/api/v1/me/notification-preferences").token(&w.alice)
            .json(&json!({"data": [{"kind": "test_mail", "email": false}, {"kind": "nope"}]})).send().await;
        assert_eq!(r.status, 422);
        // Carol registers; Alice asked not to be told in the app.
        let r = app.call(Method::PUT, &format!("/api/v1/events/{}/participants/Carol", w.event)).token(&w.carol).json(&json!({"visibility": "public"})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        app.drain().await;
        let titles = v1(&app, &w.alice, "/v1/users/Alice/notifications").await;
        assert_eq!(titles.body["meta"]["count"], 0, "{}", titles.text);
    }
}
