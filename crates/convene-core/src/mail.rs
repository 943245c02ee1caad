//! Outgoing mail: the log row every send leaves, the settings that choose providers, and the
//! signed tokens behind one-click unsubscribe.

use crate::notification::Kind;
use crate::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// Where a mail stands. Every planned mail has a row, including those that were never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting for its first attempt or for a retry.
    Queued,
    Sent,
    /// Refused for good, or out of attempts.
    Failed,
    /// The address is on the suppression list.
    Suppressed,
    /// No provider is configured (`disable`): recorded, not sent.
    Disabled,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
            MailStatus::Suppressed => "suppressed",
            MailStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            MailStatus::Queued,
            MailStatus::Sent,
            MailStatus::Failed,
            MailStatus::Suppressed,
            MailStatus::Disabled,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// A rendered mail on its way to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub recipient: String,
    pub user: Option<UserId>,
    pub kind: Kind,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Extra headers in order (`List-Unsubscribe`, …).
    pub headers: Vec<(String, String)>,
    /// One mail per key, ever: a message planned twice is sent once.
    pub dedupe_key: String,
    /// `Queued` for mail to send; `Suppressed` or `Disabled` for a row that only records.
    pub status: MailStatus,
    /// An iCalendar invitation (or cancellation) sent along as `invite.ics`.
    pub calendar: Option<String>,
    /// The event it is about, for the event's timeline.
    pub event: Option<crate::EventId>,
}

/// The mail log row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: String,
    pub recipient: String,
    pub user: Option<UserId>,
    pub action: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub headers: Vec<(String, String)>,
    pub calendar: Option<String>,
    pub status: MailStatus,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub error: Option<String>,
    pub attempts: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One try of one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttempt {
    pub n: u32,
    pub at: Timestamp,
    pub provider: String,
    pub ok: bool,
    pub error: Option<String>,
}

/// How a send ended, as the mail log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailOutcome {
    pub status: MailStatus,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub error: Option<String>,
    pub attempts: Vec<MailAttempt>,
}
