//! Indicators from hunting (`quell hunt --upload`), pooled across organisations.
//!
//! An organisation uploads the deduplicated indicators of a hunt (callback hosts, payload URLs,
//! hosts of decoded commands, source addresses; counts, first/last seen, techniques, attempts
//! per day) under a TLP 2.0 marking ([`quell_model::indicators`]). Each upload is kept as the
//! organisation's *sightings*; the *pool* is computed from every organisation's sightings.
//!
//! Invariants:
//! - An organisation reads its own sightings in full (`GET /api/v1/indicators`); the query
//!   filters on the organisation of the caller's [`Principal`].
//! - The pool shows, per indicator, the number of organisations, first/last seen, total count
//!   and techniques — never which organisations, except to coordinators and only the names of
//!   organisations that share details (`orgs.shares_details`, as in the inventory).
//! - A pooled indicator is shown only when at least [`Limits::indicator_min_orgs`] organisations
//!   saw it (default [`DEFAULT_INDICATOR_MIN_ORGS`](crate::limits::DEFAULT_INDICATOR_MIN_ORGS)).
//! - TLP: sightings marked AMBER+STRICT or RED never leave their organisation: they count for
//!   nothing in the pool. A pooled indicator's marking is the most restrictive marking of the
//!   sightings that went into it; an export asked for at most a marking (`max_tlp`) is computed
//!   from the sightings at or below it only, so its thresholds and counts are honest too.
//! - An upload is one transaction; the same content (`generated_at` aside) within an
//!   organisation is stored once (`200`, `"duplicate": true`), so a retried or re-run upload of
//!   the same logs is not counted twice; a bad upload is refused with 4xx and stores nothing.
//! - Upload-only tokens may upload here (as for reports) and do nothing else.

mod export;
mod page;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use quell_model::indicators::{IndicatorKind, IndicatorUpload, Tlp, UPLOAD_FORMAT, parse_day, parse_rfc3339};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::api::{full, org_of};
use crate::auth::{Principal, Role, hex};
use crate::limits::{
    EARLIEST_INDICATOR_TIME, IDS_PER_QUERY, MAX_DAYS_PER_INDICATOR, MAX_HOST_NAME_BYTES, MAX_INDICATOR_CLOCK_SKEW_SECS,
    MAX_INDICATOR_VALUE_BYTES, MAX_INDICATORS_PER_UPLOAD, MAX_LINES_PER_UPLOAD, MAX_NAME_BYTES, MAX_PAGE_ROWS,
    MAX_RAW_LINE_BYTES, MAX_TECHNIQUE_BYTES, MAX_TECHNIQUES_PER_INDICATOR, SIGHTINGS_PER_INSERT,
};
use crate::time::format_rfc3339;
use crate::{AppState, Limits, ServerError, ingest, now};
use quell_store::Db;

pub use export::{ExportFormat, ExportRow};

/// Well-known research-scanning and out-of-band testing services: an indicator whose host is
/// one of these (or below one) is `known_scanner`, a probe rather than an attack. A small list
/// on purpose, of services that publish these domains themselves: ProjectDiscovery's interactsh
/// public servers (interact.sh, oast.*), PortSwigger Burp Collaborator (oastify.com,
/// burpcollaborator.net), dnslog.cn and ceye.io (callback loggers), Thinkst canarytokens, and
/// the research scanners that announced their Log4Shell probe domains in December 2021
/// (Huntress, LeakIX, Shadowserver, Censys, Shodan, Rapid7, Qualys, Tenable/Nessus).
/// Source addresses are plain IP addresses and never match. Decided when a value is first
/// stored (`indicator_values.known_scanner`, so that lists can filter on it).
pub const KNOWN_SCANNER_DOMAINS: &[&str] = &[
    "interact.sh",
    "oast.pro",
    "oast.live",
    "oast.site",
    "oast.online",
    "oast.fun",
    "oast.me",
    "oastify.com",
    "burpcollaborator.net",
    "dnslog.cn",
    "ceye.io",
    "canarytokens.com",
    "log4shell.huntress.com",
    "leakix.net",
    "shadowserver.org",
    "censys.io",
    "shodan.io",
    "rapid7.com",
    "qualys.com",
    "nessus.org",
];

