//! The product status registry (issue 7): the national list of software products and their
//! status per CVE, as a real system. The model, importers, merge rule and exports are the
//! `quell-registry` library; this module stores, versions, searches and reviews entries.
//!
//! Routes (all under `/api/v1/registry`):
//! - public, no login: `GET entries` (search, paging), `GET entries/{id}`, `GET entries/{id}/history`,
//!   `GET export.csv|export.json|export.md`, `GET export/full.json`, `GET suppliers/{supplier}/csaf.json`;
//! - coordinators: `POST import`, `PUT entries/{id}` (with the base revision), `POST entries/{id}/merge`,
//!   `POST proposals/{id}/accept|reject`, `PUT supplier-orgs/{org_id}`;
//! - organisation users: `POST/GET proposals`, `my-products` (CRUD and `status`), `notifications`,
//!   `confirmations` (requests to a supplier organisation and its answers).
//!
//! Invariants:
//! - Every change of an entry is one new revision with one history row ([`store::apply`]); nothing
//!   is overwritten without one, and history rows are never changed.
//! - A change based on a revision that is no longer current answers 409 with the current entry,
//!   whoever made the other change (edit, accepted proposal, import, merge, supplier answer).
//! - Organisation data (proposals, products, notifications, confirmation requests) is read and
//!   written with the organisation of the caller's [`Principal`] only; another organisation's id
//!   answers 404.
//! - Exports carry an `ETag` and `Last-Modified` derived from the registry's history (count of
//!   live entries, of history rows, time of the latest change): they change with every change.

pub mod limits;
pub mod pages;
pub mod store;

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use quell_registry::{CsafMeta, Entry, Format, SourceRef, Status, VulnStatus, entry_key};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row};

use crate::api::full;
use crate::auth::{Principal, Role};
use crate::{AppState, ServerError, now, time};
use limits::*;
use store::{Actor, Applied, ChangeKind, StoredEntry, Target};

/// The registry's routes.
pub fn router() -> Router<AppState> {
    let small = DefaultBodyLimit::max(MAX_BODY_BYTES);
    Router::new()
        .route("/api/v1/registry/import", post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)))
        .route("/api/v1/registry/entries", get(search))
        .route("/api/v1/registry/entries/{id}", get(get_entry).put(edit).layer(small))
        .route("/api/v1/registry/entries/{id}/history", get(get_history))
        .route("/api/v1/registry/entries/{id}/merge", post(merge_entries).layer(small))
        .route("/api/v1/registry/export.csv", get(export_csv))
        .route("/api/v1/registry/export.json", get(export_json))
        .route("/api/v1/registry/export.md", get(export_md))
        .route("/api/v1/registry/export/full.json", get(export_full))
        .route("/api/v1/registry/suppliers/{supplier}/csaf.json", get(csaf))
        .route("/api/v1/registry/proposals", get(list_proposals).post(propose).layer(small))
        .route("/api/v1/registry/proposals/{id}", get(get_proposal))
        .route("/api/v1/registry/proposals/{id}/accept", post(accept_proposal))
        .route("/api/v1/registry/proposals/{id}/reject", post(reject_proposal).layer(small))
        .route("/api/v1/registry/my-products", get(list_products).post(add_product).layer(small))
        .route("/api/v1/registry/my-products/status", get(products_status))
        .route("/api/v1/registry/my-products/{id}", put(update_product).delete(delete_product).layer(small))
        .route("/api/v1/registry/notifications", get(list_notifications))
        .route("/api/v1/registry/notifications/{id}/read", post(read_notification))
        .route("/api/v1/registry/supplier-orgs/{id}", put(set_supplier_org).layer(small))
        .route("/api/v1/registry/confirmations", get(list_confirmations).post(request_confirmation).layer(small))
        .route("/api/v1/registry/confirmations/{id}/answer", post(answer_confirmation).layer(small))
        .merge(pages::router())
}

pub(crate) fn coordinator(principal: &Principal) -> Result<(), ServerError> {
    full(principal)?;
    if principal.role != Role::Coordinator {
        return Err(ServerError::Forbidden("coordinators only".into()));
    }
    Ok(())
}

/// An organisation user's organisation (coordinators belong to none).
fn member_org(principal: &Principal) -> Result<i64, ServerError> {
    full(principal)?;
    principal.org_id.ok_or_else(|| ServerError::Forbidden("this is done by an organisation's users".into()))
}

fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ServerError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServerError::TooLarge(format!("the body is larger than {limit} bytes"))
        } else {
            ServerError::Invalid(format!("cannot read the body: {e}"))
        }
    })
}

/// Parses a JSON body: 400 with serde's message (unknown status names included) when it does not fit.
fn json_body<T: serde::de::DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ServerError> {
    let bytes = body_bytes(body, MAX_BODY_BYTES)?;
    serde_json::from_slice(&bytes).map_err(|e| ServerError::Invalid(format!("bad JSON body: {e}")))
}

fn check_len(what: &str, value: &str, max: usize) -> Result<(), ServerError> {
    if value.len() > max {
        return Err(ServerError::Invalid(format!("{what} is longer than {max} bytes")));
    }
    Ok(())
}

/// The registry's rules (library's [`Entry::validate`]) plus the server's length limits: 400.
pub(crate) fn validate(entry: &Entry) -> Result<(), ServerError> {
    check_len("supplier", &entry.supplier, MAX_NAME_BYTES)?;
    check_len("product", &entry.product, MAX_NAME_BYTES)?;
    check_len("purl", entry.purl.as_deref().unwrap_or(""), MAX_NAME_BYTES)?;
    check_len("cpe", entry.cpe.as_deref().unwrap_or(""), MAX_NAME_BYTES)?;
    check_len("notes", &entry.notes, MAX_TEXT_BYTES)?;
    entry.validate().map_err(|errors| ServerError::Invalid(errors.join("; ")))
}

async fn conn(state: &AppState) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, ServerError> {
    Ok(state.db.pool.acquire().await?)
}

/// A live entry by id: 404 when there is none. A merged entry is answered as it is (its
/// `merged_into` points at the entry to read).
async fn entry_or_404(conn: &mut AnyConnection, id: i64) -> Result<StoredEntry, ServerError> {
    store::load(conn, id).await?.ok_or_else(|| ServerError::NotFound(format!("registry entry {id}")))
}

