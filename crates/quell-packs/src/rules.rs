//! Packs compiled for scanning: the entry-name index and the classifier.
//!
//! [`Rules::interest`] decides from an entry name alone whether the scanner keeps an entry (and
//! whether it needs its bytes); [`Rules::classify`] turns the kept entries of one container into
//! copies. Both know nothing of any particular library: everything comes from the packs.
//!
//! Invariants:
//! - Pure: no I/O. The same entries always give the same copies, in a stable order (pack order,
//!   component order, then copy root).
//! - Class evidence beats metadata: metadata pins a version only inside the range the classes
//!   allow; otherwise both are reported (`conflict:`) and the classes win.
//! - A range's verdict is the common verdict of every known release in it; if they disagree the
//!   copy is `affected`.
//! - A mitigation turns `affected` into `mitigated` only for the CVEs it names.

use std::collections::{BTreeMap, HashMap};

use memchr::memmem;
use quell_model::maven::{Event, MavenVersion, VersionRange, affected_by_events};
use quell_model::{Component, Confidence, Cve, CveStatus, CveVerdict};
use sha2::{Digest, Sha256};

use crate::format::{Condition, Pack};

/// Extensions under which class files are found: plain, and the renamed forms some agents use for
/// shaded classes.
pub const CLASS_EXTENSIONS: [&str; 3] = [".class", ".esclazz", ".classdata"];

const CAFEBABE: [u8; 4] = [0xca, 0xfe, 0xba, 0xbe];

/// The role an entry plays in classification, decided from its name alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// A class file some pack names; `needs_bytes` when a rule reads its strings, `fingerprint`
    /// when a fingerprint table may hash it.
    Class { needs_bytes: bool, fingerprint: bool },
    /// `META-INF/maven/<group>/<artifact>/pom.properties`.
    PomProperties,
    /// `META-INF/MANIFEST.MF`.
    Manifest,
}

impl Interest {
    /// Whether the classifier may read the entry's bytes (otherwise only its presence counts): what
    /// a caller that cannot come back for an entry later (a tar stream, a directory walk) reads.
    pub fn needs_bytes(self) -> bool {
        match self {
            Interest::Class { needs_bytes, fingerprint } => needs_bytes || fingerprint,
            Interest::PomProperties | Interest::Manifest => true,
        }
    }

    /// Whether the classifier always reads the entry's bytes. A caller that can read an entry
    /// again by name (a zip) reads only these up front and hands the rest to
    /// [`Rules::classify_with`] as a loader: fingerprints are consulted only when the class rules
    /// and the metadata leave the version open, so ordinary jars cost no extra reads.
    pub fn needs_bytes_now(self) -> bool {
        match self {
            Interest::Class { needs_bytes, .. } => needs_bytes,
            Interest::PomProperties | Interest::Manifest => true,
        }
    }
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
    /// The copy's root inside the container (`org/apache/logging/log4j/core/`), or the directory
    /// holding `META-INF/` for a declared copy known only from metadata.
    pub root: String,
    pub component: Component,
    /// The component's package URL with the version when exact (`pkg:maven/g/a@1.9`).
    pub purl: String,
    pub version: Option<String>,
    pub version_range: Option<String>,
    pub confidence: Confidence,
    pub evidence: Vec<String>,
    pub mitigations: Vec<String>,
    pub cves: Vec<CveVerdict>,
}

/// Strips a class-file extension, returning the class path without it.
pub fn class_stem(name: &str) -> Option<&str> {
    CLASS_EXTENSIONS.iter().find_map(|ext| {
        let cut = name.len().checked_sub(ext.len())?;
        name.get(cut..).filter(|tail| tail.eq_ignore_ascii_case(ext)).map(|_| &name[..cut])
    })
}

#[derive(Debug, Clone)]
struct Class {
    id: String,
    /// Below the root, without extension; may end in `/*`.
    path: String,
    /// What the entry stem must end with (defaults to `path`).
    suffix: String,
    anywhere: bool,
    /// A rule reads its strings: only a readable class file counts.
    needs_bytes: bool,
    /// The fingerprint table hashes it.
    fingerprinted: bool,
}

#[derive(Debug, Clone)]
enum Cond {
    Present(usize),
    Absent(usize),
    Has(usize, String),
    Lacks(usize, String),
}

#[derive(Debug, Clone)]
struct Proof {
    when: Vec<Cond>,
    fallback: bool,
}

/// A set of versions the evidence allows.
#[derive(Debug, Clone)]
struct VersionSet {
    range: VersionRange,
    exclude: Vec<VersionRange>,
    /// When fingerprints narrowed the set to known releases.
    only: Option<Vec<MavenVersion>>,
}

