//! Conformance cases for sessions, their rooms, slide decks and queued slide changes.

use super::{TestStore, new_event, now, outbox_types, user};
use crate::{DeckRevision, JobEnd, RoomOutcome, SlideOpKind};
use convene_core::conference::{
    ConferenceStatus, GroupName, NewSession, RoomHandle, RoomRecord, SessionPatch,
};
use convene_core::event::Event;
use convene_core::job::JobKind;
use convene_core::page::PageRequest;
use convene_core::text::Title;
use convene_core::webhook::TargetUrl;
use serde_json::json;
use time::Duration;

async fn event(store: &TestStore, slug: &str) -> Event {
    let owner = user(store, &format!("Chair of {}", slug.replace('/', " "))).await;
    store
        .create_event(new_event(slug, false), Some(&owner), now())
        .await
        .unwrap()
}

fn new_session(title: &str, starts_in_hours: i64, provider: Option<&str>) -> NewSession {
    NewSession {
        title: Title::parse(title).unwrap(),
        group: GroupName::parse("wiki-club").unwrap(),
        starts_at: convene_core::clock::truncate_to_micros(
            now() + Duration::hours(starts_in_hours),
        ),
        duration_minutes: 60,
        extrainfo: String::new(),
        reminders: Default::default(),
        provider: provider.map(str::to_owned),
    }
}

fn room(starts_at: convene_core::Timestamp) -> RoomRecord {
    RoomRecord {
        handle: RoomHandle {
            provider: "meetecho".into(),
            remote_id: "3f6a".into(),
            join_url: "https://meetings.example.org/3f6a".into(),
            secret_handle: Some("del-3f6a".into()),
            data: json!({"room_id": 1}),
        },
        starts_at,
        duration_minutes: 60,
    }
}

async fn room_job_waits(store: &TestStore, id: &str) -> bool {
    store
        .pending_job(JobKind::ConferenceRoom, id)
        .await
        .unwrap()
        .is_some()
}

/// Runs (claims and finishes) every due job, as a worker would.
async fn finish_jobs(store: &TestStore) {
    let t = now();
    for job in store
        .claim_jobs(t, Duration::seconds(30), 100)
        .await
        .unwrap()
    {
        store.finish_job(&job, &JobEnd::Done, t).await.unwrap();
    }
}