/// 409 with the entry as it is now, so the client can redo its change on top of it.
async fn conflict(state: &AppState, id: Option<i64>, message: String) -> Result<Response, ServerError> {
    let current = match id {
        Some(id) => store::load(&mut *conn(state).await?, id).await?,
        None => None,
    };
    Ok((StatusCode::CONFLICT, Json(json!({ "error": "conflict", "message": message, "current": current })))
        .into_response())
}

// ---- import ----

#[derive(Debug, Deserialize)]
struct ImportQuery {
    format: String,
    name: Option<String>,
}

/// What an import did.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub format: String,
    pub file: String,
    /// Entries in the file after merging its own duplicates.
    pub entries: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub problems: Vec<quell_registry::Problem>,
}

fn dedup_keep_order<T: PartialEq>(items: &mut Vec<T>) {
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    *items = kept;
}

/// The existing entry with an imported one merged in (the library's rule, existing first so its
/// spelling wins); sources and conflicts once each, so importing the same file again changes nothing.
fn merge_existing(existing: &Entry, imported: Entry) -> Entry {
    let mut imported = imported;
    // An identity of an entry merged into `existing` resolves to it: merge under its name.
    imported.supplier.clone_from(&existing.supplier);
    imported.product.clone_from(&existing.product);
    let mut merged =
        quell_registry::merge(vec![existing.clone(), imported]).into_iter().next().unwrap_or_else(|| existing.clone());
    dedup_keep_order(&mut merged.sources);
    dedup_keep_order(&mut merged.conflicts);
    dedup_keep_order(&mut merged.links);
    merged
}

/// Imports one file of a list into the registry (coordinators).
async fn import(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    coordinator(&principal)?;
    let format = Format::parse(&query.format).ok_or_else(|| {
        ServerError::Invalid(format!("format {:?}: use ncsc-md, ncsc-csv, ncsc-json or cisa-yaml", query.format))
    })?;
    let name = query.name.unwrap_or_else(|| format!("upload.{}", format.as_str()));
    check_len("name", &name, MAX_NAME_BYTES)?;
    let bytes = body_bytes(body, MAX_IMPORT_BYTES)?;
    let file = name.clone();
    // Parsing is CPU work: off the async threads.
    let (entries, problems) = tokio::task::spawn_blocking(move || {
        let outcome = quell_registry::import(format, &file, &bytes);
        (quell_registry::merge(outcome.entries), outcome.problems)
    })
    .await
    .map_err(|e| ServerError::Internal(e.to_string()))?;
    let actor = Actor::of(&state.db, &principal).await?;
    let source = format!("import {} {name}", format.as_str());
    let mut report = ImportReport {
        format: format.as_str().to_string(),
        file: name,
        entries: entries.len(),
        created: 0,
        updated: 0,
        unchanged: 0,
        problems,
    };
    let mut tx = store::begin_write(&state.db).await?;
    for entry in entries {
        match store::find_by_key(&mut tx, &entry.key()).await? {
            None => {
                store::apply(&mut tx, Target::New, &entry, ChangeKind::Import, &actor, Some(&source)).await?;
                report.created += 1;
            }
            Some(id) => {
                let existing = entry_or_404(&mut tx, id).await?;
                let merged = merge_existing(&existing.entry, entry);
                if merged == existing.entry {
                    report.unchanged += 1;
                } else {
                    let target = Target::Existing { id, base_revision: existing.revision };
                    store::apply(&mut tx, target, &merged, ChangeKind::Import, &actor, Some(&source)).await?;
                    report.updated += 1;
                }
            }
        }
    }
    tx.commit().await?;
    tracing::info!(file = %report.file, created = report.created, updated = report.updated, "registry import");
    Ok(Json(report).into_response())
}

// ---- search and reads ----

/// `GET /api/v1/registry/entries` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub supplier: Option<String>,
    pub product: Option<String>,
    /// Any of supplier, product, purl, CPE (substring, case and punctuation ignored for names).
    pub q: Option<String>,
    pub purl: Option<String>,
    pub cpe: Option<String>,
    pub status: Option<String>,
    pub cve: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// One page of search results.
#[derive(Debug, Serialize)]
pub struct SearchPage {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub entries: Vec<StoredEntry>,
}

fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn nonempty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Searches live entries. Names are matched on their normalised keys (indexed columns), so
/// `cisco systems` finds `Cisco Systems, Inc.`.
pub async fn search_entries(conn: &mut AnyConnection, query: &SearchQuery) -> Result<SearchPage, ServerError> {
    let mut clauses = vec!["e.merged_into IS NULL".to_string()];
    let mut binds: Vec<String> = Vec::new();
    let bind = |value: String, binds: &mut Vec<String>| {
        binds.push(value);
        format!("${}", binds.len())
    };
    if let Some(supplier) = nonempty(&query.supplier) {
        let p = bind(like_escape(&entry_key(supplier, "").0), &mut binds);
        clauses.push(format!("e.supplier_key LIKE {p} ESCAPE '\\'"));
    }
    if let Some(product) = nonempty(&query.product) {
        let p = bind(like_escape(&entry_key("", product).1), &mut binds);
        clauses.push(format!("e.product_key LIKE {p} ESCAPE '\\'"));
    }
    if let Some(q) = nonempty(&query.q) {
        let words = bind(like_escape(&entry_key("", q).1), &mut binds);
        let raw = bind(like_escape(&q.to_lowercase()), &mut binds);
        clauses.push(format!(
            "((e.supplier_key || ' ' || e.product_key) LIKE {words} ESCAPE '\\' \
             OR LOWER(e.purl) LIKE {raw} ESCAPE '\\' OR LOWER(e.cpe) LIKE {raw} ESCAPE '\\')"
        ));
    }
    if let Some(purl) = nonempty(&query.purl) {
        let p = bind(purl.to_string(), &mut binds);
        clauses.push(format!("e.purl = {p}"));
    }
    if let Some(cpe) = nonempty(&query.cpe) {
        let p = bind(cpe.to_string(), &mut binds);
        clauses.push(format!("e.cpe = {p}"));
    }
    let status = match nonempty(&query.status) {
        Some(s) => Some(s.parse::<Status>().map_err(|e| ServerError::Invalid(e.to_string()))?),
        None => None,
    };
    let cve = match nonempty(&query.cve) {
        Some(c) => Some(
            quell_registry::normalise_cve_id(c)
                .ok_or_else(|| ServerError::Invalid(format!("{c:?} is not a CVE id (CVE-YYYY-NNNN)")))?,
        ),
        None => None,
    };
    if status.is_some() || cve.is_some() {
        let mut inner = vec!["s.entry_id = e.id".to_string()];
        if let Some(status) = status {
            let p = bind(status.as_str().to_string(), &mut binds);
            inner.push(format!("s.status = {p}"));
        }
        if let Some(cve) = cve {
            let p = bind(cve, &mut binds);
            inner.push(format!("s.cve = {p}"));
        }
        clauses.push(format!("EXISTS (SELECT 1 FROM registry_statuses s WHERE {})", inner.join(" AND ")));
    }
    let filter = clauses.join(" AND ");
    let per_page = query.per_page.unwrap_or(DEFAULT_PAGE_ROWS).clamp(1, MAX_PAGE_ROWS);
    let page = query.page.unwrap_or(1).max(1);
    let offset = (page - 1).saturating_mul(per_page);
    let count_sql = format!("SELECT COUNT(*) FROM registry_entries e WHERE {filter}");
    let mut count = sqlx::query(&count_sql);
    for value in &binds {
        count = count.bind(value.clone());
    }
    let total: i64 = count.fetch_one(&mut *conn).await?.try_get(0)?;
    let ids_sql = format!(
        "SELECT e.id FROM registry_entries e WHERE {filter} ORDER BY e.supplier_key, e.product_key, e.id \
         LIMIT {per_page} OFFSET {offset}"
    );
    let mut ids = sqlx::query(&ids_sql);
    for value in &binds {
        ids = ids.bind(value.clone());
    }
    let ids: Vec<i64> = ids.fetch_all(&mut *conn).await?.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
    let entries = store::load_many(conn, &ids).await?;
    Ok(SearchPage { total, page, per_page, entries })
}

