//! Every hole a hostile client found, one test each, numbered as in the hardening issue. A new
//! hole gets its test here first.

use crate::admin_ui::{page, set_password, sign_in, try_login_from};
use crate::osdi;
use crate::support::World;
use convene_testkit::osdi::{OsdiFake, person};
use convene_testkit::{
    Answer, Backend, Method, Receiver, SmtpSink, TcpGate, TestApp, app_tests, spawn_app_with,
};
use serde_json::json;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// Whether the server closes `stream` within `within` (reading whatever it sends first).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base_url.trim_start_matches("http://"))
        .await
        .expect("connects")
}

app_tests! {
    // 1. Failed sign-ins: a budget per address, and a lock per name and address, so someone
    // else's guesses never lock a real admin out.
    async fn h01_sign_in_failures_are_bounded_per_address_not_per_name(app: TestApp) {
        let _w = World::new(&app).await;
        set_password(&app, "Alice").await;
        let (attacker, alice, sprayer) = (loopback(2), loopback(3), loopback(4));
        for _ in 0..5 {
            let r = try_login_from(&app, attacker, "Alice", "wrong password!", Some(&app.base_url), None).await;
            assert_eq!(r.status, 401, "{}", r.text);
        }
        let r = try_login_from(&app, attacker, "Alice", "correct horse battery", Some(&app.base_url), None).await;
        assert_eq!(r.status, 429, "the guesser's own pair is locked: {}", r.text);
        let r = try_login_from(&app, alice, "Alice", "correct horse battery", Some(&app.base_url), None).await;
        assert_eq!(r.status, 303, "Alice, elsewhere, still signs in: {}", r.text);

        for i in 0..10 {
            let r = try_login_from(&app, sprayer, &format!("Random{i}"), "whatever at all", Some(&app.base_url), None).await;
            assert_eq!(r.status, 401, "{}", r.text);
        }
        let r = try_login_from(&app, sprayer, "Random99", "whatever at all", Some(&app.base_url), None).await;
        assert_eq!(r.status, 429, "random names spend the address's budget too: {}", r.text);
        let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        app.clock.advance(time::Duration::seconds(61));
        let r = try_login_from(&app, sprayer, "Random100", "whatever at all", Some(&app.base_url), None).await;
        assert_eq!(r.status, 401, "a new minute, a new budget: {}", r.text);
    }
}

