//! The outbox: every outbound event, written in the transaction of the change that caused it.

use super::Backend;
use super::dialect::{Conn, DbTime, db_time, json_rows, time_of};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::Timestamp;
use convene_core::outbound::OutboundEvent;
use convene_store::cause::traceparent;
use convene_store::{MessageType, OutboxMessage, OutboxStore, StoreResult};
use serde_json::{Value, json};
use sqlx::types::Json;

/// Writes one outbound event to the outbox inside the caller's transaction.
pub(crate) async fn emit(conn: &mut Conn, msg: OutboundEvent, at: Timestamp) -> StoreResult<()> {
    let sql = "INSERT INTO outbox (id, event_type, data, occurred_at, traceparent, subject)
               VALUES ($1, $2, $3, $4, $5, $6)";
    let subject = msg.event_type.subject(&msg.data);
    sqlx::query(sql)
        .binds((uuid::Uuid::now_v7().to_string(), msg.event_type.as_str()))
        .binds((Json(&msg.data), db_time(at), traceparent(), subject))
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes outbound events to the outbox in one statement, in the order given.
pub(crate) async fn emit_all(
    conn: &mut Conn,
    messages: Vec<OutboundEvent>,
    at: Timestamp,
) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let rows: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!([
                uuid::Uuid::now_v7().to_string(),
                m.event_type.as_str(),
                m.data,
                m.event_type.subject(&m.data)
            ])
        })
        .collect();
    let sql = format!(
        "INSERT INTO outbox (id, event_type, data, occurred_at, traceparent, subject)
         SELECT value ->> 0, value ->> 1, value -> 2, $2, $3, value ->> 3 FROM {} ORDER BY key",
        json_rows(1)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .binds((Json(&rows), db_time(at), traceparent()))
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
        .binds((seq, i64::from(limit)))
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
