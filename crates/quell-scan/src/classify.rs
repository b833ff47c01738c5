//! The classifier: from the entries of one container to the library copies it holds.
//!
//! A *container* is one archive (or, for exploded class trees, the file system). The archive
//! reader hands the classifier every entry whose name might matter ([`interest`]) together with its
//! bytes when the decision needs them; the classifier groups the entries into copies by package
//! root, decides each copy's version from class-file markers (`docs/log4j.md` in the design notes,
//! restated in [`decide_core_versions`]), refines it with pom.properties and the manifest, and
//! computes the per-CVE verdicts.
//!
//! Invariants:
//! - Pure: no I/O. The same entries always give the same findings, in a stable order.
//! - Class evidence beats metadata. When they disagree both are reported and the classes win.
//! - A copy whose `JndiLookup` is gone is *mitigated* for CVE-2021-44228 and CVE-2021-45046 only,
//!   and only when its version could be affected; it is never called pre-2.0-beta9 or safe.

use std::collections::BTreeMap;

use memchr::memmem;
use quell_model::cve::{LOG4J1_CVES, LOG4J2_CVES};
use quell_model::{Component, Confidence, Cve, CveStatus, CveVerdict, Version};

/// Extensions under which class files are found: plain, and the renamed forms some agents use for
/// shaded classes.
pub const CLASS_EXTENSIONS: [&str; 3] = [".class", ".esclazz", ".classdata"];

/// The role an entry plays in classification, decided from its name alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// A class file; the bytes are needed when [`ClassRole::needs_bytes`].
    Class(ClassRole),
    /// `META-INF/maven/<group>/<artifact>/pom.properties`.
    PomProperties,
    /// `META-INF/MANIFEST.MF`.
    Manifest,
}

impl Interest {
    /// Whether the classifier reads the entry's bytes (otherwise only its presence counts).
    pub fn needs_bytes(self) -> bool {
        match self {
            Interest::Class(role) => role.needs_bytes(),
            Interest::PomProperties | Interest::Manifest => true,
        }
    }
}

/// A class that serves as evidence, and where its copy root lies relative to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClassRole {
    /// `core/lookup/JndiLookup`.
    JndiLookup,
    /// `core/net/JndiManager`.
    JndiManager,
    /// `core/lookup/Interpolator`: proves a log4j-core copy even when both JNDI classes are gone.
    Interpolator,
    /// `core/lookup/StrSubstitutor`.
    StrSubstitutor,
    /// `core/appender/nosql/NoSqlAppender`: absent in the 2.3.x line.
    NoSqlAppender,
    /// `core/util/SetUtils`: present in the 2.3.x and 2.12.x backport lines only.
    SetUtils,
    /// `core/appender/db/jdbc/DataSourceConnectionSource`: carries the 2.17.1 JDBC JNDI guard.
    DataSourceConnectionSource,
    /// `org/apache/log4j/Category`: Log4j 1.x (and its bridges, told apart by content).
    Log4j1Category,
    /// `org/apache/log4j/net/JMSAppender` (CVE-2021-4104).
    Log4j1JmsAppender,
    /// `org/apache/log4j/net/SocketServer` (CVE-2019-17571).
    Log4j1SocketServer,
    /// `org/apache/log4j/net/JMSSink` (CVE-2022-23302).
    Log4j1JmsSink,
    /// `org/apache/log4j/jdbc/JDBCAppender` (CVE-2022-23305).
    Log4j1JdbcAppender,
    /// Any class under `org/apache/log4j/chainsaw/` (CVE-2022-23307).
    Log4j1Chainsaw,
}

impl ClassRole {
    fn needs_bytes(self) -> bool {
        matches!(
            self,
            ClassRole::JndiLookup
                | ClassRole::JndiManager
                | ClassRole::DataSourceConnectionSource
                | ClassRole::Log4j1Category
        )
    }

    /// The directories between the copy root and the class, innermost last. The root of a
    /// log4j-core copy is its `core/` package directory (relocated: wherever that went); the root of
    /// a 1.x copy is its `log4j/` package directory.
    fn dirs_below_root(self) -> &'static [&'static str] {
        match self {
            ClassRole::JndiLookup | ClassRole::Interpolator | ClassRole::StrSubstitutor => &["lookup"],
            ClassRole::JndiManager => &["net"],
            ClassRole::NoSqlAppender => &["appender", "nosql"],
            ClassRole::SetUtils => &["util"],
            ClassRole::DataSourceConnectionSource => &["appender", "db", "jdbc"],
            ClassRole::Log4j1Category => &[],
            ClassRole::Log4j1JmsAppender | ClassRole::Log4j1SocketServer | ClassRole::Log4j1JmsSink => &["net"],
            ClassRole::Log4j1JdbcAppender => &["jdbc"],
            ClassRole::Log4j1Chainsaw => &["chainsaw"],
        }
    }
}

