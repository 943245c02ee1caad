//! The binary as a process: a temporary folder, `convene` commands, `serve` with its logged
//! address, signals.

#![allow(dead_code)] // each test binary uses a part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("convene-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn convene(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_convene"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    cmd
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    convene(dir, args).output().expect("the binary runs")
}

pub fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// A served process, killed when dropped: a test that fails halfway leaves no server running.
pub struct Server(Child);

impl std::ops::Deref for Server {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Server {
    /// Runs `cmd` (its output dropped) until the value is dropped.
    pub fn spawned(mut cmd: Command) -> Self {
        Self(
            cmd.stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `convene serve` on a free port with `envs`; returns the process and the address it logged.
pub fn serve(dir: &Path, envs: &[(&str, &str)]) -> (Server, String) {
    let (child, addr, _) = serve_logging(dir, envs);
    (child, addr)
}

/// As [`serve`], with the log lines up to the `listening on` one.
pub fn serve_logging(dir: &Path, envs: &[(&str, &str)]) -> (Server, String, Vec<String>) {
    let (child, addr, log) = serve_recording(dir, envs);
    let early = log.lock().unwrap().clone();
    (child, addr, early)
}

/// As [`serve`], with every log line it writes (before `listening on` and after), as it runs.
pub fn serve_recording(
    dir: &Path,
    envs: &[(&str, &str)],
) -> (Server, String, Arc<Mutex<Vec<String>>>) {
    serve_as(dir, &["serve"], envs)
}

/// As [`serve_recording`], with the command line `args` (`serve --role api`, say).
pub fn serve_as(
    dir: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Server, String, Arc<Mutex<Vec<String>>>) {
    let mut cmd = convene(dir, args);
    cmd.env("CONVENE_LISTEN", "127.0.0.1:0");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = Server(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Logs go to stderr, so stdout stays clean for commands that print JSON.
    let logs = child.stderr.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let kept = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(logs).lines().map_while(Result::ok) {
            match line.split("listening on http://").nth(1) {
                Some(addr) => {
                    let _ = tx.send(addr.split_whitespace().next().unwrap().to_owned());
                }
                None => kept.lock().unwrap().push(line),
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a `listening on` line");
    (child, addr, lines)
}

pub fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

pub fn wait_exit(child: &mut Child, within: Duration) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "still running after {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// POSTs `body` to `path` as the bearer of `token`; the JSON answer, which must be a success.
pub async fn post_json(
    addr: &str,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let r = convene_testkit::http_client()
        .post(format!("http://{addr}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}
