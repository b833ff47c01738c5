//! CycloneDX 1.6 JSON: the SBOM of a scan ([`bom`]) and its VEX-only document ([`vex`]).
//!
//! Shape of the BOM:
//! - `metadata`: time, serial number, the quell tool, the scanned host as `metadata.component`
//!   (type `device`), and the scan roots and totals as `quell:` properties.
//! - `components`: every file that contains a copy is a `file` component whose `components` hold
//!   what was found inside it, nested as the archives are (`app.ear` → `lib/web.war` → copy). Each
//!   copy is a `library` component with group, name, version (when exact), purl (without a version
//!   when only a range is known), identity evidence (one method per piece of scanner evidence) and
//!   an occurrence whose location is the full path chain.
//! - `vulnerabilities`: per CVE, one entry per analysis outcome, each listing the copies it applies
//!   to in `affects`: `exploitable` (affected), `not_affected`/`code_not_present` for a copy whose
//!   JndiLookup was removed (CVE-2021-44228 and CVE-2021-45046 only: the model never reports
//!   `mitigated` for the others), `not_affected`/`code_not_present` for a copy without the
//!   vulnerable code (a release before 2.0-beta9, a 1.x copy whose vulnerable class was deleted),
//!   and `resolved` for a fixed release. CycloneDX puts `analysis` on the vulnerability, not on the
//!   affected component, hence one entry per outcome.
//!
//! The VEX document carries the same metadata and `vulnerabilities` without the components; its
//! `affects[].ref` values are the `bom-ref`s of the BOM of the same files, which are derived from
//! path chains and therefore the same from one run to the next.

use quell_model::{Confidence, Cve, CveStatus, Finding};
use serde_json::{Map, Value, json};

use crate::cve_info;
use crate::{ScanReport, chain, overall_status, purl};
use quell_model::maven::{Event, MavenVersion};

/// The CycloneDX specification version written.
pub const SPEC_VERSION: &str = "1.6";

/// The full BOM: components and vulnerabilities.
pub fn bom(report: &ScanReport<'_>) -> Value {
    let ordered = report.ordered();
    let mut doc = header(report);
    let mut all = components(&ordered, 0);
    all.extend(inventory_components(report.inventory));
    doc.insert("components".into(), Value::Array(all));
    doc.insert("vulnerabilities".into(), Value::Array(vulnerabilities(&ordered)));
    Value::Object(doc)
}

/// The archives of an inventory scan, ordered by path chain: one `library` component each, with
/// its package URL (when its own pom.properties names it), SHA-1 and SHA-256 of its bytes, and
/// where it was found. `bom-ref`s are `archive:<path chain>`, stable across runs.
fn inventory_components(inventory: &[quell_model::InventoryComponent]) -> Vec<Value> {
    let mut sorted: Vec<&quell_model::InventoryComponent> = inventory.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    sorted.dedup_by(|a, b| a.path == b.path);
    sorted
        .into_iter()
        .map(|c| {
            let confidence = match c.confidence {
                quell_model::InventoryConfidence::Confirmed => 1.0,
                quell_model::InventoryConfidence::Declared => 0.7,
                quell_model::InventoryConfidence::Guessed => 0.3,
            };
            let mut component = Map::new();
            component.insert("type".into(), json!("library"));
            component.insert("bom-ref".into(), json!(format!("archive:{}", chain(&c.path))));
            if let Some(group) = c
                .purl
                .as_deref()
                .and_then(|p| p.strip_prefix("pkg:maven/"))
                .and_then(|p| p.split_once('/'))
                .map(|(g, _)| g)
            {
                component.insert("group".into(), json!(group));
            }
            component.insert("name".into(), json!(c.name));
            if let Some(version) = &c.version {
                component.insert("version".into(), json!(version));
            }
            component.insert(
                "hashes".into(),
                json!([{ "alg": "SHA-1", "content": c.hashes.sha1 }, { "alg": "SHA-256", "content": c.hashes.sha256 }]),
            );
            let mut identity = json!({ "field": "name", "confidence": confidence, "concludedValue": c.name });
            if let Some(purl) = &c.purl {
                component.insert("purl".into(), json!(purl));
                identity = json!({ "field": "purl", "confidence": confidence, "concludedValue": purl });
            }
            identity["methods"] = Value::Array(identity_methods(&c.evidence));
            component.insert(
                "evidence".into(),
                json!({ "identity": [identity], "occurrences": [{ "location": chain(&c.path) }] }),
            );
            component.insert(
                "properties".into(),
                json!([
                    property("quell:inventory", "archive"),
                    property(
                        "quell:confidence",
                        serde_json::to_value(c.confidence)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default()
                    )
                ]),
            );
            Value::Object(component)
        })
        .collect()
}

