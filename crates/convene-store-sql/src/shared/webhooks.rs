use super::Backend;
use super::dialect::{DbTime, db_time, time_of};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::page::{Page, PageRequest};
use convene_core::webhook::{EventTypes, SubjectOrder, TargetUrl, Webhook};
use convene_core::webhook_scope::WebhookScope;
use convene_core::{Timestamp, UserId, WebhookId};
use convene_store::{NewWebhook, StoreError, StoreResult, WebhookStore};
use sqlx::types::Json;
use std::collections::BTreeMap;

pub(crate) const WEBHOOK_COLUMNS: &str = "id, url, event_types, enabled, encoding, description, headers,
    rate_limit_per_s, secret, previous_secret, previous_secret_until, disabled_reason, failing_since,
    created_at, updated_at, owner_id, scope, ordering";

#[derive(sqlx::FromRow)]
pub(crate) struct WebhookRow {
    id: String,
    url: String,
    event_types: Json<Vec<String>>,
    enabled: bool,
    encoding: String,
    description: Option<String>,
    headers: Json<BTreeMap<String, String>>,
    rate_limit_per_s: Option<i32>,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<DbTime>,
    disabled_reason: Option<String>,
    failing_since: Option<DbTime>,
    created_at: DbTime,
    updated_at: DbTime,
    owner_id: Option<String>,
    scope: Option<String>,
    ordering: Option<String>,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Webhook {
            id: WebhookId::from_trusted(r.id),
            url: TargetUrl::from_trusted(r.url),
            event_types: EventTypes::from_list(r.event_types.0),
            enabled: r.enabled,
            encoding: r.encoding,
            description: r.description,
            headers: r.headers.0,
            rate_limit_per_s: r.rate_limit_per_s.and_then(|n| u32::try_from(n).ok()),
            secret: r.secret,
            previous_secret: r.previous_secret.zip(r.previous_secret_until.map(time_of)),
            disabled_reason: r.disabled_reason,
            failing_since: r.failing_since.map(time_of),
            owner: r.owner_id.map(UserId::from_trusted),
            scope: WebhookScope::from_stored(r.scope.as_deref()),
            order: SubjectOrder::from_stored(r.ordering.as_deref()),
            created_at: time_of(r.created_at),
            updated_at: time_of(r.updated_at),
        }
    }
}

impl Backend {
    /// Webhooks read back, their secrets opened.
    pub(crate) fn opened_webhooks(&self, rows: Vec<WebhookRow>) -> StoreResult<Vec<Webhook>> {
        let keys = self.keys.get();
        rows.into_iter()
            .map(|r| keys.opened_webhook(r.into()))
            .collect()
    }
}

fn rate(n: Option<u32>) -> Option<i32> {
    n.map(|n| i32::try_from(n).unwrap_or(i32::MAX))
}

#[async_trait]
impl WebhookStore for Backend {
    async fn create_webhook(&self, new: NewWebhook, at: Timestamp) -> StoreResult<Webhook> {
        let sql = format!(
            "INSERT INTO webhooks (id, url, event_types, enabled, encoding, description, headers,
             rate_limit_per_s, secret, created_at, updated_at, owner_id, scope, ordering)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13)
             RETURNING {WEBHOOK_COLUMNS}"
        );
        let row: WebhookRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((WebhookId::new().as_str(), new.url.as_str()))
            .binds((Json(new.event_types.to_list()), new.enabled))
            .binds((&new.encoding, &new.description, Json(&new.headers)))
            .bind(rate(new.rate_limit_per_s))
            .binds((self.keys.get().seal(&new.secret), db_time(at)))
            .binds((
                new.owner.as_ref().map(UserId::as_str),
                new.scope.to_stored(),
                new.order.to_stored(),
            ))
            .fetch_one(self.writes())
            .await?;
        self.keys.get().opened_webhook(row.into())
    }

    async fn webhook(&self, id: &WebhookId) -> StoreResult<Option<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1");
        let row: Option<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.reads())
            .await?;
        row.map(|r| self.keys.get().opened_webhook(r.into()))
            .transpose()
    }

    async fn list_webhooks(
        &self,
        owner: Option<&UserId>,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE ($1 IS NULL OR id > $1)
             AND ($3 IS NULL OR owner_id = $3) AND ($4 IS NULL OR lower(url) LIKE $4 ESCAPE '\\'
                 OR lower(coalesce(description, '')) LIKE $4 ESCAPE '\\')
             ORDER BY id LIMIT $2"
        );
        let rows: Vec<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((page.after.as_deref(), i64::from(page.limit) + 1))
            .bind(owner.map(UserId::as_str))
            .bind(search.map(convene_core::search::like_pattern))
            .fetch_all(self.reads())
            .await?;
        let hooks = self.opened_webhooks(rows)?;
        Ok(Page::from_overfetch(hooks, page.limit, |w: &Webhook| {
            w.id.to_string()
        }))
    }

    async fn webhook_health(&self, limit: u32) -> StoreResult<(u64, Vec<Webhook>)> {
        let (total,): (i64,) = sqlx::query_as("SELECT count(*) FROM webhooks")
            .fetch_one(self.reads())
            .await?;
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE failing_since IS NOT NULL
             ORDER BY failing_since, id LIMIT $1"
        );
        let rows: Vec<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(self.reads())
            .await?;
        let failing = self.opened_webhooks(rows)?;
        Ok((u64::try_from(total).unwrap_or_default(), failing))
    }

    async fn update_webhook(&self, w: &Webhook) -> StoreResult<Webhook> {
        let sql = format!(
            "UPDATE webhooks SET url = $2, event_types = $3, enabled = $4, encoding = $5,
             description = $6, headers = $7, rate_limit_per_s = $8, secret = $9,
             previous_secret = $10, previous_secret_until = $11, disabled_reason = $12,
             failing_since = $13, updated_at = $14, scope = $15, ordering = $16 WHERE id = $1
             RETURNING {WEBHOOK_COLUMNS}"
        );
        let mut tx = self.writes().begin().await?;
        let keys = self.keys.get();
        let (previous, until) = w.previous_secret.clone().unzip();
        let previous = previous.map(|p| keys.seal(&p));
        let row: Option<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((w.id.as_str(), w.url.as_str()))
            .binds((Json(w.event_types.to_list()), w.enabled, &w.encoding))
            .binds((&w.description, Json(&w.headers), rate(w.rate_limit_per_s)))
            .binds((keys.seal(&w.secret), previous, until.map(db_time)))
            .binds((&w.disabled_reason, w.failing_since.map(db_time)))
            .binds((
                db_time(w.updated_at),
                w.scope.to_stored(),
                w.order.to_stored(),
            ))
            .fetch_optional(&mut *tx)
            .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        if !w.order.per_subject() {
            // No longer ordered: what waited in a lane is due now, and in no lane.
            sqlx::query(
                "UPDATE deliveries SET next_attempt_at = COALESCE(next_attempt_at, $2), subject = NULL
                 WHERE webhook_id = $1 AND status = 'pending' AND subject IS NOT NULL",
            )
            .binds((w.id.as_str(), db_time(w.updated_at)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        keys.opened_webhook(row.into())
    }

    async fn disable_webhook(
        &self,
        id: &WebhookId,
        reason: &str,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhooks SET enabled = FALSE, disabled_reason = $2, updated_at = $3
             WHERE id = $1 AND enabled",
        )
        .binds((id.as_str(), reason, db_time(at)))
        .execute(self.writes())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_webhook(&self, id: &WebhookId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id.as_str())
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
