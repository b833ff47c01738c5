//! Supplier confirmation: a coordinator records which supplier an organisation speaks for
//! (`orgs.supplier`); an organisation asks that organisation to confirm an entry's status; its
//! answer is a sourced revision (kind `supplier_confirmation`) and a notification to the asker.
//! Each organisation reads the requests it sent and those it received, no others.

use crate::Refusal;
use crate::{Missing, Thing};
use std::collections::BTreeMap;

use quell_model::time::now;
use quell_registry::{SourceRef, VulnStatus, entry_key};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::changes::{apply, begin_write};
use super::entries::{load_or_404, resolve};
use super::limits::{MAX_LIST_ROWS, MAX_NAME_BYTES, MAX_TEXT_BYTES};
use super::{Actor, ChangeKind, Target, as_text, check_len, dedup_keep_order, validate};
use crate::StoreError;
use crate::accounts::Principal;
use crate::db::Db;

/// Records the supplier organisation `id` speaks for (`None` clears it); `NotFound` for no such
/// organisation.
pub async fn set_supplier_org(db: &Db, id: i64, supplier: Option<String>) -> Result<Option<String>, StoreError> {
    let supplier = supplier.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    check_len("supplier", supplier.as_deref().unwrap_or(""), MAX_NAME_BYTES)?;
    let key = supplier.as_deref().map(|s| entry_key(s, "").0);
    let result = sqlx::query("UPDATE orgs SET supplier = $1, supplier_key = $2 WHERE id = $3")
        .bind(supplier.clone())
        .bind(key)
        .bind(id)
        .execute(&db.pool)
        .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(Missing::thing(Thing::Organisation, id)));
    }
    Ok(supplier)
}

const CONFIRMATION_COLUMNS: &str = "c.id AS id, c.entry_id AS entry_id, c.requester_org_id AS requester_org_id, \
                                    r.name AS requester_org, c.supplier_org_id AS supplier_org_id, \
                                    s.name AS supplier_org, c.message AS message, c.state AS state, \
                                    c.created_at AS created_at, c.answered_at AS answered_at, c.answer AS answer, \
                                    c.revision AS revision, e.supplier AS supplier, e.product AS product";

/// A confirmation request as listed.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Confirmation {
    pub id: i64,
    pub entry_id: i64,
    pub requester_org_id: i64,
    pub requester_org: String,
    pub supplier_org_id: i64,
    pub supplier_org: String,
    pub message: String,
    /// `open` or `answered`.
    pub state: String,
    #[serde(serialize_with = "as_text::rfc3339")]
    pub created_at: i64,
    #[serde(serialize_with = "as_text::opt_rfc3339")]
    pub answered_at: Option<i64>,
    /// The answer (JSON text; serialised as the JSON).
    #[serde(serialize_with = "as_text::opt_json")]
    pub answer: Option<String>,
    /// The revision the answer made.
    pub revision: Option<i64>,
    /// The entry's names.
    pub supplier: String,
    pub product: String,
}

/// Which side of a request the organisation is on.
#[derive(Debug, Clone, Copy)]
enum Side {
    Requester,
    Supplier,
}

async fn confirmations_where(
    conn: &mut AnyConnection,
    side: Side,
    org: i64,
    id: Option<i64>,
) -> Result<Vec<Confirmation>, StoreError> {
    let filter = match side {
        Side::Requester => "c.requester_org_id",
        Side::Supplier => "c.supplier_org_id",
    };
    Ok(sqlx::query_as(&format!(
        "SELECT {CONFIRMATION_COLUMNS} FROM registry_confirmations c JOIN orgs r ON r.id = c.requester_org_id \
         JOIN orgs s ON s.id = c.supplier_org_id JOIN registry_entries e ON e.id = c.entry_id \
         WHERE {filter} = $1 AND ($2 < 0 OR c.id = $2) ORDER BY c.id DESC LIMIT {MAX_LIST_ROWS}"
    ))
    .bind(org)
    .bind(id.unwrap_or(-1))
    .fetch_all(&mut *conn)
    .await?)
}

