//! Every statement both stores run alike, written once. `sqlite/mod.rs` and `postgres/mod.rs`
//! each include this folder as their `shared` module, after defining what it names: `Backend`
//! (the store, with its `reads()`, `writes()` and `pools()`), `Db`, `dialect`, and `claims`, the
//! one piece each backend writes its own way. What differs between the databases is spelled by
//! `dialect`, never here.

pub(super) use super::{Backend, Db, claims, dialect};
pub(super) use outbox::{OutboxRow, emit, emit_all, outbox_messages};

mod admin;
mod calendars;
mod conference;
mod connectors;
mod decks;
pub(super) mod deliveries;
mod digests;
mod donations;
mod events;
mod idempotency;
mod jobs;
pub(super) mod lanes;
mod mails;
mod merge;
mod notifications;
mod osdi;
mod outbox;
mod people;
mod reminders;
mod retention;
mod roster;
mod roster_sync;
mod secrets;
mod sources;
mod sync;
mod tokens;
mod users;
mod web;
mod webfilters;
mod webhooks;

impl convene_store::Store for Backend {}
