//! Affected systems of an advisory as stored: hosts whose reports showed affected copies,
//! registered products matching the advisory's products, and the decisions recorded on them.
//! What a system's state is at a time is decided in `quell_advisory::progress`.
//!
//! - A **system** is a host whose scan reports ever showed a copy affected by one of the
//!   advisory's CVEs (`report_cve_counts`, status `affected`), or a product an organisation
//!   registered (`org_products`) that matches one of the advisory's products: the same registry
//!   entry, or the same normalised supplier and product (`quell_registry::entry_key`). Versions
//!   are not compared (the advisory's are free text); a registered product counts as affected
//!   from publication until a decision resolves it.
//! - Decisions are append-only (triggers refuse UPDATE and DELETE); the newest counts, the
//!   history is kept. A decision is recorded only on a system of the caller's organisation.

use crate::Missing;
use crate::Refusal;
use std::collections::BTreeMap;

use quell_advisory::progress::{DECISIONS, Decision, JUSTIFICATIONS, SystemRef, Timeline};
use serde::Deserialize;
use sqlx::Row;

use super::{check_note, placeholders};
use crate::db::Db;
use crate::{Result, StoreError};
use quell_model::time::now;

/// A decision as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub decision: String,
    /// Which measure (required for `mitigated`).
    #[serde(default)]
    pub measure: Option<String>,
    /// Required for `not_affected`: one of [`JUSTIFICATIONS`].
    #[serde(default)]
    pub justification: Option<String>,
    /// Required for `risk_accepted`.
    #[serde(default)]
    pub reason: Option<String>,
    /// Required for `risk_accepted`, in the future: an RFC 3339 time as every other time field
    /// (`2027-01-31T00:00:00Z`), or Unix seconds as older clients send it.
    #[serde(default, deserialize_with = "rfc3339_or_unix")]
    pub expires_at: Option<i64>,
}

/// An optional time as RFC 3339 text or Unix seconds.
fn rfc3339_or_unix<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Time {
        Unix(i64),
        Text(String),
    }
    match Option::<Time>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Time::Unix(unix)) => Ok(Some(unix)),
        Some(Time::Text(text)) => quell_model::time::parse_rfc3339(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expires_at {text:?} is not an RFC 3339 time"))),
    }
}

pub async fn timelines(db: &Db, scope: &Scope<'_>, org: Option<i64>) -> Result<Vec<Timeline>> {
    let Scope { advisory_id, cves, products, components, published } = *scope;
    let mut by_system = host_timelines(db, cves, org).await?;
    add_component_timelines(db, components, org, &mut by_system).await?;
    for p in registered_products(db, products, cves, org).await? {
        by_system.insert(
            SystemRef::Product(p.id),
            Timeline {
                org_id: p.org_id,
                system: SystemRef::Product(p.id),
                name: p.name,
                registry_fix: p.registry_fix,
                reports: vec![(published, 1)],
                decisions: Vec::new(),
            },
        );
    }
    attach_decisions(db, advisory_id, org, &mut by_system).await?;
    Ok(by_system.into_values().collect())
}

/// What an advisory's systems are computed from.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub advisory_id: i64,
    pub cves: &'a [String],
    pub products: &'a [quell_advisory::Product],
    /// Affected components (purl + versions), matched against inventories and SBOMs.
    pub components: &'a [quell_advisory::AffectedComponent],
    /// First publication (registered products are affected from then on).
    pub published: i64,
}

