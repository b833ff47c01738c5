//! CSAF 2.0 VEX (`csaf_vex` profile) documents, one per supplier.
//!
//! # Shape
//! - `document`: category `csaf_vex`, `csaf_version` 2.0, `lang` en, `publisher` (from [`CsafMeta`]),
//!   `title`, `distribution.tlp.label` `WHITE` (CSAF 2.0 speaks TLP 1.0, whose WHITE is TLP 2.0's
//!   CLEAR: the 2.0 schema has no CLEAR), `tracking` (id `<prefix>-<supplier slug>`, status final,
//!   version 1 with its revision history, dates and generator from [`CsafMeta`]), one summary note and
//!   one note per product with notes, and each product's source links as external references.
//! - `product_tree`: one `vendor` branch; per product a `product_name` branch. A product with
//!   fixed versions gets children: a `product_version_range` `vers:all/*` (the product as a whole)
//!   and one leaf per fixed version (`product_version` for a plain version, `product_version_range`
//!   when the text names a range, which mandatory test 6.1.31 forbids in `product_version`).
//!   Product ids are `CSAFPID-<n>`, in order.
//! - one `vulnerabilities[]` item per CVE any product has, with a description note, and per status:
//!   - `vulnerable`: `known_affected`, with a remediation `none_available`;
//!   - `workaround`: `known_affected`, with a remediation `workaround`;
//!   - `fix`: the product in `known_affected`, its fixed versions in `fixed`, with a remediation
//!     `vendor_fix` naming the fixed versions;
//!   - `not_vulnerable`: `known_not_affected`, with an impact statement (mandatory test 6.1.27.9): the
//!     flag `component_not_present` when the notes say the product does not use Log4j, otherwise a
//!     `threats` item of category `impact`;
//!   - `under_investigation`: `under_investigation`.
//!
//!   Remediations link the first source link.
//!
//! A supplier whose products have no status for any CVE has no vulnerability to state: see
//! [`to_csaf_vex_all`], which skips it (the profile requires vulnerabilities).

use serde_json::{Value, json};

use crate::model::{Entry, Status, entry_key};

/// What a CSAF document needs besides the entries (no clock or host lookups in this crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsafMeta {
    /// `document.publisher.name`.
    pub publisher_name: String,
    /// `document.publisher.namespace` (a URL).
    pub publisher_namespace: String,
    /// `document.publisher.category`: `coordinator`, `discoverer`, `other`, `translator`, `user`, `vendor`.
    pub publisher_category: String,
    /// Prefix of `document.tracking.id` (the supplier's slug follows).
    pub id_prefix: String,
    /// The release date of the document (RFC 3339, e.g. `2026-11-28T16:00:00Z`).
    pub date: String,
    /// The generator's version (`document.tracking.generator.engine.version`).
    pub generator_version: String,
}