impl VersionSet {
    fn of(range: VersionRange) -> Self {
        VersionSet { range, exclude: Vec::new(), only: None }
    }
    fn contains(&self, v: &MavenVersion) -> bool {
        match &self.only {
            Some(list) => list.contains(v),
            None => self.range.contains(v) && !self.exclude.iter().any(|x| x.contains(v)),
        }
    }
    fn exact(&self) -> Option<&MavenVersion> {
        match &self.only {
            Some(list) if list.len() == 1 => list.first(),
            Some(_) => None,
            None => self.range.as_exact(),
        }
    }
    fn label(&self) -> String {
        match &self.only {
            Some(list) if list.len() > 1 => {
                let lo = list.iter().min();
                let hi = list.iter().max();
                match (lo, hi) {
                    (Some(lo), Some(hi)) => format!("{lo}..{hi}"),
                    _ => self.range.to_string(),
                }
            }
            Some(list) => list.first().map_or_else(|| self.range.to_string(), |v| v.to_string()),
            None => self.range.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
struct VersionRule {
    when: Vec<Cond>,
    set: VersionSet,
    note: Option<String>,
}

#[derive(Debug, Clone)]
struct Mitigation {
    name: String,
    absent: usize,
    cves: Vec<Cve>,
}

/// The identity a copy is reported under: the component or one of its variants.
#[derive(Debug, Clone)]
struct Identity {
    name: Component,
    purl: String,
    pom: Vec<(String, String)>,
    manifest_titles: Vec<String>,
    unknown_range: VersionRange,
}

#[derive(Debug, Clone)]
struct Affects {
    cve: Cve,
    events: Vec<Event>,
    requires_class: Option<usize>,
}

#[derive(Debug, Clone)]
struct CompiledComponent {
    /// The pack it comes from.
    pack: String,
    identity: Identity,
    variants: Vec<Identity>,
    classes: Vec<Class>,
    proofs: Vec<Proof>,
    rules: Vec<VersionRule>,
    fingerprints: HashMap<(usize, [u8; 32]), Vec<MavenVersion>>,
    /// The releases the fingerprint table was built from.
    fingerprinted: Vec<MavenVersion>,
    /// The classes that have fingerprints.
    fingerprinted_classes: Vec<usize>,
    mitigations: Vec<Mitigation>,
    /// Classes `quell fix` may remove.
    removable: Vec<usize>,
    releases: Vec<MavenVersion>,
    declared_copies: bool,
    declared_range: VersionRange,
    not_when_declared: Vec<(String, String)>,
    /// Per identity name: the vulnerabilities in pack order.
    affects: HashMap<String, Vec<Affects>>,
}

/// What reports say about one vulnerability, from its pack.
#[derive(Debug, Clone, PartialEq)]
pub struct VulnInfo {
    pub id: Cve,
    pub aliases: Vec<String>,
    pub name: String,
    pub title: String,
    pub description: String,
    pub remedy: String,
    pub cvss: f32,
    pub cvss_vector: Option<String>,
    pub cwes: Vec<u32>,
    pub preconditions: Vec<String>,
    pub advisory_url: Option<String>,
    pub advisory_title: Option<String>,
    /// The pack that describes it.
    pub pack: String,
}

/// What reports and `quell fix` need to know of a component.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentInfo {
    pub name: String,
    pub purl: String,
    pub pack: String,
    /// Classes `quell fix` may remove, as paths below the copy root with `.class`, with the
    /// mitigation name and the CVEs their removal neutralises.
    pub removable: Vec<(String, String, Vec<Cve>)>,
    /// What to upgrade to (`quell fix` records), when the pack says.
    pub upgrade_to: Option<String>,
}

/// FNV-1a for the entry-name index: `interest` hashes the base name of every class entry of every
/// archive, and these keys are short, trusted (they come from the packs, not from the scanned
/// files — a lookup only reads the map), so SipHash's flooding resistance buys nothing here and
/// costs about 10% of a findings-only scan. Written by hand: eight lines do not justify a crate.
#[derive(Debug, Clone, Copy, Default)]
struct FnvBuild;

#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl std::hash::BuildHasher for FnvBuild {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set of packs compiled for scanning.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    packs: Vec<PackSummary>,
    components: Vec<CompiledComponent>,
    /// Class base name → (component, class) indices.
    by_base: HashMap<String, Vec<(usize, usize)>, FnvBuild>,
    /// Package directory name → wildcard classes (`chainsaw/*`).
    by_parent: HashMap<String, Vec<(usize, usize)>, FnvBuild>,
    vulns: Vec<VulnInfo>,
    infos: Vec<ComponentInfo>,
}

/// A pack as `quell rules list` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PackSummary {
    pub name: String,
    pub title: String,
    pub revision: Option<String>,
    pub source: String,
    pub components: Vec<String>,
    pub vulnerabilities: Vec<String>,
}

fn coords(text: &str) -> (String, String) {
    let (g, a) = split_coords(text);
    (g.to_string(), a.to_string())
}

/// `group:artifact` as its two parts (a bare group: any artifact).
fn split_coords(text: &str) -> (&str, &str) {
    text.split_once(':').unwrap_or((text, "*"))
}

fn range(text: &str) -> VersionRange {
    // Validated by `format::parse`; an impossible failure falls back to "any version".
    text.parse().unwrap_or(VersionRange { lo: None, hi: None })
}

