//! Conformance cases for order per subject: one delivery per subject in flight, in commit
//! order; a newer message superseding queued older ones on a coalescing webhook.

use super::delivery::{Shorthands, attempt, signal, webhook};
use super::{TestStore, now};
use crate::{AttemptRecord, Claim, DeliveryFilter, Signal};
use convene_core::page::PageRequest;
use convene_core::webhook::{DeliveryStatus, SubjectOrder, Webhook};
use convene_core::{Timestamp, WebhookId};
use time::Duration;

const LEASE: Duration = Duration::seconds(30);

/// A webhook of every type that takes messages in `order`.
pub async fn ordered(store: &TestStore, order: SubjectOrder) -> Webhook {
    let mut hook = webhook(store, &["*"]).await;
    hook.order = order;
    store.update_webhook(&hook).await.unwrap()
}

fn about(id: &str, subject: Option<&str>) -> Signal {
    Signal {
        subject: subject.map(str::to_owned),
        ..signal(id, "custom.changed")
    }
}

/// Ingests `(id, subject)` signals and fans them out.
async fn send(store: &TestStore, messages: &[(&str, Option<&str>)]) {
    for (id, subject) in messages {
        assert!(store.ingest_signal(about(id, *subject)).await.unwrap());
    }
    store.dispatch(100, now()).await.unwrap();
}

/// The message ids of what a round claims at `at`, sorted.
async fn claimed(store: &TestStore, at: Timestamp) -> (Vec<String>, Vec<Claim>) {
    let claims = store.claim_due(at, LEASE, 100).await.unwrap();
    let mut ids: Vec<String> = claims
        .iter()
        .map(|c| c.delivery.message_id.clone())
        .collect();
    ids.sort();
    (ids, claims)
}

fn of<'a>(claims: &'a [Claim], message: &str) -> &'a Claim {
    claims
        .iter()
        .find(|c| c.delivery.message_id == message)
        .unwrap()
}

fn outcome(at: Timestamp, status: DeliveryStatus, retry_at: Option<Timestamp>) -> AttemptRecord {
    let ok = status == DeliveryStatus::Delivered;
    AttemptRecord {
        attempt: attempt(
            at,
            Some(if ok { 200 } else { 503 }),
            (!ok).then_some("server_error"),
        ),
        status,
        next_attempt_at: retry_at,
    }
}

/// Every delivery of a webhook by message id: status, whether it is due at all.
async fn states(store: &TestStore, hook: &WebhookId) -> Vec<(String, DeliveryStatus, bool)> {
    let mut all = super::delivery::listed(store, DeliveryFilter::of(hook, None)).await;
    all.sort_by(|a, b| a.message_id.cmp(&b.message_id));
    all.into_iter()
        .map(|d| (d.message_id, d.status, d.next_attempt_at.is_some()))
        .collect()
}

pub async fn a_subject_is_delivered_one_at_a_time_in_commit_order(store: TestStore) {
    let hook = ordered(&store, SubjectOrder::PerSubject).await;
    let any = webhook(&store, &["*"]).await;
    send(
        &store,
        &[
            ("a1", Some("event/a")),
            ("a2", Some("event/a")),
            ("b1", Some("event/b")),
            ("n1", None),
            ("a3", Some("event/a")),
        ],
    )
    .await;
    let t = now();
    let (ids, claims) = claimed(&store, t).await;
    // The unordered webhook takes all five; the ordered one the head of each subject and
    // the message about nothing.
    let to_ordered: Vec<&str> = claims
        .iter()
        .filter(|c| c.webhook.id == hook.id)
        .map(|c| c.delivery.message_id.as_str())
        .collect();
    assert_eq!(ids.len(), 5 + 3, "{ids:?}");
    let mut heads = to_ordered.clone();
    heads.sort();
    assert_eq!(heads, ["a1", "b1", "n1"]);
    let a1 = claims
        .iter()
        .find(|c| c.webhook.id == hook.id && c.delivery.message_id == "a1")
        .unwrap();
    assert_eq!(a1.delivery.subject.as_deref(), Some("event/a"));
    assert!(
        claims
            .iter()
            .filter(|c| c.webhook.id == any.id)
            .all(|c| c.delivery.subject.is_none()),
        "only ordered webhooks keep subjects"
    );
    assert!(claimed(&store, t).await.0.is_empty(), "a2 waits for a1");
    let done = outcome(t, DeliveryStatus::Delivered, None);
    assert!(store.finish_attempt(a1, &done).await.unwrap());
    let (next, claims) = claimed(&store, t + Duration::seconds(1)).await;
    assert_eq!(next, ["a2"], "then the next of its subject");
    let a2 = of(&claims, "a2");
    store.finish_attempt(a2, &done).await.unwrap();
    assert_eq!(claimed(&store, t + Duration::seconds(2)).await.0, ["a3"]);
}

