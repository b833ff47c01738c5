//! Subscriptions to other CSAF providers (the aggregator): the provider-metadata.json URLs
//! coordinators subscribed to, with an optional pinned OpenPGP key and access token; what each
//! poll did, per document (`csaf_subscription_log`, append-only); the validators of conditional
//! requests and the feed time of each document processed (`csaf_fetch_cache`). The documents
//! themselves are stored by [`super::csaf::import`] with their subscription (migration 0013).
//!
//! Polls are claimed by a conditional `UPDATE` of `claimed_at`, so several processes sharing
//! one database poll each subscription once per interval.

use crate::Refusal;
use crate::{Missing, Thing};
use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::{Result, StoreError};
use quell_model::time::now;

/// Most log entries read at once (the newest).
pub const MAX_LOG_ROWS: i64 = 1_000;
/// Most log entries kept per subscription: older ones are dropped after each poll (a provider
/// that keeps serving a refused document is logged at every poll).
pub const KEPT_LOG_ROWS: i64 = 10_000;

/// A subscription as a coordinator creates it (checked by the server).
#[derive(Debug, Clone, Default)]
pub struct NewSubscription {
    pub metadata_url: String,
    pub pinned_fingerprint: Option<String>,
    pub pinned_key: Option<String>,
    pub access_token: Option<String>,
}

/// A subscription as stored. The pinned key and the access token are never serialised.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct SubscriptionRow {
    pub id: i64,
    pub metadata_url: String,
    pub pinned_fingerprint: Option<String>,
    #[serde(skip)]
    pub pinned_key: Option<String>,
    #[serde(skip)]
    pub access_token: Option<String>,
    pub created_by: i64,
    pub created_at: i64,
    pub polled_at: Option<i64>,
    /// `new` (never polled), `ok`, `partial` (some documents or feeds refused), `failed`.
    pub poll_status: String,
    pub poll_summary: String,
    pub publisher_name: Option<String>,
    pub publisher_namespace: Option<String>,
    pub publisher_category: Option<String>,
    pub role: Option<String>,
    pub metadata_updated: Option<String>,
    /// The metadata's `list_on_CSAF_aggregators` (1) at the last read.
    pub listed: i64,
}

const COLUMNS: &str = "id, metadata_url, pinned_fingerprint, pinned_key, access_token, created_by, created_at, \
     polled_at, poll_status, poll_summary, publisher_name, publisher_namespace, publisher_category, role, \
     metadata_updated, listed";

/// Subscribes; a URL subscribed before and removed is subscribed again. 409 when it is current.
pub async fn create(db: &Db, new: &NewSubscription, user: i64) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO csaf_subscriptions (metadata_url, pinned_fingerprint, pinned_key, access_token, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (metadata_url) DO UPDATE SET pinned_fingerprint = excluded.pinned_fingerprint, \
         pinned_key = excluded.pinned_key, access_token = excluded.access_token, created_by = excluded.created_by, \
         created_at = excluded.created_at, removed_at = NULL, claimed_at = NULL, polled_at = NULL, \
         poll_status = 'new', poll_summary = '' \
         WHERE csaf_subscriptions.removed_at IS NOT NULL RETURNING id",
    )
    .bind(&new.metadata_url)
    .bind(&new.pinned_fingerprint)
    .bind(&new.pinned_key)
    .bind(&new.access_token)
    .bind(user)
    .bind(now())
    .fetch_optional(&db.pool)
    .await?;
    let id: i64 = match row {
        Some(row) => row.try_get("id")?,
        None => return Err(StoreError::Conflict(Refusal::Subscribed { url: new.metadata_url.to_string() })),
    };
    // A subscription taken up again (perhaps with another pin) reads everything afresh.
    sqlx::query("DELETE FROM csaf_fetch_cache WHERE subscription_id = $1").bind(id).execute(&db.pool).await?;
    Ok(id)
}

/// The current subscriptions, oldest first.
pub async fn list(db: &Db) -> Result<Vec<SubscriptionRow>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM csaf_subscriptions WHERE removed_at IS NULL ORDER BY id"))
        .fetch_all(&db.pool)
        .await?)
}

/// One current subscription.
pub async fn get(db: &Db, id: i64) -> Result<SubscriptionRow> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM csaf_subscriptions WHERE id = $1 AND removed_at IS NULL"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::Subscription, id)))
}

/// Ends a subscription; what it imported stays (marked with it).
pub async fn remove(db: &Db, id: i64) -> Result<()> {
    let done = sqlx::query("UPDATE csaf_subscriptions SET removed_at = $1 WHERE id = $2 AND removed_at IS NULL")
        .bind(now())
        .bind(id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(Missing::thing(Thing::Subscription, id)));
    }
    Ok(())
}

