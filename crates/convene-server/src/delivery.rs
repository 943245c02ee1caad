//! The delivery worker as the configuration describes it.

use crate::conferencing::{RecordingsHandler, RoomHandler, SlidesHandler};
use crate::config::Config;
use crate::event_sync::{PushHandler, SyncClients, dashboard_client};
use anyhow::Context;
use convene_conferencing::providers::Providers;
use convene_core::Clock;
use convene_core::job::JobKind;
use convene_delivery::http::{Outbound, Sender};
use convene_delivery::jobs::{JobRunner, JobSettings};
use convene_delivery::retry::RetryPolicy;
use convene_delivery::target::TargetPolicy;
use convene_delivery::worker::{Settings, Worker};
use convene_store::Store;
use std::sync::Arc;
use time::Duration;

fn seconds(s: u64) -> Duration {
    Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX))
}

pub fn target_policy(config: &Config) -> TargetPolicy {
    TargetPolicy {
        allow_private: config.allow_private_targets,
        allowed_hosts: config.delivery.allowed_hosts.clone(),
    }
}

fn retry_policy(config: &Config) -> RetryPolicy {
    let d = &config.delivery;
    RetryPolicy {
        schedule: d.retry_schedule_s.iter().copied().map(seconds).collect(),
        jitter: d.retry_jitter,
        max_retry_after: seconds(d.max_retry_after_s),
        penalty: 2,
    }
}

/// Connector jobs (Dashboard pushes) with their handlers.
pub fn job_runner(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    clients: &SyncClients,
    conferencing: &Arc<Providers>,
    mailer: &Arc<crate::notifications::mail::Mailer>,
) -> JobRunner {
    let retry = retry_policy(config);
    let mails = crate::notifications::mail::send::MailSendHandler {
        store: store.clone(),
        clock: clock.clone(),
        mailer: mailer.clone(),
        max_attempts: retry.max_attempts(),
    };
    let recordings = RecordingsHandler {
        store: store.clone(),
        clock: clock.clone(),
        providers: conferencing.clone(),
    };
    let rooms = RoomHandler {
        store: store.clone(),
        clock: clock.clone(),
        providers: conferencing.clone(),
        max_attempts: retry.max_attempts(),
    };
    let slides = SlidesHandler {
        store: store.clone(),
        clock: clock.clone(),
        providers: conferencing.clone(),
        window: crate::conferencing::window(config),
    };
    let push = PushHandler {
        store: store.clone(),
        clock: clock.clone(),
        client: clients.dashboard.clone(),
        mailer: mailer.clone(),
        max_attempts: retry.max_attempts(),
    };
    JobRunner::new(
        store,
        clock,
        JobSettings {
            batch: config.delivery.batch_size,
            lease: seconds(config.jobs.lease_s),
            retry,
            idle_poll: std::time::Duration::from_millis(config.delivery.idle_poll_ms),
        },
    )
    .handle(JobKind::DashboardPush, Arc::new(push))
    .handle(JobKind::ConferenceRoom, Arc::new(rooms))
    .handle(JobKind::ConferenceSlides, Arc::new(slides))
    .handle(JobKind::ConferenceRecordings, Arc::new(recordings))
    .handle(JobKind::MailSend, Arc::new(mails))
}

/// The clients of the Event Center ↔ Dashboard protocol.
pub fn sync_clients(config: &Config) -> anyhow::Result<SyncClients> {
    let timeout = std::time::Duration::from_secs(config.event_sync.timeout_s);
    convene_delivery::http::install_crypto();
    Ok(SyncClients {
        dashboard: dashboard_client(target_policy(config), timeout)
            .context("building the Dashboard client")?,
        accounts: Outbound::new(target_policy(config), timeout)
            .context("building the account check client")?,
    })
}

/// The `sourcehost` deliveries name: this node's host name.
pub fn source_host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "convene".to_owned())
}

pub fn worker(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Worker> {
    let d = &config.delivery;
    let sender = Sender::new(
        target_policy(config),
        std::time::Duration::from_secs(d.timeout_s),
        d.response_body_limit_bytes,
    )
    .context("building the outbound HTTP client")?;
    let settings = Settings {
        batch: d.batch_size,
        lease: seconds(d.lease_s),
        retry: retry_policy(config),
        disable_after: Duration::hours(i64::try_from(d.disable_after_hours).unwrap_or(i64::MAX)),
        source_host: source_host(),
        idle_poll: std::time::Duration::from_millis(d.idle_poll_ms),
        max_in_flight_per_endpoint: d.max_in_flight_per_endpoint,
        parallel_rounds: d.parallel_rounds,
        gather: std::time::Duration::from_millis(d.gather_ms),
    };
    Ok(Worker::new(store, clock, sender, settings))
}

/// Webfilter replies are read whole (up to 64 KiB) to be parsed; each filter has its timeout.
const FILTER_REPLY_LIMIT: usize = 64 * 1024;

pub fn filter_client(config: &Config) -> anyhow::Result<Sender> {
    Sender::new(
        target_policy(config),
        std::time::Duration::from_secs(30),
        FILTER_REPLY_LIMIT,
    )
    .context("building the webfilter HTTP client")
}
