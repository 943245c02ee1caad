//! Both sides of the Wikimedia Event Center ↔ Programs & Events Dashboard protocol: the
//! Dashboard endpoints this server answers, and the client, link and push with which it plays
//! the Event Center towards a remote Dashboard.

mod account_check;
mod client;
mod dashboard;
mod push;
mod reply;
mod request;

pub use client::{Answer, DashboardCall, DashboardClient, dashboard_client};
pub use dashboard::router;
pub use push::{PushHandler, log_call};

/// The HTTP clients of the protocol.
#[derive(Clone)]
pub struct SyncClients {
    /// Calls remote Dashboards (user-given URLs: the outbound target policy applies).
    pub dashboard: DashboardClient,
    /// Asks the configured wiki which accounts exist (an operator-given URL).
    pub accounts: convene_delivery::http::Outbound,
}
