//! Meetecho's six endpoints, as the IETF datatracker's client calls them: `Accept:
//! application/json` on every request, `Authorization: bearer <token>` (lower case) when
//! authenticated, JSON bodies as Python writes them, only 200 and 202 count as success, and a
//! body that is not JSON is an error only when it says it is JSON. Unlike the datatracker, a
//! reply without the data a call needs is a typed error, and unknown fields are ignored.

use super::python_json;
use crate::wire::{format_time, minutes, parse_time};
use convene_core::Timestamp;
use convene_delivery::http::{Outbound, chain, refusal};
use convene_delivery::target::TargetPolicy;
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct MeetechoConfig {
    /// e.g. `https://meetings.conf.meetecho.com/api/v1/` (a missing final `/` is added).
    pub api_base: String,
    pub client_id: String,
    pub client_secret: String,
    /// The datatracker uses 3.01 s.
    pub timeout: std::time::Duration,
    /// How long a group token is used before a new one is asked for.
    pub token_ttl: std::time::Duration,
    /// Which addresses the API base may resolve to.
    pub policy: TargetPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeetechoError {
    /// No answer: connection refused, DNS, TLS.
    #[error("request to Meetecho failed: {0}")]
    Transport(String),
    /// No answer in time (the request's whole budget, `request_timeout_s`).
    #[error("Meetecho did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    /// The API base is an address the outbound policy refuses.
    #[error("request to Meetecho refused: {0}")]
    Refused(String),
    #[error("API request failed (HTTP status code = {status})")]
    Status { status: u16 },
    #[error("Error decoding response as JSON")]
    Decode,
    /// A success without the data the call returns (the datatracker would carry on with none).
    #[error("Meetecho's answer lacks {0}")]
    Unexpected(String),
}

impl MeetechoError {
    /// Worth trying again later.
    pub fn is_transient(&self) -> bool {
        match self {
            MeetechoError::Transport(_) | MeetechoError::TimedOut(_) => true,
            MeetechoError::Status { status } => *status == 429 || *status >= 500,
            MeetechoError::Decode | MeetechoError::Unexpected(_) | MeetechoError::Refused(_) => {
                false
            }
        }
    }
}

pub type MeetechoResult<T> = Result<T, MeetechoError>;

/// A room as Meetecho lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// The UUID key of the rooms map.
    pub public_id: String,
    /// The `room_id` sent at creation (Convene's session number).
    pub room_id: i64,
    pub description: String,
    pub start_time: Timestamp,
    pub duration_minutes: i64,
    pub url: String,
    /// The bearer token that deletes this room; never shown.
    pub deletion_token: String,
}

/// A slide deck as the materials endpoints take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deck {
    pub id: i64,
    pub title: String,
    pub url: String,
    pub rev: String,
    pub order: u32,
}

#[derive(Serialize)]
struct TokenRequest<'a> {
    client: &'a str,
    secret: &'a str,
    wgs: &'a [&'a str],
}

#[derive(Serialize)]
struct CreateRoom<'a> {
    room_id: i64,
    description: &'a str,
    start_time: String,
    duration: i64,
    extrainfo: &'a str,
}

#[derive(Serialize)]
struct AddDeck<'a> {
    session: &'a str,
    title: &'a str,
    id: i64,
    url: &'a str,
    rev: &'a str,
    order: u32,
}

#[derive(Serialize)]
struct DeleteDeck<'a> {
    session: &'a str,
    id: i64,
}

#[derive(Serialize)]
struct UpdateDecks<'a> {
    session: &'a str,
    decks: &'a [Deck],
}

#[derive(Clone)]
pub struct MeetechoApi {
    client: Outbound,
    base: url::Url,
    client_id: String,
    client_secret: String,
    timeout: std::time::Duration,
}

