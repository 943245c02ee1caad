use super::dialect::{Conn, DbTime, db_time, time_of};
use super::users::name_pattern;
use super::{Backend, emit};
use crate::binds::Binds;
use crate::violation::gone;
use async_trait::async_trait;
use convene_core::event::{
    Event, Organizer, OrganizerRemoval, Participant, Registration, Role, Visibility,
};
use convene_core::outbound::{EventType, OutboundEvent};
use convene_core::page::{Page, PageRequest};
use convene_core::user::User;
use convene_core::username::Username;
use convene_core::{EventId, Timestamp, UserId};
use convene_store::{RosterStore, StoreResult};

#[derive(sqlx::FromRow)]
struct MemberRow {
    user_id: String,
    username: String,
    kind: String,
    at: DbTime,
}

impl MemberRow {
    fn organizer(self) -> Organizer {
        Organizer {
            user_id: UserId::from_trusted(self.user_id),
            username: Username::from_trusted(self.username),
            role: Role::parse(&self.kind).unwrap_or(Role::Facilitator),
            added_at: time_of(self.at),
        }
    }

    fn participant(self) -> Participant {
        Participant {
            user_id: UserId::from_trusted(self.user_id),
            username: Username::from_trusted(self.username),
            visibility: Visibility::parse(&self.kind).unwrap_or(Visibility::Private),
            registered_at: time_of(self.at),
        }
    }
}

async fn participant(
    conn: &mut Conn,
    event: &EventId,
    user: &UserId,
) -> StoreResult<Option<Participant>> {
    let row: Option<MemberRow> = sqlx::query_as(
        "SELECT p.user_id, u.username, p.visibility AS kind, p.registered_at AS at
         FROM participants p JOIN users u ON u.id = p.user_id WHERE p.event_id = $1 AND p.user_id = $2",
    )
    .binds((event.as_str(), user.as_str()))
    .fetch_optional(conn)
    .await?;
    Ok(row.map(MemberRow::participant))
}

/// Every participant of the event, private ones included, in no particular order.
pub(crate) async fn all_participants(
    conn: &mut Conn,
    event: &EventId,
) -> StoreResult<Vec<Participant>> {
    let rows: Vec<MemberRow> = sqlx::query_as(
        "SELECT p.user_id, u.username, p.visibility AS kind, p.registered_at AS at
         FROM participants p JOIN users u ON u.id = p.user_id WHERE p.event_id = $1",
    )
    .bind(event.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(MemberRow::participant).collect())
}

#[async_trait]
impl RosterStore for Backend {
    async fn organizers(&self, event: &EventId) -> StoreResult<Vec<Organizer>> {
        let rows: Vec<MemberRow> = sqlx::query_as(
            "SELECT o.user_id, u.username, o.role AS kind, o.added_at AS at
             FROM organizers o JOIN users u ON u.id = o.user_id WHERE o.event_id = $1 ORDER BY u.username",
        )
        .bind(event.as_str())
        .fetch_all(self.reads())
        .await?;
        Ok(rows.into_iter().map(MemberRow::organizer).collect())
    }

