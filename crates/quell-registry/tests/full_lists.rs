//! The full Dutch list (27 Markdown files, 5,763 rows) and the full US list (27 YAML files, 4,472
//! items): counts per status per CVE, problems by kind, named rows, and the merge of the two lists.
//!
//! The pinned numbers were checked by an independent method: `tests/independent_counts.py` (regexes
//! over the Markdown and PyYAML over the YAML, written apart from the Rust importer from the rules in
//! the crate docs) prints the same counts:
//! `python3 crates/quell-registry/tests/independent_counts.py ../shared/corpus/registry`.
//! The design notes' own figures agree in size: "400 rows with no status at all" (403 here; the
//! notes round), 5,763 rows, 4,472 US entries.

mod common;

use std::collections::BTreeMap;

use quell_registry::{ProblemKind, Status, count_problems, count_statuses, entry_key, merge};

use common::{dutch, problems_of, us};

type Counts = BTreeMap<String, BTreeMap<Status, usize>>;

fn expected(rows: &[(&str, [usize; 5])]) -> Counts {
    rows.iter()
        .map(|(cve, n)| {
            let per: BTreeMap<Status, usize> =
                Status::ALL.into_iter().zip(n.iter().copied()).filter(|(_, n)| *n > 0).collect();
            (cve.to_string(), per)
        })
        .collect()
}

#[test]
fn the_full_dutch_list() {
    let outcome = dutch();
    assert_eq!(outcome.entries.len(), 5763, "one entry per row");
    //                     vulnerable, fix, workaround, not_vulnerable, under_investigation
    let want = expected(&[
        ("CVE-2021-4104", [12, 6, 5, 3807, 9]),
        ("CVE-2021-44228", [511, 500, 525, 3658, 160]),
        ("CVE-2021-45046", [61, 207, 132, 3105, 8]),
        ("CVE-2021-45105", [134, 47, 31, 3048, 40]),
    ]);
    assert_eq!(count_statuses(&outcome.entries), want);
    let problems: BTreeMap<ProblemKind, usize> = [
        (ProblemKind::NonStandardStatus, 49),
        (ProblemKind::UnknownStatus, 5),
        (ProblemKind::FixWithoutVersion, 301),
        (ProblemKind::NoStatus, 403),
        (ProblemKind::MissingLink, 146),
        (ProblemKind::VersionWithoutStatus, 16),
    ]
    .into();
    assert_eq!(count_problems(&outcome.problems), problems);
    assert!(outcome.problems.iter().all(|p| p.line > 0 && p.file.starts_with("software_list_")));

    // Named rows: a mapped spelling, an unmappable one, a Fix without version, a relative link.
    let beckman = problems_of(&outcome.problems, "software_list_b.md", 174);
    assert_eq!(beckman.len(), 2, "{beckman:?}");
    assert!(beckman.iter().all(|p| p.kind == ProblemKind::NonStandardStatus && p.message.contains("\"Not Vuln\"")));
    let dell = problems_of(&outcome.problems, "software_list_d.md", 128);
    assert!(dell.iter().any(|p| p.message.contains("Fix/Workaround") && p.message.contains("workaround")));
    let dell_entry =
        outcome.entries.iter().find(|e| e.sources[0].file == "software_list_d.md" && e.sources[0].line == 128);
    let dell_entry = dell_entry.expect("the Dell row is an entry");
    assert_eq!(dell_entry.statuses["CVE-2021-44228"].status, Status::Workaround);
    assert_eq!(dell_entry.statuses["CVE-2021-44228"].affected_versions, ["Versions before 19.6"]);
    assert_eq!(dell_entry.statuses["CVE-2021-45105"].status, Status::Vulnerable);

    let siemens =
        outcome.entries.iter().find(|e| e.sources[0].file == "software_list_s.md" && e.sources[0].line == 156);
    let siemens = siemens.expect("the row with unknown statuses is still an entry");
    assert!(siemens.statuses.is_empty());
    assert!(siemens.notes.contains("Status CVE-2021-44228: x"), "{}", siemens.notes);
    assert_eq!(
        problems_of(&outcome.problems, "software_list_s.md", 156)
            .iter()
            .filter(|p| p.kind == ProblemKind::UnknownStatus)
            .count(),
        2
    );

    let abb = outcome.entries.iter().find(|e| e.supplier == "ABB" && e.product == "Remote Service").expect("ABB");
    assert_eq!(abb.statuses["CVE-2021-44228"].status, Status::Workaround, "Fix without a version");
    let kiteworks = outcome.entries.iter().find(|e| e.product == "Kiteworks").expect("Kiteworks");
    assert_eq!(kiteworks.statuses["CVE-2021-44228"].status, Status::Fix);
    assert_eq!(kiteworks.statuses["CVE-2021-44228"].fixed_versions, ["v7.6 release"]);
    assert!(kiteworks.statuses["CVE-2021-4104"].unaffected_versions.is_empty(), "the Version belongs to the Fix");

    let left = problems_of(&outcome.problems, "software_list_0-9.md", 11);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind, ProblemKind::MissingLink);
    assert!(left[0].message.contains("vendor-statements/2Bleftsparks.png"));

    // Entries that validate: every one with a link, a fixed version for fix, CVE ids.
    let invalid = outcome.entries.iter().filter(|e| e.validate().is_err()).count();
    assert_eq!(invalid, 146, "exactly the rows without a link");
}