/// The VEX-only document: the BOM's metadata and vulnerabilities, no components.
pub fn vex(report: &ScanReport<'_>) -> Value {
    let ordered = report.ordered();
    let mut doc = header(report);
    doc.insert("vulnerabilities".into(), Value::Array(vulnerabilities(&ordered)));
    Value::Object(doc)
}

fn property(name: &str, value: impl ToString) -> Value {
    json!({ "name": name, "value": value.to_string() })
}

fn header(report: &ScanReport<'_>) -> Map<String, Value> {
    let meta = report.meta;
    let mut properties = vec![property("quell:host", &meta.host)];
    properties.extend(meta.roots.iter().map(|r| property("quell:root", r)));
    if let Some(s) = report.summary {
        properties.extend([
            property("quell:summary:files", s.files),
            property("quell:summary:archives", s.archives),
            property("quell:summary:bytes", s.bytes),
            property("quell:summary:findings", s.findings),
            property("quell:summary:affected", s.affected),
            property("quell:summary:errors", s.errors),
            property("quell:summary:elapsed_ms", s.elapsed_ms),
        ]);
    }
    let mut doc = Map::new();
    doc.insert("$schema".into(), json!("http://cyclonedx.org/schema/bom-1.6.schema.json"));
    doc.insert("bomFormat".into(), json!("CycloneDX"));
    doc.insert("specVersion".into(), json!(SPEC_VERSION));
    if let Some(serial) = &meta.serial_number {
        doc.insert("serialNumber".into(), json!(serial));
    }
    doc.insert("version".into(), json!(1));
    doc.insert(
        "metadata".into(),
        json!({
            "timestamp": meta.timestamp,
            "tools": { "components": [{
                "type": "application",
                "bom-ref": "tool:quell",
                "name": "quell",
                "version": meta.tool_version,
                "description": "Finds, fixes and hunts Log4Shell-class flaws",
            }]},
            "component": {
                "type": "device",
                "bom-ref": format!("host:{}", meta.host),
                "name": meta.host,
            },
            "properties": properties,
        }),
    );
    doc
}

/// The components at `depth` of the path chains of `items` (sorted by path, so every group sharing
/// a prefix is contiguous).
fn components(items: &[(String, &Finding)], depth: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let (reference, finding) = &items[i];
        if finding.path.len() <= depth + 1 {
            out.push(copy_component(reference, finding));
            i += 1;
            continue;
        }
        let key = &finding.path[depth];
        let mut j = i + 1;
        while j < items.len() && items[j].1.path.len() > depth + 1 && items[j].1.path[depth] == *key {
            j += 1;
        }
        let container = &finding.path[..=depth];
        out.push(json!({
            "type": "file",
            "bom-ref": format!("file:{}", chain(container)),
            "name": key,
            "evidence": { "occurrences": [{ "location": chain(container) }] },
            "components": components(&items[i..j], depth + 1),
        }));
        i = j;
    }
    out
}

fn technique(evidence: &str) -> (&'static str, f64) {
    if evidence.starts_with("class:") {
        ("binary-analysis", 1.0)
    } else if evidence.starts_with("pom.properties:") {
        ("manifest-analysis", 0.8)
    } else if evidence.starts_with("manifest:") {
        ("manifest-analysis", 0.6)
    } else {
        ("other", 0.3)
    }
}

/// CycloneDX identity `methods` from evidence notes: technique and confidence of each.
fn identity_methods(evidence: &[String]) -> Vec<Value> {
    evidence
        .iter()
        .map(|e| {
            let (technique, confidence) = technique(e);
            json!({ "technique": technique, "confidence": confidence, "value": e })
        })
        .collect()
}

