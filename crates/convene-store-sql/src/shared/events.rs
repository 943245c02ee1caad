use super::dialect::{Conn, DbTime, db_time, time_of};
use super::reminders::{Planned, replan};
use super::{Backend, emit};
use crate::binds::Binds;
use crate::violation::taken;
use async_trait::async_trait;
use convene_core::event::{Event, EventPatch, NewEvent, Organizer, Role};
use convene_core::outbound::{EventType, OutboundEvent};
use convene_core::page::{Page, PageRequest};
use convene_core::reminder::Reminders;
use convene_core::search::like_pattern;
use convene_core::sync::{CenterEventId, SyncLink};
use convene_core::text::{Channel, Description, Slug, TimeZoneName, Title};
use convene_core::user::User;
use convene_core::{EventId, Timestamp, UserId};
use convene_store::{
    Audience, Conflict, EventFilter, EventStore, PatchOutcome, StoreError, StoreResult,
};

pub(super) const EVENT_COLUMNS: &str = "e.id, e.slug, e.title, e.description, e.starts_at, e.ends_at, e.timezone, e.private, e.created_at, e.updated_at, e.sync_event_id, e.sync_since, e.channels, e.reminders, e.sequence, e.conference_provider";

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    id: String,
    slug: String,
    title: String,
    description: Option<String>,
    starts_at: Option<DbTime>,
    ends_at: Option<DbTime>,
    timezone: Option<String>,
    private: bool,
    created_at: DbTime,
    updated_at: DbTime,
    sync_event_id: Option<String>,
    sync_since: Option<DbTime>,
    /// A JSON text list; NULL for none.
    channels: Option<String>,
    reminders: String,
    sequence: i32,
    conference_provider: Option<String>,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Self {
        Event {
            id: EventId::from_trusted(r.id),
            slug: Slug::from_trusted(r.slug),
            title: Title::from_trusted(r.title),
            description: r.description.map(Description::from_trusted),
            starts_at: r.starts_at.map(time_of),
            ends_at: r.ends_at.map(time_of),
            timezone: r.timezone.map(TimeZoneName::from_trusted),
            private: r.private,
            channels: stored_channels(r.channels),
            reminders: Reminders::from_stored(&r.reminders),
            sequence: u32::try_from(r.sequence).unwrap_or(0),
            conference_provider: r.conference_provider,
            created_at: time_of(r.created_at),
            updated_at: time_of(r.updated_at),
            sync: r.sync_event_id.zip(r.sync_since).map(|(id, s)| SyncLink {
                event_id: CenterEventId::from_trusted(id),
                since: time_of(s),
            }),
        }
    }
}

async fn fetch_event(conn: &mut Conn, id: &EventId) -> StoreResult<Option<Event>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = $1");
    let row: Option<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(row.map(Event::from))
}

const INSERT: &str = "INSERT INTO events (id, slug, title, description, starts_at, ends_at, timezone, private, created_at, updated_at, channels, reminders, sequence, conference_provider)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13)";
const UPDATE: &str =
    "UPDATE events SET slug = $2, title = $3, description = $4, starts_at = $5, ends_at = $6,
     timezone = $7, private = $8, updated_at = $9, channels = $10, reminders = $11,
     sequence = $12, conference_provider = $13 WHERE id = $1";

/// The stored form of an event's channels: a JSON text list, NULL for none.
pub(super) fn channels_text(channels: &[Channel]) -> Option<String> {
    let names: Vec<&str> = channels.iter().map(Channel::as_str).collect();
    (!names.is_empty()).then(|| serde_json::json!(names).to_string())
}

/// Reads [`channels_text`] back; unreadable text reads as no channels.
pub(super) fn stored_channels(text: Option<String>) -> Vec<Channel> {
    text.and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
        .unwrap_or_default()
        .into_iter()
        .map(Channel::from_trusted)
        .collect()
}

/// `INSERT` or `UPDATE` with the parameters both take: `$1` the id, `$2`–`$8` and `$10`–`$13`
/// the fields, `$9` the time. A taken slug is `Conflict::Slug`. The event's reminders are
/// planned again to match.
async fn write_event(
    conn: &mut Conn,
    sql: &'static str,
    event: &Event,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(sql)
        .binds((event.id.as_str(), event.slug.as_str()))
        .bind(event.title.as_str())
        .bind(event.description.as_ref().map(Description::as_str))
        .binds((event.starts_at.map(db_time), event.ends_at.map(db_time)))
        .bind(event.timezone.as_ref().map(TimeZoneName::as_str))
        .binds((event.private, db_time(at), channels_text(&event.channels)))
        .binds((
            event.reminders.stored(),
            i32::try_from(event.sequence).unwrap_or(i32::MAX),
        ))
        .bind(event.conference_provider.as_deref())
        .execute(&mut *conn)
        .await
        .map_err(taken(Conflict::Slug))?;
    let plan = Planned {
        event: &event.id,
        session: None,
        starts_at: event.starts_at,
        reminders: &event.reminders,
    };
    replan(conn, plan, at).await
}

