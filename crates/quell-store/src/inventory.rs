//! The read side: an organisation's hosts, reports, copies, versions, CVE status counts, search
//! and trend; the coordinator's counts per organisation.
//!
//! Invariant: every function that reads organisation data takes the organisation id as its
//! first filter, and every row it returns carries that organisation's id in the `WHERE` clause
//! of its query (joins included), so a guessed id of another organisation finds nothing.
//! "Latest picture" means, per host, the report with the newest scan time
//! (`hosts.latest_report_id`). Applications known only by their SBOMs (`hosts.kind =
//! 'application'`, see [`crate::components`]) are not hosts: host lists and host counts leave
//! them out.

use crate::{Missing, Thing};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use quell_model::time::{self, now};

use crate::limits::{MAX_PAGE_ROWS, MAX_TREND_DAYS};
use crate::{Db, StoreError, like_pattern};

/// One host and the counts of its latest report.
#[derive(Debug, Clone, Serialize)]
pub struct HostRow {
    pub id: i64,
    pub name: String,
    pub first_seen: String,
    pub last_seen: String,
    pub latest_report_id: Option<i64>,
    pub copies: i64,
    pub affected: i64,
    pub errors: i64,
    /// The `tool_version` of the latest report: the agent the host runs.
    pub tool_version: Option<String>,
    /// Whether that agent is older than the oldest supported release. The store reads `false`;
    /// the server decides it against its setting (`quell_server::agents`).
    pub agent_outdated: bool,
}

/// One stored report, without its findings.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub id: i64,
    pub host_id: i64,
    pub host: String,
    pub scanned_at: String,
    pub received_at: String,
    pub tool_version: Option<String>,
    pub files: i64,
    pub archives: i64,
    pub bytes: i64,
    pub copies: i64,
    pub affected: i64,
    pub errors: i64,
}

/// A report with its findings (the records as uploaded) and error records.
#[derive(Debug, Clone, Serialize)]
pub struct ReportDetail {
    pub report: ReportRow,
    pub findings: Vec<Value>,
    pub errors: Vec<ErrorRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorRow {
    pub path: String,
    pub message: String,
}

/// A host, its latest picture and how many reports it has.
#[derive(Debug, Clone, Serialize)]
pub struct HostDetail {
    pub host: HostRow,
    pub reports: i64,
    pub latest: Option<ReportDetail>,
}

/// Copies of one component version across the organisation's latest pictures.
#[derive(Debug, Clone, Serialize)]
pub struct VersionCount {
    pub component: String,
    /// The exact version, or the range when the copy's version is not pinned.
    pub version: String,
    pub copies: i64,
    pub affected: i64,
    pub hosts: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CveCount {
    pub cve: String,
    pub status: String,
    pub copies: i64,
}

/// The organisation's current picture.
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    pub hosts: i64,
    pub reports: i64,
    pub copies: i64,
    pub affected_copies: i64,
    pub affected_hosts: i64,
    pub versions: Vec<VersionCount>,
    pub cves: Vec<CveCount>,
    /// The agents the hosts run (the `tool_version` of each host's latest report), by version.
    pub agents: Vec<AgentCount>,
}

/// Hosts whose latest report came from one agent version.
#[derive(Debug, Clone, Serialize)]
pub struct AgentCount {
    /// `None`: reports that did not say.
    pub tool_version: Option<String>,
    pub hosts: i64,
    /// Older than the oldest supported release (decided by the server; `false` as read).
    pub outdated: bool,
}

/// Where a copy is.
#[derive(Debug, Clone, Serialize)]
pub struct Location {
    pub host_id: i64,
    pub host: String,
    pub report_id: i64,
    pub path: String,
    pub component: String,
    pub version: Option<String>,
    pub version_range: Option<String>,
    pub affected: bool,
}

/// One day of the trend: the latest picture of every host as of the end of that day (UTC).
#[derive(Debug, Clone, Serialize)]
pub struct TrendDay {
    pub day: String,
    pub affected_copies: i64,
    pub copies: i64,
    pub hosts: i64,
}

/// Counts of one organisation, for the coordinator: no host names, no paths.
#[derive(Debug, Clone, Serialize)]
pub struct OrgCounts {
    pub id: i64,
    pub name: String,
    pub hosts: i64,
    pub reports: i64,
    pub copies: i64,
    pub affected_copies: i64,
    pub affected_hosts: i64,
    pub last_report: Option<String>,
    /// The organisation lets coordinators see its host names (`PUT /api/v1/sharing`).
    pub shares_details: bool,
}

/// `?limit=` capped at [`MAX_PAGE_ROWS`], at least 1.
pub fn page_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(MAX_PAGE_ROWS).clamp(1, MAX_PAGE_ROWS)
}

