//! Secrets at rest (webhook signing secrets, Dashboard link secrets, mail credentials, CRM API
//! tokens) are sealed with ChaCha20-Poly1305: the database holds `v1:hex(nonce || ciphertext)`,
//! and reading a secret back needs the server's key. A `Keyring` seals with its current key and
//! opens with the current or any previous one, so a key can be rotated without a flag day.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};

use crate::{StoreError, StoreResult};
use convene_core::token::hex;
use convene_core::webhook::Webhook;

/// The marker of a value sealed by a `Keyring`; a stored value without it is from before
/// secrets were sealed, and is sealed on the next `reseal`.
const SEALED: &str = "v1:";

/// Where a store keeps its keyring: set once at start-up, read for every secret.
#[derive(Clone)]
pub struct KeySlot(Arc<RwLock<Arc<Keyring>>>);

impl Default for KeySlot {
    fn default() -> Self {
        Self(Arc::new(RwLock::new(Arc::new(Keyring::ephemeral()))))
    }
}

impl std::fmt::Debug for KeySlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySlot([redacted])")
    }
}

impl KeySlot {
    pub fn set(&self, keys: Arc<Keyring>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }

    pub fn get(&self) -> Arc<Keyring> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl From<Unsealable> for StoreError {
    fn from(e: Unsealable) -> Self {
        StoreError::Other(Box::new(e))
    }
}

/// The current key, which seals, and earlier ones, which still open.
pub struct Keyring {
    current: Sealer,
    previous: Vec<Sealer>,
}

impl Keyring {
    pub fn new(current: Sealer, previous: Vec<Sealer>) -> Self {
        Self { current, previous }
    }

    /// A random key that lives as long as the process: for a store whose keys are not set yet.
    pub fn ephemeral() -> Self {
        Self::new(Sealer::new(Sealer::generate_secret().as_bytes()), vec![])
    }

    pub fn seal(&self, plain: &str) -> String {
        format!("{SEALED}{}", self.current.seal(plain))
    }

    /// The secret of a stored value: sealed by any of the keys, or stored before sealing began.
    pub fn open(&self, stored: &str) -> Result<String, Unsealable> {
        let Some(sealed) = stored.strip_prefix(SEALED) else {
            return Ok(stored.to_owned());
        };
        self.open_bare(sealed)
    }

    /// A value that must be sealed (a CRM token): with the marker, or bare from before it.
    pub fn open_sealed(&self, stored: &str) -> Result<String, Unsealable> {
        match stored.strip_prefix(SEALED) {
            Some(_) => self.open(stored),
            None => self.open_bare(stored),
        }
    }

    /// Opens `hex(nonce || ciphertext)` without the marker (CRM tokens sealed before the marker).
    pub fn open_bare(&self, sealed: &str) -> Result<String, Unsealable> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find_map(|key| key.open(sealed).ok())
            .ok_or(Unsealable)
    }

    /// Whether `stored` is sealed by the current key (else a `reseal` writes it again).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(SEALED)
            .is_some_and(|sealed| self.current.open(sealed).is_ok())
    }

    /// A webhook read back, its secrets opened.
    pub fn opened_webhook(&self, mut w: Webhook) -> StoreResult<Webhook> {
        w.secret = self.open(&w.secret)?;
        if let Some((previous, until)) = w.previous_secret.take() {
            w.previous_secret = Some((self.open(&previous)?, until));
        }
        Ok(w)
    }

    /// `stored`, sealed by the current key; `None` when it already is.
    pub fn resealed(&self, stored: &str) -> Result<Option<String>, Unsealable> {
        if self.is_current(stored) {
            return Ok(None);
        }
        Ok(Some(self.seal(&self.open(stored)?)))
    }
}

pub struct Sealer {
    key: LessSafeKey,
}

/// The stored form could not be opened: a different key, or a damaged value.
#[derive(Debug, thiserror::Error)]
#[error(
    "a sealed secret cannot be opened with this server's keys (set the key it was sealed with as [secrets] key or in previous_keys)"
)]
pub struct Unsealable;

const NONCE: usize = 12;

impl Sealer {
    /// Any secret string; it is stretched to the cipher's key by SHA-256.
    pub fn new(secret: &[u8]) -> Self {
        let digest = Sha256::digest(secret);
        let key = UnboundKey::new(&CHACHA20_POLY1305, &digest).expect("a 32-byte key");
        Self {
            key: LessSafeKey::new(key),
        }
    }

    pub fn generate_secret() -> String {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system random source works");
        hex(&bytes)
    }

    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; NONCE];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random source works");
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .expect("sealing a short token succeeds");
        let mut out = nonce.to_vec();
        out.extend(data);
        hex(&out)
    }

    pub fn open(&self, sealed: &str) -> Result<String, Unsealable> {
        let bytes = unhex(sealed).ok_or(Unsealable)?;
        if bytes.len() < NONCE {
            return Err(Unsealable);
        }
        let (nonce, rest) = bytes.split_at(NONCE);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unsealable)?;
        let mut data = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .map_err(|_| Unsealable)?;
        String::from_utf8(plain.to_vec()).map_err(|_| Unsealable)
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