app_tests! {
    config = |c| { c.http.header_timeout_s = 1; };

    // 2a. A connection that sends nothing, or a header a byte at a time, is closed.
    async fn h02_idle_and_slow_connections_are_closed(app: TestApp) {
        let mut idle = connect(&app).await;
        assert!(closed_within(&mut idle, Duration::from_secs(10)).await, "an idle connection is closed");

        let mut slow = connect(&app).await;
        let trickle = async {
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaa" {
                if slow.write_all(&[*byte]).await.is_err() {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            false
        };
        let cut_off = tokio::time::timeout(Duration::from_secs(10), trickle).await.unwrap_or(false);
        assert!(cut_off || closed_within(&mut slow, Duration::from_secs(1)).await, "a trickled header is cut off");

        let mut kept = connect(&app).await;
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        assert!(closed_within(&mut kept, Duration::from_secs(10)).await, "an idle kept-alive connection is closed after its answer");
        let r = app.call(Method::GET, "/healthz").send().await;
        assert_eq!(r.status, 200);
    }
}

app_tests! {
    config = |c| { c.http.max_connections = 3; };

    // 2b. Past the connection cap, new connections are closed at once; the server recovers.
    async fn h02_connections_past_the_cap_are_closed(app: TestApp) {
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(connect(&app).await);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut extra = connect(&app).await;
        assert!(closed_within(&mut extra, Duration::from_secs(3)).await, "the fourth is closed");
        drop(held);
        let mut served = false;
        for _ in 0..50 {
            let mut s = connect(&app).await;
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer).await;
            if answer.starts_with("HTTP/1.1 200") {
                served = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(served, "slots come back when connections close");
    }
}

app_tests! {
    // 3a. The CRM sync goes through the guarded client: a loopback entry point gets nothing,
    // not even the token.
    async fn h03_crm_sync_reaches_no_private_address(app: TestApp) {
        let fake = OsdiFake::start(vec![person("an-1", "Ana", "Lima", "ana@example.org")], 10).await;
        let id = osdi::profile_at(&app, &fake.entry_point, json!({})).await;
        let run = osdi::sync(&app, &id, "people", "remote").await;
        assert_eq!(run.str("state"), "aborted", "{}", run.text);
        assert!(run.str("error").contains("not a public address"), "{}", run.text);
        assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    }

    // 4. Mail providers set through the settings API reach no private address either.
    async fn h04_mail_providers_reach_no_private_address(app: TestApp) {
        let sink = SmtpSink::start().await;
        let api = Receiver::start().await;
        let r = app.admin(Method::PUT, "/api/v1/settings/email")
            .json(&json!({"providers": ["smtp", "http"], "smtp_url": sink.url(),
                "http_api_url": api.url.trim_end_matches("hook"), "http_api_key": "key-1"}))
            .send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.admin(Method::POST, "/api/v1/settings/email/test").json(&json!({"to": "ops@example.org"})).send().await;
        assert!(r.status < 300, "{}", r.text);
        app.drain().await;
        let m = app.admin(Method::GET, &format!("/api/v1/mails/{}", r.str("id"))).send().await.body;
        assert_ne!(m["status"], "sent", "{m}");
        let errors: Vec<&str> = m["attempt_log"].as_array().unwrap().iter().filter_map(|a| a["error"].as_str()).collect();
        assert!(errors.len() >= 2 && errors.iter().all(|e| e.contains("not a public address")), "{m}");
        assert!(sink.received().is_empty() && api.received().is_empty(), "nothing left");
    }
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    // 3b. Links in the entry point are followed only on its own origin: the token never goes
    // to another host.
    async fn h03_crm_sync_follows_links_only_on_the_entry_points_origin(app: TestApp) {
        let elsewhere = OsdiFake::start(vec![person("an-1", "Ana", "Lima", "ana@example.org")], 10).await;
        let entry = Receiver::start().await;
        let href = |tail: &str| json!({"href": format!("{}{tail}", elsewhere.entry_point)});
        entry.script([Answer::json(200, &json!({"_links": {
            "osdi:people": href("people"), "osdi:tags": href("tags"), "osdi:events": href("events")}}))]);
        let id = osdi::profile_at(&app, &entry.url, json!({})).await;
        let run = osdi::sync(&app, &id, "people", "remote").await;
        assert_eq!(run.str("state"), "aborted", "{}", run.text);
        assert!(run.str("error").contains("origin"), "{}", run.text);
        assert!(elsewhere.requests().is_empty(), "{:?}", elsewhere.requests());
        assert_eq!(entry.received().len(), 1, "only the entry point was asked");
    }
}

app_tests! {
    // 5. A page number whose offset would overflow is a 400 naming the parameter.
    async fn h05_huge_page_numbers_are_refused(app: TestApp) {
        let w = World::new(&app).await;
        let me = app.call(Method::GET, "/api/v1/me").token(&w.bob).send().await.str("id");
        for path in ["/v1/notifications".to_owned(), format!("/v1/users/{me}/notifications")] {
            let r = app.call(Method::GET, &format!("{path}?page[number]=9223372036854775809&page[size]=1"))
                .token(&w.root).send().await;
            assert_eq!(r.status, 400, "{path}: {}", r.text);
            assert_eq!(r.body["errors"][0]["source"]["parameter"], "page[number]", "{}", r.text);
            let r = app.call(Method::GET, &format!("{path}?page[number]=92233720368547758&page[size]=100"))
                .token(&w.root).send().await;
            assert_eq!(r.status, 200, "the last page a database can offset is an empty page: {}", r.text);
        }
    }

    // 6. NUL in an id, a name or a cursor is a 400 on every route, decided before any query.
    async fn h06_nul_in_ids_names_and_cursors_is_a_400(app: TestApp) {
        let w = World::new(&app).await;
        for path in [
            "/api/v1/osdi/profiles/%00", "/api/v1/users/%00", "/api/v1/events/%00",
            "/api/v1/events/%00/participants", "/api/v1/webhooks/%00", "/api/v1/people/%00",
            "/api/v1/users?cursor=%00", "/api/v1/mail-suppressions/a%00b",
        ] {
            let r = app.call(Method::GET, path).token(&w.root).send().await;
            assert_eq!((r.status, r.code()), (400, "invalid_parameter"), "{path}: {}", r.text);
        }
        for list in ["/api/v1/users", "/api/v1/events", "/api/v1/webhooks", "/api/v1/people", "/api/v1/mails"] {
            let r = app.call(Method::GET, &format!("{list}?cursor=AA")).token(&w.root).send().await;
            assert_eq!((r.status, r.code()), (400, "invalid_parameter"), "{list}: {}", r.text);
        }
        let r = app.call(Method::GET, "/v1/notifications/%00").token(&w.root).send().await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.body["errors"].is_array(), "JSON:API's shape: {}", r.text);
    }

    // 7. A filter is bounded in nodes and values.
    async fn h07_huge_filters_are_refused(app: TestApp) {
        let w = World::new(&app).await;
        let ids: Vec<String> = (0..5_000).map(|i| i.to_string()).collect();
        let filter = format!(r#"[{{"name":"id","op":"in_","val":[{}]}}]"#, ids.join(","));
        let url = format!("/v1/notifications?filter={}", url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>());
        let r = app.call(Method::GET, &url).token(&w.root).send().await;
        assert_eq!(r.status, 400, "{}", &r.text[..r.text.len().min(300)]);
        assert_eq!(r.body["errors"][0]["source"]["parameter"], "filter", "{}", &r.text[..r.text.len().min(300)]);
        assert!(r.text.contains("at most 500"), "{}", r.text);
    }

    // 8. An admin send names at most 1,000 users, looked up in one query.
    async fn h08_a_send_names_a_bounded_list(app: TestApp) {
        let w = World::new(&app).await;
        let names: Vec<String> = (0..20_000).map(|i| format!("Nobody{i}")).collect();
        let r = app.call(Method::POST, "/api/v1/notifications").token(&w.root)
            .json(&json!({"usernames": names, "title": "T", "message": "M"})).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["usernames".to_owned()]), "{}", &r.text[..r.text.len().min(300)]);
        assert!(r.text.contains("at most 1000"), "{}", r.text);
        let r = app.call(Method::POST, "/api/v1/notifications").token(&w.root)
            .json(&json!({"usernames": ["Bob", "bob", "Nobody", "Alice"], "title": "T", "message": "M"})).send().await;
        assert_eq!(r.fields(), vec!["usernames".to_owned()], "{}", r.text);
        assert!(r.text.contains("no such users: Nobody") && !r.text.contains("bob,"), "{}", r.text);
        let r = app.call(Method::POST, "/api/v1/notifications").token(&w.root)
            .json(&json!({"usernames": ["Bob", "bob", "Alice"], "title": "T", "message": "M"})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["ids"].as_array().unwrap().len(), 2, "one each, however often named: {}", r.text);
    }
}

