//! The admin UI in a real headless Chromium (Debian's `chromium`, driven by playwright-core from
//! `browser-tests/`): the operator's tasks end to end, and screenshots of the main pages in
//! `test-output/browser/`. Runs when Chromium and the npm packages are there; `.ci/run` installs
//! both and sets `CONVENE_BROWSER_TESTS=1`, which turns their absence into a failure.

use convene_core::SystemClock;
use convene_server::config::{Config, Secret};
use convene_server::{Node, Role};
use convene_testkit::TestDb;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn ready() -> bool {
    let have = Path::new("/usr/bin/chromium").exists()
        && root()
            .join("browser-tests/node_modules/playwright-core")
            .exists();
    if !have && std::env::var_os("CONVENE_BROWSER_TESTS").is_some() {
        panic!(
            "CONVENE_BROWSER_TESTS is set but Chromium or browser-tests/node_modules is missing"
        );
    }
    have
}

/// One browser run at a time: two Chromiums on two cores would race their own timeouts.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server on SQLite with Root (an admin whose password is `correct horse battery`), Bob and
/// Carol, serving until the script given to [`Console::drive`] ends.
struct Console {
    config: Config,
    base: String,
}

impl Console {
    async fn drive(configure: impl FnOnce(&mut Config), script: &str, extra: &[&str]) {
        let _turn = ONE_AT_A_TIME.lock().await;
        let db = TestDb::sqlite();
        let mut config = Config::defaults();
        config.database_url = db.url.clone();
        config.admin_token = Some(Secret::new(format!(
            "admin-{}",
            uuid::Uuid::new_v4().simple()
        )));
        config.allow_private_targets = true;
        // Only the operator's retry delivers: the schedule's next try is an hour away.
        config.delivery.retry_schedule_s = vec![3600];
        config.delivery.idle_poll_ms = 50;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        config.email.public_url = base.clone();
        configure(&mut config);
        let node = Node::start(config.clone(), Arc::new(SystemClock))
            .await
            .unwrap();
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(node.run(Role::All, Some(listener), shutdown.clone()));
        let console = Console { config, base };
        console.people().await;
        let out = console.run(script, extra).await;
        shutdown.cancel();
        let _ = server.await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "browser run {script} failed:\n{stdout}\n{stderr}"
        );
    }

    async fn people(&self) {
        let config = &self.config;
        convene_server::commands::create_user(config, "Root", Some("root@example.org"), true)
            .await
            .unwrap();
        for name in ["Bob", "Carol"] {
            convene_server::commands::create_user(config, name, None, false)
                .await
                .unwrap();
        }
        convene_server::commands::set_password(config, "Root", "correct horse battery")
            .await
            .unwrap();
    }

    /// `node browser-tests/<script> BASE_URL Root PASSWORD SCREENSHOTS ADMIN_TOKEN <extra…>`.
    async fn run(&self, script: &str, extra: &[&str]) -> std::process::Output {
        let token = self.config.admin_token.as_ref().map(|t| t.expose());
        tokio::process::Command::new("node")
            .arg(root().join("browser-tests").join(script))
            .args([self.base.as_str(), "Root", "correct horse battery"])
            .arg(shots())
            .arg(token.unwrap_or_default())
            .args(extra)
            .output()
            .await
            .expect("node runs")
    }
}

fn shots() -> std::path::PathBuf {
    root().join("test-output/browser")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_fixes_a_failing_webhook_in_the_browser() {
    if !ready() {
        eprintln!(
            "skipped: no /usr/bin/chromium or browser-tests/node_modules (run `npm ci` there)"
        );
        return;
    }
    // Sign-in with Wikimedia and with OpenID Connect, both against one local fake provider that
    // consents as Root.
    let identity = convene_testkit::oauth::FakeIdentity::start().await;
    identity.sign_in_as("root");
    let crm = convene_testkit::OsdiFake::start(
        vec![
            convene_testkit::osdi::person("an-1", "Ann", "Lee", "ann@example.org"),
            convene_testkit::osdi::person("an-2", "Sam", "Kim", "sam@example.org"),
        ],
        25,
    )
    .await;
    let providers = |config: &mut Config| {
        let client = convene_testkit::oauth::CLIENT_ID.to_owned();
        let secret = Some(Secret::new(convene_testkit::oauth::CLIENT_SECRET));
        config.sign_in.mediawiki.url = identity.url.clone();
        config.sign_in.mediawiki.client_id = client.clone();
        config.sign_in.mediawiki.client_secret = secret.clone();
        config.sign_in.oidc.issuer = identity.url.clone();
        config.sign_in.oidc.client_id = client;
        config.sign_in.oidc.client_secret = secret;
        config.sign_in.oidc.label = "the test SSO".into();
    };
    Console::drive(providers, "admin.mjs", &[crm.entry_point.as_str()]).await;
    for name in [
        "02-overview",
        "03-event",
        "07-delivered",
        "08-notifications",
        "12-mail-log",
        "13-events-phone",
        "16-crm-run",
        "17-crm-flag",
    ] {
        assert!(
            shots().join(format!("{name}.png")).exists(),
            "{name} screenshot"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_manages_events_users_and_filters_in_the_browser() {
    if !ready() {
        eprintln!("skipped: no /usr/bin/chromium or browser-tests/node_modules");
        return;
    }
    Console::drive(|_| {}, "manage.mjs", &[]).await;
    for name in [
        "31-session-with-slides",
        "32-timeline",
        "33-inspector",
        "35-user-deactivated",
    ] {
        assert!(
            shots().join(format!("{name}.png")).exists(),
            "{name} screenshot"
        );
    }
}
