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
