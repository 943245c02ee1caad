//! The `conference.room` job: makes, moves or removes a session's room so that it matches the
//! session as it is when the job runs (so queued changes coalesce).

use super::spec;
use async_trait::async_trait;
use convene_conferencing::provider::{ProviderError, RoomHandle};
use convene_conferencing::providers::Providers;
use convene_core::conference::{RoomRecord, Session};
use convene_core::{Clock, SessionId};
use convene_delivery::jobs::{JobHandler, JobResult};
use convene_delivery::outcome::Outcome;
use convene_store::{Job, RoomOutcome, Store, StoreResult};
use std::sync::Arc;

pub struct RoomHandler {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub providers: Arc<Providers>,
    /// Attempts in all (the retry schedule's length + 1): the last failure is final.
    pub max_attempts: u32,
}

/// The room as made for the session's current schedule.
fn record(handle: RoomHandle, session: &Session) -> RoomRecord {
    RoomRecord {
        handle,
        starts_at: session.starts_at,
        duration_minutes: session.duration_minutes,
    }
}

impl RoomHandler {
    async fn failed(&self, id: &SessionId, job: &Job, e: ProviderError) -> StoreResult<JobResult> {
        let at = self.clock.now();
        let message = e.to_string();
        if e.is_transient() && job.attempts + 1 < self.max_attempts {
            self.store
                .record_room(id, &RoomOutcome::Retrying(message.clone()), at)
                .await?;
            return Ok(JobResult::Retry {
                outcome: Outcome::Unreachable(message.clone()),
                error: message,
            });
        }
        self.store
            .record_room(id, &RoomOutcome::Failed(message.clone()), at)
            .await?;
        Ok(JobResult::Failed(message))
    }
}

#[async_trait]
impl JobHandler for RoomHandler {
    async fn run(&self, job: &Job) -> StoreResult<JobResult> {
        let id = SessionId::from_trusted(job.subject.clone());
        let Some((session, deleted)) = self.store.session_for_room(&id).await? else {
            return Ok(JobResult::Skipped);
        };
        let Some(conference) = session.conference.clone() else {
            return Ok(JobResult::Skipped);
        };
        let provider = match self.providers.of_room(&conference.provider) {
            Ok(provider) => provider,
            Err(e) => return self.failed(&id, job, e).await,
        };
        let room = conference.room.as_ref();
        let done = match (deleted, room) {
            (true, None) => Ok(RoomOutcome::Removed),
            (true, Some(room)) => provider
                .deprovision(&room.handle)
                .await
                .map(|()| RoomOutcome::Removed),
            (false, None) => provider
                .provision(&spec(&session))
                .await
                .map(|h| RoomOutcome::Ready(record(h, &session))),
            (false, Some(room))
                if session.room_is_stale() && provider.capabilities().reschedule_in_place =>
            {
                provider
                    .reschedule(&room.handle, &spec(&session))
                    .await
                    .map(|h| RoomOutcome::Ready(record(h, &session)))
            }
            // Moved by delete + create, in two recorded steps: a failed create is retried as
            // a create, never as a second delete of a room that is gone.
            (false, Some(room)) if session.room_is_stale() => {
                match provider.deprovision(&room.handle).await {
                    Err(e) => Err(e),
                    Ok(()) => {
                        self.store
                            .record_room(&id, &RoomOutcome::Cleared, self.clock.now())
                            .await?;
                        provider
                            .provision(&spec(&session))
                            .await
                            .map(|h| RoomOutcome::Ready(record(h, &session)))
                    }
                }
            }
            (false, Some(room)) => Ok(RoomOutcome::Ready(room.clone())),
        };
        match done {
            Ok(outcome) => {
                self.store
                    .record_room(&id, &outcome, self.clock.now())
                    .await?;
                if matches!(outcome, RoomOutcome::Ready(_)) && provider.capabilities().recordings {
                    super::recordings::first_look(&*self.store, &session).await?;
                }
                Ok(JobResult::Done)
            }
            Err(e) => self.failed(&id, job, e).await,
        }
    }
}
