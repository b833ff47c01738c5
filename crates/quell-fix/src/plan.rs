//! The planner: which entries of which (nested) archives to remove.
//!
//! Each zip container is classified with the scanner's own classifier, from the same evidence
//! entries the scanner reads, so "affected" means exactly what `quell scan` says. For each copy
//! affected by CVE-2021-44228 or CVE-2021-45046, every entry the classifier recognises as that
//! copy's `JndiLookup` class (suffix match: relocated, shaded and `.esclazz`/`.classdata` copies
//! included; duplicate entries too) is marked for removal. Nested archives holding such a copy are
//! kept in memory so that they can be rewritten, innermost first.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek, Write};

use quell_model::{Component, Confidence, Cve, CveStatus};
use quell_scan::NestedHint;
use quell_scan::classify::EvidenceEntry;

use crate::zipfile::{self, Edit, ZipLayout};
use crate::{FixError, MAX_DEPTH, MAX_EVIDENCE_BYTES, MAX_INFLATED_BYTES, MAX_NESTED_ARCHIVE_BYTES};

/// Signature files of a signed jar, directly under `META-INF/` (upper-cased extension).
pub const SIGNATURE_EXTENSIONS: &[&str] = &["SF", "RSA", "DSA", "EC"];

/// A copy the plan fixes.
#[derive(Debug, Clone)]
pub(crate) struct PlannedCopy {
    pub chain: Vec<String>,
    pub component: Component,
    pub version: Option<String>,
    pub version_range: Option<String>,
    pub removed: Vec<String>,
    pub mitigates: Vec<Cve>,
    pub needs_upgrade: Vec<Cve>,
}

/// The changes to one archive: entries removed, nested archives replaced.
#[derive(Debug)]
pub(crate) struct Node {
    removals: Vec<usize>,
    children: Vec<Child>,
}

#[derive(Debug)]
struct Child {
    index: usize,
    bytes: Vec<u8>,
    layout: ZipLayout,
    node: Node,
}

/// The plan for one file on disk.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub copies: Vec<PlannedCopy>,
    /// Signed archives that would change: (chain, signature file).
    pub signed: Vec<(Vec<String>, String)>,
    /// Signature files removed (with `strip_signatures`), as `chain!/name`.
    pub stripped: Vec<String>,
    /// Problems met while planning, with the chain where they happened.
    pub problems: Vec<(Vec<String>, String)>,
    pub root: Option<(ZipLayout, Node)>,
}

fn is_signature_file(name: &str) -> Option<bool> {
    let rest = name.strip_prefix("META-INF/")?;
    if rest.contains('/') {
        return None;
    }
    let ext = rest.rsplit_once('.')?.1.to_ascii_uppercase();
    SIGNATURE_EXTENSIONS.contains(&ext.as_str()).then_some(ext == "SF")
}

/// The copy root of a `JndiLookup` entry, as the classifier computes it: its directory, less a
/// final `lookup/` segment.
/// The CVEs that removing a component's removable classes neutralises, from its detection pack
/// (for log4j-core: CVE-2021-44228 and CVE-2021-45046, by removing `JndiLookup`).
pub(crate) fn removable_cves(component: &Component) -> Vec<Cve> {
    let rules = quell_packs::active();
    rules
        .component(component.name())
        .map(|info| info.removable.iter().flat_map(|(_, _, cves)| cves.iter().cloned()).collect())
        .unwrap_or_default()
}

/// Whether the scanner would call this copy affected by a CVE that removing its removable class
/// fixes.
pub(crate) fn removal_helps(component: &Component, cves: &[quell_model::CveVerdict]) -> bool {
    let removable = removable_cves(component);
    cves.iter().any(|c| removable.contains(&c.id) && c.status == CveStatus::Affected)
}

/// The affected CVEs of a copy that removing classes does not fix: only an upgrade does.
pub(crate) fn needing_upgrade(component: &Component, cves: &[quell_model::CveVerdict]) -> Vec<Cve> {
    let removable = removable_cves(component);
    cves.iter()
        .filter(|c| c.status == CveStatus::Affected && !removable.contains(&c.id))
        .map(|c| c.id.clone())
        .collect()
}

