use super::dialect::{Conn, DbTime, db_time, time_of};
use super::jobs::enqueue_in;
use super::{Backend, emit};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::event::Event;
use convene_core::job::JobKind;
use convene_core::outbound::{EventType, OutboundEvent};
use convene_core::page::{Page, PageRequest};
use convene_core::sync::{CenterEventId, DashboardLink, Direction, Endpoint, SyncCall};
use convene_core::username::Username;
use convene_core::webhook::TargetUrl;
use convene_core::{EventId, Timestamp};
use convene_store::{LinkWrite, RosterChange, StoreResult, SyncStore};
use std::collections::BTreeSet;

const LINK: &str = "SELECT * FROM dashboard_links WHERE event_id = $1";

/// Queues (or coalesces into) a push of the event's public participants, if it is linked to a
/// Dashboard course. Called in the transaction of every change to that list.
pub(crate) async fn public_list_changed(
    conn: &mut Conn,
    event: &EventId,
    at: Timestamp,
) -> StoreResult<()> {
    let linked: Option<(String,)> =
        sqlx::query_as("SELECT event_id FROM dashboard_links WHERE event_id = $1")
            .bind(event.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    if linked.is_none() {
        return Ok(());
    }
    enqueue_in(
        conn,
        JobKind::DashboardPush,
        event.as_str(),
        &serde_json::json!({}),
        at,
    )
    .await
}

#[derive(sqlx::FromRow)]
struct CallRow {
    id: String,
    event_id: Option<String>,
    direction: String,
    endpoint: String,
    course_slug: String,
    center_event_id: Option<String>,
    dry_run: bool,
    outcome: String,
    status: Option<i32>,
    added: i32,
    removed: i32,
    skipped: i32,
    detail: Option<String>,
    at: DbTime,
}

impl From<CallRow> for SyncCall {
    fn from(r: CallRow) -> Self {
        let count = |n: i32| u32::try_from(n).unwrap_or(0);
        SyncCall {
            id: r.id,
            event: r.event_id.map(EventId::from_trusted),
            direction: Direction::parse(&r.direction).unwrap_or(Direction::Inbound),
            endpoint: Endpoint::parse(&r.endpoint).unwrap_or(Endpoint::Update),
            course_slug: r.course_slug,
            center_event_id: r.center_event_id,
            dry_run: r.dry_run,
            outcome: r.outcome,
            status: r.status.and_then(|s| u16::try_from(s).ok()),
            added: count(r.added),
            removed: count(r.removed),
            skipped: count(r.skipped),
            detail: r.detail,
            at: time_of(r.at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    event_id: String,
    base_url: String,
    course_slug: String,
    secret: String,
    linked_at: DbTime,
    last_push_at: Option<DbTime>,
    last_push_result: Option<String>,
}

impl From<LinkRow> for DashboardLink {
    fn from(r: LinkRow) -> Self {
        DashboardLink {
            event: EventId::from_trusted(r.event_id),
            base_url: TargetUrl::from_trusted(r.base_url),
            course_slug: r.course_slug,
            secret: r.secret,
            linked_at: time_of(r.linked_at),
            last_push_at: r.last_push_at.map(time_of),
            last_push_result: r.last_push_result,
        }
    }
}

impl Backend {
    /// Links an unlinked event to `center`, or unlinks it from `center`; `false` when the event
    /// was not in that state. Emits `event_sync.enabled` / `event_sync.disabled`.
    async fn set_sync(
        &self,
        event: &Event,
        center: &CenterEventId,
        at: Timestamp,
        link: bool,
    ) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let query = if link {
            sqlx::query(
                "UPDATE events SET sync_event_id = $2, sync_since = $3 WHERE id = $1 AND sync_event_id IS NULL",
            )
            .binds((event.id.as_str(), center.as_str(), db_time(at)))
        } else {
            sqlx::query(
                "UPDATE events SET sync_event_id = NULL, sync_since = NULL WHERE id = $1 AND sync_event_id = $2",
            )
            .binds((event.id.as_str(), center.as_str()))
        };
        let changed = query.execute(&mut *tx).await?.rows_affected() > 0;
        if changed {
            let kind = if link {
                EventType::EventSyncEnabled
            } else {
                EventType::EventSyncDisabled
            };
            emit(&mut tx, OutboundEvent::sync_link(kind, event, center), at).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }
}

#[async_trait]
impl SyncStore for Backend {
    async fn enable_sync(
        &self,
        event: &Event,
        center: &CenterEventId,
        at: Timestamp,
    ) -> StoreResult<bool> {
        self.set_sync(event, center, at, true).await
    }

    async fn disable_sync(
        &self,
        event: &Event,
        center: &CenterEventId,
        at: Timestamp,
    ) -> StoreResult<bool> {
        self.set_sync(event, center, at, false).await
    }

    async fn apply_roster(
        &self,
        event: &Event,
        center: &CenterEventId,
        wanted: &BTreeSet<Username>,
        create: &[Username],
        at: Timestamp,
    ) -> StoreResult<Option<RosterChange>> {
        // The event's row lock (taken in `apply`) serialises sync calls per event.
        let mut tx = self.writes().begin().await?;
        let change = super::roster_sync::apply(&mut tx, event, center, wanted, create, at).await?;
        tx.commit().await?;
        Ok(change)
    }

    async fn unknown_usernames(&self, names: &[Username]) -> StoreResult<Vec<Username>> {
        let mut conn = self.reads().acquire().await?;
        let list: Vec<&str> = names.iter().map(Username::as_str).collect();
        let known = super::roster_sync::ids_of(&mut conn, &list).await?;
        Ok(names
            .iter()
            .filter(|n| !known.contains_key(n.as_str()))
            .cloned()
            .collect())
    }

    async fn record_sync_call(&self, call: &SyncCall) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sync_calls (id, event_id, direction, endpoint, course_slug, center_event_id, dry_run, outcome, status, added, removed, skipped, detail, at)
             VALUES ($1, (SELECT id FROM events WHERE id = $2), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .binds((&call.id, call.event.as_ref().map(EventId::as_str)))
        .binds((call.direction.as_str(), call.endpoint.as_str()))
        .binds((&call.course_slug, call.center_event_id.as_deref()))
        .binds((call.dry_run, &call.outcome, call.status.map(i32::from)))
        .bind(i32::try_from(call.added).unwrap_or(i32::MAX))
        .bind(i32::try_from(call.removed).unwrap_or(i32::MAX))
        .bind(i32::try_from(call.skipped).unwrap_or(i32::MAX))
        .binds((call.detail.as_deref(), db_time(call.at)))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn sync_calls(&self, event: &EventId, page: &PageRequest) -> StoreResult<Page<SyncCall>> {
        let rows: Vec<CallRow> = sqlx::query_as(
            "SELECT * FROM sync_calls WHERE event_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .binds((event.as_str(), page.after.as_deref()))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(self.reads())
        .await?;
        let list = rows.into_iter().map(SyncCall::from).collect();
        Ok(Page::from_overfetch(list, page.limit, |c: &SyncCall| {
            c.id.clone()
        }))
    }

    async fn put_dashboard_link(&self, link: &DashboardLink) -> StoreResult<LinkWrite> {
        let mut tx = self.writes().begin().await?;
        let existing: Option<LinkRow> = sqlx::query_as(LINK)
            .bind(link.event.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let write = match existing {
            Some(old)
                if old.base_url == link.base_url.as_str()
                    && old.course_slug == link.course_slug =>
            {
                sqlx::query("UPDATE dashboard_links SET secret = $2 WHERE event_id = $1")
                    .binds((link.event.as_str(), self.keys.get().seal(&link.secret)))
                    .execute(&mut *tx)
                    .await?;
                LinkWrite::Kept
            }
            Some(_) => LinkWrite::LinkedElsewhere,
            None => {
                let inserted = sqlx::query(
                    "INSERT INTO dashboard_links (event_id, base_url, course_slug, secret, linked_at) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (event_id) DO NOTHING",
                )
                .binds((link.event.as_str(), link.base_url.as_str()))
                .binds((&link.course_slug, self.keys.get().seal(&link.secret)))
                .bind(db_time(link.linked_at))
                .execute(&mut *tx)
                .await
                .map_err(crate::violation::gone)?;
                if inserted.rows_affected() == 0 {
                    // A concurrent request linked it first.
                    LinkWrite::LinkedElsewhere
                } else {
                    public_list_changed(&mut tx, &link.event, link.linked_at).await?;
                    LinkWrite::Created
                }
            }
        };
        tx.commit().await?;
        Ok(write)
    }

    async fn dashboard_link(&self, event: &EventId) -> StoreResult<Option<DashboardLink>> {
        let row: Option<LinkRow> = sqlx::query_as(LINK)
            .bind(event.as_str())
            .fetch_optional(self.reads())
            .await?;
        row.map(|r| {
            let mut link = DashboardLink::from(r);
            link.secret = self.keys.get().open(&link.secret)?;
            Ok(link)
        })
        .transpose()
    }

    async fn delete_dashboard_link(&self, event: &EventId) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let deleted = sqlx::query("DELETE FROM dashboard_links WHERE event_id = $1")
            .bind(event.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        sqlx::query("DELETE FROM jobs WHERE kind = $1 AND subject = $2")
            .binds((JobKind::DashboardPush.as_str(), event.as_str()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted)
    }

    async fn record_push(&self, event: &EventId, result: &str, at: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "UPDATE dashboard_links SET last_push_at = $2, last_push_result = $3 WHERE event_id = $1",
        )
        .binds((event.as_str(), db_time(at), result))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn public_usernames(&self, event: &EventId) -> StoreResult<Vec<Username>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT u.username FROM participants p JOIN users u ON u.id = p.user_id
             WHERE p.event_id = $1 AND p.visibility = 'public' ORDER BY u.username",
        )
        .bind(event.as_str())
        .fetch_all(self.reads())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(n,)| Username::from_trusted(n))
            .collect())
    }
}
