//! The `mail.send` job: one queued mail through the provider list, every try recorded; a
//! rejection fails it (a bounced address is suppressed), anything else is retried on the
//! delivery schedule until the last attempt, which fails it.

use super::Mailer;
use async_trait::async_trait;
use convene_core::Clock;
use convene_core::mail::{MailAttempt, MailOutcome, MailStatus};
use convene_delivery::jobs::{JobHandler, JobResult};
use convene_delivery::outcome::Outcome;
use convene_mail::{Outgoing, SendError, send_with_failover};
use convene_store::{Job, Store, StoreResult};
use std::sync::Arc;

pub struct MailSendHandler {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<Mailer>,
    pub max_attempts: u32,
}

fn ended(status: MailStatus, error: Option<String>) -> MailOutcome {
    MailOutcome {
        status,
        provider: None,
        provider_message_id: None,
        error,
        attempts: vec![],
    }
}

#[async_trait]
impl JobHandler for MailSendHandler {
    async fn run(&self, job: &Job) -> StoreResult<JobResult> {
        let Some((mail, _)) = self.store.mail(&job.subject).await? else {
            return Ok(JobResult::Skipped);
        };
        if mail.status != MailStatus::Queued {
            return Ok(JobResult::Skipped);
        }
        let now = self.clock.now();
        if self.store.is_suppressed(&mail.recipient).await? {
            self.store
                .record_mail(&mail.id, &ended(MailStatus::Suppressed, None), now)
                .await?;
            return Ok(JobResult::Skipped);
        }
        let settings = self.mailer.settings(self.store.as_ref()).await?;
        let providers = self.mailer.providers(&settings);
        if providers.is_empty() {
            let why = "no mail provider is configured".to_owned();
            self.store
                .record_mail(&mail.id, &ended(MailStatus::Disabled, Some(why)), now)
                .await?;
            return Ok(JobResult::Skipped);
        }
        let outgoing = Outgoing {
            id: mail.id.clone(),
            from_name: Some(settings.from_name.clone()).filter(|n| !n.is_empty()),
            from_address: settings.from_address.clone(),
            to: mail.recipient.clone(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            html: mail.html.clone(),
            headers: mail.headers.clone(),
            calendar: mail.calendar.clone(),
        };
        let tries = send_with_failover(&providers, &outgoing).await;
        let at = self.clock.now();
        let attempts = tries
            .iter()
            .map(|t| MailAttempt {
                n: 0,
                at,
                provider: t.provider.clone(),
                ok: t.result.is_ok(),
                error: t.result.as_ref().err().map(ToString::to_string),
            })
            .collect();
        let last = tries.last().expect("at least one provider was tried");
        let mut outcome = MailOutcome {
            status: MailStatus::Sent,
            provider: Some(last.provider.clone()),
            provider_message_id: None,
            error: None,
            attempts,
        };
        let result = match &last.result {
            Ok(id) => {
                outcome.provider_message_id = Some(id.clone());
                JobResult::Done
            }
            Err(SendError::Rejected { error, bounce }) => {
                if *bounce {
                    self.store
                        .suppress(&mail.recipient, "hard_bounce", at)
                        .await?;
                }
                outcome.status = MailStatus::Failed;
                outcome.error = Some(error.clone());
                JobResult::Failed(error.clone())
            }
            Err(e) => {
                let error = e.to_string();
                outcome.error = Some(error.clone());
                if job.attempts + 1 >= self.max_attempts {
                    outcome.status = MailStatus::Failed;
                    JobResult::Failed(error)
                } else {
                    outcome.status = MailStatus::Queued;
                    JobResult::Retry {
                        outcome: Outcome::Unreachable(error.clone()),
                        error,
                    }
                }
            }
        };
        self.store.record_mail(&mail.id, &outcome, at).await?;
        Ok(result)
    }
}
