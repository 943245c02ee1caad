//! The admin web UI over plain HTTP: sign-in with its CSRF defences and lockout, sign-out, and
//! organizers seeing only their own events.

use crate::support::{World, create_event};
use convene_core::Clock;
use convene_testkit::{Method, Reply, TestApp, app_tests};
use serde_json::json;
use std::net::IpAddr;

fn set_cookie(r: &Reply, name: &str) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(set: &str) -> String {
    set.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The sign-in form's token (also its cookie).
async fn login_token(app: &TestApp) -> String {
    let r = app.call(Method::GET, "/admin/login").send().await;
    assert_eq!(r.status, 200);
    cookie_value(&set_cookie(&r, "convene_login").expect("a sign-in cookie"))
}

async fn try_login(
    app: &TestApp,
    user: &str,
    password: &str,
    origin: Option<&str>,
    token: Option<&str>,
) -> Reply {
    try_login_from(app, LOCAL, user, password, origin, token).await
}

const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// A sign-in sent from `from` (a loopback address other clients do not use).
pub async fn try_login_from(
    app: &TestApp,
    from: IpAddr,
    user: &str,
    password: &str,
    origin: Option<&str>,
    token: Option<&str>,
) -> Reply {
    let cookie = login_token(app).await;
    let csrf = token.map_or(cookie.clone(), str::to_owned);
    let mut call = app
        .call_from(from, Method::POST, "/admin/login")
        .header("cookie", &format!("convene_login={cookie}"))
        .raw(
            "application/x-www-form-urlencoded",
            form(&[
                ("username", user),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/admin/events"),
            ]),
        );
    if let Some(o) = origin {
        call = call.header("origin", o);
    }
    call.send().await
}

/// Signs in and returns the session cookie's value.
pub async fn sign_in(app: &TestApp, user: &str, password: &str) -> String {
    let r = try_login(app, user, password, Some(&app.base_url), None).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.headers["location"], "/admin/events");
    let set = set_cookie(&r, "convene_session").expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(set.contains(flag), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP here");
    cookie_value(&set)
}

pub async fn page(app: &TestApp, session: &str, path: &str) -> Reply {
    app.call(Method::GET, path)
        .header("cookie", &format!("convene_session={session}"))
        .send()
        .await
}

pub async fn set_password(app: &TestApp, user: &str) {
    convene_server::commands::set_password(&app.config, user, "correct horse battery")
        .await
        .unwrap();
}

app_tests! {
    async fn sign_in_is_guarded_and_organizers_see_their_events(app: TestApp) {
        let w = World::new(&app).await;
        for name in ["Alice", "Carol", "Root", "Bob"] {
            set_password(&app, name).await;
        }
        let r = app.call(Method::GET, "/admin").send().await;
        assert_eq!((r.status, r.headers["location"].to_str().unwrap()), (303, "/admin/login?next=%2Fadmin"));
        let login = app.call(Method::GET, "/admin/login").send().await;
        assert!(login.text.contains("<label for=\"username\">") && login.text.contains("<label for=\"password\">"), "labelled fields");

        // The CSRF defences: same origin, and the token of our own form.
        let r = try_login(&app, "Alice", "correct horse battery", None, None).await;
        assert_eq!(r.status, 403, "no Origin or Referer");
        let r = try_login(&app, "Alice", "correct horse battery", Some("http://evil.example"), None).await;
        assert_eq!(r.status, 403, "another origin");
        let r = try_login(&app, "Alice", "correct horse battery", Some(&app.base_url), Some("forged")).await;
        assert_eq!(r.status, 403, "a token that is not ours");

        // Only admins and organizers.
        let r = try_login(&app, "Carol", "correct horse battery", Some(&app.base_url), None).await;
        assert_eq!(r.status, 403);
        assert!(r.text.contains("Only administrators and event organizers"));

        let alice = sign_in(&app, "Alice", "correct horse battery").await;
        let events = page(&app, &alice, "/admin/events").await;
        assert_eq!(events.status, 200);
        assert!(events.text.contains("Open day") && events.text.contains("Board retreat"), "{}", events.text);
        let root_token = w.root.clone();
        let other = create_event(&app, &root_token, json!({"slug": "not-alices", "title": "Not Alice's"})).await;
        assert!(!page(&app, &alice, "/admin/events").await.text.contains("Not Alice&#39;s"));
        assert_eq!(page(&app, &alice, &format!("/admin/events/{other}")).await.status, 404, "not hers to see");
        let detail = page(&app, &alice, &format!("/admin/events/{}", w.event)).await;
        assert_eq!(detail.status, 200);
        assert!(detail.text.contains("Bob") && detail.text.contains("public"), "{}", detail.text);
        let search = page(&app, &alice, "/admin/events?q=retreat").await;
        assert!(search.text.contains("Board retreat") && !search.text.contains("Open day"));
        let overview = page(&app, &alice, "/admin").await;
        assert!(overview.status == 200 && overview.text.contains("Events you see"));
        assert!(!overview.text.contains("Failing endpoints"), "organizers do not see delivery health");

        let root = sign_in(&app, "Root", "correct horse battery").await;
        assert!(page(&app, &root, "/admin/events").await.text.contains("Not Alice&#39;s"));
        let overview = page(&app, &root, "/admin").await;
        assert!(overview.text.contains("Failing endpoints") && overview.text.contains("No delivery attempts"), "{}", overview.text);

        // Every form checks origin and token; admin pages refuse organizers.
        let csrf_of = |html: &str| html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let token = csrf_of(&page(&app, &alice, "/admin/events").await.text);
        let post = |path: &str, fields: &[(&str, &str)], origin: &str| {
            app.call(Method::POST, path)
                .header("cookie", &format!("convene_session={alice}"))
                .header("origin", origin)
                .raw("application/x-www-form-urlencoded", form(fields))
        };
        let make = [("title", "From the form"), ("slug", "from-the-form")];
        assert_eq!(post("/admin/events", &make, &app.base_url).send().await.status, 403, "no token");
        let with_token = [make[0], make[1], ("csrf", token.as_str())];
        assert_eq!(post("/admin/events", &with_token, "http://evil.example").send().await.status, 403, "another origin");
        let made = post("/admin/events", &with_token, &app.base_url).send().await;
        assert_eq!(made.status, 303, "{}", made.text);
        // Date-time inputs are read in the event's own zone.
        let zoned = [("title", "Zoned"), ("slug", "zoned"), ("timezone", "America/New_York"), ("starts_at", "2027-01-15T18:00"), ("csrf", token.as_str())];
        let made = post("/admin/events", &zoned, &app.base_url).send().await;
        let at = made.headers.get("location").unwrap().to_str().unwrap().to_owned();
        assert!(page(&app, &alice, &at).await.text.contains("datetime=\"2027-01-15T23:00:00Z\""), "18:00 in New York");
        let nonsense = [("title", "Z"), ("slug", "z2"), ("timezone", "Mars/Olympus"), ("starts_at", "2027-01-15T18:00"), ("csrf", token.as_str())];
        let refused_zone = post("/admin/events", &nonsense, &app.base_url).send().await;
        assert!(refused_zone.text.contains("id=\"starts_at-error\"") && refused_zone.text.contains("value=\"Mars/Olympus\""), "{}", refused_zone.text);
        assert!(page(&app, &alice, "/admin/events").await.text.contains("From the form"), "the creator organizes it");
        let bad = [("title", ""), ("slug", "x y"), ("csrf", token.as_str())];
        let refused = post("/admin/events", &bad, &app.base_url).send().await;
        // Sent back on the form itself (a page to fix, so 200: browsers log 4xx pages as errors),
        // each field's own message beside it, what was typed kept.
        assert_eq!(refused.status, 200);
        assert!(refused.text.contains("<details open>") && refused.text.contains("id=\"title-error\""), "{}", refused.text);
        assert!(refused.text.contains("value=\"x y\"") && refused.text.contains("aria-invalid=\"true\""), "{}", refused.text);
        let nobody = post(&format!("/admin/events/{}/participants", w.event), &[("username", "Nobody_Here"), ("visibility", "private"), ("csrf", token.as_str())], &app.base_url).send().await;
        assert_eq!(nobody.status, 200, "{}", nobody.text);
        assert!(nobody.text.contains("No user named Nobody_Here") && nobody.text.contains("value=\"Nobody_Here\""), "{}", nobody.text);
        assert!(nobody.text.contains("<option value=\"private\" selected>"), "the choice kept: {}", nobody.text);
        // Organizers and participants are managed on the event's page; removals ask twice.
        let event_path = format!("/admin/events/{}", w.event);
        let ghost = post(&format!("{event_path}/organizers"), &[("organizer", "Ghost"), ("form", "organizer"), ("csrf", token.as_str())], &app.base_url).send().await;
        assert!(ghost.text.contains("id=\"organizer-error\"") && ghost.text.contains("No user named Ghost"), "{}", ghost.text);
        assert!(!ghost.text.contains("Not done: check the fields"), "the register form stays quiet: {}", ghost.text);
        let added = post(&format!("{event_path}/organizers"), &[("organizer", "Carol"), ("csrf", token.as_str())], &app.base_url).send().await;
        assert_eq!(added.status, 303, "{}", added.text);
        assert!(page(&app, &alice, &event_path).await.text.contains("Remove Carol as organizer"));
        let removed = post(&format!("{event_path}/organizers/Carol/remove"), &[("csrf", token.as_str())], &app.base_url).send().await;
        assert_eq!(removed.status, 303, "{}", removed.text);
        let last = post(&format!("{event_path}/organizers/Alice/remove"), &[("csrf", token.as_str())], &app.base_url).send().await;
        assert!(last.text.contains("Not removed:") && last.text.contains("at least one organizer"), "{}", last.text);
        let cancelled = post(&format!("{event_path}/participants/Bob/remove"), &[("csrf", token.as_str())], &app.base_url).send().await;
        assert_eq!(cancelled.status, 303, "{}", cancelled.text);
        assert!(!page(&app, &alice, &event_path).await.text.contains("Cancel Bob&#39;s registration"), "Bob is no longer listed");
        let own = page(&app, &alice, "/admin/webhooks").await;
        assert!(own.status == 200 && own.text.contains("You see the webhooks you made"), "organizers keep their own webhooks: {}", own.text);
        let unscoped = post("/admin/webhooks", &[("url", "https://hooks.example.org/a"), ("event_types", "*"), ("csrf", token.as_str())], &app.base_url).send().await;
        assert!(unscoped.text.contains("forbidden") || unscoped.text.contains("only admins"), "only admins make unscoped webhooks: {}", unscoped.text);
        assert!(unscoped.text.contains("value=\"https://hooks.example.org/a\"") && unscoped.text.contains("role=\"alert\""), "sent back on the form: {}", unscoped.text);
        // The picker: ticked types from the catalogue plus another platform's, typed in.
        let picked = post("/admin/webhooks", &[("url", "https://hooks.example.org/picked"), ("all_types", "on"), ("type:participant.registered", "on"), ("type:event.updated", "on"), ("other_types", "org.openedx.learning.course.enrollment.created.v1"), ("mine", "on"), ("csrf", token.as_str())], &app.base_url).send().await;
        assert_eq!(picked.status, 303, "{}", picked.text);
        let listed = page(&app, &alice, "/admin/webhooks").await;
        assert!(listed.text.contains("event.updated, participant.registered, org.openedx.learning.course.enrollment.created.v1"), "{}", listed.text);
        assert!(listed.text.contains("<code>session.created</code>") && listed.text.contains("Example body"), "the catalogue to choose from");
        let none = post("/admin/webhooks", &[("url", "https://hooks.example.org/none"), ("mine", "on"), ("csrf", token.as_str())], &app.base_url).send().await;
        assert!(none.text.contains("id=\"event_types-error\""), "nothing chosen is said on the picker: {}", none.text);
        let bad_url = post("/admin/webhooks", &[("url", "not a url"), ("event_types", "*"), ("mine", "on"), ("csrf", token.as_str())], &app.base_url).send().await;
        assert_eq!(bad_url.status, 200, "{}", bad_url.text);
        assert!(bad_url.text.contains("id=\"url-error\"") && bad_url.text.contains("value=\"not a url\""), "{}", bad_url.text);
        let mine = post("/admin/webhooks", &[("url", "https://hooks.example.org/mine"), ("event_types", "*"), ("mine", "on"), ("csrf", token.as_str())], &app.base_url).send().await;
        // Made, then a redirect: the secret comes along once, sealed in a cookie for that page.
        assert_eq!(mine.status, 303, "{}", mine.text);
        let location = mine.headers.get("location").unwrap().to_str().unwrap().to_owned();
        assert!(location.starts_with("/admin/webhooks/"), "{location}");
        let once = mine.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(once.starts_with("convene_secret_once=") && once.contains("HttpOnly"), "{once}");
        let with_once = |cookie: &str| {
            app.call(Method::GET, &location)
                .header("cookie", &format!("convene_session={alice}; {cookie}"))
        };
        let first = with_once(once.split(';').next().unwrap()).send().await;
        assert!(first.text.contains("events its maker organizes") && first.text.contains("Signing secret"), "{}", first.text);
        assert!(first.headers.get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"), "spent at once");
        let reload = page(&app, &alice, &location).await;
        assert!(reload.status == 200 && !reload.text.contains("Signing secret"), "a reload shows it no more");
        // Actions answer with a redirect whose page says what happened, in its own words.
        let hook_path = location.clone();
        let act = |what: &'static str, extra: Vec<(&'static str, String)>| {
            let mut fields: Vec<(&str, String)> = vec![("csrf", token.clone())];
            fields.extend(extra);
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(&format!("{hook_path}/{what}"), &pairs, &app.base_url)
        };
        let recovered = act("recover", vec![("since", "2020-01-01T00:00:00Z".into())]).send().await;
        assert_eq!(recovered.status, 303);
        let there = recovered.headers.get("location").unwrap().to_str().unwrap().to_owned();
        assert!(there.ends_with("?done=recovered&n=0"), "{there}");
        assert!(page(&app, &alice, &there).await.text.contains("nothing was queued again"));
        assert!(page(&app, &alice, &format!("{hook_path}?done=<script>")).await.text.contains("<h1>Webhook</h1>"), "unknown codes say nothing");
        let failed_only = page(&app, &alice, &format!("{hook_path}?status=failed")).await;
        assert!(failed_only.text.contains("No delivery matches these filters.") && failed_only.text.contains("<option value=\"failed\" selected>"), "{}", failed_only.text);
        let unconfirmed = act("delete", vec![]).send().await;
        assert!(unconfirmed.text.contains("Not deleted"), "{}", unconfirmed.text);
        assert_eq!(page(&app, &alice, &hook_path).await.status, 200, "still there");
        let deleted = act("delete", vec![("confirm", "on".into())]).send().await;
        assert_eq!(deleted.headers.get("location").unwrap(), "/admin/webhooks?done=deleted");
        assert!(page(&app, &alice, "/admin/webhooks?done=deleted").await.text.contains("The webhook is deleted"));
        let missing = page(&app, &alice, "/admin/no-such-page").await;
        assert_eq!(missing.status, 404);
        assert!(missing.text.contains("There is no page at /admin/no-such-page") && missing.text.contains("<nav"), "{}", missing.text);
        assert_eq!(page(&app, &alice, "/admin/mails").await.status, 403);
        assert_eq!(page(&app, &root, "/admin/mails").await.status, 200);
        assert_eq!(page(&app, &alice, "/admin/notifications").await.status, 200);
        assert_eq!(page(&app, &alice, "/admin/settings").await.status, 403);
        let root_csrf = csrf_of(&page(&app, &root, "/admin/webfilters").await.text);
        let add = app.call(Method::POST, "/admin/webfilters")
            .header("cookie", &format!("convene_session={root}"))
            .header("origin", &app.base_url)
            .raw("application/x-www-form-urlencoded", form(&[("filter_type", "participant.registration.requested"), ("url", "https://filters.example.org/check"), ("csrf", &root_csrf)]))
            .send().await;
        assert_eq!(add.status, 303, "{}", add.text);
        assert!(page(&app, &root, "/admin/webfilters").await.text.contains("https://filters.example.org/check"));
        assert_eq!(page(&app, &alice, "/admin/webfilters").await.status, 403);
        let settings = page(&app, &root, "/admin/settings").await;
        assert!(settings.status == 200 && settings.text.contains("No provider can send"), "{}", settings.text);

        // CRM sync: admins only; its forms are checked like every other.
        assert_eq!(page(&app, &alice, "/admin/crm").await.status, 403);
        let crm = page(&app, &root, "/admin/crm").await;
        assert!(crm.status == 200 && crm.text.contains("No sync profiles yet") && crm.text.contains("No open flags"), "{}", crm.text);
        let profile_form = |csrf: &str| form(&[("name", "an"), ("entry_point", "http://127.0.0.1:9/api/v2/"), ("api_token", "secret-key-1"),
            ("max_requests_per_second", "4"), ("conflict_policy", "field_merge_newest_wins"), ("remote_delete_mode", "unsubscribe"),
            ("every_minutes", "30"), ("csrf", csrf)]);
        let post_root = |path: &str, body: String| app.call(Method::POST, path)
            .header("cookie", &format!("convene_session={root}"))
            .header("origin", &app.base_url)
            .raw("application/x-www-form-urlencoded", body);
        assert_eq!(post_root("/admin/crm", profile_form("forged")).send().await.status, 403);
        let made = post_root("/admin/crm", profile_form(&root_csrf)).send().await;
        assert_eq!(made.status, 303, "{}", made.text);
        let profile = page(&app, &root, made.headers["location"].to_str().unwrap()).await;
        assert!(profile.text.contains("people (both) every 30 min") && !profile.text.contains("secret-key-1"), "{}", profile.text);
        assert!(profile.text.contains("wait for a run") && profile.text.contains("local donations are not pushed"), "{}", profile.text);
        let again = post_root("/admin/crm", profile_form(&root_csrf)).send().await;
        assert!(again.status == 200 && again.text.contains("role=\"alert\"") && again.text.contains("value=\"an\""), "the API's own rule, said on the form: {}", again.text);

        // Sign-out needs the session's token too.
        let csrf = page(&app, &alice, "/admin").await.text.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let out = |token: &str| {
            app.call(Method::POST, "/admin/logout")
                .header("cookie", &format!("convene_session={alice}"))
                .header("origin", &app.base_url)
                .raw("application/x-www-form-urlencoded", form(&[("csrf", token)]))
        };
        assert_eq!(out("wrong").send().await.status, 403);
        assert_eq!(out(&csrf).send().await.status, 303);
        assert_eq!(page(&app, &alice, "/admin/events").await.status, 303, "the session is gone");
    }

    async fn event_pages_page_participants_and_list_slides(app: TestApp) {
        let w = World::new(&app).await;
        set_password(&app, "Alice").await;
        for i in 0..55 {
            let name = format!("Guest {i:02}");
            let user = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": name})).send().await;
            assert_eq!(user.status, 201);
            let r = app.admin(Method::PUT, &format!("/api/v1/events/{}/participants/{name}", w.event))
                .json(&json!({"visibility": "public"})).send().await;
            assert!(r.status == 201 || r.status == 200, "{}", r.text);
        }
        let starts = (app.clock.now() + time::Duration::hours(2))
            .format(&time::format_description::well_known::Rfc3339).unwrap();
        let s = app.call(Method::POST, &format!("/api/v1/events/{}/sessions", w.event)).token(&w.alice)
            .json(&json!({"title": "Opening", "group": "g", "starts_at": starts, "duration_minutes": 30})).send().await;
        assert_eq!(s.status, 201, "{}", s.text);
        let deck = app.call(Method::POST, &format!("/api/v1/sessions/{}/slides", s.str("id"))).token(&w.alice)
            .json(&json!({"title": "Welcome deck", "url": "https://example.org/welcome.pdf"})).send().await;
        assert_eq!(deck.status, 201, "{}", deck.text);

        let alice = sign_in(&app, "Alice", "correct horse battery").await;
        let first = page(&app, &alice, &format!("/admin/events/{}", w.event)).await;
        assert!(first.text.contains("Welcome deck") && first.text.contains("https://example.org/welcome.pdf"), "{}", first.text);
        assert_eq!(first.text.matches("<td>public</td>").count(), 50, "one page of 50 of the 56");
        let next = first.text.split("rel=\"next\"").next().unwrap().rsplit("href=\"").next().unwrap().split('"').next().unwrap().replace("&amp;", "&");
        let second = page(&app, &alice, &next).await;
        assert_eq!(second.status, 200, "{next}");
        assert!(second.text.matches("<td>public</td>").count() == 6 && !second.text.contains("Next participants"), "{}", second.text);
    }

    async fn repeated_failures_lock_the_name(app: TestApp) {
        let _w = World::new(&app).await;
        set_password(&app, "Alice").await;
        for _ in 0..5 {
            let r = try_login(&app, "Alice", "wrong password!", Some(&app.base_url), None).await;
            assert_eq!(r.status, 401);
            assert!(r.text.contains("Wrong username or password."));
        }
        let r = try_login(&app, "Alice", "correct horse battery", Some(&app.base_url), None).await;
        assert_eq!(r.status, 429, "locked even with the right password: {}", r.text);
        app.clock.advance(time::Duration::minutes(2));
        sign_in(&app, "Alice", "correct horse battery").await;
        let cookie = login_token(&app).await;
        let behind_tls = app.call(Method::POST, "/admin/login")
            .header("cookie", &format!("convene_login={cookie}"))
            .header("origin", &app.base_url)
            .header("x-forwarded-proto", "https")
            .raw("application/x-www-form-urlencoded", form(&[("username", "Alice"), ("password", "correct horse battery"), ("csrf", &cookie)]))
            .send().await;
        assert!(set_cookie(&behind_tls, "convene_session").unwrap().contains("; Secure"), "Secure behind TLS");
        let r = try_login(&app, "Nobody", "whatever at all", Some(&app.base_url), None).await;
        assert_eq!(r.status, 401, "unknown names fail the same way");
    }
}
