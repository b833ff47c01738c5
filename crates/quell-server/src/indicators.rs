//! Indicators from hunting (`quell hunt --upload`), pooled across organisations: what the
//! server decides before the store ([`quell_store::indicators`]) stores or reads — checking an
//! upload ([`parse_upload`]), which values are known scanners, the query filters, whose sightings
//! a caller may read ([`scope_of`]), and the rows of an export (rendered by
//! [`quell_report::indicators`]). The JSON API is [`crate::api::indicators`], the page
//! [`crate::pages::indicators`].
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

use std::collections::{BTreeSet, HashSet};

use quell_model::indicators::{
    IndicatorKind, IndicatorUpload, Tlp, UPLOAD_FORMAT, parse_day, parse_rfc3339, probe_service,
};
use quell_report::indicators::ExportRow;
use quell_store::indicators::{self as store, NewSighting, NewUpload, Scope};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::{Principal, hex};
use crate::limits::{
    EARLIEST_INDICATOR_TIME, MAX_DAYS_PER_INDICATOR, MAX_HOST_NAME_BYTES, MAX_INDICATOR_CLOCK_SKEW_SECS,
    MAX_INDICATOR_VALUE_BYTES, MAX_INDICATORS_PER_UPLOAD, MAX_LINES_PER_UPLOAD, MAX_NAME_BYTES, MAX_RAW_LINE_BYTES,
    MAX_TECHNIQUE_BYTES, MAX_TECHNIQUES_PER_INDICATOR, MAX_VULNERABILITIES_PER_INDICATOR,
};
use crate::{Limits, ServerError, now};
use quell_store::Db;

