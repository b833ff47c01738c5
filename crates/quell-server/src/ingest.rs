//! `POST /api/v1/reports`: decoding, validating and storing one scan report.
//!
//! A report is exactly what `quell scan --format json` prints: JSON lines of
//! [`quell_model::ScanRecord`], the `summary` record last.
//!
//! Invariants:
//! - Validation is complete before anything is written: a report is stored whole or not at all,
//!   in one transaction, and the id is returned only after the commit.
//! - Idempotent: the SHA-256 of the decoded body identifies a report within an organisation; a
//!   retried upload returns the first upload's id and stores nothing.
//! - Bounded: the body, its gzip-decoded size, each line and the record count have limits
//!   ([`crate::limits`]); a violation is a 4xx with the line number where it applies.

use std::collections::BTreeMap;
use std::io::Read;

use quell_model::{Finding, ScanError, ScanRecord, ScanSummary};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::auth::hex;
use crate::limits::{
    FINDINGS_PER_INSERT, GROUP_COMMIT_MAX_FINDINGS, GROUP_COMMIT_MAX_REPORTS, Limits, MAX_HOST_NAME_BYTES,
    WRITE_QUEUE_REPORTS,
};
use crate::{ServerError, now, time};
use quell_store::Db;

/// A report that passed validation, ready to store.
#[derive(Debug)]
pub struct ParsedReport {
    pub sha256: String,
    pub host: String,
    pub scanned_at: i64,
    pub summary: ScanSummary,
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
}

