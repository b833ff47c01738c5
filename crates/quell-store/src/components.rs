//! Inventories: the component lists of systems — a scan report's `--inventory` records or an
//! SBOM (CycloneDX, SPDX) of a host or an application — stored per system with history, and the
//! question the platform exists to answer: *where does component X run, in which versions?*
//!
//! - A **source** (`component_sources`) is one stored list; per system (`hosts` row, `kind`
//!   `host` or `application`) and source kind (`scan`, `cyclonedx`, `spdx`) the newest by
//!   `taken_at` (then id) is `current`; older ones stay as history. The flag is copied into each
//!   component row so the ask is one index range scan on `(purl_key, current, org_id, version)`.
//! - Idempotent: a source is identified by the SHA-256 of its body within the organisation; a
//!   retried upload stores nothing and answers the first id.
//! - Versions are compared in Maven order by the pure [`Versions`] after the database narrowed
//!   the rows by package key (SQL cannot order `2.0-beta9` or `5.3.18.RELEASE`); the distinct
//!   versions of one package are few, so this stays cheap at millions of rows.
//! - Every read takes the caller's organisation filter ([`OrgFilter`]); coordinators read all.

use std::collections::{BTreeMap, BTreeSet};

use quell_model::time::now;
use quell_model::vers::Versions;
use serde::Serialize;
use sqlx::Row;

use crate::batch::insert_rows;
use crate::limits::COMPONENTS_PER_INSERT;
use crate::{Db, StoreError};

/// Which organisations a read may see.
#[derive(Debug, Clone, Copy)]
pub enum OrgFilter {
    /// A coordinator: every organisation.
    All,
    /// An organisation user: its own rows only.
    Only(i64),
}

/// What a stored list was made by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Scan,
    CycloneDx,
    Spdx,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Scan => "scan",
            SourceKind::CycloneDx => "cyclonedx",
            SourceKind::Spdx => "spdx",
        }
    }
}

/// Whether a system is a scanned host or an application known by its SBOMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemKind {
    Host,
    Application,
}

impl SystemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SystemKind::Host => "host",
            SystemKind::Application => "application",
        }
    }
}

/// One component as it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComponent {
    /// The package key (`pkg:maven/GROUP/ARTIFACT`) when the component has a purl.
    pub purl_key: Option<String>,
    pub purl: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    /// Where it is: the path chain joined with `!/` (scans) or the SBOM's ancestry.
    pub path: String,
    /// `confirmed`, `declared`, `guessed` (scans) or `sbom`.
    pub confidence: String,
}

/// One list to store.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub kind: SourceKind,
    pub body_sha256: String,
    /// When the list was taken (scan finished, SBOM created), Unix seconds.
    pub taken_at: i64,
    pub tool: Option<String>,
    pub spec_version: Option<String>,
    pub components: Vec<NewComponent>,
}

