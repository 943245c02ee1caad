//! Inbound sources and their receipts (`SourceStore`). Times are Unix microseconds.

use super::Backend;
use super::deliveries::signals_in;
use crate::binds::Binds;
use crate::violation::taken;
use async_trait::async_trait;
use convene_core::clock::{from_micros, micros};
use convene_store::{Conflict, Receipt, Signal, Source, SourceStore, StoreResult};
use sqlx::Row;

const SOURCE: &str =
    "SELECT id, name, kind, token_sha256, secret_sealed, id_member, created_at FROM sources";
const RECEIPT: &str = "SELECT id, source_id, status, reason, content_type, body, signal_id, received_at FROM source_receipts";

fn source(r: &<super::Db as sqlx::Database>::Row) -> StoreResult<Source> {
    Ok(Source {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        token_sha256: r.try_get("token_sha256")?,
        secret_sealed: r.try_get("secret_sealed")?,
        id_member: r.try_get("id_member")?,
        created_at: from_micros(r.try_get("created_at")?),
    })
}

fn receipt(r: &<super::Db as sqlx::Database>::Row) -> StoreResult<Receipt> {
    Ok(Receipt {
        id: r.try_get("id")?,
        source_id: r.try_get("source_id")?,
        status: u16::try_from(r.try_get::<i32, _>("status")?).unwrap_or(0),
        reason: r.try_get("reason")?,
        content_type: r.try_get("content_type")?,
        body: r.try_get("body")?,
        signal_id: r.try_get("signal_id")?,
        received_at: from_micros(r.try_get("received_at")?),
    })
}

#[async_trait]
impl SourceStore for Backend {
    async fn create_source(&self, s: &Source) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sources (id, name, kind, token_sha256, secret_sealed, id_member, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .binds((&s.id, &s.name, &s.kind, &s.token_sha256))
        .binds((&s.secret_sealed, &s.id_member, micros(s.created_at)))
        .execute(self.writes())
        .await
        .map_err(taken(Conflict::SourceName))?;
        Ok(())
    }

    async fn sources(&self) -> StoreResult<Vec<Source>> {
        let sql = format!("{SOURCE} ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.reads())
            .await?;
        rows.iter().map(source).collect()
    }

    async fn source(&self, id: &str) -> StoreResult<Option<Source>> {
        let sql = format!("{SOURCE} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.reads())
            .await?;
        row.as_ref().map(source).transpose()
    }

    async fn source_by_token(&self, token_sha256: &str) -> StoreResult<Option<Source>> {
        let sql = format!("{SOURCE} WHERE token_sha256 = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_sha256)
            .fetch_optional(self.writes())
            .await?;
        row.as_ref().map(source).transpose()
    }

    async fn set_source_token(&self, id: &str, token_sha256: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE sources SET token_sha256 = $2 WHERE id = $1")
            .binds((id, token_sha256))
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_source(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sources WHERE id = $1")
            .bind(id)
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn receive(&self, r: &Receipt, signal: Option<&Signal>) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        sqlx::query(
            "INSERT INTO source_receipts (id, source_id, status, reason, content_type, body, signal_id, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .binds((&r.id, &r.source_id, i32::from(r.status), &r.reason))
        .binds((&r.content_type, &r.body, &r.signal_id, micros(r.received_at)))
        .execute(&mut *tx)
        .await?;
        let new = match signal {
            Some(s) => signals_in(&mut tx, std::slice::from_ref(s)).await?[0],
            None => false,
        };
        tx.commit().await?;
        Ok(new)
    }

    async fn receipts(&self, source_id: &str, limit: u32) -> StoreResult<Vec<Receipt>> {
        let sql =
            format!("{RECEIPT} WHERE source_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((source_id, i64::from(limit)))
            .fetch_all(self.reads())
            .await?;
        rows.iter().map(receipt).collect()
    }

    async fn receipt(&self, id: &str) -> StoreResult<Option<Receipt>> {
        let sql = format!("{RECEIPT} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.reads())
            .await?;
        row.as_ref().map(receipt).transpose()
    }
}
