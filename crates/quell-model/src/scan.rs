//! Scan report records: one JSON object per line, tagged by `kind`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::{Cve, CveStatus, CveVerdict};

/// Which library a finding is a copy of: the component name of a detection pack (`log4j-core`,
/// `commons-text`, ...). A string, because packs bring new components as data; the Log4j
/// components are constants under their historic names. Serialised as the name itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Component(Cow<'static, str>);

#[allow(non_upper_case_globals)]
impl Component {
    /// Apache Log4j 2.x core (`org.apache.logging.log4j:log4j-core`).
    pub const Log4jCore: Component = Component(Cow::Borrowed("log4j-core"));
    /// Apache Log4j 1.x (`log4j:log4j`), end of life.
    pub const Log4j1: Component = Component(Cow::Borrowed("log4j"));
    /// reload4j (`ch.qos.reload4j:reload4j`), the maintained fork of 1.2.17 with the CVEs fixed.
    pub const Reload4j: Component = Component(Cow::Borrowed("reload4j"));

    /// A component named by data (a detection pack, a report).
    pub fn new(name: impl Into<String>) -> Self {
        Component(Cow::Owned(name.into()))
    }

    /// The name used in reports (`log4j-core`, `log4j`, `reload4j`, `commons-text`).
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How strongly a copy is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// The library's own class files were found and read.
    Confirmed,
    /// Only metadata (pom.properties, manifest) declares the library; its classes were not found
    /// by name (obfuscated, or a sources jar).
    Declared,
}

/// One copy of a library, wherever it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The path chain from the file on disk to the copy: the outer file first, then each nested
    /// archive entry. For an exploded class directory, the directory that holds the copy.
    pub path: Vec<String>,
    pub component: Component,
    /// The component's package URL from its detection pack, with the version when exact
    /// (`pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1`): how a server asks where a
    /// component runs. Absent in reports of tools that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// The exact version, when the evidence pins one.
    pub version: Option<String>,
    /// The range of possible versions (`2.1..2.14.1`), when no exact version is known.
    pub version_range: Option<String>,
    pub confidence: Confidence,
    /// What the verdict rests on, strongest first: `class:<entry>`, `pom.properties:<version>`,
    /// `manifest:<version>`, and notes such as `conflict:...` when metadata disagrees with classes.
    pub evidence: Vec<String>,
    /// Mitigations found in the copy (`jndi_lookup_removed`).
    pub mitigations: Vec<String>,
    pub cves: Vec<CveVerdict>,
}

impl Finding {
    /// Whether any CVE verdict of this copy is `affected`.
    pub fn is_affected(&self) -> bool {
        self.cves.iter().any(|c| c.status == CveStatus::Affected)
    }

    /// The verdict for one CVE, if the finding lists it.
    pub fn status(&self, cve: impl std::borrow::Borrow<Cve>) -> Option<CveStatus> {
        let cve = cve.borrow();
        self.cves.iter().find(|c| &c.id == cve).map(|c| c.status)
    }
}

/// A file or entry that could not be read completely. The scan goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanError {
    pub path: Vec<String>,
    pub message: String,
}

/// Totals for a whole scan, printed last.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSummary {
    /// Regular files visited on disk.
    pub files: u64,
    /// Archives opened, nested ones included.
    pub archives: u64,
    /// Bytes of the files visited on disk.
    pub bytes: u64,
    pub findings: u64,
    /// Findings with at least one `affected` verdict.
    pub affected: u64,
    pub errors: u64,
    pub elapsed_ms: u64,
    /// Bytes decompressed or copied out of archives to classify them, all levels together: what
    /// quell read beyond the central directories. Unrelated entries are never inflated.
    #[serde(default)]
    pub inflated_bytes: u64,
    /// The host the scan ran on (its host name), so a report identifies where it is from. Absent
    /// in reports of tools that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The version of the tool that wrote the report (`quell 0.1.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    /// Inventory components reported (`--inventory`); absent otherwise.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub components: u64,
    /// When the scan finished, RFC 3339 in UTC (`2026-11-28T12:39:08Z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// How an inventory component's identity is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventoryConfidence {
    /// The jar's own pom.properties names it, and a detection pack recognised its classes as
    /// that component and version.
    Confirmed,
    /// The jar's own metadata names it (exactly one pom.properties, else the manifest).
    Declared,
    /// Only the file name says what it is (`name-1.2.3.jar`).
    Guessed,
}

