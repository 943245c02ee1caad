use super::Backend;
use super::deliveries::AttemptRow;
use super::dialect::{DbTime, db_time, time_of};
use crate::binds::Binds;
use async_trait::async_trait;
use convene_core::page::{Page, PageRequest};
use convene_core::webfilter::{FilterType, OnFailure, Webfilter};
use convene_core::webhook::{Attempt, TargetUrl};
use convene_core::{Timestamp, WebfilterId};
use convene_store::{NewWebfilter, StoreError, StoreResult, WebfilterStore};

const COLUMNS: &str = "id, filter_type, url, enabled, description, disable_filtering, disable_halt,
    halt_on_4xx, redirect_on_4xx, halt_on_5xx, redirect_on_5xx, halt_on_request_exception,
    redirect_on_request_exception, encoding, timeout_ms, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    filter_type: String,
    url: String,
    enabled: bool,
    description: Option<String>,
    disable_filtering: bool,
    disable_halt: bool,
    halt_on_4xx: bool,
    redirect_on_4xx: Option<String>,
    halt_on_5xx: bool,
    redirect_on_5xx: Option<String>,
    halt_on_request_exception: bool,
    redirect_on_request_exception: Option<String>,
    encoding: String,
    timeout_ms: i32,
    created_at: DbTime,
    updated_at: DbTime,
}

fn on(halt: bool, redirect: Option<String>) -> OnFailure {
    OnFailure {
        halt,
        redirect_to: redirect.map(TargetUrl::from_trusted),
    }
}

fn redirect(o: &OnFailure) -> Option<&str> {
    o.redirect_to.as_ref().map(TargetUrl::as_str)
}

impl TryFrom<Row> for Webfilter {
    type Error = StoreError;

    fn try_from(r: Row) -> StoreResult<Self> {
        Ok(Webfilter {
            id: WebfilterId::from_trusted(r.id),
            filter_type: FilterType::parse(&r.filter_type).ok_or_else(|| {
                StoreError::Other(format!("unknown filter type {}", r.filter_type).into())
            })?,
            url: TargetUrl::from_trusted(r.url),
            enabled: r.enabled,
            description: r.description,
            disable_filtering: r.disable_filtering,
            disable_halt: r.disable_halt,
            on_4xx: on(r.halt_on_4xx, r.redirect_on_4xx),
            on_5xx: on(r.halt_on_5xx, r.redirect_on_5xx),
            on_request_exception: on(r.halt_on_request_exception, r.redirect_on_request_exception),
            encoding: r.encoding,
            timeout_ms: u32::try_from(r.timeout_ms).unwrap_or(0),
            created_at: time_of(r.created_at),
            updated_at: time_of(r.updated_at),
        })
    }
}

fn filters(rows: Vec<Row>) -> StoreResult<Vec<Webfilter>> {
    rows.into_iter().map(Webfilter::try_from).collect()
}

/// Runs an `INSERT` or `UPDATE` that takes the filter's id as `$1`, its fields as `$2`–`$15`
/// and its update time as `$16`, and returns the row written.
async fn write(store: &Backend, sql: String, f: &Webfilter) -> StoreResult<Option<Webfilter>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .binds((f.id.as_str(), f.filter_type.as_str(), f.url.as_str()))
        .binds((f.enabled, &f.description, f.disable_filtering))
        .binds((f.disable_halt, f.on_4xx.halt, redirect(&f.on_4xx)))
        .binds((f.on_5xx.halt, redirect(&f.on_5xx)))
        .bind(f.on_request_exception.halt)
        .binds((redirect(&f.on_request_exception), &f.encoding))
        .bind(i32::try_from(f.timeout_ms).unwrap_or(i32::MAX))
        .bind(db_time(f.updated_at))
        .fetch_optional(store.writes())
        .await?;
    row.map(Webfilter::try_from).transpose()
}

