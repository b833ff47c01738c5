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

use std::collections::BTreeSet;

use quell_model::purl::Purl;
use quell_model::{Finding, InventoryComponent, ScanRecord, ScanSummary};
use quell_store::components::NewComponent;
use sha2::{Digest, Sha256};

use crate::auth::hex;
pub use crate::jobs::ingest::Writer;
use crate::limits::{Limits, MAX_HOST_NAME_BYTES};
use crate::refusals::limit;
use crate::{ServerError, now, time};
pub use quell_store::reports::{ParsedReport, Stored, store, store_many};

/// Whether an upload's body is gzip (`Content-Encoding`); 400 for another encoding.
pub fn content_gzip(headers: &axum::http::HeaderMap) -> Result<bool, ServerError> {
    let encoding =
        headers.get(axum::http::header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity");
    match encoding.trim().to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => Ok(true),
        "identity" | "" => Ok(false),
        other => Err(ServerError::Invalid(format!("Content-Encoding {other:?} is not supported (use gzip)"))),
    }
}

/// An upload's body as received: 413 beyond the route's body limit, 400 when it cannot be read.
pub fn body_bytes(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    limit: usize,
) -> Result<axum::body::Bytes, ServerError> {
    body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ServerError::TooLarge(format!("the upload is larger than {limit} bytes"))
        } else {
            ServerError::Invalid(format!("cannot read the body: {e}"))
        }
    })
}

/// The decoded body as a stream: gzip inflated on the fly (when `gzip` is set), failing (413 in
/// [`read_json`]) once it passes the inflated-size limit. Nothing is buffered beyond what the
/// reader's consumer keeps.
pub fn decoded_reader<'a>(body: &'a [u8], gzip: bool, limits: &Limits) -> Decoded<'a> {
    let inner: Box<dyn Read + 'a> =
        if gzip { Box::new(flate2::read::MultiGzDecoder::new(body)) } else { Box::new(body) };
    quell_io::CappedReader::new(inner, limits.max_report_inflated_bytes, "the decoded upload")
}

/// See [`decoded_reader`].
pub type Decoded<'a> = quell_io::CappedReader<Box<dyn Read + 'a>>;

/// One JSON document read from a decoded stream: 413 when the stream passed its limit, 400 for
/// anything else that is not the expected document.
pub fn read_json<T: serde::de::DeserializeOwned>(mut reader: Decoded<'_>, what: &str) -> Result<T, ServerError> {
    let limit = reader.limit();
    serde_json::from_reader(std::io::BufReader::new(&mut reader)).map_err(|e| {
        if e.is_io() && reader.consumed() >= limit {
            ServerError::TooLarge(t!("api-upload-inflates", max = crate::refusals::limit(limit)))
        } else if e.is_io() {
            ServerError::Invalid(t!("api-not-gzip", detail = e.to_string()))
        } else {
            ServerError::Invalid(format!("not {what}: {e}"))
        }
    })
}

/// Runs `work` (decoding and validating an upload: CPU work) off the async threads, at most
/// [`crate::limits::MAX_CONCURRENT_DECODES`] at once per process.
pub async fn decode_bounded<T: Send + 'static>(
    decoding: &std::sync::Arc<tokio::sync::Semaphore>,
    work: impl FnOnce() -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    let permit = decoding.clone().acquire_owned().await.map_err(|e| ServerError::Internal(e.to_string()))?;
    // The work says its refusals in the request's language: the task-local does not cross
    // into the blocking thread by itself.
    let lang = crate::i18n::current();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        crate::i18n::with(lang, work)
    })
    .await
    .map_err(|e| ServerError::Internal(e.to_string()))?
}