fn host_row(row: &AnyRow) -> Result<HostRow, StoreError> {
    Ok(HostRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        first_seen: time::format_rfc3339(row.try_get("first_seen")?),
        last_seen: time::format_rfc3339(row.try_get("last_seen")?),
        latest_report_id: row.try_get("latest_report_id")?,
        copies: row.try_get::<Option<i64>, _>("findings")?.unwrap_or(0),
        affected: row.try_get::<Option<i64>, _>("affected")?.unwrap_or(0),
        errors: row.try_get::<Option<i64>, _>("errors")?.unwrap_or(0),
        tool_version: row.try_get("tool_version")?,
        agent_outdated: false,
    })
}

const HOST_COLUMNS: &str = "h.id, h.name, h.first_seen, h.last_seen, h.latest_report_id, r.findings, r.affected, r.errors, \
     r.tool_version \
     FROM hosts h LEFT JOIN reports r ON r.id = h.latest_report_id AND r.org_id = h.org_id";

/// The organisation's hosts by name, with the counts of their latest reports. `filter` keeps
/// hosts whose name contains it.
pub async fn hosts(
    db: &Db,
    org: i64,
    filter: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<HostRow>, StoreError> {
    let pattern = like_pattern(filter.unwrap_or(""));
    let rows = sqlx::query(&format!(
        "SELECT {HOST_COLUMNS} WHERE h.org_id = $1 AND h.kind = 'host' AND LOWER(h.name) LIKE LOWER($2) ESCAPE '\\' ORDER BY h.name LIMIT $3 OFFSET $4"
    ))
    .bind(org)
    .bind(pattern)
    .bind(limit)
    .bind(offset.max(0))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(host_row).collect()
}

/// One host of the organisation with its latest picture; `NotFound` for another organisation's.
pub async fn host(db: &Db, org: i64, host_id: i64) -> Result<HostDetail, StoreError> {
    let row = sqlx::query(&format!("SELECT {HOST_COLUMNS} WHERE h.org_id = $1 AND h.id = $2"))
        .bind(org)
        .bind(host_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::Host, host_id)))?;
    let host = host_row(&row)?;
    let reports: i64 = sqlx::query("SELECT COUNT(*) AS n FROM reports WHERE org_id = $1 AND host_id = $2")
        .bind(org)
        .bind(host_id)
        .fetch_one(&db.pool)
        .await?
        .try_get("n")?;
    let latest = match host.latest_report_id {
        Some(id) => Some(report(db, org, id).await?),
        None => None,
    };
    Ok(HostDetail { host, reports, latest })
}

const REPORT_COLUMNS: &str = "r.id, r.host_id, h.name AS host, r.scanned_at, r.received_at, r.tool_version, r.files, r.archives, \
     r.bytes, r.findings, r.affected, r.errors FROM reports r JOIN hosts h ON h.id = r.host_id AND h.org_id = r.org_id";

fn report_row(row: &AnyRow) -> Result<ReportRow, StoreError> {
    Ok(ReportRow {
        id: row.try_get("id")?,
        host_id: row.try_get("host_id")?,
        host: row.try_get("host")?,
        scanned_at: time::format_rfc3339(row.try_get("scanned_at")?),
        received_at: time::format_rfc3339(row.try_get("received_at")?),
        tool_version: row.try_get("tool_version")?,
        files: row.try_get("files")?,
        archives: row.try_get("archives")?,
        bytes: row.try_get("bytes")?,
        copies: row.try_get("findings")?,
        affected: row.try_get("affected")?,
        errors: row.try_get("errors")?,
    })
}

