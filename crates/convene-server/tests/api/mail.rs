//! Mail through a real SMTP server process (aiosmtpd) and a local HTTP mail API: the exact
//! messages and headers, one-click unsubscribe, retries against a dead server, failover,
//! bounces, and the admin's settings.

use crate::support::{app_with_smtp, register, user_with_mail};
use convene_testkit::{Answer, Backend, Method, Receiver, SmtpSink, TestApp, on_both_backends};
use serde_json::{Value, json};
use time::Duration;

async fn event_with_organizer(app: &TestApp, organizer: &str) -> String {
    let r = app
        .call(Method::POST, "/api/v1/events")
        .token(organizer)
        .json(&json!({"slug": "Wiki/Loves_Mail", "title": "Wiki Loves Mail"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.str("id")
}

async fn mails(app: &TestApp) -> Vec<Value> {
    let r = app.admin(Method::GET, "/api/v1/mails").send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"].as_array().unwrap().clone()
}

async fn mail_detail(app: &TestApp, id: &str) -> Value {
    app.admin(Method::GET, &format!("/api/v1/mails/{id}"))
        .send()
        .await
        .body
}

async fn registrations_are_mailed_exactly_and_unsubscribe_in_one_click(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_smtp(backend, &sink.url()).await else {
        return;
    };
    let ana = user_with_mail(&app, "Ana", Some("de-AT")).await;
    let ben = user_with_mail(&app, "Ben", None).await;
    let event = event_with_organizer(&app, &ana).await;
    register(&app, &event, &ben, "Ben").await;
    app.drain().await;

    let got = sink.received();
    assert_eq!(
        got.len(),
        2,
        "one mail to the organizer, Ben's confirmation: {got:?}"
    );
    let m = got.iter().find(|m| m.to == ["ana@example.org"]).unwrap();
    let confirmation = got.iter().find(|m| m.to == ["ben@example.org"]).unwrap();
    assert_eq!(
        confirmation.decoded_header("Subject").as_deref(),
        Some("You are registered for Wiki Loves Mail")
    );
    assert!(
        confirmation.header("List-Unsubscribe").is_none()
            && !confirmation.data.contains("VCALENDAR"),
        "an answer to what Ben did; no start, so no invitation: {}",
        confirmation.data
    );
    assert_eq!(
        (m.from.as_str(), m.to.clone()),
        ("convene@localhost", vec!["ana@example.org".to_owned()])
    );
    assert_eq!(
        m.header("From").as_deref(),
        Some("Convene <convene@localhost>")
    );
    assert_eq!(m.header("To").as_deref(), Some("ana@example.org"));
    assert_eq!(
        m.decoded_header("Subject").as_deref(),
        Some("Neue Anmeldung für Wiki Loves Mail"),
        "{:?}",
        m.header("Subject")
    );
    assert!(
        m.header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "{}",
        m.data
    );
    assert_eq!(
        m.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(
        m.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe = m.header("List-Unsubscribe").unwrap();
    let url = unsubscribe
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    assert!(
        url.starts_with(&format!("{}/unsubscribe/", app.base_url)),
        "{url}"
    );
    assert!(
        m.data.contains("Hallo Ana"),
        "the recipient's locale (de-AT -> de): {}",
        m.data
    );

    let mut log = mails(&app).await;
    log.retain(|m| m["action"] == "participant_registered");
    assert_eq!(log.len(), 1);
    assert_eq!(
        (
            log[0]["status"].as_str(),
            log[0]["provider"].as_str(),
            log[0]["action"].as_str()
        ),
        (Some("sent"), Some("smtp"), Some("participant_registered"))
    );
    assert_eq!(log[0]["subject"], "Neue Anmeldung für Wiki Loves Mail");
    let message_id = log[0]["provider_message_id"].as_str().unwrap().to_owned();
    assert_eq!(m.header("Message-ID").as_deref(), Some(message_id.as_str()));
    let detail = mail_detail(&app, log[0]["id"].as_str().unwrap()).await;
    assert_eq!(detail["attempt_log"].as_array().unwrap().len(), 1);
    assert!(detail["headers"].to_string().contains("List-Unsubscribe"));
    assert_eq!(
        app.call(Method::GET, "/api/v1/mails")
            .token(&ben)
            .send()
            .await
            .status,
        403,
        "the mail log is the admin's"
    );

    // A GET (a link scanner) changes nothing; the RFC 8058 POST unsubscribes without a session.
    let page = app
        .call(Method::GET, &url.replace(&app.base_url, ""))
        .send()
        .await;
    assert!(
        page.status == 200 && page.text.contains("<form method=\"post\">"),
        "{}",
        page.text
    );
    let r = app
        .call(Method::POST, &url.replace(&app.base_url, ""))
        .raw(
            "application/x-www-form-urlencoded",
            "List-Unsubscribe=One-Click",
        )
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        app.call(Method::POST, "/unsubscribe/forged.token")
            .send()
            .await
            .status,
        404
    );
    let prefs = app
        .call(Method::GET, "/api/v1/me/notification-preferences")
        .token(&ana)
        .send()
        .await;
    let p = prefs.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "participant_registered")
        .unwrap()
        .clone();
    assert_eq!(
        (p["email"].clone(), p["in_app"].clone()),
        (json!(false), json!(true))
    );

    let cleo = user_with_mail(&app, "Cleo", None).await;
    register(&app, &event, &cleo, "Cleo").await;
    app.drain().await;
    let to_ana = |sink: &SmtpSink| {
        sink.received()
            .iter()
            .filter(|m| m.to == ["ana@example.org"])
            .count()
    };
    assert_eq!(to_ana(&sink), 1, "no more mail of that kind to Ana");
    assert!(
        sink.received().iter().any(|m| m.to == ["cleo@example.org"]),
        "Cleo's own confirmation still goes"
    );
    let inbox = app
        .call(Method::GET, "/v1/users/Ana/notifications")
        .token(&ana)
        .send()
        .await;
    assert_eq!(inbox.body["meta"]["count"], 2, "the app still tells her");
}

async fn a_dead_mail_server_is_retried_and_nothing_is_lost(backend: Backend) {
    let mut sink = SmtpSink::start().await;
    let port = sink.port;
    let Some(app) = app_with_smtp(backend, &sink.url()).await else {
        return;
    };
    sink.stop().await;
    let r = app
        .admin(Method::POST, "/api/v1/settings/email/test")
        .json(&json!({"to": "ops@example.org"}))
        .send()
        .await;
    assert_eq!(
        (r.status, r.str("status")),
        (202, "queued".to_owned()),
        "{}",
        r.text
    );
    let id = r.str("id");
    app.drain().await;
    let m = mail_detail(&app, &id).await;
    assert_eq!(
        (m["status"].as_str(), m["attempts"].as_u64()),
        (Some("queued"), Some(1)),
        "{m}"
    );
    assert!(m["error"].as_str().unwrap().len() > 3);

    // The server comes back where it was: the retry delivers the same mail once.
    let back = SmtpSink::start_on(port).await;
    app.clock.advance(Duration::seconds(10));
    app.drain().await;
    let m = mail_detail(&app, &id).await;
    assert_eq!(
        (m["status"].as_str(), m["attempts"].as_u64()),
        (Some("sent"), Some(2)),
        "{m}"
    );
    let got = back.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("Subject").as_deref(),
        Some("Test mail from Convene")
    );
    assert!(
        got[0].header("List-Unsubscribe").is_none(),
        "transactional mail has no unsubscribe"
    );
    drop(back);

    // Dead for good: every scheduled attempt, then failed; the API never errs.
    let r = app
        .admin(Method::POST, "/api/v1/settings/email/test")
        .json(&json!({"to": "ops@example.org"}))
        .send()
        .await;
    let id = r.str("id");
    for _ in 0..12 {
        app.drain().await;
        app.clock.advance(Duration::hours(11));
    }
    let m = mail_detail(&app, &id).await;
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(
        m["attempt_log"].as_array().unwrap().len(),
        8,
        "the delivery schedule's attempts: {m}"
    );
    let failed = app
        .admin(Method::GET, "/api/v1/mails?status=failed")
        .send()
        .await;
    assert_eq!(failed.body["data"].as_array().unwrap().len(), 1);
}

async fn providers_fail_over_and_bounces_are_suppressed(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_smtp(backend, "smtp://127.0.0.1:9").await else {
        return;
    };
    let api = Receiver::start().await;
    api.script([Answer {
        status: 202,
        headers: vec![("x-message-id", "sg-123".to_owned())],
        body: String::new(),
        delay: None,
    }]);
    let base = api.url.trim_end_matches("hook").to_owned();
    let r = app.admin(Method::PUT, "/api/v1/settings/email")
        .json(&json!({"providers": ["smtp", "http"], "http_api_url": base, "http_api_key": "key-1", "from_name": "Ops"})).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["has_http_api_key"], true);
    assert!(!r.text.contains("key-1"), "the key is write-only");

    let r = app
        .admin(Method::POST, "/api/v1/settings/email/test")
        .json(&json!({"to": "ops@example.org"}))
        .send()
        .await;
    app.drain().await;
    let m = mail_detail(&app, &r.str("id")).await;
    assert_eq!(
        (
            m["status"].as_str(),
            m["provider"].as_str(),
            m["provider_message_id"].as_str()
        ),
        (Some("sent"), Some("http"), Some("sg-123")),
        "{m}"
    );
    let tries: Vec<(String, bool)> = m["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["provider"].as_str().unwrap().to_owned(),
                a["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tries,
        vec![("smtp".to_owned(), false), ("http".to_owned(), true)]
    );
    let call = &api.received()[0];
    assert_eq!(
        (
            call.method.as_str(),
            call.path.as_str(),
            call.header("authorization")
        ),
        ("POST", "/v3/mail/send", "Bearer key-1")
    );
    let body = call.json();
    assert_eq!(
        body["personalizations"][0]["to"][0]["email"],
        "ops@example.org"
    );
    assert_eq!(
        body["from"],
        json!({"email": "convene@localhost", "name": "Ops"})
    );
    assert_eq!(body["subject"], "Test mail from Convene");
    assert_eq!(body["content"][0]["type"], "text/plain");

    // SMTP alone, to an address the server refuses for good.
    let r = app
        .admin(Method::PUT, "/api/v1/settings/email")
        .json(&json!({"providers": ["smtp"], "smtp_url": sink.url()}))
        .send()
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .admin(Method::POST, "/api/v1/settings/email/test")
        .json(&json!({"to": "bounce@example.org"}))
        .send()
        .await;
    app.drain().await;
    let m = mail_detail(&app, &r.str("id")).await;
    assert_eq!(m["status"], "failed", "{m}");
    assert!(m["error"].as_str().unwrap().contains("550"), "{m}");
    let list = app
        .admin(Method::GET, "/api/v1/mail-suppressions")
        .send()
        .await;
    assert_eq!(list.body["data"][0]["address"], "bounce@example.org");
    let r = app
        .admin(Method::POST, "/api/v1/settings/email/test")
        .json(&json!({"to": "Bounce@Example.org"}))
        .send()
        .await;
    assert_eq!(r.str("status"), "suppressed");
    assert!(sink.received().is_empty());
    assert_eq!(
        app.admin(
            Method::DELETE,
            "/api/v1/mail-suppressions/bounce@example.org"
        )
        .send()
        .await
        .status,
        204
    );

    // Switched off entirely: mail is logged, not sent.
    let r = app
        .admin(Method::PUT, "/api/v1/settings/email")
        .json(&json!({"providers": []}))
        .send()
        .await;
    assert_eq!(r.body["can_send"], false);
    let r = app
        .admin(Method::POST, "/api/v1/settings/email/test")
        .json(&json!({"to": "ops@example.org"}))
        .send()
        .await;
    assert_eq!(r.str("status"), "disabled");
    let r = app
        .admin(Method::PUT, "/api/v1/settings/email")
        .json(&json!({"providers": ["fax"], "smtp_url": "ftp://x"}))
        .send()
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields().len(), 2);
}

on_both_backends!(
    registrations_are_mailed_exactly_and_unsubscribe_in_one_click => mail_to_a_real_smtp_server,
    a_dead_mail_server_is_retried_and_nothing_is_lost => dead_smtp_server,
    providers_fail_over_and_bounces_are_suppressed => failover_and_bounces,
);
