//! Convene's domain: the values that may exist past the HTTP edge, and the rules between them.
//!
//! Nothing here does I/O. Every newtype is built by `parse()`, so an invalid username, slug or
//! token cannot be represented once a request has been accepted.

pub mod access;
pub mod clock;
pub mod conference;
pub mod donation;
pub mod event;
pub mod ids;
pub mod job;
pub mod mail;
pub mod notification;
pub mod osdi;
pub mod outbound;
pub mod page;
pub mod person;
pub mod reminder;
pub mod scope;
pub mod search;
pub mod subject;
pub mod sync;
pub mod text;
pub mod token;
pub mod user;
pub mod username;
pub mod validation;
pub mod webfilter;
pub mod webhook;
pub mod webhook_scope;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use ids::{
    DeckId, DeliveryId, DonationId, EventId, PersonId, SessionId, TokenId, UserId, WebfilterId,
    WebhookId,
};
pub use validation::{FieldError, FieldErrors};
