//! A published advisory version as a CSAF 2.0 `csaf_security_advisory`, and CSAF file names.
//!
//! Mapping:
//! - `tracking.id` is the advisory identifier; `tracking.version` and revision numbers use CSAF's
//!   integer versioning (`1.00` → `1`, `1.01` → `2`, …), status `final`.
//! - `distribution.tlp.label` is the CSAF 2.0 (TLP 1.0) label of [`Tlp::csaf_label`];
//!   `distribution.text` carries the TLP 2.0 marking itself (`TLP:AMBER+STRICT`).
//! - `aggregate_severity.text` is the two-axis label (`HIGH/HIGH`).
//! - Products: a `vendor` → `product_name` → `product_version_range` branch per affected
//!   product (the supplier's version text is a range, not one version), each with its own
//!   product id `QUELL-PID-n`; every CVE lists them all as `known_affected`, with one
//!   remediation (`vendor_fix` when a fix exists, else `none_available`) and an `impact` threat.
//! - The texts the document itself writes (note titles `Summary`/`Samenvatting`, the rating
//!   note, the levels `HIGH`/`HOOG` of `aggregate_severity` and the threat, default remediation
//!   and revision texts, the reference summary) are in the document's language, `/document/lang`
//!   (the language of the texts `content` carries), from [`Wording`]. They are part of the
//!   document, like its author's texts, not of a reader's interface: so they live here, not in
//!   the server's message files, and the renderer stays pure and deterministic.

use serde_json::{Value, json};

use crate::model::AdvisoryContent;
use crate::rating::Rating;

/// One published version in the revision history.
#[derive(Debug, Clone)]
pub struct Revision {
    pub version: crate::Version,
    /// RFC 3339 UTC.
    pub date: String,
    pub summary: String,
}

/// Who publishes.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub name: String,
    /// A URL that identifies the publisher (`https://cert.example`).
    pub namespace: String,
}

/// Everything the CSAF document of one version is made of.
#[derive(Debug, Clone)]
pub struct CsafInput<'a> {
    pub tracking_id: &'a str,
    pub content: &'a AdvisoryContent,
    pub rating: &'a Rating,
    /// Every published version up to and including this one, oldest first.
    pub revisions: &'a [Revision],
    pub publisher: &'a Publisher,
    /// Where the document itself is served (a `self` reference), when known.
    pub self_url: Option<&'a str>,
    /// `quell x.y.z`, for `tracking.generator`.
    pub generator_version: &'a str,
    /// When `content` carries a translation's texts (see [`AdvisoryContent::in_language`]): the
    /// original's language, for `/document/source_lang`.
    pub source_lang: Option<&'a str>,
}

/// The CSAF file name of a tracking id: lower case, every character other than `+`, `-`,
/// `a-z`, `0-9` replaced by `_`, then `.json` (CSAF 2.0 §5.1).
pub fn file_name(tracking_id: &str) -> String {
    let mut name: String = tracking_id
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '-' { c } else { '_' })
        .collect();
    name.push_str(".json");
    name
}

/// The fixed texts of a CSAF document in one of [`crate::LANGUAGES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wording {
    pub summary: &'static str,
    pub consequences: &'static str,
    pub rating: &'static str,
    pub reference: &'static str,
    pub initial_release: &'static str,
    pub update: &'static str,
    pub fixed_version: &'static str,
    pub no_fix: &'static str,
    /// `Chance`, `Damage` (with a capital: they start a sentence).
    pub chance: &'static str,
    pub damage: &'static str,
    /// `points`, `highest answer`, `set to … by the analyst`.
    pub points: &'static str,
    pub highest_answer: &'static str,
    pub set_to: &'static str,
    pub by_the_analyst: &'static str,
    /// `LOW`, `MEDIUM`, `HIGH`.
    pub levels: [&'static str; 3],
}