async fn host_timelines(db: &Db, cves: &[String], org: Option<i64>) -> Result<BTreeMap<SystemRef, Timeline>> {
    if cves.is_empty() {
        return Ok(BTreeMap::new());
    }
    let n = cves.len();
    let org_filter = if org.is_some() { format!("AND r.org_id = ${}", 2 * n + 1) } else { String::new() };
    let sql = format!(
        "SELECT r.org_id, r.host_id, h.name, r.scanned_at, \
         CAST(COALESCE(SUM(CASE WHEN c.status = 'affected' AND c.cve IN ({a}) THEN c.count ELSE 0 END), 0) AS BIGINT) AS affected \
         FROM reports r JOIN hosts h ON h.id = r.host_id LEFT JOIN report_cve_counts c ON c.report_id = r.id \
         WHERE r.host_id IN (SELECT r2.host_id FROM reports r2 JOIN report_cve_counts c2 ON c2.report_id = r2.id \
           WHERE c2.status = 'affected' AND c2.count > 0 AND c2.cve IN ({b})) {org_filter} \
         GROUP BY r.id, r.org_id, r.host_id, h.name, r.scanned_at ORDER BY r.host_id, r.scanned_at, r.id",
        a = placeholders(1, n),
        b = placeholders(n + 1, n),
    );
    let mut q = sqlx::query(&sql);
    for cve in cves.iter().chain(cves.iter()) {
        q = q.bind(cve);
    }
    if let Some(org) = org {
        q = q.bind(org);
    }
    let mut by_system: BTreeMap<SystemRef, Timeline> = BTreeMap::new();
    for row in q.fetch_all(&db.pool).await? {
        let host_id: i64 = row.try_get("host_id")?;
        let t = by_system.entry(SystemRef::Host(host_id)).or_insert(Timeline {
            org_id: row.try_get("org_id")?,
            system: SystemRef::Host(host_id),
            name: row.try_get("name")?,
            registry_fix: None,
            reports: Vec::new(),
            decisions: Vec::new(),
        });
        t.reports.push((row.try_get("scanned_at")?, row.try_get("affected")?));
    }
    Ok(by_system)
}

/// Adds the systems whose inventories or SBOMs ever held one of the advisory's components: per
/// list, the copies in an affected version. A host that is also a system through its scan
/// findings gets both counted at each time (the later of each at or before it).
async fn add_component_timelines(
    db: &Db,
    components: &[quell_advisory::AffectedComponent],
    org: Option<i64>,
    by_system: &mut BTreeMap<SystemRef, Timeline>,
) -> Result<()> {
    let wanted = super::groups::wanted_components(components);
    if wanted.is_empty() {
        return Ok(());
    }
    for (host_id, history) in crate::components::histories(db, &wanted, org).await? {
        let from_lists = history.timeline();
        if !from_lists.iter().any(|(_, copies)| *copies > 0) {
            continue;
        }
        let t = by_system.entry(SystemRef::Host(host_id)).or_insert(Timeline {
            org_id: history.org_id,
            system: SystemRef::Host(host_id),
            name: history.name.clone(),
            registry_fix: None,
            reports: Vec::new(),
            decisions: Vec::new(),
        });
        t.reports = merge_counts(&t.reports, &from_lists);
    }
    Ok(())
}

/// Two (time, count) series as one: at each time of either, the sum of each series' latest value
/// at or before it.
fn merge_counts(a: &[(i64, i64)], b: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut times: Vec<i64> = a.iter().chain(b).map(|(t, _)| *t).collect();
    times.sort_unstable();
    times.dedup();
    let at = |series: &[(i64, i64)], t: i64| series.iter().rev().find(|(s, _)| *s <= t).map_or(0, |(_, c)| *c);
    times.into_iter().map(|t| (t, at(a, t) + at(b, t))).collect()
}

/// A registered product matching an advisory's products.
#[derive(Debug, Clone)]
pub struct RegisteredProduct {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub registry_fix: Option<bool>,
}

/// Registered products (`org_products`) matching any of `products`: the same registry entry, or
/// the same normalised supplier and product. `registry_fix`: for a product linked to a registry
/// entry that has a status for one of `cves`, whether any of them is `fix`.
pub async fn registered_products(
    db: &Db,
    products: &[quell_advisory::Product],
    cves: &[String],
    org: Option<i64>,
) -> Result<Vec<RegisteredProduct>> {
    if products.is_empty() {
        return Ok(Vec::new());
    }
    let mut conditions = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut entry_ids: Vec<i64> = Vec::new();
    for p in products {
        let (supplier, product) = quell_registry::entry_key(&p.supplier, &p.product);
        conditions.push(format!("(op.supplier_key = ${} AND op.product_key = ${})", binds.len() + 1, binds.len() + 2));
        binds.push(supplier);
        binds.push(product);
        if let Some(id) = p.registry_entry_id {
            entry_ids.push(id);
        }
    }
    // Entry ids and the organisation come after the text binds.
    let mut next = binds.len();
    for _ in &entry_ids {
        next += 1;
        conditions.push(format!("op.entry_id = ${next}"));
    }
    let org_filter = match org {
        Some(_) => format!("AND op.org_id = ${}", next + 1),
        None => String::new(),
    };
    let sql = format!(
        "SELECT op.id, op.org_id, op.supplier, op.product, op.version, op.entry_id FROM org_products op \
         WHERE ({}) {org_filter} ORDER BY op.id",
        conditions.join(" OR ")
    );
    let mut q = sqlx::query(&sql);
    for b in &binds {
        q = q.bind(b.clone());
    }
    for id in &entry_ids {
        q = q.bind(*id);
    }
    if let Some(org) = org {
        q = q.bind(org);
    }
    let mut out = Vec::new();
    for row in q.fetch_all(&db.pool).await? {
        out.push(registered_product(db, &row, cves).await?);
    }
    Ok(out)
}

