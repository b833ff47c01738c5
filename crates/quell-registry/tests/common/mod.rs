//! Loading the full Dutch and US lists from `../shared/corpus/registry/`.
#![allow(dead_code)]

use std::path::PathBuf;

use quell_registry::{Entry, Format, ImportOutcome, Problem, import};

pub fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/registry")
}

/// The list's data files, sorted by name (the Dutch list's README.md is not one).
pub fn files(dir: &str, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus().join(dir))
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix)))
        .collect();
    files.sort();
    files
}

pub fn import_all(dir: &str, prefix: &str, format: Format) -> ImportOutcome {
    let mut outcome = ImportOutcome::default();
    for path in files(dir, prefix) {
        let name = path.file_name().and_then(|n| n.to_str()).expect("file name").to_string();
        let one = import(format, &name, &std::fs::read(&path).expect("read corpus file"));
        outcome.entries.extend(one.entries);
        outcome.problems.extend(one.problems);
    }
    outcome
}

pub fn dutch() -> ImportOutcome {
    import_all("ncsc-nl", "software_list_", Format::NcscMarkdown)
}

pub fn us() -> ImportOutcome {
    import_all("cisa", "cisagov_", Format::CisaYaml)
}

/// An entry without what a format cannot carry (sources, conflicts, last_updated), for comparisons.
pub fn comparable(entry: &Entry) -> Entry {
    let mut e = entry.clone();
    e.sources.clear();
    e.conflicts.clear();
    e.last_updated = None;
    e
}

pub fn problems_of<'a>(problems: &'a [Problem], file: &str, line: u64) -> Vec<&'a Problem> {
    problems.iter().filter(|p| p.file == file && p.line == line).collect()
}