impl Wording {
    pub const EN: Wording = Wording {
        summary: "Summary",
        consequences: "Consequences",
        rating: "Rating",
        reference: "Reference",
        initial_release: "Initial release",
        update: "Update",
        fixed_version: "Update to a fixed version.",
        no_fix: "No fix is available. Consider switching affected systems off until one is.",
        chance: "Chance",
        damage: "Damage",
        points: "points",
        highest_answer: "highest answer",
        set_to: "set to",
        by_the_analyst: "by the analyst",
        levels: ["LOW", "MEDIUM", "HIGH"],
    };

    /// As the national CERT writes its beveiligingsadviezen (docs/glossary.md).
    pub const NL: Wording = Wording {
        summary: "Samenvatting",
        consequences: "Gevolgen",
        rating: "Kans/schade",
        reference: "Referentie",
        initial_release: "Initiële versie",
        update: "Bijgewerkte versie",
        fixed_version: "Installeer een versie waarin de kwetsbaarheid is verholpen.",
        no_fix: "Er is nog geen oplossing. Overweeg getroffen systemen uit te schakelen tot die er is.",
        chance: "Kans",
        damage: "Schade",
        points: "punten",
        highest_answer: "hoogste antwoord",
        set_to: "op",
        by_the_analyst: "gezet door de analist",
        levels: ["LAAG", "MIDDEL", "HOOG"],
    };

    /// The wording of a document in `lang` (`nl`; anything else: English).
    pub fn of(lang: &str) -> Wording {
        if lang == "nl" { Wording::NL } else { Wording::EN }
    }

    fn level(&self, level: crate::Level) -> &'static str {
        match level {
            crate::Level::Low => self.levels[0],
            crate::Level::Medium => self.levels[1],
            crate::Level::High => self.levels[2],
        }
    }

    /// The two-axis label (`HIGH/MEDIUM`, `HOOG/MIDDEL`).
    pub fn label(&self, rating: &Rating) -> String {
        format!("{}/{}", self.level(rating.chance), self.level(rating.damage))
    }
}

/// A product name and its version-range leaves.
type ProductBranch = (String, Vec<Value>);

