//! Single sign-on: the logins under way at an OpenID Connect provider, and which account an
//! identity the provider vouched for is. The protocol (discovery, PKCE, the ID token's
//! signature) is the server's (`quell-server::sso`); this module keeps what must hold across
//! processes.
//!
//! Invariants:
//! - A login's state is spent by one `DELETE … RETURNING`: a callback works once, and only
//!   before it expires; only the state's SHA-256 is stored.
//! - An identity is its (issuer, subject) pair; the first login links it to the account with the
//!   provider's verified e-mail address (creating one when none exists), later logins find it by
//!   the pair, so a changed address at the provider does not change the account.
//! - The provider decides the role (each login updates it) but never moves an account to another
//!   organisation: a claimed organisation that differs from the account's is refused. Disabled
//!   and removed accounts stay locked out. Creations and role changes are audited.

use crate::Refusal;
use sqlx::Row;

use crate::accounts::{Role, new_secret, secret_hash};
use crate::audit::{Actor, Event, record};
use crate::{Db, StoreError};
use quell_model::time::now;

/// A stored password hash that no password verifies (not a PHC string): accounts created by
/// single sign-on log in only through their provider until an admin issues a reset link.
const NO_PASSWORD: &str = "!sso";

/// Records a login leaving for the provider.
pub async fn begin(
    db: &Db,
    state: &str,
    nonce: &str,
    pkce_verifier: &str,
    lifetime_secs: i64,
) -> Result<(), StoreError> {
    let at = now();
    sqlx::query("DELETE FROM sso_logins WHERE expires_at <= $1").bind(at).execute(&db.pool).await?;
    sqlx::query("INSERT INTO sso_logins (state_hash, nonce, pkce_verifier, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(secret_hash(state))
        .bind(nonce)
        .bind(pkce_verifier)
        .bind(at.saturating_add(lifetime_secs))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Spends the login of `state`: its `(nonce, pkce_verifier)` when it exists and has not expired.
pub async fn take(db: &Db, state: &str) -> Result<Option<(String, String)>, StoreError> {
    let row = sqlx::query("DELETE FROM sso_logins WHERE state_hash = $1 RETURNING nonce, pkce_verifier, expires_at")
        .bind(secret_hash(state))
        .fetch_optional(&db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let expires_at: i64 = row.try_get("expires_at")?;
    if expires_at <= now() {
        return Ok(None);
    }
    Ok(Some((row.try_get("nonce")?, row.try_get("pkce_verifier")?)))
}

/// What the provider vouched for, mapped to quell's terms.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    /// Verified by the provider (`email_verified`).
    pub email: String,
    /// The organisation's name (`None`: a coordinator).
    pub org: Option<String>,
    pub role: Role,
}

/// The account of an identity: found by (issuer, subject), else by e-mail (and linked), else
/// created. Returns the user id.
pub async fn account(db: &Db, identity: &Identity) -> Result<i64, StoreError> {
    let org_id = match &identity.org {
        Some(name) => Some(
            sqlx::query("SELECT id FROM orgs WHERE name = $1")
                .bind(name)
                .fetch_optional(&db.pool)
                .await?
                .ok_or_else(|| StoreError::Forbidden(Refusal::SsoUnknownOrg { name: name.to_string() }))?
                .try_get::<i64, _>("id")?,
        ),
        None => None,
    };
    match (identity.role, org_id) {
        (Role::Coordinator, Some(_)) => {
            return Err(StoreError::Forbidden(Refusal::CoordinatorWithoutOrg));
        }
        (Role::Admin | Role::Member, None) => {
            return Err(StoreError::Forbidden(Refusal::SsoNoOrg));
        }
        _ => {}
    }
    let email = identity.email.to_lowercase();
    let at = now();
    let mut tx = db.pool.begin().await?;
    let linked = sqlx::query("SELECT user_id FROM sso_identities WHERE issuer = $1 AND subject = $2")
        .bind(&identity.issuer)
        .bind(&identity.subject)
        .fetch_optional(&mut *tx)
        .await?;
    let existing = match linked {
        Some(row) => Some(row.try_get::<i64, _>("user_id")?),
        None => sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get::<i64, _>("id"))
            .transpose()?,
    };
    let actor = Actor { user_id: None, email: Some(email.clone()), org_id };
    let user_id = match existing {
        Some(user_id) => {
            let row = sqlx::query("SELECT role, org_id, disabled_at FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
            let disabled: Option<i64> = row.try_get("disabled_at")?;
            let current_org: Option<i64> = row.try_get("org_id")?;
            let current_role: String = row.try_get("role")?;
            if disabled.is_some() {
                return Err(StoreError::Forbidden(Refusal::AccountDisabled));
            }
            if current_org != org_id {
                return Err(StoreError::Forbidden(Refusal::SsoOtherOrg));
            }
            if current_role != identity.role.as_str() {
                sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                    .bind(identity.role.as_str())
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                let event = Event {
                    actor: actor.clone(),
                    action: "account_role_changed",
                    org_id,
                    target: format!("user:{user_id} {email}"),
                    detail: format!("{current_role} -> {} (single sign-on)", identity.role.as_str()),
                };
                record(&mut *tx, &event).await?;
            }
            user_id
        }
        None => {
            let row = sqlx::query(
                "INSERT INTO users (email, password_hash, role, org_id, created_at) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id",
            )
            .bind(&email)
            .bind(NO_PASSWORD)
            .bind(identity.role.as_str())
            .bind(org_id)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            let user_id: i64 = row.try_get("id")?;
            let event = Event {
                actor: actor.clone(),
                action: "account_created",
                org_id,
                target: format!("user:{user_id} {email}"),
                detail: format!("{} (single sign-on)", identity.role.as_str()),
            };
            record(&mut *tx, &event).await?;
            user_id
        }
    };
    sqlx::query(
        "INSERT INTO sso_identities (issuer, subject, user_id, linked_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (issuer, subject) DO NOTHING",
    )
    .bind(&identity.issuer)
    .bind(&identity.subject)
    .bind(user_id)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(user_id)
}

/// A random URL-safe secret (state, nonce, PKCE verifier: 64 hex characters, within RFC 7636's
/// 43–128 characters of the unreserved set).
pub fn random() -> Result<String, StoreError> {
    new_secret("")
}