/// The host inside an indicator value: a host or `host:port`, or a URL's authority (for
/// `ldap://127.0.0.1#evil.example:1389/a`, the part after `#`, which is what gets called).
pub fn value_host(kind: IndicatorKind, value: &str) -> Option<String> {
    let authority = match kind {
        IndicatorKind::SourceAddress => return None,
        IndicatorKind::CallbackHost | IndicatorKind::CommandHost => value,
        IndicatorKind::PayloadUrl => {
            let rest = value.split_once("://").map_or(value, |(_, r)| r);
            rest.split(['/', '?']).next().unwrap_or("")
        }
    };
    let authority = authority.rsplit_once('#').map_or(authority, |(_, alt)| alt);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = host.trim_matches(['[', ']']).trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// Whether the indicator's host is one of [`KNOWN_SCANNER_DOMAINS`] or below one.
pub fn known_scanner(kind: IndicatorKind, value: &str) -> bool {
    value_host(kind, value)
        .is_some_and(|host| KNOWN_SCANNER_DOMAINS.iter().any(|d| host == *d || host.ends_with(&format!(".{d}"))))
}

/// The routes: the API under `/api/v1/indicators` and the `/indicators` page.
pub fn router(limits: &Limits) -> Router<AppState> {
    Router::new()
        .route("/api/v1/indicators", post(upload).get(list_own).layer(DefaultBodyLimit::max(limits.max_report_bytes)))
        .route("/api/v1/indicators/pool", get(list_pool))
        .route("/api/v1/indicators/days", get(list_days))
        .route("/api/v1/indicators/feed", get(feed))
        .route("/api/v1/indicators/lines", get(list_lines))
        .merge(page::router())
}

// ---- upload ----

/// One indicator of an upload, checked.
#[derive(Debug, Clone)]
struct ParsedSighting {
    kind: IndicatorKind,
    value: String,
    count: i64,
    first_seen: i64,
    last_seen: i64,
    time_source: &'static str,
    techniques: Vec<String>,
    days: Vec<(i64, i64)>,
}

/// A checked upload, ready to store.
#[derive(Debug, Clone)]
pub struct ParsedUpload {
    sha256: String,
    host: String,
    tool_version: String,
    tlp: Tlp,
    generated_at: i64,
    sightings: Vec<ParsedSighting>,
    lines: Vec<quell_model::indicators::RawLine>,
}

fn bad(message: String) -> ServerError {
    ServerError::Invalid(message)
}

fn check_text(what: &str, value: &str, max: usize) -> Result<(), ServerError> {
    if value.trim().is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(bad(format!("{what} must be 1 to {max} bytes without control characters")));
    }
    Ok(())
}

