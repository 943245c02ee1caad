//! A job whose kind this binary does not know (queued by a newer node sharing the database) is
//! left waiting: claims take only known kinds, so it neither fails nor blocks the others.

use convene_core::job::JobKind;
use convene_core::{Clock, SystemClock};
use convene_store::{Admin, Store};
use convene_testkit::TestDb;
use sqlx::Connection;
use std::sync::Arc;

async fn unknown_kinds_wait(store: Arc<dyn Store>, db: &TestDb) {
    let now = SystemClock.now();
    store
        .enqueue_job(JobKind::MailSend, "m-1", &serde_json::json!({}), now)
        .await
        .unwrap();
    let copy = "INSERT INTO jobs (id, kind, subject, payload, status, generation, attempts,
                    next_attempt_at, created_at, updated_at)
                SELECT 'from-a-newer-node', 'future.kind', 'x', payload, status, generation,
                    attempts, next_attempt_at, created_at, updated_at FROM jobs";
    if db.url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query(copy).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query(copy).execute(&mut conn).await.unwrap();
    }
    let later = now + time::Duration::hours(1);
    let claimed = store
        .claim_jobs(later, time::Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].kind, JobKind::MailSend);
    // Claimed again later, still only the known one: the other is untouched, not failed.
    let again = store
        .claim_jobs(
            later + time::Duration::hours(1),
            time::Duration::minutes(1),
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|j| j.kind).collect::<Vec<_>>(),
        [JobKind::MailSend]
    );
}

#[tokio::test]
async fn unknown_job_kinds_wait_on_sqlite() {
    let db = TestDb::sqlite();
    let store = convene_store_sql::SqliteStore::connect(&db.url, 2)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    unknown_kinds_wait(Arc::new(store), &db).await;
}

#[tokio::test]
async fn unknown_job_kinds_wait_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = convene_store_sql::PgStore::connect(&db.url, 2)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    unknown_kinds_wait(Arc::new(store), &db).await;
}
