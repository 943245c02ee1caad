//! PostgreSQL storage: the scale-out backend. Several nodes may share one database; migrations
//! take sqlx's advisory lock, so nodes starting together migrate once.

#[doc(hidden)]
pub mod dialect;
// Both backends compile the same files, each against its own `Backend`, `Db` and `dialect`.
#[allow(clippy::duplicate_mod)]
#[path = "../shared/mod.rs"]
mod shared;

mod claims;
mod heads;

use convene_store::StoreResult;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    keys: convene_store::seal::KeySlot,
    /// Where this node's claims begin, per endpoint.
    heads: std::sync::Arc<heads::Heads>,
}

/// This backend's store, as the modules shared by both stores name it.
pub(crate) type Backend = PgStore;
/// This backend's database, as the shared modules name it.
pub(crate) type Db = sqlx::Postgres;

impl PgStore {
    /// The pool reads go to.
    pub(crate) fn reads(&self) -> &PgPool {
        &self.pool
    }

    /// Every pool, once each (health and shutdown).
    pub(crate) fn pools(&self) -> [&PgPool; 1] {
        [&self.pool]
    }

    /// The pool writes go to.
    pub(crate) fn writes(&self) -> &PgPool {
        &self.pool
    }

    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        // No ping before each use (a round trip per acquire): a connection the server dropped
        // fails its statement as unavailable (503, Retry-After) and is not reused.
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self {
            pool,
            keys: Default::default(),
            heads: Default::default(),
        })
    }
}
