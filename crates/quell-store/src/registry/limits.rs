//! The limits the registry's storage enforces (the server re-exports them beside its HTTP limits
//! in `quell_server::registry::limits`, so every registry limit is found in one place).

/// Entries per page of a search when `per_page` is not given.
pub const DEFAULT_PAGE_ROWS: i64 = 50;

/// Most entries per page of a search (`per_page` is capped at this).
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

/// Most history rows of an entry that are read (the newest); older rows stay in the database.
pub const MAX_HISTORY_ROWS: i64 = 1000;
