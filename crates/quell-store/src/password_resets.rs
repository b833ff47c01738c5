//! One-time password-reset links: an organisation admin (for their organisation's accounts) or
//! a coordinator (for any organisation's) issues a link for an account; whoever opens it sets a
//! new password, once, before it expires.
//!
//! Invariants:
//! - Only the SHA-256 of a link's secret is stored, as for tokens and sessions.
//! - A link is spent by one conditional `UPDATE` (unused, unexpired), so two concurrent uses
//!   cannot both succeed; issuing a new link for an account retires its unused ones.
//! - A reset ends every session of the account (its tokens stay: they belong to agents), works
//!   only on an account that is neither disabled nor removed, and is audited in the same
//!   transaction (`password_reset_issued`, `password_reset`).

use crate::Missing;
use crate::Refusal;
use sqlx::Row;

use crate::accounts::{Principal, hash_password, managed_scope, new_secret, secret_hash};
use crate::audit::{Actor, Event, record};
use crate::{Db, StoreError};
use quell_model::time::now;

/// A link just issued: the secret goes into the URL, and is shown or sent only this once.
#[derive(Debug, Clone)]
pub struct IssuedReset {
    pub secret: String,
    pub user_id: i64,
    pub email: String,
    pub org_id: Option<i64>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Issues a reset link for account `user_id` on behalf of `manager` (the scope of
/// [`managed_scope`]; another organisation's account is `NotFound`, one's own `Forbidden`: use
/// the password change). Its unused links are retired.
pub async fn issue(db: &Db, manager: &Principal, user_id: i64, lifetime_secs: i64) -> Result<IssuedReset, StoreError> {
    if manager.user_id == user_id {
        return Err(StoreError::Forbidden(Refusal::OwnPasswordReset));
    }
    let scope = managed_scope(manager)?;
    let secret = new_secret("qr_")?;
    let at = now();
    let expires_at = at.saturating_add(lifetime_secs);
    let mut tx = db.pool.begin().await?;
    // Retire older links first: the first statement writes, so SQLite takes its lock at once.
    sqlx::query(
        "UPDATE password_resets SET used_at = $1 WHERE used_at IS NULL AND user_id IN \
         (SELECT id FROM users WHERE id = $2 AND removed_at IS NULL AND disabled_at IS NULL \
          AND org_id IS NOT NULL AND org_id = COALESCE($3, org_id))",
    )
    .bind(at)
    .bind(user_id)
    .bind(scope)
    .execute(&mut *tx)
    .await?;
    let account = sqlx::query(
        "SELECT email, org_id FROM users WHERE id = $1 AND removed_at IS NULL AND disabled_at IS NULL \
         AND org_id IS NOT NULL AND org_id = COALESCE($2, org_id)",
    )
    .bind(user_id)
    .bind(scope)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(Missing::UserOrDisabled { id: user_id }))?;
    let email: String = account.try_get("email")?;
    let org: Option<i64> = account.try_get("org_id")?;
    sqlx::query(
        "INSERT INTO password_resets (user_id, secret_hash, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(secret_hash(&secret))
    .bind(manager.user_id)
    .bind(at)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    let event = Event {
        actor: Actor::of(manager),
        action: "password_reset_issued",
        org_id: org,
        target: format!("user:{user_id} {email}"),
        detail: String::new(),
    };
    record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(IssuedReset { secret, user_id, email, org_id: org, expires_at })
}

/// The account a usable link is for (its e-mail address), or `None`: unknown, spent, expired,
/// or the account was disabled or removed since.
pub async fn account_of(db: &Db, secret: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT u.email FROM password_resets r JOIN users u ON u.id = r.user_id \
         WHERE r.secret_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 \
         AND u.removed_at IS NULL AND u.disabled_at IS NULL",
    )
    .bind(secret_hash(secret))
    .bind(now())
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| r.try_get("email")).transpose()?)
}

/// Spends a link: sets the account's new password and ends its sessions. `NotFound` when the
/// link is unknown, spent, expired or its account disabled (one answer for all: a guesser learns
/// nothing); `Invalid` when the password is too short (the link stays usable).
pub async fn complete(db: &Db, secret: &str, new_password: &str) -> Result<String, StoreError> {
    let password = new_password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
    let at = now();
    let mut tx = db.pool.begin().await?;
    let spent = sqlx::query(
        "UPDATE password_resets SET used_at = $1 WHERE secret_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING user_id",
    )
    .bind(at)
    .bind(secret_hash(secret))
    .fetch_optional(&mut *tx)
    .await?;
    let gone = || StoreError::NotFound(Missing::ResetLink);
    let user_id: i64 = spent.ok_or_else(gone)?.try_get("user_id")?;
    let account = sqlx::query(
        "UPDATE users SET password_hash = $1 WHERE id = $2 AND removed_at IS NULL AND disabled_at IS NULL \
         RETURNING email, org_id",
    )
    .bind(hash)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(gone)?;
    let email: String = account.try_get("email")?;
    let org: Option<i64> = account.try_get("org_id")?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    let event = Event {
        actor: Actor { user_id: Some(user_id), email: Some(email.clone()), org_id: org },
        action: "password_reset",
        org_id: org,
        target: format!("user:{user_id} {email}"),
        detail: String::new(),
    };
    record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(email)
}