/// Renders the document. `revisions` must be non-empty (the caller publishes before rendering).
pub fn render(input: &CsafInput<'_>) -> Value {
    let c = input.content;
    let r = input.rating;
    let w = Wording::of(c.original_lang());
    let last = input.revisions.last();
    let version = last.map_or_else(|| "1".to_string(), |rev| rev.version.csaf_number());
    let current = last.map(|rev| rev.date.clone()).unwrap_or_default();
    let initial = input.revisions.first().map(|rev| rev.date.clone()).unwrap_or_default();
    let history: Vec<Value> = input
        .revisions
        .iter()
        .map(|rev| {
            let summary = if rev.summary.trim().is_empty() {
                if rev.version == crate::Version::FIRST { w.initial_release.to_string() } else { w.update.to_string() }
            } else {
                rev.summary.clone()
            };
            json!({ "date": rev.date, "number": rev.version.csaf_number(), "summary": summary })
        })
        .collect();

    let mut notes = vec![json!({ "category": "summary", "title": w.summary, "text": c.summary })];
    if !c.consequences.trim().is_empty() {
        notes.push(json!({ "category": "details", "title": w.consequences, "text": c.consequences }));
    }
    let mut rating_text = format!(
        "{}: {} ({} {}). {}: {} ({} {}).",
        w.chance,
        w.level(r.chance),
        r.chance_points,
        w.points,
        w.damage,
        w.level(r.damage),
        w.highest_answer,
        r.damage_value
    );
    for (axis, level, reason) in
        [(w.chance, r.chance, &r.chance_override_reason), (w.damage, r.damage, &r.damage_override_reason)]
    {
        if let Some(reason) = reason {
            rating_text.push_str(&format!(" {axis} {} {} {}: {reason}", w.set_to, w.level(level), w.by_the_analyst));
        }
    }
    notes.push(json!({ "category": "other", "title": w.rating, "text": rating_text }));

    let mut references = Vec::new();
    if let Some(url) = input.self_url {
        references.push(json!({ "category": "self", "summary": format!("{} (CSAF)", input.tracking_id), "url": url }));
    }
    for url in &c.references {
        references.push(json!({ "category": "external", "summary": w.reference, "url": url }));
    }

    // vendor → product_name → product_version_range, in the order first seen.
    let mut vendors: Vec<(String, Vec<ProductBranch>)> = Vec::new();
    let mut product_ids = Vec::new();
    for (i, p) in c.products.iter().enumerate() {
        let id = format!("QUELL-PID-{}", i + 1);
        product_ids.push(Value::String(id.clone()));
        let leaf = json!({
            "category": "product_version_range",
            "name": p.versions.trim(),
            "product": { "name": format!("{} {} {}", p.supplier.trim(), p.product.trim(), p.versions.trim()), "product_id": id },
        });
        let vi = match vendors.iter().position(|(v, _)| v == p.supplier.trim()) {
            Some(vi) => vi,
            None => {
                vendors.push((p.supplier.trim().to_string(), Vec::new()));
                vendors.len() - 1
            }
        };
        let products = &mut vendors[vi].1;
        match products.iter_mut().find(|(name, _)| name == p.product.trim()) {
            Some((_, leaves)) => leaves.push(leaf),
            None => products.push((p.product.trim().to_string(), vec![leaf])),
        }
    }
    let branches: Vec<Value> = vendors
        .into_iter()
        .map(|(vendor, products)| {
            let products: Vec<Value> = products
                .into_iter()
                .map(|(name, leaves)| json!({ "category": "product_name", "name": name, "branches": leaves }))
                .collect();
            json!({ "category": "vendor", "name": vendor, "branches": products })
        })
        .collect();

    let remediation = if c.fix_available {
        json!({
            "category": "vendor_fix",
            "details": if c.solution.trim().is_empty() { w.fixed_version } else { c.solution.as_str() },
            "product_ids": product_ids,
        })
    } else {
        json!({
            "category": "none_available",
            "details": if c.solution.trim().is_empty() {
                w.no_fix
            } else {
                c.solution.as_str()
            },
            "product_ids": product_ids,
        })
    };
    let threat = json!({
        "category": "impact",
        "details": format!("{}: {}. {}", w.damage, w.level(r.damage), c.consequences.trim()).trim().to_string(),
    });
    let vulnerability = |cve: Option<&str>| {
        let mut v = json!({
            "notes": [{ "category": "description", "title": w.summary, "text": c.summary }],
            "product_status": { "known_affected": product_ids },
            "remediations": [remediation],
            "threats": [threat],
        });
        match cve {
            Some(cve) => v["cve"] = json!(cve),
            None => v["title"] = json!(c.title),
        }
        v
    };
    let vulnerabilities: Vec<Value> = if c.cves.is_empty() {
        vec![vulnerability(None)]
    } else {
        c.cves.iter().map(|cve| vulnerability(Some(cve))).collect()
    };

    let mut document = json!({
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "title": c.title,
        "lang": c.original_lang(),
        "publisher": {
            "category": "coordinator",
            "name": input.publisher.name,
            "namespace": input.publisher.namespace,
        },
        "distribution": {
            "text": format!("TLP:{}", c.tlp.as_str()),
            "tlp": { "label": c.tlp.csaf_label(), "url": "https://www.first.org/tlp/" },
        },
        "aggregate_severity": { "text": w.label(r) },
        "notes": notes,
        "tracking": {
            "id": input.tracking_id,
            "status": "final",
            "version": version,
            "initial_release_date": initial,
            "current_release_date": current,
            "revision_history": history,
            "generator": { "engine": { "name": "quell", "version": input.generator_version } },
        },
    });
    if !references.is_empty() {
        document["references"] = Value::Array(references);
    }
    if let Some(source) = input.source_lang {
        document["source_lang"] = json!(source);
    }
    json!({
        "document": document,
        "product_tree": { "branches": branches },
        "vulnerabilities": vulnerabilities,
    })
}

