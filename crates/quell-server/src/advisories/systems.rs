//! Affected systems of an advisory, their deadlines, decisions and progress.
//!
//! - A **system** is a host whose scan reports ever showed a copy affected by one of the
//!   advisory's CVEs (`report_cve_counts`, status `affected`), or a product an organisation
//!   registered (`org_products`) that matches one of the advisory's products: the same registry
//!   entry, or the same normalised supplier and product (`quell_registry::entry_key`). Versions
//!   are not compared (the advisory's are free text); a registered product counts as affected
//!   from publication until a decision resolves it.
//! - At a time `t` a known system is **resolved** when its latest decision at `t` is patched,
//!   mitigated, switched off, not affected, or risk accepted and not yet expired; or, failing a
//!   decision, when its latest report at `t` shows no affected copy any more. Otherwise it is
//!   **open**.
//! - **Deadline**: first publication + the days of the newest published version's class
//!   (`DeadlineDays`: High/High seven days). An open system past its deadline is **overdue**.
//! - Decisions are append-only; the newest counts, the history is kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{MAX_PROGRESS_DAYS, check_note, placeholders};
use crate::{ServerError, now};
use quell_store::Db;

/// The decisions one may record.
pub const DECISIONS: [&str; 5] = ["patched", "mitigated", "switched_off", "not_affected", "risk_accepted"];

/// Not-affected justifications: CycloneDX's analysis justifications and CSAF's flag labels.
pub const JUSTIFICATIONS: [&str; 14] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "inline_mitigations_already_exist",
];

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
    /// Unix seconds; required for `risk_accepted`, in the future.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// A recorded decision.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub id: i64,
    pub host_id: Option<i64>,
    pub org_product_id: Option<i64>,
    pub decision: String,
    pub measure: Option<String>,
    pub justification: Option<String>,
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
    pub by: String,
    pub at: i64,
}

impl Decision {
    fn resolves_at(&self, t: i64) -> bool {
        match self.decision.as_str() {
            "risk_accepted" => self.expires_at.is_some_and(|e| e > t),
            _ => true,
        }
    }
}

/// One host's history as far as the advisory is concerned.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub org_id: i64,
    pub system: SystemRef,
    /// Host name, or `supplier product version` of a registered product.
    pub name: String,
    /// For a registered product: whether a fix is known (the registry's status for the
    /// advisory's CVEs; `None`: the registry says nothing, the advisory decides).
    pub registry_fix: Option<bool>,
    /// (scanned_at, affected copies), oldest first.
    pub reports: Vec<(i64, i64)>,
    /// Oldest first.
    pub decisions: Vec<Decision>,
}

/// What a system is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum SystemRef {
    /// A host of the scanned inventory.
    Host(i64),
    /// A registered product (`org_products.id`).
    Product(i64),
}

/// A system's state at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Unknown,
    Open,
    Resolved,
}

impl Timeline {
    pub fn state_at(&self, t: i64) -> State {
        if !self.reports.iter().any(|(at, affected)| *at <= t && *affected > 0) {
            return State::Unknown;
        }
        if let Some(d) = self.decisions.iter().rev().find(|d| d.at <= t)
            && d.resolves_at(t)
        {
            return State::Resolved;
        }
        match self.reports.iter().rev().find(|(at, _)| *at <= t) {
            Some((_, 0)) => State::Resolved,
            _ => State::Open,
        }
    }
    fn latest_affected(&self) -> bool {
        self.reports.last().is_some_and(|(_, a)| *a > 0)
    }
}

/// The timelines of every system of `cves`, of one organisation or (for counts) of all.
pub async fn timelines(db: &Db, scope: &Scope<'_>, org: Option<i64>) -> Result<Vec<Timeline>, ServerError> {
    let Scope { advisory_id, cves, products, published } = *scope;
    let mut by_system = host_timelines(db, cves, org).await?;
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
    /// First publication (registered products are affected from then on).
    pub published: i64,
}

