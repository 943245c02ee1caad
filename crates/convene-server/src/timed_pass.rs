//! The loop of the passes that run on every worker node at times the store knows (reminders,
//! digests): a pass, then sleep until the next one is due, at most `poll` (what was planned
//! meanwhile waits no longer) and at least 50 ms.

use async_trait::async_trait;
use convene_core::{Clock, Timestamp};
use convene_store::StoreResult;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[async_trait]
pub trait TimedPass: Send + Sync {
    /// Named in the log when a pass fails.
    fn name(&self) -> &'static str;
    fn clock(&self) -> &dyn Clock;
    /// Does what is due now; how much it did.
    async fn run_once(&self) -> StoreResult<usize>;
    /// When the next work falls due, if any is planned.
    async fn next_due(&self) -> StoreResult<Option<Timestamp>>;
}

async fn until_next(pass: &dyn TimedPass, poll: Duration) -> Duration {
    let Ok(Some(next)) = pass.next_due().await else {
        return poll;
    };
    let wait = Duration::try_from(next - pass.clock().now()).unwrap_or(Duration::ZERO);
    wait.clamp(Duration::from_millis(50), poll)
}

pub async fn run(pass: &dyn TimedPass, poll: Duration, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let pause = match pass.run_once().await {
            Ok(_) => until_next(pass, poll).await,
            Err(e) => {
                tracing::warn!(error = %e, pass = pass.name(), "pass failed");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = shutdown.cancelled() => {}
        }
    }
}