fn event(e: &crate::format::EventSpec) -> Option<Event> {
    if let Some(v) = &e.introduced {
        return Some(Event::Introduced(MavenVersion::new(v)));
    }
    if let Some(v) = &e.fixed {
        return Some(Event::Fixed(MavenVersion::new(v)));
    }
    e.last_affected.as_ref().map(|v| Event::LastAffected(MavenVersion::new(v)))
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Rules {
    /// Compiles validated packs (from [`crate::format::parse`]); `sources` name where each came
    /// from. A later pack with the same name replaces an earlier one (`--rules` overrides a
    /// built-in pack).
    pub fn compile(packs: &[(Pack, String)]) -> Rules {
        let mut chosen: Vec<&(Pack, String)> = Vec::new();
        for entry in packs {
            if let Some(slot) = chosen.iter_mut().find(|p| p.0.name.get_ref() == entry.0.name.get_ref()) {
                *slot = entry;
            } else {
                chosen.push(entry);
            }
        }
        let mut rules = Rules::default();
        for (pack, source) in chosen {
            rules.add(pack, source);
        }
        rules
    }

    /// Keeps only the packs named (`--only log4j,commons-text`). Unknown names are an error
    /// listing the known ones.
    pub fn only(&self, names: &[String]) -> Result<Rules, String> {
        for name in names {
            if !self.packs.iter().any(|p| &p.name == name) {
                let known: Vec<&str> = self.packs.iter().map(|p| p.name.as_str()).collect();
                return Err(format!("no pack named {name:?} (known: {})", known.join(", ")));
            }
        }
        let mut out = Rules::default();
        for summary in self.packs.iter().filter(|p| names.contains(&p.name)) {
            out.packs.push(summary.clone());
            for component in self.components.iter().filter(|c| c.pack == summary.name) {
                let new_index = out.components.len();
                out.components.push(component.clone());
                out.index_component(new_index);
            }
            out.infos.extend(self.infos.iter().filter(|i| i.pack == summary.name).cloned());
            out.vulns.extend(self.vulns.iter().filter(|v| v.pack == summary.name).cloned());
        }
        Ok(out)
    }

    fn index_component(&mut self, ci: usize) {
        for (ki, class) in self.components[ci].classes.iter().enumerate() {
            let base = class.path.rsplit('/').next().unwrap_or(&class.path);
            if base == "*" {
                let parent = class.path.rsplit('/').nth(1).unwrap_or("").to_string();
                self.by_parent.entry(parent).or_default().push((ci, ki));
            } else {
                self.by_base.entry(base.to_string()).or_default().push((ci, ki));
            }
        }
    }

    fn add(&mut self, pack: &Pack, source: &str) {
        let pack_name = pack.name.get_ref().clone();
        let mut summary = PackSummary {
            name: pack_name.clone(),
            title: pack.title.clone(),
            revision: pack.revision.clone(),
            source: source.to_string(),
            components: Vec::new(),
            vulnerabilities: pack.vulnerabilities.iter().map(|v| v.get_ref().id.clone()).collect(),
        };
        for spec in &pack.components {
            let c = spec.get_ref();
            summary.components.push(c.name.clone());
            let class_index = |id: &str| c.classes.iter().position(|k| k.get_ref().id == id);
            let classes: Vec<Class> = c
                .classes
                .iter()
                .map(|k| {
                    let k = k.get_ref();
                    let fingerprinted =
                        pack.fingerprints.iter().any(|f| f.get_ref().component == c.name && f.get_ref().class == k.id);
                    Class {
                        id: k.id.clone(),
                        path: k.path.clone(),
                        suffix: k.match_suffix.clone().unwrap_or_else(|| k.path.clone()),
                        anywhere: k.anywhere,
                        needs_bytes: !k.strings.is_empty(),
                        fingerprinted,
                    }
                })
                .collect();
            let conds = |when: &[String]| -> Vec<Cond> {
                when.iter()
                    .filter_map(|text| {
                        let cond = Condition::parse(text);
                        let ki = class_index(&cond.class)?;
                        Some(match (cond.negated, cond.string) {
                            (false, None) => Cond::Present(ki),
                            (true, None) => Cond::Absent(ki),
                            (false, Some(s)) => Cond::Has(ki, s),
                            (true, Some(s)) => Cond::Lacks(ki, s),
                        })
                    })
                    .collect()
            };
            let identity = Identity {
                name: Component::new(c.name.clone()),
                purl: c.purl.clone(),
                pom: c.pom.iter().map(|p| coords(p)).collect(),
                manifest_titles: c.manifest_titles.clone(),
                unknown_range: range(c.unknown_range.get_ref()),
            };
            let variants: Vec<Identity> = c
                .variants
                .iter()
                .map(|v| {
                    let v = v.get_ref();
                    Identity {
                        name: Component::new(v.name.clone()),
                        purl: v.purl.clone(),
                        pom: v.pom.iter().map(|p| coords(p)).collect(),
                        manifest_titles: v.manifest_titles.clone(),
                        unknown_range: range(&v.unknown_range),
                    }
                })
                .collect();
            let mut fingerprints: HashMap<(usize, [u8; 32]), Vec<MavenVersion>> = HashMap::new();
            for f in pack.fingerprints.iter().map(|f| f.get_ref()).filter(|f| f.component == c.name) {
                if let (Some(ki), Some(hash)) = (class_index(&f.class), hex32(&f.sha256.to_ascii_lowercase())) {
                    fingerprints.entry((ki, hash)).or_default().extend(f.versions.iter().map(|v| MavenVersion::new(v)));
                }
            }
            let mut affects: HashMap<String, Vec<Affects>> = HashMap::new();
            for vuln in &pack.vulnerabilities {
                let v = vuln.get_ref();
                for a in &v.affects {
                    let a = a.get_ref();
                    let is_ours = a.component == c.name || c.variants.iter().any(|x| x.get_ref().name == a.component);
                    if is_ours {
                        affects.entry(a.component.clone()).or_default().push(Affects {
                            cve: Cve::new(v.id.clone()),
                            events: a.events.iter().filter_map(event).collect(),
                            requires_class: a.requires_class.as_deref().and_then(class_index),
                        });
                    }
                }
            }
            let removable = c
                .mitigations
                .iter()
                .map(|m| m.get_ref())
                .filter(|m| m.removable)
                .filter_map(|m| {
                    let class = &c.classes[class_index(&m.absent)?];
                    Some((
                        format!("{}.class", class.get_ref().path),
                        m.name.clone(),
                        m.cves.iter().map(|x| Cve::new(x.clone())).collect(),
                    ))
                })
                .collect();
            let compiled = CompiledComponent {
                pack: pack_name.clone(),
                identity,
                variants,
                proofs: c
                    .proofs
                    .iter()
                    .map(|p| Proof { when: conds(&p.get_ref().when), fallback: p.get_ref().fallback })
                    .collect(),
                rules: c
                    .versions
                    .iter()
                    .map(|r| {
                        let r = r.get_ref();
                        VersionRule {
                            when: conds(&r.when),
                            set: VersionSet {
                                range: range(&r.range),
                                exclude: r.exclude.iter().map(|x| range(x)).collect(),
                                only: None,
                            },
                            note: r.note.clone(),
                        }
                    })
                    .collect(),
                fingerprinted_classes: {
                    let mut classes: Vec<usize> = fingerprints.keys().map(|(ki, _)| *ki).collect();
                    classes.sort_unstable();
                    classes.dedup();
                    classes
                },
                fingerprints,
                fingerprinted: pack
                    .fingerprint_sources
                    .iter()
                    .map(|f| f.get_ref())
                    .filter(|f| f.component == c.name)
                    .flat_map(|f| f.releases.iter().map(|v| MavenVersion::new(v)))
                    .collect(),
                mitigations: c
                    .mitigations
                    .iter()
                    .filter_map(|m| {
                        let m = m.get_ref();
                        Some(Mitigation {
                            name: m.name.clone(),
                            absent: class_index(&m.absent)?,
                            cves: m.cves.iter().map(|x| Cve::new(x.clone())).collect(),
                        })
                    })
                    .collect(),
                removable: c
                    .mitigations
                    .iter()
                    .filter(|m| m.get_ref().removable)
                    .filter_map(|m| class_index(&m.get_ref().absent))
                    .collect(),
                releases: c.releases.iter().map(|r| MavenVersion::new(r.get_ref())).collect(),
                declared_copies: c.declared_copies,
                declared_range: c
                    .declared_range
                    .as_ref()
                    .map_or_else(|| range(c.unknown_range.get_ref()), |r| range(r.get_ref())),
                not_when_declared: c.not_when_declared.iter().map(|p| coords(p)).collect(),
                affects,
                classes,
            };
            self.infos.push(ComponentInfo {
                name: c.name.clone(),
                purl: c.purl.clone(),
                pack: pack_name.clone(),
                removable,
                upgrade_to: c.upgrade_to.clone(),
            });
            for v in &c.variants {
                let v = v.get_ref();
                self.infos.push(ComponentInfo {
                    name: v.name.clone(),
                    purl: v.purl.clone(),
                    pack: pack_name.clone(),
                    removable: Vec::new(),
                    upgrade_to: None,
                });
            }
            let ci = self.components.len();
            self.components.push(compiled);
            self.index_component(ci);
        }
        for vuln in &pack.vulnerabilities {
            let v = vuln.get_ref();
            self.vulns.push(VulnInfo {
                id: Cve::new(v.id.clone()),
                aliases: v.aliases.clone(),
                name: v.name.clone(),
                title: v.title.clone(),
                description: v.description.clone(),
                remedy: v.remedy.clone(),
                cvss: v.cvss,
                cvss_vector: v.cvss_vector.clone(),
                cwes: v.cwe.clone(),
                preconditions: v.preconditions.clone(),
                advisory_url: v.advisory_url.clone(),
                advisory_title: v.advisory_title.clone(),
                pack: pack_name.clone(),
            });
        }
        self.packs.push(summary);
    }

    /// The packs compiled in, in order.
    pub fn packs(&self) -> &[PackSummary] {
        &self.packs
    }

    /// Every vulnerability of every pack, in pack order.
    pub fn vulnerabilities(&self) -> &[VulnInfo] {
        &self.vulns
    }

    /// What a pack says about a vulnerability.
    pub fn vulnerability(&self, id: &Cve) -> Option<&VulnInfo> {
        self.vulns.iter().find(|v| &v.id == id)
    }

    /// A component (or variant) by its finding name.
    pub fn component(&self, name: &str) -> Option<&ComponentInfo> {
        self.infos.iter().find(|c| c.name == name)
    }

    /// The (component, class id) pairs a class entry is, for `quell rules build`. Wildcard
    /// classes (`chainsaw/*`) are left out: one id stands for many entries there, so no one hash
    /// fingerprints it (docs/packs.md).
    pub fn class_ids(&self, name: &str) -> Vec<(String, String)> {
        let Some(stem) = class_stem(name) else { return Vec::new() };
        self.class_matches(stem)
            .filter(|(ci, ki, _)| !self.components[*ci].classes[*ki].path.ends_with("/*"))
            .map(|(ci, ki, _)| {
                (self.components[ci].identity.name.name().to_string(), self.components[ci].classes[ki].id.clone())
            })
            .collect()
    }

    /// How a vulnerability applies to a component (or variant): its OSV events (empty: never
    /// affected) and the class id it requires, if any. `None` when the packs do not link them.
    pub fn affects(&self, component: &str, cve: &Cve) -> Option<(Vec<Event>, Option<String>)> {
        self.components.iter().find_map(|c| {
            let list = c.affects.get(component)?;
            let a = list.iter().find(|a| &a.cve == cve)?;
            Some((a.events.clone(), a.requires_class.map(|ki| c.classes[ki].id.clone())))
        })
    }

    /// The mitigation names of a component and the class each removes (`jndi_lookup_removed` →
    /// `JndiLookup`).
    pub fn mitigation_classes(&self, component: &str) -> Vec<(String, String)> {
        self.components
            .iter()
            .filter(|c| c.identity.name.name() == component || c.variants.iter().any(|v| v.name.name() == component))
            .flat_map(|c| c.mitigations.iter().map(|m| (m.name.clone(), c.classes[m.absent].id.clone())))
            .collect()
    }

    /// When `name` is a class that `quell fix` may remove from copies of `component`: the root of
    /// the copy it belongs to (compare with [`ClassifiedCopy::root`]).
    pub fn removable_root(&self, name: &str, component: &str) -> Option<String> {
        let stem = class_stem(name)?;
        for (ci, c) in self.components.iter().enumerate() {
            if c.identity.name.name() != component && !c.variants.iter().any(|v| v.name.name() == component) {
                continue;
            }
            for &ki in &c.removable {
                if let Some(root) = self.match_root(stem, ci, ki) {
                    return Some(root.to_string());
                }
            }
        }
        None
    }

    /// Decides from an entry name alone whether the classifier wants the entry. Cheap: called for
    /// every entry of every archive.
    pub fn interest(&self, name: &str) -> Option<Interest> {
        if let Some(stem) = class_stem(name) {
            return self
                .class_matches(stem)
                .map(|(ci, ki, _)| {
                    let class = &self.components[ci].classes[ki];
                    (class.needs_bytes, class.fingerprinted)
                })
                .reduce(|a, b| (a.0 || b.0, a.1 || b.1))
                .map(|(needs_bytes, fingerprint)| Interest::Class { needs_bytes, fingerprint });
        }
        if name.ends_with("/pom.properties") && name.contains("META-INF/maven/") {
            return Some(Interest::PomProperties);
        }
        if name == "META-INF/MANIFEST.MF" || name.ends_with("/META-INF/MANIFEST.MF") {
            return Some(Interest::Manifest);
        }
        None
    }

    /// The copy root of a class entry (its stem, without extension) for class `ki` of component
    /// `ci`, or `None` when the entry is not that class.
    fn match_root<'s>(&self, stem: &'s str, ci: usize, ki: usize) -> Option<&'s str> {
        let class = &self.components[ci].classes[ki];
        let ends_with_segments = |suffix: &str| -> Option<usize> {
            if suffix.ends_with("/*") {
                let dir = &suffix[..suffix.len() - 1]; // keeps the '/'
                let cut = stem.rfind('/')? + 1;
                let dir_part = &stem[..cut];
                let start = dir_part.len().checked_sub(dir.len())?;
                (dir_part.ends_with(dir) && (start == 0 || dir_part.as_bytes()[start - 1] == b'/')).then_some(start)
            } else {
                let start = stem.len().checked_sub(suffix.len())?;
                (stem.ends_with(suffix) && (start == 0 || stem.as_bytes()[start - 1] == b'/')).then_some(start)
            }
        };
        if let Some(start) = ends_with_segments(&class.suffix) {
            // The root is what lies above `path` (which `suffix` ends with).
            let path_start = start + (class.suffix.len() - class.path.len());
            return Some(&stem[..path_start]);
        }
        if class.anywhere {
            let base = class.path.rsplit('/').next().unwrap_or(&class.path);
            let own_dir = stem.strip_suffix(base)?;
            if !(own_dir.is_empty() || own_dir.ends_with('/')) {
                return None;
            }
            return Some(own_dir);
        }
        None
    }

    /// Every (component, class, copy root) a class entry's stem is: the candidates by class name
    /// and by package (`pkg/*` classes), kept where the path matches. The one lookup behind
    /// `interest`, `classify` and `class_ids`.
    fn class_matches<'s>(&'s self, stem: &'s str) -> impl Iterator<Item = (usize, usize, &'s str)> + 's {
        let mut segments = stem.rsplit('/');
        let base = segments.next().unwrap_or("");
        let parent = segments.next().filter(|_| !self.by_parent.is_empty());
        let by_base = self.by_base.get(base).into_iter().flatten();
        let by_parent = parent.and_then(|p| self.by_parent.get(p)).into_iter().flatten();
        by_base.chain(by_parent).filter_map(move |&(ci, ki)| self.match_root(stem, ci, ki).map(|root| (ci, ki, root)))
    }

    /// Classifies the interesting entries of one container into library copies.
    ///
    /// `entries` holds every entry for which [`Rules::interest`] returned `Some`, with bytes where
    /// [`Interest::needs_bytes`]. The result is ordered by component, then copy root.
    pub fn classify(&self, entries: &[EvidenceEntry]) -> Vec<ClassifiedCopy> {
        self.classify_with(entries, &mut |_| None)
    }

    /// [`Rules::classify`] for a container that can read an entry again: `load` returns the bytes
    /// of the entry called `name`, asked for fingerprinted classes handed over without bytes
    /// (see [`Interest::needs_bytes_now`]).
    pub fn classify_with(
        &self,
        entries: &[EvidenceEntry],
        load: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> Vec<ClassifiedCopy> {
        let meta = read_metadata(entries);
        // (component, root) → class index → (entry name, bytes)
        type Found<'a> = BTreeMap<usize, (&'a str, Option<&'a [u8]>)>;
        let mut groups: BTreeMap<(usize, String), Found> = BTreeMap::new();
        for entry in entries {
            let Some(stem) = class_stem(&entry.name) else { continue };
            let bytes = entry.bytes.as_deref();
            let readable = bytes.is_some_and(|b| b.starts_with(&CAFEBABE));
            for (ci, ki, root) in self.class_matches(stem) {
                if self.components[ci].classes[ki].needs_bytes && !readable {
                    // Named like evidence but not a readable class file: not evidence.
                    continue;
                }
                let found = groups.entry((ci, root.to_string())).or_default();
                found.entry(ki).or_insert((entry.name.as_str(), bytes));
            }
        }
        let mut copies = Vec::new();
        for (ci, component) in self.components.iter().enumerate() {
            let first = copies.len();
            for ((gci, root), found) in groups.range((ci, String::new())..) {
                if *gci != ci {
                    break;
                }
                if let Some(copy) = self.classify_copy(component, root, found, &meta, load) {
                    copies.push(copy);
                }
            }
            if component.declared_copies {
                // A pom is claimed when a copy of this component lies at or below its directory.
                let mut claimed_dirs: std::collections::HashSet<&str> =
                    copies[first..].iter().flat_map(|c: &ClassifiedCopy| root_prefixes(&c.root)).collect();
                let mut declared = Vec::new();
                for pom in &meta.poms {
                    let ours = component.identity.pom.iter().any(|p| pom_matches(p, pom));
                    if ours && claimed_dirs.insert(pom.root.as_str()) {
                        declared.push(declared_copy(component, pom));
                    }
                }
                copies.extend(declared);
            }
        }
        copies
    }

    fn classify_copy(
        &self,
        component: &CompiledComponent,
        root: &str,
        found: &BTreeMap<usize, (&str, Option<&[u8]>)>,
        meta: &Metadata,
        load: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> Option<ClassifiedCopy> {
        let holds = |cond: &Cond| -> bool {
            let bytes_of = |ki: &usize| found.get(ki).and_then(|(_, b)| *b);
            match cond {
                Cond::Present(ki) => found.contains_key(ki),
                Cond::Absent(ki) => !found.contains_key(ki),
                Cond::Has(ki, s) => bytes_of(ki).is_some_and(|b| memmem::find(b, s.as_bytes()).is_some()),
                Cond::Lacks(ki, s) => bytes_of(ki).is_none_or(|b| memmem::find(b, s.as_bytes()).is_none()),
            }
        };
        let all = |when: &[Cond]| when.iter().all(&holds);
        let satisfied: Vec<&Proof> = component.proofs.iter().filter(|p| all(&p.when)).collect();
        let strong: Vec<&Proof> = satisfied.iter().copied().filter(|p| !p.fallback).collect();
        let proving = if strong.is_empty() { satisfied } else { strong };
        if proving.is_empty() {
            return None;
        }
        let poms_above = || meta.poms_above(root);
        if !component.not_when_declared.is_empty() {
            let bridge = poms_above().any(|p| component.not_when_declared.iter().any(|c| pom_matches(c, p)));
            let own = poms_above().any(|p| component.identity.pom.iter().any(|c| pom_matches(c, p)));
            if bridge && !own {
                return None;
            }
        }
        // The identity of the deepest pom.properties above the copy that names the component or
        // a variant; without one, a variant whose manifest title is above it.
        let deepest = poms_above()
            .filter_map(|p| {
                let is = |identity: &Identity| identity.pom.iter().any(|c| pom_matches(c, p));
                if is(&component.identity) {
                    Some((p.root.len(), None))
                } else {
                    component.variants.iter().position(is).map(|i| (p.root.len(), Some(i)))
                }
            })
            .max_by_key(|(depth, _)| *depth);
        let identity = match deepest {
            Some((_, Some(variant))) => Some(&component.variants[variant]),
            Some((_, None)) => Some(&component.identity),
            None => None,
        }
        .or_else(|| {
            component.variants.iter().find(|v| {
                meta.manifests.iter().any(|(meta_root, title, _)| {
                    root.starts_with(meta_root.as_str())
                        && v.manifest_titles.iter().any(|t| t.eq_ignore_ascii_case(title))
                })
            })
        })
        .unwrap_or(&component.identity);

        let mut notes = Vec::new();
        let mut listed: Vec<usize> = Vec::new();
        for proof in &proving {
            for cond in &proof.when {
                if let Cond::Present(ki) | Cond::Has(ki, _) = cond
                    && !listed.contains(ki)
                {
                    listed.push(*ki);
                }
            }
        }
        // Evidence classes in the order the proofs name them, strongest first.
        for ki in &listed {
            if let Some((name, _)) = found.get(ki) {
                notes.push(format!("class:{name}"));
            }
        }
        let rule = component.rules.iter().find(|r| all(&r.when));
        let mut class_set = match rule {
            Some(rule) => {
                if let Some(note) = &rule.note {
                    notes.push(note.clone());
                }
                rule.set.clone()
            }
            None => VersionSet::of(identity.unknown_range.clone()),
        };
        // Narrow only a range that ends within the known releases: beyond the newest release the
        // pack knows, a later release may ship the same bytes.
        let bounded = match (&class_set.range.hi, component.releases.iter().max()) {
            (
                Some(quell_model::maven::Upper::Inclusive(hi) | quell_model::maven::Upper::Exclusive(hi)),
                Some(newest),
            ) => hi <= newest,
            _ => false,
        };
        // Fingerprints are read only when they can tell more: the rules leave more than one known
        // release, and no metadata version lies among them. (A pom that names a version the
        // class rules allow is taken as before; most copies have one, and their fingerprint
        // classes are then never inflated.)
        let open = component.releases.iter().filter(|r| class_set.contains(r)).take(2).count() > 1;
        let pinned = || {
            metadata_version(meta, root, identity)
                .is_some_and(|(_, text)| looks_like_version(&text) && class_set.contains(&MavenVersion::new(&text)))
        };
        if bounded
            && open
            && !pinned()
            && let Some((matched, matched_classes)) = fingerprint_versions(component, found, load)
        {
            // The releases with these bytes, and the known releases the table did not see.
            let mut inside: Vec<MavenVersion> = matched
                .iter()
                .chain(component.releases.iter().filter(|r| !component.fingerprinted.contains(r)))
                .filter(|v| class_set.contains(v))
                .cloned()
                .collect();
            inside.sort();
            inside.dedup();
            if !inside.is_empty() {
                for ki in matched_classes {
                    notes.push(format!("fingerprint:{}", component.classes[ki].id));
                }
                class_set.only = Some(inside);
            }
        }
        let mut set = class_set.clone();
        if let Some((source, text)) = metadata_version(meta, root, identity) {
            let shown: String = text.chars().take(MAX_METADATA_VERSION_CHARS).collect();
            notes.push(format!("{source}:{shown}"));
            let version = looks_like_version(&text).then(|| MavenVersion::new(&text));
            if let Some(version) = version.filter(|v| class_set.contains(v)) {
                set = VersionSet::of(VersionRange::exact(version));
            } else {
                let text = shown;
                notes.push(format!("conflict:{source} says {text}, classes say {}", class_set.label()));
            }
        }
        let mut mitigations = Vec::new();
        let mut mitigated: Vec<&Cve> = Vec::new();
        for m in &component.mitigations {
            if !found.contains_key(&m.absent) {
                mitigations.push(m.name.clone());
                mitigated.extend(m.cves.iter());
            }
        }
        let mut cves = Vec::new();
        for affects in component.affects.get(identity.name.name()).into_iter().flatten() {
            let mut status = verdict_over(&affects.events, &set, &component.releases);
            if let Some(ki) = affects.requires_class {
                match found.get(&ki) {
                    Some((name, _)) => {
                        let note = format!("class:{name}");
                        if !notes.contains(&note) {
                            notes.push(note);
                        }
                    }
                    None => status = CveStatus::NotAffected,
                }
            }
            if status == CveStatus::Affected && mitigated.contains(&&affects.cve) {
                status = CveStatus::Mitigated;
            }
            cves.push(CveVerdict { id: affects.cve.clone(), status });
        }
        let (version, version_range) = match set.exact() {
            Some(exact) => (Some(exact.to_string()), None),
            None => (None, Some(set.label())),
        };
        Some(ClassifiedCopy {
            root: root.to_string(),
            component: identity.name.clone(),
            purl: purl_with(&identity.purl, version.as_deref()),
            version,
            version_range,
            confidence: Confidence::Confirmed,
            evidence: notes,
            mitigations,
            cves,
        })
    }
}

/// `pkg:maven/g/a` with `@version` when exact (characters outside the purl set percent-encoded).
pub fn purl_with(base: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => {
            let mut out = format!("{base}@");
            for b in v.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b'+') {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }
        None => base.to_string(),
    }
}

