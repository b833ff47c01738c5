//! Accounts, API tokens and who a request acts as.
//!
//! Invariants:
//! - Passwords are stored only as argon2id PHC strings; API tokens only as the SHA-256 of the
//!   token (a token is 32 random bytes, so a fast hash is enough); a token is shown once, when
//!   created.
//! - A [`Principal`] carries the caller's organisation; every query of the API takes its org id
//!   from the principal, never from the request, so one organisation cannot name another's rows.
//! - An `upload` token may do nothing but `POST /api/v1/reports` and `POST /api/v1/indicators`.

use crate::Refusal;
use crate::{Missing, Thing};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::StoreError;
use crate::db::Db;
use crate::limits::{MAX_NAME_BYTES, MIN_PASSWORD_CHARS};
use quell_model::time::now;

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
    /// The user's language setting (`nl`, `en`), if any (migration 0010).
    pub language: Option<String>,
    /// Whether this credential carries a second factor: a session completed with a TOTP or
    /// recovery code, or a token of an account that has a second factor set up.
    pub second_factor: bool,
    /// The two-factor policy keeps AMBER+STRICT and RED from this credential (set by the
    /// server from the policy in force; the store always answers `false`).
    pub strict_withheld: bool,
}

/// Hashes a password with argon2id and a random salt (slow on purpose: call off the async
/// threads).
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::Invalid(Refusal::PasswordTooShort { min: MIN_PASSWORD_CHARS }));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StoreError::Internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Internal(e.to_string()))
}

/// Checks a password against a stored argon2 hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A fresh secret: 32 random bytes as lower-case hex, with a prefix that says what it is.
pub fn new_secret(prefix: &str) -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Internal(format!("no randomness: {e}")))?;
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

fn check_name(what: &'static str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() || value.len() > MAX_NAME_BYTES || value.chars().any(char::is_control) {
        return Err(StoreError::Invalid(Refusal::BadName { what, max: MAX_NAME_BYTES }));
    }
    Ok(())
}

/// Creates an organisation; returns its id.
pub async fn create_org(db: &Db, name: &str) -> Result<i64, StoreError> {
    check_name("the organisation name", name)?;
    let row =
        sqlx::query("INSERT INTO orgs (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id")
            .bind(name)
            .bind(now())
            .fetch_optional(&db.pool)
            .await?;
    match row {
        Some(row) => Ok(row.try_get("id")?),
        None => Err(StoreError::Conflict(Refusal::OrgExists { name: name.to_string() })),
    }
}

/// Finds an organisation by name.
pub async fn org_id(db: &Db, name: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT id FROM orgs WHERE name = $1").bind(name).fetch_optional(&db.pool).await?;
    match row {
        Some(row) => Ok(row.try_get("id")?),
        None => Err(StoreError::NotFound(Missing::NoOrgNamed { name: name.to_string() })),
    }
}

/// Creates a user. Coordinators have no organisation; admins and members must have one.
pub async fn create_user(
    db: &Db,
    email: &str,
    password: &str,
    role: Role,
    org_id: Option<i64>,
) -> Result<i64, StoreError> {
    check_name("the e-mail address", email)?;
    if !email.contains('@') {
        return Err(StoreError::Invalid(Refusal::EmailNeedsAt));
    }
    match (role, org_id) {
        (Role::Coordinator, Some(_)) => {
            return Err(StoreError::Invalid(Refusal::CoordinatorWithoutOrg));
        }
        (Role::Admin | Role::Member, None) => {
            return Err(StoreError::Invalid(Refusal::MemberNeedsOrg));
        }
        _ => {}
    }
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
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
        Some(row) => Ok(row.try_get("id")?),
        None => Err(StoreError::Conflict(Refusal::UserExists { email: email.to_string() })),
    }
}

/// Creates an account on behalf of `manager`: an organisation admin adds admins and members to
/// their own organisation; a coordinator adds them to any existing organisation
/// (`requested_org`), or adds coordinators. Members may not. Returns the id and organisation.
pub async fn create_account(
    db: &Db,
    manager: &Principal,
    email: &str,
    password: &str,
    role: Role,
    requested_org: Option<i64>,
) -> Result<(i64, Option<i64>), StoreError> {
    let org = match (manager.role, role) {
        (Role::Admin, Role::Admin | Role::Member) => manager.org_id,
        (Role::Coordinator, Role::Coordinator) => None,
        (Role::Coordinator, _) => {
            let org = requested_org.ok_or_else(|| StoreError::Invalid(Refusal::OrgIdRequired))?;
            if !org_exists(db, org).await? {
                return Err(StoreError::NotFound(Missing::thing(Thing::Organisation, org)));
            }
            Some(org)
        }
        _ => return Err(StoreError::Forbidden(Refusal::AddUsers)),
    };
    Ok((create_user(db, email, password, role, org).await?, org))
}

