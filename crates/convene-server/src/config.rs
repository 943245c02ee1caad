//! One documented configuration: embedded defaults, then a TOML file, then `CONVENE_*` variables.

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

mod conferencing;
mod sign_in;
pub use conferencing::*;
pub use sign_in::*;

/// The commented defaults, embedded so the binary runs with no file at all.
pub const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// The top-level keys of [`Config`]. Only `CONVENE_*` variables naming one of these are read, so
/// an unrelated variable that happens to share the prefix never stops the server (a typo in a
/// file still does: files are checked strictly).
const KEYS: &[&str] = &[
    "database_url",
    "listen",
    "admin_token",
    "event_center_secret",
    "event_center_account_check_url",
    "smtp_url",
    "allow_private_targets",
    "log_format",
    "http",
    "database",
    "idempotency",
    "delivery",
    "event_sync",
    "conferencing",
    "jobs",
    "email",
    "osdi",
    "secrets",
    "metrics",
    "retention",
    "telemetry",
    "digests",
    "sign_in",
];

/// A secret string: never printed, never serialised in clear.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(serialize_with = "redact_url_password")]
    pub database_url: String,
    pub listen: SocketAddr,
    pub admin_token: Option<Secret>,
    pub event_center_secret: Option<Secret>,
    pub event_center_account_check_url: Option<String>,
    pub smtp_url: Option<Secret>,
    pub allow_private_targets: bool,
    pub log_format: LogFormat,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub idempotency: IdempotencyConfig,
    pub delivery: DeliveryConfig,
    pub event_sync: EventSyncConfig,
    pub conferencing: ConferencingConfig,
    pub jobs: JobsConfig,
    pub email: EmailConfig,
    pub osdi: OsdiConfig,
    pub secrets: SecretsConfig,
    pub metrics: MetricsConfig,
    pub retention: RetentionConfig,
    pub telemetry: TelemetryConfig,
    pub digests: DigestsConfig,
    pub sign_in: SignInConfig,
}

/// When daily and weekly digests go out, in each person's time zone (UTC without one).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DigestsConfig {
    /// The local hour, 0–23.
    pub hour: u8,
    /// The day weekly digests go out: `monday` … `sunday`.
    pub weekday: String,
}

/// Traces over OTLP/HTTP: off unless an endpoint is set here or in `OTEL_EXPORTER_OTLP_ENDPOINT`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// The collector's base URL; spans go to `{otlp_endpoint}/v1/traces`.
    pub otlp_endpoint: Option<String>,
    /// `service.name` on every span.
    pub service_name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// When set, `/metrics` needs `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
}

/// The key that seals every stored secret, and the keys it replaced (still opened, never used
/// to seal). `CONVENE_SECRET_KEY` is the same as `CONVENE_SECRETS__KEY`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    pub key: Option<Secret>,
    /// A file whose contents (trimmed) are the key, when `key` is unset.
    pub key_file: Option<std::path::PathBuf>,
    pub previous_keys: Vec<Secret>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub body_limit_bytes: usize,
    pub request_timeout_s: u64,
    pub shutdown_grace_s: u64,
    pub header_timeout_s: u64,
    pub max_connections: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub max_connections: u32,
}