#[async_trait]
impl WebfilterStore for Backend {
    async fn create_webfilter(&self, n: NewWebfilter, at: Timestamp) -> StoreResult<Webfilter> {
        let filter = Webfilter {
            id: WebfilterId::new(),
            filter_type: n.filter_type,
            url: n.url,
            enabled: n.enabled,
            description: n.description,
            disable_filtering: n.disable_filtering,
            disable_halt: n.disable_halt,
            on_4xx: n.on_4xx,
            on_5xx: n.on_5xx,
            on_request_exception: n.on_request_exception,
            encoding: n.encoding,
            timeout_ms: n.timeout_ms,
            created_at: at,
            updated_at: at,
        };
        let sql = format!(
            "INSERT INTO webfilters ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
             $12, $13, $14, $15, $16, $16) RETURNING {COLUMNS}"
        );
        write(self, sql, &filter).await?.ok_or(StoreError::NotFound)
    }

    async fn webfilter(&self, id: &WebfilterId) -> StoreResult<Option<Webfilter>> {
        let sql = format!("SELECT {COLUMNS} FROM webfilters WHERE id = $1");
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.reads())
            .await?;
        row.map(Webfilter::try_from).transpose()
    }

    async fn list_webfilters(
        &self,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Webfilter>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM webfilters WHERE ($1 IS NULL OR id > $1)
               AND ($3 IS NULL OR lower(url) LIKE $3 ESCAPE '\\'
                 OR lower(coalesce(description, '')) LIKE $3 ESCAPE '\\')
             ORDER BY id LIMIT $2"
        );
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .binds((page.after.as_deref(), i64::from(page.limit) + 1))
            .bind(search.map(convene_core::search::like_pattern))
            .fetch_all(self.reads())
            .await?;
        Ok(Page::from_overfetch(
            filters(rows)?,
            page.limit,
            |f: &Webfilter| f.id.to_string(),
        ))
    }

    async fn enabled_webfilters(&self, filter_type: FilterType) -> StoreResult<Vec<Webfilter>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM webfilters WHERE filter_type = $1 AND enabled ORDER BY id"
        );
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(filter_type.as_str())
            .fetch_all(self.reads())
            .await?;
        filters(rows)
    }

    async fn update_webfilter(&self, f: &Webfilter) -> StoreResult<Webfilter> {
        let sql = format!(
            "UPDATE webfilters SET filter_type = $2, url = $3, enabled = $4, description = $5,
             disable_filtering = $6, disable_halt = $7, halt_on_4xx = $8, redirect_on_4xx = $9,
             halt_on_5xx = $10, redirect_on_5xx = $11, halt_on_request_exception = $12,
             redirect_on_request_exception = $13, encoding = $14, timeout_ms = $15, updated_at = $16
             WHERE id = $1 RETURNING {COLUMNS}"
        );
        write(self, sql, f).await?.ok_or(StoreError::NotFound)
    }

    async fn delete_webfilter(&self, id: &WebfilterId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM webfilters WHERE id = $1")
            .bind(id.as_str())
            .execute(self.writes())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn log_filter_call(&self, id: &WebfilterId, a: &Attempt) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO webfilter_calls (webfilter_id, attempted_at, duration_ms, status_code,
             error_class, error, response_body, response_headers)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .binds((id.as_str(), db_time(a.attempted_at)))
        .bind(i32::try_from(a.duration_ms).unwrap_or(i32::MAX))
        .binds((a.status_code.map(i32::from), &a.error_class, &a.error))
        .binds((&a.response_body, a.response_headers.to_json()))
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn filter_calls(&self, id: &WebfilterId, limit: u32) -> StoreResult<Vec<Attempt>> {
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT attempted_at, duration_ms, status_code, error_class, error, response_body,
             response_headers FROM webfilter_calls WHERE webfilter_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .binds((id.as_str(), i64::from(limit)))
        .fetch_all(self.reads())
        .await?;
        Ok(rows.into_iter().map(Attempt::from).collect())
    }
}