/// An RFC 3339 time between [`EARLIEST_INDICATOR_TIME`] and now (plus
/// [`MAX_INDICATOR_CLOCK_SKEW_SECS`]).
fn time(what: &str, text: &str) -> Result<i64, ServerError> {
    let t = parse_rfc3339(text).ok_or_else(|| bad(format!("{what} {text:?} is not an RFC 3339 time")))?;
    if !(EARLIEST_INDICATOR_TIME..=now() + MAX_INDICATOR_CLOCK_SKEW_SECS).contains(&t) {
        return Err(bad(format!("{what} {text:?} is before 2000 or in the future")));
    }
    Ok(t)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Checks a decoded upload body (JSON, see [`quell_model::indicators`]).
///
/// The idempotency key is the SHA-256 of the upload's content without `generated_at` (indicators
/// in one order): hunting the same logs again and uploading gives the same key when every time
/// came from the logs, so a re-run is stored once, not counted twice.
pub fn parse_upload(body: &[u8]) -> Result<ParsedUpload, ServerError> {
    let upload: IndicatorUpload =
        serde_json::from_slice(body).map_err(|e| bad(format!("not an indicator upload: {e}")))?;
    let mut canonical = upload.clone();
    canonical.generated_at = String::new();
    canonical.indicators.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
    let canonical = serde_json::to_vec(&canonical).map_err(|e| ServerError::Internal(e.to_string()))?;
    let sha256 = hex(&Sha256::digest(&canonical));
    if upload.format != UPLOAD_FORMAT {
        return Err(bad(format!("format must be {UPLOAD_FORMAT:?}, not {:?}", upload.format)));
    }
    check_text("host", &upload.host, MAX_HOST_NAME_BYTES)?;
    check_text("tool_version", &upload.tool_version, MAX_NAME_BYTES)?;
    let generated_at = time("generated_at", &upload.generated_at)?;
    if upload.indicators.len() > MAX_INDICATORS_PER_UPLOAD {
        return Err(ServerError::TooLarge(format!("more than {MAX_INDICATORS_PER_UPLOAD} indicators in one upload")));
    }
    if upload.lines.len() > MAX_LINES_PER_UPLOAD {
        return Err(ServerError::TooLarge(format!("more than {MAX_LINES_PER_UPLOAD} lines in one upload")));
    }
    let mut seen = HashSet::new();
    let mut sightings = Vec::with_capacity(upload.indicators.len());
    for (index, i) in upload.indicators.iter().enumerate() {
        let at = |m: String| bad(format!("indicators[{index}]: {m}"));
        check_text("value", &i.value, MAX_INDICATOR_VALUE_BYTES).map_err(|e| at(e.to_string()))?;
        if i.value.trim() != i.value {
            return Err(at("value has surrounding white space".into()));
        }
        if !seen.insert((i.kind, i.value.as_str())) {
            return Err(at(format!("{} {:?} appears twice", i.kind.as_str(), i.value)));
        }
        if i.count == 0 {
            return Err(at("count must be at least 1".into()));
        }
        let first_seen = time("first_seen", &i.first_seen).map_err(|e| at(e.to_string()))?;
        let last_seen = time("last_seen", &i.last_seen).map_err(|e| at(e.to_string()))?;
        if first_seen > last_seen {
            return Err(at("first_seen is after last_seen".into()));
        }
        if i.techniques.len() > MAX_TECHNIQUES_PER_INDICATOR {
            return Err(at(format!("more than {MAX_TECHNIQUES_PER_INDICATOR} techniques")));
        }
        let mut techniques = BTreeSet::new();
        for t in &i.techniques {
            check_text("a technique", t, MAX_TECHNIQUE_BYTES).map_err(|e| at(e.to_string()))?;
            techniques.insert(t.clone());
        }
        if i.days.len() > MAX_DAYS_PER_INDICATOR {
            return Err(at(format!("more than {MAX_DAYS_PER_INDICATOR} days")));
        }
        let mut days = Vec::with_capacity(i.days.len());
        let mut total: u64 = 0;
        for (day, n) in &i.days {
            let number = parse_day(day).ok_or_else(|| at(format!("day {day:?} is not YYYY-MM-DD")))?;
            if number < first_seen.div_euclid(86_400) || number > last_seen.max(generated_at).div_euclid(86_400) {
                return Err(at(format!("day {day} is outside first_seen..last_seen (or the upload day)")));
            }
            if *n == 0 {
                return Err(at(format!("day {day}: count must be at least 1")));
            }
            total = total.saturating_add(*n);
            days.push((number, to_i64(*n)));
        }
        if !days.is_empty() && total != i.count {
            return Err(at(format!("the days add up to {total}, not to count {}", i.count)));
        }
        sightings.push(ParsedSighting {
            kind: i.kind,
            value: i.value.clone(),
            count: to_i64(i.count),
            first_seen,
            last_seen,
            time_source: match i.time_source {
                quell_model::indicators::TimeSource::Log => "log",
                quell_model::indicators::TimeSource::Upload => "upload",
            },
            techniques: techniques.into_iter().collect(),
            days,
        });
    }
    // One order for every upload: concurrent uploads take the same rows' locks in the same order.
    sightings.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
    for (index, line) in upload.lines.iter().enumerate() {
        if line.raw.len() > MAX_RAW_LINE_BYTES || line.file.len() > MAX_INDICATOR_VALUE_BYTES {
            return Err(ServerError::TooLarge(format!(
                "lines[{index}]: longer than {MAX_RAW_LINE_BYTES} bytes (raw) or {MAX_INDICATOR_VALUE_BYTES} (file)"
            )));
        }
    }
    Ok(ParsedUpload {
        sha256,
        host: upload.host,
        tool_version: upload.tool_version,
        tlp: upload.tlp,
        generated_at,
        sightings,
        lines: upload.lines,
    })
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

/// `($1, $2, ...), (...)` for `rows` rows of `width` parameters.
fn placeholders(rows: usize, width: usize) -> String {
    let mut sql = String::new();
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * width + c + 1));
        }
        sql.push(')');
    }
    sql
}

