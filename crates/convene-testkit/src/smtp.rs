//! A real SMTP server process (aiosmtpd) on a free loopback port, recording what it accepts.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message, headers and body, as sent.
    pub data: String,
}

impl Received {
    /// The first header of that name (unfolded), case-insensitive.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = found.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                found = Some(v.trim().to_owned());
            }
        }
        found
    }
}

impl Received {
    /// A header with RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) decoded.
    pub fn decoded_header(&self, name: &str) -> Option<String> {
        let raw = self.header(name)?;
        let mut out = String::new();
        let mut previous_encoded: Option<bool> = None;
        for token in raw.split_whitespace() {
            let decoded = decode_word(token);
            // Whitespace between two encoded words is not part of the text.
            if previous_encoded.is_some() && !(previous_encoded == Some(true) && decoded.is_some())
            {
                out.push(' ');
            }
            out.push_str(decoded.as_deref().unwrap_or(token));
            previous_encoded = Some(decoded.is_some());
        }
        Some(out)
    }
}

fn decode_word(token: &str) -> Option<String> {
    use base64::Engine;
    let inner = token.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let (_charset, encoding, text) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = match encoding {
        "b" | "B" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?,
        "q" | "Q" => quoted(text)?,
        _ => return None,
    };
    String::from_utf8(bytes).ok()
}

fn quoted(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

/// Where aiosmtpd is importable from: installed once from PyPI into the target folder when
/// the machine's Python lacks it, so `cargo test` needs nothing installed by hand.
fn python_path() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/pydeps"));
        let importable = |dir: &PathBuf| {
            std::process::Command::new("python3")
                .args(["-c", "import aiosmtpd"])
                .env("PYTHONPATH", dir)
                .status()
                .is_ok_and(|s| s.success())
        };
        if !importable(&dir) {
            let installed = std::process::Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--target",
                ])
                .arg(&dir)
                .arg("aiosmtpd==1.4.6")
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                installed && importable(&dir),
                "could not install aiosmtpd from PyPI"
            );
        }
        dir
    })
}

pub struct SmtpSink {
    pub port: u16,
    out: PathBuf,
    child: Option<Child>,
}

impl SmtpSink {
    /// Starts the server; panics with a hint when aiosmtpd is missing (`.ci/run` installs it).
    pub async fn start() -> Self {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().expect("its address").port()
        };
        Self::start_on(port).await
    }

    /// On a given port: a mail server that comes back where it was.
    pub async fn start_on(port: u16) -> Self {
        let out = std::env::temp_dir().join(format!("convene-smtp-{}.jsonl", uuid::Uuid::new_v4()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/smtp_sink.py");
        let mut child = Command::new("python3")
            .env("PYTHONPATH", python_path())
            .arg(script)
            .arg(port.to_string())
            .arg(&out)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP sink starts within 20 s")
            .expect("reading its output");
        assert_eq!(
            ready.as_deref(),
            Some("ready"),
            "the SMTP sink did not start: is aiosmtpd installed (pip install aiosmtpd)?"
        );
        Self {
            port,
            out,
            child: Some(child),
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| Received {
                from: v["from"].as_str().unwrap_or_default().to_owned(),
                to: v["to"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                data: v["data"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    /// Stops the server (the port then refuses connections).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.out);
    }
}
