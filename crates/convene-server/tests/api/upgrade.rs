//! A database made by an earlier Convene opens with today's store and reads back the same.
//!
//! `tests/fixtures/upgrade/` holds a SQLite file and a PostgreSQL dump, made once by
//! `make_upgrade_fixtures` (ignored; run it only to add a fixture for a new schema) with the
//! binary of their day, and what that day's store read back from them (`*.expected`). Today's
//! store must read back the same, through the same traits.

use crate::support::World;
use convene_core::Clock;
use convene_core::page::PageRequest;
use convene_server::config::Config;
use convene_store::{Audience, DeliveryFilter, EventFilter, NotificationQuery, Store};
use convene_testkit::osdi::{OsdiFake, person};
use convene_testkit::{Backend, Method, Receiver, TestDb, spawn_app_with};
use serde_json::json;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade")
}

/// Everything a store reads back, in a stable order, as text.
async fn read_back(store: &Arc<dyn Store>) -> String {
    let mut out = String::new();
    let all = PageRequest {
        limit: 1000,
        after: None,
    };
    let users = store.list_users(None, &all).await.unwrap().items;
    writeln!(out, "users {users:#?}").unwrap();
    let tokens = store.list_tokens(None, None, &all).await.unwrap().items;
    writeln!(out, "tokens {tokens:#?}").unwrap();
    let everything = EventFilter {
        slug: None,
        audience: Audience::Everything,
        search: None,
    };
    let events = store.list_events(&everything, &all).await.unwrap().items;
    writeln!(out, "events {events:#?}").unwrap();
    for event in &events {
        let organizers = store.organizers(&event.id).await.unwrap();
        let participants = store
            .participants(&event.id, true, None, &all)
            .await
            .unwrap();
        writeln!(out, "organizers {organizers:#?}").unwrap();
        writeln!(out, "participants {:#?}", participants.items).unwrap();
    }
    writeln!(
        out,
        "outbox {:#?}",
        store.outbox_after(0, 1000).await.unwrap()
    )
    .unwrap();
    for hook in store.list_webhooks(None, None, &all).await.unwrap().items {
        writeln!(out, "webhook {hook:#?}").unwrap();
        let filter = DeliveryFilter::of(&hook.id, None);
        for l in store.deliveries(&filter, &all).await.unwrap().items {
            let d = store.delivery(&l.delivery.id).await.unwrap();
            writeln!(out, "delivery {d:#?}").unwrap();
        }
    }
    let notifications = store
        .query_notifications(&NotificationQuery {
            owner: None,
            filter: None,
            sort: vec![],
            limit: None,
            offset: 0,
        })
        .await
        .unwrap();
    writeln!(out, "notifications {notifications:#?}").unwrap();
    writeln!(
        out,
        "mails {:#?}",
        store.list_mails(None, None, &all).await.unwrap().items
    )
    .unwrap();
    writeln!(
        out,
        "people {:#?}",
        store.list_people(&all).await.unwrap().items
    )
    .unwrap();
    for profile in store.list_profiles().await.unwrap() {
        writeln!(out, "profile {profile:#?}").unwrap();
        for run in store.list_runs(Some(&profile.id), None, 100).await.unwrap() {
            writeln!(out, "run {run:#?}").unwrap();
            let records = store.run_records(&run.id, 0, 1000).await.unwrap();
            writeln!(out, "records {records:#?}").unwrap();
            writeln!(
                out,
                "errors {:#?}",
                store.run_errors(&run.id, 100).await.unwrap()
            )
            .unwrap();
        }
    }
    out
}

async fn open(url: &str) -> Arc<dyn Store> {
    let mut config = Config::defaults();
    config.database_url = url.to_owned();
    let store = convene_server::startup::open_store(&config).await.unwrap();
    store
        .migrate()
        .await
        .expect("today's migrations accept the old schema");
    convene_server::secrets::install(&config, &*store, convene_core::SystemClock.now())
        .await
        .expect("the keys the database was made with");
    store
}