/// Whose accounts `manager` may list: an organisation admin their organisation's; a coordinator
/// one organisation's (`requested_org`) or, without it, the coordinators (`None`). Members may not.
pub fn listable_accounts(manager: &Principal, requested_org: Option<i64>) -> Result<Option<i64>, StoreError> {
    match (manager.role, manager.org_id, requested_org) {
        (Role::Admin, Some(org), _) | (Role::Coordinator, _, Some(org)) => Ok(Some(org)),
        (Role::Coordinator, _, None) => Ok(None),
        _ => Err(StoreError::Forbidden(Refusal::ListUsers)),
    }
}

/// The organisation of the account with this e-mail, if any (for the audit log of logins).
pub async fn user_org(db: &Db, email: &str) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT org_id FROM users WHERE email = $1")
        .bind(email.to_lowercase())
        .fetch_optional(&db.pool)
        .await?;
    Ok(match row {
        Some(row) => row.try_get("org_id")?,
        None => None,
    })
}

/// Finds a user id by e-mail.
pub async fn user_id(db: &Db, email: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(email.to_lowercase())
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(row) => Ok(row.try_get("id")?),
        None => Err(StoreError::NotFound(Missing::NoUserEmail { email: email.to_string() })),
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
pub async fn create_token(db: &Db, user_id: i64, name: &str, scope: Scope) -> Result<NewToken, StoreError> {
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
    Ok(NewToken { id: row.try_get("id")?, token, scope, name: name.to_string() })
}

/// Revokes a token. `org_id` restricts it to tokens of that organisation's users (`None`: any,
/// for the command line and coordinators' own tokens). Returns whether a live token was revoked.
pub async fn revoke_token(db: &Db, token_id: i64, org_id: Option<i64>) -> Result<bool, StoreError> {
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
pub async fn principal_for_token(db: &Db, token: &str) -> Result<Option<Principal>, StoreError> {
    let row: Option<PrincipalRow> = sqlx::query_as(
        "SELECT t.id AS token_id, t.scope, u.id AS user_id, u.email, u.role, u.org_id, u.language, \
         (SELECT COUNT(*) FROM totp_secrets f WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL) AS second_factor \
         FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
         AND u.disabled_at IS NULL",
    )
    .bind(secret_hash(token))
    .fetch_optional(&db.pool)
    .await?;
    row.map(PrincipalRow::into_principal).transpose()
}

/// A principal as stored: a token (or session, without `token_id` and `scope`) joined with its user.
#[derive(sqlx::FromRow)]
struct PrincipalRow {
    token_id: Option<i64>,
    scope: Option<String>,
    user_id: i64,
    email: String,
    role: String,
    org_id: Option<i64>,
    language: Option<String>,
    second_factor: i64,
}

impl PrincipalRow {
    fn into_principal(self) -> Result<Principal, StoreError> {
        let scope = match self.scope.as_deref() {
            None => Scope::Full,
            Some(text) => Scope::parse(text).ok_or_else(|| StoreError::Internal(format!("bad scope {text:?}")))?,
        };
        Ok(Principal {
            token_id: self.token_id,
            scope,
            user_id: self.user_id,
            email: self.email,
            role: Role::parse(&self.role).ok_or_else(|| StoreError::Internal(format!("bad role {:?}", self.role)))?,
            org_id: self.org_id,
            language: self.language,
            second_factor: self.second_factor != 0,
            strict_withheld: false,
        })
    }
}

/// An account's e-mail address and organisation.
pub async fn account_of(db: &Db, user_id: i64) -> Result<(String, Option<i64>), StoreError> {
    let row = sqlx::query("SELECT email, org_id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::User, user_id)))?;
    Ok((row.try_get("email")?, row.try_get("org_id")?))
}

/// Stores a user's language setting (`None`: follow the browser).
pub async fn set_language(db: &Db, user_id: i64, language: Option<&str>) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET language = $1 WHERE id = $2").bind(language).bind(user_id).execute(&db.pool).await?;
    Ok(())
}

/// Checks an e-mail and password; returns the user id.
pub async fn check_login(db: &Db, email: &str, password: &str) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1 AND disabled_at IS NULL")
        .bind(email.to_lowercase())
        .fetch_optional(&db.pool)
        .await?;
    let (id, stored): (Option<i64>, String) = match row {
        Some(row) => (Some(row.try_get("id")?), row.try_get("password_hash")?),
        // Spend the same time on unknown users, so timing does not tell which e-mails exist.
        None => (None, DUMMY_HASH.to_string()),
    };
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok(id.filter(|_| ok))
}

/// Whose tokens a principal may see and revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner {
    /// Every token of the organisation's users (organisation admins).
    Org(i64),
    /// The user's own tokens (everyone else).
    User(i64),
}