/// The answer to storing a list.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStored {
    pub id: i64,
    pub host_id: i64,
    /// True when the same list had been stored before: nothing new was written.
    pub duplicate: bool,
    pub components: u64,
    /// Whether it is now its system's current list of its kind.
    pub current: bool,
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Stores an SBOM for a system of the organisation (created when new, `kind` kept when it
/// exists), in one transaction.
pub async fn store_sbom(
    db: &Db,
    org_id: i64,
    system: &str,
    system_kind: SystemKind,
    source: &NewSource,
) -> Result<SourceStored, StoreError> {
    let mut tx = db.pool.begin().await?;
    // The first statement writes, so SQLite takes the write lock at once.
    let row = sqlx::query(
        "INSERT INTO hosts (org_id, name, first_seen, last_seen, kind) VALUES ($1, $2, $3, $3, $4) \
         ON CONFLICT (org_id, name) DO UPDATE SET last_seen = \
         CASE WHEN hosts.last_seen > excluded.last_seen THEN hosts.last_seen ELSE excluded.last_seen END \
         RETURNING id, kind",
    )
    .bind(org_id)
    .bind(system)
    .bind(source.taken_at)
    .bind(system_kind.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let host_id: i64 = row.try_get("id")?;
    let stored = store_source_in(&mut tx, org_id, host_id, None, source).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Stores one list for a system inside an open transaction (the caller commits).
pub async fn store_source_in(
    tx: &mut sqlx::AnyConnection,
    org_id: i64,
    host_id: i64,
    report_id: Option<i64>,
    source: &NewSource,
) -> Result<SourceStored, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO component_sources (org_id, host_id, kind, report_id, body_sha256, received_at, taken_at, \
         components, tool, spec_version, current) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0) \
         ON CONFLICT (org_id, body_sha256) DO NOTHING RETURNING id",
    )
    .bind(org_id)
    .bind(host_id)
    .bind(source.kind.as_str())
    .bind(report_id)
    .bind(&source.body_sha256)
    .bind(now())
    .bind(source.taken_at)
    .bind(to_i64(source.components.len()))
    .bind(source.tool.clone())
    .bind(source.spec_version.clone())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = inserted else {
        let row = sqlx::query(
            "SELECT id, host_id, components, current FROM component_sources WHERE org_id = $1 AND body_sha256 = $2",
        )
        .bind(org_id)
        .bind(&source.body_sha256)
        .fetch_one(&mut *tx)
        .await?;
        return Ok(SourceStored {
            id: row.try_get("id")?,
            host_id: row.try_get("host_id")?,
            duplicate: true,
            components: u64::try_from(row.try_get::<i64, _>("components")?).unwrap_or(0),
            current: row.try_get::<i64, _>("current")? == 1,
        });
    };
    let source_id: i64 = row.try_get("id")?;
    let newest: i64 = sqlx::query(
        "SELECT id FROM component_sources WHERE host_id = $1 AND kind = $2 ORDER BY taken_at DESC, id DESC LIMIT 1",
    )
    .bind(host_id)
    .bind(source.kind.as_str())
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    let current = newest == source_id;
    if current {
        let previous: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM component_sources WHERE host_id = $1 AND kind = $2 AND current = 1 AND id <> $3",
        )
        .bind(host_id)
        .bind(source.kind.as_str())
        .bind(source_id)
        .fetch_all(&mut *tx)
        .await?;
        for old in previous {
            sqlx::query("UPDATE component_sources SET current = 0 WHERE id = $1").bind(old).execute(&mut *tx).await?;
            sqlx::query("UPDATE components SET current = 0 WHERE source_id = $1 AND current = 1")
                .bind(old)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE component_sources SET current = 1 WHERE id = $1").bind(source_id).execute(&mut *tx).await?;
    }
    insert_components(tx, source_id, org_id, host_id, current, &source.components).await?;
    Ok(SourceStored { id: source_id, host_id, duplicate: false, components: source.components.len() as u64, current })
}

async fn insert_components(
    tx: &mut sqlx::AnyConnection,
    source_id: i64,
    org_id: i64,
    host_id: i64,
    current: bool,
    components: &[NewComponent],
) -> Result<(), StoreError> {
    insert_rows(
        tx,
        "components",
        &[
            "source_id",
            "org_id",
            "host_id",
            "purl_key",
            "purl",
            "name",
            "version",
            "sha1",
            "sha256",
            "path",
            "confidence",
            "current",
        ],
        "",
        COMPONENTS_PER_INSERT,
        components,
        |q, c| {
            Ok(q.bind(source_id)
                .bind(org_id)
                .bind(host_id)
                .bind(c.purl_key.as_deref())
                .bind(c.purl.as_deref())
                .bind(c.name.as_str())
                .bind(c.version.as_deref())
                .bind(c.sha1.as_deref())
                .bind(c.sha256.as_deref())
                .bind(c.path.as_str())
                .bind(c.confidence.as_str())
                .bind(i64::from(current)))
        },
    )
    .await
}

/// One system running a matching version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Match {
    pub org_id: i64,
    pub host_id: i64,
    /// `None`: the list names the component without a version (it matches only `*`).
    pub version: Option<String>,
}