/// Compares with the fixture's expected read-back; on a difference, what was read is left in
/// `target/` to diff against it.
fn same_as(read: &str, name: &str) {
    let expected =
        std::fs::read_to_string(fixtures().join(name)).expect("the fixture's expected read-back");
    if read != expected {
        let actual =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../target/{name}.actual"));
        std::fs::write(&actual, read).unwrap();
        panic!(
            "{name} reads back differently: diff it against {}",
            actual.display()
        );
    }
}

#[tokio::test]
async fn an_old_sqlite_file_reads_back_unchanged() {
    let db = TestDb::sqlite();
    let path = db.url.trim_start_matches("sqlite://");
    std::fs::copy(fixtures().join("v0.sqlite"), path).unwrap();
    let store = open(&db.url).await;
    same_as(&read_back(&store).await, "v0.sqlite.expected");
    store.close().await;
}

#[tokio::test]
async fn an_old_postgres_database_reads_back_unchanged() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dump = std::fs::read_to_string(fixtures().join("v0.postgres.sql")).unwrap();
    db.run_script(dump).await;
    let store = open(&db.url).await;
    same_as(&read_back(&store).await, "v0.postgres.expected");
    store.close().await;
}

/// Makes the fixtures: a server on each backend, used as a small wiki campaign would use it.
#[tokio::test]
#[ignore = "makes the fixtures; run once per schema generation"]
async fn make_upgrade_fixtures() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = spawn_app_with(backend, |c| c.allow_private_targets = true)
            .await
            .expect("both backends");
        let w = World::new(&app).await;
        let receiver = Receiver::start().await;
        let r = app
            .admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": receiver.url, "event_types": ["participant.registered"]}))
            .send()
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        app.user_with_token("Dan").await;
        let r = app
            .call(
                Method::PUT,
                &format!("/api/v1/events/{}/participants/Dan", w.event),
            )
            .token(&w.alice)
            .json(&json!({"visibility": "private"}))
            .send()
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        app.drain().await;
        app.notify().await;
        let fake = OsdiFake::start(
            vec![person("an-1", "Ada", "Lovelace", "ada@example.org")],
            25,
        )
        .await;
        let profile = crate::osdi::profile_at(&app, &fake.entry_point, json!({})).await;
        crate::osdi::sync(&app, &profile, "people", "both").await;
        let store = open(&app.config.database_url).await;
        let read = read_back(&store).await;
        store.close().await;
        let (file, name) = match backend {
            Backend::Sqlite => ("v0.sqlite", "v0.sqlite.expected"),
            Backend::Postgres => ("v0.postgres.sql", "v0.postgres.expected"),
        };
        let target = fixtures().join(file);
        let _ = std::fs::remove_file(&target);
        let status = match backend {
            Backend::Sqlite => std::process::Command::new("sqlite3")
                .arg(app.config.database_url.trim_start_matches("sqlite://"))
                .arg(format!("VACUUM INTO '{}'", target.display()))
                .status(),
            Backend::Postgres => std::process::Command::new("pg_dump")
                .args([
                    "--inserts",
                    "--no-owner",
                    "--no-privileges",
                    "--no-comments",
                    "-f",
                ])
                .arg(&target)
                .arg(&app.config.database_url)
                .status(),
        };
        assert!(status.unwrap().success());
        if backend == Backend::Postgres {
            // psql's meta-commands (`\restrict`) are not SQL: the test loads the dump without psql.
            let dump = std::fs::read_to_string(&target).unwrap();
            let sql: Vec<&str> = dump.lines().filter(|l| !l.starts_with('\\')).collect();
            std::fs::write(&target, sql.join("\n")).unwrap();
        }
        std::fs::write(fixtures().join(name), read).unwrap();
        app.stop().await.unwrap();
    }
}