impl Principal {
    /// An organisation admin manages every token of the organisation's users; anyone else their own.
    pub fn token_owner(&self) -> TokenOwner {
        match (self.role, self.org_id) {
            (Role::Admin, Some(org)) => TokenOwner::Org(org),
            _ => TokenOwner::User(self.user_id),
        }
    }
}

impl TokenOwner {
    fn filter(self) -> (&'static str, i64) {
        match self {
            TokenOwner::Org(org) => ("u.org_id = $1", org),
            TokenOwner::User(user) => ("u.id = $1", user),
        }
    }
}

/// A token as listed (never its secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scope: String,
    /// The e-mail of the token's user.
    pub email: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// The tokens of `owner`, oldest first.
pub async fn list_tokens(db: &Db, owner: TokenOwner) -> Result<Vec<TokenRow>, StoreError> {
    let (filter, value) = owner.filter();
    Ok(sqlx::query_as(&format!(
        "SELECT t.id, t.name, t.scope, u.email, t.created_at, t.revoked_at FROM tokens t \
         JOIN users u ON u.id = t.user_id WHERE {filter} ORDER BY t.id"
    ))
    .bind(value)
    .fetch_all(&db.pool)
    .await?)
}

/// Revokes a live token of `owner`; whether one was revoked (false: none such, or another's).
pub async fn revoke_owned_token(db: &Db, owner: TokenOwner, token_id: i64) -> Result<bool, StoreError> {
    let (filter, value) = owner.filter();
    let result = sqlx::query(&format!(
        "UPDATE tokens SET revoked_at = $2 WHERE id = $3 AND revoked_at IS NULL \
         AND user_id IN (SELECT u.id FROM users u WHERE {filter})"
    ))
    .bind(value)
    .bind(now())
    .bind(token_id)
    .execute(&db.pool)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// Sets (or, with `None`, removes) a user's OpenPGP public key for encrypted e-mail. The caller
/// checked the key; the user is the caller's own principal.
pub async fn set_openpgp_key(db: &Db, user_id: i64, key: Option<&str>) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE users SET openpgp_key = $1 WHERE id = $2")
        .bind(key)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(Missing::thing(Thing::User, user_id)));
    }
    Ok(())
}

/// Whether an organisation exists.
pub async fn org_exists(db: &Db, org_id: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT id FROM orgs WHERE id = $1").bind(org_id).fetch_optional(&db.pool).await?.is_some())
}

/// Whether an organisation lets coordinators see its host names (`None`: no such organisation).
pub async fn shares_details(db: &Db, org_id: i64) -> Result<Option<bool>, StoreError> {
    let row =
        sqlx::query("SELECT shares_details FROM orgs WHERE id = $1").bind(org_id).fetch_optional(&db.pool).await?;
    row.map(|row| Ok(row.try_get::<i64, _>("shares_details")? != 0)).transpose()
}

/// Lets coordinators see an organisation's host names, or stops it.
pub async fn set_shares_details(db: &Db, org_id: i64, shares: bool) -> Result<(), StoreError> {
    sqlx::query("UPDATE orgs SET shares_details = $1 WHERE id = $2")
        .bind(i64::from(shares))
        .bind(org_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// An account as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    /// `None` for coordinators.
    pub org_id: Option<i64>,
    /// Whether it is disabled (it cannot log in; its sessions ended, its tokens revoked).
    pub disabled: bool,
    /// Whether it logs in with a second factor (a confirmed TOTP enrolment).
    pub two_factor: bool,
}

/// The users of an organisation, or (`None`) the coordinators, by e-mail; removed ones left out.
pub async fn list_users(db: &Db, org_id: Option<i64>) -> Result<Vec<UserRow>, StoreError> {
    const COLUMNS: &str = "id, email, role, org_id, disabled_at, \
        (SELECT COUNT(*) FROM totp_secrets f WHERE f.user_id = users.id AND f.confirmed_at IS NOT NULL) AS two_factor";
    let rows = match org_id {
        Some(org) => {
            let sql = format!("SELECT {COLUMNS} FROM users WHERE org_id = $1 AND removed_at IS NULL ORDER BY email");
            sqlx::query(&sql).bind(org).fetch_all(&db.pool).await?
        }
        None => {
            let sql = format!("SELECT {COLUMNS} FROM users WHERE org_id IS NULL AND removed_at IS NULL ORDER BY email");
            sqlx::query(&sql).fetch_all(&db.pool).await?
        }
    };
    rows.iter()
        .map(|row| {
            Ok(UserRow {
                id: row.try_get("id")?,
                email: row.try_get("email")?,
                role: row.try_get("role")?,
                org_id: row.try_get("org_id")?,
                disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
                two_factor: row.try_get::<i64, _>("two_factor")? > 0,
            })
        })
        .collect()
}

/// What an administrator does to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// It cannot log in; its sessions end and its tokens are revoked.
    Disable,
    /// It can log in again (its old tokens stay revoked).
    Enable,
    /// Disabled for good, and its e-mail address freed for a new account.
    Remove,
}

