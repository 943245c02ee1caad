use super::dialect::{Conn, DbTime, FOR_UPDATE, db_time, time_of};
use super::jobs::enqueue_in;
use super::reminders::{Planned, replan};
use super::{Backend, emit};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::clock::{from_micros, micros};
use convene_core::conference::{
    Conference, ConferenceStatus, GroupName, NewSession, Recording, RoomHandle, RoomRecord,
    Session, SessionPatch,
};
use convene_core::event::Event;
use convene_core::job::JobKind;
use convene_core::outbound::{EventType, OutboundEvent};
use convene_core::page::{Page, PageRequest};
use convene_core::reminder::Reminders;
use convene_core::text::Title;
use convene_core::{EventId, SessionId, Timestamp};
use convene_store::{ConferenceStore, RoomOutcome, StoreError, StoreResult};
use serde_json::json;
use sqlx::types::Json;

const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id = $1";

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    event_id: Option<String>,
    number: i64,
    title: String,
    group_name: String,
    starts_at: DbTime,
    duration_minutes: i32,
    extrainfo: String,
    provider: Option<String>,
    conference_status: Option<String>,
    conference_error: Option<String>,
    room_remote_id: Option<String>,
    room_join_url: Option<String>,
    room_secret: Option<String>,
    room_data: Option<Json<serde_json::Value>>,
    room_starts_at: Option<DbTime>,
    room_duration_minutes: Option<i32>,
    reminders: String,
    sequence: i32,
    /// A JSON list of [`Recording`]s.
    recordings: String,
    deleted_at: Option<DbTime>,
    created_at: DbTime,
    updated_at: DbTime,
}

