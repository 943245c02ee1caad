//! `v1a`: ed25519 signatures. Keys are written as Svix writes them: `whsk_` and the base64 of
//! the 32-byte seed followed by the 32-byte public key; the public key alone as `whpk_`.

use super::{SecretError, signed_content};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use std::fmt;
use std::sync::Arc;

pub(super) const SECRET_PREFIX: &str = "whsk_";
const PUBLIC_PREFIX: &str = "whpk_";

/// An ed25519 key pair: its seed and public key, and ring's pair made from them once, so
/// signing costs one scalar multiplication, not two.
#[derive(Clone)]
pub struct Ed25519Key {
    seed: [u8; 32],
    public: [u8; 32],
    pair: Arc<Ed25519KeyPair>,
}

impl PartialEq for Ed25519Key {
    fn eq(&self, other: &Self) -> bool {
        self.seed == other.seed && self.public == other.public
    }
}

impl Eq for Ed25519Key {}

impl Ed25519Key {
    pub fn generate() -> Self {
        Self::from_seed(rand::random())
    }

    fn from_seed(seed: [u8; 32]) -> Self {
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).expect("any 32 bytes are a seed");
        let public = pair.public_key().as_ref().try_into().expect("32 bytes");
        Self {
            seed,
            public,
            pair: Arc::new(pair),
        }
    }

    /// Refuses a key whose public half is not its seed's.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let bytes = text
            .strip_prefix(SECRET_PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() == 64)
            .ok_or(SecretError::Ed25519)?;
        let key = Self::from_seed(bytes[..32].try_into().expect("32 bytes"));
        if key.public[..] != bytes[32..] {
            return Err(SecretError::Ed25519);
        }
        Ok(key)
    }

    pub fn expose(&self) -> String {
        format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode([self.seed, self.public].concat())
        )
    }

    pub fn public_key(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", STANDARD.encode(self.public))
    }

    /// `v1a,<base64 ed25519 signature of "id.timestamp.body">`.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        let signature = self.pair.sign(&signed_content(message_id, timestamp, body));
        format!("v1a,{}", STANDARD.encode(signature.as_ref()))
    }
}

impl fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519Key({})", self.public_key())
    }
}

/// Whether one `v1a,…` entry is `public_key`'s (`whpk_…`) signature of the content: what a
/// receiver does, here for tests and for checking a key before it is published.
pub fn verifies_v1a(
    public_key: &str,
    message_id: &str,
    timestamp: i64,
    body: &[u8],
    signature: &str,
) -> bool {
    let decode = |text: Option<&str>| text.and_then(|b| STANDARD.decode(b).ok());
    let (Some(public), Some(signature)) = (
        decode(public_key.strip_prefix(PUBLIC_PREFIX)),
        decode(signature.strip_prefix("v1a,")),
    ) else {
        return false;
    };
    UnparsedPublicKey::new(&ED25519, public)
        .verify(&signed_content(message_id, timestamp, body), &signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032, section 7.1, test 1: the seed gives this public key, and the empty message
    /// this signature, so the ed25519 here is the standard one.
    #[test]
    fn matches_rfc_8032() {
        let hex = |s: &str| {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        let seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let key = Ed25519Key::from_seed(seed.try_into().unwrap());
        assert_eq!(
            key.public.to_vec(),
            hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
        assert_eq!(
            key.pair.sign(b"").as_ref().to_vec(),
            hex(concat!(
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155",
                "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
            ))
        );
    }

    #[test]
    fn signatures_verify_with_the_public_key_only_over_their_own_bytes() {
        let key = Ed25519Key::generate();
        let sig = key.sign("msg_1", 1_700_000_000, b"{\"a\":1}");
        let public = key.public_key();
        assert!(verifies_v1a(
            &public,
            "msg_1",
            1_700_000_000,
            b"{\"a\":1}",
            &sig
        ));
        assert!(!verifies_v1a(
            &public,
            "msg_1",
            1_700_000_001,
            b"{\"a\":1}",
            &sig
        ));
        assert!(!verifies_v1a(
            &public,
            "msg_1",
            1_700_000_000,
            b"{\"a\":2}",
            &sig
        ));
        let stranger = Ed25519Key::generate().public_key();
        assert!(!verifies_v1a(
            &stranger,
            "msg_1",
            1_700_000_000,
            b"{\"a\":1}",
            &sig
        ));
    }

    #[test]
    fn keys_round_trip_and_a_mismatched_public_half_is_refused() {
        let key = Ed25519Key::generate();
        assert_eq!(Ed25519Key::parse(&key.expose()), Ok(key.clone()));
        let other = Ed25519Key::generate();
        let forged = format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode([key.seed, other.public].concat())
        );
        assert_eq!(Ed25519Key::parse(&forged), Err(SecretError::Ed25519));
        assert_eq!(Ed25519Key::parse("whsk_AAAA"), Err(SecretError::Ed25519));
        assert!(!format!("{key:?}").contains(&key.expose()[5..]));
    }
}
