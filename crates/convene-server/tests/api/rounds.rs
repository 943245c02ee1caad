//! What a delivery round tells its loop: go on at once when it reached a limit (more may be
//! due), otherwise sleep until woken or until what it put off falls due.

use convene_core::Clock;
use convene_testkit::{Answer, Method, Receiver, TestApp, app_tests};
use serde_json::json;

async fn webhook_to(app: &TestApp, url: &str) {
    let r = app
        .admin(Method::POST, "/api/v1/webhooks")
        .json(&json!({"url": url, "event_types": ["custom.ping"]}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn signals(app: &TestApp, n: usize) {
    for i in 0..n {
        let r = app
            .admin(Method::POST, "/api/v1/signals")
            .json(&json!({"type": "custom.ping", "data": {"n": i}}))
            .send()
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
    }
}

app_tests! {
    config = |c| {
        c.allow_private_targets = true;
        c.delivery.batch_size = 2;
    };

    async fn a_round_that_reached_its_batch_asks_for_the_next_at_once(app: TestApp) {
        let rx = Receiver::start().await;
        webhook_to(&app, &rx.url).await;
        signals(&app, 3).await;

        let first = app.round().await;
        assert_eq!((first.dispatched, first.attempted, first.more), (2, 2, true));
        let second = app.round().await;
        assert_eq!((second.dispatched, second.attempted, second.more), (1, 1, false));
        assert_eq!(second.due, None, "nothing was put off");
        assert_eq!(rx.received().len(), 3);
    }

    async fn a_failed_send_asks_for_the_next_round_and_says_when_its_retry_is_due(app: TestApp) {
        let rx = Receiver::start().await;
        rx.script([Answer::status(500)]);
        webhook_to(&app, &rx.url).await;
        signals(&app, 1).await;

        let round = app.round().await;
        // A failure may have queued messages of its own (the endpoint failing).
        assert!(round.more, "{round:?}");
        // The first retry waits 5 s, ± 20 %.
        let wait = round.due.expect("the retry") - app.clock.now();
        assert!(
            (time::Duration::seconds(4)..=time::Duration::seconds(6)).contains(&wait),
            "{wait}"
        );
    }
}
