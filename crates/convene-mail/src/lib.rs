//! Sending one rendered mail through an ordered list of providers.
//!
//! A provider answers with a message id, or with an error of one of three classes: worth
//! another try later (`Transient`), this provider cannot send at all (`Provider`: bad
//! credentials), or this message will never go (`Rejected`: the recipient does not exist).
//! The first two fall through to the next provider; a rejection ends the send.

mod http_api;
mod smtp;

pub use http_api::HttpApi;
pub use smtp::Smtp;

use async_trait::async_trait;
use std::sync::Arc;

/// One mail as it leaves: rendered, addressed, with its extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Also the `Message-ID`'s local part, so the log can name the message.
    pub id: String,
    pub from_name: Option<String>,
    pub from_address: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub headers: Vec<(String, String)>,
    /// An iCalendar object sent along as `invite.ics` (`text/calendar` with its `METHOD`).
    pub calendar: Option<String>,
}

/// The content type of an iCalendar attachment, with the `METHOD` it carries (`REQUEST`,
/// `CANCEL`), as calendar clients read invitations.
pub fn calendar_type(ics: &str) -> String {
    let method = ics
        .lines()
        .find_map(|l| l.strip_prefix("METHOD:"))
        .map(str::trim)
        .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()));
    match method {
        Some(m) => format!("text/calendar; charset=utf-8; method={m}"),
        None => "text/calendar; charset=utf-8".to_owned(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Provider(String),
    /// `bounce`: the recipient's address is bad and belongs on the suppression list.
    #[error("{error}")]
    Rejected { error: String, bounce: bool },
}

#[async_trait]
pub trait MailProvider: Send + Sync {
    /// `smtp`, `http`: what the mail log names.
    fn name(&self) -> &str;
    /// The provider's id for the accepted message.
    async fn send(&self, mail: &Outgoing) -> Result<String, SendError>;
}

/// One provider's answer in a failover walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Try {
    pub provider: String,
    pub result: Result<String, SendError>,
}

/// Tries the providers in order until one accepts or rejects the mail. Every try is returned.
pub async fn send_with_failover(providers: &[Arc<dyn MailProvider>], mail: &Outgoing) -> Vec<Try> {
    let mut tries = Vec::new();
    for p in providers {
        let result = p.send(mail).await;
        let done = !matches!(
            result,
            Err(SendError::Transient(_) | SendError::Provider(_))
        );
        if let Err(e) = &result {
            tracing::info!(provider = p.name(), mail = %mail.id, error = %e, "mail provider did not take the mail");
        }
        tries.push(Try {
            provider: p.name().to_owned(),
            result,
        });
        if done {
            break;
        }
    }
    tries
}

/// The `Message-ID` this mail carries: its id at the sender's domain.
pub fn message_id(mail: &Outgoing) -> String {
    let domain = mail
        .from_address
        .rsplit_once('@')
        .map_or("localhost", |(_, d)| d);
    format!("<{}@{}>", mail.id, domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn invite() -> Outgoing {
        Outgoing {
            id: "01a24f08-0000-7000-8000-000000000001".into(),
            from_name: None,
            from_address: "convene@example.org".into(),
            to: "ben@example.org".into(),
            subject: "You are registered".into(),
            text: "Hello".into(),
            html: "<p>Hello</p>".into(),
            headers: Vec::new(),
            calendar: Some("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n".into()),
        }
    }

    #[test]
    fn invitations_go_as_text_calendar_with_their_method_by_either_provider() {
        let mail = invite();
        assert_eq!(
            calendar_type(mail.calendar.as_deref().unwrap()),
            "text/calendar; charset=utf-8; method=REQUEST"
        );
        assert_eq!(
            calendar_type("BEGIN:VCALENDAR\r\n"),
            "text/calendar; charset=utf-8"
        );
        let body = http_api::body(&mail);
        let attachment = &body["attachments"][0];
        assert_eq!(attachment["filename"], "invite.ics");
        assert_eq!(
            attachment["type"],
            "text/calendar; charset=utf-8; method=REQUEST"
        );
        let sent = smtp::build(&mail).unwrap().formatted();
        let sent = String::from_utf8_lossy(&sent);
        assert!(sent.contains("multipart/mixed"), "{sent}");
        assert!(sent.contains("filename=\"invite.ics\""), "{sent}");
        assert!(sent.contains("METHOD:REQUEST"), "{sent}");
        let plain = Outgoing {
            calendar: None,
            ..invite()
        };
        assert!(http_api::body(&plain).get("attachments").is_none());
        let sent = smtp::build(&plain).unwrap().formatted();
        assert!(!String::from_utf8_lossy(&sent).contains("multipart/mixed"));
    }
}
