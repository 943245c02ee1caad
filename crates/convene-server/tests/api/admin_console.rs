//! The admin console's management pages over plain HTTP, as an operator signed in with a
//! password uses them: the delivery inspector, users and tokens, editing events.

use crate::admin_ui::{page, set_password, sign_in, try_login_from};
use crate::support::World;
use convene_core::Clock;
use convene_testkit::{
    Answer, Backend, Method, Receiver, Reply, SmtpSink, TestApp, app_tests, on_both_backends,
};
use serde_json::json;
use time::Duration;

/// Someone signed in to the console, with the CSRF token its forms carry.
pub(crate) struct Operator<'a> {
    app: &'a TestApp,
    session: String,
    csrf: String,
}

impl<'a> Operator<'a> {
    pub(crate) async fn sign_in(app: &'a TestApp, name: &str) -> Self {
        set_password(app, name).await;
        let session = sign_in(app, name, "correct horse battery").await;
        let home = page(app, &session, "/admin/events").await;
        let csrf = home.text.split("name=\"csrf\" value=\"").nth(1).unwrap();
        let csrf = csrf.split('"').next().unwrap().to_owned();
        Self { app, session, csrf }
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        page(self.app, &self.session, path).await
    }

    /// Follows a 303 as the browser would, with the one-time cookie it set, if any.
    pub(crate) async fn follow(&self, redirect: &Reply) -> Reply {
        assert_eq!(redirect.status, 303, "{}", redirect.text);
        let location = redirect.headers["location"].to_str().unwrap();
        let once = redirect
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("convene_secret_once="))
            .map(|v| v.split(';').next().unwrap().to_owned());
        let cookies = match once {
            Some(once) => format!("convene_session={}; {once}", self.session),
            None => format!("convene_session={}", self.session),
        };
        self.app
            .call(Method::GET, location)
            .header("cookie", &cookies)
            .send()
            .await
    }

    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .append_pair("csrf", &self.csrf)
            .finish();
        self.app
            .call(Method::POST, path)
            .header("cookie", &format!("convene_session={}", self.session))
            .header("origin", &self.app.base_url)
            .raw("application/x-www-form-urlencoded", body)
            .send()
            .await
    }
}

