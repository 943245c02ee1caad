//! Changes synced as they happen. A person the API creates, changes, tags, merges or deletes
//! queues one `osdi.person` connector job per realtime profile (coalesced per person: ten
//! edits in a row are one sync). The job runs a one-person sync run, beside any batch run. The
//! engine writes through the store, never through here, so its own writes queue nothing.

use super::engine::{Ended, Engine, Quiet};
use super::settings::ProfileSettings;
use crate::state::AppState;
use async_trait::async_trait;
use convene_core::PersonId;
use convene_core::job::JobKind;
use convene_delivery::jobs::{JobHandler, JobResult};
use convene_store::{Job, StoreResult};
use serde_json::json;
use std::sync::Arc;

/// Queues a one-person sync of `person` for every realtime profile, and wakes the job runner. A failure to queue is logged, not returned: the change itself is committed, and the
/// profile's schedule is the safety net.
pub async fn changed(state: &AppState, person: &PersonId) {
    if let Err(e) = queue(state, person).await {
        tracing::warn!(error = %e, "queuing a realtime CRM sync failed; the schedule will carry the change");
    }
    state.wake_workers();
}

async fn queue(state: &AppState, person: &PersonId) -> StoreResult<()> {
    let now = state.clock.now();
    for profile in state.store.list_profiles().await? {
        if !ProfileSettings::from_stored(&profile.settings).realtime {
            continue;
        }
        let subject = format!("{}/{}", profile.id, person);
        let payload = json!({"profile_id": profile.id, "person_id": person.as_str()});
        state
            .store
            .enqueue_job(JobKind::OsdiPerson, &subject, &payload, now)
            .await?;
    }
    Ok(())
}

/// Runs a queued one-person sync. The run records its own outcome, errors and the connector's
/// health, so the job only says it is done.
pub struct PersonSync {
    pub engine: Arc<Engine>,
}

#[async_trait]
impl JobHandler for PersonSync {
    async fn run(&self, job: &Job) -> StoreResult<JobResult> {
        let (Some(profile), Some(person)) = (
            job.payload["profile_id"].as_str(),
            job.payload["person_id"].as_str().and_then(PersonId::parse),
        ) else {
            return Ok(JobResult::Skipped);
        };
        let store = &self.engine.store;
        let realtime = store
            .profile(profile)
            .await?
            .is_some_and(|p| ProfileSettings::from_stored(&p.settings).realtime);
        if !realtime {
            return Ok(JobResult::Skipped);
        }
        let now = self.engine.clock.now();
        let run = store.enqueue_person_run(profile, &person, now).await?;
        // Another node's runner may claim the queued run first: then it runs there.
        let Some(run) = store
            .claim_run(now, now + self.engine.lease, Some(&run.id))
            .await?
        else {
            return Ok(JobResult::Skipped);
        };
        let id = run.id.clone();
        match self.engine.execute(run, &Quiet).await? {
            Ended::Aborted(why) => tracing::warn!(run = %id, %why, "one-person CRM sync aborted"),
            Ended::Completed | Ended::LeaseLost => {}
        }
        Ok(JobResult::Skipped)
    }
}
