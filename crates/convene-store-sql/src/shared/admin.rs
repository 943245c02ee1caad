//! Migrations, health and keys: what the server asks of a store as a whole.

use super::{Backend, dialect};
use async_trait::async_trait;
use convene_store::seal::Keyring;
use convene_store::{Admin, PoolStats, StoreError, StoreResult};
use std::sync::Arc;

#[async_trait]
impl Admin for Backend {
    async fn migrate(&self) -> StoreResult<()> {
        dialect::MIGRATOR
            .run(self.writes())
            .await
            .map_err(|e| StoreError::Other(e.into()))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(self.reads()).await?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        let pools = self.pools();
        PoolStats {
            size: pools.iter().map(|p| p.size()).sum(),
            idle: pools.iter().map(|p| p.num_idle() as u32).sum(),
        }
    }

    async fn backup_into(&self, path: &str) -> StoreResult<bool> {
        let Some(sql) = dialect::BACKUP_INTO else {
            return Ok(false);
        };
        sqlx::query(sql).bind(path).execute(self.reads()).await?;
        Ok(true)
    }

    async fn nudge(&self, from: &str) -> StoreResult<()> {
        if let Some(sql) = dialect::NUDGE {
            sqlx::query(sql).bind(from).execute(self.reads()).await?;
        }
        Ok(())
    }

    async fn nudges(&self) -> StoreResult<Option<Box<dyn convene_store::Nudges>>> {
        dialect::nudges(self.reads()).await
    }

    fn backend(&self) -> &'static str {
        dialect::NAME
    }

    async fn close(&self) {
        for pool in self.pools() {
            pool.close().await;
        }
    }

    fn use_keys(&self, keys: Arc<Keyring>) {
        self.keys.set(keys);
    }

    async fn reseal_secrets(&self) -> StoreResult<u64> {
        super::secrets::reseal(self).await
    }
}
