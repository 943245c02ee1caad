//! The sync engine: executes one run of a profile under its lease. A run is a list of phases
//! (pull people, push people, deletions, tags, attendances, donations); after each page the run's counts,
//! sync log rows, errors and position are saved in one transaction that also renews the lease,
//! so a run whose node dies is picked up by another and resumes at its last page. Cursors move
//! only when the whole run completes.

mod attendances;
mod donations;
mod people;
mod reconcile;
mod remote;
mod scope;
mod tags;

use super::settings::{Job, Origin, ProfileSettings};
use convene_core::{Clock, Timestamp};
use convene_delivery::trace::TARGET;
use convene_osdi::client::{Abort, CallError, OsdiClient};
use convene_store::seal::Keyring;
use convene_store::{Profile, Progress, RecordLog, Run, Store, StoreError, StoreResult, SyncError};
use remote::Urls;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tracing::Instrument;

pub struct Engine {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// One sliding window per API token, shared by every run on this node.
    pub throttle: Arc<convene_osdi::throttle::Throttle>,
    /// Opens profiles' sealed API tokens.
    pub keys: Arc<Keyring>,
    pub lease: time::Duration,
    /// The guarded client every run's requests go through.
    pub outbound: convene_delivery::http::Outbound,
}

/// Follows a run as it goes (the CLI's progress bar).
pub trait Watch: Send + Sync {
    /// `visited` pairs so far; `total` when the phase knows it.
    fn visited(&self, _visited: u64, _total: Option<u64>) {}
}

pub struct Quiet;
impl Watch for Quiet {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Completed,
    Aborted(String),
    /// Another node holds the run now (this one stalled past its lease).
    LeaseLost,
}

/// Why a phase stopped early.
pub(crate) enum Stop {
    Aborted(Abort),
    LeaseLost,
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

pub(crate) type Step<T> = Result<T, Stop>;

/// A request that failed for this record only (a 4xx other than 429).
pub(crate) struct Refused {
    pub status: u16,
    pub excerpt: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    PullPeople,
    PushPeople,
    Deletions,
    PullTags,
    PushTags,
    PullAttendances,
    PushAttendances,
    PullDonations,
    PushDonations,
    /// A one-person sync: the person named by the run's position.
    PushPerson,
}

fn phases(job: Job, origin: Origin) -> Vec<Phase> {
    let pick = |pull: Phase, push: Phase| {
        let mut v = Vec::new();
        if origin.pulls() {
            v.push(pull);
        }
        if origin.pushes() {
            v.push(push);
        }
        v
    };
    match job {
        Job::People => {
            let mut v = pick(Phase::PullPeople, Phase::PushPeople);
            if origin.pushes() {
                v.push(Phase::Deletions);
            }
            v
        }
        Job::Tags => pick(Phase::PullTags, Phase::PushTags),
        Job::Attendances => pick(Phase::PullAttendances, Phase::PushAttendances),
        Job::Donations => pick(Phase::PullDonations, Phase::PushDonations),
        Job::Person => vec![Phase::PushPerson],
    }
}

pub(crate) struct Ctx<'a> {
    pub engine: &'a Engine,
    pub run: Run,
    pub profile: Profile,
    pub settings: ProfileSettings,
    pub client: OsdiClient,
    pub urls: Urls,
    pub origin: Origin,
    /// When the run first started (a resumed run keeps it): the cursors' base.
    pub started: Timestamp,
    counts: BTreeMap<String, u64>,
    records: Vec<RecordLog>,
    errors: Vec<SyncError>,
    visited: u64,
    phase: usize,
    /// The size of the collection walked, when the server says.
    total: Option<u64>,
    /// The remote tags, once a phase has read them.
    tag_index: Option<tags::TagIndex>,
    watch: &'a dyn Watch,
    /// Cursors to move when the run completes.
    cursors: Vec<(String, Timestamp)>,
}

/// Raw peer text kept in the error table is cut to this many characters.
const EXCERPT: usize = 500;