/// Strips a class-file extension, returning the class path without it.
fn class_stem(name: &str) -> Option<&str> {
    CLASS_EXTENSIONS.iter().find_map(|ext| {
        let cut = name.len().checked_sub(ext.len())?;
        name.get(cut..).filter(|tail| tail.eq_ignore_ascii_case(ext)).map(|_| &name[..cut])
    })
}

/// Decides from an entry name alone whether the classifier wants the entry. Cheap: called for
/// every entry of every archive.
pub fn interest(name: &str) -> Option<Interest> {
    if let Some(stem) = class_stem(name) {
        let mut segments = stem.rsplit('/');
        let base = segments.next()?;
        let parent = segments.next().unwrap_or("");
        let role = match (parent, base) {
            (_, "JndiLookup") => ClassRole::JndiLookup,
            (_, "JndiManager") => ClassRole::JndiManager,
            ("lookup", "Interpolator") => ClassRole::Interpolator,
            ("lookup", "StrSubstitutor") => ClassRole::StrSubstitutor,
            ("nosql", "NoSqlAppender") => ClassRole::NoSqlAppender,
            ("util", "SetUtils") => ClassRole::SetUtils,
            ("jdbc", "DataSourceConnectionSource") => ClassRole::DataSourceConnectionSource,
            ("log4j", "Category") => ClassRole::Log4j1Category,
            ("net", "JMSAppender") => ClassRole::Log4j1JmsAppender,
            ("net", "SocketServer") => ClassRole::Log4j1SocketServer,
            ("net", "JMSSink") => ClassRole::Log4j1JmsSink,
            ("jdbc", "JDBCAppender") => ClassRole::Log4j1JdbcAppender,
            ("chainsaw", _) => ClassRole::Log4j1Chainsaw,
            _ => return None,
        };
        return Some(Interest::Class(role));
    }
    if name.ends_with("/pom.properties") && name.contains("META-INF/maven/") {
        return Some(Interest::PomProperties);
    }
    if name == "META-INF/MANIFEST.MF" || name.ends_with("/META-INF/MANIFEST.MF") {
        return Some(Interest::Manifest);
    }
    None
}

/// One entry handed to the classifier: its name inside the container and, when the classifier
/// asked for them, its bytes (`None` when not needed or unreadable).
#[derive(Debug, Clone)]
pub struct EvidenceEntry {
    pub name: String,
    pub bytes: Option<Vec<u8>>,
}

/// A copy found in one container, before the caller adds the container's path chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifiedCopy {
    /// The copy's root inside the container (`org/apache/logging/log4j/core/`), or empty for a
    /// declared copy known only from metadata. Used to extend the path chain of exploded copies.
    pub root: String,
    pub component: Component,
    pub version: Option<String>,
    pub version_range: Option<String>,
    pub confidence: Confidence,
    pub evidence: Vec<String>,
    pub mitigations: Vec<String>,
    pub cves: Vec<CveVerdict>,
}

const CAFEBABE: [u8; 4] = [0xca, 0xfe, 0xba, 0xbe];

fn contains(haystack: &[u8], needle: &str) -> bool {
    memmem::find(haystack, needle.as_bytes()).is_some()
}

/// The classes and bytes gathered for one copy root.
#[derive(Debug, Default)]
struct RootEvidence<'a> {
    classes: BTreeMap<ClassRole, (&'a str, Option<&'a [u8]>)>,
}

impl<'a> RootEvidence<'a> {
    fn has(&self, role: ClassRole) -> bool {
        self.classes.contains_key(&role)
    }
    fn bytes(&self, role: ClassRole) -> Option<&'a [u8]> {
        self.classes.get(&role).and_then(|(_, b)| *b)
    }
    fn name(&self, role: ClassRole) -> Option<&'a str> {
        self.classes.get(&role).map(|(n, _)| *n)
    }
}