impl Default for CsafMeta {
    fn default() -> CsafMeta {
        CsafMeta {
            publisher_name: "quell registry".to_string(),
            publisher_namespace: "https://quell.invalid".to_string(),
            publisher_category: "coordinator".to_string(),
            id_prefix: "QUELL-REGISTRY".to_string(),
            date: "1970-01-01T00:00:00Z".to_string(),
            generator_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// A tracking-id slug: ASCII letters and digits, other runs as one `-`, upper case.
pub fn supplier_slug(supplier: &str) -> String {
    let key = entry_key(supplier, "").0;
    let mut slug = String::new();
    for c in key.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_uppercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        // A name with no ASCII letter or digit (e.g. only CJK): a stable hash keeps ids distinct.
        format!("X{:08X}", fnv1a(supplier.as_bytes()))
    } else {
        slug
    }
}

fn fnv1a(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Words that make a version text a range (CSAF 2.0 mandatory test 6.1.31).
const RANGE_WORDS: &[&str] = &["after", "all", "before", "earlier", "later", "prior", "versions"];

fn is_plain_version(text: &str) -> bool {
    if text.contains(['<', '>']) {
        return false;
    }
    let lower = text.to_lowercase();
    !lower.split(|c: char| !c.is_alphanumeric()).any(|w| RANGE_WORDS.contains(&w))
}

fn says_log4j_not_used(notes: &str) -> bool {
    let lower = notes.to_lowercase();
    [
        "does not use log4j",
        "do not use log4j",
        "doesn't use log4j",
        "not using log4j",
        "does not contain log4j",
        "do not contain log4j",
        "does not include log4j",
        "log4j is not used",
        "log4j is not present",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

struct ProductIds {
    /// The product as a whole.
    all: String,
    /// One per fixed version: (version, id).
    fixed: Vec<(String, String)>,
}

/// The CSAF 2.0 VEX document for one supplier's entries (entries of other suppliers are ignored).
pub fn to_csaf_vex(supplier: &str, entries: &[Entry], meta: &CsafMeta) -> Value {
    let supplier_key = entry_key(supplier, "").0;
    let entries: Vec<&Entry> = entries.iter().filter(|e| e.key().0 == supplier_key).collect();
    vex_document(supplier, &entries, meta)
}

fn vex_document(supplier: &str, entries: &[&Entry], meta: &CsafMeta) -> Value {
    let mut next_id = 0usize;
    let mut new_id = || {
        next_id += 1;
        format!("CSAFPID-{next_id:04}")
    };

    let mut product_branches = Vec::new();
    let mut ids: Vec<ProductIds> = Vec::new();
    for entry in entries {
        let product = if entry.product.trim().is_empty() { "(unnamed product)" } else { entry.product.trim() };
        let full_name = format!("{} {}", supplier.trim(), product);
        let mut fixed_versions: Vec<String> = Vec::new();
        for status in entry.statuses.values().filter(|s| s.status == Status::Fix) {
            for v in &status.fixed_versions {
                if !v.trim().is_empty() && !fixed_versions.contains(v) {
                    fixed_versions.push(v.clone());
                }
            }
        }
        let all = new_id();
        let mut helper = serde_json::Map::new();
        if let Some(purl) = entry.purl.as_deref().filter(|p| is_purl(p)) {
            helper.insert("purl".into(), purl.into());
        }
        let mut whole = json!({"name": full_name, "product_id": all});
        if !helper.is_empty() {
            whole["product_identification_helper"] = Value::Object(helper);
        }
        if fixed_versions.is_empty() {
            product_branches.push(json!({"category": "product_name", "name": product, "product": whole}));
            ids.push(ProductIds { all, fixed: Vec::new() });
        } else {
            let mut children =
                vec![json!({"category": "product_version_range", "name": "vers:all/*", "product": whole})];
            let mut fixed = Vec::new();
            for version in fixed_versions {
                let id = new_id();
                let category = if is_plain_version(&version) { "product_version" } else { "product_version_range" };
                children.push(json!({
                    "category": category,
                    "name": version,
                    "product": {"name": format!("{full_name} {version}"), "product_id": id},
                }));
                fixed.push((version, id));
            }
            product_branches.push(json!({"category": "product_name", "name": product, "branches": children}));
            ids.push(ProductIds { all, fixed });
        }
    }

    let mut cves: Vec<&String> = entries.iter().flat_map(|e| e.statuses.keys()).collect();
    cves.sort();
    cves.dedup();
    let mut vulnerabilities = Vec::new();
    for cve in cves {
        let mut known_affected = Vec::new();
        let mut fixed = Vec::new();
        let mut known_not_affected = Vec::new();
        let mut under_investigation = Vec::new();
        let mut remediations = Vec::new();
        let mut flags = Vec::new();
        let mut threats = Vec::new();
        for (entry, pid) in entries.iter().zip(&ids) {
            let Some(status) = entry.statuses.get(cve) else { continue };
            let url = entry.links.first();
            let mut remediation = |category: &str, details: String, product_ids: Vec<String>| {
                let mut r = json!({"category": category, "details": details, "product_ids": product_ids});
                if let Some(url) = url {
                    r["url"] = url.clone().into();
                }
                remediations.push(r);
            };
            match status.status {
                Status::Vulnerable => {
                    known_affected.push(pid.all.clone());
                    let versions = versions_text(&status.affected_versions);
                    remediation(
                        "none_available",
                        format!("No fix or workaround is known to the registry{versions}; see the vendor statement."),
                        vec![pid.all.clone()],
                    );
                }
                Status::Workaround => {
                    known_affected.push(pid.all.clone());
                    let details = if entry.notes.trim().is_empty() {
                        "The vendor published mitigation steps; see the vendor statement.".to_string()
                    } else {
                        entry.notes.trim().to_string()
                    };
                    remediation("workaround", details, vec![pid.all.clone()]);
                }
                Status::Fix => {
                    known_affected.push(pid.all.clone());
                    let versions: Vec<&str> = pid
                        .fixed
                        .iter()
                        .filter(|(v, _)| status.fixed_versions.contains(v))
                        .map(|(v, id)| {
                            fixed.push(id.clone());
                            v.as_str()
                        })
                        .collect();
                    remediation(
                        "vendor_fix",
                        format!("Update to a fixed version: {}.", versions.join(", ")),
                        vec![pid.all.clone()],
                    );
                }
                Status::NotVulnerable => {
                    known_not_affected.push(pid.all.clone());
                    if says_log4j_not_used(&entry.notes) {
                        flags.push(json!({"label": "component_not_present", "product_ids": [pid.all.clone()]}));
                    } else {
                        let source = url.map(|u| format!(" ({u})")).unwrap_or_default();
                        threats.push(json!({
                            "category": "impact",
                            "details": format!("Not vulnerable according to the vendor statement{source}."),
                            "product_ids": [pid.all.clone()],
                        }));
                    }
                }
                Status::UnderInvestigation => under_investigation.push(pid.all.clone()),
            }
        }
        let mut product_status = serde_json::Map::new();
        for (name, list) in [
            ("fixed", fixed),
            ("known_affected", known_affected),
            ("known_not_affected", known_not_affected),
            ("under_investigation", under_investigation),
        ] {
            if !list.is_empty() {
                product_status.insert(name.into(), list.into());
            }
        }
        let mut vulnerability = json!({
            "cve": cve,
            "notes": [{
                "category": "description",
                "title": "Status in the registry",
                "text": format!("The status of {} products for {cve}, as recorded in the product status registry \
                                 from the vendors' statements.", supplier.trim()),
            }],
            "product_status": product_status,
        });
        if !remediations.is_empty() {
            vulnerability["remediations"] = remediations.into();
        }
        if !flags.is_empty() {
            vulnerability["flags"] = flags.into();
        }
        if !threats.is_empty() {
            vulnerability["threats"] = threats.into();
        }
        vulnerabilities.push(vulnerability);
    }

    let mut notes = vec![json!({
        "category": "summary",
        "title": "About this document",
        "text": format!("The Log4Shell status of {} products, exported from the product status registry.", supplier.trim()),
    })];
    let mut references = Vec::new();
    for entry in entries {
        if !entry.notes.trim().is_empty() {
            notes.push(json!({"category": "other", "title": format!("Notes on {}", entry.product.trim()), "text": entry.notes.trim()}));
        }
        for link in &entry.links {
            references.push(json!({"category": "external", "summary": format!("Vendor statement: {}", entry.product.trim()), "url": link}));
        }
    }
    let mut document = json!({
        "category": "csaf_vex",
        "csaf_version": "2.0",
        "lang": "en",
        "title": format!("Log4Shell status of {} products", supplier.trim()),
        "publisher": {
            "category": meta.publisher_category,
            "name": meta.publisher_name,
            "namespace": meta.publisher_namespace,
        },
        "distribution": {"tlp": {"label": "WHITE"}},
        "notes": notes,
        "tracking": {
            "id": format!("{}-{}", meta.id_prefix.trim(), supplier_slug(supplier)),
            "status": "final",
            "version": "1",
            "revision_history": [{"date": meta.date, "number": "1", "summary": "Exported from the product status registry."}],
            "initial_release_date": meta.date,
            "current_release_date": meta.date,
            "generator": {"date": meta.date, "engine": {"name": "quell", "version": meta.generator_version}},
        },
    });
    if !references.is_empty() {
        document["references"] = references.into();
    }
    let mut csaf = json!({
        "document": document,
        "product_tree": {"branches": [{"category": "vendor", "name": supplier.trim(), "branches": product_branches}]},
    });
    if !vulnerabilities.is_empty() {
        csaf["vulnerabilities"] = vulnerabilities.into();
    }
    csaf
}

fn versions_text(versions: &[String]) -> String {
    if versions.is_empty() { String::new() } else { format!(" (affected: {})", versions.join(", ")) }
}

/// `pkg:<type>/<name>…` as the CSAF schema's purl pattern requires.
fn is_purl(purl: &str) -> bool {
    let Some(rest) = purl.strip_prefix("pkg:") else { return false };
    let Some((kind, name)) = rest.split_once('/') else { return false };
    let mut chars = kind.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '.' | '-' | '+'))
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        && !name.is_empty()
        && !purl.contains(char::is_whitespace)
}

/// One VEX document per supplier that has a status for at least one CVE, by supplier key order:
/// (supplier name as first spelled, document).
pub fn to_csaf_vex_all(entries: &[Entry], meta: &CsafMeta) -> Vec<(String, Value)> {
    let mut suppliers: std::collections::BTreeMap<String, (String, Vec<&Entry>)> = std::collections::BTreeMap::new();
    for entry in entries {
        let group = suppliers.entry(entry.key().0).or_insert_with(|| (entry.supplier.trim().to_string(), Vec::new()));
        group.1.push(entry);
    }
    suppliers
        .into_values()
        .filter(|(_, group)| group.iter().any(|e| !e.statuses.is_empty()))
        .map(|(name, group)| {
            let doc = vex_document(&name, &group, meta);
            (name, doc)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_versions() {
        assert_eq!(supplier_slug("Cisco Systems, Inc."), "CISCO-SYSTEMS");
        assert!(supplier_slug("日本").starts_with('X'));
        assert!(is_plain_version("7.6.1"));
        assert!(!is_plain_version("Versions before 19.6"));
        assert!(!is_plain_version("< 2.3"));
    }
}