/// A host's reports, newest scan first; `NotFound` for another organisation's host.
pub async fn host_reports(
    db: &Db,
    org: i64,
    host_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<ReportRow>, StoreError> {
    let exists = sqlx::query("SELECT id FROM hosts WHERE org_id = $1 AND id = $2")
        .bind(org)
        .bind(host_id)
        .fetch_optional(&db.pool)
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound(Missing::thing(Thing::Host, host_id)));
    }
    let rows = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} WHERE r.org_id = $1 AND r.host_id = $2 ORDER BY r.scanned_at DESC, r.id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(org)
    .bind(host_id)
    .bind(limit)
    .bind(offset.max(0))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(report_row).collect()
}

/// One report with its findings and errors; `NotFound` for another organisation's.
pub async fn report(db: &Db, org: i64, report_id: i64) -> Result<ReportDetail, StoreError> {
    let row = sqlx::query(&format!("SELECT {REPORT_COLUMNS} WHERE r.org_id = $1 AND r.id = $2"))
        .bind(org)
        .bind(report_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::Report, report_id)))?;
    let report = report_row(&row)?;
    let findings = sqlx::query("SELECT record FROM findings WHERE org_id = $1 AND report_id = $2 ORDER BY id")
        .bind(org)
        .bind(report_id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|row| {
            let text: String = row.try_get("record")?;
            serde_json::from_str(&text).map_err(|e| StoreError::Internal(format!("stored finding: {e}")))
        })
        .collect::<Result<Vec<Value>, StoreError>>()?;
    let errors = sqlx::query(
        "SELECT e.path, e.message FROM report_errors e JOIN reports r ON r.id = e.report_id \
         WHERE r.org_id = $1 AND e.report_id = $2 ORDER BY e.id",
    )
    .bind(org)
    .bind(report_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|row| Ok(ErrorRow { path: row.try_get("path")?, message: row.try_get("message")? }))
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(ReportDetail { report, findings, errors })
}

/// The one value (`AS n`) of a counting query over one organisation.
async fn count(db: &Db, sql: &str, org: i64) -> Result<i64, StoreError> {
    let row = sqlx::query(sql).bind(org).fetch_one(&db.pool).await?;
    Ok(row.try_get::<Option<i64>, _>("n")?.unwrap_or(0))
}

