//! One abstraction over conferencing services: provision a room for a session, move it, remove
//! it, list a group's rooms, push slide decks. A provider-neutral `RoomHandle` is stored per
//! session, so removing a room never depends on matching join URLs.

use crate::meetecho::{Deck, Meetecho, MeetechoError};
use async_trait::async_trait;
use convene_core::Timestamp;
use serde_json::{Value, json};
use std::sync::Mutex;
use time::Duration;

/// What a room is provisioned for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpec {
    /// Convene's id of the session (join links name it).
    pub id: String,
    /// Positive, unique per deployment: Meetecho's `room_id` and the slides' `session`.
    pub number: i64,
    pub group: String,
    pub title: String,
    pub starts_at: Timestamp,
    pub duration: Duration,
    pub extrainfo: String,
}

pub use convene_core::conference::{Recording, RoomHandle};

/// The person a join URL is made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joiner {
    /// Shown in the room; empty for a guest.
    pub name: String,
    /// Convene's user id; empty for a guest.
    pub user_id: String,
    /// Organizers moderate.
    pub moderator: bool,
    /// When the session ends: a token in the URL works until some hours later.
    pub until: Timestamp,
}

/// A join link of Convene's own, as it comes back (`/conference/{session}/join?…`): the
/// provider checks its signature before it lets anyone in.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct JoinPass {
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub sig: String,
}

/// A room as a provider lists it (no secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRoom {
    pub public_id: String,
    pub room_id: i64,
    pub description: String,
    pub start_time: Timestamp,
    pub duration_minutes: i64,
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Moves a room in place; without it a reschedule is delete + create.
    pub reschedule_in_place: bool,
    pub slides: bool,
    pub list: bool,
    pub per_user_join: bool,
    /// Reports recordings of its rooms.
    pub recordings: bool,
}

/// One change to a session's slide decks, as the datatracker's SlidesManager sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlideChange {
    Add(Deck),
    /// The deck is gone; the remaining ones are sent in full to repair the order.
    Delete {
        id: i64,
        remaining: Vec<Deck>,
    },
    /// A new revision: delete, then add at the same order.
    Revise(Deck),
    /// The full list, in order (a reorder).
    Update(Vec<Deck>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("the {provider} provider cannot {what}")]
    Unsupported {
        provider: &'static str,
        what: &'static str,
    },
    #[error("{message}")]
    Remote { transient: bool, message: String },
    /// A join link that was not made for this room (or was altered).
    #[error("this join link is not valid for this room")]
    BadLink,
}

impl ProviderError {
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ProviderError::Remote {
                transient: true,
                ..
            }
        )
    }
}

impl From<MeetechoError> for ProviderError {
    fn from(e: MeetechoError) -> Self {
        ProviderError::Remote {
            transient: e.is_transient(),
            message: e.to_string(),
        }
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

#[async_trait]
pub trait ConferenceProvider: Send + Sync {
    fn name(&self) -> &'static str;
    fn capabilities(&self) -> Capabilities;
    async fn provision(&self, session: &SessionSpec) -> ProviderResult<RoomHandle>;
    async fn deprovision(&self, room: &RoomHandle) -> ProviderResult<()>;
    /// Moves the room to the session's new time; the default removes it and provisions anew.
    async fn reschedule(
        &self,
        room: &RoomHandle,
        session: &SessionSpec,
    ) -> ProviderResult<RoomHandle> {
        self.deprovision(room).await?;
        self.provision(session).await
    }
    async fn list(&self, group: &str) -> ProviderResult<Vec<ListedRoom>>;
    /// The URL `who` joins by (the room's one URL unless `per_user_join`).
    fn join_url(&self, room: &RoomHandle, who: &Joiner) -> String {
        let _ = who;
        room.join_url.clone()
    }
    /// For rooms that exist only while used: checks a join link of Convene's, starts the
    /// meeting (or finds it running) and answers where to send the person.
    async fn admit(
        &self,
        room: &RoomHandle,
        session: &SessionSpec,
        pass: &JoinPass,
    ) -> ProviderResult<String> {
        let _ = (room, session, pass);
        Err(ProviderError::Unsupported {
            provider: self.name(),
            what: "admit through Convene",
        })
    }
    /// The room's recordings, newest first.
    async fn recordings(&self, room: &RoomHandle) -> ProviderResult<Vec<Recording>> {
        let _ = room;
        Err(ProviderError::Unsupported {
            provider: self.name(),
            what: "list recordings",
        })
    }
    async fn push_slides(&self, session: &SessionSpec, change: &SlideChange) -> ProviderResult<()>;
}

pub struct MeetechoProvider {
    pub client: Meetecho,
}

#[async_trait]
impl ConferenceProvider for MeetechoProvider {
    fn name(&self) -> &'static str {
        "meetecho"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            reschedule_in_place: false,
            slides: true,
            list: true,
            per_user_join: false,
            recordings: false,
        }
    }

    async fn provision(&self, session: &SessionSpec) -> ProviderResult<RoomHandle> {
        let rooms = self
            .client
            .create_room(
                &session.group,
                session.number,
                &session.title,
                session.starts_at,
                session.duration,
                &session.extrainfo,
            )
            .await?;
        let [room] = rooms.as_slice() else {
            return Err(ProviderError::Remote {
                transient: false,
                message: format!("Meetecho created {} rooms instead of one", rooms.len()),
            });
        };
        Ok(RoomHandle {
            provider: self.name().to_owned(),
            remote_id: room.public_id.clone(),
            join_url: room.url.clone(),
            secret_handle: Some(room.deletion_token.clone()),
            data: json!({
                "room_id": room.room_id, "group": session.group,
                "start_time": crate::wire::format_time(room.start_time),
                "duration": room.duration_minutes,
            }),
        })
    }

