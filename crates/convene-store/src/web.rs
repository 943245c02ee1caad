//! Storage of the admin web UI's sign-in: password hashes, sessions, failed attempts.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::user::User;
use convene_core::{EventId, Timestamp, UserId};

/// A signed-in browser: whose, and the token its forms must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub user: User,
    pub csrf: String,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait WebSessionStore: Send + Sync {
    /// Stores an argon2id PHC string; `false` when there is no such user.
    async fn set_password(&self, user: &UserId, hash: &str) -> StoreResult<bool>;
    /// `None` also for a deactivated user: their password opens nothing.
    async fn password_hash(&self, user: &UserId) -> StoreResult<Option<String>>;
    /// Makes this (its SHA-256) the user's one-time password link, live until `expires_at`;
    /// an earlier link of theirs stops working.
    async fn create_password_link(
        &self,
        token_sha256: &str,
        user: &UserId,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Whose a live link is (an active user), without using it up.
    async fn password_link(&self, token_sha256: &str, now: Timestamp) -> StoreResult<Option<User>>;
    /// Sets the password through a live link and uses the link up, in one transaction; `false`
    /// (nothing changed) when the link is unknown, used or expired.
    async fn set_password_by_link(
        &self,
        token_sha256: &str,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn create_web_session(
        &self,
        token_sha256: &str,
        user: &UserId,
        csrf: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// The session if it exists, has not expired at `now`, and its user is active.
    async fn web_session(
        &self,
        token_sha256: &str,
        now: Timestamp,
    ) -> StoreResult<Option<WebSession>>;
    async fn delete_web_session(&self, token_sha256: &str) -> StoreResult<()>;
    /// Counts a failed sign-in for a name and returns the failures in a row so far.
    async fn login_failed(&self, username: &str, at: Timestamp) -> StoreResult<u32>;
    /// Locks the name until `until`.
    async fn lock_login(&self, username: &str, until: Timestamp) -> StoreResult<()>;
    /// When the name's lock ends, if it is locked at `now`.
    async fn login_locked(&self, username: &str, now: Timestamp) -> StoreResult<Option<Timestamp>>;
    async fn login_succeeded(&self, username: &str) -> StoreResult<()>;
    /// The events the user organizes (any role): what an organizer sees in the web UI.
    async fn organized_events(&self, user: &UserId) -> StoreResult<Vec<EventId>>;
}
