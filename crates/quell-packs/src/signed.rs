//! Signed detection packs: a pack handed to hosts by a server is trusted only when it carries a
//! minisign signature (Ed25519) by the key the host pinned, and the signature says until when.
//!
//! The signature is the `.minisig` text the real `minisign` tool writes:
//!
//! ```text
//! minisign -S -s quell.key -m pack.toml -t "quell-pack expires=2027-03-01T00:00:00Z"
//! ```
//!
//! Its *trusted comment* is covered by the global signature, so the `expires=<RFC 3339>` in it
//! cannot be changed without the key. [`verify`] checks, in this order, and stops at the first
//! problem, each a [`SignatureError`] variant with its own message:
//!
//! 1. there is a signature ([`SignatureError::Unsigned`]), no larger than [`MAX_SIGNATURE_BYTES`],
//!    in minisign's format ([`SignatureError::Malformed`]);
//! 2. it was made by one of the pinned keys (several during a key rotation): same key id
//!    ([`SignatureError::WrongKey`]);
//! 3. the Ed25519 signature holds over the pack's bytes and the trusted comment
//!    ([`SignatureError::BadSignature`]: the pack or the comment was changed);
//! 4. the trusted comment has `expires=` ([`SignatureError::NoExpiry`], [`SignatureError::BadExpiry`])
//!    and that time is after `now` ([`SignatureError::Expired`]);
//! 5. the pack parses ([`SignatureError::Pack`]).
//!
//! Invariants: pure — no clock and no files: the caller passes the time and the texts. Only
//! minisign's pre-hashed mode (the default since minisign 0.8) is accepted, never the legacy one.
//! A pack is returned only when every check passed.

use std::fmt;

use sha2::Digest;

use crate::format::{Pack, parse};

/// Largest signature text accepted (a minisign signature is about 350 bytes; the trusted comment
/// is the only part of variable length).
pub const MAX_SIGNATURE_BYTES: usize = 4096;

/// Largest public key text accepted (a `.pub` file is about 110 bytes).
pub const MAX_PUBLIC_KEY_BYTES: usize = 4096;

/// The key word of the trusted comment that holds the expiry: `expires=<RFC 3339>`.
pub const EXPIRES_KEY: &str = "expires=";

/// A minisign public key that packs must be signed with: the pinned key of an agent, or the key
/// of a server that accepts uploads.
#[derive(Clone)]
pub struct PinnedKey {
    key: minisign_verify::PublicKey,
    id: String,
}

impl fmt::Debug for PinnedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedKey").field("id", &self.id).finish()
    }
}

impl PinnedKey {
    /// Reads a public key: the whole `minisign.pub` file (`untrusted comment: ...` then the
    /// base64 line) or the base64 line alone (`RWS...`, as `minisign -P` takes it).
    pub fn parse(text: &str) -> Result<PinnedKey, String> {
        if text.len() > MAX_PUBLIC_KEY_BYTES {
            return Err(format!("{} bytes, more than the {MAX_PUBLIC_KEY_BYTES} a public key may have", text.len()));
        }
        let line = text
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .ok_or("no public key: expected minisign's base64 line (RWS...) or its .pub file")?;
        let key = minisign_verify::PublicKey::from_base64(line)
            .map_err(|e| format!("not a minisign public key ({e}): expected the base64 line RWS... of a .pub file"))?;
        let id = key_id(line).ok_or("not a minisign public key: bad base64")?;
        Ok(PinnedKey { key, id })
    }

