//! Conformance cases for webhooks, the outbox fan-out, leases and the attempt log.

use super::{TestStore, now, outbox_types, user};
use crate::cause::caused_by;
use crate::{
    AttemptRecord, Backlog, Claim, ClaimRequest, DeliveryFilter, DeliveryStore, NewWebhook, Signal,
    StoreResult,
};
use async_trait::async_trait;
use convene_core::mail::MailStatus;
use convene_core::page::PageRequest;
use convene_core::text::Channel;
use convene_core::webhook::{
    Attempt, Delivery, DeliveryStatus, EventTypes, ResponseHeaders, TargetUrl, Webhook,
};
use convene_core::webhook_scope::WebhookScope;
use convene_core::{Timestamp, UserId, WebhookId};
use serde_json::json;
use std::collections::BTreeMap;
use time::Duration;

/// The suite's shorthands: one claim round with no per-endpoint bound, one attempt recorded.
#[async_trait]
pub(super) trait Shorthands {
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<Claim>>;
    async fn finish_attempt(&self, claim: &Claim, record: &AttemptRecord) -> StoreResult<bool>;
}

#[async_trait]
impl<S: DeliveryStore + ?Sized> Shorthands for S {
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<Claim>> {
        let request = ClaimRequest {
            now,
            lease,
            limit,
            per_endpoint: limit,
            skip: Vec::new(),
        };
        self.claim(&request).await
    }

    async fn finish_attempt(&self, claim: &Claim, record: &AttemptRecord) -> StoreResult<bool> {
        Ok(self.finish_attempts(&[(claim, record)]).await?.first() == Some(&true))
    }
}

pub(super) async fn webhook(store: &TestStore, types: &[&str]) -> Webhook {
    let new = NewWebhook {
        url: TargetUrl::parse("https://hooks.example.org/in").unwrap(),
        event_types: EventTypes::from_list(types.iter().map(|t| (*t).to_owned()).collect()),
        enabled: true,
        encoding: "json".into(),
        description: Some("test".into()),
        headers: BTreeMap::from([("X-Team".to_owned(), "events".to_owned())]),
        rate_limit_per_s: Some(10),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        owner: None,
        scope: Default::default(),
        order: Default::default(),
    };
    store.create_webhook(new, now()).await.unwrap()
}

pub(super) fn signal(id: &str, event_type: &str) -> Signal {
    Signal {
        id: id.into(),
        event_type: event_type.into(),
        data: json!({"thing": {"id": id}}),
        source: "openedx".into(),
        occurred_at: now(),
        subject: None,
    }
}

pub(super) fn attempt(at: Timestamp, status: Option<u16>, error_class: Option<&str>) -> Attempt {
    Attempt {
        attempted_at: at,
        duration_ms: 12,
        status_code: status,
        error_class: error_class.map(str::to_owned),
        error: error_class.map(|c| format!("{c} happened")),
        response_body: Some("nope".into()),
        response_headers: ResponseHeaders::keep([
            ("content-type", "text/plain"),
            ("x-request-id", "r-1"),
        ]),
    }
}

