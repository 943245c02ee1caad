//! Conformance cases for reminders: planned with their event or session, moved with it, and
//! settled once however many settle them.

use super::{TestStore, new_event, now, outbox_types, user};
use crate::{DueReminder, Settle};
use convene_core::conference::{GroupName, NewSession};
use convene_core::event::EventPatch;
use convene_core::outbound::OutboundEvent;
use convene_core::reminder::Reminders;
use convene_core::text::Title;
use convene_core::user::Change;
use time::Duration;

fn send(r: &DueReminder, event: &convene_core::event::Event) -> (DueReminder, Settle) {
    let message = OutboundEvent::reminder_due(event, None, &r.label);
    (r.clone(), Settle::Send(message))
}

fn reminder_count(types: &[String]) -> usize {
    types.iter().filter(|t| *t == "event.reminder_due").count()
}

pub async fn reminders_are_planned_moved_and_settled_once(store: TestStore) {
    let t0 = convene_core::clock::truncate_to_micros(now());
    let owner = user(&store, "Remy").await;
    let start = t0 + Duration::days(2);
    let mut new = new_event("reminded", false);
    new.starts_at = Some(start);
    let event = store.create_event(new, Some(&owner), t0).await.unwrap();
    assert_eq!(
        store.next_reminder().await.unwrap(),
        Some(start - Duration::hours(24))
    );
    assert!(
        store
            .due_reminders(start - Duration::hours(25), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A moved start moves what is planned.
    let moved = start + Duration::hours(3);
    let patch = EventPatch {
        starts_at: Change::Set(moved),
        ..EventPatch::default()
    };
    store.update_event(&event.id, patch, t0).await.unwrap();
    assert!(
        store
            .due_reminders(start - Duration::hours(24), 10)
            .await
            .unwrap()
            .is_empty(),
        "the old time is gone"
    );
    let due = store
        .due_reminders(moved - Duration::hours(24), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].label.as_str(), due[0].offset_s, due[0].starts_at),
        ("24h", 86_400, moved)
    );
    assert_eq!(
        (due[0].subject.as_str(), &due[0].event, &due[0].session),
        (event.id.as_str(), &event.id, &None)
    );

    // Two nodes settling the same reminder send it once.
    let event = store.event_by_id(&event.id).await.unwrap().unwrap();
    let settle = [send(&due[0], &event)];
    let at = moved - Duration::hours(24);
    let (a, b) = tokio::join!(
        store.settle_reminders(&settle, at),
        store.settle_reminders(&settle, at)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(store.settle_reminders(&settle, at).await.unwrap(), 0);
    assert_eq!(reminder_count(&outbox_types(&store).await), 1);

    // Writing the event again at the same start does not plan the settled one again.
    let patch = EventPatch {
        title: Some(Title::parse("Renamed").unwrap()),
        ..EventPatch::default()
    };
    store.update_event(&event.id, patch, at).await.unwrap();
    let due = store
        .due_reminders(moved - Duration::minutes(30), 10)
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(),
        ["1h"]
    );
    store
        .settle_reminders(&[(due[0].clone(), Settle::PassOver)], at)
        .await
        .unwrap();
    assert_eq!(
        reminder_count(&outbox_types(&store).await),
        1,
        "passed over: no message"
    );
    assert_eq!(store.next_reminder().await.unwrap(), None);

    // Sessions plan their own; only offsets still ahead are planned; a deleted session's go.
    let session_start = t0 + Duration::hours(3);
    let new = NewSession {
        title: Title::parse("Opening").unwrap(),
        group: GroupName::parse("wiki-club").unwrap(),
        starts_at: session_start,
        duration_minutes: 30,
        extrainfo: String::new(),
        reminders: Reminders::default(),
        provider: None,
    };
    let session = store.create_session(&event, new, t0).await.unwrap();
    let due = store.due_reminders(session_start, 10).await.unwrap();
    assert_eq!(
        due.len(),
        1,
        "24h before a start 3 h away has passed: {due:?}"
    );
    assert_eq!(
        (due[0].label.as_str(), due[0].session.as_ref()),
        ("1h", Some(&session.id))
    );
    store.delete_session(&session.id, t0).await.unwrap();
    assert!(
        store
            .due_reminders(session_start, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // No offsets, no plan; a deleted event takes its plan with it.
    let mut quiet = new_event("quiet", false);
    quiet.starts_at = Some(start);
    quiet.reminders = Reminders::none();
    store.create_event(quiet, Some(&owner), t0).await.unwrap();
    let mut gone = new_event("gone", false);
    gone.starts_at = Some(start);
    let gone = store.create_event(gone, Some(&owner), t0).await.unwrap();
    assert_eq!(
        store.due_reminders(start, 10).await.unwrap().len(),
        2,
        "gone's two"
    );
    store.delete_event(&gone, t0).await.unwrap();
    assert!(
        store
            .due_reminders(start + Duration::days(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
