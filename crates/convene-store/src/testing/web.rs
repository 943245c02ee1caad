//! The admin web UI's sign-in state.

use super::{TestStore, now, user};
use time::Duration;

pub async fn web_sessions_expire_and_failures_count_per_name(store: TestStore) {
    let ann = user(&store, "Ann").await;
    assert_eq!(store.password_hash(&ann.id).await.unwrap(), None);
    assert!(
        store
            .set_password(&ann.id, "$argon2id$v=19$x")
            .await
            .unwrap()
    );
    assert_eq!(
        store.password_hash(&ann.id).await.unwrap().as_deref(),
        Some("$argon2id$v=19$x")
    );
    assert!(
        !store
            .set_password(&convene_core::UserId::new(), "h")
            .await
            .unwrap()
    );

    let t = now();
    store
        .create_web_session("digest-1", &ann.id, "csrf-1", t, t + Duration::hours(1))
        .await
        .unwrap();
    let s = store.web_session("digest-1", t).await.unwrap().unwrap();
    assert_eq!(
        (s.user.username.as_str(), s.csrf.as_str()),
        ("Ann", "csrf-1")
    );
    assert!(
        store
            .web_session("digest-1", t + Duration::hours(2))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(store.web_session("digest-2", t).await.unwrap().is_none());
    store
        .create_web_session(
            "digest-2",
            &ann.id,
            "csrf-2",
            t + Duration::hours(2),
            t + Duration::hours(3),
        )
        .await
        .unwrap();
    assert!(
        store.web_session("digest-1", t).await.unwrap().is_none(),
        "expired sessions are swept"
    );
    store.delete_web_session("digest-2").await.unwrap();
    assert!(
        store
            .web_session("digest-2", t + Duration::hours(2))
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(store.login_failed("ann", t).await.unwrap(), 1);
    assert_eq!(store.login_failed("ann", t).await.unwrap(), 2);
    assert_eq!(store.login_failed("nobody", t).await.unwrap(), 1);
    assert_eq!(store.login_locked("ann", t).await.unwrap(), None);
    store
        .lock_login("ann", t + Duration::minutes(1))
        .await
        .unwrap();
    assert!(store.login_locked("ann", t).await.unwrap().is_some());
    assert_eq!(
        store
            .login_locked("ann", t + Duration::minutes(2))
            .await
            .unwrap(),
        None
    );
    store.login_succeeded("ann").await.unwrap();
    assert_eq!(
        store.login_failed("ann", t).await.unwrap(),
        1,
        "a success starts the count again"
    );
}

pub async fn deactivated_users_open_nothing_and_password_links_work_once(store: TestStore) {
    let mut ann = user(&store, "Ann").await;
    let t = now();
    let (hour, day) = (Duration::hours(1), Duration::days(1));
    store.set_password(&ann.id, "old-hash").await.unwrap();
    store
        .create_web_session("s-1", &ann.id, "c", t, t + day)
        .await
        .unwrap();

    // A link: readable while live, replaced by a newer one, used once.
    store
        .create_password_link("link-1", &ann.id, t, t + hour)
        .await
        .unwrap();
    let whose = store.password_link("link-1", t).await.unwrap();
    assert_eq!(whose.map(|u| u.id), Some(ann.id.clone()));
    assert!(
        store
            .password_link("link-1", t + hour)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    store
        .create_password_link("link-2", &ann.id, t, t + hour)
        .await
        .unwrap();
    assert!(
        store.password_link("link-1", t).await.unwrap().is_none(),
        "one live link per user"
    );
    assert!(!store.set_password_by_link("link-1", "h1", t).await.unwrap());
    assert!(
        !store
            .set_password_by_link("link-2", "h2", t + hour)
            .await
            .unwrap(),
        "expired"
    );
    assert!(
        store
            .set_password_by_link("link-2", "new-hash", t)
            .await
            .unwrap()
    );
    assert_eq!(
        store.password_hash(&ann.id).await.unwrap().as_deref(),
        Some("new-hash")
    );
    assert!(
        store.web_session("s-1", t).await.unwrap().is_none(),
        "signed out everywhere"
    );
    assert!(
        !store
            .set_password_by_link("link-2", "again", t)
            .await
            .unwrap(),
        "used up"
    );

    // Deactivated: the password, sessions and links open nothing; reactivated, they do again.
    store
        .create_web_session("s-2", &ann.id, "c", t, t + day)
        .await
        .unwrap();
    store
        .create_password_link("link-3", &ann.id, t, t + hour)
        .await
        .unwrap();
    ann.deactivated_at = Some(t);
    let stored = store.update_user(&ann).await.unwrap();
    assert_eq!(stored.deactivated_at, Some(t));
    let read = store.user_by_id(&ann.id).await.unwrap().unwrap();
    assert_eq!(read.deactivated_at, Some(t), "kept, and read back");
    assert_eq!(store.password_hash(&ann.id).await.unwrap(), None);
    assert!(store.web_session("s-2", t).await.unwrap().is_none());
    assert!(store.password_link("link-3", t).await.unwrap().is_none());
    assert!(!store.set_password_by_link("link-3", "h", t).await.unwrap());
    ann.deactivated_at = None;
    store.update_user(&ann).await.unwrap();
    assert!(store.web_session("s-2", t).await.unwrap().is_some());
    assert_eq!(
        store.password_hash(&ann.id).await.unwrap().as_deref(),
        Some("new-hash")
    );
}