/// Splits a class entry into its copy root, given the directories expected below the root. When
/// a relocation dropped those directories, the class's own directory is the root.
fn root_of(name: &str, role: ClassRole) -> String {
    let dir = match name.rfind('/') {
        Some(i) => &name[..=i],
        None => "",
    };
    let mut root = dir;
    for expected in role.dirs_below_root().iter().rev() {
        let trimmed = root.strip_suffix('/').unwrap_or(root);
        let (parent, last) = match trimmed.rfind('/') {
            Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
            None => ("", trimmed),
        };
        if last == *expected {
            root = parent;
        } else {
            return dir.to_string();
        }
    }
    root.to_string()
}

/// Every Log4j 2.x release, oldest first: the candidates a version range is checked against when
/// computing verdicts. A fact about Apache's release history, carried in the code.
pub const LOG4J2_RELEASES: &[&str] = &[
    "2.0-alpha1",
    "2.0-alpha2",
    "2.0-beta1",
    "2.0-beta2",
    "2.0-beta3",
    "2.0-beta4",
    "2.0-beta5",
    "2.0-beta6",
    "2.0-beta7",
    "2.0-beta8",
    "2.0-beta9",
    "2.0-rc1",
    "2.0-rc2",
    "2.0",
    "2.0.1",
    "2.0.2",
    "2.1",
    "2.2",
    "2.3",
    "2.3.1",
    "2.3.2",
    "2.4",
    "2.4.1",
    "2.5",
    "2.6",
    "2.6.1",
    "2.6.2",
    "2.7",
    "2.8",
    "2.8.1",
    "2.8.2",
    "2.9.0",
    "2.9.1",
    "2.10.0",
    "2.11.0",
    "2.11.1",
    "2.11.2",
    "2.12.0",
    "2.12.1",
    "2.12.2",
    "2.12.3",
    "2.12.4",
    "2.13.0",
    "2.13.1",
    "2.13.2",
    "2.13.3",
    "2.14.0",
    "2.14.1",
    "2.15.0",
    "2.16.0",
    "2.17.0",
    "2.17.1",
    "2.17.2",
    "2.18.0",
    "2.19.0",
    "2.20.0",
    "2.21.0",
    "2.21.1",
    "2.22.0",
    "2.22.1",
    "2.23.0",
    "2.23.1",
    "2.24.0",
    "2.24.1",
    "2.24.2",
    "2.24.3",
    "2.25.0",
    "2.25.1",
];

fn v(text: &str) -> Version {
    text.parse().unwrap_or_else(|_| Version::new(0, 0, 0))
}

/// A release of the 2.3.x or 2.12.x backport lines that carries security fixes.
fn is_backport(version: &Version) -> bool {
    (version.major == 2 && version.minor == 3 && *version >= v("2.3.1"))
        || (version.major == 2 && version.minor == 12 && *version >= v("2.12.2"))
}

/// The set of versions the class files allow.
#[derive(Debug, Clone, PartialEq)]
pub enum VersionSet {
    Exact(Version),
    /// `lo..=hi` on the main line; backport releases inside the interval are excluded when
    /// `excludes_backports`, because the markers tell them apart.
    Range {
        lo: Version,
        hi: Option<Version>,
        excludes_backports: bool,
    },
}

impl VersionSet {
    fn range(lo: &str, hi: Option<&str>, excludes_backports: bool) -> Self {
        VersionSet::Range { lo: v(lo), hi: hi.map(v), excludes_backports }
    }

    pub fn contains(&self, version: &Version) -> bool {
        match self {
            VersionSet::Exact(exact) => exact == version,
            VersionSet::Range { lo, hi, excludes_backports } => {
                version >= lo
                    && hi.as_ref().is_none_or(|hi| version <= hi)
                    && !(*excludes_backports && is_backport(version))
            }
        }
    }

    /// `2.14.1`, `2.1..2.14.1`, `2.17.1..` (open upper end).
    pub fn label(&self) -> String {
        match self {
            VersionSet::Exact(exact) => exact.to_string(),
            VersionSet::Range { lo, hi: Some(hi), .. } => format!("{lo}..{hi}"),
            VersionSet::Range { lo, hi: None, .. } => format!("{lo}.."),
        }
    }

    /// The known releases inside the set (the exact version itself for `Exact`).
    fn candidates(&self) -> Vec<Version> {
        match self {
            VersionSet::Exact(exact) => vec![exact.clone()],
            VersionSet::Range { .. } => LOG4J2_RELEASES.iter().map(|r| v(r)).filter(|r| self.contains(r)).collect(),
        }
    }
}