/// What to upgrade a component to, from its pack (else the first affected CVE's remedy).
pub(crate) fn upgrade_target(component: &Component, needs_upgrade: &[Cve]) -> Option<String> {
    if needs_upgrade.is_empty() {
        return None;
    }
    let rules = quell_packs::active();
    rules
        .component(component.name())
        .and_then(|info| info.upgrade_to.clone())
        .or_else(|| needs_upgrade.first().and_then(|cve| rules.vulnerability(cve)).map(|v| v.remedy.clone()))
}

struct Planner {
    strip_signatures: bool,
    inflated: u64,
    plan: Plan,
}

/// Plans the fix of one file: a zip archive, possibly with data prepended.
pub(crate) fn plan_file<R: Read + Seek>(source: &mut R, display: &str, strip_signatures: bool) -> Plan {
    let mut planner = Planner { strip_signatures, inflated: 0, plan: Plan::default() };
    let mut chain = vec![display.to_string()];
    match ZipLayout::read(source) {
        Ok(layout) => {
            if let Some(node) = planner.container(source, &layout, &mut chain, 0) {
                planner.plan.root = Some((layout, node));
            }
        }
        Err(e) => planner.plan.problems.push((chain, format!("not a zip archive quell can rewrite: {e}"))),
    }
    planner.plan
}

impl Planner {
    fn problem(&mut self, chain: &[String], message: String) {
        self.plan.problems.push((chain.to_vec(), message));
    }

    fn container<R: Read + Seek>(
        &mut self,
        r: &mut R,
        layout: &ZipLayout,
        chain: &mut Vec<String>,
        depth: usize,
    ) -> Option<Node> {
        let rules = quell_packs::active();
        let mut evidence = Vec::new();
        let mut class_entries: Vec<(usize, String)> = Vec::new();
        let mut signature_entries: Vec<(usize, String, bool)> = Vec::new();
        let mut children = Vec::new();
        for (index, entry) in layout.entries.iter().enumerate() {
            if entry.is_dir() {
                continue;
            }
            let name = entry.name_lossy();
            if let Some(is_sf) = is_signature_file(&name) {
                signature_entries.push((index, name.clone(), is_sf));
            }
            if let Some(interest) = rules.interest(&name) {
                if matches!(interest, quell_scan::classify::Interest::Class { .. }) {
                    class_entries.push((index, name.clone()));
                }
                let bytes = if interest.needs_bytes() {
                    match zipfile::read_entry(r, entry, MAX_EVIDENCE_BYTES) {
                        Ok(bytes) => Some(bytes),
                        Err(e) => {
                            chain.push(name.clone());
                            self.problem(chain, format!("cannot read evidence: {e}"));
                            chain.pop();
                            None
                        }
                    }
                } else {
                    None
                };
                evidence.push(EvidenceEntry { name, bytes });
                continue;
            }
            // The scanner's rule for names; the fixer rewrites zips only, so a tar or stream
            // archive is left as it is (the scanner reports what it holds).
            let candidate = match quell_scan::nested_hint(&name) {
                NestedHint::Zip => true,
                NestedHint::Stream | NestedHint::No => false,
                NestedHint::Sniff => zipfile::read_head(r, entry, 4).is_ok_and(|head| head.starts_with(b"PK\x03\x04")),
            };
            if !candidate {
                continue;
            }
            chain.push(name);
            if let Some(child) = self.nested(r, layout, index, chain, depth) {
                children.push(child);
            }
            chain.pop();
        }
        let mut removals = Vec::new();
        for copy in rules.classify(&evidence) {
            if copy.confidence != Confidence::Confirmed || !removal_helps(&copy.component, &copy.cves) {
                continue;
            }
            let component = copy.component.name();
            let mine: Vec<&(usize, String)> = class_entries
                .iter()
                .filter(|(_, n)| rules.removable_root(n, component).as_deref() == Some(copy.root.as_str()))
                .collect();
            if mine.is_empty() {
                self.problem(chain, format!("affected copy at {:?} has no removable class entry to remove", copy.root));
                continue;
            }
            removals.extend(mine.iter().map(|(i, _)| *i));
            let removable = removable_cves(&copy.component);
            self.plan.copies.push(PlannedCopy {
                chain: chain.clone(),
                component: copy.component.clone(),
                version: copy.version.clone(),
                version_range: copy.version_range.clone(),
                removed: mine.iter().map(|(_, n)| n.clone()).collect(),
                mitigates: copy
                    .cves
                    .iter()
                    .filter(|v| v.status == CveStatus::Affected && removable.contains(&v.id))
                    .map(|v| v.id.clone())
                    .collect(),
                needs_upgrade: needing_upgrade(&copy.component, &copy.cves),
            });
        }
        removals.sort_unstable();
        removals.dedup();
        if removals.is_empty() && children.is_empty() {
            return None;
        }
        if let Some((_, sf, _)) = signature_entries.iter().find(|(_, _, is_sf)| *is_sf) {
            if self.strip_signatures {
                for (index, name, _) in &signature_entries {
                    removals.push(*index);
                    let mut at = chain.clone();
                    at.push(name.clone());
                    self.plan.stripped.push(at.join("!/"));
                }
            } else {
                self.plan.signed.push((chain.clone(), sf.clone()));
            }
        }
        Some(Node { removals, children })
    }

