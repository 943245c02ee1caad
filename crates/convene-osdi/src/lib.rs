//! The rules of two-way person sync with an OSDI server (Action Network), kept free of I/O so
//! every one of them is tested on its own: both sides are mapped into one canonical form,
//! changes are found by comparing that form with the snapshot of the last sync (not by
//! timestamps), fields are merged three ways, and collections are walked by their `next` links.

pub mod canonical;
pub mod client;
pub mod mapping;
pub mod merge;
pub mod paging;
pub mod retry;
pub mod throttle;
