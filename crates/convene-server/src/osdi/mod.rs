//! CRM sync over OSDI (Action Network): profiles, the engine that executes runs, and the loop
//! that schedules and claims them. The pure rules (canonical form, merge, paging, retries) are
//! in the `convene-osdi` crate.

pub mod cli;
pub mod engine;
pub mod realtime;
pub mod runner;
pub mod settings;

use crate::config::Config;
use anyhow::Context;
use convene_core::Clock;
use convene_store::Store;
use convene_store::seal::Keyring;
use std::sync::Arc;
use std::time::Duration;

pub fn engine(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Arc<Keyring>,
) -> anyhow::Result<engine::Engine> {
    let timeout = Duration::from_secs(config.osdi.request_timeout_s);
    Ok(engine::Engine {
        store,
        clock,
        throttle: Arc::default(),
        keys,
        lease: time::Duration::seconds(i64::try_from(config.osdi.lease_s).unwrap_or(120)),
        outbound: convene_delivery::http::Outbound::new(
            crate::delivery::target_policy(config),
            timeout,
        )
        .context("building the OSDI client")?,
    })
}

pub fn runner(config: &Config, engine: Arc<engine::Engine>) -> runner::Runner {
    runner::Runner {
        engine,
        poll: Duration::from_millis(config.osdi.poll_ms),
        max_parallel: config.osdi.max_parallel_runs.max(1) as usize,
        wake: Arc::new(tokio::sync::Notify::new()),
    }
}
