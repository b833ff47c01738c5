//! The web pages: server-rendered HTML (maud) that works without JavaScript. One module per
//! resource; the routes are in [`crate::router`], wrapped in [`crate::html::html_errors`].
//!
//! Invariants:
//! - Every form that changes something carries the session's CSRF token and is refused (403)
//!   without it ([`crate::extract::CsrfForm`]).
//! - Pages are sent with a restrictive Content-Security-Policy (no scripts at all):
//!   [`crate::html::page`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::ServerError;

pub mod accounts;
pub mod advisories;
pub mod inventory;

pub use crate::extract::Session;
pub(crate) use crate::html::{error_page, layout, page, urlencode};

/// An error as a page, with the session's navigation.
pub(crate) fn page_error(session: &Session, error: ServerError) -> Response {
    match error {
        ServerError::NotFound(_) => error_page(Some(session), StatusCode::NOT_FOUND, "Not found."),
        ServerError::Forbidden(m) => error_page(Some(session), StatusCode::FORBIDDEN, &m),
        ServerError::Invalid(m) => error_page(Some(session), StatusCode::BAD_REQUEST, &m),
        other => other.into_response(),
    }
}

pub(crate) fn csrf_ok(session: &Session, given: &str) -> bool {
    session.csrf_ok(given)
}
