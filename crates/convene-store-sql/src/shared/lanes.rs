//! Order per subject. A webhook that takes one message per subject at a time keeps a lane per
//! subject: its pending deliveries of that subject in outbox order (`seq`). Only a lane's
//! oldest delivery is due; the others wait with no `next_attempt_at` until it is delivered,
//! fails for good or is superseded. After anything that changes a lane (a fan-out adds to it,
//! an attempt is recorded, an operator retries or recovers), [`settle`] puts it right again.
//! A lane that waits on a retry holds up only its own subject.

use super::dialect::{Conn, db_time, in_list, lock_lanes, text_list};
use crate::binds::Binds;
use convene_core::Timestamp;
use convene_core::webhook::SubjectOrder;
use convene_store::{AttemptRecord, Claim, StoreResult};

/// A lane: webhook id and subject.
pub(crate) type Lane = (String, String);

/// A pending delivery of the same lane whose message came before this one.
const OLDER_IN_LANE: &str = "EXISTS (SELECT 1 FROM deliveries o WHERE o.webhook_id = deliveries.webhook_id
             AND o.subject = deliveries.subject AND o.status = 'pending' AND o.seq < deliveries.seq)";

/// A pending delivery of the same lane whose message came after this one.
const NEWER_IN_LANE: &str = "EXISTS (SELECT 1 FROM deliveries o WHERE o.webhook_id = deliveries.webhook_id
             AND o.subject = deliveries.subject AND o.status = 'pending' AND o.seq > deliveries.seq)";

/// What changed in some lanes, which says which steps [`settle`] needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Change {
    /// Deliveries were added or made due that may not be their lane's oldest (a fan-out, a
    /// retry, a recovery); else only a lane's oldest left or was rescheduled.
    pub added: bool,
    /// Some of the lanes' webhooks coalesce.
    pub coalescing: bool,
}

/// Puts `lanes` right, in up to three steps, each one statement over every lane given:
/// on a coalescing webhook, every delivery that is not in flight and has a newer one behind it
/// is superseded (the latest state wins); every delivery that is not its lane's oldest and not
/// in flight waits (only needed when some were `added`); a lane's oldest that waits becomes due
/// at `at`. Lanes outside the list that share its webhooks and subjects are settled too, which
/// is harmless.
pub(crate) async fn settle(
    tx: &mut Conn,
    lanes: &[Lane],
    at: Timestamp,
    change: Change,
) -> StoreResult<()> {
    lock_lanes(tx, lanes).await?;
    settle_locked(tx, lanes, at, change).await
}

/// [`settle`] for a caller that already holds the lanes' locks (see `dialect::lock_lanes`).
pub(crate) async fn settle_locked(
    tx: &mut Conn,
    lanes: &[Lane],
    at: Timestamp,
    change: Change,
) -> StoreResult<()> {
    if lanes.is_empty() {
        return Ok(());
    }
    let mut hooks: Vec<&str> = lanes.iter().map(|(w, _)| w.as_str()).collect();
    let mut subjects: Vec<&str> = lanes.iter().map(|(_, s)| s.as_str()).collect();
    hooks.sort_unstable();
    hooks.dedup();
    subjects.sort_unstable();
    subjects.dedup();
    let steps = [
        format!(
            "UPDATE deliveries SET status = 'superseded', next_attempt_at = NULL, updated_at = $3
             WHERE {} AND {} AND subject IS NOT NULL AND status = 'pending'
               AND (lease_until IS NULL OR lease_until <= $3) AND {NEWER_IN_LANE}
               AND webhook_id IN (SELECT id FROM webhooks WHERE ordering = 'coalesce')",
            in_list("webhook_id", 1),
            in_list("subject", 2)
        ),
        format!(
            "UPDATE deliveries SET next_attempt_at = NULL
             WHERE {} AND {} AND subject IS NOT NULL AND status = 'pending'
               AND (lease_until IS NULL OR lease_until <= $3)
               AND next_attempt_at IS NOT NULL AND {OLDER_IN_LANE}",
            in_list("webhook_id", 1),
            in_list("subject", 2)
        ),
        format!(
            "UPDATE deliveries SET next_attempt_at = $3
             WHERE {} AND {} AND subject IS NOT NULL AND status = 'pending'
               AND next_attempt_at IS NULL AND NOT {OLDER_IN_LANE}",
            in_list("webhook_id", 1),
            in_list("subject", 2)
        ),
    ];
    let needed = [change.coalescing, change.added, true];
    for (sql, _) in steps.into_iter().zip(needed).filter(|(_, needed)| *needed) {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((text_list(&hooks), text_list(&subjects), db_time(at)))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// The lanes a fan-out plan (`(message, webhook, its order)`) adds to, given each message's
/// subject, and what changed in them.
pub(crate) fn lanes_of<'a>(
    plan: &[(usize, String, SubjectOrder)],
    subject: impl Fn(usize) -> Option<&'a str>,
) -> (Vec<Lane>, Change) {
    let ordered = || plan.iter().filter(|(_, _, order)| order.per_subject());
    let lanes = ordered().filter_map(|(i, hook, _)| Some((hook.clone(), subject(*i)?.to_owned())));
    let change = Change {
        added: true,
        coalescing: ordered().any(|(_, _, order)| order.coalesces()),
    };
    (distinct(lanes), change)
}

/// The lanes of the claims whose attempts were recorded, and what changed in them: only their
/// oldest moved.
pub(crate) fn claimed_lanes(kept: &[&(&Claim, &AttemptRecord)]) -> (Vec<Lane>, Change) {
    let lanes = kept.iter().filter_map(|(c, _)| {
        let subject = c.delivery.subject.clone()?;
        Some((c.webhook.id.to_string(), subject))
    });
    let change = Change {
        added: false,
        coalescing: kept.iter().any(|(c, _)| c.webhook.order.coalesces()),
    };
    (distinct(lanes), change)
}

pub(crate) fn distinct(lanes: impl Iterator<Item = Lane>) -> Vec<Lane> {
    let mut lanes: Vec<Lane> = lanes.collect();
    lanes.sort_unstable();
    lanes.dedup();
    lanes
}
