//! Nodes nudge each other: a signal accepted by an API node reaches its peer through a worker
//! node at once, although the worker polls only once a minute (PostgreSQL's LISTEN/NOTIFY).

mod support;

use convene_testkit::{Receiver, TestDb};
use std::time::{Duration, Instant};
use support::{Dir, convene, post_json};

const ADMIN: &str = "nudges-admin-token-0123456789";

#[tokio::test]
async fn a_worker_node_hears_an_api_node_write() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = Dir::new();
    let envs = [
        ("CONVENE_DATABASE_URL", db.url.as_str()),
        ("CONVENE_ADMIN_TOKEN", ADMIN),
        ("CONVENE_ALLOW_PRIVATE_TARGETS", "true"),
        // Only a nudge can wake it within the test's time.
        ("CONVENE_DELIVERY__IDLE_POLL_MS", "60000"),
    ];
    let (api, addr, _) = support::serve_as(&dir.0, &["serve", "--role", "api"], &envs);
    let mut worker = convene(&dir.0, &["serve", "--role", "worker"]);
    worker.envs(envs);
    let worker = support::Server::spawned(worker);
    let peer = Receiver::start().await;
    post_json(
        &addr,
        ADMIN,
        "/api/v1/webhooks",
        serde_json::json!({"url": peer.url, "event_types": ["custom.nudged"]}),
    )
    .await;
    // The worker's first idle round is over before the signal comes.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = Instant::now();
    post_json(
        &addr,
        ADMIN,
        "/api/v1/signals",
        serde_json::json!({"type": "custom.nudged", "data": {"n": {"i": 1}}}),
    )
    .await;
    while peer.received().is_empty() {
        assert!(
            sent.elapsed() < Duration::from_secs(20),
            "the worker node was not nudged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop((api, worker));
}
