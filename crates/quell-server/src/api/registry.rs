//! The registry's JSON API (under `/api/v1/registry`; the routes are in [`crate::router`]):
//! - public, no login: `GET entries` (search, paging), `GET entries/{id}`, `GET entries/{id}/history`,
//!   `GET export.csv|export.json|export.md`, `GET export/full.json`, `GET suppliers/{supplier}/csaf.json`;
//! - coordinators: `POST import`, `PUT entries/{id}` (with the base revision), `POST entries/{id}/merge`,
//!   `POST proposals/{id}/accept|reject`, `PUT supplier-orgs/{org_id}`;
//! - organisation users: `POST/GET proposals`, `my-products` (CRUD and `status`), `notifications`,
//!   `confirmations` (requests to a supplier organisation and its answers).
//!
//! Invariants:
//! - A change based on a revision that is no longer current answers 409 with the current entry,
//!   whoever made the other change (edit, accepted proposal, import, merge, supplier answer).
//! - Exports carry an `ETag` and `Last-Modified` derived from the registry's history (count of
//!   live entries, of history rows, time of the latest change): they change with every change.

use quell_store::{Missing, Thing};
use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quell_registry::{CsafMeta, Entry, Format, entry_key};
use quell_store::registry::{self as store, AnswerBody, Decided, HistoryRow, ProductInput, SearchQuery, StoredEntry};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::extract::{ApiCoordinator, ApiOrgUser, ApiUser, Caller, JsonBody};
use crate::registry::limits::{EXPORT_MAX_AGE_SECONDS, MAX_IMPORT_BYTES};
use crate::{AppState, ServerError, time};

/// 409 with the entry as it is now, so the client can redo its change on top of it.
async fn conflict(state: &AppState, id: Option<i64>, refusal: &quell_store::Refusal) -> Result<Response, ServerError> {
    let message = crate::refusals::refusal(refusal);
    let reason = refusal.code();
    let current = match id {
        Some(id) => store::entry(&state.db, id).await?,
        None => None,
    };
    Ok((
        StatusCode::CONFLICT,
        Json(json!({ "error": "conflict", "reason": reason, "message": message, "current": current })),
    )
        .into_response())
}

/// A live entry by id: 404 when there is none.
async fn entry_or_404(state: &AppState, id: i64) -> Result<StoredEntry, ServerError> {
    store::entry(&state.db, id).await?.ok_or_else(|| ServerError::missing(&Missing::thing(Thing::RegistryEntry, id)))
}

fn revision_etag(revision: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// The entry as JSON with its revision as the `ETag`.
fn entry_response(entry: StoredEntry) -> Response {
    let etag = revision_etag(entry.revision);
    let mut response = Json(entry).into_response();
    response.headers_mut().insert(header::ETAG, etag);
    response
}

// ---- import ----

#[derive(Debug, Deserialize)]
pub(crate) struct ImportQuery {
    format: Option<String>,
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

/// Imports one file of a list into the registry (coordinators).
pub(crate) async fn import(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    Query(query): Query<ImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let given = query.format.unwrap_or_default();
    let format = Format::parse(&given).ok_or_else(|| {
        ServerError::Invalid(format!("?format={given:?}: use ncsc-md, ncsc-csv, ncsc-json or cisa-yaml"))
    })?;
    let name = query.name.unwrap_or_else(|| format!("upload.{}", format.as_str()));
    store::changes::check_file_name(&name)?;
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServerError::TooLarge(format!("the body is larger than {MAX_IMPORT_BYTES} bytes"))
        } else {
            ServerError::Invalid(format!("cannot read the body: {e}"))
        }
    })?;
    let file = name.clone();
    // Parsing is CPU work: off the async threads.
    let (entries, problems) = tokio::task::spawn_blocking(move || {
        let outcome = quell_registry::import(format, &file, &bytes);
        (quell_registry::merge(outcome.entries), outcome.problems)
    })
    .await
    .map_err(|e| ServerError::Internal(e.to_string()))?;
    let source = format!("import {} {name}", format.as_str());
    let count = entries.len();
    let counts = store::import(&state.db, entries, &principal, &source).await?;
    let report = ImportReport {
        format: format.as_str().to_string(),
        file: name,
        entries: count,
        created: counts.created,
        updated: counts.updated,
        unchanged: counts.unchanged,
        problems,
    };
    tracing::info!(file = %report.file, created = report.created, updated = report.updated, "registry import");
    Ok(Json(report).into_response())
}

