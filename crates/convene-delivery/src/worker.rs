//! The delivery worker: fan the outbox out, claim due deliveries with a lease, send each, record
//! the attempt and schedule the next. No transaction is open while a request is in flight.

use crate::http::Sender;
use crate::limits::RateLimits;
use crate::request::Request;
use crate::retry::{Next, RetryPolicy};
use convene_core::WebhookId;
use convene_core::outbound::OutboundEvent;
use convene_core::webhook::{Attempt, DeliveryStatus, Webhook};
use convene_core::{Clock, Timestamp};
use convene_store::cause::caused_by;
use convene_store::{
    AttemptRecord, CONVENE_SOURCE, Claim, ClaimRequest, DeliveryWork, Signal, StoreResult,
};
use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::{Mutex, PoisonError};
use time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How long a finished send waits for others to share its transaction: a round whose sends all
/// finish together is still recorded at once, and one held up by a slow endpoint records the
/// rest meanwhile, so a crash repeats only what was in flight.
const RECORD_WITHIN: std::time::Duration = std::time::Duration::from_millis(50);

#[derive(Debug, Clone)]
pub struct Settings {
    /// Messages fanned out and deliveries claimed per round.
    pub batch: u32,
    /// How long a claim is held; a worker that dies is replaced after this.
    pub lease: Duration,
    pub retry: RetryPolicy,
    /// An endpoint failing without a break for this long is disabled.
    pub disable_after: Duration,
    /// `sourcehost` in `event_metadata`.
    pub source_host: String,
    /// Pause between rounds when there was nothing to do.
    pub idle_poll: std::time::Duration,
    /// Requests in flight to one endpoint at most.
    pub max_in_flight_per_endpoint: usize,
    /// Rounds running side by side.
    pub parallel_rounds: usize,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub dispatched: u32,
    pub attempted: u32,
}

impl Round {
    pub fn is_idle(self) -> bool {
        self.dispatched == 0 && self.attempted == 0
    }
}

/// A sent claim, to be recorded with the round; `disable` says why to turn the endpoint off.
struct Done<'c> {
    claim: &'c Claim,
    record: AttemptRecord,
    disable: Option<String>,
}

pub struct Worker {
    store: Arc<dyn DeliveryWork>,
    clock: Arc<dyn Clock>,
    sender: Sender,
    settings: Settings,
    limits: RateLimits,
    wake: Arc<Notify>,
    /// Endpoints a round of this worker is sending to; other rounds skip them.
    busy: Mutex<HashSet<WebhookId>>,
}

/// Marks endpoints busy for as long as it lives.
struct Busy<'a> {
    set: &'a Mutex<HashSet<WebhookId>>,
    ids: Vec<WebhookId>,
}

impl<'a> Busy<'a> {
    fn mark(set: &'a Mutex<HashSet<WebhookId>>, ids: Vec<WebhookId>) -> Self {
        set.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(ids.iter().cloned());
        Self { set, ids }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut set = self.set.lock().unwrap_or_else(PoisonError::into_inner);
        for id in &self.ids {
            set.remove(id);
        }
    }
}

impl Worker {
    pub fn new(
        store: Arc<dyn DeliveryWork>,
        clock: Arc<dyn Clock>,
        sender: Sender,
        settings: Settings,
    ) -> Self {
        Self {
            store,
            clock,
            sender,
            settings,
            limits: RateLimits::default(),
            wake: Arc::new(Notify::new()),
            busy: Mutex::default(),
        }
    }

