//! Indicators from hunting, stored per organisation (*sightings*) and pooled across
//! organisations: uploads (one transaction, with the shared `indicator_values` dictionary), the
//! organisation's own indicators, the pool, attempts per day, raw lines.
//!
//! Invariants:
//! - An organisation's own reads filter on the organisation id the caller passes (the server's
//!   principal's), in the sightings and in every table joined for techniques, hosts and lines.
//! - The pool shows, per indicator, the number of organisations, first/last seen, total count
//!   and techniques — never which organisations, except to coordinators and only the names of
//!   organisations that share details (`orgs.shares_details`, as in the inventory).
//! - A pooled indicator is shown only when at least `min_orgs` organisations saw it
//!   (`GROUP BY ... HAVING COUNT(DISTINCT org_id) >= min_orgs`).
//! - TLP: sightings marked AMBER+STRICT or RED never leave their organisation: the pool reads
//!   only sightings at or below AMBER ([`Filter::cap`]), so they count for nothing there. A
//!   pooled indicator's marking is the most restrictive marking of the sightings that went into
//!   it; a read asked for at most a marking (`max_tlp`) is computed from the sightings at or
//!   below it only, so its thresholds and counts are honest too.
//! - An upload is one transaction; the same content within an organisation (the caller's
//!   `content_sha256`) is stored once and answered as a duplicate.

use std::collections::{BTreeMap, HashMap};

use quell_model::indicators::{IndicatorKind, RawLine, Tlp};
use quell_model::time::{format_rfc3339, now};
use serde::Serialize;
use sqlx::Row;

use crate::batch::insert_rows;
use crate::db::Db;
use crate::{StoreError, like_pattern};

/// Rows inserted by one multi-row `INSERT` when storing indicator values, sightings and their
/// days and techniques (at most 9 parameters a row: 4,500 a statement, under both engines'
/// parameter limits).
pub const SIGHTINGS_PER_INSERT: usize = 500;

/// Indicator ids named by one `... IN (...)` query when reading the techniques, hosts or
/// organisations of a list (keeps a feed of many rows under the engines' parameter limits).
pub const IDS_PER_QUERY: usize = 1000;

/// One indicator of an upload, checked by the caller.
#[derive(Debug, Clone)]
pub struct NewSighting {
    pub kind: IndicatorKind,
    pub value: String,
    /// Whether the value's host is a known scanning service (stored with a new value).
    pub known_scanner: bool,
    pub count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// `log` or `upload`.
    pub time_source: &'static str,
    pub techniques: Vec<String>,
    /// CVE ids of the attempts that carried it.
    pub vulnerabilities: Vec<String>,
    /// (day number, attempts).
    pub days: Vec<(i64, i64)>,
}

/// A checked upload, ready to store. Sightings in one order (kind, value) for every upload, so
/// concurrent uploads take the same rows' locks in the same order.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// The idempotency key: the same content within an organisation is stored once.
    pub sha256: String,
    pub host: String,
    pub tool_version: String,
    pub tlp: Tlp,
    pub generated_at: i64,
    pub sightings: Vec<NewSighting>,
    pub lines: Vec<RawLine>,
}

