//! Retention: only what is final and older than its kind's cutoff goes, a batch at a time.

use super::delivery::{Shorthands, attempt, signal, webhook};
use super::notification::mail;
use super::osdi::new_profile;
use super::{TestStore, now, user};
use crate::{AttemptRecord, Cutoffs, Notices, Progress, RecordLog};
use convene_core::Timestamp;
use convene_core::mail::{MailOutcome, MailStatus};
use convene_core::notification::{Kind, NewNotification};
use convene_core::webhook::DeliveryStatus;
use serde_json::json;
use time::Duration;

/// Cutoffs that keep everything: nothing was final before 1970.
pub(super) fn keep_all() -> Cutoffs {
    let never = Timestamp::UNIX_EPOCH;
    Cutoffs {
        messages: never,
        mail: never,
        notifications: never,
        logs: never,
    }
}

pub async fn retention_removes_only_final_rows_older_than_their_cutoff(store: TestStore) {
    let t0 = now();
    let (cutoff, t1) = (t0 + Duration::minutes(1), t0 + Duration::minutes(2));
    webhook(&store, &["*"]).await;
    for id in ["done", "failed", "retrying"] {
        store.ingest_signal(signal(id, "custom.a")).await.unwrap();
    }
    let mut young = signal("young", "custom.a");
    young.occurred_at = t1;
    store.ingest_signal(young).await.unwrap();
    store.dispatch(10, t0).await.unwrap();
    let seqs = store
        .unnotified(10)
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq)
        .collect();
    store
        .record_notices(
            &Notices {
                seqs,
                ..Notices::default()
            },
            t0,
        )
        .await
        .unwrap();
    let claims = store
        .claim_due(t0, Duration::seconds(30), 10)
        .await
        .unwrap();
    let delivery_of = |message: &str| {
        claims
            .iter()
            .find(|c| c.delivery.message_id == message)
            .unwrap()
    };
    for (message, status, at) in [
        ("done", DeliveryStatus::Delivered, t0),
        ("failed", DeliveryStatus::Failed, t0),
        ("retrying", DeliveryStatus::Pending, t0),
        ("young", DeliveryStatus::Delivered, t1),
    ] {
        let record = AttemptRecord {
            attempt: attempt(at, Some(500), None),
            status,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(t0 + Duration::hours(1)),
        };
        assert!(
            store
                .finish_attempt(delivery_of(message), &record)
                .await
                .unwrap()
        );
    }

    let reader = user(&store, "Reader").await;
    let note = |title: &str, at, is_read| NewNotification {
        user: reader.id.clone(),
        kind: Kind::Announcement,
        event: None,
        title: title.into(),
        message: String::new(),
        accept: None,
        received_at: at,
        is_read,
        actions: vec![],
        dedupe_key: None,
    };
    let notes = [
        note("old read", t0, true),
        note("old unread", t0, false),
        note("young read", t1, true),
    ];
    store.insert_notifications(&notes).await.unwrap();

    let mails = [
        mail("a@example.org", "sent", MailStatus::Queued),
        mail("b@example.org", "queued", MailStatus::Queued),
    ];
    let mails = store.queue_mails(&mails, t0).await.unwrap();
    let sent = MailOutcome {
        status: MailStatus::Sent,
        provider: Some("smtp".into()),
        provider_message_id: None,
        error: None,
        attempts: vec![],
    };
    store.record_mail(&mails[0].id, &sent, t0).await.unwrap();

    let profile = store
        .create_profile(&new_profile("kept"), t0)
        .await
        .unwrap();
    let run = store
        .enqueue_run(&profile.id, "people", "both", t0)
        .await
        .unwrap();
    let run = store
        .claim_run(t0, t1, Some(&run.id))
        .await
        .unwrap()
        .unwrap();
    let records = [RecordLog {
        person_id: None,
        remote_id: Some("r1".into()),
        outcome: "skipped".into(),
        fields: json!([]),
        conflicts: json!([]),
        at: t0,
    }];
    let progress = Progress {
        counts: &json!({}),
        resume: &json!(null),
        records: &records,
        errors: &[],
        lease_until: t1,
    };
    assert!(store.save_progress(&run, &progress).await.unwrap());
    assert!(
        store
            .finish_run(&run, "completed", &json!({}), None, &[], t0)
            .await
            .unwrap()
    );
    let running = store
        .enqueue_run(&profile.id, "people", "both", t0)
        .await
        .unwrap();
    store
        .claim_run(t0, t1, Some(&running.id))
        .await
        .unwrap()
        .unwrap();
    // Mail jobs were queued above; the one that failed for good is a log, the pending ones work.
    let jobs = store
        .claim_jobs(t0, Duration::seconds(30), 10)
        .await
        .unwrap();
    let failed = crate::JobEnd::Failed("gave up".into());
    assert!(store.finish_job(&jobs[0], &failed, t0).await.unwrap());
    let pending_jobs = jobs.len() - 1;

    let cutoffs = Cutoffs {
        messages: cutoff,
        mail: cutoff,
        notifications: cutoff,
        logs: cutoff,
    };
    let first = store.purge_batch(&cutoffs, 1).await.unwrap();
    assert_eq!(
        (first.deliveries, first.attempts, first.messages),
        (1, 1, 1),
        "a batch of one"
    );
    assert!(first.more_after(1));
    let rest = store.purge_batch(&cutoffs, 100).await.unwrap();
    assert_eq!((rest.deliveries, rest.attempts, rest.messages), (1, 1, 1));
    assert_eq!(
        (
            first.mails + rest.mails,
            first.notifications + rest.notifications
        ),
        (1, 1)
    );
    // The finished run with its record, and the failed job.
    assert_eq!(first.logs + rest.logs, 3);
    assert!(!rest.more_after(100));
    assert_eq!(
        store.purge_batch(&cutoffs, 100).await.unwrap(),
        crate::Purged::default(),
        "nothing left to purge"
    );

    for (message, kept) in [
        ("done", false),
        ("failed", false),
        ("retrying", true),
        ("young", true),
    ] {
        let id = &delivery_of(message).delivery.id;
        assert_eq!(
            store.delivery(id).await.unwrap().is_some(),
            kept,
            "{message}"
        );
    }
    // Messages emitted after the dispatch above are not dispatched yet: they stay too.
    let signals = ["done", "failed", "retrying", "young"];
    let left: Vec<String> = store
        .outbox_after(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .filter(|id| signals.contains(&id.as_str()))
        .collect();
    assert_eq!(
        left,
        ["retrying", "young"],
        "a pending delivery keeps its message"
    );
    assert_eq!(store.unread_count(&reader.id).await.unwrap(), 1);
    assert!(
        store
            .notifications_after(0, 10)
            .await
            .unwrap()
            .iter()
            .all(|n| n.title != "old read")
    );
    assert!(store.mail(&mails[0].id).await.unwrap().is_none());
    assert!(
        store.mail(&mails[1].id).await.unwrap().is_some(),
        "still queued"
    );
    assert!(store.run(&run.id).await.unwrap().is_none());
    assert!(
        store.run(&running.id).await.unwrap().is_some(),
        "still running"
    );
    let still_pending = store
        .claim_jobs(t1, Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(still_pending.len(), pending_jobs, "pending jobs stay");
}
