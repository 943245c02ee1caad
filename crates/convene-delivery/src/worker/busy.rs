//! Which endpoints a worker's rounds are sending to: other rounds skip them, and whoever frees
//! one that a round skipped starts a round for what it may have left due.

use convene_core::WebhookId;
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

    /// Marks the endpoints of a round's sends (one id per send) busy until they finish; `wake`
    /// starts a round when one that was skipped is freed.
    pub(super) fn mark<'a, 'i>(
        &'a self,
        sends: impl Iterator<Item = &'i WebhookId>,
        wake: &'a Notify,
    ) -> Busy<'a> {
        let mut in_flight: HashMap<WebhookId, usize> = HashMap::new();
        for endpoint in sends {
            *in_flight.entry(endpoint.clone()).or_default() += 1;
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
    /// The most sends in flight to one endpoint.
    pub(super) fn fullest(&self) -> usize {
        self.in_flight.values().copied().max().unwrap_or(0)
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn woken(wake: &Notify) -> bool {
        wake.notified().now_or_never().is_some()
    }

    #[test]
    fn an_endpoint_is_freed_by_its_last_send_and_a_skipping_round_is_started() {
        let (endpoints, wake) = (Endpoints::default(), Notify::new());
        let (a, b) = (WebhookId::new(), WebhookId::new());
        let mut busy = endpoints.mark([&a, &a, &b].into_iter(), &wake);
        assert_eq!(busy.fullest(), 2, "two sends to a");
        let mut skipped = endpoints.to_skip();
        skipped.sort();
        let mut both = vec![a.clone(), b.clone()];
        both.sort();
        assert_eq!(skipped, both);

        busy.sent(&a);
        assert_eq!(
            endpoints.to_skip().len(),
            2,
            "one send to a is still in flight"
        );
        assert!(!woken(&wake));
        busy.sent(&b);
        assert_eq!(
            endpoints.to_skip(),
            vec![a.clone()],
            "b's only send finished"
        );
        assert!(woken(&wake), "a round skipped b");
        busy.sent(&a);
        assert!(endpoints.to_skip().is_empty());
        assert!(woken(&wake));
        drop(busy);
        assert!(!woken(&wake), "nothing was left to free");
    }

    #[test]
    fn freeing_what_no_round_skipped_starts_nothing() {
        let (endpoints, wake) = (Endpoints::default(), Notify::new());
        let a = WebhookId::new();
        let busy = endpoints.mark(std::iter::once(&a), &wake);
        drop(busy);
        assert!(!woken(&wake));
        assert!(endpoints.to_skip().is_empty());
    }
}
