//! Passwords as argon2id PHC strings (the crate's defaults: 19 MiB, 2 passes, 1 lane).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Hashes a password; refuses ones too short to be worth having.
pub fn hash(password: &str) -> Result<String, String> {
    if password.chars().count() < 10 {
        return Err("a password needs at least 10 characters".into());
    }
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| format!("cannot make a salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash: {e}"))
}

/// Whether `password` matches `stored`. A user without a password is checked against a fixed
/// hash, so a missing account costs as much time as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$hsCUMFgNDGr2uP5Bj4p3jcfnCfAjVp1eFEnsyxq8Yzw";
    let Ok(parsed) = PasswordHash::new(stored.unwrap_or(DECOY)) else {
        return false;
    };
    let matched = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    matched && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, hash("correct horse battery").unwrap());
        assert!(verify("correct horse battery", Some(&a)));
        assert!(!verify("wrong horse battery", Some(&a)));
        assert!(!verify("anything", None));
        assert!(hash("short").is_err());
    }
}
