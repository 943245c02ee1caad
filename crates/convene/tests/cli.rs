//! The binary as an operator runs it: real processes, a real SQLite file, signals.

mod support;

use std::time::Duration;
use support::{Dir, convene, json, run, serve_logging, signal, wait_exit};

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
    assert!(doc["paths"]["/events"].is_object());
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
fn split_roles_need_postgres() {
    let dir = Dir::new();
    let out = run(&dir.0, &["serve", "--role", "worker"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PostgreSQL"));
}