app_tests! {
    // 9. Creating an event never tells whether a private event holds a slug.
    async fn h09_a_private_slug_never_leaks(app: TestApp) {
        let w = World::new(&app).await;
        let body = json!({"slug": "board-retreat", "title": "Mine"});
        let r = app.call(Method::POST, "/api/v1/events").token(&w.carol).json(&body).send().await;
        assert_eq!(r.status, 201, "answered as if the slug were free: {}", r.text);
        assert_eq!(r.str("slug"), "board-retreat-2", "{}", r.text);
        let r = app.call(Method::POST, "/api/v1/events").token(&w.carol).json(&body).send().await;
        assert_eq!((r.status, r.str("slug")), (201, "board-retreat-3".to_owned()), "{}", r.text);
        for who in [&w.alice, &w.bob, &w.root] {
            let r = app.call(Method::POST, "/api/v1/events").token(who).json(&body).send().await;
            assert_eq!((r.status, r.code()), (409, "slug_taken"), "who sees it is told: {}", r.text);
        }
        // Renaming is the same: a hidden holder is never revealed.
        let mine = app.call(Method::POST, "/api/v1/events").token(&w.carol).json(&json!({"slug": "carols-day", "title": "Mine"})).send().await.str("id");
        let r = app.call(Method::PATCH, &format!("/api/v1/events/{mine}")).token(&w.carol).json(&json!({"slug": "board-retreat"})).send().await;
        assert_eq!((r.status, r.str("slug")), (200, "board-retreat-4".to_owned()), "{}", r.text);
        let r = app.call(Method::PATCH, &format!("/api/v1/events/{}", w.event)).token(&w.alice).json(&json!({"slug": "board-retreat"})).send().await;
        assert_eq!((r.status, r.code()), (409, "slug_taken"), "{}", r.text);
    }

    // 10. Usernames are NFC, then MediaWiki's invalid-username rules.
    async fn h10_lookalike_usernames_are_one_or_refused(app: TestApp) {
        let r = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": "Rene\u{301}"})).send().await;
        assert_eq!((r.status, r.str("username")), (201, "René".to_owned()), "{}", r.text);
        let r = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": "René"})).send().await;
        assert_eq!(r.status, 409, "{}", r.text);
        for hidden in ["Jane\u{200b}Doe", "Jane\u{200d}Doe", "Jane\u{e000}Doe", "Jane\u{2060}Doe", "Jane\u{feff}Doe", "Jane\u{ad}Doe"] {
            let r = app.admin(Method::POST, "/api/v1/users").json(&json!({"username": hidden})).send().await;
            assert_eq!((r.status, r.fields()), (422, vec!["username".to_owned()]), "{hidden:?}: {}", r.text);
        }
    }
}

