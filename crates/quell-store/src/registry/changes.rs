//! Changing entries: [`apply`] (the one way an entry changes: projection, statuses, history row
//! and notifications in the caller's transaction), and the transactions built on it: an import,
//! an edit, a merge.

use crate::Refusal;
use quell_model::time::now;
use quell_registry::{Entry, entry_key};
use sqlx::{AnyConnection, Row};

use super::entries::{find_by_key, load_or_404};
use super::limits::{MAX_NAME_BYTES, MAX_TEXT_BYTES};
use super::{Actor, Applied, ChangeKind, StoredEntry, Target, check_len, dedup_keep_order, json_text, validate};
use crate::StoreError;
use crate::accounts::Principal;
use crate::db::{Backend, Db};

/// The outcome of a change that may find its entry changed since the revision it was based on.
#[derive(Debug)]
pub enum Decided<T> {
    Done(T),
    /// Nothing stored: the entry (if any) changed since; the caller shows it as it is now.
    Stale {
        entry_id: Option<i64>,
        message: Refusal,
    },
}

/// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so
/// a transaction that reads before it writes never fails on a snapshot another writer made stale.
pub(crate) async fn begin_write(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
    Ok(match db.backend {
        Backend::Sqlite => db.pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => db.pool.begin().await?,
    })
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
pub(crate) async fn apply(
    conn: &mut AnyConnection,
    target: Target,
    entry: &Entry,
    kind: ChangeKind,
    actor: &Actor,
    source: Option<&str>,
) -> Result<Applied, StoreError> {
    let key = entry_key(&entry.supplier, &entry.product);
    let at = now();
    let who = actor.label();
    // Another live or merged entry with this identity would break the unique key.
    let same_key: Option<i64> =
        sqlx::query("SELECT id FROM registry_entries WHERE supplier_key = $1 AND product_key = $2")
            .bind(key.0.clone())
            .bind(key.1.clone())
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| row.try_get("id"))
            .transpose()?;
    let applied = match target {
        Target::New => {
            if let Some(other) = same_key {
                return Err(StoreError::Conflict(Refusal::EntryExists {
                    other,
                    supplier: entry.supplier.clone(),
                    product: entry.product.clone(),
                    merge: false,
                }));
            }
            insert_entry(conn, entry, &key, at, &who).await?
        }
        Target::Existing { id, base_revision } => {
            if let Some(other) = same_key.filter(|other| *other != id) {
                return Err(StoreError::Conflict(Refusal::EntryExists {
                    other,
                    supplier: entry.supplier.clone(),
                    product: entry.product.clone(),
                    merge: true,
                }));
            }
            update_entry(conn, id, base_revision, entry, &key, at, &who).await?
        }
    };
    insert_statuses(conn, applied.id, entry).await?;
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
    let name = format!("{} / {}", entry.supplier, entry.product);
    notify(conn, applied, kind, &name, at).await?;
    if let Some(key) = entry.purl.as_deref().and_then(|p| quell_model::purl::Purl::parse(p).ok()).map(|p| p.key) {
        notify_runners(conn, applied, kind, &name, &key, at).await?;
    }
    Ok(applied)
}

async fn insert_entry(
    conn: &mut AnyConnection,
    entry: &Entry,
    key: &(String, String),
    at: i64,
    who: &str,
) -> Result<Applied, StoreError> {
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
    .bind(json_text(&entry.links)?)
    .bind(json_text(&entry.sources)?)
    .bind(at)
    .bind(who.to_string())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        if unique_violation(&e) {
            StoreError::Conflict(Refusal::EntryJustCreated {
                supplier: entry.supplier.clone(),
                product: entry.product.clone(),
            })
        } else {
            StoreError::Db(e)
        }
    })?;
    Ok(Applied { id: row.try_get("id")?, revision: 1 })
}

