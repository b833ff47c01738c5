//! Fixture builders shared by the scanner's tests. Every fixture is built from the real corpus
//! jars at test time; nothing but the corpus is read from outside the test.

#![allow(dead_code)]

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use quell_model::{Component, Cve, CveStatus, Finding, ScanRecord, ScanSummary};
use quell_scan::{ReportSink, ScanOptions};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

pub const CORPUS: &str = "../../../shared/corpus/jars";

pub fn corpus_jar(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("corpus jar {}: {e}", path.display()))
}

pub fn core_jar(version: &str) -> Vec<u8> {
    corpus_jar(&format!("log4j-core-{version}.jar"))
}

/// One entry of a zip to build: name, bytes, stored (true) or deflated.
pub struct Entry {
    pub name: String,
    pub bytes: Vec<u8>,
    pub stored: bool,
}

pub fn entry(name: &str, bytes: Vec<u8>) -> Entry {
    Entry { name: name.to_string(), bytes, stored: false }
}

pub fn stored(name: &str, bytes: Vec<u8>) -> Entry {
    Entry { name: name.to_string(), bytes, stored: true }
}

pub fn zip_of(entries: Vec<Entry>) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for e in entries {
        let method = if e.stored { CompressionMethod::Stored } else { CompressionMethod::Deflated };
        writer.start_file(e.name.as_str(), SimpleFileOptions::default().compression_method(method)).expect("start");
        writer.write_all(&e.bytes).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

/// Reads every entry of a zip, in order.
pub fn entries_of(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).expect("zip");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).expect("read");
            (file.name().expect("name").to_string(), bytes)
        })
        .filter(|(name, _)| !name.ends_with('/'))
        .collect()
}

/// Rebuilds a jar, mapping each entry name; `None` drops the entry.
pub fn rewrite(zip: &[u8], map: impl Fn(&str) -> Option<String>) -> Vec<u8> {
    zip_of(entries_of(zip).into_iter().filter_map(|(name, bytes)| map(&name).map(|n| entry(&n, bytes))).collect())
}

/// Rebuilds a jar, changing the bytes of every `.class` entry (as a relocating shade plugin or
/// another compiler does).
pub fn rewrite_classes(zip: &[u8], change: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    zip_of(
        entries_of(zip)
            .into_iter()
            .map(|(name, mut bytes)| {
                if name.ends_with(".class") {
                    change(&mut bytes);
                }
                entry(&name, bytes)
            })
            .collect(),
    )
}

/// Relocates log4j-core's classes to another package and strips all metadata.
pub fn shade(zip: &[u8], new_prefix: &str) -> Vec<u8> {
    rewrite(zip, |name| {
        if name.starts_with("META-INF/") {
            None
        } else {
            Some(name.replacen("org/apache/logging/log4j/core/", new_prefix, 1))
        }
    })
}

pub fn without_jndi_lookup(zip: &[u8]) -> Vec<u8> {
    rewrite(zip, |name| (!name.ends_with("core/lookup/JndiLookup.class")).then(|| name.to_string()))
}

pub fn tgz_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *bytes).expect("tar append");
    }
    builder.into_inner().expect("tar").finish().expect("gz")
}

#[derive(Default)]
pub struct Collect(pub Mutex<Vec<ScanRecord>>);

impl ReportSink for Collect {
    fn record(&self, record: ScanRecord) {
        self.0.lock().expect("lock").push(record);
    }
}

pub struct Outcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<(Vec<String>, String)>,
    pub summary: ScanSummary,
    /// Inventory components (`ScanOptions::inventory`), ordered by path chain.
    pub components: Vec<quell_model::InventoryComponent>,
}

pub fn scan_paths(paths: &[PathBuf], options: &ScanOptions) -> Outcome {
    let sink = Collect::default();
    let summary = quell_scan::scan(paths, options, &sink);
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut saw_summary = false;
    let mut components = Vec::new();
    for record in sink.0.into_inner().expect("lock") {
        match record {
            ScanRecord::Component(c) => components.push(c),
            ScanRecord::Finding(f) => findings.push(f),
            ScanRecord::Error(e) => errors.push((e.path, e.message)),
            ScanRecord::Summary(s) => {
                assert_eq!(s, summary);
                saw_summary = true;
            }
        }
    }
    assert!(saw_summary, "the summary record is always sent");
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    components.sort_by(|a, b| a.path.cmp(&b.path));
    Outcome { findings, errors, summary, components }
}

pub fn scan_one(path: &Path) -> Outcome {
    scan_paths(&[path.to_path_buf()], &ScanOptions::default())
}

/// Writes `bytes` to `dir/name` and scans that file.
pub fn scan_bytes(name: &str, bytes: &[u8]) -> (tempfile::TempDir, Outcome) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    let outcome = scan_one(&path);
    (dir, outcome)
}

pub fn statuses(finding: &Finding) -> Vec<CveStatus> {
    finding.cves.iter().map(|c| c.status).collect()
}

pub fn status(finding: &Finding, cve: Cve) -> CveStatus {
    finding.status(&cve).unwrap_or_else(|| panic!("{cve} missing in {finding:?}"))
}

pub fn only_core(outcome: &Outcome) -> &Finding {
    let core: Vec<_> = outcome.findings.iter().filter(|f| f.component == Component::Log4jCore).collect();
    assert_eq!(core.len(), 1, "exactly one log4j-core finding expected: {:#?}", outcome.findings);
    core[0]
}