// ---- search and reads ----

/// Whether the caller sees people (coordinators) or only organisations (everyone else).
fn sees_people(caller: &Caller) -> bool {
    caller.principal.as_ref().is_some_and(|p| p.role == crate::auth::Role::Coordinator)
}

pub(crate) async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ServerError> {
    let mut found = store::search(&state.db, &query).await?;
    if !sees_people(&caller) {
        found.entries = found.entries.into_iter().map(StoredEntry::redacted).collect();
    }
    Ok(Json(found).into_response())
}

pub(crate) async fn get_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let entry = entry_or_404(&state, id).await?;
    Ok(entry_response(if sees_people(&caller) { entry } else { entry.redacted() }))
}

pub(crate) async fn get_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let (_, mut history) = store::entry_history(&state.db, id).await?;
    if !sees_people(&caller) {
        history = history.into_iter().map(HistoryRow::redacted).collect();
    }
    Ok(Json(history).into_response())
}

// ---- exports ----

/// The caching headers of an export, and whether the client's `If-None-Match` is current.
async fn export_version(
    state: &AppState,
    headers: &HeaderMap,
    kind: &str,
) -> Result<(Vec<(header::HeaderName, HeaderValue)>, bool), ServerError> {
    let version = store::version(&state.db).await?;
    let etag = format!("\"{kind}-{}-{}-{}\"", version.live, version.changes, version.latest);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag));
    let value = |text: String| HeaderValue::from_str(&text).map_err(|e| ServerError::Internal(e.to_string()));
    Ok((
        vec![
            (header::ETAG, value(etag)?),
            (header::LAST_MODIFIED, value(time::http_date(version.latest))?),
            (header::CACHE_CONTROL, value(format!("public, max-age={EXPORT_MAX_AGE_SECONDS}"))?),
        ],
        fresh,
    ))
}

/// An export with its caching headers, or 304 when the client's copy is current.
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
        let entries = store::live_entries(&state.db, None).await?;
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

pub(crate) async fn export_csv(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    export_with(
        state,
        headers,
        "csv",
        "text/csv; charset=utf-8",
        |e| Ok(quell_registry::to_csv(&plain(e)).into_bytes()),
    )
    .await
}

pub(crate) async fn export_md(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    export_with(state, headers, "md", "text/markdown; charset=utf-8", |e| {
        Ok(quell_registry::to_markdown(&plain(e)).into_bytes())
    })
    .await
}

pub(crate) async fn export_json(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    export_with(state, headers, "json", "application/json", |e| {
        serde_json::to_vec(&quell_registry::to_json(&plain(e))).map_err(|e| ServerError::Internal(e.to_string()))
    })
    .await
}

/// The daily-style full export: every live entry with its id, revision and change times.
pub(crate) async fn export_full(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    export_with(state, headers, "full", "application/json", |entries| {
        let latest = entries.iter().map(|e| e.updated_unix).max().unwrap_or(0);
        serde_json::to_vec(&json!({
            "format": "quell-registry-full",
            "version": 1,
            "last_change": time::format_rfc3339(latest),
            "count": entries.len(),
            // A public, cached document: organisations, never people.
            "entries": entries.iter().cloned().map(StoredEntry::redacted).collect::<Vec<_>>(),
        }))
        .map_err(|e| ServerError::Internal(e.to_string()))
    })
    .await
}

/// CSAF 2.0 VEX of one supplier's entries (the supplier by name, matched on its normalised key).
pub(crate) async fn csaf(State(state): State<AppState>, Path(supplier): Path<String>) -> Result<Response, ServerError> {
    let key = entry_key(&supplier, "").0;
    let entries = store::live_entries(&state.db, Some(&key)).await?;
    let Some(first) = entries.first() else {
        return Err(ServerError::NotFound(t!("not-found-supplier-entries", supplier = format!("{supplier:?}"))));
    };
    let name = first.entry.supplier.clone();
    let latest = entries.iter().map(|e| e.updated_unix).max().unwrap_or(0);
    // The document's date is the latest change: the same registry gives the same document.
    let meta = CsafMeta { date: time::format_rfc3339(latest), ..CsafMeta::default() };
    let document = quell_registry::to_csaf_vex(&name, &plain(entries), &meta);
    Ok(([(header::CONTENT_TYPE, "application/json")], Json(document)).into_response())
}