/// An upload's body, decoded and validated off the async threads: 413 beyond the route's body
/// limit, 400 for an encoding other than gzip, then `parse(body, gzip, limits)` under
/// [`decode_bounded`]. The one way every upload route (reports, indicators, SBOMs) reads its body.
pub async fn decode_upload<T: Send + 'static>(
    state: &crate::AppState,
    headers: &axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    parse: impl FnOnce(&[u8], bool, &Limits) -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    let body = body_bytes(body, state.limits.max_report_bytes)?;
    let gzip = content_gzip(headers)?;
    let limits = state.limits.clone();
    decode_bounded(&state.decoding, move || parse(&body, gzip, &limits)).await
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
        .map_err(|e| ServerError::Invalid(t!("api-not-gzip", detail = e.to_string())))?;
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
    let mut inventory = Vec::new();
    let mut summary: Option<(usize, ScanSummary)> = None;
    let mut records = 0usize;
    let mut number = 0usize;
    while read_line(&mut reader, &mut line, limits.max_line_bytes)? {
        number += 1;
        inflated += line.len() as u64;
        if inflated > limits.max_report_inflated_bytes {
            return Err(ServerError::TooLarge(t!(
                "api-report-inflates",
                max = limit(limits.max_report_inflated_bytes)
            )));
        }
        hash.update(&line);
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.len() > limits.max_line_bytes {
            return Err(ServerError::BadLine(
                number,
                t!("api-line-too-long", max = limit(limits.max_line_bytes as u64)),
            ));
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some((at, _)) = &summary {
            return Err(ServerError::BadLine(number, t!("api-record-after-summary", at = at.to_string())));
        }
        let record: ScanRecord = serde_json::from_slice(text)
            .map_err(|e| ServerError::BadLine(number, t!("api-not-scan-record", detail = e.to_string())))?;
        match record {
            ScanRecord::Finding(finding) => findings.push(finding),
            ScanRecord::Error(error) => errors.push(error),
            ScanRecord::Summary(s) => summary = Some((number, s)),
            ScanRecord::Component(component) => inventory.push(from_inventory(&component)),
        }
        records += 1;
        if records > limits.max_report_records {
            return Err(ServerError::TooLarge(t!(
                "api-too-many-records",
                max = limit(limits.max_report_records as u64)
            )));
        }
    }
    let sha256 = hex(&hash.finalize());
    let Some((summary_line, summary)) = summary else {
        return Err(ServerError::Invalid(t!("api-no-summary")));
    };
    if summary.findings != findings.len() as u64 {
        return Err(ServerError::BadLine(
            summary_line,
            t!("api-summary-findings", counted = summary.findings.to_string(), held = findings.len().to_string()),
        ));
    }
    let host = match (summary.host.as_deref(), host_override) {
        (Some(a), Some(b)) if a != b => {
            return Err(ServerError::BadLine(
                summary_line,
                t!("api-summary-host", summary = format!("{a:?}"), query = format!("{b:?}")),
            ));
        }
        (Some(h), _) | (None, Some(h)) => h.to_string(),
        (None, None) => {
            return Err(ServerError::BadLine(summary_line, t!("api-summary-no-host")));
        }
    };
    if host.is_empty() || host.len() > MAX_HOST_NAME_BYTES || host.chars().any(char::is_control) {
        return Err(ServerError::BadLine(summary_line, t!("api-host-name", max = limit(MAX_HOST_NAME_BYTES as u64))));
    }
    let scanned_at = match summary.finished_at.as_deref() {
        Some(text) => time::parse_rfc3339(text)
            .ok_or_else(|| ServerError::BadLine(summary_line, t!("api-finished-at", text = format!("{text:?}"))))?,
        None => now(),
    };
    if summary.components != inventory.len() as u64 {
        return Err(ServerError::BadLine(
            summary_line,
            t!("api-summary-components", counted = summary.components.to_string(), held = inventory.len().to_string()),
        ));
    }
    add_findings(&mut inventory, &findings);
    Ok(ParsedReport { sha256, host, scanned_at, summary, findings, errors, inventory })
}

// ---- the report's component list (`quell_store::components`) ----

/// The name a unit enum serialises to (`confirmed`, `declared`, …), else `fallback`.
fn serde_name(value: &impl serde::Serialize, fallback: &str) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| fallback.into())
}

/// A stored component from one `quell scan --inventory` record.
pub fn from_inventory(c: &InventoryComponent) -> NewComponent {
    let purl = c.purl.as_deref().and_then(|p| Purl::parse(p).ok());
    NewComponent {
        purl_key: purl.as_ref().map(|p| p.key.clone()),
        purl: c.purl.clone(),
        name: c.name.clone(),
        version: c.version.clone().or_else(|| purl.and_then(|p| p.version)),
        sha1: Some(c.hashes.sha1.clone()),
        sha256: Some(c.hashes.sha256.clone()),
        path: c.path.join("!/"),
        confidence: serde_name(&c.confidence, "declared"),
    }
}

/// Adds the packs' findings (every copy, shaded and nested ones included) to a report's list,
/// keyed by the purl the scanner recorded (from the pack that found it: built-in, `--rules` or
/// `--rules-from`), else — reports of tools that predate the field — by the built-in pack of
/// the component's name; unless the same archive is already listed under that package (an
/// `--inventory` record of the same jar).
pub fn add_findings(inventory: &mut Vec<NewComponent>, findings: &[Finding]) {
    let rules = quell_packs::builtin();
    let listed: BTreeSet<(String, String)> =
        inventory.iter().filter_map(|c| Some((c.path.clone(), c.purl_key.clone()?))).collect();
    for finding in findings {
        let recorded = finding.purl.as_deref().and_then(|p| Purl::parse(p).ok());
        let purl = match recorded {
            Some(purl) => purl,
            None => {
                let Some(info) = rules.component(finding.component.name()) else { continue };
                let Ok(purl) = Purl::parse(&info.purl) else { continue };
                purl
            }
        };
        let path = finding.path.join("!/");
        if listed.contains(&(path.clone(), purl.key.clone())) {
            continue;
        }
        let version = finding.version.clone().or_else(|| finding.version_range.clone());
        let full = version.as_ref().filter(|v| !v.contains("..")).map(|v| format!("{}@{v}", purl.key));
        inventory.push(NewComponent {
            purl_key: Some(purl.key.clone()),
            purl: full,
            name: finding.component.name().to_string(),
            version,
            sha1: None,
            sha256: None,
            path,
            confidence: serde_name(&finding.confidence, "confirmed"),
        });
    }
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
        let read = |body: &[u8], limits: &Limits| {
            let mut out = Vec::new();
            decoded_reader(body, true, limits).read_to_end(&mut out).map(|_| out)
        };
        assert!(read(&gz, &limits).is_err(), "the cap ends the stream in an error");
        assert_eq!(read(&gz, &Limits::default()).expect("fits").len(), 10_000);
        let json =
            |body: &[u8], limits: &Limits| read_json::<serde_json::Value>(decoded_reader(body, true, limits), "x");
        assert!(matches!(json(&gz, &limits), Err(ServerError::TooLarge(_))));
        assert!(matches!(json(b"not gzip", &limits), Err(ServerError::Invalid(_))));
        // A report bomb fails at its inflated size or its first over-long line, never buffered whole.
        assert!(matches!(parse_upload(&gz, true, Some("h"), &limits), Err(ServerError::TooLarge(_))));
    }
}
