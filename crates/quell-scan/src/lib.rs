//! # quell-scan — find and classify every copy of a vulnerable Java library in a file tree
//!
//! Brief overview, in data-flow order:
//! - [`walk`] — visits the given files and directories in parallel, at most once each, with the
//!   walking policy of [`WalkOptions`] (no symlinks by default, pseudo and network file systems
//!   skipped, excludes).
//! - `archive` — opens each file and every archive nested in it (zip family, tar family,
//!   compressed streams), within the [`Limits`], and collects the entries that matter.
//! - [`classify`] — turns those entries into copies with the detection packs of `quell-packs`
//!   ([`ScanOptions::rules`]): version from class-file markers and hashes, refined by metadata,
//!   and per-CVE verdicts.
//! - [`ReportSink`] — receives [`quell_model::ScanRecord`]s; output formats are sinks.
//!
//! ```no_run
//! use quell_scan::{scan, ScanOptions, ReportSink};
//! use quell_model::ScanRecord;
//!
//! struct Print;
//! impl ReportSink for Print {
//!     fn record(&self, record: ScanRecord) {
//!         println!("{}", serde_json::to_string(&record).unwrap_or_default());
//!     }
//! }
//! let summary = scan(&["/srv".into()], &ScanOptions::default(), &Print);
//! println!("{} affected copies", summary.affected);
//! ```
//!
//! Invariants: the library never prints and never exits; every problem becomes a
//! [`quell_model::ScanError`] record and the scan goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use quell_packs::Rules;

use quell_model::{Finding, ScanError, ScanRecord};

mod archive;
pub use archive::{NestedHint, nested_hint};
pub mod classify;
pub mod hash_cache;
pub mod inventory;
pub mod limits;
mod seekbuf;
pub mod walk;

pub use limits::*;
pub use walk::{WalkOptions, scan};

/// Receives the records of a scan as they are produced, from several threads at once.
pub trait ReportSink: Sync {
    fn record(&self, record: ScanRecord);

    /// Called after each file on disk has been scanned, with its size: for progress displays.
    fn file_scanned(&self, _path: &std::path::Path, _bytes: u64) {}

    /// Called each time an archive (top-level or nested) is opened: for progress displays.
    fn archive_opened(&self) {}
}

/// Everything a scan needs besides the paths.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub limits: Limits,
    pub walk: WalkOptions,
    /// The detection packs to classify with (the built-in packs by default).
    pub rules: Arc<Rules>,
    /// Also report every Java archive (jar, war, ear, ... nested included) as a `component`
    /// record with its identity and SHA-1/SHA-256: `quell scan --inventory`.
    pub inventory: bool,
    /// Archive hashes from an earlier inventory scan, reused for unchanged files
    /// (`--hash-cache`); used only with `inventory`.
    pub hash_cache: Option<Arc<hash_cache::HashCache>>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            limits: Limits::default(),
            walk: WalkOptions::default(),
            rules: quell_packs::active(),
            inventory: false,
            hash_cache: None,
        }
    }
}

/// Scans one file whose bytes are in memory, as if it were a file on disk called `name`: every
/// archive nested in it is opened and classified under the given limits. Sends the records and
/// the summary to `sink` and returns the summary. The entry point for fuzzing and for callers
/// that already hold the bytes (an upload, a container layer).
pub fn scan_bytes(name: &str, bytes: &[u8], limits: &Limits, sink: &dyn ReportSink) -> quell_model::ScanSummary {
    scan_bytes_with(name, bytes, limits, &quell_packs::active(), sink)
}

/// [`scan_bytes`] with the given detection packs.
pub fn scan_bytes_with(
    name: &str,
    bytes: &[u8],
    limits: &Limits,
    rules: &Rules,
    sink: &dyn ReportSink,
) -> quell_model::ScanSummary {
    let started = std::time::Instant::now();
    let reporter = Reporter::new(sink);
    reporter.files.fetch_add(1, Ordering::Relaxed);
    reporter.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let scan = archive::FileScan::new(limits, rules, false, &reporter);
    if let Some(abort) = scan.scan_top(std::io::Cursor::new(bytes), name) {
        reporter.error(vec![name.to_string()], abort.0);
    }
    let summary = reporter.summary(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    sink.record(ScanRecord::Summary(summary.clone()));
    summary
}

/// Forwards records to the sink and keeps the counts of the summary.
pub(crate) struct Reporter<'a> {
    pub(crate) sink: &'a dyn ReportSink,
    pub(crate) files: AtomicU64,
    pub(crate) bytes: AtomicU64,
    archives: AtomicU64,
    findings: AtomicU64,
    affected: AtomicU64,
    components: AtomicU64,
    errors: AtomicU64,
    inflated_bytes: AtomicU64,
    /// Bytes of nested archives currently held in memory, all threads together.
    pub(crate) memory_in_use: AtomicU64,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(sink: &'a dyn ReportSink) -> Self {
        Reporter {
            sink,
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            archives: AtomicU64::new(0),
            findings: AtomicU64::new(0),
            affected: AtomicU64::new(0),
            components: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            inflated_bytes: AtomicU64::new(0),
            memory_in_use: AtomicU64::new(0),
        }
    }

    pub(crate) fn archive(&self) {
        self.archives.fetch_add(1, Ordering::Relaxed);
        self.sink.archive_opened();
    }

    /// Adds the bytes one top-level file needed inflated.
    pub(crate) fn inflated(&self, bytes: u64) {
        self.inflated_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn error(&self, path: Vec<String>, message: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.sink.record(ScanRecord::Error(ScanError { path, message }));
    }

    pub(crate) fn finding(&self, path: Vec<String>, copy: classify::ClassifiedCopy) {
        let finding = Finding {
            path,
            component: copy.component,
            purl: Some(copy.purl),
            version: copy.version,
            version_range: copy.version_range,
            confidence: copy.confidence,
            evidence: copy.evidence,
            mitigations: copy.mitigations,
            cves: copy.cves,
        };
        self.findings.fetch_add(1, Ordering::Relaxed);
        if finding.is_affected() {
            self.affected.fetch_add(1, Ordering::Relaxed);
        }
        self.sink.record(ScanRecord::Finding(finding));
    }

    pub(crate) fn component(&self, component: quell_model::InventoryComponent) {
        self.components.fetch_add(1, Ordering::Relaxed);
        self.sink.record(ScanRecord::Component(component));
    }

    pub(crate) fn summary(&self, elapsed_ms: u64) -> quell_model::ScanSummary {
        quell_model::ScanSummary {
            files: self.files.load(Ordering::Relaxed),
            archives: self.archives.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            findings: self.findings.load(Ordering::Relaxed),
            affected: self.affected.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            elapsed_ms,
            inflated_bytes: self.inflated_bytes.load(Ordering::Relaxed),
            components: self.components.load(Ordering::Relaxed),
            ..Default::default()
        }
    }
}
