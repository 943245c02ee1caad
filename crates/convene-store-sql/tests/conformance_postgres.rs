use convene_core::webhook::SubjectOrder;
use convene_core::{Clock, SystemClock};
use convene_store::testing::TestStore;
use convene_store::{Admin, ClaimRequest, Signal, Store};
use convene_store_sql::PgStore;
use convene_testkit::TestDb;
use std::sync::Arc;

convene_store::conformance_suite!(async {
    let (db, store) = fresh(4).await?;
    Some((Arc::new(store) as TestStore, db))
});

/// A fresh database and a migrated store on it; `None` without PostgreSQL.
async fn fresh(connections: u32) -> Option<(TestDb, PgStore)> {
    let db = TestDb::postgres().await?;
    let store = PgStore::connect(&db.url, connections)
        .await
        .expect("connect to PostgreSQL");
    store.migrate().await.expect("migrate");
    Some((db, store))
}

/// Two nodes starting on one database migrate together safely and serve the same data.
#[tokio::test]
async fn concurrent_migrations_are_safe() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let a = PgStore::connect(&db.url, 2).await.unwrap();
    let b = PgStore::connect(&db.url, 2).await.unwrap();
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    let a: TestStore = Arc::new(a);
    let b: TestStore = Arc::new(b);
    let alice = convene_store::testing::user(&a, "Alice").await;
    assert_eq!(b.user_by_id(&alice.id).await.unwrap(), Some(alice));
    a.close().await;
    b.close().await;
}

/// Two nodes fanning out, claiming and finishing the same lanes at once: each subject's messages
/// are still taken one at a time in commit order, and none is left waiting (a lane's last
/// message is the one a lost race between a fan-out and a finish would strand).
#[tokio::test]
async fn subject_lanes_hold_across_nodes() {
    use convene_core::webhook::{Attempt, DeliveryStatus};
    use convene_store::AttemptRecord;
    use std::sync::Mutex;

    let Some((db, a)) = fresh(4).await else {
        return;
    };
    let b = PgStore::connect(&db.url, 4).await.unwrap();
    // Both nodes open the secrets they share with one keyring.
    let keys = Arc::new(convene_store::seal::Keyring::ephemeral());
    a.use_keys(keys.clone());
    b.use_keys(keys);
    let nodes: [Arc<dyn Store>; 2] = [Arc::new(a), Arc::new(b)];
    let now = || SystemClock.now();
    convene_store::testing::ordered(&nodes[0], SubjectOrder::PerSubject).await;
    const MESSAGES: usize = 400;
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let producer = {
        let nodes = nodes.clone();
        tokio::spawn(async move {
            for i in 0..MESSAGES {
                let signal = Signal {
                    id: format!("m{i:04}"),
                    event_type: "custom.changed".into(),
                    data: serde_json::json!({"n": i}),
                    source: "test".into(),
                    occurred_at: now(),
                    subject: Some(format!("s/{}", i % 4)),
                };
                nodes[i % 2].ingest_signal(signal).await.unwrap();
                if i % 7 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let worker = |node: Arc<dyn Store>, log: Arc<Mutex<Vec<String>>>| async move {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while log.lock().unwrap().len() < MESSAGES && std::time::Instant::now() < deadline {
            node.dispatch(3, now()).await.unwrap();
            let request = ClaimRequest {
                now: now(),
                lease: time::Duration::seconds(60),
                limit: 10,
                per_endpoint: 10,
                skip: Vec::new(),
            };
            let claims = node.claim(&request).await.unwrap();
            log.lock()
                .unwrap()
                .extend(claims.iter().map(|c| c.delivery.message_id.clone()));
            let record = AttemptRecord {
                attempt: Attempt {
                    attempted_at: now(),
                    duration_ms: 1,
                    status_code: Some(200),
                    error_class: None,
                    error: None,
                    response_body: None,
                    response_headers: Default::default(),
                },
                status: DeliveryStatus::Delivered,
                next_attempt_at: None,
            };
            let done: Vec<_> = claims.iter().map(|c| (c, &record)).collect();
            node.finish_attempts(&done).await.unwrap();
        }
    };
    let (p, ..) = tokio::join!(
        producer,
        worker(nodes[0].clone(), log.clone()),
        worker(nodes[1].clone(), log.clone()),
        worker(nodes[0].clone(), log.clone()),
        worker(nodes[1].clone(), log.clone())
    );
    p.unwrap();
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), MESSAGES, "every message once, none left waiting");
    for lane in 0..4 {
        let taken: Vec<&String> = log
            .iter()
            .filter(|m| m[1..].parse::<usize>().unwrap() % 4 == lane)
            .collect();
        let mut sorted = taken.clone();
        sorted.sort();
        assert_eq!(taken, sorted, "lane {lane} in commit order");
    }
    for node in nodes {
        node.close().await;
    }
}

/// A claim begins a little before where the last one found each endpoint's due rows, so a row
/// written further behind (a fan-out that committed late) waits for the claim from the front,
/// which runs at least once a second: it is late, never lost.
#[tokio::test]
async fn a_delivery_behind_where_claims_begin_is_taken_from_the_front() {
    use time::Duration;

    let Some((_db, store)) = fresh(2).await else {
        return;
    };
    let store: Arc<dyn Store> = Arc::new(store);
    convene_store::testing::ordered(&store, SubjectOrder::Any).await;
    let send = |id: &'static str, at| {
        let store = store.clone();
        async move {
            let signal = Signal {
                id: id.into(),
                event_type: "custom.changed".into(),
                data: serde_json::json!({}),
                source: "test".into(),
                occurred_at: at,
                subject: None,
            };
            assert!(store.ingest_signal(signal).await.unwrap());
            assert_eq!(store.dispatch(10, at).await.unwrap(), 1);
        }
    };
    let claimed = |at| {
        let store = store.clone();
        async move {
            let request = ClaimRequest {
                now: at,
                lease: Duration::seconds(60),
                limit: 10,
                per_endpoint: 10,
                skip: Vec::new(),
            };
            let claims = store.claim(&request).await.unwrap();
            claims
                .iter()
                .map(|c| c.delivery.message_id.clone())
                .collect::<Vec<_>>()
        }
    };
    let t0 = SystemClock.now();
    send("head", t0).await;
    assert_eq!(
        claimed(t0).await,
        ["head"],
        "the first claim walks from the front"
    );
    send("late", t0 - Duration::seconds(10)).await;
    let soon = t0 + Duration::milliseconds(500);
    assert!(claimed(soon).await.is_empty(), "begins near the head");
    let later = t0 + Duration::milliseconds(1_100);
    assert_eq!(claimed(later).await, ["late"], "the front, a second on");
    store.close().await;
}
