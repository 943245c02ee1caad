//! Each connector's health, moved in the transaction that records how its work ended: the
//! failing streak (one warning when it starts, one info line when it ends, whichever node sees
//! it) and `connector.failed` for work that failed for good.

use super::dialect::{Conn, db_time};
use super::emit;
use crate::binds::Binds;
use convene_core::Timestamp;
use convene_core::job::Connector;
use convene_core::outbound::OutboundEvent;
use convene_store::StoreResult;

/// How one unit of a connector's work ended.
pub(crate) enum WorkEnd<'a> {
    Worked,
    /// Failed, and will be tried again.
    Failing(&'a str),
    /// Failed for good.
    Failed(&'a str),
}

/// The unit of work: the connector, its kind (`dashboard.push`, `osdi.people`) and the id it is
/// keyed by.
pub(crate) struct Work<'a> {
    pub connector: Connector,
    pub kind: &'a str,
    pub subject: &'a str,
}

pub(crate) async fn record_work(
    tx: &mut Conn,
    work: &Work<'_>,
    end: WorkEnd<'_>,
    at: Timestamp,
) -> StoreResult<()> {
    let connector = work.connector.as_str();
    let error = match end {
        WorkEnd::Worked => {
            let sql = "UPDATE connector_health SET failing_since = NULL, last_error = NULL
                       WHERE connector = $1 AND failing_since IS NOT NULL";
            let ended = sqlx::query(sql).bind(connector).execute(&mut *tx).await?;
            if ended.rows_affected() == 1 {
                tracing::info!(connector, "connector recovered");
            }
            return Ok(());
        }
        WorkEnd::Failing(error) | WorkEnd::Failed(error) => error,
    };
    let sql =
        "INSERT INTO connector_health (connector, failing_since, last_error) VALUES ($1, $2, $3)
               ON CONFLICT (connector) DO UPDATE SET failing_since = excluded.failing_since,
               last_error = excluded.last_error WHERE connector_health.failing_since IS NULL";
    let started = sqlx::query(sql)
        .binds((connector, db_time(at), error))
        .execute(&mut *tx)
        .await?;
    if started.rows_affected() == 1 {
        tracing::warn!(
            connector,
            kind = work.kind,
            subject = work.subject,
            error,
            "connector failing"
        );
    }
    if let WorkEnd::Failed(error) = end {
        let event = OutboundEvent::connector_failed(work.connector, work.kind, work.subject, error);
        emit(tx, event, at).await?;
    }
    Ok(())
}
