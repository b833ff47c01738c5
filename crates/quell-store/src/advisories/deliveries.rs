//! The delivery queue (`deliveries`) and its log (`delivery_attempts`).
//!
//! - State lives in the database, so several server processes share the work: a process claims
//!   a due delivery with a conditional `UPDATE` (pending and due, or claimed by a process whose
//!   lease ran out); only the one whose update changed the row sends it.
//! - Every attempt is logged (time, duration, HTTP status or 0, error).

use serde::Serialize;

use crate::Result;
use crate::db::Db;

/// Claims up to `batch` due deliveries for this process until `lease_until_ms`; returns the ids
/// this process claimed (a delivery another process claimed meanwhile is not among them).
pub async fn claim_due(db: &Db, at_ms: i64, lease_until_ms: i64, batch: i64) -> Result<Vec<i64>> {
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM deliveries WHERE (state = 'pending' AND next_at_ms <= $1) \
         OR (state = 'sending' AND lease_until_ms < $1) ORDER BY next_at_ms LIMIT $2",
    )
    .bind(at_ms)
    .bind(batch)
    .fetch_all(&db.pool)
    .await?;
    let mut claimed = Vec::new();
    for id in due {
        let updated = sqlx::query(
            "UPDATE deliveries SET state = 'sending', lease_until_ms = $1, attempts = attempts + 1 WHERE id = $2 \
             AND ((state = 'pending' AND next_at_ms <= $3) OR (state = 'sending' AND lease_until_ms < $3))",
        )
        .bind(lease_until_ms)
        .bind(id)
        .bind(at_ms)
        .execute(&db.pool)
        .await?;
        if updated.rows_affected() == 1 {
            claimed.push(id);
        }
    }
    Ok(claimed)
}

/// One queued delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub version_id: i64,
    pub org_id: Option<i64>,
    pub user_id: Option<i64>,
    /// `webhook` or `email`.
    pub channel: String,
    /// The URL or the e-mail address.
    pub target: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// A delivery by id.
pub async fn delivery(db: &Db, id: i64) -> Result<Delivery> {
    Ok(sqlx::query_as("SELECT version_id, org_id, user_id, channel, target, attempts FROM deliveries WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await?)
}

/// The organisation, role and language of an e-mail's addressee (`None`: the account is gone).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Addressee {
    pub org_id: Option<i64>,
    pub role: String,
    /// The user's OpenPGP public key (armored), if they registered one (migration 0009).
    pub openpgp_key: Option<String>,
    /// The language the user reads (`nl`, `en`; migration 0010), if set.
    pub language: Option<String>,
}

/// The addressee of an e-mail delivery.
pub async fn addressee(db: &Db, user_id: i64) -> Result<Option<Addressee>> {
    Ok(sqlx::query_as("SELECT org_id, role, openpgp_key, language FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?)
}

/// The signing secret of an organisation's webhook (`None`: it removed its webhook).
pub async fn webhook_secret(db: &Db, org_id: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT secret FROM org_webhooks WHERE org_id = $1")
        .bind(org_id)
        .fetch_optional(&db.pool)
        .await?)
}

/// Logs an attempt: its time, duration, HTTP (or SMTP) status or 0, error.
pub async fn record_attempt(
    db: &Db,
    id: i64,
    at: i64,
    duration_ms: i64,
    status: i64,
    error: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO delivery_attempts (delivery_id, at, duration_ms, status, error) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(at)
    .bind(duration_ms)
    .bind(status)
    .bind(error)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Marks a delivery delivered.
pub async fn mark_delivered(db: &Db, id: i64, at: i64) -> Result<()> {
    sqlx::query("UPDATE deliveries SET state = 'delivered', delivered_at = $1, last_error = NULL WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Marks a failed attempt: retried at `next_at_ms`, or (`give_up`) failed for good.
pub async fn mark_failed(db: &Db, id: i64, give_up: bool, next_at_ms: i64, error: &str) -> Result<()> {
    sqlx::query("UPDATE deliveries SET state = $1, next_at_ms = $2, last_error = $3 WHERE id = $4")
        .bind(if give_up { "failed" } else { "pending" })
        .bind(next_at_ms)
        .bind(error)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The delivery log of a version (for coordinators).
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub version: String,
    pub org_id: Option<i64>,
    pub channel: String,
    pub target: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub log: Vec<AttemptEntry>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttemptEntry {
    pub at: i64,
    pub duration_ms: i64,
    pub status: i64,
    pub error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct LogRow {
    id: i64,
    version_index: i64,
    org_id: Option<i64>,
    channel: String,
    target: String,
    state: String,
    attempts: i64,
    last_error: Option<String>,
    delivered_at: Option<i64>,
}

/// The deliveries of every version of an advisory, with their attempts.
pub async fn log(db: &Db, advisory_id: i64) -> Result<Vec<LogEntry>> {
    let rows: Vec<LogRow> = sqlx::query_as(
        "SELECT d.id, v.version AS version_index, d.org_id, d.channel, d.target, d.state, d.attempts, d.last_error, \
         d.delivered_at FROM deliveries d JOIN advisory_versions v ON v.id = d.version_id WHERE v.advisory_id = $1 \
         ORDER BY d.id",
    )
    .bind(advisory_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        let log = sqlx::query_as(
            "SELECT at, duration_ms, status, error FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id",
        )
        .bind(row.id)
        .fetch_all(&db.pool)
        .await?;
        out.push(LogEntry {
            id: row.id,
            version: quell_advisory::Version(row.version_index).to_string(),
            org_id: row.org_id,
            channel: row.channel,
            target: row.target,
            state: row.state,
            attempts: row.attempts,
            last_error: row.last_error,
            delivered_at: row.delivered_at,
            log,
        });
    }
    Ok(out)
}
