//! Conformance case for digests: items wait for their time, and leave only with the one mail
//! that carries them, however many nodes try.

use super::notification::mail;
use super::{TestStore, now, user};
use crate::{NewDigestItem, Notices};
use convene_core::job::JobKind;
use convene_core::mail::MailStatus;
use convene_core::notification::{Cadence, Channel, Kind, Preference};
use convene_core::page::PageRequest;
use time::Duration;

fn item(
    user: &convene_core::UserId,
    key: &str,
    cadence: Cadence,
    due: convene_core::Timestamp,
) -> NewDigestItem {
    NewDigestItem {
        user: user.clone(),
        kind: Kind::ParticipantRegistered,
        cadence,
        due_at: due,
        title: format!("title {key}"),
        message: format!("<b>{key}</b>"),
        text: format!("text {key}"),
        dedupe_key: key.to_owned(),
    }
}

pub async fn digest_items_leave_once_with_their_mail(store: TestStore) {
    let t0 = convene_core::clock::truncate_to_micros(now());
    let ann = user(&store, "Ann").await;
    let bob = user(&store, "Bob").await;
    let morning = t0 + Duration::hours(10);
    let notices = Notices {
        digests: vec![
            item(&ann.id, "a1", Cadence::Daily, morning),
            item(&ann.id, "a2", Cadence::Daily, morning),
            item(&ann.id, "a1", Cadence::Daily, morning),
            item(&ann.id, "w1", Cadence::Weekly, morning + Duration::days(3)),
            item(&bob.id, "b1", Cadence::Daily, morning + Duration::hours(1)),
        ],
        ..Notices::default()
    };
    store.record_notices(&notices, t0).await.unwrap();
    store.record_notices(&notices, t0).await.unwrap();
    assert_eq!(store.next_digest().await.unwrap(), Some(morning));
    assert!(
        store
            .due_digests(morning - Duration::seconds(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = store
        .due_digests(morning + Duration::hours(2), 10)
        .await
        .unwrap();
    assert_eq!(
        due,
        [
            (ann.id.clone(), Cadence::Daily),
            (bob.id.clone(), Cadence::Daily)
        ],
        "the longest waiting first; the weekly one later"
    );
    let items = store
        .digest_items(&ann.id, Cadence::Daily, morning)
        .await
        .unwrap();
    let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles,
        ["title a1", "title a2"],
        "once per key, oldest first"
    );
    assert_eq!(
        (items[0].message.as_str(), items[0].text.as_str()),
        ("<b>a1</b>", "text a1")
    );

    let digest = mail("ann@example.org", "digest:ann", MailStatus::Queued);
    assert!(
        store
            .record_digest(&items, Some(&digest), morning)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_digest(&items, Some(&digest), morning)
            .await
            .unwrap(),
        "a second node finds them gone and writes nothing"
    );
    assert!(
        store
            .digest_items(&ann.id, Cadence::Daily, morning)
            .await
            .unwrap()
            .is_empty()
    );
    let mails = store
        .list_mails(None, None, &PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(mails.len(), 1);
    assert!(
        store
            .pending_job(JobKind::MailSend, &mails[0].id)
            .await
            .unwrap()
            .is_some()
    );

    // Without an address the items just go; the weekly one still waits for its day.
    let bobs = store
        .digest_items(&bob.id, Cadence::Daily, morning + Duration::hours(1))
        .await
        .unwrap();
    assert!(store.record_digest(&bobs, None, morning).await.unwrap());
    assert_eq!(
        store.next_digest().await.unwrap(),
        Some(morning + Duration::days(3))
    );
    assert_eq!(
        store
            .list_mails(None, None, &PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // A cadence is kept on the mail switch, and a switch changed without one keeps it.
    let daily = Preference {
        kind: Kind::ParticipantRegistered,
        channel: Channel::Email,
        enabled: true,
        cadence: Some(Cadence::Weekly),
    };
    store.set_preferences(&ann.id, &[daily]).await.unwrap();
    let off = Preference {
        enabled: false,
        cadence: None,
        ..daily
    };
    store.set_preferences(&ann.id, &[off]).await.unwrap();
    assert_eq!(
        store.preferences(&ann.id).await.unwrap(),
        [Preference {
            enabled: false,
            ..daily
        }]
    );
}
