//! Slide decks in order, and the ordered queue of their changes for the provider.

use super::conference::{lock, next_number};
use super::dialect::{Conn, db_time, in_list, text_list};
use super::jobs::enqueue_in;
use super::{Backend, emit};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::conference::{Session, SlideDeck};
use convene_core::job::JobKind;
use convene_core::outbound::OutboundEvent;
use convene_core::text::Title;
use convene_core::webhook::TargetUrl;
use convene_core::{DeckId, SessionId, Timestamp};
use convene_store::{DeckRevision, DeckStore, SlideOp, SlideOpKind, StoreError, StoreResult};
use serde_json::json;

#[derive(sqlx::FromRow)]
struct DeckRow {
    id: String,
    session_id: String,
    number: i64,
    title: String,
    url: String,
    rev: String,
    position: i32,
}

impl From<DeckRow> for SlideDeck {
    fn from(r: DeckRow) -> Self {
        SlideDeck {
            id: DeckId::from_trusted(r.id),
            session: SessionId::from_trusted(r.session_id),
            number: r.number,
            title: Title::from_trusted(r.title),
            url: TargetUrl::from_trusted(r.url),
            rev: r.rev,
            order: u32::try_from(r.position).unwrap_or(0),
        }
    }
}

async fn decks_of(conn: &mut Conn, session: &SessionId) -> StoreResult<Vec<SlideDeck>> {
    let rows: Vec<DeckRow> =
        sqlx::query_as("SELECT * FROM decks WHERE session_id = $1 ORDER BY position")
            .bind(session.as_str())
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(SlideDeck::from).collect())
}

/// Queues one slide change with its job, and says so (`slides.updated`, the decks as they are
/// now, which it returns).
async fn slides_changed(
    conn: &mut Conn,
    session: &Session,
    kind: SlideOpKind,
    deck_number: Option<i64>,
    at: Timestamp,
) -> StoreResult<Vec<SlideDeck>> {
    sqlx::query(
        "INSERT INTO slide_ops (session_id, kind, deck_number, created_at) VALUES ($1, $2, $3, $4)",
    )
    .binds((session.id.as_str(), kind.as_str(), deck_number))
    .bind(db_time(at))
    .execute(&mut *conn)
    .await?;
    enqueue_in(
        conn,
        JobKind::ConferenceSlides,
        session.id.as_str(),
        &json!({}),
        at,
    )
    .await?;
    let decks = decks_of(conn, &session.id).await?;
    emit(conn, OutboundEvent::slides(session, &decks), at).await?;
    Ok(decks)
}

