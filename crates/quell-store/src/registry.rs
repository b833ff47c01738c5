//! The product status registry's storage: entries (a searchable projection in
//! `registry_entries` and `registry_statuses`) and their append-only history
//! (`registry_history`, one row per revision with the whole entry as it became); the proposals,
//! products, notifications and confirmation requests of organisations.
//!
//! Invariants:
//! - Every change of an entry goes through [`changes::apply`], in one transaction with its
//!   history row: the projection is never written without a history row, and a history row is
//!   never updated.
//! - The current entry is the snapshot of its history row at the entry's `revision`; the
//!   projection columns are derived from it in the same transaction.
//! - A change names the revision it was based on; `apply` updates only when the stored revision
//!   is still that one (`UPDATE .. WHERE revision = $base`), so two concurrent editors cannot both
//!   win: the second gets [`StoreError::Conflict`]. Write transactions take SQLite's write lock at
//!   once (`BEGIN IMMEDIATE`).
//! - Each change notifies every organisation whose products (`org_products`) point at the entry,
//!   by id or by key (keys of entries merged into it included).
//! - Organisation data (proposals, products, notifications, confirmation requests) is read and
//!   written with the organisation id the caller passes (the server's principal's) only; another
//!   organisation's id is not found.

pub mod changes;
pub mod confirmations;
pub mod entries;
pub mod limits;
pub mod products;
pub mod proposals;

use crate::Refusal;
use quell_registry::Entry;
use serde::Serialize;

use crate::StoreError;
use crate::accounts::Principal;
use crate::db::Db;

pub use changes::{Decided, ImportCounts, edit, import, merge};
pub use confirmations::{AnswerBody, Confirmation, answer, confirmations, request_confirmation, set_supplier_org};
pub use entries::{RegistryVersion, SearchPage, SearchQuery, entry, entry_history, live_entries, search, version};
pub use products::{
    Notification, Product, ProductInput, ProductStatus, add_product, delete_product, insert_product, notifications,
    product_statuses, products, read_notification, recent_notifications, update_product,
};
pub use proposals::{Proposal, accept, create_proposal, proposal, proposals, reject};

/// Why an entry changed (the `kind` of its history row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Import,
    Edit,
    AcceptedProposal,
    Merge,
    SupplierConfirmation,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Import => "import",
            ChangeKind::Edit => "edit",
            ChangeKind::AcceptedProposal => "accepted_proposal",
            ChangeKind::Merge => "merge",
            ChangeKind::SupplierConfirmation => "supplier_confirmation",
        }
    }
}

/// Who makes a change: recorded in the history row.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub email: String,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
}

impl Actor {
    /// The caller, with the name of their organisation.
    pub async fn of(db: &Db, principal: &Principal) -> Result<Actor, StoreError> {
        let org_name = match principal.org_id {
            Some(org) => {
                let row = sqlx::query("SELECT name FROM orgs WHERE id = $1").bind(org).fetch_optional(&db.pool).await?;
                row.map(|row| sqlx::Row::try_get::<String, _>(&row, "name")).transpose()?
            }
            None => None,
        };
        Ok(Actor {
            user_id: Some(principal.user_id),
            email: principal.email.clone(),
            org_id: principal.org_id,
            org_name,
        })
    }

    fn label(&self) -> String {
        match &self.org_name {
            Some(org) => format!("{} ({org})", self.email),
            None => self.email.clone(),
        }
    }
}

/// An entry as stored: the library's [`Entry`] with the registry's bookkeeping.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEntry {
    pub id: i64,
    #[serde(flatten)]
    pub entry: Entry,
    pub revision: i64,
    /// Set when this entry was merged into another (read that one).
    pub merged_into: Option<i64>,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
    /// Unix seconds of the last change (for caching headers); not serialised.
    #[serde(skip)]
    pub updated_unix: i64,
}

impl StoredEntry {
    /// The entry as the public sees it: who changed it by organisation only (see
    /// [`public_label`]); people's e-mail addresses are for coordinators.
    pub fn redacted(mut self) -> Self {
        self.created_by = public_label(&self.created_by);
        self.updated_by = public_label(&self.updated_by);
        self
    }
}

/// The public form of a change's author label (`it@org.example (Org)` → `Org`; a coordinator's
/// bare e-mail → `coordinator`; anything else, e.g. an import's source, as it is).
pub fn public_label(label: &str) -> String {
    if let Some((_, org)) = label.rsplit_once(" (")
        && let Some(org) = org.strip_suffix(')')
    {
        return org.to_string();
    }
    if label.contains('@') { "coordinator".to_string() } else { label.to_string() }
}

/// One row of an entry's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub entry_id: i64,
    pub revision: i64,
    pub kind: String,
    pub at: String,
    pub user: Option<String>,
    pub org_id: Option<i64>,
    pub org: Option<String>,
    pub source: Option<String>,
    pub snapshot: serde_json::Value,
}

impl HistoryRow {
    /// The row as the public sees it: the organisation, not the person.
    pub fn redacted(mut self) -> Self {
        self.user = None;
        self
    }
}

/// What a change stores: a new entry, or an existing one at the revision the change was based on.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    New,
    Existing { id: i64, base_revision: i64 },
}

/// A stored change: the entry and its new revision.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Applied {
    pub id: i64,
    pub revision: i64,
}

/// `Invalid` when `value` is longer than `max` bytes.
pub fn check_len(what: &'static str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.len() > max {
        return Err(StoreError::Invalid(Refusal::TooLong { what, max }));
    }
    Ok(())
}

/// The registry's rules (library's [`Entry::validate`]) plus the length limits: `Invalid`.
pub fn validate(entry: &Entry) -> Result<(), StoreError> {
    use limits::{MAX_NAME_BYTES, MAX_TEXT_BYTES};
    check_len("supplier", &entry.supplier, MAX_NAME_BYTES)?;
    check_len("product", &entry.product, MAX_NAME_BYTES)?;
    check_len("purl", entry.purl.as_deref().unwrap_or(""), MAX_NAME_BYTES)?;
    check_len("cpe", entry.cpe.as_deref().unwrap_or(""), MAX_NAME_BYTES)?;
    check_len("notes", &entry.notes, MAX_TEXT_BYTES)?;
    entry.validate().map_err(|errors| StoreError::Invalid(Refusal::Registry(errors)))
}

/// Serialisers of stored columns: Unix seconds as RFC 3339, JSON text as the JSON it holds.
mod as_text {
    use serde::{Serialize, Serializer};

    pub fn rfc3339<S: Serializer>(unix: &i64, s: S) -> Result<S::Ok, S::Error> {
        quell_model::time::format_rfc3339(*unix).serialize(s)
    }

    pub fn opt_rfc3339<S: Serializer>(unix: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        unix.map(quell_model::time::format_rfc3339).serialize(s)
    }

    /// The JSON a text holds; `null` when it does not parse.
    pub fn json<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
        serde_json::from_str::<serde_json::Value>(text).unwrap_or(serde_json::Value::Null).serialize(s)
    }

    pub fn opt_json<S: Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        text.as_deref().and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok()).serialize(s)
    }
}

fn json_text<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

fn dedup_keep_order<T: PartialEq>(items: &mut Vec<T>) {
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    *items = kept;
}
