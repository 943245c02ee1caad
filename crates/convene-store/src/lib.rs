//! Storage traits: what the server asks of a database, in domain words.
//!
//! `convene-store-sql` implements them on SQLite and PostgreSQL; both must pass the conformance suite in [`testing`]. Every mutating method writes the outbound events
//! it causes in the same transaction as the change.

mod calendar;
pub mod cause;
mod conference;
mod delivery;
mod digest;
mod donation;
mod error;
mod job;
mod notification;
pub mod osdi;
mod person;
mod reminder;
mod retention;
pub mod seal;
mod source;
mod sync;
mod traits;
mod web;
mod webfilter;

#[cfg(feature = "testing")]
pub mod testing;

pub use calendar::CalendarStore;
pub use conference::*;
pub use convene_core::osdi::{Attendance, Flag, Pair, Profile, RecordLog, Run, SyncError};
pub use convene_core::outbound::{CONVENE_SOURCE, MessageType};
pub use delivery::*;
pub use digest::{DigestItem, DigestStore, NewDigestItem};
pub use donation::DonationStore;
pub use error::{Conflict, StoreError, StoreResult};
pub use job::*;
pub use notification::*;
pub use osdi::{NewProfile, OsdiStore, Progress};
pub use person::*;
pub use reminder::{DueReminder, ReminderStore, Settle};
pub use retention::{Cutoffs, Purged, RetentionStore};
pub use source::{Receipt, Source, SourceStore};
pub use sync::*;
pub use traits::*;
pub use web::*;
pub use webfilter::*;
