//! The real server on a real socket (127.0.0.1:0) with a fresh database, and a small client.

use crate::db::{Backend, TestDb};
use convene_core::ManualClock;
use convene_delivery::jobs::JobRunner;
use convene_delivery::worker::{Round, Worker};
use convene_server::config::{Config, Secret};
use convene_server::notifications::notifier::Notifier;
use convene_server::{Node, Role};
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running server. Stopped (cancelled) when dropped.
pub struct TestApp {
    pub base_url: String,
    pub admin_token: String,
    pub config: Config,
    /// The server's clock: `app.clock.advance(…)` moves its time.
    pub clock: Arc<ManualClock>,
    worker: Arc<Worker>,
    jobs: Arc<JobRunner>,
    notifier: Arc<Notifier>,
    reminders: Arc<convene_server::reminders::ReminderPass>,
    digests: Arc<convene_server::notifications::digest::DigestPass>,
    /// The OSDI runner: tests execute runs with `sync_osdi()`.
    pub osdi: Arc<convene_server::osdi::runner::Runner>,
    store: Arc<dyn convene_store::Store>,
    client: reqwest::Client,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    /// Owned by the first node only; later nodes share it.
    _db: Option<TestDb>,
}

/// Starts the server on `backend` with the default configuration and a random admin token.
/// `None` when the backend is PostgreSQL and `CONVENE_TEST_POSTGRES_URL` is unset.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// As [`spawn_app`], after `adjust` has changed the configuration.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let db = TestDb::new(backend).await?;
    let mut config = Config::defaults();
    config.database_url = db.url.clone();
    config.admin_token = Some(Secret::new(format!(
        "admin-{}",
        uuid::Uuid::new_v4().simple()
    )));
    config.database.max_connections = 4;
    adjust(&mut config);
    Some(start(config, Some(db)).await)
}

async fn start(config: Config, db: Option<TestDb>) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let base_url = format!("http://{}", listener.local_addr().expect("bound address"));
    let shutdown = CancellationToken::new();
    let clock = Arc::new(ManualClock::new());
    let mut config = config;
    if config.email.public_url.is_empty() {
        // Links in mail (unsubscribe) point at this server.
        config.email.public_url = base_url.clone();
    }
    let node = Node::start(config.clone(), clock.clone())
        .await
        .expect("the node starts");
    let worker = node.worker.clone();
    let jobs = node.jobs.clone();
    let notifier = node.notifier.clone();
    let reminders = node.reminders.clone();
    let digests = node.digests.clone();
    let osdi = node.osdi.clone();
    let store = node.state.store.clone();
    // The API only: tests drive the worker themselves with `drain()`, never by waiting.
    let task = tokio::spawn(node.run(Role::Api, Some(listener), shutdown.clone()));
    let app = TestApp {
        base_url,
        admin_token: config
            .admin_token
            .as_ref()
            .map(|t| t.expose().to_owned())
            .unwrap_or_default(),
        config,
        clock,
        worker,
        jobs,
        notifier,
        reminders,
        digests,
        osdi,
        store,
        client: http_client(),
        shutdown,
        task: Some(task),
        _db: db,
    };
    app.wait_ready().await;
    app
}