/// The first `href` on the page that starts with `prefix`, unescaped.
pub(crate) fn link(html: &str, prefix: &str) -> String {
    let from = html
        .split(&format!("href=\"{prefix}"))
        .nth(1)
        .expect(prefix);
    format!("{prefix}{}", from.split('"').next().unwrap()).replace("&amp;", "&")
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn a_webfilter_is_tried_out_with_a_sample_and_says_what_it_decided(app: TestApp) {
        let _w = World::new(&app).await;
        let rx = Receiver::start().await;
        rx.script([
            Answer::json(200, &json!({"data": {"visibility": "private", "username": "Mallory"}})),
            Answer::json(200, &json!({"exception": {"PreventRegistration": {"message": "The event is full", "redirect_to": "https://example.org/waitlist"}}})),
            Answer::json(200, &json!({"data": {}, "note": "é\"<".repeat(2000)})),
        ]);
        let made = app.admin(Method::POST, "/api/v1/webfilters").json(&json!({"filter_type": "participant.registration.requested", "url": rx.url, "enabled": false})).send().await;
        assert_eq!(made.status, 201, "{}", made.text);
        let id = made.str("id");
        // Over the API, with the type's sample: a rewrite of the writable key only.
        let tried = app.admin(Method::POST, &format!("/api/v1/webfilters/{id}/test")).json(&json!({})).send().await;
        assert_eq!(tried.status, 200, "{}", tried.text);
        assert_eq!((tried.body["verdict"].as_str(), &tried.body["rewrites"]), (Some("proceed"), &json!({"visibility": "private"})));
        let sent = rx.received()[0].json();
        assert_eq!((sent["username"].as_str(), sent["event_metadata"]["event_type"].as_str()), (Some("Jane Doe"), Some("participant.registration.requested")), "the sample, as a real call sends it, to a disabled filter too");
        // In the console: the sample is offered, the verdict shown with the reply.
        let root = Operator::sign_in(&app, "Root").await;
        let page = root.get("/admin/webfilters").await;
        assert!(page.text.contains("Send a test call") && page.text.contains("Jane Doe"), "{}", page.text);
        let input = serde_json::to_string(&json!({"event": {"id": "e", "slug": "s", "title": "t"}, "username": "Bob", "visibility": "public"})).unwrap();
        let tested = root.post(&format!("/admin/webfilters/{id}/test"), &[("form", "test"), ("id", id.as_str()), ("input", input.as_str())]).await;
        let shown = root.follow(&tested).await;
        assert_eq!(shown.status, 200);
        for part in ["halts the action", "The event is full", "https://example.org/waitlist", "HTTP 200"] {
            assert!(shown.text.contains(part), "{part}: {}", shown.text);
        }
        let reloaded = root.get("/admin/webfilters").await;
        assert!(!reloaded.text.contains("halts the action"), "a reload shows the list, and calls nobody");
        assert_eq!(rx.received().len(), 2);
        // A long reply still reaches the page, cut to what a cookie carries.
        let long = root.post(&format!("/admin/webfilters/{id}/test"), &[("form", "test"), ("id", id.as_str()), ("input", input.as_str())]).await;
        let cookie = long.headers.get_all("set-cookie").iter().map(|v| v.len()).max().unwrap_or(0);
        assert!(cookie < 4000, "the result fits a cookie: {cookie} bytes");
        let shown = root.follow(&long).await;
        assert!(shown.text.contains("the action proceeds") && shown.text.contains("cut here; GET /api/v1/webfilters/"), "{}", shown.text);
        let broken = root.post(&format!("/admin/webfilters/{id}/test"), &[("form", "test"), ("id", id.as_str()), ("input", "{not json")]).await;
        assert!(broken.text.contains("Not tested: input is not JSON") && broken.text.contains("{not json"), "{}", broken.text);
        let calls = app.admin(Method::GET, &format!("/api/v1/webfilters/{id}/calls")).send().await;
        assert_eq!(calls.body["data"].as_array().unwrap().len(), 3, "each test call is logged");
        let refused = root.post("/admin/webfilters", &[("form", "create"), ("filter_type", "participant.registration.requested"), ("url", "ftp://nope")]).await;
        assert!(refused.status == 200 && refused.text.contains("url-error") && refused.text.contains("ftp://nope"), "{}", refused.text);
    }

    async fn the_delivery_inspector_shows_what_went_and_what_came_back(app: TestApp) {
        let _w = World::new(&app).await;
        let rx = Receiver::start().await;
        rx.script([Answer { status: 503, headers: vec![("x-request-id", "r-7".into())], body: "<h1>down</h1>".into(), delay: None }]);
        let hook = app.admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": rx.url, "event_types": ["custom.thing", "custom.other"], "headers": {"X-Team": "wiki"}})).send().await;
        let hook_id = hook.str("id");
        for (id, ty) in [("c-1", "custom.thing"), ("c-2", "custom.other")] {
            let r = app.admin(Method::POST, "/api/v1/signals").header("traceparent", TRACED).json(&json!({"type": ty, "id": id, "data": {"thing": {"id": id}}})).send().await;
            assert_eq!(r.status, 202);
        }
        app.drain().await;
        let root = Operator::sign_in(&app, "Root").await;
        let list = root.get(&format!("/admin/webhooks/{hook_id}")).await;
        assert!(list.text.contains("Last error"), "{}", list.text);
        assert_eq!(list.text.matches("the peer answered 503").count(), 1, "one of the two failed first: {}", list.text);
        // Filter by type: one row; a time that is none is said on the filter form.
        let only = root.get(&format!("/admin/webhooks/{hook_id}?event_type=custom.other")).await;
        assert_eq!(only.text.matches("<td>custom.other</td>").count(), 1);
        assert!(!only.text.contains("<td>custom.thing</td>"));
        let bad = root.get(&format!("/admin/webhooks/{hook_id}?since=soon")).await;
        assert!(bad.status == 200 && bad.text.contains("Not filtered") && bad.text.contains("since"), "{}", bad.text);
        let future = root.get(&format!("/admin/webhooks/{hook_id}?since=2099-01-01T00:00")).await;
        assert!(future.text.contains("No delivery matches these filters"), "{}", future.text);

        app.clock.advance(Duration::seconds(20));
        app.drain().await;
        let failed_first = rx.received()[0].clone();
        let failed_type = failed_first.json()["event_metadata"]["event_type"].as_str().unwrap().to_owned();
        let list = root.get(&format!("/admin/webhooks/{hook_id}?status=delivered&event_type={failed_type}")).await;
        let detail = root.get(&link(&list.text, "/admin/deliveries/")).await;
        assert_eq!(detail.status, 200);
        let html = &detail.text;
        assert_eq!(failed_first.header("traceparent"), TRACED, "the cause went out");
        for shown in ["webhook-signature", "(masked)", "x-team", "wiki", "x-request-id", "r-7", "HTTP 503", "HTTP 200", "✓ delivered", "event_metadata", TRACED] {
            assert!(html.contains(shown), "{shown} in {html}");
        }
        assert!(html.contains("&#60;h1&#62;down") && !html.contains("<h1>down"), "the peer's body is text, not markup");
        assert!(!html.contains(failed_first.header("webhook-signature")), "the signature is never shown");
        assert!(html.contains(failed_first.header("webhook-timestamp")), "each attempt's own timestamp");
        assert!(!html.contains("Retry now"), "a delivered one is not offered again");
        // The webhook's own forms answer on the page, with what was typed.
        let hook_page = format!("/admin/webhooks/{hook_id}");
        let bad_url = root.post(&format!("{hook_page}/edit"), &[("form", "edit"), ("url", "ftp://nowhere"), ("event_types", "custom.thing")]).await;
        assert!(bad_url.status == 200 && bad_url.text.contains("url-error") && bad_url.text.contains("ftp://nowhere"), "{}", bad_url.text);
        let bad_since = root.post(&format!("{hook_page}/recover"), &[("form", "recover"), ("since", "last week")]).await;
        assert!(bad_since.status == 200 && bad_since.text.contains("since-error") && bad_since.text.contains("last week"), "{}", bad_since.text);
        app.clock.advance(Duration::seconds(1));
        let described = root.post(&format!("{hook_page}/edit"), &[("form", "edit"), ("url", rx.url.as_str()), ("event_types", "custom.thing"), ("description", "The CI hook"), ("enabled", "on")]).await;
        assert!(root.follow(&described).await.text.contains("<p>The CI hook</p>"));
        assert!(!html.contains("settings changed after this attempt"));
        let again = root.get(&link(&list.text, "/admin/deliveries/")).await;
        assert_eq!(again.text.matches("settings changed after this attempt").count(), 2, "both attempts came before the edit");
    }
}

