//! Accounts, API tokens and who a request acts as.
//!
//! Invariants:
//! - Passwords are stored only as argon2id PHC strings; API tokens only as the SHA-256 of the
//!   token (a token is 32 random bytes, so a fast hash is enough); a token is shown once, when
//!   created.
//! - A [`Principal`] carries the caller's organisation; every query of the API takes its org id
//!   from the principal, never from the request, so one organisation cannot name another's rows.
//! - An `upload` token may do nothing but `POST /api/v1/reports` and `POST /api/v1/indicators`.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::Db;
use crate::limits::{MAX_NAME_BYTES, MIN_PASSWORD_CHARS};
use crate::{ServerError, now};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees every organisation's counts (never their hosts or paths); manages organisations.
    Coordinator,
    /// Reads and writes their organisation; manages its tokens and members.
    Admin,
    /// Reads their organisation and uploads to it.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "coordinator" => Some(Role::Coordinator),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Only `POST /api/v1/reports` and `POST /api/v1/indicators`: for scanning and hunting agents.
    Upload,
    /// Everything the token's user may do.
    Full,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Upload => "upload",
            Scope::Full => "full",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "upload" => Some(Scope::Upload),
            "full" => Some(Scope::Full),
            _ => None,
        }
    }
}

/// Who a request acts as.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    /// `None` only for coordinators.
    pub org_id: Option<i64>,
    pub scope: Scope,
    /// The token used, when the request came with one (not a browser session).
    pub token_id: Option<i64>,
}

/// Hashes a password with argon2id and a random salt (slow on purpose: call off the async
/// threads).
pub fn hash_password(password: &str) -> Result<String, ServerError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ServerError::Invalid(format!("a password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ServerError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Internal(e.to_string()))
}

/// Checks a password against a stored argon2 hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A fresh secret: 32 random bytes as lower-case hex, with a prefix that says what it is.
pub fn new_secret(prefix: &str) -> Result<String, ServerError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
    Ok(format!("{prefix}{}", hex(&bytes)))
}

/// SHA-256 of a secret, hex: what is stored for tokens and session ids.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

fn check_name(what: &str, value: &str) -> Result<(), ServerError> {
    if value.trim().is_empty() || value.len() > MAX_NAME_BYTES || value.chars().any(char::is_control) {
        return Err(ServerError::Invalid(format!(
            "{what} must be 1 to {MAX_NAME_BYTES} bytes without control characters"
        )));
    }
    Ok(())
}

/// Creates an organisation; returns its id.
pub async fn create_org(db: &Db, name: &str) -> Result<i64, ServerError> {
    check_name("the organisation name", name)?;
    let row =
        sqlx::query("INSERT INTO orgs (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id")
            .bind(name)
            .bind(now())
            .fetch_optional(&db.pool)
            .await?;
    match row {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(ServerError::Conflict(format!("an organisation named {name:?} exists"))),
    }
}

/// Finds an organisation by name.
pub async fn org_id(db: &Db, name: &str) -> Result<i64, ServerError> {
    let row = sqlx::query("SELECT id FROM orgs WHERE name = $1").bind(name).fetch_optional(&db.pool).await?;
    match row {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(ServerError::NotFound(format!("no organisation named {name:?}"))),
    }
}

/// Creates a user. Coordinators have no organisation; admins and members must have one.
pub async fn create_user(
    db: &Db,
    email: &str,
    password: &str,
    role: Role,
    org_id: Option<i64>,
) -> Result<i64, ServerError> {
    check_name("the e-mail address", email)?;
    if !email.contains('@') {
        return Err(ServerError::Invalid("the e-mail address needs an @".into()));
    }
    match (role, org_id) {
        (Role::Coordinator, Some(_)) => {
            return Err(ServerError::Invalid("a coordinator belongs to no organisation".into()));
        }
        (Role::Admin | Role::Member, None) => {
            return Err(ServerError::Invalid("an organisation admin or member needs an organisation".into()));
        }
        _ => {}
    }
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ServerError::Internal(e.to_string()))??;
    let row = sqlx::query(
        "INSERT INTO users (email, password_hash, role, org_id, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email.to_lowercase())
    .bind(hash)
    .bind(role.as_str())
    .bind(org_id)
    .bind(now())
    .fetch_optional(&db.pool)
    .await?;
    match row {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(ServerError::Conflict(format!("a user {email:?} exists"))),
    }
}

