//! The pack file format (TOML, `schema = 1`) and its validation.
//!
//! The types here are the file as written; [`parse`] reads a pack and checks every reference and
//! version in it, so that a pack that parses can always be compiled into [`crate::Rules`]. Every
//! error names the file, the line and what is wrong. `docs/packs.md` documents the format with
//! a worked example; `packs/schema.json` is its JSON Schema for editors.

use std::collections::HashSet;
use std::fmt;

use quell_model::maven::{MavenVersion, VersionRange};
use serde::Deserialize;
use toml::Spanned;

/// The only pack schema this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Largest pack file read, in bytes: a pack is a few kilobytes of rules and a fingerprint table.
pub const MAX_PACK_BYTES: usize = 4 << 20;

/// A detection pack: one or more components and the vulnerabilities of each.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// The format version; must be [`SCHEMA_VERSION`].
    pub schema: Spanned<u32>,
    /// Short identifier used by `--only` (`log4j`, `commons-text`).
    pub name: Spanned<String>,
    /// One line for people.
    pub title: String,
    /// The pack's own revision (a date or a number), printed by `quell rules list`.
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(rename = "component", default)]
    pub components: Vec<Spanned<ComponentSpec>>,
    #[serde(rename = "vulnerability", default)]
    pub vulnerabilities: Vec<Spanned<VulnerabilitySpec>>,
    /// Class hashes per release, as `quell rules build` writes them.
    #[serde(rename = "fingerprint", default)]
    pub fingerprints: Vec<Spanned<FingerprintSpec>>,
    /// The releases each component's fingerprints were computed from.
    #[serde(rename = "fingerprint_source", default)]
    pub fingerprint_sources: Vec<Spanned<FingerprintSourceSpec>>,
}

/// One library: how copies are recognised, grouped and dated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    /// The component name in findings (`log4j-core`).
    pub name: String,
    /// Package URL without version (`pkg:maven/org.apache.logging.log4j/log4j-core`).
    pub purl: String,
    /// The package directory a copy is grouped by (`org/apache/logging/log4j/core/`); class paths
    /// are relative to it. Copies relocated under any prefix keep the part below the root.
    pub root: String,
    /// Maven coordinates (`group:artifact`, artifact may be `*`) whose pom.properties declare
    /// this component.
    #[serde(default)]
    pub pom: Vec<String>,
    /// Manifest `Implementation-Title`s (case-insensitive) that declare it.
    #[serde(default)]
    pub manifest_titles: Vec<String>,
    /// Every known release, any order: the candidates a range is judged over.
    #[serde(default)]
    pub releases: Vec<Spanned<String>>,
    /// The range when no version rule matches (class evidence proves a copy, nothing more).
    pub unknown_range: Spanned<String>,
    /// What to upgrade to, in a few words (`2.17.1 (Java 8+), 2.12.4 (Java 7) or 2.3.2 (Java 6)`),
    /// for `quell fix` records. Defaults to the remedy of the vulnerability.
    #[serde(default)]
    pub upgrade_to: Option<String>,
    /// Report a copy declared by pom.properties alone, with no class found.
    #[serde(default)]
    pub declared_copies: bool,
    /// The range of a declared copy whose pom version is unreadable.
    #[serde(default)]
    pub declared_range: Option<Spanned<String>>,
    /// Coordinates whose pom.properties above a copy mean it is *not* this component (bridges
    /// that re-implement its API), unless its own pom is there too.
    #[serde(default)]
    pub not_when_declared: Vec<String>,
    #[serde(rename = "class", default)]
    pub classes: Vec<Spanned<ClassSpec>>,
    #[serde(rename = "proof", default)]
    pub proofs: Vec<Spanned<ProofSpec>>,
    #[serde(rename = "version", default)]
    pub versions: Vec<Spanned<VersionRuleSpec>>,
    #[serde(rename = "mitigation", default)]
    pub mitigations: Vec<Spanned<MitigationSpec>>,
    #[serde(rename = "variant", default)]
    pub variants: Vec<Spanned<VariantSpec>>,
}

/// A class file that serves as evidence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassSpec {
    /// The name rules use (`JndiManager`).
    pub id: String,
    /// Path below the copy root without extension (`net/JndiManager`); a last segment `*` means
    /// any class of that package.
    pub path: String,
    /// The suffix an entry must end with to be this class, when it must say more than `path`
    /// (`log4j/Category` for a class right at the root). Defaults to `path`.
    #[serde(default, rename = "match")]
    pub match_suffix: Option<String>,
    /// Matched by class name alone: relocation may have flattened its package. When the
    /// directories of `path` are not there, the class's own directory is the copy root.
    #[serde(default)]
    pub anywhere: bool,
    /// Constant-pool strings the rules test for (`JndiManager:log4j2.enableJndi`). A class with
    /// strings or fingerprints is read; others count by presence.
    #[serde(default)]
    pub strings: Vec<String>,
}