/// A metadata version worth pinning: starts with a digit (not `${project.version}`).
/// Longest metadata version taken for a version (longer ones are reported, never pinned).
pub const MAX_METADATA_VERSION_CHARS: usize = 64;

fn looks_like_version(text: &str) -> bool {
    text.len() <= MAX_METADATA_VERSION_CHARS
        && text.chars().next().is_some_and(|c| c.is_ascii_digit())
        && !text.chars().any(char::is_whitespace)
}

/// The versions the fingerprinted classes of a copy allow, intersected over every class whose
/// hash is known; `None` when no class matched a fingerprint.
fn fingerprint_versions(
    component: &CompiledComponent,
    found: &BTreeMap<usize, (&str, Option<&[u8]>)>,
    load: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
) -> Option<(Vec<MavenVersion>, Vec<usize>)> {
    if component.fingerprints.is_empty() {
        return None;
    }
    let mut result: Option<Vec<MavenVersion>> = None;
    let mut matched_classes = Vec::new();
    for (ki, (name, bytes)) in found {
        if !component.fingerprinted_classes.contains(ki) {
            continue;
        }
        let loaded;
        let bytes = match bytes {
            Some(bytes) => *bytes,
            None => {
                let Some(read) = load(name) else { continue };
                loaded = read;
                &loaded[..]
            }
        };
        let hash: [u8; 32] = Sha256::digest(bytes).into();
        let Some(versions) = component.fingerprints.get(&(*ki, hash)) else {
            // Bytes no known release has (rebuilt, relocated): no conclusion from this class.
            continue;
        };
        matched_classes.push(*ki);
        result = Some(match result {
            None => versions.clone(),
            Some(prev) => prev.into_iter().filter(|v| versions.contains(v)).collect(),
        });
    }
    result.filter(|r| !r.is_empty()).map(|r| (r, matched_classes))
}

