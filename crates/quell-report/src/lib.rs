//! # quell-report — scan and hunt results in the formats other tools read
//!
//! Renders the records of [`quell_model`] as whole documents for SBOM platforms, code-scanning
//! dashboards and spreadsheets:
//! - [`cyclonedx::bom`] — a CycloneDX 1.6 JSON BOM: one component per Log4j copy, its containing
//!   archives as parent components, and a `vulnerabilities` section with a VEX analysis per copy;
//!   [`cyclonedx::vex`] — the VEX-only document of the same scan.
//! - [`sarif::log`] — a SARIF 2.1.0 log: one rule per CVE, one result per affected copy and CVE.
//! - [`csv::write_scan`] — one row per copy; [`csv::HuntCsv`] — one row per hunt attempt or trace,
//!   or one row per indicator.
//! - [`indicators`] — the indicator feed of `quell serve`: CSV, a MISP event and a STIX 2.1 bundle,
//!   each TLP-marked.
//!
//! The renderers are pure: no I/O beyond the writer they are given, no clock, no host lookup. What
//! the document says about its context (host, time, serial number) comes in a [`ReportMeta`], so the
//! CLI and a server produce the same document from the same findings.
//!
//! Invariants:
//! - The output is deterministic: findings are ordered by path chain, then component, whatever order
//!   the scanner produced them in. A document rendered twice from the same input is identical.
//! - Component `bom-ref`s are derived from the path chain (`log4j-core@/srv/app.ear!/lib/x.jar`), so
//!   the SBOM and the VEX document of the same files refer to a copy by the same reference, run after
//!   run.
//! - Field, column and property names are a contract, like the JSON lines of the model: add, never
//!   rename. Every CycloneDX and SARIF document must validate against the official schema; the
//!   workspace test `crates/quell/tests/reports.rs` checks that with `scripts/check-reports.py`.

pub mod csv;
pub mod cve_info;
pub mod cyclonedx;
pub mod indicators;
pub mod sarif;
pub mod time;

use quell_model::{CveStatus, Finding, ScanSummary};

/// What a report says about where and when it was made. The renderers never look these up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMeta {
    /// The scanned host's name.
    pub host: String,
    /// The version of quell that scanned (`env!("CARGO_PKG_VERSION")` of the binary).
    pub tool_version: String,
    /// When the report was made, RFC 3339 UTC (see [`time::rfc3339_utc`]).
    pub timestamp: String,
    /// `urn:uuid:...` for the CycloneDX `serialNumber` (see [`time::uuid_v4`]); none is written
    /// when absent.
    pub serial_number: Option<String>,
    /// The paths given to the scan, as the user wrote them.
    pub roots: Vec<String>,
}

/// One scan to render: its context, its findings (in any order) and, when the scan finished, its
/// totals.
#[derive(Debug, Clone, Copy)]
pub struct ScanReport<'a> {
    pub meta: &'a ReportMeta,
    pub findings: &'a [Finding],
    pub summary: Option<&'a ScanSummary>,
    /// The Java archives of `quell scan --inventory` (empty otherwise); CycloneDX lists them as
    /// components with their package URLs and hashes.
    pub inventory: &'a [quell_model::InventoryComponent],
}

impl ScanReport<'_> {
    /// The findings in document order (path chain, then component), each with its reference.
    pub fn ordered(&self) -> Vec<(String, &Finding)> {
        let mut findings: Vec<&Finding> = self.findings.iter().collect();
        findings
            .sort_by(|a, b| a.path.cmp(&b.path).then(a.component.cmp(&b.component)).then(a.version.cmp(&b.version)));
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        findings
            .into_iter()
            .map(|f| {
                let base = format!("{}@{}", f.component.name(), chain(&f.path));
                let n = seen.entry(base.clone()).or_insert(0);
                *n += 1;
                let reference = if *n == 1 { base } else { format!("{base}#{n}") };
                (reference, f)
            })
            .collect()
    }
}

/// The path chain as the text report writes it: `/srv/app.ear!/lib/web.war!/WEB-INF/lib/x.jar`.
pub fn chain(path: &[String]) -> String {
    path.join("!/")
}