/// Why an imported document is refused ([`read_import`]); `Display` is the English reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportProblem {
    #[error("no /document")]
    NoDocument,
    /// A required field (its JSON pointer) is missing or empty.
    #[error("{pointer} is missing")]
    Missing { pointer: &'static str },
    #[error("/document/csaf_version must be 2.0")]
    CsafVersion,
    #[error("/document/tracking/revision_history is missing or empty")]
    NoRevisionHistory,
    #[error("a csaf_security_advisory needs /vulnerabilities")]
    NeedsVulnerabilities,
    #[error("a csaf_security_advisory needs /product_tree")]
    NeedsProductTree,
    #[error("/vulnerabilities/{index}/cve is not a CVE id")]
    NotCve { index: usize },
    #[error("/vulnerabilities/{index}/product_status uses undefined product {product}")]
    UndefinedProduct { index: usize, product: String },
}

impl ImportProblem {
    /// One value of every variant.
    pub fn examples() -> Vec<ImportProblem> {
        vec![
            ImportProblem::NoDocument,
            ImportProblem::Missing { pointer: "/document/title" },
            ImportProblem::CsafVersion,
            ImportProblem::NoRevisionHistory,
            ImportProblem::NeedsVulnerabilities,
            ImportProblem::NeedsProductTree,
            ImportProblem::NotCve { index: 0 },
            ImportProblem::UndefinedProduct { index: 0, product: "CSAFPID-1".into() },
        ]
    }
}

/// What an imported CSAF document says, read leniently but checked for the fields a stored
/// external advisory needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub tracking_id: String,
    pub version: String,
    pub title: String,
    pub publisher: String,
    pub tlp_label: String,
    pub current_release_date: String,
    pub cves: Vec<String>,
}