/// The verdict over every release a set allows: the common verdict, or `Affected` when they
/// disagree (a copy that may be affected is reported as affected). With no known release inside,
/// the range's bounds are judged.
fn verdict_over(events: &[Event], set: &VersionSet, releases: &[MavenVersion]) -> CveStatus {
    let mut candidates: Vec<MavenVersion> = match (set.exact(), &set.only) {
        (Some(exact), _) => vec![exact.clone()],
        (None, Some(only)) => only.clone(),
        (None, None) => releases.iter().filter(|r| set.contains(r)).cloned().collect(),
    };
    if candidates.is_empty() {
        // No known release inside: judge the bounds and every event version inside the set, so
        // a flaw introduced (or fixed) within the range is never missed.
        candidates.extend(set.range.lo.clone());
        if let Some(quell_model::maven::Upper::Inclusive(hi)) = &set.range.hi {
            candidates.push(hi.clone());
        }
        for event in events {
            let (Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v)) = event;
            if v.as_str() != "0" && set.contains(v) {
                candidates.push(v.clone());
            }
        }
    }
    let mut statuses = candidates.iter().map(|c| affected_by_events(events, c));
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

fn declared_copy(component: &CompiledComponent, pom: &Pom) -> ClassifiedCopy {
    let shown: String = pom.version.chars().take(MAX_METADATA_VERSION_CHARS).collect();
    let evidence = vec![format!("pom.properties:{shown}"), "classes:not-found".to_string()];
    let set = if looks_like_version(&pom.version) {
        VersionSet::of(VersionRange::exact(MavenVersion::new(&pom.version)))
    } else {
        VersionSet::of(component.declared_range.clone())
    };
    let cves = component
        .affects
        .get(component.identity.name.name())
        .into_iter()
        .flatten()
        .map(|a| CveVerdict { id: a.cve.clone(), status: verdict_over(&a.events, &set, &component.releases) })
        .collect();
    let (version, version_range) = match set.exact() {
        Some(_) => (Some(pom.version.clone()), None),
        None => (None, Some(set.label())),
    };
    ClassifiedCopy {
        root: pom.root.clone(),
        component: component.identity.name.clone(),
        purl: purl_with(&component.identity.purl, version.as_deref()),
        version,
        version_range,
        confidence: Confidence::Declared,
        evidence,
        mitigations: Vec::new(),
        cves,
    }
}

