//! The registry's vocabulary: statuses, entries, sources and import problems.
//!
//! The serde form of these types is a public contract (the JSON export, the server's API and its
//! stored rows): field names are stable snake_case; add fields, never rename them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The status of one product for one vulnerability. "No information" is not a status: the CVE is
/// simply absent from [`Entry::statuses`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The product is vulnerable (affected versions in [`VulnStatus::affected_versions`]).
    Vulnerable,
    /// A released version fixes it (the first fixed version(s) in [`VulnStatus::fixed_versions`]).
    Fix,
    /// Vulnerable, but mitigation steps are available (no released fixed version).
    Workaround,
    /// The product is not vulnerable.
    NotVulnerable,
    /// The supplier is investigating.
    UnderInvestigation,
}

impl Status {
    /// Every status, in the order used by counts and reports.
    pub const ALL: [Status; 5] =
        [Status::Vulnerable, Status::Fix, Status::Workaround, Status::NotVulnerable, Status::UnderInvestigation];

    /// The stable snake_case name (the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Vulnerable => "vulnerable",
            Status::Fix => "fix",
            Status::Workaround => "workaround",
            Status::NotVulnerable => "not_vulnerable",
            Status::UnderInvestigation => "under_investigation",
        }
    }

    /// The label used in the NCSC-NL Markdown, CSV and JSON lists.
    pub fn ncsc_label(self) -> &'static str {
        match self {
            Status::Vulnerable => "Vulnerable",
            Status::Fix => "Fix",
            Status::Workaround => "Workaround",
            Status::NotVulnerable => "Not vuln",
            Status::UnderInvestigation => "Investigation",
        }
    }

    /// Whether products with this status need action (vulnerable or only mitigated).
    pub fn is_affected(self) -> bool {
        matches!(self, Status::Vulnerable | Status::Workaround)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of the five snake_case names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?} (expected vulnerable, fix, workaround, not_vulnerable or under_investigation)")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL.into_iter().find(|status| status.as_str() == s).ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// The status of a product for one CVE, with its versions kept apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnStatus {
    pub status: Status,
    /// Affected versions (for vulnerable, workaround, under investigation; also kept for fix when known).
    #[serde(default)]
    pub affected_versions: Vec<String>,
    /// The first fixed version(s): required for [`Status::Fix`].
    #[serde(default)]
    pub fixed_versions: Vec<String>,
    /// Versions stated not to be affected (for not_vulnerable, when the source names them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unaffected_versions: Vec<String>,
}

impl VulnStatus {
    /// A status with no versions.
    pub fn new(status: Status) -> VulnStatus {
        VulnStatus {
            status,
            affected_versions: Vec::new(),
            fixed_versions: Vec::new(),
            unaffected_versions: Vec::new(),
        }
    }
}

/// Where an entry's information came from: a list and a line in one of its files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceRef {
    /// `ncsc-nl`, `cisa`, `manual`, …
    pub list: String,
    pub file: String,
    /// 1-based line of the row (Markdown, CSV) or of the item (YAML, JSON, when known; 0 when not).
    pub line: u64,
}

/// Two sources disagreeing on one CVE of one product, kept by [`crate::merge`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub cve: String,
    /// The status kept (see [`crate::merge`] for the rule).
    pub kept: VulnStatus,
    /// The status set aside.
    pub other: VulnStatus,
    /// The lists the set-aside status came from.
    pub other_lists: Vec<String>,
}

/// One product of one supplier, with its status per vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub supplier: String,
    pub product: String,
    #[serde(default)]
    pub purl: Option<String>,
    #[serde(default)]
    pub cpe: Option<String>,
    /// Per CVE id (upper case, `CVE-YYYY-NNNN…`), any CVE. Absent = no information.
    #[serde(default)]
    pub statuses: BTreeMap<String, VulnStatus>,
    #[serde(default)]
    pub notes: String,
    /// Source links (vendor statements).
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub sources: Vec<SourceRef>,
    /// When the source last changed the entry (RFC 3339), when it says so (the US list does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// Disagreements between merged sources (see [`crate::merge`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
}

