//! Receivers verify with the official Standard Webhooks library, so we check our signatures with
//! it: the `standardwebhooks` package from PyPI, installed into the target folder when missing.
//! That library (like the spec's other reference libraries) implements `v1` only; `v1a` is
//! checked as the spec defines it with libsodium's ed25519 (`pynacl`).

use convene_delivery::signing::{Scheme, SigningKey, WebhookSecret, signature_header};
use convene_delivery::wire::Encoding;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Verifies stdin against the headers with every secret given; or, with WH_MODE=sign, prints the
/// library's own signature of stdin (for form bodies, which `verify` also tries to parse as JSON).
const SCRIPT: &str = r#"
import datetime, os, sys
from standardwebhooks import Webhook
body = sys.stdin.buffer.read()
ts = os.environ["WH_TS"]
if os.environ.get("WH_MODE") == "sign":
    when = datetime.datetime.fromtimestamp(int(ts), tz=datetime.timezone.utc)
    print(Webhook(os.environ["WH_SECRETS"]).sign(os.environ["WH_ID"], when, body.decode()))
    sys.exit(0)
headers = {"webhook-id": os.environ["WH_ID"], "webhook-timestamp": ts,
           "webhook-signature": os.environ["WH_SIG"]}
for secret in os.environ["WH_SECRETS"].split():
    Webhook(secret).verify(body, headers)
print("verified")
"#;

const ID: &str = "msg_2kQ0convene";

/// Where both libraries are importable from: installed once per test binary (the tests run in
/// parallel threads, and two pip runs into one folder collide), into a fresh folder that is then
/// renamed into place, so another test binary never sees half an install.
fn python_path() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pydeps");
        if importable(&dir) {
            return dir;
        }
        let fresh = dir.with_file_name(format!("pydeps-{}", std::process::id()));
        let installed = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("--target")
            .arg(&fresh)
            .args(["standardwebhooks==1.1.0", "pynacl==1.6.2"])
            .status()
            .expect("pip runs");
        assert!(
            installed.success(),
            "could not install standardwebhooks and pynacl from PyPI"
        );
        let _ = std::fs::remove_dir_all(&dir);
        if std::fs::rename(&fresh, &dir).is_err() {
            // Another binary renamed its copy first; ours is as good.
            return fresh;
        }
        dir
    })
}

