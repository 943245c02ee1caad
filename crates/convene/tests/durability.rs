//! Nothing accepted is lost: SIGKILL a server that holds undelivered messages (its peer is
//! down, some sends in flight), start it again on the same database, and every message arrives.

mod support;

use convene_testkit::Receiver;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use support::{Dir, serve, signal, wait_exit};

const ADMIN: &str = "durability-admin-token-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_delivers_every_accepted_signal_after_restart() {
    let dir = Dir::new();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let envs = [
        ("CONVENE_ADMIN_TOKEN", ADMIN),
        ("CONVENE_ALLOW_PRIVATE_TARGETS", "true"),
        (
            "CONVENE_DELIVERY__RETRY_SCHEDULE_S",
            "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
        ),
        // Deliveries the killed process had leased come back when its lease ends.
        ("CONVENE_DELIVERY__LEASE_S", "5"),
        ("CONVENE_DELIVERY__TIMEOUT_S", "2"),
    ];
    let (mut first, addr) = serve(&dir.0, &envs);
    let http = convene_testkit::http_client();
    let api = |path: &str| format!("http://{addr}/api/v1{path}");
    let hook = http
        .post(api("/webhooks"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"url": format!("http://127.0.0.1:{port}/late"), "event_types": ["*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 201);
    for i in 0..20 {
        let r = http
            .post(api("/signals"))
            .bearer_auth(ADMIN)
            .json(&serde_json::json!({"id": format!("k-{i}"), "type": "custom.kill", "data": {"n": {"i": i}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    signal(&first, "KILL");
    wait_exit(&mut first, Duration::from_secs(10));

    let peer = Receiver::start_on(port).await;
    let (mut second, _) = serve(&dir.0, &envs);
    let deadline = Instant::now() + Duration::from_secs(60);
    let delivered = loop {
        let ids: HashSet<String> = peer
            .received()
            .iter()
            .map(|r| r.header("webhook-id").to_owned())
            .collect();
        if ids.len() >= 20 || Instant::now() > deadline {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    signal(&second, "TERM");
    assert!(wait_exit(&mut second, Duration::from_secs(20)).success());
    let expected: HashSet<String> = (0..20).map(|i| format!("k-{i}")).collect();
    assert_eq!(delivered, expected, "every accepted signal, at least once");
}
