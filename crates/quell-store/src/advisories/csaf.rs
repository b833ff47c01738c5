//! CSAF: the date of the provider directory, and advisories imported from other providers
//! (`external_advisories`), stored as sent with the fields they are listed by.

use crate::Refusal;
use crate::{Missing, Thing};
use quell_advisory::csaf::Imported;
use sqlx::Row;

use crate::db::Db;
use crate::{Result, StoreError};
use quell_model::time::now;

/// The newest publication of any advisory (the provider metadata's `last_updated`).
pub async fn last_published(db: &Db) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT MAX(published_at) AS last FROM advisory_versions WHERE status = 'published'")
        .fetch_one(&db.pool)
        .await?;
    Ok(row.try_get::<Option<i64>, _>("last")?)
}

/// The first publication time of every published advisory, by advisory id (a CSAF document's
/// year folder is the year of its initial release, requirement 11).
pub async fn first_published_all(db: &Db) -> Result<std::collections::HashMap<i64, i64>> {
    let rows = sqlx::query(
        "SELECT advisory_id, MIN(published_at) AS first FROM advisory_versions WHERE status = 'published' \
         GROUP BY advisory_id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out = std::collections::HashMap::with_capacity(rows.len());
    for row in rows {
        if let Some(first) = row.try_get::<Option<i64>, _>("first")? {
            out.insert(row.try_get::<i64, _>("advisory_id")?, first);
        }
    }
    Ok(out)
}

/// Where an imported document came from when a subscription's poll fetched it.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub subscription_id: i64,
    /// The URL the document was fetched from.
    pub url: &'a str,
}

/// Stores an imported document (its TLP label upper-cased) — uploaded by a coordinator
/// (`source` `None`) or fetched by a subscription; returns its id. The same publisher, tracking
/// id and version twice is a conflict.
pub async fn import(
    db: &Db,
    imported: &Imported,
    document: &str,
    user: i64,
    source: Option<Source<'_>>,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO external_advisories (publisher, tracking_id, version, title, tlp_label, current_release_date, \
         cves, document, imported_by, imported_at, subscription_id, source_url) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (publisher, tracking_id, version) DO NOTHING RETURNING id",
    )
    .bind(&imported.publisher)
    .bind(&imported.tracking_id)
    .bind(&imported.version)
    .bind(&imported.title)
    .bind(imported.tlp_label.to_ascii_uppercase())
    .bind(&imported.current_release_date)
    .bind(imported.cves.join(","))
    .bind(document)
    .bind(user)
    .bind(now())
    .bind(source.map(|s| s.subscription_id))
    .bind(source.map(|s| s.url))
    .fetch_optional(&db.pool)
    .await?;
    match row {
        Some(row) => Ok(row.try_get("id")?),
        None => Err(StoreError::Conflict(Refusal::AlreadyImported {
            tracking_id: imported.tracking_id.clone(),
            version: imported.version.clone(),
            publisher: imported.publisher.clone(),
        })),
    }
}

/// An imported advisory as listed.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ExternalRow {
    pub id: i64,
    pub publisher: String,
    pub tracking_id: String,
    pub version: String,
    pub title: String,
    pub tlp_label: String,
    pub current_release_date: String,
    /// Comma separated.
    pub cves: String,
    pub imported_by: i64,
    /// The subscription whose poll fetched it (`None`: uploaded by a coordinator).
    pub subscription_id: Option<i64>,
    /// Where it was fetched from.
    pub source_url: Option<String>,
}

const EXTERNAL_COLUMNS: &str = "id, publisher, tracking_id, version, title, tlp_label, current_release_date, cves, \
     imported_by, subscription_id, source_url";

/// The newest imports, at most `limit`, newest first.
pub async fn list_external(db: &Db, limit: i64) -> Result<Vec<ExternalRow>> {
    Ok(sqlx::query_as(&format!("SELECT {EXTERNAL_COLUMNS} FROM external_advisories ORDER BY id DESC LIMIT $1"))
        .bind(limit)
        .fetch_all(&db.pool)
        .await?)
}

/// One import with its document as stored.
pub async fn get_external(db: &Db, id: i64) -> Result<(ExternalRow, String)> {
    let row: ExternalRow = sqlx::query_as(&format!("SELECT {EXTERNAL_COLUMNS} FROM external_advisories WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::ImportedAdvisory, id)))?;
    let document: String = sqlx::query("SELECT document FROM external_advisories WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await?
        .try_get("document")?;
    Ok((row, document))
}
