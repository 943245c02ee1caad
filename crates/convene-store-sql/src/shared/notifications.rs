use super::dialect::{
    Conn, DbTime, NO_LIMIT, db_time, in_list, int_list, json_rows, json_time, text_list, time_of,
};
use super::users::{USER_COLUMNS, UserRow};
use super::{Backend, Db, OutboxRow, mails::insert_mails, outbox_messages};
use crate::binds::Binds;
use crate::notification_sql::Bind as B;
use crate::notification_sql::{Bind, SqlWriter};
use async_trait::async_trait;
use convene_core::notification::{
    Cadence, Channel, Kind, NewNotification, Notification, Preference,
};
use convene_core::user::User;
use convene_core::{EventId, Timestamp, UserId};
use convene_store::{
    Notices, NotificationQuery, NotificationStore, OutboxMessage, Recipients, StoreResult,
};
use sqlx::query::QueryAs;
use sqlx::types::Json;

type Arguments = <Db as sqlx::Database>::Arguments;

const COLUMNS: &str =
    "id, user_id, kind, event_id, title, message, accept, received_at, is_read, actions";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    user_id: String,
    kind: String,
    event_id: Option<String>,
    title: String,
    message: String,
    accept: Option<String>,
    received_at: DbTime,
    is_read: bool,
    actions: Json<Vec<convene_core::notification::NotificationAction>>,
}

impl From<Row> for Notification {
    fn from(r: Row) -> Self {
        Notification {
            id: r.id,
            user: UserId::from_trusted(r.user_id),
            kind: r.kind,
            event: r.event_id.map(EventId::from_trusted),
            title: r.title,
            message: r.message,
            accept: r.accept,
            received_at: time_of(r.received_at),
            is_read: r.is_read,
            actions: r.actions.0,
        }
    }
}

fn bind_all<'q, O>(
    mut q: QueryAs<'q, Db, O, Arguments>,
    binds: &'q [Bind],
) -> QueryAs<'q, Db, O, Arguments> {
    for b in binds {
        q = match b {
            B::Int(i) => q.bind(*i),
            B::Text(s) => q.bind(s.as_str()),
            B::Bool(v) => q.bind(*v),
            B::Time(t) => q.bind(db_time(*t)),
        };
    }
    q
}

/// Inserts inside the caller's transaction; a known dedupe key inserts nothing.
pub(crate) async fn insert_in(
    conn: &mut Conn,
    new: &[NewNotification],
) -> StoreResult<Vec<Notification>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    // One statement for the lot: an event's whole audience is told at once. Booleans travel
    // as "1"/"0" texts, which both databases compare alike.
    let rows: Vec<serde_json::Value> = new
        .iter()
        .map(|n| {
            serde_json::json!([
                n.user.as_str(),
                n.kind.as_str(),
                n.event.as_ref().map(EventId::as_str),
                n.title,
                n.message,
                n.accept,
                convene_core::clock::micros(n.received_at),
                if n.is_read { "1" } else { "0" },
                n.actions,
                n.dedupe_key,
            ])
        })
        .collect();
    let sql = format!(
        "INSERT INTO notifications (user_id, kind, event_id, title, message, accept, received_at, is_read, actions, dedupe_key)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, {},
             value ->> 7 = '1', value -> 8, value ->> 9
         FROM {} WHERE true ORDER BY key
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING {COLUMNS}",
        json_time("value ->> 6"),
        json_rows(1),
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Json(&rows))
        .fetch_all(&mut *conn)
        .await?;
    let mut out: Vec<Notification> = rows.into_iter().map(Notification::from).collect();
    out.sort_by_key(|n| n.id);
    Ok(out)
}

