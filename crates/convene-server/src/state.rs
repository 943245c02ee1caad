use crate::config::Config;
use convene_core::Clock;
use convene_delivery::http::Sender;
use convene_store::Store;
use std::sync::Arc;

/// What every handler may reach: the store, the clock, the configuration, and the client that
/// calls webfilters.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub filter_client: Sender,
}
