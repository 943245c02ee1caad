//! The HTTP discipline against a real local fake of Action Network.

use convene_delivery::http::Outbound;
use convene_delivery::limits::RateLimits;
use convene_delivery::target::TargetPolicy;
use convene_osdi::client::{CallError, OsdiClient};
use convene_osdi::retry::RetryConfig;
use convene_testkit::osdi::{OsdiFake, person};
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn people(n: usize) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| {
            person(
                &format!("p{i}"),
                "Given",
                &format!("Family{i}"),
                &format!("p{i}@example.org"),
            )
        })
        .collect()
}

fn client(rate: u32, fake: &OsdiFake) -> OsdiClient {
    let retry = RetryConfig {
        backoff_initial_ms: 20,
        backoff_max_ms: 100,
        ..RetryConfig::default()
    };
    OsdiClient::new(
        "test-token-0000",
        rate,
        Arc::new(RateLimits::default()),
        retry,
        Outbound::new(
            TargetPolicy {
                allow_private: true,
                ..TargetPolicy::default()
            },
            Duration::from_secs(5),
        )
        .unwrap(),
        &fake.entry_point,
    )
}

#[tokio::test]
async fn a_walk_follows_next_through_the_throttle() {
    let fake = OsdiFake::start(people(200), 10).await;
    let c = client(10, &fake);
    let started = Instant::now();
    let mut seen = 0;
    let pages = c
        .walk(&format!("{}people", fake.entry_point), |records| {
            seen += records.len()
        })
        .await
        .unwrap();
    // Like Action Network, the last full page still links a next one: the walk ends on the
    // first empty page.
    assert_eq!((pages, seen), (21, 200));
    // A burst of one second's worth (10), then 10 a second: the other 10 need about a second.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "throttled: {:?}",
        started.elapsed()
    );
    let requests = fake.requests();
    assert_eq!(
        requests.first().map(String::as_str),
        Some("GET /api/v2/people")
    );
    assert_eq!(
        requests.last().map(String::as_str),
        Some("GET /api/v2/people?page=21"),
        "next taken verbatim"
    );
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_then_the_walk_goes_on() {
    let fake = OsdiFake::start(people(30), 10).await;
    fake.fail_next([(429, Some("0")), (503, None), (502, None)]);
    let mut seen = 0;
    let pages = client(1000, &fake)
        .walk(&format!("{}people", fake.entry_point), |r| seen += r.len())
        .await
        .unwrap();
    assert_eq!((pages, seen), (4, 30));
    assert_eq!(
        fake.requests().len(),
        7,
        "three answered failures, then three pages and the empty fourth"
    );
}

#[tokio::test]
async fn other_client_errors_fail_the_record_and_exhaustion_aborts() {
    let fake = OsdiFake::start(people(1), 10).await;
    let c = client(1000, &fake);
    let missing = c
        .call(
            Method::GET,
            &format!("{}people/nope", fake.entry_point),
            None,
            true,
        )
        .await;
    assert!(
        matches!(missing, Err(CallError::Failed { status: 404, .. })),
        "{missing:?}"
    );
    fake.fail_next([(500, None); 5]);
    let aborted = c
        .call(
            Method::GET,
            &format!("{}people/p0", fake.entry_point),
            None,
            true,
        )
        .await;
    assert!(matches!(aborted, Err(CallError::Aborted(_))), "{aborted:?}");
    assert_eq!(fake.requests().len(), 6, "one 404, then five attempts");

    // A POST that is not an upsert is never sent twice.
    fake.fail_next([(503, None)]);
    let once = c
        .call(
            Method::POST,
            &format!("{}people", fake.entry_point),
            Some(&json!({"person": {}})),
            false,
        )
        .await;
    assert!(matches!(once, Err(CallError::Aborted(_))));
    assert_eq!(fake.requests().len(), 7);

    // The signup helper is an upsert by email: retried, and it finds the existing person.
    fake.fail_next([(503, None)]);
    let body = json!({"person": {"email_addresses": [{"address": "P0@example.org"}]}});
    let found = c
        .call(
            Method::POST,
            &format!("{}people", fake.entry_point),
            Some(&body),
            true,
        )
        .await
        .unwrap();
    assert_eq!(found["identifiers"][0], "action_network:p0");
    assert_eq!(fake.people().len(), 1);
    let r = c
        .call(
            Method::PUT,
            &format!("{}people/p0", fake.entry_point),
            Some(&json!({"given_name": "Changed"})),
            true,
        )
        .await
        .unwrap();
    assert_eq!(r["given_name"], "Changed");
}
