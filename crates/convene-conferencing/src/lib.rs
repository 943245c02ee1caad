//! Conferencing: video rooms for sessions and their slide decks, behind one provider trait.
//!
//! `meetecho` is a client of Meetecho's API that behaves as the IETF datatracker's does (same
//! requests, byte for byte), with typed errors and expiring tokens; `bbb` is BigBlueButton
//! (checksummed calls, meetings made when someone arrives); `jitsi` makes room URLs and tokens;
//! `provider` puts them, a debug recorder and "none" behind `ConferenceProvider`; `window` decides when slide changes go out;
//! `wire` holds Meetecho's time and duration formats.

pub mod bbb;
pub mod jitsi;
pub mod meetecho;
pub mod provider;
pub mod providers;
pub mod window;
pub mod wire;