/// How long final records are kept, in days (fractions allowed; 0 keeps nothing final).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    pub messages_days: f64,
    pub mail_days: f64,
    pub notifications_days: f64,
    pub logs_days: f64,
    pub purge_interval_s: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyConfig {
    pub retention_hours: u64,
    pub stale_after_s: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    pub batch_size: u32,
    pub lease_s: u64,
    pub timeout_s: u64,
    pub idle_poll_ms: u64,
    pub retry_schedule_s: Vec<u64>,
    pub retry_jitter: f64,
    pub max_retry_after_s: u64,
    pub response_body_limit_bytes: usize,
    pub disable_after_hours: u64,
    pub attempt_retention_days: u64,
    pub secret_rotation_grace_hours: u64,
    pub allowed_hosts: Vec<String>,
    pub max_in_flight_per_endpoint: usize,
    pub parallel_rounds: usize,
    pub gather_ms: u64,
    /// Signals are refused (503 `backlog_full`) while the longest-waiting due delivery has
    /// waited longer than this; unset = never.
    #[serde(default)]
    pub max_backlog_age_s: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventSyncConfig {
    pub timeout_s: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    pub lease_s: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OsdiConfig {
    /// Seals sync profiles' API tokens; unset = generated once and kept in the database.
    pub secret_key: Option<Secret>,
    /// Seconds a node holds a run between two saved pages before another may take it over.
    pub lease_s: u64,
    pub request_timeout_s: u64,
    /// How often an idle node looks for queued runs and due schedules.
    pub poll_ms: u64,
    /// Runs (of different profiles) one node executes at once.
    pub max_parallel_runs: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// `smtp`, `http`, in the order to try them.
    pub providers: Vec<String>,
    pub from_address: String,
    pub from_name: String,
    pub public_url: String,
    pub http_api_url: String,
    pub http_api_key: Option<Secret>,
    pub send_timeout_s: u64,
    pub default_locale: String,
    pub unsubscribe_key: Option<Secret>,
    pub disabled_actions: Vec<String>,
    pub stream_poll_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not a `source`: figment's message is complete, and a cause chain would repeat it.
    #[error("configuration: {0}")]
    Load(Box<figment::Error>),
    #[error("configuration: {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl Config {
    /// Where people reach this server, without a final `/`: `email.public_url`, else
    /// `http://<listen>`.
    pub fn public_url(&self) -> String {
        if self.email.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.email.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// Defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        let env = Env::prefixed("CONVENE_")
            .filter(|key| {
                let top = key.as_str().split("__").next().unwrap_or_default();
                KEYS.iter().any(|k| k.eq_ignore_ascii_case(top))
            })
            .split("__");
        let alias = Env::raw()
            .only(&["CONVENE_SECRET_KEY"])
            .map(|_| "secrets.key".into());
        Self::extract(figment.merge(env).merge(alias))
    }

    /// The embedded defaults alone (tests start from these).
    pub fn defaults() -> Self {
        Self::extract(Figment::from(Toml::string(DEFAULTS)))
            .expect("the embedded defaults are valid")
    }

    fn extract(figment: Figment) -> Result<Self, ConfigError> {
        let config: Self = figment
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, message: &str| {
            Err(ConfigError::Invalid {
                field,
                message: message.to_owned(),
            })
        };
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return invalid("database_url", "must start with sqlite:// or postgres://");
        }
        if self
            .admin_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 16)
        {
            return invalid("admin_token", "must be at least 16 characters");
        }
        if self.http.body_limit_bytes < 1024 {
            return invalid("http.body_limit_bytes", "must be at least 1024");
        }
        if self.http.request_timeout_s == 0 {
            return invalid("http.request_timeout_s", "must be at least 1");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1");
        }
        if let Some(endpoint) = &self.telemetry.otlp_endpoint
            && !url::Url::parse(endpoint).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return invalid(
                "telemetry.otlp_endpoint",
                "must be an http:// or https:// URL",
            );
        }
        let r = &self.retention;
        for (field, days) in [
            ("retention.messages_days", r.messages_days),
            ("retention.mail_days", r.mail_days),
            ("retention.notifications_days", r.notifications_days),
            ("retention.logs_days", r.logs_days),
        ] {
            if !(0.0..=36_500.0).contains(&days) {
                return invalid(field, "must be a number of days from 0 to 36500");
            }
        }
        if r.purge_interval_s == 0 {
            return invalid("retention.purge_interval_s", "must be at least 1");
        }
        let d = &self.delivery;
        if d.batch_size == 0 || d.batch_size > 10_000 {
            return invalid("delivery.batch_size", "must be 1-10000");
        }
        if d.timeout_s == 0 || d.lease_s <= d.timeout_s {
            return invalid(
                "delivery.lease_s",
                "must be longer than delivery.timeout_s (>= 1)",
            );
        }
        if !(0.0..1.0).contains(&d.retry_jitter) {
            return invalid("delivery.retry_jitter", "must be at least 0 and below 1");
        }
        self.conferencing.validate()?;
        if self.digests.hour > 23 {
            return invalid("digests.hour", "must be 0 to 23");
        }
        if crate::notifications::digest::weekday(&self.digests.weekday).is_none() {
            return invalid(
                "digests.weekday",
                "must be a day of the week, such as monday",
            );
        }
        let e = &self.email;
        let disabled = e.providers == ["disable"];
        if !disabled && e.providers.iter().any(|p| p != "smtp" && p != "http") {
            return invalid(
                "email.providers",
                "may name smtp and http, or be [\"disable\"]",
            );
        }
        if !e.public_url.is_empty() && url::Url::parse(&e.public_url).is_err() {
            return invalid("email.public_url", "must be an absolute URL or empty");
        }
        if !e.http_api_url.is_empty() && url::Url::parse(&e.http_api_url).is_err() {
            return invalid("email.http_api_url", "must be an absolute URL or empty");
        }
        if e.send_timeout_s == 0 || e.stream_poll_ms == 0 {
            return invalid(
                "email",
                "send_timeout_s and stream_poll_ms must be at least 1",
            );
        }
        if let Some(url) = &self.event_center_account_check_url
            && url::Url::parse(url).is_err()
        {
            return invalid("event_center_account_check_url", "must be an absolute URL");
        }
        Ok(())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn redact_url_password<S: Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            s.serialize_str(parsed.as_str())
        }
        _ => s.serialize_str(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::defaults();
        assert_eq!(c.database_url, "sqlite://convene.db");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert!(c.admin_token.is_none() && !c.allow_private_targets);
        assert_eq!(c.http.body_limit_bytes, 1024 * 1024);
    }

    #[test]
    fn secrets_and_passwords_are_redacted_when_printed() {
        let mut c = Config::defaults();
        c.admin_token = Some(Secret::new("a-very-secret-admin-token"));
        c.database_url = "postgres://convene:hunter2@db:5432/convene".into();
        let printed = serde_json::to_string(&c).unwrap();
        assert!(
            !printed.contains("a-very-secret") && !printed.contains("hunter2"),
            "{printed}"
        );
        assert!(printed.contains("[redacted]") && printed.contains("convene:redacted@db"));
        assert!(!format!("{c:?}").contains("a-very-secret"));
    }

    #[test]
    fn keys_lists_every_field() {
        let value = serde_json::to_value(Config::defaults()).unwrap();
        let mut fields: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut keys = KEYS.to_vec();
        fields.sort_unstable();
        keys.sort_unstable();
        assert_eq!(fields, keys);
    }

    #[test]
    fn bad_values_are_named() {
        let bad = Figment::from(Toml::string(DEFAULTS))
            .merge(Toml::string("database_url = \"mysql://x\""));
        let err = Config::extract(bad).unwrap_err().to_string();
        assert!(err.contains("database_url"), "{err}");
        let typo =
            Figment::from(Toml::string(DEFAULTS)).merge(Toml::string("[http]\nbody_limit = 5"));
        assert!(Config::extract(typo).is_err(), "unknown keys are refused");
        let meetecho = Figment::from(Toml::string(DEFAULTS))
            .merge(Toml::string("[conferencing]\nprovider = \"meetecho\""));
        let err = Config::extract(meetecho).unwrap_err().to_string();
        assert!(err.contains("client_secret"), "{err}");
        for (toml, named) in [
            (
                "[conferencing]\nprovider = \"bigbluebutton\"",
                "bigbluebutton.url and secret",
            ),
            (
                "[conferencing]\nprovider = \"zoom\"",
                "conferencing.provider",
            ),
            (
                "[conferencing.bigbluebutton]\nchecksum = \"md5\"",
                "checksum",
            ),
            (
                "[conferencing.bigbluebutton]\nurl = \"bbb\"",
                "bigbluebutton.url",
            ),
            ("[conferencing]\nprovider = \"jitsi\"", "jitsi.domain"),
            (
                "[conferencing.jitsi]\ndomain = \"m.example.org\"\napp_id = \"x\"",
                "go together",
            ),
        ] {
            let bad = Figment::from(Toml::string(DEFAULTS)).merge(Toml::string(toml));
            let err = Config::extract(bad).unwrap_err().to_string();
            assert!(err.contains(named), "{toml}: {err}");
        }
        let bbb = Figment::from(Toml::string(DEFAULTS)).merge(Toml::string(
            "[conferencing]\nprovider = \"bigbluebutton\"\n[conferencing.bigbluebutton]\nurl = \"https://bbb.example.org/bigbluebutton/api/\"\nsecret = \"s\"",
        ));
        assert!(Config::extract(bbb).is_ok());
    }

    #[test]
    fn slides_notify_minutes_is_a_number_or_never() {
        let with =
            |value: &str| {
                Config::extract(Figment::from(Toml::string(DEFAULTS)).merge(Toml::string(
                    &format!("[conferencing.meetecho]\nslides_notify_minutes = {value}"),
                )))
                .map(|c| c.conferencing.meetecho.slides_notify_minutes.minutes())
            };
        assert_eq!(
            Config::defaults()
                .conferencing
                .meetecho
                .slides_notify_minutes
                .minutes(),
            Some(15)
        );
        assert_eq!(with("-1").unwrap(), Some(-1));
        for never in ["\"never\"", "\"null\"", "\"none\"", "\"\""] {
            assert_eq!(with(never).unwrap(), None, "{never}");
        }
        assert!(with("\"soon\"").is_err());
    }
}