async fn search(State(state): State<AppState>, Query(query): Query<SearchQuery>) -> Result<Response, ServerError> {
    Ok(Json(search_entries(&mut *conn(&state).await?, &query).await?).into_response())
}

fn revision_etag(revision: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

async fn get_entry(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ServerError> {
    let entry = entry_or_404(&mut *conn(&state).await?, id).await?;
    let etag = revision_etag(entry.revision);
    let mut response = Json(entry).into_response();
    response.headers_mut().insert(header::ETAG, etag);
    Ok(response)
}

async fn get_history(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ServerError> {
    let mut conn = conn(&state).await?;
    entry_or_404(&mut conn, id).await?;
    Ok(Json(store::history(&mut conn, id).await?).into_response())
}

// ---- exports ----

/// `Sat, 28 Nov 2026 15:44:31 GMT` (RFC 9110 IMF-fixdate).
pub fn http_date(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = time::civil_from_days(days);
    let weekday = DAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(m.saturating_sub(1)).unwrap_or(0).min(11)];
    format!("{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} GMT", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The caching headers of an export, or 304 when the client's `If-None-Match` is current.
async fn export_version(
    state: &AppState,
    headers: &HeaderMap,
    kind: &str,
) -> Result<(Vec<(header::HeaderName, HeaderValue)>, bool), ServerError> {
    let (live, changes, latest) = store::version(&mut *conn(state).await?).await?;
    let etag = format!("\"{kind}-{live}-{changes}-{latest}\"");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag));
    let value = |text: String| HeaderValue::from_str(&text).map_err(|e| ServerError::Internal(e.to_string()));
    Ok((
        vec![
            (header::ETAG, value(etag)?),
            (header::LAST_MODIFIED, value(http_date(latest))?),
            (header::CACHE_CONTROL, value(format!("public, max-age={EXPORT_MAX_AGE_SECONDS}"))?),
        ],
        fresh,
    ))
}

async fn export_with(
    state: AppState,
    headers: HeaderMap,
    kind: &str,
    content_type: &'static str,
    render: impl FnOnce(Vec<StoredEntry>) -> Result<Vec<u8>, ServerError>,
) -> Result<Response, ServerError> {
    let (cache, fresh) = export_version(&state, &headers, kind).await?;
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let entries = store::load_all(&mut *conn(&state).await?, None).await?;
        let body = render(entries)?;
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    for (name, value) in cache {
        response.headers_mut().insert(name, value);
    }
    Ok(response)
}

fn plain(entries: Vec<StoredEntry>) -> Vec<Entry> {
    entries.into_iter().map(|e| e.entry).collect()
}

async fn export_csv(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    export_with(
        state,
        headers,
        "csv",
        "text/csv; charset=utf-8",
        |e| Ok(quell_registry::to_csv(&plain(e)).into_bytes()),
    )
    .await
}

async fn export_md(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    export_with(state, headers, "md", "text/markdown; charset=utf-8", |e| {
        Ok(quell_registry::to_markdown(&plain(e)).into_bytes())
    })
    .await
}

async fn export_json(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    export_with(state, headers, "json", "application/json", |e| {
        serde_json::to_vec(&quell_registry::to_json(&plain(e))).map_err(|e| ServerError::Internal(e.to_string()))
    })
    .await
}

/// The daily-style full export: every live entry with its id, revision and change times.
async fn export_full(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    export_with(state, headers, "full", "application/json", |entries| {
        let latest = entries.iter().map(|e| e.updated_unix).max().unwrap_or(0);
        serde_json::to_vec(&json!({
            "format": "quell-registry-full",
            "version": 1,
            "last_change": time::format_rfc3339(latest),
            "count": entries.len(),
            "entries": entries,
        }))
        .map_err(|e| ServerError::Internal(e.to_string()))
    })
    .await
}

/// CSAF 2.0 VEX of one supplier's entries (the supplier by name, matched on its normalised key).
async fn csaf(State(state): State<AppState>, Path(supplier): Path<String>) -> Result<Response, ServerError> {
    let key = entry_key(&supplier, "").0;
    let entries = store::load_all(&mut *conn(&state).await?, Some(&key)).await?;
    let Some(first) = entries.first() else {
        return Err(ServerError::NotFound(format!("no registry entries of supplier {supplier:?}")));
    };
    let name = first.entry.supplier.clone();
    let latest = entries.iter().map(|e| e.updated_unix).max().unwrap_or(0);
    // The document's date is the latest change: the same registry gives the same document.
    let meta = CsafMeta { date: time::format_rfc3339(latest), ..CsafMeta::default() };
    let document = quell_registry::to_csaf_vex(&name, &plain(entries), &meta);
    Ok(([(header::CONTENT_TYPE, "application/json")], Json(document)).into_response())
}

// ---- edits ----

#[derive(Debug, Deserialize)]
struct EditBody {
    #[serde(flatten)]
    entry: Entry,
    base_revision: Option<i64>,
    /// The source of this change (a vendor statement); defaults to the entry's first link.
    source: Option<String>,
}

/// `If-Match: "3"` (or `3`, `W/"3"`).
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ServerError> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().unwrap_or("").trim().trim_start_matches("W/").trim_matches('"');
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| ServerError::Invalid(format!("If-Match {text:?}: send the entry's revision, e.g. \"3\"")))
}

