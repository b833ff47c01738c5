//! The registry's storage: entries (a searchable projection in `registry_entries` and
//! `registry_statuses`) and their append-only history (`registry_history`, one row per revision
//! with the whole entry as it became).
//!
//! Invariants:
//! - Every change of an entry goes through [`apply`], in one transaction with its history row:
//!   the projection is never written without a history row, and a history row is never updated.
//! - The current entry is the snapshot of its history row at the entry's `revision`; the
//!   projection columns are derived from it in the same transaction.
//! - A change names the revision it was based on; [`apply`] updates only when the stored revision
//!   is still that one (`UPDATE .. WHERE revision = $base`), so two concurrent editors cannot both
//!   win: the second gets [`ServerError::Conflict`].
//! - Each change notifies every organisation whose products (`org_products`) point at the entry,
//!   by id or by key (keys of entries merged into it included).

use quell_registry::{Entry, entry_key};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::limits::MAX_HISTORY_ROWS;
use crate::auth::Principal;
use crate::{ServerError, now, time};
use quell_store::{Backend, Db};

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
    pub async fn of(db: &Db, principal: &Principal) -> Result<Actor, ServerError> {
        let org_name = match principal.org_id {
            Some(org) => sqlx::query("SELECT name FROM orgs WHERE id = $1")
                .bind(org)
                .fetch_optional(&db.pool)
                .await?
                .map(|row| row.try_get::<String, _>(0))
                .transpose()?,
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

/// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so
/// a transaction that reads before it writes never fails on a snapshot another writer made stale.
pub async fn begin_write(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Any>, ServerError> {
    Ok(match db.backend {
        Backend::Sqlite => db.pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => db.pool.begin().await?,
    })
}

const ENTRY_COLUMNS: &str = "e.id, e.revision, e.merged_into, e.created_at, e.created_by, e.updated_at, e.updated_by, \
                             h.snapshot";
const ENTRY_FROM: &str = "registry_entries e JOIN registry_history h ON h.entry_id = e.id AND h.revision = e.revision";

fn read_entry(row: &sqlx::any::AnyRow) -> Result<StoredEntry, ServerError> {
    let snapshot: String = row.try_get(7)?;
    let entry: Entry = serde_json::from_str(&snapshot)
        .map_err(|e| ServerError::Internal(format!("stored registry snapshot does not parse: {e}")))?;
    let updated_unix: i64 = row.try_get(5)?;
    Ok(StoredEntry {
        id: row.try_get(0)?,
        entry,
        revision: row.try_get(1)?,
        merged_into: row.try_get(2)?,
        created_at: time::format_rfc3339(row.try_get(3)?),
        created_by: row.try_get(4)?,
        updated_at: time::format_rfc3339(updated_unix),
        updated_by: row.try_get(6)?,
        updated_unix,
    })
}

/// One entry by id (merged ones included), or `None`.
pub async fn load(conn: &mut AnyConnection, id: i64) -> Result<Option<StoredEntry>, ServerError> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(read_entry).transpose()
}

/// Entries by id, in the order given (ids not found are left out).
pub async fn load_many(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<StoredEntry>, ServerError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids are i64 values we produced, so inlining them is safe; one statement, one round trip.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id IN ({list})"))
        .fetch_all(&mut *conn)
        .await?;
    let mut by_id = std::collections::HashMap::new();
    for row in &rows {
        let entry = read_entry(row)?;
        by_id.insert(entry.id, entry);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Every live (not merged) entry, ordered by supplier and product key.
pub async fn load_all(conn: &mut AnyConnection, supplier_key: Option<&str>) -> Result<Vec<StoredEntry>, ServerError> {
    let rows = match supplier_key {
        Some(key) => {
            sqlx::query(&format!(
                "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.merged_into IS NULL AND e.supplier_key = $1 \
                 ORDER BY e.supplier_key, e.product_key"
            ))
            .bind(key.to_string())
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.merged_into IS NULL \
                 ORDER BY e.supplier_key, e.product_key"
            ))
            .fetch_all(&mut *conn)
            .await?
        }
    };
    rows.iter().map(read_entry).collect()
}

/// The live entry an id stands for: itself, or the entry it was (transitively) merged into.
pub async fn resolve(conn: &mut AnyConnection, id: i64) -> Result<Option<i64>, ServerError> {
    let mut current = id;
    // Merges repoint earlier merges (see `merge`), so one step is the rule; the bound is a guard.
    for _ in 0..16 {
        let row = sqlx::query("SELECT merged_into FROM registry_entries WHERE id = $1")
            .bind(current)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            None => return Ok(None),
            Some(row) => match row.try_get::<Option<i64>, _>(0)? {
                None => return Ok(Some(current)),
                Some(next) => current = next,
            },
        }
    }
    Err(ServerError::Internal(format!("registry entry {id}: merge chain too long")))
}

/// The live entry with this supplier/product identity (following merges), if any.
pub async fn find_by_key(conn: &mut AnyConnection, key: &(String, String)) -> Result<Option<i64>, ServerError> {
    let row = sqlx::query("SELECT id, merged_into FROM registry_entries WHERE supplier_key = $1 AND product_key = $2")
        .bind(key.0.clone())
        .bind(key.1.clone())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => match row.try_get::<Option<i64>, _>(1)? {
            None => Ok(Some(row.try_get(0)?)),
            Some(into) => resolve(conn, into).await,
        },
        None => Ok(None),
    }
}

