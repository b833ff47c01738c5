//! Reading entries: one, many, all live ones, the search, the history, the registry's version.

use crate::Refusal;
use crate::{Missing, Thing};
use std::collections::HashMap;

use quell_model::time;
use quell_registry::{Entry, Status, entry_key};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use super::limits::{DEFAULT_PAGE_ROWS, MAX_HISTORY_ROWS, MAX_PAGE_ROWS};
use super::{HistoryRow, StoredEntry};
use crate::StoreError;
use crate::db::Db;

const ENTRY_COLUMNS: &str = "e.id AS id, e.revision AS revision, e.merged_into AS merged_into, \
                             e.created_at AS created_at, e.created_by AS created_by, e.updated_at AS updated_at, \
                             e.updated_by AS updated_by, h.snapshot AS snapshot";
const ENTRY_FROM: &str = "registry_entries e JOIN registry_history h ON h.entry_id = e.id AND h.revision = e.revision";

fn read_entry(row: &sqlx::any::AnyRow) -> Result<StoredEntry, StoreError> {
    let snapshot: String = row.try_get("snapshot")?;
    let entry: Entry = serde_json::from_str(&snapshot)
        .map_err(|e| StoreError::Internal(format!("stored registry snapshot does not parse: {e}")))?;
    let updated_unix: i64 = row.try_get("updated_at")?;
    Ok(StoredEntry {
        id: row.try_get("id")?,
        entry,
        revision: row.try_get("revision")?,
        merged_into: row.try_get("merged_into")?,
        created_at: time::format_rfc3339(row.try_get("created_at")?),
        created_by: row.try_get("created_by")?,
        updated_at: time::format_rfc3339(updated_unix),
        updated_by: row.try_get("updated_by")?,
        updated_unix,
    })
}

/// One entry by id (merged ones included), or `None`.
pub(crate) async fn load(conn: &mut AnyConnection, id: i64) -> Result<Option<StoredEntry>, StoreError> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(read_entry).transpose()
}

/// One entry by id, `NotFound` when there is none. A merged entry is answered as it is (its
/// `merged_into` points at the entry to read).
pub(crate) async fn load_or_404(conn: &mut AnyConnection, id: i64) -> Result<StoredEntry, StoreError> {
    load(conn, id).await?.ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::RegistryEntry, id)))
}

/// One entry by id (merged ones included), or `None`.
pub async fn entry(db: &Db, id: i64) -> Result<Option<StoredEntry>, StoreError> {
    load(&mut *db.pool.acquire().await?, id).await
}

/// An entry and its history (see [`history`]); `NotFound` when there is no such entry.
pub async fn entry_history(db: &Db, id: i64) -> Result<(StoredEntry, Vec<HistoryRow>), StoreError> {
    let mut conn = db.pool.acquire().await?;
    let entry = load_or_404(&mut conn, id).await?;
    let history = history(&mut conn, id).await?;
    Ok((entry, history))
}

/// Entries by id, in the order given (ids not found are left out).
async fn load_many(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<StoredEntry>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids are i64 values we produced, so inlining them is safe; one statement, one round trip.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id IN ({list})"))
        .fetch_all(&mut *conn)
        .await?;
    let mut by_id = HashMap::new();
    for row in &rows {
        let entry = read_entry(row)?;
        by_id.insert(entry.id, entry);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Every live (not merged) entry, ordered by supplier and product key; with a supplier key, that
/// supplier's only.
pub async fn live_entries(db: &Db, supplier_key: Option<&str>) -> Result<Vec<StoredEntry>, StoreError> {
    let mut conn = db.pool.acquire().await?;
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
pub(crate) async fn resolve(conn: &mut AnyConnection, id: i64) -> Result<Option<i64>, StoreError> {
    let mut current = id;
    // Merges repoint earlier merges (see `merge`), so one step is the rule; the bound is a guard.
    for _ in 0..16 {
        let row = sqlx::query("SELECT merged_into FROM registry_entries WHERE id = $1")
            .bind(current)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            None => return Ok(None),
            Some(row) => match row.try_get::<Option<i64>, _>("merged_into")? {
                None => return Ok(Some(current)),
                Some(next) => current = next,
            },
        }
    }
    Err(StoreError::Internal(format!("registry entry {id}: merge chain too long")))
}

/// The live entry with this supplier/product identity (following merges), if any.
pub(crate) async fn find_by_key(conn: &mut AnyConnection, key: &(String, String)) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT id, merged_into FROM registry_entries WHERE supplier_key = $1 AND product_key = $2")
        .bind(key.0.clone())
        .bind(key.1.clone())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => match row.try_get::<Option<i64>, _>("merged_into")? {
            None => Ok(Some(row.try_get("id")?)),
            Some(into) => resolve(conn, into).await,
        },
        None => Ok(None),
    }
}

