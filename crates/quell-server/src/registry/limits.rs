//! Every limit of the registry routes (the registry's part of [`crate::limits`]).

/// Largest body of `POST /api/v1/registry/import` (one list file; the largest file of the Dutch
/// and US lists is under 1 MiB). Beyond it the server answers 413.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

/// Largest JSON body of an edit, proposal, answer or product registration. Beyond it: 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Entries per page of `GET /api/v1/registry/entries` when `per_page` is not given.
pub const DEFAULT_PAGE_ROWS: i64 = 50;

/// Most entries per page of `GET /api/v1/registry/entries` (`per_page` is capped at this).
pub const MAX_PAGE_ROWS: i64 = 200;

/// Longest supplier, product, version, purl or CPE accepted.
pub const MAX_NAME_BYTES: usize = 300;

/// Longest comment, reason, notes or message accepted.
pub const MAX_TEXT_BYTES: usize = 20_000;

/// Most products one organisation registers (`/api/v1/registry/my-products`).
pub const MAX_PRODUCTS_PER_ORG: i64 = 10_000;

/// Most rows of a list of proposals, notifications or confirmation requests in one answer
/// (newest first).
pub const MAX_LIST_ROWS: i64 = 500;

/// `Cache-Control: max-age` of the exports, in seconds: a client may reuse an export this long
/// without asking; after that it revalidates with `If-None-Match` (answered 304 while the
/// registry has not changed).
pub const EXPORT_MAX_AGE_SECONDS: u64 = 300;