async fn update_entry(
    conn: &mut AnyConnection,
    id: i64,
    base_revision: i64,
    entry: &Entry,
    key: &(String, String),
    at: i64,
    who: &str,
) -> Result<Applied, StoreError> {
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
    .bind(json_text(&entry.links)?)
    .bind(json_text(&entry.sources)?)
    .bind(at)
    .bind(who.to_string())
    .bind(id)
    .bind(base_revision)
    .execute(&mut *conn)
    .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::Conflict(Refusal::EntryChanged { id, revision: base_revision }));
    }
    sqlx::query("DELETE FROM registry_statuses WHERE entry_id = $1").bind(id).execute(&mut *conn).await?;
    Ok(Applied { id, revision: base_revision + 1 })
}

async fn insert_statuses(conn: &mut AnyConnection, id: i64, entry: &Entry) -> Result<(), StoreError> {
    if entry.statuses.is_empty() {
        return Ok(());
    }
    // One statement for all of the entry's statuses (5 parameters a row; entries have a few CVEs).
    let values = (0..entry.statuses.len())
        .map(|i| format!("($1, ${}, ${}, ${}, ${})", 4 * i + 2, 4 * i + 3, 4 * i + 4, 4 * i + 5))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO registry_statuses (entry_id, cve, status, affected_versions, fixed_versions) VALUES {values}"
    );
    let mut insert = sqlx::query(&sql).bind(id);
    for (cve, status) in &entry.statuses {
        insert = insert
            .bind(cve.clone())
            .bind(status.status.as_str())
            .bind(json_text(&status.affected_versions)?)
            .bind(json_text(&status.fixed_versions)?);
    }
    insert.execute(&mut *conn).await?;
    Ok(())
}

