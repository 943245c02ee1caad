//! Conformance cases for webfilters and their call log.

use super::{TestStore, now};
use crate::NewWebfilter;
use convene_core::page::PageRequest;
use convene_core::webfilter::{FilterType, OnFailure};
use convene_core::webhook::{Attempt, ResponseHeaders, TargetUrl};

fn new(filter_type: FilterType, path: &str) -> NewWebfilter {
    NewWebfilter {
        filter_type,
        url: TargetUrl::parse(&format!("https://filters.example.org/{path}")).unwrap(),
        enabled: true,
        description: None,
        disable_filtering: false,
        disable_halt: false,
        on_4xx: OnFailure::default(),
        on_5xx: OnFailure {
            halt: true,
            redirect_to: Some(TargetUrl::parse("https://example.org/closed").unwrap()),
        },
        on_request_exception: OnFailure::default(),
        encoding: "json".into(),
        timeout_ms: 2000,
    }
}

pub async fn webfilters_are_called_in_creation_order_and_log_calls(store: TestStore) {
    let first = store
        .create_webfilter(new(FilterType::RegistrationRequested, "a"), now())
        .await
        .unwrap();
    let other = store
        .create_webfilter(new(FilterType::EventCreationRequested, "b"), now())
        .await
        .unwrap();
    let second = store
        .create_webfilter(new(FilterType::RegistrationRequested, "c"), now())
        .await
        .unwrap();
    assert_eq!(
        store.webfilter(&first.id).await.unwrap().as_ref(),
        Some(&first)
    );
    assert_eq!(
        first.on_5xx.redirect_to.as_ref().unwrap().as_str(),
        "https://example.org/closed"
    );
    let order: Vec<_> = store
        .enabled_webfilters(FilterType::RegistrationRequested)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(order, [first.id.clone(), second.id.clone()]);
    let mut off = second.clone();
    off.enabled = false;
    off.disable_halt = true;
    off.updated_at = now();
    assert_eq!(store.update_webfilter(&off).await.unwrap(), off);
    assert_eq!(
        store
            .enabled_webfilters(FilterType::RegistrationRequested)
            .await
            .unwrap()
            .len(),
        1
    );
    let all = store
        .list_webfilters(
            None,
            &PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2);
    assert!(all.next_after.is_some());
    let page = PageRequest::default();
    let found = store.list_webfilters(Some("ORG/B"), &page).await.unwrap();
    assert_eq!(
        found.items,
        std::slice::from_ref(&other),
        "by URL, any case"
    );
    let mut described = first.clone();
    described.description = Some("Seat limit check".into());
    store.update_webfilter(&described).await.unwrap();
    let found = store.list_webfilters(Some("seat"), &page).await.unwrap();
    assert_eq!(found.items.len(), 1, "by description");
    assert_eq!(found.items[0].id, first.id);
    let call = Attempt {
        attempted_at: now(),
        duration_ms: 7,
        status_code: Some(200),
        error_class: None,
        error: None,
        response_body: Some("{\"data\": {}}".into()),
        response_headers: ResponseHeaders::keep([("Content-Type", "application/json")]),
    };
    store.log_filter_call(&first.id, &call).await.unwrap();
    let later = Attempt {
        status_code: Some(503),
        error_class: Some("throttled".into()),
        ..call.clone()
    };
    store.log_filter_call(&first.id, &later).await.unwrap();
    assert_eq!(
        store.filter_calls(&first.id, 10).await.unwrap(),
        [later, call],
        "newest first"
    );
    assert!(store.delete_webfilter(&first.id).await.unwrap());
    assert!(store.filter_calls(&first.id, 10).await.unwrap().is_empty());
    assert!(!store.delete_webfilter(&first.id).await.unwrap());
    assert!(store.webfilter(&other.id).await.unwrap().is_some());
}