impl Ctx<'_> {
    pub fn now(&self) -> Timestamp {
        self.engine.clock.now()
    }

    pub fn store(&self) -> &dyn Store {
        self.engine.store.as_ref()
    }

    /// One sync log row for a pair visited.
    pub fn log(
        &mut self,
        outcome: &str,
        person: Option<&str>,
        remote: Option<&str>,
        fields: Value,
        conflicts: Value,
    ) {
        *self.counts.entry(outcome.to_owned()).or_default() += 1;
        self.visited += 1;
        self.records.push(RecordLog {
            person_id: person.map(str::to_owned),
            remote_id: remote.map(str::to_owned),
            outcome: outcome.to_owned(),
            fields,
            conflicts,
            at: self.now(),
        });
    }

    /// A sync log row with nothing written and no conflicts.
    pub fn note(&mut self, outcome: &str, person: Option<&str>, remote: Option<&str>) {
        self.log(outcome, person, remote, json!([]), json!([]));
    }

    pub fn error(
        &mut self,
        kind: &str,
        person: Option<&str>,
        remote: Option<&str>,
        status: Option<u16>,
        excerpt: &str,
    ) {
        *self.counts.entry("errors".to_owned()).or_default() += 1;
        self.errors.push(SyncError {
            kind: kind.to_owned(),
            // Worth another run: throttling, a server error, or a run cut short.
            retryable: status.is_some_and(|s| s == 429 || s >= 500) || kind == "aborted",
            person_id: person.map(str::to_owned),
            remote_id: remote.map(str::to_owned),
            status,
            excerpt: excerpt.chars().take(EXCERPT).collect(),
            at: self.now(),
        });
    }

    /// A failed record: an error row and a `failed` log row.
    pub fn failed(&mut self, person: Option<&str>, remote: Option<&str>, refused: &Refused) {
        self.error(
            "http",
            person,
            remote,
            Some(refused.status),
            &refused.excerpt,
        );
        self.note("failed", person, remote);
    }

    pub fn counts(&self) -> Value {
        json!(self.counts)
    }

    /// Saves what happened since the last checkpoint and where to resume; renews the lease.
    pub async fn checkpoint(&mut self, position: Value) -> Step<()> {
        let counts = self.counts();
        let resume = json!({"phase": self.phase, "position": position});
        let kept = self
            .store()
            .save_progress(
                &self.run,
                &Progress {
                    counts: &counts,
                    resume: &resume,
                    records: &self.records,
                    errors: &self.errors,
                    lease_until: self.now() + self.engine.lease,
                },
            )
            .await?;
        if !kept {
            return Err(Stop::LeaseLost);
        }
        self.records.clear();
        self.errors.clear();
        self.watch.visited(self.visited, self.total);
        Ok(())
    }

    /// One request: `Ok(Err(_))` when the peer refused this record, `Err` when the run must
    /// stop (attempts used up).
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Step<Result<Value, Refused>> {
        match self.client.call(method, url, body, idempotent).await {
            Ok(v) => Ok(Ok(v)),
            Err(CallError::Failed { status, excerpt }) => Ok(Err(Refused { status, excerpt })),
            Err(CallError::Aborted(abort)) => Err(Stop::Aborted(abort)),
        }
    }

    /// Reads one page of a collection: its records and the next page's URL (`None` when the
    /// walk is complete). A refused page or one that does not move forward aborts the run.
    pub async fn page(
        &mut self,
        url: &str,
        number: &mut Option<u64>,
    ) -> Step<(Vec<Value>, Option<String>)> {
        let span = tracing::info_span!(
            target: TARGET,
            "osdi page",
            otel.name = "GET osdi page",
            otel.kind = "client",
            osdi.page = number.map_or(1, |n| n + 1),
            url.path = url::Url::parse(url).ok().map(|u| u.path().to_owned()),
        );
        let read = self
            .call(Method::GET, url, None, true)
            .instrument(span)
            .await?;
        let page = match read {
            Ok(page) => page,
            Err(r) => {
                return Err(Stop::Aborted(Abort {
                    status: Some(r.status),
                    why: format!("reading {url} was refused with {}", r.status),
                }));
            }
        };
        let next = convene_osdi::paging::next_page(&page, *number)
            .map_err(|e| Stop::Aborted(Abort::because(format!("paging {url}: {e:?}"))))?;
        *number = page["page"].as_u64().or(*number);
        // Action Network's people pages carry no totals; other collections (and servers) may.
        self.total = page["total_records"].as_u64().or(self.total);
        Ok((convene_osdi::paging::records(&page), next))
    }

    pub fn move_cursor_on_completion(&mut self, stream: String, at: Timestamp) {
        self.cursors.push((stream, at));
    }

    pub async fn cursor(&self, stream: &str) -> StoreResult<Option<Timestamp>> {
        self.store().cursor(&self.profile.id, stream).await
    }

    pub fn remote_overlap(&self) -> time::Duration {
        time::Duration::seconds(i64::from(self.settings.remote_cursor_overlap_seconds))
    }
}

