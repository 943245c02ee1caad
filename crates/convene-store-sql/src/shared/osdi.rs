//! The CRM sync's store (`OsdiStore`). Its tables keep times as Unix microseconds and JSON as
//! text on both backends, so its statements need no dialect at all.

mod rows {
    use super::super::Db;
    use convene_core::clock::from_micros;
    use convene_store::osdi::json_text;
    use convene_store::{Attendance, Flag, Pair, Profile, RecordLog, Run, StoreResult, SyncError};
    use sqlx::Row;
    type R = <Db as sqlx::Database>::Row;

    pub fn profile(r: &R) -> StoreResult<Profile> {
        Ok(Profile {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            entry_point: r.try_get("entry_point")?,
            token_sealed: r.try_get("token_sealed")?,
            settings: json_text(&r.try_get::<String, _>("settings")?),
            created_at: from_micros(r.try_get("created_at")?),
            updated_at: from_micros(r.try_get("updated_at")?),
        })
    }

    pub fn run(r: &R) -> StoreResult<Run> {
        Ok(Run {
            id: r.try_get("id")?,
            profile_id: r.try_get("profile_id")?,
            job: r.try_get("job")?,
            origin: r.try_get("origin")?,
            state: r.try_get("state")?,
            counts: json_text(&r.try_get::<String, _>("counts")?),
            resume: json_text(&r.try_get::<String, _>("resume")?),
            error: r.try_get("error")?,
            lease_token: r.try_get("lease_token")?,
            created_at: from_micros(r.try_get("created_at")?),
            started_at: r.try_get::<Option<i64>, _>("started_at")?.map(from_micros),
            finished_at: r.try_get::<Option<i64>, _>("finished_at")?.map(from_micros),
        })
    }

    pub fn pair(r: &R) -> StoreResult<Pair> {
        Ok(Pair {
            profile_id: r.try_get("profile_id")?,
            remote_id: r.try_get("remote_id")?,
            person_id: convene_core::PersonId::from_trusted(r.try_get::<String, _>("person_id")?),
            remote_modified: from_micros(r.try_get("remote_modified")?),
            local_modified: from_micros(r.try_get("local_modified")?),
            snapshot: json_text(&r.try_get::<String, _>("snapshot")?),
            hash: r.try_get("hash")?,
            last_origin: r.try_get("last_origin")?,
            status: r.try_get("status")?,
        })
    }

    pub fn record(r: &R) -> StoreResult<(i64, RecordLog)> {
        Ok((
            r.try_get("seq")?,
            RecordLog {
                person_id: r.try_get("person_id")?,
                remote_id: r.try_get("remote_id")?,
                outcome: r.try_get("outcome")?,
                fields: json_text(&r.try_get::<String, _>("fields")?),
                conflicts: json_text(&r.try_get::<String, _>("conflicts")?),
                at: from_micros(r.try_get("at")?),
            },
        ))
    }

    pub fn error(r: &R) -> StoreResult<SyncError> {
        Ok(SyncError {
            kind: r.try_get("kind")?,
            retryable: r.try_get::<i64, _>("retryable")? != 0,
            person_id: r.try_get("person_id")?,
            remote_id: r.try_get("remote_id")?,
            status: r
                .try_get::<Option<i64>, _>("status")?
                .and_then(|s| u16::try_from(s).ok()),
            excerpt: r.try_get("excerpt")?,
            at: from_micros(r.try_get("at")?),
        })
    }

    pub fn flag(r: &R) -> StoreResult<Flag> {
        Ok(Flag {
            id: r.try_get("id")?,
            profile_id: r.try_get("profile_id")?,
            kind: r.try_get("kind")?,
            person_id: r.try_get("person_id")?,
            remote_id: r.try_get("remote_id")?,
            detail: r.try_get("detail")?,
            status: r.try_get("status")?,
            created_at: from_micros(r.try_get("created_at")?),
            resolved_at: r.try_get::<Option<i64>, _>("resolved_at")?.map(from_micros),
        })
    }

    pub fn attendance(r: &R) -> StoreResult<Attendance> {
        Ok(Attendance {
            event_id: convene_core::EventId::from_trusted(r.try_get::<String, _>("event_id")?),
            person_id: convene_core::PersonId::from_trusted(r.try_get::<String, _>("person_id")?),
            status: r.try_get("status")?,
            remote_href: r.try_get("remote_href")?,
            source: r.try_get("source")?,
            created_at: from_micros(r.try_get("created_at")?),
            updated_at: from_micros(r.try_get("updated_at")?),
        })
    }
}

