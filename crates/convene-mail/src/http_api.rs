//! An HTTP mail API in SendGrid's v3 shape: `POST {base}/v3/mail/send` with a bearer key,
//! 202 on acceptance with the message id in `X-Message-Id`.

use crate::{MailProvider, Outgoing, SendError};
use async_trait::async_trait;
use convene_delivery::http::{Outbound, refusal};
use convene_delivery::target::TargetPolicy;
use serde_json::{Map, Value, json};
use std::time::Duration;

pub struct HttpApi {
    client: Outbound,
    endpoint: url::Url,
    api_key: String,
}

impl HttpApi {
    pub fn new(
        base_url: &str,
        api_key: &str,
        timeout: Duration,
        policy: TargetPolicy,
    ) -> Result<Self, String> {
        let base = url::Url::parse(base_url).map_err(|e| format!("not a URL: {e}"))?;
        let endpoint = base
            .join("v3/mail/send")
            .map_err(|e| format!("not a base URL: {e}"))?;
        let client = Outbound::new(policy, timeout)
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Self {
            client,
            endpoint,
            api_key: api_key.to_owned(),
        })
    }
}

/// The request body for one mail.
pub fn body(mail: &Outgoing) -> Value {
    let mut from = Map::new();
    from.insert("email".into(), json!(mail.from_address));
    if let Some(name) = &mail.from_name {
        from.insert("name".into(), json!(name));
    }
    let headers: Map<String, Value> = mail
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut body = json!({
        "personalizations": [{"to": [{"email": mail.to}]}],
        "from": from,
        "subject": mail.subject,
        "content": [
            {"type": "text/plain", "value": mail.text},
            {"type": "text/html", "value": mail.html}
        ],
        "custom_args": {"convene_mail_id": mail.id},
    });
    if let Some(ics) = &mail.calendar {
        use base64::Engine;
        body["attachments"] = json!([{
            "content": base64::engine::general_purpose::STANDARD.encode(ics),
            "type": crate::calendar_type(ics),
            "filename": "invite.ics",
            "disposition": "attachment",
        }]);
    }
    if !headers.is_empty() {
        body["headers"] = Value::Object(headers);
    }
    body
}

#[async_trait]
impl MailProvider for HttpApi {
    fn name(&self) -> &str {
        "http"
    }

    async fn send(&self, mail: &Outgoing) -> Result<String, SendError> {
        // A refused address is the settings' fault: the next provider is tried, nothing waits.
        let refused = |r: &dyn std::fmt::Display| SendError::Provider(format!("mail API {r}"));
        let response = self
            .client
            .request(reqwest::Method::POST, self.endpoint.as_str())
            .map_err(|r| refused(&r))?
            .bearer_auth(&self.api_key)
            .json(&body(mail))
            .send()
            .await
            .map_err(|e| match refusal(&e) {
                Some(r) => refused(r),
                None => SendError::Transient(format!("cannot reach the mail API: {e}")),
            })?;
        let status = response.status();
        let id = response
            .headers()
            .get("x-message-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        let excerpt: String = text.chars().take(300).collect();
        let error = format!("mail API answered {}: {excerpt}", status.as_u16());
        match status.as_u16() {
            200..=299 => Ok(id.unwrap_or_else(|| crate::message_id(mail))),
            401 | 403 => Err(SendError::Provider(error)),
            408 | 429 | 500..=599 => Err(SendError::Transient(error)),
            _ => Err(SendError::Rejected {
                error,
                bounce: false,
            }),
        }
    }
}
