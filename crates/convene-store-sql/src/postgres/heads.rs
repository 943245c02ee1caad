//! Where each endpoint's due deliveries begin, as this node's claims last found them.
//!
//! PostgreSQL keeps an index entry for every row version until VACUUM, and a delivered row
//! leaves its entry at the front of the due index. So a claim that walks the index from the
//! front steps over every delivery since the last VACUUM, page by page, and at saturation that
//! walk was half of PostgreSQL's work. A claim starts a little before the head it last found
//! instead. A row written behind a head (a fan-out that committed late, another node's clock,
//! a lease that ran out on a node that died) is found by the claim from the very front that
//! runs at least once every `FRONT_EVERY`.

use convene_core::{Timestamp, WebhookId};
use convene_store::Claim;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use time::Duration;

/// How far before the head a claim starts: longer than a fan-out takes to commit.
const BEHIND: Duration = Duration::seconds(1);
/// How often a claim walks from the front, at least: the longest a row behind a head waits.
const FRONT_EVERY: Duration = Duration::seconds(1);
/// Heads kept at most: a deleted endpoint's stays until the map is this full and is cleared.
const MAX_HEADS: usize = 10_000;

#[derive(Debug, Default)]
pub(super) struct Heads(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    heads: HashMap<WebhookId, Timestamp>,
    from_front_at: Option<Timestamp>,
}

/// Where a claim starts: per endpoint, as parallel arrays to bind; empty means from the front.
pub(super) type Starts = (Vec<String>, Vec<Timestamp>);

impl Heads {
    /// Where a claim at `now` starts. The front when it is due, or when the clock went back.
    pub(super) fn starts(&self, now: Timestamp) -> Starts {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let front_due = state
            .from_front_at
            .is_none_or(|at| now < at || now - at >= FRONT_EVERY);
        if front_due {
            state.from_front_at = Some(now);
            if state.heads.len() > MAX_HEADS {
                state.heads.clear();
            }
            return Starts::default();
        }
        state
            .heads
            .iter()
            .map(|(hook, head)| (hook.to_string(), *head - BEHIND))
            .unzip()
    }

    /// Learns from a claim at `now`. A claim takes each endpoint's oldest due rows first, so
    /// the oldest it took is that endpoint's head. An endpoint it took nothing from has no due
    /// row left before `now` (leased ones are recorded or run out), unless the round's limit
    /// cut it off: then nothing is learnt of it.
    pub(super) fn learn(
        &self,
        now: Timestamp,
        skipped: &[WebhookId],
        claims: &[Claim],
        limit_reached: bool,
    ) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !limit_reached {
            for (hook, head) in &mut state.heads {
                if !skipped.contains(hook) {
                    *head = now;
                }
            }
        }
        let mut oldest: HashMap<&WebhookId, Timestamp> = HashMap::new();
        for claim in claims {
            let Some(due) = claim.delivery.next_attempt_at else {
                continue;
            };
            let head = oldest.entry(&claim.delivery.webhook_id).or_insert(due);
            *head = (*head).min(due);
        }
        for (hook, head) in oldest {
            state.heads.insert(hook.clone(), head);
        }
    }
}
