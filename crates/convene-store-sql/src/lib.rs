//! Convene's storage on SQLite (the embedded default) and PostgreSQL (the scale-out backend).
//!
//! Each statement is written once, in `shared/`, and compiled twice: `sqlite/mod.rs` and
//! `postgres/mod.rs` each include the shared modules with `#[path]`, after defining what the
//! shared code names (`Backend`, `Conn`, and the `dialect` module). Differences between the two
//! databases live in the two `dialect.rs` files and in the few modules a backend keeps for itself
//! (claims and fan-out, where the algorithms differ), and nowhere else.

mod binds;
mod notification_sql;
pub mod postgres;
pub mod sqlite;
mod violation;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