/// A pom.properties found in a container.
#[derive(Debug, Clone)]
pub struct Pom {
    /// The directory that holds `META-INF/` (empty for an archive's own metadata).
    pub root: String,
    pub group: String,
    pub artifact: String,
    pub version: String,
}

fn pom_matches((group, artifact): &(String, String), pom: &Pom) -> bool {
    coords_name((group, artifact), &pom.group, &pom.artifact)
}

/// Whether coordinates `(group, artifact)` of a pack (the artifact may be `*`) name `group` and
/// `artifact`: the one rule for classification and for `quell rules build`.
fn coords_name((group, artifact): (&str, &str), of_group: &str, of_artifact: &str) -> bool {
    group == of_group && (artifact == "*" || artifact == of_artifact)
}

/// Whether a pack's `pom` entry (`group:artifact`, the artifact may be `*`) names the Maven
/// coordinates `group:artifact`.
pub fn pom_entry_names(entry: &str, group: &str, artifact: &str) -> bool {
    coords_name(split_coords(entry), group, artifact)
}

/// Metadata found in a container.
#[derive(Debug, Default)]
pub struct Metadata {
    pub poms: Vec<Pom>,
    /// (meta root, implementation title, implementation version)
    pub manifests: Vec<(String, String, String)>,
    /// Meta root → indices into `poms` / `manifests`: what lies above a copy is found by looking
    /// up the copy root's prefixes, not by comparing every copy with every pom (a crafted archive
    /// with 100,000 of each would otherwise cost 10^10 comparisons).
    pom_index: HashMap<String, Vec<usize>>,
    manifest_index: HashMap<String, Vec<usize>>,
}