/// The copy's overall state: `affected` when any CVE is, else `mitigated` when any CVE is, else
/// `not_affected`.
pub fn overall_status(finding: &Finding) -> CveStatus {
    if finding.is_affected() {
        CveStatus::Affected
    } else if finding.cves.iter().any(|c| c.status == CveStatus::Mitigated) {
        CveStatus::Mitigated
    } else {
        CveStatus::NotAffected
    }
}

/// The Maven package URL of a copy: `pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1`, without
/// `@version` when only a range is known.
pub fn purl(finding: &Finding) -> String {
    let base = package_url(&finding.component);
    match &finding.version {
        Some(v) => format!("{base}@{}", purl_escape(v)),
        None => base,
    }
}

/// The package URL of a component without version, from its detection pack; a component no
/// active pack knows is written as a generic package.
pub fn package_url(component: &quell_model::Component) -> String {
    match quell_packs::active().component(component.name()) {
        Some(info) => info.purl.clone(),
        None => format!("pkg:generic/{}", purl_escape(component.name())),
    }
}

/// The Maven group of a component (the namespace of its package URL), if it has one.
pub fn maven_group(component: &quell_model::Component) -> Option<String> {
    let purl = package_url(component);
    let rest = purl.strip_prefix("pkg:maven/")?;
    rest.rsplit_once('/').map(|(group, _)| group.to_string())
}

/// Percent-encodes what a purl version may not hold literally (RFC 3986 unreserved stay as is).
fn purl_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use quell_model::{Component, Confidence, Cve, CveVerdict};

    pub(crate) fn finding(path: &[&str], component: Component, version: Option<&str>) -> Finding {
        Finding {
            path: path.iter().map(|s| s.to_string()).collect(),
            component,
            purl: None,
            version: version.map(str::to_string),
            version_range: if version.is_none() { Some("2.1..2.14.1".into()) } else { None },
            confidence: Confidence::Confirmed,
            evidence: vec!["class:org/apache/logging/log4j/core/net/JndiManager.class".into()],
            mitigations: vec![],
            cves: vec![CveVerdict { id: Cve::Cve2021_44228, status: CveStatus::Affected }],
        }
    }

    #[test]
    fn purls_follow_the_maven_coordinates() {
        let f = finding(&["/a.jar"], Component::Log4jCore, Some("2.14.1"));
        assert_eq!(purl(&f), "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        let f = finding(&["/a.jar"], Component::Log4j1, Some("1.2.17"));
        assert_eq!(purl(&f), "pkg:maven/log4j/log4j@1.2.17");
        let f = finding(&["/a.jar"], Component::Reload4j, Some("1.2.25"));
        assert_eq!(purl(&f), "pkg:maven/ch.qos.reload4j/reload4j@1.2.25");
        let f = finding(&["/a.jar"], Component::Log4jCore, None);
        assert_eq!(purl(&f), "pkg:maven/org.apache.logging.log4j/log4j-core");
        let f = finding(&["/a.jar"], Component::Log4jCore, Some("2.0-beta9"));
        assert_eq!(purl(&f), "pkg:maven/org.apache.logging.log4j/log4j-core@2.0-beta9");
    }

    #[test]
    fn references_are_ordered_stable_and_unique() {
        let findings = vec![
            finding(&["/z.jar"], Component::Log4jCore, Some("2.14.1")),
            finding(&["/a.war", "WEB-INF/lib/x.jar"], Component::Log4jCore, None),
            finding(&["/a.war", "WEB-INF/lib/x.jar"], Component::Log4jCore, None),
        ];
        let meta = ReportMeta {
            host: "h".into(),
            tool_version: "0".into(),
            timestamp: "2021-12-10T00:00:00Z".into(),
            serial_number: None,
            roots: vec![],
        };
        let report = ScanReport { meta: &meta, findings: &findings, summary: None, inventory: &[] };
        let refs: Vec<String> = report.ordered().into_iter().map(|(r, _)| r).collect();
        assert_eq!(
            refs,
            ["log4j-core@/a.war!/WEB-INF/lib/x.jar", "log4j-core@/a.war!/WEB-INF/lib/x.jar#2", "log4j-core@/z.jar"]
        );
    }
}