/// The events an [`EventFilter`] lets through, with binds `$1`–`$4` from [`listed_binds`]: the
/// slug, the user who sees, the organizer, the search.
const LISTED: &str = "($1 IS NULL OR e.slug = $1)
    AND ($2 IS NULL OR NOT e.private
         OR EXISTS (SELECT 1 FROM organizers o WHERE o.event_id = e.id AND o.user_id = $2)
         OR EXISTS (SELECT 1 FROM participants p WHERE p.event_id = e.id AND p.user_id = $2))
    AND ($3 IS NULL OR EXISTS (SELECT 1 FROM organizers o WHERE o.event_id = e.id AND o.user_id = $3))
    AND ($4 IS NULL OR lower(e.title) LIKE $4 ESCAPE '\\' OR lower(e.slug) LIKE $4 ESCAPE '\\')";

type ListedBinds<'f> = (
    Option<&'f str>,
    Option<&'f str>,
    Option<&'f str>,
    Option<String>,
);

fn listed_binds(filter: &EventFilter) -> ListedBinds<'_> {
    let (sees, organizes) = match &filter.audience {
        Audience::Everything => (None, None),
        Audience::User(id) => (Some(id.as_str()), None),
        Audience::Organizer(id) => (None, Some(id.as_str())),
    };
    let pattern = filter.search.as_deref().map(like_pattern);
    (
        filter.slug.as_ref().map(Slug::as_str),
        sees,
        organizes,
        pattern,
    )
}

#[async_trait]
impl EventStore for Backend {
    async fn create_event(
        &self,
        new: NewEvent,
        creator: Option<&User>,
        at: Timestamp,
    ) -> StoreResult<Event> {
        let event = Event {
            id: EventId::new(),
            slug: new.slug,
            title: new.title,
            description: new.description,
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            timezone: new.timezone,
            private: new.private,
            channels: new.channels,
            reminders: new.reminders,
            sequence: 0,
            conference_provider: new.conference_provider,
            created_at: at,
            updated_at: at,
            sync: None,
        };
        let mut tx = self.writes().begin().await?;
        write_event(&mut tx, INSERT, &event, at).await?;
        let outbound = OutboundEvent::event(EventType::EventCreated, &event);
        emit(&mut tx, outbound, at).await?;
        if let Some(user) = creator {
            sqlx::query("INSERT INTO organizers (event_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)")
                .binds((event.id.as_str(), user.id.as_str()))
                .binds((Role::Facilitator.as_str(), db_time(at)))
                .execute(&mut *tx)
                .await?;
            let organizer = Organizer {
                user_id: user.id.clone(),
                username: user.username.clone(),
                role: Role::Facilitator,
                added_at: at,
            };
            let outbound = OutboundEvent::organizer(EventType::OrganizerAdded, &event, &organizer);
            emit(&mut tx, outbound, at).await?;
        }
        tx.commit().await?;
        Ok(event)
    }

    async fn event_by_id(&self, id: &EventId) -> StoreResult<Option<Event>> {
        let mut conn = self.reads().acquire().await?;
        fetch_event(&mut conn, id).await
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e WHERE {LISTED} AND ($5 IS NULL OR e.id > $5)
             ORDER BY e.id LIMIT $6"
        );
        let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds(listed_binds(filter))
            .binds((page.after.as_deref(), i64::from(page.limit) + 1))
            .fetch_all(self.reads())
            .await?;
        let events = rows.into_iter().map(Event::from).collect();
        Ok(Page::from_overfetch(events, page.limit, |e: &Event| {
            e.id.to_string()
        }))
    }

    async fn count_events(&self, filter: &EventFilter) -> StoreResult<u64> {
        let sql = format!("SELECT count(*) FROM events e WHERE {LISTED}");
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds(listed_binds(filter))
            .fetch_one(self.reads())
            .await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn update_event(
        &self,
        id: &EventId,
        patch: EventPatch,
        at: Timestamp,
    ) -> StoreResult<PatchOutcome> {
        let mut tx = self.writes().begin().await?;
        let current = fetch_event(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let event = match patch.apply_to(current, at) {
            Ok(event) => event,
            Err(errors) => return Ok(PatchOutcome::Invalid(errors)),
        };
        write_event(&mut tx, UPDATE, &event, at).await?;
        let outbound = OutboundEvent::event(EventType::EventUpdated, &event);
        emit(&mut tx, outbound, at).await?;
        tx.commit().await?;
        Ok(PatchOutcome::Updated(Box::new(event)))
    }

    async fn delete_event(&self, event: &Event, at: Timestamp) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        super::conference::event_going(&mut tx, &event.id, at).await?;
        let deleted = sqlx::query("DELETE FROM events WHERE id = $1")
            .bind(event.id.as_str())
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        let outbound = OutboundEvent::event(EventType::EventDeleted, event);
        emit(&mut tx, outbound, at).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn standing(&self, event: &EventId, user: &UserId) -> StoreResult<(Option<Role>, bool)> {
        let (role, registered): (Option<String>, bool) = sqlx::query_as(
            "SELECT (SELECT role FROM organizers WHERE event_id = $1 AND user_id = $2),
                    EXISTS (SELECT 1 FROM participants WHERE event_id = $1 AND user_id = $2)",
        )
        .binds((event.as_str(), user.as_str()))
        .fetch_one(self.reads())
        .await?;
        Ok((role.as_deref().and_then(Role::parse), registered))
    }
}
