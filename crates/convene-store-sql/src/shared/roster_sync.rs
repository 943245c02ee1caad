//! Replacing an event's participants with the list an Event Center sent: one transaction, a
//! handful of set-based statements whatever the size of the change.

use super::dialect::{Conn, FOR_UPDATE, db_time, in_list, json_rows, json_texts, text_list};
use super::emit_all;
use super::roster::all_participants;
use super::sync::public_list_changed;
use crate::binds::Binds;
use convene_core::event::{Event, Participant, Visibility};
use convene_core::outbound::{EventType, OutboundEvent};
use convene_core::sync::{CenterEventId, RosterDiff};
use convene_core::user::User;
use convene_core::username::Username;
use convene_core::{Timestamp, UserId};
use convene_store::{RosterChange, StoreResult};
use sqlx::types::Json;
use std::collections::{BTreeSet, HashMap};

pub(crate) async fn ids_of(
    conn: &mut Conn,
    names: &[&str],
) -> StoreResult<HashMap<String, String>> {
    let sql = format!(
        "SELECT username, id FROM users WHERE {}",
        in_list("username", 1)
    );
    let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(text_list(names))
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The users of `names`, creating those in `create` that do not exist (a name created by
/// another transaction meanwhile is that user). Pushes `user.created` for each one made.
async fn users_for(
    conn: &mut Conn,
    names: &[Username],
    create: &[Username],
    at: Timestamp,
    change: &mut RosterChange,
    messages: &mut Vec<OutboundEvent>,
) -> StoreResult<Vec<(Username, UserId)>> {
    let wanted: Vec<&str> = names.iter().map(Username::as_str).collect();
    let mut ids = ids_of(conn, &wanted).await?;
    let new: Vec<User> = names
        .iter()
        .filter(|n| !ids.contains_key(n.as_str()) && create.contains(n))
        .map(|n| User::fresh(n.clone(), at))
        .collect();
    if !new.is_empty() {
        let rows: Vec<(&str, &str)> = new
            .iter()
            .map(|u| (u.id.as_str(), u.username.as_str()))
            .collect();
        let insert = format!(
            "INSERT INTO users (id, username, is_admin, created_at, updated_at)
             SELECT value ->> 0, value ->> 1, FALSE, $2, $2 FROM {} WHERE true
             ON CONFLICT (username) DO NOTHING", // SQLite needs the WHERE before ON CONFLICT
            json_rows(1)
        );
        sqlx::query(sqlx::AssertSqlSafe(insert))
            .binds((Json(&rows), db_time(at)))
            .execute(&mut *conn)
            .await?;
        ids = ids_of(conn, &wanted).await?;
        for user in new
            .iter()
            .filter(|u| ids.get(u.username.as_str()).map(String::as_str) == Some(u.id.as_str()))
        {
            change.created.push(user.username.clone());
            messages.push(OutboundEvent::user(EventType::UserCreated, user));
        }
    }
    let mut found = Vec::new();
    for name in names {
        match ids.get(name.as_str()) {
            Some(id) => found.push((name.clone(), UserId::from_trusted(id.clone()))),
            None => change.skipped.push(name.clone()),
        }
    }
    Ok(found)
}

/// See `SyncStore::apply_roster`; the caller holds the transaction.
pub(crate) async fn apply(
    conn: &mut Conn,
    event: &Event,
    center: &CenterEventId,
    wanted: &BTreeSet<Username>,
    create: &[Username],
    at: Timestamp,
) -> StoreResult<Option<RosterChange>> {
    let linked: Option<(String,)> =
        // The event's row lock serialises sync calls (and link changes) per event.
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id FROM events WHERE id = $1 AND sync_event_id = $2{FOR_UPDATE}")))
            .binds((event.id.as_str(), center.as_str()))
            .fetch_optional(&mut *conn)
            .await?;
    if linked.is_none() {
        return Ok(None);
    }
    let current = all_participants(conn, &event.id).await?;
    let diff = RosterDiff::between(&current, wanted);
    let mut change = RosterChange::default();
    let mut messages = Vec::new();
    if !diff.remove.is_empty() {
        let ids: Vec<&str> = diff.remove.iter().map(|p| p.user_id.as_str()).collect();
        let delete = format!(
            "DELETE FROM participants WHERE event_id = $1 AND {}",
            in_list("user_id", 2)
        );
        sqlx::query(sqlx::AssertSqlSafe(delete))
            .binds((event.id.as_str(), text_list(&ids)))
            .execute(&mut *conn)
            .await?;
        for gone in &diff.remove {
            messages.push(OutboundEvent::participant(
                EventType::ParticipantCancelled,
                event,
                gone,
            ));
            change.removed.push(gone.username.clone());
        }
    }
    let added = users_for(conn, &diff.add, create, at, &mut change, &mut messages).await?;
    if !added.is_empty() {
        let ids: Vec<&str> = added.iter().map(|(_, id)| id.as_str()).collect();
        let insert = format!(
            "INSERT INTO participants (event_id, user_id, visibility, registered_at)
             SELECT $1, value, 'public', $2 FROM {}",
            json_texts(3)
        );
        sqlx::query(sqlx::AssertSqlSafe(insert))
            .binds((event.id.as_str(), db_time(at), Json(&ids)))
            .execute(&mut *conn)
            .await?;
        for (username, user_id) in added {
            let participant = Participant {
                user_id,
                username,
                visibility: Visibility::Public,
                registered_at: at,
            };
            messages.push(OutboundEvent::participant(
                EventType::ParticipantRegistered,
                event,
                &participant,
            ));
            change.added.push(participant.username);
        }
    }
    if change.added.is_empty() && change.removed.is_empty() {
        return Ok(Some(change));
    }
    messages.push(OutboundEvent::participants_synced(
        event,
        center,
        &change.added,
        &change.removed,
    ));
    emit_all(conn, messages, at).await?;
    let public_changed = !change.added.is_empty()
        || diff
            .remove
            .iter()
            .any(|p| p.visibility == Visibility::Public);
    if public_changed {
        public_list_changed(conn, &event.id, at).await?;
    }
    Ok(Some(change))
}