/// A rule of the registry an entry breaks ([`Entry::validate`]), typed so a caller can say it
/// in its reader's language; `Display` is the English sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleBroken {
    #[error("supplier is empty")]
    SupplierEmpty,
    #[error("product is empty")]
    ProductEmpty,
    #[error("at least one source link (vendor statement) is required")]
    NoSourceLink,
    #[error("link {link:?} is not an http(s) URL")]
    LinkNotUrl { link: String },
    #[error("{cve:?} is not a CVE id (CVE-YYYY-NNNN)")]
    NotCve { cve: String },
    #[error("{cve}: status fix requires a released fixed version (without one it is a workaround)")]
    FixWithoutVersion { cve: String },
    #[error("purl {purl:?} does not start with pkg:")]
    Purl { purl: String },
    #[error("CPE {cpe:?} does not start with cpe:")]
    Cpe { cpe: String },
}

impl RuleBroken {
    /// The stable machine code of the rule (`supplier_empty`, `no_source_link`, …).
    pub fn code(&self) -> &'static str {
        match self {
            RuleBroken::SupplierEmpty => "supplier_empty",
            RuleBroken::ProductEmpty => "product_empty",
            RuleBroken::NoSourceLink => "no_source_link",
            RuleBroken::LinkNotUrl { .. } => "link_not_url",
            RuleBroken::NotCve { .. } => "not_cve",
            RuleBroken::FixWithoutVersion { .. } => "fix_without_version",
            RuleBroken::Purl { .. } => "purl",
            RuleBroken::Cpe { .. } => "cpe",
        }
    }

    /// One value of every variant, for callers' tests that each has a message.
    pub fn examples() -> Vec<RuleBroken> {
        vec![
            RuleBroken::SupplierEmpty,
            RuleBroken::ProductEmpty,
            RuleBroken::NoSourceLink,
            RuleBroken::LinkNotUrl { link: "ftp://x".into() },
            RuleBroken::NotCve { cve: "CVE-21".into() },
            RuleBroken::FixWithoutVersion { cve: "CVE-2021-44228".into() },
            RuleBroken::Purl { purl: "maven/x".into() },
            RuleBroken::Cpe { cpe: "x".into() },
        ]
    }
}

impl Entry {
    /// An entry with no statuses, links or sources.
    pub fn new(supplier: impl Into<String>, product: impl Into<String>) -> Entry {
        Entry {
            supplier: supplier.into(),
            product: product.into(),
            purl: None,
            cpe: None,
            statuses: BTreeMap::new(),
            notes: String::new(),
            links: Vec::new(),
            sources: Vec::new(),
            last_updated: None,
            conflicts: Vec::new(),
        }
    }

    /// The normalised identity of the entry (see [`entry_key`]).
    pub fn key(&self) -> (String, String) {
        entry_key(&self.supplier, &self.product)
    }

