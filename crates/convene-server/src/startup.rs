//! Process lifecycle: open the store, migrate, serve and run background jobs until shutdown.

use crate::config::Config;
use crate::notifications::feed::Feed;
use crate::notifications::mail::Mailer;
use crate::notifications::mail::unsubscribe::UnsubscribeKey;
use crate::notifications::notifier::Notifier;
use crate::state::{AppState, Shared};
use crate::{app, connections};
use anyhow::{Context, bail};
use convene_core::{Clock, SystemClock};
use convene_delivery::jobs::JobRunner;
use convene_delivery::worker::Worker;
use convene_store::Store;
use convene_store::seal::Keyring;
use convene_store_sql::PgStore;
use convene_store_sql::SqliteStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What this process runs: the HTTP API, the background workers, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    All,
    Api,
    Worker,
}

impl Role {
    fn serves_api(self) -> bool {
        self != Role::Worker
    }

    fn runs_workers(self) -> bool {
        self != Role::Api
    }
}

/// Opens the store the URL's scheme names.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let max = config.database.max_connections;
    let store: Arc<dyn Store> = if config.is_sqlite() {
        Arc::new(
            SqliteStore::connect(&config.database_url, max)
                .await
                .context("opening the SQLite database")?,
        )
    } else {
        Arc::new(
            PgStore::connect(&config.database_url, max)
                .await
                .context("connecting to PostgreSQL")?,
        )
    };
    Ok(store)
}

