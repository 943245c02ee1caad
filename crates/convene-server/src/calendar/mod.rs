//! Calendars: an event's `.ics`, a person's feed of the events they are registered for (a
//! revocable token in the URL, for calendar apps that cannot send headers), and the
//! invitations registration and reschedule mails carry.

pub mod api;
pub mod ics;