/// The organisation's current picture: counts, versions and CVE statuses over the latest report
/// of every host.
pub async fn inventory(db: &Db, org: i64) -> Result<Inventory, StoreError> {
    let latest = "FROM hosts h JOIN reports r ON r.id = h.latest_report_id AND r.org_id = h.org_id WHERE h.org_id = $1";
    let hosts = count(db, "SELECT COUNT(*) AS n FROM hosts WHERE org_id = $1 AND kind = 'host'", org).await?;
    let reports = count(db, "SELECT COUNT(*) AS n FROM reports WHERE org_id = $1", org).await?;
    let copies = count(db, &format!("SELECT CAST(SUM(r.findings) AS BIGINT) AS n {latest}"), org).await?;
    let affected_copies = count(db, &format!("SELECT CAST(SUM(r.affected) AS BIGINT) AS n {latest}"), org).await?;
    let affected_hosts = count(db, &format!("SELECT COUNT(*) AS n {latest} AND r.affected > 0"), org).await?;
    let versions = sqlx::query(
        "SELECT f.component, COALESCE(f.version, f.version_range, '?') AS version, COUNT(*) AS copies, \
         CAST(SUM(f.affected) AS BIGINT) AS affected, COUNT(DISTINCT h.id) AS hosts FROM hosts h JOIN findings f ON f.report_id = h.latest_report_id AND f.org_id = h.org_id \
         WHERE h.org_id = $1 GROUP BY f.component, COALESCE(f.version, f.version_range, '?') \
         ORDER BY f.component, COALESCE(f.version, f.version_range, '?')",
    )
    .bind(org)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|row| {
        Ok(VersionCount {
            component: row.try_get("component")?,
            version: row.try_get("version")?,
            copies: row.try_get("copies")?,
            affected: row.try_get::<Option<i64>, _>("affected")?.unwrap_or(0),
            hosts: row.try_get("hosts")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let cves = sqlx::query(
        "SELECT c.cve, c.status, CAST(SUM(c.count) AS BIGINT) AS copies FROM hosts h \
         JOIN reports r ON r.id = h.latest_report_id AND r.org_id = h.org_id \
         JOIN report_cve_counts c ON c.report_id = r.id WHERE h.org_id = $1 GROUP BY c.cve, c.status ORDER BY c.cve, c.status",
    )
    .bind(org)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|row| Ok(CveCount { cve: row.try_get("cve")?, status: row.try_get("status")?, copies: row.try_get("copies")? }))
    .collect::<Result<Vec<_>, StoreError>>()?;
    let agents = sqlx::query(
        "SELECT r.tool_version, COUNT(*) AS hosts FROM hosts h \
         JOIN reports r ON r.id = h.latest_report_id AND r.org_id = h.org_id WHERE h.org_id = $1 \
         GROUP BY r.tool_version ORDER BY r.tool_version",
    )
    .bind(org)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|row| {
        Ok(AgentCount { tool_version: row.try_get("tool_version")?, hosts: row.try_get("hosts")?, outdated: false })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Inventory { hosts, reports, copies, affected_copies, affected_hosts, versions, cves, agents })
}

/// What to look for: any of component (exact), version (exact version or range text), and text
/// contained in the path or host name (ASCII case ignored, the same on SQLite and PostgreSQL).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SearchQuery {
    pub component: Option<String>,
    pub version: Option<String>,
    pub q: Option<String>,
    pub limit: Option<i64>,
}

/// "Where is component X version Y": copies in the latest picture of every host.
pub async fn search(db: &Db, org: i64, query: &SearchQuery) -> Result<Vec<Location>, StoreError> {
    let empty = |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let rows = sqlx::query(
        "SELECT h.id AS host_id, h.name AS host, f.report_id, f.path, f.component, f.version, f.version_range, f.affected \
         FROM hosts h JOIN findings f ON f.report_id = h.latest_report_id AND f.org_id = h.org_id \
         WHERE h.org_id = $1 AND ($2 IS NULL OR f.component = $2) \
         AND ($3 IS NULL OR f.version = $3 OR f.version_range = $3) \
         AND ($4 IS NULL OR LOWER(f.path) LIKE LOWER($4) ESCAPE '\\' OR LOWER(h.name) LIKE LOWER($4) ESCAPE '\\') \
         ORDER BY h.name, f.path LIMIT $5",
    )
    .bind(org)
    .bind(empty(&query.component))
    .bind(empty(&query.version))
    .bind(empty(&query.q).map(|q| like_pattern(&q)))
    .bind(page_limit(query.limit))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Location {
                host_id: row.try_get("host_id")?,
                host: row.try_get("host")?,
                report_id: row.try_get("report_id")?,
                path: row.try_get("path")?,
                component: row.try_get("component")?,
                version: row.try_get("version")?,
                version_range: row.try_get("version_range")?,
                affected: row.try_get::<i64, _>("affected")? != 0,
            })
        })
        .collect()
}