/// What an upload answers.
#[derive(Debug, Clone, Serialize)]
pub struct StoredUpload {
    pub id: i64,
    pub duplicate: bool,
    pub indicators: i64,
    pub lines: i64,
    pub tlp: Tlp,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Stores an upload of organisation `org` in one transaction; the same content again answers
/// the first id (`duplicate`).
pub async fn store_upload(db: &Db, org: i64, token_id: i64, upload: &NewUpload) -> Result<StoredUpload, StoreError> {
    let received = now();
    let rank = upload.tlp.rank();
    let mut tx = db.pool.begin().await?;
    // The first statement writes, so SQLite takes the write lock at once.
    let inserted = sqlx::query(
        "INSERT INTO indicator_uploads (org_id, content_sha256, host, tool_version, tlp_rank, generated_at, received_at, \
         token_id, indicators, lines) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (org_id, content_sha256) DO NOTHING RETURNING id",
    )
    .bind(org)
    .bind(&upload.sha256)
    .bind(&upload.host)
    .bind(&upload.tool_version)
    .bind(rank)
    .bind(upload.generated_at)
    .bind(received)
    .bind(token_id)
    .bind(upload.sightings.len() as i64)
    .bind(upload.lines.len() as i64)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = inserted else {
        let row = sqlx::query(
            "SELECT id, indicators, lines, tlp_rank FROM indicator_uploads WHERE org_id = $1 AND content_sha256 = $2",
        )
        .bind(org)
        .bind(&upload.sha256)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(StoredUpload {
            id: row.try_get("id")?,
            duplicate: true,
            indicators: row.try_get("indicators")?,
            lines: row.try_get("lines")?,
            tlp: Tlp::from_rank(row.try_get("tlp_rank")?).unwrap_or(Tlp::Red),
        });
    };
    let upload_id: i64 = row.try_get("id")?;
    let indicator_ids = value_ids(&mut tx, &upload.sightings).await?;
    let id_of = |s: &NewSighting| {
        indicator_ids
            .get(&(s.kind, s.value.as_str()))
            .copied()
            .ok_or_else(|| StoreError::Internal(format!("no id for {} {:?}", s.kind.as_str(), s.value)))
    };
    let ids: Vec<i64> = upload.sightings.iter().map(id_of).collect::<Result<_, _>>()?;
    insert_sightings(&mut tx, upload_id, org, rank, received, &upload.sightings, &ids).await?;
    insert_lines(&mut tx, upload_id, org, &upload.lines).await?;
    tx.commit().await?;
    Ok(StoredUpload {
        id: upload_id,
        duplicate: false,
        indicators: upload.sightings.len() as i64,
        lines: upload.lines.len() as i64,
        tlp: upload.tlp,
    })
}

/// Indicator values: the new ones inserted, then every id read back (by kind, with the
/// (kind, value) index), in chunks, in one order for every upload.
async fn value_ids<'a>(
    tx: &mut Tx,
    sightings: &'a [NewSighting],
) -> Result<HashMap<(IndicatorKind, &'a str), i64>, StoreError> {
    let mut indicator_ids: HashMap<(IndicatorKind, &str), i64> = HashMap::with_capacity(sightings.len());
    for chunk in sightings.chunks(SIGHTINGS_PER_INSERT) {
        insert_rows(
            tx,
            "indicator_values",
            &["kind", "value", "known_scanner"],
            "ON CONFLICT (kind, value) DO NOTHING",
            SIGHTINGS_PER_INSERT,
            chunk,
            |q, s| Ok(q.bind(s.kind.as_str()).bind(s.value.as_str()).bind(i64::from(s.known_scanner))),
        )
        .await?;
        for kind in IndicatorKind::ALL {
            let values: Vec<&str> = chunk.iter().filter(|s| s.kind == kind).map(|s| s.value.as_str()).collect();
            if values.is_empty() {
                continue;
            }
            let mut sql = Sql::default();
            sql.push("SELECT id, value FROM indicator_values WHERE kind = ")
                .bind(Bind::Text(kind.as_str().into()))
                .push(" AND value IN (");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(Bind::Text((*v).to_owned()));
            }
            sql.push(")");
            for row in sql.query().fetch_all(&mut **tx).await? {
                let value: String = row.try_get("value")?;
                if let Some(v) = values.iter().find(|v| **v == value) {
                    indicator_ids.insert((kind, v), row.try_get("id")?);
                }
            }
        }
    }
    Ok(indicator_ids)
}

