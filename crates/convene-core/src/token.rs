//! API tokens: `cvn_` + 43 characters of URL-safe base64 (256 random bits).
//!
//! Only a SHA-256 digest is stored. The first 12 secret characters are a lookup key (not a
//! secret on their own); the digest is then compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

pub const PREFIX: &str = "cvn_";
const SECRET_CHARS: usize = 43;
const LOOKUP_CHARS: usize = 12;

/// A token secret as presented by a client. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

/// What is stored for a token: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenDigest {
    pub lookup: String,
    pub sha256: Vec<u8>,
}

impl TokenSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// `None` for anything that cannot be a token this server issued.
    pub fn parse(raw: &str) -> Option<Self> {
        let body = raw.strip_prefix(PREFIX)?;
        let shaped = body.len() == SECRET_CHARS
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        shaped.then(|| Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> TokenDigest {
        TokenDigest {
            lookup: self.0[PREFIX.len()..PREFIX.len() + LOOKUP_CHARS].to_owned(),
            sha256: sha256(self.0.as_bytes()),
        }
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(***)")
    }
}

impl TokenDigest {
    pub fn matches(&self, stored_sha256: &[u8]) -> bool {
        self.sha256.ct_eq(stored_sha256).into()
    }
}

pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// The stored form of a secret that travels in a URL or a cookie (a web session, an inbound
/// source's URL, a calendar feed): its SHA-256 in lower-case hex, looked up as it is.
pub fn sha256_hex(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Bytes in lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `bytes` random bytes in lower-case hex: names and ids nobody can guess.
pub fn random_hex(bytes: usize) -> String {
    let mut random = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut random);
    hex(&random)
}

/// Compares two secrets of any length without leaking where they differ (digests first, so
/// the length is not leaked either).
pub fn secrets_equal(a: &str, b: &str) -> bool {
    bytes_equal(a.as_bytes(), b.as_bytes())
}

/// Constant-time equality of byte strings of any lengths (their digests are compared).
pub fn bytes_equal(a: &[u8], b: &[u8]) -> bool {
    sha256(a).ct_eq(&sha256(b)).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_tokens_parse_and_match_their_digest() {
        let t = TokenSecret::generate();
        assert!(t.expose().starts_with("cvn_"));
        let parsed = TokenSecret::parse(t.expose()).unwrap();
        let d = parsed.digest();
        assert_eq!(d.lookup.len(), 12);
        assert!(d.matches(&t.digest().sha256));
        assert!(!d.matches(&TokenSecret::generate().digest().sha256));
        assert_eq!(format!("{t:?}"), "TokenSecret(***)");
    }

    #[test]
    fn foreign_strings_are_not_tokens() {
        assert!(TokenSecret::parse("nope").is_none());
        assert!(TokenSecret::parse("cvn_short").is_none());
        assert!(TokenSecret::parse(&format!("cvn_{}", "é".repeat(43))).is_none());
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abcd"));
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in ".*") {
            if let Some(t) = TokenSecret::parse(&raw) {
                let _ = t.digest();
            }
        }
    }
}