/// Affected copies per day over the last `days` days (UTC, today included): for each day, the
/// sum over hosts of the host's newest report scanned by the end of that day.
pub async fn trend(db: &Db, org: i64, days: i64) -> Result<Vec<TrendDay>, StoreError> {
    let days = days.clamp(1, MAX_TREND_DAYS);
    let today = now().div_euclid(86_400);
    let first = today - days + 1;
    let end = (today + 1) * 86_400;
    let start = first * 86_400;
    // Each host's picture as the window opens: its newest report before it (one index lookup per
    // host), then only the reports inside the window, so the cost does not grow with history.
    let baseline = sqlx::query(
        "SELECT h.id, \
         (SELECT r.findings FROM reports r WHERE r.host_id = h.id AND r.org_id = h.org_id AND r.scanned_at < $2 \
          ORDER BY r.scanned_at DESC, r.id DESC LIMIT 1) AS findings, \
         (SELECT r.affected FROM reports r WHERE r.host_id = h.id AND r.org_id = h.org_id AND r.scanned_at < $2 \
          ORDER BY r.scanned_at DESC, r.id DESC LIMIT 1) AS affected \
         FROM hosts h WHERE h.org_id = $1",
    )
    .bind(org)
    .bind(start)
    .fetch_all(&db.pool)
    .await?;
    let rows = sqlx::query(
        "SELECT host_id, scanned_at, findings, affected FROM reports WHERE org_id = $1 AND scanned_at >= $2 \
         AND scanned_at < $3 ORDER BY scanned_at, id",
    )
    .bind(org)
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?;
    let mut latest: std::collections::HashMap<i64, (i64, i64)> = std::collections::HashMap::new();
    let (mut copies, mut affected) = (0i64, 0i64);
    for row in &baseline {
        if let (Some(c), Some(a)) =
            (row.try_get::<Option<i64>, _>("findings")?, row.try_get::<Option<i64>, _>("affected")?)
        {
            latest.insert(row.try_get("id")?, (c, a));
            copies += c;
            affected += a;
        }
    }
    let mut out = Vec::with_capacity(days as usize);
    let mut rows = rows.iter().peekable();
    for day in first..=today {
        let day_end = (day + 1) * 86_400;
        while let Some(row) = rows.peek() {
            let scanned: i64 = row.try_get("scanned_at")?;
            if scanned >= day_end {
                break;
            }
            let host: i64 = row.try_get("host_id")?;
            let (c, a): (i64, i64) = (row.try_get("findings")?, row.try_get("affected")?);
            if let Some((old_c, old_a)) = latest.insert(host, (c, a)) {
                copies -= old_c;
                affected -= old_a;
            }
            copies += c;
            affected += a;
            rows.next();
        }
        out.push(TrendDay {
            day: time::day_string(day),
            affected_copies: affected,
            copies,
            hosts: latest.len() as i64,
        });
    }
    Ok(out)
}

/// Counts per organisation, for coordinators: never host names or paths.
pub async fn org_counts(db: &Db) -> Result<Vec<OrgCounts>, StoreError> {
    let rows = sqlx::query(
        "SELECT o.id, o.name, \
         (SELECT COUNT(*) FROM hosts h WHERE h.org_id = o.id AND h.kind = 'host') AS hosts, \
         (SELECT COUNT(*) FROM reports r WHERE r.org_id = o.id) AS reports, \
         (SELECT CAST(SUM(r.findings) AS BIGINT) FROM hosts h JOIN reports r ON r.id = h.latest_report_id WHERE h.org_id = o.id) AS copies, \
         (SELECT CAST(SUM(r.affected) AS BIGINT) FROM hosts h JOIN reports r ON r.id = h.latest_report_id WHERE h.org_id = o.id) AS affected_copies, \
         (SELECT COUNT(*) FROM hosts h JOIN reports r ON r.id = h.latest_report_id WHERE h.org_id = o.id AND r.affected > 0) AS affected_hosts, \
         (SELECT MAX(r.received_at) FROM reports r WHERE r.org_id = o.id) AS last_report, \
         o.shares_details \
         FROM orgs o ORDER BY o.name",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(OrgCounts {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                hosts: row.try_get("hosts")?,
                reports: row.try_get("reports")?,
                copies: row.try_get::<Option<i64>, _>("copies")?.unwrap_or(0),
                affected_copies: row.try_get::<Option<i64>, _>("affected_copies")?.unwrap_or(0),
                affected_hosts: row.try_get("affected_hosts")?,
                last_report: row.try_get::<Option<i64>, _>("last_report")?.map(time::format_rfc3339),
                shares_details: row.try_get::<i64, _>("shares_details")? != 0,
            })
        })
        .collect()
}
