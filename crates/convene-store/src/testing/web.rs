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
