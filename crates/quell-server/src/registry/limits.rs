//! Every limit of the registry routes (the registry's part of [`crate::limits`]): the HTTP ones
//! here, and those the store enforces ([`quell_store::registry::limits`]), re-exported.

pub use quell_store::registry::limits::*;

/// Largest body of `POST /api/v1/registry/import` (one list file; the largest file of the Dutch
/// and US lists is under 1 MiB). Beyond it the server answers 413.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

/// Largest JSON body of an edit, proposal, answer or product registration. Beyond it: 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// `Cache-Control: max-age` of the exports, in seconds: a client may reuse an export this long
/// without asking; after that it revalidates with `If-None-Match` (answered 304 while the
/// registry has not changed).
pub const EXPORT_MAX_AGE_SECONDS: u64 = 300;
