//! Standard Webhooks signatures over `id.timestamp.body`: HMAC-SHA256 with a `whsec_` secret
//! (`v1`), or ed25519 with a `whsk_` key whose public half is published as `whpk_` (`v1a`).

mod ed25519;

pub use ed25519::{Ed25519Key, verifies_v1a};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;

const PREFIX: &str = "whsec_";
const GENERATED_LEN: usize = 24;
const MIN_LEN: usize = 24;
const MAX_LEN: usize = 64;

/// An endpoint's signing secret: 24–64 random bytes, written `whsec_<base64>`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("must start with whsec_")]
    Prefix,
    #[error("must be base64 after whsec_")]
    Base64,
    #[error("must decode to 24-64 bytes")]
    Length,
    #[error("must be whsk_ and the base64 of an ed25519 seed and its public key")]
    Ed25519,
}

impl WebhookSecret {
    pub fn generate() -> Self {
        Self(rand::random::<[u8; GENERATED_LEN]>().to_vec())
    }

    /// Accepts what receivers' libraries accept: padding optional.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.strip_prefix(PREFIX).ok_or(SecretError::Prefix)?;
        let bytes = STANDARD_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .map_err(|_| SecretError::Base64)?;
        if !(MIN_LEN..=MAX_LEN).contains(&bytes.len()) {
            return Err(SecretError::Length);
        }
        Ok(Self(bytes))
    }

    /// The text shown once to the endpoint's owner.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        format!(
            "v1,{}",
            STANDARD.encode(self.mac(message_id, timestamp, body))
        )
    }

    /// Whether `signature` (one `v1,…` entry) is this secret's, compared in constant time.
    pub fn verifies(&self, message_id: &str, timestamp: i64, body: &[u8], signature: &str) -> bool {
        let Some(given) = signature
            .strip_prefix("v1,")
            .and_then(|b| STANDARD.decode(b).ok())
        else {
            return false;
        };
        let expected = self.mac(message_id, timestamp, body);
        given.len() == expected.len() && bool::from(given.ct_eq(&expected))
    }

    fn mac(&self, message_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(&signed_content(message_id, timestamp, body));
        mac.finalize().into_bytes().to_vec()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

/// The two schemes an endpoint may sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// HMAC-SHA256, a secret both sides hold.
    V1,
    /// ed25519: the receiver holds only the public key.
    V1a,
}

impl Scheme {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "v1" => Some(Scheme::V1),
            "v1a" => Some(Scheme::V1a),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::V1 => "v1",
            Scheme::V1a => "v1a",
        }
    }
}

/// What an endpoint signs with, read from its stored text by prefix (`whsec_` or `whsk_`), so a
/// rotation or a change of scheme is one value replacing another.
#[derive(Clone, PartialEq, Eq)]
pub enum SigningKey {
    Hmac(WebhookSecret),
    Ed25519(Ed25519Key),
}

impl SigningKey {
    pub fn generate(scheme: Scheme) -> Self {
        match scheme {
            Scheme::V1 => SigningKey::Hmac(WebhookSecret::generate()),
            Scheme::V1a => SigningKey::Ed25519(Ed25519Key::generate()),
        }
    }

    pub fn parse(text: &str) -> Result<Self, SecretError> {
        if text.starts_with(ed25519::SECRET_PREFIX) {
            Ed25519Key::parse(text).map(SigningKey::Ed25519)
        } else {
            WebhookSecret::parse(text).map(SigningKey::Hmac)
        }
    }

    pub fn scheme(&self) -> Scheme {
        match self {
            SigningKey::Hmac(_) => Scheme::V1,
            SigningKey::Ed25519(_) => Scheme::V1a,
        }
    }

    /// The stored text (sealed at rest like every secret).
    pub fn expose(&self) -> String {
        match self {
            SigningKey::Hmac(secret) => secret.expose(),
            SigningKey::Ed25519(key) => key.expose(),
        }
    }

