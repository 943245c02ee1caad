//! Nothing accepted is lost: SIGKILL a server that holds undelivered messages (its peer is
//! down, some sends in flight), start it again on the same database, and every message arrives.

mod support;

use convene_testkit::Receiver;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Dir, serve, signal, wait_exit};

const ADMIN: &str = "durability-admin-token-0123456789";

const ENVS: [(&str, &str); 5] = [
    ("CONVENE_ADMIN_TOKEN", ADMIN),
    ("CONVENE_ALLOW_PRIVATE_TARGETS", "true"),
    (
        "CONVENE_DELIVERY__RETRY_SCHEDULE_S",
        "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
    ),
    // Leases a stopped process held (or a copy kept) end soon, and its deliveries come back.
    ("CONVENE_DELIVERY__LEASE_S", "5"),
    ("CONVENE_DELIVERY__TIMEOUT_S", "2"),
];

/// Posts one signal of `kind` with id `id`; the status the server answered.
async fn post_signal(
    http: &reqwest::Client,
    addr: &str,
    id: &str,
    kind: &str,
    i: usize,
) -> reqwest::StatusCode {
    http.post(format!("http://{addr}/api/v1/signals"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"id": id, "type": kind, "data": {"n": {"i": i}}}))
        .send()
        .await
        .unwrap()
        .status()
}

/// The `webhook-id`s the peer received, once `done` says they are enough or after 60 s.
async fn delivered_ids(
    peer: &Receiver,
    done: impl Fn(&HashSet<String>) -> bool,
) -> HashSet<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ids: HashSet<String> = peer
            .received()
            .iter()
            .map(|r| r.header("webhook-id").to_owned())
            .collect();
        if done(&ids) || Instant::now() > deadline {
            return ids;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A loopback port nothing listens on, for a peer that starts later.
fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

/// A webhook for `types` to the peer on `port`.
async fn hook_to(addr: &str, port: u16, types: &str) {
    let hook = convene_testkit::http_client()
        .post(format!("http://{addr}/api/v1/webhooks"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"url": format!("http://127.0.0.1:{port}/in"), "event_types": [types]}))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_delivers_every_accepted_signal_after_restart() {
    let dir = Dir::new();
    let port = free_port();
    let (mut first, addr) = serve(&dir.0, &ENVS);
    let http = convene_testkit::http_client();
    hook_to(&addr, port, "custom.kill").await;
    for i in 0..20 {
        let status = post_signal(&http, &addr, &format!("k-{i}"), "custom.kill", i).await;
        assert_eq!(status, 202);
    }
    signal(&first, "KILL");
    wait_exit(&mut first, Duration::from_secs(10));

    let peer = Receiver::start_on(port).await;
    let (mut second, _) = serve(&dir.0, &ENVS);
    let delivered = delivered_ids(&peer, |ids| ids.len() >= 20).await;
    signal(&second, "TERM");
    assert!(wait_exit(&mut second, Duration::from_secs(20)).success());
    let expected: HashSet<String> = (0..20).map(|i| format!("k-{i}")).collect();
    assert_eq!(delivered, expected, "every accepted signal, at least once");
}

/// Posts signals one after another until `stop`; the ids the server accepted (202), in order.
async fn post_until(addr: String, stop: Arc<AtomicBool>, count: Arc<AtomicUsize>) -> Vec<String> {
    let http = convene_testkit::http_client();
    let mut accepted = Vec::new();
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if post_signal(&http, &addr, &format!("b-{i}"), "custom.load", i).await == 202 {
            accepted.push(format!("b-{i}"));
            count.fetch_add(1, Ordering::SeqCst);
        }
    }
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_writes_restores_every_accepted_message_and_participant() {
    let dir = Dir::new();
    let port = free_port();
    let (mut first, addr) = serve(&dir.0, &ENVS);
    let http = convene_testkit::http_client();
    let api = |path: &str| format!("http://{addr}/api/v1{path}");
    // The peer is down while the first server runs: every message waits in the database.
    hook_to(&addr, port, "custom.load").await;
    let event = serde_json::json!({"slug": "Backup/Day", "title": "Backup day"});
    let event = support::post_json(&addr, ADMIN, "/api/v1/events", event).await;
    let event = event["id"].as_str().unwrap().to_owned();
    for who in ["Ada", "Grace"] {
        let made = http
            .post(api("/users"))
            .bearer_auth(ADMIN)
            .json(&serde_json::json!({"username": who}))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201);
        let r = http
            .put(api(&format!("/events/{event}/participants/{who}")))
            .bearer_auth(ADMIN)
            .json(&serde_json::json!({"visibility": "public"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }

    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn(post_until(addr.clone(), stop.clone(), count.clone()));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let started = Instant::now();
    // Posts are sequential: the first `before` accepted ids were accepted before the copy began.
    let before = count.load(Ordering::SeqCst);
    let out = support::convene(&dir.0, &["backup", "copy.db"])
        .output()
        .unwrap();
    let backup_took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let accepted = writer.await.unwrap();
    let done = support::json(&out);
    assert!(done["bytes"].as_u64().unwrap() > 0, "{done}");
    assert!(done["path"].as_str().unwrap().ends_with("copy.db"));
    signal(&first, "TERM");
    assert!(wait_exit(&mut first, Duration::from_secs(20)).success());
    let again = support::convene(&dir.0, &["backup", "copy.db"])
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );

    // A fresh server on the copy: the peer is up now.
    let peer = Receiver::start_on(port).await;
    let restored = Dir::new();
    let copy = format!("sqlite://{}", dir.0.join("copy.db").display());
    let mut restored_envs = ENVS.to_vec();
    restored_envs.push(("CONVENE_DATABASE_URL", &copy));
    let (mut second, addr2) = serve(&restored.0, &restored_envs);
    let people: serde_json::Value = http
        .get(format!("http://{addr2}/api/v1/events/{event}/participants"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = people["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada", "Grace"], "{people}");
    let must = &accepted[..before];
    let delivered = delivered_ids(&peer, |ids| must.iter().all(|id| ids.contains(id))).await;
    signal(&second, "TERM");
    assert!(wait_exit(&mut second, Duration::from_secs(20)).success());
    let missing: Vec<&String> = must.iter().filter(|id| !delivered.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "the copy holds every signal accepted before it began (it took {backup_took:?}): missing {missing:?}"
    );
    assert!(
        delivered.iter().all(|id| accepted.contains(id)),
        "only what was accepted"
    );
    assert!(
        before >= 10,
        "writes were going on: {before} accepted before the copy"
    );
}
