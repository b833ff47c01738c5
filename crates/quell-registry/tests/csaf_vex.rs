//! CSAF 2.0 VEX documents per supplier: structure checks here, and the official schema plus every
//! mandatory test of the BSI reference validator through `scripts/check-csaf` (set
//! `QUELL_CSAF_CHECK` to it; `QUELL_REQUIRE_CSAF=1` makes its absence a failure, as scripts/test does).

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use quell_registry::csaf::{supplier_slug, to_csaf_vex_all};
use quell_registry::{CsafMeta, Entry, SourceRef, Status, VulnStatus, merge, to_csaf_vex};
use serde_json::Value;

use common::{dutch, us};

fn meta() -> CsafMeta {
    CsafMeta {
        publisher_name: "quell test coordinator".into(),
        publisher_namespace: "https://quell.example".into(),
        publisher_category: "coordinator".into(),
        id_prefix: "QUELL-TEST".into(),
        date: "2026-11-28T16:00:00Z".into(),
        generator_version: "0.1.0".into(),
    }
}

fn status(status: Status, affected: &[&str], fixed: &[&str]) -> VulnStatus {
    let mut s = VulnStatus::new(status);
    s.affected_versions = affected.iter().map(|v| v.to_string()).collect();
    s.fixed_versions = fixed.iter().map(|v| v.to_string()).collect();
    s
}

/// A supplier with an odd name and products in every status, plus a product without notes or links.
fn odd_supplier() -> Vec<Entry> {
    let supplier = "Ödd & Söns <GmbH> \"Quoted\" | Pipe / Slash — 日本";
    let mut a = Entry::new(supplier, "Widget Server");
    a.statuses.insert("CVE-2021-44228".into(), status(Status::Fix, &["< 2.3"], &["2.3.1", "Versions after 2.4"]));
    a.statuses.insert("CVE-2021-45046".into(), status(Status::Vulnerable, &["2.0 - 2.3"], &[]));
    a.statuses.insert("CVE-2021-45105".into(), status(Status::Workaround, &[], &[]));
    a.statuses.insert("CVE-2021-4104".into(), status(Status::NotVulnerable, &[], &[]));
    a.statuses.insert("CVE-2021-44832".into(), status(Status::UnderInvestigation, &[], &[]));
    a.notes = "Remove JndiLookup from the classpath.\nSee the advisory.".into();
    a.links = vec!["https://odd.example/advisory?id=1&x=(2)".into()];
    a.purl = Some("pkg:maven/com.odd/widget-server@2.3.1".into());
    a.sources.push(SourceRef { list: "manual".into(), file: "test".into(), line: 1 });
    let mut b = Entry::new(supplier, "Widget Client");
    b.statuses.insert("CVE-2021-44228".into(), status(Status::NotVulnerable, &[], &[]));
    b.notes = "The client does not use Log4j.".into();
    let mut c = Entry::new(supplier, "");
    c.statuses.insert("CVE-2021-44228".into(), status(Status::UnderInvestigation, &[], &[]));
    vec![a, b, c]
}

fn product_ids(tree: &Value, out: &mut Vec<String>) {
    if let Some(id) = tree.pointer("/product/product_id").and_then(Value::as_str) {
        out.push(id.to_string());
    }
    for branch in tree.get("branches").and_then(Value::as_array).into_iter().flatten() {
        product_ids(branch, out);
    }
}