/// Sightings (one per indicator of the upload, so (upload_id, indicator_id) names each), then
/// their techniques and days.
async fn insert_sightings(
    tx: &mut Tx,
    upload_id: i64,
    org: i64,
    rank: i64,
    received: i64,
    sightings: &[NewSighting],
    ids: &[i64],
) -> Result<(), StoreError> {
    let with_ids: Vec<(&NewSighting, i64)> = sightings.iter().zip(ids.iter().copied()).collect();
    insert_rows(
        tx,
        "indicator_sightings",
        &[
            "upload_id",
            "org_id",
            "indicator_id",
            "tlp_rank",
            "first_seen",
            "last_seen",
            "count",
            "received_at",
            "time_source",
        ],
        "",
        SIGHTINGS_PER_INSERT,
        &with_ids,
        |q, (s, id)| {
            Ok(q.bind(upload_id)
                .bind(org)
                .bind(*id)
                .bind(rank)
                .bind(s.first_seen)
                .bind(s.last_seen)
                .bind(s.count)
                .bind(received)
                .bind(s.time_source))
        },
    )
    .await?;
    let mut sighting_ids: HashMap<i64, i64> = HashMap::with_capacity(sightings.len());
    for row in sqlx::query("SELECT indicator_id, id FROM indicator_sightings WHERE upload_id = $1")
        .bind(upload_id)
        .fetch_all(&mut **tx)
        .await?
    {
        sighting_ids.insert(row.try_get("indicator_id")?, row.try_get("id")?);
    }
    let mut techniques: Vec<(i64, i64, &str)> = Vec::new();
    let mut vulnerabilities: Vec<(i64, i64, &str)> = Vec::new();
    let mut days: Vec<(i64, i64, i64, i64)> = Vec::new();
    for (s, &indicator_id) in sightings.iter().zip(ids) {
        let sighting_id = *sighting_ids
            .get(&indicator_id)
            .ok_or_else(|| StoreError::Internal(format!("no sighting for indicator {indicator_id}")))?;
        techniques.extend(s.techniques.iter().map(|t| (sighting_id, indicator_id, t.as_str())));
        vulnerabilities.extend(s.vulnerabilities.iter().map(|v| (sighting_id, indicator_id, v.as_str())));
        days.extend(s.days.iter().map(|(day, n)| (sighting_id, indicator_id, *day, *n)));
    }
    // Techniques and CVEs: (sighting, indicator, text), one table each.
    for (table, column, rows) in
        [("indicator_techniques", "technique", &techniques), ("indicator_vulnerabilities", "cve", &vulnerabilities)]
    {
        let columns = ["sighting_id", "org_id", "indicator_id", "tlp_rank", column];
        insert_rows(tx, table, &columns, "", SIGHTINGS_PER_INSERT, rows, |q, (sighting, indicator, text)| {
            Ok(q.bind(*sighting).bind(org).bind(*indicator).bind(rank).bind(*text))
        })
        .await?;
    }
    insert_rows(
        tx,
        "indicator_days",
        &["sighting_id", "org_id", "indicator_id", "tlp_rank", "day", "count"],
        "",
        SIGHTINGS_PER_INSERT,
        &days,
        |q, (sighting, indicator, day, n)| {
            Ok(q.bind(*sighting).bind(org).bind(*indicator).bind(rank).bind(*day).bind(*n))
        },
    )
    .await
}

async fn insert_lines(tx: &mut Tx, upload_id: i64, org: i64, lines: &[RawLine]) -> Result<(), StoreError> {
    insert_rows(
        tx,
        "indicator_lines",
        &["upload_id", "org_id", "file", "line", "time", "raw"],
        "",
        SIGHTINGS_PER_INSERT,
        lines,
        |q, l| {
            Ok(q.bind(upload_id)
                .bind(org)
                .bind(l.file.as_str())
                .bind(to_i64(l.line))
                .bind(l.time.as_deref())
                .bind(l.raw.as_str()))
        },
    )
    .await
}

// ---- reading ----

