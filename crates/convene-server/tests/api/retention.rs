//! Retention through the API: what a pass removes answers 404; what still works stays.

use convene_testkit::{Answer, Method, Receiver, app_tests};
use serde_json::json;
use time::Duration;

app_tests! {
    config = |c| {
        c.allow_private_targets = true;
        c.retention.messages_days = 1.5;
        c.retention.notifications_days = 0.0;
    };

    async fn a_pass_removes_final_deliveries_past_their_age_and_keeps_retrying_ones(app: TestApp) {
        let rx = Receiver::start().await;
        rx.script([Answer::status(200), Answer::status(500)]);
        let r = app.admin(Method::POST, "/api/v1/webhooks").json(&json!({"url": rx.url, "event_types": ["custom.thing"]})).send().await;
        let hook = r.str("id");
        for id in ["sent", "retrying"] {
            let r = app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": "custom.thing", "id": id, "data": {}})).send().await;
            assert_eq!(r.status, 202, "{}", r.text);
            app.drain().await;
        }
        let list = app.admin(Method::GET, &format!("/api/v1/webhooks/{hook}/deliveries")).send().await;
        let id_of = |status: &str| list.body["data"].as_array().unwrap().iter().find(|d| d["status"] == status).unwrap()["id"].as_str().unwrap().to_owned();
        let (sent, retrying) = (id_of("delivered"), id_of("pending"));

        app.clock.advance(Duration::days(1));
        assert_eq!(app.purge().await.deliveries, 0, "a day old: kept for a day and a half");
        app.clock.advance(Duration::hours(13));
        let purged = app.purge().await;
        assert_eq!((purged.deliveries, purged.attempts), (1, 1), "{purged:?}");
        assert!(purged.messages >= 1, "the sent signal's message at least: {purged:?}");
        let gone = app.admin(Method::GET, &format!("/api/v1/deliveries/{sent}")).send().await;
        assert_eq!(gone.status, 404, "a purged delivery answers 404");
        let kept = app.admin(Method::GET, &format!("/api/v1/deliveries/{retrying}")).send().await;
        assert_eq!((kept.status, kept.body["status"].as_str()), (200, Some("pending")), "retrying work is never purged");
        // The retrying delivery still goes out, and once it is final and old, it goes too.
        app.drain().await;
        assert_eq!(rx.received().len(), 3);
        app.clock.advance(Duration::days(2));
        assert_eq!(app.purge().await.deliveries, 1);
        assert_eq!(app.purge().await, convene_store::Purged::default(), "a second pass finds nothing");
    }
}