    /// The key id as minisign prints it (`DB19ECA069D94E8A`).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A pack whose signature, key and expiry were checked.
#[derive(Debug, Clone)]
pub struct VerifiedPack {
    pub pack: Pack,
    /// When the signature stops being accepted (Unix seconds).
    pub expires_at: i64,
    /// The signature's trusted comment (without `trusted comment: `).
    pub trusted_comment: String,
    /// The id of the key that signed it.
    pub key_id: String,
    /// SHA-256 of the pack's text, lower-case hex.
    pub sha256: String,
}

/// Why a pack is refused. The messages say what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// No signature came with the pack.
    Unsigned,
    /// The signature text is not a minisign signature (or is too large).
    Malformed(String),
    /// Signed, but by another key than the pinned ones (`pinned`: their ids, comma-separated).
    WrongKey { signed_by: String, pinned: String },
    /// The signature does not match the pack's bytes or its trusted comment: changed after signing.
    BadSignature,
    /// The trusted comment has no `expires=`.
    NoExpiry { comment: String },
    /// The `expires=` value is not an RFC 3339 time.
    BadExpiry { value: String },
    /// The signature expired at this time (RFC 3339).
    Expired { expires_at: String },
    /// The signature is good but the pack does not parse: `file:line: reason`, one per problem.
    Pack(Vec<String>),
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Unsigned => write!(f, "unsigned: no minisign signature came with the pack"),
            SignatureError::Malformed(why) => write!(f, "malformed signature: {why}"),
            SignatureError::WrongKey { signed_by, pinned } => write!(
                f,
                "signed by another key: key id {signed_by}, but the pinned key is {pinned} \
                 (re-sign with the pinned key, or pin the new public key too)"
            ),
            SignatureError::BadSignature => {
                write!(f, "bad signature: the pack or its trusted comment was changed after signing (tampered)")
            }
            SignatureError::NoExpiry { comment } => write!(
                f,
                "no expiry: the trusted comment {comment:?} has no {EXPIRES_KEY}<RFC 3339 time> \
                 (sign with -t \"quell-pack expires=2027-03-01T00:00:00Z\")"
            ),
            SignatureError::BadExpiry { value } => {
                write!(f, "bad expiry: {EXPIRES_KEY}{value} is not an RFC 3339 time (2027-03-01T00:00:00Z)")
            }
            SignatureError::Expired { expires_at } => {
                write!(f, "expired: the signature was valid until {expires_at}; re-sign the pack with a later expiry")
            }
            SignatureError::Pack(errors) => write!(f, "signed, but not a valid pack: {}", errors.join("; ")),
        }
    }
}

impl std::error::Error for SignatureError {}