/// Applies migrations and returns the store.
pub async fn migrate(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = open_store(config).await?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// Applies migrations, installs the keys secrets are sealed with, and seals again what they do
/// not seal yet (rows from before sealing, or from before a key rotation).
pub async fn migrate_keyed(
    config: &Config,
    now: convene_core::Timestamp,
) -> anyhow::Result<(Arc<dyn Store>, Arc<Keyring>)> {
    let store = migrate(config).await?;
    let (keys, resealed) = crate::secrets::install(config, store.as_ref(), now).await?;
    if resealed > 0 {
        tracing::info!(resealed, "sealed stored secrets under the current key");
    }
    Ok((store, keys))
}

/// Runs migrations, then the role's parts until `shutdown` fires. `listener` is required when
/// the role serves the API; its bound address is logged as `listening on http://ADDR`.
pub async fn run(
    config: Config,
    role: Role,
    listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if role != Role::All && config.is_sqlite() {
        bail!(
            "--role api and --role worker split Convene over several processes, which needs PostgreSQL; SQLite runs one process (--role all)"
        );
    }
    if config
        .event_center_secret
        .as_ref()
        .is_none_or(|s| s.expose().is_empty())
    {
        tracing::warn!(
            "CONVENE_EVENT_CENTER_SECRET is not set: every /wikimedia_event_center call is refused with invalid_secret"
        );
    }
    if config.admin_token.is_none() {
        tracing::info!("CONVENE_ADMIN_TOKEN is not set: only user tokens are accepted");
    }
    Node::start(config, Arc::new(SystemClock))
        .await?
        .run(role, listener, shutdown)
        .await
}

/// A migrated store with the state the API serves from and the delivery worker.
pub struct Node {
    pub state: AppState,
    pub worker: Arc<Worker>,
    pub jobs: Arc<JobRunner>,
    pub notifier: Arc<Notifier>,
    pub osdi: Arc<crate::osdi::runner::Runner>,
    pub reminders: Arc<crate::reminders::ReminderPass>,
    pub digests: Arc<crate::notifications::digest::DigestPass>,
}

impl Node {
    /// Opens and migrates the store and builds the worker (nothing runs yet but the signal
    /// intake, which waits for signals).
    pub async fn start(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let (store, keys) = migrate_keyed(&config, clock.now()).await?;
        let worker = Arc::new(crate::delivery::worker(
            &config,
            store.clone(),
            clock.clone(),
        )?);
        let filter_client = crate::delivery::filter_client(&config)?;
        let sync = crate::delivery::sync_clients(&config)?;
        let conferencing = crate::conferencing::providers(&config)?;
        let unsubscribe = unsubscribe_key(&config, store.as_ref(), clock.now()).await?;
        let mailer = Arc::new(Mailer::new(&config, unsubscribe, keys.clone()));
        let engine = Arc::new(crate::osdi::engine(
            &config,
            store.clone(),
            clock.clone(),
            keys.clone(),
        )?);
        let jobs = Arc::new(
            crate::delivery::job_runner(
                &config,
                store.clone(),
                clock.clone(),
                &sync,
                &conferencing,
                &mailer,
            )
            .handle(
                convene_core::job::JobKind::OsdiPerson,
                Arc::new(crate::osdi::realtime::PersonSync {
                    engine: engine.clone(),
                }),
            ),
        );
        let osdi = Arc::new(crate::osdi::runner(&config, engine));
        let feed = Feed::new();
        let notifier = Arc::new(Notifier {
            store: store.clone(),
            clock: clock.clone(),
            mailer: mailer.clone(),
            after: vec![jobs.waker(), feed.waker()],
            wake: Arc::new(tokio::sync::Notify::new()),
            idle_poll: Duration::from_millis(config.delivery.idle_poll_ms),
        });
        let intake = crate::intake::Intake::start(
            store.clone(),
            clock.clone(),
            config.delivery.max_backlog_age_s,
        );
        let outbox_readers: Arc<[Arc<tokio::sync::Notify>]> =
            Arc::new([worker.waker(), notifier.waker()]);
        let digests = Arc::new(crate::notifications::digest::DigestPass {
            store: store.clone(),
            clock: clock.clone(),
            mailer: mailer.clone(),
            after: jobs.waker(),
        });
        let reminders = Arc::new(crate::reminders::ReminderPass {
            store: store.clone(),
            clock: clock.clone(),
            after: outbox_readers.clone(),
        });
        Ok(Self {
            state: AppState::new(Shared {
                store,
                clock,
                intake,
                config: Arc::new(config),
                filter_client,
                wake: crate::state::Wakers {
                    outbox: outbox_readers,
                    others: Arc::new([jobs.waker(), osdi.wake.clone()]),
                    deliveries: worker.waker(),
                    nodes: Arc::new(tokio::sync::Notify::new()),
                },
                sync,
                conferencing,
                mailer,
                feed,
                keys,
                sign_in: Arc::new(crate::admin::throttle::SignInGuard::per_core()),
            }),
            worker,
            jobs,
            notifier,
            osdi,
            reminders,
            digests,
        })
    }

    /// Serves and works as `role` says until `shutdown`; then finishes the requests and the
    /// delivery round in flight, and closes the store.
    pub async fn run(
        self,
        role: Role,
        listener: Option<TcpListener>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let Node {
            state,
            worker,
            jobs,
            notifier,
            osdi,
            reminders,
            digests,
        } = self;
        let node = uuid::Uuid::now_v7().to_string();
        tokio::spawn(crate::nudges::tell(
            state.clone(),
            node.clone(),
            shutdown.clone(),
        ));
        if role.runs_workers() {
            tokio::spawn(crate::nudges::hear(state.clone(), node, shutdown.clone()));
        }
        let background = role.runs_workers().then(|| {
            let (state, shutdown) = (state.clone(), shutdown.clone());
            tokio::spawn(async move {
                tokio::join!(
                    maintenance(state.clone(), shutdown.clone()),
                    crate::retention::run(state, shutdown.clone()),
                    worker.run(shutdown.clone()),
                    jobs.run(shutdown.clone()),
                    osdi.run(shutdown.clone()),
                    crate::timed_pass::run(&*reminders, crate::reminders::POLL, shutdown.clone()),
                    crate::timed_pass::run(
                        &*digests,
                        crate::notifications::digest::POLL,
                        shutdown.clone()
                    ),
                    notifier.run(shutdown)
                );
            })
        });
        if role.serves_api() {
            let (feed, store, stop) = (state.feed.clone(), state.store.clone(), shutdown.clone());
            let every = Duration::from_millis(state.config.email.stream_poll_ms);
            tokio::spawn(async move { feed.run(store, every, stop).await });
            let listener = listener.context("the API role needs a listener")?;
            serve(state.clone(), listener, shutdown.clone()).await?;
        } else {
            tracing::info!("worker started");
            shutdown.cancelled().await;
        }
        if let Some(background) = background {
            let _ = background.await;
        }
        state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let http = &state.config.http;
    let open_files = connections::raise_open_file_limit();
    let limits = connections::Limits {
        header_timeout: Duration::from_secs(http.header_timeout_s.max(1)),
        max_connections: connections::connection_cap(http.max_connections, open_files),
        grace: Duration::from_secs(http.shutdown_grace_s),
    };
    let addr = listener.local_addr().context("reading the bound address")?;
    tracing::info!(
        max_connections = limits.max_connections,
        open_files,
        "listening on http://{addr}"
    );
    connections::serve(listener, app::router(state), limits, shutdown).await
}

/// The key that signs unsubscribe links: configured, or generated once and kept in the
/// database so every node and every restart agrees on it.
async fn unsubscribe_key(
    config: &Config,
    store: &dyn Store,
    now: convene_core::Timestamp,
) -> anyhow::Result<UnsubscribeKey> {
    if let Some(key) = config
        .email
        .unsubscribe_key
        .as_ref()
        .filter(|k| !k.expose().is_empty())
    {
        return Ok(UnsubscribeKey::new(key.expose().as_bytes()));
    }
    let fresh = serde_json::Value::from(UnsubscribeKey::generate());
    let stored = store
        .setting_or_insert(crate::notifications::mail::unsubscribe::KEY, &fresh, now)
        .await
        .context("reading the unsubscribe key")?;
    let key = stored
        .as_str()
        .context("the stored unsubscribe key is not a string")?;
    Ok(UnsubscribeKey::new(key.as_bytes()))
}

/// Housekeeping that any one node may do: forgetting expired idempotency keys and old attempts.
async fn maintenance(state: AppState, shutdown: CancellationToken) {
    let retention = time::Duration::hours(state.config.idempotency.retention_hours as i64);
    let attempts_kept = time::Duration::days(state.config.delivery.attempt_retention_days as i64);
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.cancelled() => return,
        }
        match state.store.purge_keys(state.clock.now() - retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "forgot expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "could not purge idempotency keys"),
        }
        match state
            .store
            .purge_attempts(state.clock.now() - attempts_kept)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "forgot old delivery attempts"),
            Err(e) => tracing::warn!(error = %e, "could not purge delivery attempts"),
        }
    }
}

/// Fires on SIGTERM or SIGINT.
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let fire = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            () = term => {}
        }
        fire.cancel();
    });
    token
}