impl Engine {
    fn client(&self, token: &str, settings: &ProfileSettings, entry_point: &str) -> OsdiClient {
        OsdiClient::new(
            token,
            settings.max_requests_per_second,
            self.throttle.clone(),
            settings.retry.into(),
            self.outbound.clone(),
            entry_point,
        )
    }

    /// Executes (or resumes) a run claimed under its lease, then records how it ended, inside
    /// the run's span (its pages' spans are children of it).
    pub async fn execute(&self, run: Run, watch: &dyn Watch) -> StoreResult<Ended> {
        let span = tracing::info_span!(
            target: TARGET,
            "osdi run",
            otel.name = %format_args!("osdi run {}", run.job),
            osdi.run = %run.id,
            osdi.profile = %run.profile_id,
            osdi.origin = %run.origin,
            otel.status_code = tracing::field::Empty,
        );
        let ended = self
            .execute_in_span(run, watch)
            .instrument(span.clone())
            .await;
        if !matches!(ended, Ok(Ended::Completed)) {
            span.record("otel.status_code", "ERROR");
        }
        ended
    }

    async fn execute_in_span(&self, run: Run, watch: &dyn Watch) -> StoreResult<Ended> {
        let Some(profile) = self.store.profile(&run.profile_id).await? else {
            return Ok(Ended::Aborted("the profile was deleted".into()));
        };
        let settings = ProfileSettings::from_stored(&profile.settings);
        let (job, origin) = (
            Job::parse(&run.job).unwrap_or(Job::People),
            Origin::parse(&run.origin).unwrap_or(Origin::Both),
        );
        let started = run.started_at.unwrap_or_else(|| self.clock.now());
        let token = match self.keys.open_sealed(&profile.token_sealed) {
            Ok(token) => token,
            Err(e) => {
                return self
                    .abort_before_start(&run, Abort::because(e.to_string()))
                    .await;
            }
        };
        let client = self.client(&token, &settings, &profile.entry_point);
        let counts: BTreeMap<String, u64> =
            serde_json::from_value(run.counts.clone()).unwrap_or_default();
        let urls = match Urls::discover(&client, &profile.entry_point).await {
            Ok(urls) => urls,
            Err(abort) => return self.abort_before_start(&run, abort).await,
        };
        let mut ctx = Ctx {
            engine: self,
            run,
            profile,
            settings,
            client,
            urls,
            origin,
            started,
            counts,
            records: Vec::new(),
            errors: Vec::new(),
            visited: 0,
            phase: 0,
            total: None,
            tag_index: None,
            watch,
            cursors: Vec::new(),
        };
        // A resumed run goes on counting from where it was (errors are not pairs).
        ctx.visited = ctx
            .counts
            .iter()
            .filter(|(outcome, _)| *outcome != "errors")
            .map(|(_, n)| n)
            .sum();
        let result = run_phases(&mut ctx, job, origin).await;
        let counts = ctx.counts();
        match result {
            Ok(()) => {
                let cursors = std::mem::take(&mut ctx.cursors);
                let flushed = ctx.checkpoint(Value::Null).await;
                match flushed {
                    Ok(()) => self.end(&ctx.run, &counts, Ok(()), &cursors).await,
                    Err(Stop::LeaseLost) => Ok(Ended::LeaseLost),
                    Err(Stop::Store(e)) => Err(e),
                    Err(Stop::Aborted(abort)) => {
                        self.end(&ctx.run, &counts, Err(abort.why), &[]).await
                    }
                }
            }
            Err(Stop::LeaseLost) => Ok(Ended::LeaseLost),
            Err(Stop::Store(e)) => Err(e),
            Err(Stop::Aborted(abort)) => {
                ctx.error("aborted", None, None, abort.status, &abort.why);
                // What was done before the abort is kept; the cursors stay where they were.
                let _ = ctx.checkpoint(Value::Null).await;
                self.end(&ctx.run, &ctx.counts(), Err(abort.why), &[]).await
            }
        }
    }