/// Whose sightings a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One organisation's own, every marking (up to `max_tlp`).
    Own(i64),
    /// Every organisation's that may leave it (AMBER and below, up to `max_tlp`).
    Pool,
}

/// The filters of the lists, the chart and the feed, checked.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<IndicatorKind>,
    pub technique: Option<String>,
    pub known_scanner: Option<bool>,
    /// Part of the value, any case.
    pub q: Option<String>,
    /// Only indicators with a sighting received at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// At most this marking: the result is computed from the sightings at or below it only.
    pub max_tlp: Option<Tlp>,
    pub limit: i64,
    pub offset: i64,
}

/// A value bound to a query.
#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(String),
}

/// A query under construction: text with `$n` placeholders and their values in order.
#[derive(Debug, Default, Clone)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends the next placeholder, bound to `value`.
    fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        self.text.push_str(&format!("${}", self.binds.len()));
        self
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut query = sqlx::query(&self.text);
        for b in &self.binds {
            query = match b {
                Bind::Int(i) => query.bind(*i),
                Bind::Text(t) => query.bind(t.clone()),
            };
        }
        query
    }
}

impl Filter {
    /// The most restrictive marking read: for the pool never above AMBER, so AMBER+STRICT and
    /// RED sightings never leave their organisation.
    pub fn cap(&self, scope: Scope) -> i64 {
        let requested = self.max_tlp.unwrap_or(Tlp::Red).rank();
        match scope {
            Scope::Own(_) => requested,
            Scope::Pool => requested.min(Tlp::Amber.rank()),
        }
    }

    /// `AND ...` conditions on `v` (indicator_values) and the scope's sightings `alias`.
    fn conditions(&self, sql: &mut Sql, scope: Scope, alias: &str) {
        sql.push(&format!(" {alias}.tlp_rank <= ")).bind(Bind::Int(self.cap(scope)));
        if let Scope::Own(org) = scope {
            sql.push(&format!(" AND {alias}.org_id = ")).bind(Bind::Int(org));
        }
        if let Some(kind) = self.kind {
            sql.push(" AND v.kind = ").bind(Bind::Text(kind.as_str().into()));
        }
        if let Some(k) = self.known_scanner {
            sql.push(" AND v.known_scanner = ").bind(Bind::Int(i64::from(k)));
        }
        if let Some(q) = &self.q {
            sql.push(" AND LOWER(v.value) LIKE LOWER(").bind(Bind::Text(like_pattern(q))).push(") ESCAPE '\\'");
        }
        if let Some(t) = &self.technique {
            sql.push(" AND v.id IN (SELECT t.indicator_id FROM indicator_techniques t WHERE t.technique = ")
                .bind(Bind::Text(t.clone()))
                .push(" AND t.tlp_rank <= ")
                .bind(Bind::Int(self.cap(scope)));
            if let Scope::Own(org) = scope {
                sql.push(" AND t.org_id = ").bind(Bind::Int(org));
            }
            sql.push(")");
        }
    }
}

/// One indicator of the caller's organisation, from all its uploads.
#[derive(Debug, Clone, Serialize)]
pub struct OwnIndicator {
    pub kind: IndicatorKind,
    pub value: String,
    pub known_scanner: bool,
    pub count: i64,
    pub first_seen: String,
    pub last_seen: String,
    /// `log` when any upload had log times for it, else `upload`.
    pub time_source: String,
    pub uploads: i64,
    /// The hosts whose hunts saw it.
    pub hosts: Vec<String>,
    /// The most restrictive marking of the organisation's sightings.
    pub tlp: Tlp,
    pub techniques: Vec<String>,
    /// The vulnerabilities of the attempts that carried it (CVE ids).
    pub vulnerabilities: Vec<String>,
}

