use crate::StoreResult;
use async_trait::async_trait;
use convene_core::event::{
    Event, EventPatch, NewEvent, Organizer, OrganizerRemoval, Participant, Registration, Role,
    Visibility,
};

use convene_core::outbound::MessageType;
use convene_core::page::{Page, PageRequest};
use convene_core::text::Slug;
use convene_core::user::{ApiToken, NewToken, NewUser, User};
use convene_core::username::Username;
use convene_core::{EventId, Timestamp, TokenId, UserId};
use serde_json::Value;

#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Conflict::Username` when the (normalised) name exists. Emits `user.created`.
    async fn create_user(&self, new: NewUser, at: Timestamp) -> StoreResult<User>;
    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<User>>;
    async fn user_by_name(&self, name: &Username) -> StoreResult<Option<User>>;
    /// The users among `names`, in no particular order; unknown names are left out.
    async fn users_by_names(&self, names: &[Username]) -> StoreResult<Vec<User>>;
    /// Every administrator, ordered by username: who operational notices go to.
    async fn admins(&self) -> StoreResult<Vec<User>>;
    /// Ordered by username; with `search`, only names that contain it, ignoring case.
    async fn list_users(&self, search: Option<&str>, page: &PageRequest)
    -> StoreResult<Page<User>>;
    /// Stores the user as given (see `UserPatch::apply_to`). Emits `user.updated`.
    async fn update_user(&self, user: &User) -> StoreResult<User>;
    /// Removes the user with its tokens, organizer roles and registrations. Emits `user.deleted`.
    async fn delete_user(&self, user: &User, at: Timestamp) -> StoreResult<bool>;
}

