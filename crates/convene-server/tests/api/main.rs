//! The HTTP API driven over a real socket, on SQLite always and on PostgreSQL when
//! `CONVENE_TEST_POSTGRES_URL` is set. One binary, so the suite links once.

mod admin_console;
mod admin_ui;
mod backlog;
mod calendars;
mod conferencing;
mod conventions;
mod crm;
mod crm_live;
mod dashboard_link;
mod digests;
mod event_sync;
mod events;
mod hardening;
mod mail;
mod notifications;
mod openapi;
mod ordering;
mod osdi;
mod people;
mod permissions;
mod reminders;
mod retention;
mod rooms;
mod roster;
mod scoped_webhooks;
mod scopes;
mod sign_in;
mod sources;
mod stream;
mod support;
mod tokens;
mod upgrade;
mod users;
mod webfilters;
mod webhooks;
