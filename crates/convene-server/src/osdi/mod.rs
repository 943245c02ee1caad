//! CRM sync over OSDI (Action Network): profiles, the engine that executes runs, and the loop
//! that schedules and claims them. The pure rules (canonical form, merge, paging, retries) are
//! in the `convene-osdi` crate.

pub mod cli;
pub mod engine;
pub mod runner;
pub mod seal;
pub mod settings;

use crate::config::Config;
use anyhow::Context;
use convene_core::Clock;
use convene_delivery::limits::RateLimits;
use convene_store::Store;
use seal::Sealer;
use std::sync::Arc;
use std::time::Duration;

/// The key that seals API tokens: configured, or generated once and kept in the database so
/// every node and every restart agrees on it.
pub async fn sealer(
    config: &Config,
    store: &dyn Store,
    now: convene_core::Timestamp,
) -> anyhow::Result<Sealer> {
    if let Some(key) = config
        .osdi
        .secret_key
        .as_ref()
        .filter(|k| !k.expose().is_empty())
    {
        return Ok(Sealer::new(key.expose().as_bytes()));
    }
    let fresh = serde_json::Value::from(Sealer::generate_secret());
    let stored = store
        .setting_or_insert("osdi_secret_key", &fresh, now)
        .await
        .context("reading the OSDI token key")?;
    let key = stored
        .as_str()
        .context("the stored OSDI token key is not a string")?;
    Ok(Sealer::new(key.as_bytes()))
}

pub fn engine(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sealer: Arc<Sealer>,
) -> anyhow::Result<engine::Engine> {
    let timeout = Duration::from_secs(config.osdi.request_timeout_s);
    Ok(engine::Engine {
        store,
        clock,
        limits: Arc::new(RateLimits::default()),
        sealer,
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
