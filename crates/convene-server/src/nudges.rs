//! Nodes tell each other when work was queued (PostgreSQL's `LISTEN`/`NOTIFY`), so a write on
//! an API node starts a round on the worker nodes at once; polling stays the safety net.

use crate::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The least time between two nudges of one node: a burst of writes sends one every so often,
/// not one per write.
const SPACING: Duration = Duration::from_millis(5);
/// How long to wait before listening again after the connection was lost.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

/// Sends a nudge after the writes of this node (as `state.wake.nodes` is notified).
pub async fn tell(state: AppState, node: String, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = state.wake.nodes.notified() => {}
            () = shutdown.cancelled() => return,
        }
        if let Err(e) = state.store.nudge(&node).await {
            tracing::debug!(error = %e, "nudging the other nodes failed; they poll");
        }
        tokio::time::sleep(SPACING).await;
    }
}

/// Wakes this node's workers when another node nudges, until `shutdown`.
pub async fn hear(state: AppState, node: String, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let lost = match state.store.nudges().await {
            Ok(Some(mut nudges)) => loop {
                let next = tokio::select! {
                    next = nudges.next() => next,
                    () = shutdown.cancelled() => return,
                };
                match next {
                    Ok(from) if from != node => state.wake_local(),
                    Ok(_) => {}
                    Err(e) => break e,
                }
            },
            Ok(None) => return,
            Err(e) => e,
        };
        tracing::warn!(error = %lost, "listening for other nodes failed; polling until it is back");
        tokio::select! {
            () = tokio::time::sleep(RELISTEN_AFTER) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