    /// Opens a nested entry as a zip and plans it; `chain` ends with the entry's name.
    fn nested<R: Read + Seek>(
        &mut self,
        r: &mut R,
        layout: &ZipLayout,
        index: usize,
        chain: &mut Vec<String>,
        depth: usize,
    ) -> Option<Child> {
        if depth + 1 > MAX_DEPTH {
            self.problem(chain, format!("not opened: nested deeper than {MAX_DEPTH} archives"));
            return None;
        }
        let entry = layout.entries.get(index)?;
        let limit = MAX_NESTED_ARCHIVE_BYTES.min(MAX_INFLATED_BYTES.saturating_sub(self.inflated));
        let bytes = match zipfile::read_entry(r, entry, limit) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.problem(chain, format!("cannot open nested archive: {e}"));
                return None;
            }
        };
        self.inflated += bytes.len() as u64;
        let mut cursor = Cursor::new(bytes);
        let inner = match ZipLayout::read(&mut cursor) {
            Ok(inner) => inner,
            Err(e) => {
                self.problem(chain, format!("cannot open nested archive: {e}"));
                return None;
            }
        };
        let node = self.container(&mut cursor, &inner, chain, depth + 1)?;
        Some(Child { index, bytes: cursor.into_inner(), layout: inner, node })
    }
}

/// Writes an archive with its planned changes: nested archives first, then this one.
pub(crate) fn write_node<R: Read + Seek, W: Write>(
    r: &mut R,
    layout: &ZipLayout,
    node: &Node,
    out: &mut W,
) -> Result<u64, FixError> {
    let mut edits = BTreeMap::new();
    for &index in &node.removals {
        edits.insert(index, Edit::Remove);
    }
    for child in &node.children {
        let mut bytes = Vec::new();
        write_node(&mut Cursor::new(&child.bytes), &child.layout, &child.node, &mut bytes)?;
        edits.insert(child.index, Edit::Replace(bytes));
    }
    zipfile::rewrite(r, layout, &edits, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jndi_roots_match_the_classifier() {
        let rules = quell_packs::builtin();
        let jndi_root = |name: &str| rules.removable_root(name, "log4j-core").unwrap_or_else(|| "none".into());
        assert_eq!(
            jndi_root("org/apache/logging/log4j/core/lookup/JndiLookup.class"),
            "org/apache/logging/log4j/core/"
        );
        assert_eq!(jndi_root("clt/shaded/l/lookup/JndiLookup.class"), "clt/shaded/l/");
        assert_eq!(jndi_root("x/y/JndiLookup.esclazz"), "x/y/");
        assert_eq!(jndi_root("lookup/JndiLookup.class"), "");
        assert_eq!(jndi_root("JndiLookup.class"), "");
        assert_eq!(jndi_root("a/lookup/Interpolator.class"), "none");
        assert_eq!(rules.removable_root("org/apache/log4j/net/JMSAppender.class", "log4j"), None);
    }

    #[test]
    fn signature_files_are_recognised() {
        assert_eq!(is_signature_file("META-INF/APP.SF"), Some(true));
        assert_eq!(is_signature_file("META-INF/app.rsa"), Some(false));
        assert_eq!(is_signature_file("META-INF/MANIFEST.MF"), None);
        assert_eq!(is_signature_file("META-INF/x/APP.SF"), None);
        assert_eq!(is_signature_file("BOOT-INF/APP.SF"), None);
    }
}
