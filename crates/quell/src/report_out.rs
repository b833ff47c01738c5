//! The whole-document formats of `quell scan` (`cyclonedx`, `cyclonedx-vex`, `sarif`, `csv`): the
//! report's context (host name, time, serial number) and the call into `quell-report`.
//!
//! These formats are documents, not streams: the scan buffers its findings (never the raw records;
//! errors go to stderr as they come) and renders once at the end. The rendering itself is the
//! library's ([`quell_report`]); this module only supplies what the library must not look up.

use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;

use quell_model::{Finding, InventoryComponent, ScanSummary};
use quell_report::{ReportMeta, ScanReport};

/// A document format of `quell scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    CycloneDx,
    CycloneDxVex,
    Sarif,
    Csv,
}

/// 128 bits from the standard library's randomly seeded hasher keys: enough for a serial number,
/// without a random-number crate.
fn random_bits() -> u128 {
    let draw = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher
            .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        hasher.finish()
    };
    (u128::from(draw()) << 64) | u128::from(draw())
}

/// The context of a report made now, on this host (or the `--host-name` given), of a scan of
/// `paths`. The host is the one the JSON summary names.
pub fn meta(paths: &[PathBuf], host_override: Option<&str>) -> ReportMeta {
    ReportMeta {
        host: host_override
            .map(str::to_string)
            .or_else(crate::upload::host_name)
            .unwrap_or_else(|| "localhost".to_string()),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        timestamp: quell_model::time::now_rfc3339(),
        serial_number: Some(quell_report::time::uuid_v4(random_bits())),
        roots: paths.iter().map(|p| p.display().to_string()).collect(),
    }
}

/// Renders the document. JSON documents end with a newline.
pub fn render(
    document: Document,
    meta: &ReportMeta,
    findings: &[Finding],
    inventory: &[InventoryComponent],
    summary: &ScanSummary,
) -> Result<String, String> {
    let report = ScanReport { meta, findings, summary: Some(summary), inventory };
    let json = match document {
        Document::CycloneDx => quell_report::cyclonedx::bom(&report),
        Document::CycloneDxVex => quell_report::cyclonedx::vex(&report),
        Document::Sarif => quell_report::sarif::log(&report),
        Document::Csv => {
            let mut out = Vec::new();
            quell_report::csv::write_scan(&report, &mut out).map_err(|e| e.to_string())?;
            return String::from_utf8(out).map_err(|e| e.to_string());
        }
    };
    serde_json::to_string_pretty(&json).map(|s| s + "\n").map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_filled() {
        let meta = meta(&[PathBuf::from("/srv")], None);
        assert_eq!(super::meta(&[], Some("web1")).host, "web1");
        assert!(!meta.host.is_empty());
        assert_eq!(meta.roots, ["/srv"]);
        assert!(meta.timestamp.ends_with('Z'));
        let serial = meta.serial_number.expect("serial");
        assert!(serial.starts_with("urn:uuid:") && serial.len() == 45, "{serial}");
        assert_ne!(random_bits(), random_bits());
    }
}