/// Decodes the body (gzip when `gzip` is set) within the inflated-size limit.
pub fn decode_body(body: &[u8], gzip: bool, limits: &Limits) -> Result<Vec<u8>, ServerError> {
    if !gzip {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(limits.max_report_inflated_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| ServerError::Invalid(format!("the body is not valid gzip: {e}")))?;
    if out.len() as u64 > limits.max_report_inflated_bytes {
        return Err(ServerError::TooLarge(format!(
            "the report inflates to more than {} bytes",
            limits.max_report_inflated_bytes
        )));
    }
    Ok(out)
}

/// Validates a decoded report. `host_override` is the `?host=` parameter, used when the summary
/// carries no host (reports of older tools) and checked against it when it does.
pub fn parse_report(body: &[u8], host_override: Option<&str>, limits: &Limits) -> Result<ParsedReport, ServerError> {
    let sha256 = hex(&Sha256::digest(body));
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut summary: Option<(usize, ScanSummary)> = None;
    let mut records = 0usize;
    for (index, line) in body.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if line.len() > limits.max_line_bytes {
            return Err(ServerError::BadLine(
                number,
                format!("the line is longer than {} bytes", limits.max_line_bytes),
            ));
        }
        if let Some((at, _)) = &summary {
            return Err(ServerError::BadLine(
                number,
                format!("a record follows the summary (line {at}); the summary must be last"),
            ));
        }
        let record: ScanRecord = serde_json::from_slice(line)
            .map_err(|e| ServerError::BadLine(number, format!("not a scan record: {e}")))?;
        match record {
            ScanRecord::Finding(finding) => findings.push(finding),
            ScanRecord::Error(error) => errors.push(error),
            ScanRecord::Summary(s) => summary = Some((number, s)),
            // Inventory components (`quell scan --inventory`) are accepted and counted; storing
            // them per host is the inventories issue's work.
            ScanRecord::Component(_) => {}
        }
        records += 1;
        if records > limits.max_report_records {
            return Err(ServerError::TooLarge(format!(
                "more than {} records in one report",
                limits.max_report_records
            )));
        }
    }
    let Some((summary_line, summary)) = summary else {
        return Err(ServerError::Invalid("the report has no summary record (the last line of a scan report)".into()));
    };
    if summary.findings != findings.len() as u64 {
        return Err(ServerError::BadLine(
            summary_line,
            format!("the summary counts {} findings but the report holds {}", summary.findings, findings.len()),
        ));
    }
    let host = match (summary.host.as_deref(), host_override) {
        (Some(a), Some(b)) if a != b => {
            return Err(ServerError::BadLine(
                summary_line,
                format!("the summary's host {a:?} differs from ?host={b:?}"),
            ));
        }
        (Some(h), _) | (None, Some(h)) => h.to_string(),
        (None, None) => {
            return Err(ServerError::BadLine(
                summary_line,
                "the summary names no host: upload with a current quell or add ?host=NAME".into(),
            ));
        }
    };
    if host.is_empty() || host.len() > MAX_HOST_NAME_BYTES || host.chars().any(char::is_control) {
        return Err(ServerError::BadLine(
            summary_line,
            format!("the host name must be 1 to {MAX_HOST_NAME_BYTES} bytes without control characters"),
        ));
    }
    let scanned_at = match summary.finished_at.as_deref() {
        Some(text) => time::parse_rfc3339(text).ok_or_else(|| {
            ServerError::BadLine(summary_line, format!("finished_at {text:?} is not an RFC 3339 time"))
        })?,
        None => now(),
    };
    Ok(ParsedReport { sha256, host, scanned_at, summary, findings, errors })
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
pub async fn store(db: &Db, org_id: i64, token_id: i64, report: &ParsedReport) -> Result<Stored, ServerError> {
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
) -> Result<Vec<Stored>, ServerError> {
    let mut tx = db.pool.begin().await?;
    let mut results = Vec::with_capacity(reports.len());
    for report in reports {
        results.push(store_in(&mut tx, org_id, token_id, report).await?);
    }
    tx.commit().await?;
    Ok(results)
}

/// Stores one report inside an open transaction (the caller commits).
async fn store_in(
    tx: &mut sqlx::AnyConnection,
    org_id: i64,
    token_id: i64,
    report: &ParsedReport,
) -> Result<Stored, ServerError> {
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
    .try_get(0)?;
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
            id: row.try_get(0)?,
            host_id: row.try_get(1)?,
            duplicate: true,
            findings: u64::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0),
            affected: u64::try_from(row.try_get::<i64, _>(3)?).unwrap_or(0),
        });
    };
    let report_id: i64 = row.try_get(0)?;

    for chunk in report.findings.chunks(FINDINGS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO findings (report_id, org_id, path, component, version, version_range, affected, record) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 8;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            ));
        }
        let mut query = sqlx::query(&sql);
        for finding in chunk {
            let record = serde_json::to_string(&ScanRecord::Finding(finding.clone()))
                .map_err(|e| ServerError::Internal(e.to_string()))?;
            query = query
                .bind(report_id)
                .bind(org_id)
                .bind(finding.path.join("!/"))
                .bind(finding.component.name())
                .bind(finding.version.clone())
                .bind(finding.version_range.clone())
                .bind(i64::from(finding.is_affected()))
                .bind(record);
        }
        query.execute(&mut *tx).await?;
    }
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
    Ok(Stored { id: report_id, host_id, duplicate: false, findings: report.findings.len() as u64, affected })
}

/// One upload waiting for the writer.
struct Job {
    org_id: i64,
    token_id: i64,
    report: ParsedReport,
    reply: tokio::sync::oneshot::Sender<Result<Stored, ServerError>>,
}

/// Group commit: one task per server process stores the uploads waiting at that moment (up to
/// [`GROUP_COMMIT_MAX_REPORTS`] reports, [`GROUP_COMMIT_MAX_FINDINGS`] findings) in one
/// transaction, and answers each upload only after that commit. One fsync then covers many
/// reports, and SQLite's single writer is never contended. When a batch fails, its reports are
/// retried one by one so one bad report cannot fail the others.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: tokio::sync::mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("org_id", &self.org_id).field("host", &self.report.host).finish()
    }
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db) -> Writer {
        let (queue, jobs) = tokio::sync::mpsc::channel(WRITE_QUEUE_REPORTS);
        tokio::spawn(write_loop(db, jobs));
        Writer { queue }
    }

    /// Stores a report; returns once it is committed.
    pub async fn store(&self, org_id: i64, token_id: i64, report: ParsedReport) -> Result<Stored, ServerError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue
            .send(Job { org_id, token_id, report, reply })
            .await
            .map_err(|_| ServerError::Internal("the writer stopped".into()))?;
        answer.await.map_err(|_| ServerError::Internal("the writer dropped an upload".into()))?
    }
}

