//! Every limit the scanner enforces, as named constants with their defaults. The CLI exposes each
//! one as a flag; hostile input hits a limit and ends in an error record, never a hang or an OOM.

use std::time::Duration;

/// Deepest archive nesting opened (a top-level file is depth 0). A zip quine recurses forever
/// without this.
pub const DEFAULT_MAX_DEPTH: usize = 24;
/// Total bytes inflated while scanning one top-level file, all nesting levels together.
pub const DEFAULT_MAX_INFLATED_BYTES: u64 = 16 * 1024 * 1024 * 1024;
/// Entries accepted in one archive's central directory or tar stream. The central directory is
/// held in memory while an archive is read (a few hundred bytes per entry), so this also bounds
/// memory; the count is checked from the end-of-central-directory record before it is parsed.
pub const DEFAULT_MAX_ENTRIES: usize = 200_000;
/// Nested archives up to this size are read into memory; larger ones are spilled to a temporary
/// file so that memory stays bounded.
pub const DEFAULT_IN_MEMORY_ARCHIVE_BYTES: u64 = 32 * 1024 * 1024;
/// Nested archives held in memory by all threads together; past this, further nested archives
/// are spilled to temporary files whatever their size. Keeps peak memory bounded with many
/// threads and deep nesting.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 64 * 1024 * 1024;
/// Largest class, pom.properties or manifest entry read for classification. Real ones are a few
/// KiB; anything bigger is not the evidence it is named as.
pub const DEFAULT_MAX_EVIDENCE_BYTES: u64 = 4 * 1024 * 1024;
/// Wall-clock time spent on one top-level file before it is abandoned with an error.
pub const DEFAULT_MAX_TIME_PER_FILE: Duration = Duration::from_secs(300);

/// The limits of one scan.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_depth: usize,
    pub max_inflated_bytes: u64,
    pub max_entries: usize,
    pub in_memory_archive_bytes: u64,
    pub max_memory_bytes: u64,
    pub max_evidence_bytes: u64,
    pub max_time_per_file: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: DEFAULT_MAX_DEPTH,
            max_inflated_bytes: DEFAULT_MAX_INFLATED_BYTES,
            max_entries: DEFAULT_MAX_ENTRIES,
            in_memory_archive_bytes: DEFAULT_IN_MEMORY_ARCHIVE_BYTES,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            max_evidence_bytes: DEFAULT_MAX_EVIDENCE_BYTES,
            max_time_per_file: DEFAULT_MAX_TIME_PER_FILE,
        }
    }
}