async fn host_timelines(
    db: &Db,
    cves: &[String],
    org: Option<i64>,
) -> Result<BTreeMap<SystemRef, Timeline>, ServerError> {
    if cves.is_empty() {
        return Ok(BTreeMap::new());
    }
    let n = cves.len();
    let org_filter = if org.is_some() { format!("AND r.org_id = ${}", 2 * n + 1) } else { String::new() };
    let sql = format!(
        "SELECT r.org_id, r.host_id, h.name, r.scanned_at, \
         CAST(COALESCE(SUM(CASE WHEN c.status = 'affected' AND c.cve IN ({a}) THEN c.count ELSE 0 END), 0) AS BIGINT) \
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
        let host_id: i64 = row.try_get(1)?;
        let t = by_system.entry(SystemRef::Host(host_id)).or_insert(Timeline {
            org_id: row.try_get(0)?,
            system: SystemRef::Host(host_id),
            name: row.try_get(2)?,
            registry_fix: None,
            reports: Vec::new(),
            decisions: Vec::new(),
        });
        t.reports.push((row.try_get(3)?, row.try_get(4)?));
    }
    Ok(by_system)
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
) -> Result<Vec<RegisteredProduct>, ServerError> {
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
        let supplier: String = row.try_get(2)?;
        let product: String = row.try_get(3)?;
        let version: Option<String> = row.try_get(4)?;
        let entry: Option<i64> = row.try_get(5)?;
        let registry_fix = match entry {
            Some(entry) if !cves.is_empty() => {
                let sql = format!(
                    "SELECT status FROM registry_statuses WHERE entry_id = $1 AND cve IN ({})",
                    placeholders(2, cves.len())
                );
                let mut q = sqlx::query(&sql).bind(entry);
                for cve in cves {
                    q = q.bind(cve);
                }
                let statuses: Vec<String> =
                    q.fetch_all(&db.pool).await?.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
                if statuses.is_empty() { None } else { Some(statuses.iter().any(|s| s == "fix")) }
            }
            _ => None,
        };
        let name = match version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => format!("{supplier} {product} {v}"),
            None => format!("{supplier} {product}"),
        };
        out.push(RegisteredProduct { id: row.try_get(0)?, org_id: row.try_get(1)?, name, registry_fix });
    }
    Ok(out)
}

async fn attach_decisions(
    db: &Db,
    advisory_id: i64,
    org: Option<i64>,
    by_system: &mut BTreeMap<SystemRef, Timeline>,
) -> Result<(), ServerError> {
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
     d.reason, d.expires_at, u.email, d.at FROM advisory_decisions d JOIN users u ON u.id = d.user_id \
     WHERE d.advisory_id = $1";

fn decision_row(row: &sqlx::any::AnyRow) -> Result<Decision, ServerError> {
    Ok(Decision {
        id: row.try_get(0)?,
        host_id: row.try_get(1)?,
        org_product_id: row.try_get(2)?,
        decision: row.try_get(3)?,
        measure: row.try_get(4)?,
        justification: row.try_get(5)?,
        reason: row.try_get(6)?,
        expires_at: row.try_get(7)?,
        by: row.try_get(8)?,
        at: row.try_get(9)?,
    })
}

/// One system as an organisation sees it.
#[derive(Debug, Clone, Serialize)]
pub struct System {
    /// `host` or `product` (a registered product).
    pub kind: &'static str,
    pub host_id: Option<i64>,
    pub host: Option<String>,
    pub product_id: Option<i64>,
    /// Host name or `supplier product version`.
    pub name: String,
    /// Whether the host's latest report still shows an affected copy (a registered product:
    /// true until resolved by a decision).
    pub affected_in_latest_report: bool,
    pub state: &'static str,
    pub deadline: i64,
    pub overdue: bool,
    pub decision: Option<Decision>,
    /// The municipal rule: open and no fix known (the advisory says none, or the registry's
    /// status of the registered product is not `fix`) → consider switching it off temporarily.
    pub suggest_switch_off: bool,
}

/// Systems of one organisation for an advisory.
pub fn systems(timelines: &[Timeline], deadline: i64, fix_available: bool, at: i64) -> Vec<System> {
    timelines
        .iter()
        .filter_map(|t| {
            let state = t.state_at(at);
            if state == State::Unknown {
                return None;
            }
            let open = state == State::Open;
            let (kind, host_id, product_id) = match t.system {
                SystemRef::Host(h) => ("host", Some(h), None),
                SystemRef::Product(p) => ("product", None, Some(p)),
            };
            let fix_known = fix_available && t.registry_fix.unwrap_or(true);
            Some(System {
                kind,
                host_id,
                host: host_id.map(|_| t.name.clone()),
                product_id,
                name: t.name.clone(),
                affected_in_latest_report: (open || kind != "product") && t.latest_affected(),
                state: if open { "open" } else { "resolved" },
                deadline,
                overdue: open && at > deadline,
                decision: t.decisions.last().cloned(),
                suggest_switch_off: open && !fix_known,
            })
        })
        .collect()
}

/// Counts at a time.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub affected: i64,
    pub resolved: i64,
    pub open: i64,
    pub overdue: i64,
}

pub fn counts<'a>(timelines: impl IntoIterator<Item = &'a Timeline>, deadline: i64, at: i64) -> Counts {
    let mut c = Counts::default();
    for t in timelines {
        match t.state_at(at) {
            State::Unknown => {}
            State::Resolved => {
                c.affected += 1;
                c.resolved += 1;
            }
            State::Open => {
                c.affected += 1;
                c.open += 1;
                if at > deadline {
                    c.overdue += 1;
                }
            }
        }
    }
    c
}