#[async_trait]
impl DeckStore for Backend {
    async fn add_deck(
        &self,
        session: &Session,
        title: Title,
        url: TargetUrl,
        rev: String,
        at: Timestamp,
    ) -> StoreResult<SlideDeck> {
        let mut tx = self.writes().begin().await?;
        lock(&mut tx, &session.id).await?;
        let number = next_number(&mut tx, "deck").await?;
        let id = DeckId::new();
        sqlx::query(
            "INSERT INTO decks (id, session_id, number, title, url, rev, position, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6,
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM decks WHERE session_id = $2), $7, $7)",
        )
        .binds((id.as_str(), session.id.as_str(), number, title.as_str()))
        .binds((url.as_str(), &rev, db_time(at)))
        .execute(&mut *tx)
        .await
        .map_err(crate::violation::gone)?;
        let deck = slides_changed(&mut tx, session, SlideOpKind::Add, Some(number), at)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(deck)
    }

    async fn decks(&self, session: &SessionId) -> StoreResult<Vec<SlideDeck>> {
        let mut conn = self.reads().acquire().await?;
        decks_of(&mut conn, session).await
    }

    async fn decks_of_sessions(&self, sessions: &[&str]) -> StoreResult<Vec<SlideDeck>> {
        let sql = format!(
            "SELECT * FROM decks WHERE {} ORDER BY session_id, position",
            in_list("session_id", 1)
        );
        let rows: Vec<DeckRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(text_list(sessions))
            .fetch_all(self.reads())
            .await?;
        Ok(rows.into_iter().map(SlideDeck::from).collect())
    }

    async fn revise_deck(
        &self,
        session: &Session,
        deck: &DeckId,
        revision: DeckRevision,
        at: Timestamp,
    ) -> StoreResult<Option<SlideDeck>> {
        let mut tx = self.writes().begin().await?;
        lock(&mut tx, &session.id).await?;
        let updated: Option<(i64,)> = sqlx::query_as(
            "UPDATE decks SET title = COALESCE($3, title), url = COALESCE($4, url), rev = $5, updated_at = $6
             WHERE id = $1 AND session_id = $2 RETURNING number",
        )
        .binds((deck.as_str(), session.id.as_str()))
        .bind(revision.title.as_ref().map(Title::as_str))
        .bind(revision.url.as_ref().map(TargetUrl::as_str))
        .binds((&revision.rev, db_time(at)))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((number,)) = updated else {
            return Ok(None);
        };
        let revised = slides_changed(&mut tx, session, SlideOpKind::Revise, Some(number), at)
            .await?
            .into_iter()
            .find(|d| d.id == *deck);
        tx.commit().await?;
        Ok(revised)
    }

    async fn delete_deck(
        &self,
        session: &Session,
        deck: &DeckId,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        lock(&mut tx, &session.id).await?;
        let deleted: Option<(i64, i32)> = sqlx::query_as(
            "DELETE FROM decks WHERE id = $1 AND session_id = $2 RETURNING number, position",
        )
        .binds((deck.as_str(), session.id.as_str()))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((number, position)) = deleted else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE decks SET position = position - 1 WHERE session_id = $1 AND position > $2",
        )
        .binds((session.id.as_str(), position))
        .execute(&mut *tx)
        .await?;
        slides_changed(&mut tx, session, SlideOpKind::Delete, Some(number), at).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn reorder_decks(
        &self,
        session: &Session,
        order: &[DeckId],
        at: Timestamp,
    ) -> StoreResult<Option<Vec<SlideDeck>>> {
        let mut tx = self.writes().begin().await?;
        lock(&mut tx, &session.id).await?;
        let current = decks_of(&mut tx, &session.id).await?;
        let mut wanted: Vec<&str> = order.iter().map(DeckId::as_str).collect();
        let mut have: Vec<&str> = current.iter().map(|d| d.id.as_str()).collect();
        wanted.sort_unstable();
        have.sort_unstable();
        if wanted != have {
            return Ok(None);
        }
        for (i, id) in order.iter().enumerate() {
            sqlx::query("UPDATE decks SET position = $2, updated_at = $3 WHERE id = $1")
                .binds((id.as_str(), i32::try_from(i).unwrap_or(i32::MAX) + 1))
                .bind(db_time(at))
                .execute(&mut *tx)
                .await?;
        }
        let decks = slides_changed(&mut tx, session, SlideOpKind::Update, None, at).await?;
        tx.commit().await?;
        Ok(Some(decks))
    }

    async fn slide_ops(&self, session: &SessionId) -> StoreResult<Vec<SlideOp>> {
        let rows: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT seq, kind, deck_number FROM slide_ops WHERE session_id = $1 ORDER BY seq",
        )
        .bind(session.as_str())
        .fetch_all(self.reads())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(seq, kind, deck_number)| {
                Some(SlideOp {
                    seq,
                    kind: SlideOpKind::parse(&kind)?,
                    deck_number,
                })
            })
            .collect())
    }

    async fn drop_slide_ops(&self, session: &SessionId, through: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM slide_ops WHERE session_id = $1 AND seq <= $2")
            .binds((session.as_str(), through))
            .execute(self.writes())
            .await?;
        Ok(())
    }
}
