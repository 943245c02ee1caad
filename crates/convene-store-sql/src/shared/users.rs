use super::dialect::{DbTime, db_time, in_list, text_list, time_of};
use super::{Backend, emit};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::outbound::{EventType, OutboundEvent};
use convene_core::page::{Page, PageRequest};
use convene_core::search::{as_name, like_pattern};
use convene_core::text::{DisplayName, Email, Locale, TimeZoneName};
use convene_core::user::{NewUser, User};
use convene_core::username::Username;
use convene_core::{EventId, Timestamp, UserId};
use convene_store::{Conflict, StoreError, StoreResult, UserStore};

pub(crate) const USER_COLUMNS: &str = "users.id, users.username, users.email, users.display_name, users.locale, users.timezone, users.is_admin, users.deactivated_at, users.created_at, users.updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    username: String,
    email: Option<String>,
    display_name: Option<String>,
    locale: Option<String>,
    timezone: Option<String>,
    is_admin: bool,
    deactivated_at: Option<DbTime>,
    created_at: DbTime,
    updated_at: DbTime,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId::from_trusted(r.id),
            username: Username::from_trusted(r.username),
            email: r.email.map(Email::from_trusted),
            display_name: r.display_name.map(DisplayName::from_trusted),
            locale: r.locale.map(Locale::from_trusted),
            timezone: r.timezone.map(TimeZoneName::from_trusted),
            is_admin: r.is_admin,
            deactivated_at: r.deactivated_at.map(time_of),
            created_at: time_of(r.created_at),
            updated_at: time_of(r.updated_at),
        }
    }
}

/// [`like_pattern`] for usernames ([`as_name`]).
pub(crate) fn name_pattern(search: Option<&str>) -> Option<String> {
    search.map(|s| like_pattern(&as_name(s)))
}

#[async_trait]
impl UserStore for Backend {
    async fn create_user(&self, new: NewUser, at: Timestamp) -> StoreResult<User> {
        let user = User {
            id: UserId::new(),
            username: new.username,
            email: new.email,
            display_name: new.display_name,
            locale: new.locale,
            timezone: new.timezone,
            is_admin: new.is_admin,
            deactivated_at: None,
            created_at: at,
            updated_at: at,
        };
        let mut tx = self.writes().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, username, email, display_name, locale, is_admin, created_at, updated_at, timezone)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) ON CONFLICT (username) DO NOTHING",
        )
        .binds((user.id.as_str(), user.username.as_str()))
        .bind(user.email.as_ref().map(Email::as_str))
        .bind(user.display_name.as_ref().map(DisplayName::as_str))
        .binds((user.locale.as_ref().map(Locale::as_str), user.is_admin))
        .bind(db_time(at))
        .bind(user.timezone.as_ref().map(TimeZoneName::as_str))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict(Conflict::Username));
        }
        let outbound = OutboundEvent::user(EventType::UserCreated, &user);
        emit(&mut tx, outbound, at).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.reads())
            .await?;
        Ok(row.map(User::from))
    }

    async fn user_by_name(&self, name: &Username) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(name.as_str())
            .fetch_optional(self.reads())
            .await?;
        Ok(row.map(User::from))
    }

    async fn users_by_names(&self, names: &[Username]) -> StoreResult<Vec<User>> {
        let names: Vec<&str> = names.iter().map(Username::as_str).collect();
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {}",
            in_list("username", 1)
        );
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(text_list(&names))
            .fetch_all(self.reads())
            .await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn admins(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE is_admin ORDER BY username");
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.reads())
            .await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn list_users(
        &self,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<User>> {
        let pattern = name_pattern(search);
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE ($1 IS NULL OR username > $1)
             AND ($2 IS NULL OR lower(username) LIKE $2 ESCAPE '\\') ORDER BY username LIMIT $3"
        );
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((page.after.as_deref(), pattern, i64::from(page.limit) + 1))
            .fetch_all(self.reads())
            .await?;
        let users = rows.into_iter().map(User::from).collect();
        Ok(Page::from_overfetch(users, page.limit, |u: &User| {
            u.username.to_string()
        }))
    }

    async fn update_user(&self, user: &User) -> StoreResult<User> {
        let mut tx = self.writes().begin().await?;
        let updated = sqlx::query(
            "UPDATE users SET email = $2, display_name = $3, locale = $4, is_admin = $5, updated_at = $6,
             timezone = $7, deactivated_at = $8 WHERE id = $1",
        )
        .binds((user.id.as_str(), user.email.as_ref().map(Email::as_str)))
        .bind(user.display_name.as_ref().map(DisplayName::as_str))
        .binds((user.locale.as_ref().map(Locale::as_str), user.is_admin))
        .bind(db_time(user.updated_at))
        .bind(user.timezone.as_ref().map(TimeZoneName::as_str))
        .bind(user.deactivated_at.map(db_time))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let outbound = OutboundEvent::user(EventType::UserUpdated, user);
        emit(&mut tx, outbound, user.updated_at).await?;
        tx.commit().await?;
        Ok(user.clone())
    }

    async fn delete_user(&self, user: &User, at: Timestamp) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let attended: Vec<(String,)> = sqlx::query_as(
            "SELECT event_id FROM participants WHERE user_id = $1 AND visibility = 'public'",
        )
        .bind(user.id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for (event,) in attended {
            super::sync::public_list_changed(&mut tx, &EventId::from_trusted(event), at).await?;
        }
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user.id.as_str())
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        let outbound = OutboundEvent::user(EventType::UserDeleted, user);
        emit(&mut tx, outbound, at).await?;
        tx.commit().await?;
        Ok(true)
    }
}
