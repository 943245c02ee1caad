//! Retention: final rows older than their kind's cutoff go, a batch per table per call. Rows are
//! picked oldest first along an index or the primary key (ids are UUIDv7, so `id < bound` reads
//! only ids made before the cutoff); on PostgreSQL a pick skips rows another node is removing.

use super::Backend;
use super::dialect::{SKIP_LOCKED, db_time, in_list, text_list};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::Timestamp;
use convene_core::clock::micros;
use convene_core::ids::made_before;
use convene_store::{Cutoffs, Purged, RetentionStore, StoreResult};

impl Backend {
    /// Delivered and failed deliveries with their attempts, in one transaction.
    async fn purge_deliveries(&self, cutoff: Timestamp, batch: i64) -> StoreResult<(u64, u64)> {
        let mut tx = self.writes().begin().await?;
        let sql = format!(
            "SELECT id FROM deliveries WHERE id < $1 AND status <> 'pending' AND updated_at < $2
             ORDER BY id LIMIT $3{SKIP_LOCKED}"
        );
        let ids: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((made_before(cutoff), db_time(cutoff), batch))
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() {
            return Ok((0, 0));
        }
        let ids = text_list(&ids.into_iter().map(|(id,)| id).collect::<Vec<_>>());
        let sql = format!("DELETE FROM attempts WHERE {}", in_list("delivery_id", 1));
        let attempts = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        let sql = format!("DELETE FROM deliveries WHERE {}", in_list("id", 1));
        let deliveries = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((deliveries.rows_affected(), attempts.rows_affected()))
    }

    /// Finished CRM sync runs with their records and errors, in one transaction: all the rows.
    async fn purge_runs(&self, cutoff: Timestamp, batch: i64) -> StoreResult<u64> {
        let mut tx = self.writes().begin().await?;
        let sql = format!(
            "SELECT id FROM osdi_runs WHERE id < $1 AND state IN ('completed', 'aborted') AND finished_at < $2
             ORDER BY id LIMIT $3{SKIP_LOCKED}"
        );
        let ids: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((made_before(cutoff), micros(cutoff), batch))
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let ids = text_list(&ids.into_iter().map(|(id,)| id).collect::<Vec<_>>());
        let mut removed = 0;
        for sql in [
            format!(
                "DELETE FROM osdi_run_records WHERE {}",
                in_list("run_id", 1)
            ),
            format!("DELETE FROM osdi_errors WHERE {}", in_list("run_id", 1)),
            format!("DELETE FROM osdi_runs WHERE {}", in_list("id", 1)),
        ] {
            let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&ids)
                .execute(&mut *tx)
                .await?;
            removed += done.rows_affected();
        }
        tx.commit().await?;
        Ok(removed)
    }

    /// Runs a one-statement purge bound with its cutoff (`$1`) and batch size (`$2`).
    async fn purge_one(&self, sql: String, cutoff: Timestamp, batch: i64) -> StoreResult<u64> {
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((db_time(cutoff), batch))
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl RetentionStore for Backend {
    async fn purge_batch(&self, cutoffs: &Cutoffs, batch: u32) -> StoreResult<Purged> {
        let batch = i64::from(batch);
        let (deliveries, attempts) = self.purge_deliveries(cutoffs.messages, batch).await?;
        // A message goes once the dispatcher and the notifier are done with it and no pending
        // delivery refers to it (a delivery carries its own copy of the data).
        let messages = format!(
            "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox
                 WHERE dispatched_at IS NOT NULL AND notified_at IS NOT NULL AND occurred_at < $1
                 AND id NOT IN (SELECT message_id FROM deliveries WHERE status = 'pending' AND occurred_at < $1)
                 ORDER BY seq LIMIT $2{SKIP_LOCKED})"
        );
        // Mail attempts go with their mail (ON DELETE CASCADE).
        let mails = format!(
            "DELETE FROM mails WHERE id IN (SELECT id FROM mails
                 WHERE created_at < $1 AND status <> 'queued' AND updated_at < $1
                 ORDER BY created_at LIMIT $2{SKIP_LOCKED})"
        );
        let notifications = format!(
            "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications
                 WHERE is_read AND received_at < $1 ORDER BY id LIMIT $2{SKIP_LOCKED})"
        );
        let logs = [
            format!(
                "DELETE FROM sync_calls WHERE id IN
                 (SELECT id FROM sync_calls WHERE at < $1 LIMIT $2{SKIP_LOCKED})"
            ),
            format!(
                "DELETE FROM webfilter_calls WHERE id IN
                 (SELECT id FROM webfilter_calls WHERE attempted_at < $1 LIMIT $2{SKIP_LOCKED})"
            ),
            format!(
                "DELETE FROM jobs WHERE id IN
                 (SELECT id FROM jobs WHERE status = 'failed' AND updated_at < $1 LIMIT $2{SKIP_LOCKED})"
            ),
        ];
        let mut purged = Purged {
            deliveries,
            attempts,
            messages: self.purge_one(messages, cutoffs.messages, batch).await?,
            mails: self.purge_one(mails, cutoffs.mail, batch).await?,
            notifications: self
                .purge_one(notifications, cutoffs.notifications, batch)
                .await?,
            logs: self.purge_runs(cutoffs.logs, batch).await?,
        };
        for sql in logs {
            purged.logs += self.purge_one(sql, cutoffs.logs, batch).await?;
        }
        // What inbound sources received (its times are µs, as in the CRM tables).
        let receipts = format!(
            "DELETE FROM source_receipts WHERE id IN
             (SELECT id FROM source_receipts WHERE received_at < $1 LIMIT $2{SKIP_LOCKED})"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(receipts))
            .binds((micros(cutoffs.logs), batch))
            .execute(self.writes())
            .await?;
        purged.logs += done.rows_affected();
        Ok(purged)
    }
}