/// Stores an upload in one transaction; the same body again answers the first id.
pub async fn store(db: &Db, org: i64, token_id: i64, upload: &ParsedUpload) -> Result<StoredUpload, ServerError> {
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
            id: row.try_get(0)?,
            duplicate: true,
            indicators: row.try_get(1)?,
            lines: row.try_get(2)?,
            tlp: Tlp::from_rank(row.try_get(3)?).unwrap_or(Tlp::Red),
        });
    };
    let upload_id: i64 = row.try_get(0)?;
    // Indicator values: the new ones inserted, then every id read back (by kind, with the
    // (kind, value) index), in chunks, in one order for every upload.
    let mut indicator_ids: HashMap<(IndicatorKind, &str), i64> = HashMap::with_capacity(upload.sightings.len());
    for chunk in upload.sightings.chunks(SIGHTINGS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO indicator_values (kind, value, known_scanner) VALUES {} ON CONFLICT (kind, value) DO NOTHING",
            placeholders(chunk.len(), 3)
        );
        let mut query = sqlx::query(&sql);
        for s in chunk {
            query = query.bind(s.kind.as_str()).bind(s.value.as_str()).bind(i64::from(known_scanner(s.kind, &s.value)));
        }
        query.execute(&mut *tx).await?;
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
            for row in sql.query().fetch_all(&mut *tx).await? {
                let value: String = row.try_get(1)?;
                if let Some(v) = values.iter().find(|v| **v == value) {
                    indicator_ids.insert((kind, v), row.try_get(0)?);
                }
            }
        }
    }
    let id_of = |s: &ParsedSighting| {
        indicator_ids
            .get(&(s.kind, s.value.as_str()))
            .copied()
            .ok_or_else(|| ServerError::Internal(format!("no id for {} {:?}", s.kind.as_str(), s.value)))
    };
    // Sightings: one per indicator of the upload, so (upload_id, indicator_id) names each.
    for chunk in upload.sightings.chunks(SIGHTINGS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO indicator_sightings (upload_id, org_id, indicator_id, tlp_rank, first_seen, last_seen, count, \
             received_at, time_source) VALUES {}",
            placeholders(chunk.len(), 9)
        );
        let mut query = sqlx::query(&sql);
        for s in chunk {
            query = query
                .bind(upload_id)
                .bind(org)
                .bind(id_of(s)?)
                .bind(rank)
                .bind(s.first_seen)
                .bind(s.last_seen)
                .bind(s.count)
                .bind(received)
                .bind(s.time_source);
        }
        query.execute(&mut *tx).await?;
    }
    let mut sighting_ids: HashMap<i64, i64> = HashMap::with_capacity(upload.sightings.len());
    for row in sqlx::query("SELECT indicator_id, id FROM indicator_sightings WHERE upload_id = $1")
        .bind(upload_id)
        .fetch_all(&mut *tx)
        .await?
    {
        sighting_ids.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let mut techniques: Vec<(i64, i64, &str)> = Vec::new();
    let mut days: Vec<(i64, i64, i64, i64)> = Vec::new();
    for s in &upload.sightings {
        let indicator_id = id_of(s)?;
        let sighting_id = *sighting_ids
            .get(&indicator_id)
            .ok_or_else(|| ServerError::Internal(format!("no sighting for indicator {indicator_id}")))?;
        techniques.extend(s.techniques.iter().map(|t| (sighting_id, indicator_id, t.as_str())));
        days.extend(s.days.iter().map(|(day, n)| (sighting_id, indicator_id, *day, *n)));
    }
    for chunk in techniques.chunks(SIGHTINGS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO indicator_techniques (sighting_id, org_id, indicator_id, tlp_rank, technique) VALUES {}",
            placeholders(chunk.len(), 5)
        );
        let mut query = sqlx::query(&sql);
        for (sighting, indicator, technique) in chunk {
            query = query.bind(*sighting).bind(org).bind(*indicator).bind(rank).bind(*technique);
        }
        query.execute(&mut *tx).await?;
    }
    for chunk in days.chunks(SIGHTINGS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO indicator_days (sighting_id, org_id, indicator_id, tlp_rank, day, count) VALUES {}",
            placeholders(chunk.len(), 6)
        );
        let mut query = sqlx::query(&sql);
        for (sighting, indicator, day, n) in chunk {
            query = query.bind(*sighting).bind(org).bind(*indicator).bind(rank).bind(*day).bind(*n);
        }
        query.execute(&mut *tx).await?;
    }
    for chunk in upload.lines.chunks(SIGHTINGS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO indicator_lines (upload_id, org_id, file, line, time, raw) VALUES {}",
            placeholders(chunk.len(), 6)
        );
        let mut query = sqlx::query(&sql);
        for l in chunk {
            query = query
                .bind(upload_id)
                .bind(org)
                .bind(l.file.clone())
                .bind(to_i64(l.line))
                .bind(l.time.clone())
                .bind(l.raw.clone());
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(StoredUpload {
        id: upload_id,
        duplicate: false,
        indicators: upload.sightings.len() as i64,
        lines: upload.lines.len() as i64,
        tlp: upload.tlp,
    })
}