app_tests! {
    // 11. A notification's HTML is sanitised: stored, in the UI, in mail.
    async fn h11_notification_html_cannot_run_scripts(app: TestApp) {
        let w = World::new(&app).await;
        set_password(&app, "Alice").await;
        let evil = "<img src=x onerror=alert(1)><script>alert(2)</script><b>moved</b>";
        let r = app.call(Method::POST, "/api/v1/notifications").token(&w.root)
            .json(&json!({"usernames": ["Alice"], "title": "Heads up", "message": evil})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let session = sign_in(&app, "Alice", "correct horse battery").await;
        let inbox = page(&app, &session, "/admin/notifications").await;
        assert_eq!(inbox.status, 200);
        assert!(inbox.text.contains("<b>moved</b>"), "formatting stays: {}", inbox.text);
        assert!(!inbox.text.contains("onerror") && !inbox.text.contains("alert(2)"), "{}", inbox.text);
        let me = app.call(Method::GET, "/api/v1/me").token(&w.alice).send().await.str("id");
        let r = app.call(Method::GET, &format!("/v1/users/{me}/notifications")).token(&w.alice).send().await;
        let stored = r.body["data"][0]["attributes"]["message"].as_str().unwrap_or_default().to_owned();
        assert!(stored.contains("<b>moved</b>") && !stored.contains("onerror") && !stored.contains("script"), "{}", r.text);
    }

    // 12, 13. Signed-in pages cannot be framed and are not kept by the browser.
    async fn h12_h13_admin_pages_refuse_frames_and_caches(app: TestApp) {
        let _w = World::new(&app).await;
        set_password(&app, "Alice").await;
        let session = sign_in(&app, "Alice", "correct horse battery").await;
        for path in ["/admin", "/admin/events", "/admin/notifications", "/admin/login"] {
            let r = page(&app, &session, path).await;
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(r.headers["x-frame-options"], "DENY", "{path}");
            let csp = r.headers["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{path}: {csp}");
            assert_eq!(r.headers["cache-control"], "no-store", "{path}");
        }
    }
}

app_tests! {
    config = |c| {
        c.allow_private_targets = true;
        c.secrets.key = Some(convene_server::config::Secret::new("first key, thirty-two chars long!"));
    };

    // 14. Stored secrets are sealed: a copy of the database without the key holds none; a new
    // key takes over with `convene secrets rotate`, the old one in previous_keys.
    async fn h14_secrets_are_sealed_at_rest_and_rotate(app: TestApp) {
        let r = app.admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": "https://example.org/hook", "event_types": ["event.created"]})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let (hook, secret) = (r.str("id"), r.str("secret"));
        let r = app.admin(Method::PUT, "/api/v1/settings/email")
            .json(&json!({"smtp_url": "smtp://mailer:hunter2-password@mail.example.org:587", "http_api_key": "SG.key-material"})).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        let fake = OsdiFake::start(vec![], 10).await;
        let profile = osdi::profile_at(&app, &fake.entry_point, json!({})).await;

        // The database alone: another store on it, without the server's key.
        let copy = convene_server::startup::open_store(&app.config).await.unwrap();
        let hook_id = convene_core::WebhookId::parse(&hook).unwrap();
        assert!(copy.webhook(&hook_id).await.is_err(), "the webhook secret does not open without the key");
        let stored = copy.setting("email").await.unwrap().unwrap().to_string();
        assert!(!stored.contains("hunter2") && !stored.contains("SG.key"), "{stored}");
        let token = copy.profile(&profile).await.unwrap().unwrap().token_sealed;
        assert!(token.starts_with("v1:") && !token.contains("test-token"), "{token}");

        // Rotation: the new key seals everything again; the old one is then no longer needed.
        let mut rotated = app.config.clone();
        rotated.secrets.key = Some(convene_server::config::Secret::new("second key, also thirty-two long"));
        rotated.secrets.previous_keys = vec![convene_server::config::Secret::new("first key, thirty-two chars long!")];
        let out = convene_server::commands::secrets_rotate(&rotated).await.unwrap();
        assert!(out["resealed"].as_u64().unwrap() >= 3, "{out}");
        let mut only_new = rotated.clone();
        only_new.secrets.previous_keys = vec![];
        let (store, _keys) = convene_server::startup::migrate_keyed(&only_new, time::OffsetDateTime::now_utc()).await.unwrap();
        let opened = store.webhook(&hook_id).await.unwrap().unwrap();
        assert_eq!(opened.secret, secret, "the same secret, sealed under the new key");
        let again = convene_server::commands::secrets_rotate(&only_new).await.unwrap();
        assert_eq!(again["resealed"], 0, "nothing left to seal: {again}");
    }
}

// Smaller items: a database that hangs gets a readiness answer within about a second, and a
// write gets 503 `database_unavailable` with `Retry-After`, never a 500. (PostgreSQL behind a
// TCP gate; SQLite is a file.)
#[tokio::test]
async fn h15_a_hung_database_is_answered_as_unavailable() {
    let Ok(real) = std::env::var("CONVENE_TEST_POSTGRES_URL") else {
        return;
    };
    let real = url::Url::parse(&real).unwrap();
    let target = format!(
        "{}:{}",
        real.host_str().unwrap(),
        real.port().unwrap_or(5432)
    );
    let gate = TcpGate::start(&target).await;
    let port = gate.port;
    let Some(app) = spawn_app_with(Backend::Postgres, move |c| {
        let mut url = url::Url::parse(&c.database_url).unwrap();
        url.set_port(Some(port)).unwrap();
        c.database_url = url.to_string();
    })
    .await
    else {
        return;
    };
    assert_eq!(app.call(Method::GET, "/readyz").send().await.status, 200);
    gate.black_hole();
    let asked = Instant::now();
    let r = app.call(Method::GET, "/readyz").send().await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "answered in {:?}",
        asked.elapsed()
    );
    let r = app
        .admin(Method::POST, "/api/v1/users")
        .json(&json!({"username": "Nobody"}))
        .send()
        .await;
    assert_eq!(
        (r.status, r.code()),
        (503, "database_unavailable"),
        "{}",
        r.text
    );
    assert!(r.headers.get("retry-after").is_some());
    gate.restore();
    let mut ready = false;
    for _ in 0..60 {
        if app.call(Method::GET, "/readyz").send().await.status == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(ready, "ready again once the database answers");
}

app_tests! {
    // Smaller items: a webfilter refused by the SSRF guard is a request exception like any
    // other, so the filter's own halt_on_request_exception decides.
    async fn h16_a_refused_webfilter_follows_its_exception_setting(app: TestApp) {
        let w = World::new(&app).await;
        let rx = Receiver::start().await;
        let made = app.admin(Method::POST, "/api/v1/webfilters")
            .json(&json!({"filter_type": "participant.registration.requested", "url": rx.url})).send().await;
        assert_eq!(made.status, 201, "{}", made.text);
        let id = made.str("id");
        let carol = |visibility: &'static str| {
            app.call(Method::PUT, &format!("/api/v1/events/{}/participants/Carol", w.event))
                .token(&w.carol).json(&json!({"visibility": visibility})).send()
        };
        let r = carol("public").await;
        assert_eq!(r.status, 201, "refused, not halting: the action goes on: {}", r.text);
        let r = app.admin(Method::PATCH, &format!("/api/v1/webfilters/{id}"))
            .json(&json!({"halt_on_request_exception": true})).send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = carol("private").await;
        assert_eq!((r.status, r.code()), (403, "halted_by_filter"), "{}", r.text);
        assert!(r.str("error").is_empty() && r.body["error"]["detail"].as_str().unwrap().contains("not a public address"), "{}", r.text);
        assert!(rx.received().is_empty(), "the loopback receiver was never called");
    }
}

