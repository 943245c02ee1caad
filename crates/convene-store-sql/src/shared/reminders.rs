//! Reminders: planned in the transaction that writes the event or session they remind of, and
//! settled by whichever node gets to them first (an `UPDATE … WHERE settled_at IS NULL` that only
//! one transaction can win per reminder).

use super::dialect::{Conn, DbTime, db_time, time_of};
use super::{Backend, emit};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::reminder::Reminders;
use convene_core::{EventId, SessionId, Timestamp};
use convene_store::{DueReminder, ReminderStore, Settle, StoreResult};

/// What reminders are planned for: an event, or one of its sessions.
pub(super) struct Planned<'a> {
    pub event: &'a EventId,
    pub session: Option<&'a SessionId>,
    pub starts_at: Option<Timestamp>,
    pub reminders: &'a Reminders,
}

impl Planned<'_> {
    fn subject(&self) -> &str {
        self.session.map_or(self.event.as_str(), SessionId::as_str)
    }
}

/// Plans the reminders still ahead at `now` and drops the unsettled ones it no longer has: a
/// moved start moves them, a later start plans them again. One already settled for the same
/// start and offset is kept, so it is never sent twice.
pub(super) async fn replan(conn: &mut Conn, plan: Planned<'_>, now: Timestamp) -> StoreResult<()> {
    drop_unsettled(conn, plan.subject()).await?;
    let Some(starts_at) = plan.starts_at else {
        return Ok(());
    };
    for offset in plan.reminders.ahead(starts_at, now) {
        sqlx::query(
            "INSERT INTO reminders (subject, event_id, session_id, offset_s, label, starts_at, due_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .binds((plan.subject(), plan.event.as_str()))
        .bind(plan.session.map(SessionId::as_str))
        .binds((offset.seconds(), offset.as_str()))
        .binds((db_time(starts_at), db_time(offset.due(starts_at))))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A session that goes takes its pending reminders with it (an event's go by cascade).
pub(super) async fn drop_unsettled(conn: &mut Conn, subject: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM reminders WHERE subject = $1 AND settled_at IS NULL")
        .bind(subject)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct DueRow {
    subject: String,
    event_id: String,
    session_id: Option<String>,
    offset_s: i64,
    label: String,
    starts_at: DbTime,
    due_at: DbTime,
}

impl From<DueRow> for DueReminder {
    fn from(r: DueRow) -> Self {
        DueReminder {
            subject: r.subject,
            event: EventId::from_trusted(r.event_id),
            session: r.session_id.map(SessionId::from_trusted),
            offset_s: r.offset_s,
            label: r.label,
            starts_at: time_of(r.starts_at),
            due_at: time_of(r.due_at),
        }
    }
}

#[async_trait]
impl ReminderStore for Backend {
    async fn due_reminders(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<DueReminder>> {
        let rows: Vec<DueRow> = sqlx::query_as(
            "SELECT subject, event_id, session_id, offset_s, label, starts_at, due_at FROM reminders
             WHERE settled_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT $2",
        )
        .binds((db_time(now), i64::from(limit)))
        .fetch_all(self.reads())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn settle_reminders(
        &self,
        settled: &[(DueReminder, Settle)],
        at: Timestamp,
    ) -> StoreResult<usize> {
        let mut tx = self.writes().begin().await?;
        let mut sent = 0;
        for (r, settle) in settled {
            let send = matches!(settle, Settle::Send(_));
            let won = sqlx::query(
                "UPDATE reminders SET settled_at = $4, sent = $5
                 WHERE subject = $1 AND offset_s = $2 AND starts_at = $3 AND settled_at IS NULL",
            )
            .binds((r.subject.as_str(), r.offset_s, db_time(r.starts_at)))
            .binds((db_time(at), send))
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if let (true, Settle::Send(message)) = (won, settle) {
                emit(&mut tx, message.clone(), at).await?;
                sent += 1;
            }
        }
        tx.commit().await?;
        Ok(sent)
    }

    async fn next_reminder(&self) -> StoreResult<Option<Timestamp>> {
        let (next,): (Option<DbTime>,) =
            sqlx::query_as("SELECT min(due_at) FROM reminders WHERE settled_at IS NULL")
                .fetch_one(self.reads())
                .await?;
        Ok(next.map(time_of))
    }
}
