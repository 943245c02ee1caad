//! Traces reach a local OTLP collector: a span per request (route template, status), per
//! delivery attempt (a child of the request that caused the message, whose `traceparent` the
//! peer receives), per connector job and per CRM sync page; and what is batched at SIGTERM is
//! still sent.

mod support;

use convene_testkit::osdi::person;
use convene_testkit::{OsdiFake, OtlpCollector, ReceivedSpan, Receiver};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Dir, serve, signal, wait_exit};

const ADMIN: &str = "traces-admin-token-0123456789";
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// Spans until `done` says they are enough, or after 30 s.
async fn spans_until(
    collector: &OtlpCollector,
    done: impl Fn(&[ReceivedSpan]) -> bool,
) -> Vec<ReceivedSpan> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let spans = collector.spans();
        if done(&spans) || Instant::now() > deadline {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn admin_post(addr: &str, path: &str, body: Value) -> Value {
    support::post_json(addr, ADMIN, path, body).await
}

fn named<'a>(spans: &'a [ReceivedSpan], name: &str) -> Vec<&'a ReceivedSpan> {
    spans.iter().filter(|s| s.name == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_and_its_delivery_are_one_trace_with_jobs_and_crm_pages_beside_it() {
    let collector = OtlpCollector::start().await;
    let peer = Receiver::start().await;
    let fake = OsdiFake::start(
        (0..3)
            .map(|i| {
                person(
                    &format!("an-{i}"),
                    "P",
                    &format!("F{i}"),
                    &format!("p{i}@example.org"),
                )
            })
            .collect(),
        2,
    )
    .await;
    let dir = Dir::new();
    let (mut server, addr) = serve(
        &dir.0,
        &[
            ("CONVENE_ADMIN_TOKEN", ADMIN),
            ("CONVENE_ALLOW_PRIVATE_TARGETS", "true"),
            ("CONVENE_CONFERENCING__PROVIDER", "debug"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let hook = admin_post(
        &addr,
        "/api/v1/webhooks",
        json!({"url": peer.url, "event_types": ["custom.traced"]}),
    )
    .await;
    let accepted = convene_testkit::http_client()
        .post(format!("http://{addr}/api/v1/signals"))
        .bearer_auth(ADMIN)
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .json(&json!({"id": "t-1", "type": "custom.traced", "data": {"n": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let event = admin_post(
        &addr,
        "/api/v1/events",
        json!({"slug": "traced", "title": "Traced"}),
    )
    .await;
    let session = json!({"title": "Opening", "group": "opening", "starts_at": "2027-01-10T10:00:00Z",
                         "duration_minutes": 60, "remote": true});
    admin_post(
        &addr,
        &format!("/api/v1/events/{}/sessions", event["id"].as_str().unwrap()),
        session,
    )
    .await;
    let profile = admin_post(
        &addr,
        "/api/v1/osdi/profiles",
        json!({"name": "an", "entry_point": fake.entry_point,
        "api_token": "test-token-0000", "max_requests_per_second": 1000}),
    )
    .await;
    let runs = format!(
        "/api/v1/osdi/profiles/{}/runs",
        profile["id"].as_str().unwrap()
    );
    admin_post(&addr, &runs, json!({"job": "people", "origin": "remote"})).await;

    // A span is exported when it ends: the run's own span ends after its pages.
    let spans = spans_until(&collector, |s| {
        !named(s, "POST webhook").is_empty()
            && !named(s, "job conference.room").is_empty()
            && named(s, "GET osdi page").len() >= 2
            && !named(s, "osdi run people").is_empty()
    })
    .await;
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();

    let request = named(&spans, "POST /api/v1/signals");
    assert_eq!(request.len(), 1, "{names:?}");
    let request = request[0];
    assert_eq!(
        (request.trace_id.as_str(), request.parent_span_id.as_str()),
        (CALLER_TRACE, CALLER_SPAN),
        "the caller's trace goes on"
    );
    assert_eq!(request.attr("http.route"), "/api/v1/signals");
    assert_eq!(request.attr("http.response.status_code"), "202");
    assert_eq!(request.attr("resource.service.name"), "convene");
    let created = named(&spans, "POST /api/v1/events/{id}/sessions");
    assert_eq!(
        created.len(),
        1,
        "the route template, not the path: {names:?}"
    );

    let attempt = named(&spans, "POST webhook")[0];
    assert_eq!(
        attempt.trace_id, CALLER_TRACE,
        "the delivery joins the trace that caused it"
    );
    assert_eq!(attempt.parent_span_id, request.span_id);
    assert_eq!(attempt.attr("webhook.id"), hook["id"].as_str().unwrap());
    assert_eq!(attempt.attr("http.response.status_code"), "200");
    let sent = &peer.received()[0];
    assert_eq!(
        sent.header("traceparent"),
        format!("00-{CALLER_TRACE}-{}-01", attempt.span_id),
        "the peer can join it too"
    );

    let job = named(&spans, "job conference.room")[0];
    assert_eq!(
        (job.attr("job.kind"), job.attr("job.outcome")),
        ("conference.room", "done")
    );
    let pages = named(&spans, "GET osdi page");
    let run = named(&spans, "osdi run people");
    assert_eq!(run.len(), 1, "{names:?}");
    assert!(
        pages
            .iter()
            .all(|p| p.parent_span_id == run[0].span_id && p.attr("url.path") == "/api/v2/people"),
        "{pages:?}"
    );

    signal(&server, "TERM");
    assert!(wait_exit(&mut server, Duration::from_secs(20)).success());
}

/// `[telemetry] otlp_endpoint` turns traces on as the standard variable does, and the batch
/// still waiting at SIGTERM (the default delay is 5 s) is sent before the process exits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_batched_at_shutdown_is_sent() {
    let collector = OtlpCollector::start().await;
    let dir = Dir::new();
    let (mut server, addr) = serve(
        &dir.0,
        &[("CONVENE_TELEMETRY__OTLP_ENDPOINT", collector.endpoint())],
    );
    let health = convene_testkit::http_client()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    signal(&server, "TERM");
    assert!(wait_exit(&mut server, Duration::from_secs(20)).success());
    let spans = collector.spans();
    let health = named(&spans, "GET /healthz");
    assert_eq!(health.len(), 1, "{spans:?}");
    assert_eq!(health[0].parent_span_id, "", "no caller: a root span");
}
