//! `quell_packs::signed` against signatures made at test time by the real `minisign` tool
//! (Debian's `minisign` package): a good pack, a changed pack byte, a changed trusted comment,
//! another key, an expired signature, no `expires=`, no signature, garbage.
//!
//! Without `minisign` on the PATH these tests say so and pass, unless `QUELL_REQUIRE_MINISIGN=1`
//! (`scripts/test` sets it and installs the tool), where they fail.
#![allow(clippy::unwrap_used)]

use std::path::Path;

mod minisign;

use minisign::{key_pair, minisign_available, sign};
use quell_packs::signed::{PinnedKey, SignatureError, verify};

const PACK: &str = include_str!("../packs/commons-text.toml");
/// 2026-12-02T00:00:00Z: the tests' "now".
const NOW: i64 = 1_796_169_600;

fn key(public: &Path) -> PinnedKey {
    PinnedKey::parse(&std::fs::read_to_string(public).unwrap()).unwrap()
}

#[test]
fn a_pack_signed_with_the_pinned_key_and_unexpired_is_accepted() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (public, secret) = key_pair(dir.path(), "quell");
    let signature = sign(dir.path(), &secret, PACK, "quell-pack expires=2027-03-01T00:00:00Z");
    let pinned = key(&public);
    let verified = verify(std::slice::from_ref(&pinned), "commons-text.toml", PACK, Some(&signature), NOW).unwrap();
    assert_eq!(verified.pack.name.get_ref(), "commons-text");
    assert_eq!(verified.expires_at, quell_model::time::parse_rfc3339("2027-03-01T00:00:00Z").unwrap());
    assert_eq!(verified.key_id, pinned.id());
    // The base64 line alone pins the same key.
    let line = std::fs::read_to_string(&public).unwrap().lines().nth(1).unwrap().to_string();
    assert!(verify(&[PinnedKey::parse(&line).unwrap()], "p", PACK, Some(&signature), NOW).is_ok());
    // The key id is the one minisign printed in the .pub file's comment.
    assert!(std::fs::read_to_string(&public).unwrap().lines().next().unwrap().ends_with(pinned.id()));
}

#[test]
fn a_changed_pack_byte_or_trusted_comment_is_a_bad_signature() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (public, secret) = key_pair(dir.path(), "quell");
    let signature = sign(dir.path(), &secret, PACK, "quell-pack expires=2027-03-01T00:00:00Z");
    let pinned = key(&public);
    // One byte of the pack: a fixed version moved back.
    let tampered = PACK.replacen("1.10.0", "1.10.1", 1);
    assert_ne!(tampered, PACK);
    assert_eq!(
        verify(std::slice::from_ref(&pinned), "p", &tampered, Some(&signature), NOW).unwrap_err(),
        SignatureError::BadSignature
    );
    // The trusted comment: a later expiry written in by hand.
    let moved = signature.replace("expires=2027-03-01", "expires=2099-03-01");
    assert_ne!(moved, signature);
    assert_eq!(
        verify(std::slice::from_ref(&pinned), "p", PACK, Some(&moved), NOW).unwrap_err(),
        SignatureError::BadSignature
    );
    // Still good untouched.
    assert!(verify(std::slice::from_ref(&pinned), "p", PACK, Some(&signature), NOW).is_ok());
}

#[test]
fn another_key_is_named_with_both_key_ids() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (public, _) = key_pair(dir.path(), "pinned");
    let (other_public, other_secret) = key_pair(dir.path(), "other");
    let signature = sign(dir.path(), &other_secret, PACK, "quell-pack expires=2027-03-01T00:00:00Z");
    let pinned = key(&public);
    let error = verify(std::slice::from_ref(&pinned), "p", PACK, Some(&signature), NOW).unwrap_err();
    let other = key(&other_public);
    assert_eq!(error, SignatureError::WrongKey { signed_by: other.id().to_string(), pinned: pinned.id().to_string() });
    let message = error.to_string();
    assert!(message.contains(other.id()) && message.contains(pinned.id()), "{message}");
    // During a key rotation both keys are pinned: either signature is accepted.
    assert!(verify(&[pinned.clone(), other.clone()], "p", PACK, Some(&signature), NOW).is_ok());
}

#[test]
fn an_expired_signature_says_when_it_expired() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (public, secret) = key_pair(dir.path(), "quell");
    let signature = sign(dir.path(), &secret, PACK, "quell-pack expires=2026-12-01T12:00:00Z");
    let error = verify(&[key(&public)], "p", PACK, Some(&signature), NOW).unwrap_err();
    assert_eq!(error, SignatureError::Expired { expires_at: "2026-12-01T12:00:00Z".into() });
    assert!(error.to_string().contains("expired") && error.to_string().contains("2026-12-01T12:00:00Z"));
    // The same signature was good the day before.
    assert!(verify(&[key(&public)], "p", PACK, Some(&signature), NOW - 86_400).is_ok());
}

#[test]
fn a_signature_without_expiry_is_refused() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (public, secret) = key_pair(dir.path(), "quell");
    let signature = sign(dir.path(), &secret, PACK, "timestamp:1796169600 file:pack.toml");
    let error = verify(&[key(&public)], "p", PACK, Some(&signature), NOW).unwrap_err();
    assert!(matches!(error, SignatureError::NoExpiry { .. }), "{error}");
    let signature = sign(dir.path(), &secret, PACK, "quell-pack expires=next-year");
    let error = verify(&[key(&public)], "p", PACK, Some(&signature), NOW).unwrap_err();
    assert_eq!(error, SignatureError::BadExpiry { value: "next-year".into() });
}

#[test]
fn unsigned_and_garbage_signatures_are_refused() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (public, secret) = key_pair(dir.path(), "quell");
    let pinned = key(&public);
    assert_eq!(verify(std::slice::from_ref(&pinned), "p", PACK, None, NOW).unwrap_err(), SignatureError::Unsigned);
    assert_eq!(
        verify(std::slice::from_ref(&pinned), "p", PACK, Some("  \n"), NOW).unwrap_err(),
        SignatureError::Unsigned
    );
    for garbage in ["hello", "untrusted comment: x\nnot base64 at all\ntrusted comment: y\nzzz\n", &"A".repeat(10_000)]
    {
        let error = verify(std::slice::from_ref(&pinned), "p", PACK, Some(garbage), NOW).unwrap_err();
        assert!(matches!(error, SignatureError::Malformed(_)), "{garbage:.40}: {error}");
    }
    // A real signature cut short.
    let signature = sign(dir.path(), &secret, PACK, "quell-pack expires=2027-03-01T00:00:00Z");
    let cut: String = signature.lines().take(3).collect::<Vec<_>>().join("\n");
    assert!(matches!(
        verify(std::slice::from_ref(&pinned), "p", PACK, Some(&cut), NOW).unwrap_err(),
        SignatureError::Malformed(_)
    ));
}

#[test]
fn a_signed_pack_that_does_not_parse_is_refused_with_its_line() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (public, secret) = key_pair(dir.path(), "quell");
    let broken = PACK.replacen("schema = 1", "schema = 2", 1);
    let signature = sign(dir.path(), &secret, &broken, "quell-pack expires=2027-03-01T00:00:00Z");
    let error = verify(&[key(&public)], "broken.toml", &broken, Some(&signature), NOW).unwrap_err();
    assert!(matches!(&error, SignatureError::Pack(lines) if lines[0].starts_with("broken.toml:")), "{error}");
}
