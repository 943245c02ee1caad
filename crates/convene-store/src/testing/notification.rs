//! Notifications, preferences, the notifier's plan and the mail log.

use super::{TestStore, new_event, now, user};
use crate::{Notices, NotificationQuery, Recipients};
use convene_core::UserId;
use convene_core::event::Visibility;
use convene_core::job::JobKind;
use convene_core::mail::{MailAttempt, MailOutcome, MailStatus, NewMail};
use convene_core::notification::query::{DEFAULT_SORT, parse_filter, parse_sort};
use convene_core::notification::{Channel, Kind, NewNotification, Preference};
use convene_core::page::PageRequest;
use time::Duration;

fn note(user: &UserId, title: &str, minutes_ago: i64, key: Option<&str>) -> NewNotification {
    NewNotification {
        user: user.clone(),
        kind: Kind::Announcement,
        event: None,
        title: title.to_owned(),
        message: format!("<p>{title}</p>"),
        accept: None,
        received_at: now() - Duration::minutes(minutes_ago),
        is_read: false,
        actions: vec![],
        dedupe_key: key.map(str::to_owned),
    }
}

fn query(owner: Option<&UserId>, filter: Option<&str>, sort: Option<&str>) -> NotificationQuery {
    NotificationQuery {
        owner: owner.cloned(),
        filter: filter.map(|f| parse_filter(f).unwrap()),
        sort: sort.map_or(DEFAULT_SORT.to_vec(), |s| parse_sort(s).unwrap()),
        limit: None,
        offset: 0,
    }
}

async fn titles(store: &TestStore, q: &NotificationQuery) -> (Vec<String>, u64) {
    let (items, total) = store.query_notifications(q).await.unwrap();
    (items.into_iter().map(|n| n.title).collect(), total)
}

