use super::{TestStore, now};
use crate::JobEnd;
use convene_core::job::JobKind;
use serde_json::{Value, json};
use time::Duration;

async fn connector_failures(store: &TestStore) -> Vec<Value> {
    let messages = store.outbox_after(0, 1000).await.unwrap();
    messages
        .into_iter()
        .filter(|m| m.event_type.as_str() == "connector.failed")
        .map(|m| m.data)
        .collect()
}

/// Work that fails for good is announced once, in the transaction that records it; a retry or
/// work that changed while it ran (and so runs again) is not a terminal failure.
pub async fn connector_work_that_fails_for_good_is_announced(store: TestStore) {
    let t = now();
    let lease = Duration::seconds(30);
    let run = |subject: &'static str, end: JobEnd, changed_meanwhile: bool| {
        let store = store.clone();
        async move {
            let job = store.pending_job(JobKind::MailSend, subject).await.unwrap();
            let at = job.map_or(t, |j| j.next_attempt_at);
            let claimed = store.claim_jobs(at, lease, 10).await.unwrap();
            let job = claimed.iter().find(|j| j.subject == subject).unwrap();
            if changed_meanwhile {
                store
                    .enqueue_job(JobKind::MailSend, subject, &json!({}), at)
                    .await
                    .unwrap();
            }
            assert!(store.finish_job(job, &end, at).await.unwrap());
        }
    };
    let enqueue = |subject: &'static str| {
        let store = store.clone();
        async move {
            let payload = json!({});
            let queued = store.enqueue_job(JobKind::MailSend, subject, &payload, t);
            queued.await.unwrap();
        }
    };
    enqueue("mail-1").await;
    let retry = JobEnd::RetryAt {
        at: t + Duration::minutes(1),
        error: "connection refused".into(),
    };
    run("mail-1", retry, false).await;
    assert!(
        connector_failures(&store).await.is_empty(),
        "a retry is not the end"
    );

    run("mail-1", JobEnd::Failed("550 no such user".into()), false).await;
    assert_eq!(
        connector_failures(&store).await,
        [
            json!({"connector": "mail", "kind": "mail.send", "subject": "mail-1",
                "error": "550 no such user"})
        ]
    );

    enqueue("mail-2").await;
    run("mail-2", JobEnd::Failed("timeout".into()), true).await;
    assert_eq!(
        connector_failures(&store).await.len(),
        1,
        "changed while it ran: sent again"
    );
    let both = store
        .jobs_of_subjects(&["mail-1", "mail-2", "mail-3"], 10)
        .await
        .unwrap();
    let mut seen: Vec<_> = both
        .iter()
        .map(|j| (j.subject.as_str(), j.given_up))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [("mail-1", true), ("mail-2", false)],
        "waiting or given up"
    );
    let given_up = both.iter().find(|j| j.given_up).unwrap();
    assert_eq!(given_up.last_error.as_deref(), Some("550 no such user"));
    run("mail-2", JobEnd::Done, false).await;
    assert_eq!(connector_failures(&store).await.len(), 1);
    let left = store.jobs_of_subjects(&["mail-2"], 10).await.unwrap();
    assert!(left.is_empty(), "a job done is gone");
    assert!(
        store
            .pending_job(JobKind::MailSend, "mail-2")
            .await
            .unwrap()
            .is_none()
    );
}