/// A coordinator's edit: a new revision, only on top of the revision it was based on.
async fn edit(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    coordinator(&principal)?;
    let body: EditBody = json_body(body)?;
    let base = match (if_match(&headers)?, body.base_revision) {
        (Some(a), Some(b)) if a != b => {
            return Err(ServerError::Invalid("If-Match and base_revision disagree".into()));
        }
        (Some(a), _) => a,
        (None, Some(b)) => b,
        (None, None) => {
            return Err(ServerError::Invalid(
                "the base revision is required (If-Match header or base_revision field)".into(),
            ));
        }
    };
    let actor = Actor::of(&state.db, &principal).await?;
    match edit_entry(&state, id, base, body.entry, body.source, ChangeKind::Edit, &actor).await {
        Ok(applied) => {
            let entry = entry_or_404(&mut *conn(&state).await?, applied.id).await?;
            let etag = revision_etag(entry.revision);
            let mut response = Json(entry).into_response();
            response.headers_mut().insert(header::ETAG, etag);
            Ok(response)
        }
        Err(ServerError::Conflict(message)) => conflict(&state, Some(id), message).await,
        Err(other) => Err(other),
    }
}

/// Validates and stores an edit of entry `id` based on `base`; the entry keeps its import sources.
pub(crate) async fn edit_entry(
    state: &AppState,
    id: i64,
    base: i64,
    mut entry: Entry,
    source: Option<String>,
    kind: ChangeKind,
    actor: &Actor,
) -> Result<Applied, ServerError> {
    validate(&entry)?;
    if let Some(source) = &source {
        check_len("source", source, MAX_TEXT_BYTES)?;
    }
    let mut tx = store::begin_write(&state.db).await?;
    let current = entry_or_404(&mut tx, id).await?;
    entry.sources = current.entry.sources.clone();
    let source = source.or_else(|| entry.links.first().cloned());
    let applied =
        store::apply(&mut tx, Target::Existing { id, base_revision: base }, &entry, kind, actor, source.as_deref())
            .await?;
    tx.commit().await?;
    Ok(applied)
}

// ---- merge ----

#[derive(Debug, Deserialize)]
struct MergeBody {
    /// The duplicate to merge into the entry of the URL.
    from: i64,
    /// Optional: the revisions the coordinator looked at (409 when either changed since).
    base_revision: Option<i64>,
    from_revision: Option<i64>,
}

/// Merges entry `from` into entry `id` (coordinators). The rule is the library's
/// [`quell_registry::merge`] with the surviving entry first: its names, purl and CPE win; per CVE
/// the status of higher precedence (`fix` > `workaround` > `vulnerable` > `not_vulnerable` >
/// `under_investigation`) is kept and the other recorded as a conflict; links, notes and sources are
/// united. The duplicate keeps its history (listed with the survivor's) and points at the survivor.
async fn merge_entries(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    coordinator(&principal)?;
    let body: MergeBody = json_body(body)?;
    if body.from == id {
        return Err(ServerError::Invalid("an entry cannot be merged into itself".into()));
    }
    let actor = Actor::of(&state.db, &principal).await?;
    let mut tx = store::begin_write(&state.db).await?;
    let a = entry_or_404(&mut tx, id).await?;
    let b = entry_or_404(&mut tx, body.from).await?;
    if a.merged_into.is_some() || b.merged_into.is_some() {
        drop(tx);
        return conflict(&state, Some(id), "one of the entries was already merged".into()).await;
    }
    if body.base_revision.is_some_and(|r| r != a.revision) || body.from_revision.is_some_and(|r| r != b.revision) {
        drop(tx);
        return conflict(&state, Some(id), "an entry changed since the revision you saw".into()).await;
    }
    let mut merged = merge_existing(&a.entry, b.entry.clone());
    // The duplicate's own import sources and links move with it.
    for source in &b.entry.sources {
        if !merged.sources.contains(source) {
            merged.sources.push(source.clone());
        }
    }
    let target = Target::Existing { id, base_revision: a.revision };
    let source = format!("merged entry {} ({} / {})", b.id, b.entry.supplier, b.entry.product);
    // B first, so that A's change notifies the organisations running B too.
    store::mark_merged(&mut tx, b.id, b.revision, id, &b.entry, &actor).await?;
    store::apply(&mut tx, target, &merged, ChangeKind::Merge, &actor, Some(&source)).await?;
    tx.commit().await?;
    let entry = entry_or_404(&mut *conn(&state).await?, id).await?;
    Ok(Json(entry).into_response())
}

// ---- proposals ----

#[derive(Debug, Deserialize)]
struct ProposalBody {
    /// The entry to change; none for an addition.
    entry_id: Option<i64>,
    /// The revision the proposal is based on (default: the current one).
    base_revision: Option<i64>,
    entry: Entry,
    #[serde(default)]
    comment: String,
}

const PROPOSAL_COLUMNS: &str = "p.id, p.org_id, o.name, u.email, p.entry_id, p.base_revision, p.proposed, p.comment, \
                                p.state, p.reason, p.created_at, p.decided_at, p.result_entry_id, p.result_revision";

