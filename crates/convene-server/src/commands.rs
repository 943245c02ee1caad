//! The one-shot CLI commands (`user create`, `token create`, `config check`, `openapi`).

use crate::api::tokens::TokenBody;
use crate::api::users::UserBody;
use crate::config::Config;
use crate::startup::migrate;
use anyhow::{Context, bail};
use convene_core::access::Principal;
use convene_core::scope::TokenLimits;
use convene_core::text::Email;
use convene_core::token::TokenSecret;
use convene_core::user::{NewToken, NewUser};
use convene_core::username::Username;
use convene_core::{Clock, SystemClock};
use convene_store::{Conflict, StoreError};
use serde_json::Value;

/// A consistent copy of the SQLite database at `path` (a new file), taken while a server may be
/// using it: `{"path", "bytes"}`. `None` on PostgreSQL, which `pg_dump` copies.
pub async fn backup(config: &Config, path: &std::path::Path) -> anyhow::Result<Option<Value>> {
    if !config.is_sqlite() {
        return Ok(None);
    }
    if path.exists() {
        bail!(
            "{} exists: a backup is written to a new file",
            path.display()
        );
    }
    let store = crate::startup::open_store(config).await?;
    let target = path.to_str().context("the backup path is not UTF-8")?;
    let copied = store.backup_into(target).await;
    store.close().await;
    copied.with_context(|| format!("copying the database to {}", path.display()))?;
    let path = std::fs::canonicalize(path)?;
    let bytes = std::fs::metadata(&path)?.len();
    Ok(Some(serde_json::json!({"path": path, "bytes": bytes})))
}

/// One retention pass now, as the workers run it; what it removed per kind.
pub async fn purge(config: &Config) -> anyhow::Result<Value> {
    let store = migrate(config).await?;
    let cutoffs = config.retention.cutoffs(SystemClock.now());
    let purged = crate::retention::purge_pass(store.as_ref(), &cutoffs).await;
    store.close().await;
    let p = purged?;
    Ok(serde_json::json!({
        "messages": p.messages,
        "deliveries": p.deliveries,
        "attempts": p.attempts,
        "mails": p.mails,
        "notifications": p.notifications,
        "logs": p.logs,
    }))
}

/// Seals every stored secret again under the current `[secrets] key` (the keys in
/// `previous_keys` open what they sealed); prints how many were written.
pub async fn secrets_rotate(config: &Config) -> anyhow::Result<Value> {
    let store = migrate(config).await?;
    let (_, resealed) = crate::secrets::install(config, store.as_ref(), SystemClock.now()).await?;
    store.close().await;
    let configured = config.secrets.key.is_some() || config.secrets.key_file.is_some();
    Ok(serde_json::json!({
        "resealed": resealed,
        "key": if configured { "configured" } else { "generated, kept in the database" },
    }))
}

/// Sets a user's web UI password (argon2id).
pub async fn set_password(config: &Config, username: &str, password: &str) -> anyhow::Result<()> {
    let name = Username::parse(username).map_err(|e| anyhow::anyhow!("username {e}"))?;
    let hash = crate::admin::password::hash(password).map_err(|e| anyhow::anyhow!(e))?;
    let store = migrate(config).await?;
    let user = store
        .user_by_name(&name)
        .await?
        .with_context(|| format!("there is no user {name}"))?;
    store.set_password(&user.id, &hash).await?;
    store.close().await;
    Ok(())
}

pub async fn create_user(
    config: &Config,
    username: &str,
    email: Option<&str>,
    admin: bool,
) -> anyhow::Result<Value> {
    let username = Username::parse(username).map_err(|e| anyhow::anyhow!("username {e}"))?;
    let email = email
        .map(Email::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("email {e}"))?;
    let store = migrate(config).await?;
    let new = NewUser {
        username,
        email,
        display_name: None,
        locale: None,
        timezone: None,
        is_admin: admin,
    };
    let user = match store.create_user(new, SystemClock.now()).await {
        Err(StoreError::Conflict(Conflict::Username)) => bail!("that username is taken"),
        other => other.context("creating the user")?,
    };
    store.close().await;
    Ok(serde_json::to_value(UserBody::new(
        user,
        &Principal::Bootstrap,
    ))?)
}

pub async fn create_token(
    config: &Config,
    username: &str,
    name: Option<&str>,
) -> anyhow::Result<Value> {
    let username = Username::parse(username).map_err(|e| anyhow::anyhow!("username {e}"))?;
    let store = migrate(config).await?;
    let user = store
        .user_by_name(&username)
        .await?
        .with_context(|| format!("no user named {username}"))?;
    let secret = TokenSecret::generate();
    let digest = secret.digest();
    let new = NewToken {
        user_id: user.id,
        name: name.unwrap_or_default().to_owned(),
        lookup: digest.lookup,
        sha256: digest.sha256,
        expires_at: None,
        limits: TokenLimits::default(),
    };
    let token = store
        .create_token(new, SystemClock.now())
        .await
        .context("creating the token")?;
    store.close().await;
    Ok(serde_json::to_value(TokenBody::new(token, Some(&secret)))?)
}

/// The effective configuration, secrets redacted.
pub fn config_check(config: &Config) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(&serde_json::to_value(
        config,
    )?)?)
}

pub fn openapi() -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(&crate::app::openapi())?)
}

/// The provider's rooms of a group as a table, one room per line.
pub async fn conferencing_rooms(config: &Config, group: &str) -> anyhow::Result<String> {
    let group = convene_core::conference::GroupName::parse(group)
        .map_err(|m| anyhow::anyhow!("group: {m}"))?;
    let providers = crate::conferencing::providers(config)?;
    let rooms = crate::api::slides::rooms(&**providers.default(), &group)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = format!(
        "{:<38} {:>8} {:<20} {:>8}  {}\n",
        "PUBLIC ID", "ROOM", "START (UTC)", "MINUTES", "URL"
    );
    for r in &rooms {
        out.push_str(&format!(
            "{:<38} {:>8} {:<20} {:>8}  {}\n",
            r.public_id, r.room_id, r.start_time, r.duration_minutes, r.url
        ));
    }
    out.push_str(&format!("{} room(s) of {}\n", rooms.len(), group.as_str()));
    Ok(out)
}