app_tests! {
    config = |c| c.metrics.token = Some(convene_server::config::Secret::new("scrape-token-0123456789"));

    // Smaller items: /metrics may need a token.
    async fn h17_metrics_may_be_protected(app: TestApp) {
        assert_eq!(app.call(Method::GET, "/metrics").send().await.status, 401);
        assert_eq!(app.call(Method::GET, "/metrics").token("wrong").send().await.status, 401);
        let r = app.call(Method::GET, "/metrics").token("scrape-token-0123456789").send().await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("http_requests_total"));
    }
}

/// Every item of a list, walked a page of `limit` at a time; the number of pages.
async fn walk(
    app: &TestApp,
    token: &str,
    path: &str,
    limit: u32,
) -> (Vec<serde_json::Value>, usize) {
    let (mut items, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let r = app.call(Method::GET, &url).token(token).send().await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        items.extend(r.body["data"].as_array().unwrap().iter().cloned());
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (items, pages),
        }
    }
}

app_tests! {
    // Smaller items: the lists that had no page cap take limit and cursor; an empty limit is
    // no limit given.
    async fn h18_every_list_pages(app: TestApp) {
        let w = World::new(&app).await;
        for who in ["Bob", "Carol"] {
            let r = app.call(Method::PUT, &format!("/api/v1/events/{}/organizers/{who}", w.event)).token(&w.alice).json(&json!({})).send().await;
            assert!(r.status < 300, "{}", r.text);
        }
        let (organizers, pages) = walk(&app, &w.alice, &format!("/api/v1/events/{}/organizers", w.event), 2).await;
        assert_eq!((organizers.len(), pages), (3, 2));
        for address in ["a@example.org", "b@example.org", "c@example.org"] {
            let r = app.call(Method::PUT, &format!("/api/v1/mail-suppressions/{address}")).token(&w.root).json(&json!({})).send().await;
            assert!(r.status < 300, "{}", r.text);
        }
        let (suppressed, pages) = walk(&app, &w.root, "/api/v1/mail-suppressions", 2).await;
        assert_eq!((suppressed.len(), pages), (3, 2));
        for name in ["one", "two", "three"] {
            let r = app.call(Method::POST, "/api/v1/osdi/profiles").token(&w.root)
                .json(&json!({"name": name, "entry_point": "https://actionnetwork.org/api/v2/", "api_token": "tok-0123456789"})).send().await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let (profiles, pages) = walk(&app, &w.root, "/api/v1/osdi/profiles", 1).await;
        assert_eq!((profiles.len(), pages), (3, 3));
        for path in ["/api/v1/users?limit=", "/api/v1/osdi/flags?limit=", "/api/v1/osdi/profiles?limit="] {
            let r = app.call(Method::GET, path).token(&w.root).send().await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
        }
    }
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    // Smaller items: a killed worker repeats only the sends it had not finished. Sends are
    // recorded in waves as they finish; before, the whole round was recorded when its slowest
    // send was, so a kill repeated every send of the round (up to `batch_size`).
    async fn h19_a_kill_repeats_only_unfinished_sends(app: TestApp) {
        let rx = Receiver::start().await;
        let mut answers: Vec<Answer> = (0..4).map(|_| Answer::status(200)).collect();
        answers.push(Answer { delay: Some(Duration::from_secs(3)), ..Answer::status(200) });
        rx.script(answers);
        let r = app.admin(Method::POST, "/api/v1/webhooks").json(&json!({"url": rx.url, "event_types": ["*"]})).send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        for i in 0..5 {
            let r = app.admin(Method::POST, "/api/v1/signals").json(&json!({"id": format!("s-{i}"), "type": "custom.wave", "data": {"i": i}})).send().await;
            assert_eq!(r.status, 202, "{}", r.text);
        }
        assert!(app.killed_round(Duration::from_millis(1500)).await, "the round was still waiting on its slow send");
        assert_eq!(rx.received().len(), 5, "all five were sent once");
        app.clock.advance(time::Duration::seconds(app.config.delivery.lease_s as i64 + 1));
        app.drain().await;
        let ids: Vec<String> = rx.received().iter().map(|r| r.header("webhook-id").to_owned()).collect();
        assert_eq!(ids.len(), 6, "only the unfinished send went again: {ids:?}");
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), 5, "and every message arrived");
    }
}