    /// Ends a run that stopped before its first phase (the entry point refused or is away),
    /// with its error row, as a run that stops later has.
    async fn abort_before_start(&self, run: &Run, abort: Abort) -> StoreResult<Ended> {
        let now = self.clock.now();
        let error = SyncError {
            kind: "aborted".to_owned(),
            retryable: true,
            person_id: None,
            remote_id: None,
            status: abort.status,
            excerpt: abort.why.chars().take(EXCERPT).collect(),
            at: now,
        };
        let progress = Progress {
            counts: &run.counts,
            resume: &run.resume,
            records: &[],
            errors: std::slice::from_ref(&error),
            lease_until: now + self.lease,
        };
        if !self.store.save_progress(run, &progress).await? {
            return Ok(Ended::LeaseLost);
        }
        let mut counts = run.counts.clone();
        counts["errors"] = json!(counts["errors"].as_u64().unwrap_or(0) + 1);
        self.end(run, &counts, Err(abort.why), &[]).await
    }

    async fn end(
        &self,
        run: &Run,
        counts: &Value,
        how: Result<(), String>,
        cursors: &[(String, Timestamp)],
    ) -> StoreResult<Ended> {
        let (state, error, ended) = match how {
            Ok(()) => ("completed", None, Ended::Completed),
            Err(why) => ("aborted", Some(why.clone()), Ended::Aborted(why)),
        };
        let counts = if counts.is_null() { &json!({}) } else { counts };
        let kept = self
            .store
            .finish_run(
                run,
                state,
                counts,
                error.as_deref(),
                cursors,
                self.clock.now(),
            )
            .await?;
        Ok(if kept { ended } else { Ended::LeaseLost })
    }
}

async fn run_phases(ctx: &mut Ctx<'_>, job: Job, origin: Origin) -> Step<()> {
    let resume = ctx.run.resume.clone();
    let first = resume["phase"].as_u64().unwrap_or(0) as usize;
    for (i, phase) in phases(job, origin).into_iter().enumerate() {
        ctx.phase = i;
        ctx.total = None;
        let position = if i == first && !resume["position"].is_null() {
            Some(resume["position"].clone())
        } else {
            None
        };
        if i < first {
            // Done before the run was resumed; its cursor still moves on completion.
            register_cursor(ctx, phase).await?;
            continue;
        }
        match phase {
            Phase::PullPeople => people::pull(ctx, position).await?,
            Phase::PushPeople => people::push(ctx, position).await?,
            Phase::Deletions => people::deletions(ctx, position).await?,
            Phase::PullTags => tags::pull(ctx).await?,
            Phase::PushTags => tags::push(ctx, position).await?,
            Phase::PullAttendances => attendances::pull(ctx).await?,
            Phase::PushAttendances => attendances::push(ctx).await?,
            Phase::PullDonations => donations::pull(ctx, position).await?,
            Phase::PushDonations => donations::push(ctx, position).await?,
            Phase::PushPerson => people::sync_one(ctx, position).await?,
        }
        register_cursor(ctx, phase).await?;
        // A resume after this point starts at the next phase.
        ctx.phase = i + 1;
        ctx.checkpoint(Value::Null).await?;
    }
    Ok(())
}

async fn register_cursor(ctx: &mut Ctx<'_>, phase: Phase) -> Step<()> {
    let (remote_start, local_start) = (ctx.started - ctx.remote_overlap(), ctx.started);
    match phase {
        Phase::PullPeople => ctx.move_cursor_on_completion("remote_people".into(), remote_start),
        Phase::PushPeople => ctx.move_cursor_on_completion("local_people".into(), local_start),
        Phase::Deletions => ctx.move_cursor_on_completion("deletions".into(), local_start),
        Phase::PullAttendances => {
            for (event, _) in ctx.store().event_links(&ctx.profile.id).await? {
                ctx.move_cursor_on_completion(
                    format!("remote_attendances:{}", event.as_str()),
                    remote_start,
                );
            }
        }
        Phase::PullDonations => {
            ctx.move_cursor_on_completion("remote_donations".into(), remote_start);
        }
        Phase::PushTags
        | Phase::PullTags
        | Phase::PushAttendances
        | Phase::PushDonations
        | Phase::PushPerson => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_job_and_origin_has_its_phases() {
        assert_eq!(
            phases(Job::People, Origin::Both),
            [Phase::PullPeople, Phase::PushPeople, Phase::Deletions]
        );
        assert_eq!(phases(Job::People, Origin::Remote), [Phase::PullPeople]);
        assert_eq!(phases(Job::Tags, Origin::Local), [Phase::PushTags]);
        assert_eq!(
            phases(Job::Attendances, Origin::Both),
            [Phase::PullAttendances, Phase::PushAttendances]
        );
    }
}
