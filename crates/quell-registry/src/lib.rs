//! The product status registry as a library: the model, importers of the Dutch (NCSC-NL) and US
//! (CISA) Log4Shell software lists, merging, and exports (the 9-column Markdown, CSV, JSON, CSAF 2.0
//! VEX).
//!
//! Pure: no I/O beyond the bytes handed in, no clock (dates come in [`CsafMeta`]). The server
//! (`quell-server`'s registry module) stores, versions and reviews entries; the CLI
//! (`quell registry`) checks and converts files offline.
//!
//! ```
//! use quell_registry::{Format, Status, import, merge, to_markdown};
//! let md = "| Supplier | Product | Version (see Status) | Status CVE-2021-4104 | Status CVE-2021-44228 \
//!           | Status CVE-2021-45046 | Status CVE-2021-45105 | Notes | Links |\n\
//!           |---|---|---|---|---|---|---|---|---|\n\
//!           |Acme|Widget|2.1| |Fix| | ||[source](https://acme.example/psirt)|\n";
//! let outcome = import(Format::NcscMarkdown, "list.md", md.as_bytes());
//! assert!(outcome.problems.is_empty());
//! let registry = merge(outcome.entries);
//! assert_eq!(registry[0].statuses["CVE-2021-44228"].status, Status::Fix);
//! assert_eq!(registry[0].statuses["CVE-2021-44228"].fixed_versions, ["2.1"]);
//! assert!(to_markdown(&registry).contains("|Acme|Widget|2.1| |Fix| | ||[source](https://acme.example/psirt)|"));
//! ```

pub mod cisa;
pub mod csaf;
mod export;
pub mod limits;
mod merge;
mod model;
pub mod ncsc;
mod problems;

pub use csaf::{CsafMeta, to_csaf_vex};
pub use export::{to_csv, to_json, to_markdown};
pub use merge::merge;
pub use model::{
    Conflict, Entry, ImportOutcome, Problem, ProblemKind, RuleBroken, SourceRef, Status, UnknownStatus, VulnStatus,
    count_problems, count_statuses, entry_key, is_cve_id, normalise_cve_id,
};

/// The file formats the importers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The Dutch list's Markdown tables (`software_list_*.md`).
    NcscMarkdown,
    /// The Dutch list's CSV release.
    NcscCsv,
    /// The Dutch list's JSON release.
    NcscJson,
    /// The US list's YAML (`cisagov_*.yml`).
    CisaYaml,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::NcscMarkdown, Format::NcscCsv, Format::NcscJson, Format::CisaYaml];

    /// The name used by the CLI and the server's `?format=` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::NcscMarkdown => "ncsc-md",
            Format::NcscCsv => "ncsc-csv",
            Format::NcscJson => "ncsc-json",
            Format::CisaYaml => "cisa-yaml",
        }
    }

    /// Reads a name of [`Format::as_str`].
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// Guesses the format from the file name's extension, then from the content:
    /// `.md`/`.markdown` → Markdown, `.csv` → CSV, `.json` → JSON, `.yml`/`.yaml` → YAML; otherwise
    /// content starting with `[` or `{` is JSON, with `---` or a `software:`/`version:` key YAML, with
    /// a `|` table line Markdown, with `Supplier,` CSV. `None` when nothing fits.
    pub fn detect(file_name: &str, bytes: &[u8]) -> Option<Format> {
        let lower = file_name.to_ascii_lowercase();
        let by_name = [
            (".md", Format::NcscMarkdown),
            (".markdown", Format::NcscMarkdown),
            (".csv", Format::NcscCsv),
            (".json", Format::NcscJson),
            (".yml", Format::CisaYaml),
            (".yaml", Format::CisaYaml),
        ];
        if let Some((_, format)) = by_name.iter().find(|(ext, _)| lower.ends_with(ext)) {
            return Some(*format);
        }
        let head = &bytes[..bytes.len().min(4096)];
        let head = String::from_utf8_lossy(head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head));
        let start = head.trim_start();
        if start.starts_with('[') || start.starts_with('{') {
            return Some(Format::NcscJson);
        }
        if start.starts_with("---") || head.lines().any(|l| l.starts_with("software:") || l.starts_with("version:")) {
            return Some(Format::CisaYaml);
        }
        if head.lines().any(|l| l.trim_start().starts_with('|')) {
            return Some(Format::NcscMarkdown);
        }
        if start.to_ascii_lowercase().starts_with("supplier,") {
            return Some(Format::NcscCsv);
        }
        None
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Imports one file: one entry per row or item (not merged: see [`merge`]) and every problem, each
/// with `file_name` and its line. Never fails: a file that cannot be read at all gives one
/// `invalid_file` problem and no entries.
pub fn import(format: Format, file_name: &str, bytes: &[u8]) -> ImportOutcome {
    match format {
        Format::NcscMarkdown => ncsc::import_markdown(file_name, bytes),
        Format::NcscCsv => ncsc::import_csv(file_name, bytes),
        Format::NcscJson => ncsc::import_json(file_name, bytes),
        Format::CisaYaml => cisa::import_yaml(file_name, bytes),
    }
}
