//! Standard Webhooks signatures: HMAC-SHA256 over `id.timestamp.body`, `whsec_` secrets.

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
        mac.update(message_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

/// The `webhook-signature` header: one signature per valid secret, space-separated, so a
/// receiver still holding the previous secret verifies during a rotation's grace period.
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a WebhookSecret>,
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .into_iter()
        .map(|s| s.sign(message_id, timestamp, body))
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
        let header = signature_header([&new, &old], "msg_1", 1, b"{}");
        let parts: Vec<_> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(new.verifies("msg_1", 1, b"{}", parts[0]));
        assert!(old.verifies("msg_1", 1, b"{}", parts[1]));
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
