//! The reminder pass: reminders whose time has come become `event.reminder_due` messages in the
//! outbox (the notifier tells people, webhooks tell other systems). Every worker node runs it;
//! the store lets one transaction win each reminder, so none is sent twice.

use convene_core::conference::Session;
use convene_core::event::Event;
use convene_core::outbound::OutboundEvent;
use convene_core::{Clock, EventId, Timestamp};
use convene_store::{DueReminder, Settle, Store, StoreResult};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Reminders read and settled per transaction.
const BATCH: u32 = 500;
/// The longest the pass sleeps: a reminder planned while it sleeps is sent at most this late.
pub const POLL: Duration = Duration::from_secs(15);

pub struct ReminderPass {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Woken when reminders were sent: the outbox's readers.
    pub after: Arc<[Arc<Notify>]>,
}

impl ReminderPass {
    /// Settles every reminder due now; how many were sent.
    pub async fn run_once(&self) -> StoreResult<usize> {
        let now = self.clock.now();
        let mut sent = 0;
        loop {
            let due = self.store.due_reminders(now, BATCH).await?;
            let full = due.len() == BATCH as usize;
            if due.is_empty() {
                break;
            }
            let settled = self.decide(due, now).await?;
            sent += self.store.settle_reminders(&settled, now).await?;
            if !full {
                break;
            }
        }
        if sent > 0 {
            for waker in self.after.iter() {
                waker.notify_one();
            }
        }
        Ok(sent)
    }

    /// Sends the nearest due reminder of each start and passes over the others (a node that was
    /// down for a day sends "in 1 hour", not also "in 24 hours"), and any whose event or
    /// session has started, gone or moved since it was planned.
    async fn decide(
        &self,
        due: Vec<DueReminder>,
        now: Timestamp,
    ) -> StoreResult<Vec<(DueReminder, Settle)>> {
        let mut nearest: HashMap<(&str, Timestamp), i64> = HashMap::new();
        for r in &due {
            let n = nearest
                .entry((r.subject.as_str(), r.starts_at))
                .or_insert(r.offset_s);
            *n = (*n).min(r.offset_s);
        }
        let sendable: Vec<bool> = due
            .iter()
            .map(|r| nearest[&(r.subject.as_str(), r.starts_at)] == r.offset_s && now < r.starts_at)
            .collect();
        let mut events: HashMap<EventId, Option<Event>> = HashMap::new();
        let mut settled = Vec::with_capacity(due.len());
        for (r, sendable) in due.into_iter().zip(sendable) {
            let message = if sendable {
                self.message(&r, &mut events).await?
            } else {
                None
            };
            settled.push((r, message.map_or(Settle::PassOver, Settle::Send)));
        }
        Ok(settled)
    }

    /// The reminder's message, if what it reminds of still starts when it was planned for.
    async fn message(
        &self,
        r: &DueReminder,
        events: &mut HashMap<EventId, Option<Event>>,
    ) -> StoreResult<Option<OutboundEvent>> {
        if !events.contains_key(&r.event) {
            let event = self.store.event_by_id(&r.event).await?;
            events.insert(r.event.clone(), event);
        }
        let Some(event) = events.get(&r.event).and_then(Option::as_ref) else {
            return Ok(None);
        };
        let session: Option<Session> = match &r.session {
            Some(id) => match self.store.session(id).await? {
                Some(s) if s.starts_at == r.starts_at => Some(s),
                _ => return Ok(None),
            },
            None if event.starts_at == Some(r.starts_at) => None,
            None => return Ok(None),
        };
        Ok(Some(OutboundEvent::reminder_due(
            event,
            session.as_ref(),
            &r.label,
        )))
    }
}

#[async_trait::async_trait]
impl crate::timed_pass::TimedPass for ReminderPass {
    fn name(&self) -> &'static str {
        "reminders"
    }

    fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    async fn run_once(&self) -> StoreResult<usize> {
        ReminderPass::run_once(self).await
    }

    async fn next_due(&self) -> StoreResult<Option<Timestamp>> {
        self.store.next_reminder().await
    }
}