    /// One round: fan out, claim, send all claimed concurrently, record.
    pub async fn run_once(&self) -> StoreResult<Round> {
        let now = self.clock.now();
        let dispatched = self.store.dispatch(self.settings.batch, now).await?;
        let skip: Vec<WebhookId> = self
            .busy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        let claims = self
            .store
            .claim(&ClaimRequest {
                now,
                lease: self.settings.lease,
                limit: self.settings.batch,
                // One wave per endpoint: a round never waits longer than one timeout on it.
                per_endpoint: u32::try_from(self.settings.max_in_flight_per_endpoint)
                    .unwrap_or(u32::MAX),
                skip,
            })
            .await?;
        let _busy = Busy::mark(
            &self.busy,
            claims.iter().map(|c| c.webhook.id.clone()).collect(),
        );
        let attempted = u32::try_from(claims.len()).unwrap_or(u32::MAX);
        // All at once: the claim took at most `max_in_flight_per_endpoint` per endpoint, and
        // other rounds skip the endpoints this one holds. Sends are recorded in waves as they
        // finish, not when the slowest does: a crash then repeats only what was in flight.
        let mut sending: FuturesUnordered<_> = claims.iter().map(|c| self.attempt(c)).collect();
        let mut done = Vec::with_capacity(claims.len());
        // When the oldest send not yet recorded finished: the wave is recorded by then plus
        // `RECORD_WITHIN`, or when every send has finished.
        let mut waiting_since: Option<tokio::time::Instant> = None;
        loop {
            let next = match waiting_since {
                None => Ok(sending.next().await),
                Some(since) => tokio::time::timeout_at(since + RECORD_WITHIN, sending.next()).await,
            };
            match next {
                Ok(Some(sent)) => {
                    done.extend(sent?);
                    waiting_since = waiting_since.or_else(|| Some(tokio::time::Instant::now()));
                }
                Ok(None) => {
                    self.record(std::mem::take(&mut done)).await?;
                    break;
                }
                Err(_deadline) => {
                    self.record(std::mem::take(&mut done)).await?;
                    waiting_since = None;
                }
            }
        }
        Ok(Round {
            dispatched,
            attempted,
        })
    }

    /// Records a wave of sent claims in one transaction, then turns off the endpoints that asked
    /// for it.
    async fn record(&self, done: Vec<Done<'_>>) -> StoreResult<()> {
        if done.is_empty() {
            return Ok(());
        }
        let pairs: Vec<(&Claim, &AttemptRecord)> =
            done.iter().map(|d| (d.claim, &d.record)).collect();
        let recorded = self.store.finish_attempts(&pairs).await?;
        for (d, kept) in done.iter().zip(recorded) {
            match (&d.disable, kept) {
                (_, false) => {
                    tracing::info!(delivery = %d.claim.delivery.id, "lease lost while sending; the new holder records")
                }
                (Some(reason), true) => {
                    self.disable(&d.claim.webhook, reason, d.record.attempt.attempted_at)
                        .await?
                }
                (None, true) => {}
            }
        }
        Ok(())
    }

    /// Notifying it starts a round now instead of after the idle pause (a write in this process).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// `parallel_rounds` loops of rounds until `shutdown`; rounds in progress are finished
    /// first. A round waits for its slowest endpoint, and that endpoint is skipped by the other
    /// loops meanwhile, so one slow endpoint holds up one loop, not the others.
    pub async fn run(&self, shutdown: CancellationToken) {
        let loops =
            (0..self.settings.parallel_rounds.max(1)).map(|_| self.rounds(shutdown.clone()));
        join_all(loops).await;
    }

