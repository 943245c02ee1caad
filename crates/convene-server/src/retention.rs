//! Retention: every worker node removes final records past their `[retention]` age, in small
//! batches, every `purge_interval_s`; `convene purge` runs one pass. What is removed is counted
//! in `convene_purged_rows_total{kind}`.

use crate::config::RetentionConfig;
use crate::state::AppState;
use convene_core::Timestamp;
use convene_store::{Cutoffs, Purged, Store, StoreResult};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Rows per table per batch: small enough that no batch holds SQLite's writer for long.
const BATCH: u32 = 500;

impl RetentionConfig {
    /// The cutoffs of a pass starting at `now`.
    pub fn cutoffs(&self, now: Timestamp) -> Cutoffs {
        let before = |days: f64| now - time::Duration::seconds_f64(days * 86_400.0);
        Cutoffs {
            messages: before(self.messages_days),
            mail: before(self.mail_days),
            notifications: before(self.notifications_days),
            logs: before(self.logs_days),
        }
    }
}

/// Removes batches until nothing final is older than its cutoff, letting other writers in
/// between batches.
pub async fn purge_pass(store: &dyn Store, cutoffs: &Cutoffs) -> StoreResult<Purged> {
    let mut total = Purged::default();
    loop {
        let batch = store.purge_batch(cutoffs, BATCH).await?;
        count(&batch);
        total.add(batch);
        if !batch.more_after(BATCH) {
            return Ok(total);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn count(purged: &Purged) {
    for (kind, n) in [
        ("messages", purged.messages),
        ("deliveries", purged.deliveries),
        ("attempts", purged.attempts),
        ("mails", purged.mails),
        ("notifications", purged.notifications),
        ("logs", purged.logs),
    ] {
        if n > 0 {
            metrics::counter!("convene_purged_rows_total", "kind" => kind).increment(n);
        }
    }
}

/// The worker's purge loop: a pass at start and every `purge_interval_s`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let every = Duration::from_secs(state.config.retention.purge_interval_s);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let cutoffs = state.config.retention.cutoffs(state.clock.now());
        let pass = tokio::select! {
            pass = purge_pass(state.store.as_ref(), &cutoffs) => pass,
            () = shutdown.cancelled() => return,
        };
        match pass {
            Ok(p) if p == Purged::default() => {}
            Ok(p) => tracing::info!(
                messages = p.messages,
                deliveries = p.deliveries,
                attempts = p.attempts,
                mails = p.mails,
                notifications = p.notifications,
                logs = p.logs,
                "removed records past their retention"
            ),
            Err(e) => tracing::warn!(error = %e, "could not remove records past their retention"),
        }
    }
}