/// One way to prove a copy: every condition holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofSpec {
    pub when: Vec<String>,
    /// Used only when no other proof holds (and only then listed as evidence).
    #[serde(default)]
    pub fallback: bool,
}

/// A version rule: the first rule whose conditions hold decides the range.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionRuleSpec {
    pub when: Vec<String>,
    /// `2.15.0`, `2.1..2.14.1`, `2.17.1..`.
    pub range: String,
    /// Releases inside `range` that the conditions rule out (backport lines).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// An evidence note added when this rule decides (`marker:log4j2.enableJndiJdbc`).
    #[serde(default)]
    pub note: Option<String>,
}

/// The SHA-256 of a class file as released, and the releases that ship exactly those bytes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FingerprintSpec {
    pub component: String,
    pub class: String,
    pub sha256: String,
    pub versions: Vec<String>,
}

/// The releases a component's fingerprint table was computed from. A class whose hash matches
/// pins the version among the releases with those bytes *and* the known releases the table was
/// not built from (which might have the same bytes): only a table built from every release of a
/// range pins an exact version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FingerprintSourceSpec {
    pub component: String,
    pub releases: Vec<String>,
}

/// A class whose absence neutralises CVEs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MitigationSpec {
    /// Reported in the finding's `mitigations` (`jndi_lookup_removed`).
    pub name: String,
    /// The class id whose absence is the mitigation.
    pub absent: String,
    pub cves: Vec<String>,
    /// Whether `quell fix` may remove the class.
    #[serde(default)]
    pub removable: bool,
}

/// The same classes under another name, told apart by its metadata (reload4j for Log4j 1.x).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    pub name: String,
    pub purl: String,
    pub pom: Vec<String>,
    #[serde(default)]
    pub manifest_titles: Vec<String>,
    pub unknown_range: String,
}

/// A vulnerability and the components it affects.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VulnerabilitySpec {
    /// `CVE-2021-44228` or `GHSA-...`.
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// A short PascalCase name (SARIF `rule.name`).
    pub name: String,
    pub title: String,
    pub description: String,
    pub remedy: String,
    /// CVSS v3 base score.
    pub cvss: f32,
    #[serde(default)]
    pub cvss_vector: Option<String>,
    #[serde(default)]
    pub cwe: Vec<u32>,
    /// Conditions outside the jar that exploitation needs, printed with the finding.
    #[serde(default)]
    pub preconditions: Vec<String>,
    /// The vendor's advisory.
    #[serde(default)]
    pub advisory_url: Option<String>,
    #[serde(default)]
    pub advisory_title: Option<String>,
    pub affects: Vec<Spanned<AffectsSpec>>,
}

/// OSV-style affected ranges of one component.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffectsSpec {
    /// A component or variant name of this pack.
    pub component: String,
    /// `introduced`/`fixed`/`last_affected` events in Maven order; empty: never affected.
    #[serde(default)]
    pub events: Vec<EventSpec>,
    /// Affected only when this class id is in the copy.
    #[serde(default)]
    pub requires_class: Option<String>,
}

/// One OSV event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    #[serde(default)]
    pub introduced: Option<String>,
    #[serde(default)]
    pub fixed: Option<String>,
    #[serde(default)]
    pub last_affected: Option<String>,
}

/// A pack that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PackError {
    pub file: String,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// A condition of a proof or version rule: `Id`, `!Id`, `Id:string`, `!Id:string`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub negated: bool,
    pub class: String,
    pub string: Option<String>,
}

impl Condition {
    pub fn parse(text: &str) -> Condition {
        let (negated, rest) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (class, string) = match rest.split_once(':') {
            Some((c, s)) => (c.to_string(), Some(s.to_string())),
            None => (rest.to_string(), None),
        };
        Condition { negated, class, string }
    }
}