/// A registered product of a row of `org_products`, with its name and the registry's fix status.
async fn registered_product(db: &Db, row: &sqlx::any::AnyRow, cves: &[String]) -> Result<RegisteredProduct> {
    let supplier: String = row.try_get("supplier")?;
    let product: String = row.try_get("product")?;
    let version: Option<String> = row.try_get("version")?;
    let entry: Option<i64> = row.try_get("entry_id")?;
    let registry_fix = match entry {
        Some(entry) if !cves.is_empty() => registry_fix(db, entry, cves).await?,
        _ => None,
    };
    let name = match version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => format!("{supplier} {product} {v}"),
        None => format!("{supplier} {product}"),
    };
    Ok(RegisteredProduct { id: row.try_get("id")?, org_id: row.try_get("org_id")?, name, registry_fix })
}

/// Whether the registry knows a fix for a registry entry and any of `cves` (`None`: it has no
/// status for them).
async fn registry_fix(db: &Db, entry: i64, cves: &[String]) -> Result<Option<bool>> {
    let sql = format!(
        "SELECT status FROM registry_statuses WHERE entry_id = $1 AND cve IN ({})",
        placeholders(2, cves.len())
    );
    let mut q = sqlx::query_scalar(&sql).bind(entry);
    for cve in cves {
        q = q.bind(cve);
    }
    let statuses: Vec<String> = q.fetch_all(&db.pool).await?;
    Ok(if statuses.is_empty() { None } else { Some(statuses.iter().any(|s| s == "fix")) })
}

async fn attach_decisions(
    db: &Db,
    advisory_id: i64,
    org: Option<i64>,
    by_system: &mut BTreeMap<SystemRef, Timeline>,
) -> Result<()> {
    let (sql, bind_org) = match org {
        Some(_) => (format!("{DECISION_SQL} AND d.org_id = $2 ORDER BY d.at, d.id"), true),
        None => (format!("{DECISION_SQL} ORDER BY d.at, d.id"), false),
    };
    let mut q = sqlx::query(&sql).bind(advisory_id);
    if bind_org {
        q = q.bind(org);
    }
    for row in q.fetch_all(&db.pool).await? {
        let d = decision_row(&row)?;
        let key = match (d.host_id, d.org_product_id) {
            (Some(h), _) => SystemRef::Host(h),
            (None, Some(p)) => SystemRef::Product(p),
            (None, None) => continue,
        };
        if let Some(t) = by_system.get_mut(&key) {
            t.decisions.push(d);
        }
    }
    Ok(())
}

const DECISION_SQL: &str = "SELECT d.id, d.host_id, d.org_product_id, d.decision, d.measure, d.justification, \
     d.reason, d.expires_at, u.email AS decided_by, d.at FROM advisory_decisions d JOIN users u ON u.id = d.user_id \
     WHERE d.advisory_id = $1";

