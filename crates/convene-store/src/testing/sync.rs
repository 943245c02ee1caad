//! Conformance cases for both sides of the Event Center ↔ Dashboard protocol and for jobs.

use super::{TestStore, new_event, now, outbox_types, user};
use crate::{JobEnd, LinkWrite};
use convene_core::event::{Event, Visibility};
use convene_core::job::JobKind;
use convene_core::page::PageRequest;
use convene_core::sync::{
    CenterEventId, DashboardLink, Direction, Endpoint, SyncCall, dashboard_base, wanted_names,
};
use convene_core::username::Username;
use time::Duration;

async fn event(store: &TestStore, slug: &str) -> Event {
    let owner = user(store, &format!("Owner of {}", slug.replace('/', " "))).await;
    store
        .create_event(new_event(slug, false), Some(&owner), now())
        .await
        .unwrap()
}

fn center(id: &str) -> CenterEventId {
    CenterEventId::parse(id).unwrap()
}

fn names(list: &[Username]) -> Vec<&str> {
    list.iter().map(Username::as_str).collect()
}

fn link(event: &Event, course: &str) -> DashboardLink {
    DashboardLink {
        event: event.id.clone(),
        base_url: dashboard_base("https://dashboard.example.org").unwrap(),
        course_slug: course.to_owned(),
        secret: "s3cret".into(),
        linked_at: now(),
        last_push_at: None,
        last_push_result: None,
    }
}

pub async fn sync_links_enable_once_and_disable_only_with_their_id(store: TestStore) {
    let course = event(&store, "Uni/Course_(2026)").await;
    assert!(
        store
            .enable_sync(&course, &center("42"), now())
            .await
            .unwrap()
    );
    let linked = store.event_by_id(&course.id).await.unwrap().unwrap();
    assert_eq!(linked.sync.as_ref().unwrap().event_id.as_str(), "42");
    assert!(
        !store
            .enable_sync(&course, &center("43"), now())
            .await
            .unwrap()
    );
    assert!(
        !store
            .disable_sync(&course, &center("43"), now())
            .await
            .unwrap()
    );
    assert!(
        store
            .disable_sync(&course, &center("42"), now())
            .await
            .unwrap()
    );
    assert!(
        store
            .event_by_id(&course.id)
            .await
            .unwrap()
            .unwrap()
            .sync
            .is_none()
    );
    let types = outbox_types(&store).await;
    assert_eq!(
        types
            .iter()
            .filter(|t| t.starts_with("event_sync."))
            .collect::<Vec<_>>(),
        ["event_sync.enabled", "event_sync.disabled"]
    );
}

