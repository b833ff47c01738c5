//! OpenPGP: for the CSAF provider (CSAF 2.0 requirements 19 and 20) the signing key, detached
//! signatures over served documents and the public keys a provider publishes; for confidential
//! e-mail the check of a user's registered public key and encryption to it.
//!
//! The implementation is rPGP (the `pgp` crate, 0.21): maintained (releases through 2025, used
//! by Delta Chat, `rpm` and `debian-packaging`), RFC 9580 and pure Rust on RustCrypto, so it builds
//! without a system crypto library. sequoia-openpgp, the other maintained implementation, needs a
//! crypto backend (nettle or OpenSSL) on every build host and in the packages.
//!
//! Invariants:
//! - The secret key lives in a file outside the database (`quell serve --csaf-signing-key FILE`,
//!   an ASCII-armored secret key; its passphrase, if any, from `QUELL_CSAF_SIGNING_PASSPHRASE`).
//!   It is never written anywhere, and its `Debug` shows only the fingerprint.
//! - The key is checked at start: it parses, it can sign (a signing-capable subkey, else the
//!   primary key), and the passphrase opens it — a server never starts with a key it cannot use.
//! - Key rotation: the provider signs with one key; the public keys of earlier signing keys
//!   (`--csaf-previous-public-key FILE`, repeatable) stay published and listed, so signatures
//!   that mirrors and aggregators fetched before the rotation stay verifiable.

use std::fmt;

use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, SignedPublicKey, SignedSecretKey, SignedSecretSubKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::{KeyDetails, Password};

/// Largest armored key file read (a key with many user ids and subkeys is a few hundred KB).
pub const MAX_KEY_FILE_BYTES: usize = 1024 * 1024;
/// Largest `PUT /api/v1/me/openpgp-key` body: a key of [`MAX_KEY_FILE_BYTES`] as a JSON string
/// (line breaks escaped).
pub const MAX_KEY_BODY_BYTES: usize = 2 * MAX_KEY_FILE_BYTES;

/// A public key as a provider publishes it: upper-case hex fingerprint and the armored key.
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub fingerprint: String,
    pub armored: String,
}

impl PublicKey {
    /// Reads an ASCII-armored public key (or takes the public part of a secret key).
    pub fn from_armored(text: &str) -> Result<PublicKey, String> {
        check_size(text)?;
        let key = match SignedPublicKey::from_string(text) {
            Ok((key, _)) => key,
            Err(public_error) => match SignedSecretKey::from_string(text) {
                Ok((secret, _)) => secret.to_public_key(),
                Err(_) => return Err(format!("not an ASCII-armored OpenPGP public key: {public_error}")),
            },
        };
        key.verify_bindings().map_err(|e| format!("the key's self-signatures do not verify: {e}"))?;
        public_of(&key)
    }
}

fn public_of(key: &SignedPublicKey) -> Result<PublicKey, String> {
    let armored =
        key.to_armored_string(ArmorOptions::default()).map_err(|e| format!("cannot armor the public key: {e}"))?;
    Ok(PublicKey { fingerprint: format!("{:X}", key.fingerprint()), armored })
}

fn check_size(text: &str) -> Result<(), String> {
    if text.len() > MAX_KEY_FILE_BYTES {
        return Err(t!("key-file-too-large", max = crate::refusals::limit(MAX_KEY_FILE_BYTES)));
    }
    Ok(())
}

/// The provider's signing key and the public keys it publishes.
pub struct CsafKeys {
    secret: SignedSecretKey,
    /// Index of the signing subkey in `secret.secret_subkeys`; `None`: the primary key signs.
    subkey: Option<usize>,
    passphrase: String,
    /// The current key's public part (fingerprint of the primary key, as OpenPGP tools show it).
    pub current: PublicKey,
    /// Public keys of earlier signing keys (key rotation), still published.
    pub previous: Vec<PublicKey>,
}