/// One day of a progress series.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    /// The moment counted (Unix seconds) and its day.
    pub at: i64,
    pub day: String,
    pub affected: i64,
    pub resolved: i64,
}

/// Affected → resolved over time: the moment of first publication, then the end of each day
/// since (the last point is `at`), at most [`MAX_PROGRESS_DAYS`] days.
pub fn series<'a>(timelines: &'a [&'a Timeline], published: i64, at: i64) -> Vec<Day> {
    let first = published.div_euclid(86_400);
    let last = at.div_euclid(86_400);
    let first = first.max(last - MAX_PROGRESS_DAYS + 1);
    let point = |t: i64| {
        let c = counts(timelines.iter().copied(), i64::MAX, t);
        Day { at: t, day: crate::time::day_string(t.div_euclid(86_400)), affected: c.affected, resolved: c.resolved }
    };
    let mut out = vec![point(published.min(at))];
    out.extend((first..=last).map(|day| point(((day + 1) * 86_400 - 1).min(at))));
    out
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
) -> Result<Decision, ServerError> {
    let advisory_id = scope.advisory_id;
    if !DECISIONS.contains(&body.decision.as_str()) {
        return Err(ServerError::Invalid(format!("decision must be one of {}", DECISIONS.join(", "))));
    }
    let text = |what: &str, v: &Option<String>, required: bool| -> Result<Option<String>, ServerError> {
        let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if required && v.is_none() {
            return Err(ServerError::Invalid(format!("a {} decision needs {what}", body.decision)));
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
        return Err(ServerError::Invalid(format!("justification must be one of {}", JUSTIFICATIONS.join(", "))));
    }
    let at = now();
    let expires_at = match (body.decision.as_str(), body.expires_at) {
        ("risk_accepted", Some(e)) if e > at => Some(e),
        ("risk_accepted", _) => {
            return Err(ServerError::Invalid("a risk_accepted decision needs expires_at in the future".into()));
        }
        (_, _) => None,
    };
    let owned = timelines(db, scope, Some(org)).await?.into_iter().any(|t| t.system == system);
    if !owned {
        return Err(ServerError::NotFound(format!("{system:?} is not an affected system of this advisory")));
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
    .try_get(0)?;
    history(db, advisory_id, org, system)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| ServerError::Internal("decision vanished".into()))
}

/// Every decision on a system of the organisation, oldest first.
pub async fn history(db: &Db, advisory_id: i64, org: i64, system: SystemRef) -> Result<Vec<Decision>, ServerError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(decision: &str, at: i64, expires_at: Option<i64>) -> Decision {
        Decision {
            id: at,
            host_id: Some(1),
            org_product_id: None,
            decision: decision.into(),
            measure: None,
            justification: None,
            reason: None,
            expires_at,
            by: "u".into(),
            at,
        }
    }

    #[test]
    fn states_over_time() {
        let mut t = Timeline {
            org_id: 1,
            system: SystemRef::Host(1),
            name: "h".into(),
            registry_fix: None,
            reports: vec![(100, 2)],
            decisions: vec![],
        };
        assert_eq!(t.state_at(50), State::Unknown);
        assert_eq!(t.state_at(100), State::Open);
        t.decisions.push(d("risk_accepted", 200, Some(300)));
        assert_eq!(t.state_at(250), State::Resolved);
        assert_eq!(t.state_at(300), State::Open, "expired risk acceptance");
        t.reports.push((400, 0));
        assert_eq!(t.state_at(400), State::Resolved, "a clean scan resolves, whatever was decided");
        t.decisions.push(d("patched", 500, None));
        assert_eq!(counts([&t], 450, 600), Counts { affected: 1, resolved: 1, open: 0, overdue: 0 });
        let open = Timeline {
            org_id: 1,
            system: SystemRef::Host(2),
            name: "g".into(),
            registry_fix: None,
            reports: vec![(100, 1)],
            decisions: vec![],
        };
        assert_eq!(counts([&t, &open], 450, 600), Counts { affected: 2, resolved: 1, open: 1, overdue: 1 });
        assert_eq!(counts([&t, &open], 700, 600).overdue, 0);
        let refs = [&t, &open];
        let days = series(&refs, 86_400 + 100, 2 * 86_400 + 50);
        assert_eq!(days.len(), 3, "publication, end of its day, now");
        assert_eq!(days[0].day, "1970-01-02");
        assert_eq!(days[2].day, "1970-01-03");
    }
}
