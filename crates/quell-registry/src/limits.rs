//! Every limit of the registry library, as named constants (the server has its own, smaller, request limits).

/// Largest file an importer accepts (the full Dutch list is ~1.2 MB over 27 files, the US list ~3.8 MB).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Most rows (Markdown, CSV), items (JSON, YAML) read from one file; the rest is reported once and skipped.
pub const MAX_ROWS_PER_FILE: usize = 200_000;

/// Most bytes of a raw row or cell copied into a [`crate::Problem`].
pub const MAX_RAW_IN_PROBLEM: usize = 512;

/// Most problems kept per file; past it one `invalid_file` problem says how many more there were.
pub const MAX_PROBLEMS_PER_FILE: usize = 50_000;
