//! One-click unsubscribe (RFC 8058): a link that names a user and a kind of mail, signed so it
//! works without a session and cannot be forged for someone else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convene_core::UserId;
use convene_core::notification::Kind;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The settings key of the generated signing key.
pub const KEY: &str = "unsubscribe_key";

pub struct UnsubscribeKey(Vec<u8>);

impl UnsubscribeKey {
    pub fn new(key: &[u8]) -> Self {
        Self(key.to_vec())
    }

    /// A fresh random key, hex-encoded, for storing.
    pub fn generate() -> String {
        convene_core::token::random_hex(32)
    }

    fn mac(&self, payload: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes()[..16].to_vec()
    }

    pub fn token(&self, user: &UserId, kind: Kind) -> String {
        let payload = format!("{}:{}", user.as_str(), kind.as_str());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(self.mac(&payload))
        )
    }

    /// The user and kind a token names, if we signed it.
    pub fn verify(&self, token: &str) -> Option<(UserId, Kind)> {
        let (payload, sig) = token.split_once('.')?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let expected = self.mac(&payload);
        if !convene_core::token::bytes_equal(&sig, &expected) {
            return None;
        }
        let (user, kind) = payload.split_once(':')?;
        Some((UserId::parse(user)?, Kind::parse(kind)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_their_key_and_payload() {
        let key = UnsubscribeKey::new(b"k1");
        let user = UserId::new();
        let token = key.token(&user, Kind::EventChanged);
        assert_eq!(key.verify(&token), Some((user.clone(), Kind::EventChanged)));
        assert_eq!(UnsubscribeKey::new(b"k2").verify(&token), None);
        let (_, sig) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{sig}",
            URL_SAFE_NO_PAD.encode(format!("{}:event_changed", UserId::new()))
        );
        assert_eq!(key.verify(&forged), None);
        assert_eq!(key.verify("garbage"), None);
    }
}
