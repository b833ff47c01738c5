//! Signed detection packs that `quell serve` hands to agents (`GET /api/v1/packs`).
//!
//! Every upload is a row of `packs` (migration 0008): the history is kept. The *current* pack of
//! a name is its latest row, unless that row was withdrawn ([`withdraw`]); an upload after a
//! withdrawal is current again.
//!
//! Invariants: packs are not organisation data (every authenticated caller reads the current
//! ones; only coordinators write, which the server's extractor decides). The store checks no
//! signature: the server verifies (`quell_packs::signed`) before calling [`store`], and agents
//! verify again against their own pinned key, so a row changed in the database is refused there.

use crate::Missing;
use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::{Result, StoreError};
use quell_model::time::now;

/// A pack as stored and as agents receive it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredPack {
    pub id: i64,
    pub name: String,
    /// SHA-256 of the pack's text, hex.
    pub sha256: String,
    pub uploaded_at: i64,
    pub expires_at: i64,
    /// The id of the minisign key that signed it (as checked at upload).
    pub key_id: String,
    /// The pack's TOML text, exactly as signed.
    pub pack: String,
    /// The minisign signature's text.
    pub signature: String,
    /// When a coordinator withdrew it (only ever set on a name's latest upload).
    pub withdrawn_at: Option<i64>,
}

/// What an upload carries once the server verified it.
#[derive(Debug, Clone)]
pub struct NewPack<'a> {
    pub name: &'a str,
    pub sha256: &'a str,
    pub pack: &'a str,
    pub signature: &'a str,
    pub key_id: &'a str,
    pub expires_at: i64,
}

const COLUMNS: &str =
    "p.id, p.name, p.sha256, p.uploaded_at, p.expires_at, p.key_id, p.pack, p.signature, p.withdrawn_at";

/// Stores an upload by user `user_id`; it becomes the current pack of its name. Returns its id.
pub async fn store(db: &Db, user_id: i64, pack: &NewPack<'_>) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO packs (name, sha256, pack, signature, key_id, expires_at, uploaded_at, uploaded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(pack.name)
    .bind(pack.sha256)
    .bind(pack.pack)
    .bind(pack.signature)
    .bind(pack.key_id)
    .bind(pack.expires_at)
    .bind(now())
    .bind(user_id)
    .fetch_one(&db.pool)
    .await?
    .try_get("id")?)
}

/// The current pack of every name, by name.
pub async fn current(db: &Db) -> Result<Vec<StoredPack>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM packs p WHERE p.withdrawn_at IS NULL \
         AND p.id = (SELECT MAX(q.id) FROM packs q WHERE q.name = p.name) ORDER BY p.name"
    ))
    .fetch_all(&db.pool)
    .await?)
}

/// Every upload of a name, newest first (withdrawn ones included).
pub async fn history(db: &Db, name: &str) -> Result<Vec<StoredPack>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM packs p WHERE p.name = $1 ORDER BY p.id DESC"))
        .bind(name)
        .fetch_all(&db.pool)
        .await?)
}

/// Withdraws the current pack of `name`: agents no longer receive it (its rows stay).
/// `NotFound` when the name has no current pack.
pub async fn withdraw(db: &Db, name: &str) -> Result<()> {
    let done = sqlx::query(
        "UPDATE packs SET withdrawn_at = $2 WHERE withdrawn_at IS NULL \
         AND id = (SELECT MAX(q.id) FROM packs q WHERE q.name = $1)",
    )
    .bind(name)
    .bind(now())
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(Missing::NoPack { name: name.to_string() }));
    }
    Ok(())
}
