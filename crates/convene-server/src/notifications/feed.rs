//! The live feed behind the SSE stream: one loop per API process reads notifications written
//! since it last looked (by any node: it polls the database, and is woken at once by this
//! process's notifier) and broadcasts them to the connected streams.

use convene_core::notification::Notification;
use convene_store::{Store, StoreResult};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

/// Ids are read again this far back: on PostgreSQL a transaction that took a lower id may
/// commit after a higher one was seen.
const LOOKBACK: i64 = 200;
const REMEMBERED: usize = 2000;

#[derive(Clone)]
pub struct Feed {
    tx: broadcast::Sender<Arc<Notification>>,
    wake: Arc<Notify>,
}

impl Default for Feed {
    fn default() -> Self {
        Self::new()
    }
}

impl Feed {
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(1024).0,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Notification>> {
        self.tx.subscribe()
    }

    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Polls until `shutdown`, starting after the newest notification that exists now.
    pub async fn run(
        &self,
        store: Arc<dyn Store>,
        every: std::time::Duration,
        shutdown: CancellationToken,
    ) {
        let mut seen = Seen::default();
        // Nothing at or below `floor` is news: it existed before this process started.
        let floor = loop {
            match newest(store.as_ref()).await {
                Ok(id) => break id,
                Err(e) => tracing::warn!(error = %e, "live feed cannot start yet"),
            }
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                () = shutdown.cancelled() => return,
            }
        };
        let mut last = floor;
        // Polls whether or not anyone listens: deciding "nobody listens" and then moving the
        // floor would race with a stream that subscribes in between and lose its first news.
        while !shutdown.is_cancelled() {
            match store
                .notifications_after(floor.max(last - LOOKBACK), 500)
                .await
            {
                Ok(batch) => {
                    for n in batch {
                        last = last.max(n.id);
                        if seen.first_time(n.id) {
                            let _ = self.tx.send(Arc::new(n));
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "live feed poll failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = self.wake.notified() => {}
                () = shutdown.cancelled() => {}
            }
        }
    }
}

async fn newest(store: &dyn Store) -> StoreResult<i64> {
    let query = convene_store::NotificationQuery {
        owner: None,
        filter: None,
        sort: vec![convene_core::notification::query::SortKey {
            field: convene_core::notification::query::Field::Id,
            descending: true,
        }],
        limit: Some(1),
        offset: 0,
    };
    let (items, _) = store.query_notifications(&query).await?;
    Ok(items.first().map_or(0, |n| n.id))
}

/// The ids sent lately, so the look-back sends nothing twice.
#[derive(Default)]
struct Seen {
    order: VecDeque<i64>,
    set: HashSet<i64>,
}

impl Seen {
    fn first_time(&mut self, id: i64) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}