/// The decision procedure of the design notes, from the bytes of `JndiManager` (M) and
/// `JndiLookup` (L) and the presence of two marker classes. `None` when there is no JNDI evidence
/// to decide from (both classes absent or unreadable).
///
/// ```text
/// M absent, L contains "javax/naming/InitialContext"            -> 2.0-beta9 .. 2.0.2
/// M lacks "log4j2.enableJndi" and "allowedJndiProtocols"        -> 2.1 .. 2.14.1
/// M has "allowedJndiProtocols", lacks "log4j2.enableJndi"       -> 2.15.0
/// M has both                                                    -> 2.16.0
/// M has "log4j2.enableJndi", lacks "isJndiLookupEnabled"        -> 2.12.2
/// M has "isJndiLookupEnabled" and "Invalid  JNDI URI - {}"      -> 2.3.1 | 2.12.3 | 2.17.0
/// M has "isJndiLookupEnabled" and "Invalid JNDI URI - {}"       -> 2.3.2 | 2.12.4 | >= 2.17.1
///   the line: no NoSqlAppender -> 2.3.x; SetUtils present -> 2.12.x; otherwise the main line
/// ```
pub fn decide_core_versions(
    manager: Option<&[u8]>,
    lookup: Option<&[u8]>,
    has_nosql_appender: bool,
    has_set_utils: bool,
) -> Option<VersionSet> {
    let Some(m) = manager else {
        return match lookup {
            Some(l) if contains(l, "javax/naming/InitialContext") => {
                Some(VersionSet::range("2.0-beta9", Some("2.0.2"), false))
            }
            _ => None,
        };
    };
    let enable_jndi = contains(m, "log4j2.enableJndi");
    let allowed_protocols = contains(m, "allowedJndiProtocols");
    let lookup_enabled = contains(m, "isJndiLookupEnabled");
    let line = |v_2_3: &str, v_2_12: &str, main: VersionSet| {
        if !has_nosql_appender {
            VersionSet::Exact(v(v_2_3))
        } else if has_set_utils {
            VersionSet::Exact(v(v_2_12))
        } else {
            main
        }
    };
    Some(if lookup_enabled {
        if contains(m, "Invalid  JNDI URI - {}") {
            line("2.3.1", "2.12.3", VersionSet::Exact(v("2.17.0")))
        } else {
            line("2.3.2", "2.12.4", VersionSet::range("2.17.1", None, true))
        }
    } else if enable_jndi {
        if allowed_protocols { VersionSet::Exact(v("2.16.0")) } else { VersionSet::Exact(v("2.12.2")) }
    } else if allowed_protocols {
        VersionSet::Exact(v("2.15.0"))
    } else {
        VersionSet::range("2.1", Some("2.14.1"), true)
    })
}

/// The verdict of one CVE over every release a set allows: the common verdict, or `Affected` when
/// the releases disagree (a copy that may be affected is reported as affected).
fn verdict_over(cve: Cve, set: &VersionSet) -> CveStatus {
    let candidates = set.candidates();
    let mut statuses = candidates.iter().map(|c| cve.affects_log4j2(c));
    match statuses.next() {
        None => CveStatus::Affected,
        Some(first) if statuses.all(|s| s == first) => {
            if first {
                CveStatus::Affected
            } else {
                CveStatus::NotAffected
            }
        }
        Some(_) => CveStatus::Affected,
    }
}

fn core_verdicts(set: &VersionSet, jndi_lookup_removed: bool) -> Vec<CveVerdict> {
    LOG4J2_CVES
        .iter()
        .map(|&cve| {
            let mut status = verdict_over(cve, set);
            let removable = matches!(cve, Cve::Cve2021_44228 | Cve::Cve2021_45046);
            if removable && jndi_lookup_removed && status == CveStatus::Affected {
                status = CveStatus::Mitigated;
            }
            CveVerdict { id: cve, status }
        })
        .collect()
}

/// Metadata found in a container: pom.properties versions and manifest versions, keyed by the
/// directory that holds `META-INF/` (empty for an archive's own metadata).
#[derive(Debug, Default)]
struct Metadata {
    /// (meta root, group, artifact, version)
    poms: Vec<(String, String, String, String)>,
    /// (meta root, implementation title, implementation version)
    manifests: Vec<(String, String, String)>,
}

