//! Storage of in-app notifications, preferences, and the mail log with its settings and
//! suppression list.

use crate::{OutboxMessage, StoreResult};
use async_trait::async_trait;
use convene_core::mail::{Mail, MailAttempt, MailOutcome, MailStatus, NewMail};
use convene_core::notification::query::{Filter, SortKey};
use convene_core::notification::{NewNotification, Notification, Preference};
use convene_core::page::{Page, PageRequest};
use convene_core::user::User;
use convene_core::{EventId, Timestamp, UserId};
use serde_json::Value;

/// A JSON:API listing: whose notifications, which, in what order, which slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationQuery {
    /// `None` lists everyone's (admins).
    pub owner: Option<UserId>,
    pub filter: Option<Filter>,
    /// Ties are broken by id, descending.
    pub sort: Vec<SortKey>,
    /// `None`: every match.
    pub limit: Option<u32>,
    pub offset: u64,
}

/// Who in an event is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipients {
    Organizers,
    Participants,
    /// Participants and organizers, each once.
    Everyone,
}

/// What the notifier planned for a batch of outbox messages, written at once.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    /// The outbox messages this plan covers; they are marked as notified.
    pub seqs: Vec<i64>,
    pub notifications: Vec<NewNotification>,
    pub mails: Vec<NewMail>,
    /// Mail that waits for its reader's digest.
    pub digests: Vec<crate::NewDigestItem>,
}

#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Inserts notifications (a known dedupe key inserts nothing) and returns those inserted.
    async fn insert_notifications(&self, new: &[NewNotification])
    -> StoreResult<Vec<Notification>>;
    async fn notification(&self, id: i64) -> StoreResult<Option<Notification>>;
    /// One page of matches and the number of all matches.
    async fn query_notifications(
        &self,
        query: &NotificationQuery,
    ) -> StoreResult<(Vec<Notification>, u64)>;
    async fn set_read(&self, id: i64, read: bool) -> StoreResult<Option<Notification>>;
    async fn delete_notification(&self, id: i64) -> StoreResult<bool>;
    async fn unread_count(&self, user: &UserId) -> StoreResult<u64>;
    /// Returns how many changed.
    async fn mark_all_read(&self, user: &UserId) -> StoreResult<u64>;
    /// Notifications with an id above `after`, lowest first: what the live stream forwards.
    async fn notifications_after(&self, after: i64, limit: u32) -> StoreResult<Vec<Notification>>;

    /// What the user said; kinds and channels not listed keep their defaults.
    async fn preferences(&self, user: &UserId) -> StoreResult<Vec<Preference>>;
    async fn set_preferences(&self, user: &UserId, prefs: &[Preference]) -> StoreResult<()>;
    /// What each of `users` said, in one read: the notifier telling a whole audience.
    async fn preferences_of(&self, users: &[UserId]) -> StoreResult<Vec<(UserId, Preference)>>;

    /// Outbox messages the notifier has not planned yet, in commit order.
    async fn unnotified(&self, limit: u32) -> StoreResult<Vec<OutboxMessage>>;
    /// The users of an event to tell.
    async fn audience(&self, event: &EventId, who: Recipients) -> StoreResult<Vec<User>>;
    /// Writes a plan in one transaction: notifications, mails with their send jobs, and the
    /// outbox messages marked as planned.
    async fn record_notices(&self, notices: &Notices, at: Timestamp) -> StoreResult<()>;
}

#[async_trait]
pub trait MailStore: Send + Sync {
    /// Records mails (a known dedupe key records nothing) and queues a send job for each new
    /// `Queued` one, in one transaction. Returns the rows written.
    async fn queue_mails(&self, mails: &[NewMail], at: Timestamp) -> StoreResult<Vec<Mail>>;
    async fn mail(&self, id: &str) -> StoreResult<Option<(Mail, Vec<MailAttempt>)>>;
    /// Newest first; with `recipient`, only addresses that contain it, ignoring case.
    async fn list_mails(
        &self,
        status: Option<MailStatus>,
        recipient: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Mail>>;
    /// The latest `limit` mails about `event`, newest first.
    async fn mails_of_event(&self, event: &EventId, limit: u32) -> StoreResult<Vec<Mail>>;
    /// Writes how a send went (status, provider, error) and its attempts.
    async fn record_mail(&self, id: &str, outcome: &MailOutcome, at: Timestamp) -> StoreResult<()>;

    async fn setting(&self, key: &str) -> StoreResult<Option<Value>>;
    async fn put_setting(&self, key: &str, value: &Value, at: Timestamp) -> StoreResult<()>;
    /// Stores `value` under `key` unless a value is there; returns the one that is.
    async fn setting_or_insert(
        &self,
        key: &str,
        value: &Value,
        at: Timestamp,
    ) -> StoreResult<Value>;

    /// Addresses are compared case-insensitively.
    async fn is_suppressed(&self, address: &str) -> StoreResult<bool>;
    /// Which of `addresses` are suppressed, lower-cased, in one read.
    async fn suppressed_among(&self, addresses: &[String]) -> StoreResult<Vec<String>>;
    async fn suppress(&self, address: &str, reason: &str, at: Timestamp) -> StoreResult<()>;
    async fn unsuppress(&self, address: &str) -> StoreResult<bool>;
    /// `(address, reason, since)`, ordered by address.
    /// Suppressed addresses with their reason and time, a page at a time in address order.
    async fn suppressions(
        &self,
        page: &PageRequest,
    ) -> StoreResult<Page<(String, String, Timestamp)>>;
}