pub async fn rosters_are_replaced_exactly_and_only_while_linked(store: TestStore) {
    let course = event(&store, "Uni/Roster").await;
    let owner = store.organizers(&course.id).await.unwrap()[0].clone();
    user(&store, "Bob smith").await;
    let carol = user(&store, "Carol").await;
    store
        .register(&course, &carol, Visibility::Private, now())
        .await
        .unwrap();
    let (wanted, _) = wanted_names([owner.username.as_str(), "bob_smith", "Dave", "Erin"]);
    let dave = Username::parse("Dave").unwrap();
    assert_eq!(
        store
            .apply_roster(
                &course,
                &center("7"),
                &wanted,
                std::slice::from_ref(&dave),
                now()
            )
            .await
            .unwrap(),
        None,
        "not linked: nothing happens"
    );
    store
        .enable_sync(&course, &center("7"), now())
        .await
        .unwrap();
    let change = store
        .apply_roster(
            &course,
            &center("7"),
            &wanted,
            std::slice::from_ref(&dave),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
    let mut added = names(&change.added);
    added.sort_unstable();
    assert_eq!(added, ["Bob smith", "Dave", owner.username.as_str()]);
    assert_eq!(names(&change.removed), ["Carol"]);
    assert_eq!(names(&change.created), ["Dave"]);
    assert_eq!(names(&change.skipped), ["Erin"]);
    assert!(store.user_by_name(&dave).await.unwrap().is_some());
    assert_eq!(
        store.organizers(&course.id).await.unwrap().len(),
        1,
        "organizers stay"
    );
    let listed = store
        .participants(
            &course.id,
            true,
            None,
            &PageRequest {
                limit: 50,
                after: None,
            },
        )
        .await
        .unwrap();
    assert!(
        listed
            .items
            .iter()
            .all(|p| p.visibility == Visibility::Public)
    );
    assert_eq!(listed.items.len(), 3);

    let again = store
        .apply_roster(&course, &center("7"), &wanted, &[], now())
        .await
        .unwrap()
        .unwrap();
    assert!(again.added.is_empty() && again.removed.is_empty());
    let updates: Vec<_> = store
        .outbox_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.event_type.as_str() == "event_sync.participants_updated")
        .collect();
    assert_eq!(updates.len(), 1, "an unchanged list emits nothing");
    assert_eq!(
        updates[0].data["event_sync"]["removed"],
        serde_json::json!(["Carol"])
    );
    let order: Vec<(String, String)> = store
        .outbox_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            let who = m.data.as_object().unwrap().values().next().unwrap()["username"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (m.event_type.as_str().to_owned(), who)
        })
        .collect();
    let at = |t: &str| {
        order
            .iter()
            .position(|(ty, who)| ty == t && who == "Dave")
            .unwrap()
    };
    assert!(
        at("user.created") < at("participant.registered"),
        "{order:?}"
    );

    // A large list moves in one call, both ways.
    let many: Vec<String> = (0..1500).map(|i| format!("Crowd member {i}")).collect();
    let (crowd, _) = wanted_names(many.iter().map(String::as_str));
    let crowd_list: Vec<Username> = crowd.iter().cloned().collect();
    let change = store
        .apply_roster(&course, &center("7"), &crowd, &crowd_list, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((change.added.len(), change.removed.len()), (1500, 3));
    let (back, _) = wanted_names(["Dave"]);
    let change = store
        .apply_roster(&course, &center("7"), &back, &[], now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((change.added.len(), change.removed.len()), (1, 1500));
    assert_eq!(
        store
            .unknown_usernames(&[dave, Username::parse("Zed").unwrap()])
            .await
            .unwrap(),
        [Username::parse("Zed").unwrap()]
    );
}

pub async fn public_list_changes_queue_one_coalesced_push(store: TestStore) {
    let course = event(&store, "Push/One").await;
    let subject = course.id.as_str();
    let (ann, ben) = (user(&store, "Ann").await, user(&store, "Ben").await);
    store
        .register(&course, &ann, Visibility::Public, now())
        .await
        .unwrap();
    assert!(
        store
            .pending_job(JobKind::DashboardPush, subject)
            .await
            .unwrap()
            .is_none(),
        "not linked"
    );
    assert_eq!(
        store
            .put_dashboard_link(&link(&course, "X/Y"))
            .await
            .unwrap(),
        LinkWrite::Created
    );
    let first = store
        .pending_job(JobKind::DashboardPush, subject)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.generation, 1, "linking queues a first push");
    store
        .register(&course, &ben, Visibility::Private, now())
        .await
        .unwrap();
    let job = store
        .pending_job(JobKind::DashboardPush, subject)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        job.generation, 1,
        "a private registration changes no public list"
    );
    store
        .register(&course, &ben, Visibility::Public, now())
        .await
        .unwrap();

    let t = now();
    let claimed = store
        .claim_jobs(t, Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].generation, 2);
    assert!(
        store
            .claim_jobs(t, Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    store.cancel(&course, &ann.id, now()).await.unwrap();
    assert!(
        store
            .finish_job(&claimed[0], &JobEnd::Done, t)
            .await
            .unwrap()
    );
    let again = store
        .claim_jobs(t, Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "a change while it ran sends again");
    assert_eq!(again[0].id, claimed[0].id, "one waiting job per subject");
    assert!(
        !store
            .finish_job(&claimed[0], &JobEnd::Done, t)
            .await
            .unwrap(),
        "old lease"
    );
    assert!(store.finish_job(&again[0], &JobEnd::Done, t).await.unwrap());
    assert!(
        store
            .pending_job(JobKind::DashboardPush, subject)
            .await
            .unwrap()
            .is_none()
    );

    assert!(store.delete_user(&ben, now()).await.unwrap());
    let t = now();
    let job = store
        .claim_jobs(t, Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(
        job.len(),
        1,
        "deleting a public participant changes the list"
    );
    let later = t + Duration::minutes(5);
    let retry = JobEnd::RetryAt {
        at: later,
        error: "timeout".into(),
    };
    assert!(store.finish_job(&job[0], &retry, t).await.unwrap());
    assert!(
        store
            .claim_jobs(t, Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let job = store
        .claim_jobs(later, Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(
        (job[0].attempts, job[0].last_error.as_deref()),
        (1, Some("timeout"))
    );
    assert!(
        store
            .finish_job(&job[0], &JobEnd::Failed("refused".into()), later)
            .await
            .unwrap()
    );
    assert!(
        store
            .pending_job(JobKind::DashboardPush, subject)
            .await
            .unwrap()
            .is_none()
    );
    store
        .enqueue_job(
            JobKind::DashboardPush,
            subject,
            &serde_json::json!({}),
            later,
        )
        .await
        .unwrap();
    assert!(
        store
            .pending_job(JobKind::DashboardPush, subject)
            .await
            .unwrap()
            .is_some(),
        "queued anew"
    );
    let logs_before = |t| crate::Cutoffs {
        logs: t,
        ..super::retention::keep_all()
    };
    let purge = |t| {
        let store = store.clone();
        async move { store.purge_batch(&logs_before(t), 100).await.unwrap().logs }
    };
    assert_eq!(purge(later).await, 0, "not old enough");
    assert_eq!(
        purge(later + Duration::seconds(1)).await,
        1,
        "the failed job; the pending one stays"
    );
    assert!(
        store
            .pending_job(JobKind::DashboardPush, subject)
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn dashboard_links_are_written_once_and_deleted_with_their_push(store: TestStore) {
    let course = event(&store, "Link/One").await;
    let (zoe, amy) = (user(&store, "Zoe").await, user(&store, "Amy").await);
    store
        .register(&course, &zoe, Visibility::Public, now())
        .await
        .unwrap();
    store
        .register(&course, &amy, Visibility::Public, now())
        .await
        .unwrap();
    store
        .register(
            &course,
            &user(&store, "Pat").await,
            Visibility::Private,
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        names(&store.public_usernames(&course.id).await.unwrap()),
        ["Amy", "Zoe"]
    );
    assert_eq!(
        store
            .put_dashboard_link(&link(&course, "A/B"))
            .await
            .unwrap(),
        LinkWrite::Created
    );
    let mut rotated = link(&course, "A/B");
    rotated.secret = "new".into();
    assert_eq!(
        store.put_dashboard_link(&rotated).await.unwrap(),
        LinkWrite::Kept
    );
    assert_eq!(
        store
            .put_dashboard_link(&link(&course, "C/D"))
            .await
            .unwrap(),
        LinkWrite::LinkedElsewhere
    );
    let t = now();
    store.record_push(&course.id, "success", t).await.unwrap();
    let stored = store.dashboard_link(&course.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.secret.as_str(), stored.course_slug.as_str()),
        ("new", "A/B")
    );
    assert_eq!(stored.last_push_at, Some(t));
    assert_eq!(stored.last_push_result.as_deref(), Some("success"));
    assert!(store.delete_dashboard_link(&course.id).await.unwrap());
    assert!(!store.delete_dashboard_link(&course.id).await.unwrap());
    assert!(
        store
            .pending_job(JobKind::DashboardPush, course.id.as_str())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn sync_calls_are_listed_newest_first_and_survive_their_event(store: TestStore) {
    let course = event(&store, "Log/One").await;
    let call = |n: u32| SyncCall {
        id: format!("{:020}", now().unix_timestamp_nanos() + i128::from(n)),
        event: Some(course.id.clone()),
        direction: Direction::Inbound,
        endpoint: Endpoint::Update,
        course_slug: "Log/One".into(),
        center_event_id: Some("9".into()),
        dry_run: n == 0,
        outcome: "success".into(),
        status: Some(200),
        added: n,
        removed: 0,
        skipped: 0,
        detail: None,
        at: now(),
    };
    for n in 0..3 {
        store.record_sync_call(&call(n)).await.unwrap();
    }
    let first = store
        .sync_calls(
            &course.id,
            &PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        first.items.iter().map(|c| c.added).collect::<Vec<_>>(),
        [2, 1]
    );
    let rest = store
        .sync_calls(
            &course.id,
            &PageRequest {
                limit: 2,
                after: first.next_after.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    let stored = &rest.items[0];
    assert_eq!(
        *stored,
        SyncCall {
            id: stored.id.clone(),
            at: stored.at,
            ..call(0)
        }
    );
    assert!(rest.next_after.is_none());
    store.delete_event(&course, now()).await.unwrap();
    store.record_sync_call(&call(5)).await.unwrap();
}