/// Digests of an archive's own bytes (a nested jar's bytes as stored in its parent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashes {
    pub sha1: String,
    pub sha256: String,
}

/// One Java archive (jar, war, ear, ... at any nesting depth) seen by `quell scan --inventory`:
/// the full component list a server or Dependency-Track matches later advisories against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryComponent {
    /// The path chain to the archive itself: the file on disk, then each nested entry.
    pub path: Vec<String>,
    /// `pkg:maven/group/artifact@version`, from the archive's own pom.properties when it has
    /// exactly one; `None` when only the manifest or the file name names it.
    pub purl: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub hashes: Hashes,
    pub confidence: InventoryConfidence,
    /// Where the identity comes from: `pom.properties:<entry>`, `manifest:<key>`, `file-name`,
    /// and `class:<entry>` when a detection pack confirmed it.
    pub evidence: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One line of a scan report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScanRecord {
    Finding(Finding),
    Error(ScanError),
    Summary(ScanSummary),
    /// A Java archive of the inventory (`quell scan --inventory` only).
    Component(InventoryComponent),
}

/// The release in a report's `tool_version` (`quell 0.1.0 (commit …, built …)` or `0.1.0`), for
/// comparing agents with the oldest supported release; `None` for text that names no release.
pub fn tool_release(tool_version: &str) -> Option<crate::maven::MavenVersion> {
    let text = tool_version.trim();
    let text = text.strip_prefix("quell ").unwrap_or(text);
    let release = text.split_whitespace().next()?;
    let plausible = release.len() <= crate::maven::MAX_VERSION_CHARS
        && release.starts_with(|c: char| c.is_ascii_digit())
        && release.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'));
    plausible.then(|| crate::maven::MavenVersion::new(release))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_releases() {
        let release = |t: &str| tool_release(t).map(|v| v.as_str().to_string());
        assert_eq!(release("quell 0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-02)").as_deref(), Some("0.1.0"));
        assert_eq!(release("0.2.0-rc1").as_deref(), Some("0.2.0-rc1"));
        assert_eq!(release("quell"), None);
        assert_eq!(release("other tool 1.0"), None);
        assert_eq!(release(""), None);
        let old = tool_release("quell 0.0.9").expect("release");
        assert!(old < crate::maven::MavenVersion::new("0.1.0"));
    }

    #[test]
    fn finding_serialises_with_the_contract_field_names() {
        let finding = Finding {
            path: vec!["/srv/app.ear".into(), "lib/log4j-core-2.14.1.jar".into()],
            component: Component::Log4jCore,
            purl: Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into()),
            version: Some("2.14.1".into()),
            version_range: None,
            confidence: Confidence::Confirmed,
            evidence: vec!["pom.properties:2.14.1".into()],
            mitigations: vec![],
            cves: vec![CveVerdict { id: Cve::Cve2021_44228, status: CveStatus::Affected }],
        };
        let json = serde_json::to_value(ScanRecord::Finding(finding.clone())).expect("serialise");
        assert_eq!(json["kind"], "finding");
        assert_eq!(json["component"], "log4j-core");
        assert_eq!(json["purl"], "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        assert_eq!(json["confidence"], "confirmed");
        assert_eq!(json["version_range"], serde_json::Value::Null);
        assert_eq!(json["cves"][0]["id"], "CVE-2021-44228");
        assert_eq!(json["cves"][0]["status"], "affected");
        let back: ScanRecord = serde_json::from_value(json).expect("read back");
        assert_eq!(back, ScanRecord::Finding(finding));
    }
}
