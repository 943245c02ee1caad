//! Donations (write-once, paired once per profile) and merging people, which moves them.

use super::osdi::new_profile;
use super::{TestStore, now, outbox_types};
use crate::{Pair, StoreError};
use convene_core::PersonId;
use convene_core::donation::{Amount, Currency, NewDonation, Recurrence};
use convene_core::person::PersonFields;
use serde_json::json;

pub(super) fn gift(amount: &str) -> NewDonation {
    NewDonation {
        amount: Amount::parse(amount).unwrap(),
        currency: Currency::parse("usd").unwrap(),
        received_at: now(),
        recurrence: Some(Recurrence::Monthly),
        fundraising_page: Some("https://an.example/fundraising_pages/1".into()),
        referrer: None,
    }
}

pub(super) fn pair(profile_id: &str, person: &PersonId, remote_id: &str) -> Pair {
    Pair {
        profile_id: profile_id.into(),
        remote_id: remote_id.into(),
        person_id: person.clone(),
        remote_modified: now(),
        local_modified: now(),
        snapshot: json!({}),
        hash: "h".into(),
        last_origin: "remote".into(),
        status: "ok".into(),
    }
}

pub async fn donations_are_written_once_and_paired_once_per_profile(store: TestStore) {
    let t = now();
    let ann = store
        .create_person(&PersonFields::default(), t)
        .await
        .unwrap();
    let bob = store
        .create_person(&PersonFields::default(), t)
        .await
        .unwrap();
    let gone = PersonId::new();
    assert!(matches!(
        store.create_donation(&gone, &gift("5"), t).await,
        Err(StoreError::NotFound)
    ));
    let local = store
        .create_donation(&ann.id, &gift("40"), t)
        .await
        .unwrap();
    assert_eq!(
        (
            local.fields.amount.as_str(),
            local.fields.currency.as_str(),
            local.remote_id.as_deref()
        ),
        ("40.00", "USD", None)
    );
    let _bobs = store
        .create_donation(&bob.id, &gift("7.5"), t)
        .await
        .unwrap();

    let p = store.create_profile(&new_profile("main"), t).await.unwrap();
    // Only linked people's unpaired donations are to push.
    assert!(
        store
            .unpaired_donations(&p.id, "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .save_pair(&pair(&p.id, &ann.id, "an-1"))
        .await
        .unwrap();
    let todo = store.unpaired_donations(&p.id, "", 10).await.unwrap();
    assert_eq!(todo.iter().map(|d| &d.id).collect::<Vec<_>>(), [&local.id]);

    let pulled = store
        .pull_donation(&p.id, &ann.id, "rd-1", &gift("12"), t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pulled.remote_id.as_deref(), Some("rd-1"));
    assert!(
        store
            .pull_donation(&p.id, &ann.id, "rd-1", &gift("12"), t)
            .await
            .unwrap()
            .is_none(),
        "write once"
    );
    assert!(store.remote_donation_paired(&p.id, "rd-1").await.unwrap());
    assert_eq!(
        store.donations_of(&ann.id, 10).await.unwrap().len(),
        2,
        "the repeat left nothing behind"
    );

    assert!(
        store
            .pair_donation(&p.id, &local.id, "rd-2", t)
            .await
            .unwrap()
    );
    assert!(
        !store
            .pair_donation(&p.id, &local.id, "rd-3", t)
            .await
            .unwrap(),
        "never paired twice"
    );
    assert!(
        !store
            .pair_donation(&p.id, &pulled.id, "rd-2", t)
            .await
            .unwrap(),
        "one donation per remote id"
    );
    assert!(
        store
            .unpaired_donations(&p.id, "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let types = outbox_types(&store).await;
    let count = |t: &str| types.iter().filter(|x| *x == t).count();
    assert_eq!(
        (count("donation.created"), count("donation.synced")),
        (3, 1),
        "{types:?}"
    );
}

pub async fn merging_people_moves_tags_donations_and_pairs(store: TestStore) {
    let t = now();
    let with = |given: &str, tags: &[&str]| PersonFields {
        given_name: Some(given.into()),
        do_not_email: given == "Bo",
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ..Default::default()
    };
    let keep = store.create_person(&with("Al", &["a"]), t).await.unwrap();
    let gone = store
        .create_person(&with("Bo", &["a", "b"]), t)
        .await
        .unwrap();
    let solo = store.create_person(&with("Cy", &[]), t).await.unwrap();
    store
        .create_donation(&gone.id, &gift("3"), t)
        .await
        .unwrap();
    let p = store.create_profile(&new_profile("main"), t).await.unwrap();
    store
        .save_pair(&pair(&p.id, &keep.id, "an-1"))
        .await
        .unwrap();
    store
        .save_pair(&pair(&p.id, &gone.id, "an-2"))
        .await
        .unwrap();

    let kept = store.merge_people(&keep.id, &gone.id, t).await.unwrap();
    assert_eq!(
        (
            kept.fields.given_name.as_deref(),
            kept.fields.tags.clone(),
            kept.fields.do_not_email
        ),
        (Some("Al"), vec!["a".to_owned(), "b".to_owned()], true)
    );
    assert!(store.person(&gone.id).await.unwrap().is_none());
    assert_eq!(store.donations_of(&keep.id, 10).await.unwrap().len(), 1);
    assert_eq!(
        store
            .pair_by_remote(&p.id, "an-2")
            .await
            .unwrap()
            .unwrap()
            .status,
        "merged"
    );
    assert!(
        store
            .is_flagged(&p.id, Some(keep.id.as_str()), Some("an-2"))
            .await
            .unwrap()
    );
    assert!(store.is_flagged(&p.id, None, Some("an-1")).await.unwrap());

    // One side linked: the link moves with the person.
    store
        .save_pair(&pair(&p.id, &solo.id, "an-3"))
        .await
        .unwrap();
    let other = store.create_person(&with("Di", &[]), t).await.unwrap();
    store.merge_people(&other.id, &solo.id, t).await.unwrap();
    assert_eq!(
        store
            .pair_by_remote(&p.id, "an-3")
            .await
            .unwrap()
            .unwrap()
            .person_id,
        other.id
    );
    assert!(matches!(
        store.merge_people(&other.id, &solo.id, t).await,
        Err(StoreError::NotFound)
    ));
    let types = outbox_types(&store).await;
    assert_eq!(
        types
            .iter()
            .filter(|x| *x == "osdi.conflict.flagged")
            .count(),
        2,
        "{types:?}"
    );
}