/// `""`, `a/`, `a/b/`, ... `root`: the directories whose `META-INF/` lies above a copy at `root`.
fn root_prefixes(root: &str) -> impl Iterator<Item = &str> {
    std::iter::once("").chain(root.match_indices('/').map(move |(i, _)| &root[..=i]))
}

impl Metadata {
    /// The pom.properties whose `META-INF/` lies above a copy at `root`.
    pub fn poms_above<'a>(&'a self, root: &'a str) -> impl Iterator<Item = &'a Pom> + 'a {
        root_prefixes(root).filter_map(|p| self.pom_index.get(p)).flatten().map(|&i| &self.poms[i])
    }

    /// The manifests (root, title, version) above a copy at `root`.
    pub fn manifests_above<'a>(&'a self, root: &'a str) -> impl Iterator<Item = &'a (String, String, String)> + 'a {
        root_prefixes(root).filter_map(|p| self.manifest_index.get(p)).flatten().map(|&i| &self.manifests[i])
    }
}

/// The metadata version for a copy at `root`: pom.properties first, then the manifest. Only
/// metadata whose `META-INF/` sits above the copy and names the right artifact counts.
fn metadata_version(meta: &Metadata, root: &str, identity: &Identity) -> Option<(String, String)> {
    let pom = meta
        .poms_above(root)
        .filter(|p| identity.pom.iter().any(|c| pom_matches(c, p)))
        .max_by_key(|p| p.root.len())
        .map(|p| ("pom.properties".to_string(), p.version.clone()));
    pom.or_else(|| {
        meta.manifests_above(root)
            .filter(|(_, title, _)| identity.manifest_titles.iter().any(|t| t.eq_ignore_ascii_case(title)))
            .max_by_key(|(meta_root, ..)| meta_root.len())
            .map(|(.., version)| ("manifest".to_string(), version.clone()))
    })
}

/// A `key=value` (or `key: value`) of a Java properties file.
pub fn parse_properties(bytes: &[u8], key: &str) -> Option<String> {
    String::from_utf8_lossy(bytes).lines().find_map(|line| {
        let line = line.trim();
        let (k, value) = line.split_once('=').or_else(|| line.split_once(':'))?;
        (k.trim() == key).then(|| value.trim().to_string())
    })
}

