//! The fan-out plan and the failure streaks a round of attempts starts or ends.

use convene_core::webhook::{Attempt, Delivery, Webhook};
use convene_core::webhook::{DeliveryStatus, EventTypes, TargetUrl};
use convene_core::{DeliveryId, WebhookId};
use convene_store::*;
use serde_json::Value;
use time::Duration;
use time::macros::datetime;

fn claim(webhook: &WebhookId) -> Claim {
    let at = datetime!(2026-11-23 10:00:00 UTC);
    Claim {
        delivery: Delivery {
            id: DeliveryId::new(),
            webhook_id: webhook.clone(),
            message_id: "m".into(),
            event_type: "a.b".into(),
            data: Value::Null,
            source: "convene".into(),
            occurred_at: at,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(at),
            created_at: at,
            updated_at: at,
            traceparent: None,
            subject: None,
        },
        webhook: std::sync::Arc::new(Webhook {
            id: webhook.clone(),
            url: TargetUrl::parse("https://x.example/").unwrap(),
            event_types: EventTypes::All,
            enabled: true,
            encoding: "json".into(),
            description: None,
            headers: Default::default(),
            rate_limit_per_s: None,
            secret: String::new(),
            previous_secret: None,
            disabled_reason: None,
            failing_since: None,
            owner: None,
            scope: Default::default(),
            order: Default::default(),
            created_at: at,
            updated_at: at,
        }),
        lease_token: "t".into(),
    }
}

fn record(minute: u8, ok: bool) -> AttemptRecord {
    AttemptRecord {
        attempt: Attempt {
            attempted_at: datetime!(2026-11-23 10:00:00 UTC) + Duration::minutes(minute.into()),
            duration_ms: 1,
            status_code: Some(if ok { 200 } else { 500 }),
            error_class: (!ok).then(|| "server_error".to_owned()),
            error: None,
            response_body: None,
            response_headers: Default::default(),
        },
        status: DeliveryStatus::Pending,
        next_attempt_at: None,
    }
}

#[test]
fn streaks_follow_the_last_success() {
    let (a, b, c) = (WebhookId::new(), WebhookId::new(), WebhookId::new());
    let (ca, cb, cc) = (claim(&a), claim(&b), claim(&c));
    let records = [
        record(3, false),
        record(1, false),
        record(2, true),
        record(1, false),
        record(5, true),
        record(4, false),
    ];
    let done = [
        (&ca, &records[0]),
        (&ca, &records[1]),
        (&ca, &records[2]),
        (&cb, &records[3]),
        (&cc, &records[4]),
        (&cc, &records[5]),
    ];
    let streaks: std::collections::BTreeMap<_, _> =
        failure_streaks(done.iter()).into_iter().collect();
    let at = |m: i64| datetime!(2026-11-23 10:00:00 UTC) + Duration::minutes(m);
    assert_eq!(
        streaks[a.as_str()],
        Some((at(3), true)),
        "failed after a success: a new streak"
    );
    assert_eq!(
        streaks[b.as_str()],
        Some((at(1), false)),
        "only failures: the running streak goes on"
    );
    assert_eq!(streaks[c.as_str()], None, "ended on a success");
}
