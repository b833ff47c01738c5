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

use std::io::{BufRead, BufReader, Read};

use quell_model::{ScanRecord, ScanSummary};
use sha2::{Digest, Sha256};

use crate::auth::hex;
pub use crate::jobs::ingest::Writer;
use crate::limits::{Limits, MAX_HOST_NAME_BYTES};
use crate::{ServerError, now, time};
pub use quell_store::reports::{ParsedReport, Stored, store, store_many};

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
    parse_stream(body, host_override, limits)
}

/// Decodes (gzip when `gzip` is set) and validates an upload as one stream: no more than one
/// line (at most `max_line_bytes`) of decoded text is held at a time, so a compressed bomb costs
/// one line of memory, not its inflated size, and fails at the first over-long line or at the
/// inflated-size limit.
pub fn parse_upload(
    body: &[u8],
    gzip: bool,
    host_override: Option<&str>,
    limits: &Limits,
) -> Result<ParsedReport, ServerError> {
    if gzip {
        parse_stream(BufReader::new(flate2::read::MultiGzDecoder::new(body)), host_override, limits)
    } else {
        parse_stream(body, host_override, limits)
    }
}

/// Reads one line (with its `\n`) into `line`, at most `max + 2` bytes; `Ok(false)` at the end.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>, max: usize) -> Result<bool, ServerError> {
    line.clear();
    let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(2);
    let read = reader
        .take(cap)
        .read_until(b'\n', line)
        .map_err(|e| ServerError::Invalid(format!("the body is not valid gzip: {e}")))?;
    Ok(read > 0)
}

fn parse_stream(
    mut reader: impl BufRead,
    host_override: Option<&str>,
    limits: &Limits,
) -> Result<ParsedReport, ServerError> {
    let mut hash = Sha256::new();
    let mut inflated: u64 = 0;
    let mut line = Vec::new();
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut summary: Option<(usize, ScanSummary)> = None;
    let mut records = 0usize;
    let mut number = 0usize;
    while read_line(&mut reader, &mut line, limits.max_line_bytes)? {
        number += 1;
        inflated += line.len() as u64;
        if inflated > limits.max_report_inflated_bytes {
            return Err(ServerError::TooLarge(format!(
                "the report inflates to more than {} bytes",
                limits.max_report_inflated_bytes
            )));
        }
        hash.update(&line);
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.len() > limits.max_line_bytes {
            return Err(ServerError::BadLine(
                number,
                format!("the line is longer than {} bytes", limits.max_line_bytes),
            ));
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some((at, _)) = &summary {
            return Err(ServerError::BadLine(
                number,
                format!("a record follows the summary (line {at}); the summary must be last"),
            ));
        }
        let record: ScanRecord = serde_json::from_slice(text)
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
    let sha256 = hex(&hash.finalize());
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
