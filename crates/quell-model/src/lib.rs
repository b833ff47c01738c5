//! # quell-model — the shared vocabulary of quell
//!
//! Every other quell crate speaks in these types, and nothing here depends on another quell crate.
//! The serde form of these types *is* the report format: what `quell scan --format json` prints, one
//! [`ScanRecord`] per line, is exactly what the server ingests.
//!
//! Brief overview:
//! - [`Version`] — a Log4j release number (`2.0-beta9`, `2.14.1`, `1.2.17`) with a total order.
//! - [`Cve`] and [`CveStatus`] — a vulnerability identifier and a copy's verdict for it.
//! - [`MavenVersion`] and [`VersionRange`] — Maven's version order, pack ranges, OSV events.
//! - [`purl::Purl`] and [`vers::Versions`] — package keys and version sets (`vers:`, Maven
//!   ranges) as advisories name affected components.
//! - [`Finding`] — one library copy found by the scanner, with its full path chain and evidence.
//! - [`ScanRecord`] — a finding, an error or the final summary: one JSON line of a scan report.
//!
//! Invariants kept here:
//! - Field names of the serialised records are a public contract (see the README); fields may be
//!   added, never renamed or removed.
//! - This crate performs no I/O.

pub mod cve;
pub mod hunt;
pub mod indicators;
pub mod maven;
pub mod purl;
pub mod scan;
pub mod time;
pub mod tlp;
pub mod vers;
pub mod version;

pub use cve::{Cve, CveStatus, CveVerdict};
pub use maven::{MavenVersion, VersionRange};
pub use scan::{
    Component, Confidence, Finding, Hashes, InventoryComponent, InventoryConfidence, ScanError, ScanRecord, ScanSummary,
};
pub use version::{ParseVersionError, Version};