#[async_trait]
impl NotificationStore for Backend {
    async fn insert_notifications(
        &self,
        new: &[NewNotification],
    ) -> StoreResult<Vec<Notification>> {
        let mut tx = self.writes().begin().await?;
        let out = insert_in(&mut tx, new).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn notification(&self, id: i64) -> StoreResult<Option<Notification>> {
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id = $1");
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(self.reads())
            .await?;
        Ok(row.map(Into::into))
    }

    async fn query_notifications(
        &self,
        query: &NotificationQuery,
    ) -> StoreResult<(Vec<Notification>, u64)> {
        let mut w = SqlWriter::new(super::dialect::like);
        w.push(" WHERE ");
        match &query.owner {
            Some(user) => w.push_eq("user_id", Bind::Text(user.as_str().to_owned())),
            None => w.push("TRUE"),
        }
        if let Some(f) = &query.filter {
            w.push(" AND (");
            w.filter(f);
            w.push(")");
        }
        let count_sql = format!("SELECT COUNT(*) FROM notifications{}", w.sql);
        let (total,): (i64,) = bind_all(
            sqlx::query_as(sqlx::AssertSqlSafe(count_sql.clone())),
            &w.binds,
        )
        .fetch_one(self.reads())
        .await?;
        w.order_by(&query.sort);
        let limit = query.limit.map_or(NO_LIMIT.to_owned(), |n| n.to_string());
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications{} LIMIT {limit} OFFSET {}",
            w.sql, query.offset
        );
        let rows: Vec<Row> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())), &w.binds)
            .fetch_all(self.reads())
            .await?;
        Ok((
            rows.into_iter().map(Into::into).collect(),
            u64::try_from(total).unwrap_or(0),
        ))
    }

    async fn set_read(&self, id: i64, read: bool) -> StoreResult<Option<Notification>> {
        let sql =
            format!("UPDATE notifications SET is_read = $2 WHERE id = $1 RETURNING {COLUMNS}");
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .binds((id, read))
            .fetch_optional(self.writes())
            .await?;
        Ok(row.map(Into::into))
    }

    async fn delete_notification(&self, id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM notifications WHERE id = $1")
            .bind(id)
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn unread_count(&self, user: &UserId) -> StoreResult<u64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND NOT is_read")
                .bind(user.as_str())
                .fetch_one(self.reads())
                .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn mark_all_read(&self, user: &UserId) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE notifications SET is_read = TRUE WHERE user_id = $1 AND NOT is_read",
        )
        .bind(user.as_str())
        .execute(self.writes())
        .await?;
        Ok(done.rows_affected())
    }

    async fn notifications_after(&self, after: i64, limit: u32) -> StoreResult<Vec<Notification>> {
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id > $1 ORDER BY id LIMIT $2");
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .binds((after, i64::from(limit)))
            .fetch_all(self.reads())
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn preferences(&self, user: &UserId) -> StoreResult<Vec<Preference>> {
        let found = self.preferences_of(std::slice::from_ref(user)).await?;
        Ok(found.into_iter().map(|(_, p)| p).collect())
    }

    async fn preferences_of(&self, users: &[UserId]) -> StoreResult<Vec<(UserId, Preference)>> {
        let sql = format!(
            "SELECT user_id, kind, channel, enabled, cadence FROM notification_preferences WHERE {}",
            in_list("user_id", 1)
        );
        let rows: Vec<(String, String, String, bool, Option<String>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(text_list(
                    &users.iter().map(UserId::as_str).collect::<Vec<_>>(),
                ))
                .fetch_all(self.reads())
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(user, kind, channel, enabled, cadence)| {
                let mut p = preference(&kind, &channel, enabled)?;
                p.cadence = cadence.as_deref().and_then(Cadence::parse);
                Some((UserId::from_trusted(user), p))
            })
            .collect())
    }

    async fn set_preferences(&self, user: &UserId, prefs: &[Preference]) -> StoreResult<()> {
        let mut tx = self.writes().begin().await?;
        for p in prefs {
            sqlx::query(
                "INSERT INTO notification_preferences (user_id, kind, channel, enabled, cadence) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (user_id, kind, channel) DO UPDATE SET enabled = excluded.enabled,
                     cadence = COALESCE(excluded.cadence, notification_preferences.cadence)",
            )
            .binds((user.as_str(), p.kind.as_str(), p.channel.as_str()))
            .binds((p.enabled, p.cadence.map(Cadence::as_str)))
            .execute(&mut *tx)
            .await?;
        }
        Ok(tx.commit().await?)
    }

    async fn unnotified(&self, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT seq, id, event_type, data, occurred_at, source FROM outbox
             WHERE notified_at IS NULL ORDER BY seq LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(self.reads())
        .await?;
        Ok(outbox_messages(rows))
    }

    async fn audience(&self, event: &EventId, who: Recipients) -> StoreResult<Vec<User>> {
        let table = match who {
            Recipients::Organizers => "organizers",
            Recipients::Participants => "participants",
            Recipients::Everyone => {
                "(SELECT event_id, user_id FROM participants WHERE event_id = $1
                  UNION SELECT event_id, user_id FROM organizers WHERE event_id = $1)"
            }
        };
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM {table} m JOIN users ON users.id = m.user_id
             WHERE m.event_id = $1 ORDER BY users.username"
        );
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(event.as_str())
            .fetch_all(self.reads())
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn record_notices(&self, notices: &Notices, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.writes().begin().await?;
        insert_in(&mut tx, &notices.notifications).await?;
        insert_mails(&mut tx, &notices.mails, at).await?;
        super::digests::insert_digest_items(&mut tx, &notices.digests, at).await?;
        let sql = format!(
            "UPDATE outbox SET notified_at = $1 WHERE {}",
            in_list("seq", 2)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((db_time(at), int_list(&notices.seqs)))
            .execute(&mut *tx)
            .await?;
        Ok(tx.commit().await?)
    }
}

pub(crate) fn preference(kind: &str, channel: &str, enabled: bool) -> Option<Preference> {
    let channel = match channel {
        "in_app" => Channel::InApp,
        "email" => Channel::Email,
        _ => return None,
    };
    Some(Preference {
        kind: Kind::parse(kind)?,
        channel,
        enabled,
        cadence: None,
    })
}
