//! SQLite storage: the embedded default. One process owns the file: a single-connection writer
//! pool serialises writes (no `SQLITE_BUSY` lock upgrades), a reader pool serves reads in WAL.

#[doc(hidden)]
pub mod dialect;
// Both backends compile the same files, each against its own `Backend`, `Db` and `dialect`.
#[allow(clippy::duplicate_mod)]
#[path = "../shared/mod.rs"]
mod shared;

mod claims;

use convene_store::StoreResult;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    keys: convene_store::seal::KeySlot,
}

/// This backend's store, as the modules shared by both stores name it.
pub(crate) type Backend = SqliteStore;
/// This backend's database, as the shared modules name it.
pub(crate) type Db = sqlx::Sqlite;

impl SqliteStore {
    /// The pool reads go to.
    pub(crate) fn reads(&self) -> &SqlitePool {
        &self.reader
    }

    /// Every pool, once each (health and shutdown).
    pub(crate) fn pools(&self) -> [&SqlitePool; 2] {
        [&self.writer, &self.reader]
    }

    /// The pool writes go to.
    pub(crate) fn writes(&self) -> &SqlitePool {
        &self.writer
    }

    /// Opens (creating if missing) the database at a `sqlite://PATH` URL.
    pub async fn connect(url: &str, max_readers: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // No ping before each use: a local file does not drop connections, and each ping is a
        // round trip to the connection's thread, as dear as a statement.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(max_readers.max(1))
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self {
            writer,
            reader,
            keys: Default::default(),
        })
    }
}