    /// Checks the rules of the registry; every broken rule is one message.
    ///
    /// - supplier and product are not empty;
    /// - at least one source link, each an `http(s)://` URL;
    /// - every CVE id is `CVE-YYYY-NNNN` (4 or more digits), upper case;
    /// - `fix` has at least one fixed version (a released version; otherwise it is a workaround);
    /// - a purl starts with `pkg:`, a CPE with `cpe:`.
    pub fn validate(&self) -> Result<(), Vec<RuleBroken>> {
        let mut errors = Vec::new();
        if self.supplier.trim().is_empty() {
            errors.push(RuleBroken::SupplierEmpty);
        }
        if self.product.trim().is_empty() {
            errors.push(RuleBroken::ProductEmpty);
        }
        if self.links.is_empty() {
            errors.push(RuleBroken::NoSourceLink);
        }
        for link in &self.links {
            if !is_http_url(link) {
                errors.push(RuleBroken::LinkNotUrl { link: link.clone() });
            }
        }
        for (cve, status) in &self.statuses {
            if !is_cve_id(cve) {
                errors.push(RuleBroken::NotCve { cve: cve.clone() });
            }
            if status.status == Status::Fix && status.fixed_versions.iter().all(|v| v.trim().is_empty()) {
                errors.push(RuleBroken::FixWithoutVersion { cve: cve.clone() });
            }
        }
        if let Some(purl) = &self.purl
            && !purl.starts_with("pkg:")
        {
            errors.push(RuleBroken::Purl { purl: purl.clone() });
        }
        if let Some(cpe) = &self.cpe
            && !cpe.starts_with("cpe:")
        {
            errors.push(RuleBroken::Cpe { cpe: cpe.clone() });
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// Whether `s` is an upper-case CVE id: `CVE-`, a 4-digit year, `-`, 4 or more digits.
pub fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && number.len() >= 4
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Upper-cases a CVE id written in any case (`cve-2021-44228` → `CVE-2021-44228`), when it is one.
pub fn normalise_cve_id(s: &str) -> Option<String> {
    let upper = s.trim().to_ascii_uppercase();
    is_cve_id(&upper).then_some(upper)
}

fn is_http_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && !s.contains(char::is_whitespace)
}

/// Words dropped from the end of a supplier name when computing its identity.
const LEGAL_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "gmbh",
    "ag",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "bv",
    "nv",
    "sa",
    "sas",
    "srl",
    "spa",
    "ab",
    "as",
    "oy",
    "pty",
    "kg",
];

/// The normalised identity of a supplier/product pair, used for merging and finding duplicates.
///
/// Both parts: lower case (Unicode), every run of characters other than letters and digits becomes
/// one space, trimmed. The supplier also loses trailing legal-form words (`Inc.`, `GmbH`, `Ltd`,
/// `Corporation`, …) as long as a word remains; the product loses a leading supplier name
/// (`VMware Horizon` by `VMware` is `Horizon`). So `Cisco Systems, Inc.` and `cisco systems` are one
/// supplier, `AlarmInsight Cloud` and `Alarminsight Cloud` one product; `Apache` and
/// `Apache Software Foundation` stay two suppliers (no guessing beyond spelling).
pub fn entry_key(supplier: &str, product: &str) -> (String, String) {
    let supplier = normalise_words(supplier);
    let mut words: Vec<&str> = supplier.split(' ').filter(|w| !w.is_empty()).collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_SUFFIXES.contains(w)) {
        words.pop();
    }
    let supplier = words.join(" ");
    let product = normalise_words(product);
    // "VMware Horizon" by VMware is "Horizon": the product drops a leading supplier name.
    let product = match product.strip_prefix(supplier.as_str()).and_then(|rest| rest.strip_prefix(' ')) {
        Some(rest) if !supplier.is_empty() => rest.to_string(),
        _ => product,
    };
    (supplier, product)
}

fn normalise_words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// What went wrong with one row (or file) of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The file cannot be parsed at all (YAML/JSON/CSV syntax, not UTF-8, too large): nothing imported.
    InvalidFile,
    /// No table header with at least the Supplier and Product columns (Markdown, CSV).
    MissingHeader,
    /// A header column that is not understood; its cells are ignored.
    UnknownColumn,
    /// A row whose cell count differs from its header's, or an item of the wrong shape.
    MalformedRow,
    /// A row without a supplier: it cannot become an entry and is skipped (reported here).
    MissingSupplier,
    /// A row without a product: imported with an empty product.
    MissingProduct,
    /// A status spelled in a non-standard way and mapped to a status (the message says which).
    NonStandardStatus,
    /// A status that cannot be mapped: that CVE has no information; the raw text is kept in the notes.
    UnknownStatus,
    /// `Fix` without a released version: imported as `workaround` (the registry's rule).
    FixWithoutVersion,
    /// A row with no status for any CVE: imported as an entry with no information.
    NoStatus,
    /// A row without any source link: imported, but it does not validate.
    MissingLink,
    /// A version given where no status uses it: kept in the notes.
    VersionWithoutStatus,
    /// A CVE key that is not a CVE id: that status is skipped.
    InvalidCve,
    /// Fields that contradict each other (e.g. the US list's `investigated: false` with versions);
    /// the message says how it was read.
    Inconsistent,
}

