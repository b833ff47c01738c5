//! Two-factor login with TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, as every
//! authenticator app expects), the policy checks the extractors apply, and the enrolment QR code.
//!
//! Storage (secrets, recovery codes, pending logins, the policy, replay protection) is
//! `quell_store::two_factor`; this module does the arithmetic and the policy's effect on a
//! credential.
//!
//! Invariants:
//! - A code is accepted for the current step or one step either side ([`TOTP_SKEW_STEPS`]:
//!   clocks drift), and only for a step later than the last accepted one (the store's
//!   conditional update), so a code overheard cannot be replayed.
//! - Codes are compared in constant time (totp-rs's `check`).

use quell_store::accounts::Principal;
use quell_store::two_factor::{self, Policy};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::{AppState, ServerError};

/// The issuer name authenticator apps show beside the account.
pub const ISSUER: &str = "quell";
/// Seconds per TOTP step (RFC 6238's default, which authenticator apps assume).
pub const TOTP_STEP_SECS: u64 = 30;
/// Steps accepted either side of the server's clock.
pub const TOTP_SKEW_STEPS: u16 = 1;
/// Bytes of a new TOTP secret (160 bits: RFC 4226's recommendation for HMAC-SHA-1).
const SECRET_BYTES: usize = 20;

fn totp(secret_base32: &str, account: &str) -> Result<Totp, ServerError> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|e| ServerError::Internal(format!("stored TOTP secret: {e:?}")))?;
    // The account label may not contain ':' (the URI's issuer separator).
    let label = account.replace(':', "_");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(TOTP_SKEW_STEPS)
        .with_step_duration(TOTP_STEP_SECS)
        .with_secret(secret)
        .with_account_name(label)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| ServerError::Internal(format!("TOTP: {e:?}")))
}

/// A new random secret, base32 as authenticator apps take it.
pub fn new_secret() -> Result<String, ServerError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
    Ok(Secret::from(bytes.to_vec()).to_base32())
}

/// The step (Unix time / 30 s) whose code `code` is, within the skew around `now`, if any.
pub fn matching_step(secret_base32: &str, code: &str, now: i64) -> Result<Option<i64>, ServerError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) || now < 0 {
        return Ok(None);
    }
    Ok(totp(secret_base32, "")?.check(&code, now as u64).and_then(|step| i64::try_from(step).ok()))
}

/// The `otpauth://totp/...` URI an authenticator app reads (from the QR code or typed).
pub fn otpauth_uri(secret_base32: &str, account: &str) -> Result<String, ServerError> {
    totp(secret_base32, account)?.to_url().map_err(|e| ServerError::Internal(format!("TOTP URI: {e:?}")))
}

/// The QR code of `text` as an SVG element (black modules on white, scales with CSS).
pub fn qr_svg(text: &str) -> Result<String, ServerError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| ServerError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// What the policy in force means for a credential without a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing: it may do what its role allows.
    None,
    /// It may do what its role allows except read AMBER+STRICT and RED.
    StrictWithheld,
    /// Its account must enrol first: pages send it to the enrolment page, tokens are refused.
    MustEnrol,
}

/// Applies the policy to a credential: marks AMBER+STRICT and RED withheld where the policy
/// says so, and says whether the account must enrol first.
pub async fn apply_policy(state: &AppState, principal: &mut Principal) -> Result<Effect, ServerError> {
    if principal.second_factor {
        return Ok(Effect::None);
    }
    let policy: Policy = two_factor::policy(&state.db).await?;
    if policy.requires(principal.role) {
        principal.strict_withheld = true;
        return Ok(Effect::MustEnrol);
    }
    if policy.withholds_strict() {
        principal.strict_withheld = true;
        return Ok(Effect::StrictWithheld);
    }
    Ok(Effect::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 vectors (secret "12345678901234567890"), 6-digit truncation
    /// of the 8-digit values given there.
    #[test]
    fn rfc_6238_vectors() -> Result<(), ServerError> {
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        for (time, code) in
            [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        {
            assert_eq!(matching_step(&secret, code, time)?, Some(time / 30), "{time}");
        }
        // One step of drift either way is accepted; two are not.
        assert_eq!(matching_step(&secret, "287082", 59 + 30)?, Some(1));
        assert_eq!(matching_step(&secret, "287082", 59 + 60)?, None);
        assert_eq!(matching_step(&secret, "28708", 59)?, None);
        assert_eq!(matching_step(&secret, "abcdef", 59)?, None);
        assert_eq!(matching_step(&secret, " 287 082 ", 59)?, Some(1));
        Ok(())
    }

    #[test]
    fn enrolment_uri_and_qr_code() -> Result<(), ServerError> {
        let secret = new_secret()?;
        assert_eq!(secret.len(), 32, "{secret}");
        let uri = otpauth_uri(&secret, "ann@example.org")?;
        assert!(uri.starts_with("otpauth://totp/quell:ann%40example.org?"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        let svg = qr_svg(&uri)?;
        assert!(svg.contains("<svg") && svg.contains("#000000"), "{svg}");
        Ok(())
    }
}