use super::connectors::{Work, WorkEnd, record_work};
use super::{Backend, emit};
use crate::binds::Binds;
use crate::violation::{gone, taken};
use async_trait::async_trait;
use convene_core::clock::micros;
use convene_core::job::Connector;
use convene_core::outbound::OutboundEvent;
use convene_core::{EventId, PersonId, Timestamp};
use convene_store::{
    Attendance, Conflict, Flag, NewProfile, OsdiStore, Pair, Profile, Progress, RecordLog, Run,
    StoreError, StoreResult, SyncError,
};
use serde_json::{Value, json};

const RUN_COLUMNS: &str = "id, profile_id, job, origin, state, counts, resume, error, lease_token, created_at, started_at, finished_at";
const FLAG_COLUMNS: &str =
    "id, profile_id, kind, person_id, remote_id, detail, status, created_at, resolved_at";

/// Opens a flag (or finds the same one open) inside the caller's transaction; a new one emits
/// `osdi.conflict.flagged`.
pub(super) async fn flag_in(
    conn: &mut super::dialect::Conn,
    profile_id: &str,
    kind: &str,
    (person_id, remote_id): (Option<&str>, Option<&str>),
    detail: &str,
    at: Timestamp,
) -> StoreResult<Flag> {
    let sql = format!(
        "SELECT {FLAG_COLUMNS} FROM osdi_flags WHERE profile_id = $1 AND kind = $2 AND status = 'open'
         AND COALESCE(person_id, '') = $3 AND COALESCE(remote_id, '') = $4"
    );
    let open = sqlx::query(sqlx::AssertSqlSafe(sql))
        .binds((profile_id, kind, person_id.unwrap_or_default()))
        .bind(remote_id.unwrap_or_default())
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = open {
        return rows::flag(&row);
    }
    let sql = format!(
        "INSERT INTO osdi_flags (id, profile_id, kind, person_id, remote_id, detail, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING {FLAG_COLUMNS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .binds((new_id(), profile_id, kind, person_id, remote_id, detail))
        .bind(micros(at))
        .fetch_one(&mut *conn)
        .await?;
    let flag = rows::flag(&row)?;
    let outbound = OutboundEvent::osdi_flag(
        json!({"flag_id": flag.id, "profile_id": profile_id, "kind": kind,
                        "person_id": person_id, "remote_id": remote_id, "detail": detail}),
    );
    emit(conn, outbound, at).await?;
    Ok(flag)
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn run_event(run: &Run, state: &str, counts: &Value, error: Option<&str>) -> OutboundEvent {
    OutboundEvent::osdi_run(
        json!({"run_id": run.id, "profile_id": run.profile_id, "job": run.job,
                        "origin": run.origin, "state": state, "counts": counts, "error": error}),
    )
}

#[async_trait]
impl OsdiStore for Backend {
    async fn create_profile(&self, new: &NewProfile, at: Timestamp) -> StoreResult<Profile> {
        let row = sqlx::query(
            "INSERT INTO osdi_profiles (id, name, entry_point, token_sealed, settings, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *",
        )
        .binds((new_id(), &new.name, &new.entry_point, &new.token_sealed))
        .binds((new.settings.to_string(), micros(at)))
        .fetch_one(self.writes())
        .await
        .map_err(taken(Conflict::ProfileName))?;
        rows::profile(&row)
    }

    async fn profile(&self, id_or_name: &str) -> StoreResult<Option<Profile>> {
        let row = sqlx::query(
            "SELECT * FROM osdi_profiles WHERE id = $1 OR name = $1 ORDER BY id = $1 DESC LIMIT 1",
        )
        .bind(id_or_name)
        .fetch_optional(self.reads())
        .await?;
        row.as_ref().map(rows::profile).transpose()
    }

    async fn list_profiles(&self) -> StoreResult<Vec<Profile>> {
        let all = sqlx::query("SELECT * FROM osdi_profiles ORDER BY name")
            .fetch_all(self.reads())
            .await?;
        all.iter().map(rows::profile).collect()
    }

    async fn update_profile(
        &self,
        id: &str,
        new: &NewProfile,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        let row = sqlx::query(
            "UPDATE osdi_profiles SET name = $2, entry_point = $3, token_sealed = $4, settings = $5, updated_at = $6
             WHERE id = $1 RETURNING *",
        )
        .binds((id, &new.name, &new.entry_point, &new.token_sealed))
        .binds((new.settings.to_string(), micros(at)))
        .fetch_optional(self.writes())
        .await
        .map_err(taken(Conflict::ProfileName))?
        .ok_or(StoreError::NotFound)?;
        rows::profile(&row)
    }

    async fn delete_profile(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM osdi_profiles WHERE id = $1")
            .bind(id)
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn enqueue_run(
        &self,
        profile_id: &str,
        job: &str,
        origin: &str,
        at: Timestamp,
    ) -> StoreResult<Run> {
        let sql = format!(
            "INSERT INTO osdi_runs (id, profile_id, job, origin, state, counts, resume, created_at)
             VALUES ($1, $2, $3, $4, 'queued', '{{}}', 'null', $5) RETURNING {RUN_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((new_id(), profile_id, job, origin, micros(at)))
            .fetch_one(self.writes())
            .await
            .map_err(taken(Conflict::RunActive))?;
        rows::run(&row)
    }

    async fn enqueue_person_run(
        &self,
        profile_id: &str,
        person: &PersonId,
        at: Timestamp,
    ) -> StoreResult<Run> {
        let resume = json!({"phase": 0, "position": {"person": person.as_str()}});
        let sql = format!(
            "INSERT INTO osdi_runs (id, profile_id, job, origin, state, counts, resume, created_at)
             VALUES ($1, $2, 'person', 'local', 'queued', '{{}}', $3, $4) RETURNING {RUN_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((new_id(), profile_id, resume.to_string(), micros(at)))
            .fetch_one(self.writes())
            .await
            .map_err(gone)?;
        rows::run(&row)
    }

    async fn active_run(&self, profile_id: &str) -> StoreResult<Option<Run>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM osdi_runs WHERE profile_id = $1 AND state IN ('queued', 'running')
             AND job <> 'person'"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(profile_id)
            .fetch_optional(self.writes())
            .await?;
        row.as_ref().map(rows::run).transpose()
    }

    async fn claim_run(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        only: Option<&str>,
    ) -> StoreResult<Option<Run>> {
        // Compare-and-set on the old lease token: of two nodes racing for one run,
        // only one update matches.
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM osdi_runs
                         WHERE (state = 'queued' OR (state = 'running' AND lease_until < $1))
                         AND ($2 IS NULL OR id = $2)
                         ORDER BY created_at LIMIT 1"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((micros(now), only))
            .fetch_optional(self.writes())
            .await?
        else {
            return Ok(None);
        };
        let mut run = rows::run(&row)?;
        let token = new_id();
        let done = sqlx::query(
            "UPDATE osdi_runs SET state = 'running', lease_token = $2, lease_until = $3,
                         started_at = COALESCE(started_at, $4)
                         WHERE id = $1 AND state = $5 AND COALESCE(lease_token, '') = $6",
        )
        .binds((&run.id, &token, micros(lease_until), micros(now)))
        .binds((&run.state, run.lease_token.clone().unwrap_or_default()))
        .execute(self.writes())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        run.state = "running".into();
        run.lease_token = Some(token);
        run.started_at = run.started_at.or(Some(now));
        Ok(Some(run))
    }

    async fn save_progress(&self, run: &Run, p: &Progress<'_>) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let done = sqlx::query(
            "UPDATE osdi_runs SET counts = $3, resume = $4, lease_until = $5
                         WHERE id = $1 AND lease_token = $2 AND state = 'running'",
        )
        .binds((&run.id, &run.lease_token, p.counts.to_string()))
        .binds((p.resume.to_string(), micros(p.lease_until)))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let (mut seq,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM osdi_run_records WHERE run_id = $1")
                .bind(&run.id)
                .fetch_one(&mut *tx)
                .await?;
        for r in p.records {
            seq += 1;
            sqlx::query(
                "INSERT INTO osdi_run_records (run_id, seq, person_id, remote_id, outcome, fields, conflicts, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .binds((&run.id, seq, &r.person_id, &r.remote_id, &r.outcome))
            .binds((r.fields.to_string(), r.conflicts.to_string()))
            .bind(micros(r.at))
            .execute(&mut *tx)
            .await?;
        }
        let (mut seq,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM osdi_errors WHERE run_id = $1")
                .bind(&run.id)
                .fetch_one(&mut *tx)
                .await?;
        for e in p.errors {
            seq += 1;
            sqlx::query(
                "INSERT INTO osdi_errors (run_id, seq, kind, retryable, person_id, remote_id, status, excerpt, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .binds((&run.id, seq, &e.kind, i64::from(e.retryable)))
            .binds((&e.person_id, &e.remote_id, e.status.map(i64::from)))
            .binds((&e.excerpt, micros(e.at)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn finish_run(
        &self,
        run: &Run,
        state: &str,
        counts: &Value,
        error: Option<&str>,
        cursors: &[(String, Timestamp)],
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let done = sqlx::query(
            "UPDATE osdi_runs SET state = $3, counts = $4, error = $5, finished_at = $6,
                         lease_token = NULL, lease_until = NULL
                         WHERE id = $1 AND lease_token = $2 AND state = 'running'",
        )
        .binds((&run.id, &run.lease_token, state, counts.to_string()))
        .binds((error, micros(at)))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for (stream, value) in cursors {
            sqlx::query(
                "INSERT INTO osdi_cursors (profile_id, stream, at) VALUES ($1, $2, $3)
                             ON CONFLICT (profile_id, stream) DO UPDATE SET at = excluded.at",
            )
            .binds((&run.profile_id, stream, micros(*value)))
            .execute(&mut *tx)
            .await?;
        }
        emit(&mut tx, run_event(run, state, counts, error), at).await?;
        let kind = format!("osdi.{}", run.job);
        let work = Work {
            connector: Connector::Osdi,
            kind: &kind,
            subject: &run.id,
        };
        let ended = error.map_or(WorkEnd::Worked, WorkEnd::Failed);
        record_work(&mut tx, &work, ended, at).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn run(&self, id: &str) -> StoreResult<Option<Run>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM osdi_runs WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.reads())
            .await?;
        row.as_ref().map(rows::run).transpose()
    }

    async fn list_runs(
        &self,
        profile_id: Option<&str>,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Run>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM osdi_runs r WHERE ($1 IS NULL OR profile_id = $1)
             AND ($3 IS NULL OR EXISTS (SELECT 1 FROM osdi_runs b WHERE b.id = $3
                 AND (r.created_at < b.created_at OR (r.created_at = b.created_at AND r.id < b.id))))
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let all = sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((profile_id, i64::from(limit), before))
            .fetch_all(self.reads())
            .await?;
        all.iter().map(rows::run).collect()
    }

    async fn run_records(
        &self,
        run_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<(i64, RecordLog)>> {
        let all = sqlx::query(
            "SELECT * FROM osdi_run_records WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .binds((run_id, after_seq, i64::from(limit)))
        .fetch_all(self.reads())
        .await?;
        all.iter().map(rows::record).collect()
    }

    async fn run_errors(&self, run_id: &str, limit: u32) -> StoreResult<Vec<SyncError>> {
        let all = sqlx::query("SELECT * FROM osdi_errors WHERE run_id = $1 ORDER BY seq LIMIT $2")
            .binds((run_id, i64::from(limit)))
            .fetch_all(self.reads())
            .await?;
        all.iter().map(rows::error).collect()
    }

    async fn last_run_at(
        &self,
        profile_id: &str,
        job: &str,
        origin: &str,
    ) -> StoreResult<Option<Timestamp>> {
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT MAX(created_at) FROM osdi_runs WHERE profile_id = $1 AND job = $2 AND origin = $3",
        )
        .binds((profile_id, job, origin))
        .fetch_optional(self.writes())
        .await?;
        Ok(row.and_then(|(t,)| t).map(convene_core::clock::from_micros))
    }

    async fn cursor(&self, profile_id: &str, stream: &str) -> StoreResult<Option<Timestamp>> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT at FROM osdi_cursors WHERE profile_id = $1 AND stream = $2")
                .binds((profile_id, stream))
                .fetch_optional(self.writes())
                .await?;
        Ok(row.map(|(t,)| convene_core::clock::from_micros(t)))
    }

    async fn pair_by_remote(&self, profile_id: &str, remote_id: &str) -> StoreResult<Option<Pair>> {
        let row = sqlx::query("SELECT * FROM osdi_pairs WHERE profile_id = $1 AND remote_id = $2")
            .binds((profile_id, remote_id))
            .fetch_optional(self.writes())
            .await?;
        row.as_ref().map(rows::pair).transpose()
    }

    async fn pair_by_person(
        &self,
        profile_id: &str,
        person_id: &PersonId,
    ) -> StoreResult<Option<Pair>> {
        let row = sqlx::query("SELECT * FROM osdi_pairs WHERE profile_id = $1 AND person_id = $2")
            .binds((profile_id, person_id.as_str()))
            .fetch_optional(self.writes())
            .await?;
        row.as_ref().map(rows::pair).transpose()
    }

    async fn save_pair(&self, p: &Pair) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO osdi_pairs (profile_id, remote_id, person_id, remote_modified, local_modified, snapshot, hash, last_origin, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (profile_id, remote_id) DO UPDATE SET person_id = excluded.person_id,
             remote_modified = excluded.remote_modified, local_modified = excluded.local_modified,
             snapshot = excluded.snapshot, hash = excluded.hash, last_origin = excluded.last_origin,
             status = excluded.status",
        )
        .binds((&p.profile_id, &p.remote_id, p.person_id.as_str()))
        .binds((micros(p.remote_modified), micros(p.local_modified)))
        .binds((p.snapshot.to_string(), &p.hash, &p.last_origin, &p.status))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn is_tombstoned(&self, profile_id: &str, remote_id: &str) -> StoreResult<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT CAST(1 AS BIGINT) FROM osdi_tombstones WHERE profile_id = $1 AND remote_id = $2",
        )
        .binds((profile_id, remote_id))
        .fetch_optional(self.writes())
        .await?;
        Ok(row.is_some())
    }

    async fn add_tombstone(
        &self,
        profile_id: &str,
        remote_id: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO osdi_tombstones (profile_id, remote_id, at) VALUES ($1, $2, $3)
                         ON CONFLICT (profile_id, remote_id) DO NOTHING",
        )
        .binds((profile_id, remote_id, micros(at)))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn raise_flag(
        &self,
        profile_id: &str,
        kind: &str,
        person_id: Option<&str>,
        remote_id: Option<&str>,
        detail: &str,
        at: Timestamp,
    ) -> StoreResult<Flag> {
        let mut tx = self.writes().begin().await?;
        let flag = flag_in(
            &mut tx,
            profile_id,
            kind,
            (person_id, remote_id),
            detail,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(flag)
    }

    async fn is_flagged(
        &self,
        profile_id: &str,
        person_id: Option<&str>,
        remote_id: Option<&str>,
    ) -> StoreResult<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT CAST(1 AS BIGINT) FROM osdi_flags WHERE profile_id = $1 AND status = 'open'
             AND ((person_id IS NOT NULL AND person_id = $2) OR (remote_id IS NOT NULL AND remote_id = $3)) LIMIT 1",
        )
        .binds((profile_id, person_id, remote_id))
        .fetch_optional(self.writes())
        .await?;
        Ok(row.is_some())
    }

    async fn list_flags(
        &self,
        profile_id: Option<&str>,
        open_only: bool,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Flag>> {
        let sql = format!(
            "SELECT {FLAG_COLUMNS} FROM osdi_flags f WHERE ($1 IS NULL OR profile_id = $1)
             AND ($2 = 0 OR status = 'open')
             AND ($3 IS NULL OR EXISTS (SELECT 1 FROM osdi_flags b WHERE b.id = $3
                 AND (f.created_at < b.created_at OR (f.created_at = b.created_at AND f.id < b.id))))
             ORDER BY created_at DESC, id DESC LIMIT $4"
        );
        let all = sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((profile_id, i64::from(open_only), before, i64::from(limit)))
            .fetch_all(self.reads())
            .await?;
        all.iter().map(rows::flag).collect()
    }

    async fn resolve_flag(&self, id: &str, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE osdi_flags SET status = 'resolved', resolved_at = $2 WHERE id = $1 AND status = 'open'",
        )
        .binds((id, micros(at)))
        .execute(self.writes())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn taggings(
        &self,
        profile_id: &str,
        person_id: &str,
    ) -> StoreResult<Vec<(String, Option<String>)>> {
        let sql = "SELECT tag, href FROM osdi_taggings WHERE profile_id = $1 AND person_id = $2 ORDER BY tag";
        Ok(sqlx::query_as(sql)
            .binds((profile_id, person_id))
            .fetch_all(self.writes())
            .await?)
    }

    async fn tagged(
        &self,
        profile_id: &str,
        tag: &str,
    ) -> StoreResult<Vec<(String, Option<String>)>> {
        let sql = "SELECT person_id, href FROM osdi_taggings WHERE profile_id = $1 AND tag = $2 ORDER BY person_id";
        Ok(sqlx::query_as(sql)
            .binds((profile_id, tag))
            .fetch_all(self.writes())
            .await?)
    }

    async fn set_tagging(
        &self,
        profile_id: &str,
        person_id: &str,
        tag: &str,
        href: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO osdi_taggings (profile_id, person_id, tag, href) VALUES ($1, $2, $3, $4)
             ON CONFLICT (profile_id, person_id, tag) DO UPDATE SET href = COALESCE(excluded.href, osdi_taggings.href)",
        )
        .binds((profile_id, person_id, tag, href))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn remove_tagging(
        &self,
        profile_id: &str,
        person_id: &str,
        tag: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM osdi_taggings WHERE profile_id = $1 AND person_id = $2 AND tag = $3",
        )
        .binds((profile_id, person_id, tag))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn link_event(
        &self,
        profile_id: &str,
        event_id: &EventId,
        remote_event_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO osdi_event_links (profile_id, event_id, remote_event_id) VALUES ($1, $2, $3)
             ON CONFLICT (profile_id, event_id) DO UPDATE SET remote_event_id = excluded.remote_event_id",
        )
        .binds((profile_id, event_id.as_str(), remote_event_id))
        .execute(self.writes())
        .await
        .map_err(gone)?;
        Ok(())
    }

    async fn unlink_event(&self, profile_id: &str, event_id: &EventId) -> StoreResult<bool> {
        let done =
            sqlx::query("DELETE FROM osdi_event_links WHERE profile_id = $1 AND event_id = $2")
                .binds((profile_id, event_id.as_str()))
                .execute(self.writes())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn event_links(&self, profile_id: &str) -> StoreResult<Vec<(EventId, String)>> {
        let all: Vec<(String, String)> = sqlx::query_as(
            "SELECT event_id, remote_event_id FROM osdi_event_links WHERE profile_id = $1 ORDER BY event_id",
        )
        .bind(profile_id)
        .fetch_all(self.reads())
        .await?;
        Ok(all
            .into_iter()
            .map(|(e, r)| (EventId::from_trusted(e), r))
            .collect())
    }

    async fn put_attendance(
        &self,
        event_id: &EventId,
        person_id: &PersonId,
        status: &str,
        remote_href: Option<&str>,
        source: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<Attendance> {
        let row = sqlx::query(
            "INSERT INTO attendances (event_id, person_id, status, remote_href, source, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (event_id, person_id) DO UPDATE SET status = excluded.status,
             remote_href = COALESCE(excluded.remote_href, attendances.remote_href),
             source = COALESCE(excluded.source, attendances.source),
             updated_at = CASE WHEN attendances.status = excluded.status THEN attendances.updated_at ELSE excluded.updated_at END
             RETURNING *",
        )
        .binds((event_id.as_str(), person_id.as_str(), status, remote_href))
        .binds((source, micros(at)))
        .fetch_one(self.writes())
        .await
        .map_err(gone)?;
        rows::attendance(&row)
    }

    async fn attendances(&self, event_id: &EventId) -> StoreResult<Vec<Attendance>> {
        let all = sqlx::query(
            "SELECT * FROM attendances WHERE event_id = $1 ORDER BY created_at, person_id",
        )
        .bind(event_id.as_str())
        .fetch_all(self.reads())
        .await?;
        all.iter().map(rows::attendance).collect()
    }

    async fn attendances_page(
        &self,
        event_id: &EventId,
        page: &convene_core::page::PageRequest,
    ) -> StoreResult<convene_core::page::Page<Attendance>> {
        let rows = sqlx::query(
            "SELECT * FROM attendances WHERE event_id = $1 AND ($2 IS NULL OR person_id > $2)
                         ORDER BY person_id LIMIT $3",
        )
        .binds((event_id.as_str(), page.after.as_deref()))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(self.reads())
        .await?;
        let all = rows
            .iter()
            .map(rows::attendance)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(convene_core::page::Page::from_overfetch(
            all,
            page.limit,
            |a: &Attendance| a.person_id.to_string(),
        ))
    }

    async fn delete_attendance(
        &self,
        event_id: &EventId,
        person_id: &PersonId,
    ) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM attendances WHERE event_id = $1 AND person_id = $2")
            .binds((event_id.as_str(), person_id.as_str()))
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
