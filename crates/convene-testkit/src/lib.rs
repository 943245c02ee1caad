//! Test helpers: a fresh database per test, and the real server on a real socket.

mod app;
mod db;

pub use app::{Call, Reply, TestApp, spawn_app, spawn_app_with};
pub use db::{Backend, TestDb};
pub use reqwest::Method;