    async fn rounds(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let pause = match self.run_once().await {
                Ok(round) if !round.is_idle() => continue,
                Ok(_) => self.until_due().await,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery round failed");
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

    /// How long an idle loop may sleep: until the next retry falls due, at most `idle_poll`
    /// (the safety net for what no wake-up announces: a lease that ran out, a write on another
    /// node that sent no notice).
    async fn until_due(&self) -> std::time::Duration {
        let poll = self.settings.idle_poll;
        match self.store.oldest_due().await {
            Ok(Some(due)) => {
                let wait = due - self.clock.now();
                // Due already but not claimed: held by another round, lease or rate limit.
                if wait <= Duration::ZERO {
                    return poll;
                }
                std::time::Duration::try_from(wait).map_or(poll, |w| w.min(poll))
            }
            Ok(None) | Err(_) => poll,
        }
    }

    /// Sends one claim inside its span, a child of the request that caused the message; `None`
    /// when the endpoint's rate limit gave it back for later.
    async fn attempt<'c>(&self, claim: &'c Claim) -> StoreResult<Option<Done<'c>>> {
        let delivery = &claim.delivery;
        let span = tracing::info_span!(
            target: crate::trace::TARGET,
            "webhook attempt",
            otel.name = "POST webhook",
            otel.kind = "client",
            webhook.id = %claim.webhook.id,
            delivery.id = %delivery.id,
            delivery.attempt = delivery.attempts + 1,
            event_type = %delivery.event_type,
            http.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        if let Some(parent) = &delivery.traceparent {
            crate::trace::adopt(&span, parent);
        }
        let cause = delivery.traceparent.clone();
        caused_by(cause, self.send(claim).instrument(span)).await
    }

    async fn send<'c>(&self, claim: &'c Claim) -> StoreResult<Option<Done<'c>>> {
        let started = self.clock.now();
        let webhook = &claim.webhook;
        if let Some(rate) = webhook.rate_limit_per_s
            && let Err(wait) = self.limits.take(&webhook.id, rate, started)
        {
            self.store.release_claim(claim, started + wait).await?;
            return Ok(None);
        }
        let delivery = &claim.delivery;
        let source_host = &self.settings.source_host;
        let Request { headers, body } = Request::signed(webhook, delivery, source_host, started);
        let sent = self
            .sender
            .post(webhook.url.as_str(), &headers, body, started)
            .await;
        let finished = self.clock.now();
        let next = self.settings.retry.next(
            delivery.attempts + 1,
            &sent.outcome,
            finished,
            &mut rand::rng(),
        );
        let class = sent.outcome.error_class();
        let span = tracing::Span::current();
        if let Some(status) = sent.outcome.status() {
            span.record("http.response.status_code", status);
        }
        if let Some(class) = class {
            span.record("error.type", class.as_str());
            span.record("otel.status_code", "ERROR");
        }
        let record = AttemptRecord {
            attempt: Attempt {
                attempted_at: started,
                duration_ms: sent.duration_ms,
                status_code: sent.outcome.status(),
                error_class: class.map(|c| c.as_str().to_owned()),
                error: sent.outcome.failure_text(),
                response_body: sent.response_body,
                response_headers: sent.response_headers,
            },
            status: match next {
                Next::Delivered => DeliveryStatus::Delivered,
                Next::RetryAt(_) => DeliveryStatus::Pending,
                Next::Exhausted | Next::DisableEndpoint => DeliveryStatus::Failed,
            },
            next_attempt_at: match next {
                Next::RetryAt(at) => Some(at),
                _ => None,
            },
        };
        let failing_too_long = class.is_some()
            && webhook
                .failing_since
                .is_some_and(|since| finished - since >= self.settings.disable_after);
        let disable = if next == Next::DisableEndpoint {
            Some("the endpoint answered 410 Gone".to_owned())
        } else {
            failing_too_long.then(|| {
                format!(
                    "every attempt failed for {} hours",
                    self.settings.disable_after.whole_hours()
                )
            })
        };
        Ok(Some(Done {
            claim,
            record,
            disable,
        }))
    }

    async fn disable(&self, webhook: &Webhook, reason: &str, at: Timestamp) -> StoreResult<()> {
        disable_endpoint(&*self.store, webhook, reason, at).await?;
        Ok(())
    }
}

/// Turns an endpoint off and says so as an operational event (`endpoint.disabled`), which its
/// owner and the administrators are told of; `false` when it was off already.
pub async fn disable_endpoint(
    store: &(impl DeliveryWork + ?Sized),
    webhook: &Webhook,
    reason: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    if !store.disable_webhook(&webhook.id, reason, at).await? {
        return Ok(false);
    }
    tracing::warn!(webhook = %webhook.id, reason, "webhook disabled");
    let event = OutboundEvent::endpoint_disabled(&webhook.id, &webhook.url, reason);
    store
        .ingest_signal(Signal {
            id: format!(
                "endpoint.disabled:{}:{}",
                webhook.id,
                at.unix_timestamp_nanos()
            ),
            event_type: event.event_type.as_str().into(),
            subject: event.event_type.subject(&event.data),
            data: event.data,
            source: CONVENE_SOURCE.into(),
            occurred_at: at,
        })
        .await?;
    Ok(true)
}
