//! # quell-fix — remove `JndiLookup` from affected Log4j copies, safely
//!
//! Brief overview, in the order a fix runs:
//! - [`fix`] scans the given paths with [`quell_scan::scan`] to find the copies affected by
//!   CVE-2021-44228 or CVE-2021-45046, then plans each file that holds one.
//! - `plan` opens the file and every zip nested in it, classifies each container with the
//!   scanner's own classifier ([`quell_scan::classify`]) and marks for removal the `JndiLookup`
//!   class entries (matched by suffix, shaded and agent-renamed copies included) of the affected
//!   copies — nothing else. Signed archives that would change are refused unless
//!   [`FixOptions::strip_signatures`].
//! - [`zipfile`] rewrites an archive from its raw records: kept entries are copied byte for byte,
//!   removed ones are left out, and a changed nested archive is written back with its original
//!   compression method. Nested archives are rewritten innermost first, then every archive around.
//! - `apply` writes the result to a temporary file in the same directory, keeps mode, owner and
//!   timestamps, fsyncs, re-scans it, backs the original up, and renames over it. [`restore`] puts
//!   the backed-up originals back.
//!
//! Invariants:
//! - Without [`FixOptions::apply`] nothing on disk changes (not even the backup directory).
//! - The original file is never written to: it is replaced only by an atomic rename, and only
//!   after the new content is on disk, re-scanned as mitigated, and the original is backed up. A
//!   failure at any step leaves the original untouched and removes the temporary file.
//! - Only the `JndiLookup` class entries of copies affected by CVE-2021-44228 or CVE-2021-45046 are
//!   removed (plus, only when asked, signature files). `JndiManager` and everything else stays.
//! - The library never prints and never exits; results are [`FixRecord`]s handed to a callback.

use std::io;

mod apply;
mod plan;
mod record;
pub mod zipfile;

pub use apply::{FaultPoint, FixOptions, default_backup_dir, fix, restore};
pub use record::{
    ActionStatus, CopyAction, FileAction, FixRecord, FixSummary, ManifestEntry, RestoreRecord, RestoreStatus,
    UPGRADE_TARGETS,
};

/// Deepest archive nesting opened while planning (a top-level file is depth 0); as the scanner.
pub const MAX_DEPTH: usize = quell_scan::DEFAULT_MAX_DEPTH;
/// Entries accepted in one archive's central directory.
pub const MAX_ENTRIES: usize = quell_scan::DEFAULT_MAX_ENTRIES;
/// Largest central directory read (it is held in memory while rewriting).
pub const MAX_CENTRAL_DIRECTORY_BYTES: u64 = 512 * 1024 * 1024;
/// Largest nested archive opened for fixing: nested archives are decoded and rewritten in memory.
pub const MAX_NESTED_ARCHIVE_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Largest class, pom.properties or manifest entry read as evidence; as the scanner.
pub const MAX_EVIDENCE_BYTES: u64 = quell_scan::DEFAULT_MAX_EVIDENCE_BYTES;
/// Total bytes decoded from nested entries while planning one top-level file (zip bomb guard).
pub const MAX_INFLATED_BYTES: u64 = quell_scan::DEFAULT_MAX_INFLATED_BYTES;

/// Why a file could not be planned or fixed. The original file is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("corrupt zip archive: {0}")]
    CorruptZip(String),
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("limit reached: {0}")]
    Limit(String),
    #[error("{0}")]
    Refused(String),
    #[error("verification failed: {0}")]
    Verification(String),
    #[error("injected failure at {0:?} (test hook)")]
    Injected(FaultPoint),
}