pub async fn webhooks_round_trip(store: TestStore) {
    let a = webhook(&store, &["*"]).await;
    let b = webhook(&store, &["participant.registered", "event.created"]).await;
    assert_eq!(store.webhook(&a.id).await.unwrap().as_ref(), Some(&a));
    assert_eq!(a.event_types, EventTypes::All);
    assert_eq!(a.headers["X-Team"], "events");
    let first = store
        .list_webhooks(
            None,
            None,
            &PageRequest {
                limit: 1,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(first.items, std::slice::from_ref(&a));
    let all = PageRequest::default();
    let found = store.list_webhooks(None, Some("HOOKS.EXAMPLE"), &all).await;
    assert_eq!(found.unwrap().items.len(), 2, "the URL, ignoring case");
    let none = store.list_webhooks(None, Some("nowhere%"), &all).await;
    assert!(none.unwrap().items.is_empty(), "`%` is itself");
    let rest = store
        .list_webhooks(
            None,
            None,
            &PageRequest {
                limit: 5,
                after: first.next_after.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items, std::slice::from_ref(&b));
    let mut changed = b.clone();
    changed.previous_secret = Some((b.secret.clone(), now() + Duration::hours(24)));
    changed.secret = "whsec_bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3".into();
    changed.rate_limit_per_s = None;
    changed.updated_at = now();
    assert_eq!(store.update_webhook(&changed).await.unwrap(), changed);
    assert_eq!(store.webhook_health(10).await.unwrap(), (2, vec![]));
    changed.failing_since = Some(now());
    let failing = store.update_webhook(&changed).await.unwrap();
    let health = store.webhook_health(10).await.unwrap();
    assert_eq!(
        health,
        (2, vec![failing.clone()]),
        "the count, and who fails"
    );
    assert_eq!(store.webhook_health(0).await.unwrap(), (2, vec![]));
    assert!(
        store
            .disable_webhook(&b.id, "gone (410)", now())
            .await
            .unwrap()
    );
    assert!(!store.disable_webhook(&b.id, "again", now()).await.unwrap());
    let off = store.webhook(&b.id).await.unwrap().unwrap();
    assert!(!off.enabled && off.disabled_reason.as_deref() == Some("gone (410)"));
    assert!(store.delete_webhook(&a.id).await.unwrap());
    assert!(!store.delete_webhook(&a.id).await.unwrap());
    assert!(store.webhook(&a.id).await.unwrap().is_none());
}

pub async fn dispatch_fans_out_once_to_matching_enabled_webhooks(store: TestStore) {
    let all = webhook(&store, &["*"]).await;
    let only = webhook(&store, &["custom.wanted"]).await;
    let off = webhook(&store, &["*"]).await;
    store.disable_webhook(&off.id, "off", now()).await.unwrap();
    // Each message carries the trace context of the work that wrote it, to its deliveries.
    let traced = |n: u8| {
        Some(format!(
            "00-0af7651916cd43dd8448eb211c80319{n}-b7ad6b7169203331-01"
        ))
    };
    caused_by(traced(1), user(&store, "Alice")).await; // user.created, from the domain
    assert!(
        caused_by(
            traced(2),
            store.ingest_signal(signal("s-1", "custom.wanted"))
        )
        .await
        .unwrap()
    );
    assert!(
        !store
            .ingest_signal(signal("s-1", "custom.other"))
            .await
            .unwrap(),
        "ids are idempotent"
    );
    assert!(
        store
            .ingest_signal(signal("s-2", "custom.other"))
            .await
            .unwrap()
    );
    assert_eq!(store.dispatch(2, now()).await.unwrap(), 2);
    assert_eq!(store.dispatch(10, now()).await.unwrap(), 1);
    assert_eq!(
        store.dispatch(10, now()).await.unwrap(),
        0,
        "each message once"
    );
    let types = |d: Vec<convene_core::webhook::Delivery>| {
        d.into_iter().map(|d| d.event_type).collect::<Vec<_>>()
    };
    let to_all = listed(&store, DeliveryFilter::of(&all.id, None)).await;
    assert_eq!(
        types(to_all.clone()),
        ["custom.other", "custom.wanted", "user.created"],
        "newest first"
    );
    let wanted = &to_all[1];
    assert_eq!(
        (wanted.message_id.as_str(), wanted.source.as_str()),
        ("s-1", "openedx")
    );
    assert_eq!(wanted.data, json!({"thing": {"id": "s-1"}}));
    let causes: Vec<_> = to_all.iter().map(|d| d.traceparent.clone()).collect();
    assert_eq!(causes, [None, traced(2), traced(1)]);
    assert_eq!(
        (wanted.status, wanted.attempts),
        (DeliveryStatus::Pending, 0)
    );
    assert_eq!(
        types(listed(&store, DeliveryFilter::of(&only.id, None)).await),
        ["custom.wanted"]
    );
    let of_type = DeliveryFilter {
        event_type: Some("custom.wanted".into()),
        ..DeliveryFilter::default()
    };
    assert_eq!(
        listed(&store, of_type).await.len(),
        2,
        "every webhook's, of one type"
    );
    let created = wanted.created_at;
    let window = |since, until| DeliveryFilter {
        since,
        until,
        ..DeliveryFilter::of(&all.id, None)
    };
    assert_eq!(listed(&store, window(Some(created), None)).await.len(), 3);
    let later = created + Duration::seconds(1);
    assert!(listed(&store, window(Some(later), None)).await.is_empty());
    assert!(listed(&store, window(None, Some(created))).await.is_empty());
    assert_eq!(listed(&store, window(None, Some(later))).await.len(), 3);
    let pending_only = DeliveryFilter::of(&all.id, Some(DeliveryStatus::Delivered));
    assert!(listed(&store, pending_only).await.is_empty());
    assert!(
        listed(&store, DeliveryFilter::of(&off.id, None))
            .await
            .is_empty()
    );
}

/// The first page of what `filter` lists, without the last errors.
pub(super) async fn listed(store: &TestStore, filter: DeliveryFilter) -> Vec<Delivery> {
    let page = PageRequest {
        limit: 500,
        after: None,
    };
    let page = store.deliveries(&filter, &page).await;
    page.unwrap()
        .items
        .into_iter()
        .map(|l| l.delivery)
        .collect()
}

/// The event types queued for a webhook, sorted.
async fn queued_types(store: &TestStore, hook: Webhook) -> Vec<String> {
    let mut got: Vec<String> = listed(store, DeliveryFilter::of(&hook.id, None))
        .await
        .into_iter()
        .map(|d| d.event_type)
        .collect();
    got.sort();
    got
}

/// A webhook made by `owner` with `scope`, of every type.
async fn scoped(store: &TestStore, owner: Option<&UserId>, scope: WebhookScope) -> Webhook {
    let new = NewWebhook {
        url: TargetUrl::parse("https://hooks.example.org/scoped").unwrap(),
        event_types: EventTypes::All,
        enabled: true,
        encoding: "json".into(),
        description: None,
        headers: BTreeMap::new(),
        rate_limit_per_s: None,
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        owner: owner.cloned(),
        scope,
        order: Default::default(),
    };
    store.create_webhook(new, now()).await.unwrap()
}

pub async fn scoped_webhooks_hear_their_events_while_the_owner_reads_them(store: TestStore) {
    let alice = user(&store, "Alice").await;
    let bob = user(&store, "Bob").await;
    let hers = store
        .create_event(super::new_event("hers", true), Some(&alice), now())
        .await
        .unwrap();
    let mut tagged = super::new_event("tagged", false);
    tagged.channels = vec![Channel::parse("wikiproject-x").unwrap()];
    let tagged = store.create_event(tagged, None, now()).await.unwrap();
    let listed = WebhookScope {
        event_ids: Some([hers.id.clone(), tagged.id.clone()].into()),
        ..WebhookScope::default()
    };
    let alices = scoped(&store, Some(&alice.id), listed.clone()).await;
    assert_eq!(
        (alices.owner.as_ref(), &alices.scope),
        (Some(&alice.id), &listed),
        "kept as made"
    );
    let mine = WebhookScope {
        mine: true,
        ..WebhookScope::default()
    };
    let alices_mine = scoped(&store, Some(&alice.id), mine.clone()).await;
    let bobs_list = scoped(&store, Some(&bob.id), listed).await;
    let channel = WebhookScope {
        channels: Some([Channel::parse("wikiproject-x").unwrap()].into()),
        ..WebhookScope::default()
    };
    let admins_channel = scoped(&store, None, channel).await;
    let everything = scoped(&store, None, WebhookScope::default()).await;
    store
        .ingest_signal(signal("outside", "custom.a"))
        .await
        .unwrap();
    while store.dispatch(100, now()).await.unwrap() > 0 {}
    let types = |hook: Webhook| queued_types(&store, hook);
    assert_eq!(
        types(alices).await,
        ["event.created", "organizer.added"],
        "her private event; the tagged one she does not organize"
    );
    assert_eq!(
        types(alices_mine).await,
        ["event.created", "organizer.added"]
    );
    assert!(types(bobs_list).await.is_empty(), "Bob organizes neither");
    assert_eq!(
        types(admins_channel).await,
        ["event.created"],
        "the tagged event"
    );
    let all = types(everything).await;
    assert!(
        all.contains(&"custom.a".to_owned()) && all.contains(&"user.created".to_owned()),
        "{all:?}"
    );
}

pub async fn signal_batches_are_one_transaction_idempotent_per_item(store: TestStore) {
    assert!(
        store
            .ingest_signal(signal("seen", "custom.a"))
            .await
            .unwrap()
    );
    let batch = [
        signal("b-1", "custom.a"),
        signal("seen", "custom.a"),
        signal("b-2", "custom.b"),
        signal("b-1", "custom.c"),
    ];
    assert_eq!(
        store.ingest_signals(&batch).await.unwrap(),
        [true, false, true, false],
        "new, already there, new, repeated inside the batch"
    );
    assert_eq!(
        outbox_types(&store).await,
        ["custom.a", "custom.a", "custom.b"],
        "in batch order, the first of a repeated id wins"
    );
    assert_eq!(
        store.ingest_signals(&batch).await.unwrap(),
        [false; 4],
        "a batch sent again changes nothing"
    );
    assert!(store.ingest_signals(&[]).await.unwrap().is_empty());
}

pub async fn leases_keep_workers_apart_and_expire(store: TestStore) {
    let hook = webhook(&store, &["*"]).await;
    store
        .ingest_signal(signal("m-1", "custom.a"))
        .await
        .unwrap();
    store
        .ingest_signal(signal("m-2", "custom.b"))
        .await
        .unwrap();
    let t0 = now();
    store.dispatch(10, t0).await.unwrap();
    let lease = Duration::seconds(30);
    let first = store.claim_due(t0, lease, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].delivery.message_id, "m-1", "oldest due first");
    assert_eq!(first[0].webhook.id, hook.id);
    let second = store.claim_due(t0, lease, 10).await.unwrap();
    assert_eq!(second.len(), 1, "a leased delivery is not handed out twice");
    // Given back unsent (rate limit): due later, no attempt counted.
    assert!(
        store
            .release_claim(&second[0], t0 + Duration::seconds(10))
            .await
            .unwrap()
    );
    assert!(
        !store.release_claim(&second[0], t0).await.unwrap(),
        "the lease is gone"
    );
    assert!(
        store
            .claim_due(t0 + Duration::seconds(9), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let second = store
        .claim_due(t0 + Duration::seconds(10), lease, 10)
        .await
        .unwrap();
    assert_eq!((second.len(), second[0].delivery.attempts), (1, 0));
    assert_eq!(second[0].delivery.message_id, "m-2");
    assert!(store.claim_due(t0, lease, 10).await.unwrap().is_empty());
    // The workers die; after their leases another takes both deliveries over.
    let expired = t0 + Duration::seconds(10) + lease;
    let taken_over = store.claim_due(expired, lease, 10).await.unwrap();
    assert_eq!(taken_over.len(), 2);
    let late = AttemptRecord {
        attempt: attempt(expired, Some(200), None),
        status: DeliveryStatus::Delivered,
        next_attempt_at: None,
    };
    assert!(
        !store.finish_attempt(&first[0], &late).await.unwrap(),
        "a lost lease records nothing"
    );
    let current = taken_over
        .iter()
        .find(|c| c.delivery.message_id == "m-1")
        .unwrap();
    assert!(store.finish_attempt(current, &late).await.unwrap());
    let (done, attempts) = store.delivery(&current.delivery.id).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.attempts, done.next_attempt_at),
        (DeliveryStatus::Delivered, 1, None)
    );
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0], late.attempt);
}

