//! Per-process counters for `/metrics` (Prometheus text format). The only in-memory state of the
//! server: counters since this process started, which Prometheus sums across processes.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one server process.
#[derive(Debug, Default)]
pub struct Metrics {
    pub reports_stored: AtomicU64,
    pub reports_duplicate: AtomicU64,
    pub reports_rejected: AtomicU64,
    pub findings_stored: AtomicU64,
    pub requests: AtomicU64,
    pub logins_failed: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = [
            ("quell_reports_stored_total", "Reports stored (new).", &self.reports_stored),
            ("quell_reports_duplicate_total", "Uploads of a report already stored.", &self.reports_duplicate),
            ("quell_reports_rejected_total", "Uploads rejected (4xx).", &self.reports_rejected),
            ("quell_findings_stored_total", "Findings stored.", &self.findings_stored),
            ("quell_http_requests_total", "HTTP requests served.", &self.requests),
            ("quell_logins_failed_total", "Failed logins.", &self.logins_failed),
        ];
        for (name, help, value) in counters {
            let _ =
                writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", value.load(Ordering::Relaxed));
        }
        out
    }
}
