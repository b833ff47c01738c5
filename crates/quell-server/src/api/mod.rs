//! The JSON API under `/api/v1`, and `/healthz`, `/metrics`, `/api/openapi.json`. One module per
//! resource; the routes are in [`crate::router`].
//!
//! Invariants:
//! - Every handler of organisation data takes the organisation from its extractor
//!   ([`crate::extract::ApiOrgUser`]), never from the URL or body; ids from the URL are looked
//!   up with it.
//! - A token of scope `upload` is refused (403) everywhere but the upload routes.
//! - Errors are JSON: `{"error": "<code>", "message": "...", "line": N}` (`line` for a bad record).

use crate::ServerError;
use crate::auth::{Principal, Scope};

pub mod accounts;
pub mod advisories;
pub mod csaf;
pub mod ops;
pub mod reports;

/// Refuses upload-only tokens. (For the modules not yet on the extractors of [`crate::extract`].)
pub fn full(principal: &Principal) -> Result<(), ServerError> {
    if principal.scope != Scope::Full {
        return Err(ServerError::Forbidden("this token may only upload reports".into()));
    }
    Ok(())
}

/// The caller's organisation. (For the modules not yet on the extractors of [`crate::extract`].)
pub fn org_of(principal: &Principal) -> Result<i64, ServerError> {
    full(principal)?;
    principal.org_id.ok_or_else(|| {
        ServerError::Forbidden("coordinators see counts per organisation (/api/v1/orgs), not their hosts".into())
    })
}
