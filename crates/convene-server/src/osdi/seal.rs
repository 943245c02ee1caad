//! Sealing of API tokens at rest (ChaCha20-Poly1305): the database holds only
//! `hex(nonce || ciphertext)`, and reading a token back needs the server's key.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

pub struct Sealer {
    key: LessSafeKey,
}

/// The stored form could not be opened: a different key, or a damaged value.
#[derive(Debug, thiserror::Error)]
#[error("the sealed token cannot be opened with this server's key")]
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_do_not_show_or_open_with_another_key() {
        let sealer = Sealer::new(b"key one");
        let sealed = sealer.seal("test-token-0000");
        assert!(!sealed.contains("test-token"));
        assert_ne!(
            sealed,
            sealer.seal("test-token-0000"),
            "a fresh nonce each time"
        );
        assert_eq!(sealer.open(&sealed).unwrap(), "test-token-0000");
        assert!(Sealer::new(b"key two").open(&sealed).is_err());
        assert!(sealer.open("zz").is_err() && sealer.open("").is_err());
    }
}