/// Checks a pack against the pinned keys at time `now` (Unix seconds); see the module docs for
/// the order of the checks. `file` names the pack in parse errors.
pub fn verify(
    keys: &[PinnedKey],
    file: &str,
    pack_text: &str,
    signature: Option<&str>,
    now: i64,
) -> Result<VerifiedPack, SignatureError> {
    let signature = signature.filter(|s| !s.trim().is_empty()).ok_or(SignatureError::Unsigned)?;
    if signature.len() > MAX_SIGNATURE_BYTES {
        return Err(SignatureError::Malformed(format!(
            "{} bytes, more than the {MAX_SIGNATURE_BYTES} a signature may have",
            signature.len()
        )));
    }
    let decoded = minisign_verify::Signature::decode(signature.trim_start())
        .map_err(|e| SignatureError::Malformed(format!("{e} (expected the four lines minisign -S writes)")))?;
    let signed_by = signature
        .lines()
        .nth(1)
        .and_then(|l| key_id(l.trim()))
        .ok_or_else(|| SignatureError::Malformed("bad base64 in the signature line".into()))?;
    let pinned = || keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ");
    let Some(key) = keys.iter().find(|k| k.id == signed_by) else {
        return Err(SignatureError::WrongKey { signed_by, pinned: pinned() });
    };
    key.key.verify(pack_text.as_bytes(), &decoded, false).map_err(|e| match e {
        minisign_verify::Error::UnexpectedKeyId => {
            SignatureError::WrongKey { signed_by: signed_by.clone(), pinned: pinned() }
        }
        minisign_verify::Error::UnexpectedAlgorithm | minisign_verify::Error::UnsupportedLegacyMode => {
            SignatureError::Malformed("legacy (not pre-hashed) signature: sign with a current minisign".into())
        }
        _ => SignatureError::BadSignature,
    })?;
    let comment = decoded.trusted_comment().to_string();
    let expires_at = expiry(&comment)?;
    if expires_at <= now {
        return Err(SignatureError::Expired { expires_at: quell_model::time::format_rfc3339(expires_at) });
    }
    let pack = parse(file, pack_text)
        .map_err(|errors| SignatureError::Pack(errors.iter().map(|e| e.to_string()).collect()))?;
    let sha256 = sha2::Sha256::digest(pack_text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    Ok(VerifiedPack { pack, expires_at, trusted_comment: comment, key_id: signed_by, sha256 })
}

/// The `expires=` time of a trusted comment (words separated by white space).
fn expiry(comment: &str) -> Result<i64, SignatureError> {
    let value = comment
        .split_whitespace()
        .find_map(|word| word.strip_prefix(EXPIRES_KEY))
        .ok_or_else(|| SignatureError::NoExpiry { comment: comment.to_string() })?;
    quell_model::time::parse_rfc3339(value).ok_or_else(|| SignatureError::BadExpiry { value: value.to_string() })
}

/// The key id (bytes 2..10 of the decoded line, a little-endian u64) as minisign prints it in a
/// `.pub` file's comment, from a public key or signature line in base64. minisign prints it with
/// `%" PRIX64 "` (Debian's 0.11): upper-case hex *without* leading zeros, so one key in sixteen
/// has a 15-digit id (or shorter); we print the same so an operator can compare it with the file
/// by eye. (minisign 0.12 pads to sixteen digits; the number is the same.)
fn key_id(line: &str) -> Option<String> {
    let bytes = base64_prefix(line, 10)?;
    let id = u64::from_le_bytes(bytes[2..10].try_into().ok()?);
    Some(format!("{id:X}"))
}

/// The first `n` bytes of standard base64 `text` (only as many characters as needed are read).
fn base64_prefix(text: &str, n: usize) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(n + 2);
    for chunk in text.as_bytes().chunks(4) {
        if out.len() >= n {
            break;
        }
        if chunk.len() < 4 {
            return None;
        }
        let mut word = 0u32;
        for &c in chunk {
            word = (word << 6) | value(c)?;
        }
        out.extend_from_slice(&[(word >> 16) as u8, (word >> 8) as u8, word as u8]);
    }
    (out.len() >= n).then(|| out[..n].to_vec())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_read_like_minisign_prints_them() {
        // `minisign -G` printed `untrusted comment: minisign public key DB19ECA069D94E8A` for this.
        let key = PinnedKey::parse(
            "untrusted comment: minisign public key DB19ECA069D94E8A\n\
             RWSKTtlpoOwZ21JttFjaj9mvu6cwb5wPVudqtQJ/zjJRUhg/o7KMqlQd\n",
        )
        .unwrap();
        assert_eq!(key.id(), "DB19ECA069D94E8A");
        let bare = PinnedKey::parse("RWSKTtlpoOwZ21JttFjaj9mvu6cwb5wPVudqtQJ/zjJRUhg/o7KMqlQd").unwrap();
        assert_eq!(bare.id(), key.id());
        // `minisign -G` printed `untrusted comment: minisign public key 4C5D14048C02BC3` (15 digits:
        // the top one is zero and minisign does not pad).
        let short = PinnedKey::parse("RWTDK8BIQNHFBBWrWuFbELDZugk8SN+NADH8nGKYT0soSap67jFBKZSl").unwrap();
        assert_eq!(short.id(), "4C5D14048C02BC3");
        assert!(PinnedKey::parse("").is_err());
        assert!(PinnedKey::parse("RWSnot-a-key").is_err());
    }

    #[test]
    fn expiry_is_a_word_of_the_trusted_comment() {
        assert_eq!(expiry("quell-pack expires=1970-01-02T00:00:00Z"), Ok(86_400));
        assert!(matches!(expiry("timestamp:1 file:pack.toml"), Err(SignatureError::NoExpiry { .. })));
        assert!(matches!(expiry("expires=tomorrow"), Err(SignatureError::BadExpiry { .. })));
    }
}