/// One pooled indicator: counts only.
#[derive(Debug, Clone, Serialize)]
pub struct PooledIndicator {
    pub kind: IndicatorKind,
    pub value: String,
    pub known_scanner: bool,
    /// Organisations that saw it (with a marking that may leave them).
    pub organisations: i64,
    pub count: i64,
    pub first_seen: String,
    pub last_seen: String,
    /// The most restrictive marking of the sightings that went into it.
    pub tlp: Tlp,
    pub techniques: Vec<String>,
    /// The vulnerabilities of the attempts that carried it (CVE ids).
    pub vulnerabilities: Vec<String>,
    /// When a sighting of it was last received.
    pub updated_at: String,
    /// Coordinators only: the organisations that saw it and share details with coordinators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_by: Option<Vec<String>>,
}

fn kind_of(text: &str) -> Result<IndicatorKind, StoreError> {
    IndicatorKind::parse(text).ok_or_else(|| StoreError::Internal(format!("stored kind {text:?}")))
}

fn tlp_of(rank: i64) -> Result<Tlp, StoreError> {
    Tlp::from_rank(rank).ok_or_else(|| StoreError::Internal(format!("stored TLP rank {rank}")))
}

/// `(id, text)` pairs (columns `id` and `text`) of `prefix ... IN (ids)`, grouped by id.
/// Runs one query per [`IDS_PER_QUERY`] ids (a feed may hold more ids than a statement may
/// have parameters).
async fn by_id(db: &Db, prefix: Sql, ids: &[i64]) -> Result<BTreeMap<i64, Vec<String>>, StoreError> {
    let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let mut sql = prefix.clone();
        sql.push(" IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(Bind::Int(*id));
        }
        sql.push(")");
        for row in sql.query().fetch_all(&db.pool).await? {
            out.entry(row.try_get("id")?).or_default().push(row.try_get("text")?);
        }
    }
    for list in out.values_mut() {
        list.sort();
        list.dedup();
    }
    Ok(out)
}

/// Organisation `org`'s indicators, newest first.
pub async fn own(db: &Db, org: i64, filter: &Filter) -> Result<Vec<OwnIndicator>, StoreError> {
    let scope = Scope::Own(org);
    let mut sql = Sql::default();
    sql.push(
        "SELECT v.id AS id, v.kind AS kind, v.value AS value, v.known_scanner AS known_scanner, \
         CAST(SUM(s.count) AS BIGINT) AS count, MIN(s.first_seen) AS first_seen, MAX(s.last_seen) AS last_seen, \
         MIN(s.time_source) AS time_source, COUNT(DISTINCT s.upload_id) AS uploads, MAX(s.tlp_rank) AS tlp_rank \
         FROM indicator_sightings s JOIN indicator_values v ON v.id = s.indicator_id WHERE",
    );
    filter.conditions(&mut sql, scope, "s");
    sql.push(" GROUP BY v.id, v.kind, v.value, v.known_scanner");
    if let Some(since) = filter.since {
        sql.push(" HAVING MAX(s.received_at) >= ").bind(Bind::Int(since));
    }
    sql.push(" ORDER BY MAX(s.last_seen) DESC, v.kind, v.value LIMIT ")
        .bind(Bind::Int(filter.limit))
        .push(" OFFSET ")
        .bind(Bind::Int(filter.offset));
    let rows = sql.query().fetch_all(&db.pool).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
    let cap = filter.cap(scope);
    let mut tq = Sql::default();
    tq.push("SELECT DISTINCT indicator_id AS id, technique AS text FROM indicator_techniques WHERE org_id = ")
        .bind(Bind::Int(org))
        .push(" AND tlp_rank <= ")
        .bind(Bind::Int(cap))
        .push(" AND indicator_id");
    let techniques = by_id(db, tq, &ids).await?;
    let mut vq = Sql::default();
    vq.push("SELECT DISTINCT indicator_id AS id, cve AS text FROM indicator_vulnerabilities WHERE org_id = ")
        .bind(Bind::Int(org))
        .push(" AND tlp_rank <= ")
        .bind(Bind::Int(cap))
        .push(" AND indicator_id");
    let vulnerabilities = by_id(db, vq, &ids).await?;
    let mut hq = Sql::default();
    hq.push(
        "SELECT DISTINCT s.indicator_id AS id, u.host AS text FROM indicator_sightings s \
         JOIN indicator_uploads u ON u.id = s.upload_id WHERE s.org_id = ",
    )
    .bind(Bind::Int(org))
    .push(" AND s.tlp_rank <= ")
    .bind(Bind::Int(cap))
    .push(" AND s.indicator_id");
    let hosts = by_id(db, hq, &ids).await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            Ok(OwnIndicator {
                kind: kind_of(&row.try_get::<String, _>("kind")?)?,
                value: row.try_get("value")?,
                known_scanner: row.try_get::<i64, _>("known_scanner")? != 0,
                count: row.try_get("count")?,
                first_seen: format_rfc3339(row.try_get("first_seen")?),
                last_seen: format_rfc3339(row.try_get("last_seen")?),
                time_source: row.try_get("time_source")?,
                uploads: row.try_get("uploads")?,
                tlp: tlp_of(row.try_get("tlp_rank")?)?,
                hosts: hosts.get(&id).cloned().unwrap_or_default(),
                techniques: techniques.get(&id).cloned().unwrap_or_default(),
                vulnerabilities: vulnerabilities.get(&id).cloned().unwrap_or_default(),
            })
        })
        .collect()
}

