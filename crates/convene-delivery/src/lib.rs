//! Outbound delivery, the parts that decide rather than do: how a message is signed and shaped
//! on the wire, which addresses it may go to, how an attempt's result is classed, and when it is
//! tried again. No I/O here; the workers that claim and send build on these.

pub mod outcome;
pub mod retry;
pub mod signing;
pub mod target;
pub mod wire;
