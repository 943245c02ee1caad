//! The binary as an operator runs it: real processes, a real SQLite file, signals.

mod support;

use std::time::Duration;
use support::{Dir, convene, json, run, serve, serve_logging, signal, wait_exit};

#[test]
fn users_and_tokens_from_the_command_line() {
    let dir = Dir::new();
    let user = json(&run(
        &dir.0,
        &[
            "user",
            "create",
            "jane_doe",
            "--email",
            "jane@example.test",
            "--admin",
        ],
    ));
    assert_eq!(
        (user["username"].as_str(), user["is_admin"].as_bool()),
        (Some("Jane doe"), Some(true))
    );
    assert_eq!(user["email"], "jane@example.test");
    assert!(
        dir.0.join("convene.db").exists(),
        "the default database file is created"
    );
    let again = run(&dir.0, &["user", "create", "Jane_doe"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("taken"));
    let token = json(&run(
        &dir.0,
        &["token", "create", "Jane doe", "--name", "ci"],
    ));
    assert!(token["token"].as_str().unwrap().starts_with("cvn_"));
    assert_eq!(token["name"], "ci");
    let missing = run(&dir.0, &["token", "create", "Nobody"]);
    assert!(!missing.status.success());
    let bad = run(&dir.0, &["user", "create", "a/b"]);
    assert!(!bad.status.success());
}

#[test]
fn config_check_redacts_and_names_bad_values() {
    let dir = Dir::new();
    let out = convene(&dir.0, &["config", "check"])
        .env("CONVENE_ADMIN_TOKEN", "a-long-secret-admin-token")
        .env(
            "CONVENE_DATABASE_URL",
            "postgres://convene:hunter2@db.example/convene",
        )
        .env("CONVENE_UNRELATED", "ignored, not a configuration key")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !printed.contains("a-long-secret") && !printed.contains("hunter2"),
        "{printed}"
    );
    assert!(printed.contains("[redacted]"));
    let out = convene(&dir.0, &["config", "check"])
        .env("CONVENE_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        said.contains("listen") && !said.contains("caused by"),
        "{said}"
    );
    std::fs::write(dir.0.join("c.toml"), "[http]\nbody_limit = 5\n").unwrap();
    let out = run(&dir.0, &["--config", "c.toml", "config", "check"]);
    assert!(!out.status.success(), "a typo in a file is refused");
    std::fs::write(dir.0.join("c.toml"), "[http]\nbody_limit_bytes = 4096\n").unwrap();
    let out = run(&dir.0, &["--config", "c.toml", "config", "check"]);
    assert_eq!(json(&out)["http"]["body_limit_bytes"], 4096);
}

#[test]
fn openapi_prints_the_document() {
    let dir = Dir::new();
    let doc = json(&run(&dir.0, &["openapi"]));
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(
        doc["paths"]["/api/v1/events"].is_object() && doc["paths"]["/v1/notifications"].is_object()
    );
}

#[test]
fn serve_logs_its_address_and_stops_cleanly_on_sigterm() {
    let dir = Dir::new();
    let (mut child, addr, logs) = serve_logging(&dir.0, &[]);
    assert!(
        logs.iter()
            .any(|l| l.contains("WARN") && l.contains("CONVENE_EVENT_CENTER_SECRET is not set")),
        "{logs:?}"
    );
    let mut stream = std::net::TcpStream::connect(&addr).expect("the logged address accepts");
    use std::io::{Read, Write};
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    signal(&child, "TERM");
    let status = wait_exit(&mut child, Duration::from_secs(20));
    assert!(status.success(), "exit 0 after SIGTERM: {status:?}");
}

#[test]
fn purge_removes_what_is_past_its_retention_and_prints_counts() {
    let dir = Dir::new();
    json(&run(&dir.0, &["user", "create", "Ada"]));
    // A server run dispatches and plans the user.created message; then it is final.
    let (mut child, _) = serve(&dir.0, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "TERM");
    assert!(wait_exit(&mut child, Duration::from_secs(20)).success());
    let kept = json(&run(&dir.0, &["purge"]));
    let zero = serde_json::json!({"messages": 0, "deliveries": 0, "attempts": 0, "mails": 0, "notifications": 0, "logs": 0});
    assert_eq!(kept, zero, "a fresh message is kept for 30 days");
    let out = convene(&dir.0, &["purge"])
        .env("CONVENE_RETENTION__MESSAGES_DAYS", "0")
        .output()
        .unwrap();
    let purged = json(&out);
    assert_eq!(purged["messages"], 1, "{purged}");
    let bad = convene(&dir.0, &["config", "check"])
        .env("CONVENE_RETENTION__LOGS_DAYS", "-1")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("retention.logs_days"));
    let half = convene(&dir.0, &["config", "check"])
        .env("CONVENE_RETENTION__MAIL_DAYS", "0.5")
        .output()
        .unwrap();
    assert_eq!(
        json(&half)["retention"]["mail_days"],
        0.5,
        "fractions are allowed"
    );
}