fn copy_component(reference: &str, finding: &Finding) -> Value {
    let methods = identity_methods(&finding.evidence);
    let confidence = match finding.confidence {
        Confidence::Confirmed => 1.0,
        Confidence::Declared => 0.6,
    };
    let mut identity = json!({ "field": "purl", "confidence": confidence, "concludedValue": purl(finding) });
    if !methods.is_empty() {
        identity["methods"] = Value::Array(methods);
    }
    let mut properties = vec![
        property("quell:confidence", confidence_name(finding.confidence)),
        property("quell:status", overall_status(finding)),
    ];
    if let Some(range) = &finding.version_range {
        properties.push(property("quell:version_range", range));
    }
    properties.extend(finding.mitigations.iter().map(|m| property("quell:mitigation", m)));
    let mut component = Map::new();
    component.insert("type".into(), json!("library"));
    component.insert("bom-ref".into(), json!(reference));
    if let Some(group) = crate::maven_group(&finding.component) {
        component.insert("group".into(), json!(group));
    }
    component.insert("name".into(), json!(finding.component.name()));
    if let Some(version) = &finding.version {
        component.insert("version".into(), json!(version));
    }
    component.insert("purl".into(), json!(purl(finding)));
    component.insert(
        "evidence".into(),
        json!({
            "identity": [identity],
            "occurrences": [{ "location": chain(&finding.path) }],
        }),
    );
    component.insert("properties".into(), Value::Array(properties));
    Value::Object(component)
}

fn confidence_name(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::Confirmed => "confirmed",
        Confidence::Declared => "declared",
    }
}

/// The outcome of one CVE for one copy, as CycloneDX analyses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Affected: the vulnerable code ships and is reachable.
    Exploitable,
    /// JndiLookup was removed (CVE-2021-44228 and CVE-2021-45046 only).
    Mitigated,
    /// The vulnerable code is not in this copy: a release before the flaw, or a deleted class.
    CodeNotPresent,
    /// A release in which the CVE is fixed.
    Resolved,
}

const OUTCOMES: [Outcome; 4] = [Outcome::Exploitable, Outcome::Mitigated, Outcome::CodeNotPresent, Outcome::Resolved];

impl Outcome {
    fn slug(self) -> &'static str {
        match self {
            Outcome::Exploitable => "exploitable",
            Outcome::Mitigated => "mitigated",
            Outcome::CodeNotPresent => "code_not_present",
            Outcome::Resolved => "resolved",
        }
    }
}

fn outcome(cve: &Cve, status: CveStatus, finding: &Finding) -> Outcome {
    match status {
        CveStatus::Affected => Outcome::Exploitable,
        CveStatus::Mitigated => Outcome::Mitigated,
        CveStatus::NotAffected => {
            let rules = quell_packs::active();
            let Some((events, requires_class)) = rules.affects(finding.component.name(), cve) else {
                return Outcome::Resolved;
            };
            if events.is_empty() {
                // Never affected in this component (reload4j fixed Log4j 1.x's flaws).
                return Outcome::Resolved;
            }
            if requires_class.is_some() && !matches!(events.first(), Some(Event::Introduced(v)) if v.as_str() != "0") {
                // Affected in every release when the class ships: not affected means it does not.
                return Outcome::CodeNotPresent;
            }
            let first_introduced = events
                .iter()
                .filter_map(|e| match e {
                    Event::Introduced(v) => Some(v.clone()),
                    _ => None,
                })
                .min();
            let newest_possible = finding
                .version
                .as_deref()
                .or_else(|| finding.version_range.as_deref().and_then(|r| r.split_once("..").map(|(_, hi)| hi)))
                .filter(|v| !v.is_empty())
                .map(MavenVersion::new);
            match (newest_possible, first_introduced) {
                (Some(v), Some(first)) if v < first => Outcome::CodeNotPresent,
                _ if requires_class.is_some() => Outcome::CodeNotPresent,
                _ => Outcome::Resolved,
            }
        }
    }
}

fn analysis(cve: &Cve, outcome: Outcome, mitigation: Option<(String, String)>) -> Value {
    let info = cve_info::info(cve);
    match outcome {
        Outcome::Exploitable => {
            let mut response = vec!["update"];
            if mitigation.is_some() {
                response.push("workaround_available");
            }
            json!({
                "state": "exploitable",
                "response": response,
                "detail": format!("The vulnerable code of {} ships in these copies. {}", cve.id(), info.remedy),
            })
        }
        Outcome::Mitigated => json!({
            "state": "not_affected",
            "justification": "code_not_present",
            "detail": match mitigation {
                Some((name, class)) => format!(
                    "The {class} class was removed from these copies ({name}). Other vulnerabilities of the \
                     same copies may still need an upgrade."
                ),
                None => "The vulnerable class was removed from these copies.".to_string(),
            },
        }),
        Outcome::CodeNotPresent => json!({
            "state": "not_affected",
            "justification": "code_not_present",
            "detail": "The vulnerable code is not present in these copies: the class is absent, or the release predates the flaw.",
        }),
        Outcome::Resolved => json!({
            "state": "resolved",
            "detail": format!("These copies are releases in which {} is fixed.", cve.id()),
        }),
    }
}