fn proposal_json(row: &sqlx::any::AnyRow) -> Result<Value, ServerError> {
    let proposed: String = row.try_get(6)?;
    Ok(json!({
        "id": row.try_get::<i64, _>(0)?,
        "org_id": row.try_get::<i64, _>(1)?,
        "org": row.try_get::<String, _>(2)?,
        "user": row.try_get::<String, _>(3)?,
        "entry_id": row.try_get::<Option<i64>, _>(4)?,
        "base_revision": row.try_get::<Option<i64>, _>(5)?,
        "entry": serde_json::from_str::<Value>(&proposed).unwrap_or(Value::Null),
        "comment": row.try_get::<String, _>(7)?,
        "state": row.try_get::<String, _>(8)?,
        "reason": row.try_get::<Option<String>, _>(9)?,
        "created_at": time::format_rfc3339(row.try_get(10)?),
        "decided_at": row.try_get::<Option<i64>, _>(11)?.map(time::format_rfc3339),
        "result_entry_id": row.try_get::<Option<i64>, _>(12)?,
        "result_revision": row.try_get::<Option<i64>, _>(13)?,
    }))
}

/// One proposal; an organisation user sees only their organisation's (404 otherwise).
async fn proposal(conn: &mut AnyConnection, principal: &Principal, id: i64) -> Result<Value, ServerError> {
    let row = sqlx::query(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM registry_proposals p JOIN orgs o ON o.id = p.org_id \
         JOIN users u ON u.id = p.user_id WHERE p.id = $1 AND ($2 < 0 OR p.org_id = $2)"
    ))
    .bind(id)
    .bind(if principal.role == Role::Coordinator { -1 } else { principal.org_id.unwrap_or(0) })
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(proposal_json).transpose()?.ok_or_else(|| ServerError::NotFound(format!("proposal {id}")))
}

/// An organisation user proposes an addition (no `entry_id`) or a change.
async fn propose(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let body: ProposalBody = json_body(body)?;
    validate(&body.entry)?;
    check_len("comment", &body.comment, MAX_TEXT_BYTES)?;
    let mut conn = conn(&state).await?;
    let base = match body.entry_id {
        Some(id) => {
            let current = entry_or_404(&mut conn, id).await?;
            if let Some(target) = current.merged_into {
                return Err(ServerError::Invalid(format!("entry {id} was merged into entry {target}: propose there")));
            }
            Some(body.base_revision.unwrap_or(current.revision))
        }
        None => None,
    };
    let proposed = serde_json::to_string(&body.entry).map_err(|e| ServerError::Internal(e.to_string()))?;
    let row = sqlx::query(
        "INSERT INTO registry_proposals (org_id, user_id, entry_id, base_revision, proposed, comment, state, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING id",
    )
    .bind(org)
    .bind(principal.user_id)
    .bind(body.entry_id)
    .bind(base)
    .bind(proposed)
    .bind(body.comment)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    let id: i64 = row.try_get(0)?;
    Ok((StatusCode::CREATED, Json(proposal(&mut conn, &principal, id).await?)).into_response())
}

#[derive(Debug, Deserialize)]
struct ProposalList {
    state: Option<String>,
}

/// A coordinator lists every proposal (`?state=open|accepted|rejected`); an organisation user its own.
async fn list_proposals(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ProposalList>,
) -> Result<Response, ServerError> {
    full(&principal)?;
    let scope = if principal.role == Role::Coordinator { -1 } else { member_org(&principal)? };
    let rows = sqlx::query(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM registry_proposals p JOIN orgs o ON o.id = p.org_id \
         JOIN users u ON u.id = p.user_id WHERE ($1 < 0 OR p.org_id = $1) AND ($2 = '' OR p.state = $2) \
         ORDER BY p.id DESC LIMIT {MAX_LIST_ROWS}"
    ))
    .bind(scope)
    .bind(query.state.unwrap_or_default())
    .fetch_all(&state.db.pool)
    .await?;
    let list = rows.iter().map(proposal_json).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(list).into_response())
}

async fn get_proposal(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    full(&principal)?;
    if principal.role != Role::Coordinator {
        member_org(&principal)?;
    }
    Ok(Json(proposal(&mut *conn(&state).await?, &principal, id).await?).into_response())
}

/// A coordinator accepts: the proposal becomes a new revision (history kind
/// `accepted_proposal`); 409 with the current entry when the entry changed since the proposal's
/// base revision.
async fn accept_proposal(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    coordinator(&principal)?;
    let actor = Actor::of(&state.db, &principal).await?;
    let mut tx = store::begin_write(&state.db).await?;
    let p = proposal(&mut tx, &principal, id).await?;
    if p["state"] != "open" {
        return Err(ServerError::Conflict(format!("proposal {id} is already {}", p["state"])));
    }
    let mut entry: Entry = serde_json::from_value(p["entry"].clone())
        .map_err(|e| ServerError::Internal(format!("stored proposal does not parse: {e}")))?;
    let source = format!("proposal {id} by {} ({})", p["user"].as_str().unwrap_or(""), p["org"].as_str().unwrap_or(""));
    let entry_id = p["entry_id"].as_i64();
    let result = match entry_id {
        Some(entry_id) => {
            let current = entry_or_404(&mut tx, entry_id).await?;
            entry.sources = current.entry.sources.clone();
            let base_revision = p["base_revision"].as_i64().unwrap_or(current.revision);
            let target = Target::Existing { id: entry_id, base_revision };
            store::apply(&mut tx, target, &entry, ChangeKind::AcceptedProposal, &actor, Some(&source)).await
        }
        None => store::apply(&mut tx, Target::New, &entry, ChangeKind::AcceptedProposal, &actor, Some(&source)).await,
    };
    let applied = match result {
        Ok(applied) => applied,
        Err(ServerError::Conflict(message)) => {
            drop(tx);
            return conflict(&state, entry_id, message).await;
        }
        Err(other) => return Err(other),
    };
    sqlx::query(
        "UPDATE registry_proposals SET state = 'accepted', decided_at = $1, decided_by = $2, result_entry_id = $3, \
         result_revision = $4 WHERE id = $5 AND state = 'open'",
    )
    .bind(now())
    .bind(principal.user_id)
    .bind(applied.id)
    .bind(applied.revision)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let decided = proposal(&mut tx, &principal, id).await?;
    tx.commit().await?;
    Ok(Json(decided).into_response())
}

#[derive(Debug, Deserialize)]
struct RejectBody {
    reason: String,
}