/// What [`apply`] changes: a new entry, or an existing one at the revision the change was based on.
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

fn json_text<T: Serialize>(value: &T) -> Result<String, ServerError> {
    serde_json::to_string(value).map_err(|e| ServerError::Internal(e.to_string()))
}

fn unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || db.message().contains("UNIQUE") || db.message().contains("duplicate key")
        }
        _ => false,
    }
}

/// Stores a change: the projection, the statuses, one history row and the notifications, in the
/// caller's transaction. `Conflict` when the entry is not at `base_revision` any more (or was
/// merged away), or when another entry has the same supplier/product identity.
pub async fn apply(
    conn: &mut AnyConnection,
    target: Target,
    entry: &Entry,
    kind: ChangeKind,
    actor: &Actor,
    source: Option<&str>,
) -> Result<Applied, ServerError> {
    let key = entry_key(&entry.supplier, &entry.product);
    let at = now();
    let who = actor.label();
    let links = json_text(&entry.links)?;
    let sources = json_text(&entry.sources)?;
    // Another live or merged entry with this identity would break the unique key.
    let same_key: Option<i64> =
        sqlx::query("SELECT id FROM registry_entries WHERE supplier_key = $1 AND product_key = $2")
            .bind(key.0.clone())
            .bind(key.1.clone())
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
    let applied = match target {
        Target::New => {
            if let Some(other) = same_key {
                return Err(ServerError::Conflict(format!(
                    "entry {other} already has this supplier and product ({} / {})",
                    entry.supplier, entry.product
                )));
            }
            let row = sqlx::query(
                "INSERT INTO registry_entries (supplier, product, supplier_key, product_key, purl, cpe, notes, links, \
                 sources, revision, created_at, created_by, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $10, $11) RETURNING id",
            )
            .bind(entry.supplier.clone())
            .bind(entry.product.clone())
            .bind(key.0.clone())
            .bind(key.1.clone())
            .bind(entry.purl.clone())
            .bind(entry.cpe.clone())
            .bind(entry.notes.clone())
            .bind(links)
            .bind(sources)
            .bind(at)
            .bind(who.clone())
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| {
                if unique_violation(&e) {
                    ServerError::Conflict(format!(
                        "an entry for {} / {} was just created",
                        entry.supplier, entry.product
                    ))
                } else {
                    ServerError::Db(e)
                }
            })?;
            Applied { id: row.try_get(0)?, revision: 1 }
        }
        Target::Existing { id, base_revision } => {
            if let Some(other) = same_key.filter(|other| *other != id) {
                return Err(ServerError::Conflict(format!(
                    "entry {other} already has this supplier and product ({} / {}): merge the two instead",
                    entry.supplier, entry.product
                )));
            }
            let result = sqlx::query(
                "UPDATE registry_entries SET supplier = $1, product = $2, supplier_key = $3, product_key = $4, \
                 purl = $5, cpe = $6, notes = $7, links = $8, sources = $9, revision = revision + 1, \
                 updated_at = $10, updated_by = $11 WHERE id = $12 AND revision = $13 AND merged_into IS NULL",
            )
            .bind(entry.supplier.clone())
            .bind(entry.product.clone())
            .bind(key.0.clone())
            .bind(key.1.clone())
            .bind(entry.purl.clone())
            .bind(entry.cpe.clone())
            .bind(entry.notes.clone())
            .bind(links)
            .bind(sources)
            .bind(at)
            .bind(who.clone())
            .bind(id)
            .bind(base_revision)
            .execute(&mut *conn)
            .await?;
            if result.rows_affected() == 0 {
                return Err(ServerError::Conflict(format!(
                    "entry {id} changed since revision {base_revision} (or was merged): reload it and apply your \
                     change again"
                )));
            }
            sqlx::query("DELETE FROM registry_statuses WHERE entry_id = $1").bind(id).execute(&mut *conn).await?;
            Applied { id, revision: base_revision + 1 }
        }
    };
    if !entry.statuses.is_empty() {
        // One statement for all of the entry's statuses (5 parameters a row; entries have a few CVEs).
        let values = (0..entry.statuses.len())
            .map(|i| format!("($1, ${}, ${}, ${}, ${})", 4 * i + 2, 4 * i + 3, 4 * i + 4, 4 * i + 5))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO registry_statuses (entry_id, cve, status, affected_versions, fixed_versions) VALUES {values}"
        );
        let mut insert = sqlx::query(&sql).bind(applied.id);
        for (cve, status) in &entry.statuses {
            insert = insert
                .bind(cve.clone())
                .bind(status.status.as_str())
                .bind(json_text(&status.affected_versions)?)
                .bind(json_text(&status.fixed_versions)?);
        }
        insert.execute(&mut *conn).await?;
    }
    sqlx::query(
        "INSERT INTO registry_history (entry_id, revision, kind, snapshot, user_id, user_email, org_id, org_name, at, \
         source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(applied.id)
    .bind(applied.revision)
    .bind(kind.as_str())
    .bind(json_text(entry)?)
    .bind(actor.user_id)
    .bind(actor.email.clone())
    .bind(actor.org_id)
    .bind(actor.org_name.clone())
    .bind(at)
    .bind(source.map(str::to_string))
    .execute(&mut *conn)
    .await?;
    notify(conn, applied, kind, &format!("{} / {}", entry.supplier, entry.product), at).await?;
    Ok(applied)
}