/// A stored token with what authentication needs to decide.
#[derive(Debug, Clone)]
pub struct TokenCredential {
    pub token: ApiToken,
    pub sha256: Vec<u8>,
    pub user_is_admin: bool,
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_token(&self, new: NewToken, at: Timestamp) -> StoreResult<ApiToken>;
    /// Every token whose lookup key matches (almost always one); the caller compares digests.
    async fn tokens_by_lookup(&self, lookup: &str) -> StoreResult<Vec<TokenCredential>>;
    async fn token_by_id(&self, id: &TokenId) -> StoreResult<Option<ApiToken>>;
    /// Ordered by id (creation); `None` lists every user's tokens.
    /// By id; with `search`, only those whose name contains it, ignoring case.
    async fn list_tokens(
        &self,
        user: Option<&UserId>,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<ApiToken>>;
    async fn delete_token(&self, id: &TokenId) -> StoreResult<bool>;
    async fn touch_token(&self, id: &TokenId, at: Timestamp) -> StoreResult<()>;
}

/// Which events a listing may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Everything,
    /// Public events, plus private ones the user organizes or attends.
    User(UserId),
    /// Only the events the user organizes (the console of an organizer who is no admin).
    Organizer(UserId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    pub slug: Option<Slug>,
    pub audience: Audience,
    /// Only events whose title or slug contains this, ignoring case.
    pub search: Option<String>,
}

#[async_trait]
pub trait EventStore: Send + Sync {
    /// `Conflict::Slug` when taken. The creator, if any, becomes a facilitator in the same
    /// transaction. Emits `event.created` (and `organizer.added`).
    async fn create_event(
        &self,
        new: NewEvent,
        creator: Option<&User>,
        at: Timestamp,
    ) -> StoreResult<Event>;
    async fn event_by_id(&self, id: &EventId) -> StoreResult<Option<Event>>;
    /// Ordered by id (creation).
    async fn list_events(
        &self,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Event>>;
    /// How many events [`EventStore::list_events`] would list in all.
    async fn count_events(&self, filter: &EventFilter) -> StoreResult<u64>;
    /// Reads, patches and writes the event in one transaction. `NotFound`, `Conflict::Slug`, or
    /// the patch's own validation errors through `PatchOutcome::Invalid`. Emits `event.updated`.
    async fn update_event(
        &self,
        id: &EventId,
        patch: EventPatch,
        at: Timestamp,
    ) -> StoreResult<PatchOutcome>;
    /// Emits `event.deleted`.
    async fn delete_event(&self, event: &Event, at: Timestamp) -> StoreResult<bool>;
    /// The user's organizer role and whether they are registered.
    async fn standing(&self, event: &EventId, user: &UserId) -> StoreResult<(Option<Role>, bool)>;
}

#[derive(Debug)]
pub enum PatchOutcome {
    Updated(Box<Event>),
    Invalid(convene_core::FieldErrors),
}

#[async_trait]
pub trait RosterStore: Send + Sync {
    /// Ordered by username.
    async fn organizers(&self, event: &EventId) -> StoreResult<Vec<Organizer>>;
    /// Adds or keeps the organizer; `true` when newly added. Emits `organizer.added` if new.
    async fn put_organizer(
        &self,
        event: &Event,
        user: &User,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<(Organizer, bool)>;
    /// With `keep_one`, refuses to remove the last organizer. Emits `organizer.removed`.
    async fn remove_organizer(
        &self,
        event: &Event,
        user: &UserId,
        keep_one: bool,
        at: Timestamp,
    ) -> StoreResult<OrganizerRemoval>;
    /// Ordered by username; private participants only when `include_private`; with `search`,
    /// only names that contain it, ignoring case.
    async fn participants(
        &self,
        event: &EventId,
        include_private: bool,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Participant>>;
    /// Registers or changes visibility. Emits `participant.registered` or
    /// `participant.visibility_changed` (nothing when unchanged).
    async fn register(
        &self,
        event: &Event,
        user: &User,
        visibility: Visibility,
        at: Timestamp,
    ) -> StoreResult<Registration>;
    /// The cancelled registration, if there was one. Emits `participant.cancelled`.
    async fn cancel(
        &self,
        event: &Event,
        user: &UserId,
        at: Timestamp,
    ) -> StoreResult<Option<Participant>>;
}

/// A response saved under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// First use: the caller runs the request, then saves or releases the key.
    Fresh,
    /// The same key is being used by a request that has not finished.
    InProgress,
    /// The key was used with another request.
    Mismatch,
    Replay(SavedResponse),
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// `stale_before`: an unfinished claim older than this is taken over (its request died).
    async fn claim_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        at: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<KeyClaim>;
    async fn save_response(
        &self,
        scope: &str,
        key: &str,
        response: &SavedResponse,
    ) -> StoreResult<()>;
    async fn release_key(&self, scope: &str, key: &str) -> StoreResult<()>;
    /// Forgets keys created before `before`; returns how many.
    async fn purge_keys(&self, before: Timestamp) -> StoreResult<u64>;
}

/// One message in the outbox, in commit order.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub seq: i64,
    pub id: String,
    pub event_type: MessageType,
    pub data: Value,
    pub occurred_at: Timestamp,
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    async fn outbox_after(&self, seq: i64, limit: u32) -> StoreResult<Vec<OutboxMessage>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

#[async_trait]
pub trait Admin: Send + Sync {
    /// Applies pending migrations (safe to run from several nodes at once on PostgreSQL).
    async fn migrate(&self) -> StoreResult<()>;
    /// A round trip to the database, for readiness.
    async fn ping(&self) -> StoreResult<()>;
    fn pool_stats(&self) -> PoolStats;
    fn backend(&self) -> &'static str;
    /// Writes a consistent copy of the database to a new file at `path` while the server goes
    /// on serving and writing; `false` where the database has its own tool (PostgreSQL's
    /// `pg_dump`).
    async fn backup_into(&self, path: &str) -> StoreResult<bool>;
    async fn close(&self);
    /// The keys secrets are sealed with from now on (webhook secrets, Dashboard link secrets).
    /// Until this is called, a random key of this process seals.
    fn use_keys(&self, keys: std::sync::Arc<crate::seal::Keyring>);
    /// Writes every stored secret that the current key does not seal (plain rows from before
    /// sealing, rows sealed under a previous key) sealed by it; returns how many.
    async fn reseal_secrets(&self) -> StoreResult<u64>;
    /// Tells the other nodes that work was queued (`from` names this node). Nothing where one
    /// node is all there is (SQLite).
    async fn nudge(&self, from: &str) -> StoreResult<()>;
    /// Starts hearing the nudges of every node; `None` where there are none to hear (SQLite).
    async fn nudges(&self) -> StoreResult<Option<Box<dyn Nudges>>>;
}

/// Nudges as they arrive, on a connection of their own (PostgreSQL's `LISTEN`).
#[async_trait]
pub trait Nudges: Send {
    /// The next nudge: the name of the node that sent it.
    async fn next(&mut self) -> StoreResult<String>;
}

/// Everything the server needs from a database; each backend declares it has it all.
pub trait Store:
    UserStore
    + TokenStore
    + EventStore
    + RosterStore
    + IdempotencyStore
    + OutboxStore
    + crate::WebhookStore
    + crate::DeliveryStore
    + crate::DeliveryWork
    + crate::WebfilterStore
    + crate::SyncStore
    + crate::JobStore
    + crate::DonationStore
    + crate::SourceStore
    + crate::ConferenceStore
    + crate::DeckStore
    + crate::NotificationStore
    + crate::MailStore
    + crate::WebSessionStore
    + crate::PersonStore
    + crate::OsdiStore
    + crate::RetentionStore
    + crate::ReminderStore
    + crate::DigestStore
    + crate::CalendarStore
    + Admin
{
}