/// The mitigation that neutralises `cve` in `component`: (mitigation name, removed class).
fn mitigation_of(component: &str, cve: &Cve) -> Option<(String, String)> {
    let rules = quell_packs::active();
    let info = rules.component(component)?;
    let (_, name, _) = info.removable.iter().find(|(_, _, cves)| cves.contains(cve))?;
    rules.mitigation_classes(component).into_iter().find(|(n, _)| n == name)
}

fn vulnerabilities(ordered: &[(String, &Finding)]) -> Vec<Value> {
    let mut out = Vec::new();
    for cve in cve_info::all_cves() {
        let cve = &cve;
        for wanted in OUTCOMES {
            let mut mitigation = None;
            let affects: Vec<Value> = ordered
                .iter()
                .filter_map(|(reference, finding)| {
                    let status = finding.status(cve)?;
                    if mitigation.is_none() {
                        mitigation = mitigation_of(finding.component.name(), cve);
                    }
                    (outcome(cve, status, finding) == wanted).then(|| affect(reference, finding, wanted))
                })
                .collect();
            if affects.is_empty() {
                continue;
            }
            let info = cve_info::info(cve);
            let (advisory_title, advisory_url) = cve_info::advisory(cve);
            let nvd = json!({ "name": "NVD", "url": cve_info::nvd_url(cve) });
            out.push(json!({
                "bom-ref": format!("{}:{}", cve.id(), wanted.slug()),
                "id": cve.id(),
                "source": nvd,
                "ratings": [{
                    "source": nvd,
                    "score": cve_info::score_number(cve),
                    "severity": cve_info::severity(info.cvss),
                    "method": "CVSSv3",
                }],
                "cwes": info.cwes,
                "description": format!("{}. {}", info.title, info.description),
                "recommendation": info.remedy,
                "advisories": [{ "title": advisory_title, "url": advisory_url }],
                "analysis": analysis(cve, wanted, mitigation),
                "affects": affects,
            }));
        }
    }
    out
}

