//! Who may call what: every route against anonymous, another user, the user itself (or a
//! participant), the event's organizer and an admin. Steps run in order, so a write that one
//! principal is refused leaves the state for the next.

use crate::support::World;
use convene_testkit::{Method, TestApp, app_tests};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    Other,
    Participant,
    Organizer,
    Admin,
    Bootstrap,
}

use Who::*;

async fn expect(app: &TestApp, w: &World, steps: &[(Who, Method, &str, Option<Value>, u16)]) {
    for (who, method, path, body, status) in steps {
        let mut call = app.call(method.clone(), path);
        call = match who {
            Anonymous => call,
            Other => call.token(&w.carol),
            Participant => call.token(&w.bob),
            Organizer => call.token(&w.alice),
            Admin => call.token(&w.root),
            Bootstrap => call.token(&app.admin_token),
        };
        if let Some(body) = body {
            call = call.json(body);
        }
        let reply = call.send().await;
        assert_eq!(
            reply.status, *status,
            "{who:?} {method} {path}: {}",
            reply.text
        );
        if reply.status >= 400 {
            assert!(
                !reply.code().is_empty(),
                "{who:?} {method} {path}: error body {}",
                reply.text
            );
        }
    }
}

app_tests! {
    async fn users(app: TestApp) {
        let w = World::new(&app).await;
        let new = |name: &str| Some(json!({"username": name}));
        expect(&app, &w, &[
            (Anonymous, Method::POST, "/api/v1/users", new("Dan"), 401),
            (Participant, Method::POST, "/api/v1/users", new("Dan"), 403),
            (Admin, Method::POST, "/api/v1/users", new("Dan"), 201),
            (Bootstrap, Method::POST, "/api/v1/users", new("Erin"), 201),
            (Anonymous, Method::GET, "/api/v1/users", None, 401),
            (Participant, Method::GET, "/api/v1/users", None, 403),
            (Admin, Method::GET, "/api/v1/users", None, 200),
            (Anonymous, Method::GET, "/api/v1/users/Bob", None, 401),
            (Other, Method::GET, "/api/v1/users/Bob", None, 200),
            (Anonymous, Method::GET, "/api/v1/me", None, 401),
            (Participant, Method::GET, "/api/v1/me", None, 200),
            (Bootstrap, Method::GET, "/api/v1/me", None, 404),
            (Anonymous, Method::PATCH, "/api/v1/users/Bob", Some(json!({"display_name": "B"})), 401),
            (Other, Method::PATCH, "/api/v1/users/Bob", Some(json!({"display_name": "B"})), 403),
            (Participant, Method::PATCH, "/api/v1/users/Bob", Some(json!({"display_name": "B"})), 200),
            (Participant, Method::PATCH, "/api/v1/users/Bob", Some(json!({"is_admin": true})), 403),
            (Admin, Method::PATCH, "/api/v1/users/Bob", Some(json!({"display_name": "Bobby"})), 200),
            (Anonymous, Method::DELETE, "/api/v1/users/Dan", None, 401),
            (Other, Method::DELETE, "/api/v1/users/Dan", None, 403),
            (Organizer, Method::DELETE, "/api/v1/users/Dan", None, 403),
            (Admin, Method::DELETE, "/api/v1/users/Dan", None, 204),
            (Bootstrap, Method::DELETE, "/api/v1/users/Erin", None, 204),
        ]).await;
    }

    async fn email_is_private_to_the_user_and_admins(app: TestApp) {
        let _ = World::new(&app).await;
        let r = app.admin(Method::PATCH, "/api/v1/users/Bob").json(&json!({"email": "bob@example.test"})).send().await;
        assert_eq!(r.str("email"), "bob@example.test");
        let bob = app.token_for("Bob").await;
        let carol = app.token_for("Carol").await;
        let seen_by = |token: String| {
            let app = &app;
            async move { app.call(Method::GET, "/api/v1/users/Bob").token(&token).send().await.body }
        };
        assert_eq!(seen_by(bob).await["email"], "bob@example.test");
        assert_eq!(seen_by(app.admin_token.clone()).await["email"], "bob@example.test");
        assert!(seen_by(carol).await.get("email").is_none());
    }

    async fn tokens(app: TestApp) {
        let w = World::new(&app).await;
        let for_bob = Some(json!({"username": "Bob"}));
        expect(&app, &w, &[
            (Anonymous, Method::POST, "/api/v1/tokens", for_bob.clone(), 401),
            (Other, Method::POST, "/api/v1/tokens", for_bob.clone(), 403),
            (Participant, Method::POST, "/api/v1/tokens", for_bob.clone(), 201),
            (Participant, Method::POST, "/api/v1/tokens", Some(json!({})), 201),
            (Admin, Method::POST, "/api/v1/tokens", for_bob, 201),
            (Anonymous, Method::GET, "/api/v1/tokens", None, 401),
            (Other, Method::GET, "/api/v1/tokens?username=Bob", None, 403),
            (Participant, Method::GET, "/api/v1/tokens?username=Bob", None, 200),
            (Admin, Method::GET, "/api/v1/tokens?username=Bob", None, 200),
        ]).await;
        let list = app.call(Method::GET, "/api/v1/tokens").token(&w.bob).send().await;
        let owners: Vec<_> = list.body["data"].as_array().unwrap().iter().map(|t| t["username"].clone()).collect();
        assert_eq!(owners.len(), 4, "Bob's own: World's, two of his, the admin's");
        assert!(owners.iter().all(|o| o == "Bob"), "{owners:?}");
        assert!(!list.text.contains("cvn_"), "secrets are never listed again");
        let bobs_token = list.body["data"][0]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/tokens/{bobs_token}");
        expect(&app, &w, &[
            (Anonymous, Method::DELETE, &path, None, 401),
            (Other, Method::DELETE, &path, None, 404),
            (Organizer, Method::DELETE, &path, None, 404),
            (Participant, Method::DELETE, &path, None, 204),
            (Admin, Method::DELETE, &path, None, 404),
        ]).await;
    }

    async fn events(app: TestApp) {
        let w = World::new(&app).await;
        let event = format!("/api/v1/events/{}", w.event);
        let hidden = format!("/api/v1/events/{}", w.hidden);
        let retitle = Some(json!({"title": "Renamed"}));
        expect(&app, &w, &[
            (Anonymous, Method::POST, "/api/v1/events", Some(json!({"slug": "x", "title": "X"})), 401),
            (Other, Method::POST, "/api/v1/events", Some(json!({"slug": "x", "title": "X"})), 201),
            (Anonymous, Method::GET, &event, None, 401),
            (Other, Method::GET, &event, None, 200),
            (Other, Method::GET, &hidden, None, 404),
            (Participant, Method::GET, &hidden, None, 200),
            (Organizer, Method::GET, &hidden, None, 200),
            (Admin, Method::GET, &hidden, None, 200),
            (Anonymous, Method::PATCH, &event, retitle.clone(), 401),
            (Other, Method::PATCH, &event, retitle.clone(), 403),
            (Participant, Method::PATCH, &event, retitle.clone(), 403),
            (Other, Method::PATCH, &hidden, retitle.clone(), 404),
            (Organizer, Method::PATCH, &event, retitle.clone(), 200),
            (Admin, Method::PATCH, &event, retitle, 200),
            (Anonymous, Method::DELETE, &event, None, 401),
            (Other, Method::DELETE, &event, None, 403),
            (Participant, Method::DELETE, &event, None, 403),
            (Other, Method::DELETE, &hidden, None, 404),
            (Organizer, Method::DELETE, &event, None, 204),
            (Admin, Method::DELETE, &hidden, None, 204),
            (Admin, Method::GET, &hidden, None, 404),
        ]).await;
    }

    async fn private_events_are_listed_only_to_those_who_see_them(app: TestApp) {
        let w = World::new(&app).await;
        let slugs = |token: String| {
            let app = &app;
            async move {
                let r = app.call(Method::GET, "/api/v1/events").token(&token).send().await;
                assert_eq!(r.status, 200, "{}", r.text);
                let mut s: Vec<String> = r.body["data"].as_array().unwrap().iter().map(|e| e["slug"].as_str().unwrap().to_owned()).collect();
                s.sort();
                s
            }
        };
        assert_eq!(slugs(w.carol.clone()).await, ["Open/Day_(2026)"]);
        assert_eq!(slugs(w.bob.clone()).await, ["Open/Day_(2026)", "board-retreat"]);
        assert_eq!(slugs(w.root.clone()).await, ["Open/Day_(2026)", "board-retreat"]);
        let by_slug = app.call(Method::GET, "/api/v1/events?slug=board-retreat").token(&w.carol).send().await;
        assert_eq!(by_slug.body["data"], json!([]));
    }

    async fn organizers(app: TestApp) {
        let w = World::new(&app).await;
        let list = format!("/api/v1/events/{}/organizers", w.event);
        let carol = format!("/api/v1/events/{}/organizers/Carol", w.event);
        let alice = format!("/api/v1/events/{}/organizers/Alice", w.event);
        let hidden = format!("/api/v1/events/{}/organizers", w.hidden);
        let role = Some(json!({"role": "facilitator"}));
        expect(&app, &w, &[
            (Anonymous, Method::GET, &list, None, 401),
            (Other, Method::GET, &list, None, 200),
            (Other, Method::GET, &hidden, None, 404),
            (Participant, Method::GET, &hidden, None, 200),
            (Anonymous, Method::PUT, &carol, role.clone(), 401),
            (Other, Method::PUT, &carol, role.clone(), 403),
            (Participant, Method::PUT, &carol, role.clone(), 403),
            (Organizer, Method::PUT, &carol, role.clone(), 201),
            (Admin, Method::PUT, &carol, role.clone(), 200),
            (Anonymous, Method::DELETE, &alice, None, 401),
            (Participant, Method::DELETE, &alice, None, 403),
            (Other, Method::DELETE, &alice, None, 204),
            (Other, Method::DELETE, &carol, None, 409),
            (Admin, Method::DELETE, &carol, None, 204),
        ]).await;
    }

    async fn participants(app: TestApp) {
        let w = World::new(&app).await;
        let list = format!("/api/v1/events/{}/participants", w.event);
        let bob = format!("/api/v1/events/{}/participants/Bob", w.event);
        let carol = format!("/api/v1/events/{}/participants/Carol", w.event);
        let carol_hidden = format!("/api/v1/events/{}/participants/Carol", w.hidden);
        let public = Some(json!({"visibility": "public"}));
        let private = Some(json!({"visibility": "private"}));
        expect(&app, &w, &[
            (Anonymous, Method::GET, &list, None, 401),
            (Other, Method::GET, &list, None, 200),
            (Anonymous, Method::PUT, &carol, public.clone(), 401),
            (Participant, Method::PUT, &carol, public.clone(), 403),
            (Other, Method::PUT, &carol_hidden, public.clone(), 404),
            (Other, Method::PUT, &carol, private.clone(), 201),
            (Other, Method::PUT, &carol, public.clone(), 200),
            (Organizer, Method::PUT, &carol, private.clone(), 200),
            (Admin, Method::PUT, &bob, private, 200),
            (Anonymous, Method::DELETE, &bob, None, 401),
            (Other, Method::DELETE, &bob, None, 403),
            (Participant, Method::DELETE, &bob, None, 204),
            (Organizer, Method::DELETE, &carol, None, 204),
            (Admin, Method::PUT, &carol, public, 201),
            (Admin, Method::DELETE, &carol, None, 204),
            (Admin, Method::DELETE, &carol, None, 404),
        ]).await;
    }
}
