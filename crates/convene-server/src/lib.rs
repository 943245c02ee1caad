//! Convene's server: configuration, the HTTP API, and the process lifecycle.
//!
//! `convene_server::run(config, role, listener, shutdown)` is all the binary calls to serve.

pub mod admin;
pub mod api;
pub mod app;
mod auth;
mod calendar;
mod catalogue;
pub mod commands;
pub mod conferencing;
pub mod config;
mod connections;
pub mod delivery;
pub mod error;
pub mod event_sync;
mod extract;
mod health;
mod idempotency;
pub mod intake;
pub mod metrics;
pub mod notifications;
mod nudges;
mod openapi;
mod openapi_outer;
pub mod osdi;
pub mod reminders;
pub mod retention;
mod scopes;
mod screening;
pub mod secrets;
pub mod sources;
pub mod startup;
pub mod state;
pub mod telemetry;
mod timed_pass;
mod traced;

pub use config::Config;
pub use startup::{Node, Role, run, shutdown_on_signals};