    async fn deprovision(&self, room: &RoomHandle) -> ProviderResult<()> {
        let token = room.secret_handle.as_deref().ok_or(ProviderError::Remote {
            transient: false,
            message: "the room has no deletion token".into(),
        })?;
        Ok(self.client.delete_room(token).await?)
    }

    async fn list(&self, group: &str) -> ProviderResult<Vec<ListedRoom>> {
        Ok(self
            .client
            .fetch_rooms(group)
            .await?
            .into_iter()
            .map(|r| ListedRoom {
                public_id: r.public_id,
                room_id: r.room_id,
                description: r.description,
                start_time: r.start_time,
                duration_minutes: r.duration_minutes,
                url: r.url,
            })
            .collect())
    }

    async fn push_slides(&self, session: &SessionSpec, change: &SlideChange) -> ProviderResult<()> {
        let (group, number) = (&session.group, session.number.to_string());
        match change {
            SlideChange::Add(deck) => self.client.add_deck(group, &number, deck).await?,
            SlideChange::Delete { id, remaining } => {
                self.client.delete_deck(group, &number, *id).await?;
                if !remaining.is_empty() {
                    self.client.update_decks(group, &number, remaining).await?;
                }
            }
            SlideChange::Revise(deck) => {
                self.client.delete_deck(group, &number, deck.id).await?;
                self.client.add_deck(group, &number, deck).await?;
            }
            SlideChange::Update(decks) => self.client.update_decks(group, &number, decks).await?,
        }
        Ok(())
    }
}

/// Calls nothing; records what it would have done (demos, tests): the latest
/// [`DebugProvider::KEPT`] calls, and each one in the log.
#[derive(Default)]
pub struct DebugProvider {
    calls: Mutex<Vec<Value>>,
}

impl DebugProvider {
    pub const KEPT: usize = 1000;

    /// What it was asked to do, oldest first.
    pub fn calls(&self) -> Vec<Value> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, call: Value) {
        tracing::info!(%call, "debug conferencing provider");
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(call);
    }
}

fn deck_json(d: &Deck) -> Value {
    json!({"id": d.id, "title": d.title, "url": d.url, "rev": d.rev, "order": d.order})
}

#[async_trait]
impl ConferenceProvider for DebugProvider {
    fn name(&self) -> &'static str {
        "debug"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            reschedule_in_place: false,
            slides: true,
            list: false,
            per_user_join: false,
            recordings: false,
        }
    }

    async fn provision(&self, session: &SessionSpec) -> ProviderResult<RoomHandle> {
        self.record(
            json!({"op": "provision", "room_id": session.number, "group": session.group,
            "description": session.title, "start_time": crate::wire::format_time(session.starts_at),
            "duration": crate::wire::minutes(session.duration), "extrainfo": session.extrainfo}),
        );
        Ok(RoomHandle {
            provider: self.name().to_owned(),
            remote_id: format!("debug-{}", session.number),
            join_url: format!("https://conference.invalid/debug/{}", session.number),
            secret_handle: None,
            data: json!({"room_id": session.number, "group": session.group}),
        })
    }

    async fn deprovision(&self, room: &RoomHandle) -> ProviderResult<()> {
        self.record(json!({"op": "deprovision", "remote_id": room.remote_id}));
        Ok(())
    }

    async fn list(&self, _group: &str) -> ProviderResult<Vec<ListedRoom>> {
        Err(ProviderError::Unsupported {
            provider: "debug",
            what: "list rooms",
        })
    }

    async fn push_slides(&self, session: &SessionSpec, change: &SlideChange) -> ProviderResult<()> {
        let detail = match change {
            SlideChange::Add(d) => json!({"op": "add", "deck": deck_json(d)}),
            SlideChange::Delete { id, remaining } => json!({"op": "delete", "id": id,
                "remaining": remaining.iter().map(deck_json).collect::<Vec<_>>()}),
            SlideChange::Revise(d) => json!({"op": "revise", "deck": deck_json(d)}),
            SlideChange::Update(decks) => json!({"op": "update",
                "decks": decks.iter().map(deck_json).collect::<Vec<_>>()}),
        };
        self.record(
            json!({"op": "slides", "session": session.number.to_string(), "change": detail}),
        );
        Ok(())
    }
}

/// No conferencing: sessions have no rooms.
pub struct NoProvider;

#[async_trait]
impl ConferenceProvider for NoProvider {
    fn name(&self) -> &'static str {
        "none"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    async fn provision(&self, _: &SessionSpec) -> ProviderResult<RoomHandle> {
        Err(ProviderError::Unsupported {
            provider: "none",
            what: "provision rooms",
        })
    }

    async fn deprovision(&self, _: &RoomHandle) -> ProviderResult<()> {
        Ok(())
    }

    async fn list(&self, _: &str) -> ProviderResult<Vec<ListedRoom>> {
        Err(ProviderError::Unsupported {
            provider: "none",
            what: "list rooms",
        })
    }

    async fn push_slides(&self, _: &SessionSpec, _: &SlideChange) -> ProviderResult<()> {
        Ok(())
    }
}