/// Parses a JAR manifest into sections of (key, value) with continuation lines joined.
pub fn parse_manifest(bytes: &[u8]) -> Vec<Vec<(String, String)>> {
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

/// The directory that holds an entry's `META-INF/`.
pub fn meta_root(name: &str) -> String {
    match name.find("META-INF/") {
        Some(i) => name[..i].to_string(),
        None => String::new(),
    }
}

/// Reads a pom.properties entry: (group, artifact, version) from its keys, else from its path.
pub fn read_pom(name: &str, bytes: &[u8]) -> Option<Pom> {
    let root = meta_root(name);
    let mut parts = name[root.len()..].split('/').skip(2);
    let (dir_group, dir_artifact) = (parts.next()?, parts.next()?);
    let group = parse_properties(bytes, "groupId").unwrap_or_else(|| dir_group.to_string());
    let artifact = parse_properties(bytes, "artifactId").unwrap_or_else(|| dir_artifact.to_string());
    let version = parse_properties(bytes, "version")?;
    Some(Pom { root, group, artifact, version })
}

/// Reads the pom.properties and manifests among the entries.
pub fn read_metadata(entries: &[EvidenceEntry]) -> Metadata {
    let mut meta = Metadata::default();
    for entry in entries {
        let Some(bytes) = entry.bytes.as_deref() else { continue };
        if entry.name.ends_with("/pom.properties") && entry.name.contains("META-INF/maven/") {
            if let Some(pom) = read_pom(&entry.name, bytes) {
                meta.pom_index.entry(pom.root.clone()).or_default().push(meta.poms.len());
                meta.poms.push(pom);
            }
        } else if entry.name == "META-INF/MANIFEST.MF" || entry.name.ends_with("/META-INF/MANIFEST.MF") {
            let root = meta_root(&entry.name);
            for section in parse_manifest(bytes) {
                let get = |key: &str| section.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.clone());
                if let (Some(title), Some(version)) = (get("Implementation-Title"), get("Implementation-Version")) {
                    meta.manifest_index.entry(root.clone()).or_default().push(meta.manifests.len());
                    meta.manifests.push((root.clone(), title, version));
                }
            }
        }
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keeps_the_named_packs_with_their_components_and_texts() {
        let all = crate::builtin();
        let spring = all.only(&["spring-beans".to_string()]).expect("known pack");
        assert_eq!(spring.packs().len(), 1);
        assert!(spring.component("spring-beans").is_some());
        assert!(spring.component("log4j-core").is_none());
        assert!(spring.interest("org/springframework/beans/CachedIntrospectionResults.class").is_some());
        assert!(spring.interest("org/apache/logging/log4j/core/lookup/JndiLookup.class").is_none());
        let log4j = all.only(&["log4j".to_string()]).expect("known pack");
        assert!(log4j.component("reload4j").is_some(), "variants come along");
        assert_eq!(log4j.vulnerabilities().len(), 9);
        let err = all.only(&["nope".to_string()]).expect_err("unknown pack");
        assert!(err.contains("known: log4j, commons-text, spring-beans, commons-collections"), "{err}");
    }

    fn pack(text: &str) -> Rules {
        let pack = crate::parse("test.toml", text).unwrap_or_else(|e| panic!("{e:?}"));
        Rules::compile(&[(pack, "test".into())])
    }

    const WIDGET: &str = r#"
schema = 1
name = "w"
title = "t"
[[component]]
name = "widget"
purl = "pkg:maven/x/widget"
root = "x/widget/"
pom = ["x:widget"]
unknown_range = "1.0.."
[[component.class]]
id = "Core"
path = "Core"
match = "widget/Core"
[[component.proof]]
when = ["Core"]
[[component.variant]]
name = "widget-fork"
purl = "pkg:maven/y/widget-fork"
pom = ["y:widget-fork"]
unknown_range = "9.0.."
[[vulnerability]]
id = "CVE-2030-1"
name = "N"
title = "t"
description = "d"
remedy = "r"
cvss = 5.0
[[vulnerability.affects]]
component = "widget"
events = [{ introduced = "1.5" }, { fixed = "1.10.0" }]
[[vulnerability.affects]]
component = "widget-fork"
"#;

    fn entry(name: &str, bytes: &[u8]) -> EvidenceEntry {
        EvidenceEntry { name: name.into(), bytes: Some(bytes.to_vec()) }
    }

    #[test]
    fn a_range_without_known_releases_is_judged_at_its_events_too() {
        // `1.0..` with no release list: the flaw introduced at 1.5 lies inside, so affected.
        let rules = pack(WIDGET);
        let copies = rules.classify(&[entry("x/widget/Core.class", b"\xca\xfe\xba\xbe")]);
        assert_eq!(copies.len(), 1);
        assert_eq!(copies[0].version_range.as_deref(), Some("1.0.."));
        assert_eq!(copies[0].cves[0].status, CveStatus::Affected);
    }

    #[test]
    fn the_deepest_pom_decides_between_a_component_and_its_variant() {
        let rules = pack(WIDGET);
        let copies = rules.classify(&[
            entry("x/widget/Core.class", b""),
            entry("META-INF/maven/x/widget/pom.properties", b"version=1.2\n"),
            entry("lib/x/widget/Core.class", b""),
            entry("lib/META-INF/maven/y/widget-fork/pom.properties", b"version=9.1\n"),
        ]);
        let names: Vec<(&str, Option<&str>)> =
            copies.iter().map(|c| (c.component.name(), c.version.as_deref())).collect();
        // Ordered by copy root: `lib/x/widget/` first.
        assert_eq!(names, [("widget-fork", Some("9.1")), ("widget", Some("1.2"))]);
        assert_eq!(copies[0].cves[0].status, CveStatus::NotAffected);
    }

    #[test]
    fn hostile_metadata_versions_are_reported_never_parsed() {
        let rules = pack(WIDGET);
        let long = format!("version=1{}\n", "-1".repeat(1_000_000));
        let copies = rules.classify(&[
            entry("x/widget/Core.class", b""),
            entry("META-INF/maven/x/widget/pom.properties", long.as_bytes()),
        ]);
        assert_eq!(copies[0].version, None);
        assert!(copies[0].evidence.iter().all(|e| e.len() < 200), "{:?}", copies[0].evidence);
    }

    #[test]
    fn many_copies_and_poms_in_one_container_classify_in_linear_time() {
        // 20,000 relocated copies and 20,000 pom.properties: comparing each with each would be
        // 4 * 10^8 string comparisons (minutes); the root index makes it a few lookups per copy.
        let rules = crate::builtin();
        let mut entries = Vec::new();
        for i in 0..20_000 {
            entries
                .push(entry(&format!("d{i}/lookup/JndiLookup.class"), b"\xca\xfe\xba\xbejavax/naming/InitialContext"));
            entries.push(entry(
                &format!("p{i}/META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties"),
                b"version=2.14.1\n",
            ));
        }
        let copies = rules.classify(&entries);
        assert_eq!(copies.len(), 40_000, "20,000 class copies and 20,000 declared ones");
    }

    #[test]
    fn relocated_class_roots() {
        let rules = crate::builtin();
        let root = |name: &str, component: &str, id: &str| {
            let ci = rules.components.iter().position(|c| c.identity.name.name() == component)?;
            let ki = rules.components[ci].classes.iter().position(|k| k.id == id)?;
            rules.match_root(class_stem(name)?, ci, ki).map(str::to_string)
        };
        assert_eq!(
            root("org/apache/logging/log4j/core/lookup/JndiLookup.class", "log4j-core", "JndiLookup").as_deref(),
            Some("org/apache/logging/log4j/core/")
        );
        assert_eq!(
            root("clt/shaded/l/lookup/JndiLookup.class", "log4j-core", "JndiLookup").as_deref(),
            Some("clt/shaded/l/")
        );
        assert_eq!(root("x/y/JndiLookup.esclazz", "log4j-core", "JndiLookup").as_deref(), Some("x/y/"));
        assert_eq!(root("JndiLookup.class", "log4j-core", "JndiLookup").as_deref(), Some(""));
        assert_eq!(
            root("a$1/b2/org/apache/log4j/Category.class", "log4j", "Category").as_deref(),
            Some("a$1/b2/org/apache/log4j/")
        );
        assert_eq!(
            root("org/apache/log4j/chainsaw/Main.class", "log4j", "Chainsaw").as_deref(),
            Some("org/apache/log4j/")
        );
        assert_eq!(root("com/foo/Category.class", "log4j", "Category"), None, "a Category outside a log4j package");
        assert_eq!(
            root("x/mycollections4/functors/InvokerTransformer.class", "commons-collections", "InvokerTransformer"),
            None
        );
    }
}
