use super::dialect::{Conn, DbTime, db_time, json_texts, time_of};
use super::{Backend, Db, emit};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::outbound::{EventType, OutboundEvent};
use convene_core::page::{Page, PageRequest};
use convene_core::person::{Address, Person, PersonFields, Phone};
use convene_core::text::{Email, Locale};
use convene_core::{PersonId, Timestamp, UserId};
use convene_store::{PersonStore, StoreError, StoreResult};
use sqlx::types::Json;

const COLUMNS: &str = "id, given_name, family_name, email, phone, language, address, do_not_email, is_opt_out, do_not_sms, user_id, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    language: Option<String>,
    address: Option<Json<Address>>,
    do_not_email: bool,
    is_opt_out: bool,
    do_not_sms: bool,
    user_id: Option<String>,
    created_at: DbTime,
    updated_at: DbTime,
}

impl Row {
    fn into_person(self, tags: Vec<String>) -> Person {
        Person {
            id: PersonId::from_trusted(self.id),
            fields: PersonFields {
                given_name: self.given_name,
                family_name: self.family_name,
                email: self.email.and_then(|e| Email::parse(&e).ok()),
                phone: self.phone.and_then(|p| Phone::parse(&p).ok()),
                language: self.language.and_then(|l| Locale::parse(&l).ok()),
                address: self.address.map(|a| a.0),
                do_not_email: self.do_not_email,
                is_opt_out: self.is_opt_out,
                do_not_sms: self.do_not_sms,
                tags,
                user: self.user_id.map(UserId::from_trusted),
            },
            created_at: time_of(self.created_at),
            updated_at: time_of(self.updated_at),
        }
    }
}

async fn tags_of(conn: &mut Conn, id: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT tag FROM person_tags WHERE person_id = $1 ORDER BY tag")
            .bind(id)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

async fn load(conn: &mut Conn, id: &str) -> StoreResult<Option<Person>> {
    let sql = format!("SELECT {COLUMNS} FROM people WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => {
            let tags = tags_of(conn, id).await?;
            Ok(Some(row.into_person(tags)))
        }
        None => Ok(None),
    }
}

async fn write_tags(conn: &mut Conn, id: &str, tags: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM person_tags WHERE person_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let insert = format!(
        "INSERT INTO person_tags (person_id, tag) SELECT $1, value FROM {}",
        json_texts(2)
    );
    sqlx::query(sqlx::AssertSqlSafe(insert))
        .binds((id, Json(tags)))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

const INSERT: &str = "INSERT INTO people (id, given_name, family_name, email, phone, language, address, do_not_email, is_opt_out, do_not_sms, user_id, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)";
const UPDATE: &str = "UPDATE people SET given_name = $2, family_name = $3, email = $4, phone = $5, language = $6, address = $7,
     do_not_email = $8, is_opt_out = $9, do_not_sms = $10, user_id = $11, updated_at = $12 WHERE id = $1";

/// `INSERT` or `UPDATE` with the parameters both take: `$1` the id, `$2`–`$11` the fields,
/// `$12` the time.
fn bind_person<'q>(
    sql: &'static str,
    id: &'q PersonId,
    f: &'q PersonFields,
    at: Timestamp,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    sqlx::query(sql)
        .binds((id.as_str(), &f.given_name, &f.family_name))
        .bind(f.email.as_ref().map(|e| e.as_str()))
        .bind(f.phone.as_ref().map(Phone::as_str))
        .bind(f.language.as_ref().map(|l| l.as_str()))
        .binds((f.address.as_ref().map(Json), f.do_not_email, f.is_opt_out))
        .binds((f.do_not_sms, f.user.as_ref().map(UserId::as_str)))
        .bind(db_time(at))
}

#[async_trait]
impl PersonStore for Backend {
    async fn create_person(&self, f: &PersonFields, at: Timestamp) -> StoreResult<Person> {
        let id = PersonId::new();
        let mut tx = self.writes().begin().await?;
        bind_person(INSERT, &id, f, at).execute(&mut *tx).await?;
        write_tags(&mut tx, id.as_str(), &f.tags).await?;
        let person = load(&mut tx, id.as_str())
            .await?
            .ok_or(StoreError::NotFound)?;
        let outbound = OutboundEvent::person(EventType::PersonCreated, &person);
        emit(&mut tx, outbound, at).await?;
        tx.commit().await?;
        Ok(person)
    }

    async fn person(&self, id: &PersonId) -> StoreResult<Option<Person>> {
        let mut conn = self.reads().acquire().await?;
        load(&mut conn, id.as_str()).await
    }