    async fn put_organizer(
        &self,
        event: &Event,
        user: &User,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<(Organizer, bool)> {
        let mut tx = self.writes().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO organizers (event_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (event_id, user_id) DO NOTHING",
        )
        .binds((event.id.as_str(), user.id.as_str(), role.as_str()))
        .bind(db_time(at))
        .execute(&mut *tx)
        .await
        .map_err(gone)?;
        let row: MemberRow = sqlx::query_as(
            "SELECT user_id, $3 AS username, role AS kind, added_at AS at FROM organizers WHERE event_id = $1 AND user_id = $2",
        )
        .binds((event.id.as_str(), user.id.as_str()))
        .bind(user.username.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let organizer = row.organizer();
        let created = inserted.rows_affected() > 0;
        if created {
            let outbound = OutboundEvent::organizer(EventType::OrganizerAdded, event, &organizer);
            emit(&mut tx, outbound, at).await?;
        }
        tx.commit().await?;
        Ok((organizer, created))
    }

    async fn remove_organizer(
        &self,
        event: &Event,
        user: &UserId,
        keep_one: bool,
        at: Timestamp,
    ) -> StoreResult<OrganizerRemoval> {
        let mut tx = self.writes().begin().await?;
        let rows: Vec<MemberRow> = sqlx::query_as(
            "SELECT o.user_id, u.username, o.role AS kind, o.added_at AS at
             FROM organizers o JOIN users u ON u.id = o.user_id WHERE o.event_id = $1",
        )
        .bind(event.id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let count = rows.len();
        let Some(target) = rows.into_iter().find(|r| r.user_id == user.as_str()) else {
            return Ok(OrganizerRemoval::NotAnOrganizer);
        };
        if keep_one && count == 1 {
            return Ok(OrganizerRemoval::LastOrganizer);
        }
        sqlx::query("DELETE FROM organizers WHERE event_id = $1 AND user_id = $2")
            .binds((event.id.as_str(), user.as_str()))
            .execute(&mut *tx)
            .await?;
        let outbound =
            OutboundEvent::organizer(EventType::OrganizerRemoved, event, &target.organizer());
        emit(&mut tx, outbound, at).await?;
        tx.commit().await?;
        Ok(OrganizerRemoval::Removed)
    }

    async fn participants(
        &self,
        event: &EventId,
        include_private: bool,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Participant>> {
        let rows: Vec<MemberRow> = sqlx::query_as(
            "SELECT p.user_id, u.username, p.visibility AS kind, p.registered_at AS at
             FROM participants p JOIN users u ON u.id = p.user_id
             WHERE p.event_id = $1 AND ($2 OR p.visibility = 'public') AND ($3 IS NULL OR u.username > $3)
             AND ($4 IS NULL OR lower(u.username) LIKE $4 ESCAPE '\\')
             ORDER BY u.username LIMIT $5",
        )
        .binds((event.as_str(), include_private, page.after.as_deref()))
        .binds((name_pattern(search), i64::from(page.limit) + 1))
        .fetch_all(self.reads())
        .await?;
        let list = rows.into_iter().map(MemberRow::participant).collect();
        Ok(Page::from_overfetch(list, page.limit, |p: &Participant| {
            p.username.to_string()
        }))
    }

    async fn register(
        &self,
        event: &Event,
        user: &User,
        visibility: Visibility,
        at: Timestamp,
    ) -> StoreResult<Registration> {
        let mut tx = self.writes().begin().await?;
        let registration = match participant(&mut tx, &event.id, &user.id).await? {
            Some(existing) if existing.visibility == visibility => {
                Registration::Unchanged(existing)
            }
            Some(existing) => {
                sqlx::query(
                    "UPDATE participants SET visibility = $3 WHERE event_id = $1 AND user_id = $2",
                )
                .binds((event.id.as_str(), user.id.as_str(), visibility.as_str()))
                .execute(&mut *tx)
                .await?;
                let from = existing.visibility;
                let participant = Participant {
                    visibility,
                    ..existing
                };
                let outbound = OutboundEvent::visibility_changed(event, &participant, from);
                emit(&mut tx, outbound, at).await?;
                super::sync::public_list_changed(&mut tx, &event.id, at).await?;
                Registration::VisibilityChanged { participant, from }
            }
            None => {
                sqlx::query("INSERT INTO participants (event_id, user_id, visibility, registered_at) VALUES ($1, $2, $3, $4)")
                    .binds((event.id.as_str(), user.id.as_str(), visibility.as_str()))
                    .bind(db_time(at))
                    .execute(&mut *tx)
                    .await
                    .map_err(gone)?;
                let participant = Participant {
                    user_id: user.id.clone(),
                    username: user.username.clone(),
                    visibility,
                    registered_at: at,
                };
                emit(
                    &mut tx,
                    OutboundEvent::participant(
                        EventType::ParticipantRegistered,
                        event,
                        &participant,
                    ),
                    at,
                )
                .await?;
                if visibility == Visibility::Public {
                    super::sync::public_list_changed(&mut tx, &event.id, at).await?;
                }
                Registration::Registered(participant)
            }
        };
        tx.commit().await?;
        Ok(registration)
    }

    async fn cancel(
        &self,
        event: &Event,
        user: &UserId,
        at: Timestamp,
    ) -> StoreResult<Option<Participant>> {
        let mut tx = self.writes().begin().await?;
        let Some(existing) = participant(&mut tx, &event.id, user).await? else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM participants WHERE event_id = $1 AND user_id = $2")
            .binds((event.id.as_str(), user.as_str()))
            .execute(&mut *tx)
            .await?;
        let outbound =
            OutboundEvent::participant(EventType::ParticipantCancelled, event, &existing);
        emit(&mut tx, outbound, at).await?;
        if existing.visibility == Visibility::Public {
            super::sync::public_list_changed(&mut tx, &event.id, at).await?;
        }
        tx.commit().await?;
        Ok(Some(existing))
    }
}