/// The entry and every entry merged into it, transitively.
pub(crate) async fn family(conn: &mut AnyConnection, id: i64) -> Result<Vec<i64>, StoreError> {
    let mut all = vec![id];
    let mut frontier = vec![id];
    while !frontier.is_empty() && all.len() < 10_000 {
        // Ids we produced: inlining them is safe.
        let list = frontier.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(&format!("SELECT id FROM registry_entries WHERE merged_into IN ({list})"))
            .fetch_all(&mut *conn)
            .await?;
        frontier = rows.iter().map(|row| row.try_get("id")).collect::<Result<_, _>>()?;
        frontier.retain(|id| !all.contains(id));
        all.extend(&frontier);
    }
    Ok(all)
}

/// An entry's history, newest first, with the history of every entry merged into it (at most
/// [`MAX_HISTORY_ROWS`]).
pub(crate) async fn history(conn: &mut AnyConnection, id: i64) -> Result<Vec<HistoryRow>, StoreError> {
    let list = family(conn, id).await?.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = sqlx::query(&format!(
        "SELECT h.entry_id AS entry_id, h.revision AS revision, h.kind AS kind, h.at AS at, \
         h.user_email AS user_email, h.org_id AS org_id, h.org_name AS org_name, h.source AS source, \
         h.snapshot AS snapshot FROM registry_history h WHERE h.entry_id IN ({list}) ORDER BY h.at DESC, h.id DESC \
         LIMIT {MAX_HISTORY_ROWS}"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let snapshot: String = row.try_get("snapshot")?;
            Ok(HistoryRow {
                entry_id: row.try_get("entry_id")?,
                revision: row.try_get("revision")?,
                kind: row.try_get("kind")?,
                at: time::format_rfc3339(row.try_get("at")?),
                user: row.try_get("user_email")?,
                org_id: row.try_get("org_id")?,
                org: row.try_get("org_name")?,
                source: row.try_get("source")?,
                snapshot: serde_json::from_str(&snapshot).unwrap_or(serde_json::Value::String(snapshot)),
            })
        })
        .collect()
}

/// The registry's version for caching. Any change adds a history row, so it changes with every
/// change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryVersion {
    /// Live (not merged) entries.
    pub live: i64,
    /// History rows.
    pub changes: i64,
    /// Unix seconds of the latest change.
    pub latest: i64,
}

/// The registry's [`RegistryVersion`].
pub async fn version(db: &Db) -> Result<RegistryVersion, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM registry_entries WHERE merged_into IS NULL) AS live, \
         (SELECT COUNT(*) FROM registry_history) AS changes, \
         (SELECT COALESCE(MAX(at), 0) FROM registry_history) AS latest",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok(RegistryVersion { live: row.try_get("live")?, changes: row.try_get("changes")?, latest: row.try_get("latest")? })
}

/// `GET /api/v1/registry/entries` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub supplier: Option<String>,
    pub product: Option<String>,
    /// Any of supplier, product, purl, CPE (substring, case and punctuation ignored for names).
    pub q: Option<String>,
    pub purl: Option<String>,
    pub cpe: Option<String>,
    pub status: Option<String>,
    pub cve: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// One page of search results.
#[derive(Debug, Serialize)]
pub struct SearchPage {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub entries: Vec<StoredEntry>,
}

