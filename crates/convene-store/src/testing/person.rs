//! People (CRM contacts).

use super::{TestStore, now, outbox_types};
use convene_core::page::PageRequest;
use convene_core::person::{Address, PersonFields, Phone};
use convene_core::text::Email;
use time::Duration;

pub async fn people_keep_their_fields_tags_and_deletion_records(store: TestStore) {
    let t = now();
    let fields = PersonFields {
        given_name: Some("Lauren".into()),
        family_name: Some("Smith".into()),
        email: Email::parse("lsmith@example.org").ok(),
        phone: Phone::parse("+12024561111").ok(),
        address: Some(Address {
            city: Some("Washington".into()),
            postal_code: Some("20009".into()),
            ..Default::default()
        }),
        is_opt_out: true,
        tags: vec!["donor".into(), "volunteer".into()],
        ..Default::default()
    };
    let p = store.create_person(&fields, t).await.unwrap();
    assert_eq!(p.fields, fields);
    assert_eq!(store.person(&p.id).await.unwrap().unwrap(), p);

    let mut changed = fields.clone();
    changed.tags = vec!["volunteer".into()];
    changed.address = None;
    let later = t + Duration::minutes(1);
    let updated = store.update_person(&p.id, &changed, later).await.unwrap();
    assert_eq!(
        (
            updated.fields.tags.clone(),
            updated.fields.address.clone(),
            updated.updated_at
        ),
        (vec!["volunteer".to_owned()], None, later)
    );
    let other = store
        .create_person(
            &PersonFields {
                given_name: Some("Other".into()),
                ..Default::default()
            },
            t,
        )
        .await
        .unwrap();
    let page = store
        .list_people(&PageRequest {
            limit: 1,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let rest = store
        .list_people(&PageRequest {
            limit: 10,
            after: page.next_after.clone(),
        })
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);

    assert!(store.delete_person(&p.id, later).await.unwrap());
    assert!(!store.delete_person(&p.id, later).await.unwrap());
    assert!(store.person(&p.id).await.unwrap().is_none());
    let deletions = store.person_deletions(t).await.unwrap();
    assert_eq!(
        deletions,
        vec![(p.id.clone(), Some("lsmith@example.org".to_owned()), later)]
    );
    assert!(matches!(
        store.update_person(&p.id, &changed, later).await,
        Err(crate::StoreError::NotFound)
    ));
    assert!(store.person(&other.id).await.unwrap().is_some());
    let types = outbox_types(&store).await;
    assert_eq!(
        types
            .iter()
            .filter(|t| t.starts_with("person."))
            .collect::<Vec<_>>(),
        [
            "person.created",
            "person.updated",
            "person.created",
            "person.deleted"
        ]
    );
}