#[test]
fn backup_on_postgres_points_to_pg_dump() {
    let dir = Dir::new();
    let out = convene(&dir.0, &["backup", "copy.db"])
        .env("CONVENE_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    assert!(!dir.0.join("copy.db").exists());
}

#[test]
fn split_roles_need_postgres() {
    let dir = Dir::new();
    let out = run(&dir.0, &["serve", "--role", "worker"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PostgreSQL"));
}

/// A tiny HTTP peer on a thread: answers each request with the next of `answers` (JSON bodies).
fn fake_meetecho(answers: Vec<&'static str>) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut answers = answers.into_iter();
        'connections: for stream in listener.incoming() {
            let mut reader = BufReader::new(stream.unwrap());
            loop {
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    continue 'connections;
                }
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                seen.push(request_line.trim().to_owned());
                let Some(answer) = answers.next() else {
                    return seen;
                };
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                    answer.len()
                );
                reader.get_mut().write_all(reply.as_bytes()).unwrap();
                if answers.len() == 0 {
                    return seen;
                }
            }
        }
        seen
    });
    (port, handle)
}

#[test]
fn conferencing_rooms_are_listed_from_the_provider() {
    let dir = Dir::new();
    let (port, peer) = fake_meetecho(vec![
        r#"{"tokens": {"ietf": "tok"}}"#,
        r#"{"group": "ietf", "rooms": {"3f6a": {"room": {"id": 42, "start_time": "2026-12-01 09:00:00", "duration": 90, "description": "Opening"}, "url": "https://meetings.example/3f6a", "deletion_token": "secret-del"}}}"#,
    ]);
    let out = convene(&dir.0, &["conferencing", "rooms", "ietf"])
        .env("CONVENE_CONFERENCING__PROVIDER", "meetecho")
        .env(
            "CONVENE_CONFERENCING__MEETECHO__API_BASE",
            format!("http://127.0.0.1:{port}/api/v1"),
        )
        .env("CONVENE_CONFERENCING__MEETECHO__CLIENT_ID", "convene")
        .env("CONVENE_CONFERENCING__MEETECHO__CLIENT_SECRET", "s3cr3t")
        .env("CONVENE_ALLOW_PRIVATE_TARGETS", "true")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        printed.contains("3f6a") && printed.contains("2026-12-01T09:00:00Z"),
        "{printed}"
    );
    assert!(
        printed.contains("https://meetings.example/3f6a") && printed.contains("1 room(s) of ietf")
    );
    assert!(!printed.contains("secret-del"), "no deletion tokens");
    assert_eq!(
        peer.join().unwrap(),
        [
            "POST /api/v1/auth/ietfservice/tokens HTTP/1.1",
            "GET /api/v1/meeting/interim/fetchRooms HTTP/1.1"
        ]
    );
    let debug = convene(&dir.0, &["conferencing", "rooms", "ietf"])
        .env("CONVENE_CONFERENCING__PROVIDER", "debug")
        .output()
        .unwrap();
    assert!(!debug.status.success());
    assert!(String::from_utf8_lossy(&debug.stderr).contains("cannot list rooms"));
}

#[test]
fn osdi_sync_runs_a_profile_here_and_prints_a_summary() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let people = (0..30)
        .map(|i| {
            convene_testkit::osdi::person(
                &format!("an-{i}"),
                "P",
                &format!("F{i}"),
                &format!("p{i}@example.org"),
            )
        })
        .collect();
    let fake = rt.block_on(convene_testkit::OsdiFake::start(people, 10));
    let dir = Dir::new();
    let admin = "cli-admin-token-0123456789";
    let (mut child, addr) = support::serve(&dir.0, &[("CONVENE_ADMIN_TOKEN", admin)]);
    let created = rt.block_on(async {
        convene_testkit::http_client()
            .post(format!("http://{addr}/api/v1/osdi/profiles"))
            .bearer_auth(admin)
            .json(
                &serde_json::json!({"name": "crm", "entry_point": fake.entry_point,
                "api_token": "test-token-0000", "max_requests_per_second": 1000}),
            )
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(created.as_u16(), 201);
    signal(&child, "TERM");
    wait_exit(&mut child, Duration::from_secs(20));

    let out = run(&dir.0, &["osdi", "sync", "crm", "--origin", "remote"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("refused"),
        "a loopback entry point is refused unless private targets are allowed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(fake.requests().is_empty(), "the API token went nowhere");
    let out = convene(&dir.0, &["osdi", "sync", "crm", "--origin", "remote"])
        .env("CONVENE_ALLOW_PRIVATE_TARGETS", "true")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("people remote  completed"), "{printed}");
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("created_local") && l.trim_end().ends_with(" 30")),
        "{printed}"
    );
    let bad = run(&dir.0, &["osdi", "sync", "crm", "--job", "everything"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--job"));
    let missing = run(&dir.0, &["osdi", "sync", "nobody"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no sync profile nobody"));
}
