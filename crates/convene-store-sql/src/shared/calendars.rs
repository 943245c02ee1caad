use super::Backend;
use super::dialect::db_time;
use super::events::{EVENT_COLUMNS, EventRow};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::event::Event;
use convene_core::{Timestamp, UserId};
use convene_store::{CalendarStore, StoreResult};

#[async_trait]
impl CalendarStore for Backend {
    async fn set_calendar_feed(
        &self,
        user: &UserId,
        digest: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO calendar_feeds (user_id, digest, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET digest = excluded.digest, created_at = excluded.created_at",
        )
        .binds((user.as_str(), digest, db_time(at)))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn drop_calendar_feed(&self, user: &UserId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM calendar_feeds WHERE user_id = $1")
            .bind(user.as_str())
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn calendar_feed_owner(&self, digest: &str) -> StoreResult<Option<UserId>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT user_id FROM calendar_feeds WHERE digest = $1")
                .bind(digest)
                .fetch_optional(self.reads())
                .await?;
        Ok(row.map(|(id,)| UserId::from_trusted(id)))
    }

    async fn registered_events(&self, user: &UserId, limit: u32) -> StoreResult<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e JOIN participants p ON p.event_id = e.id
             WHERE p.user_id = $1 ORDER BY e.starts_at, e.id LIMIT $2"
        );
        let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((user.as_str(), i64::from(limit)))
            .fetch_all(self.reads())
            .await?;
        Ok(rows.into_iter().map(Event::from).collect())
    }
}