async fn reject_proposal(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    coordinator(&principal)?;
    let body: RejectBody = json_body(body)?;
    if body.reason.trim().is_empty() {
        return Err(ServerError::Invalid("a reason is required".into()));
    }
    check_len("reason", &body.reason, MAX_TEXT_BYTES)?;
    let mut conn = conn(&state).await?;
    proposal(&mut conn, &principal, id).await?;
    let result = sqlx::query(
        "UPDATE registry_proposals SET state = 'rejected', reason = $1, decided_at = $2, decided_by = $3 \
         WHERE id = $4 AND state = 'open'",
    )
    .bind(body.reason.trim().to_string())
    .bind(now())
    .bind(principal.user_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if result.rows_affected() == 0 {
        return Err(ServerError::Conflict(format!("proposal {id} was already decided")));
    }
    Ok(Json(proposal(&mut conn, &principal, id).await?).into_response())
}

// ---- my products and matching ----

#[derive(Debug, Deserialize)]
struct ProductBody {
    supplier: Option<String>,
    product: Option<String>,
    version: Option<String>,
    entry_id: Option<i64>,
}

/// Checks a product registration; with `entry_id`, the names default to the entry's.
async fn product_fields(
    conn: &mut AnyConnection,
    body: ProductBody,
) -> Result<(String, String, Option<String>, Option<i64>), ServerError> {
    let (supplier, product) = match body.entry_id {
        Some(id) => {
            let entry = entry_or_404(conn, id).await?;
            (body.supplier.unwrap_or(entry.entry.supplier), body.product.unwrap_or(entry.entry.product))
        }
        None => (body.supplier.unwrap_or_default(), body.product.unwrap_or_default()),
    };
    if supplier.trim().is_empty() || product.trim().is_empty() {
        return Err(ServerError::Invalid("supplier and product are required (or an entry_id)".into()));
    }
    check_len("supplier", &supplier, MAX_NAME_BYTES)?;
    check_len("product", &product, MAX_NAME_BYTES)?;
    let version = body.version.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    check_len("version", version.as_deref().unwrap_or(""), MAX_NAME_BYTES)?;
    Ok((supplier.trim().to_string(), product.trim().to_string(), version, body.entry_id))
}

fn product_json(row: &sqlx::any::AnyRow) -> Result<Value, ServerError> {
    Ok(json!({
        "id": row.try_get::<i64, _>(0)?,
        "supplier": row.try_get::<String, _>(1)?,
        "product": row.try_get::<String, _>(2)?,
        "version": row.try_get::<Option<String>, _>(3)?,
        "entry_id": row.try_get::<Option<i64>, _>(4)?,
        "created_at": time::format_rfc3339(row.try_get(5)?),
    }))
}

const PRODUCT_COLUMNS: &str = "id, supplier, product, version, entry_id, created_at";

async fn org_products(conn: &mut AnyConnection, org: i64) -> Result<Vec<sqlx::any::AnyRow>, ServerError> {
    Ok(sqlx::query(&format!("SELECT {PRODUCT_COLUMNS} FROM org_products WHERE org_id = $1 ORDER BY id"))
        .bind(org)
        .fetch_all(&mut *conn)
        .await?)
}

async fn list_products(State(state): State<AppState>, principal: Principal) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let rows = org_products(&mut *conn(&state).await?, org).await?;
    Ok(Json(rows.iter().map(product_json).collect::<Result<Vec<_>, _>>()?).into_response())
}

async fn add_product(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let body: ProductBody = json_body(body)?;
    let mut conn = conn(&state).await?;
    let (supplier, product, version, entry_id) = product_fields(&mut conn, body).await?;
    let row = insert_product(&mut conn, org, &supplier, &product, version, entry_id).await?;
    Ok((StatusCode::CREATED, Json(product_json(&row)?)).into_response())
}

/// Registers a product of an organisation (at most [`MAX_PRODUCTS_PER_ORG`]).
pub(crate) async fn insert_product(
    conn: &mut AnyConnection,
    org: i64,
    supplier: &str,
    product: &str,
    version: Option<String>,
    entry_id: Option<i64>,
) -> Result<sqlx::any::AnyRow, ServerError> {
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM org_products WHERE org_id = $1")
        .bind(org)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    if count >= MAX_PRODUCTS_PER_ORG {
        return Err(ServerError::TooLarge(format!(
            "an organisation registers at most {MAX_PRODUCTS_PER_ORG} products"
        )));
    }
    let key = entry_key(supplier, product);
    Ok(sqlx::query(&format!(
        "INSERT INTO org_products (org_id, entry_id, supplier, product, version, supplier_key, product_key, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {PRODUCT_COLUMNS}"
    ))
    .bind(org)
    .bind(entry_id)
    .bind(supplier.to_string())
    .bind(product.to_string())
    .bind(version)
    .bind(key.0)
    .bind(key.1)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?)
}

async fn update_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let body: ProductBody = json_body(body)?;
    let mut conn = conn(&state).await?;
    let (supplier, product, version, entry_id) = product_fields(&mut conn, body).await?;
    let key = entry_key(&supplier, &product);
    let row = sqlx::query(&format!(
        "UPDATE org_products SET entry_id = $1, supplier = $2, product = $3, version = $4, supplier_key = $5, \
         product_key = $6 WHERE id = $7 AND org_id = $8 RETURNING {PRODUCT_COLUMNS}"
    ))
    .bind(entry_id)
    .bind(supplier)
    .bind(product)
    .bind(version)
    .bind(key.0)
    .bind(key.1)
    .bind(id)
    .bind(org)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| ServerError::NotFound(format!("product {id}")))?;
    Ok(Json(product_json(&row)?).into_response())
}