/// Finds a user id by e-mail.
pub async fn user_id(db: &Db, email: &str) -> Result<i64, ServerError> {
    let row = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(email.to_lowercase())
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(ServerError::NotFound(format!("no user {email:?}"))),
    }
}

/// A token just created: the only time its secret is known.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewToken {
    pub id: i64,
    pub token: String,
    pub scope: Scope,
    pub name: String,
}

/// Creates an API token for a user.
pub async fn create_token(db: &Db, user_id: i64, name: &str, scope: Scope) -> Result<NewToken, ServerError> {
    check_name("the token name", name)?;
    let token = new_secret("qt_")?;
    let row = sqlx::query(
        "INSERT INTO tokens (token_hash, user_id, name, scope, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(secret_hash(&token))
    .bind(user_id)
    .bind(name)
    .bind(scope.as_str())
    .bind(now())
    .fetch_one(&db.pool)
    .await?;
    Ok(NewToken { id: row.try_get(0)?, token, scope, name: name.to_string() })
}

/// Revokes a token. `org_id` restricts it to tokens of that organisation's users (`None`: any,
/// for the command line and coordinators' own tokens). Returns whether a live token was revoked.
pub async fn revoke_token(db: &Db, token_id: i64, org_id: Option<i64>) -> Result<bool, ServerError> {
    let result = match org_id {
        Some(org) => {
            sqlx::query(
                "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
                 AND user_id IN (SELECT id FROM users WHERE org_id = $3)",
            )
            .bind(now())
            .bind(token_id)
            .bind(org)
            .execute(&db.pool)
            .await?
        }
        None => {
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now())
                .bind(token_id)
                .execute(&db.pool)
                .await?
        }
    };
    Ok(result.rows_affected() == 1)
}

/// The principal of a bearer token, if the token exists and is not revoked.
pub async fn principal_for_token(db: &Db, token: &str) -> Result<Option<Principal>, ServerError> {
    let row = sqlx::query(
        "SELECT t.id, t.scope, u.id, u.email, u.role, u.org_id FROM tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
    )
    .bind(secret_hash(token))
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let scope: String = row.try_get(1)?;
    let role: String = row.try_get(4)?;
    Ok(Some(Principal {
        token_id: Some(row.try_get(0)?),
        scope: Scope::parse(&scope).ok_or_else(|| ServerError::Internal(format!("bad scope {scope:?}")))?,
        user_id: row.try_get(2)?,
        email: row.try_get(3)?,
        role: Role::parse(&role).ok_or_else(|| ServerError::Internal(format!("bad role {role:?}")))?,
        org_id: row.try_get(5)?,
    }))
}

/// Checks an e-mail and password; returns the user id.
pub async fn check_login(db: &Db, email: &str, password: &str) -> Result<Option<i64>, ServerError> {
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email.to_lowercase())
        .fetch_optional(&db.pool)
        .await?;
    let (id, stored): (Option<i64>, String) = match row {
        Some(row) => (Some(row.try_get(0)?), row.try_get(1)?),
        // Spend the same time on unknown users, so timing does not tell which e-mails exist.
        None => (None, DUMMY_HASH.to_string()),
    };
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    Ok(id.filter(|_| ok))
}

/// An argon2id hash of a random password, checked against for unknown users.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0f4mBlK8nB1HBxVw7rAhwB2pvoUyWQeRE2UC5k9Uzz8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(hash_password("short").is_err());
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn secrets_are_random_hex_and_hashed() {
        let a = new_secret("qt_").expect("secret");
        let b = new_secret("qt_").expect("secret");
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 64);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
    }
}