async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let org = principal.org_id.ok_or_else(|| {
        ServerError::Forbidden("a coordinator belongs to no organisation: upload with an organisation's token".into())
    })?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServerError::TooLarge(format!("the upload is larger than {} bytes", state.limits.max_report_bytes))
        } else {
            ServerError::Invalid(format!("cannot read the body: {e}"))
        }
    })?;
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity");
    let gzip = match encoding.trim().to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => true,
        "identity" | "" => false,
        other => return Err(ServerError::Invalid(format!("Content-Encoding {other:?} is not supported (use gzip)"))),
    };
    let limits = state.limits.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        let decoded = ingest::decode_body(&body, gzip, &limits)?;
        parse_upload(&decoded)
    })
    .await
    .map_err(|e| ServerError::Internal(e.to_string()))??;
    let stored = store(&state.db, org, principal.token_id.unwrap_or(0), &parsed).await?;
    let status = if stored.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    if !stored.duplicate {
        tracing::info!(org, upload = stored.id, indicators = stored.indicators, tlp = %stored.tlp, "indicators stored");
    }
    Ok((status, Json(stored)).into_response())
}

// ---- reading ----

/// Filters of the lists, the chart and the feed (query parameters).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filter {
    /// `callback_host`, `payload_url`, `command_host`, `source_address`.
    pub kind: Option<String>,
    pub technique: Option<String>,
    /// `true`/`false`.
    pub known_scanner: Option<String>,
    /// Part of the value, any case.
    pub q: Option<String>,
    /// Only indicators with a sighting received at or after this time (RFC 3339 or Unix seconds).
    pub since: Option<String>,
    /// At most this marking: the result is computed from the sightings at or below it only.
    pub max_tlp: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// Days and feed: `pool` (default) or `own`. (Here rather than in a struct of their own
    /// with `#[serde(flatten)]`, which would read `limit` as a string and refuse it.)
    pub scope: Option<String>,
    /// Feed: `stix` (default), `misp` or `csv`.
    pub format: Option<String>,
}