async fn delete_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let result = sqlx::query("DELETE FROM org_products WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org)
        .execute(&state.db.pool)
        .await?;
    if result.rows_affected() == 0 {
        return Err(ServerError::NotFound(format!("product {id}")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// How bad a status is for someone running the product (the worst CVE decides).
fn severity(status: Status) -> u8 {
    match status {
        Status::Vulnerable => 5,
        Status::Workaround => 4,
        Status::UnderInvestigation => 3,
        Status::Fix => 2,
        Status::NotVulnerable => 1,
    }
}

/// The status of one registered product.
#[derive(Debug, Serialize)]
pub struct ProductStatus {
    pub id: i64,
    pub supplier: String,
    pub product: String,
    pub version: Option<String>,
    /// The registry entry it matched (after merges), if any.
    pub entry_id: Option<i64>,
    /// The worst status over its CVEs (`vulnerable` > `workaround` > `under_investigation` > `fix`
    /// > `not_vulnerable`), `no_information` for an entry without statuses, `not_in_registry`.
    pub state: String,
    /// For `fix`: the fixed versions (the first versions that fix it), over the CVEs with a fix.
    pub fixed_from: Vec<String>,
    pub statuses: BTreeMap<String, VulnStatus>,
    pub updated_at: Option<String>,
}

/// Which of an organisation's products are vulnerable, which have a fix and from which version.
pub async fn product_statuses(conn: &mut AnyConnection, org: i64) -> Result<Vec<ProductStatus>, ServerError> {
    let rows = sqlx::query(
        "SELECT id, supplier, product, version, entry_id, supplier_key, product_key FROM org_products \
         WHERE org_id = $1 ORDER BY supplier_key, product_key, id",
    )
    .bind(org)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let entry_id = match row.try_get::<Option<i64>, _>(4)? {
            Some(id) => store::resolve(conn, id).await?,
            None => store::find_by_key(conn, &(row.try_get(5)?, row.try_get(6)?)).await?,
        };
        let entry = match entry_id {
            Some(id) => store::load(conn, id).await?,
            None => None,
        };
        let (state, fixed_from, statuses, updated_at) = match &entry {
            None => ("not_in_registry".to_string(), Vec::new(), BTreeMap::new(), None),
            Some(stored) => {
                let worst = stored.entry.statuses.values().map(|s| s.status).max_by_key(|s| severity(*s));
                let mut fixed: Vec<String> = Vec::new();
                for status in stored.entry.statuses.values().filter(|s| s.status == Status::Fix) {
                    for version in &status.fixed_versions {
                        if !fixed.contains(version) {
                            fixed.push(version.clone());
                        }
                    }
                }
                let state = worst.map_or("no_information", Status::as_str).to_string();
                (state, fixed, stored.entry.statuses.clone(), Some(stored.updated_at.clone()))
            }
        };
        out.push(ProductStatus {
            id: row.try_get(0)?,
            supplier: row.try_get(1)?,
            product: row.try_get(2)?,
            version: row.try_get(3)?,
            entry_id: entry.as_ref().map(|e| e.id),
            state,
            fixed_from,
            statuses,
            updated_at,
        });
    }
    Ok(out)
}

async fn products_status(State(state): State<AppState>, principal: Principal) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let products = product_statuses(&mut *conn(&state).await?, org).await?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for product in &products {
        *counts.entry(product.state.as_str()).or_default() += 1;
    }
    Ok(Json(json!({ "counts": counts, "products": products })).into_response())
}

#[derive(Debug, Deserialize)]
struct NotificationQuery {
    unread: Option<bool>,
}

async fn list_notifications(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<NotificationQuery>,
) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let rows = sqlx::query(&format!(
        "SELECT id, entry_id, revision, kind, message, created_at, read_at FROM registry_notifications \
         WHERE org_id = $1 AND ($2 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT {MAX_LIST_ROWS}"
    ))
    .bind(org)
    .bind(i64::from(query.unread.unwrap_or(false)))
    .fetch_all(&state.db.pool)
    .await?;
    let list = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "id": row.try_get::<i64, _>(0)?,
                "entry_id": row.try_get::<i64, _>(1)?,
                "revision": row.try_get::<i64, _>(2)?,
                "kind": row.try_get::<String, _>(3)?,
                "message": row.try_get::<String, _>(4)?,
                "created_at": time::format_rfc3339(row.try_get(5)?),
                "read_at": row.try_get::<Option<i64>, _>(6)?.map(time::format_rfc3339),
            }))
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
    Ok(Json(list).into_response())
}