/// Reads and validates one pack. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Pack, Vec<PackError>> {
    let err = |line: usize, message: String| PackError { file: file.to_string(), line, message };
    if text.len() > MAX_PACK_BYTES {
        return Err(vec![err(0, format!("{} bytes, more than the {MAX_PACK_BYTES} a pack may have", text.len()))]);
    }
    let pack: Pack = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| line_of(text, s.start));
        vec![err(line, e.message().trim().to_string())]
    })?;
    let mut errors = Vec::new();
    let at = |span: std::ops::Range<usize>| line_of(text, span.start);
    if *pack.schema.get_ref() != SCHEMA_VERSION {
        errors.push(err(
            at(pack.schema.span()),
            format!("schema {} is not read by this quell (it reads schema {SCHEMA_VERSION})", pack.schema.get_ref()),
        ));
    }
    let name = pack.name.get_ref();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
        errors.push(err(at(pack.name.span()), format!("pack name {name:?}: use letters, digits, '-', '_' or '.'")));
    }
    if pack.components.is_empty() {
        errors.push(err(0, "no [[component]]: a pack describes at least one component".into()));
    }
    let mut component_names = HashSet::new();
    for component in &pack.components {
        let line = at(component.span());
        let c = component.get_ref();
        if !component_names.insert(c.name.clone()) {
            errors.push(err(line, format!("component {:?} is described twice", c.name)));
        }
        for variant in &c.variants {
            if !component_names.insert(variant.get_ref().name.clone()) {
                errors.push(err(at(variant.span()), format!("variant {:?} reuses a name", variant.get_ref().name)));
            }
        }
        validate_component(c, line, &at, &err, &mut errors);
    }
    let mut ids = HashSet::new();
    for vuln in &pack.vulnerabilities {
        let line = at(vuln.span());
        let v = vuln.get_ref();
        if !ids.insert(v.id.clone()) {
            errors.push(err(line, format!("vulnerability {} is described twice", v.id)));
        }
        if v.id.trim().is_empty() || v.id.chars().any(char::is_whitespace) {
            errors.push(err(line, format!("vulnerability id {:?} must be one word (CVE-YYYY-N or GHSA-...)", v.id)));
        }
        if !(0.0..=10.0).contains(&v.cvss) {
            errors.push(err(line, format!("{}: cvss {} is outside 0.0..10.0", v.id, v.cvss)));
        }
        if v.affects.is_empty() {
            errors.push(err(line, format!("{}: no [[vulnerability.affects]]", v.id)));
        }
        for affects in &v.affects {
            let line = at(affects.span());
            let a = affects.get_ref();
            let owner = pack.components.iter().map(|c| c.get_ref()).find(|c| {
                c.name == a.component || c.variants.iter().any(|variant| variant.get_ref().name == a.component)
            });
            let Some(owner) = owner else {
                errors.push(err(line, format!("{}: affects unknown component {:?}", v.id, a.component)));
                continue;
            };
            if let Some(class) = &a.requires_class
                && !owner.classes.iter().any(|c| &c.get_ref().id == class)
            {
                errors.push(err(line, format!("{}: requires_class {class:?} is no class of {}", v.id, owner.name)));
            }
            for event in &a.events {
                let set =
                    [&event.introduced, &event.fixed, &event.last_affected].iter().filter(|e| e.is_some()).count();
                if set != 1 {
                    errors.push(err(
                        line,
                        format!("{}: each event has exactly one of introduced, fixed, last_affected", v.id),
                    ));
                }
                for version in [&event.introduced, &event.fixed, &event.last_affected].into_iter().flatten() {
                    if version.parse::<MavenVersion>().is_err() {
                        errors.push(err(line, format!("{}: event version {version:?} is not a version", v.id)));
                    }
                }
            }
        }
    }
    for fp in &pack.fingerprints {
        let l = at(fp.span());
        let f = fp.get_ref();
        match pack.components.iter().map(|c| c.get_ref()).find(|c| c.name == f.component) {
            None => errors.push(err(l, format!("fingerprint of unknown component {:?}", f.component))),
            Some(c) => {
                if !c.classes.iter().any(|k| k.get_ref().id == f.class) {
                    errors.push(err(l, format!("{}: fingerprint of unknown class {:?}", c.name, f.class)));
                }
            }
        }
        if f.sha256.len() != 64 || !f.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            errors.push(err(l, format!("{}: sha256 {:?} is not 64 hex digits", f.component, f.sha256)));
        }
        if f.versions.is_empty() || f.versions.iter().any(|v| v.parse::<MavenVersion>().is_err()) {
            errors.push(err(l, format!("{}: fingerprint versions must be versions", f.component)));
        }
    }
    for source in &pack.fingerprint_sources {
        let f = source.get_ref();
        if !pack.components.iter().any(|c| c.get_ref().name == f.component) {
            errors.push(err(at(source.span()), format!("fingerprint_source of unknown component {:?}", f.component)));
        }
    }
    for component in &pack.components {
        for mitigation in &component.get_ref().mitigations {
            for cve in &mitigation.get_ref().cves {
                if !ids.contains(cve) {
                    errors.push(err(
                        at(mitigation.span()),
                        format!(
                            "mitigation {:?} names {cve}, which no [[vulnerability]] describes",
                            mitigation.get_ref().name
                        ),
                    ));
                }
            }
        }
    }
    if errors.is_empty() { Ok(pack) } else { Err(errors) }
}

