use crate::config::Config;
use convene_core::Clock;
use convene_delivery::http::Sender;
use convene_store::Store;
use std::sync::Arc;
use tokio::sync::Notify;

/// What every handler may reach: the store, the clock, the configuration, and the client that
/// calls webfilters.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub filter_client: Sender,
    /// Wakes this process's delivery worker and job runner after a write, so messages leave
    /// at once.
    pub wake: Arc<[Arc<Notify>]>,
    pub sync: crate::event_sync::SyncClients,
    pub conferencing: Arc<dyn convene_conferencing::provider::ConferenceProvider>,
    pub mailer: Arc<crate::notifications::mail::Mailer>,
    /// New notifications as they are written, for the live streams.
    pub feed: crate::notifications::feed::Feed,
    /// Seals and opens stored secrets (OSDI profiles' API tokens here; the store seals its own).
    pub keys: Arc<convene_store::seal::Keyring>,
    /// Bounds what failed admin sign-ins may cost.
    pub sign_in: Arc<crate::admin::throttle::SignInGuard>,
}

impl AppState {
    pub fn wake_workers(&self) {
        for waker in self.wake.iter() {
            waker.notify_one();
        }
    }
}