async fn read_notification(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let result =
        sqlx::query("UPDATE registry_notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND org_id = $3")
            .bind(now())
            .bind(id)
            .bind(org)
            .execute(&state.db.pool)
            .await?;
    if result.rows_affected() == 0 {
        return Err(ServerError::NotFound(format!("notification {id}")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- supplier confirmation ----

#[derive(Debug, Deserialize)]
struct SupplierOrgBody {
    /// The supplier name the organisation speaks for; `null` to clear.
    supplier: Option<String>,
}

/// A coordinator records which supplier an organisation speaks for.
async fn set_supplier_org(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    coordinator(&principal)?;
    let body: SupplierOrgBody = json_body(body)?;
    let supplier = body.supplier.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    check_len("supplier", supplier.as_deref().unwrap_or(""), MAX_NAME_BYTES)?;
    let key = supplier.as_deref().map(|s| entry_key(s, "").0);
    let result = sqlx::query("UPDATE orgs SET supplier = $1, supplier_key = $2 WHERE id = $3")
        .bind(supplier.clone())
        .bind(key)
        .bind(id)
        .execute(&state.db.pool)
        .await?;
    if result.rows_affected() == 0 {
        return Err(ServerError::NotFound(format!("organisation {id}")));
    }
    Ok(Json(json!({ "org_id": id, "supplier": supplier })).into_response())
}

#[derive(Debug, Deserialize)]
struct ConfirmationBody {
    entry_id: i64,
    #[serde(default)]
    message: String,
}

const CONFIRMATION_COLUMNS: &str = "c.id, c.entry_id, c.requester_org_id, r.name, c.supplier_org_id, s.name, \
                                    c.message, c.state, c.created_at, c.answered_at, c.answer, c.revision, \
                                    e.supplier, e.product";

fn confirmation_json(row: &sqlx::any::AnyRow) -> Result<Value, ServerError> {
    let answer: Option<String> = row.try_get(10)?;
    Ok(json!({
        "id": row.try_get::<i64, _>(0)?,
        "entry_id": row.try_get::<i64, _>(1)?,
        "requester_org_id": row.try_get::<i64, _>(2)?,
        "requester_org": row.try_get::<String, _>(3)?,
        "supplier_org_id": row.try_get::<i64, _>(4)?,
        "supplier_org": row.try_get::<String, _>(5)?,
        "message": row.try_get::<String, _>(6)?,
        "state": row.try_get::<String, _>(7)?,
        "created_at": time::format_rfc3339(row.try_get(8)?),
        "answered_at": row.try_get::<Option<i64>, _>(9)?.map(time::format_rfc3339),
        "answer": answer.and_then(|a| serde_json::from_str::<Value>(&a).ok()),
        "revision": row.try_get::<Option<i64>, _>(11)?,
        "supplier": row.try_get::<String, _>(12)?,
        "product": row.try_get::<String, _>(13)?,
    }))
}

async fn confirmations_where(
    conn: &mut AnyConnection,
    filter: &str,
    org: i64,
    id: Option<i64>,
) -> Result<Vec<Value>, ServerError> {
    let rows = sqlx::query(&format!(
        "SELECT {CONFIRMATION_COLUMNS} FROM registry_confirmations c JOIN orgs r ON r.id = c.requester_org_id \
         JOIN orgs s ON s.id = c.supplier_org_id JOIN registry_entries e ON e.id = c.entry_id \
         WHERE {filter} = $1 AND ($2 < 0 OR c.id = $2) ORDER BY c.id DESC LIMIT {MAX_LIST_ROWS}"
    ))
    .bind(org)
    .bind(id.unwrap_or(-1))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(confirmation_json).collect()
}

/// An organisation asks the organisation that speaks for an entry's supplier to confirm its status.
async fn request_confirmation(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let body: ConfirmationBody = json_body(body)?;
    check_len("message", &body.message, MAX_TEXT_BYTES)?;
    let mut conn = conn(&state).await?;
    let id = store::resolve(&mut conn, body.entry_id)
        .await?
        .ok_or_else(|| ServerError::NotFound(format!("registry entry {}", body.entry_id)))?;
    let entry = entry_or_404(&mut conn, id).await?;
    let key = entry_key(&entry.entry.supplier, "").0;
    let supplier_org: i64 = sqlx::query("SELECT id FROM orgs WHERE supplier_key = $1 ORDER BY id")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| {
            ServerError::NotFound(format!("no organisation on this platform speaks for {:?}", entry.entry.supplier))
        })?
        .try_get(0)?;
    let row = sqlx::query(
        "INSERT INTO registry_confirmations (entry_id, requester_org_id, supplier_org_id, requested_by, message, \
         state, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6) RETURNING id",
    )
    .bind(id)
    .bind(org)
    .bind(supplier_org)
    .bind(principal.user_id)
    .bind(body.message)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    let new_id: i64 = row.try_get(0)?;
    let created = confirmations_where(&mut conn, "c.requester_org_id", org, Some(new_id)).await?;
    Ok((StatusCode::CREATED, Json(created.into_iter().next().unwrap_or(Value::Null))).into_response())
}

/// The requests an organisation sent and those it received (as a supplier).
async fn list_confirmations(State(state): State<AppState>, principal: Principal) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let mut conn = conn(&state).await?;
    let sent = confirmations_where(&mut conn, "c.requester_org_id", org, None).await?;
    let received = confirmations_where(&mut conn, "c.supplier_org_id", org, None).await?;
    Ok(Json(json!({ "sent": sent, "received": received })).into_response())
}

#[derive(Debug, Deserialize)]
struct AnswerBody {
    /// The statuses the supplier confirms or corrects (per CVE; others stay as they are).
    statuses: BTreeMap<String, VulnStatus>,
    /// The supplier's statement (an http(s) URL): becomes a link of the entry and the history source.
    source: String,
    /// Replaces the entry's notes when given.
    notes: Option<String>,
}

/// The supplier organisation answers: a sourced registry revision (history kind
/// `supplier_confirmation`) and a notification to the requester.
async fn answer_confirmation(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let org = member_org(&principal)?;
    let body: AnswerBody = json_body(body)?;
    let actor = Actor::of(&state.db, &principal).await?;
    let mut tx = store::begin_write(&state.db).await?;
    let request = confirmations_where(&mut tx, "c.supplier_org_id", org, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ServerError::NotFound(format!("confirmation request {id}")))?;
    if request["state"] != "open" {
        return Err(ServerError::Conflict(format!("confirmation request {id} was already answered")));
    }
    let entry_id = request["entry_id"].as_i64().unwrap_or(0);
    let entry_id = store::resolve(&mut tx, entry_id)
        .await?
        .ok_or_else(|| ServerError::NotFound(format!("registry entry {entry_id}")))?;
    let current = entry_or_404(&mut tx, entry_id).await?;
    let mut entry = current.entry.clone();
    for (cve, status) in &body.statuses {
        let cve = quell_registry::normalise_cve_id(cve)
            .ok_or_else(|| ServerError::Invalid(format!("{cve:?} is not a CVE id (CVE-YYYY-NNNN)")))?;
        entry.statuses.insert(cve, status.clone());
    }
    if !entry.links.contains(&body.source) {
        entry.links.push(body.source.clone());
    }
    if let Some(notes) = &body.notes {
        entry.notes.clone_from(notes);
    }
    entry.sources.push(SourceRef { list: "supplier".to_string(), file: body.source.clone(), line: 0 });
    dedup_keep_order(&mut entry.sources);
    validate(&entry)?;
    let target = Target::Existing { id: entry_id, base_revision: current.revision };
    let applied =
        store::apply(&mut tx, target, &entry, ChangeKind::SupplierConfirmation, &actor, Some(&body.source)).await?;
    let answer = json!({ "statuses": body.statuses, "source": body.source, "notes": body.notes });
    sqlx::query(
        "UPDATE registry_confirmations SET state = 'answered', answered_at = $1, answered_by = $2, answer = $3, \
         revision = $4 WHERE id = $5",
    )
    .bind(now())
    .bind(principal.user_id)
    .bind(answer.to_string())
    .bind(applied.revision)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO registry_notifications (org_id, entry_id, revision, kind, message, created_at) \
         VALUES ($1, $2, $3, 'confirmation_answered', $4, $5)",
    )
    .bind(request["requester_org_id"].as_i64().unwrap_or(0))
    .bind(entry_id)
    .bind(applied.revision)
    .bind(format!(
        "{} answered your confirmation request for {} / {} (revision {})",
        request["supplier_org"].as_str().unwrap_or(""),
        entry.supplier,
        entry.product,
        applied.revision
    ))
    .bind(now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut conn = conn(&state).await?;
    let answered = confirmations_where(&mut conn, "c.supplier_org_id", org, Some(id)).await?;
    Ok(Json(answered.into_iter().next().unwrap_or(Value::Null)).into_response())
}
