//! The Meetecho client: the six endpoints (`api`) and per-group tokens kept for a while,
//! evicted and fetched again once when Meetecho answers 401.

mod api;
mod python_json;

pub use api::{Deck, MeetechoApi, MeetechoConfig, MeetechoError, MeetechoResult, Room};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Group tokens with a time to live. The datatracker keeps them for one web request; a server
/// that runs for months needs them to expire.
struct TokenCache {
    ttl: Duration,
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl TokenCache {
    fn get(&self, group: &str) -> Option<String> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(group)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(token, _)| token.clone())
    }

    fn put(&self, group: &str, token: &str) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.insert(group.to_owned(), (token.to_owned(), Instant::now()));
    }

    /// Forgets `token` unless another caller has already replaced it.
    fn evict(&self, group: &str, token: &str) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.get(group).is_some_and(|(t, _)| t == token) {
            tokens.remove(group);
        }
    }
}

/// Meetecho by group: each call takes the group's token, from the cache or freshly asked for.
pub struct Meetecho {
    api: MeetechoApi,
    tokens: TokenCache,
    /// One lock per group, held while its token is fetched, so callers that miss the cache
    /// together wait for one fetch instead of each making their own.
    fetching: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Meetecho {
    pub fn new(config: &MeetechoConfig) -> Result<Self, String> {
        Ok(Self {
            api: MeetechoApi::new(config)?,
            tokens: TokenCache {
                ttl: config.token_ttl,
                tokens: Mutex::default(),
            },
            fetching: Mutex::default(),
        })
    }

    async fn token(&self, group: &str) -> MeetechoResult<String> {
        if let Some(token) = self.tokens.get(group) {
            return Ok(token);
        }
        let lock = {
            let mut fetching = self.fetching.lock().unwrap_or_else(|e| e.into_inner());
            fetching.entry(group.to_owned()).or_default().clone()
        };
        let _fetch = lock.lock().await;
        if let Some(token) = self.tokens.get(group) {
            return Ok(token);
        }
        let tokens = self.api.retrieve_tokens(&[group]).await?;
        let token = tokens
            .get(group)
            .ok_or_else(|| MeetechoError::Unexpected(format!("a token for group {group}")))?;
        self.tokens.put(group, token);
        Ok(token.clone())
    }

    /// Runs `call` with the group's token; on 401 the token is dropped and the call made once
    /// more with a new one.
    async fn with_token<T, F, Fut>(&self, group: &str, call: F) -> MeetechoResult<T>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = MeetechoResult<T>>,
    {
        let token = self.token(group).await?;
        match call(token.clone()).await {
            Err(MeetechoError::Status { status: 401 }) => {
                self.tokens.evict(group, &token);
                call(self.token(group).await?).await
            }
            other => other,
        }
    }

    pub async fn create_room(
        &self,
        group: &str,
        room_id: i64,
        description: &str,
        start: convene_core::Timestamp,
        duration: time::Duration,
        extrainfo: &str,
    ) -> MeetechoResult<Vec<Room>> {
        self.with_token(group, |t| async move {
            self.api
                .create_room(&t, room_id, description, start, duration, extrainfo)
                .await
        })
        .await
    }

    pub async fn fetch_rooms(&self, group: &str) -> MeetechoResult<Vec<Room>> {
        self.with_token(group, |t| async move { self.api.fetch_rooms(&t).await })
            .await
    }

    /// Deletion needs no group token: the room's own deletion token is the credential.
    pub async fn delete_room(&self, deletion_token: &str) -> MeetechoResult<()> {
        self.api.delete_room(deletion_token).await
    }

    pub async fn add_deck(&self, group: &str, session: &str, deck: &Deck) -> MeetechoResult<()> {
        self.with_token(group, |t| async move {
            self.api.add_deck(&t, session, deck).await
        })
        .await
    }

    pub async fn delete_deck(&self, group: &str, session: &str, id: i64) -> MeetechoResult<()> {
        self.with_token(group, |t| async move {
            self.api.delete_deck(&t, session, id).await
        })
        .await
    }

    pub async fn update_decks(
        &self,
        group: &str,
        session: &str,
        decks: &[Deck],
    ) -> MeetechoResult<()> {
        self.with_token(group, |t| async move {
            self.api.update_decks(&t, session, decks).await
        })
        .await
    }
}
