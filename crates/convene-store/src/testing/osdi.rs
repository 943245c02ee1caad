//! CRM sync storage: one active run per profile, leases, progress, cursors, pairs, flags.

use super::{TestStore, now, outbox_types};
use crate::{Conflict, NewProfile, Pair, Progress, RecordLog, StoreError, SyncError};
use convene_core::PersonId;
use serde_json::json;
use time::Duration;

pub(super) fn new_profile(name: &str) -> NewProfile {
    NewProfile {
        name: name.into(),
        entry_point: "http://127.0.0.1:9/api/v2/".into(),
        token_sealed: "00ff".into(),
        settings: json!({"page_size": 25}),
    }
}

pub async fn osdi_runs_are_one_per_profile_leased_and_resumable(store: TestStore) {
    let t = now();
    let p = store.create_profile(&new_profile("main"), t).await.unwrap();
    assert!(matches!(
        store.create_profile(&new_profile("main"), t).await,
        Err(StoreError::Conflict(Conflict::ProfileName))
    ));
    assert_eq!(store.profile("main").await.unwrap().unwrap().id, p.id);
    let run = store.enqueue_run(&p.id, "people", "both", t).await.unwrap();
    assert!(matches!(
        store.enqueue_run(&p.id, "tags", "both", t).await,
        Err(StoreError::Conflict(Conflict::RunActive))
    ));
    let lease = t + Duration::minutes(2);
    let claimed = store.claim_run(t, lease, None).await.unwrap().unwrap();
    assert_eq!(
        (claimed.id.as_str(), claimed.state.as_str()),
        (run.id.as_str(), "running")
    );
    assert!(
        store.claim_run(t, lease, None).await.unwrap().is_none(),
        "leased"
    );

    let records = [RecordLog {
        person_id: Some("p1".into()),
        remote_id: Some("r1".into()),
        outcome: "created_local".into(),
        fields: json!([]),
        conflicts: json!([]),
        at: t,
    }];
    let errors = [SyncError {
        kind: "http".into(),
        retryable: false,
        person_id: None,
        remote_id: Some("r2".into()),
        status: Some(404),
        excerpt: "gone".into(),
        at: t,
    }];
    let progress = Progress {
        counts: &json!({"created_local": 1}),
        resume: &json!({"phase": 0, "position": "http://x/people?page=2"}),
        records: &records,
        errors: &errors,
        lease_until: lease,
    };
    assert!(store.save_progress(&claimed, &progress).await.unwrap());

    // Its node dies; once the lease is over another takes the run with its position.
    let later = lease + Duration::seconds(1);
    let taken = store
        .claim_run(later, later + Duration::minutes(2), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.resume["position"], "http://x/people?page=2");
    assert_eq!(taken.counts["created_local"], 1);
    assert!(
        !store.save_progress(&claimed, &progress).await.unwrap(),
        "the old holder lost it"
    );
    assert!(
        !store
            .finish_run(&claimed, "completed", &json!({}), None, &[], later)
            .await
            .unwrap()
    );

    let cursor = vec![("remote_people".to_owned(), later)];
    assert!(
        store
            .finish_run(
                &taken,
                "completed",
                &json!({"created_local": 2}),
                None,
                &cursor,
                later
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.cursor(&p.id, "remote_people").await.unwrap(),
        Some(later)
    );
    assert!(
        outbox_types(&store)
            .await
            .contains(&"osdi.run.completed".to_owned())
    );
    let done = store.run(&run.id).await.unwrap().unwrap();
    assert_eq!(
        (done.state.as_str(), done.finished_at),
        ("completed", Some(later))
    );
    let logged = store.run_records(&run.id, 0, 10).await.unwrap();
    assert_eq!(
        (logged.len(), logged[0].1.outcome.as_str()),
        (1, "created_local")
    );
    assert_eq!(
        store.run_errors(&run.id, 10).await.unwrap()[0].status,
        Some(404)
    );
    // The profile is free again; a run can be claimed only by id when asked.
    let next = store
        .enqueue_run(&p.id, "tags", "remote", later)
        .await
        .unwrap();
    assert!(
        store
            .claim_run(later, lease, Some("another"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .claim_run(later, lease, Some(&next.id))
            .await
            .unwrap()
            .unwrap()
            .id,
        next.id
    );
    assert_eq!(
        store.list_runs(Some(&p.id), None, 10).await.unwrap().len(),
        2
    );
    let newest = store.list_runs(Some(&p.id), None, 1).await.unwrap();
    assert_eq!(newest[0].id, next.id);
    let older = store
        .list_runs(Some(&p.id), Some(&newest[0].id), 10)
        .await
        .unwrap();
    assert_eq!(
        older.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [run.id.as_str()]
    );
}

pub async fn osdi_pairs_tombstones_and_flags_park_what_they_name(store: TestStore) {
    let t = now();
    let p = store.create_profile(&new_profile("main"), t).await.unwrap();
    let person = PersonId::from_trusted("0193a0b4-5f6e-7c3d-8e9f-0a1b2c3d4e60".into());
    let pair = Pair {
        profile_id: p.id.clone(),
        remote_id: "r1".into(),
        person_id: person.clone(),
        remote_modified: t,
        local_modified: t,
        snapshot: json!({"given_name": "Ann"}),
        hash: "h".into(),
        last_origin: "remote".into(),
        status: "ok".into(),
    };
    store.save_pair(&pair).await.unwrap();
    store
        .save_pair(&Pair {
            status: "deleted".into(),
            ..pair.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .pair_by_person(&p.id, &person)
            .await
            .unwrap()
            .unwrap()
            .status,
        "deleted"
    );
    assert_eq!(
        store
            .pair_by_remote(&p.id, "r1")
            .await
            .unwrap()
            .unwrap()
            .snapshot,
        pair.snapshot
    );
    assert!(!store.is_tombstoned(&p.id, "r1").await.unwrap());
    store.add_tombstone(&p.id, "r1", t).await.unwrap();
    store.add_tombstone(&p.id, "r1", t).await.unwrap();
    assert!(store.is_tombstoned(&p.id, "r1").await.unwrap());

    let flag = store
        .raise_flag(
            &p.id,
            "email_conflict_remote",
            Some(person.as_str()),
            Some("r1"),
            "taken",
            t,
        )
        .await
        .unwrap();
    let again = store
        .raise_flag(
            &p.id,
            "email_conflict_remote",
            Some(person.as_str()),
            Some("r1"),
            "taken",
            t,
        )
        .await
        .unwrap();
    assert_eq!(flag.id, again.id, "one open flag per kind and ids");
    assert!(
        store
            .is_flagged(&p.id, Some(person.as_str()), None)
            .await
            .unwrap()
    );
    assert!(store.is_flagged(&p.id, None, Some("r1")).await.unwrap());
    assert!(
        !store
            .is_flagged(&p.id, Some("other"), Some("r9"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.list_flags(None, true, None, 10).await.unwrap().len(),
        1
    );
    assert!(store.resolve_flag(&flag.id, t).await.unwrap());
    assert!(!store.resolve_flag(&flag.id, t).await.unwrap());
    assert!(
        !store
            .is_flagged(&p.id, Some(person.as_str()), Some("r1"))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .list_flags(Some(&p.id), false, None, 10)
            .await
            .unwrap()[0]
            .status,
        "resolved"
    );
    assert_eq!(
        outbox_types(&store)
            .await
            .iter()
            .filter(|t| *t == "osdi.conflict.flagged")
            .count(),
        1
    );

    store
        .set_tagging(&p.id, person.as_str(), "donor", None)
        .await
        .unwrap();
    store
        .set_tagging(&p.id, person.as_str(), "donor", Some("http://x/t/1"))
        .await
        .unwrap();
    store
        .set_tagging(&p.id, person.as_str(), "donor", None)
        .await
        .unwrap();
    assert_eq!(
        store.taggings(&p.id, person.as_str()).await.unwrap(),
        [("donor".into(), Some("http://x/t/1".into()))]
    );
    assert_eq!(store.tagged(&p.id, "donor").await.unwrap().len(), 1);
    store
        .remove_tagging(&p.id, person.as_str(), "donor")
        .await
        .unwrap();
    assert!(
        store
            .taggings(&p.id, person.as_str())
            .await
            .unwrap()
            .is_empty()
    );

    assert!(store.delete_profile(&p.id).await.unwrap());
    assert!(
        store.pair_by_remote(&p.id, "r1").await.unwrap().is_none(),
        "pairs go with their profile"
    );
}