#[test]
fn the_full_us_list() {
    let outcome = us();
    assert_eq!(outcome.entries.len(), 4472);
    let want = expected(&[
        ("CVE-2021-4104", [0, 0, 1, 59, 5]),
        ("CVE-2021-44228", [346, 430, 260, 2191, 9]),
        ("CVE-2021-45046", [2, 24, 2, 62, 5]),
        ("CVE-2021-45105", [2, 2, 2, 54, 4]),
    ]);
    assert_eq!(count_statuses(&outcome.entries), want);
    let problems: BTreeMap<ProblemKind, usize> = [
        (ProblemKind::MissingProduct, 273),
        (ProblemKind::NonStandardStatus, 104),
        (ProblemKind::FixWithoutVersion, 265),
        (ProblemKind::NoStatus, 1236),
        (ProblemKind::MissingLink, 56),
        (ProblemKind::Inconsistent, 24),
    ]
    .into();
    assert_eq!(count_problems(&outcome.problems), problems);
    assert!(outcome.problems.iter().all(|p| p.line > 0), "every item's line is found");

    // Lines point at the item: ABB Remote Service starts at line 67 of cisagov_A.yml.
    let abb = outcome.entries.iter().find(|e| e.supplier == "ABB" && e.product == "Remote Service").expect("ABB");
    assert_eq!((abb.sources[0].file.as_str(), abb.sources[0].line), ("cisagov_A.yml", 67));
    assert_eq!(abb.statuses["CVE-2021-44228"].status, Status::Workaround, "fixed_versions: [''] has no version");
    assert_eq!(abb.statuses.len(), 1, "the CVEs not investigated have no information");
    let flink = outcome.entries.iter().find(|e| e.supplier == "Apache" && e.product == "Flink").expect("Flink");
    assert_eq!(flink.statuses["CVE-2021-44228"].fixed_versions, ["1.15.0", "1.14.2", "1.13.5", "1.12.7", "1.11.6"]);
    let amd = problems_of(&outcome.problems, "cisagov_A.yml", 1846);
    assert_eq!(amd.len(), 1);
    assert_eq!(amd[0].kind, ProblemKind::NonStandardStatus);
    assert!(amd[0].message.contains("CVE-2021-4104: \"\" read as false"), "{}", amd[0].message);
}

#[test]
fn merging_the_two_lists() {
    let mut entries = dutch().entries;
    let us = us().entries;
    entries.extend(us);
    let merged = merge(entries);
    assert_eq!(merged.len(), 6564);
    let in_both = merged
        .iter()
        .filter(|e| e.sources.iter().any(|s| s.list == "ncsc-nl") && e.sources.iter().any(|s| s.list == "cisa"))
        .count();
    assert_eq!(in_both, 3458);
    let find = |supplier: &str, product: &str| {
        merged
            .iter()
            .find(|e| e.key() == entry_key(supplier, product))
            .unwrap_or_else(|| panic!("{supplier} {product}"))
    };

    // Same status in both: versions united, both sources kept.
    let flink = find("Apache", "Flink");
    let lists: Vec<(&str, &str, u64)> =
        flink.sources.iter().map(|s| (s.list.as_str(), s.file.as_str(), s.line)).collect();
    assert_eq!(lists, [("ncsc-nl", "software_list_a.md", 230), ("cisa", "cisagov_A.yml", 5933)]);
    assert_eq!(flink.statuses["CVE-2021-44228"].status, Status::Fix);
    assert_eq!(
        flink.statuses["CVE-2021-44228"].fixed_versions,
        ["1.15.0", "1.14.2", "1.13.5", "1.12.7", "1.11.6"],
        "the Dutch cell is split into versions, so the two lists agree"
    );
    assert!(flink.conflicts.is_empty());

    // Conflict: the Dutch list says Fix (in 1.15.1), the US list Not Affected; fix wins, the other is kept.
    let nifi = find("Apache", "NiFi");
    assert_eq!(nifi.statuses["CVE-2021-44228"].status, Status::Fix);
    assert_eq!(nifi.conflicts.len(), 1);
    assert_eq!(nifi.conflicts[0].cve, "CVE-2021-44228");
    assert_eq!(nifi.conflicts[0].other.status, Status::NotVulnerable);
    assert_eq!(nifi.conflicts[0].other_lists, ["cisa"]);
    assert!(nifi.notes.contains("Fixed in 1.15.1, 1.16.0"), "{}", nifi.notes);

    // Spelling differences: "VMware Horizon" (US) is "Horizon" (Dutch) by VMware.
    let horizon = find("VMware", "Horizon");
    assert_eq!(horizon.product, "Horizon", "the first list's spelling");
    assert!(horizon.sources.iter().any(|s| s.list == "cisa"), "{:?}", horizon.sources);
    assert_eq!(horizon.statuses["CVE-2021-44228"].status, Status::Fix);

    // Conflict resolved towards a fix with the version from the other list; a status only one list has is kept.
    let switches = find("Cisco", "Business 220 Series Smart Switches");
    assert_eq!(switches.statuses["CVE-2021-44228"].status, Status::Fix);
    assert_eq!(switches.statuses["CVE-2021-44228"].fixed_versions, ["12.1"]);
    assert_eq!(switches.conflicts[0].other.status, Status::NotVulnerable);
    assert_eq!(switches.statuses["CVE-2021-45046"].status, Status::NotVulnerable);

    // Entries only one list has keep one source.
    let only_one = merged.iter().filter(|e| e.sources.iter().all(|s| s.list == e.sources[0].list)).count();
    assert!(only_one > 0 && only_one < merged.len());
}