/// A W3C trace context a caller sends with its signal.
const TRACED: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// The value of the read-only `#secret` field on a page.
fn shown_secret(html: &str) -> String {
    let from = html
        .split("id=\"secret\" readonly value=\"")
        .nth(1)
        .expect("a secret shown");
    from.split('"').next().unwrap().replace("&#38;", "&")
}

app_tests! {
    async fn users_and_tokens_are_managed_from_the_console(app: TestApp) {
        let w = World::new(&app).await;
        let root = Operator::sign_in(&app, "Root").await;
        let list = root.get("/admin/users").await;
        for name in ["Alice", "Bob", "Carol", "Root"] {
            assert!(list.text.contains(&format!(">{name}</a>")), "{name}");
        }
        let found = root.get("/admin/users?q=LIC").await;
        assert!(found.text.contains(">Alice</a>") && !found.text.contains(">Bob</a>"), "{}", found.text);

        // Create: the wiki rule applies, a taken name is said on the form with what was typed.
        let made = root.post("/admin/users", &[("username", "jane_doe"), ("email", "jane@example.org")]).await;
        assert_eq!(made.headers["location"], "/admin/users/Jane_doe");
        let jane = root.follow(&made).await;
        assert!(jane.text.contains("<h1>Jane doe</h1>") && jane.text.contains("jane@example.org"), "{}", jane.text);
        let taken = root.post("/admin/users", &[("username", "Jane doe"), ("email", "other@example.org")]).await;
        assert_eq!(taken.status, 200);
        assert!(taken.text.contains("aria-invalid") && taken.text.contains("other@example.org"), "{}", taken.text);

        // Administrator rights, given and taken; never one's own.
        let promoted = root.post("/admin/users/Jane_doe/admin", &[]).await;
        assert!(root.follow(&promoted).await.text.contains("They are an administrator now."));
        assert_eq!(app.admin(Method::GET, "/api/v1/users/Jane_doe").send().await.body["is_admin"], true);
        root.post("/admin/users/Jane_doe/unadmin", &[]).await;
        assert_eq!(app.admin(Method::GET, "/api/v1/users/Jane_doe").send().await.body["is_admin"], false);
        let own = root.get("/admin/users/Root").await;
        assert!(!own.text.contains("Remove administrator rights") && !own.text.contains("Deactivate Root"));

        // A token limited to reading events, shown once.
        let created = root.post("/admin/users/Jane_doe/tokens", &[("name", "ci"), ("scope:events:read", "on")]).await;
        let shown = root.follow(&created).await;
        let token = shown_secret(&shown.text);
        assert!(shown.text.contains("events:read") && shown.text.contains(">ci<"), "{}", shown.text);
        let spent = shown.headers.get_all("set-cookie").iter().any(|v| v.to_str().unwrap().starts_with("convene_secret_once=;"));
        assert!(spent, "the page that shows it ends its cookie");
        assert!(!root.get("/admin/users/Jane_doe").await.text.contains(&token), "a reload shows it no more");
        assert_eq!(app.call(Method::GET, "/api/v1/events").token(&token).send().await.status, 200);
        let write = app.call(Method::POST, "/api/v1/events").token(&token).json(&json!({"slug": "x", "title": "X"})).send().await;
        assert_eq!(write.status, 403, "limited to reading");
        let bad = root.post("/admin/users/Jane_doe/tokens", &[("name", "late"), ("expires_at", "2001-01-01T00:00")]).await;
        assert!(bad.status == 200 && bad.text.contains("expires_at-error"), "{}", bad.text);

        // Deactivated: asked first; then the token, the password and the session stop working.
        root.post("/admin/users/Jane_doe/admin", &[]).await;
        set_password(&app, "Jane_doe").await;
        let session = sign_in(&app, "Jane_doe", "correct horse battery").await;
        assert_eq!(page(&app, &session, "/admin/users").await.status, 200);
        let unconfirmed = root.post("/admin/users/Jane_doe/deactivate", &[("form", "account")]).await;
        assert!(unconfirmed.status == 200 && unconfirmed.text.contains("Tick the box"), "{}", unconfirmed.text);
        let off = root.post("/admin/users/Jane_doe/deactivate", &[("form", "account"), ("confirm", "on")]).await;
        assert!(root.follow(&off).await.text.contains("deactivated since"));
        assert_eq!(app.call(Method::GET, "/api/v1/events").token(&token).send().await.status, 401);
        let local = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 9));
        let refused = try_login_from(&app, local, "Jane_doe", "correct horse battery", Some(&app.base_url), None).await;
        assert_ne!(refused.status, 303, "a deactivated user cannot sign in");
        assert_eq!(page(&app, &session, "/admin/users").await.status, 303, "their session is over");
        let on = root.post("/admin/users/Jane_doe/reactivate", &[("form", "account")]).await;
        assert!(root.follow(&on).await.text.contains("Reactivated"));
        assert_eq!(app.call(Method::GET, "/api/v1/events").token(&token).send().await.status, 200);
        let self_off = app.call(Method::PATCH, "/api/v1/users/Root").token(&w.root).json(&json!({"deactivated": true})).send().await;
        assert_eq!(self_off.status, 422, "{}", self_off.text);

        // Revoked: the token is gone.
        let page = root.get("/admin/users/Jane_doe").await;
        let id = page.text.split("/admin/tokens/").nth(1).unwrap().split('/').next().unwrap().to_owned();
        let revoked = root.post(&format!("/admin/tokens/{id}/revoke"), &[("user", "Jane doe")]).await;
        assert!(root.follow(&revoked).await.text.contains("The token is revoked."));
        assert_eq!(app.call(Method::GET, "/api/v1/events").token(&token).send().await.status, 401);
    }

    async fn a_password_link_sets_a_password_once(app: TestApp) {
        let _w = World::new(&app).await;
        let root = Operator::sign_in(&app, "Root").await;
        let first = root.post("/admin/users/Alice/password-link", &[]).await;
        let old_link = shown_secret(&root.follow(&first).await.text);
        let made = root.post("/admin/users/Alice/password-link", &[]).await;
        let link = shown_secret(&root.follow(&made).await.text);
        assert!(link.starts_with(&format!("{}/admin/password/", app.base_url)), "{link}");
        let path = link.strip_prefix(&app.base_url).unwrap().to_owned();
        let old_path = old_link.strip_prefix(&app.base_url).unwrap().to_owned();
        assert_eq!(app.call(Method::GET, &old_path).send().await.status, 404, "a newer link replaces it");
        let opened = app.call(Method::GET, &path).send().await;
        assert!(opened.status == 200 && opened.text.contains("Set the password of Alice"), "{}", opened.text);
        let set = |fields: [(&str, &str); 2], origin: &str| {
            let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
            app.call(Method::POST, &path).header("origin", origin).raw("application/x-www-form-urlencoded", body).send()
        };
        let differ = set([("password", "a long enough one"), ("repeat", "another long one")], &app.base_url).await;
        assert!(differ.text.contains("The two passwords differ."));
        let short = set([("password", "short"), ("repeat", "short")], &app.base_url).await;
        assert!(short.text.contains("at least 10 characters"), "{}", short.text);
        let forged = set([("password", "a new password!"), ("repeat", "a new password!")], "http://evil.example").await;
        assert_eq!(forged.status, 404, "another site cannot post with the link");
        let done = set([("password", "a new password!"), ("repeat", "a new password!")], &app.base_url).await;
        assert!(done.status == 200 && done.text.contains("Password set"), "{}", done.text);
        sign_in(&app, "Alice", "a new password!").await;
        assert_eq!(app.call(Method::GET, &path).send().await.status, 404, "used up");
    }
}