impl ProblemKind {
    /// The stable snake_case name (the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::InvalidFile => "invalid_file",
            ProblemKind::MissingHeader => "missing_header",
            ProblemKind::UnknownColumn => "unknown_column",
            ProblemKind::MalformedRow => "malformed_row",
            ProblemKind::MissingSupplier => "missing_supplier",
            ProblemKind::MissingProduct => "missing_product",
            ProblemKind::NonStandardStatus => "non_standard_status",
            ProblemKind::UnknownStatus => "unknown_status",
            ProblemKind::FixWithoutVersion => "fix_without_version",
            ProblemKind::NoStatus => "no_status",
            ProblemKind::MissingLink => "missing_link",
            ProblemKind::VersionWithoutStatus => "version_without_status",
            ProblemKind::InvalidCve => "invalid_cve",
            ProblemKind::Inconsistent => "inconsistent",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found while importing, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub file: String,
    /// 1-based line (0 when the format gives no line, e.g. a JSON parse of a whole document).
    pub line: u64,
    pub kind: ProblemKind,
    pub message: String,
    /// The raw row or cell concerned (truncated to [`crate::limits::MAX_RAW_IN_PROBLEM`] bytes).
    pub raw: String,
}

/// What an import produced: the entries (one per row or item, not merged) and every problem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
}

/// Counts of entries per status per CVE (for `quell registry check` and tests).
pub fn count_statuses(entries: &[Entry]) -> BTreeMap<String, BTreeMap<Status, usize>> {
    let mut counts: BTreeMap<String, BTreeMap<Status, usize>> = BTreeMap::new();
    for entry in entries {
        for (cve, status) in &entry.statuses {
            *counts.entry(cve.clone()).or_default().entry(status.status).or_default() += 1;
        }
    }
    counts
}

/// Counts of problems per kind.
pub fn count_problems(problems: &[Problem]) -> BTreeMap<ProblemKind, usize> {
    let mut counts = BTreeMap::new();
    for problem in problems {
        *counts.entry(problem.kind).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_punctuation_and_legal_forms() {
        assert_eq!(entry_key("Cisco Systems, Inc.", "Webex  Meetings"), entry_key("cisco systems", "webex-meetings"));
        assert_eq!(entry_key("Inc", "x").0, "inc");
        assert_eq!(entry_key("VMware, Inc.", "VMware Horizon"), entry_key("VMware", "Horizon"));
        assert_eq!(entry_key("VMware", "VMware").1, "vmware");
        assert_ne!(entry_key("Apache", "Solr"), entry_key("Apache Software Foundation", "Solr"));
    }

    #[test]
    fn cve_ids() {
        assert!(is_cve_id("CVE-2021-44228"));
        assert!(is_cve_id("CVE-2021-4104"));
        assert!(!is_cve_id("CVE-2021-410"));
        assert!(!is_cve_id("cve-2021-44228"));
        assert_eq!(normalise_cve_id(" cve-2021-44228").as_deref(), Some("CVE-2021-44228"));
    }

    #[test]
    fn validate_rules() {
        let mut entry = Entry::new("Acme", "Widget");
        entry.statuses.insert("CVE-2021-44228".into(), VulnStatus::new(Status::Fix));
        entry.statuses.insert("CVE-21".into(), VulnStatus::new(Status::Vulnerable));
        let errors = entry.validate().err().unwrap_or_default();
        assert_eq!(errors.len(), 3, "{errors:?}");
        entry.statuses.remove("CVE-21");
        if let Some(s) = entry.statuses.get_mut("CVE-2021-44228") {
            s.fixed_versions.push("2.0".into());
        }
        entry.links.push("https://acme.example/psirt".into());
        assert_eq!(entry.validate(), Ok(()));
    }
}