/// Checks an imported document's shape: a CSAF 2.0 document of a known category with the
/// required `document` fields, a product tree when it has vulnerabilities, and every
/// product id it uses defined (mandatory test 6.1.1). Returns what it says.
pub fn read_import(doc: &Value) -> Result<Imported, crate::Invalid> {
    let bad = crate::Invalid::Csaf;
    let d = doc.get("document").ok_or(bad(ImportProblem::NoDocument))?;
    let s = |v: Option<&Value>, what: &'static str| -> Result<String, crate::Invalid> {
        v.and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
            .ok_or(bad(ImportProblem::Missing { pointer: what }))
    };
    if s(d.get("csaf_version"), "/document/csaf_version")? != "2.0" {
        return Err(bad(ImportProblem::CsafVersion));
    }
    let category = s(d.get("category"), "/document/category")?;
    let tracking = d.get("tracking").ok_or(bad(ImportProblem::Missing { pointer: "/document/tracking" }))?;
    let tracking_id = s(tracking.get("id"), "/document/tracking/id")?;
    let version = s(tracking.get("version"), "/document/tracking/version")?;
    let current = s(tracking.get("current_release_date"), "/document/tracking/current_release_date")?;
    s(tracking.get("initial_release_date"), "/document/tracking/initial_release_date")?;
    s(tracking.get("status"), "/document/tracking/status")?;
    if tracking.get("revision_history").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        return Err(bad(ImportProblem::NoRevisionHistory));
    }
    let title = s(d.get("title"), "/document/title")?;
    let publisher = s(d.get("publisher").and_then(|p| p.get("name")), "/document/publisher/name")?;
    s(d.get("publisher").and_then(|p| p.get("namespace")), "/document/publisher/namespace")?;
    s(d.get("publisher").and_then(|p| p.get("category")), "/document/publisher/category")?;
    let tlp_label = d
        .get("distribution")
        .and_then(|x| x.get("tlp"))
        .and_then(|x| x.get("label"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let vulnerabilities = doc.get("vulnerabilities").and_then(Value::as_array).cloned().unwrap_or_default();
    if category == "csaf_security_advisory" {
        if vulnerabilities.is_empty() {
            return Err(bad(ImportProblem::NeedsVulnerabilities));
        }
        if doc.get("product_tree").is_none() {
            return Err(bad(ImportProblem::NeedsProductTree));
        }
    }
    let mut defined = std::collections::HashSet::new();
    if let Some(tree) = doc.get("product_tree") {
        collect_product_ids(tree, &mut defined);
    }
    let mut cves = Vec::new();
    for (i, v) in vulnerabilities.iter().enumerate() {
        if let Some(cve) = v.get("cve").and_then(Value::as_str) {
            if !crate::model::is_cve(cve) {
                return Err(bad(ImportProblem::NotCve { index: i }));
            }
            cves.push(cve.to_string());
        }
        if let Some(status) = v.get("product_status").and_then(Value::as_object) {
            for ids in status.values().filter_map(Value::as_array) {
                for id in ids.iter().filter_map(Value::as_str) {
                    if !defined.contains(id) {
                        return Err(bad(ImportProblem::UndefinedProduct { index: i, product: id.to_string() }));
                    }
                }
            }
        }
    }
    Ok(Imported { tracking_id, version, title, publisher, tlp_label, current_release_date: current, cves })
}

/// The content of an own advisory that forwards an imported one ("forward to target group"):
/// its title, its summary note (else its description, else the title), its CVEs, its products
/// (the vendor / product name / version branches of its product tree), the TLP it
/// was marked with, and a reference (CSAF category `external`) to where the original is — the
/// URL it was fetched from, else its own `self` reference. The rating is the coordinator's.
pub fn forwarded_content(
    doc: &Value,
    imported: &Imported,
    source_url: Option<&str>,
    tlp: crate::Tlp,
    rating: crate::Answers,
) -> AdvisoryContent {
    let notes = doc["document"]["notes"].as_array().cloned().unwrap_or_default();
    let note = |category: &str| {
        notes.iter().find(|n| n["category"] == category).and_then(|n| n["text"].as_str()).map(str::to_string)
    };
    let self_reference = doc["document"]["references"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["category"] == "self"))
        .and_then(|r| r["url"].as_str())
        .map(str::to_string);
    let summary = note("summary").or_else(|| note("description")).unwrap_or_else(|| imported.title.clone());
    let summary = format!("{} ({} {}): {summary}", imported.publisher, imported.tracking_id, imported.version);
    AdvisoryContent {
        title: imported.title.replace(['\n', '\r'], " "),
        summary,
        cves: imported.cves.iter().fold(Vec::new(), |mut all, c| {
            if !all.contains(c) {
                all.push(c.clone());
            }
            all
        }),
        products: products_of(doc),
        components: Vec::new(),
        consequences: String::new(),
        solution: String::new(),
        fix_available: true,
        references: source_url.map(str::to_string).or(self_reference).into_iter().collect(),
        rating,
        tlp,
        revision_note: String::new(),
        // The original's language when it is one quell writes in (`en` otherwise).
        lang: doc["document"]["lang"]
            .as_str()
            .and_then(|l| {
                crate::LANGUAGES.iter().find(|known| {
                    l.eq_ignore_ascii_case(known) || l.to_ascii_lowercase().starts_with(&format!("{known}-"))
                })
            })
            .map(|l| l.to_string()),
        translation: None,
    }
}

/// The products of a CSAF product tree as (vendor, product name, version or version range):
/// every branch path down to a `product_version` or `product_version_range` leaf, at most
/// [`crate::model::MAX_PRODUCTS`].
fn products_of(doc: &Value) -> Vec<crate::Product> {
    fn walk(branches: &Value, vendor: &str, product: &str, out: &mut Vec<crate::Product>) {
        for b in branches.as_array().into_iter().flatten() {
            let name = b["name"].as_str().unwrap_or_default();
            let (vendor, product) = match b["category"].as_str() {
                Some("vendor") => (name, product),
                Some("product_name") => (vendor, name),
                Some("product_version" | "product_version_range") => {
                    if !vendor.is_empty() && !product.is_empty() && !name.is_empty() {
                        out.push(crate::Product {
                            supplier: vendor.to_string(),
                            product: product.to_string(),
                            versions: name.to_string(),
                            registry_entry_id: None,
                        });
                    }
                    (vendor, product)
                }
                _ => (vendor, product),
            };
            walk(&b["branches"], vendor, product, out);
        }
    }
    let mut out = Vec::new();
    walk(&doc["product_tree"]["branches"], "", "", &mut out);
    out.truncate(crate::model::MAX_PRODUCTS);
    out
}

