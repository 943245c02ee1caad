//! The Event Center side's push: one `dashboard.push` job per linked event sends the complete
//! public participant list as it is when the job runs, so pushes coalesce and the last one
//! always carries the final state. Private participants never leave.

use super::client::{Answer, DashboardCall, DashboardClient};
use crate::notifications::notifier::{EventNotice, tell_event};
use async_trait::async_trait;
use convene_core::sync::{Direction, Endpoint, SyncCall};
use convene_core::{Clock, EventId};
use convene_delivery::jobs::{JobHandler, JobResult};
use convene_store::{Job, Store, StoreResult};
use std::sync::Arc;

pub struct PushHandler {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub client: DashboardClient,
    pub mailer: Arc<crate::notifications::mail::Mailer>,
    pub max_attempts: u32,
}

#[async_trait]
impl JobHandler for PushHandler {
    async fn run(&self, job: &Job) -> StoreResult<JobResult> {
        let event = EventId::from_trusted(job.subject.clone());
        let Some(link) = self.store.dashboard_link(&event).await? else {
            // Unlinked (or deleted) since it was queued: nothing to send.
            return Ok(JobResult::Skipped);
        };
        let names: Vec<String> = self
            .store
            .public_usernames(&event)
            .await?
            .into_iter()
            .map(|u| u.to_string())
            .collect();
        let sent = names.len();
        let call = DashboardCall {
            endpoint: Endpoint::Update,
            course_slug: &link.course_slug,
            secret: &link.secret,
            dry_run: false,
            event_id: Some(event.as_str()),
            names: Some(names),
        };
        let started = self.clock.now();
        let answer = self.client.call(&link.base_url, &call, started).await;
        let at = self.clock.now();
        log_call(
            &*self.store,
            &event,
            &link.course_slug,
            Endpoint::Update,
            false,
            &answer,
            at,
        )
        .await?;
        self.store.record_push(&event, &answer.label(), at).await?;
        let gives_up = match &answer {
            Answer::Success => false,
            failed => !failed.is_transient() || job.attempts + 1 >= self.max_attempts,
        };
        if gives_up {
            self.tell_organizers(&event, job, &answer.message()).await?;
        }
        Ok(match answer {
            Answer::Success => {
                tracing::debug!(event = %event, sent, "participants pushed to the Dashboard");
                JobResult::Done
            }
            ref failed if failed.is_transient() => JobResult::Retry {
                outcome: failed
                    .outcome()
                    .cloned()
                    .unwrap_or(convene_delivery::outcome::Outcome::TimedOut),
                error: failed.message(),
            },
            failed => JobResult::Failed(failed.message()),
        })
    }
}

impl PushHandler {
    /// The organizers learn that the Dashboard does not have the event's participants.
    async fn tell_organizers(&self, event: &EventId, job: &Job, error: &str) -> StoreResult<()> {
        let Some(found) = self.store.event_by_id(event).await? else {
            return Ok(());
        };
        let ctx = minijinja::context! {
            event => minijinja::context! { id => event.as_str(), title => found.title.as_str() },
            error => error,
        };
        let notice = EventNotice {
            event,
            who: convene_store::Recipients::Organizers,
            kind: convene_core::notification::Kind::SyncFailed,
            ctx,
            key: format!("push:{}:{}", job.id, job.attempts),
        };
        tell_event(
            self.store.as_ref(),
            self.clock.as_ref(),
            &self.mailer,
            notice,
        )
        .await
    }
}

/// Writes one outbound call to the sync log.
pub async fn log_call(
    store: &dyn Store,
    event: &EventId,
    course_slug: &str,
    endpoint: Endpoint,
    dry_run: bool,
    answer: &Answer,
    at: convene_core::Timestamp,
) -> StoreResult<()> {
    store
        .record_sync_call(&SyncCall {
            id: uuid::Uuid::now_v7().to_string(),
            event: Some(event.clone()),
            direction: Direction::Outbound,
            endpoint,
            course_slug: course_slug.to_owned(),
            center_event_id: Some(event.as_str().to_owned()),
            dry_run,
            outcome: answer.label(),
            status: answer
                .outcome()
                .and_then(|o| o.status())
                .or(matches!(answer, Answer::Success).then_some(200)),
            added: 0,
            removed: 0,
            skipped: 0,
            detail: (!matches!(answer, Answer::Success)).then(|| answer.message()),
            at,
        })
        .await
}
