use super::Backend;
use super::dialect::db_time;
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::Timestamp;
use convene_store::{IdempotencyStore, KeyClaim, SavedResponse, StoreResult};

#[async_trait]
impl IdempotencyStore for Backend {
    async fn claim_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        at: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<KeyClaim> {
        let mut tx = self.writes().begin().await?;
        // A claim whose request never finished (crash) is taken over once it is stale.
        sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL AND created_at < $3")
            .binds((scope, key, db_time(stale_before)))
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (scope, key) DO NOTHING",
        )
        .binds((scope, key, fingerprint, db_time(at)))
        .execute(&mut *tx)
        .await?;
        let claim = if inserted.rows_affected() > 0 {
            KeyClaim::Fresh
        } else {
            let (stored, status, body): (String, Option<i64>, Option<Vec<u8>>) =
                sqlx::query_as("SELECT fingerprint, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2")
                    .binds((scope, key))
                    .fetch_one(&mut *tx)
                    .await?;
            match (stored == fingerprint, status) {
                (false, _) => KeyClaim::Mismatch,
                (true, None) => KeyClaim::InProgress,
                (true, Some(status)) => KeyClaim::Replay(SavedResponse {
                    status: status as u16,
                    body: body.unwrap_or_default(),
                }),
            }
        };
        tx.commit().await?;
        Ok(claim)
    }

    async fn save_response(
        &self,
        scope: &str,
        key: &str,
        response: &SavedResponse,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $3, body = $4 WHERE scope = $1 AND key = $2",
        )
        .binds((scope, key, i64::from(response.status), &response.body))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn release_key(&self, scope: &str, key: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL",
        )
        .binds((scope, key))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn purge_keys(&self, before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(db_time(before))
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected())
    }
}
