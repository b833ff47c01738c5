//! The storage of `quell serve`: the only crate that writes SQL. One `sqlx` pool over SQLite
//! (embedded, the default) or PostgreSQL ([`db`]), the migrations (`migrations/`), and one module
//! per resource, each a set of functions that take the [`Db`] (or an open transaction) and typed
//! arguments and return typed rows.
//!
//! Rules (ARCHITECTURE.md):
//! - SQL lives here and nowhere else; there is no HTTP or HTML here (no axum, no maud).
//! - Rows are read by column name into typed structs (`#[derive(sqlx::FromRow)]` or
//!   `try_get("name")`), never by position.
//! - Every function that touches organisation data takes the caller's organisation id as an
//!   argument and filters on it; the server passes it from the authenticated principal only.
//! - Decisions (TLP access, ratings, version order, validation of documents) stay in the pure
//!   crates; the store keeps transactions, uniqueness, and conditional updates.

pub mod accounts;
pub mod advisories;
pub mod audit;
mod batch;
pub mod components;
pub mod db;
pub mod indicators;
pub mod inventory;
pub mod limits;
pub mod packs;
pub mod password_resets;
pub mod refusal;
pub mod registry;
pub mod reports;
pub mod sso;
pub mod two_factor;

pub use db::{Backend, Db, DbLocation};
pub use refusal::{Missing, Refusal, Thing};
/// The SQL toolkit, for the rare caller that must name its types (tests, benchmarks).
pub use sqlx;

/// What a store function can report. The server maps each to its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or reached (bad location, cannot create a directory).
    #[error("configuration: {0}")]
    Config(String),
    /// A query failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The arguments break a rule of the stored data (a name too long, a role without an
    /// organisation).
    #[error("{0}")]
    Invalid(Refusal),
    /// Nothing with that id (in the caller's organisation).
    #[error("not found: {0}")]
    NotFound(Missing),
    /// The row exists already or changed since it was read.
    #[error("conflict: {0}")]
    Conflict(Refusal),
    /// The row exists but the caller may not change it.
    #[error("forbidden: {0}")]
    Forbidden(Refusal),
    /// A stored value the code does not understand, or a failed background task.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// `text` escaped for `LIKE .. ESCAPE '\'` (`%`, `_` and `\` taken literally), without the
/// surrounding wildcards.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `%text%`: contains `text`, taken literally (see [`like_escape`]).
pub(crate) fn like_pattern(text: &str) -> String {
    format!("%{}%", like_escape(text))
}
