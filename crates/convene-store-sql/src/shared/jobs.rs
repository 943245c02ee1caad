use super::Backend;
use super::connectors::{Work, WorkEnd, record_work};
use super::dialect::{
    Conn, DbTime, FOR_UPDATE, SKIP_LOCKED, db_time, in_list, json_rows, text_list, time_of,
};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::Timestamp;
use convene_core::job::JobKind;
use convene_store::{Job, JobEnd, JobStore, StoreError, StoreResult};
use serde_json::Value;
use sqlx::types::Json;
use time::Duration;

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    kind: String,
    subject: String,
    payload: Json<Value>,
    generation: i64,
    attempts: i32,
    next_attempt_at: DbTime,
    last_error: Option<String>,
    created_at: DbTime,
    lease_token: Option<String>,
    status: String,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(r: JobRow) -> StoreResult<Self> {
        Ok(Job {
            id: r.id,
            kind: JobKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Other(format!("unknown job kind {}", r.kind).into()))?,
            subject: r.subject,
            payload: r.payload.0,
            generation: r.generation,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            next_attempt_at: time_of(r.next_attempt_at),
            last_error: r.last_error,
            created_at: time_of(r.created_at),
            lease_token: r.lease_token,
            given_up: r.status == "failed",
        })
    }
}

const JOB_COLUMNS: &str = "id, kind, subject, payload, generation, attempts, next_attempt_at, last_error, created_at, lease_token, status";

/// Queues a job, or coalesces into the waiting one, inside the caller's transaction.
pub(crate) async fn enqueue_in(
    conn: &mut Conn,
    kind: JobKind,
    subject: &str,
    payload: &Value,
    at: Timestamp,
) -> StoreResult<()> {
    enqueue_all_in(conn, kind, &[subject], payload, at).await
}

/// [`enqueue_in`] for many subjects of one kind with one payload, in one statement.
pub(crate) async fn enqueue_all_in(
    conn: &mut Conn,
    kind: JobKind,
    subjects: &[&str],
    payload: &Value,
    at: Timestamp,
) -> StoreResult<()> {
    if subjects.is_empty() {
        return Ok(());
    }
    let rows: Vec<Value> = subjects
        .iter()
        .map(|s| serde_json::json!([uuid::Uuid::now_v7().to_string(), s]))
        .collect();
    let sql = format!(
        "INSERT INTO jobs (id, kind, subject, payload, status, generation, attempts, next_attempt_at, created_at, updated_at)
         SELECT value ->> 0, $2, value ->> 1, $3, 'pending', 1, 0, $4, $4, $4 FROM {} WHERE true
         ON CONFLICT (kind, subject) WHERE status = 'pending'
         DO UPDATE SET payload = excluded.payload, generation = jobs.generation + 1, updated_at = excluded.updated_at",
        json_rows(1)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .binds((Json(&rows), kind.as_str(), Json(payload)))
        .bind(db_time(at))
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl JobStore for Backend {
    async fn enqueue_job(
        &self,
        kind: JobKind,
        subject: &str,
        payload: &Value,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut conn = self.writes().acquire().await?;
        enqueue_in(&mut conn, kind, subject, payload, at).await
    }

    async fn claim_jobs(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        // Only kinds this binary knows: a job queued by a newer one waits for a node that does.
        let sql = format!(
            "UPDATE jobs SET lease_until = $2, lease_token = $3 WHERE id IN (
                 SELECT id FROM jobs WHERE status = 'pending' AND next_attempt_at <= $1
                 AND (lease_until IS NULL OR lease_until <= $1) AND {}
                 ORDER BY next_attempt_at, id LIMIT $4{SKIP_LOCKED})
             RETURNING {JOB_COLUMNS}",
            in_list("kind", 5)
        );
        let rows: Vec<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((db_time(now), db_time(now + lease)))
            .binds((uuid::Uuid::now_v7().to_string(), i64::from(limit)))
            .bind(text_list(&JobKind::ALL.map(JobKind::as_str)))
            .fetch_all(self.writes())
            .await?;
        let mut jobs: Vec<Job> = rows
            .into_iter()
            .map(Job::try_from)
            .collect::<StoreResult<_>>()?;
        jobs.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        Ok(jobs)
    }

    async fn finish_job(&self, job: &Job, end: &JobEnd, at: Timestamp) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let held: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT generation FROM jobs WHERE id = $1 AND lease_token = $2 AND status = 'pending'{FOR_UPDATE}"
        )))
        .binds((&job.id, job.lease_token.as_deref()))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((generation,)) = held else {
            return Ok(false);
        };
        let moved = generation != job.generation;
        let query = match (end, moved) {
            (JobEnd::Done | JobEnd::Skipped, false) => {
                sqlx::query("DELETE FROM jobs WHERE id = $1").bind(&job.id)
            }
            // Changed while it ran: the newest state still has to go out, now.
            (JobEnd::Done | JobEnd::Skipped | JobEnd::Failed(_), true) => sqlx::query(
                "UPDATE jobs SET attempts = 0, next_attempt_at = $2, lease_until = NULL, lease_token = NULL, updated_at = $2 WHERE id = $1",
            )
            .bind(&job.id)
            .bind(db_time(at)),
            (JobEnd::RetryAt { at: next, error }, _) => sqlx::query(
                "UPDATE jobs SET attempts = attempts + 1, next_attempt_at = $2, lease_until = NULL, lease_token = NULL, last_error = $3, updated_at = $4 WHERE id = $1",
            )
            .binds((&job.id, db_time(*next), error.as_str()))
            .bind(db_time(at)),
            (JobEnd::Later(next), _) => sqlx::query(
                "UPDATE jobs SET next_attempt_at = $2, lease_until = NULL, lease_token = NULL, updated_at = $3 WHERE id = $1",
            )
            .binds((&job.id, db_time(*next)))
            .bind(db_time(at)),
            (JobEnd::Failed(error), false) => sqlx::query(
                "UPDATE jobs SET status = 'failed', attempts = attempts + 1, lease_until = NULL, lease_token = NULL, last_error = $2, updated_at = $3 WHERE id = $1",
            )
            .binds((&job.id, error.as_str()))
            .bind(db_time(at)),
        };
        query.execute(&mut *tx).await?;
        let ended = match (end, moved) {
            (JobEnd::Skipped | JobEnd::Later(_), _) => None,
            (JobEnd::Done, _) => Some(WorkEnd::Worked),
            (JobEnd::Failed(error), false) => Some(WorkEnd::Failed(error)),
            (JobEnd::Failed(error) | JobEnd::RetryAt { error, .. }, _) => {
                Some(WorkEnd::Failing(error))
            }
        };
        let work = Work {
            connector: job.kind.connector(),
            kind: job.kind.as_str(),
            subject: &job.subject,
        };
        if let Some(ended) = ended {
            record_work(&mut tx, &work, ended, at).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn pending_job(&self, kind: JobKind, subject: &str) -> StoreResult<Option<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND subject = $2 AND status = 'pending'"
        );
        let row: Option<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((kind.as_str(), subject))
            .fetch_optional(self.reads())
            .await?;
        row.map(Job::try_from).transpose()
    }

    async fn jobs_of_subjects(&self, subjects: &[&str], limit: u32) -> StoreResult<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE {} AND status IN ('pending', 'failed')
             ORDER BY created_at DESC, id DESC LIMIT $2",
            in_list("subject", 1)
        );
        let rows: Vec<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((text_list(subjects), i64::from(limit)))
            .fetch_all(self.reads())
            .await?;
        rows.into_iter().map(Job::try_from).collect()
    }
}
