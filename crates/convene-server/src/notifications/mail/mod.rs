//! Mail: what is sent to whom (`Mailer::compose`), the settings in force, one-click
//! unsubscribe, and the job that sends a queued mail.

pub mod send;
pub mod settings;
pub mod unsubscribe;

use super::templates::{Rendered, Templates};
use crate::config::Config;
use convene_core::mail::{MailStatus, NewMail};
use convene_core::notification::Kind;
use convene_core::user::User;
use convene_delivery::target::TargetPolicy;
use convene_mail::{HttpApi, MailProvider, Smtp};
use convene_store::seal::Keyring;
use convene_store::{Store, StoreResult};
use settings::EmailSettings;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use unsubscribe::UnsubscribeKey;

/// Everything that turns a rendered message into mail: templates, settings, the signing key
/// of unsubscribe links, and the providers built from the settings in force.
pub struct Mailer {
    pub templates: Templates,
    pub unsubscribe: UnsubscribeKey,
    /// When digests go out.
    pub digest_times: crate::notifications::digest::DigestTimes,
    public_url: String,
    config: crate::config::EmailConfig,
    smtp_url: Option<String>,
    timeout: Duration,
    /// Where providers may connect: the outbound target policy.
    policy: TargetPolicy,
    /// Seals and opens the stored SMTP URL and mail API key.
    keys: Arc<Keyring>,
    /// Built once per distinct settings (an SMTP transport keeps a connection pool).
    providers: Mutex<Option<Built>>,
}

/// Providers and the settings they were built from.
type Built = (EmailSettings, Vec<Arc<dyn MailProvider>>);

impl Mailer {
    pub fn new(config: &Config, unsubscribe: UnsubscribeKey, keys: Arc<Keyring>) -> Self {
        let public_url = config.public_url();
        Self {
            templates: Templates::new(&config.email.default_locale),
            unsubscribe,
            digest_times: crate::notifications::digest::DigestTimes::new(&config.digests),
            public_url,
            config: config.email.clone(),
            smtp_url: config.smtp_url.as_ref().map(|s| s.expose().to_owned()),
            timeout: Duration::from_secs(config.email.send_timeout_s),
            policy: crate::delivery::target_policy(config),
            keys,
            providers: Mutex::new(None),
        }
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The configuration with the admin's stored changes on top.
    pub async fn settings(&self, store: &dyn Store) -> StoreResult<EmailSettings> {
        let base = EmailSettings::from_config(&self.config, self.smtp_url.as_deref());
        Ok(match store.setting(settings::KEY).await? {
            Some(stored) => base.with_stored(&settings::opened(stored, &self.keys)?),
            None => base,
        })
    }

    /// The stored settings' secrets sealed, as they are to be written.
    pub fn sealed(&self, stored: serde_json::Value) -> StoreResult<serde_json::Value> {
        Ok(settings::sealed(stored, &self.keys)?)
    }

    /// The providers the settings name, in order, skipping those without what they need.
    pub fn providers(&self, settings: &EmailSettings) -> Vec<Arc<dyn MailProvider>> {
        let mut cache = self.providers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((built_for, providers)) = cache.as_ref()
            && built_for == settings
        {
            return providers.clone();
        }
        let mut providers: Vec<Arc<dyn MailProvider>> = Vec::new();
        for name in &settings.providers {
            let built: Result<Arc<dyn MailProvider>, String> = match name.as_str() {
                "smtp" => match &settings.smtp_url {
                    Some(url) => Smtp::from_url(url, self.timeout, self.policy.clone())
                        .map(|p| Arc::new(p) as _),
                    None => continue,
                },
                "http" => match (&settings.http_api_url, &settings.http_api_key) {
                    (Some(url), Some(key)) => {
                        HttpApi::new(url, key, self.timeout, self.policy.clone())
                            .map(|p| Arc::new(p) as _)
                    }
                    _ => continue,
                },
                _ => continue,
            };
            match built {
                Ok(p) => providers.push(p),
                Err(e) => tracing::warn!(provider = %name, error = %e, "mail provider not usable"),
            }
        }
        *cache = Some((settings.clone(), providers.clone()));
        providers
    }

    /// The mail of a rendered message to an address. Suppressed addresses and a mail service
    /// that cannot send still get a logged row, never a send. Non-transactional mail to a user
    /// carries one-click unsubscribe headers.
    pub fn compose(
        &self,
        to: Recipient<'_>,
        kind: Kind,
        rendered: &Rendered,
        dedupe_key: String,
        settings: &EmailSettings,
        suppressed: bool,
    ) -> Option<NewMail> {
        if !settings.sends(kind) {
            return None;
        }
        let locale = self
            .templates
            .locale(to.user.and_then(|u| u.locale.as_ref()).map(|l| l.as_str()));
        let unsubscribe_url = to.user.filter(|_| !kind.is_transactional()).map(|user| {
            format!(
                "{}/unsubscribe/{}",
                self.public_url,
                self.unsubscribe.token(&user.id, kind)
            )
        });
        let body = match self
            .templates
            .mail(locale, to.name, rendered, unsubscribe_url.as_deref())
        {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "mail layout failed to render");
                return None;
            }
        };
        let mut headers = vec![("Auto-Submitted".to_owned(), "auto-generated".to_owned())];
        if let Some(url) = &unsubscribe_url {
            headers.push(("List-Unsubscribe".to_owned(), format!("<{url}>")));
            headers.push((
                "List-Unsubscribe-Post".to_owned(),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
        }
        let status = if suppressed {
            MailStatus::Suppressed
        } else if !settings.can_send() {
            MailStatus::Disabled
        } else {
            MailStatus::Queued
        };
        Some(NewMail {
            recipient: to.address.to_owned(),
            user: to.user.map(|u| u.id.clone()),
            kind,
            subject: rendered.title.clone(),
            text: body.text,
            html: body.html,
            headers,
            dedupe_key,
            status,
            calendar: None,
            event: None,
        })
    }
}

/// Who a mail goes to: an address, the name to greet, and the user behind it if any.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    pub address: &'a str,
    pub name: &'a str,
    pub user: Option<&'a User>,
}

impl<'a> Recipient<'a> {
    /// A user with an address, greeted by their display name or username.
    pub fn user(user: &'a User) -> Option<Self> {
        Some(Self {
            address: user.email.as_ref()?.as_str(),
            name: user
                .display_name
                .as_ref()
                .map_or(user.username.as_str(), |d| d.as_str()),
            user: Some(user),
        })
    }
}