fn importable(dir: &Path) -> bool {
    Command::new("python3")
        .args(["-c", "import standardwebhooks, nacl"])
        .env("PYTHONPATH", dir)
        .status()
        .is_ok_and(|s| s.success())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Runs a script over `body` with the message's id, `timestamp` and `signature` and the other
/// variables given; its stdout when it succeeds.
fn run_script(
    script: &str,
    timestamp: i64,
    signature: &str,
    vars: &[(&str, String)],
    body: &[u8],
) -> Option<String> {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .env("PYTHONPATH", python_path())
        .env("WH_ID", ID)
        .env("WH_TS", timestamp.to_string())
        .env("WH_SIG", signature)
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs the official library's script in `mode`.
fn python(
    mode: &str,
    secrets: &[&WebhookSecret],
    timestamp: i64,
    body: &[u8],
    signature: &str,
) -> Option<String> {
    let secrets = secrets
        .iter()
        .map(|s| s.expose())
        .collect::<Vec<_>>()
        .join(" ");
    let vars = [("WH_MODE", mode.to_owned()), ("WH_SECRETS", secrets)];
    run_script(SCRIPT, timestamp, signature, &vars, body)
}

fn verifies(secrets: &[&WebhookSecret], body: &[u8], signature: &str, timestamp: i64) -> bool {
    python("verify", secrets, timestamp, body, signature).as_deref() == Some("verified")
}

#[test]
fn the_official_verifier_accepts_our_signatures() {
    let secret = WebhookSecret::generate();
    let payload = json!({"participant": {"username": "Zoë", "visibility": "public"},
                         "event_metadata": {"event_type": "participant.registered"}});
    let ts = now();
    let body = Encoding::Json.encode(&payload);
    assert!(verifies(&[&secret], &body, &secret.sign(ID, ts, &body), ts));
    let form = Encoding::Form.encode(&payload);
    let theirs = python("sign", &[&secret], ts, &form, "").expect("the library signs");
    assert_eq!(
        theirs,
        secret.sign(ID, ts, &form),
        "form bodies are signed byte for byte alike"
    );
}

#[test]
fn during_rotation_both_secrets_verify_and_a_stranger_does_not() {
    let (old, new, stranger) = (
        WebhookSecret::generate(),
        WebhookSecret::generate(),
        WebhookSecret::generate(),
    );
    let body = br#"{"event":{"id":"1"}}"#;
    let ts = now();
    let keys = [SigningKey::Hmac(new.clone()), SigningKey::Hmac(old.clone())];
    let header = signature_header(&keys, ID, ts, body);
    assert!(verifies(&[&old, &new], body, &header, ts));
    assert!(!verifies(&[&stranger], body, &header, ts));
    let tampered = br#"{"event":{"id":"2"}}"#;
    assert!(
        !verifies(&[&new], tampered, &header, ts),
        "the signature covers the exact bytes"
    );
    assert!(
        !verifies(&[&new], body, &header, ts - 3600),
        "and the timestamp"
    );
}

/// Verifies a `webhook-signature` header's `v1a` entries as the spec says: ed25519 over
/// `id.timestamp.body`, with the `whpk_` key; prints `verified` when one matches.
const V1A_SCRIPT: &str = r#"
import base64, os, sys
from nacl.signing import VerifyKey
from nacl.exceptions import BadSignatureError
body = sys.stdin.buffer.read()
key = VerifyKey(base64.b64decode(os.environ["WH_PUBLIC"].removeprefix("whpk_")))
content = (os.environ["WH_ID"] + "." + os.environ["WH_TS"] + ".").encode() + body
for entry in os.environ["WH_SIG"].split():
    version, _, sig = entry.partition(",")
    if version != "v1a":
        continue
    try:
        key.verify(content, base64.b64decode(sig))
        print("verified")
        break
    except BadSignatureError:
        pass
"#;

fn verifies_v1a(public_key: &str, body: &[u8], signature: &str, timestamp: i64) -> bool {
    let vars = [("WH_PUBLIC", public_key.to_owned())];
    let out = run_script(V1A_SCRIPT, timestamp, signature, &vars, body);
    out.expect("the v1a check ran") == "verified"
}

#[test]
fn v1a_signatures_verify_with_the_public_key_alone() {
    let key = SigningKey::generate(Scheme::V1a);
    let public = key.public_key().expect("v1a keys publish one");
    let body = Encoding::Json.encode(&json!({"event": {"id": "1", "title": "Zoë's edit-a-thon"}}));
    let ts = now();
    let header = signature_header([&key], ID, ts, &body);
    assert!(header.starts_with("v1a,"));
    assert!(verifies_v1a(&public, &body, &header, ts));
    assert!(
        !verifies_v1a(&public, b"{}", &header, ts),
        "the signature covers the exact bytes"
    );
    assert!(
        !verifies_v1a(&public, &body, &header, ts + 1),
        "and the timestamp"
    );
    let stranger = SigningKey::generate(Scheme::V1a).public_key().unwrap();
    assert!(!verifies_v1a(&stranger, &body, &header, ts));
}

/// An endpoint moving from `v1` to `v1a` signs with both during the grace period: a receiver
/// on the official library (which skips versions it does not know) and one holding the new public
/// key both verify the same request.
#[test]
fn a_change_of_scheme_keeps_both_kinds_of_receiver_working() {
    let old = WebhookSecret::generate();
    let new = SigningKey::generate(Scheme::V1a);
    let body = br#"{"participant":{"username":"Ada"}}"#;
    let ts = now();
    let header = signature_header([&new, &SigningKey::Hmac(old.clone())], ID, ts, body);
    assert!(verifies(&[&old], body, &header, ts));
    assert!(verifies_v1a(&new.public_key().unwrap(), body, &header, ts));
}
