//! Conferencing as configured: the providers, the jobs that keep rooms and slide decks at the
//! provider in step with sessions (`room`, `slides`) and that fetch recordings (`recordings`),
//! and the join link of providers whose meetings start when someone arrives (`join`).

mod join;
mod recordings;
mod room;
mod slides;

pub use join::router as join_router;
pub use recordings::RecordingsHandler;
pub use room::RoomHandler;
pub use slides::SlidesHandler;

use crate::config::Config;
use anyhow::Context;
use convene_conferencing::bbb::{BbbConfig, BigBlueButton, Checksum};
use convene_conferencing::jitsi::{Jitsi, JitsiConfig};
use convene_conferencing::meetecho::{Meetecho, MeetechoConfig};
use convene_conferencing::provider::{
    ConferenceProvider, DebugProvider, MeetechoProvider, NoProvider, SessionSpec,
};
use convene_conferencing::providers::Providers;
use convene_conferencing::window::NotifyWindow;
use convene_core::conference::Session;
use std::sync::Arc;
use std::time::Duration;

/// Every provider the configuration fills in, with its default.
pub fn providers(config: &Config) -> anyhow::Result<Arc<Providers>> {
    let c = &config.conferencing;
    let mut built: Vec<Arc<dyn ConferenceProvider>> = Vec::new();
    // Validation has made sure the default provider has its settings.
    if c.meetecho.configured() {
        built.push(meetecho(config)?);
    }
    if c.bigbluebutton.configured() {
        built.push(bigbluebutton(config)?);
    }
    if c.jitsi.configured() {
        let j = &c.jitsi;
        let jitsi = Jitsi::new(&JitsiConfig {
            domain: j.domain.clone(),
            app_id: j.app_id.clone().filter(|s| !s.is_empty()),
            app_secret: j.app_secret.as_ref().map(|s| s.expose().to_owned()),
        })
        .map_err(anyhow::Error::msg)
        .context("conferencing.jitsi")?;
        built.push(Arc::new(jitsi));
    }
    let default: Arc<dyn ConferenceProvider> = match c.provider.as_str() {
        "debug" => Arc::new(DebugProvider::default()),
        "none" => Arc::new(NoProvider),
        name => built
            .iter()
            .find(|p| p.name() == name)
            .cloned()
            .with_context(|| format!("conferencing.provider {name} has no settings"))?,
    };
    Ok(Arc::new(Providers::new(default, built)))
}

fn meetecho(config: &Config) -> anyhow::Result<Arc<dyn ConferenceProvider>> {
    let m = &config.conferencing.meetecho;
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
    Ok(Arc::new(MeetechoProvider { client }))
}

fn bigbluebutton(config: &Config) -> anyhow::Result<Arc<dyn ConferenceProvider>> {
    let b = &config.conferencing.bigbluebutton;
    let api = BbbConfig {
        url: b.url.clone(),
        secret: b
            .secret
            .as_ref()
            .map(|s| s.expose().to_owned())
            .unwrap_or_default(),
        checksum: Checksum::parse(&b.checksum).context("conferencing.bigbluebutton.checksum")?,
        timeout: Duration::from_secs_f64(b.request_timeout_s),
        policy: crate::delivery::target_policy(config),
    };
    let bbb = BigBlueButton::new(&api, &config.public_url())
        .map_err(anyhow::Error::msg)
        .context("building the BigBlueButton client")?;
    Ok(Arc::new(bbb))
}

pub fn window(config: &Config) -> NotifyWindow {
    NotifyWindow::from_minutes(config.conferencing.meetecho.slides_notify_minutes.minutes())
}

/// What the provider is told about a session.
pub fn spec(session: &Session) -> SessionSpec {
    SessionSpec {
        id: session.id.to_string(),
        number: session.number,
        group: session.group.as_str().to_owned(),
        title: session.title.as_str().to_owned(),
        starts_at: session.starts_at,
        duration: time::Duration::minutes(i64::from(session.duration_minutes)),
        extrainfo: session.extrainfo.clone(),
    }
}