/// A [`Filter`] checked.
#[derive(Debug, Clone, Default)]
struct Checked {
    kind: Option<IndicatorKind>,
    technique: Option<String>,
    known_scanner: Option<bool>,
    q: Option<String>,
    since: Option<i64>,
    max_tlp: Option<Tlp>,
    limit: i64,
    offset: i64,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Filter {
    fn check(&self, max_rows: i64) -> Result<Checked, ServerError> {
        let kind = nonempty(&self.kind)
            .map(|k| {
                IndicatorKind::parse(k).ok_or_else(|| {
                    bad(format!("kind {k:?}: callback_host, payload_url, command_host or source_address"))
                })
            })
            .transpose()?;
        let known_scanner = nonempty(&self.known_scanner)
            .map(|k| match k {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(bad(format!("known_scanner {k:?}: true or false"))),
            })
            .transpose()?;
        let since = nonempty(&self.since)
            .map(|s| {
                s.parse::<i64>()
                    .ok()
                    .or_else(|| parse_rfc3339(s))
                    .ok_or_else(|| bad(format!("since {s:?}: an RFC 3339 time or Unix seconds")))
            })
            .transpose()?;
        let max_tlp = nonempty(&self.max_tlp).map(|t| t.parse::<Tlp>().map_err(|e| bad(e.to_string()))).transpose()?;
        let technique = nonempty(&self.technique).map(str::to_owned);
        if technique.as_ref().is_some_and(|t| t.len() > MAX_TECHNIQUE_BYTES) {
            return Err(bad("technique is too long".into()));
        }
        let q = nonempty(&self.q).map(str::to_owned);
        if q.as_ref().is_some_and(|t| t.len() > MAX_INDICATOR_VALUE_BYTES) {
            return Err(bad("q is too long".into()));
        }
        Ok(Checked {
            kind,
            technique,
            known_scanner,
            q,
            since,
            max_tlp,
            limit: self.limit.unwrap_or(max_rows).clamp(1, max_rows),
            offset: self.offset.unwrap_or(0).max(0),
        })
    }
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

/// `%text%` with `%`, `_` and `\` escaped (for `LIKE .. ESCAPE '\'`).
fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Whose sightings a query reads.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// One organisation's own, every marking (up to `max_tlp`).
    Own(i64),
    /// Every organisation's that may leave it (AMBER and below, up to `max_tlp`).
    Pool,
}

impl Checked {
    /// The most restrictive marking read.
    fn cap(&self, scope: Scope) -> i64 {
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
    /// When a sighting of it was last received.
    pub updated_at: String,
    /// Coordinators only: the organisations that saw it and share details with coordinators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_by: Option<Vec<String>>,
}

fn kind_of(text: &str) -> Result<IndicatorKind, ServerError> {
    IndicatorKind::parse(text).ok_or_else(|| ServerError::Internal(format!("stored kind {text:?}")))
}

fn tlp_of(rank: i64) -> Result<Tlp, ServerError> {
    Tlp::from_rank(rank).ok_or_else(|| ServerError::Internal(format!("stored TLP rank {rank}")))
}

/// `(id, text)` pairs of `sql_prefix ... IN (ids)`, grouped by id.
/// Runs one query per [`IDS_PER_QUERY`] ids (a feed may hold more ids than a statement may
/// have parameters).
async fn by_id(db: &Db, prefix: Sql, ids: &[i64]) -> Result<BTreeMap<i64, Vec<String>>, ServerError> {
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
            out.entry(row.try_get(0)?).or_default().push(row.try_get(1)?);
        }
    }
    for list in out.values_mut() {
        list.sort();
        list.dedup();
    }
    Ok(out)
}

/// The caller's organisation's indicators, newest first.
async fn own(db: &Db, org: i64, filter: &Checked) -> Result<Vec<OwnIndicator>, ServerError> {
    let scope = Scope::Own(org);
    let mut sql = Sql::default();
    sql.push(
        "SELECT v.id, v.kind, v.value, v.known_scanner, CAST(SUM(s.count) AS BIGINT), MIN(s.first_seen), \
         MAX(s.last_seen), MIN(s.time_source), COUNT(DISTINCT s.upload_id), MAX(s.tlp_rank) \
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
    let ids: Vec<i64> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
    let cap = filter.cap(scope);
    let mut tq = Sql::default();
    tq.push("SELECT DISTINCT indicator_id, technique FROM indicator_techniques WHERE org_id = ")
        .bind(Bind::Int(org))
        .push(" AND tlp_rank <= ")
        .bind(Bind::Int(cap))
        .push(" AND indicator_id");
    let techniques = by_id(db, tq, &ids).await?;
    let mut hq = Sql::default();
    hq.push(
        "SELECT DISTINCT s.indicator_id, u.host FROM indicator_sightings s JOIN indicator_uploads u ON u.id = s.upload_id \
         WHERE s.org_id = ",
    )
    .bind(Bind::Int(org))
    .push(" AND s.tlp_rank <= ")
    .bind(Bind::Int(cap))
    .push(" AND s.indicator_id");
    let hosts = by_id(db, hq, &ids).await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get(0)?;
            Ok(OwnIndicator {
                kind: kind_of(&row.try_get::<String, _>(1)?)?,
                value: row.try_get(2)?,
                known_scanner: row.try_get::<i64, _>(3)? != 0,
                count: row.try_get(4)?,
                first_seen: format_rfc3339(row.try_get(5)?),
                last_seen: format_rfc3339(row.try_get(6)?),
                time_source: row.try_get(7)?,
                uploads: row.try_get(8)?,
                tlp: tlp_of(row.try_get(9)?)?,
                hosts: hosts.get(&id).cloned().unwrap_or_default(),
                techniques: techniques.get(&id).cloned().unwrap_or_default(),
            })
        })
        .collect()
}

