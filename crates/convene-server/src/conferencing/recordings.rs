//! The `conference.recordings` job: asks the provider for a session's recordings from shortly
//! after it ends, often at first and then more rarely, for two days (a provider processes a
//! recording for minutes to hours, and a room used again makes another).

use convene_conferencing::providers::Providers;
use convene_core::conference::Session;
use convene_core::job::JobKind;
use convene_core::{Clock, SessionId, Timestamp};
use convene_delivery::jobs::{JobHandler, JobResult};
use convene_delivery::outcome::Outcome;
use convene_store::{Job, Store, StoreResult};
use std::sync::Arc;
use time::Duration;

/// How long after the session's end recordings are looked for.
const LOOK_FOR: Duration = Duration::hours(48);

pub struct RecordingsHandler {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub providers: Arc<Providers>,
}

/// The next look after `now`: every 10 minutes in the first hour after the end, hourly up to
/// six hours, then every six hours.
fn next_look(ends_at: Timestamp, now: Timestamp) -> Option<Timestamp> {
    let since = now - ends_at;
    let step = if since < Duration::HOUR {
        Duration::minutes(10)
    } else if since < Duration::hours(6) {
        Duration::HOUR
    } else {
        Duration::hours(6)
    };
    let next = now.max(ends_at) + step;
    (next <= ends_at + LOOK_FOR).then_some(next)
}

/// Queues the first look, ten minutes after the session ends (a reschedule moves it).
pub async fn first_look(store: &dyn Store, session: &Session) -> StoreResult<()> {
    let at = session.ends_at() + Duration::minutes(10);
    store
        .enqueue_job(
            JobKind::ConferenceRecordings,
            session.id.as_str(),
            &serde_json::json!({}),
            at,
        )
        .await
}

#[async_trait::async_trait]
impl JobHandler for RecordingsHandler {
    async fn run(&self, job: &Job) -> StoreResult<JobResult> {
        let id = SessionId::from_trusted(job.subject.clone());
        let Some(session) = self.store.session(&id).await? else {
            return Ok(JobResult::Skipped);
        };
        let Some((conference, room)) = session
            .conference
            .as_ref()
            .and_then(|c| Some((c, c.room.as_ref()?)))
        else {
            return Ok(JobResult::Skipped);
        };
        let Some(provider) = self
            .providers
            .named(&conference.provider)
            .filter(|p| p.capabilities().recordings)
        else {
            return Ok(JobResult::Skipped);
        };
        let now = self.clock.now();
        if now < session.ends_at() {
            return Ok(JobResult::Later(session.ends_at() + Duration::minutes(10)));
        }
        match provider.recordings(&room.handle).await {
            Ok(found) => {
                if found != conference.recordings {
                    self.store.record_recordings(&id, &found).await?;
                }
                Ok(match next_look(session.ends_at(), now) {
                    Some(at) => JobResult::Later(at),
                    None => JobResult::Done,
                })
            }
            Err(e) if e.is_transient() => Ok(JobResult::Retry {
                outcome: Outcome::Unreachable(e.to_string()),
                error: e.to_string(),
            }),
            Err(e) => Ok(JobResult::Failed(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn looks_often_at_first_then_rarely_then_stops() {
        let end = datetime!(2026-12-10 12:00 UTC);
        let at = |m: i64| end + Duration::minutes(m);
        assert_eq!(next_look(end, at(10)), Some(at(20)));
        assert_eq!(next_look(end, at(90)), Some(at(150)));
        assert_eq!(next_look(end, at(7 * 60)), Some(at(13 * 60)));
        assert_eq!(next_look(end, at(47 * 60)), None);
    }
}
