//! Outbound delivery: how a message is signed and shaped on the wire, which addresses it may go
//! to, how an attempt's result is classed, when it is tried again, and the worker that claims,
//! sends and records.

pub mod filters;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod outcome;
pub mod request;
pub mod retry;
pub mod signing;
pub mod target;
pub mod trace;
pub mod wire;
pub mod worker;