fn affect(reference: &str, finding: &Finding, outcome: Outcome) -> Value {
    let mut target = json!({ "ref": reference });
    if let Some(version) = &finding.version {
        let status = if outcome == Outcome::Exploitable { "affected" } else { "unaffected" };
        target["versions"] = json!([{ "version": version, "status": status }]);
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReportMeta;
    use quell_model::{Component, CveVerdict};

    fn meta() -> ReportMeta {
        ReportMeta {
            host: "web1".into(),
            tool_version: "0.1.0".into(),
            timestamp: "2021-12-10T00:00:00Z".into(),
            serial_number: Some("urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79".into()),
            roots: vec!["/srv".into()],
        }
    }

    fn core(path: &[&str], version: Option<&str>, statuses: [CveStatus; 4]) -> Finding {
        Finding {
            path: path.iter().map(|s| s.to_string()).collect(),
            component: Component::Log4jCore,
            purl: None,
            version: version.map(str::to_string),
            version_range: version.is_none().then(|| "2.1..2.14.1".to_string()),
            confidence: Confidence::Confirmed,
            evidence: vec!["class:org/apache/logging/log4j/core/net/JndiManager.class".into()],
            mitigations: vec![],
            cves: quell_model::cve::LOG4J2_CVES
                .iter()
                .zip(statuses)
                .map(|(id, status)| CveVerdict { id: id.clone(), status })
                .collect(),
        }
    }

    use CveStatus::{Affected as A, Mitigated as M, NotAffected as N};

    #[test]
    fn containers_nest_and_copies_sit_inside_them() {
        let findings = vec![
            core(&["/srv/app.ear", "lib/web.war", "WEB-INF/lib/log4j-core-2.14.1.jar"], Some("2.14.1"), [A, A, A, A]),
            core(&["/srv/app.ear", "lib/other.war", "WEB-INF/lib/log4j-core-2.17.1.jar"], Some("2.17.1"), [N, N, N, N]),
            core(&["/srv/agent.jar"], None, [A, A, A, A]),
        ];
        let meta = meta();
        let doc = bom(&ScanReport { meta: &meta, findings: &findings, summary: None, inventory: &[] });
        let top = doc["components"].as_array().expect("components");
        assert_eq!(top.len(), 2, "{top:#?}");
        assert_eq!(top[0]["bom-ref"], "log4j-core@/srv/agent.jar");
        assert_eq!(top[0]["purl"], "pkg:maven/org.apache.logging.log4j/log4j-core");
        assert!(top[0].get("version").is_none());
        assert_eq!(top[1]["type"], "file");
        assert_eq!(top[1]["name"], "/srv/app.ear");
        let wars = top[1]["components"].as_array().expect("wars");
        assert_eq!(wars.len(), 2);
        assert_eq!(wars[0]["bom-ref"], "file:/srv/app.ear!/lib/other.war");
        let copy = &wars[1]["components"][0];
        assert_eq!(copy["purl"], "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        assert_eq!(
            copy["evidence"]["occurrences"][0]["location"],
            "/srv/app.ear!/lib/web.war!/WEB-INF/lib/log4j-core-2.14.1.jar"
        );
        assert_eq!(doc["metadata"]["component"]["name"], "web1");
        assert_eq!(doc["specVersion"], "1.6");
    }

    #[test]
    fn analysis_per_outcome() {
        let mut mitigated = core(&["/m.jar"], Some("2.14.1"), [M, M, A, A]);
        mitigated.mitigations.push("jndi_lookup_removed".into());
        let findings = vec![
            core(&["/a.jar"], Some("2.14.1"), [A, A, A, A]),
            mitigated,
            core(&["/f.jar"], Some("2.17.1"), [N, N, N, N]),
            core(&["/old.jar"], Some("2.0-beta8"), [N, N, N, N]),
        ];
        let meta = meta();
        let doc = vex(&ScanReport { meta: &meta, findings: &findings, summary: None, inventory: &[] });
        assert!(doc.get("components").is_none());
        let vulns = doc["vulnerabilities"].as_array().expect("vulnerabilities");
        let find = |r: &str| vulns.iter().find(|v| v["bom-ref"] == r).unwrap_or_else(|| panic!("{r}: {vulns:#?}"));
        let exploitable = find("CVE-2021-44228:exploitable");
        assert_eq!(exploitable["analysis"]["state"], "exploitable");
        assert_eq!(exploitable["affects"][0]["ref"], "log4j-core@/a.jar");
        assert_eq!(exploitable["ratings"][0]["score"], 10.0);
        assert_eq!(exploitable["ratings"][0]["severity"], "critical");
        assert_eq!(exploitable["source"]["name"], "NVD");
        let m = find("CVE-2021-44228:mitigated");
        assert_eq!(m["analysis"]["state"], "not_affected");
        assert_eq!(m["analysis"]["justification"], "code_not_present");
        assert_eq!(m["affects"][0]["ref"], "log4j-core@/m.jar");
        assert!(find("CVE-2021-45046:mitigated")["affects"].is_array());
        assert!(vulns.iter().all(|v| v["bom-ref"] != "CVE-2021-45105:mitigated"));
        assert_eq!(find("CVE-2021-45105:exploitable")["affects"].as_array().map(Vec::len), Some(2));
        assert_eq!(find("CVE-2021-44228:resolved")["affects"][0]["ref"], "log4j-core@/f.jar");
        assert_eq!(find("CVE-2021-44228:resolved")["analysis"]["state"], "resolved");
        assert_eq!(find("CVE-2021-44228:code_not_present")["affects"][0]["ref"], "log4j-core@/old.jar");
        // Each copy has exactly one analysis per CVE it lists.
        for cve in quell_model::cve::LOG4J2_CVES {
            let refs: usize =
                vulns.iter().filter(|v| v["id"] == cve.id()).map(|v| v["affects"].as_array().map_or(0, Vec::len)).sum();
            assert_eq!(refs, findings.len(), "{cve}");
        }
    }

    #[test]
    fn empty_scan_is_a_valid_shape() {
        let meta = meta();
        let doc = bom(&ScanReport { meta: &meta, findings: &[], summary: None, inventory: &[] });
        assert_eq!(doc["components"], json!([]));
        assert_eq!(doc["vulnerabilities"], json!([]));
    }
}