/// One notification per organisation running the entry (by id or by the key of it or of an entry
/// merged into it).
async fn notify(
    conn: &mut AnyConnection,
    applied: Applied,
    kind: ChangeKind,
    name: &str,
    at: i64,
) -> Result<(), StoreError> {
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

/// One notification per organisation whose current inventory or SBOM holds the entry's package
/// (its purl's key, any version: an entry's versions are the supplier's words), unless it was
/// notified of this revision already as a registered user of the product.
async fn notify_runners(
    conn: &mut AnyConnection,
    applied: Applied,
    kind: ChangeKind,
    name: &str,
    purl_key: &str,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registry_notifications (org_id, entry_id, revision, kind, message, created_at) \
         SELECT DISTINCT c.org_id, $1, $2, $3, $4, $5 FROM components c WHERE c.purl_key = $6 AND c.current = 1 \
         AND NOT EXISTS (SELECT 1 FROM registry_notifications n WHERE n.org_id = c.org_id AND n.entry_id = $1 \
             AND n.revision = $2)",
    )
    .bind(applied.id)
    .bind(applied.revision)
    .bind(kind.as_str())
    .bind(format!("{name} changed (revision {}, {}); your inventory runs {purl_key}", applied.revision, kind.as_str()))
    .bind(at)
    .bind(purl_key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks entry `id` (at `revision`) as merged into `into`: a new revision of it, with its own
/// history row (kind `merge`), its content unchanged. `Conflict` when it changed meanwhile.
async fn mark_merged(
    conn: &mut AnyConnection,
    id: i64,
    revision: i64,
    into: i64,
    entry: &Entry,
    actor: &Actor,
) -> Result<(), StoreError> {
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
        return Err(StoreError::Conflict(Refusal::MergedEntryChanged { id, revision }));
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

/// The existing entry with an imported one merged in (the library's rule, existing first so its
/// spelling wins); sources and conflicts once each, so importing the same file again changes nothing.
fn merge_existing(existing: &Entry, imported: Entry) -> Entry {
    let mut imported = imported;
    // An identity of an entry merged into `existing` resolves to it: merge under its name.
    imported.supplier.clone_from(&existing.supplier);
    imported.product.clone_from(&existing.product);
    let mut merged =
        quell_registry::merge(vec![existing.clone(), imported]).into_iter().next().unwrap_or_else(|| existing.clone());
    dedup_keep_order(&mut merged.sources);
    dedup_keep_order(&mut merged.conflicts);
    dedup_keep_order(&mut merged.links);
    merged
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Stores the entries of one imported file (already merged among themselves) in one
/// transaction: new identities are created, existing ones get the imported entry merged in.
pub async fn import(
    db: &Db,
    entries: Vec<Entry>,
    principal: &Principal,
    source: &str,
) -> Result<ImportCounts, StoreError> {
    let actor = &Actor::of(db, principal).await?;
    let mut counts = ImportCounts::default();
    let mut tx = begin_write(db).await?;
    for entry in entries {
        match find_by_key(&mut tx, &entry.key()).await? {
            None => {
                apply(&mut tx, Target::New, &entry, ChangeKind::Import, actor, Some(source)).await?;
                counts.created += 1;
            }
            Some(id) => {
                let existing = load_or_404(&mut tx, id).await?;
                let merged = merge_existing(&existing.entry, entry);
                if merged == existing.entry {
                    counts.unchanged += 1;
                } else {
                    let target = Target::Existing { id, base_revision: existing.revision };
                    apply(&mut tx, target, &merged, ChangeKind::Import, actor, Some(source)).await?;
                    counts.updated += 1;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(counts)
}

/// Validates and stores an edit of entry `id` based on `base`; the entry keeps its import sources.
/// `Conflict` when the entry changed since `base`.
pub async fn edit(
    db: &Db,
    id: i64,
    base: i64,
    mut entry: Entry,
    source: Option<String>,
    principal: &Principal,
) -> Result<Applied, StoreError> {
    let actor = &Actor::of(db, principal).await?;
    validate(&entry)?;
    if let Some(source) = &source {
        check_len("source", source, MAX_TEXT_BYTES)?;
    }
    let mut tx = begin_write(db).await?;
    let current = load_or_404(&mut tx, id).await?;
    entry.sources = current.entry.sources.clone();
    let source = source.or_else(|| entry.links.first().cloned());
    let target = Target::Existing { id, base_revision: base };
    let applied = apply(&mut tx, target, &entry, ChangeKind::Edit, actor, source.as_deref()).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Merges entry `from` into entry `id`. The rule is the library's [`quell_registry::merge`] with
/// the surviving entry first: its names, purl and CPE win; per CVE the status of higher
/// precedence (`fix` > `workaround` > `vulnerable` > `not_vulnerable` > `under_investigation`) is
/// kept and the other recorded as a conflict; links, notes and sources are united. The duplicate
/// keeps its history (listed with the survivor's) and points at the survivor. `Stale` when either
/// was merged already or is not at the revision given.
pub async fn merge(
    db: &Db,
    id: i64,
    from: i64,
    revisions: (Option<i64>, Option<i64>),
    principal: &Principal,
) -> Result<Decided<StoredEntry>, StoreError> {
    let actor = &Actor::of(db, principal).await?;
    if from == id {
        return Err(StoreError::Invalid(Refusal::MergeIntoItself));
    }
    let stale = |message: Refusal| Ok(Decided::Stale { entry_id: Some(id), message });
    let mut tx = begin_write(db).await?;
    let a = load_or_404(&mut tx, id).await?;
    let b = load_or_404(&mut tx, from).await?;
    if a.merged_into.is_some() || b.merged_into.is_some() {
        return stale(Refusal::AlreadyMerged);
    }
    if revisions.0.is_some_and(|r| r != a.revision) || revisions.1.is_some_and(|r| r != b.revision) {
        return stale(Refusal::ChangedSinceSeen);
    }
    let mut merged = merge_existing(&a.entry, b.entry.clone());
    // The duplicate's own import sources and links move with it.
    for source in &b.entry.sources {
        if !merged.sources.contains(source) {
            merged.sources.push(source.clone());
        }
    }
    let target = Target::Existing { id, base_revision: a.revision };
    let source = format!("merged entry {} ({} / {})", b.id, b.entry.supplier, b.entry.product);
    // B first, so that A's change notifies the organisations running B too.
    mark_merged(&mut tx, b.id, b.revision, id, &b.entry, actor).await?;
    apply(&mut tx, target, &merged, ChangeKind::Merge, actor, Some(&source)).await?;
    let entry = load_or_404(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Decided::Done(entry))
}

/// `Invalid` for an import file name longer than [`MAX_NAME_BYTES`].
pub fn check_file_name(name: &str) -> Result<(), StoreError> {
    check_len("name", name, MAX_NAME_BYTES)
}
