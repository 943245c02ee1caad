//! The email settings in force: the `[email]` configuration with the admin's stored changes
//! on top (`PUT /api/v1/settings/email`), and the providers they describe.

use crate::config::EmailConfig;
use convene_core::FieldErrors;
use convene_core::Timestamp;
use convene_core::notification::Kind;
use convene_core::text::Email;
use convene_store::Store;
use convene_store::seal::{Keyring, Unsealable};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The settings key the admin's changes are stored under.
pub const KEY: &str = "email";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSettings {
    /// `smtp`, `http`, in the order to try; `[]` or `["disable"]` = no mail is sent (it is still
    /// logged).
    pub providers: Vec<String>,
    pub from_address: String,
    pub from_name: String,
    pub smtp_url: Option<String>,
    pub http_api_url: Option<String>,
    pub http_api_key: Option<String>,
    /// Kinds that send no mail.
    pub disabled_actions: Vec<String>,
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

impl EmailSettings {
    /// The configuration alone.
    pub fn from_config(config: &EmailConfig, smtp_url: Option<&str>) -> Self {
        Self {
            providers: config.providers.clone(),
            from_address: config.from_address.clone(),
            from_name: config.from_name.clone(),
            smtp_url: smtp_url.and_then(non_empty),
            http_api_url: non_empty(&config.http_api_url),
            http_api_key: config
                .http_api_key
                .as_ref()
                .and_then(|k| non_empty(k.expose())),
            disabled_actions: config.disabled_actions.clone(),
        }
    }

    /// These settings with the stored changes applied (each key given replaces its value).
    pub fn with_stored(mut self, stored: &Value) -> Self {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let list = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        if let Some(v) = stored.get("providers") {
            self.providers = list(v);
        }
        if let Some(v) = stored.get("from_address").and_then(text) {
            self.from_address = v;
        }
        if let Some(v) = stored.get("from_name").and_then(text) {
            self.from_name = v;
        }
        if let Some(v) = stored.get("smtp_url") {
            self.smtp_url = text(v);
        }
        if let Some(v) = stored.get("http_api_url") {
            self.http_api_url = text(v);
        }
        if let Some(v) = stored.get("http_api_key") {
            self.http_api_key = text(v);
        }
        if let Some(v) = stored.get("disabled_actions") {
            self.disabled_actions = list(v);
        }
        self
    }

    /// Whether any named provider has what it needs to send.
    pub fn can_send(&self) -> bool {
        self.providers.iter().any(|p| match p.as_str() {
            "smtp" => self.smtp_url.is_some(),
            "http" => self.http_api_url.is_some() && self.http_api_key.is_some(),
            _ => false,
        })
    }

    pub fn sends(&self, kind: Kind) -> bool {
        kind.is_mandatory() || !self.disabled_actions.iter().any(|a| a == kind.as_str())
    }

    /// What the admin API shows: no password, no key.
    pub fn redacted(&self) -> Value {
        json!({
            "providers": self.providers,
            "from_address": self.from_address,
            "from_name": self.from_name,
            "smtp_url": self.smtp_url.as_deref().map(redact_password),
            "http_api_url": self.http_api_url,
            "has_http_api_key": self.http_api_key.is_some(),
            "disabled_actions": self.disabled_actions,
            "can_send": self.can_send(),
        })
    }
}

fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Checks a PUT body and returns the stored changes it makes, merged over `stored`.
pub fn validate_change(body: &Value, stored: &Value) -> Result<Value, FieldErrors> {
    let mut errors = FieldErrors::new();
    let Some(obj) = body.as_object() else {
        errors.add("body", "must be an object");
        return Err(errors);
    };
    let mut merged = stored.as_object().cloned().unwrap_or_default();
    for (key, value) in obj {
        let ok = match key.as_str() {
            "providers" => value.as_array().is_some_and(|a| {
                let names: Vec<Option<&str>> = a.iter().map(Value::as_str).collect();
                names == [Some("disable")]
                    || names.iter().all(|p| matches!(p, Some("smtp" | "http")))
            }),
            "from_address" => value.as_str().is_some_and(|s| Email::parse(s).is_ok()),
            "from_name" => value
                .as_str()
                .is_some_and(|s| s.len() <= 200 && !s.contains(['\r', '\n'])),
            "smtp_url" => {
                value.is_null()
                    || value.as_str().is_some_and(|s| {
                        url::Url::parse(s).is_ok_and(|u| {
                            matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some()
                        })
                    })
            }
            "http_api_url" => {
                value.is_null()
                    || value.as_str().is_some_and(|s| {
                        url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
                    })
            }
            "http_api_key" => value.is_null() || value.as_str().is_some_and(|s| !s.is_empty()),
            "disabled_actions" => value.as_array().is_some_and(|a| {
                a.iter().all(|k| {
                    k.as_str()
                        .and_then(Kind::parse)
                        .is_some_and(|k| !k.is_mandatory())
                })
            }),
            _ => {
                errors.add(key, "is not an email setting");
                continue;
            }
        };
        if ok {
            merged.insert(key.clone(), value.clone());
        } else {
            let message = match key.as_str() {
                "providers" => "must list smtp and http, or be [\"disable\"]",
                "from_address" => "must be an email address",
                "from_name" => "must be one line of at most 200 characters",
                "smtp_url" => "must be an smtp:// or smtps:// URL, or null",
                "http_api_url" => "must be an http(s) URL, or null",
                "http_api_key" => "must be a non-empty string, or null",
                _ => "must list notification kinds that are not mandatory",
            };
            errors.add(key, message);
        }
    }
    errors.finish(|| Value::Object(merged))
}

/// The stored members that hold secrets: sealed in the database, opened when read.
const SECRET_MEMBERS: [&str; 2] = ["smtp_url", "http_api_key"];

/// `stored` with its secret members sealed by the current key.
pub fn sealed(mut stored: Value, keys: &Keyring) -> Result<Value, Unsealable> {
    for member in SECRET_MEMBERS {
        if let Some(Value::String(v)) = stored.get(member)
            && let Some(fresh) = keys.resealed(v)?
        {
            stored[member] = Value::String(fresh);
        }
    }
    Ok(stored)
}

/// `stored` with its secret members opened.
pub fn opened(mut stored: Value, keys: &Keyring) -> Result<Value, Unsealable> {
    for member in SECRET_MEMBERS {
        if let Some(Value::String(v)) = stored.get(member) {
            stored[member] = Value::String(keys.open(v)?);
        }
    }
    Ok(stored)
}

/// Seals the stored settings' secrets under the current key; 1 when it wrote them, else 0.
pub async fn reseal(store: &dyn Store, keys: &Keyring, now: Timestamp) -> anyhow::Result<u64> {
    let Some(stored) = store.setting(KEY).await? else {
        return Ok(0);
    };
    let fresh = sealed(stored.clone(), keys)?;
    if fresh == stored {
        return Ok(0);
    }
    store.put_setting(KEY, &fresh, now).await?;
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_changes_override_and_secrets_stay_hidden() {
        let config = crate::config::Config::defaults().email;
        let base = EmailSettings::from_config(&config, Some("smtp://u:pw@127.0.0.1:25"));
        assert!(base.can_send());
        let stored = json!({"providers": ["http"], "http_api_url": "http://127.0.0.1:9/", "http_api_key": "k"});
        let s = base.clone().with_stored(&stored);
        assert_eq!(s.providers, vec!["http"]);
        let shown = s.redacted().to_string();
        assert!(!shown.contains("pw") && !shown.contains("\"k\""), "{shown}");
        assert!(shown.contains("redacted"));
        assert!(validate_change(&json!({"providers": ["fax"]}), &json!({})).is_err());
        assert!(validate_change(&json!({"providers": ["smtp", "disable"]}), &json!({})).is_err());
        let off = base
            .clone()
            .with_stored(&validate_change(&json!({"providers": ["disable"]}), &json!({})).unwrap());
        assert!(!off.can_send());
        assert!(validate_change(&json!({"disabled_actions": ["test_mail"]}), &json!({})).is_err());
        assert!(validate_change(&json!({"nope": 1}), &json!({})).is_err());
        let merged = validate_change(&json!({"smtp_url": null}), &stored).unwrap();
        assert_eq!(merged["providers"], json!(["http"]));
        assert!(merged["smtp_url"].is_null());
    }
}