impl Lifecycle {
    pub fn action(self) -> &'static str {
        match self {
            Lifecycle::Disable => "account_disabled",
            Lifecycle::Enable => "account_enabled",
            Lifecycle::Remove => "account_removed",
        }
    }
}

/// Whose accounts `manager` manages: an organisation admin their organisation's (`Some`), a
/// coordinator every organisation's (`None`; coordinators themselves are managed with
/// `quell admin`); members nobody's (`Forbidden`). Statements use it as
/// `org_id IS NOT NULL AND org_id = COALESCE($scope, org_id)`.
pub fn managed_scope(manager: &Principal) -> Result<Option<i64>, StoreError> {
    match (manager.role, manager.org_id) {
        (Role::Admin, Some(org)) => Ok(Some(org)),
        (Role::Coordinator, _) => Ok(None),
        _ => Err(StoreError::Forbidden(Refusal::ManageAccounts)),
    }
}

/// Disables, re-enables or removes account `user_id` on behalf of `manager`, audited in the same
/// transaction. An organisation admin acts on the accounts of their organisation; a coordinator
/// on any organisation's admins and members (coordinators are managed with `quell admin`).
/// Nobody acts on their own account here. Another organisation's account answers `NotFound`.
pub async fn change_account(
    db: &Db,
    manager: &Principal,
    user_id: i64,
    what: Lifecycle,
) -> Result<UserRow, StoreError> {
    if manager.user_id == user_id {
        return Err(StoreError::Forbidden(Refusal::OwnAccount));
    }
    let scope = managed_scope(manager)?;
    let mut tx = db.pool.begin().await?;
    let at = now();
    let set = match what {
        Lifecycle::Disable => "disabled_at = $1",
        // NULLIF($1, $1) is NULL, typed by the bound time (every engine wants each parameter used).
        Lifecycle::Enable => "disabled_at = NULLIF($1, $1)",
        Lifecycle::Remove => "disabled_at = $1, removed_at = $1, email = 'removed-' || CAST(id AS TEXT) || '@invalid'",
    };
    // The first statement writes, so SQLite takes the write lock at once. An admin's scope is
    // their organisation; a coordinator's (`NULL`) every organisation, never a coordinator.
    let row = sqlx::query(&format!(
        "UPDATE users SET {set} WHERE id = $2 AND removed_at IS NULL AND org_id IS NOT NULL \
         AND org_id = COALESCE($3, org_id) RETURNING id, email, role, org_id, \
         (SELECT COUNT(*) FROM totp_secrets f WHERE f.user_id = users.id AND f.confirmed_at IS NOT NULL) AS two_factor"
    ))
    .bind(at)
    .bind(user_id)
    .bind(scope)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(StoreError::NotFound(Missing::thing(Thing::User, user_id)));
    };
    let email: String = row.try_get("email")?;
    let role: String = row.try_get("role")?;
    let org: Option<i64> = row.try_get("org_id")?;
    if what != Lifecycle::Enable {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    }
    crate::audit::record(
        &mut *tx,
        &crate::audit::Event {
            actor: crate::audit::Actor::of(manager),
            action: what.action(),
            org_id: org,
            target: format!("user:{user_id} {email}"),
            detail: String::new(),
        },
    )
    .await?;
    tx.commit().await?;
    let two_factor = row.try_get::<i64, _>("two_factor")? > 0;
    Ok(UserRow { id: user_id, email, role, org_id: org, disabled: what != Lifecycle::Enable, two_factor })
}

