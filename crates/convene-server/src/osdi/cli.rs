//! `convene osdi sync PROFILE`: queues a run and executes it in this process with a progress
//! bar (rate and, when the server gives totals, ETA), or follows it when a server node claimed
//! it first; then prints a summary table.

use super::engine::{Ended, Watch};
use super::settings::{Job, Origin};
use crate::config::Config;
use anyhow::{Context, bail};
use convene_core::{Clock, SystemClock};
use convene_store::{Conflict, Run, StoreError};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use std::time::Duration;

struct Bar(ProgressBar);

impl Watch for Bar {
    fn visited(&self, visited: u64, total: Option<u64>) {
        if let Some(total) = total.filter(|t| *t >= visited)
            && self.0.length() != Some(total)
        {
            self.0.set_length(total);
            self.0.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} pairs  {per_sec}  ETA {eta}  {msg}",
                )
                .expect("a valid template"),
            );
        }
        self.0.set_position(visited);
    }
}

fn bar() -> Bar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} pairs  {per_sec}  {elapsed}  {msg}")
            .expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    Bar(bar)
}

pub async fn sync(
    config: &Config,
    profile: &str,
    job: &str,
    origin: &str,
) -> anyhow::Result<String> {
    let job =
        Job::parse_requested(job).with_context(|| format!("--job must be {}", Job::REQUESTABLE))?;
    let origin = Origin::parse(origin).context("--origin must be remote, local or both")?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (store, keys) = crate::startup::migrate_keyed(config, clock.now()).await?;
    let engine = super::engine(config, store.clone(), clock.clone(), keys)?;
    let profile = store
        .profile(profile)
        .await?
        .with_context(|| format!("there is no sync profile {profile}"))?;
    let queued = match store
        .enqueue_run(&profile.id, job.as_str(), origin.as_str(), clock.now())
        .await
    {
        Err(StoreError::Conflict(Conflict::RunActive)) => {
            let active = store
                .active_run(&profile.id)
                .await?
                .map(|r| r.id)
                .unwrap_or_default();
            bail!(
                "profile {} already has run {active} queued or running",
                profile.name
            )
        }
        other => other.context("queuing the run")?,
    };
    let bar = bar();
    bar.0.set_message(format!(
        "{} {} (run {})",
        job.as_str(),
        origin.as_str(),
        queued.id
    ));
    let now = clock.now();
    let claimed = store
        .claim_run(now, now + engine.lease, Some(&queued.id))
        .await?;
    match claimed {
        Some(run) => {
            if let Ended::LeaseLost = engine.execute(run, &bar).await? {
                bar.0
                    .println("another node took the run over; following it");
            }
        }
        None => bar
            .0
            .println("a server node is executing the run; following it"),
    }
    let run = follow(store.as_ref(), &queued.id, &bar).await?;
    bar.0.finish_and_clear();
    store.close().await;
    Ok(summary(&run))
}

async fn follow(store: &dyn convene_store::Store, id: &str, bar: &Bar) -> anyhow::Result<Run> {
    loop {
        let run = store.run(id).await?.context("the run disappeared")?;
        let visited: u64 = run
            .counts
            .as_object()
            .map(|c| {
                c.iter()
                    .filter(|(k, _)| *k != "errors")
                    .filter_map(|(_, v)| v.as_u64())
                    .sum()
            })
            .unwrap_or(0);
        bar.visited(visited, None);
        if run.state == "completed" || run.state == "aborted" {
            return Ok(run);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The run's end as a table of outcomes.
pub fn summary(run: &Run) -> String {
    let mut out = format!(
        "run {}  {} {}  {}\n",
        run.id, run.job, run.origin, run.state
    );
    if let Some(error) = &run.error {
        out.push_str(&format!("error: {error}\n"));
    }
    let counts = run.counts.as_object().cloned().unwrap_or_default();
    let width = counts.keys().map(String::len).max().unwrap_or(7).max(7);
    out.push_str(&format!("{:<width$}  {:>8}\n", "outcome", "pairs"));
    for (outcome, n) in &counts {
        out.push_str(&format!(
            "{outcome:<width$}  {:>8}\n",
            n.as_u64().unwrap_or(0)
        ));
    }
    out
}
