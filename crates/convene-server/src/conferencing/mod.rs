//! Conferencing as configured: the provider, and the two jobs that keep rooms and slide decks
//! at the provider in step with sessions (`room`, `slides`).

mod room;
mod slides;

pub use room::RoomHandler;
pub use slides::SlidesHandler;

use crate::config::Config;
use anyhow::Context;
use convene_conferencing::meetecho::{Meetecho, MeetechoConfig};
use convene_conferencing::provider::{
    ConferenceProvider, DebugProvider, MeetechoProvider, NoProvider, SessionSpec,
};
use convene_conferencing::window::NotifyWindow;
use convene_core::conference::Session;
use std::sync::Arc;
use std::time::Duration;

pub fn provider(config: &Config) -> anyhow::Result<Arc<dyn ConferenceProvider>> {
    let c = &config.conferencing;
    Ok(match c.provider.as_str() {
        "meetecho" => {
            let m = &c.meetecho;
            let client = Meetecho::new(&MeetechoConfig {
                api_base: m.api_base.clone(),
                client_id: m.client_id.clone(),
                client_secret: m
                    .client_secret
                    .as_ref()
                    .map(|s| s.expose().to_owned())
                    .unwrap_or_default(),
                timeout: Duration::from_secs_f64(m.request_timeout_s),
                token_ttl: Duration::from_secs(m.token_ttl_s),
                policy: crate::delivery::target_policy(config),
            })
            .map_err(anyhow::Error::msg)
            .context("building the Meetecho client")?;
            Arc::new(MeetechoProvider { client })
        }
        "debug" => Arc::new(DebugProvider::default()),
        _ => Arc::new(NoProvider),
    })
}

pub fn window(config: &Config) -> NotifyWindow {
    NotifyWindow::from_minutes(config.conferencing.meetecho.slides_notify_minutes.minutes())
}

/// What the provider is told about a session.
pub fn spec(session: &Session) -> SessionSpec {
    SessionSpec {
        number: session.number,
        group: session.group.as_str().to_owned(),
        title: session.title.as_str().to_owned(),
        starts_at: session.starts_at,
        duration: time::Duration::minutes(i64::from(session.duration_minutes)),
        extrainfo: session.extrainfo.clone(),
    }
}
