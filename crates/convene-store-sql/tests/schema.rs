//! Both backends' migrations make the same tables with the same columns: a column added to one
//! and forgotten in the other fails here, not in production.

use convene_store::Admin;
use convene_testkit::TestDb;
use sqlx::Connection;
use std::collections::BTreeSet;

type Columns = BTreeSet<(String, String)>;

async fn sqlite_columns() -> Columns {
    let db = TestDb::sqlite();
    let store = convene_store_sql::SqliteStore::connect(&db.url, 1)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.into_iter().collect()
}

async fn postgres_columns(db: &TestDb) -> Columns {
    let store = convene_store_sql::PgStore::connect(&db.url, 1)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.into_iter().collect()
}

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let (lite, post) = (sqlite_columns().await, postgres_columns(&pg).await);
    let only_sqlite: Vec<_> = lite.difference(&post).collect();
    let only_postgres: Vec<_> = post.difference(&lite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_postgres:?}"
    );
    assert!(
        lite.len() > 100,
        "{} columns: the query reads the schema",
        lite.len()
    );
}
