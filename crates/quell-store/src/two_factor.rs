//! Two-factor login: TOTP secrets (RFC 6238), one-time recovery codes, the half-done logins
//! between password and code, and the coordinators' policy of who must use a second factor.
//!
//! The code arithmetic (which 30-second step a code belongs to) is the server's
//! (`quell-server::two_factor`); this module keeps what must hold across processes.
//!
//! Invariants:
//! - A TOTP code works once: a step is accepted by one conditional `UPDATE` (`last_step <
//!   step`), so the same code cannot log in twice, even from two processes at once.
//! - A recovery code works once (conditional `UPDATE` on `used_at IS NULL`); only its SHA-256
//!   is stored, as for tokens and sessions; confirming a new enrolment replaces every old code.
//! - A pending login (password accepted, code to come) lives the lifetime the server passes
//!   ([`crate::limits::PENDING_LOGIN_LIFETIME`] by default)
//!   and allows [`crate::limits::MAX_SECOND_FACTOR_ATTEMPTS`] wrong codes; its cookie secret is
//!   stored hashed.
//! - Only a confirmed secret is asked for at login: an enrolment abandoned before its first
//!   code locks nobody out.
//! - Enrolment, removal and policy changes are audited in the same transaction.

use crate::Refusal;
use crate::{Missing, Thing};
use sqlx::Row;

use crate::accounts::{Principal, Role, managed_scope, new_secret, secret_hash};
use crate::audit::{Actor, Event, record};
use crate::limits::{MAX_SECOND_FACTOR_ATTEMPTS, RECOVERY_CODES};
use crate::{Db, StoreError};
use quell_model::time::now;

/// Who must log in with a second factor (the `two_factor_policy` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Nobody must; anyone may enrol.
    #[default]
    Off,
    /// Coordinators must: a coordinator without one is sent to enrol before anything else.
    Coordinators,
    /// Coordinators must, and AMBER+STRICT and RED are shown only to sessions (and tokens of
    /// accounts) with a second factor.
    Sensitive,
}

impl Policy {
    pub const ALL: [Policy; 3] = [Policy::Off, Policy::Coordinators, Policy::Sensitive];

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Off => "off",
            Policy::Coordinators => "coordinators",
            Policy::Sensitive => "sensitive",
        }
    }

    pub fn parse(text: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Whether this account must enrol (and use) a second factor before it may do anything.
    pub fn requires(self, role: Role) -> bool {
        self != Policy::Off && role == Role::Coordinator
    }

    /// Whether a credential without a second factor is kept from AMBER+STRICT and RED.
    pub fn withholds_strict(self) -> bool {
        self == Policy::Sensitive
    }
}

const POLICY_SETTING: &str = "two_factor_policy";

/// The policy in force (`Off` until a coordinator sets one).
pub async fn policy(db: &Db) -> Result<Policy, StoreError> {
    let row =
        sqlx::query("SELECT value FROM settings WHERE name = $1").bind(POLICY_SETTING).fetch_optional(&db.pool).await?;
    let Some(row) = row else { return Ok(Policy::Off) };
    let value: String = row.try_get("value")?;
    Policy::parse(&value).ok_or_else(|| StoreError::Internal(format!("stored two-factor policy {value:?}")))
}

/// Sets the policy (coordinators only). Audited as `two_factor_policy`.
pub async fn set_policy(db: &Db, coordinator: &Principal, policy: Policy) -> Result<(), StoreError> {
    if coordinator.role != Role::Coordinator {
        return Err(StoreError::Forbidden(Refusal::TwoFactorPolicy));
    }
    let at = now();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO settings (name, value, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(POLICY_SETTING)
    .bind(policy.as_str())
    .bind(coordinator.user_id)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let event = Event {
        actor: Actor::of(coordinator),
        action: "two_factor_policy",
        org_id: None,
        target: POLICY_SETTING.into(),
        detail: policy.as_str().into(),
    };
    record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// An account's second factor as its owner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// A confirmed TOTP secret: logins ask for a code.
    pub enrolled: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

pub async fn status(db: &Db, user_id: i64) -> Result<Status, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NOT NULL) AS enrolled, \
         (SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL) AS left_over",
    )
    .bind(user_id)
    .fetch_one(&db.pool)
    .await?;
    let enrolled: i64 = row.try_get("enrolled")?;
    Ok(Status { enrolled: enrolled > 0, recovery_codes_left: row.try_get("left_over")? })
}

/// Starts (or restarts) an enrolment with a new secret the caller generated; refused while a
/// confirmed one exists (remove it first).
pub async fn begin_enrolment(db: &Db, user_id: i64, secret: &str) -> Result<(), StoreError> {
    let done = sqlx::query(
        "INSERT INTO totp_secrets (user_id, secret, confirmed_at, last_step) VALUES ($1, $2, NULL, 0) \
         ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0 \
         WHERE totp_secrets.confirmed_at IS NULL",
    )
    .bind(user_id)
    .bind(secret)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(Refusal::SecondFactorExists));
    }
    Ok(())
}

/// The account's TOTP secret: `(secret, confirmed)`.
pub async fn secret(db: &Db, user_id: i64) -> Result<Option<(String, bool)>, StoreError> {
    let row = sqlx::query("SELECT secret, confirmed_at FROM totp_secrets WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|row| {
        let confirmed: Option<i64> = row.try_get("confirmed_at")?;
        Ok((row.try_get("secret")?, confirmed.is_some()))
    })
    .transpose()
}

/// Accepts the 30-second `step` for the account if no later or equal step was accepted before
/// (a code works once). Returns whether it was accepted.
pub async fn accept_step(db: &Db, user_id: i64, step: i64) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE totp_secrets SET last_step = $1 WHERE user_id = $2 AND last_step < $1")
        .bind(step)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Confirms an enrolment whose first code the server checked at `step`: the secret becomes the