fn parse_properties(bytes: &[u8], key: &str) -> Option<String> {
    String::from_utf8_lossy(bytes).lines().find_map(|line| {
        let line = line.trim();
        let (k, value) = line.split_once('=').or_else(|| line.split_once(':'))?;
        (k.trim() == key).then(|| value.trim().to_string())
    })
}

/// Parses a JAR manifest into sections of (key, value) with continuation lines joined.
fn parse_manifest(bytes: &[u8]) -> Vec<Vec<(String, String)>> {
    let text = String::from_utf8_lossy(bytes);
    let mut sections = vec![Vec::new()];
    let mut current: Option<(String, String)> = None;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix(' ') {
            if let Some((_, value)) = current.as_mut() {
                value.push_str(rest);
            }
            continue;
        }
        if let Some(done) = current.take()
            && let Some(section) = sections.last_mut()
        {
            section.push(done);
        }
        if line.is_empty() {
            sections.push(Vec::new());
        } else if let Some((k, value)) = line.split_once(':') {
            current = Some((k.trim().to_string(), value.trim().to_string()));
        }
    }
    if let (Some(done), Some(section)) = (current, sections.last_mut()) {
        section.push(done);
    }
    sections.retain(|s| !s.is_empty());
    sections
}

fn meta_root(name: &str) -> String {
    match name.find("META-INF/") {
        Some(i) => name[..i].to_string(),
        None => String::new(),
    }
}

fn read_metadata(entries: &[EvidenceEntry]) -> Metadata {
    let mut meta = Metadata::default();
    for entry in entries {
        let Some(bytes) = entry.bytes.as_deref() else { continue };
        match interest(&entry.name) {
            Some(Interest::PomProperties) => {
                let root = meta_root(&entry.name);
                let mut parts = entry.name[root.len()..].split('/').skip(2);
                let (Some(dir_group), Some(dir_artifact)) = (parts.next(), parts.next()) else {
                    continue;
                };
                let group = parse_properties(bytes, "groupId").unwrap_or_else(|| dir_group.to_string());
                let artifact = parse_properties(bytes, "artifactId").unwrap_or_else(|| dir_artifact.to_string());
                if let Some(version) = parse_properties(bytes, "version") {
                    meta.poms.push((root, group, artifact, version));
                }
            }
            Some(Interest::Manifest) => {
                let root = meta_root(&entry.name);
                for section in parse_manifest(bytes) {
                    let get =
                        |key: &str| section.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.clone());
                    if let (Some(title), Some(version)) = (get("Implementation-Title"), get("Implementation-Version")) {
                        meta.manifests.push((root.clone(), title, version));
                    }
                }
            }
            _ => {}
        }
    }
    meta
}

const CORE_GROUP: &str = "org.apache.logging.log4j";
const CORE_ARTIFACT: &str = "log4j-core";
/// Artifacts that ship `org/apache/log4j/` classes but are not Log4j 1.x.
const LOG4J1_BRIDGES: [(&str, &str); 2] =
    [("org.apache.logging.log4j", "log4j-1.2-api"), ("org.slf4j", "log4j-over-slf4j")];

/// Classifies the interesting entries of one container into library copies.
///
/// `entries` holds every entry for which [`interest`] returned `Some`, with bytes where
/// [`Interest::needs_bytes`]. The result is ordered by copy root.
pub fn classify(entries: &[EvidenceEntry]) -> Vec<ClassifiedCopy> {
    let meta = read_metadata(entries);
    let mut core_roots: BTreeMap<String, RootEvidence> = BTreeMap::new();
    let mut v1_roots: BTreeMap<String, RootEvidence> = BTreeMap::new();
    for entry in entries {
        let Some(Interest::Class(role)) = interest(&entry.name) else { continue };
        let bytes = entry.bytes.as_deref();
        if role.needs_bytes() && !bytes.is_some_and(|b| b.starts_with(&CAFEBABE)) {
            // Named like evidence but not a readable class file: not evidence.
            continue;
        }
        let root = root_of(&entry.name, role);
        let map = if role >= ClassRole::Log4j1Category { &mut v1_roots } else { &mut core_roots };
        map.entry(root).or_default().classes.entry(role).or_insert((entry.name.as_str(), bytes));
    }

    let mut copies = Vec::new();
    let mut claimed_meta_roots = Vec::new();
    for (root, evidence) in &core_roots {
        if let Some(copy) = classify_core(root, evidence, &meta) {
            claimed_meta_roots.push(root.clone());
            copies.push(copy);
        }
    }
    // A log4j-core pom.properties with no classes found by name: a declared copy.
    for (pom_root, group, artifact, version) in &meta.poms {
        if group == CORE_GROUP && artifact == CORE_ARTIFACT {
            let claimed =
                copies.iter().any(|c| c.component == Component::Log4jCore && c.root.starts_with(pom_root.as_str()));
            if !claimed {
                copies.push(declared_core(pom_root, version));
            }
        }
    }
    for (root, evidence) in &v1_roots {
        if let Some(copy) = classify_log4j1(root, evidence, &meta, entries) {
            copies.push(copy);
        }
    }
    copies
}

