//! The outbox: every outbound event, written in the transaction of the change that caused it.

use super::Backend;
use super::dialect::{Conn, DbTime, db_time, time_of};
use async_trait::async_trait;
use convene_core::Timestamp;
use convene_core::outbound::OutboundEvent;
use convene_store::{MessageType, OutboxMessage, OutboxStore, StoreResult};
use sqlx::types::Json;

/// Writes one outbound event to the outbox inside the caller's transaction.
pub(crate) async fn emit(conn: &mut Conn, msg: OutboundEvent, at: Timestamp) -> StoreResult<()> {
    sqlx::query("INSERT INTO outbox (id, event_type, data, occurred_at) VALUES ($1, $2, $3, $4)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(msg.event_type.as_str())
        .bind(Json(&msg.data))
        .bind(db_time(at))
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl OutboxStore for Backend {
    async fn outbox_after(&self, seq: i64, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT seq, id, event_type, data, occurred_at, source FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(i64::from(limit))
        .fetch_all(self.reads())
        .await?;
        Ok(outbox_messages(rows))
    }
}

/// An outbox row as read: seq, id, type, data, time, source.
pub(crate) type OutboxRow = (i64, String, String, Json<serde_json::Value>, DbTime, String);

pub(crate) fn outbox_messages(rows: Vec<OutboxRow>) -> Vec<OutboxMessage> {
    rows.into_iter()
        .map(|(seq, id, event_type, data, at, source)| OutboxMessage {
            seq,
            id,
            event_type: MessageType::parse(event_type, &source),
            data: data.0,
            occurred_at: time_of(at),
        })
        .collect()
}
