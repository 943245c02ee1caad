//! Each worker node's loop: queues the runs that profiles' schedules make due, claims queued
//! runs (and runs whose node died) under a lease, and executes up to `max_parallel_runs` at
//! once. The database keeps one run per profile queued or running, whichever node asks.

use super::engine::{Ended, Engine, Quiet};
use super::settings::ProfileSettings;
use convene_store::{Conflict, StoreError, StoreResult};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub struct Runner {
    pub engine: Arc<Engine>,
    pub poll: Duration,
    pub max_parallel: usize,
    pub wake: Arc<Notify>,
}

impl Runner {
    /// Queues a run for every profile whose schedule is due; returns how many.
    pub async fn queue_due(&self) -> StoreResult<usize> {
        let store = &self.engine.store;
        let now = self.engine.clock.now();
        let mut queued = 0;
        for profile in store.list_profiles().await? {
            for schedule in ProfileSettings::from_stored(&profile.settings).all_schedules() {
                let (job, origin) = (schedule.job.as_str(), schedule.origin.as_str());
                let every = time::Duration::minutes(i64::from(schedule.every_minutes));
                let due = match store.last_run_at(&profile.id, job, origin).await? {
                    Some(last) => last + every <= now,
                    None => true,
                };
                if !due {
                    continue;
                }
                // One run per profile at a time: a second due schedule waits for the next poll.
                match store.enqueue_run(&profile.id, job, origin, now).await {
                    Ok(_) => queued += 1,
                    Err(StoreError::Conflict(Conflict::RunActive)) => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(queued)
    }

    async fn claim(&self) -> StoreResult<Option<convene_store::Run>> {
        let now = self.engine.clock.now();
        self.engine
            .store
            .claim_run(now, now + self.engine.lease, None)
            .await
    }

    /// Queues due runs, then executes every run there is to claim, one after another; how
    /// each ended. (Tests drive the runner this way.)
    pub async fn run_once(&self) -> StoreResult<Vec<(String, Ended)>> {
        self.queue_due().await?;
        let mut ended = Vec::new();
        while let Some(run) = self.claim().await? {
            let id = run.id.clone();
            ended.push((id, self.engine.execute(run, &Quiet).await?));
        }
        Ok(ended)
    }

    pub async fn run(&self, shutdown: CancellationToken) {
        let mut running = JoinSet::new();
        while !shutdown.is_cancelled() {
            if let Err(e) = self.queue_due().await {
                tracing::warn!(error = %e, "queuing scheduled OSDI runs failed");
            }
            while running.len() < self.max_parallel {
                match self.claim().await {
                    Ok(Some(run)) => {
                        let engine = self.engine.clone();
                        running.spawn(async move {
                            let id = run.id.clone();
                            match engine.execute(run, &Quiet).await {
                                Ok(Ended::Completed) => tracing::info!(run = %id, "OSDI run completed"),
                                Ok(Ended::Aborted(why)) => tracing::warn!(run = %id, %why, "OSDI run aborted"),
                                Ok(Ended::LeaseLost) => tracing::warn!(run = %id, "OSDI run taken over by another node"),
                                Err(e) => tracing::warn!(run = %id, error = %e, "OSDI run stopped on a database error; it resumes after its lease"),
                            }
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming an OSDI run failed");
                        break;
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(self.poll) => {}
                () = self.wake.notified() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                () = shutdown.cancelled() => {}
            }
        }
        // Runs in flight stop here; their leases run out and they resume at their last page.
        running.abort_all();
    }
}
