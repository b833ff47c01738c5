//! Proposals: an organisation user proposes an addition or a change; a coordinator accepts it
//! (a new revision, kind `accepted_proposal`, only on top of the proposal's base revision) or
//! rejects it with a reason. An organisation reads only its own proposals.

use crate::Refusal;
use crate::{Missing, Thing};
use quell_model::time::now;
use quell_registry::Entry;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::changes::{Decided, apply, begin_write};
use super::entries::load_or_404;
use super::limits::{MAX_LIST_ROWS, MAX_TEXT_BYTES};
use super::{Actor, ChangeKind, Target, as_text, check_len, validate};
use crate::StoreError;
use crate::accounts::Principal;
use crate::db::Db;

const PROPOSAL_COLUMNS: &str = "p.id AS id, p.org_id AS org_id, o.name AS org, u.email AS user_email, \
                                p.entry_id AS entry_id, p.base_revision AS base_revision, p.proposed AS proposed, \
                                p.comment AS comment, p.state AS state, p.reason AS reason, \
                                p.created_at AS created_at, p.decided_at AS decided_at, \
                                p.result_entry_id AS result_entry_id, p.result_revision AS result_revision";

/// A proposal as listed.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Proposal {
    pub id: i64,
    pub org_id: i64,
    /// The proposing organisation's name.
    pub org: String,
    /// The proposing user's e-mail.
    #[sqlx(rename = "user_email")]
    pub user: String,
    /// The entry to change; none for an addition.
    pub entry_id: Option<i64>,
    pub base_revision: Option<i64>,
    /// The proposed entry (JSON text; serialised as the entry).
    #[sqlx(rename = "proposed")]
    #[serde(serialize_with = "as_text::json")]
    pub entry: String,
    pub comment: String,
    /// `open`, `accepted` or `rejected`.
    pub state: String,
    pub reason: Option<String>,
    #[serde(serialize_with = "as_text::rfc3339")]
    pub created_at: i64,
    #[serde(serialize_with = "as_text::opt_rfc3339")]
    pub decided_at: Option<i64>,
    pub result_entry_id: Option<i64>,
    pub result_revision: Option<i64>,
}

impl Proposal {
    /// The proposed entry, if its stored text parses.
    pub fn proposed(&self) -> Option<Entry> {
        serde_json::from_str(&self.entry).ok()
    }
}

/// One proposal, of organisation `org` only (`None`: a coordinator, any organisation's);
/// `NotFound` otherwise.
async fn load(conn: &mut AnyConnection, org: Option<i64>, id: i64) -> Result<Proposal, StoreError> {
    let row: Option<Proposal> = sqlx::query_as(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM registry_proposals p JOIN orgs o ON o.id = p.org_id \
         JOIN users u ON u.id = p.user_id WHERE p.id = $1 AND ($2 < 0 OR p.org_id = $2)"
    ))
    .bind(id)
    .bind(org.unwrap_or(-1))
    .fetch_optional(&mut *conn)
    .await?;
    row.ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::Proposal, id)))
}

/// One proposal, of organisation `org` only (`None`: a coordinator, any organisation's).
pub async fn proposal(db: &Db, org: Option<i64>, id: i64) -> Result<Proposal, StoreError> {
    load(&mut *db.pool.acquire().await?, org, id).await
}

/// Stores an organisation user's proposal (validated like an edit); answers it as listed.
pub async fn create_proposal(
    db: &Db,
    org: i64,
    user_id: i64,
    (entry_id, base_revision): (Option<i64>, Option<i64>),
    entry: Entry,
    comment: String,
) -> Result<Proposal, StoreError> {
    validate(&entry)?;
    check_len("comment", &comment, MAX_TEXT_BYTES)?;
    let mut conn = db.pool.acquire().await?;
    let base = match entry_id {
        Some(id) => {
            let current = load_or_404(&mut conn, id).await?;
            if let Some(target) = current.merged_into {
                return Err(StoreError::Invalid(Refusal::ProposeOnMerged { id, target }));
            }
            Some(base_revision.unwrap_or(current.revision))
        }
        None => None,
    };
    let proposed = serde_json::to_string(&entry).map_err(|e| StoreError::Internal(e.to_string()))?;
    let row = sqlx::query(
        "INSERT INTO registry_proposals (org_id, user_id, entry_id, base_revision, proposed, comment, state, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING id",
    )
    .bind(org)
    .bind(user_id)
    .bind(entry_id)
    .bind(base)
    .bind(proposed)
    .bind(comment)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    let id: i64 = row.try_get("id")?;
    load(&mut conn, Some(org), id).await
}

