//! User accounts and API token records.

use crate::text::{DisplayName, Email, Locale};
use crate::username::Username;
use crate::{Timestamp, TokenId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub email: Option<Email>,
    pub display_name: Option<DisplayName>,
    pub locale: Option<Locale>,
    /// Where digests go out at a local hour, and times are shown when an event has no zone.
    pub timezone: Option<crate::text::TimeZoneName>,
    pub is_admin: bool,
    /// Since when the account opens nothing (tokens, sessions, password); `None`: active.
    pub deactivated_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    /// A new account with nothing but its name, made on another system's word (an Event
    /// Center's participant list).
    pub fn fresh(username: Username, at: Timestamp) -> Self {
        Self {
            id: UserId::new(),
            username,
            email: None,
            display_name: None,
            locale: None,
            timezone: None,
            is_admin: false,
            deactivated_at: None,
            created_at: at,
            updated_at: at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: Username,
    pub email: Option<Email>,
    pub display_name: Option<DisplayName>,
    pub locale: Option<Locale>,
    pub timezone: Option<crate::text::TimeZoneName>,
    pub is_admin: bool,
}

/// A field of a PATCH: left alone, cleared (`null`), or set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Change<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Change::Keep)
    }

    /// The value after the change, given the value before it.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Change::Keep => current,
            Change::Clear => None,
            Change::Set(v) => Some(v),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserPatch {
    pub email: Change<Email>,
    pub display_name: Change<DisplayName>,
    pub locale: Change<Locale>,
    pub timezone: Change<crate::text::TimeZoneName>,
    pub is_admin: Option<bool>,
    /// `Some(true)` deactivates (keeping the first time it was), `Some(false)` reactivates.
    pub deactivated: Option<bool>,
}

impl UserPatch {
    /// Applies the patch to a user, returning the user as it will be stored.
    pub fn apply_to(self, mut user: User, at: Timestamp) -> User {
        user.email = self.email.apply(user.email);
        user.display_name = self.display_name.apply(user.display_name);
        user.locale = self.locale.apply(user.locale);
        user.timezone = self.timezone.apply(user.timezone);
        user.is_admin = self.is_admin.unwrap_or(user.is_admin);
        user.deactivated_at = match self.deactivated {
            Some(true) => user.deactivated_at.or(Some(at)),
            Some(false) => None,
            None => user.deactivated_at,
        };
        user.updated_at = at;
        user
    }
}

/// A token's metadata; the secret exists only in the answer that created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub username: Username,
    pub name: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    /// What the token is limited to; the default is everything its user may do.
    pub limits: crate::scope::TokenLimits,
}

impl ApiToken {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub user_id: UserId,
    pub name: String,
    pub lookup: String,
    pub sha256: Vec<u8>,
    pub expires_at: Option<Timestamp>,
    pub limits: crate::scope::TokenLimits,
}
