use crate::config::Config;
use convene_core::Clock;
use convene_store::Store;
use std::sync::Arc;

/// What every handler may reach: the store, the clock and the configuration.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
}