// ---- edits and merges ----

#[derive(Debug, Deserialize)]
pub(crate) struct EditBody {
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

/// The revision an edit is based on: `If-Match` or `base_revision` (they must agree), required.
fn base_revision(headers: &HeaderMap, body: Option<i64>) -> Result<i64, ServerError> {
    match (if_match(headers)?, body) {
        (Some(a), Some(b)) if a != b => Err(ServerError::Invalid(t!("api-if-match-disagree"))),
        (Some(a), _) => Ok(a),
        (None, Some(b)) => Ok(b),
        (None, None) => Err(ServerError::Invalid(t!("api-base-revision-required"))),
    }
}

/// A coordinator's edit: a new revision, only on top of the revision it was based on.
pub(crate) async fn edit(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<EditBody>,
) -> Result<Response, ServerError> {
    let base = base_revision(&headers, body.base_revision)?;
    match store::edit(&state.db, id, base, body.entry, body.source, &principal).await {
        Ok(applied) => Ok(entry_response(entry_or_404(&state, applied.id).await?)),
        Err(quell_store::StoreError::Conflict(message)) => conflict(&state, Some(id), &message).await,
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct MergeBody {
    /// The duplicate to merge into the entry of the URL.
    from: i64,
    /// Optional: the revisions the coordinator looked at (409 when either changed since).
    base_revision: Option<i64>,
    from_revision: Option<i64>,
}

/// Merges entry `from` into entry `id` (coordinators; the rule is [`store::merge`]'s).
pub(crate) async fn merge_entries(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<MergeBody>,
) -> Result<Response, ServerError> {
    let revisions = (body.base_revision, body.from_revision);
    match store::merge(&state.db, id, body.from, revisions, &principal).await? {
        Decided::Done(entry) => Ok(Json(entry).into_response()),
        Decided::Stale { entry_id, message } => conflict(&state, entry_id, &message).await,
    }
}

// ---- proposals ----

#[derive(Debug, Deserialize)]
pub(crate) struct ProposalBody {
    /// The entry to change; none for an addition.
    entry_id: Option<i64>,
    /// The revision the proposal is based on (default: the current one).
    base_revision: Option<i64>,
    entry: Entry,
    #[serde(default)]
    comment: String,
}

/// An organisation user proposes an addition (no `entry_id`) or a change.
pub(crate) async fn propose(
    State(state): State<AppState>,
    user: ApiOrgUser,
    JsonBody(body): JsonBody<ProposalBody>,
) -> Result<Response, ServerError> {
    let target = (body.entry_id, body.base_revision);
    let created =
        store::create_proposal(&state.db, user.org_id, user.principal.user_id, target, body.entry, body.comment)
            .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProposalList {
    state: Option<String>,
}

/// A coordinator lists every proposal (`?state=open|accepted|rejected`); an organisation user its
/// own (a coordinator has no organisation, so `org_id` is the scope).
pub(crate) async fn list_proposals(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Query(query): Query<ProposalList>,
) -> Result<Response, ServerError> {
    Ok(Json(store::proposals(&state.db, principal.org_id, query.state).await?).into_response())
}

pub(crate) async fn get_proposal(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    Ok(Json(store::proposal(&state.db, principal.org_id, id).await?).into_response())
}

/// A coordinator accepts: the proposal becomes a new revision (history kind
/// `accepted_proposal`); 409 with the current entry when the entry changed since the proposal's
/// base revision.
pub(crate) async fn accept_proposal(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    match store::accept(&state.db, &principal, id).await? {
        Decided::Done(decided) => Ok(Json(decided).into_response()),
        Decided::Stale { entry_id, message } => conflict(&state, entry_id, &message).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RejectBody {
    reason: String,
}

pub(crate) async fn reject_proposal(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<RejectBody>,
) -> Result<Response, ServerError> {
    Ok(Json(store::reject(&state.db, principal.user_id, id, &body.reason).await?).into_response())
}

// ---- my products and notifications ----

fn too_many_products() -> ServerError {
    use crate::registry::limits::MAX_PRODUCTS_PER_ORG;
    ServerError::TooLarge(format!("an organisation registers at most {MAX_PRODUCTS_PER_ORG} products"))
}

pub(crate) async fn list_products(State(state): State<AppState>, user: ApiOrgUser) -> Result<Response, ServerError> {
    Ok(Json(store::products(&state.db, user.org_id).await?).into_response())
}

pub(crate) async fn add_product(
    State(state): State<AppState>,
    user: ApiOrgUser,
    JsonBody(body): JsonBody<ProductInput>,
) -> Result<Response, ServerError> {
    let added = store::add_product(&state.db, user.org_id, body).await?.ok_or_else(too_many_products)?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

pub(crate) async fn update_product(
    State(state): State<AppState>,
    user: ApiOrgUser,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<ProductInput>,
) -> Result<Response, ServerError> {
    Ok(Json(store::update_product(&state.db, user.org_id, id, body).await?).into_response())
}

pub(crate) async fn delete_product(
    State(state): State<AppState>,
    user: ApiOrgUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    store::delete_product(&state.db, user.org_id, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn products_status(State(state): State<AppState>, user: ApiOrgUser) -> Result<Response, ServerError> {
    let products = store::product_statuses(&state.db, user.org_id).await?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for product in &products {
        *counts.entry(product.state.as_str()).or_default() += 1;
    }
    Ok(Json(json!({ "counts": counts, "products": products })).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct NotificationQuery {
    unread: Option<bool>,
}

pub(crate) async fn list_notifications(
    State(state): State<AppState>,
    user: ApiOrgUser,
    Query(query): Query<NotificationQuery>,
) -> Result<Response, ServerError> {
    let list = store::notifications(&state.db, user.org_id, query.unread.unwrap_or(false)).await?;
    Ok(Json(list).into_response())
}

pub(crate) async fn read_notification(
    State(state): State<AppState>,
    user: ApiOrgUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    store::read_notification(&state.db, user.org_id, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- supplier confirmation ----

#[derive(Debug, Deserialize)]
pub(crate) struct SupplierOrgBody {
    /// The supplier name the organisation speaks for; `null` to clear.
    supplier: Option<String>,
}

/// A coordinator records which supplier an organisation speaks for.
pub(crate) async fn set_supplier_org(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<SupplierOrgBody>,
) -> Result<Response, ServerError> {
    let supplier = store::set_supplier_org(&state.db, id, body.supplier).await?;
    Ok(Json(json!({ "org_id": id, "supplier": supplier })).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ConfirmationBody {
    entry_id: i64,
    #[serde(default)]
    message: String,
}

/// An organisation asks the organisation that speaks for an entry's supplier to confirm its status.
pub(crate) async fn request_confirmation(
    State(state): State<AppState>,
    user: ApiOrgUser,
    JsonBody(body): JsonBody<ConfirmationBody>,
) -> Result<Response, ServerError> {
    let created =
        store::request_confirmation(&state.db, user.org_id, user.principal.user_id, body.entry_id, body.message)
            .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// The requests an organisation sent and those it received (as a supplier).
pub(crate) async fn list_confirmations(
    State(state): State<AppState>,
    user: ApiOrgUser,
) -> Result<Response, ServerError> {
    let (sent, received) = store::confirmations(&state.db, user.org_id).await?;
    Ok(Json(json!({ "sent": sent, "received": received })).into_response())
}

/// The supplier organisation answers: a sourced registry revision (history kind
/// `supplier_confirmation`) and a notification to the requester.
pub(crate) async fn answer_confirmation(
    State(state): State<AppState>,
    user: ApiOrgUser,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<AnswerBody>,
) -> Result<Response, ServerError> {
    Ok(Json(store::answer(&state.db, &user.principal, user.org_id, id, body).await?).into_response())
}
