//! The notifier: reads outbox messages it has not planned yet and turns them into
//! notifications and mails for the people concerned, written with the messages marked in one
//! transaction. Dedupe keys make a plan written twice (two nodes, a crash between rounds)
//! count once.

use super::mail::Mailer;
use super::planner::{Planner, Told};
use convene_core::notification::Kind;
use convene_core::{Clock, EventId};
use convene_store::{Recipients, Store, StoreResult};
use minijinja::Value as Ctx;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub struct Notifier {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<Mailer>,
    /// Woken after a plan is written: the job runner (mails) and the live stream.
    pub after: Vec<Arc<Notify>>,
    pub wake: Arc<Notify>,
    pub idle_poll: std::time::Duration,
}

impl Notifier {
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Plans up to 200 messages; returns how many were planned.
    pub async fn run_once(&self) -> StoreResult<usize> {
        let messages = self.store.unnotified(200).await?;
        if messages.is_empty() {
            return Ok(0);
        }
        let mut planner =
            Planner::new(self.store.as_ref(), self.clock.as_ref(), &self.mailer).await?;
        planner.plan(&messages).await?;
        let (notices, flushed) = (planner.notices, planner.flushed);
        self.store
            .record_notices(&notices, self.clock.now())
            .await?;
        if flushed || !notices.notifications.is_empty() || !notices.mails.is_empty() {
            for waker in &self.after {
                waker.notify_one();
            }
        }
        Ok(messages.len())
    }

    pub async fn run(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let pause = match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => self.idle_poll,
                Err(e) => {
                    tracing::warn!(error = %e, "notifier round failed");
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

/// Something to tell the organizers (or participants) of an event that is no outbox message,
/// such as a push that will not be retried. `key` makes a repeat count once.
pub struct EventNotice<'a> {
    pub event: &'a EventId,
    pub who: Recipients,
    pub kind: Kind,
    pub ctx: Ctx,
    pub key: String,
}

pub async fn tell_event(
    store: &dyn Store,
    clock: &dyn Clock,
    mailer: &Mailer,
    notice: EventNotice<'_>,
) -> StoreResult<()> {
    let mut planner = Planner::new(store, clock, mailer).await?;
    let users = store.audience(notice.event, notice.who).await?;
    planner
        .tell_all(
            &users,
            Told::about(notice.kind, &notice.ctx, &notice.key, Some(notice.event)),
        )
        .await?;
    store.record_notices(&planner.notices, clock.now()).await
}
