//! The web pages: server-rendered HTML (maud) that works without JavaScript. One module per
//! resource; the routes are in [`crate::router`], wrapped in [`crate::html::html_errors`].
//!
//! Invariants:
//! - Every form that changes something carries the session's CSRF token and is refused (403)
//!   without it ([`crate::extract::CsrfForm`]).
//! - Pages are sent with a restrictive Content-Security-Policy (no scripts at all):
//!   [`crate::html::page`].

pub mod accounts;
pub mod advisories;
pub mod components;
pub mod indicators;
pub mod inventory;
pub mod registry;
pub mod sso;
pub mod subscriptions;
pub mod two_factor;
pub mod users;