fn minutes(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

impl SessionRow {
    fn into_session(self) -> (Session, bool) {
        let room = match (self.room_remote_id, self.room_join_url) {
            (Some(remote_id), Some(join_url)) => Some(RoomRecord {
                handle: RoomHandle {
                    provider: self.provider.clone().unwrap_or_default(),
                    remote_id,
                    join_url,
                    secret_handle: self.room_secret,
                    data: self.room_data.map(|d| d.0).unwrap_or_default(),
                },
                starts_at: time_of(self.room_starts_at.unwrap_or(self.starts_at)),
                duration_minutes: minutes(self.room_duration_minutes.unwrap_or(0)),
            }),
            _ => None,
        };
        let conference = self.provider.map(|provider| Conference {
            status: self
                .conference_status
                .as_deref()
                .and_then(ConferenceStatus::parse)
                .unwrap_or(ConferenceStatus::Pending),
            provider,
            room,
            error: self.conference_error,
            recordings: serde_json::from_str(&self.recordings).unwrap_or_default(),
        });
        let session = Session {
            id: SessionId::from_trusted(self.id),
            event: EventId::from_trusted(self.event_id.unwrap_or_default()),
            number: self.number,
            title: Title::from_trusted(self.title),
            group: GroupName::from_trusted(self.group_name),
            starts_at: time_of(self.starts_at),
            duration_minutes: minutes(self.duration_minutes),
            extrainfo: self.extrainfo,
            reminders: Reminders::from_stored(&self.reminders),
            sequence: u32::try_from(self.sequence).unwrap_or(0),
            conference,
            created_at: time_of(self.created_at),
            updated_at: time_of(self.updated_at),
        };
        (session, self.deleted_at.is_some())
    }
}

pub(crate) async fn next_number(conn: &mut Conn, counter: &str) -> StoreResult<i64> {
    let (n,): (i64,) =
        sqlx::query_as("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
            .bind(counter)
            .fetch_one(conn)
            .await?;
    Ok(n)
}

/// Queues the session's room job: its room is made, moved or removed to match.
async fn room_job(conn: &mut Conn, session: &str, at: Timestamp) -> StoreResult<()> {
    enqueue_in(conn, JobKind::ConferenceRoom, session, &json!({}), at).await
}

async fn replan_session(
    conn: &mut Conn,
    event: &EventId,
    session: &SessionId,
    starts_at: Timestamp,
    reminders: &Reminders,
    at: Timestamp,
) -> StoreResult<()> {
    let plan = Planned {
        event,
        session: Some(session),
        starts_at: Some(starts_at),
        reminders,
    };
    replan(conn, plan, at).await
}

/// Serialises changes to one session (its patch, its decks' positions).
pub(crate) async fn lock(conn: &mut Conn, id: &SessionId) -> StoreResult<()> {
    let sql = format!("SELECT 1 FROM sessions WHERE id = $1{FOR_UPDATE}");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

async fn fetch(conn: &mut Conn, id: &SessionId) -> StoreResult<Option<(Session, bool)>> {
    let row: Option<SessionRow> = sqlx::query_as("SELECT * FROM sessions WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(row.map(SessionRow::into_session))
}

async fn live(conn: &mut Conn, id: &SessionId) -> StoreResult<Option<Session>> {
    Ok(fetch(conn, id)
        .await?
        .filter(|(_, deleted)| !deleted)
        .map(|(s, _)| s))
}

/// Before an event is deleted: its sessions go too, those with a room once the room is gone.
pub(crate) async fn event_going(
    conn: &mut Conn,
    event: &EventId,
    at: Timestamp,
) -> StoreResult<()> {
    let with_rooms: Vec<(String,)> = sqlx::query_as(
        "UPDATE sessions SET deleted_at = $2, conference_status = 'pending'
         WHERE event_id = $1 AND deleted_at IS NULL AND provider IS NOT NULL RETURNING id",
    )
    .binds((event.as_str(), db_time(at)))
    .fetch_all(&mut *conn)
    .await?;
    for (id,) in with_rooms {
        room_job(conn, &id, at).await?;
    }
    sqlx::query("DELETE FROM sessions WHERE event_id = $1 AND provider IS NULL")
        .bind(event.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl ConferenceStore for Backend {
    async fn create_session(
        &self,
        event: &Event,
        new: NewSession,
        at: Timestamp,
    ) -> StoreResult<Session> {
        let mut tx = self.writes().begin().await?;
        let number = next_number(&mut tx, "session").await?;
        let id = SessionId::new();
        sqlx::query(
            "INSERT INTO sessions (id, event_id, number, title, group_name, starts_at, duration_minutes, extrainfo,
                 provider, conference_status, created_at, updated_at, reminders)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $9 IS NULL THEN NULL ELSE 'pending' END, $10, $10, $11)",
        )
        .binds((id.as_str(), event.id.as_str(), number, new.title.as_str()))
        .binds((new.group.as_str(), db_time(new.starts_at)))
        .bind(i32::try_from(new.duration_minutes).unwrap_or(i32::MAX))
        .binds((&new.extrainfo, new.provider.as_deref(), db_time(at)))
        .bind(new.reminders.stored())
        .execute(&mut *tx)
        .await
        .map_err(crate::violation::gone)?;
        replan_session(&mut tx, &event.id, &id, new.starts_at, &new.reminders, at).await?;
        if new.provider.is_some() {
            room_job(&mut tx, id.as_str(), at).await?;
        }
        let session = live(&mut tx, &id).await?.ok_or(StoreError::NotFound)?;
        let outbound = OutboundEvent::session(EventType::SessionCreated, &session);
        emit(&mut tx, outbound, at).await?;
        tx.commit().await?;
        Ok(session)
    }

    async fn session(&self, id: &SessionId) -> StoreResult<Option<Session>> {
        let mut conn = self.reads().acquire().await?;
        live(&mut conn, id).await
    }

    async fn session_for_room(&self, id: &SessionId) -> StoreResult<Option<(Session, bool)>> {
        let mut conn = self.reads().acquire().await?;
        fetch(&mut conn, id).await
    }

    async fn sessions(
        &self,
        event: &EventId,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Session>> {
        let after = page.after.as_deref().and_then(|c| c.split_once(':'));
        let rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT * FROM sessions WHERE event_id = $1 AND deleted_at IS NULL
               AND ($2 IS NULL OR starts_at > $2 OR (starts_at = $2 AND id > $3))
               AND ($5 IS NULL OR lower(title) LIKE $5 ESCAPE '\\')
             ORDER BY starts_at, id LIMIT $4",
        )
        .bind(event.as_str())
        .bind(
            after
                .and_then(|(t, _)| t.parse::<i64>().ok())
                .map(|us| db_time(from_micros(us))),
        )
        .binds((after.map(|(_, id)| id), i64::from(page.limit) + 1))
        .bind(search.map(convene_core::search::like_pattern))
        .fetch_all(self.reads())
        .await?;
        let list = rows.into_iter().map(|r| r.into_session().0).collect();
        Ok(Page::from_overfetch(list, page.limit, |s: &Session| {
            format!("{}:{}", micros(s.starts_at), s.id)
        }))
    }

    async fn update_session(
        &self,
        id: &SessionId,
        patch: SessionPatch,
        at: Timestamp,
    ) -> StoreResult<Option<Session>> {
        let mut tx = self.writes().begin().await?;
        lock(&mut tx, id).await?;
        let Some(before) = live(&mut tx, id).await? else {
            return Ok(None);
        };
        let after = patch.apply_to(before.clone(), at);
        let moved = after.conference.is_some()
            && (after.starts_at != before.starts_at
                || after.duration_minutes != before.duration_minutes
                || after.group != before.group);
        sqlx::query(
            "UPDATE sessions SET title = $2, group_name = $3, starts_at = $4, duration_minutes = $5, extrainfo = $6,
                 conference_status = CASE WHEN $7 THEN 'pending' ELSE conference_status END, updated_at = $8,
                 reminders = $9, sequence = $10
             WHERE id = $1",
        )
        .binds((id.as_str(), after.title.as_str(), after.group.as_str()))
        .bind(db_time(after.starts_at))
        .bind(i32::try_from(after.duration_minutes).unwrap_or(i32::MAX))
        .binds((&after.extrainfo, moved, db_time(at), after.reminders.stored()))
        .bind(i32::try_from(after.sequence).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await?;
        replan_session(
            &mut tx,
            &after.event,
            id,
            after.starts_at,
            &after.reminders,
            at,
        )
        .await?;
        if moved {
            room_job(&mut tx, id.as_str(), at).await?;
        }
        let session = live(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        let outbound = OutboundEvent::session(EventType::SessionUpdated, &session);
        emit(&mut tx, outbound, at).await?;
        tx.commit().await?;
        Ok(Some(session))
    }

    async fn delete_session(&self, id: &SessionId, at: Timestamp) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        lock(&mut tx, id).await?;
        let Some(session) = live(&mut tx, id).await? else {
            return Ok(false);
        };
        if session.conference.is_some() {
            // Its room (made, or being made) must go first: the room job finishes the delete.
            sqlx::query(
                "UPDATE sessions SET deleted_at = $2, conference_status = 'pending' WHERE id = $1",
            )
            .binds((id.as_str(), db_time(at)))
            .execute(&mut *tx)
            .await?;
            room_job(&mut tx, id.as_str(), at).await?;
        } else {
            sqlx::query(DELETE_SESSION)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        super::reminders::drop_unsettled(&mut tx, id.as_str()).await?;
        let outbound = OutboundEvent::session(EventType::SessionDeleted, &session);
        emit(&mut tx, outbound, at).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_room(
        &self,
        id: &SessionId,
        outcome: &RoomOutcome,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.writes().begin().await?;
        let kind = match outcome {
            RoomOutcome::Removed => {
                sqlx::query(DELETE_SESSION)
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
                None
            }
            RoomOutcome::Ready(room) => {
                sqlx::query(
                    "UPDATE sessions SET conference_status = 'ready', conference_error = NULL, room_remote_id = $2,
                         room_join_url = $3, room_secret = $4, room_data = $5, room_starts_at = $6,
                         room_duration_minutes = $7 WHERE id = $1",
                )
                .binds((id.as_str(), &room.handle.remote_id, &room.handle.join_url))
                .bind(room.handle.secret_handle.as_deref())
                .binds((Json(&room.handle.data), db_time(room.starts_at)))
                .bind(i32::try_from(room.duration_minutes).unwrap_or(i32::MAX))
                .execute(&mut *tx)
                .await?;
                Some(EventType::ConferenceReady)
            }
            RoomOutcome::Cleared => {
                sqlx::query(
                    "UPDATE sessions SET conference_status = 'pending', room_remote_id = NULL, room_join_url = NULL,
                         room_secret = NULL, room_data = NULL, room_starts_at = NULL, room_duration_minutes = NULL
                     WHERE id = $1",
                )
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                None
            }
            RoomOutcome::Retrying(error) | RoomOutcome::Failed(error) => {
                let failed = matches!(outcome, RoomOutcome::Failed(_));
                sqlx::query(
                    "UPDATE sessions SET conference_status = $3, conference_error = $2 WHERE id = $1",
                )
                .binds((id.as_str(), error))
                .bind(if failed { "failed" } else { "pending" })
                .execute(&mut *tx)
                .await?;
                failed.then_some(EventType::ConferenceFailed)
            }
        };
        if let Some(kind) = kind
            && let Some((session, _)) = fetch(&mut tx, id).await?
        {
            emit(&mut tx, OutboundEvent::conference(kind, &session), at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn record_recordings(&self, id: &SessionId, recordings: &[Recording]) -> StoreResult<()> {
        let list = serde_json::to_string(recordings).map_err(|e| StoreError::Other(e.into()))?;
        sqlx::query("UPDATE sessions SET recordings = $2 WHERE id = $1")
            .binds((id.as_str(), list))
            .execute(self.writes())
            .await?;
        Ok(())
    }
}