/// The pooled indicators seen by at least `min_orgs` organisations, most organisations first.
async fn pool(
    db: &Db,
    min_orgs: i64,
    filter: &Checked,
    coordinator: bool,
) -> Result<Vec<PooledIndicator>, ServerError> {
    let scope = Scope::Pool;
    let cap = filter.cap(scope);
    let mut sql = Sql::default();
    sql.push(
        "SELECT v.id, v.kind, v.value, v.known_scanner, COUNT(DISTINCT s.org_id), CAST(SUM(s.count) AS BIGINT), \
         MIN(s.first_seen), MAX(s.last_seen), MAX(s.tlp_rank), MAX(s.received_at) \
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
    let ids: Vec<i64> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
    let mut tq = Sql::default();
    tq.push("SELECT DISTINCT indicator_id, technique FROM indicator_techniques WHERE tlp_rank <= ")
        .bind(Bind::Int(cap))
        .push(" AND indicator_id");
    let techniques = by_id(db, tq, &ids).await?;
    let shared_by = if coordinator {
        let mut oq = Sql::default();
        oq.push(
            "SELECT DISTINCT s.indicator_id, o.name FROM indicator_sightings s JOIN orgs o ON o.id = s.org_id \
             WHERE o.shares_details <> 0 AND s.tlp_rank <= ",
        )
        .bind(Bind::Int(cap))
        .push(" AND s.indicator_id");
        Some(by_id(db, oq, &ids).await?)
    } else {
        None
    };
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get(0)?;
            Ok(PooledIndicator {
                kind: kind_of(&row.try_get::<String, _>(1)?)?,
                value: row.try_get(2)?,
                known_scanner: row.try_get::<i64, _>(3)? != 0,
                organisations: row.try_get(4)?,
                count: row.try_get(5)?,
                first_seen: format_rfc3339(row.try_get(6)?),
                last_seen: format_rfc3339(row.try_get(7)?),
                tlp: tlp_of(row.try_get(8)?)?,
                updated_at: format_rfc3339(row.try_get(9)?),
                techniques: techniques.get(&id).cloned().unwrap_or_default(),
                shared_by: shared_by.as_ref().map(|s| s.get(&id).cloned().unwrap_or_default()),
            })
        })
        .collect()
}

/// Attempts per day: (day number, count), ascending.
async fn days(db: &Db, scope: Scope, min_orgs: i64, filter: &Checked) -> Result<Vec<(i64, i64)>, ServerError> {
    let mut sql = Sql::default();
    sql.push(
        "SELECT d.day, CAST(SUM(d.count) AS BIGINT) FROM indicator_days d JOIN indicator_values v ON v.id = d.indicator_id \
         WHERE",
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
    sql.query().fetch_all(&db.pool).await?.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
}

async fn list_own(
    State(state): State<AppState>,
    principal: Principal,
    Query(filter): Query<Filter>,
) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    let filter = filter.check(MAX_PAGE_ROWS)?;
    Ok(Json(own(&state.db, org, &filter).await?).into_response())
}

async fn list_pool(
    State(state): State<AppState>,
    principal: Principal,
    Query(filter): Query<Filter>,
) -> Result<Response, ServerError> {
    full(&principal)?;
    let filter = filter.check(MAX_PAGE_ROWS)?;
    let coordinator = principal.role == Role::Coordinator;
    Ok(Json(pool(&state.db, state.limits.indicator_min_orgs, &filter, coordinator).await?).into_response())
}

#[derive(Debug, Serialize)]
struct Day {
    day: String,
    count: i64,
}

fn scope_of(principal: &Principal, scope: Option<&str>) -> Result<Scope, ServerError> {
    match scope.unwrap_or("pool") {
        "pool" => {
            full(principal)?;
            Ok(Scope::Pool)
        }
        "own" => Ok(Scope::Own(org_of(principal)?)),
        other => Err(bad(format!("scope {other:?}: own or pool"))),
    }
}

async fn list_days(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<Filter>,
) -> Result<Response, ServerError> {
    let scope = scope_of(&principal, query.scope.as_deref())?;
    let filter = query.check(MAX_PAGE_ROWS)?;
    let days = days(&state.db, scope, state.limits.indicator_min_orgs, &filter).await?;
    let days: Vec<Day> =
        days.into_iter().map(|(day, count)| Day { day: crate::time::day_string(day), count }).collect();
    Ok(Json(days).into_response())
}

