//! `[conferencing]`: the default provider, and the settings of each one.

use super::{ConfigError, Secret};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConferencingConfig {
    /// `meetecho`, `bigbluebutton`, `jitsi`, `debug` or `none`.
    pub provider: String,
    pub meetecho: MeetechoSettings,
    pub bigbluebutton: BigBlueButtonSettings,
    pub jitsi: JitsiSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MeetechoSettings {
    pub api_base: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub request_timeout_s: f64,
    pub token_ttl_s: u64,
    /// Minutes around a session in which slide changes are pushed; negative = always;
    /// `"never"` = never.
    pub slides_notify_minutes: NotifyMinutes,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BigBlueButtonSettings {
    /// The API base (`https://bbb.example.org/bigbluebutton/api/`); empty = not configured.
    pub url: String,
    pub secret: Option<Secret>,
    /// `sha1`, `sha256`, `sha384` or `sha512`.
    pub checksum: String,
    pub request_timeout_s: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JitsiSettings {
    /// `meet.example.org`; empty = not configured.
    pub domain: String,
    pub app_id: Option<String>,
    pub app_secret: Option<Secret>,
}

impl MeetechoSettings {
    pub fn configured(&self) -> bool {
        !self.client_id.is_empty() && self.client_secret.is_some()
    }
}

impl BigBlueButtonSettings {
    pub fn configured(&self) -> bool {
        !self.url.is_empty() && self.secret.is_some()
    }
}

impl JitsiSettings {
    pub fn configured(&self) -> bool {
        !self.domain.is_empty()
    }
}

/// An integer, or `"never"` (TOML has no null).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum NotifyMinutes {
    Minutes(i64),
    Never(Never),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Never {
    #[serde(alias = "null", alias = "none", alias = "")]
    Never,
}

impl NotifyMinutes {
    pub fn minutes(self) -> Option<i64> {
        match self {
            NotifyMinutes::Minutes(m) => Some(m),
            NotifyMinutes::Never(_) => None,
        }
    }
}

fn invalid(field: &'static str, message: &str) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        field,
        message: message.to_owned(),
    })
}

fn timeout(field: &'static str, seconds: f64) -> Result<(), ConfigError> {
    if seconds > 0.0 && seconds < 600.0 {
        Ok(())
    } else {
        invalid(field, "must be above 0 and below 600")
    }
}

impl ConferencingConfig {
    /// The default provider must have its settings; any other provider's settings, when given,
    /// must be usable.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let needs = |name: &str, configured: bool, what: &str| {
            if self.provider == name && !configured {
                invalid("conferencing", what)
            } else {
                Ok(())
            }
        };
        let m = &self.meetecho;
        if url::Url::parse(&m.api_base).is_err() {
            return invalid("conferencing.meetecho.api_base", "must be an absolute URL");
        }
        needs(
            "meetecho",
            m.configured(),
            "meetecho.client_id and client_secret are required with provider meetecho",
        )?;
        timeout(
            "conferencing.meetecho.request_timeout_s",
            m.request_timeout_s,
        )?;
        let b = &self.bigbluebutton;
        if !b.url.is_empty() && url::Url::parse(&b.url).is_err() {
            return invalid("conferencing.bigbluebutton.url", "must be an absolute URL");
        }
        if convene_conferencing::bbb::Checksum::parse(&b.checksum).is_none() {
            return invalid(
                "conferencing.bigbluebutton.checksum",
                "must be sha1, sha256, sha384 or sha512",
            );
        }
        needs(
            "bigbluebutton",
            b.configured(),
            "bigbluebutton.url and secret are required with provider bigbluebutton",
        )?;
        timeout(
            "conferencing.bigbluebutton.request_timeout_s",
            b.request_timeout_s,
        )?;
        let j = &self.jitsi;
        needs(
            "jitsi",
            j.configured(),
            "jitsi.domain is required with provider jitsi",
        )?;
        if j.app_id.as_deref().is_some_and(|s| !s.is_empty()) != j.app_secret.is_some() {
            return invalid(
                "conferencing.jitsi",
                "app_id and app_secret go together (token authentication)",
            );
        }
        match self.provider.as_str() {
            "none" | "debug" | "meetecho" | "bigbluebutton" | "jitsi" => Ok(()),
            _ => invalid(
                "conferencing.provider",
                "must be meetecho, bigbluebutton, jitsi, debug or none",
            ),
        }
    }
}