impl fmt::Debug for CsafKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsafKeys")
            .field("current", &self.current.fingerprint)
            .field("previous", &self.previous.iter().map(|k| &k.fingerprint).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl CsafKeys {
    /// The signing key from its armored text, with its passphrase (empty: none) and the public
    /// keys of earlier signing keys (armored). Checks that it signs.
    pub fn new(secret_armored: &str, passphrase: &str, previous: &[String]) -> Result<CsafKeys, String> {
        check_size(secret_armored)?;
        let (secret, _) = SignedSecretKey::from_string(secret_armored)
            .map_err(|e| format!("not an ASCII-armored OpenPGP secret key: {e}"))?;
        secret.verify_bindings().map_err(|e| format!("the key's self-signatures do not verify: {e}"))?;
        let subkey = secret.secret_subkeys.iter().position(signs);
        let details = &secret.details;
        let primary_signs = details.direct_signatures.iter().any(|s| s.key_flags().sign())
            || details.users.iter().any(|u| u.signatures.iter().any(|s| s.key_flags().sign()));
        if subkey.is_none() && !primary_signs {
            return Err("the key has no signing-capable key (primary or subkey with the sign flag)".into());
        }
        let current = public_of(&secret.to_public_key())?;
        let previous = previous.iter().map(|p| PublicKey::from_armored(p)).collect::<Result<Vec<_>, _>>()?;
        let keys = CsafKeys { secret, subkey, passphrase: passphrase.to_string(), current, previous };
        keys.sign(b"quell: checking the CSAF signing key")
            .map_err(|e| format!("cannot sign with the key (wrong or missing passphrase?): {e}"))?;
        Ok(keys)
    }

    /// A detached, ASCII-armored signature over `data` (SHA-512).
    pub fn sign(&self, data: &[u8]) -> Result<String, String> {
        let rng = rand::thread_rng();
        let password = Password::from(self.passphrase.as_str());
        let signature = match self.subkey.and_then(|i| self.secret.secret_subkeys.get(i)) {
            Some(sub) => DetachedSignature::sign_binary_data(rng, &sub.key, &password, HashAlgorithm::Sha512, data),
            None => DetachedSignature::sign_binary_data(
                rng,
                &self.secret.primary_key,
                &password,
                HashAlgorithm::Sha512,
                data,
            ),
        }
        .map_err(|e| e.to_string())?;
        signature.to_armored_string(ArmorOptions::default()).map_err(|e| e.to_string())
    }

    /// Every published public key, current first.
    pub fn published(&self) -> impl Iterator<Item = &PublicKey> {
        std::iter::once(&self.current).chain(self.previous.iter())
    }
}

/// A subkey whose newest binding signature allows signing.
fn signs(sub: &SignedSecretSubKey) -> bool {
    sub.signatures.last().is_some_and(|s| s.key_flags().sign())
}

/// A recipient's public key for encrypted e-mail, checked: it parses, its self-signatures
/// verify, and it has an encryption-capable subkey. Returns the fingerprint.
pub fn check_recipient_key(armored: &str) -> Result<String, String> {
    check_size(armored)?;
    let key = read_recipient(armored)?;
    if encryption_subkey(&key).is_none() {
        return Err(t!("key-no-encryption-subkey"));
    }
    Ok(format!("{:X}", key.fingerprint()))
}

fn read_recipient(armored: &str) -> Result<SignedPublicKey, String> {
    if armored.contains("PRIVATE KEY") {
        return Err(t!("key-secret-register-public"));
    }
    let (key, _) =
        SignedPublicKey::from_string(armored).map_err(|e| t!("key-not-armored-public", detail = e.to_string()))?;
    key.verify_bindings().map_err(|e| t!("key-self-signatures", detail = e.to_string()))?;
    Ok(key)
}

/// The newest encryption-capable subkey.
fn encryption_subkey(key: &SignedPublicKey) -> Option<&pgp::composed::SignedPublicSubKey> {
    key.public_subkeys.iter().rev().find(|sub| {
        sub.signatures.last().is_some_and(|s| {
            let flags = s.key_flags();
            flags.encrypt_comms() || flags.encrypt_storage()
        })
    })
}

/// `data` encrypted to a recipient's key (AES-256, SEIPD v1, which every OpenPGP
/// implementation in use reads), ASCII-armored.
pub fn encrypt(recipient_armored: &str, data: &[u8]) -> Result<String, String> {
    let key = read_recipient(recipient_armored)?;
    let sub = encryption_subkey(&key).ok_or("the key has no subkey for encryption")?;
    let mut rng = rand::thread_rng();
    let mut builder = pgp::composed::MessageBuilder::from_bytes("", data.to_vec())
        .seipd_v1(&mut rng, pgp::crypto::sym::SymmetricKeyAlgorithm::AES256);
    builder.encrypt_to_key(&mut rng, &sub.key).map_err(|e| format!("encrypting: {e}"))?;
    builder.to_armored_string(&mut rng, ArmorOptions::default()).map_err(|e| format!("encrypting: {e}"))
}

/// A public key a detached signature is checked against (a peer provider's published key, or
/// one a coordinator pinned): its fingerprint and the parsed key.
#[derive(Debug, Clone)]
pub struct PeerKey {
    /// Upper-case hex fingerprint of the primary key.
    pub fingerprint: String,
    key: SignedPublicKey,
}

impl PeerKey {
    /// Reads an ASCII-armored public key whose self-signatures verify.
    pub fn from_armored(text: &str) -> Result<PeerKey, String> {
        check_size(text)?;
        if text.contains("PRIVATE KEY") {
            return Err("this is a secret key: give the public key only".into());
        }
        let (key, _) =
            SignedPublicKey::from_string(text).map_err(|e| format!("not an ASCII-armored OpenPGP public key: {e}"))?;
        key.verify_bindings().map_err(|e| format!("the key's self-signatures do not verify: {e}"))?;
        Ok(PeerKey { fingerprint: format!("{:X}", key.fingerprint()), key })
    }

    /// Whether `armored_signature` is a good detached signature over `data` by this key (its
    /// primary key or one of its subkeys).
    pub fn verifies(&self, data: &[u8], armored_signature: &str) -> Result<(), String> {
        if armored_signature.len() > MAX_KEY_FILE_BYTES {
            return Err(format!("a signature is at most {MAX_KEY_FILE_BYTES} bytes"));
        }
        let (signature, _) = DetachedSignature::from_string(armored_signature)
            .map_err(|e| format!("not an ASCII-armored OpenPGP signature: {e}"))?;
        if signature.verify(&self.key, data).is_ok()
            || self.key.public_subkeys.iter().any(|sub| signature.verify(sub, data).is_ok())
        {
            return Ok(());
        }
        Err(format!("the signature does not verify with key {}", self.fingerprint))
    }
}

/// A fingerprint as given by a person or a provider (spaces, `0x`, lower case) in the upper-case
/// hex form keys are compared by; `None` when it is not 40 or 64 hex digits.
pub fn normalise_fingerprint(text: &str) -> Option<String> {
    let hex: String = text.trim().trim_start_matches("0x").chars().filter(|c| !c.is_whitespace()).collect();
    let ok = matches!(hex.len(), 40 | 64) && hex.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| hex.to_ascii_uppercase())
}

/// Checks a detached signature against a set of keys: the fingerprint of the key that made it.
pub fn verify_any(keys: &[PeerKey], data: &[u8], armored_signature: &str) -> Result<String, String> {
    let mut last = "no key to verify with".to_string();
    for key in keys {
        match key.verifies(data, armored_signature) {
            Ok(()) => return Ok(key.fingerprint.clone()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod verify_tests {
    use super::*;

    #[test]
    fn fingerprints_are_normalised() {
        let fp = "0x1234 5678 9abc def0 1234 5678 9ABC DEF0 1234 5678";
        assert_eq!(normalise_fingerprint(fp).unwrap(), "123456789ABCDEF0123456789ABCDEF012345678");
        assert!(normalise_fingerprint("1234").is_none());
        assert!(normalise_fingerprint(&"g".repeat(40)).is_none());
    }
}
