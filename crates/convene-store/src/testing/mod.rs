//! The storage conformance suite: every backend must pass every case.
//!
//! A backend's test file calls [`conformance_suite!`] with an async expression that yields a
//! fresh, migrated `Arc<dyn Store>`; the macro writes one `#[tokio::test]` per case.

use crate::{
    Audience, Conflict, EventFilter, KeyClaim, PatchOutcome, SavedResponse, Store, StoreError,
};
use convene_core::event::{EventPatch, NewEvent, OrganizerRemoval, Registration, Role, Visibility};
use convene_core::page::PageRequest;
use convene_core::scope::{Scope, TokenLimits};
use convene_core::text::{Email, Slug, Title};
use convene_core::token::TokenSecret;
use convene_core::user::{Change, NewToken, NewUser, User, UserPatch};
use convene_core::username::Username;
use convene_core::{Clock, EventId, SystemClock, Timestamp};
use std::sync::Arc;
use time::Duration;

mod conference;
mod connectors;
mod delivery;
mod digest;
mod donation;
mod lanes;
mod notification;
mod osdi;
mod person;
mod reminder;
mod retention;
mod source;
mod sync;
mod web;
mod webfilter;
pub use conference::*;
pub use connectors::*;
pub use delivery::*;
pub use digest::*;
pub use donation::*;
pub use lanes::*;
pub use notification::*;
pub use osdi::*;
pub use person::*;
pub use reminder::*;
pub use retention::*;
pub use source::*;
pub use sync::*;
pub use web::*;
pub use webfilter::*;

pub type TestStore = Arc<dyn Store>;

pub(crate) fn now() -> Timestamp {
    SystemClock.now()
}

pub async fn user(store: &TestStore, name: &str) -> User {
    let new = NewUser {
        username: Username::parse(name).unwrap(),
        email: Some(
            Email::parse(&format!(
                "{}@example.org",
                name.to_lowercase().replace(' ', ".")
            ))
            .unwrap(),
        ),
        display_name: None,
        locale: None,
        timezone: None,
        is_admin: false,
    };
    store.create_user(new, now()).await.unwrap()
}

pub(crate) fn new_event(slug: &str, private: bool) -> NewEvent {
    NewEvent {
        slug: Slug::parse(slug).unwrap(),
        title: Title::parse("Edit-a-thon").unwrap(),
        description: None,
        starts_at: Some(now()),
        ends_at: None,
        timezone: None,
        private,
        channels: Vec::new(),
        reminders: Default::default(),
        conference_provider: None,
    }
}

pub(crate) async fn outbox_types(store: &TestStore) -> Vec<String> {
    store
        .outbox_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.event_type.as_str().to_owned())
        .collect()
}

pub async fn users_round_trip_and_names_are_unique(store: TestStore) {
    let jane = user(&store, "jane_Doe").await;
    assert_eq!(jane.username.as_str(), "Jane Doe");
    let found = store
        .user_by_name(&Username::parse("Jane Doe").unwrap())
        .await
        .unwrap();
    assert_eq!(
        found.as_ref(),
        Some(&jane),
        "times and fields round-trip exactly"
    );
    assert_eq!(
        store.user_by_id(&jane.id).await.unwrap(),
        Some(jane.clone())
    );
    let again = NewUser {
        username: Username::parse("Jane_Doe").unwrap(),
        email: None,
        display_name: None,
        locale: None,
        timezone: None,
        is_admin: false,
    };
    assert!(matches!(
        store.create_user(again, now()).await,
        Err(StoreError::Conflict(Conflict::Username))
    ));
    assert_eq!(
        outbox_types(&store).await,
        ["user.created"],
        "a refused write emits nothing"
    );
}

