//! The keys that seal stored secrets, from the one `[secrets]` configuration, and the pass that
//! seals again whatever the current key did not seal (rows from before sealing, rows sealed
//! under a previous key): run at every start and by `convene secrets rotate`.

use crate::config::Config;
use anyhow::Context;
use convene_core::Timestamp;
use convene_store::Store;
use convene_store::seal::{Keyring, Sealer};
use serde_json::Value;
use std::sync::Arc;

/// The setting that holds the generated key when none is configured.
const GENERATED_KEY: &str = "secrets_key";
/// Where the CRM sync kept its own generated key before there was one key for all.
const LEGACY_OSDI_KEY: &str = "osdi_secret_key";

/// The configured key (or the one generated and kept in the database, with a warning), with
/// every earlier key still able to open: configured previous keys, the generated one once a key
/// is configured, and the CRM sync's former key.
async fn keyring(config: &Config, store: &dyn Store, now: Timestamp) -> anyhow::Result<Keyring> {
    let configured = configured_key(config)?;
    let stored = store
        .setting(GENERATED_KEY)
        .await
        .context("reading the secrets key")?;
    let mut previous: Vec<String> = config
        .secrets
        .previous_keys
        .iter()
        .map(|k| k.expose().to_owned())
        .collect();
    let current = match configured {
        Some(key) => {
            previous.extend(stored.as_ref().and_then(Value::as_str).map(str::to_owned));
            key
        }
        None => {
            tracing::warn!(
                "no [secrets] key is configured (CONVENE_SECRET_KEY): stored secrets are sealed with a key kept in the database, so a copy of the database holds them too"
            );
            let fresh = Value::from(Sealer::generate_secret());
            let kept = store
                .setting_or_insert(GENERATED_KEY, &fresh, now)
                .await
                .context("keeping the generated secrets key")?;
            kept.as_str()
                .context("the stored secrets key is not a string")?
                .to_owned()
        }
    };
    if let Some(osdi) = config.osdi.secret_key.as_ref() {
        previous.push(osdi.expose().to_owned());
    }
    let legacy = store
        .setting(LEGACY_OSDI_KEY)
        .await
        .context("reading the former CRM key")?;
    previous.extend(legacy.as_ref().and_then(Value::as_str).map(str::to_owned));
    previous.retain(|k| !k.is_empty() && *k != current);
    Ok(Keyring::new(
        Sealer::new(current.as_bytes()),
        previous.iter().map(|k| Sealer::new(k.as_bytes())).collect(),
    ))
}

fn configured_key(config: &Config) -> anyhow::Result<Option<String>> {
    if let Some(key) = config
        .secrets
        .key
        .as_ref()
        .filter(|k| !k.expose().is_empty())
    {
        return Ok(Some(key.expose().to_owned()));
    }
    let Some(path) = &config.secrets.key_file else {
        return Ok(None);
    };
    let key = std::fs::read_to_string(path)
        .with_context(|| format!("reading [secrets] key_file {}", path.display()))?;
    let key = key.trim();
    anyhow::ensure!(
        !key.is_empty(),
        "[secrets] key_file {} is empty",
        path.display()
    );
    Ok(Some(key.to_owned()))
}

/// Gives `store` the keys from `config` and seals again what they do not seal yet; the keys,
/// and how many secrets were written.
pub async fn install(
    config: &Config,
    store: &dyn Store,
    now: Timestamp,
) -> anyhow::Result<(Arc<Keyring>, u64)> {
    let keys = Arc::new(keyring(config, store, now).await?);
    store.use_keys(keys.clone());
    let resealed = reseal(store, &keys, now).await?;
    Ok((keys, resealed))
}

/// Seals again, under the current key, every stored secret it does not seal yet; returns how
/// many were written.
async fn reseal(store: &dyn Store, keys: &Keyring, now: Timestamp) -> anyhow::Result<u64> {
    let mut written = store
        .reseal_secrets()
        .await
        .context("sealing stored secrets")?;
    for profile in store
        .list_profiles()
        .await
        .context("reading CRM profiles")?
    {
        if keys.is_current(&profile.token_sealed) {
            continue;
        }
        let token = keys
            .open_sealed(&profile.token_sealed)
            .with_context(|| format!("opening the API token of CRM profile {}", profile.name))?;
        let resealed = convene_store::osdi::NewProfile {
            name: profile.name.clone(),
            entry_point: profile.entry_point.clone(),
            token_sealed: keys.seal(&token),
            settings: profile.settings.clone(),
        };
        store
            .update_profile(&profile.id, &resealed, now)
            .await
            .context("sealing a CRM profile's token")?;
        written += 1;
    }
    written += crate::notifications::mail::settings::reseal(store, keys, now).await?;
    Ok(written)
}
