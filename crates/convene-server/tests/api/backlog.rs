//! Backpressure: while deliveries are further behind than `delivery.max_backlog_age_s`, signal
//! ingest answers 503 `backlog_full` with `Retry-After`; people's own writes go on; `/metrics`
//! shows the backlog and its age; once it is sent, signals are taken again.

use convene_testkit::{Method, Receiver, TestApp, app_tests};
use serde_json::json;
use std::time::Duration;

async fn signal(app: &TestApp, id: &str) -> convene_testkit::Reply {
    app.admin(Method::POST, "/api/v1/signals")
        .json(&json!({"id": id, "type": "custom.ping", "data": {"n": id}}))
        .send()
        .await
}

/// Polls `signal` until it answers `status` (the backlog is read once a second).
async fn until_signal_answers(app: &TestApp, status: u16) -> convene_testkit::Reply {
    for n in 0..50 {
        let r = signal(app, &format!("probe-{status}-{n}")).await;
        if r.status == status {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("signals never answered {status}");
}

fn gauge(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} is not in /metrics"))
}

app_tests! {
    config = |c| {
        c.allow_private_targets = true;
        c.delivery.max_backlog_age_s = Some(60);
    };

    async fn signals_wait_while_deliveries_are_too_far_behind(app: TestApp) {
        let rx = Receiver::start().await;
        let hook = app.admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": rx.url, "event_types": ["custom.ping"]}))
            .send().await;
        assert_eq!(hook.status, 201, "{}", hook.text);
        assert_eq!(signal(&app, "first").await.status, 202);
        // Fanned out but not sent; then the clock says it has waited two minutes.
        app.store().dispatch(100, convene_core::Clock::now(&*app.clock)).await.unwrap();
        app.clock.advance(time::Duration::seconds(120));

        let refused = until_signal_answers(&app, 503).await;
        assert_eq!(refused.body["error"]["code"], "backlog_full", "{}", refused.text);
        let wait: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=30).contains(&wait), "Retry-After {wait}");
        let batch = app.admin(Method::POST, "/api/v1/signals/batch")
            .json(&json!({"signals": [{"type": "custom.ping", "data": {}}]}))
            .send().await;
        assert_eq!((batch.status, batch.body["error"]["code"].as_str()), (503, Some("backlog_full")));
        // A person's own write is never refused for it.
        let event = app.admin(Method::POST, "/api/v1/events")
            .json(&json!({"slug": "still-open", "title": "Still open"}))
            .send().await;
        assert_eq!(event.status, 201, "{}", event.text);

        let metrics = app.call(Method::GET, "/metrics").send().await.text;
        assert_eq!(gauge(&metrics, "convene_delivery_backlog"), 1.0, "{metrics}");
        assert!(gauge(&metrics, "convene_delivery_backlog_age_seconds") >= 120.0);

        // Sent: the backlog is gone and signals are taken again.
        app.round().await;
        // The first signal and the probes taken before the limit was noticed.
        assert!(!rx.received().is_empty());
        until_signal_answers(&app, 202).await;
        let metrics = app.call(Method::GET, "/metrics").send().await.text;
        assert_eq!(gauge(&metrics, "convene_delivery_backlog_age_seconds"), 0.0);
    }
}

app_tests! {
    async fn a_signal_may_not_pass_for_convenes_own(app: TestApp) {
        let r = app.admin(Method::POST, "/api/v1/signals")
            .json(&json!({"type": "participant.registered", "source": "convene", "data": {}}))
            .send().await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.fields(), ["source"]);
    }
}
