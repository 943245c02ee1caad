use super::Backend;
use super::dialect::{Conn, DbTime, db_time, time_of};
use super::users::{USER_COLUMNS, UserRow};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::user::User;
use convene_core::{EventId, Timestamp, UserId};
use convene_store::{StoreResult, WebSession, WebSessionStore};

/// Stores a user's password hash; whether there was such a user.
async fn write_hash(conn: &mut Conn, user: &str, hash: &str) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .binds((user, hash))
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[async_trait]
impl WebSessionStore for Backend {
    async fn set_password(&self, user: &UserId, hash: &str) -> StoreResult<bool> {
        let mut conn = self.writes().acquire().await?;
        write_hash(&mut conn, user.as_str(), hash).await
    }

    async fn password_hash(&self, user: &UserId) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT password_hash FROM users WHERE id = $1 AND deactivated_at IS NULL",
        )
        .bind(user.as_str())
        .fetch_optional(self.reads())
        .await?;
        Ok(row.and_then(|(h,)| h))
    }

    async fn create_password_link(
        &self,
        token_sha256: &str,
        user: &UserId,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO password_links (token_sha256, user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET
             token_sha256 = excluded.token_sha256, created_at = excluded.created_at,
             expires_at = excluded.expires_at",
        )
        .binds((
            token_sha256,
            user.as_str(),
            db_time(at),
            db_time(expires_at),
        ))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn password_link(&self, token_sha256: &str, now: Timestamp) -> StoreResult<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM password_links l JOIN users ON users.id = l.user_id
             WHERE l.token_sha256 = $1 AND l.expires_at > $2 AND users.deactivated_at IS NULL"
        );
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((token_sha256, db_time(now)))
            .fetch_optional(self.reads())
            .await?;
        Ok(row.map(User::from))
    }

    async fn set_password_by_link(
        &self,
        token_sha256: &str,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let used: Option<(String,)> = sqlx::query_as(
            "DELETE FROM password_links WHERE token_sha256 = $1 AND expires_at > $2
             AND user_id IN (SELECT id FROM users WHERE deactivated_at IS NULL) RETURNING user_id",
        )
        .binds((token_sha256, db_time(now)))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((user,)) = used else {
            return Ok(false);
        };
        write_hash(&mut tx, &user, hash).await?;
        // A new password signs the old sessions out: whoever held one may be why it changed.
        sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn create_web_session(
        &self,
        token_sha256: &str,
        user: &UserId,
        csrf: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.writes().begin().await?;
        // Expired sessions go as new ones come: the table stays the size of its live sessions.
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
            .bind(db_time(at))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (token_sha256, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .binds((token_sha256, user.as_str(), csrf, db_time(at)))
        .bind(db_time(expires_at))
        .execute(&mut *tx)
        .await?;
        Ok(tx.commit().await?)
    }

    async fn web_session(
        &self,
        token_sha256: &str,
        now: Timestamp,
    ) -> StoreResult<Option<WebSession>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.csrf, s.expires_at FROM web_sessions s JOIN users ON users.id = s.user_id
             WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND users.deactivated_at IS NULL"
        );
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((token_sha256, db_time(now)))
            .fetch_optional(self.reads())
            .await?;
        let Some(found) = found else { return Ok(None) };
        use sqlx::{FromRow, Row};
        let user = UserRow::from_row(&found)?;
        Ok(Some(WebSession {
            user: user.into(),
            csrf: found.try_get("csrf")?,
            expires_at: time_of(found.try_get("expires_at")?),
        }))
    }

    async fn delete_web_session(&self, token_sha256: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM web_sessions WHERE token_sha256 = $1")
            .bind(token_sha256)
            .execute(self.writes())
            .await?;
        Ok(())
    }

    async fn login_failed(&self, username: &str, at: Timestamp) -> StoreResult<u32> {
        let (n,): (i32,) = sqlx::query_as(
            "INSERT INTO login_failures (username, failures, updated_at) VALUES ($1, 1, $2)
             ON CONFLICT (username) DO UPDATE SET failures = login_failures.failures + 1, updated_at = $2
             RETURNING failures",
        )
        .binds((username, db_time(at)))
        .fetch_one(self.writes())
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn lock_login(&self, username: &str, until: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE login_failures SET locked_until = $2 WHERE username = $1")
            .binds((username, db_time(until)))
            .execute(self.writes())
            .await?;
        Ok(())
    }

    async fn login_locked(&self, username: &str, now: Timestamp) -> StoreResult<Option<Timestamp>> {
        let row: Option<(DbTime,)> = sqlx::query_as(
            "SELECT locked_until FROM login_failures WHERE username = $1 AND locked_until > $2",
        )
        .binds((username, db_time(now)))
        .fetch_optional(self.reads())
        .await?;
        Ok(row.map(|(t,)| time_of(t)))
    }

    async fn login_succeeded(&self, username: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE username = $1")
            .bind(username)
            .execute(self.writes())
            .await?;
        Ok(())
    }

    async fn organized_events(&self, user: &UserId) -> StoreResult<Vec<EventId>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT event_id FROM organizers WHERE user_id = $1 ORDER BY event_id")
                .bind(user.as_str())
                .fetch_all(self.reads())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id,)| EventId::from_trusted(id))
            .collect())
    }
}
