//! The one error type of the reader.

use crate::limits::Limit;

/// Why a document was not read. Every variant says where: a JSON-pointer-like location
/// (`/components/17/version`) or, for malformed JSON, the line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SbomError {
    /// The bytes are not JSON (syntax, truncation, invalid UTF-8, trailing data).
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json { message: String, line: usize, column: usize },
    /// UTF-16 or UTF-32 text (a byte order mark says so); JSON SBOMs are UTF-8. A UTF-8 byte
    /// order mark is accepted and skipped.
    #[error("not UTF-8: {0}")]
    Encoding(String),
    /// JSON, but neither a CycloneDX nor an SPDX document.
    #[error("not a CycloneDX 1.4–1.7 or SPDX 2.3 JSON document: {0}")]
    NotSbom(String),
    /// A CycloneDX or SPDX document of a version this reader does not read.
    #[error("unsupported {format} version {found:?} (this reader reads {supported})")]
    UnsupportedSpecVersion { format: &'static str, found: String, supported: &'static str },
    /// A field of the wrong JSON type.
    #[error("{pointer}: expected {expected}, found {found}")]
    WrongType { pointer: String, expected: &'static str, found: &'static str },
    /// A required field is absent.
    #[error("{pointer}: missing (required)")]
    Missing { pointer: String },
    /// A field of the right type with a value that is not valid (a hash that is not hex of the
    /// algorithm's length).
    #[error("{pointer}: {reason}")]
    InvalidValue { pointer: String, reason: String },
    /// The stream [`crate::parse_reader`] reads from failed (a decoder's size limit, corrupt
    /// compression).
    #[error("reading the document: {0}")]
    Io(String),
    /// A limit of [`SbomLimits`](crate::SbomLimits) was exceeded; `at` is a location as above.
    #[error("{at}: more than {max} {} ({limit})", limit.what())]
    Limit { limit: Limit, max: usize, at: String },
}
