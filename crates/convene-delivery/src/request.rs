//! The request an attempt sends, built from the delivery and its webhook alone: the worker sends
//! it, and the delivery inspector shows it again (signature masked) from the same definition.

use crate::signing::{SigningKey, signature_header};
use crate::wire::{Encoding, Metadata};
use convene_core::Timestamp;
use convene_core::webhook::{Delivery, Webhook};
use serde_json::Map;
use std::borrow::Cow;

/// Headers Convene sets on every delivery; a webhook's own `headers` may not replace them.
pub const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "traceparent",
];

/// What shows instead of a signature: enough to see its scheme, none of its bytes.
pub const MASKED: &str = "(masked)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The request sent to `webhook` for `delivery` at `at`, signed with the webhook's current
    /// secret and every previous one still valid then.
    pub fn signed(webhook: &Webhook, delivery: &Delivery, sourcehost: &str, at: Timestamp) -> Self {
        let mut request = Self::unsigned(webhook, delivery, sourcehost, at);
        let keys: Vec<SigningKey> = std::iter::once(webhook.secret.as_str())
            .chain(
                webhook
                    .previous_secret
                    .iter()
                    .filter(|(_, until)| *until > at)
                    .map(|(s, _)| s.as_str()),
            )
            .filter_map(|s| SigningKey::parse(s).ok())
            .collect();
        let id = &delivery.message_id;
        let signature = signature_header(&keys, id, at.unix_timestamp(), &request.body);
        request
            .headers
            .push(("webhook-signature".into(), signature));
        request
    }

    /// The same request as [`Request::signed`] with the signature [`MASKED`]: for showing.
    pub fn masked(webhook: &Webhook, delivery: &Delivery, sourcehost: &str, at: Timestamp) -> Self {
        let mut request = Self::unsigned(webhook, delivery, sourcehost, at);
        request
            .headers
            .push(("webhook-signature".into(), MASKED.into()));
        request
    }

    fn unsigned(webhook: &Webhook, delivery: &Delivery, sourcehost: &str, at: Timestamp) -> Self {
        let encoding = Encoding::parse(&webhook.encoding).unwrap_or_default();
        let data = match &delivery.data {
            serde_json::Value::Object(members) => Cow::Borrowed(members),
            other => Cow::Owned(Map::from_iter([("data".to_owned(), other.clone())])),
        };
        let body = encoding.body(
            &data,
            &Metadata {
                event_type: &delivery.event_type,
                id: &delivery.message_id,
                time: delivery.occurred_at,
                source: &delivery.source,
                sourcehost,
            },
        );
        let mut headers: Vec<(String, String)> = webhook
            .headers
            .iter()
            .filter(|(name, _)| !RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
            // As they go on the wire: HTTP header names are sent lower-cased.
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .collect();
        headers.extend([
            ("content-type".into(), encoding.content_type().into()),
            ("webhook-id".into(), delivery.message_id.clone()),
            ("webhook-timestamp".into(), at.unix_timestamp().to_string()),
        ]);
        Self { headers, body }
    }
}
