//! The HTTP discipline against a real local fake of Action Network.

use convene_delivery::http::Outbound;
use convene_delivery::target::TargetPolicy;
use convene_osdi::client::{CallError, OsdiClient};
use convene_osdi::retry::RetryConfig;
use convene_osdi::throttle::Throttle;
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
    sharing(rate, fake, Arc::default())
}

/// A client whose API token's window is `throttle` (shared with other clients of the token).
fn sharing(rate: u32, fake: &OsdiFake, throttle: Arc<Throttle>) -> OsdiClient {
    let retry = RetryConfig {
        backoff_initial_ms: 20,
        backoff_max_ms: 100,
        ..RetryConfig::default()
    };
    OsdiClient::new(
        "test-token-0000",
        rate,
        throttle,
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

/// GETs `path` under the fake's entry point.
async fn get(c: &OsdiClient, fake: &OsdiFake, path: &str) -> Result<serde_json::Value, CallError> {
    let url = format!("{}{path}", fake.entry_point);
    c.call(Method::GET, &url, None, true).await
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
    // Never more than 10 starts in any second: 21 requests need more than two.
    assert!(fake.most_within(Duration::from_secs(1)) <= 10);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
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
    let missing = get(&c, &fake, "people/nope").await;
    assert!(
        matches!(missing, Err(CallError::Failed { status: 404, .. })),
        "{missing:?}"
    );
    fake.fail_next([(500, None); 5]);
    let aborted = get(&c, &fake, "people/p0").await;
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

#[tokio::test]
async fn concurrent_walks_sharing_a_token_share_its_limit() {
    let fake = OsdiFake::start(people(40), 10).await;
    let throttle = Arc::new(Throttle::default());
    let (a, b) = (
        sharing(4, &fake, throttle.clone()),
        sharing(4, &fake, throttle),
    );
    let url = format!("{}people", fake.entry_point);
    let (mut seen_a, mut seen_b) = (0, 0);
    let (pages_a, pages_b) = tokio::join!(
        a.walk(&url, |r| seen_a += r.len()),
        b.walk(&url, |r| seen_b += r.len())
    );
    assert_eq!(
        (pages_a.unwrap(), pages_b.unwrap(), seen_a, seen_b),
        (5, 5, 40, 40)
    );
    assert_eq!(
        fake.most_within(Duration::from_secs(1)),
        4,
        "four starts in any 1,000 ms, both walks together"
    );
}

#[tokio::test]
async fn retries_wait_at_least_the_configured_backoff() {
    let fake = OsdiFake::start(people(1), 10).await;
    fake.fail_next([(500, None); 5]);
    let started = Instant::now();
    let aborted = get(&client(1000, &fake), &fake, "people/p0").await;
    let Err(CallError::Aborted(abort)) = aborted else {
        panic!("{aborted:?}")
    };
    assert_eq!(abort.status, Some(500), "the status that ended it");
    // 20, 40, 80 and 100 ms (the cap) at least: jitter only adds.
    assert!(
        started.elapsed() >= Duration::from_millis(240),
        "{:?}",
        started.elapsed()
    );
    let at = fake.arrivals();
    let floors = [20, 40, 80, 100].map(Duration::from_millis);
    for (gap, floor) in at.windows(2).map(|w| w[1] - w[0]).zip(floors) {
        assert!(gap >= floor, "{gap:?} < {floor:?}");
    }
}