fn nonempty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The WHERE clause of a search and its bound values; `Invalid` for an unknown status or a bad
/// CVE id.
fn search_filter(query: &SearchQuery) -> Result<(String, Vec<String>), StoreError> {
    let mut clauses = vec!["e.merged_into IS NULL".to_string()];
    let mut binds: Vec<String> = Vec::new();
    let bind = |value: String, binds: &mut Vec<String>| {
        binds.push(value);
        format!("${}", binds.len())
    };
    if let Some(supplier) = nonempty(&query.supplier) {
        let p = bind(crate::like_pattern(&entry_key(supplier, "").0), &mut binds);
        clauses.push(format!("e.supplier_key LIKE {p} ESCAPE '\\'"));
    }
    if let Some(product) = nonempty(&query.product) {
        let p = bind(crate::like_pattern(&entry_key("", product).1), &mut binds);
        clauses.push(format!("e.product_key LIKE {p} ESCAPE '\\'"));
    }
    if let Some(q) = nonempty(&query.q) {
        let words = bind(crate::like_pattern(&entry_key("", q).1), &mut binds);
        let raw = bind(crate::like_pattern(&q.to_lowercase()), &mut binds);
        clauses.push(format!(
            "((e.supplier_key || ' ' || e.product_key) LIKE {words} ESCAPE '\\' \
             OR LOWER(e.purl) LIKE {raw} ESCAPE '\\' OR LOWER(e.cpe) LIKE {raw} ESCAPE '\\')"
        ));
    }
    if let Some(purl) = nonempty(&query.purl) {
        let p = bind(purl.to_string(), &mut binds);
        clauses.push(format!("e.purl = {p}"));
    }
    if let Some(cpe) = nonempty(&query.cpe) {
        let p = bind(cpe.to_string(), &mut binds);
        clauses.push(format!("e.cpe = {p}"));
    }
    let status = match nonempty(&query.status) {
        Some(s) => Some(s.parse::<Status>().map_err(|e| StoreError::Invalid(Refusal::UnknownStatus(e)))?),
        None => None,
    };
    let cve = match nonempty(&query.cve) {
        Some(c) => Some(
            quell_registry::normalise_cve_id(c)
                .ok_or_else(|| StoreError::Invalid(Refusal::NotCve { text: c.to_string() }))?,
        ),
        None => None,
    };
    if status.is_some() || cve.is_some() {
        let mut inner = vec!["1 = 1".to_string()];
        if let Some(status) = status {
            let p = bind(status.as_str().to_string(), &mut binds);
            inner.push(format!("s.status = {p}"));
        }
        if let Some(cve) = cve {
            let p = bind(cve, &mut binds);
            inner.push(format!("s.cve = {p}"));
        }
        // An IN over the (cve, status, entry_id) index: one index range, not a probe per entry.
        clauses.push(format!("e.id IN (SELECT s.entry_id FROM registry_statuses s WHERE {})", inner.join(" AND ")));
    }
    Ok((clauses.join(" AND "), binds))
}

/// Searches live entries. Names are matched on their normalised keys (indexed columns), so
/// `cisco systems` finds `Cisco Systems, Inc.`.
pub async fn search(db: &Db, query: &SearchQuery) -> Result<SearchPage, StoreError> {
    let (filter, binds) = search_filter(query)?;
    let per_page = query.per_page.unwrap_or(DEFAULT_PAGE_ROWS).clamp(1, MAX_PAGE_ROWS);
    let page = query.page.unwrap_or(1).max(1);
    let offset = (page - 1).saturating_mul(per_page);
    let mut conn = db.pool.acquire().await?;
    let count_sql = format!("SELECT COUNT(*) AS total FROM registry_entries e WHERE {filter}");
    let mut count = sqlx::query(&count_sql);
    for value in &binds {
        count = count.bind(value.clone());
    }
    let total: i64 = count.fetch_one(&mut *conn).await?.try_get("total")?;
    // (supplier_key, product_key) is unique: the order is total and follows its index.
    let ids_sql = format!(
        "SELECT e.id AS id FROM registry_entries e WHERE {filter} ORDER BY e.supplier_key, e.product_key \
         LIMIT {per_page} OFFSET {offset}"
    );
    let mut ids = sqlx::query(&ids_sql);
    for value in &binds {
        ids = ids.bind(value.clone());
    }
    let ids: Vec<i64> =
        ids.fetch_all(&mut *conn).await?.iter().map(|row| row.try_get("id")).collect::<Result<_, _>>()?;
    let entries = load_many(&mut conn, &ids).await?;
    Ok(SearchPage { total, page, per_page, entries })
}
