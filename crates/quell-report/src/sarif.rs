//! SARIF 2.1.0: one run of the `quell` tool, one rule per CVE, one result per affected copy and CVE.
//!
//! - Rules: all CVEs quell classifies, in a fixed order (so `ruleIndex` is stable), each with a
//!   description, help text (plain and Markdown), the NVD page as `helpUri`, and the CVSS score as
//!   `properties.security-severity` (a string, as code-scanning dashboards read it) with
//!   `security` and CWE tags.
//! - Results: for every copy and every CVE it is `affected` by, a result at the outermost file on
//!   disk (`artifactLocation.uri`: a `file://` URI for an absolute path, a relative reference
//!   otherwise), the full path chain in the message and as a logical location, and a
//!   `partialFingerprints` entry derived from chain, component and CVE, so a dashboard tracks the
//!   same copy across runs. Mitigated and not-affected verdicts produce no result.
//! - The invocation names the host (`machine`), the end time and the scan totals.

use quell_model::{CveStatus, Finding};
use serde_json::{Value, json};

use crate::cve_info;
use crate::{ScanReport, chain};

/// The schema URI written in `$schema`: the OASIS errata 01 schema.
pub const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The SARIF log of a scan.
pub fn log(report: &ScanReport<'_>) -> Value {
    let all = cve_info::all_cves();
    let rules: Vec<Value> = all.iter().map(rule).collect();
    let mut results = Vec::new();
    for (reference, finding) in report.ordered() {
        for verdict in finding.cves.iter().filter(|c| c.status == CveStatus::Affected) {
            let index = all.iter().position(|c| *c == verdict.id);
            results.push(result(&reference, finding, &verdict.id, index));
        }
    }
    let meta = report.meta;
    let mut invocation = json!({
        "executionSuccessful": true,
        "endTimeUtc": meta.timestamp,
        "machine": meta.host,
    });
    let mut properties = json!({ "roots": meta.roots });
    if let Some(s) = report.summary {
        properties["summary"] = serde_json::to_value(s).unwrap_or(Value::Null);
    }
    invocation["properties"] = properties;
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "quell",
                "version": meta.tool_version,
                "semanticVersion": meta.tool_version,
                "rules": rules,
            }},
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn rule(cve: &quell_model::Cve) -> Value {
    let info = cve_info::info(cve);
    let score = cve_info::score_text(cve);
    let pack = if info.pack.is_empty() { "quell".to_string() } else { info.pack.clone() };
    let mut tags = vec!["security".to_string(), "vulnerability".to_string(), pack];
    tags.extend(info.cwes.iter().map(|c| format!("external/cwe/cwe-{c}")));
    let level = if info.cvss >= 7.0 { "error" } else { "warning" };
    let (vendor, advisory_url) = cve_info::advisory(cve);
    let preconditions = if info.preconditions.is_empty() {
        String::new()
    } else {
        format!("\n\nExploitable when: {}.", info.preconditions.join("; "))
    };
    json!({
        "id": cve.id(),
        "name": info.name,
        "shortDescription": { "text": format!("{}: {}", cve.id(), info.title) },
        "fullDescription": { "text": info.description },
        "helpUri": cve_info::nvd_url(cve),
        "help": {
            "text": format!("{}{preconditions}\n\nCVSS {score} ({}).\n\nRemedy: {}", info.description, cve_info::severity(info.cvss), info.remedy),
            "markdown": format!(
                "**{}** — {}\n\n{}{preconditions}\n\nCVSS **{score}** ({}).\n\n**Remedy:** {}\n\n[NVD]({}) · [{}]({})",
                cve.id(), info.title, info.description, cve_info::severity(info.cvss), info.remedy,
                cve_info::nvd_url(cve), vendor.replace(['[', ']'], ""), advisory_url
            ),
        },
        "defaultConfiguration": { "level": level },
        "properties": {
            "security-severity": score,
            "precision": "high",
            "problem.severity": if level == "error" { "error" } else { "warning" },
            "tags": tags,
        },
    })
}