/// A client for tests: TLS ready, redirects not followed.
pub fn http_client() -> reqwest::Client {
    convene_delivery::http::install_crypto();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// One answer: status, headers and the body parsed as JSON (`Value::Null` when empty or not JSON;
/// the raw text stays in `text`).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    /// The `error.code` of an error body, or `""`.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// The field names of a 422 body.
    pub fn fields(&self) -> Vec<String> {
        self.body["error"]["fields"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .filter_map(|f| f["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_owned()
    }
}

/// A request being built; `.send()` sends it.
pub struct Call {
    builder: reqwest::RequestBuilder,
}

impl Call {
    pub fn token(mut self, token: &str) -> Self {
        self.builder = self.builder.bearer_auth(token);
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.builder = self.builder.json(body);
        self
    }

    /// A body sent as is, with this content type.
    pub fn raw(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.builder = self.builder.header("content-type", content_type).body(body);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub async fn send(self) -> Reply {
        let response = self.builder.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            body,
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request without credentials.
    pub fn call(&self, method: Method, path: &str) -> Call {
        Call {
            builder: self.client.request(method, self.url(path)),
        }
    }

    /// A request without credentials from another loopback address (`127.0.0.2`, …), as a
    /// second client machine would send it.
    pub fn call_from(&self, from: std::net::IpAddr, method: Method, path: &str) -> Call {
        convene_delivery::http::install_crypto();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(from)
            .build()
            .expect("an HTTP client");
        Call {
            builder: client.request(method, self.url(path)),
        }
    }

    /// A request with the bootstrap admin token.
    pub fn admin(&self, method: Method, path: &str) -> Call {
        self.call(method, path).token(&self.admin_token)
    }

    /// Creates a user (as the admin) and returns a fresh token of theirs.
    pub async fn user_with_token(&self, username: &str) -> String {
        let created = self
            .admin(Method::POST, "/api/v1/users")
            .json(&serde_json::json!({ "username": username }))
            .send()
            .await;
        assert_eq!(created.status, 201, "create {username}: {}", created.text);
        self.token_for(username).await
    }

    /// A new token for an existing user (as the admin).
    pub async fn token_for(&self, username: &str) -> String {
        let token = self
            .admin(Method::POST, "/api/v1/tokens")
            .json(&serde_json::json!({ "username": username }))
            .send()
            .await;
        assert_eq!(token.status, 201, "token for {username}: {}", token.text);
        token.str("token")
    }

    /// Runs worker rounds until one finds nothing to do; returns the rounds that did something.
    /// One worker round, abandoned after `after` as a killed process would leave it: nothing of
    /// it runs past that point. Whether it was cut short.
    pub async fn killed_round(&self, after: std::time::Duration) -> bool {
        tokio::time::timeout(after, self.worker.run_once())
            .await
            .is_err()
    }

    /// One retention pass at the server clock's time, as a worker node runs it.
    pub async fn purge(&self) -> convene_store::Purged {
        let now = convene_core::Clock::now(self.clock.as_ref());
        let cutoffs = self.config.retention.cutoffs(now);
        convene_server::retention::purge_pass(self.store.as_ref(), &cutoffs)
            .await
            .expect("a retention pass")
    }

    /// One worker round, as one of a node's parallel round loops runs it.
    pub async fn round(&self) -> Round {
        self.worker.run_once().await.expect("a worker round")
    }

    /// The server's store, to read what the API does not show (the outbox's commit order).
    pub fn store(&self) -> Arc<dyn convene_store::Store> {
        self.store.clone()
    }

    pub async fn drain(&self) -> Vec<Round> {
        let mut rounds = Vec::new();
        for _ in 0..100 {
            let reminded = self.remind().await;
            let planned = self.notify().await + reminded + self.digest().await;
            let jobs = self.run_jobs().await;
            let round = self.worker.run_once().await.expect("a worker round");
            if round.is_idle() && jobs == 0 && planned == 0 {
                return rounds;
            }
            if !round.is_idle() {
                rounds.push(round);
            }
        }
        panic!("the worker was still busy after 100 rounds: {rounds:?}");
    }

    /// One digest pass at the clock's time; how many digests it wrote.
    pub async fn digest(&self) -> usize {
        self.digests.run_once().await.expect("a digest pass")
    }

    /// One reminder pass at the clock's time; how many reminders it sent.
    pub async fn remind(&self) -> usize {
        self.reminders.run_once().await.expect("a reminder pass")
    }

    /// One round of the notifier (outbox messages into notifications and mails); how many
    /// messages it planned.
    pub async fn notify(&self) -> usize {
        self.notifier.run_once().await.expect("a notifier round")
    }

    /// One round of connector jobs (Dashboard pushes); how many ran.
    pub async fn run_jobs(&self) -> usize {
        self.jobs.run_once().await.expect("a job round")
    }

    /// Executes every queued OSDI run (and runs due by schedule); how each ended.
    pub async fn sync_osdi(&self) -> Vec<(String, convene_server::osdi::engine::Ended)> {
        self.osdi.run_once().await.expect("an OSDI round")
    }

    /// A second server process-alike on the same database (PostgreSQL scale-out).
    pub async fn another_node(&self) -> TestApp {
        start(self.config.clone(), None).await
    }

    /// Stops the server as SIGTERM would and returns what `run` returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let task = self.task.take().expect("running");
        task.await?
    }

    async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.client.get(self.url("/readyz")).send().await
                && r.status().is_success()
            {
                return;
            }
            if self.task.as_ref().is_some_and(JoinHandle::is_finished) {
                panic!("the server stopped during start-up");
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the server did not become ready within 5 s");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Runs each `async fn name(app: TestApp) { … }` once per backend: `name::sqlite` always and
/// `name::postgres` when `CONVENE_TEST_POSTGRES_URL` is set. `config = |c| …;` first adjusts the
/// configuration of every app in the block.
#[macro_export]
macro_rules! app_tests {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $crate::app_tests!(config = |_| {}; $(async fn $name($app: TestApp) $body)*);
    };
    (config = $adjust:expr; $(async fn $name:ident($app:ident: TestApp) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($app: $crate::TestApp) $body

            #[::tokio::test]
            async fn sqlite() {
                let app = $crate::spawn_app_with($crate::Backend::Sqlite, $adjust)
                    .await
                    .expect("SQLite always runs");
                scenario(app).await;
            }

            #[::tokio::test]
            async fn postgres() {
                if let Some(app) = $crate::spawn_app_with($crate::Backend::Postgres, $adjust).await {
                    scenario(app).await;
                }
            }
        }
    )*};
}

/// For scenarios that set up their own servers: `on_both_backends!(scenario => test_name, …)`
/// writes `test_name::sqlite` and `test_name::postgres`, each calling `scenario(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident => $name:ident),* $(,)?) => {$(
        mod $name {
            #[::tokio::test]
            async fn sqlite() {
                super::$scenario($crate::Backend::Sqlite).await;
            }

            #[::tokio::test]
            async fn postgres() {
                super::$scenario($crate::Backend::Postgres).await;
            }
        }
    )*};
}