    /// `whpk_…`, what a `v1a` receiver verifies with; `None` for an HMAC secret.
    pub fn public_key(&self) -> Option<String> {
        match self {
            SigningKey::Hmac(_) => None,
            SigningKey::Ed25519(key) => Some(key.public_key()),
        }
    }

    /// `v1,<base64>` or `v1a,<base64>`.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        match self {
            SigningKey::Hmac(secret) => secret.sign(message_id, timestamp, body),
            SigningKey::Ed25519(key) => key.sign(message_id, timestamp, body),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, [redacted])", self.scheme().as_str())
    }
}

/// The signed content of the spec: `id.timestamp.body`.
fn signed_content(message_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(message_id.len() + body.len() + 24);
    content.extend_from_slice(message_id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.to_string().as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// The `webhook-signature` header: one signature per valid key, space-separated, so a
/// receiver still holding the previous key verifies during a rotation's grace period.
pub fn signature_header<'a>(
    keys: impl IntoIterator<Item = &'a SigningKey>,
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    keys.into_iter()
        .map(|k| k.sign(message_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The test vector of the Standard Webhooks reference libraries.
    #[test]
    fn matches_the_reference_vector() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let sig = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(secret.verifies("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body, &sig));
        assert!(!secret.verifies("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_331, body, &sig));
    }

    #[test]
    fn generated_secrets_are_24_bytes_and_round_trip() {
        let secret = WebhookSecret::generate();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&text[6..]).unwrap().len(), 24);
        assert_eq!(WebhookSecret::parse(&text).unwrap(), secret);
        assert_ne!(WebhookSecret::generate(), secret);
        assert!(!format!("{secret:?}").contains(&text[6..]));
    }

    #[test]
    fn bad_secrets_are_named() {
        assert_eq!(
            WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SecretError::Prefix)
        );
        assert_eq!(WebhookSecret::parse("whsec_!!!"), Err(SecretError::Base64));
        assert_eq!(
            WebhookSecret::parse("whsec_c2hvcnQ="),
            Err(SecretError::Length)
        );
    }

    #[test]
    fn rotation_sends_both_signatures() {
        let (old, new) = (WebhookSecret::generate(), WebhookSecret::generate());
        let keys = [SigningKey::Hmac(new.clone()), SigningKey::Hmac(old.clone())];
        let header = signature_header(&keys, "msg_1", 1, b"{}");
        let parts: Vec<_> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(new.verifies("msg_1", 1, b"{}", parts[0]));
        assert!(old.verifies("msg_1", 1, b"{}", parts[1]));
    }

    #[test]
    fn keys_are_read_back_as_the_scheme_they_were_made_for() {
        for scheme in [Scheme::V1, Scheme::V1a] {
            let key = SigningKey::generate(scheme);
            let again = SigningKey::parse(&key.expose()).unwrap();
            assert_eq!(again, key);
            assert_eq!(again.scheme(), scheme);
            assert_eq!(key.public_key().is_some(), scheme == Scheme::V1a);
            assert!(
                key.sign("m", 1, b"x")
                    .starts_with(&format!("{},", scheme.as_str()))
            );
            assert!(!format!("{key:?}").contains(&key.expose()[6..]));
        }
        assert_eq!(SigningKey::parse("whsk_!!"), Err(SecretError::Ed25519));
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in ".*") {
            let _ = WebhookSecret::parse(&text);
        }

        #[test]
        fn a_signature_verifies_only_its_own_bytes(body in proptest::collection::vec(any::<u8>(), 0..256), flip in 0usize..256) {
            let secret = WebhookSecret::generate();
            let sig = secret.sign("msg_x", 1_700_000_000, &body);
            prop_assert!(secret.verifies("msg_x", 1_700_000_000, &body, &sig));
            if !body.is_empty() {
                let mut tampered = body.clone();
                let i = flip % body.len();
                tampered[i] ^= 1;
                prop_assert!(!secret.verifies("msg_x", 1_700_000_000, &tampered, &sig));
            }
        }
    }
}