    async fn list_people(&self, page: &PageRequest) -> StoreResult<Page<Person>> {
        let mut conn = self.reads().acquire().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM people WHERE $1 IS NULL OR id > $1 ORDER BY id LIMIT $2"
        );
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((&page.after, i64::from(page.limit) + 1))
            .fetch_all(&mut *conn)
            .await?;
        let people = with_tags(&mut conn, rows).await?;
        Ok(Page::from_overfetch(people, page.limit, |p: &Person| {
            p.id.to_string()
        }))
    }

    async fn update_person(
        &self,
        id: &PersonId,
        f: &PersonFields,
        at: Timestamp,
    ) -> StoreResult<Person> {
        let mut tx = self.writes().begin().await?;
        let done = bind_person(UPDATE, id, f, at).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        write_tags(&mut tx, id.as_str(), &f.tags).await?;
        let person = load(&mut tx, id.as_str())
            .await?
            .ok_or(StoreError::NotFound)?;
        let outbound = OutboundEvent::person(EventType::PersonUpdated, &person);
        emit(&mut tx, outbound, at).await?;
        tx.commit().await?;
        Ok(person)
    }

    async fn delete_person(&self, id: &PersonId, at: Timestamp) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let Some(person) = load(&mut tx, id.as_str()).await? else {
            return Ok(false);
        };
        remove(&mut tx, &person, at).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn merge_people(
        &self,
        keep: &PersonId,
        gone: &PersonId,
        at: Timestamp,
    ) -> StoreResult<Person> {
        let mut tx = self.writes().begin().await?;
        let (Some(_), Some(other)) = (
            load(&mut tx, keep.as_str()).await?,
            load(&mut tx, gone.as_str()).await?,
        ) else {
            return Err(StoreError::NotFound);
        };
        super::merge::move_everything(&mut tx, keep, gone, at).await?;
        remove(&mut tx, &other, at).await?;
        let kept = load(&mut tx, keep.as_str())
            .await?
            .ok_or(StoreError::NotFound)?;
        emit(
            &mut tx,
            OutboundEvent::person(EventType::PersonUpdated, &kept),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(kept)
    }

    async fn people_changed_after(
        &self,
        after: (Timestamp, &str),
        limit: u32,
    ) -> StoreResult<Vec<Person>> {
        let mut conn = self.reads().acquire().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM people WHERE updated_at > $1 OR (updated_at = $1 AND id > $2)
             ORDER BY updated_at, id LIMIT $3"
        );
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((db_time(after.0), after.1, i64::from(limit)))
            .fetch_all(&mut *conn)
            .await?;
        with_tags(&mut conn, rows).await
    }

    async fn people_with_email(&self, email: &str) -> StoreResult<Vec<Person>> {
        let mut conn = self.reads().acquire().await?;
        let sql =
            format!("SELECT {COLUMNS} FROM people WHERE lower(email) = lower($1) ORDER BY id");
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_all(&mut *conn)
            .await?;
        with_tags(&mut conn, rows).await
    }

    async fn person_deletions(
        &self,
        since: Timestamp,
    ) -> StoreResult<Vec<(PersonId, Option<String>, Timestamp)>> {
        let rows: Vec<(String, Option<String>, DbTime)> = sqlx::query_as(
            "SELECT person_id, email, deleted_at FROM person_deletions WHERE deleted_at >= $1 ORDER BY deleted_at, person_id",
        )
        .bind(db_time(since))
        .fetch_all(self.reads())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, email, at)| (PersonId::from_trusted(id), email, time_of(at)))
            .collect())
    }
}

/// Deletes the person, keeping a deletion record for sync. Emits `person.deleted`.
async fn remove(conn: &mut Conn, person: &Person, at: Timestamp) -> StoreResult<()> {
    sqlx::query("DELETE FROM people WHERE id = $1")
        .bind(person.id.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO person_deletions (person_id, email, deleted_at) VALUES ($1, $2, $3)
         ON CONFLICT (person_id) DO UPDATE SET deleted_at = excluded.deleted_at",
    )
    .bind(person.id.as_str())
    .bind(person.fields.email.as_ref().map(|e| e.as_str()))
    .bind(db_time(at))
    .execute(&mut *conn)
    .await?;
    emit(
        conn,
        OutboundEvent::person(EventType::PersonDeleted, person),
        at,
    )
    .await
}

async fn with_tags(conn: &mut Conn, rows: Vec<Row>) -> StoreResult<Vec<Person>> {
    let mut people = Vec::with_capacity(rows.len());
    for row in rows {
        let tags = tags_of(conn, &row.id).await?;
        people.push(row.into_person(tags));
    }
    Ok(people)
}