fn declared_core(pom_root: &str, version_text: &str) -> ClassifiedCopy {
    let evidence = vec![format!("pom.properties:{version_text}"), "classes:not-found".to_string()];
    let (version, range, cves) = match version_text.parse::<Version>() {
        Ok(version) => {
            let set = VersionSet::Exact(version);
            (Some(version_text.to_string()), None, core_verdicts(&set, false))
        }
        Err(_) => {
            let set = VersionSet::range("2.0-alpha1", None, false);
            (None, Some(set.label()), core_verdicts(&set, false))
        }
    };
    ClassifiedCopy {
        root: pom_root.to_string(),
        component: Component::Log4jCore,
        version,
        version_range: range,
        confidence: Confidence::Declared,
        evidence,
        mitigations: Vec::new(),
        cves,
    }
}

/// The metadata version for a copy at `root`: pom.properties first, then the manifest. Only
/// metadata whose `META-INF/` sits above the copy and names the right artifact counts.
fn metadata_version(
    meta: &Metadata,
    root: &str,
    group: &str,
    artifact: &str,
    manifest_title: impl Fn(&str) -> bool,
) -> Option<(String, String)> {
    let pom = meta
        .poms
        .iter()
        .filter(|(meta_root, g, a, _)| root.starts_with(meta_root.as_str()) && g == group && a == artifact)
        .max_by_key(|(meta_root, ..)| meta_root.len())
        .map(|(.., version)| ("pom.properties".to_string(), version.clone()));
    pom.or_else(|| {
        meta.manifests
            .iter()
            .filter(|(meta_root, title, _)| root.starts_with(meta_root.as_str()) && manifest_title(title))
            .max_by_key(|(meta_root, ..)| meta_root.len())
            .map(|(.., version)| ("manifest".to_string(), version.clone()))
    })
}

fn classify_core(root: &str, evidence: &RootEvidence, meta: &Metadata) -> Option<ClassifiedCopy> {
    let lookup = evidence.bytes(ClassRole::JndiLookup);
    let manager = evidence.bytes(ClassRole::JndiManager);
    let core_present = lookup.is_some()
        || manager.is_some()
        || (evidence.has(ClassRole::Interpolator) && evidence.has(ClassRole::StrSubstitutor));
    if !core_present {
        return None;
    }
    let mut notes = Vec::new();
    for role in [ClassRole::JndiManager, ClassRole::JndiLookup] {
        if let Some(name) = evidence.name(role) {
            notes.push(format!("class:{name}"));
        }
    }
    if lookup.is_none() && manager.is_none() {
        for role in [ClassRole::Interpolator, ClassRole::StrSubstitutor] {
            if let Some(name) = evidence.name(role) {
                notes.push(format!("class:{name}"));
            }
        }
    }
    let jndi_lookup_removed = lookup.is_none();
    let class_set = decide_core_versions(
        manager,
        lookup,
        evidence.has(ClassRole::NoSqlAppender),
        evidence.has(ClassRole::SetUtils),
    );
    let class_set = match class_set {
        Some(set) => set,
        // Core classes without either JNDI class: a 2.0-beta9 .. 2.0.2 copy whose JndiLookup was
        // removed, or a release older than 2.0-beta9 that never had one. Metadata may settle it.
        None => VersionSet::range("2.0-alpha1", Some("2.0.2"), false),
    };
    // 2.17.1+ guards JDBC JNDI data sources; confirm when the class is there.
    if let Some(dscs) = evidence.bytes(ClassRole::DataSourceConnectionSource)
        && matches!(&class_set, VersionSet::Range { lo, .. } if *lo == v("2.17.1"))
        && contains(dscs, "log4j2.enableJndiJdbc")
    {
        notes.push("marker:log4j2.enableJndiJdbc".to_string());
    }
    let mut set = class_set.clone();
    let declared = metadata_version(meta, root, CORE_GROUP, CORE_ARTIFACT, |title| {
        title.eq_ignore_ascii_case("Apache Log4j Core")
    });
    if let Some((source, text)) = declared {
        match text.parse::<Version>() {
            Ok(version) if class_set.contains(&version) => {
                notes.push(format!("{source}:{text}"));
                set = VersionSet::Exact(version);
            }
            _ => {
                notes.push(format!("{source}:{text}"));
                notes.push(format!("conflict:{source} says {text}, classes say {}", class_set.label()));
            }
        }
    }
    let mut mitigations = Vec::new();
    if jndi_lookup_removed {
        mitigations.push("jndi_lookup_removed".to_string());
    }
    let cves = core_verdicts(&set, jndi_lookup_removed);
    let (version, version_range) = match &set {
        VersionSet::Exact(exact) => (Some(exact.to_string()), None),
        range => (None, Some(range.label())),
    };
    Some(ClassifiedCopy {
        root: root.to_string(),
        component: Component::Log4jCore,
        version,
        version_range,
        confidence: Confidence::Confirmed,
        evidence: notes,
        mitigations,
        cves,
    })
}

