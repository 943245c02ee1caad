//! The W3C `traceparent` of the work in progress (an HTTP request, a delivery attempt), so the
//! outbox rows a change writes carry it and the deliveries they cause join the same trace. A
//! task-local, set around a request by the server: the store reads it where it writes the
//! outbox, and no method has to pass it along.

use std::future::Future;

tokio::task_local! {
    static TRACEPARENT: String;
}

/// Runs `work` with `traceparent` as the cause of what it writes (none: as it was).
pub async fn caused_by<F: Future>(traceparent: Option<String>, work: F) -> F::Output {
    match traceparent {
        Some(parent) => TRACEPARENT.scope(parent, work).await,
        None => work.await,
    }
}

/// The cause of the work in progress, if it has one.
pub fn traceparent() -> Option<String> {
    TRACEPARENT.try_with(Clone::clone).ok()
}
