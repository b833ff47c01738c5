//! Stored scan reports: one report (or a group-commit batch of them) in one transaction —
//! the host upserted, the report row (idempotent on the SHA-256 of its body within the
//! organisation), its findings in multi-row inserts, its errors, its CVE counts, and the host's
//! latest picture moved when the report is the newest scan.
//!
//! Invariants: nothing is acknowledged before the commit (the caller gets [`Stored`] only from a
//! committed transaction); a retried upload stores nothing and answers the first id.

use std::collections::BTreeMap;

use quell_model::time::now;
use quell_model::{Finding, ScanError, ScanRecord, ScanSummary};
use serde::Serialize;
use sqlx::Row;

use crate::batch::insert_rows;
use crate::limits::FINDINGS_PER_INSERT;
use crate::{Db, StoreError};

/// A report that passed validation, ready to store.
#[derive(Debug)]
pub struct ParsedReport {
    pub sha256: String,
    pub host: String,
    pub scanned_at: i64,
    pub summary: ScanSummary,
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    /// The host's component list (its `--inventory` records and the packs' findings), stored as
    /// the host's `scan` list when not empty ([`crate::components`]).
    pub inventory: Vec<crate::components::NewComponent>,
}

/// The answer to an upload.
#[derive(Debug, Clone, Serialize)]
pub struct Stored {
    pub id: i64,
    pub host_id: i64,
    /// True when the same report had been stored before (a retry): nothing new was written.
    pub duplicate: bool,
    pub findings: u64,
    pub affected: u64,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Stores a validated report for an organisation, in one transaction.
pub async fn store(db: &Db, org_id: i64, token_id: i64, report: &ParsedReport) -> Result<Stored, StoreError> {
    let mut tx = db.pool.begin().await?;
    let stored = store_in(&mut tx, org_id, token_id, report).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Stores several reports in one transaction (what a group commit does; used by the benchmark's
/// floor).
pub async fn store_many(
    db: &Db,
    org_id: i64,
    token_id: i64,
    reports: &[ParsedReport],
) -> Result<Vec<Stored>, StoreError> {
    let mut tx = db.pool.begin().await?;
    let mut results = Vec::with_capacity(reports.len());
    for report in reports {
        results.push(store_in(&mut tx, org_id, token_id, report).await?);
    }
    tx.commit().await?;
    Ok(results)
}

/// Stores one report inside an open transaction (the caller commits).
pub async fn store_in(
    tx: &mut sqlx::AnyConnection,
    org_id: i64,
    token_id: i64,
    report: &ParsedReport,
) -> Result<Stored, StoreError> {
    let received = now();
    let affected = report.findings.iter().filter(|f| f.is_affected()).count() as u64;
    // The first statement writes, so SQLite takes the write lock at once (no upgrade deadlock).
    let host_id: i64 = sqlx::query(
        "INSERT INTO hosts (org_id, name, first_seen, last_seen) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (org_id, name) DO UPDATE SET last_seen = \
         CASE WHEN hosts.last_seen > excluded.last_seen THEN hosts.last_seen ELSE excluded.last_seen END \
         RETURNING id",
    )
    .bind(org_id)
    .bind(&report.host)
    .bind(report.scanned_at)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    let s = &report.summary;
    let inserted = sqlx::query(
        "INSERT INTO reports (org_id, host_id, body_sha256, received_at, scanned_at, tool_version, files, archives, \
         bytes, findings, affected, errors, elapsed_ms, token_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (org_id, body_sha256) DO NOTHING RETURNING id",
    )
    .bind(org_id)
    .bind(host_id)
    .bind(&report.sha256)
    .bind(received)
    .bind(report.scanned_at)
    .bind(s.tool_version.clone())
    .bind(to_i64(s.files))
    .bind(to_i64(s.archives))
    .bind(to_i64(s.bytes))
    .bind(to_i64(report.findings.len() as u64))
    .bind(to_i64(affected))
    .bind(to_i64(report.errors.len() as u64))
    .bind(to_i64(s.elapsed_ms))
    .bind(token_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = inserted else {
        // Stored before (a retry): answer the first id. The host's last_seen was only re-set
        // to a value it already had.
        let row =
            sqlx::query("SELECT id, host_id, findings, affected FROM reports WHERE org_id = $1 AND body_sha256 = $2")
                .bind(org_id)
                .bind(&report.sha256)
                .fetch_one(&mut *tx)
                .await?;
        return Ok(Stored {
            id: row.try_get("id")?,
            host_id: row.try_get("host_id")?,
            duplicate: true,
            findings: u64::try_from(row.try_get::<i64, _>("findings")?).unwrap_or(0),
            affected: u64::try_from(row.try_get::<i64, _>("affected")?).unwrap_or(0),
        });
    };
    let report_id: i64 = row.try_get("id")?;

    insert_rows(
        tx,
        "findings",
        &["report_id", "org_id", "path", "component", "version", "version_range", "affected", "record"],
        "",
        FINDINGS_PER_INSERT,
        &report.findings,
        |q, finding| {
            let record = serde_json::to_string(&ScanRecord::Finding(finding.clone()))
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            Ok(q.bind(report_id)
                .bind(org_id)
                .bind(finding.path.join("!/"))
                .bind(finding.component.name())
                .bind(finding.version.as_deref())
                .bind(finding.version_range.as_deref())
                .bind(i64::from(finding.is_affected()))
                .bind(record))
        },
    )
    .await?;
    for error in &report.errors {
        sqlx::query("INSERT INTO report_errors (report_id, path, message) VALUES ($1, $2, $3)")
            .bind(report_id)
            .bind(error.path.join("!/"))
            .bind(&error.message)
            .execute(&mut *tx)
            .await?;
    }
    let mut counts: BTreeMap<(String, String), i64> = BTreeMap::new();
    for finding in &report.findings {
        for verdict in &finding.cves {
            *counts.entry((verdict.id.to_string(), verdict.status.to_string())).or_default() += 1;
        }
    }
    if !counts.is_empty() {
        let mut sql = String::from("INSERT INTO report_cve_counts (report_id, cve, status, count) VALUES ");
        for i in 0..counts.len() {
            let b = i * 4;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4));
        }
        let mut query = sqlx::query(&sql);
        for ((cve, status), count) in counts {
            query = query.bind(report_id).bind(cve).bind(status).bind(count);
        }
        query.execute(&mut *tx).await?;
    }
    // The host's latest picture is the report with the newest scan time (ties: the newer upload).
    sqlx::query(
        "UPDATE hosts SET latest_report_id = $1 WHERE id = $2 AND (latest_report_id IS NULL OR \
         (SELECT scanned_at FROM reports WHERE id = hosts.latest_report_id) <= $3)",
    )
    .bind(report_id)
    .bind(host_id)
    .bind(report.scanned_at)
    .execute(&mut *tx)
    .await?;
    if !report.inventory.is_empty() {
        let source = crate::components::NewSource {
            kind: crate::components::SourceKind::Scan,
            body_sha256: report.sha256.clone(),
            taken_at: report.scanned_at,
            tool: s.tool_version.clone(),
            spec_version: None,
            components: report.inventory.clone(),
        };
        crate::components::store_source_in(tx, org_id, host_id, Some(report_id), &source).await?;
    }
    Ok(Stored { id: report_id, host_id, duplicate: false, findings: report.findings.len() as u64, affected })
}

/// Stores a group-commit batch — (organisation, token, report) each — in one transaction.
pub async fn store_batch(db: &Db, batch: &[(i64, i64, &ParsedReport)]) -> Result<Vec<Stored>, StoreError> {
    let mut tx = db.pool.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for (org_id, token_id, report) in batch {
        results.push(store_in(&mut tx, *org_id, *token_id, report).await?);
    }
    tx.commit().await?;
    Ok(results)
}
