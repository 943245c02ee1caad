//! The runner of connector jobs: claims due jobs with a lease, hands each to the handler of its
//! kind, and records how it ended with the delivery retry policy deciding when to try again.

use crate::outcome::Outcome;
use crate::retry::{Next, RetryPolicy};
use async_trait::async_trait;
use convene_core::Clock;
use convene_core::job::JobKind;
use convene_store::{Job, JobEnd, JobStore, StoreResult};
use futures_util::future::join_all;
use std::collections::HashMap;
use std::sync::Arc;
use time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How one run of a job went, as its handler saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    Done,
    /// Nothing to send: the peer was not asked (the subject is gone, or needs nothing), so the
    /// run says nothing about the connector's health.
    Skipped,
    /// Worth trying again later; the outcome decides how much later.
    Retry {
        outcome: Outcome,
        error: String,
    },
    /// Trying again would not help (the peer refused for good).
    Failed(String),
    /// Nothing to do yet; run again at this time.
    Later(convene_core::Timestamp),
}

#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, job: &Job) -> StoreResult<JobResult>;
}

pub struct JobSettings {
    pub batch: u32,
    pub lease: Duration,
    pub retry: RetryPolicy,
    pub idle_poll: std::time::Duration,
}

pub struct JobRunner {
    store: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    handlers: HashMap<JobKind, Arc<dyn JobHandler>>,
    settings: JobSettings,
    wake: Arc<Notify>,
}

impl JobRunner {
    pub fn new(store: Arc<dyn JobStore>, clock: Arc<dyn Clock>, settings: JobSettings) -> Self {
        Self {
            store,
            clock,
            handlers: HashMap::new(),
            settings,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn handle(mut self, kind: JobKind, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(kind, handler);
        self
    }

    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// One round: claims due jobs (one per subject at most) and runs them concurrently.
    /// Returns how many ran.
    pub async fn run_once(&self) -> StoreResult<usize> {
        let now = self.clock.now();
        let jobs = self
            .store
            .claim_jobs(now, self.settings.lease, self.settings.batch)
            .await?;
        for ended in join_all(jobs.iter().map(|job| self.run_job(job))).await {
            ended?;
        }
        Ok(jobs.len())
    }

    /// Runs one job inside its span (`job dashboard.push`, with its subject and how it ended).
    async fn run_job(&self, job: &Job) -> StoreResult<()> {
        let span = tracing::info_span!(
            target: crate::trace::TARGET,
            "connector job",
            otel.name = %format_args!("job {}", job.kind),
            job.kind = %job.kind,
            job.subject = %job.subject,
            job.attempt = job.attempts + 1,
            job.outcome = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        self.run_job_in_span(job).instrument(span).await
    }

    async fn run_job_in_span(&self, job: &Job) -> StoreResult<()> {
        let result = match self.handlers.get(&job.kind) {
            Some(handler) => handler.run(job).await?,
            None => JobResult::Failed(format!("no handler for jobs of kind {}", job.kind)),
        };
        let span = tracing::Span::current();
        span.record(
            "job.outcome",
            match &result {
                JobResult::Done => "done",
                JobResult::Skipped => "skipped",
                JobResult::Later(_) => "later",
                JobResult::Retry { .. } => "retry",
                JobResult::Failed(_) => "failed",
            },
        );
        if !matches!(
            result,
            JobResult::Done | JobResult::Skipped | JobResult::Later(_)
        ) {
            span.record("otel.status_code", "ERROR");
        }
        let at = self.clock.now();
        let end = match result {
            JobResult::Done => JobEnd::Done,
            JobResult::Skipped => JobEnd::Skipped,
            JobResult::Later(at) => JobEnd::Later(at),
            JobResult::Failed(error) => JobEnd::Failed(error),
            JobResult::Retry { outcome, error } => {
                match self
                    .settings
                    .retry
                    .next(job.attempts + 1, &outcome, at, &mut rand::rng())
                {
                    Next::RetryAt(next) => JobEnd::RetryAt { at: next, error },
                    Next::Delivered => JobEnd::Done,
                    Next::Exhausted | Next::DisableEndpoint => JobEnd::Failed(error),
                }
            }
        };
        if !self.store.finish_job(job, &end, at).await? {
            tracing::info!(job = %job.id, "job lease lost while running; the new holder records");
        }
        Ok(())
    }

    /// Rounds until `shutdown`; a round in progress is finished first.
    pub async fn run(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let pause = match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => self.settings.idle_poll,
                Err(e) => {
                    tracing::warn!(error = %e, "job round failed");
                    std::time::Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = self.wake.notified() => {}
                () = shutdown.cancelled() => {}
            }
        }
    }
}