/// The (organisation, system, version) triples of current lists that hold `purl_key` in one of
/// `versions`. A component without a version matches only [`Versions::All`].
pub async fn matches(db: &Db, purl_key: &str, versions: &Versions, orgs: OrgFilter) -> Result<Vec<Match>, StoreError> {
    let mut sql =
        String::from("SELECT DISTINCT org_id, host_id, version FROM components WHERE purl_key = $1 AND current = 1");
    if matches!(orgs, OrgFilter::Only(_)) {
        sql.push_str(" AND org_id = $2");
    }
    let mut query = sqlx::query(&sql).bind(purl_key);
    if let OrgFilter::Only(org) = orgs {
        query = query.bind(org);
    }
    let mut cache: BTreeMap<Option<String>, bool> = BTreeMap::new();
    let mut out = Vec::new();
    for row in query.fetch_all(&db.pool).await? {
        let version: Option<String> = row.try_get("version")?;
        let hit = *cache.entry(version.clone()).or_insert_with(|| match &version {
            Some(v) => versions.matches_text(v),
            None => matches!(versions, Versions::All),
        });
        if hit {
            out.push(Match { org_id: row.try_get("org_id")?, host_id: row.try_get("host_id")?, version });
        }
    }
    out.sort();
    Ok(out)
}

/// One matching copy with where it is, for the readers allowed to see details.
#[derive(Debug, Clone, Serialize)]
pub struct Location {
    pub org_id: i64,
    pub host_id: i64,
    pub system: String,
    pub system_kind: String,
    pub source: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub path: String,
    pub sha256: Option<String>,
    pub confidence: String,
    pub taken_at: i64,
}

