//! PostgreSQL storage: the scale-out backend. Several nodes may share one database; migrations
//! take sqlx's advisory lock, so nodes starting together migrate once.

#[path = "../shared/conference.rs"]
mod conference;
mod dialect;

#[path = "../shared/decks.rs"]
mod decks;
mod deliveries;
#[path = "../shared/events.rs"]
mod events;
#[path = "../shared/idempotency.rs"]
mod idempotency;
#[path = "../shared/jobs.rs"]
mod jobs;
mod mails;
mod notifications;
#[path = "../shared/osdi.rs"]
mod osdi;
#[path = "../shared/people.rs"]
mod people;
#[path = "../shared/roster.rs"]
mod roster;
#[path = "../shared/roster_sync.rs"]
mod roster_sync;
#[path = "../shared/secrets.rs"]
mod secrets;
mod sync;
#[path = "../shared/tokens.rs"]
mod tokens;
#[path = "../shared/users.rs"]
mod users;
#[path = "../shared/web.rs"]
mod web;
#[path = "../shared/webfilters.rs"]
mod webfilters;
#[path = "../shared/webhooks.rs"]
mod webhooks;

use async_trait::async_trait;
use convene_core::Timestamp;
use convene_core::outbound::OutboundEvent;
use convene_store::{Admin, OutboxMessage, OutboxStore, PoolStats, StoreError, StoreResult};
use sqlx::postgres::PgPoolOptions;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;

pub use dialect::map_err;

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    keys: convene_store::seal::KeySlot,
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

    /// The pool writes go to.
    pub(crate) fn writes(&self) -> &PgPool {
        &self.pool
    }

    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(map_err)?;
        Ok(Self {
            pool,
            keys: Default::default(),
        })
    }
}

/// Writes one outbound event to the outbox inside the caller's transaction.
async fn emit(conn: &mut PgConnection, msg: OutboundEvent, at: Timestamp) -> StoreResult<()> {
    sqlx::query("INSERT INTO outbox (id, event_type, data, occurred_at) VALUES ($1, $2, $3, $4)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(msg.event_type.as_str())
        .bind(Json(&msg.data))
        .bind(at)
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Writes outbound events to the outbox in one statement, in the order given.
async fn emit_all(
    conn: &mut PgConnection,
    messages: Vec<OutboundEvent>,
    at: Timestamp,
) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO outbox (id, event_type, data, occurred_at)
         SELECT id, event_type, data::jsonb, $4
         FROM UNNEST($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS m(id, event_type, data, n)
         ORDER BY n",
    )
    .bind(messages.iter().map(|_| uuid::Uuid::now_v7().to_string()).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.event_type.as_str()).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.data.to_string()).collect::<Vec<_>>())
    .bind(at)
    .execute(conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn outbox_after(&self, seq: i64, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT seq, id, event_type, data, occurred_at FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(outbox_messages(rows))
    }
}

/// An outbox row as read: seq, id, type, data, time.
pub(crate) type OutboxRow = (i64, String, String, Json<serde_json::Value>, Timestamp);

pub(crate) fn outbox_messages(rows: Vec<OutboxRow>) -> Vec<OutboxMessage> {
    rows.into_iter()
        .map(|(seq, id, event_type, data, occurred_at)| OutboxMessage {
            seq,
            id,
            event_type,
            data: data.0,
            occurred_at,
        })
        .collect()
}

#[async_trait]
impl Admin for PgStore {
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Other(e.into()))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: self.pool.num_idle() as u32,
        }
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    fn use_keys(&self, keys: std::sync::Arc<convene_store::seal::Keyring>) {
        self.keys.set(keys);
    }

    async fn reseal_secrets(&self) -> StoreResult<u64> {
        secrets::reseal(self).await
    }
}