pub async fn notifications_filter_sort_and_page_per_owner(store: TestStore) {
    let ann = user(&store, "Ann").await;
    let bob = user(&store, "Bob").await;
    let made = store
        .insert_notifications(&[
            note(&ann.id, "Alpha", 30, Some("k1")),
            note(&ann.id, "beta", 20, None),
            note(&ann.id, "Gamma 50%", 10, None),
            note(&bob.id, "Bob's", 5, None),
            note(&ann.id, "again", 1, Some("k1")),
        ])
        .await
        .unwrap();
    assert_eq!(made.len(), 4, "a known dedupe key inserts nothing");
    store.set_read(made[1].id, true).await.unwrap();

    let mine = query(Some(&ann.id), None, None);
    assert_eq!(
        titles(&store, &mine).await,
        (vec!["Gamma 50%".into(), "beta".into(), "Alpha".into()], 3)
    );
    assert_eq!(titles(&store, &query(None, None, None)).await.1, 4);

    let unread = query(
        Some(&ann.id),
        Some(r#"[{"name":"is-read","op":"eq","val":false}]"#),
        None,
    );
    assert_eq!(titles(&store, &unread).await.1, 2);
    assert_eq!(store.unread_count(&ann.id).await.unwrap(), 2);

    let sorted = query(Some(&ann.id), None, Some("title"));
    assert_eq!(
        titles(&store, &sorted).await.0,
        vec!["Alpha", "Gamma 50%", "beta"]
    );

    let like = |op: &str, val: &str| {
        query(
            Some(&ann.id),
            Some(&format!(
                r#"[{{"name":"title","op":"{op}","val":"{val}"}}]"#
            )),
            None,
        )
    };
    assert_eq!(
        titles(&store, &like("like", "%a")).await.0,
        vec!["beta", "Alpha"]
    );
    assert_eq!(
        titles(&store, &like("like", "a%")).await.1,
        0,
        "like is case-sensitive"
    );
    assert_eq!(titles(&store, &like("ilike", "a%")).await.0, vec!["Alpha"]);
    assert_eq!(
        titles(&store, &like("contains", "50%")).await.0,
        vec!["Gamma 50%"]
    );
    assert_eq!(titles(&store, &like("ne", "beta")).await.1, 2);

    let mut page = query(Some(&ann.id), None, Some("-received-at"));
    page.limit = Some(2);
    page.offset = 2;
    assert_eq!(titles(&store, &page).await, (vec!["Alpha".into()], 3));

    let since = query(
        None,
        Some(&format!(
            r#"{{"and":[{{"name":"received-at","op":"ge","val":"{}"}},{{"name":"user","op":"has","val":{{"name":"id","op":"eq","val":"{}"}}}}]}}"#,
            (now() - Duration::minutes(15))
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap(),
            ann.id
        )),
        None,
    );
    assert_eq!(titles(&store, &since).await.0, vec!["Gamma 50%"]);

    assert_eq!(store.mark_all_read(&ann.id).await.unwrap(), 2);
    assert_eq!(store.unread_count(&ann.id).await.unwrap(), 0);
    assert!(store.delete_notification(made[0].id).await.unwrap());
    assert!(store.notification(made[0].id).await.unwrap().is_none());
    let after = store.notifications_after(made[1].id, 10).await.unwrap();
    assert_eq!(
        after.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(),
        vec!["Gamma 50%", "Bob's"]
    );
}

pub async fn preferences_and_audiences_are_stored_per_user(store: TestStore) {
    let ann = user(&store, "Ann").await;
    let bob = user(&store, "Bob").await;
    let off = Preference {
        kind: Kind::ParticipantRegistered,
        channel: Channel::Email,
        enabled: false,
        cadence: None,
    };
    store.set_preferences(&ann.id, &[off]).await.unwrap();
    store
        .set_preferences(
            &ann.id,
            &[Preference {
                enabled: true,
                ..off
            }],
        )
        .await
        .unwrap();
    assert_eq!(
        store.preferences(&ann.id).await.unwrap(),
        vec![Preference {
            enabled: true,
            ..off
        }]
    );
    assert!(store.preferences(&bob.id).await.unwrap().is_empty());

    let event = store
        .create_event(new_event("party", false), Some(&ann), now())
        .await
        .unwrap();
    store
        .register(&event, &bob, Visibility::Private, now())
        .await
        .unwrap();
    let names = |users: Vec<convene_core::user::User>| {
        users
            .into_iter()
            .map(|u| u.username.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            store
                .audience(&event.id, Recipients::Organizers)
                .await
                .unwrap()
        ),
        vec!["Ann"]
    );
    assert_eq!(
        names(
            store
                .audience(&event.id, Recipients::Participants)
                .await
                .unwrap()
        ),
        vec!["Bob"]
    );
    store
        .register(&event, &ann, Visibility::Public, now())
        .await
        .unwrap();
    assert_eq!(
        names(
            store
                .audience(&event.id, Recipients::Everyone)
                .await
                .unwrap()
        ),
        vec!["Ann", "Bob"],
        "an organizer who also registered is told once"
    );
    let mut of = store
        .preferences_of(&[ann.id.clone(), bob.id.clone()])
        .await
        .unwrap();
    of.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    assert_eq!(
        of,
        vec![(
            ann.id.clone(),
            Preference {
                enabled: true,
                ..off
            }
        )]
    );
    assert!(store.preferences_of(&[]).await.unwrap().is_empty());
}

pub(super) fn mail(to: &str, key: &str, status: MailStatus) -> NewMail {
    NewMail {
        recipient: to.to_owned(),
        user: None,
        kind: Kind::TestMail,
        subject: "Hello".into(),
        text: "Hi".into(),
        html: "<p>Hi</p>".into(),
        headers: vec![("List-Unsubscribe".into(), "<https://x/u>".into())],
        dedupe_key: key.to_owned(),
        status,
        calendar: (key == "with-invite").then(|| "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into()),
        event: None,
    }
}

pub async fn notices_are_planned_once_with_their_mail_jobs(store: TestStore) {
    let ann = user(&store, "Ann").await;
    let pending = store.unnotified(10).await.unwrap();
    assert_eq!(pending.len(), 1, "the user.created message waits");
    let notices = Notices {
        seqs: vec![pending[0].seq],
        notifications: vec![note(&ann.id, "Welcome", 0, Some("m1:ann"))],
        mails: vec![
            mail("ann@example.org", "m1:ann", MailStatus::Queued),
            mail("x@example.org", "m1:x", MailStatus::Suppressed),
        ],
        digests: Vec::new(),
    };
    store.record_notices(&notices, now()).await.unwrap();
    store.record_notices(&notices, now()).await.unwrap();
    assert!(store.unnotified(10).await.unwrap().is_empty());
    assert_eq!(
        store
            .query_notifications(&query(None, None, None))
            .await
            .unwrap()
            .1,
        1
    );
    let mails = store
        .list_mails(None, None, &PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(mails.len(), 2, "each dedupe key once");
    let queued = mails
        .iter()
        .find(|m| m.status == MailStatus::Queued)
        .unwrap();
    assert!(
        store
            .pending_job(JobKind::MailSend, &queued.id)
            .await
            .unwrap()
            .is_some()
    );
    let suppressed = mails
        .iter()
        .find(|m| m.status == MailStatus::Suppressed)
        .unwrap();
    assert!(
        store
            .pending_job(JobKind::MailSend, &suppressed.id)
            .await
            .unwrap()
            .is_none(),
        "only queued mail is sent"
    );
}

pub async fn mail_log_keeps_attempts_settings_and_suppressions(store: TestStore) {
    let written = store
        .queue_mails(&[mail("a@example.org", "t1", MailStatus::Queued)], now())
        .await
        .unwrap();
    let id = written[0].id.clone();
    let attempt = |n, ok, error: Option<&str>| MailAttempt {
        n,
        at: now(),
        provider: if ok { "http" } else { "smtp" }.into(),
        ok,
        error: error.map(str::to_owned),
    };
    store
        .record_mail(
            &id,
            &MailOutcome {
                status: MailStatus::Queued,
                provider: None,
                provider_message_id: None,
                error: Some("refused".into()),
                attempts: vec![attempt(1, false, Some("refused"))],
            },
            now(),
        )
        .await
        .unwrap();
    store
        .record_mail(
            &id,
            &MailOutcome {
                status: MailStatus::Sent,
                provider: Some("http".into()),
                provider_message_id: Some("abc".into()),
                error: None,
                attempts: vec![attempt(1, false, Some("refused")), attempt(2, true, None)],
            },
            now(),
        )
        .await
        .unwrap();
    let (m, attempts) = store.mail(&id).await.unwrap().unwrap();
    assert_eq!(
        (m.status, m.attempts, m.provider.as_deref(), m.error),
        (MailStatus::Sent, 3, Some("http"), None)
    );
    assert_eq!(
        attempts.iter().map(|a| a.n).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        m.headers,
        vec![("List-Unsubscribe".to_owned(), "<https://x/u>".to_owned())]
    );
    let sent = store
        .list_mails(Some(MailStatus::Sent), None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(sent.items.len(), 1);
    assert!(
        store
            .list_mails(Some(MailStatus::Failed), None, &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    assert_eq!(store.setting("email").await.unwrap(), None);
    let v = serde_json::json!({"from": "a@b"});
    assert_eq!(store.setting_or_insert("key", &v, now()).await.unwrap(), v);
    assert_eq!(
        store
            .setting_or_insert("key", &serde_json::json!(2), now())
            .await
            .unwrap(),
        v
    );
    store
        .put_setting("key", &serde_json::json!(3), now())
        .await
        .unwrap();
    assert_eq!(
        store.setting("key").await.unwrap(),
        Some(serde_json::json!(3))
    );

    store
        .suppress("Bounce@Example.org", "hard_bounce", now())
        .await
        .unwrap();
    assert!(store.is_suppressed("bounce@example.org").await.unwrap());
    let among = [
        "BOUNCE@example.org".to_owned(),
        "fine@example.org".to_owned(),
    ];
    assert_eq!(
        store.suppressed_among(&among).await.unwrap(),
        vec!["bounce@example.org"]
    );
    assert_eq!(
        store
            .suppressions(&PageRequest::default())
            .await
            .unwrap()
            .items[0]
            .0,
        "bounce@example.org"
    );
    assert!(store.unsuppress("BOUNCE@example.org").await.unwrap());
    assert!(!store.is_suppressed("bounce@example.org").await.unwrap());
}
