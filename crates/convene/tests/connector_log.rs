//! A connector outage is one warning in the log, however many subjects and retries fail in it,
//! and each piece of work that fails for good is one `connector.failed` message.

mod support;

use convene_testkit::Receiver;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Dir, serve_recording, signal, wait_exit};

const ADMIN: &str = "connector-log-admin-token-0123";

async fn admin_post(addr: &str, path: &str, body: Value) -> Value {
    support::post_json(addr, ADMIN, path, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_one_warning_and_one_message_per_failed_room() {
    let ops = Receiver::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let meetecho = format!("http://{}/api/", closed.local_addr().unwrap());
    drop(closed);
    let dir = Dir::new();
    let (mut server, addr, log) = serve_recording(
        &dir.0,
        &[
            ("CONVENE_ADMIN_TOKEN", ADMIN),
            ("CONVENE_ALLOW_PRIVATE_TARGETS", "true"),
            ("CONVENE_CONFERENCING__PROVIDER", "meetecho"),
            ("CONVENE_CONFERENCING__MEETECHO__API_BASE", &meetecho),
            ("CONVENE_CONFERENCING__MEETECHO__CLIENT_ID", "id"),
            ("CONVENE_CONFERENCING__MEETECHO__CLIENT_SECRET", "secret"),
            ("CONVENE_DELIVERY__RETRY_SCHEDULE_S", "[1, 1]"),
            ("CONVENE_DELIVERY__RETRY_JITTER", "0"),
        ],
    );
    admin_post(
        &addr,
        "/api/v1/webhooks",
        json!({"url": ops.url, "event_types": ["connector.failed"]}),
    )
    .await;
    let event = admin_post(
        &addr,
        "/api/v1/events",
        json!({"slug": "outage", "title": "Outage"}),
    )
    .await;
    let sessions = format!("/api/v1/events/{}/sessions", event["id"].as_str().unwrap());
    let mut ids = Vec::new();
    for n in 1..=3 {
        let session = json!({"title": format!("S{n}"), "group": "outage", "remote": true,
                             "starts_at": "2027-01-10T10:00:00Z", "duration_minutes": 60});
        ids.push(
            admin_post(&addr, &sessions, session).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while ops.received().len() < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut subjects: Vec<String> = ops
        .received()
        .iter()
        .map(|r| r.json())
        .inspect(|m| {
            assert_eq!(
                (m["connector"].as_str(), m["kind"].as_str()),
                (Some("conferencing"), Some("conference.room"))
            )
        })
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    subjects.sort();
    ids.sort();
    assert_eq!(subjects, ids, "one message per room that failed for good");
    signal(&server, "TERM");
    assert!(wait_exit(&mut server, Duration::from_secs(20)).success());
    let lines = log.lock().unwrap().clone();
    let failing: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("connector failing"))
        .collect();
    assert_eq!(
        failing.len(),
        1,
        "nine failed attempts, one streak: {failing:?}"
    );
    assert!(
        failing[0].contains("WARN") && failing[0].contains("conferencing"),
        "{failing:?}"
    );
}