app_tests! {
    async fn events_are_edited_deleted_and_their_participants_managed(app: TestApp) {
        let w = World::new(&app).await;
        let alice = Operator::sign_in(&app, "Alice").await;
        let path = format!("/admin/events/{}", w.event);
        let api = format!("/api/v1/events/{}", w.event);
        let shown = alice.get(&path).await;
        assert!(shown.text.contains("Edit event") && shown.text.contains("value=\"Open/Day_(2026)\""), "{}", shown.text);

        // Times are typed in the event's zone; what the form did not change is not sent.
        let edit = |fields: Vec<(&'static str, &'static str)>| {
            let mut all = vec![("form", "edit"), ("title", "Open day"), ("slug", "Open/Day_(2026)")];
            all.extend(fields);
            all
        };
        let saved = alice.post(&format!("{path}/edit"), &edit(vec![("timezone", "Europe/Berlin"), ("starts_at", "2027-04-01T09:30"), ("description", "Bring a laptop")])).await;
        assert_eq!(saved.headers["location"], format!("{path}?done=saved"));
        let event = app.admin(Method::GET, &api).send().await;
        assert_eq!((event.str("starts_at"), event.str("timezone"), event.str("description")), ("2027-04-01T07:30:00Z".into(), "Europe/Berlin".into(), "Bring a laptop".into()));
        let page = alice.follow(&saved).await;
        assert!(page.text.contains("Saved.") && page.text.contains("value=\"2027-04-01T09:30\""), "shown back in its zone: {}", page.text);
        let r = app.admin(Method::PATCH, &api).json(&json!({"starts_at": "2027-04-01T07:30:45Z"})).send().await;
        assert_eq!(r.status, 200);
        let retitled = alice.post(&format!("{path}/edit"), &[("form", "edit"), ("title", "Open day 2027"), ("slug", "Open/Day_(2026)"), ("timezone", "Europe/Berlin"), ("starts_at", "2027-04-01T09:30"), ("description", "Bring a laptop")]).await;
        assert_eq!(retitled.status, 303);
        let event = app.admin(Method::GET, &api).send().await;
        assert_eq!((event.str("title"), event.str("starts_at")), ("Open day 2027".into(), "2027-04-01T07:30:45Z".into()), "the seconds stay");
        let bad = alice.post(&format!("{path}/edit"), &edit(vec![("slug", "board-retreat"), ("starts_at", "someday")])).await;
        assert!(bad.status == 200 && bad.text.contains("starts_at-error"), "{}", bad.text);
        let taken = alice.post(&format!("{path}/edit"), &[("form", "edit"), ("title", "Open day 2027"), ("slug", "board-retreat"), ("timezone", "Europe/Berlin"), ("starts_at", "2027-04-01T09:30"), ("description", "Bring a laptop")]).await;
        assert!(taken.status == 200 && taken.text.contains("“board-retreat” is taken"), "{}", taken.text);

        // Channels and reminders, typed as lists.
    let listed = alice.post(&format!("{path}/edit"), &[("form", "edit"), ("title", "Open day 2027"), ("slug", "Open/Day_(2026)"), ("channels", "wiki, loves"), ("reminders", "2h,15m")]).await;
    assert_eq!(listed.status, 303, "{}", listed.text);
    let event = app.admin(Method::GET, &api).send().await;
    assert_eq!((&event.body["channels"], &event.body["reminders"]), (&json!(["loves", "wiki"]), &json!(["2h", "15m"])));
    assert_eq!(event.str("starts_at"), "2027-04-01T07:30:45Z", "fields not sent are left alone");
    let bad_offset = alice.post(&format!("{path}/edit"), &[("form", "edit"), ("reminders", "soon")]).await;
    assert!(bad_offset.status == 200 && bad_offset.text.contains("reminders-error"), "{}", bad_offset.text);

    // Participants: searched, made private, the pager keeps the search.
        let found = alice.get(&format!("{path}?q=BO")).await;
        assert!(found.text.contains("<td>Bob</td>"), "{}", found.text);
        let none = alice.get(&format!("{path}?q=zed")).await;
        assert!(none.text.contains("No participant's name contains"));
        let private = alice.post(&format!("{path}/participants"), &[("form", "register"), ("username", "Bob"), ("visibility", "private")]).await;
        assert_eq!(private.status, 303, "{}", private.text);
        let roster = app.admin(Method::GET, &format!("{api}/participants")).send().await;
        assert_eq!(roster.body["data"][0]["visibility"], "private");
        let searched = app.admin(Method::GET, &format!("{api}/participants?q=ob")).send().await;
        assert_eq!(searched.body["data"].as_array().unwrap().len(), 1, "the API searches too: {}", searched.text);
        let outsider = app.call(Method::GET, &format!("{api}/participants?q=ob")).token(&w.carol).send().await;
        assert_eq!(outsider.body["data"], json!([]), "a search shows no private participant to outsiders");

        // Deleting asks first.
        let unconfirmed = alice.post(&format!("{path}/delete"), &[("form", "delete")]).await;
        assert!(unconfirmed.status == 200 && unconfirmed.text.contains("Tick the box to delete"), "{}", unconfirmed.text);
        assert_eq!(app.admin(Method::GET, &api).send().await.status, 200);
        let deleted = alice.post(&format!("{path}/delete"), &[("form", "delete"), ("confirm", "on")]).await;
        assert_eq!(deleted.headers["location"], "/admin/events?done=deleted");
        assert!(alice.follow(&deleted).await.text.contains("The event is deleted"));
        assert_eq!(app.admin(Method::GET, &api).send().await.status, 404);
    }
}