pub async fn a_subject_waiting_on_a_retry_holds_up_only_itself(store: TestStore) {
    let hook = ordered(&store, SubjectOrder::PerSubject).await;
    send(
        &store,
        &[("a1", Some("person/a")), ("a2", Some("person/a"))],
    )
    .await;
    let t = now();
    let (_, claims) = claimed(&store, t).await;
    let retry_at = t + Duration::minutes(5);
    let failed = outcome(t, DeliveryStatus::Pending, Some(retry_at));
    store
        .finish_attempt(of(&claims, "a1"), &failed)
        .await
        .unwrap();
    send(&store, &[("b1", Some("person/b"))]).await;
    let (other, claims) = claimed(&store, t + Duration::seconds(1)).await;
    assert_eq!(other, ["b1"], "another subject goes on");
    let done = outcome(t, DeliveryStatus::Delivered, None);
    store.finish_attempt(&claims[0], &done).await.unwrap();
    assert_eq!(
        states(&store, &hook.id).await[1],
        ("a2".to_owned(), DeliveryStatus::Pending, false),
        "a2 waits, with no time of its own"
    );
    let (retried, claims) = claimed(&store, retry_at).await;
    assert_eq!(retried, ["a1"], "the retry comes first");
    let gave_up = outcome(retry_at, DeliveryStatus::Failed, None);
    store
        .finish_attempt(of(&claims, "a1"), &gave_up)
        .await
        .unwrap();
    assert_eq!(
        claimed(&store, retry_at).await.0,
        ["a2"],
        "a failure for good lets the subject go on"
    );
}

pub async fn coalescing_sends_only_the_latest_of_what_waits(store: TestStore) {
    let hook = ordered(&store, SubjectOrder::Coalesce).await;
    send(&store, &[("a1", Some("event/a"))]).await;
    let t = now();
    let (_, claims) = claimed(&store, t).await;
    // While a1 is in flight, three more arrive: only the newest is kept.
    send(
        &store,
        &[
            ("a2", Some("event/a")),
            ("a3", Some("event/a")),
            ("a4", Some("event/a")),
        ],
    )
    .await;
    use DeliveryStatus::{Delivered, Pending, Superseded};
    let state = |id: &str, s, due| (id.to_owned(), s, due);
    assert_eq!(
        states(&store, &hook.id).await,
        [
            state("a1", Pending, true),
            state("a2", Superseded, false),
            state("a3", Superseded, false),
            state("a4", Pending, false),
        ]
    );
    let failed = outcome(t, Pending, Some(t + Duration::minutes(5)));
    store
        .finish_attempt(of(&claims, "a1"), &failed)
        .await
        .unwrap();
    assert_eq!(
        states(&store, &hook.id).await[0],
        state("a1", Superseded, false),
        "a retry is superseded too: the latest state wins"
    );
    let (next, claims) = claimed(&store, t + Duration::seconds(1)).await;
    assert_eq!(next, ["a4"]);
    let done = outcome(t, Delivered, None);
    store
        .finish_attempt(of(&claims, "a4"), &done)
        .await
        .unwrap();
    let superseded = store
        .deliveries(
            &DeliveryFilter::of(&hook.id, Some(Superseded)),
            &PageRequest::default(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(superseded.len(), 3, "listed by their status");
}

pub async fn retries_recovery_and_turning_order_off_keep_lanes_whole(store: TestStore) {
    let hook = ordered(&store, SubjectOrder::PerSubject).await;
    send(&store, &[("a1", Some("event/a")), ("a2", Some("event/a"))]).await;
    let t = now();
    let gave_up = outcome(t, DeliveryStatus::Failed, None);
    for _ in 0..2 {
        let (_, claims) = claimed(&store, t).await;
        store.finish_attempt(&claims[0], &gave_up).await.unwrap();
    }
    assert!(
        states(&store, &hook.id)
            .await
            .iter()
            .all(|s| s.1 == DeliveryStatus::Failed)
    );
    // Recovering both puts them back in order: one due, the other behind it.
    assert_eq!(
        store
            .recover(&hook.id, t - Duration::hours(1), t)
            .await
            .unwrap(),
        2
    );
    assert_eq!(claimed(&store, t).await.0, ["a1"]);
    send(&store, &[("a3", Some("event/a"))]).await;
    // Turning the order off sends what waited.
    let mut off = store.webhook(&hook.id).await.unwrap().unwrap();
    off.order = SubjectOrder::Any;
    off.updated_at = t;
    store.update_webhook(&off).await.unwrap();
    let (rest, claims) = claimed(&store, t + Duration::seconds(10)).await;
    assert_eq!(rest, ["a2", "a3"], "a1 is still in flight");
    assert!(claims.iter().all(|c| c.delivery.subject.is_none()));
}

pub async fn own_messages_carry_their_subject_into_ordered_lanes(store: TestStore) {
    let hook = ordered(&store, SubjectOrder::PerSubject).await;
    let alice = super::user(&store, "Alice").await;
    let mut admin = alice.clone();
    admin.is_admin = true;
    admin.updated_at = now();
    store.update_user(&admin).await.unwrap();
    store.dispatch(100, now()).await.unwrap();
    let (ids, claims) = claimed(&store, now()).await;
    assert_eq!(ids.len(), 1, "user.updated waits for user.created");
    assert_eq!(claims[0].delivery.event_type, "user.created");
    assert_eq!(claims[0].webhook.id, hook.id);
    assert_eq!(
        claims[0].delivery.subject,
        Some(format!("user/{}", alice.id))
    );
}