/// Claims the subscriptions not claimed since `cutoff` (a conditional update per row, so two
/// processes never poll one subscription at once); returns the ids this process claimed.
pub async fn claim_due(db: &Db, at: i64, cutoff: i64) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT id FROM csaf_subscriptions WHERE removed_at IS NULL AND (claimed_at IS NULL OR claimed_at <= $1) \
         ORDER BY id",
    )
    .bind(cutoff)
    .fetch_all(&db.pool)
    .await?;
    let mut claimed = Vec::new();
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let done = sqlx::query(
            "UPDATE csaf_subscriptions SET claimed_at = $1 WHERE id = $2 AND (claimed_at IS NULL OR claimed_at <= $3)",
        )
        .bind(at)
        .bind(id)
        .bind(cutoff)
        .execute(&db.pool)
        .await?;
        if done.rows_affected() == 1 {
            claimed.push(id);
        }
    }
    Ok(claimed)
}

/// Marks a subscription claimed now (a poll asked for by a coordinator).
pub async fn claim_now(db: &Db, id: i64) -> Result<()> {
    sqlx::query("UPDATE csaf_subscriptions SET claimed_at = $1 WHERE id = $2")
        .bind(now())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// What the last metadata read said about the provider.
#[derive(Debug, Clone, Default)]
pub struct ProviderSeen {
    pub publisher_name: String,
    pub publisher_namespace: String,
    pub publisher_category: String,
    pub role: String,
    pub last_updated: String,
    pub listed: bool,
}

/// Records the end of a poll: its status, summary and (when the metadata was read) the provider,
/// in one transaction, so a reader never sees a finished poll without the provider it read.
pub async fn finish_poll(db: &Db, id: i64, status: &str, summary: &str, seen: Option<&ProviderSeen>) -> Result<()> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE csaf_subscriptions SET polled_at = $1, poll_status = $2, poll_summary = $3 WHERE id = $4")
        .bind(now())
        .bind(status)
        .bind(summary)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if let Some(p) = seen {
        sqlx::query(
            "UPDATE csaf_subscriptions SET publisher_name = $1, publisher_namespace = $2, publisher_category = $3, \
             role = $4, metadata_updated = $5, listed = $6 WHERE id = $7",
        )
        .bind(&p.publisher_name)
        .bind(&p.publisher_namespace)
        .bind(&p.publisher_category)
        .bind(&p.role)
        .bind(&p.last_updated)
        .bind(i64::from(p.listed))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One entry of a subscription's log.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub at: i64,
    pub url: String,
    /// `imported`, `refused` (the document failed a check) or `error` (it could not be read).
    pub outcome: String,
    /// A stable code: `wrong_hash`, `bad_signature`, `too_large`, `invalid_csaf`, `redirects`, …
    pub reason: String,
    pub detail: String,
}

/// Appends to a subscription's log.
pub async fn log(db: &Db, id: i64, url: &str, outcome: &str, reason: &str, detail: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO csaf_subscription_log (subscription_id, at, url, outcome, reason, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(now())
    .bind(url)
    .bind(outcome)
    .bind(reason)
    .bind(detail)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Drops all but the newest [`KEPT_LOG_ROWS`] entries of a subscription's log.
pub async fn prune_log(db: &Db, id: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM csaf_subscription_log WHERE subscription_id = $1 AND id <= (SELECT id FROM \
         csaf_subscription_log WHERE subscription_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
    )
    .bind(id)
    .bind(KEPT_LOG_ROWS)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The newest entries of a subscription's log, newest first, at most `limit`.
pub async fn log_entries(db: &Db, id: i64, limit: i64) -> Result<Vec<LogEntry>> {
    Ok(sqlx::query_as(
        "SELECT id, at, url, outcome, reason, detail FROM csaf_subscription_log WHERE subscription_id = $1 \
         ORDER BY id DESC LIMIT $2",
    )
    .bind(id)
    .bind(limit.min(MAX_LOG_ROWS))
    .fetch_all(&db.pool)
    .await?)
}

/// What was remembered of one URL: the validators of its last answer and, for a document, the
/// feed time at which it was last imported or found unchanged, and its SHA-256.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct CacheRow {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub marker: Option<String>,
    pub sha256: Option<String>,
}

/// Everything remembered for a subscription.
pub async fn cache(db: &Db, id: i64) -> Result<Vec<CacheRow>> {
    Ok(sqlx::query_as(
        "SELECT url, etag, last_modified, marker, sha256 FROM csaf_fetch_cache WHERE subscription_id = $1",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?)
}

/// Remembers a URL's validators (replacing what was remembered).
pub async fn put_cache(db: &Db, id: i64, row: &CacheRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO csaf_fetch_cache (subscription_id, url, etag, last_modified, marker, sha256, fetched_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (subscription_id, url) DO UPDATE SET etag = excluded.etag, \
         last_modified = excluded.last_modified, marker = excluded.marker, sha256 = excluded.sha256, \
         fetched_at = excluded.fetched_at",
    )
    .bind(id)
    .bind(&row.url)
    .bind(&row.etag)
    .bind(&row.last_modified)
    .bind(&row.marker)
    .bind(&row.sha256)
    .bind(now())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The subscriptions whose provider asked to be listed on aggregators and whose metadata was
/// read (aggregator.json).
pub async fn listed(db: &Db) -> Result<Vec<SubscriptionRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM csaf_subscriptions WHERE removed_at IS NULL AND listed = 1 AND role IS NOT NULL \
         ORDER BY id"
    ))
    .fetch_all(&db.pool)
    .await?)
}
