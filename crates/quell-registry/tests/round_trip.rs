//! Round trips: exporting a registry to the 9-column Markdown, the CSV release format and the JSON
//! release format, then importing it again, gives the same registry (same entries, statuses,
//! versions, notes and links; sources name the new file, as they should).

mod common;

use quell_registry::{Entry, Format, ImportOutcome, ProblemKind, Status, import, merge, to_csv, to_json, to_markdown};

use common::{comparable, dutch, us};

fn export(format: Format, entries: &[Entry]) -> Vec<u8> {
    match format {
        Format::NcscMarkdown => to_markdown(entries).into_bytes(),
        Format::NcscCsv => to_csv(entries).into_bytes(),
        Format::NcscJson => serde_json::to_vec(&to_json(entries)).expect("JSON"),
        Format::CisaYaml => unreachable!("no US-list export"),
    }
}

fn again(format: Format, entries: &[Entry]) -> ImportOutcome {
    import(format, "export", &export(format, entries))
}

fn same(a: &[Entry], b: &[Entry]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(comparable(x), comparable(y));
    }
}

/// Only the problems the data itself has (no status, no link) remain: the export is standard.
fn only_data_problems(outcome: &ImportOutcome) {
    for p in &outcome.problems {
        assert!(matches!(p.kind, ProblemKind::NoStatus | ProblemKind::MissingLink), "{p:?}");
    }
}

#[test]
fn the_dutch_list_row_by_row() {
    let original = dutch().entries;
    for format in [Format::NcscMarkdown, Format::NcscCsv, Format::NcscJson] {
        let back = again(format, &original);
        same(&original, &back.entries);
        only_data_problems(&back);
        assert_eq!(back.problems.iter().filter(|p| p.kind == ProblemKind::NoStatus).count(), 403, "{format}");
        // Sources name the new file and its line.
        if format == Format::NcscMarkdown {
            assert_eq!(back.entries[0].sources[0].line, 5, "title, blank, header, delimiter, then the rows");
        }
    }
}

#[test]
fn the_merged_dutch_registry() {
    let registry = merge(dutch().entries);
    assert_eq!(registry.len(), 5607);
    for format in [Format::NcscMarkdown, Format::NcscCsv, Format::NcscJson] {
        let back = merge(again(format, &registry).entries);
        same(&registry, &back);
    }
}

#[test]
fn the_merged_two_lists_keep_every_status_and_link() {
    let mut entries = dutch().entries;
    entries.extend(us().entries);
    let registry = merge(entries);
    for format in [Format::NcscMarkdown, Format::NcscCsv, Format::NcscJson] {
        let back = merge(again(format, &registry).entries);
        assert_eq!(back.len(), registry.len());
        let mut fix_with_affected = 0;
        for (x, y) in registry.iter().zip(&back) {
            let mut x = comparable(x);
            // The one thing a row cannot hold: the affected versions of a `fix` CVE (the US list
            // gives some); a Version cell next to Fix is the fixed version.
            for status in x.statuses.values_mut().filter(|s| s.status == Status::Fix) {
                if !status.affected_versions.is_empty() {
                    fix_with_affected += 1;
                    status.affected_versions.clear();
                }
            }
            assert_eq!(x, comparable(y));
        }
        // Pinned, so a change is seen.
        assert_eq!(fix_with_affected, 5, "{format}");
    }
}

#[test]
fn odd_text_survives() {
    let mut entry = Entry::new("Pipe | Supplier, \"Inc\"", "Prod <br> uct\\");
    entry.notes = "line one\nline | two, with \"quotes\" and 'apostrophes'".into();
    entry.links = vec!["https://example.com/a_(b)".into(), "https://example.com/q?x=1&y=2,3".into()];
    let mut fix = quell_registry::VulnStatus::new(Status::Fix);
    fix.fixed_versions = vec!["2.17.1".into(), "2.12.4 (Java 7)".into()];
    entry.statuses.insert("CVE-2021-44228".into(), fix);
    entry.statuses.insert("CVE-2021-44832".into(), quell_registry::VulnStatus::new(Status::UnderInvestigation));
    entry.purl = Some("pkg:maven/org.example/prod@1.0".into());
    let entries = vec![entry];
    for format in [Format::NcscMarkdown, Format::NcscCsv, Format::NcscJson] {
        let back = again(format, &entries);
        assert!(back.problems.is_empty(), "{format}: {:?}", back.problems);
        let mut want = comparable(&entries[0]);
        if format == Format::NcscMarkdown {
            want.purl = None; // the 9 columns have no purl
            want.product = "Prod \n uct\\".into(); // `<br>` in a cell is a line break
        }
        assert_eq!(comparable(&back.entries[0]), want, "{format}");
    }
}