/// The pooled indicators seen by at least `min_orgs` organisations, most organisations first;
/// with `coordinator`, the names of the organisations that share details.
pub async fn pool(
    db: &Db,
    min_orgs: i64,
    filter: &Filter,
    coordinator: bool,
) -> Result<Vec<PooledIndicator>, StoreError> {
    let scope = Scope::Pool;
    let cap = filter.cap(scope);
    let mut sql = Sql::default();
    sql.push(
        "SELECT v.id AS id, v.kind AS kind, v.value AS value, v.known_scanner AS known_scanner, \
         COUNT(DISTINCT s.org_id) AS organisations, CAST(SUM(s.count) AS BIGINT) AS count, \
         MIN(s.first_seen) AS first_seen, MAX(s.last_seen) AS last_seen, MAX(s.tlp_rank) AS tlp_rank, \
         MAX(s.received_at) AS updated_at \
         FROM indicator_sightings s JOIN indicator_values v ON v.id = s.indicator_id WHERE",
    );
    filter.conditions(&mut sql, scope, "s");
    sql.push(" GROUP BY v.id, v.kind, v.value, v.known_scanner HAVING COUNT(DISTINCT s.org_id) >= ")
        .bind(Bind::Int(min_orgs.max(1)));
    if let Some(since) = filter.since {
        sql.push(" AND MAX(s.received_at) >= ").bind(Bind::Int(since));
    }
    sql.push(" ORDER BY COUNT(DISTINCT s.org_id) DESC, MAX(s.last_seen) DESC, v.kind, v.value LIMIT ")
        .bind(Bind::Int(filter.limit))
        .push(" OFFSET ")
        .bind(Bind::Int(filter.offset));
    let rows = sql.query().fetch_all(&db.pool).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
    let mut tq = Sql::default();
    tq.push("SELECT DISTINCT indicator_id AS id, technique AS text FROM indicator_techniques WHERE tlp_rank <= ")
        .bind(Bind::Int(cap))
        .push(" AND indicator_id");
    let techniques = by_id(db, tq, &ids).await?;
    let mut vq = Sql::default();
    vq.push("SELECT DISTINCT indicator_id AS id, cve AS text FROM indicator_vulnerabilities WHERE tlp_rank <= ")
        .bind(Bind::Int(cap))
        .push(" AND indicator_id");
    let vulnerabilities = by_id(db, vq, &ids).await?;
    let shared_by = if coordinator {
        let mut oq = Sql::default();
        oq.push(
            "SELECT DISTINCT s.indicator_id AS id, o.name AS text FROM indicator_sightings s \
             JOIN orgs o ON o.id = s.org_id WHERE o.shares_details <> 0 AND s.tlp_rank <= ",
        )
        .bind(Bind::Int(cap))
        .push(" AND s.indicator_id");
        Some(by_id(db, oq, &ids).await?)
    } else {
        None
    };
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            Ok(PooledIndicator {
                kind: kind_of(&row.try_get::<String, _>("kind")?)?,
                value: row.try_get("value")?,
                known_scanner: row.try_get::<i64, _>("known_scanner")? != 0,
                organisations: row.try_get("organisations")?,
                count: row.try_get("count")?,
                first_seen: format_rfc3339(row.try_get("first_seen")?),
                last_seen: format_rfc3339(row.try_get("last_seen")?),
                tlp: tlp_of(row.try_get("tlp_rank")?)?,
                updated_at: format_rfc3339(row.try_get("updated_at")?),
                techniques: techniques.get(&id).cloned().unwrap_or_default(),
                vulnerabilities: vulnerabilities.get(&id).cloned().unwrap_or_default(),
                shared_by: shared_by.as_ref().map(|s| s.get(&id).cloned().unwrap_or_default()),
            })
        })
        .collect()
}

