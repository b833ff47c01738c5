//! Fuzzes the archive reader: arbitrary bytes as a file on disk, opened as zip, tar or a
//! compressed stream, nested archives included, under small limits so each input is quick. It
//! must never panic, hang or exceed the limits; every problem is an error record.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use quell_model::ScanRecord;
use quell_scan::{Limits, ReportSink};

struct Discard;

impl ReportSink for Discard {
    fn record(&self, _record: ScanRecord) {}
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_depth: 6,
        max_inflated_bytes: 8 * 1024 * 1024,
        max_entries: 4_096,
        in_memory_archive_bytes: 64 * 1024,
        max_memory_bytes: 1024 * 1024,
        max_evidence_bytes: 256 * 1024,
        max_time_per_file: Duration::from_secs(5),
    };
    // The name decides whether a renamed archive is sniffed; try both kinds of name.
    let name = if data.first().is_some_and(|b| b & 1 == 1) { "fuzz.jar" } else { "fuzz.bin" };
    let summary = quell_scan::scan_bytes(name, data, &limits, &Discard);
    assert!(summary.inflated_bytes <= limits.max_inflated_bytes);
});