/// account's second factor and [`RECOVERY_CODES`] new recovery codes replace any old ones.
/// Returns the codes (shown once). Audited as `two_factor_enabled`.
pub async fn confirm_enrolment(db: &Db, principal: &Principal, step: i64) -> Result<Vec<String>, StoreError> {
    let codes: Vec<String> =
        (0..RECOVERY_CODES).map(|_| new_secret("").map(|s| recovery_code(&s))).collect::<Result<_, _>>()?;
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE totp_secrets SET confirmed_at = $1, last_step = $2 WHERE user_id = $3 AND confirmed_at IS NULL \
         AND last_step < $2",
    )
    .bind(now())
    .bind(step)
    .bind(principal.user_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(Refusal::NoEnrolment));
    }
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(principal.user_id).execute(&mut *tx).await?;
    for code in &codes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(principal.user_id)
            .bind(secret_hash(&normalise_recovery_code(code)))
            .execute(&mut *tx)
            .await?;
    }
    let event = Event {
        actor: Actor::of(principal),
        action: "two_factor_enabled",
        org_id: principal.org_id,
        target: format!("user:{} {}", principal.user_id, principal.email),
        detail: String::new(),
    };
    record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Removes the caller's own second factor (the server checked a current code first). Audited as
/// `two_factor_removed`.
pub async fn remove_own(db: &Db, owner: &Principal) -> Result<(), StoreError> {
    remove(db, owner, owner.user_id, owner.org_id).await
}

/// Removes the second factor of account `user_id` that lost its authenticator and its recovery
/// codes, on behalf of whoever manages it ([`managed_scope`]; one's own goes through
/// [`remove_own`], with a code). Audited as `two_factor_removed`.
pub async fn remove_for(db: &Db, manager: &Principal, user_id: i64) -> Result<(), StoreError> {
    if manager.user_id == user_id {
        return Err(StoreError::Forbidden(Refusal::OwnSecondFactor));
    }
    remove(db, manager, user_id, managed_scope(manager)?).await
}

async fn remove(db: &Db, by: &Principal, user_id: i64, scope: Option<i64>) -> Result<(), StoreError> {
    let mut tx = db.pool.begin().await?;
    let account = sqlx::query("SELECT email, org_id FROM users WHERE id = $1 AND (org_id = $2 OR $2 IS NULL)")
        .bind(user_id)
        .bind(scope)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::User, user_id)))?;
    let email: String = account.try_get("email")?;
    let org: Option<i64> = account.try_get("org_id")?;
    sqlx::query("DELETE FROM totp_secrets WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    let event = Event {
        actor: Actor::of(by),
        action: "two_factor_removed",
        org_id: org,
        target: format!("user:{user_id} {email}"),
        detail: String::new(),
    };
    record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// Spends a recovery code of the account; returns whether it was a valid unused one.
pub async fn use_recovery_code(db: &Db, user_id: i64, code: &str) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(now())
            .bind(user_id)
            .bind(secret_hash(&normalise_recovery_code(code)))
            .execute(&db.pool)
            .await?;
    Ok(done.rows_affected() >= 1)
}

/// A password accepted for `user_id`; returns the cookie secret that carries the login to its
/// second step.
pub async fn begin_login(db: &Db, user_id: i64, lifetime_secs: i64) -> Result<String, StoreError> {
    let secret = new_secret("qp_")?;
    let at = now();
    sqlx::query("DELETE FROM pending_logins WHERE expires_at <= $1").bind(at).execute(&db.pool).await?;
    sqlx::query("INSERT INTO pending_logins (id_hash, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(secret_hash(&secret))
        .bind(user_id)
        .bind(at.saturating_add(lifetime_secs))
        .execute(&db.pool)
        .await?;
    Ok(secret)
}

/// The account of a live pending login that has attempts left, counting this attempt.
pub async fn pending_login(db: &Db, secret: &str) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query(
        "UPDATE pending_logins SET attempts = attempts + 1 WHERE id_hash = $1 AND expires_at > $2 \
         AND attempts < $3 RETURNING user_id",
    )
    .bind(secret_hash(secret))
    .bind(now())
    .bind(MAX_SECOND_FACTOR_ATTEMPTS)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|row| row.try_get("user_id")).transpose().map_err(StoreError::from)
}

/// Ends a pending login (its second step succeeded).
pub async fn end_login(db: &Db, secret: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM pending_logins WHERE id_hash = $1").bind(secret_hash(secret)).execute(&db.pool).await?;
    Ok(())
}

/// `abcd-ef01-2345-6789` from random hex text: 16 characters (64 bits) in four groups, easy to
/// type from paper.
fn recovery_code(random: &str) -> String {
    let chars: Vec<char> =
        random.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).take(16).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// A recovery code as typed (any case, with or without dashes and spaces) in its stored form.
fn normalise_recovery_code(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_typed_loosely() {
        let code = recovery_code("AbCdEf0123456789ffff");
        assert_eq!(code, "abcd-ef01-2345-6789");
        assert_eq!(normalise_recovery_code(" ABCD ef01-2345 6789"), normalise_recovery_code(&code));
    }

    #[test]
    fn policies_round_trip() {
        for policy in Policy::ALL {
            assert_eq!(Policy::parse(policy.as_str()), Some(policy));
        }
        assert!(Policy::Coordinators.requires(Role::Coordinator) && !Policy::Coordinators.requires(Role::Member));
        assert!(!Policy::Off.requires(Role::Coordinator));
        assert!(Policy::Sensitive.withholds_strict() && !Policy::Coordinators.withholds_strict());
    }
}