fn classify_log4j1(
    root: &str,
    evidence: &RootEvidence,
    meta: &Metadata,
    entries: &[EvidenceEntry],
) -> Option<ClassifiedCopy> {
    let category = evidence.bytes(ClassRole::Log4j1Category)?;
    // Bridges re-implement the 1.x API on top of Log4j 2 or SLF4J: their Category refers to those,
    // and they never carry 1.x's AppenderAttachableImpl.
    let is_bridge = contains(category, "org/apache/logging/log4j")
        || contains(category, "org/slf4j")
        || !contains(category, "AppenderAttachable");
    if is_bridge {
        return None;
    }
    let bridge_pom = meta.poms.iter().any(|(meta_root, g, a, _)| {
        root.starts_with(meta_root.as_str()) && LOG4J1_BRIDGES.iter().any(|(bg, ba)| g == bg && a == ba)
    });
    let has_log4j1_pom =
        meta.poms.iter().any(|(m, g, a, _)| root.starts_with(m.as_str()) && g == "log4j" && a == "log4j");
    if bridge_pom && !has_log4j1_pom {
        return None;
    }
    let reload4j = meta.poms.iter().any(|(m, g, _, _)| root.starts_with(m.as_str()) && g == "ch.qos.reload4j")
        || entries.iter().any(|e| e.name.contains("ch/qos/reload4j/"));
    let mut notes = vec![format!("class:{}", evidence.name(ClassRole::Log4j1Category).unwrap_or_default())];
    let (component, group, artifact) = if reload4j {
        (Component::Reload4j, "ch.qos.reload4j", "reload4j")
    } else {
        (Component::Log4j1, "log4j", "log4j")
    };
    let declared = metadata_version(meta, root, group, artifact, |title| {
        title.eq_ignore_ascii_case("log4j") || title.eq_ignore_ascii_case("reload4j")
    });
    let version = declared.map(|(source, text)| {
        notes.push(format!("{source}:{text}"));
        text
    });
    let class_for = |cve: Cve| match cve {
        Cve::Cve2021_4104 => ClassRole::Log4j1JmsAppender,
        Cve::Cve2019_17571 => ClassRole::Log4j1SocketServer,
        Cve::Cve2022_23302 => ClassRole::Log4j1JmsSink,
        Cve::Cve2022_23305 => ClassRole::Log4j1JdbcAppender,
        _ => ClassRole::Log4j1Chainsaw,
    };
    let cves = LOG4J1_CVES
        .iter()
        .map(|&cve| {
            let present = evidence.has(class_for(cve));
            if present && let Some(name) = evidence.name(class_for(cve)) {
                notes.push(format!("class:{name}"));
            }
            let status = if present && !reload4j { CveStatus::Affected } else { CveStatus::NotAffected };
            CveVerdict { id: cve, status }
        })
        .collect();
    let version_range = if version.is_none() { Some("1.0..1.2.17".to_string()) } else { None };
    Some(ClassifiedCopy {
        root: root.to_string(),
        component,
        version,
        version_range,
        confidence: Confidence::Confirmed,
        evidence: notes,
        mitigations: Vec::new(),
        cves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_follow_relocation() {
        assert_eq!(
            root_of("org/apache/logging/log4j/core/lookup/JndiLookup.class", ClassRole::JndiLookup),
            "org/apache/logging/log4j/core/"
        );
        assert_eq!(root_of("clt/shaded/l/core/lookup/JndiLookup.class", ClassRole::JndiLookup), "clt/shaded/l/core/");
        assert_eq!(root_of("x/y/JndiLookup.esclazz", ClassRole::JndiLookup), "x/y/");
        assert_eq!(
            root_of("a/core/appender/db/jdbc/DataSourceConnectionSource.class", ClassRole::DataSourceConnectionSource),
            "a/core/"
        );
        assert_eq!(root_of("JndiLookup.class", ClassRole::JndiLookup), "");
    }

    #[test]
    fn interest_matches_suffixes_and_agent_extensions() {
        assert_eq!(
            interest("BOOT-INF/classes/shade/core/net/JndiManager.esclazz"),
            Some(Interest::Class(ClassRole::JndiManager))
        );
        assert_eq!(interest("a/lookup/Interpolator.classdata"), Some(Interest::Class(ClassRole::Interpolator)));
        assert_eq!(interest("org/apache/log4j/chainsaw/Main.class"), Some(Interest::Class(ClassRole::Log4j1Chainsaw)));
        assert_eq!(interest("META-INF/maven/log4j/log4j/pom.properties"), Some(Interest::PomProperties));
        assert_eq!(interest("org/apache/logging/log4j/core/Logger.class"), None);
        assert_eq!(interest("JndiLookup.java"), None);
    }

    #[test]
    fn decision_table() {
        let cls = |strings: &[&str]| {
            let mut bytes = CAFEBABE.to_vec();
            for s in strings {
                bytes.extend_from_slice(s.as_bytes());
            }
            bytes
        };
        let m_old = cls(&["lookup"]);
        assert_eq!(
            decide_core_versions(Some(&m_old), None, true, false).map(|s| s.label()),
            Some("2.1..2.14.1".into())
        );
        let m_215 = cls(&["allowedJndiProtocols"]);
        assert_eq!(decide_core_versions(Some(&m_215), None, true, false).map(|s| s.label()), Some("2.15.0".into()));
        let m_2171 = cls(&["isJndiLookupEnabled", "Invalid JNDI URI - {}"]);
        assert_eq!(decide_core_versions(Some(&m_2171), None, false, true).map(|s| s.label()), Some("2.3.2".into()));
        assert_eq!(decide_core_versions(Some(&m_2171), None, true, true).map(|s| s.label()), Some("2.12.4".into()));
        assert_eq!(decide_core_versions(Some(&m_2171), None, true, false).map(|s| s.label()), Some("2.17.1..".into()));
        let l_beta = cls(&["javax/naming/InitialContext"]);
        assert_eq!(
            decide_core_versions(None, Some(&l_beta), false, false).map(|s| s.label()),
            Some("2.0-beta9..2.0.2".into())
        );
        assert_eq!(decide_core_versions(None, None, true, true), None);
    }

    #[test]
    fn ranges_exclude_backports_and_verdicts_are_conservative() {
        let set = VersionSet::range("2.1", Some("2.14.1"), true);
        assert!(set.contains(&v("2.10.0")));
        assert!(!set.contains(&v("2.12.2")));
        assert!(!set.contains(&v("2.3.1")));
        assert_eq!(verdict_over(Cve::Cve2021_44228, &set), CveStatus::Affected);
        let newer = VersionSet::range("2.17.1", None, true);
        assert_eq!(verdict_over(Cve::Cve2021_44832, &newer), CveStatus::NotAffected);
        let ambiguous = VersionSet::range("2.0-alpha1", Some("2.0.2"), false);
        assert_eq!(verdict_over(Cve::Cve2021_44228, &ambiguous), CveStatus::Affected);
    }

    #[test]
    fn manifest_sections_and_continuations() {
        let mf = b"Manifest-Version: 1.0\r\nExport-Package: a,\r\n b\r\n\r\nName: org.apache.log4j\r\nImplementation-Title: log4j\r\nImplementation-Version: 1.2.17\r\n";
        let sections = parse_manifest(mf);
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0][1], ("Export-Package".to_string(), "a,b".to_string()));
        assert_eq!(sections[1][2], ("Implementation-Version".to_string(), "1.2.17".to_string()));
    }
}