fn validate_component(
    c: &ComponentSpec,
    line: usize,
    at: &dyn Fn(std::ops::Range<usize>) -> usize,
    err: &dyn Fn(usize, String) -> PackError,
    errors: &mut Vec<PackError>,
) {
    if !c.purl.starts_with("pkg:") || c.purl.contains('@') {
        errors.push(err(line, format!("{}: purl {:?} must be a package URL without a version", c.name, c.purl)));
    }
    if !c.root.ends_with('/') || c.root.starts_with('/') {
        errors.push(err(line, format!("{}: root {:?} must be a package directory ending in '/'", c.name, c.root)));
    }
    for coords in c.pom.iter().chain(&c.not_when_declared) {
        if coords.split(':').count() != 2 || coords.split(':').any(str::is_empty) {
            errors.push(err(line, format!("{}: {coords:?} is not group:artifact", c.name)));
        }
    }
    for release in &c.releases {
        if release.get_ref().parse::<MavenVersion>().is_err() {
            errors
                .push(err(at(release.span()), format!("{}: release {:?} is not a version", c.name, release.get_ref())));
        }
    }
    let range_ok = |text: &str| text.parse::<VersionRange>().is_ok();
    if !range_ok(c.unknown_range.get_ref()) {
        errors.push(err(
            at(c.unknown_range.span()),
            format!("{}: {:?} is not a range", c.name, c.unknown_range.get_ref()),
        ));
    }
    if let Some(r) = &c.declared_range
        && !range_ok(r.get_ref())
    {
        errors.push(err(at(r.span()), format!("{}: {:?} is not a range", c.name, r.get_ref())));
    }
    let mut class_ids = HashSet::new();
    for class in &c.classes {
        let l = at(class.span());
        let k = class.get_ref();
        if !class_ids.insert(k.id.as_str()) {
            errors.push(err(l, format!("{}: class id {:?} is used twice", c.name, k.id)));
        }
        if k.path.is_empty() || k.path.starts_with('/') || k.path.ends_with('/') || k.path.ends_with(".class") {
            errors.push(err(
                l,
                format!("{}: class path {:?}: write it below the root, without extension", c.name, k.path),
            ));
        }
        if let Some(m) = &k.match_suffix
            && !m.ends_with(&k.path)
        {
            errors.push(err(l, format!("{}: match {m:?} must end with the path {:?}", c.name, k.path)));
        }
    }
    let check_conditions = |conditions: &[String], l: usize, errors: &mut Vec<PackError>| {
        for text in conditions {
            let cond = Condition::parse(text);
            match c.classes.iter().map(|k| k.get_ref()).find(|k| k.id == cond.class) {
                None => errors.push(err(l, format!("{}: condition {text:?} names no class of this component", c.name))),
                Some(k) => {
                    if let Some(s) = &cond.string
                        && !k.strings.contains(s)
                    {
                        errors.push(err(
                            l,
                            format!("{}: condition {text:?}: add {s:?} to the strings of class {}", c.name, k.id),
                        ));
                    }
                }
            }
        }
    };
    if c.proofs.is_empty() {
        errors.push(err(line, format!("{}: no [[component.proof]]: say which classes make a copy", c.name)));
    }
    for proof in &c.proofs {
        let p = proof.get_ref();
        if p.when.is_empty() || p.when.iter().all(|w| w.starts_with('!')) {
            errors.push(err(at(proof.span()), format!("{}: a proof needs a class that is present", c.name)));
        }
        check_conditions(&p.when, at(proof.span()), errors);
    }
    for rule in &c.versions {
        let l = at(rule.span());
        let r = rule.get_ref();
        check_conditions(&r.when, l, errors);
        for range in std::iter::once(&r.range).chain(&r.exclude) {
            if !range_ok(range) {
                errors.push(err(l, format!("{}: {range:?} is not a range", c.name)));
            }
        }
    }
    for mitigation in &c.mitigations {
        let m = mitigation.get_ref();
        if !class_ids.contains(m.absent.as_str()) {
            errors
                .push(err(at(mitigation.span()), format!("{}: mitigation names unknown class {:?}", c.name, m.absent)));
        }
    }
    for variant in &c.variants {
        let v = variant.get_ref();
        if !range_ok(&v.unknown_range) {
            errors.push(err(at(variant.span()), format!("{}: {:?} is not a range", v.name, v.unknown_range)));
        }
    }
}
