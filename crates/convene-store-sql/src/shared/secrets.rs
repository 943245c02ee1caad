//! Sealing again, under the current key, the secrets it does not seal yet.

use super::Backend;
use crate::binds::Binds;
use convene_store::StoreResult;

/// Webhook secrets (and the ones they replaced) and Dashboard link secrets. Each row is written
/// only if it still holds what was read, so a rotation meanwhile is not undone.
pub async fn reseal(store: &Backend) -> StoreResult<u64> {
    let keys = store.keys.get();
    let mut written = 0;
    let hooks: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT id, secret, previous_secret FROM webhooks")
            .fetch_all(store.reads())
            .await?;
    for (id, secret, previous) in hooks {
        let fresh = keys.resealed(&secret)?;
        let fresh_previous = match previous.as_deref() {
            Some(p) => keys.resealed(p)?,
            None => None,
        };
        if fresh.is_none() && fresh_previous.is_none() {
            continue;
        }
        let done = sqlx::query(
            "UPDATE webhooks SET secret = COALESCE($2, secret),
             previous_secret = COALESCE($3, previous_secret) WHERE id = $1 AND secret = $4",
        )
        .binds((&id, fresh, fresh_previous, &secret))
        .execute(store.writes())
        .await?;
        written += done.rows_affected();
    }
    let links: Vec<(String, String)> =
        sqlx::query_as("SELECT event_id, secret FROM dashboard_links")
            .fetch_all(store.reads())
            .await?;
    for (event, secret) in links {
        let Some(fresh) = keys.resealed(&secret)? else {
            continue;
        };
        let done = sqlx::query(
            "UPDATE dashboard_links SET secret = $2 WHERE event_id = $1 AND secret = $3",
        )
        .binds((&event, fresh, &secret))
        .execute(store.writes())
        .await?;
        written += done.rows_affected();
    }
    Ok(written)
}
