//! Storage of sessions, their rooms and slide decks, and the ordered queue of slide changes.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::conference::{
    NewSession, Recording, RoomRecord, Session, SessionPatch, SlideDeck,
};
use convene_core::event::Event;
use convene_core::page::{Page, PageRequest};
use convene_core::text::Title;
use convene_core::webhook::TargetUrl;
use convene_core::{DeckId, EventId, SessionId, Timestamp};

/// How the room job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomOutcome {
    Ready(RoomRecord),
    Failed(String),
    /// An attempt failed and will be retried: the status stays `pending`, with the error.
    Retrying(String),
    /// The old room is gone and a new one is still to be made (a move by delete + create).
    Cleared,
    /// The room is gone (or there never was one) and the session is deleted: forget both.
    Removed,
}

/// One slide change waiting to be sent, in the order made. The deck's data is read when it is
/// sent, as the provider must see the decks as they are then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlideOpKind {
    Add,
    Delete,
    Revise,
    /// The full list (a reorder); supersedes every change queued before it.
    Update,
}

impl SlideOpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SlideOpKind::Add => "add",
            SlideOpKind::Delete => "delete",
            SlideOpKind::Revise => "revise",
            SlideOpKind::Update => "update",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Add, Self::Delete, Self::Revise, Self::Update]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlideOp {
    pub seq: i64,
    pub kind: SlideOpKind,
    /// The deck's number (absent for `Update`).
    pub deck_number: Option<i64>,
}

/// A deck's new revision; absent fields stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeckRevision {
    pub title: Option<Title>,
    pub url: Option<TargetUrl>,
    pub rev: String,
}

#[async_trait]
pub trait ConferenceStore: Send + Sync {
    /// Numbers the session; with a provider its conference starts `pending` and a room job is
    /// queued. Emits `session.created`.
    async fn create_session(
        &self,
        event: &Event,
        new: NewSession,
        at: Timestamp,
    ) -> StoreResult<Session>;
    /// A live (not deleted) session.
    async fn session(&self, id: &SessionId) -> StoreResult<Option<Session>>;
    /// A session even while its deletion waits for the room to go; `true` when deleted.
    async fn session_for_room(&self, id: &SessionId) -> StoreResult<Option<(Session, bool)>>;
    /// By start time.
    async fn sessions(
        &self,
        event: &EventId,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Session>>;
    /// A new schedule of a session with a room sets it `pending` and queues the room job.
    /// Emits `session.updated`.
    async fn update_session(
        &self,
        id: &SessionId,
        patch: SessionPatch,
        at: Timestamp,
    ) -> StoreResult<Option<Session>>;
    /// A session with a room is kept (hidden) until the room job removed the room; one without
    /// goes at once, with its decks. Emits `session.deleted`.
    async fn delete_session(&self, id: &SessionId, at: Timestamp) -> StoreResult<bool>;
    /// Records the room job's outcome. Emits `conference.ready` or `conference.failed`.
    async fn record_room(
        &self,
        id: &SessionId,
        outcome: &RoomOutcome,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Keeps the recordings the provider reports (newest first), in place of those known.
    async fn record_recordings(&self, id: &SessionId, recordings: &[Recording]) -> StoreResult<()>;
}

/// A session's slide decks, in order. Each change queues a slide change (and the slides job)
/// and emits `slides.updated`.
#[async_trait]
pub trait DeckStore: Send + Sync {
    /// Appended last.
    async fn add_deck(
        &self,
        session: &Session,
        title: Title,
        url: TargetUrl,
        rev: String,
        at: Timestamp,
    ) -> StoreResult<SlideDeck>;
    /// In order.
    async fn decks(&self, session: &SessionId) -> StoreResult<Vec<SlideDeck>>;
    /// The decks of these sessions, each session's in order: one read for a page of sessions.
    async fn decks_of_sessions(&self, sessions: &[&str]) -> StoreResult<Vec<SlideDeck>>;
    async fn revise_deck(
        &self,
        session: &Session,
        deck: &DeckId,
        revision: DeckRevision,
        at: Timestamp,
    ) -> StoreResult<Option<SlideDeck>>;
    /// The later decks move up one place.
    async fn delete_deck(
        &self,
        session: &Session,
        deck: &DeckId,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// `order` must name every deck of the session exactly once; `None` otherwise.
    async fn reorder_decks(
        &self,
        session: &Session,
        order: &[DeckId],
        at: Timestamp,
    ) -> StoreResult<Option<Vec<SlideDeck>>>;
    /// The queued slide changes of a session, oldest first.
    async fn slide_ops(&self, session: &SessionId) -> StoreResult<Vec<SlideOp>>;
    /// Forgets the queued changes up to and including `seq` (sent, or judged out of window).
    async fn drop_slide_ops(&self, session: &SessionId, through: i64) -> StoreResult<()>;
}