/// The entry and every entry merged into it, transitively.
pub async fn family(conn: &mut AnyConnection, id: i64) -> Result<Vec<i64>, ServerError> {
    let mut all = vec![id];
    let mut frontier = vec![id];
    while !frontier.is_empty() && all.len() < 10_000 {
        // Ids we produced: inlining them is safe.
        let list = frontier.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(&format!("SELECT id FROM registry_entries WHERE merged_into IN ({list})"))
            .fetch_all(&mut *conn)
            .await?;
        frontier = rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
        frontier.retain(|id| !all.contains(id));
        all.extend(&frontier);
    }
    Ok(all)
}

/// One notification per organisation running the entry (by id or by the key of it or of an entry
/// merged into it).
async fn notify(
    conn: &mut AnyConnection,
    applied: Applied,
    kind: ChangeKind,
    name: &str,
    at: i64,
) -> Result<(), ServerError> {
    // The entry and every entry merged into it (transitively), in the same statement.
    sqlx::query(
        "WITH RECURSIVE fam(id) AS (SELECT CAST($1 AS BIGINT) UNION SELECT r.id FROM registry_entries r \
         JOIN fam ON r.merged_into = fam.id) \
         INSERT INTO registry_notifications (org_id, entry_id, revision, kind, message, created_at) \
         SELECT DISTINCT p.org_id, $1, $2, $3, $4, $5 FROM org_products p WHERE p.entry_id IN (SELECT id FROM fam) \
         OR (p.entry_id IS NULL AND EXISTS (SELECT 1 FROM registry_entries r WHERE r.id IN (SELECT id FROM fam) \
             AND r.supplier_key = p.supplier_key AND r.product_key = p.product_key))",
    )
    .bind(applied.id)
    .bind(applied.revision)
    .bind(kind.as_str())
    .bind(format!("{name} changed (revision {}, {})", applied.revision, kind.as_str()))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks entry `id` (at `revision`) as merged into `into`: a new revision of it, with its own
/// history row (kind `merge`), its content unchanged. `Conflict` when it changed meanwhile.
pub async fn mark_merged(
    conn: &mut AnyConnection,
    id: i64,
    revision: i64,
    into: i64,
    entry: &Entry,
    actor: &Actor,
) -> Result<(), ServerError> {
    let at = now();
    let result = sqlx::query(
        "UPDATE registry_entries SET merged_into = $1, revision = revision + 1, updated_at = $2, updated_by = $3 \
         WHERE id = $4 AND revision = $5 AND merged_into IS NULL",
    )
    .bind(into)
    .bind(at)
    .bind(actor.label())
    .bind(id)
    .bind(revision)
    .execute(&mut *conn)
    .await?;
    if result.rows_affected() == 0 {
        return Err(ServerError::Conflict(format!("entry {id} changed since revision {revision}")));
    }
    sqlx::query(
        "INSERT INTO registry_history (entry_id, revision, kind, snapshot, user_id, user_email, org_id, org_name, at, \
         source) VALUES ($1, $2, 'merge', $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(revision + 1)
    .bind(json_text(entry)?)
    .bind(actor.user_id)
    .bind(actor.email.clone())
    .bind(actor.org_id)
    .bind(actor.org_name.clone())
    .bind(at)
    .bind(format!("merged into entry {into}"))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An entry's history, newest first, with the history of every entry merged into it (at most
/// [`MAX_HISTORY_ROWS`]).
pub async fn history(conn: &mut AnyConnection, id: i64) -> Result<Vec<HistoryRow>, ServerError> {
    let list = family(conn, id).await?.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = sqlx::query(&format!(
        "SELECT h.entry_id, h.revision, h.kind, h.at, h.user_email, h.org_id, h.org_name, h.source, h.snapshot \
         FROM registry_history h WHERE h.entry_id IN ({list}) ORDER BY h.at DESC, h.id DESC \
         LIMIT {MAX_HISTORY_ROWS}"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let snapshot: String = row.try_get(8)?;
            Ok(HistoryRow {
                entry_id: row.try_get(0)?,
                revision: row.try_get(1)?,
                kind: row.try_get(2)?,
                at: time::format_rfc3339(row.try_get(3)?),
                user: row.try_get(4)?,
                org_id: row.try_get(5)?,
                org: row.try_get(6)?,
                source: row.try_get(7)?,
                snapshot: serde_json::from_str(&snapshot).unwrap_or(serde_json::Value::String(snapshot)),
            })
        })
        .collect()
}

/// The registry's version for caching: (live entries, history rows, Unix seconds of the latest
/// change). Any change adds a history row, so the triple changes with every change.
pub async fn version(conn: &mut AnyConnection) -> Result<(i64, i64, i64), ServerError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM registry_entries WHERE merged_into IS NULL), \
         (SELECT COUNT(*) FROM registry_history), (SELECT COALESCE(MAX(at), 0) FROM registry_history)",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}
