//! Notifications and email: the JSON:API resource under `/v1`, the notifier that turns domain
//! events into notifications and mails, the live feed, and mail delivery.

pub mod digest;
pub mod feed;
pub mod html;
pub mod jsonapi;
pub mod local_time;
pub mod mail;
pub mod notifier;
mod planner;
pub mod templates;
pub mod unsubscribe_page;
pub mod v1;