/// Sends a confirmation request for an entry (following merges) to the organisation that speaks
/// for its supplier; `NotFound` when there is none.
pub async fn request_confirmation(
    db: &Db,
    org: i64,
    user_id: i64,
    entry_id: i64,
    message: String,
) -> Result<Confirmation, StoreError> {
    check_len("message", &message, MAX_TEXT_BYTES)?;
    let mut conn = db.pool.acquire().await?;
    let id = resolve(&mut conn, entry_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::RegistryEntry, entry_id)))?;
    let entry = load_or_404(&mut conn, id).await?;
    let key = entry_key(&entry.entry.supplier, "").0;
    let supplier_org: i64 = sqlx::query("SELECT id FROM orgs WHERE supplier_key = $1 ORDER BY id")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(Missing::NoSupplierOrg { supplier: entry.entry.supplier.clone() }))?
        .try_get("id")?;
    let row = sqlx::query(
        "INSERT INTO registry_confirmations (entry_id, requester_org_id, supplier_org_id, requested_by, message, \
         state, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6) RETURNING id",
    )
    .bind(id)
    .bind(org)
    .bind(supplier_org)
    .bind(user_id)
    .bind(message)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    let new_id: i64 = row.try_get("id")?;
    let created = confirmations_where(&mut conn, Side::Requester, org, Some(new_id)).await?;
    created.into_iter().next().ok_or_else(|| StoreError::Internal(format!("confirmation request {new_id} vanished")))
}

/// (sent, received) confirmation requests of an organisation.
pub async fn confirmations(db: &Db, org: i64) -> Result<(Vec<Confirmation>, Vec<Confirmation>), StoreError> {
    let mut conn = db.pool.acquire().await?;
    let sent = confirmations_where(&mut conn, Side::Requester, org, None).await?;
    let received = confirmations_where(&mut conn, Side::Supplier, org, None).await?;
    Ok((sent, received))
}

/// A supplier organisation's answer to a confirmation request.
#[derive(Debug, Deserialize)]
pub struct AnswerBody {
    /// The statuses the supplier confirms or corrects (per CVE; others stay as they are).
    pub statuses: BTreeMap<String, VulnStatus>,
    /// The supplier's statement (an http(s) URL): becomes a link of the entry and the history source.
    pub source: String,
    /// Replaces the entry's notes when given.
    pub notes: Option<String>,
}

/// The supplier organisation `org` answers request `id` (one it received; `NotFound` otherwise):
/// a sourced registry revision (history kind `supplier_confirmation`) and a notification to the
/// requester, in one transaction. `Conflict` when it was answered already.
pub async fn answer(
    db: &Db,
    principal: &Principal,
    org: i64,
    id: i64,
    body: AnswerBody,
) -> Result<Confirmation, StoreError> {
    let actor = &Actor::of(db, principal).await?;
    let user_id = principal.user_id;
    let mut tx = begin_write(db).await?;
    let request = confirmations_where(&mut tx, Side::Supplier, org, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::ConfirmationRequest, id)))?;
    if request.state != "open" {
        return Err(StoreError::Conflict(Refusal::ConfirmationAnswered { id }));
    }
    let entry_id = request.entry_id;
    let entry_id = resolve(&mut tx, entry_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::RegistryEntry, entry_id)))?;
    let current = load_or_404(&mut tx, entry_id).await?;
    let mut entry = current.entry.clone();
    for (cve, status) in &body.statuses {
        let cve = quell_registry::normalise_cve_id(cve)
            .ok_or_else(|| StoreError::Invalid(Refusal::NotCve { text: cve.to_string() }))?;
        entry.statuses.insert(cve, status.clone());
    }
    if !entry.links.contains(&body.source) {
        entry.links.push(body.source.clone());
    }
    if let Some(notes) = &body.notes {
        entry.notes.clone_from(notes);
    }
    entry.sources.push(SourceRef { list: "supplier".to_string(), file: body.source.clone(), line: 0 });
    dedup_keep_order(&mut entry.sources);
    validate(&entry)?;
    let target = Target::Existing { id: entry_id, base_revision: current.revision };
    let applied = apply(&mut tx, target, &entry, ChangeKind::SupplierConfirmation, actor, Some(&body.source)).await?;
    let answer = json!({ "statuses": body.statuses, "source": body.source, "notes": body.notes });
    sqlx::query(
        "UPDATE registry_confirmations SET state = 'answered', answered_at = $1, answered_by = $2, answer = $3, \
         revision = $4 WHERE id = $5",
    )
    .bind(now())
    .bind(user_id)
    .bind(answer.to_string())
    .bind(applied.revision)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO registry_notifications (org_id, entry_id, revision, kind, message, created_at) \
         VALUES ($1, $2, $3, 'confirmation_answered', $4, $5)",
    )
    .bind(request.requester_org_id)
    .bind(entry_id)
    .bind(applied.revision)
    .bind(format!(
        "{} answered your confirmation request for {} / {} (revision {})",
        request.supplier_org, entry.supplier, entry.product, applied.revision
    ))
    .bind(now())
    .execute(&mut *tx)
    .await?;
    let answered = confirmations_where(&mut tx, Side::Supplier, org, Some(id)).await?;
    tx.commit().await?;
    answered.into_iter().next().ok_or_else(|| StoreError::Internal(format!("confirmation request {id} vanished")))
}