pub async fn users_page_by_name_and_update(store: TestStore) {
    for name in ["Carol", "Alice", "Bob"] {
        user(&store, name).await;
    }
    let first = store
        .list_users(
            None,
            &PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    let names: Vec<_> = first.items.iter().map(|u| u.username.to_string()).collect();
    assert_eq!(names, ["Alice", "Bob"]);
    let rest = store
        .list_users(
            None,
            &PageRequest {
                limit: 2,
                after: first.next_after.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.next_after, None);
    user(&store, "Mary_Ann 50%").await;
    let found = |needle: &'static str| {
        let store = &store;
        async move {
            let page = store
                .list_users(Some(needle), &PageRequest::default())
                .await;
            let names = page
                .unwrap()
                .items
                .into_iter()
                .map(|u| u.username.to_string());
            names.collect::<Vec<_>>()
        }
    };
    assert_eq!(
        found("o").await,
        ["Bob", "Carol"],
        "ignoring case, in order"
    );
    assert_eq!(
        found("ary_a").await,
        ["Mary Ann 50%"],
        "`_` is a space, as in names"
    );
    assert_eq!(found("50%").await, ["Mary Ann 50%"]);
    assert!(
        found("5%").await.is_empty(),
        "`%` is itself, not a wildcard"
    );

    let bob = rest.items[0].clone();
    let patch = UserPatch {
        email: Change::Clear,
        is_admin: Some(true),
        ..Default::default()
    };
    let updated = store
        .update_user(&patch.apply_to(bob.clone(), now()))
        .await
        .unwrap();
    assert_eq!(
        store.user_by_id(&bob.id).await.unwrap(),
        Some(updated.clone())
    );
    assert!(updated.is_admin && updated.email.is_none());
    assert!(store.delete_user(&updated, now()).await.unwrap());
    assert!(!store.delete_user(&updated, now()).await.unwrap());
    assert_eq!(store.user_by_id(&bob.id).await.unwrap(), None);
}

pub async fn tokens_store_only_digests(store: TestStore) {
    let alice = user(&store, "Alice").await;
    let secret = TokenSecret::generate();
    let digest = secret.digest();
    let expires = now() + Duration::days(1);
    let limits = TokenLimits {
        scopes: Some([Scope::EventsRead, Scope::WebhooksWrite].into()),
        event_ids: Some([EventId::new(), EventId::new()].into()),
    };
    let new = NewToken {
        user_id: alice.id.clone(),
        name: "ci".into(),
        lookup: digest.lookup.clone(),
        sha256: digest.sha256.clone(),
        expires_at: Some(expires),
        limits: limits.clone(),
    };
    let token = store.create_token(new, now()).await.unwrap();
    assert_eq!(token.expires_at, Some(expires));
    assert_eq!(token.limits, limits, "scopes and events are kept as given");
    let found = store.tokens_by_lookup(&digest.lookup).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(digest.matches(&found[0].sha256));
    assert_eq!(found[0].token.username, alice.username);
    let used = now();
    store.touch_token(&token.id, used).await.unwrap();
    assert_eq!(
        store
            .token_by_id(&token.id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(used)
    );
    let mine = store
        .list_tokens(Some(&alice.id), None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 1);
    let page = PageRequest::default();
    let found = store.list_tokens(None, Some(" CI "), &page).await.unwrap();
    assert_eq!(found.items, mine.items, "by name, any case");
    let none = store.list_tokens(None, Some("c_"), &page).await.unwrap();
    assert!(none.items.is_empty(), "a typed _ is itself");
    assert!(store.delete_token(&token.id).await.unwrap());
    assert!(
        store
            .tokens_by_lookup(&digest.lookup)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn tokens_die_with_their_user(store: TestStore) {
    let alice = user(&store, "Alice").await;
    let digest = TokenSecret::generate().digest();
    let new = NewToken {
        user_id: alice.id.clone(),
        name: "x".into(),
        lookup: digest.lookup.clone(),
        sha256: digest.sha256,
        expires_at: None,
        limits: TokenLimits::default(),
    };
    let made = store.create_token(new.clone(), now()).await.unwrap();
    assert_eq!(
        made.limits,
        TokenLimits::default(),
        "no limits read back as none"
    );
    store.delete_user(&alice, now()).await.unwrap();
    assert!(
        store
            .tokens_by_lookup(&digest.lookup)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.create_token(new, now()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn event_creator_becomes_facilitator_in_one_transaction(store: TestStore) {
    let alice = user(&store, "Alice").await;
    let slug = "Wiki_Org/Edit-a-thon_(2026)_ü";
    let event = store
        .create_event(new_event(slug, false), Some(&alice), now())
        .await
        .unwrap();
    assert_eq!(
        store.event_by_id(&event.id).await.unwrap(),
        Some(event.clone())
    );
    let organizers = store.organizers(&event.id).await.unwrap();
    assert_eq!(organizers.len(), 1);
    assert_eq!(
        (organizers[0].username.as_str(), organizers[0].role),
        ("Alice", Role::Facilitator)
    );
    assert!(matches!(
        store
            .create_event(new_event(slug, false), Some(&alice), now())
            .await,
        Err(StoreError::Conflict(Conflict::Slug))
    ));
    assert_eq!(
        store.standing(&event.id, &alice.id).await.unwrap(),
        (Some(Role::Facilitator), false)
    );
    assert_eq!(
        outbox_types(&store).await,
        ["user.created", "event.created", "organizer.added"]
    );
}

pub async fn events_filter_by_slug_and_audience(store: TestStore) {
    let alice = user(&store, "Alice").await;
    let bob = user(&store, "Bob").await;
    let open = store
        .create_event(new_event("open", false), Some(&alice), now())
        .await
        .unwrap();
    let closed = store
        .create_event(new_event("closed", true), Some(&alice), now())
        .await
        .unwrap();
    let ids = |page: convene_core::page::Page<convene_core::event::Event>| {
        page.items.into_iter().map(|e| e.id).collect::<Vec<_>>()
    };
    let all = EventFilter {
        slug: None,
        audience: Audience::Everything,
        search: None,
    };
    assert_eq!(
        ids(store
            .list_events(&all, &PageRequest::default())
            .await
            .unwrap()),
        [open.id.clone(), closed.id.clone()]
    );
    let as_bob = EventFilter {
        slug: None,
        audience: Audience::User(bob.id.clone()),
        search: None,
    };
    assert_eq!(
        ids(store
            .list_events(&as_bob, &PageRequest::default())
            .await
            .unwrap()),
        std::slice::from_ref(&open.id)
    );
    store
        .register(&closed, &bob, Visibility::Private, now())
        .await
        .unwrap();
    assert_eq!(
        ids(store
            .list_events(&as_bob, &PageRequest::default())
            .await
            .unwrap())
        .len(),
        2
    );
    let by_slug = EventFilter {
        slug: Some(Slug::parse("closed").unwrap()),
        audience: Audience::Everything,
        search: None,
    };
    assert_eq!(
        ids(store
            .list_events(&by_slug, &PageRequest::default())
            .await
            .unwrap()),
        std::slice::from_ref(&closed.id)
    );
    let paged = store
        .list_events(
            &all,
            &PageRequest {
                limit: 1,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(paged.next_after.as_deref(), Some(open.id.as_str()));
    assert_eq!(store.count_events(&all).await.unwrap(), 2);
    let search = |audience: Audience, q: &str| EventFilter {
        slug: None,
        audience,
        search: Some(q.to_owned()),
    };
    let found = search(Audience::Everything, "CLOS");
    let listed = store.list_events(&found, &PageRequest::default()).await;
    assert_eq!(
        ids(listed.unwrap()),
        std::slice::from_ref(&closed.id),
        "by slug, any case"
    );
    assert_eq!(store.count_events(&found).await.unwrap(), 1);
    let wildcard = search(Audience::Everything, "_");
    assert_eq!(
        store.count_events(&wildcard).await.unwrap(),
        0,
        "a typed _ is itself"
    );
    let organizes = |who: &User| EventFilter {
        slug: None,
        audience: Audience::Organizer(who.id.clone()),
        search: None,
    };
    assert_eq!(store.count_events(&organizes(&alice)).await.unwrap(), 2);
    assert_eq!(
        store.count_events(&organizes(&bob)).await.unwrap(),
        0,
        "attending is not organizing"
    );
}

pub async fn event_patches_apply_atomically(store: TestStore) {
    let first = store
        .create_event(new_event("one", false), None, now())
        .await
        .unwrap();
    store
        .create_event(new_event("two", false), None, now())
        .await
        .unwrap();
    let rename = EventPatch {
        slug: Some(Slug::parse("two").unwrap()),
        ..Default::default()
    };
    assert!(matches!(
        store.update_event(&first.id, rename, now()).await,
        Err(StoreError::Conflict(Conflict::Slug))
    ));
    let backwards = EventPatch {
        ends_at: Change::Set(first.starts_at.unwrap() - Duration::hours(1)),
        ..Default::default()
    };
    assert!(matches!(
        store
            .update_event(&first.id, backwards, now())
            .await
            .unwrap(),
        PatchOutcome::Invalid(_)
    ));
    let retitle = EventPatch {
        title: Some(Title::parse("New").unwrap()),
        starts_at: Change::Clear,
        ..Default::default()
    };
    let PatchOutcome::Updated(updated) =
        store.update_event(&first.id, retitle, now()).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((updated.title.as_str(), updated.starts_at), ("New", None));
    assert_eq!(store.event_by_id(&first.id).await.unwrap(), Some(*updated));
    assert!(matches!(
        store
            .update_event(&EventId::new(), EventPatch::default(), now())
            .await,
        Err(StoreError::NotFound)
    ));
    let types = outbox_types(&store).await;
    assert_eq!(types.iter().filter(|t| *t == "event.updated").count(), 1);
}

pub async fn registrations_track_visibility(store: TestStore) {
    let alice = user(&store, "Alice").await;
    let bob = user(&store, "Bob").await;
    let carol = user(&store, "Carol").await;
    let event = store
        .create_event(new_event("e", false), Some(&alice), now())
        .await
        .unwrap();
    assert!(matches!(
        store
            .register(&event, &bob, Visibility::Public, now())
            .await
            .unwrap(),
        Registration::Registered(_)
    ));
    assert!(matches!(
        store
            .register(&event, &bob, Visibility::Public, now())
            .await
            .unwrap(),
        Registration::Unchanged(_)
    ));
    store
        .register(&event, &carol, Visibility::Private, now())
        .await
        .unwrap();
    let public = store
        .participants(&event.id, false, None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        public
            .items
            .iter()
            .map(|p| p.username.as_str())
            .collect::<Vec<_>>(),
        ["Bob"]
    );
    let all = store
        .participants(&event.id, true, None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2);
    let searched = store
        .participants(&event.id, true, Some("AROL"), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(searched.items.len(), 1, "ignoring case");
    assert_eq!(searched.items[0].username.as_str(), "Carol");
    let hidden = store
        .participants(&event.id, false, Some("carol"), &PageRequest::default())
        .await
        .unwrap();
    assert!(
        hidden.items.is_empty(),
        "a search finds no private one it may not see"
    );
    let changed = store
        .register(&event, &carol, Visibility::Public, now())
        .await
        .unwrap();
    assert!(matches!(
        changed,
        Registration::VisibilityChanged {
            from: Visibility::Private,
            ..
        }
    ));
    assert_eq!(
        store
            .cancel(&event, &bob.id, now())
            .await
            .unwrap()
            .map(|p| p.visibility),
        Some(Visibility::Public)
    );
    assert_eq!(store.cancel(&event, &bob.id, now()).await.unwrap(), None);
    let types = outbox_types(&store).await;
    let tail: Vec<_> = types
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "participant.registered",
            "participant.registered",
            "participant.visibility_changed",
            "participant.cancelled"
        ]
    );
}

pub async fn organizers_keep_at_least_one_when_asked(store: TestStore) {
    let alice = user(&store, "Alice").await;
    let bob = user(&store, "Bob").await;
    let event = store
        .create_event(new_event("e", false), Some(&alice), now())
        .await
        .unwrap();
    assert!(
        !store
            .put_organizer(&event, &alice, Role::Facilitator, now())
            .await
            .unwrap()
            .1
    );
    assert!(
        store
            .put_organizer(&event, &bob, Role::Facilitator, now())
            .await
            .unwrap()
            .1
    );
    assert_eq!(
        store
            .remove_organizer(&event, &alice.id, true, now())
            .await
            .unwrap(),
        OrganizerRemoval::Removed
    );
    assert_eq!(
        store
            .remove_organizer(&event, &bob.id, true, now())
            .await
            .unwrap(),
        OrganizerRemoval::LastOrganizer
    );
    assert_eq!(
        store
            .remove_organizer(&event, &alice.id, true, now())
            .await
            .unwrap(),
        OrganizerRemoval::NotAnOrganizer
    );
    assert_eq!(
        store
            .remove_organizer(&event, &bob.id, false, now())
            .await
            .unwrap(),
        OrganizerRemoval::Removed
    );
    assert!(store.organizers(&event.id).await.unwrap().is_empty());
}

pub async fn deleting_an_event_removes_its_roster(store: TestStore) {
    let alice = user(&store, "Alice").await;
    let event = store
        .create_event(new_event("e", false), Some(&alice), now())
        .await
        .unwrap();
    store
        .register(&event, &alice, Visibility::Public, now())
        .await
        .unwrap();
    assert!(store.delete_event(&event, now()).await.unwrap());
    assert_eq!(store.event_by_id(&event.id).await.unwrap(), None);
    assert!(store.organizers(&event.id).await.unwrap().is_empty());
    assert!(matches!(
        store
            .register(&event, &alice, Visibility::Public, now())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(!store.delete_event(&event, now()).await.unwrap());
}

pub async fn idempotency_keys_replay_and_expire(store: TestStore) {
    let t = now();
    let stale = t - Duration::minutes(1);
    assert_eq!(
        store.claim_key("u1", "k", "fp", t, stale).await.unwrap(),
        KeyClaim::Fresh
    );
    assert_eq!(
        store.claim_key("u1", "k", "fp", t, stale).await.unwrap(),
        KeyClaim::InProgress
    );
    assert_eq!(
        store.claim_key("u1", "k", "other", t, stale).await.unwrap(),
        KeyClaim::Mismatch
    );
    assert_eq!(
        store.claim_key("u2", "k", "fp", t, stale).await.unwrap(),
        KeyClaim::Fresh,
        "keys are per caller"
    );
    let saved = SavedResponse {
        status: 201,
        body: b"{\"id\":\"1\"}".to_vec(),
    };
    store.save_response("u1", "k", &saved).await.unwrap();
    assert_eq!(
        store.claim_key("u1", "k", "fp", t, stale).await.unwrap(),
        KeyClaim::Replay(saved)
    );
    store.release_key("u2", "k").await.unwrap();
    assert_eq!(
        store.claim_key("u2", "k", "fp", t, stale).await.unwrap(),
        KeyClaim::Fresh
    );
    let later = t + Duration::minutes(5);
    assert_eq!(
        store
            .claim_key("u2", "k", "fp", later, later - Duration::minutes(1))
            .await
            .unwrap(),
        KeyClaim::Fresh,
        "a dead claim is taken over"
    );
    assert_eq!(store.purge_keys(t + Duration::seconds(1)).await.unwrap(), 1);
}

pub async fn outbox_pages_in_commit_order(store: TestStore) {
    for name in ["A1", "A2", "A3"] {
        user(&store, name).await;
    }
    let first = store.outbox_after(0, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = store.outbox_after(first[1].seq, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].data["user"]["username"], "A3");
    assert!(first[0].seq < first[1].seq && first[1].seq < rest[0].seq);
}

pub async fn admin_answers(store: TestStore) {
    store.ping().await.unwrap();
    store.migrate().await.unwrap();
    assert!(store.pool_stats().size >= 1);
}

/// Writes one `#[tokio::test]` per conformance case. `$make` is an async block yielding a fresh,
/// migrated `TestStore` with a guard kept alive for the test (its database), or `None` to skip
/// (no PostgreSQL configured).
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@cases $make;
            users_round_trip_and_names_are_unique, users_page_by_name_and_update, tokens_store_only_digests,
            tokens_die_with_their_user, event_creator_becomes_facilitator_in_one_transaction,
            events_filter_by_slug_and_audience, event_patches_apply_atomically, registrations_track_visibility,
            organizers_keep_at_least_one_when_asked, deleting_an_event_removes_its_roster,
            idempotency_keys_replay_and_expire, outbox_pages_in_commit_order, admin_answers,
            webhooks_round_trip, dispatch_fans_out_once_to_matching_enabled_webhooks,
            deliveries_and_mails_keep_the_event_they_are_about,
            signal_batches_are_one_transaction_idempotent_per_item,
            scoped_webhooks_hear_their_events_while_the_owner_reads_them,
            leases_keep_workers_apart_and_expire, failures_are_scheduled_logged_and_recoverable,
            claims_are_bounded_per_endpoint_and_skip_busy_ones,
            a_subject_is_delivered_one_at_a_time_in_commit_order,
            a_subject_waiting_on_a_retry_holds_up_only_itself,
            coalescing_sends_only_the_latest_of_what_waits,
            retries_recovery_and_turning_order_off_keep_lanes_whole,
            own_messages_carry_their_subject_into_ordered_lanes,
            disabled_webhooks_are_not_claimed_and_deletes_cascade,
            backlog_counts_what_waits_for_enabled_webhooks,
            only_convenes_own_signals_reach_the_notifier,
            webfilters_are_called_in_creation_order_and_log_calls,
            sync_links_enable_once_and_disable_only_with_their_id,
            rosters_are_replaced_exactly_and_only_while_linked,
            public_list_changes_queue_one_coalesced_push,
            dashboard_links_are_written_once_and_deleted_with_their_push,
            sync_calls_are_listed_newest_first_and_survive_their_event,
            sessions_are_numbered_and_queue_their_rooms,
            rooms_are_recorded_and_moved_with_their_session,
            deleted_sessions_wait_for_their_room,
            decks_keep_their_order_and_queue_every_change,
            notifications_filter_sort_and_page_per_owner,
            preferences_and_audiences_are_stored_per_user,
            notices_are_planned_once_with_their_mail_jobs,
            mail_log_keeps_attempts_settings_and_suppressions,
            web_sessions_expire_and_failures_count_per_name,
            deactivated_users_open_nothing_and_password_links_work_once,
            people_keep_their_fields_tags_and_deletion_records,
            osdi_runs_are_one_per_profile_leased_and_resumable,
            osdi_pairs_tombstones_and_flags_park_what_they_name,
            donations_are_written_once_and_paired_once_per_profile,
            merging_people_moves_tags_donations_and_pairs,
            sources_log_what_they_receive_with_its_signal,
            retention_removes_only_final_rows_older_than_their_cutoff,
            connector_work_that_fails_for_good_is_announced,
            reminders_are_planned_moved_and_settled_once,
            digest_items_leave_once_with_their_mail);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[tokio::test]
            async fn $case() {
                if let Some((store, _guard)) = $make.await {
                    $crate::testing::$case(store).await;
                }
            }
        )*
    };
}