#[test]
fn every_status_maps_to_its_csaf_place() {
    let entries = odd_supplier();
    let doc = to_csaf_vex(&entries[0].supplier, &entries, &meta());
    assert_eq!(doc["document"]["category"], "csaf_vex");
    assert_eq!(doc["document"]["distribution"]["tlp"]["label"], "WHITE");
    assert_eq!(doc["document"]["tracking"]["id"], "QUELL-TEST-DD-S-NS-GMBH-QUOTED-PIPE-SLASH");
    let mut ids = Vec::new();
    product_ids(&doc["product_tree"], &mut ids);
    let defined: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(defined.len(), ids.len(), "product ids are unique");
    assert_eq!(ids.len(), 5, "3 products + 2 fixed versions");
    let vulns = doc["vulnerabilities"].as_array().expect("vulnerabilities");
    let cves: Vec<&str> = vulns.iter().map(|v| v["cve"].as_str().unwrap_or("")).collect();
    assert_eq!(cves, ["CVE-2021-4104", "CVE-2021-44228", "CVE-2021-44832", "CVE-2021-45046", "CVE-2021-45105"]);
    let by_cve = |cve: &str| vulns.iter().find(|v| v["cve"] == cve).expect("cve");
    let fix = by_cve("CVE-2021-44228");
    assert_eq!(fix["product_status"]["known_affected"], serde_json::json!(["CSAFPID-0001"]));
    assert_eq!(fix["product_status"]["fixed"], serde_json::json!(["CSAFPID-0002", "CSAFPID-0003"]));
    assert_eq!(fix["product_status"]["known_not_affected"], serde_json::json!(["CSAFPID-0004"]));
    assert_eq!(fix["product_status"]["under_investigation"], serde_json::json!(["CSAFPID-0005"]));
    assert_eq!(fix["remediations"][0]["category"], "vendor_fix");
    assert!(fix["remediations"][0]["details"].as_str().unwrap_or("").contains("2.3.1, Versions after 2.4"));
    assert_eq!(fix["flags"][0]["label"], "component_not_present", "the client does not use Log4j");
    assert_eq!(by_cve("CVE-2021-45046")["remediations"][0]["category"], "none_available");
    assert_eq!(by_cve("CVE-2021-45105")["remediations"][0]["category"], "workaround");
    assert_eq!(by_cve("CVE-2021-4104")["threats"][0]["category"], "impact");
    // A range-like fixed version is a product_version_range (mandatory test 6.1.31).
    let text = doc["product_tree"].to_string();
    assert!(text.contains(r#"{"category":"product_version_range","name":"Versions after 2.4""#), "{text}");
    assert!(text.contains(r#""purl":"pkg:maven/com.odd/widget-server@2.3.1""#));
    assert!(supplier_slug("日本").starts_with('X'));
}

/// Writes documents into a fresh directory under the target dir and runs the checker on them all.
fn check(docs: &[(String, Value)]) {
    let required = std::env::var("QUELL_REQUIRE_CSAF").is_ok_and(|v| v == "1");
    let Some(checker) = std::env::var_os("QUELL_CSAF_CHECK") else {
        assert!(!required, "QUELL_REQUIRE_CSAF=1 but QUELL_CSAF_CHECK is not set");
        eprintln!("skipped: set QUELL_CSAF_CHECK=scripts/check-csaf to run the CSAF validator");
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("csaf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut files = Vec::new();
    for (i, (supplier, doc)) in docs.iter().enumerate() {
        let path = dir.join(format!("{i:05}-{}.json", supplier_slug(supplier).to_lowercase()));
        std::fs::write(&path, serde_json::to_vec_pretty(doc).expect("json")).expect("write");
        files.push(path);
    }
    let output = std::process::Command::new(checker).args(&files).output().expect("run the CSAF checker");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failures: Vec<&str> = stdout.lines().filter(|l| !l.ends_with(")") || !l.contains(": ok (")).collect();
    assert!(
        output.status.success(),
        "CSAF validation failed ({:?}):\n{}\n{}",
        output.status,
        failures.iter().take(60).copied().collect::<Vec<_>>().join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.lines().filter(|l| l.contains(": ok (")).count(), docs.len());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn csaf_vex_of_every_supplier_of_both_lists_passes_the_reference_validator() {
    let mut entries = dutch().entries;
    entries.extend(us().entries);
    entries.extend(odd_supplier());
    let registry = merge(entries);
    let docs = to_csaf_vex_all(&registry, &meta());
    // Every supplier with at least one status; those without any are not VEX material.
    let suppliers: BTreeSet<String> = registry.iter().filter(|e| !e.statuses.is_empty()).map(|e| e.key().0).collect();
    assert_eq!(docs.len(), suppliers.len());
    // Suppliers with every status are among them (Apache has all five for some CVE).
    let mut per_supplier: std::collections::BTreeMap<String, BTreeSet<Status>> = Default::default();
    for e in &registry {
        per_supplier.entry(e.key().0).or_default().extend(e.statuses.values().map(|s| s.status));
    }
    let statuses_of = |supplier: &str| per_supplier[&quell_registry::entry_key(supplier, "").0].clone();
    assert_eq!(statuses_of("Ödd & Söns <GmbH> \"Quoted\" | Pipe / Slash — 日本").len(), 5);
    let full = docs.iter().filter(|(s, _)| statuses_of(s).len() == 5).count();
    assert!(full >= 5, "{full} suppliers with every status");
    check(&docs);
}