async fn write_loop(db: Db, mut jobs: tokio::sync::mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut findings = first.report.findings.len();
        let mut batch = vec![first];
        while batch.len() < GROUP_COMMIT_MAX_REPORTS && findings < GROUP_COMMIT_MAX_FINDINGS {
            match jobs.try_recv() {
                Ok(job) => {
                    findings += job.report.findings.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        match store_batch(&db, &batch).await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(error) if batch.len() == 1 => {
                if let Some(job) = batch.into_iter().next() {
                    let _ = job.reply.send(Err(error));
                }
            }
            Err(error) => {
                tracing::warn!(%error, reports = batch.len(), "group commit failed; storing one by one");
                for job in batch {
                    let result = store(&db, job.org_id, job.token_id, &job.report).await;
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

async fn store_batch(db: &Db, batch: &[Job]) -> Result<Vec<Stored>, ServerError> {
    let mut tx = db.pool.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        results.push(store_in(&mut tx, job.org_id, job.token_id, &job.report).await?);
    }
    tx.commit().await?;
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINDING: &str = r#"{"kind":"finding","path":["/srv/a.jar"],"component":"log4j-core","version":"2.14.1","version_range":null,"confidence":"confirmed","evidence":[],"mitigations":[],"cves":[{"id":"CVE-2021-44228","status":"affected"}]}"#;

    fn summary(findings: u64, host: Option<&str>) -> String {
        let host = host.map(|h| format!(",\"host\":\"{h}\"")).unwrap_or_default();
        format!(
            r#"{{"kind":"summary","files":1,"archives":1,"bytes":1,"findings":{findings},"affected":{findings},"errors":0,"elapsed_ms":1,"finished_at":"2026-11-28T10:00:00Z"{host}}}"#
        )
    }

    #[test]
    fn a_valid_report_parses() {
        let body = format!("{FINDING}\n{FINDING}\n{}\n", summary(2, Some("web-1")));
        let report = parse_report(body.as_bytes(), None, &Limits::default()).expect("valid");
        assert_eq!(report.host, "web-1");
        assert_eq!(report.findings.len(), 2);
        assert_eq!(report.scanned_at, time::parse_rfc3339("2026-11-28T10:00:00Z").expect("time"));
    }

    #[test]
    fn errors_name_the_line() {
        let limits = Limits::default();
        let body = format!("{FINDING}\n{{\"kind\":\"finding\"}}\n{}\n", summary(2, Some("h")));
        assert!(matches!(parse_report(body.as_bytes(), None, &limits), Err(ServerError::BadLine(2, _))));
        let body = format!("{}\n{FINDING}\n", summary(0, Some("h")));
        assert!(matches!(parse_report(body.as_bytes(), None, &limits), Err(ServerError::BadLine(2, _))));
        let body = format!("{FINDING}\n");
        assert!(matches!(parse_report(body.as_bytes(), None, &limits), Err(ServerError::Invalid(_))));
        let body = format!("{FINDING}\n{}\n", summary(3, Some("h")));
        assert!(matches!(parse_report(body.as_bytes(), None, &limits), Err(ServerError::BadLine(2, _))));
        let body = format!("{}\n", summary(0, None));
        assert!(matches!(parse_report(body.as_bytes(), None, &limits), Err(ServerError::BadLine(1, _))));
        assert_eq!(parse_report(body.as_bytes(), Some("given"), &limits).expect("host given").host, "given");
        let tight = Limits { max_line_bytes: 10, ..Limits::default() };
        assert!(matches!(parse_report(body.as_bytes(), Some("h"), &tight), Err(ServerError::BadLine(1, _))));
    }

    #[test]
    fn gzip_is_bounded() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&vec![b' '; 10_000]).expect("gzip");
        let gz = enc.finish().expect("gzip");
        let limits = Limits { max_report_inflated_bytes: 1000, ..Limits::default() };
        assert!(matches!(decode_body(&gz, true, &limits), Err(ServerError::TooLarge(_))));
        assert_eq!(decode_body(&gz, true, &Limits::default()).expect("fits").len(), 10_000);
        assert!(matches!(decode_body(b"not gzip", true, &limits), Err(ServerError::Invalid(_))));
    }
}