/// Proposals, newest first: of organisation `org` only (`None`: every organisation's, for
/// coordinators), in state `wanted_state` (`None`: any).
pub async fn proposals(db: &Db, org: Option<i64>, wanted_state: Option<String>) -> Result<Vec<Proposal>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM registry_proposals p JOIN orgs o ON o.id = p.org_id \
         JOIN users u ON u.id = p.user_id WHERE ($1 < 0 OR p.org_id = $1) AND ($2 = '' OR p.state = $2) \
         ORDER BY p.id DESC LIMIT {MAX_LIST_ROWS}"
    ))
    .bind(org.unwrap_or(-1))
    .bind(wanted_state.unwrap_or_default())
    .fetch_all(&db.pool)
    .await?)
}

/// Accepts a proposal (coordinators): a new revision of its entry (or a new entry), one
/// transaction. `Stale` when the entry changed since the proposal's base revision (nothing
/// stored); `Conflict` when the proposal was decided already.
pub async fn accept(db: &Db, principal: &Principal, id: i64) -> Result<Decided<Proposal>, StoreError> {
    let actor = &Actor::of(db, principal).await?;
    let user_id = principal.user_id;
    let mut tx = begin_write(db).await?;
    let p = load(&mut tx, None, id).await?;
    if p.state != "open" {
        // As JSON, quoted: `proposal 3 is already "accepted"`.
        return Err(StoreError::Conflict(Refusal::ProposalState { id, state: p.state.clone() }));
    }
    let mut entry: Entry = serde_json::from_str(&p.entry)
        .map_err(|e| StoreError::Internal(format!("stored proposal does not parse: {e}")))?;
    let source = format!("proposal {id} by {} ({})", p.user, p.org);
    let entry_id = p.entry_id;
    let result = match entry_id {
        Some(entry_id) => {
            let current = load_or_404(&mut tx, entry_id).await?;
            entry.sources = current.entry.sources.clone();
            let base_revision = p.base_revision.unwrap_or(current.revision);
            let target = Target::Existing { id: entry_id, base_revision };
            apply(&mut tx, target, &entry, ChangeKind::AcceptedProposal, actor, Some(&source)).await
        }
        None => apply(&mut tx, Target::New, &entry, ChangeKind::AcceptedProposal, actor, Some(&source)).await,
    };
    let applied = match result {
        Ok(applied) => applied,
        Err(StoreError::Conflict(message)) => return Ok(Decided::Stale { entry_id, message }),
        Err(other) => return Err(other),
    };
    sqlx::query(
        "UPDATE registry_proposals SET state = 'accepted', decided_at = $1, decided_by = $2, result_entry_id = $3, \
         result_revision = $4 WHERE id = $5 AND state = 'open'",
    )
    .bind(now())
    .bind(user_id)
    .bind(applied.id)
    .bind(applied.revision)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let decided = load(&mut tx, None, id).await?;
    tx.commit().await?;
    Ok(Decided::Done(decided))
}

/// Rejects an open proposal with a reason (coordinators); `Conflict` when it was decided already.
pub async fn reject(db: &Db, user_id: i64, id: i64, reason: &str) -> Result<Proposal, StoreError> {
    if reason.trim().is_empty() {
        return Err(StoreError::Invalid(Refusal::ReasonRequired));
    }
    check_len("reason", reason, MAX_TEXT_BYTES)?;
    let mut conn = db.pool.acquire().await?;
    load(&mut conn, None, id).await?;
    let result = sqlx::query(
        "UPDATE registry_proposals SET state = 'rejected', reason = $1, decided_at = $2, decided_by = $3 \
         WHERE id = $4 AND state = 'open'",
    )
    .bind(reason.trim().to_string())
    .bind(now())
    .bind(user_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::Conflict(Refusal::ProposalDecided { id }));
    }
    load(&mut conn, None, id).await
}