/// Changes the caller's own password after checking the current one (`Forbidden` when it is
/// wrong); ends the account's other sessions. Audited.
pub async fn change_password(db: &Db, principal: &Principal, current: &str, new: &str) -> Result<(), StoreError> {
    if check_login(db, &principal.email, current).await? != Some(principal.user_id) {
        return Err(StoreError::Forbidden(Refusal::WrongPassword));
    }
    let new = new.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(principal.user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(principal.user_id).execute(&mut *tx).await?;
    crate::audit::record(
        &mut *tx,
        &crate::audit::Event {
            actor: crate::audit::Actor::of(principal),
            action: "password_changed",
            org_id: principal.org_id,
            target: format!("user:{} {}", principal.user_id, principal.email),
            detail: String::new(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- browser sessions ----

/// A logged-in browser's principal and its CSRF token.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub principal: Principal,
    pub csrf: String,
}

/// The live (unexpired) session whose cookie secret is `secret`.
pub async fn session(db: &Db, secret: &str) -> Result<Option<SessionRecord>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        principal: PrincipalRow,
        csrf: String,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT NULL AS token_id, NULL AS scope, u.id AS user_id, u.email, u.role, u.org_id, u.language, \
         s.two_factor AS second_factor, s.csrf \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2 \
         AND u.disabled_at IS NULL",
    )
    .bind(secret_hash(secret))
    .bind(now())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|row| Ok(SessionRecord { principal: row.principal.into_principal()?, csrf: row.csrf })).transpose()
}

/// A new session for a user who just logged in (`two_factor`: with a second factor): returns
/// the cookie secret (stored only hashed).
pub async fn create_session(
    db: &Db,
    user_id: i64,
    csrf: &str,
    lifetime_secs: i64,
    two_factor: bool,
) -> Result<String, StoreError> {
    let secret = new_secret("qs_")?;
    let at = now();
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at, two_factor) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(secret_hash(&secret))
    .bind(user_id)
    .bind(csrf)
    .bind(at)
    .bind(at + lifetime_secs)
    .bind(i64::from(two_factor))
    .execute(&db.pool)
    .await?;
    Ok(secret)
}

/// Marks the session whose cookie secret is `secret` as one with a second factor (its owner
/// just confirmed a TOTP enrolment with a code).
pub async fn mark_session_two_factor(db: &Db, secret: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET two_factor = 1 WHERE id_hash = $1")
        .bind(secret_hash(secret))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Ends the session whose cookie secret is `secret` (logout).
pub async fn delete_session(db: &Db, secret: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(secret_hash(secret)).execute(&db.pool).await?;
    Ok(())
}

/// Failed logins recorded under `key` (an e-mail, or `address:<ip>`) since `since`.
pub async fn login_failures(db: &Db, key: &str, since: i64) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE email = $1 AND at > $2")
        .bind(key)
        .bind(since)
        .fetch_one(&db.pool)
        .await?
        .try_get("n")?)
}

/// Records a failed login under every key (and forgets failures older than `forget_before`).
pub async fn record_login_failure(db: &Db, keys: &[&str], forget_before: i64) -> Result<(), StoreError> {
    let at = now();
    sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(forget_before).execute(&db.pool).await?;
    for key in keys {
        sqlx::query("INSERT INTO login_failures (email, at) VALUES ($1, $2)")
            .bind(key)
            .bind(at)
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}

/// Failed logins recorded under `key` since `since`, and the time of the latest.
pub async fn login_failures_and_last(db: &Db, key: &str, since: i64) -> Result<(i64, Option<i64>), StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n, MAX(at) AS last FROM login_failures WHERE email = $1 AND at > $2")
        .bind(key)
        .bind(since)
        .fetch_one(&db.pool)
        .await?;
    Ok((row.try_get("n")?, row.try_get("last")?))
}

/// The key under which failures of one account from one client address are counted.
pub fn login_pair_key(email: &str, address: &str) -> String {
    format!("pair:{email}|{address}")
}

/// Forgets the failed logins recorded under these keys (after a successful login: the account's
/// back-off and the successful client's own count; another client's count stays).
pub async fn forget_login_failures(db: &Db, keys: &[&str]) -> Result<(), StoreError> {
    for key in keys {
        sqlx::query("DELETE FROM login_failures WHERE email = $1").bind(key).execute(&db.pool).await?;
    }
    Ok(())
}

/// Forgets the failed logins of an e-mail, from every address (`quell admin unlock`). Returns how many were forgotten.
pub async fn clear_login_failures(db: &Db, email: &str) -> Result<u64, StoreError> {
    let pairs = format!("{}%", crate::like_escape(&login_pair_key(email, "")));
    let result = sqlx::query("DELETE FROM login_failures WHERE email = $1 OR email LIKE $2 ESCAPE '\\'")
        .bind(email)
        .bind(pairs)
        .execute(&db.pool)
        .await?;
    Ok(result.rows_affected())
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
