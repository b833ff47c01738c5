//! The advisory model of `quell serve`, pure (no I/O, no clock): the chance × damage
//! questionnaire and its derived labels ([`rating`]), TLP 2.0 markings and the one access rule
//! every channel applies ([`tlp`]), advisory identifiers and versions ([`ident`]), and the
//! renderers of a published advisory as a CSAF 2.0 `csaf_security_advisory` ([`csaf`]) and of
//! an Atom feed ([`atom`]); affected systems over time, their states, counts and progress
//! ([`progress`]).
//!
//! Invariants:
//! - Every function is deterministic: times, ids and URLs come in as arguments.
//! - [`tlp::may_see`] is the only place that decides who may see an advisory; the server calls it
//!   (through [`tlp::can_view`], which adds that drafts are for coordinators) for pages, the API,
//!   the feed, the CSAF directories, webhooks and e-mail alike.

pub mod atom;
pub mod csaf;
pub mod ident;
pub mod model;
pub mod progress;
pub mod rating;
pub mod rolie;
pub mod tlp;

pub use ident::{AdvisoryId, Version};
pub use model::{AdvisoryContent, AffectedComponent, LANGUAGES, Product, Translation};
pub use rating::{Answers, Damage, DeadlineClass, Level, Rating, Severity};
pub use tlp::{Audience, Tlp, Viewer, can_view, is_coordinator, may_see};

/// Bad input to the model: each message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);