fn collect_product_ids(value: &Value, out: &mut std::collections::HashSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(id) = map.get("product_id").and_then(Value::as_str) {
                out.insert(id.to_string());
            }
            map.values().for_each(|v| collect_product_ids(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_product_ids(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_forward_keeps_title_cves_products_and_references_the_original() {
        let doc = json!({
            "document": {
                "category": "csaf_base", "csaf_version": "2.0", "title": "Log4Shell\nupdate",
                "publisher": {"category": "coordinator", "name": "CERT-DE", "namespace": "https://cert.example.de"},
                "distribution": {"tlp": {"label": "GREEN"}},
                "notes": [{"category": "description", "text": "long"}, {"category": "summary", "text": "short"}],
                "references": [{"category": "self", "url": "https://cert.example.de/a.json"}],
                "tracking": {"id": "DE-1", "version": "2", "status": "final",
                    "initial_release_date": "2026-01-01T00:00:00Z", "current_release_date": "2026-01-02T00:00:00Z",
                    "revision_history": [{"number": "1", "date": "2026-01-01T00:00:00Z", "summary": "x"}]}
            },
            "product_tree": {"branches": [{"category": "vendor", "name": "Apache", "branches": [
                {"category": "product_name", "name": "Log4j", "branches": [
                    {"category": "product_version_range", "name": "<2.17.1",
                     "product": {"product_id": "P1", "name": "Log4j <2.17.1"}}]}]}]},
            "vulnerabilities": [{"cve": "CVE-2021-44228"}, {"cve": "CVE-2021-44228"}]
        });
        let imported = read_import(&doc).unwrap();
        let rating: crate::Answers = serde_json::from_value(json!({
            "chance": {"default_configuration": "yes", "exploit_code": "none", "details_public": "none",
                "access": "internet", "credentials": "none", "complexity": "easy", "user_interaction": "none",
                "actively_exploited": "no", "exploitation_expected": "no", "solution": "none"},
            "damage": {"denial_of_service": "none", "code_execution": "none", "remote_access": "none",
                "privilege_escalation": "no", "information_leak": "none"}
        }))
        .unwrap();
        let c = forwarded_content(&doc, &imported, None, crate::Tlp::Green, rating.clone());
        assert_eq!(c.title, "Log4Shell update");
        assert_eq!(c.summary, "CERT-DE (DE-1 2): short");
        assert_eq!(c.cves, ["CVE-2021-44228"]);
        assert_eq!((c.products[0].supplier.as_str(), c.products[0].product.as_str()), ("Apache", "Log4j"));
        assert_eq!(c.products[0].versions, "<2.17.1");
        assert_eq!(c.references, ["https://cert.example.de/a.json"]);
        let fetched = forwarded_content(&doc, &imported, Some("https://mirror/a.json"), crate::Tlp::Green, rating);
        assert_eq!(fetched.references, ["https://mirror/a.json"]);
        assert!(c.validate().is_ok());
    }

    /// The document's own texts follow `/document/lang`: a Dutch document says `Samenvatting`
    /// and `HOOG`, an English one `Summary` and `HIGH`, whatever the reader's language.
    #[test]
    fn the_documents_own_texts_follow_its_language() {
        let content = |lang: &str| -> AdvisoryContent {
            serde_json::from_value(json!({
                "title": "Log4j", "summary": "S", "consequences": "G", "cves": ["CVE-2021-44228"],
                "products": [{"supplier": "Apache", "product": "Log4j", "versions": "2.0 - 2.14.1"}],
                "references": ["https://logging.apache.org/security.html"], "lang": lang,
                "rating": {
                    "chance": {"default_configuration": "yes", "exploit_code": "working_exploit",
                        "details_public": "full", "access": "internet", "credentials": "none", "complexity": "easy",
                        "user_interaction": "none", "actively_exploited": "large_scale",
                        "exploitation_expected": "yes", "solution": "none"},
                    "damage": {"denial_of_service": "infrastructure", "code_execution": "root",
                        "remote_access": "root_shell", "privilege_escalation": "yes", "information_leak": "data"}
                },
                "tlp": "CLEAR"
            }))
            .unwrap()
        };
        let publisher = Publisher { name: "CERT".into(), namespace: "https://cert.example".into() };
        let revisions =
            [Revision { version: crate::Version::FIRST, date: "2026-12-02T00:00:00Z".into(), summary: String::new() }];
        let render_content = |c: &AdvisoryContent| {
            let rating = c.validate().unwrap();
            render(&CsafInput {
                tracking_id: "CERT-2026-0001",
                content: c,
                rating: &rating,
                revisions: &revisions,
                publisher: &publisher,
                self_url: None,
                generator_version: "0",
                source_lang: None,
            })
        };
        let render_in = |lang: &str| render_content(&content(lang));
        let titles = |doc: &Value| -> Vec<String> {
            doc["document"]["notes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["title"].as_str().unwrap().to_string())
                .collect()
        };
        let nl = render_in("nl");
        assert_eq!(nl["document"]["lang"], "nl");
        assert_eq!(titles(&nl), ["Samenvatting", "Gevolgen", "Kans/schade"]);
        assert_eq!(nl["document"]["aggregate_severity"]["text"], "HOOG/HOOG");
        assert_eq!(nl["document"]["tracking"]["revision_history"][0]["summary"], "Initiële versie");
        assert_eq!(nl["document"]["references"][0]["summary"], "Referentie");
        assert_eq!(nl["vulnerabilities"][0]["notes"][0]["title"], "Samenvatting");
        assert!(nl["vulnerabilities"][0]["threats"][0]["details"].as_str().unwrap().starts_with("Schade: HOOG."));
        let rating_note = nl["document"]["notes"][2]["text"].as_str().unwrap();
        assert!(rating_note.starts_with("Kans: HOOG (") && rating_note.contains("punten"), "{rating_note}");
        // Overrides of both axes each say their level and reason, in the document's language.
        let with_overrides = |lang: &str| {
            let mut c = content(lang);
            c.rating.chance_override = Some(crate::rating::Override { level: crate::Level::Low, reason: "WAF".into() });
            c.rating.damage_override =
                Some(crate::rating::Override { level: crate::Level::Medium, reason: "test".into() });
            let doc = render_content(&c);
            doc["document"]["notes"][2]["text"].as_str().unwrap().to_string()
        };
        let text = with_overrides("nl");
        assert!(text.contains(" Kans ") && text.contains("gezet door de analist: WAF"), "{text}");
        assert!(text.contains(" Schade ") && text.ends_with("gezet door de analist: test"), "{text}");
        let text = with_overrides("en");
        assert!(text.contains(" Chance set to LOW by the analyst: WAF"), "{text}");
        assert!(text.ends_with(" Damage set to MEDIUM by the analyst: test"), "{text}");
        let en = render_in("en");
        assert_eq!(titles(&en), ["Summary", "Consequences", "Rating"]);
        assert_eq!(en["document"]["aggregate_severity"]["text"], "HIGH/HIGH");
        assert_eq!(en["document"]["tracking"]["revision_history"][0]["summary"], "Initial release");
        assert!(en["document"]["notes"][2]["text"].as_str().unwrap().starts_with("Chance: HIGH ("));
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name("QUELL-2026-0001"), "quell-2026-0001.json");
        assert_eq!(file_name("Example Company - 2019-YH3234"), "example_company_-_2019-yh3234.json");
    }
}
