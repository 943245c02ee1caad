//! Test helpers: a fresh database per test, and the real server on a real socket.

mod app;
mod db;

pub use app::{TestApp, spawn_app, spawn_app_with};
pub use db::{Backend, TestDb};
