use convene_store::Admin;
use convene_store::testing::TestStore;
use convene_store_sql::SqliteStore;
use convene_testkit::TestDb;
use std::sync::Arc;

convene_store::conformance_suite!(async {
    let db = TestDb::sqlite();
    let store = SqliteStore::connect(&db.url, 4).await.expect("open SQLite");
    store.migrate().await.expect("migrate");
    Some((Arc::new(store) as TestStore, db))
});
