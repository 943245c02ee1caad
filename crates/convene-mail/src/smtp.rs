//! SMTP through lettre: `smtp://` (plain), `smtp://…?tls=required` (STARTTLS),
//! `smtp://…?tls=opportunistic`, `smtps://` (implicit TLS); credentials from the URL.

use crate::{MailProvider, Outgoing, SendError, message_id};
use async_trait::async_trait;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Smtp {
    pub fn from_url(url: &str, timeout: Duration) -> Result<Self, String> {
        convene_delivery::http::install_crypto();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("not an SMTP URL: {e}"))?
            .timeout(Some(timeout))
            .build();
        Ok(Self { transport })
    }
}

/// Builds the MIME message: text and HTML alternatives, the extra headers, our Message-ID.
pub fn build(mail: &Outgoing) -> Result<Message, String> {
    let from = Mailbox::new(
        mail.from_name.clone(),
        mail.from_address
            .parse()
            .map_err(|e| format!("bad sender address: {e}"))?,
    );
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| format!("bad recipient address: {e}"))?;
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(message_id(mail)));
    for (name, value) in &mail.headers {
        let name = HeaderName::new_from_ascii(name.clone())
            .map_err(|_| format!("bad header name {name}"))?;
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| format!("cannot build the message: {e}"))
}

fn classify(e: &SmtpError) -> SendError {
    let text = e.to_string();
    if e.is_permanent() {
        let code = e.status().map(|c| c.to_string()).unwrap_or_default();
        return match code.as_str() {
            // Mailbox unavailable, not local, name not allowed: the address is bad.
            "550" | "551" | "553" => SendError::Rejected {
                error: text,
                bounce: true,
            },
            // Authentication required or refused: this provider is misconfigured.
            "530" | "534" | "535" | "538" => SendError::Provider(text),
            _ => SendError::Rejected {
                error: text,
                bounce: false,
            },
        };
    }
    SendError::Transient(text)
}

#[async_trait]
impl MailProvider for Smtp {
    fn name(&self) -> &str {
        "smtp"
    }

    async fn send(&self, mail: &Outgoing) -> Result<String, SendError> {
        let message = build(mail).map_err(|error| SendError::Rejected {
            error,
            bounce: false,
        })?;
        self.transport
            .send(message)
            .await
            .map_err(|e| classify(&e))?;
        Ok(message_id(mail))
    }
}