app_tests! {
    async fn sessions_and_slides_are_managed_from_the_event_page(app: TestApp) {
        let w = World::new(&app).await;
        let alice = Operator::sign_in(&app, "Alice").await;
        let path = format!("/admin/events/{}", w.event);
        let r = app.admin(Method::PATCH, &format!("/api/v1/events/{}", w.event)).json(&json!({"timezone": "Europe/Berlin"})).send().await;
        assert_eq!(r.status, 200);
        let bad = alice.post(&format!("{path}/sessions"), &[("form", "session"), ("title", "Opening"), ("group", "wiki-club"), ("starts_at", "2027-04-01T09:30"), ("duration_minutes", "lots")]).await;
        assert!(bad.status == 200 && bad.text.contains("duration_minutes-error") && bad.text.contains("value=\"Opening\""), "{}", bad.text);
        let made = alice.post(&format!("{path}/sessions"), &[("form", "session"), ("title", "Opening"), ("group", "wiki-club"), ("starts_at", "2027-04-01T09:30"), ("duration_minutes", "45")]).await;
        assert_eq!(made.headers["location"], format!("{path}#sessions"));
        let listed = app.admin(Method::GET, &format!("/api/v1/events/{}/sessions", w.event)).send().await;
        let session = listed.body["data"][0].clone();
        assert_eq!((session["starts_at"].as_str(), session["duration_minutes"].as_u64()), (Some("2027-04-01T07:30:00Z"), Some(45)));
        let sid = session["id"].as_str().unwrap().to_owned();
        for (title, url) in [("Welcome", "https://example.org/a.pdf"), ("Agenda", "https://example.org/b.pdf")] {
            let added = alice.post(&format!("/admin/sessions/{sid}/slides"), &[("form", "s"), ("title", title), ("url", url)]).await;
            assert_eq!(added.status, 303, "{}", added.text);
        }
        let decks = || app.admin(Method::GET, &format!("/api/v1/sessions/{sid}/slides")).send();
        let before = decks().await;
        let agenda = before.body["data"][1]["id"].as_str().unwrap().to_owned();
        let up = alice.post(&format!("/admin/sessions/{sid}/move"), &[("deck", agenda.as_str()), ("up", "1")]).await;
        assert_eq!(up.status, 303, "{}", up.text);
        let titles = |v: &serde_json::Value| v["data"].as_array().unwrap().iter().map(|d| d["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(titles(&decks().await.body), ["Agenda", "Welcome"]);
        let page = alice.get(&path).await;
        assert!(page.text.contains("Move Welcome up") && !page.text.contains("Move Agenda up"), "the first has no way up");
        alice.post(&format!("/admin/sessions/{sid}/remove-slide"), &[("deck", agenda.as_str())]).await;
        assert_eq!(titles(&decks().await.body), ["Welcome"]);
        let moved = alice.post(&format!("/admin/sessions/{sid}/reschedule"), &[("title", "Opening"), ("starts_at", "2027-04-01T10:00"), ("duration_minutes", "30")]).await;
        assert_eq!(moved.status, 303, "{}", moved.text);
        let now = app.admin(Method::GET, &format!("/api/v1/sessions/{sid}")).send().await;
        assert_eq!((now.str("starts_at"), now.body["duration_minutes"].as_u64()), ("2027-04-01T08:00:00Z".into(), Some(30)));
        assert!(alice.get(&path).await.text.contains("value=\"2027-04-01T10:00\""), "shown in the event's zone");
        let unconfirmed = alice.post(&format!("/admin/sessions/{sid}/delete"), &[("form", &format!("s-{sid}"))]).await;
        assert!(unconfirmed.status == 200 && unconfirmed.text.contains("Tick the box to delete"), "{}", unconfirmed.text);
        alice.post(&format!("/admin/sessions/{sid}/delete"), &[("confirm", "on")]).await;
        assert_eq!(app.admin(Method::GET, &format!("/api/v1/sessions/{sid}")).send().await.status, 404);
        let root = Operator::sign_in(&app, "Root").await;
        let other = root.post(&format!("/admin/sessions/{sid}/delete"), &[("confirm", "on")]).await;
        assert_eq!(other.status, 404, "gone is gone");
    }
}

app_tests! {
    async fn settings_and_crm_forms_answer_on_the_form(app: TestApp) {
        let _w = World::new(&app).await;
        let root = Operator::sign_in(&app, "Root").await;
        let bad = root.post("/admin/settings/email", &[("form", "email"), ("providers", "smtp"), ("from_address", "not an address"), ("from_name", "Convene")]).await;
        assert_eq!(bad.status, 200);
        assert!(bad.text.contains("from_address-error") && bad.text.contains("value=\"not an address\""), "{}", bad.text);
        let to = root.post("/admin/settings/email/test", &[("form", "test"), ("to", "nobody at all")]).await;
        assert!(to.status == 200 && to.text.contains("to-error") && to.text.contains("nobody at all"), "{}", to.text);
        let rate = root.post("/admin/crm", &[("form", "profile"), ("name", "AN"), ("entry_point", "https://an.example.org/api/v2/"), ("api_token", "k"), ("max_requests_per_second", "fast")]).await;
        assert!(rate.status == 200 && rate.text.contains("max_requests_per_second-error") && rate.text.contains("value=\"AN\""), "{}", rate.text);
        let entry = root.post("/admin/crm", &[("form", "profile"), ("name", "AN"), ("entry_point", "ftp://an.example.org/"), ("api_token", "k"), ("max_requests_per_second", "4")]).await;
        assert!(entry.status == 200 && entry.text.contains("entry_point-error") && entry.text.contains("ftp://an.example.org/"), "{}", entry.text);
    }
}

async fn an_event_timeline_puts_failures_first(backend: Backend) {
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    let setup = move |c: &mut convene_server::config::Config| {
        c.smtp_url = Some(convene_server::config::Secret::new(smtp));
        c.allow_private_targets = true;
        c.conferencing.provider = "debug".into();
    };
    let Some(app) = convene_testkit::spawn_app_with(backend, setup).await else {
        return;
    };
    let w = World::new(&app).await;
    let down = app
        .admin(Method::POST, "/api/v1/webhooks")
        .json(&json!({"url": "http://127.0.0.1:9/down", "event_types": ["participant.registered"]}))
        .send()
        .await;
    assert_eq!(down.status, 201, "{}", down.text);
    let r = app
        .admin(Method::PATCH, "/api/v1/users/Carol")
        .json(&json!({"email": "carol@example.org"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .admin(
            Method::PUT,
            &format!("/api/v1/events/{}/participants/Carol", w.event),
        )
        .json(&json!({"visibility": "public"}))
        .send()
        .await;
    assert!(r.status < 300, "{}", r.text);
    app.drain().await;
    // A session whose room is still to be made: its push waits, and says so.
    let session = json!({"title": "Opening", "group": "wiki-club",
        "starts_at": "2027-04-01T07:30:00Z", "duration_minutes": 30});
    let sessions = format!("/api/v1/events/{}/sessions", w.event);
    let made = app
        .admin(Method::POST, &sessions)
        .json(&session)
        .send()
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let root = Operator::sign_in(&app, "Root").await;
    let path = format!("/admin/events/{}/timeline", w.event);
    // The mail log and the webhooks are searched.
    let mails = root.get("/admin/mails?q=CAROL@").await;
    assert!(mails.text.contains("carol@example.org"), "{}", mails.text);
    let listed = app
        .admin(Method::GET, "/api/v1/mails?q=CAROL@")
        .send()
        .await;
    let to: Vec<_> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["recipient"].as_str().unwrap_or_default())
        .collect();
    assert!(
        !to.is_empty() && to.iter().all(|t| *t == "carol@example.org"),
        "{}",
        listed.text
    );
    let nobody = app
        .admin(Method::GET, "/api/v1/mails?q=nobody")
        .send()
        .await;
    assert_eq!(nobody.body["data"], json!([]), "{}", nobody.text);
    let none = root.get("/admin/mails?q=nobody").await;
    assert!(
        none.text.contains("to an address containing “nobody”"),
        "{}",
        none.text
    );
    let hooks = root.get("/admin/webhooks?q=/DOWN").await;
    assert!(hooks.text.contains("127.0.0.1:9/down"), "{}", hooks.text);
    let overview = root.get("/admin").await;
    let failing = overview
        .text
        .split("id=\"failing\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        failing.contains("127.0.0.1:9/down") && failing.contains("retrying"),
        "the overview lists the endpoint failing: {}",
        overview.text
    );
    let no_hooks = root.get("/admin/webhooks?q=elsewhere").await;
    assert!(
        no_hooks
            .text
            .contains("No webhook's URL or description contains")
    );
    let waiting = root.get(&path).await;
    assert!(waiting.text.contains("room push for #"), "{}", waiting.text);
    let page = root.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let first = page
        .text
        .split("<ol class=\"notes timeline\">")
        .nth(1)
        .and_then(|t| t.split("</li>").next())
        .expect("entries");
    assert!(
        first.contains("✗ failed")
            && first.contains("Webhooks")
            && first.contains("participant.registered"),
        "a failure comes first: {}",
        page.text
    );
    assert!(
        page.text.contains("Mail</strong>") && page.text.contains("carol@example.org"),
        "the registration mails: {}",
        page.text
    );
    // The provider refuses for good: the push gives up, and the timeline still says so.
    let store = app.store();
    let later = app.clock.now() + Duration::days(400);
    let claimed = store
        .claim_jobs(later, Duration::seconds(30), 100)
        .await
        .unwrap();
    let room = claimed
        .iter()
        .find(|j| j.kind == convene_core::job::JobKind::ConferenceRoom)
        .expect("the room push");
    let refused = convene_store::JobEnd::Failed("the provider answered 403".into());
    assert!(store.finish_job(room, &refused, later).await.unwrap());
    let gave_up = root.get(&path).await;
    assert!(
        gave_up
            .text
            .contains("gave up after 1 attempts: the provider answered 403"),
        "{}",
        gave_up.text
    );
    assert!(
        root.get(&format!("/admin/events/{}", w.event))
            .await
            .text
            .contains("/timeline"),
        "linked from the event"
    );
    let alice = Operator::sign_in(&app, "Alice").await;
    let hers = alice.get(&path).await;
    assert!(
        hers.status == 200 && !hers.text.contains("Webhooks</strong>"),
        "deliveries and mails are for admins: {}",
        hers.text
    );
    assert_eq!(
        alice
            .get(&format!("/admin/events/{}/timeline", w.hidden))
            .await
            .status,
        200,
        "her own private event"
    );
    let bob = app
        .admin(Method::POST, "/api/v1/events")
        .json(&json!({"slug": "not-alices", "title": "Not Alice's"}))
        .send()
        .await;
    assert_eq!(
        alice
            .get(&format!("/admin/events/{}/timeline", bob.str("id")))
            .await
            .status,
        404
    );
}

on_both_backends! {
    an_event_timeline_puts_failures_first => timeline_failures_first,
}
