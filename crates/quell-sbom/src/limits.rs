//! The limits of [`parse`](crate::parse): named constants, gathered in [`SbomLimits`].
//!
//! The server caps the body's bytes before it calls the reader; these limits bound what the
//! reader does with those bytes: how deep it goes, how many components it keeps, and how long a
//! kept string may be. Every violation is a [`SbomError::Limit`](crate::SbomError::Limit) that
//! names the limit.

/// The deepest nesting of CycloneDX `components` inside `components` that is read: a top-level
/// component is at depth 1, one of its own `components` at depth 2.
pub const MAX_COMPONENT_DEPTH: usize = 32;

/// The most components (CycloneDX components at any depth, `metadata.component` included; SPDX
/// packages) one document may have. The reader stops at the first one over the limit, so a
/// document with millions of components fails after reading this many.
pub const MAX_COMPONENTS: usize = 200_000;

/// The longest string, in bytes of UTF-8, of any field the reader keeps (names, groups, versions,
/// purls, hashes, references, spec versions, serial numbers, times, tool names). Fields the
/// reader does not keep (descriptions, licences, properties) are skipped whatever their length.
pub const MAX_STRING_BYTES: usize = 4096;

/// The deepest nesting of JSON arrays and objects anywhere in the document (the top-level object
/// is at depth 1), skipped parts included. `serde_json` has its own guard of 128 levels, so a
/// value above 127 has the effect of 127; either way the error is the same `Limit` error. A
/// CycloneDX document at [`MAX_COMPONENT_DEPTH`] needs about 70 levels.
pub const MAX_JSON_DEPTH: usize = 100;

/// The limits of one [`parse`](crate::parse) call. `SbomLimits::default()` has the constants of
/// this module; the server may set its own (for example from a `quell serve` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SbomLimits {
    /// See [`MAX_COMPONENT_DEPTH`].
    pub max_component_depth: usize,
    /// See [`MAX_COMPONENTS`].
    pub max_components: usize,
    /// See [`MAX_STRING_BYTES`].
    pub max_string_bytes: usize,
    /// See [`MAX_JSON_DEPTH`].
    pub max_json_depth: usize,
}

impl Default for SbomLimits {
    fn default() -> Self {
        SbomLimits {
            max_component_depth: MAX_COMPONENT_DEPTH,
            max_components: MAX_COMPONENTS,
            max_string_bytes: MAX_STRING_BYTES,
            max_json_depth: MAX_JSON_DEPTH,
        }
    }
}

/// Which limit a [`SbomError::Limit`](crate::SbomError::Limit) is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    ComponentDepth,
    Components,
    StringBytes,
    JsonDepth,
}

impl Limit {
    /// The field of [`SbomLimits`] that sets it.
    pub fn field(self) -> &'static str {
        match self {
            Limit::ComponentDepth => "max_component_depth",
            Limit::Components => "max_components",
            Limit::StringBytes => "max_string_bytes",
            Limit::JsonDepth => "max_json_depth",
        }
    }

    /// What is counted, for messages: "more than {max} {what}".
    pub fn what(self) -> &'static str {
        match self {
            Limit::ComponentDepth => "levels of nested components",
            Limit::Components => "components",
            Limit::StringBytes => "bytes in a string",
            Limit::JsonDepth => "levels of nested JSON arrays and objects",
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SbomLimits::{}", self.field())
    }
}
