//! Affected systems of an advisory, their deadlines, decisions and progress.
//!
//! - A **system** is a host whose scan reports ever showed a copy affected by one of the
//!   advisory's CVEs (`report_cve_counts`, status `affected`). (Products registered in the
//!   registry become systems too once the registry's `org_products` is merged.)
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
use crate::db::Db;
use crate::{ServerError, now};

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
    pub host_id: i64,
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
    pub host_id: i64,
    pub host: String,
    /// (scanned_at, affected copies), oldest first.
    pub reports: Vec<(i64, i64)>,
    /// Oldest first.
    pub decisions: Vec<Decision>,
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
pub async fn timelines(
    db: &Db,
    advisory_id: i64,
    cves: &[String],
    org: Option<i64>,
) -> Result<Vec<Timeline>, ServerError> {
    if cves.is_empty() {
        return Ok(Vec::new());
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
    let mut by_host: BTreeMap<i64, Timeline> = BTreeMap::new();
    for row in q.fetch_all(&db.pool).await? {
        let host_id: i64 = row.try_get(1)?;
        let t = by_host.entry(host_id).or_insert(Timeline {
            org_id: row.try_get(0)?,
            host_id,
            host: row.try_get(2)?,
            reports: Vec::new(),
            decisions: Vec::new(),
        });
        t.reports.push((row.try_get(3)?, row.try_get(4)?));
    }
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
        if let Some(t) = by_host.get_mut(&d.host_id) {
            t.decisions.push(d);
        }
    }
    Ok(by_host.into_values().collect())
}

const DECISION_SQL: &str = "SELECT d.id, d.host_id, d.decision, d.measure, d.justification, d.reason, d.expires_at, \
     u.email, d.at FROM advisory_decisions d JOIN users u ON u.id = d.user_id WHERE d.advisory_id = $1 \
     AND d.host_id IS NOT NULL";

fn decision_row(row: &sqlx::any::AnyRow) -> Result<Decision, ServerError> {
    Ok(Decision {
        id: row.try_get(0)?,
        host_id: row.try_get(1)?,
        decision: row.try_get(2)?,
        measure: row.try_get(3)?,
        justification: row.try_get(4)?,
        reason: row.try_get(5)?,
        expires_at: row.try_get(6)?,
        by: row.try_get(7)?,
        at: row.try_get(8)?,
    })
}

/// One system as an organisation sees it.
#[derive(Debug, Clone, Serialize)]
pub struct System {
    pub host_id: i64,
    pub host: String,
    /// Whether the host's latest report still shows an affected copy.
    pub affected_in_latest_report: bool,
    pub state: &'static str,
    pub deadline: i64,
    pub overdue: bool,
    pub decision: Option<Decision>,
    /// The municipal rule: affected, no fix known, nothing decided → consider switching it off.
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
            Some(System {
                host_id: t.host_id,
                host: t.host.clone(),
                affected_in_latest_report: t.latest_affected(),
                state: if open { "open" } else { "resolved" },
                deadline,
                overdue: open && at > deadline,
                decision: t.decisions.last().cloned(),
                suggest_switch_off: open && !fix_available,
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
    advisory_id: i64,
    cves: &[String],
    org: i64,
    user: i64,
    host_id: i64,
    body: &DecisionBody,
) -> Result<Decision, ServerError> {
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
    let owned = timelines(db, advisory_id, cves, Some(org)).await?.into_iter().any(|t| t.host_id == host_id);
    if !owned {
        return Err(ServerError::NotFound(format!("host {host_id} is not an affected system of this advisory")));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO advisory_decisions (advisory_id, org_id, host_id, decision, measure, justification, reason, \
         expires_at, user_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(advisory_id)
    .bind(org)
    .bind(host_id)
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
    history(db, advisory_id, org, host_id)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| ServerError::Internal("decision vanished".into()))
}

/// Every decision on a host of the organisation, oldest first.
pub async fn history(db: &Db, advisory_id: i64, org: i64, host_id: i64) -> Result<Vec<Decision>, ServerError> {
    let rows = sqlx::query(&format!("{DECISION_SQL} AND d.org_id = $2 AND d.host_id = $3 ORDER BY d.at, d.id"))
        .bind(advisory_id)
        .bind(org)
        .bind(host_id)
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
            host_id: 1,
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
        let mut t = Timeline { org_id: 1, host_id: 1, host: "h".into(), reports: vec![(100, 2)], decisions: vec![] };
        assert_eq!(t.state_at(50), State::Unknown);
        assert_eq!(t.state_at(100), State::Open);
        t.decisions.push(d("risk_accepted", 200, Some(300)));
        assert_eq!(t.state_at(250), State::Resolved);
        assert_eq!(t.state_at(300), State::Open, "expired risk acceptance");
        t.reports.push((400, 0));
        assert_eq!(t.state_at(400), State::Resolved, "a clean scan resolves, whatever was decided");
        t.decisions.push(d("patched", 500, None));
        assert_eq!(counts([&t], 450, 600), Counts { affected: 1, resolved: 1, open: 0, overdue: 0 });
        let open = Timeline { org_id: 1, host_id: 2, host: "g".into(), reports: vec![(100, 1)], decisions: vec![] };
        assert_eq!(counts([&t, &open], 450, 600), Counts { affected: 2, resolved: 1, open: 1, overdue: 1 });
        assert_eq!(counts([&t, &open], 700, 600).overdue, 0);
        let refs = [&t, &open];
        let days = series(&refs, 86_400 + 100, 2 * 86_400 + 50);
        assert_eq!(days.len(), 3, "publication, end of its day, now");
        assert_eq!(days[0].day, "1970-01-02");
        assert_eq!(days[2].day, "1970-01-03");
    }
}
