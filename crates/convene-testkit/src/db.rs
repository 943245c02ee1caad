//! A fresh database per test: a new SQLite file in a temporary folder, or a new PostgreSQL
//! database on the server named by `CONVENE_TEST_POSTGRES_URL`.

use sqlx::Connection;
use std::path::PathBuf;

pub const POSTGRES_URL_VAR: &str = "CONVENE_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test. The SQLite folder is removed on drop; PostgreSQL test
/// databases are named `convene_test_*` and dropped on drop, best effort.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir =
            std::env::temp_dir().join(format!("convene-test-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("create a temporary folder");
        let url = format!("sqlite://{}", dir.join("convene.db").display());
        Self {
            url,
            dir: Some(dir),
            pg: None,
        }
    }

    /// `None` when `CONVENE_TEST_POSTGRES_URL` is unset: the PostgreSQL half of a suite is then
    /// skipped (CI always sets it, and fails if PostgreSQL does not answer).
    pub async fn postgres() -> Option<Self> {
        let admin_url = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("convene_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("{POSTGRES_URL_VAR} is set but PostgreSQL does not answer: {e}")
            });
        let create = format!("CREATE DATABASE {name}");
        sqlx::query(sqlx::AssertSqlSafe(create))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let _ = conn.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) if base.contains("://") && base.ends_with(|c: char| c != '/') => {
                format!("{base}/{name}")
            }
            _ => format!("{}/{name}", admin_url.trim_end_matches('/')),
        };
        Some(Self {
            url,
            dir: None,
            pg: Some((admin_url, name)),
        })
    }

    /// Runs a script of statements (a `pg_dump --inserts`, say) on this PostgreSQL database.
    pub async fn run_script(&self, script: String) {
        let mut conn = sqlx::PgConnection::connect(&self.url)
            .await
            .expect("connect to the test database");
        sqlx::raw_sql(sqlx::AssertSqlSafe(script))
            .execute(&mut conn)
            .await
            .expect("the script runs");
        let _ = conn.close().await;
    }

    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => Self::postgres().await,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin_url, name)) = self.pg.take() {
            // Dropped from a plain thread: Drop may run inside or outside a runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    sqlx::query(sqlx::AssertSqlSafe(drop))
                        .execute(&mut conn)
                        .await
                        .ok()
                })
            })
            .join();
        }
    }
}
