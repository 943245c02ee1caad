//! Passwords as argon2id PHC strings (the crate's defaults: 19 MiB, 2 passes, 1 lane). A check
//! reuses its thread's argon2 memory instead of allocating 19 MiB each time: the allocator kept
//! freed blocks per thread arena, so a flood of checks grew the process by hundreds of MiB.

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;

thread_local! {
    /// This thread's argon2 memory, grown to the largest check it has run, then reused.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

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
    let matched = matches(password, &parsed).unwrap_or(false);
    matched && stored.is_some()
}

/// Hashes `password` as `hash` says (algorithm, version, parameters, salt) and compares the
/// outputs in constant time; `None` when the stored hash cannot be used.
fn matches(password: &str, hash: &PasswordHash<'_>) -> Option<bool> {
    let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
    let version = match hash.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(hash).ok()?;
    let expected = hash.hash?;
    let mut salt = [0u8; 64];
    let salt = hash.salt?.decode_b64(&mut salt).ok()?;
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..])
            .ok()
    })?;
    Some(bool::from(subtle::ConstantTimeEq::ct_eq(
        out.as_slice(),
        expected.as_bytes(),
    )))
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
