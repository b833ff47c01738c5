//! The audit log: append-only (database triggers refuse UPDATE and DELETE) — who did what to
//! whom, and when: logins, failed logins, account changes (created, disabled, enabled, removed,
//! password changed). Coordinators read all of it; an organisation's admins the events that
//! concern their organisation.
//!
//! Invariant: an event is written in the same transaction as the change it records, when there
//! is one, so a change without its event cannot be committed.

use serde::Serialize;
use sqlx::Row;

use crate::accounts::Principal;
use crate::limits::MAX_PAGE_ROWS;
use crate::{Db, StoreError};
use quell_model::time::{format_rfc3339, now};

/// Who acted: a principal, or nobody known (a failed login, the command line).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub email: Option<String>,
    pub org_id: Option<i64>,
}

impl Actor {
    pub fn of(principal: &Principal) -> Actor {
        Actor { user_id: Some(principal.user_id), email: Some(principal.email.clone()), org_id: principal.org_id }
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub actor: Actor,
    /// Accounts: `login`, `login_failed`, `account_created`, `account_disabled`,
    /// `account_enabled`, `account_removed`, `password_changed`, `password_reset_issued`,
    /// `password_reset`, `two_factor_enabled`, `two_factor_removed`, `two_factor_policy`,
    /// `account_role_changed`. The aggregator: `csaf_subscribed`, `csaf_unsubscribed`. Information under an audited marking (AMBER and above) and inventories:
    /// `advisory_read`, `advisory_exported`, `advisory_delivered`, `inventory_read`,
    /// `inventory_exported`.
    pub action: &'a str,
    /// The organisation the event concerns (`None`: coordinators').
    pub org_id: Option<i64>,
    /// What it was done to (`user:12 it@example.nl`).
    pub target: String,
    pub detail: String,
}

/// Records an event inside an open transaction or on the pool.
pub async fn record<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    event: &Event<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor_email, actor_org_id, action, org_id, target, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now())
    .bind(event.actor.user_id)
    .bind(event.actor.email.clone())
    .bind(event.actor.org_id)
    .bind(event.action)
    .bind(event.org_id)
    .bind(event.target.clone())
    .bind(event.detail.clone())
    .execute(executor)
    .await?;
    Ok(())
}

/// One event as read.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    pub actor: Option<String>,
    pub action: String,
    pub org_id: Option<i64>,
    pub target: String,
    pub detail: String,
}

/// Which events to read: every organisation's (`org: None`, coordinators) or one's, optionally
/// one action only, older than the event `before` (a cursor for paging back).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub org: Option<i64>,
    pub action: Option<String>,
    pub before: Option<i64>,
}

/// The newest events first, at most `limit` (clamped to [`MAX_PAGE_ROWS`]).
pub async fn list(db: &Db, filter: &Filter, limit: i64) -> Result<Vec<Entry>, StoreError> {
    let limit = limit.clamp(1, MAX_PAGE_ROWS);
    let before = filter.before.unwrap_or(i64::MAX);
    // One statement for every filter: a NULL parameter matches everything.
    let rows = sqlx::query(
        "SELECT id, at, actor_email, action, org_id, target, detail FROM audit_log \
         WHERE id < $1 AND ($2 IS NULL OR org_id = $2) AND ($3 IS NULL OR action = $3) \
         ORDER BY id DESC LIMIT $4",
    )
    .bind(before)
    .bind(filter.org)
    .bind(filter.action.clone())
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Entry {
                id: row.try_get("id")?,
                at: format_rfc3339(row.try_get("at")?),
                actor: row.try_get("actor_email")?,
                action: row.try_get("action")?,
                org_id: row.try_get("org_id")?,
                target: row.try_get("target")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect()
}
