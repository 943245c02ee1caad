//! SMTP through lettre: `smtp://` (plain), `smtp://…?tls=required` (STARTTLS),
//! `smtp://…?tls=opportunistic`, `smtps://` (implicit TLS); credentials from the URL.
//!
//! The relay's name is resolved and judged by the outbound target policy before every send, and
//! lettre connects to the judged address (TLS still verifies the name), so a name that turns
//! private later is refused then, as HTTP targets are.

use crate::{MailProvider, Outgoing, SendError, message_id};
use async_trait::async_trait;
use convene_delivery::http::{Unusable, judged_addresses};
use convene_delivery::target::TargetPolicy;
use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

type Transport = AsyncSmtpTransport<Tokio1Executor>;

pub struct Smtp {
    url: url::Url,
    host: String,
    timeout: Duration,
    policy: TargetPolicy,
    /// The transport to the address last judged, kept (with its connection pool) while the
    /// name still resolves there.
    transport: Mutex<Option<(IpAddr, Transport)>>,
}

impl Smtp {
    pub fn from_url(url: &str, timeout: Duration, policy: TargetPolicy) -> Result<Self, String> {
        convene_delivery::http::install_crypto();
        Transport::from_url(url).map_err(|e| format!("not an SMTP URL: {e}"))?;
        let parsed = url::Url::parse(url).map_err(|e| format!("not an SMTP URL: {e}"))?;
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(v4)) => v4.to_string(),
            Some(url::Host::Ipv6(v6)) => v6.to_string(),
            None => return Err("not an SMTP URL: no host".into()),
        };
        Ok(Self {
            url: parsed,
            host,
            timeout,
            policy,
            transport: Mutex::new(None),
        })
    }

    /// The relay's address, resolved now and allowed by the policy.
    async fn judged_address(&self) -> Result<IpAddr, SendError> {
        let ips = judged_addresses(&self.policy, &self.host)
            .await
            .map_err(|e| match e {
                Unusable::Unresolved(e) => {
                    SendError::Transient(format!("cannot resolve {}: {e}", self.host))
                }
                Unusable::Refused(refusal) => SendError::Provider(format!("SMTP relay {refusal}")),
            })?;
        // The policy refuses a host with no address, so there is a first one.
        ips.first()
            .copied()
            .ok_or_else(|| SendError::Transient(format!("{} resolves to no address", self.host)))
    }

    /// A transport that connects to `ip` and speaks TLS, if any, to the URL's host name.
    fn transport_to(&self, ip: IpAddr) -> Result<Transport, SendError> {
        let mut cached = self.transport.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, transport)) = cached.as_ref()
            && *at == ip
        {
            return Ok(transport.clone());
        }
        let misconfigured = |e: &dyn std::fmt::Display| SendError::Provider(e.to_string());
        let mut url = self.url.clone();
        url.set_ip_host(ip)
            .map_err(|()| misconfigured(&"cannot address the relay"))?;
        let tls = || TlsParameters::new(self.host.clone()).map_err(|e| misconfigured(&e));
        let mode = self
            .url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let tls = match (self.url.scheme(), mode.as_deref()) {
            ("smtps", _) => Tls::Wrapper(tls()?),
            (_, Some("required")) => Tls::Required(tls()?),
            (_, Some("opportunistic")) => Tls::Opportunistic(tls()?),
            _ => Tls::None,
        };
        let transport = Transport::from_url(url.as_str())
            .map_err(|e| misconfigured(&e))?
            .tls(tls)
            .timeout(Some(self.timeout))
            .build();
        *cached = Some((ip, transport.clone()));
        Ok(transport)
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
    let alternatives = MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone());
    let body = match &mail.calendar {
        None => alternatives,
        Some(ics) => {
            let kind = ContentType::parse(&crate::calendar_type(ics))
                .map_err(|e| format!("bad calendar content type: {e}"))?;
            MultiPart::mixed()
                .multipart(alternatives)
                .singlepart(Attachment::new("invite.ics".to_owned()).body(ics.clone(), kind))
        }
    };
    builder
        .multipart(body)
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
        let ip = self.judged_address().await?;
        self.transport_to(ip)?
            .send(message)
            .await
            .map_err(|e| classify(&e))?;
        Ok(message_id(mail))
    }
}
