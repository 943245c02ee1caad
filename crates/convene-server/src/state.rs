use crate::config::Config;
use convene_core::Clock;
use convene_delivery::http::Sender;
use convene_store::Store;
use std::sync::Arc;
use tokio::sync::Notify;

/// What every handler may reach (see [`Shared`]). Extractors and middleware clone it for every
/// request, so a clone is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The store, the clock, the configuration, and the client that calls webfilters.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Where signals go in: written together, refused while deliveries are too far behind.
    pub intake: crate::intake::Intake,
    pub config: Arc<Config>,
    pub filter_client: Sender,
    /// Wakes this process's workers after a write, so what it queued leaves at once.
    pub wake: Wakers,
    pub sync: crate::event_sync::SyncClients,
    pub conferencing: Arc<convene_conferencing::providers::Providers>,
    pub mailer: Arc<crate::notifications::mail::Mailer>,
    /// New notifications as they are written, for the live streams.
    pub feed: crate::notifications::feed::Feed,
    /// Seals and opens stored secrets (OSDI profiles' API tokens here; the store seals its own).
    pub keys: Arc<convene_store::seal::Keyring>,
    /// Bounds what failed admin sign-ins may cost.
    pub sign_in: Arc<crate::admin::throttle::SignInGuard>,
}

/// Who reads what a write may have queued: the outbox's readers (the delivery worker and the
/// notifier), and the rest (connector jobs, CRM runs); `deliveries` is the delivery worker's
/// alone. The other nodes are told through `nodes` (see `nudges`).
#[derive(Clone)]
pub struct Wakers {
    pub outbox: Arc<[Arc<Notify>]>,
    pub others: Arc<[Arc<Notify>]>,
    pub deliveries: Arc<Notify>,
    pub nodes: Arc<Notify>,
}

impl AppState {
    /// After a write that may have queued anything.
    pub fn wake_workers(&self) {
        self.wake_local();
        self.wake.nodes.notify_one();
    }

    /// After a write that only added outbox messages (an inbound source's signals): the job
    /// runner and the CRM runner have nothing new to read, so they are left asleep.
    pub fn wake_outbox(&self) {
        for waker in self.wake.outbox.iter() {
            waker.notify_one();
        }
        self.wake.nodes.notify_one();
    }

    /// After a write that only added signals through the API: they may not claim Convene's
    /// source, so they are written told to nobody and only the delivery worker has anything new
    /// to read.
    pub fn wake_deliveries(&self) {
        self.wake.deliveries.notify_one();
        self.wake.nodes.notify_one();
    }

    /// Every worker of this node, and no other node.
    pub fn wake_local(&self) {
        for waker in self.wake.outbox.iter().chain(self.wake.others.iter()) {
            waker.notify_one();
        }
    }
}

/// Set on a response whose write only added other platforms' signals, so only the delivery
/// worker is woken.
#[derive(Clone, Copy, Debug)]
pub struct SignalsOnly;
