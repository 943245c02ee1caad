//! Test helpers: a fresh database per test, and the real server on a real socket.

mod app;
mod bbb;
mod db;
mod gate;
pub mod oauth;
pub mod osdi;
mod otlp;
mod receiver;
mod smtp;
mod tcp_gate;

pub use app::{Call, Reply, TestApp, http_client, spawn_app, spawn_app_with};
pub use bbb::{BbbCall, FakeBbb, FakeMeeting};
pub use db::{Backend, TestDb};
pub use gate::Gate;
pub use osdi::OsdiFake;
pub use otlp::{OtlpCollector, Span as ReceivedSpan};
pub use receiver::{Answer, Received, Receiver};
pub use reqwest::Method;
pub use smtp::{Received as ReceivedMail, SmtpSink};
pub use tcp_gate::TcpGate;
