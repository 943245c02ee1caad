//! Sealed secrets: round trips, fresh nonces, other keys, rotation.

use convene_store::seal::*;

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

#[test]
fn a_keyring_opens_old_keys_and_plain_rows_and_reseals_with_the_current() {
    let old = Keyring::new(Sealer::new(b"old"), vec![]);
    let sealed_old = old.seal("whsec_abc");
    assert!(sealed_old.starts_with("v1:") && !sealed_old.contains("whsec"));
    let ring = Keyring::new(Sealer::new(b"new"), vec![Sealer::new(b"old")]);
    assert_eq!(ring.open(&sealed_old).unwrap(), "whsec_abc");
    assert_eq!(
        ring.open("whsec_plain").unwrap(),
        "whsec_plain",
        "rows from before sealing"
    );
    let again = ring
        .resealed(&sealed_old)
        .unwrap()
        .expect("old key: sealed again");
    assert!(ring.is_current(&again) && ring.resealed(&again).unwrap().is_none());
    assert!(ring.resealed("whsec_plain").unwrap().is_some());
    let stranger = Keyring::new(Sealer::new(b"other"), vec![]);
    assert!(stranger.open(&sealed_old).is_err());
}