pub async fn claims_are_bounded_per_endpoint_and_skip_busy_ones(store: TestStore) {
    let slow = webhook(&store, &["*"]).await;
    let fast = webhook(&store, &["*"]).await;
    for n in 0..3 {
        store
            .ingest_signal(signal(&format!("p-{n}"), "custom.a"))
            .await
            .unwrap();
    }
    let t0 = now();
    store.dispatch(10, t0).await.unwrap();
    let request = |skip: Vec<WebhookId>| ClaimRequest {
        now: t0,
        lease: Duration::seconds(30),
        limit: 100,
        per_endpoint: 2,
        skip,
    };
    let first = store.claim(&request(vec![slow.id.clone()])).await.unwrap();
    assert_eq!(
        first.len(),
        2,
        "two for the fast endpoint, none for the skipped one"
    );
    assert!(first.iter().all(|c| c.webhook.id == fast.id));
    let second = store.claim(&request(vec![])).await.unwrap();
    let per: Vec<_> = [&slow.id, &fast.id]
        .iter()
        .map(|id| second.iter().filter(|c| &&c.webhook.id == id).count())
        .collect();
    assert_eq!(
        per,
        [2, 1],
        "at most two per endpoint, and only what is not leased"
    );
}

pub async fn failures_are_scheduled_logged_and_recoverable(store: TestStore) {
    let hook = webhook(&store, &["*"]).await;
    store
        .ingest_signal(signal("f-1", "custom.a"))
        .await
        .unwrap();
    let t0 = now();
    store.dispatch(10, t0).await.unwrap();
    let claim = store
        .claim_due(t0, Duration::seconds(30), 10)
        .await
        .unwrap()
        .remove(0);
    let retry_at = t0 + Duration::minutes(5);
    let failed_once = AttemptRecord {
        attempt: attempt(t0, Some(500), Some("server_error")),
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(retry_at),
    };
    assert!(store.finish_attempt(&claim, &failed_once).await.unwrap());
    let failing = store.webhook(&hook.id).await.unwrap().unwrap();
    assert_eq!(failing.failing_since, Some(t0));
    assert!(
        store
            .claim_due(retry_at - Duration::seconds(1), Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store
        .claim_due(retry_at, Duration::seconds(30), 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(again.delivery.attempts, 1);
    let gave_up = AttemptRecord {
        attempt: attempt(retry_at, None, Some("timeout")),
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
    };
    store.finish_attempt(&again, &gave_up).await.unwrap();
    assert_eq!(
        store
            .webhook(&hook.id)
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        Some(t0),
        "failing since the first failure"
    );
    let failed = store
        .deliveries(
            &DeliveryFilter::of(&hook.id, Some(DeliveryStatus::Failed)),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(failed.items.len(), 1);
    assert_eq!(
        failed.items[0].last_error.as_deref(),
        Some("timeout happened"),
        "the list row shows the latest attempt's error"
    );
    assert!(
        store
            .claim_due(retry_at + Duration::days(1), Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Recover from a time after it was created: nothing; from before: it is due again.
    let later = retry_at + Duration::hours(1);
    assert_eq!(store.recover(&hook.id, later, later).await.unwrap(), 0);
    assert_eq!(
        store
            .recover(&hook.id, t0 - Duration::seconds(1), later)
            .await
            .unwrap(),
        1
    );
    let third = store
        .claim_due(later, Duration::seconds(30), 10)
        .await
        .unwrap()
        .remove(0);
    let ok = AttemptRecord {
        attempt: attempt(later, Some(204), None),
        status: DeliveryStatus::Delivered,
        next_attempt_at: None,
    };
    store.finish_attempt(&third, &ok).await.unwrap();
    assert_eq!(
        store
            .webhook(&hook.id)
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        None,
        "a success heals"
    );
    let (_, attempts) = store.delivery(&third.delivery.id).await.unwrap().unwrap();
    assert_eq!(
        attempts.iter().map(|a| a.status_code).collect::<Vec<_>>(),
        [Some(500), None, Some(204)]
    );
    assert!(
        store
            .retry_delivery(&third.delivery.id, later)
            .await
            .unwrap(),
        "a delivered one may be resent"
    );
    assert!(
        !store
            .retry_delivery(&convene_core::DeliveryId::new(), later)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .purge_attempts(retry_at + Duration::seconds(1))
            .await
            .unwrap(),
        2
    );
    let (_, attempts) = store.delivery(&third.delivery.id).await.unwrap().unwrap();
    assert_eq!(attempts.len(), 1);
}

pub async fn disabled_webhooks_are_not_claimed_and_deletes_cascade(store: TestStore) {
    let hook = webhook(&store, &["*"]).await;
    let direct = store
        .enqueue_direct(
            &hook.id,
            "webhook.test",
            json!({"test": {"ok": true}}),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(direct.event_type, "webhook.test");
    assert!(direct.message_id.starts_with("msg_"));
    assert!(
        store
            .enqueue_direct(&WebhookId::new(), "webhook.test", json!({}), now())
            .await
            .is_err()
    );
    store.disable_webhook(&hook.id, "off", now()).await.unwrap();
    assert!(
        store
            .claim_due(now(), Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let mut on = store.webhook(&hook.id).await.unwrap().unwrap();
    on.enabled = true;
    on.disabled_reason = None;
    store.update_webhook(&on).await.unwrap();
    assert_eq!(
        store
            .claim_due(now(), Duration::seconds(30), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    store.delete_webhook(&hook.id).await.unwrap();
    assert!(store.delivery(&direct.id).await.unwrap().is_none());
}

pub async fn backlog_counts_what_waits_for_enabled_webhooks(store: TestStore) {
    let t0 = now();
    let quiet = store.backlog(t0).await.unwrap();
    assert_eq!(
        (quiet.messages, quiet.deliveries, quiet.oldest_due),
        (0, 0, None)
    );
    let on = webhook(&store, &["*"]).await;
    let off = webhook(&store, &["*"]).await;
    for id in ["b-1", "b-2"] {
        store.ingest_signal(signal(id, "custom.a")).await.unwrap();
    }
    let undispatched = store.backlog(t0).await.unwrap();
    assert_eq!((undispatched.messages, undispatched.deliveries), (2, 0));
    assert_eq!(store.oldest_due().await.unwrap(), None);
    store.dispatch(10, t0).await.unwrap();
    let due = store.backlog(t0 + Duration::seconds(3)).await.unwrap();
    assert_eq!((due.messages, due.deliveries), (0, 4));
    assert_eq!(due.oldest_due, Some(t0), "due since the fan-out");
    assert_eq!(
        store.backlog(t0 - Duration::seconds(1)).await.unwrap(),
        Backlog::default(),
        "nothing is due before its time"
    );
    store.disable_webhook(&off.id, "off", t0).await.unwrap();
    assert_eq!(
        store.backlog(t0).await.unwrap().deliveries,
        2,
        "a disabled endpoint's wait is not backlog"
    );
    // In flight is still waiting; recorded for a later retry is not due now.
    let claims = store
        .claim_due(t0, Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(claims.len(), 2);
    assert_eq!(store.backlog(t0).await.unwrap().deliveries, 2);
    let later = t0 + Duration::seconds(60);
    for claim in &claims {
        let record = AttemptRecord {
            attempt: attempt(t0, Some(500), Some("http_status")),
            status: DeliveryStatus::Pending,
            next_attempt_at: Some(later),
        };
        assert!(store.finish_attempt(claim, &record).await.unwrap());
    }
    let retrying = store.backlog(t0).await.unwrap();
    assert_eq!((retrying.deliveries, retrying.oldest_due), (0, None));
    assert_eq!(retrying.messages, 1, "the endpoint.failing it caused");
    assert_eq!(store.oldest_due().await.unwrap(), Some(later));
    assert_eq!(store.backlog(later).await.unwrap().oldest_due, Some(later));
    assert_eq!(on.id, claims[0].webhook.id);
}

pub async fn only_convenes_own_signals_reach_the_notifier(store: TestStore) {
    let own = Signal {
        source: crate::CONVENE_SOURCE.into(),
        ..signal("own-1", "endpoint.disabled")
    };
    store
        .ingest_signal(signal("ext-1", "custom.a"))
        .await
        .unwrap();
    store
        .ingest_signals(&[signal("ext-2", "custom.b"), own.clone()])
        .await
        .unwrap();
    let ids: Vec<String> = store
        .unnotified(10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        ids,
        ["own-1"],
        "another platform's signal is told to nobody"
    );
}

pub async fn deliveries_and_mails_keep_the_event_they_are_about(store: TestStore) {
    let hook = webhook(&store, &["*"]).await;
    let alice = user(&store, "Alice").await;
    let first = store
        .create_event(super::new_event("first", false), Some(&alice), now())
        .await
        .unwrap();
    let second = store
        .create_event(super::new_event("second", false), Some(&alice), now())
        .await
        .unwrap();
    assert!(
        store
            .ingest_signal(signal("s-1", "custom.thing"))
            .await
            .unwrap()
    );
    store.dispatch(100, now()).await.unwrap();
    let about = |event: &convene_core::EventId| DeliveryFilter {
        event: Some(event.clone()),
        ..DeliveryFilter::of(&hook.id, None)
    };
    let of_first = listed(&store, about(&first.id)).await;
    let types: Vec<_> = of_first.iter().map(|d| d.event_type.as_str()).collect();
    assert!(types.contains(&"event.created"), "{types:?}");
    assert!(
        types.iter().all(|t| *t != "custom.thing"),
        "a signal is about no event"
    );
    assert_eq!(
        listed(&store, about(&second.id)).await.len(),
        of_first.len()
    );

    let mut mail =
        super::notification::mail("alice@example.org", "about-first", MailStatus::Queued);
    mail.event = Some(first.id.clone());
    let other = super::notification::mail("bob@example.org", "about-none", MailStatus::Queued);
    store.queue_mails(&[mail, other], now()).await.unwrap();
    let mails = store.mails_of_event(&first.id, 10).await.unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipient, "alice@example.org");
    assert!(
        store
            .mails_of_event(&second.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