fn result(reference: &str, finding: &Finding, cve: &quell_model::Cve, index: Option<usize>) -> Value {
    let info = cve_info::info(cve);
    let version = finding.version.clone().or_else(|| finding.version_range.clone()).unwrap_or_else(|| "?".into());
    let outer = finding.path.first().map(String::as_str).unwrap_or("");
    let mitigation = if finding.mitigations.is_empty() {
        String::new()
    } else {
        format!(" Mitigations present: {}.", finding.mitigations.join(", "))
    };
    let text = format!(
        "{} {version} at {} is affected by {} (CVSS {}): {}.{mitigation} {}",
        finding.component.name(),
        chain(&finding.path),
        cve.id(),
        cve_info::score_text(cve),
        info.title,
        info.remedy,
    );
    let mut result = json!({
        "ruleId": cve.id(),
        "level": if info.cvss >= 7.0 { "error" } else { "warning" },
        "kind": "fail",
        "message": { "text": text },
        "locations": [{
            "physicalLocation": { "artifactLocation": { "uri": file_uri(outer) } },
            "logicalLocations": [{ "fullyQualifiedName": chain(&finding.path), "kind": "module" }],
        }],
        "partialFingerprints": { "quellCopy/v1": fingerprint(&format!("{reference}\n{}", cve.id())) },
        "properties": {
            "path": finding.path,
            "component": finding.component.name(),
            "version": finding.version,
            "version_range": finding.version_range,
            "confidence": finding.confidence,
            "evidence": finding.evidence,
            "mitigations": finding.mitigations,
        },
    });
    if let Some(index) = index {
        result["ruleIndex"] = json!(index);
    }
    result
}

/// A `file://` URI for an absolute path, a relative reference for a relative one; every byte
/// outside RFC 3986's unreserved set and `/` is percent-encoded.
pub fn file_uri(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len() + 8);
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    if path.starts_with('/') { format!("file://{encoded}") } else { encoded }
}

/// 64-bit FNV-1a of the text, in hex: stable across runs, platforms and releases.
fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReportMeta;
    use quell_model::{Component, Confidence, Cve, CveVerdict};

    #[test]
    fn uris_are_encoded() {
        assert_eq!(file_uri("/srv/app.ear"), "file:///srv/app.ear");
        assert_eq!(file_uri("/a b/\"x,y\"\n#%.jar"), "file:///a%20b/%22x%2Cy%22%0A%23%25.jar");
        assert_eq!(file_uri("rel/x.jar"), "rel/x.jar");
        assert_eq!(file_uri("/é"), "file:///%C3%A9");
    }

    #[test]
    fn one_result_per_affected_copy_and_cve() {
        let findings = vec![Finding {
            path: vec!["/srv/app.war".into(), "WEB-INF/lib/log4j-core.jar".into()],
            component: Component::Log4jCore,
            purl: None,
            version: Some("2.16.0".into()),
            version_range: None,
            confidence: Confidence::Confirmed,
            evidence: vec![],
            mitigations: vec![],
            cves: vec![
                CveVerdict { id: Cve::Cve2021_44228, status: CveStatus::NotAffected },
                CveVerdict { id: Cve::Cve2021_45046, status: CveStatus::NotAffected },
                CveVerdict { id: Cve::Cve2021_45105, status: CveStatus::Affected },
                CveVerdict { id: Cve::Cve2021_44832, status: CveStatus::Affected },
            ],
        }];
        let meta = ReportMeta {
            host: "web1".into(),
            tool_version: "0.1.0".into(),
            timestamp: "2021-12-10T00:00:00Z".into(),
            serial_number: None,
            roots: vec!["/srv".into()],
        };
        let doc = log(&ScanReport { meta: &meta, findings: &findings, summary: None, inventory: &[] });
        let run = &doc["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"].as_array().map(Vec::len), Some(crate::cve_info::all_cves().len()));
        assert_eq!(run["tool"]["driver"]["rules"][0]["properties"]["security-severity"], "10.0");
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["ruleId"], "CVE-2021-45105");
        assert_eq!(results[0]["ruleIndex"], 2);
        assert_eq!(results[0]["level"], "warning");
        assert_eq!(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "file:///srv/app.war");
        assert!(
            results[0]["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("/srv/app.war!/WEB-INF/lib/log4j-core.jar"))
        );
        assert_ne!(results[0]["partialFingerprints"], results[1]["partialFingerprints"]);
        assert_eq!(run["invocations"][0]["machine"], "web1");
    }
}
