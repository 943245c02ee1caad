//! The delivery worker: fan the outbox out, claim due deliveries with a lease, send each, record
//! the attempt and schedule the next. No transaction is open while a request is in flight.

mod busy;

use crate::http::Sender;
use crate::limits::RateLimits;
use crate::request::Request;
use crate::retry::{Next, RetryPolicy};
use busy::Endpoints;
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
    /// A woken worker starts no round sooner than this after the last began, so messages that
    /// arrive close together share one (light load then costs fewer statements per message).
    pub gather: std::time::Duration,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub dispatched: u32,
    pub attempted: u32,
    /// A limit was reached (the batch, or an endpoint's share) or an ordered lane moved on:
    /// more may be due now, so the next round starts at once.
    pub more: bool,
    /// The earliest time this round put a delivery off to (a retry, a rate limit).
    pub due: Option<Timestamp>,
    /// Endpoints other rounds were sending to were left out; the first of them to finish
    /// wakes this worker.
    pub skipped: bool,
}

impl Round {
    pub fn is_idle(self) -> bool {
        self.dispatched == 0 && self.attempted == 0
    }

    fn put_off(&mut self, at: Timestamp) {
        self.due = Some(self.due.map_or(at, |due| due.min(at)));
    }

    /// A failure may have queued messages of its own (the endpoint failing, a delivery given
    /// up, an endpoint disabled), and a finished delivery in an ordered lane lets the next go.
    fn note(&mut self, done: &Done<'_>) {
        if let Some(at) = done.record.next_attempt_at {
            self.put_off(at);
        }
        let finished = done.record.status != DeliveryStatus::Pending;
        self.more |= done.record.attempt.error_class.is_some()
            || done.disable.is_some()
            || (finished && done.claim.delivery.subject.is_some());
    }
}

/// A sent claim, to be recorded with the round; `disable` says why to turn the endpoint off.
struct Done<'c> {
    claim: &'c Claim,
    record: AttemptRecord,
    disable: Option<String>,
}

/// What became of a claim: sent, or given back for later by the endpoint's rate limit.
enum Sent<'c> {
    Done(Done<'c>),
    Later(&'c Claim, Timestamp),
}

pub struct Worker {
    store: Arc<dyn DeliveryWork>,
    clock: Arc<dyn Clock>,
    sender: Sender,
    settings: Settings,
    limits: RateLimits,
    wake: Arc<Notify>,
    endpoints: Endpoints,
    /// When the last round began, for `gather`.
    last_round: Mutex<Option<tokio::time::Instant>>,
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
            endpoints: Endpoints::default(),
            last_round: Mutex::default(),
        }
    }

    /// One round: fan out, claim, send all claimed concurrently, record.
    pub async fn run_once(&self) -> StoreResult<Round> {
        let now = self.clock.now();
        let dispatched = self.store.dispatch(self.settings.batch, now).await?;
        let skip = self.endpoints.to_skip();
        let skipped = !skip.is_empty();
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
        let mut busy = self
            .endpoints
            .mark(claims.iter().map(|c| &c.webhook.id), &self.wake);
        let attempted = u32::try_from(claims.len()).unwrap_or(u32::MAX);
        let mut round = Round {
            dispatched,
            attempted,
            // An endpoint given its whole in-flight share may have more waiting.
            more: dispatched >= self.settings.batch
                || attempted >= self.settings.batch
                || busy.fullest() >= self.settings.max_in_flight_per_endpoint,
            due: None,
            skipped,
        };
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
                    match sent? {
                        Sent::Done(sent) => {
                            busy.sent(&sent.claim.webhook.id);
                            round.note(&sent);
                            done.push(sent);
                        }
                        Sent::Later(claim, at) => {
                            busy.sent(&claim.webhook.id);
                            round.put_off(at);
                        }
                    }
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
        Ok(round)
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
    /// loops while requests to it are in flight, so one slow endpoint holds up one loop, not the
    /// others. A loop goes straight on after a round that reached a limit; otherwise it sleeps
    /// until woken (then `gather`), or until what the round put off falls due.
    pub async fn run(&self, shutdown: CancellationToken) {
        let loops =
            (0..self.settings.parallel_rounds.max(1)).map(|_| self.rounds(shutdown.clone()));
        join_all(loops).await;
    }

    async fn rounds(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            self.reserve_start(std::time::Duration::ZERO);
            let pause = match self.run_once().await {
                Ok(round) if round.more => continue,
                // What this round left for later is what it knows of; a write since has woken
                // the worker, and anything else is the safety net's.
                Ok(round) if !round.is_idle() => self.until(round.due),
                // Idle while other rounds send: the busy endpoints wake it as they free up, and
                // the loops that put retries off wait for them, so reading the next due time
                // (a walk of the due index per endpoint) is left to the loops that are alone.
                Ok(round) if round.skipped => self.until(round.due),
                Ok(_) => self.until_due().await,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery round failed");
                    std::time::Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = self.wake.notified() => {
                    tokio::select! {
                        () = self.gathered() => {}
                        () = shutdown.cancelled() => {}
                    }
                }
                () = shutdown.cancelled() => {}
            }
        }
    }

    /// Waits out what is left of `gather` since the last round began (or was set to begin: the
    /// start is taken, so woken loops start `gather` apart, not together). A wake-up right after
    /// a round takes what arrives meanwhile along; one after a quiet spell starts at once.
    async fn gathered(&self) {
        tokio::time::sleep_until(self.reserve_start(self.settings.gather)).await;
    }

    /// Takes the next round start: now, or `gap` after the last start taken if that is later.
    fn reserve_start(&self, gap: std::time::Duration) -> tokio::time::Instant {
        let now = tokio::time::Instant::now();
        let mut last = self
            .last_round
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let start = last.map_or(now, |last| (last + gap).max(now));
        *last = Some(start);
        start
    }

    /// How long an idle loop may sleep: until the next retry falls due, at most `idle_poll`
    /// (the safety net for what no wake-up announces: a lease that ran out, a write on another
    /// node that sent no notice).
    async fn until_due(&self) -> std::time::Duration {
        match self.store.oldest_due().await {
            // Due already but not claimed: held by another round, lease or rate limit.
            Ok(Some(due)) if due <= self.clock.now() => self.settings.idle_poll,
            Ok(due) => self.until(due),
            Err(_) => self.settings.idle_poll,
        }
    }

    /// The pause until `due`, at most `idle_poll`.
    fn until(&self, due: Option<Timestamp>) -> std::time::Duration {
        let poll = self.settings.idle_poll;
        due.map_or(poll, |due| {
            let wait = (due - self.clock.now()).max(Duration::ZERO);
            std::time::Duration::try_from(wait).map_or(poll, |w| w.min(poll))
        })
    }

    /// Sends one claim inside its span, a child of the request that caused the message.
    async fn attempt<'c>(&self, claim: &'c Claim) -> StoreResult<Sent<'c>> {
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

    async fn send<'c>(&self, claim: &'c Claim) -> StoreResult<Sent<'c>> {
        let started = self.clock.now();
        let webhook = &claim.webhook;
        if let Some(rate) = webhook.rate_limit_per_s
            && let Err(wait) = self.limits.take(&webhook.id, rate, started)
        {
            self.store.release_claim(claim, started + wait).await?;
            return Ok(Sent::Later(claim, started + wait));
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
        Ok(Sent::Done(Done {
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
