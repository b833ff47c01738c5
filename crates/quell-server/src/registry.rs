//! The product status registry (issue 7): the national list of software products and their
//! status per CVE, as a real system. The model, importers, merge rule and exports are the
//! `quell-registry` library; the storage (entries, their append-only history, proposals,
//! products, notifications, confirmation requests) is [`quell_store::registry`]; the JSON API is
//! [`crate::api::registry`] and the pages are [`crate::pages::registry`]. Here: the registry's
//! limits, in one place.
//!
//! Invariants:
//! - Every change of an entry is one new revision with one history row
//!   (`quell_store::registry::changes::apply`); nothing is overwritten without one, and history
//!   rows are never changed.
//! - A change based on a revision that is no longer current answers 409 with the current entry,
//!   whoever made the other change (edit, accepted proposal, import, merge, supplier answer).
//! - Organisation data (proposals, products, notifications, confirmation requests) is read and
//!   written with the organisation of the caller's principal only (from the extractors); another
//!   organisation's id answers 404.
//! - Exports carry an `ETag` and `Last-Modified` derived from the registry's history (count of
//!   live entries, of history rows, time of the latest change): they change with every change.

pub mod limits;