impl MeetechoApi {
    pub fn new(config: &MeetechoConfig) -> Result<Self, String> {
        convene_delivery::http::install_crypto();
        let mut base = config.api_base.trim().to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        let base = url::Url::parse(&base).map_err(|e| format!("api_base: {e}"))?;
        let client =
            Outbound::new(config.policy.clone(), config.timeout).map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            base,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            timeout: config.timeout,
        })
    }

    /// Why a request got no answer, in the words an operator reads on the session.
    fn failed(&self, e: &reqwest::Error) -> MeetechoError {
        if e.is_timeout() {
            return MeetechoError::TimedOut(self.timeout);
        }
        match refusal(e) {
            Some(refusal) => MeetechoError::Refused(refusal.to_string()),
            None => MeetechoError::Transport(chain(e)),
        }
    }

    /// The one request helper: `None` is a success whose body was not (and did not claim to
    /// be) JSON.
    async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> MeetechoResult<Option<Value>> {
        let url = self
            .base
            .join(path)
            .map_err(|e| MeetechoError::Transport(e.to_string()))?;
        let mut request = self
            .client
            .request(method, url.as_str())
            .map_err(|refusal| MeetechoError::Refused(refusal.to_string()))?
            .header("accept", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("bearer {token}"));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|e| self.failed(&e))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.bytes().await.map_err(|e| self.failed(&e))?;
        if status != 200 && status != 202 {
            return Err(MeetechoError::Status { status });
        }
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(Some(value)),
            Err(_) if content_type.starts_with("application/json") => Err(MeetechoError::Decode),
            Err(_) => Ok(None),
        }
    }

    /// `POST auth/ietfservice/tokens`: one token per group acronym.
    pub async fn retrieve_tokens(
        &self,
        groups: &[&str],
    ) -> MeetechoResult<BTreeMap<String, String>> {
        let body = python_json::to_vec(&TokenRequest {
            client: &self.client_id,
            secret: &self.client_secret,
            wgs: groups,
        });
        let reply = self
            .request(Method::POST, "auth/ietfservice/tokens", None, Some(body))
            .await?
            .ok_or_else(|| MeetechoError::Unexpected("a JSON body".into()))?;
        let tokens = reply
            .get("tokens")
            .and_then(Value::as_object)
            .ok_or_else(|| MeetechoError::Unexpected("a tokens object".into()))?;
        Ok(tokens
            .iter()
            .filter_map(|(group, token)| Some((group.clone(), token.as_str()?.to_owned())))
            .collect())
    }

    /// `POST meeting/interim/createRoom`.
    pub async fn create_room(
        &self,
        token: &str,
        room_id: i64,
        description: &str,
        start: Timestamp,
        duration: Duration,
        extrainfo: &str,
    ) -> MeetechoResult<Vec<Room>> {
        let body = python_json::to_vec(&CreateRoom {
            room_id,
            description,
            start_time: format_time(start),
            duration: minutes(duration),
            extrainfo,
        });
        let reply = self
            .request(
                Method::POST,
                "meeting/interim/createRoom",
                Some(token),
                Some(body),
            )
            .await?;
        rooms(reply)
    }

    /// `GET meeting/interim/fetchRooms`: the group's rooms.
    pub async fn fetch_rooms(&self, token: &str) -> MeetechoResult<Vec<Room>> {
        let reply = self
            .request(Method::GET, "meeting/interim/fetchRooms", Some(token), None)
            .await?;
        rooms(reply)
    }

    /// `POST meeting/interim/deleteRoom` with the room's deletion token and no body.
    pub async fn delete_room(&self, deletion_token: &str) -> MeetechoResult<()> {
        self.request(
            Method::POST,
            "meeting/interim/deleteRoom",
            Some(deletion_token),
            None,
        )
        .await
        .map(drop)
    }

    /// `POST materials`: one deck.
    pub async fn add_deck(&self, token: &str, session: &str, deck: &Deck) -> MeetechoResult<()> {
        let body = python_json::to_vec(&AddDeck {
            session,
            title: &deck.title,
            id: deck.id,
            url: &deck.url,
            rev: &deck.rev,
            order: deck.order,
        });
        self.request(Method::POST, "materials", Some(token), Some(body))
            .await
            .map(drop)
    }

    /// `DELETE materials` (with a JSON body): one deck.
    pub async fn delete_deck(&self, token: &str, session: &str, id: i64) -> MeetechoResult<()> {
        let body = python_json::to_vec(&DeleteDeck { session, id });
        self.request(Method::DELETE, "materials", Some(token), Some(body))
            .await
            .map(drop)
    }

    /// `PUT materials`: the session's whole deck list, in order.
    pub async fn update_decks(
        &self,
        token: &str,
        session: &str,
        decks: &[Deck],
    ) -> MeetechoResult<()> {
        let body = python_json::to_vec(&UpdateDecks { session, decks });
        self.request(Method::PUT, "materials", Some(token), Some(body))
            .await
            .map(drop)
    }
}

/// The rooms map, read leniently: unknown fields are ignored, a room missing what a room needs
/// is an error.
fn rooms(reply: Option<Value>) -> MeetechoResult<Vec<Room>> {
    let reply = reply.ok_or_else(|| MeetechoError::Unexpected("a JSON body".into()))?;
    let map = reply
        .get("rooms")
        .and_then(Value::as_object)
        .ok_or_else(|| MeetechoError::Unexpected("a rooms object".into()))?;
    map.iter()
        .map(|(public_id, entry)| {
            let missing =
                |what: &str| MeetechoError::Unexpected(format!("{what} of room {public_id}"));
            let room = entry.get("room").ok_or_else(|| missing("room"))?;
            Ok(Room {
                public_id: public_id.clone(),
                room_id: room["id"].as_i64().ok_or_else(|| missing("room.id"))?,
                description: room["description"].as_str().unwrap_or_default().to_owned(),
                start_time: room["start_time"]
                    .as_str()
                    .and_then(parse_time)
                    .ok_or_else(|| missing("room.start_time"))?,
                duration_minutes: room["duration"]
                    .as_i64()
                    .ok_or_else(|| missing("room.duration"))?,
                url: entry["url"]
                    .as_str()
                    .ok_or_else(|| missing("url"))?
                    .to_owned(),
                deletion_token: entry["deletion_token"]
                    .as_str()
                    .ok_or_else(|| missing("deletion_token"))?
                    .to_owned(),
            })
        })
        .collect()
}
