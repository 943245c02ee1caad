use super::Backend;
use super::dialect::{DbTime, db_time, time_of};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::page::{Page, PageRequest};
use convene_core::scope::TokenLimits;
use convene_core::user::{ApiToken, NewToken};
use convene_core::username::Username;
use convene_core::{Timestamp, TokenId, UserId};
use convene_store::{StoreError, StoreResult, TokenCredential, TokenStore};

const TOKEN_SELECT: &str =
    "SELECT t.id, t.user_id, u.username, t.name, t.created_at, t.expires_at, t.last_used_at,
    t.sha256, u.is_admin, t.scopes, t.event_ids FROM api_tokens t JOIN users u ON u.id = t.user_id";

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    user_id: String,
    username: String,
    name: String,
    created_at: DbTime,
    expires_at: Option<DbTime>,
    last_used_at: Option<DbTime>,
    sha256: Vec<u8>,
    is_admin: bool,
    /// JSON text lists; NULL is "not limited".
    scopes: Option<String>,
    event_ids: Option<String>,
}

/// A stored JSON list; unreadable text reads as an empty list, which narrows rather than widens.
fn stored_list(text: Option<String>) -> Option<Vec<String>> {
    text.map(|t| serde_json::from_str(&t).unwrap_or_default())
}

impl From<TokenRow> for TokenCredential {
    fn from(r: TokenRow) -> Self {
        TokenCredential {
            token: ApiToken {
                id: TokenId::from_trusted(r.id),
                user_id: UserId::from_trusted(r.user_id),
                username: Username::from_trusted(r.username),
                name: r.name,
                created_at: time_of(r.created_at),
                expires_at: r.expires_at.map(time_of),
                last_used_at: r.last_used_at.map(time_of),
                limits: TokenLimits::from_stored(stored_list(r.scopes), stored_list(r.event_ids)),
            },
            sha256: r.sha256,
            user_is_admin: r.is_admin,
        }
    }
}

#[async_trait]
impl TokenStore for Backend {
    async fn create_token(&self, new: NewToken, at: Timestamp) -> StoreResult<ApiToken> {
        let id = TokenId::new();
        let inserted = sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, lookup, sha256, created_at, expires_at,
                 scopes, event_ids)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)",
        )
        .binds((id.as_str(), new.user_id.as_str(), &new.name, &new.lookup))
        .binds((&new.sha256, db_time(at), new.expires_at.map(db_time)))
        .binds((
            new.limits.scope_names().map(|s| serde_json::json!(s).to_string()),
            new.limits.event_names().map(|s| serde_json::json!(s).to_string()),
        ))
        .execute(self.writes())
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.token_by_id(&id).await?.ok_or(StoreError::NotFound)
    }

    async fn tokens_by_lookup(&self, lookup: &str) -> StoreResult<Vec<TokenCredential>> {
        // A deactivated user's tokens match nothing.
        let sql = format!("{TOKEN_SELECT} WHERE t.lookup = $1 AND u.deactivated_at IS NULL");
        let rows: Vec<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(lookup)
            .fetch_all(self.reads())
            .await?;
        Ok(rows.into_iter().map(TokenCredential::from).collect())
    }

    async fn token_by_id(&self, id: &TokenId) -> StoreResult<Option<ApiToken>> {
        let sql = format!("{TOKEN_SELECT} WHERE t.id = $1");
        let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.writes())
            .await?;
        Ok(row.map(|r| TokenCredential::from(r).token))
    }

    async fn list_tokens(
        &self,
        user: Option<&UserId>,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<ApiToken>> {
        let sql = format!(
            "{TOKEN_SELECT} WHERE ($1 IS NULL OR t.user_id = $1) AND ($2 IS NULL OR t.id > $2)
               AND ($4 IS NULL OR lower(t.name) LIKE $4 ESCAPE '\\') ORDER BY t.id LIMIT $3"
        );
        let rows: Vec<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((user.map(UserId::as_str), page.after.as_deref()))
            .bind(i64::from(page.limit) + 1)
            .bind(search.map(convene_core::search::like_pattern))
            .fetch_all(self.reads())
            .await?;
        let tokens = rows
            .into_iter()
            .map(|r| TokenCredential::from(r).token)
            .collect();
        Ok(Page::from_overfetch(tokens, page.limit, |t: &ApiToken| {
            t.id.to_string()
        }))
    }

    async fn delete_token(&self, id: &TokenId) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(id.as_str())
            .execute(self.writes())
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn touch_token(&self, id: &TokenId, at: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .binds((id.as_str(), db_time(at)))
            .execute(self.writes())
            .await?;
        Ok(())
    }
}