pub async fn sessions_are_numbered_and_queue_their_rooms(store: TestStore) {
    let e = event(&store, "Conf/Numbers").await;
    let later = store
        .create_session(&e, new_session("Later", 5, Some("meetecho")), now())
        .await
        .unwrap();
    let sooner = store
        .create_session(&e, new_session("Sooner", 2, None), now())
        .await
        .unwrap();
    assert!(later.number > 0 && sooner.number > later.number);
    let conference = later.conference.clone().unwrap();
    assert_eq!(
        (conference.status, conference.provider.as_str()),
        (ConferenceStatus::Pending, "meetecho")
    );
    assert!(sooner.conference.is_none());
    assert!(room_job_waits(&store, later.id.as_str()).await);
    assert!(!room_job_waits(&store, sooner.id.as_str()).await);
    assert_eq!(store.session(&later.id).await.unwrap(), Some(later.clone()));
    let first = store
        .sessions(
            &e.id,
            None,
            &PageRequest {
                limit: 1,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(first.items, std::slice::from_ref(&sooner), "by start time");
    let rest = store
        .sessions(
            &e.id,
            None,
            &PageRequest {
                limit: 1,
                after: first.next_after,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items, std::slice::from_ref(&later));
    assert!(rest.next_after.is_none());
    let all = PageRequest::default();
    let found = store.sessions(&e.id, Some("ATE"), &all).await.unwrap();
    assert_eq!(
        found.items,
        std::slice::from_ref(&later),
        "by title, any case"
    );
    let none = store.sessions(&e.id, Some("%"), &all).await.unwrap();
    assert!(none.items.is_empty(), "a typed % is itself");
    assert_eq!(
        outbox_types(&store)
            .await
            .iter()
            .filter(|t| *t == "session.created")
            .count(),
        2
    );
}

pub async fn rooms_are_recorded_and_moved_with_their_session(store: TestStore) {
    let e = event(&store, "Conf/Moves").await;
    let s = store
        .create_session(&e, new_session("Talk", 3, Some("meetecho")), now())
        .await
        .unwrap();
    finish_jobs(&store).await;
    store
        .record_room(&s.id, &RoomOutcome::Ready(room(s.starts_at)), now())
        .await
        .unwrap();
    let ready = store.session(&s.id).await.unwrap().unwrap();
    let conference = ready.conference.clone().unwrap();
    assert_eq!(conference.status, ConferenceStatus::Ready);
    assert_eq!(
        conference.room,
        Some(room(s.starts_at)),
        "the handle round-trips, token included"
    );
    assert!(!ready.room_is_stale());
    let renamed = SessionPatch {
        title: Some(Title::parse("Keynote").unwrap()),
        ..SessionPatch::default()
    };
    let renamed = store
        .update_session(&s.id, renamed, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.conference.unwrap().status, ConferenceStatus::Ready);
    assert!(
        !room_job_waits(&store, s.id.as_str()).await,
        "a new title moves no room"
    );
    let moved = SessionPatch {
        starts_at: Some(s.starts_at + Duration::hours(1)),
        ..SessionPatch::default()
    };
    let moved = store
        .update_session(&s.id, moved, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        moved.conference.as_ref().unwrap().status,
        ConferenceStatus::Pending
    );
    assert!(moved.room_is_stale() && room_job_waits(&store, s.id.as_str()).await);
    store
        .record_room(
            &s.id,
            &RoomOutcome::Failed("Meetecho said 500".into()),
            now(),
        )
        .await
        .unwrap();
    let failed = store
        .session(&s.id)
        .await
        .unwrap()
        .unwrap()
        .conference
        .unwrap();
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (ConferenceStatus::Failed, Some("Meetecho said 500"))
    );
    assert_eq!(
        failed.room,
        Some(room(s.starts_at)),
        "a failed move keeps the old room's handle"
    );
    let types = outbox_types(&store).await;
    assert!(
        types.contains(&"conference.ready".to_owned())
            && types.contains(&"conference.failed".to_owned())
    );
}

pub async fn deleted_sessions_wait_for_their_room(store: TestStore) {
    let e = event(&store, "Conf/Deletes").await;
    let with_room = store
        .create_session(&e, new_session("Remote", 3, Some("meetecho")), now())
        .await
        .unwrap();
    let plain = store
        .create_session(&e, new_session("Local", 4, None), now())
        .await
        .unwrap();
    finish_jobs(&store).await;
    assert!(store.delete_session(&with_room.id, now()).await.unwrap());
    assert!(store.delete_session(&plain.id, now()).await.unwrap());
    assert!(!store.delete_session(&plain.id, now()).await.unwrap());
    assert_eq!(store.session(&with_room.id).await.unwrap(), None);
    let (kept, deleted) = store
        .session_for_room(&with_room.id)
        .await
        .unwrap()
        .unwrap();
    assert!(deleted && kept.conference.is_some());
    assert!(room_job_waits(&store, with_room.id.as_str()).await);
    assert_eq!(
        store.session_for_room(&plain.id).await.unwrap(),
        None,
        "no room: gone at once"
    );
    store
        .record_room(&with_room.id, &RoomOutcome::Removed, now())
        .await
        .unwrap();
    assert_eq!(store.session_for_room(&with_room.id).await.unwrap(), None);

    let other = event(&store, "Conf/Event_goes").await;
    let remote = store
        .create_session(&other, new_session("R", 1, Some("debug")), now())
        .await
        .unwrap();
    let local = store
        .create_session(&other, new_session("L", 1, None), now())
        .await
        .unwrap();
    finish_jobs(&store).await;
    store.delete_event(&other, now()).await.unwrap();
    assert!(
        store.session_for_room(&remote.id).await.unwrap().unwrap().1,
        "its room still has to go"
    );
    assert!(room_job_waits(&store, remote.id.as_str()).await);
    assert_eq!(store.session_for_room(&local.id).await.unwrap(), None);
}

pub async fn decks_keep_their_order_and_queue_every_change(store: TestStore) {
    let e = event(&store, "Conf/Slides").await;
    let s = store
        .create_session(&e, new_session("Slides", 1, Some("meetecho")), now())
        .await
        .unwrap();
    let url = |n: u32| TargetUrl::parse(&format!("https://example.org/slides/{n}.pdf")).unwrap();
    let mut decks = Vec::new();
    for n in 1..=3 {
        let title = Title::parse(&format!("Deck {n}")).unwrap();
        decks.push(
            store
                .add_deck(&s, title, url(n), "00".into(), now())
                .await
                .unwrap(),
        );
    }
    assert_eq!(decks.iter().map(|d| d.order).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(decks[0].number < decks[1].number && decks[1].number < decks[2].number);
    let revision = DeckRevision {
        title: None,
        url: Some(url(9)),
        rev: "01".into(),
    };
    let revised = store
        .revise_deck(&s, &decks[1].id, revision.clone(), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            revised.rev.as_str(),
            revised.url.as_str(),
            revised.title.as_str()
        ),
        ("01", url(9).as_str(), "Deck 2")
    );
    assert!(
        store
            .revise_deck(&s, &convene_core::DeckId::new(), revision, now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.delete_deck(&s, &decks[0].id, now()).await.unwrap());
    let left = store.decks(&s.id).await.unwrap();
    assert_eq!(
        left.iter().map(|d| (d.number, d.order)).collect::<Vec<_>>(),
        [(decks[1].number, 1), (decks[2].number, 2)]
    );
    let bare = store
        .create_session(&e, new_session("Bare", 2, None), now())
        .await
        .unwrap();
    let both = [s.id.as_str(), bare.id.as_str(), "no-such-session"];
    assert_eq!(
        store.decks_of_sessions(&both).await.unwrap(),
        left,
        "one read, in order"
    );
    assert!(
        store
            .reorder_decks(&s, &[decks[2].id.clone()], now())
            .await
            .unwrap()
            .is_none(),
        "every deck, once"
    );
    let reordered = store
        .reorder_decks(&s, &[decks[2].id.clone(), decks[1].id.clone()], now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reordered
            .iter()
            .map(|d| (d.number, d.order))
            .collect::<Vec<_>>(),
        [(decks[2].number, 1), (decks[1].number, 2)]
    );
    let ops = store.slide_ops(&s.id).await.unwrap();
    let kinds: Vec<SlideOpKind> = ops.iter().map(|o| o.kind).collect();
    use SlideOpKind::*;
    assert_eq!(kinds, [Add, Add, Add, Revise, Delete, Update]);
    assert_eq!(ops[4].deck_number, Some(decks[0].number));
    assert_eq!(ops[5].deck_number, None);
    assert!(
        store
            .pending_job(JobKind::ConferenceSlides, s.id.as_str())
            .await
            .unwrap()
            .is_some()
    );
    store.drop_slide_ops(&s.id, ops[3].seq).await.unwrap();
    assert_eq!(store.slide_ops(&s.id).await.unwrap(), ops[4..]);
    let updates = outbox_types(&store)
        .await
        .iter()
        .filter(|t| *t == "slides.updated")
        .count();
    assert_eq!(updates, 6);
}
