//! The JSON API under `/api/v1`, and `/healthz`, `/metrics`, `/api/openapi.json`. One module per
//! resource; the routes are in [`crate::router`].
//!
//! Invariants:
//! - Every handler of organisation data takes the organisation from its extractor
//!   ([`crate::extract::ApiOrgUser`]), never from the URL or body; ids from the URL are looked
//!   up with it.
//! - A token of scope `upload` is refused (403) everywhere but the upload routes.
//! - Errors are JSON: `{"error": "<code>", "message": "...", "line": N}` (`line` for a bad record).

pub mod accounts;
pub mod advisories;
pub mod aggregator;
pub mod components;
pub mod csaf;
pub mod indicators;
pub mod ops;
pub mod packs;
pub mod registry;
pub mod reports;
