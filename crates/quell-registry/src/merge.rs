//! Merging entries of the same supplier/product (from one list's duplicates, or from two lists).

use std::collections::BTreeMap;

use crate::model::{Conflict, Entry, Status, VulnStatus};
use crate::ncsc::dedup;

/// How strongly a status is kept when two sources disagree: the higher wins.
///
/// The rule follows how knowledge about a product progresses and errs on the side of caution:
/// `under_investigation` (no conclusion yet) < `not_vulnerable` < `vulnerable` (a source saying a
/// product is vulnerable outweighs one saying it is not) < `workaround` (mitigation published after
/// the vulnerability was known) < `fix` (a released fixed version, the most advanced state).
fn precedence(status: Status) -> u8 {
    match status {
        Status::UnderInvestigation => 0,
        Status::NotVulnerable => 1,
        Status::Vulnerable => 2,
        Status::Workaround => 3,
        Status::Fix => 4,
    }
}

/// Merges entries with the same [`crate::entry_key`] into one, in key order.
///
/// Within a group, in input order (pass the list you trust for names first):
/// - supplier and product spelling, purl and CPE: the first that has one;
/// - per CVE: one source only → kept as is; the same status → versions united (order kept, no
///   duplicates); different statuses → the one of higher precedence is kept
///   (`fix` > `workaround` > `vulnerable` > `not_vulnerable` > `under_investigation`; see
///   `precedence`) and the other is recorded in [`Entry::conflicts`] with the lists it came from;
/// - notes: the distinct non-empty notes, one per line; links: united; sources: all, in order;
///   `last_updated`: the latest; conflicts already recorded are kept, each once.
pub fn merge(entries: Vec<Entry>) -> Vec<Entry> {
    let mut groups: BTreeMap<(String, String), Vec<Entry>> = BTreeMap::new();
    for entry in entries {
        groups.entry(entry.key()).or_default().push(entry);
    }
    groups.into_values().filter_map(merge_group).collect()
}

fn merge_group(group: Vec<Entry>) -> Option<Entry> {
    let mut iter = group.into_iter();
    let mut merged = iter.next()?;
    for entry in iter {
        merge_into(&mut merged, entry);
    }
    Some(merged)
}

fn lists_of(entry: &Entry) -> Vec<String> {
    dedup(entry.sources.iter().map(|s| s.list.clone()).collect())
}

fn merge_into(merged: &mut Entry, entry: Entry) {
    if merged.purl.is_none() {
        merged.purl = entry.purl.clone();
    }
    if merged.cpe.is_none() {
        merged.cpe = entry.cpe.clone();
    }
    let other_lists = lists_of(&entry);
    let merged_lists = lists_of(merged);
    for (cve, incoming) in entry.statuses {
        match merged.statuses.get_mut(&cve) {
            None => {
                merged.statuses.insert(cve, incoming);
            }
            Some(current) if current.status == incoming.status => unite_versions(current, incoming),
            Some(current) => {
                let (kept, other, lists) = if precedence(incoming.status) > precedence(current.status) {
                    (incoming, current.clone(), merged_lists.clone())
                } else {
                    (current.clone(), incoming, other_lists.clone())
                };
                *current = kept.clone();
                let conflict = Conflict { cve, kept, other, other_lists: lists };
                if !merged.conflicts.contains(&conflict) {
                    merged.conflicts.push(conflict);
                }
            }
        }
    }
    let note = entry.notes.trim();
    if !note.is_empty() && !merged.notes.split('\n').any(|line| line.trim() == note) && merged.notes.trim() != note {
        if !merged.notes.is_empty() {
            merged.notes.push('\n');
        }
        merged.notes.push_str(note);
    }
    for link in entry.links {
        if !merged.links.contains(&link) {
            merged.links.push(link);
        }
    }
    merged.sources.extend(entry.sources);
    merged.last_updated = match (merged.last_updated.take(), entry.last_updated) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    for conflict in entry.conflicts {
        if !merged.conflicts.contains(&conflict) {
            merged.conflicts.push(conflict);
        }
    }
}

fn unite_versions(current: &mut VulnStatus, incoming: VulnStatus) {
    for (into, from) in [
        (&mut current.affected_versions, incoming.affected_versions),
        (&mut current.fixed_versions, incoming.fixed_versions),
        (&mut current.unaffected_versions, incoming.unaffected_versions),
    ] {
        for version in from {
            if !into.contains(&version) {
                into.push(version);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceRef;

    fn entry(supplier: &str, product: &str, list: &str, cve: &str, status: Status) -> Entry {
        let mut e = Entry::new(supplier, product);
        e.statuses.insert(cve.to_string(), VulnStatus::new(status));
        e.sources.push(SourceRef { list: list.into(), file: format!("{list}.txt"), line: 1 });
        e.links.push(format!("https://{list}.example/"));
        e
    }

    #[test]
    fn conflicts_follow_the_precedence_and_are_kept() {
        let a = entry("Acme Inc.", "Widget", "ncsc-nl", "CVE-2021-44228", Status::NotVulnerable);
        let b = entry("ACME", "widget", "cisa", "CVE-2021-44228", Status::Vulnerable);
        let merged = merge(vec![a, b]);
        assert_eq!(merged.len(), 1);
        let m = &merged[0];
        assert_eq!(m.supplier, "Acme Inc.");
        assert_eq!(m.statuses["CVE-2021-44228"].status, Status::Vulnerable);
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].other.status, Status::NotVulnerable);
        assert_eq!(m.conflicts[0].other_lists, ["ncsc-nl"]);
        assert_eq!(m.links.len(), 2);
        assert_eq!(m.sources.len(), 2);
    }
}
