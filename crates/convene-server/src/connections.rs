//! Accepting HTTP connections so that idle or slow clients cannot crowd out the rest: every
//! connection must send a complete request head within `header_timeout_s` (on arrival and again
//! while it idles between kept-alive requests), at most `max_connections` are open at once (more
//! are closed as they arrive, and the log says so), and the open-file limit is raised at start so
//! that cap, not the kernel, is what refuses.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Descriptors kept free of connections: database, SQLite files, outbound calls, logs.
const RESERVED_FILES: u64 = 256;
/// How often, at most, refused connections are logged.
const REFUSED_LOG_EVERY: Duration = Duration::from_secs(10);

pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
    pub grace: Duration,
}

/// Raises the soft open-file limit to the hard one; returns the soft limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The configured cap, lowered to fit under the open-file limit.
pub fn connection_cap(configured: usize, open_files: Option<u64>) -> usize {
    let fits = open_files.map_or(u64::MAX, |n| {
        n.saturating_sub(RESERVED_FILES).max(RESERVED_FILES / 4)
    });
    configured
        .min(usize::try_from(fits).unwrap_or(usize::MAX))
        .max(1)
}

/// Serves `app` on `listener` until `shutdown`, then gives open requests `grace` to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut refused = Refused::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of descriptors or a connection reset before it was taken: wait a moment
                // rather than spin.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refused.count(limits.max_connections);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!(
        grace_s = limits.grace.as_secs(),
        "shutting down: finishing in-flight requests"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.grace) => {
            tracing::warn!("in-flight requests did not finish within the grace period");
        }
    }
    Ok(())
}

/// Counts connections closed for want of a slot, logged at most every `REFUSED_LOG_EVERY`.
#[derive(Default)]
struct Refused {
    since_log: u64,
    logged_at: Option<Instant>,
}

impl Refused {
    fn count(&mut self, cap: usize) {
        self.since_log += 1;
        metrics::counter!("http_connections_refused_total").increment(1);
        if self
            .logged_at
            .is_none_or(|at| at.elapsed() >= REFUSED_LOG_EVERY)
        {
            tracing::warn!(
                refused = self.since_log,
                max_connections = cap,
                "connections refused: the connection cap is reached"
            );
            self.since_log = 0;
            self.logged_at = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_under_the_open_file_limit() {
        assert_eq!(connection_cap(10_000, Some(1024)), 768);
        assert_eq!(connection_cap(500, Some(1024)), 500);
        assert_eq!(connection_cap(10_000, Some(1_048_576)), 10_000);
        assert_eq!(
            connection_cap(10_000, Some(100)),
            64,
            "a tiny limit still serves"
        );
        assert_eq!(connection_cap(10_000, None), 10_000);
    }
}
