//! The `conference.slides` job: sends a session's queued slide changes in order, as the
//! datatracker's SlidesManager would (add; delete then the remaining list; revise as delete +
//! add; a full list), judged against the notify window when it runs. A full list supersedes
//! the changes queued before it. Changes outside the window are dropped, as upstream never
//! sends them.

use super::spec;
use async_trait::async_trait;
use convene_conferencing::meetecho::Deck;
use convene_conferencing::provider::SlideChange;
use convene_conferencing::providers::Providers;
use convene_conferencing::window::NotifyWindow;
use convene_core::conference::SlideDeck;
use convene_core::{Clock, SessionId};
use convene_delivery::jobs::{JobHandler, JobResult};
use convene_delivery::outcome::Outcome;
use convene_store::{Job, SlideOp, SlideOpKind, Store, StoreResult};
use std::sync::Arc;

pub struct SlidesHandler {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub providers: Arc<Providers>,
    pub window: NotifyWindow,
}

fn deck(d: &SlideDeck) -> Deck {
    Deck {
        id: d.number,
        title: d.title.as_str().to_owned(),
        url: d.url.as_str().to_owned(),
        rev: d.rev.clone(),
        order: d.order,
    }
}

/// What one queued change becomes, with the decks as they are now; `None` when its deck is
/// gone since (a later delete follows in the queue).
fn change(op: &SlideOp, decks: &[SlideDeck]) -> Option<SlideChange> {
    let find = || {
        decks
            .iter()
            .find(|d| Some(d.number) == op.deck_number)
            .map(deck)
    };
    Some(match op.kind {
        SlideOpKind::Add => SlideChange::Add(find()?),
        SlideOpKind::Revise => SlideChange::Revise(find()?),
        SlideOpKind::Delete => SlideChange::Delete {
            id: op.deck_number?,
            remaining: decks.iter().map(deck).collect(),
        },
        SlideOpKind::Update => SlideChange::Update(decks.iter().map(deck).collect()),
    })
}

#[async_trait]
impl JobHandler for SlidesHandler {
    async fn run(&self, job: &Job) -> StoreResult<JobResult> {
        let id = SessionId::from_trusted(job.subject.clone());
        let ops = self.store.slide_ops(&id).await?;
        let Some(last) = ops.last().map(|o| o.seq) else {
            return Ok(JobResult::Skipped);
        };
        let session = self.store.session(&id).await?;
        let provider = session
            .as_ref()
            .and_then(|s| s.conference.as_ref())
            .and_then(|c| self.providers.named(&c.provider));
        let sendable = session.as_ref().filter(|s| {
            provider.is_some_and(|p| p.capabilities().slides)
                && self
                    .window
                    .is_open(self.clock.now(), Some((s.starts_at, s.ends_at())))
        });
        let (Some(session), Some(provider)) = (sendable, provider) else {
            self.store.drop_slide_ops(&id, last).await?;
            return Ok(JobResult::Skipped);
        };
        let start = ops
            .iter()
            .rposition(|o| o.kind == SlideOpKind::Update)
            .unwrap_or(0);
        let decks = self.store.decks(&id).await?;
        let target = spec(session);
        for op in &ops[start..] {
            if let Some(change) = change(op, &decks) {
                match provider.push_slides(&target, &change).await {
                    Ok(()) => {}
                    Err(e) if e.is_transient() => {
                        return Ok(JobResult::Retry {
                            outcome: Outcome::Unreachable(e.to_string()),
                            error: e.to_string(),
                        });
                    }
                    Err(e) => {
                        tracing::warn!(session = %id, error = %e, "slide change refused; dropped")
                    }
                }
            }
            self.store.drop_slide_ops(&id, op.seq).await?;
        }
        Ok(JobResult::Done)
    }
}