/// The host inside an indicator value: a host or `host:port`, or a URL's authority (for
/// `ldap://127.0.0.1#evil.example:1389/a`, the part after `#`, which is what gets called).
pub fn value_host(kind: IndicatorKind, value: &str) -> Option<String> {
    let authority = match kind {
        IndicatorKind::SourceAddress | IndicatorKind::DroppedFile => return None,
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

/// Whether an indicator names a well-known research scanner or out-of-band testing service
/// ([`quell_model::indicators::probe_service`], the list the hunter classifies callbacks by): a
/// probe rather than an attack. Source addresses are plain IP addresses and never match. Decided
/// when a value is first stored (`indicator_values.known_scanner`, so that lists can filter on it).
pub fn known_scanner(kind: IndicatorKind, value: &str) -> bool {
    value_host(kind, value).is_some_and(|host| probe_service(&host).is_some())
}

// ---- upload ----

fn bad(message: String) -> ServerError {
    ServerError::Invalid(message)
}

fn check_text(what: &str, value: &str, max: usize) -> Result<(), ServerError> {
    if value.trim().is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(bad(t!(
            "refusal-bad-name",
            what = crate::refusals::field(what),
            max = crate::refusals::limit(max as u64)
        )));
    }
    Ok(())
}

/// An RFC 3339 time between [`EARLIEST_INDICATOR_TIME`] and now (plus
/// [`MAX_INDICATOR_CLOCK_SKEW_SECS`]).
fn time(what: &str, text: &str) -> Result<i64, ServerError> {
    let t = parse_rfc3339(text)
        .ok_or_else(|| bad(t!("api-not-rfc3339", what = crate::refusals::field(what), text = format!("{text:?}"))))?;
    if !(EARLIEST_INDICATOR_TIME..=now() + MAX_INDICATOR_CLOCK_SKEW_SECS).contains(&t) {
        return Err(bad(t!("api-time-out-of-range", what = crate::refusals::field(what), text = format!("{text:?}"))));
    }
    Ok(t)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Checks indicator `index` of an upload made at `generated_at`.
fn check_indicator(
    index: usize,
    i: &quell_model::indicators::IndicatorSighting,
    generated_at: i64,
) -> Result<NewSighting, ServerError> {
    let at = |m: String| bad(t!("ind-at", index = index.to_string(), message = m));
    check_text("value", &i.value, MAX_INDICATOR_VALUE_BYTES).map_err(|e| at(e.to_string()))?;
    if i.value.trim() != i.value {
        return Err(at(t!("ind-value-space")));
    }
    if i.count == 0 {
        return Err(at(t!("ind-count")));
    }
    let first_seen = time("first_seen", &i.first_seen).map_err(|e| at(e.to_string()))?;
    let last_seen = time("last_seen", &i.last_seen).map_err(|e| at(e.to_string()))?;
    if first_seen > last_seen {
        return Err(at(t!("ind-first-after-last")));
    }
    if i.techniques.len() > MAX_TECHNIQUES_PER_INDICATOR {
        return Err(at(t!("ind-too-many-techniques", max = crate::refusals::limit(MAX_TECHNIQUES_PER_INDICATOR))));
    }
    let mut techniques = BTreeSet::new();
    for t in &i.techniques {
        check_text("a technique", t, MAX_TECHNIQUE_BYTES).map_err(|e| at(e.to_string()))?;
        techniques.insert(t.clone());
    }
    if i.vulnerabilities.len() > MAX_VULNERABILITIES_PER_INDICATOR {
        return Err(at(t!(
            "ind-too-many-vulnerabilities",
            max = crate::refusals::limit(MAX_VULNERABILITIES_PER_INDICATOR)
        )));
    }
    let mut vulnerabilities = BTreeSet::new();
    for v in &i.vulnerabilities {
        if !quell_advisory::model::is_cve(v) {
            return Err(at(t!("ind-not-cve", cve = format!("{v:?}"))));
        }
        vulnerabilities.insert(v.clone());
    }
    if i.days.len() > MAX_DAYS_PER_INDICATOR {
        return Err(at(t!("ind-too-many-days", max = crate::refusals::limit(MAX_DAYS_PER_INDICATOR))));
    }
    let mut days = Vec::with_capacity(i.days.len());
    let mut total: u64 = 0;
    for (day, n) in &i.days {
        let number = parse_day(day).ok_or_else(|| at(t!("ind-day-format", day = format!("{day:?}"))))?;
        if number < first_seen.div_euclid(86_400) || number > last_seen.max(generated_at).div_euclid(86_400) {
            return Err(at(t!("ind-day-outside", day = day.as_str())));
        }
        if *n == 0 {
            return Err(at(t!("ind-day-count", day = day.as_str())));
        }
        total = total.saturating_add(*n);
        days.push((number, to_i64(*n)));
    }
    if !days.is_empty() && total != i.count {
        return Err(at(t!("ind-days-total", total = total.to_string(), count = i.count.to_string())));
    }
    Ok(NewSighting {
        kind: i.kind,
        value: i.value.clone(),
        known_scanner: known_scanner(i.kind, &i.value),
        count: to_i64(i.count),
        first_seen,
        last_seen,
        time_source: match i.time_source {
            quell_model::indicators::TimeSource::Log => "log",
            quell_model::indicators::TimeSource::Upload => "upload",
        },
        techniques: techniques.into_iter().collect(),
        vulnerabilities: vulnerabilities.into_iter().collect(),
        days,
    })
}

/// Checks a decoded upload body (JSON, see [`quell_model::indicators`]).
///
/// The idempotency key is the SHA-256 of the upload's content without `generated_at` (indicators
/// in one order): hunting the same logs again and uploading gives the same key when every time
/// came from the logs, so a re-run is stored once, not counted twice.
pub fn parse_upload(body: &[u8]) -> Result<NewUpload, ServerError> {
    let upload: IndicatorUpload =
        serde_json::from_slice(body).map_err(|e| bad(t!("ind-not-upload", detail = e.to_string())))?;
    check_upload(upload)
}

/// Reads and checks an upload from its decoded stream ([`crate::ingest::decoded_reader`]).
pub fn read_upload(reader: crate::ingest::Decoded<'_>) -> Result<NewUpload, ServerError> {
    check_upload(crate::ingest::read_json(reader, "an indicator upload")?)
}

fn check_upload(upload: IndicatorUpload) -> Result<NewUpload, ServerError> {
    let mut canonical = upload.clone();
    canonical.generated_at = String::new();
    canonical.indicators.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
    let canonical = serde_json::to_vec(&canonical).map_err(|e| ServerError::Internal(e.to_string()))?;
    let sha256 = hex(&Sha256::digest(&canonical));
    if upload.format != UPLOAD_FORMAT {
        return Err(bad(t!(
            "ind-format",
            expected = format!("{UPLOAD_FORMAT:?}"),
            format = format!("{:?}", upload.format)
        )));
    }
    check_text("host", &upload.host, MAX_HOST_NAME_BYTES)?;
    check_text("tool_version", &upload.tool_version, MAX_NAME_BYTES)?;
    let generated_at = time("generated_at", &upload.generated_at)?;
    if upload.indicators.len() > MAX_INDICATORS_PER_UPLOAD {
        return Err(ServerError::TooLarge(t!(
            "ind-too-many-indicators",
            max = crate::refusals::limit(MAX_INDICATORS_PER_UPLOAD)
        )));
    }
    if upload.lines.len() > MAX_LINES_PER_UPLOAD {
        return Err(ServerError::TooLarge(t!(
            "ind-too-many-lines",
            max = crate::refusals::limit(MAX_LINES_PER_UPLOAD)
        )));
    }
    let mut seen = HashSet::new();
    let mut sightings = Vec::with_capacity(upload.indicators.len());
    for (index, i) in upload.indicators.iter().enumerate() {
        // A repeat of a value that passed its checks (a bad one was refused at its first).
        if !seen.insert((i.kind, i.value.as_str())) {
            return Err(bad(t!(
                "ind-twice",
                index = index.to_string(),
                kind = i.kind.as_str(),
                value = format!("{:?}", i.value)
            )));
        }
        sightings.push(check_indicator(index, i, generated_at)?);
    }
    // One order for every upload: concurrent uploads take the same rows' locks in the same order.
    sightings.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
    for (index, line) in upload.lines.iter().enumerate() {
        if line.raw.len() > MAX_RAW_LINE_BYTES || line.file.len() > MAX_INDICATOR_VALUE_BYTES {
            return Err(ServerError::TooLarge(t!(
                "api-indicator-line-too-long",
                index = index.to_string(),
                raw = crate::refusals::limit(MAX_RAW_LINE_BYTES as u64),
                file = crate::refusals::limit(MAX_INDICATOR_VALUE_BYTES as u64)
            )));
        }
    }
    Ok(NewUpload {
        sha256,
        host: upload.host,
        tool_version: upload.tool_version,
        tlp: upload.tlp,
        generated_at,
        sightings,
        lines: upload.lines,
    })
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

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Filter {
    /// The filter checked, with at most `max_rows` rows (400 for a bad value).
    pub fn check(&self, max_rows: i64) -> Result<store::Filter, ServerError> {
        let kind = nonempty(&self.kind)
            .map(|k| IndicatorKind::parse(k).ok_or_else(|| bad(t!("ind-kind", kind = format!("{k:?}")))))
            .transpose()?;
        let known_scanner = nonempty(&self.known_scanner)
            .map(|k| match k {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(bad(t!("ind-bad-known-scanner", value = format!("{k:?}")))),
            })
            .transpose()?;
        let since = nonempty(&self.since)
            .map(|s| {
                s.parse::<i64>()
                    .ok()
                    .or_else(|| parse_rfc3339(s))
                    .ok_or_else(|| bad(t!("ind-since", value = format!("{s:?}"))))
            })
            .transpose()?;
        let max_tlp = nonempty(&self.max_tlp).map(|t| t.parse::<Tlp>().map_err(|e| bad(e.to_string()))).transpose()?;
        let technique = nonempty(&self.technique).map(str::to_owned);
        if technique.as_ref().is_some_and(|t| t.len() > MAX_TECHNIQUE_BYTES) {
            return Err(bad(t!("ind-technique-too-long")));
        }
        let q = nonempty(&self.q).map(str::to_owned);
        if q.as_ref().is_some_and(|t| t.len() > MAX_INDICATOR_VALUE_BYTES) {
            return Err(bad(t!("ind-q-too-long")));
        }
        Ok(store::Filter {
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

/// Whose sightings a caller (of a full-scope token or session) reads for `?scope=`: `pool` (the
/// default), or `own` (an organisation's users only, their organisation's: 403 for
/// coordinators, who have none).
pub fn scope_of(principal: &Principal, scope: Option<&str>) -> Result<Scope, ServerError> {
    match scope.unwrap_or("pool") {
        "pool" => Ok(Scope::Pool),
        "own" => {
            principal.org_id.map(Scope::Own).ok_or_else(|| ServerError::Forbidden(t!("api-coordinators-see-counts")))
        }
        other => Err(bad(t!("ind-scope", scope = format!("{other:?}")))),
    }
}

/// The export rows of a scope (organisation names never included).
pub async fn export_rows(
    db: &Db,
    limits: &Limits,
    scope: Scope,
    filter: &store::Filter,
) -> Result<Vec<ExportRow>, ServerError> {
    Ok(match scope {
        Scope::Own(org) => store::own(db, org, filter)
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
                vulnerabilities: i.vulnerabilities,
                tlp: i.tlp,
            })
            .collect(),
        Scope::Pool => store::pool(db, limits.indicator_min_orgs, filter, false)
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
                vulnerabilities: i.vulnerabilities,
                tlp: i.tlp,
            })
            .collect(),
    })
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
        // Every host the hunter calls a probe (scanner or OAST) is a known scanner here too.
        for host in quell_model::indicators::OAST_DOMAINS.iter().chain(quell_model::indicators::SCANNER_DOMAINS) {
            assert!(known_scanner(CallbackHost, &format!("x.{host}")), "{host}");
        }
    }
}