/// Attempts per day: (day number, count), ascending; for the pool, of the indicators in the
/// pool only (seen by at least `min_orgs` organisations, markings that may leave them).
pub async fn days(db: &Db, scope: Scope, min_orgs: i64, filter: &Filter) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut sql = Sql::default();
    sql.push(
        "SELECT d.day AS day, CAST(SUM(d.count) AS BIGINT) AS count FROM indicator_days d \
         JOIN indicator_values v ON v.id = d.indicator_id WHERE",
    );
    filter.conditions(&mut sql, scope, "d");
    if let Scope::Pool = scope {
        sql.push(" AND d.indicator_id IN (SELECT s.indicator_id FROM indicator_sightings s WHERE s.tlp_rank <= ")
            .bind(Bind::Int(filter.cap(scope)))
            .push(" GROUP BY s.indicator_id HAVING COUNT(DISTINCT s.org_id) >= ")
            .bind(Bind::Int(min_orgs.max(1)))
            .push(")");
    }
    sql.push(" GROUP BY d.day ORDER BY d.day");
    sql.query().fetch_all(&db.pool).await?.iter().map(|row| Ok((row.try_get("day")?, row.try_get("count")?))).collect()
}

/// A raw line uploaded with `--upload-lines`.
#[derive(Debug, Serialize)]
pub struct LineRow {
    pub upload_id: i64,
    pub host: String,
    pub received_at: String,
    pub file: String,
    pub line: i64,
    pub time: Option<String>,
    pub raw: String,
}

/// Organisation `org`'s raw lines, newest upload first.
pub async fn lines(db: &Db, org: i64, limit: i64, offset: i64) -> Result<Vec<LineRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT l.upload_id AS upload_id, u.host AS host, u.received_at AS received_at, l.file AS file, \
         l.line AS line, l.time AS time, l.raw AS raw FROM indicator_lines l \
         JOIN indicator_uploads u ON u.id = l.upload_id WHERE l.org_id = $1 AND u.org_id = $1 \
         ORDER BY l.upload_id DESC, l.id LIMIT $2 OFFSET $3",
    )
    .bind(org)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LineRow {
                upload_id: row.try_get("upload_id")?,
                host: row.try_get("host")?,
                received_at: format_rfc3339(row.try_get("received_at")?),
                file: row.try_get("file")?,
                line: row.try_get("line")?,
                time: row.try_get("time")?,
                raw: row.try_get("raw")?,
            })
        })
        .collect()
}
