//! The records a fix or a restore reports: one JSON object per line, tagged by `kind`.

use quell_model::Cve;
use serde::{Deserialize, Serialize};

/// The releases that fix all four Log4j 2.x CVEs, one per Java line (8+, 7, 6).
pub const UPGRADE_TARGETS: &str = "2.17.1 (Java 8+), 2.12.4 (Java 7) or 2.3.2 (Java 6)";

/// What happened (or, in a dry run, would happen) to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Dry run: the file would be rewritten as described.
    Planned,
    /// The file was rewritten, verified by a re-scan, and the original backed up.
    Fixed,
    /// The file holds affected copies but was left alone on purpose (a signed jar).
    Refused,
    /// The affected copies could not be fixed here (inside a tar, an exploded directory, an
    /// encrypted entry, metadata only, ...): upgrade or fix by hand.
    Unfixable,
    /// Planning or writing failed; the original is untouched.
    Failed,
}

/// One library copy in a file, and what the fix does to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyAction {
    /// Path chain from the file on disk to the copy, as the scanner reports it.
    pub path: Vec<String>,
    pub version: Option<String>,
    pub version_range: Option<String>,
    /// Entries removed from the copy's archive (the `JndiLookup` class, duplicates included).
    pub removed: Vec<String>,
    /// CVEs the removal mitigates (affected before, `mitigated` after).
    pub mitigates: Vec<Cve>,
    /// CVEs still affecting the copy after the fix: they need an upgrade.
    pub needs_upgrade: Vec<Cve>,
    /// The releases to upgrade to, when `needs_upgrade` is not empty.
    pub upgrade_to: Option<String>,
    /// After `--apply`: whether the re-scan of the written file showed the copy as mitigated.
    pub verified: Option<bool>,
}

/// One file and what the fix does to it: the action record, one per file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileAction {
    pub path: String,
    pub status: ActionStatus,
    pub copies: Vec<CopyAction>,
    /// Signature files removed (only with `--strip-signatures`).
    pub signature_files_removed: Vec<String>,
    /// Why the file was refused, unfixable, or failed.
    pub reason: Option<String>,
    pub sha256_before: Option<String>,
    pub sha256_after: Option<String>,
    /// Where the original was backed up.
    pub backup: Option<String>,
}

/// Totals of a fix, printed last.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixSummary {
    /// Whether files were written (`--apply`) or only planned.
    pub applied: bool,
    /// Files that were (or would be) rewritten.
    pub files_changed: u64,
    /// Copies whose `JndiLookup` was (or would be) removed.
    pub copies_fixed: u64,
    pub files_refused: u64,
    pub files_unfixable: u64,
    pub files_failed: u64,
    /// Copies still affected by CVE-2021-44228 or CVE-2021-45046 when the command ends (in a dry
    /// run: all that were found).
    pub copies_still_affected: u64,
    /// Copies that, fixed or not, still need an upgrade for CVE-2021-45105 or CVE-2021-44832.
    pub copies_needing_upgrade: u64,
    pub errors: u64,
}

/// One line of a fix report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FixRecord {
    Action(FileAction),
    /// A problem that concerns no single planned file (e.g. an unreadable path during the scan).
    Error {
        path: Vec<String>,
        message: String,
    },
    Summary(FixSummary),
}

/// One line of the backup manifest (`manifest.jsonl` in the backup directory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Absolute path of the file that was fixed.
    pub original_path: String,
    /// SHA-256 of the original bytes (the backup holds exactly these).
    pub sha256: String,
    /// The backup file, relative to the backup directory.
    pub backup: String,
    /// SHA-256 of the file as the fix wrote it.
    pub fixed_sha256: String,
    pub size: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Modification time of the original, seconds and nanoseconds since the epoch.
    pub mtime: i64,
    pub mtime_nsec: i64,
    /// When the fix ran, seconds since the epoch.
    pub fixed_at: u64,
    /// The chains of the copies that were fixed.
    pub copies: Vec<Vec<String>>,
}

/// What a restore did to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreStatus {
    /// The original bytes are back and their hash verified.
    Restored,
    /// The file already holds the original bytes.
    AlreadyOriginal,
    /// The file changed after the fix (an upgrade?): left alone.
    ChangedSinceFix,
    Failed,
}

/// One line of a restore report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreRecord {
    pub kind: String,
    pub path: String,
    pub status: RestoreStatus,
    pub sha256: String,
    pub message: Option<String>,
}