fn decision_row(row: &sqlx::any::AnyRow) -> Result<Decision> {
    Ok(Decision {
        id: row.try_get("id")?,
        host_id: row.try_get("host_id")?,
        org_product_id: row.try_get("org_product_id")?,
        decision: row.try_get("decision")?,
        measure: row.try_get("measure")?,
        justification: row.try_get("justification")?,
        reason: row.try_get("reason")?,
        expires_at: row.try_get("expires_at")?,
        by: row.try_get("decided_by")?,
        at: row.try_get("at")?,
    })
}
/// Records a decision on a host of the caller's organisation. The host must be one of the
/// advisory's systems in that organisation (404 otherwise, also for another organisation's host).
pub async fn decide(
    db: &Db,
    scope: &Scope<'_>,
    org: i64,
    user: i64,
    system: SystemRef,
    body: &DecisionBody,
) -> Result<Decision> {
    let advisory_id = scope.advisory_id;
    let at = now();
    let Checked { measure, justification, reason, expires_at } = check_decision(body, at)?;
    let owned = timelines(db, scope, Some(org)).await?.into_iter().any(|t| t.system == system);
    if !owned {
        return Err(StoreError::NotFound(Missing::NotAffectedSystem { system: format!("{system:?}") }));
    }
    let (host_id, product_id) = match system {
        SystemRef::Host(h) => (Some(h), None),
        SystemRef::Product(p) => (None, Some(p)),
    };
    let id: i64 = sqlx::query(
        "INSERT INTO advisory_decisions (advisory_id, org_id, host_id, org_product_id, decision, measure, \
         justification, reason, expires_at, user_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         RETURNING id",
    )
    .bind(advisory_id)
    .bind(org)
    .bind(host_id)
    .bind(product_id)
    .bind(&body.decision)
    .bind(&measure)
    .bind(&justification)
    .bind(&reason)
    .bind(expires_at)
    .bind(user)
    .bind(at)
    .fetch_one(&db.pool)
    .await?
    .try_get("id")?;
    history(db, advisory_id, org, system)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| StoreError::Internal("decision vanished".into()))
}

/// The fields of a decision that its kind needs, trimmed.
struct Checked {
    measure: Option<String>,
    justification: Option<String>,
    reason: Option<String>,
    expires_at: Option<i64>,
}

/// Checks a decision: a known kind, the fields it needs (a measure for `mitigated`, a
/// justification for `not_affected`, a reason and a future expiry for `risk_accepted`).
fn check_decision(body: &DecisionBody, at: i64) -> Result<Checked> {
    if !DECISIONS.contains(&body.decision.as_str()) {
        return Err(StoreError::Invalid(Refusal::NotOneOf { field: "decision", allowed: DECISIONS.to_vec() }));
    }
    let text = |what: &'static str, v: &Option<String>, required: bool| -> Result<Option<String>> {
        let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if required && v.is_none() {
            return Err(StoreError::Invalid(Refusal::DecisionNeeds { decision: body.decision.clone(), what }));
        }
        if let Some(v) = v {
            check_note(what, v, false)?;
        }
        Ok(v.map(str::to_string))
    };
    let measure = text("measure", &body.measure, body.decision == "mitigated")?;
    let reason = text("reason", &body.reason, body.decision == "risk_accepted")?;
    let justification = text("justification", &body.justification, body.decision == "not_affected")?;
    if let Some(j) = &justification
        && !JUSTIFICATIONS.contains(&j.as_str())
    {
        return Err(StoreError::Invalid(Refusal::NotOneOf {
            field: "justification",
            allowed: JUSTIFICATIONS.to_vec(),
        }));
    }
    let expires_at = match (body.decision.as_str(), body.expires_at) {
        ("risk_accepted", Some(e)) if e > at => Some(e),
        ("risk_accepted", _) => {
            return Err(StoreError::Invalid(Refusal::RiskAcceptedExpiry));
        }
        (_, _) => None,
    };
    Ok(Checked { measure, justification, reason, expires_at })
}

/// Every decision on a system of the organisation, oldest first.
pub async fn history(db: &Db, advisory_id: i64, org: i64, system: SystemRef) -> Result<Vec<Decision>> {
    let (column, id) = match system {
        SystemRef::Host(h) => ("host_id", h),
        SystemRef::Product(p) => ("org_product_id", p),
    };
    let rows = sqlx::query(&format!("{DECISION_SQL} AND d.org_id = $2 AND d.{column} = $3 ORDER BY d.at, d.id"))
        .bind(advisory_id)
        .bind(org)
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(decision_row).collect()
}
