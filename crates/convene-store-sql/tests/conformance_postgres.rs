use convene_store::Admin;
use convene_store::testing::TestStore;
use convene_store_sql::PgStore;
use convene_testkit::TestDb;
use std::sync::Arc;

convene_store::conformance_suite!(async {
    let db = TestDb::postgres().await?;
    let store = PgStore::connect(&db.url, 4)
        .await
        .expect("connect to PostgreSQL");
    store.migrate().await.expect("migrate");
    Some((Arc::new(store) as TestStore, db))
});

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
