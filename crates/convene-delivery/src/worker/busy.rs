//! Which endpoints a worker's rounds are sending to: other rounds skip them, and whoever frees
//! one that a round skipped starts a round for what it may have left due.

use convene_core::WebhookId;
use convene_store::Claim;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::Notify;

#[derive(Default)]
pub(super) struct Endpoints {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    busy: HashSet<WebhookId>,
    skipped: HashSet<WebhookId>,
}

impl Endpoints {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The endpoints a round must skip now; each is remembered as skipped.
    pub(super) fn to_skip(&self) -> Vec<WebhookId> {
        let mut state = self.state();
        let busy: Vec<WebhookId> = state.busy.iter().cloned().collect();
        state.skipped.extend(busy.iter().cloned());
        busy
    }

    /// Marks the claims' endpoints busy until their sends finish; `wake` starts a round when
    /// one that was skipped is freed.
    pub(super) fn mark<'a>(&'a self, claims: &[Claim], wake: &'a Notify) -> Busy<'a> {
        let mut in_flight: HashMap<WebhookId, usize> = HashMap::new();
        for claim in claims {
            *in_flight.entry(claim.webhook.id.clone()).or_default() += 1;
        }
        self.state().busy.extend(in_flight.keys().cloned());
        Busy {
            endpoints: self,
            wake,
            in_flight,
        }
    }

    fn free<'i>(&self, ids: impl Iterator<Item = &'i WebhookId>, wake: &Notify) {
        let mut state = self.state();
        let mut skipped = false;
        for id in ids {
            state.busy.remove(id);
            skipped |= state.skipped.remove(id);
        }
        if skipped {
            wake.notify_one();
        }
    }
}

/// A round's endpoints, each busy while its requests are in flight: freed when its last send
/// finishes (its records may still be waiting: the lease keeps those rows), or when the round
/// ends.
pub(super) struct Busy<'a> {
    endpoints: &'a Endpoints,
    wake: &'a Notify,
    in_flight: HashMap<WebhookId, usize>,
}

impl Busy<'_> {
    /// One send to `endpoint` finished.
    pub(super) fn sent(&mut self, endpoint: &WebhookId) {
        let Some(left) = self.in_flight.get_mut(endpoint) else {
            return;
        };
        *left -= 1;
        if *left == 0 {
            self.in_flight.remove(endpoint);
            self.endpoints.free(std::iter::once(endpoint), self.wake);
        }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.endpoints.free(self.in_flight.keys(), self.wake);
    }
}