/// The copies behind `found` (from [`matches`]) in the organisations of `orgs`, at most `limit`.
pub async fn locations(
    db: &Db,
    purl_key: &str,
    found: &[Match],
    orgs: &BTreeSet<i64>,
    limit: usize,
) -> Result<Vec<Location>, StoreError> {
    let wanted: BTreeSet<(i64, Option<&str>)> =
        found.iter().filter(|m| orgs.contains(&m.org_id)).map(|m| (m.host_id, m.version.as_deref())).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    // Per organisation, so each query carries the organisation's id.
    for org in orgs {
        let rows = sqlx::query(
            "SELECT c.org_id, c.host_id, h.name, h.kind AS system_kind, s.kind AS source, c.version, c.purl, c.path, \
             c.sha256, c.confidence, s.taken_at FROM components c JOIN hosts h ON h.id = c.host_id AND h.org_id = c.org_id \
             JOIN component_sources s ON s.id = c.source_id \
             WHERE c.purl_key = $1 AND c.current = 1 AND c.org_id = $2 ORDER BY h.name, c.path",
        )
        .bind(purl_key)
        .bind(*org)
        .fetch_all(&db.pool)
        .await?;
        for row in rows {
            let host_id: i64 = row.try_get("host_id")?;
            let version: Option<String> = row.try_get("version")?;
            if !wanted.contains(&(host_id, version.as_deref())) {
                continue;
            }
            out.push(Location {
                org_id: row.try_get("org_id")?,
                host_id,
                system: row.try_get("name")?,
                system_kind: row.try_get("system_kind")?,
                source: row.try_get("source")?,
                version,
                purl: row.try_get("purl")?,
                path: row.try_get("path")?,
                sha256: row.try_get("sha256")?,
                confidence: row.try_get("confidence")?,
                taken_at: row.try_get("taken_at")?,
            });
            if out.len() >= limit {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// Per system ever holding one of `keys`: its lists over time, each as (taken_at, source kind,
/// copies in `versions`), oldest first — what an advisory's progress is computed from.
pub async fn histories(
    db: &Db,
    wanted: &[(String, Versions)],
    org: Option<i64>,
) -> Result<BTreeMap<i64, SystemHistory>, StoreError> {
    let mut out: BTreeMap<i64, SystemHistory> = BTreeMap::new();
    for (key, versions) in wanted {
        let mut sql = String::from(
            "SELECT s.id, s.org_id, s.host_id, h.name, s.kind, s.taken_at, c.id AS component_id, c.version FROM component_sources s \
             JOIN hosts h ON h.id = s.host_id LEFT JOIN components c ON c.source_id = s.id AND c.purl_key = $1 \
             WHERE s.host_id IN (SELECT DISTINCT host_id FROM components WHERE purl_key = $1)",
        );
        if org.is_some() {
            sql.push_str(" AND s.org_id = $2");
        }
        sql.push_str(" ORDER BY s.host_id, s.taken_at, s.id");
        let mut query = sqlx::query(&sql).bind(key);
        if let Some(org) = org {
            query = query.bind(org);
        }
        for row in query.fetch_all(&db.pool).await? {
            let host_id: i64 = row.try_get("host_id")?;
            let entry = out.entry(host_id).or_insert(SystemHistory {
                org_id: row.try_get("org_id")?,
                name: row.try_get("name")?,
                lists: BTreeMap::new(),
            });
            let source_id: i64 = row.try_get("id")?;
            let list = entry.lists.entry(source_id).or_insert((row.try_get("taken_at")?, row.try_get("kind")?, 0));
            let component: Option<i64> = row.try_get("component_id")?;
            let version: Option<String> = row.try_get("version")?;
            let hit = component.is_some()
                && match &version {
                    Some(v) => versions.matches_text(v),
                    None => matches!(versions, Versions::All),
                };
            if hit {
                list.2 += 1;
            }
        }
    }
    Ok(out)
}

/// The lists of one system (see [`histories`]).
#[derive(Debug, Clone)]
pub struct SystemHistory {
    pub org_id: i64,
    pub name: String,
    /// source id → (taken_at, source kind, matching copies).
    pub lists: BTreeMap<i64, (i64, String, i64)>,
}

impl SystemHistory {
    /// (time, matching copies) at each list's time: the sum over source kinds of each kind's
    /// newest list at or before that time, oldest first.
    pub fn timeline(&self) -> Vec<(i64, i64)> {
        let mut lists: Vec<&(i64, String, i64)> = self.lists.values().collect();
        lists.sort_by_key(|(at, _, _)| *at);
        let mut latest: BTreeMap<&str, i64> = BTreeMap::new();
        let mut out: Vec<(i64, i64)> = Vec::new();
        for (at, kind, copies) in lists {
            latest.insert(kind.as_str(), *copies);
            let total = latest.values().sum();
            match out.last_mut() {
                Some(last) if last.0 == *at => last.1 = total,
                _ => out.push((*at, total)),
            }
        }
        out
    }
}

/// The current lists of an organisation's systems: one row per system and source kind.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    pub id: i64,
    pub host_id: i64,
    pub system: String,
    pub system_kind: String,
    pub kind: String,
    pub taken_at: i64,
    pub received_at: i64,
    pub components: i64,
    pub tool: Option<String>,
}

/// The current lists of the organisation, by system name.
pub async fn current_sources(db: &Db, org_id: i64) -> Result<Vec<SourceRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.id, s.host_id, h.name, h.kind AS system_kind, s.kind, s.taken_at, s.received_at, s.components, s.tool \
         FROM component_sources s JOIN hosts h ON h.id = s.host_id AND h.org_id = s.org_id \
         WHERE s.org_id = $1 AND s.current = 1 ORDER BY h.name, s.kind",
    )
    .bind(org_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SourceRow {
                id: row.try_get("id")?,
                host_id: row.try_get("host_id")?,
                system: row.try_get("name")?,
                system_kind: row.try_get("system_kind")?,
                kind: row.try_get("kind")?,
                taken_at: row.try_get("taken_at")?,
                received_at: row.try_get("received_at")?,
                components: row.try_get("components")?,
                tool: row.try_get("tool")?,
            })
        })
        .collect()
}

/// Organisation names, for the coordinators' answers.
pub async fn org_names(db: &Db, orgs: &BTreeSet<i64>) -> Result<BTreeMap<i64, (String, bool)>, StoreError> {
    // One read of the (few hundred) organisations instead of a query per organisation asked.
    let mut out = BTreeMap::new();
    for row in sqlx::query("SELECT id, name, shares_details FROM orgs").fetch_all(&db.pool).await? {
        let id: i64 = row.try_get("id")?;
        if orgs.contains(&id) {
            out.insert(id, (row.try_get("name")?, row.try_get::<i64, _>("shares_details")? != 0));
        }
    }
    Ok(out)
}