/// A raw line uploaded with `--upload-lines`.
#[derive(Debug, Serialize)]
struct LineRow {
    upload_id: i64,
    host: String,
    received_at: String,
    file: String,
    line: i64,
    time: Option<String>,
    raw: String,
}

/// The caller's organisation's raw lines (`quell hunt --upload-lines`), newest upload first.
async fn list_lines(
    State(state): State<AppState>,
    principal: Principal,
    Query(filter): Query<Filter>,
) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    let filter = filter.check(MAX_PAGE_ROWS)?;
    let rows = sqlx::query(
        "SELECT l.upload_id, u.host, u.received_at, l.file, l.line, l.time, l.raw FROM indicator_lines l \
         JOIN indicator_uploads u ON u.id = l.upload_id WHERE l.org_id = $1 AND u.org_id = $1 \
         ORDER BY l.upload_id DESC, l.id LIMIT $2 OFFSET $3",
    )
    .bind(org)
    .bind(filter.limit)
    .bind(filter.offset)
    .fetch_all(&state.db.pool)
    .await?;
    let lines = rows
        .iter()
        .map(|row| {
            Ok(LineRow {
                upload_id: row.try_get(0)?,
                host: row.try_get(1)?,
                received_at: format_rfc3339(row.try_get(2)?),
                file: row.try_get(3)?,
                line: row.try_get(4)?,
                time: row.try_get(5)?,
                raw: row.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
    Ok(Json(lines).into_response())
}

/// The export rows of a scope (organisation names never included).
async fn export_rows(state: &AppState, scope: Scope, filter: &Checked) -> Result<Vec<ExportRow>, ServerError> {
    Ok(match scope {
        Scope::Own(org) => own(&state.db, org, filter)
            .await?
            .into_iter()
            .map(|i| ExportRow {
                kind: i.kind,
                value: i.value,
                known_scanner: i.known_scanner,
                organisations: None,
                count: i.count,
                first_seen: i.first_seen,
                last_seen: i.last_seen,
                techniques: i.techniques,
                tlp: i.tlp,
            })
            .collect(),
        Scope::Pool => pool(&state.db, state.limits.indicator_min_orgs, filter, false)
            .await?
            .into_iter()
            .map(|i| ExportRow {
                kind: i.kind,
                value: i.value,
                known_scanner: i.known_scanner,
                organisations: Some(i.organisations),
                count: i.count,
                first_seen: i.first_seen,
                last_seen: i.last_seen,
                techniques: i.techniques,
                tlp: i.tlp,
            })
            .collect(),
    })
}

/// The feed for SOC tooling: the pool (or the organisation's own sightings) as a STIX 2.1
/// bundle, a MISP event or CSV, each marked with TLP.
async fn feed(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<Filter>,
) -> Result<Response, ServerError> {
    let format = ExportFormat::parse(query.format.as_deref().unwrap_or("stix"))?;
    let scope = scope_of(&principal, query.scope.as_deref())?;
    let filter = query.check(crate::limits::MAX_FEED_ROWS)?;
    let rows = export_rows(&state, scope, &filter).await?;
    let label = match scope {
        Scope::Own(_) => "own sightings",
        Scope::Pool => "pooled indicators",
    };
    Ok(export::render(format, &rows, label, now()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_known_scanners() {
        use IndicatorKind::*;
        assert_eq!(value_host(PayloadUrl, "ldap://127.0.0.1#evil.example:1389/a").as_deref(), Some("evil.example"));
        assert_eq!(value_host(PayloadUrl, "ldap://x.Example:1389/a").as_deref(), Some("x.example"));
        assert_eq!(value_host(CommandHost, "195.54.160.149:5874").as_deref(), Some("195.54.160.149"));
        assert_eq!(value_host(CallbackHost, "::1").as_deref(), Some("::1"));
        assert!(known_scanner(CallbackHost, "abc.c6x.interact.sh"));
        assert!(known_scanner(PayloadUrl, "ldap://x.log4shell.huntress.com:1389/a"));
        assert!(!known_scanner(CallbackHost, "notinteract.sh"));
        assert!(!known_scanner(SourceAddress, "interact.sh"));
    }

    #[test]
    fn placeholders_number_rows() {
        assert_eq!(placeholders(2, 2), "($1, $2),($3, $4)");
    }
}
