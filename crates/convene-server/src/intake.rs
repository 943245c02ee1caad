//! Signal intake: signals that arrive together are written together (one statement and one
//! commit for all that wait, so a burst of ingest takes few turns of the writer and leaves the
//! rest to delivery), and they are refused while deliveries are further behind than
//! `delivery.max_backlog_age_s`.

use crate::error::{ApiError, ApiResult};
use convene_core::Clock;
use convene_store::cause::{caused_by, traceparent};
use convene_store::{Signal, Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The most signals one write takes (a request's own batch is never split, and may be bigger).
const MOST_PER_WRITE: usize = 500;
/// The most requests taken at once.
const MOST_WAITING: usize = 256;
/// How often the backlog's age is read while a limit is set.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

type Answer = oneshot::Sender<Result<Vec<bool>, StoreError>>;

/// Signals of one request, with the trace that caused them.
struct Waiting {
    signals: Vec<Signal>,
    cause: Option<String>,
    answer: Answer,
}

#[derive(Clone)]
pub struct Intake {
    queue: mpsc::Sender<Waiting>,
    /// Seconds the longest-waiting due delivery has waited, as last read.
    behind_s: Arc<AtomicU64>,
    limit_s: Option<u64>,
}

impl Intake {
    /// Starts the writer (and, with a limit, the backlog sampler); both end when the last
    /// clone of the intake is dropped.
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, limit_s: Option<u64>) -> Self {
        let (queue, waiting) = mpsc::channel(4 * MOST_WAITING);
        tokio::spawn(write_together(store.clone(), waiting));
        let behind_s = Arc::new(AtomicU64::new(0));
        if limit_s.is_some() {
            let alive = queue.downgrade();
            tokio::spawn(sample(store, clock, behind_s.clone(), alive));
        }
        Self {
            queue,
            behind_s,
            limit_s,
        }
    }

    /// Refuses new signals while deliveries are further behind than the limit.
    pub fn admit(&self) -> ApiResult<()> {
        let behind = self.behind_s.load(Ordering::Relaxed);
        match self.limit_s {
            Some(limit) if behind > limit => Err(ApiError::BacklogFull {
                age_s: behind,
                // Long enough for a round or two, short enough to refill a drained queue.
                retry_after_s: (behind - limit).clamp(1, 30),
            }),
            _ => Ok(()),
        }
    }

    /// Writes the signals (with others waiting at the same moment); per signal, whether it was
    /// new.
    pub async fn ingest(&self, signals: Vec<Signal>) -> ApiResult<Vec<bool>> {
        self.admit()?;
        let (answer, answered) = oneshot::channel();
        let waiting = Waiting {
            signals,
            cause: traceparent(),
            answer,
        };
        self.queue
            .send(waiting)
            .await
            .map_err(|_| ApiError::Unavailable)?;
        Ok(answered.await.map_err(|_| ApiError::Unavailable)??)
    }
}

/// Takes what waits, writes it in as few statements as causes allow, answers each request.
async fn write_together(store: Arc<dyn Store>, mut waiting: mpsc::Receiver<Waiting>) {
    let mut taken = Vec::new();
    while waiting.recv_many(&mut taken, MOST_WAITING).await > 0 {
        // Requests with one cause share a write; a trace of their own gets one of its own.
        while !taken.is_empty() {
            let cause = taken[0].cause.clone();
            let mut size = 0;
            let (group, rest): (Vec<_>, Vec<_>) =
                std::mem::take(&mut taken).into_iter().partition(|w| {
                    let joins =
                        w.cause == cause && (size == 0 || size + w.signals.len() <= MOST_PER_WRITE);
                    size += if joins { w.signals.len() } else { 0 };
                    joins
                });
            taken = rest;
            write_group(&*store, group, cause).await;
        }
    }
}

async fn write_group(store: &dyn Store, group: Vec<Waiting>, cause: Option<String>) {
    let signals: Vec<Signal> = group.iter().flat_map(|w| w.signals.clone()).collect();
    let written = caused_by(cause, store.ingest_signals(&signals)).await;
    let mut fresh = match written {
        Ok(fresh) => fresh.into_iter(),
        Err(e) => {
            for w in group {
                let _ = w.answer.send(Err(shared(&e)));
            }
            return;
        }
    };
    for w in group {
        let mine = fresh.by_ref().take(w.signals.len()).collect();
        let _ = w.answer.send(Ok(mine));
    }
}

/// One failed write told to every request in it.
fn shared(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(source) => StoreError::Unavailable(source.to_string().into()),
        other => StoreError::Other(other.to_string().into()),
    }
}

async fn sample(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    behind_s: Arc<AtomicU64>,
    alive: mpsc::WeakSender<Waiting>,
) {
    while alive.strong_count() > 0 {
        match store.oldest_due().await {
            Ok(oldest) => {
                let waited = oldest.map_or(0, |t| (clock.now() - t).whole_seconds());
                behind_s.store(u64::try_from(waited).unwrap_or(0), Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "reading the delivery backlog failed"),
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}
