//! The registry's web pages: the public search (`/registry`) and entry page with its history
//! (no login needed), the coordinators' edit form, and an organisation's products
//! (`/registry/my-products`). Same helpers, headers and CSRF rule as [`crate::pages`].
//!
//! Invariants:
//! - Reads go through the same functions as the API ([`super::search_entries`], [`super::store`]).
//! - The edit form carries the session's CSRF token and the entry's revision; a save based on a
//!   revision that is no longer current is refused (409) with the current entry shown and the
//!   editor's values kept in the page: nothing is lost silently.
//! - Links from entries are rendered as links only when they are http(s) URLs.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{Markup, html};
use quell_registry::{Entry, Status, VulnStatus};

use super::limits::MAX_NAME_BYTES;
use super::store::{self, Actor, ChangeKind, StoredEntry};
use super::{SearchQuery, edit_entry, product_statuses, search_entries};
use crate::auth::Role;
use crate::pages::{Session, csrf_ok, error_page, layout, page, urlencode};
use crate::{AppState, ServerError};

/// The registry's page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/registry", get(search))
        .route("/registry/entries/{id}", get(entry_page))
        .route("/registry/entries/{id}/edit", get(edit_form).post(save_edit))
        .route("/registry/my-products", get(my_products).post(add_product))
}

/// A session when there is one (public pages also serve visitors without login).
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(Session::from_request_parts(parts, state).await.ok()))
    }
}

fn status_class(status: Status) -> &'static str {
    match status {
        Status::Vulnerable | Status::Workaround => "bad",
        Status::Fix | Status::NotVulnerable => "ok",
        Status::UnderInvestigation => "warn",
    }
}

fn status_cell(cve: &str, status: &VulnStatus) -> Markup {
    html! {
        span class=(status_class(status.status)) {
            (cve) ": " (status.status.as_str())
            @if !status.fixed_versions.is_empty() { " (" (status.fixed_versions.join(", ")) ")" }
        }
        br;
    }
}

fn link(url: &str) -> Markup {
    html! {
        @if url.starts_with("https://") || url.starts_with("http://") {
            a href=(url) rel="nofollow noopener" { (url) }
        } @else { (url) }
    }
}

fn query_string(query: &SearchQuery, page: i64) -> String {
    let mut parts = Vec::new();
    for (name, value) in [
        ("q", &query.q),
        ("supplier", &query.supplier),
        ("product", &query.product),
        ("status", &query.status),
        ("cve", &query.cve),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{name}={}", urlencode(value)));
        }
    }
    parts.push(format!("page={page}"));
    parts.join("&")
}

async fn search(State(state): State<AppState>, session: MaybeSession, Query(query): Query<SearchQuery>) -> Response {
    let session = session.0;
    let result = async { search_entries(&mut *state.db.pool.acquire().await?, &query).await }.await;
    let (status, results, message) = match result {
        Ok(page) => (StatusCode::OK, Some(page), None),
        Err(ServerError::Invalid(m)) => (StatusCode::BAD_REQUEST, None, Some(m)),
        Err(other) => return other.into_response(),
    };
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = html! {
        p { "The status of software products per vulnerability, from the Dutch and US lists and contributions. "
            "Exports: " a href="/api/v1/registry/export.csv" { "CSV" } ", " a href="/api/v1/registry/export.json" { "JSON" }
            ", " a href="/api/v1/registry/export.md" { "Markdown" } "." }
        form #registry-search method="get" action="/registry" {
            input type="search" name="q" placeholder="supplier, product, purl or CPE" value=(value(&query.q));
            " " input type="text" name="supplier" placeholder="supplier" value=(value(&query.supplier));
            " " select name="status" {
                option value="" { "any status" }
                @for s in Status::ALL {
                    option value=(s.as_str()) selected[query.status.as_deref() == Some(s.as_str())] { (s.as_str()) }
                }
            }
            " " input type="text" name="cve" placeholder="CVE-2021-44228" value=(value(&query.cve));
            " " button type="submit" { "Search" }
        }
        @if let Some(message) = &message { p.notice { (message) } }
        @if let Some(results) = &results {
            p #result-count { (results.total) " entries" }
            table #results {
                tr { th { "Supplier" } th { "Product" } th { "Status per CVE" } th { "Updated" } }
                @for e in &results.entries {
                    tr {
                        td { (e.entry.supplier) }
                        td { a href=(format!("/registry/entries/{}", e.id)) { (if e.entry.product.is_empty() { "(no product)" } else { &e.entry.product }) } }
                        td { @for (cve, s) in &e.entry.statuses { (status_cell(cve, s)) } }
                        td { (e.updated_at) }
                    }
                }
            }
            @let pages = (results.total + results.per_page - 1) / results.per_page;
            p.paging {
                @if results.page > 1 { a rel="prev" href=(format!("/registry?{}", query_string(&query, results.page - 1))) { "« previous" } " " }
                "page " (results.page) " of " (pages.max(1))
                @if results.page < pages { " " a rel="next" href=(format!("/registry?{}", query_string(&query, results.page + 1))) { "next »" } }
            }
        }
    };
    page(status, layout("Product registry", session.as_ref(), body))
}

async fn load_page_entry(
    state: &AppState,
    id: i64,
) -> Result<Option<(StoredEntry, Vec<store::HistoryRow>)>, ServerError> {
    let mut conn = state.db.pool.acquire().await?;
    let Some(entry) = store::load(&mut conn, id).await? else { return Ok(None) };
    let history = store::history(&mut conn, id).await?;
    Ok(Some((entry, history)))
}

async fn entry_page(State(state): State<AppState>, session: MaybeSession, Path(id): Path<i64>) -> Response {
    let session = session.0;
    let (entry, history) = match load_page_entry(&state, id).await {
        Ok(Some(found)) => found,
        Ok(None) => return error_page(session.as_ref(), StatusCode::NOT_FOUND, "No such registry entry."),
        Err(e) => return e.into_response(),
    };
    let coordinator = session.as_ref().is_some_and(|s| s.principal.role == Role::Coordinator);
    let title = format!("{} / {}", entry.entry.supplier, entry.entry.product);
    let body = html! {
        @if let Some(target) = entry.merged_into {
            p.notice { "This entry was merged into " a href=(format!("/registry/entries/{target}")) { "entry " (target) } "." }
        }
        p { "Revision " span #revision { (entry.revision) } ", updated " (entry.updated_at) " by " (entry.updated_by) "."
            @if coordinator && entry.merged_into.is_none() { " " a #edit href=(format!("/registry/entries/{id}/edit")) { "Edit" } } }
        @if entry.entry.purl.is_some() || entry.entry.cpe.is_some() {
            p { @if let Some(purl) = &entry.entry.purl { "purl " code { (purl) } " " } @if let Some(cpe) = &entry.entry.cpe { "CPE " code { (cpe) } } }
        }
        table #statuses {
            tr { th { "Vulnerability" } th { "Status" } th { "Affected versions" } th { "Fixed versions" } }
            @for (cve, s) in &entry.entry.statuses {
                tr { td { (cve) } td class=(status_class(s.status)) { (s.status.as_str()) } td { (s.affected_versions.join(", ")) } td { (s.fixed_versions.join(", ")) } }
            }
        }
        @if entry.entry.statuses.is_empty() { p { "No information on any vulnerability." } }
        @if !entry.entry.notes.is_empty() { h2 { "Notes" } p style="white-space:pre-wrap" { (entry.entry.notes) } }
        h2 { "Sources" }
        ul { @for l in &entry.entry.links { li { (link(l)) } } }
        @if !entry.entry.conflicts.is_empty() {
            h2 { "Disagreeing sources" }
            ul { @for c in &entry.entry.conflicts { li { (c.cve) ": " (c.other.status.as_str()) " according to " (c.other_lists.join(", ")) " (kept: " (c.kept.status.as_str()) ")" } } }
        }
        h2 { "History" }
        table #history {
            tr { th { "Entry" } th { "Revision" } th { "Change" } th { "When" } th { "Who" } th { "Source" } }
            @for h in &history {
                tr {
                    td { (h.entry_id) } td { (h.revision) } td { (h.kind) } td { (h.at) }
                    td { (h.user.clone().unwrap_or_default()) @if let Some(org) = &h.org { " (" (org) ")" } }
                    td { @if let Some(source) = &h.source { (link(source)) } }
                }
            }
        }
    };
    page(StatusCode::OK, layout(&title, session.as_ref(), body))
}

fn require_coordinator(session: &Session) -> Option<Response> {
    (session.principal.role != Role::Coordinator).then(|| {
        error_page(
            Some(session),
            StatusCode::FORBIDDEN,
            "Coordinators edit the registry; organisations propose changes.",
        )
    })
}

/// Versions as typed in the form: separated by `;`.
fn versions(text: &str) -> Vec<String> {
    text.split(';').map(str::trim).filter(|v| !v.is_empty()).map(str::to_string).collect()
}

fn edit_page(
    session: &Session,
    id: i64,
    revision: i64,
    entry: &Entry,
    status: StatusCode,
    message: Option<Markup>,
) -> Response {
    let mut rows: Vec<(String, Option<&VulnStatus>)> =
        entry.statuses.iter().map(|(c, s)| (c.clone(), Some(s))).collect();
    rows.push((String::new(), None));
    let body = html! {
        @if let Some(message) = message { div.notice #message { (message) } }
        form #edit method="post" action=(format!("/registry/entries/{id}/edit")) {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="base_revision" value=(revision);
            p { label { "Supplier " input type="text" name="supplier" required value=(entry.supplier); } }
            p { label { "Product " input type="text" name="product" required value=(entry.product); } }
            p { label { "purl " input type="text" name="purl" value=(entry.purl.clone().unwrap_or_default()); } }
            p { label { "CPE " input type="text" name="cpe" value=(entry.cpe.clone().unwrap_or_default()); } }
            table {
                tr { th { "Vulnerability" } th { "Status" } th { "Affected versions (;)" } th { "Fixed versions (;)" } }
                @for (i, (cve, s)) in rows.iter().enumerate() {
                    tr {
                        td { input type="text" name=(format!("cve_{i}")) value=(cve) placeholder="CVE-YYYY-NNNN"; }
                        td { select name=(format!("status_{i}")) {
                            option value="" { "no information" }
                            @for st in Status::ALL { option value=(st.as_str()) selected[s.is_some_and(|s| s.status == st)] { (st.as_str()) } }
                        } }
                        td { input type="text" name=(format!("affected_{i}")) value=(s.map(|s| s.affected_versions.join("; ")).unwrap_or_default()); }
                        td { input type="text" name=(format!("fixed_{i}")) value=(s.map(|s| s.fixed_versions.join("; ")).unwrap_or_default()); }
                    }
                }
            }
            p { label { "Notes" br; textarea name="notes" rows="4" cols="80" { (entry.notes) } } }
            p { label { "Source links, one per line (at least one)" br; textarea name="links" rows="3" cols="80" { (entry.links.join("\n")) } } }
            p { label { "Source of this change (optional; default: the first link) " input type="text" name="source"; } }
            button type="submit" { "Save" }
        }
    };
    page(status, layout(&format!("Edit {} / {}", entry.supplier, entry.product), Some(session), body))
}

async fn edit_form(State(state): State<AppState>, session: Session, Path(id): Path<i64>) -> Response {
    if let Some(denied) = require_coordinator(&session) {
        return denied;
    }
    match store::load(
        &mut *match state.db.pool.acquire().await {
            Ok(c) => c,
            Err(e) => return ServerError::from(e).into_response(),
        },
        id,
    )
    .await
    {
        Ok(Some(entry)) if entry.merged_into.is_none() => {
            edit_page(&session, id, entry.revision, &entry.entry, StatusCode::OK, None)
        }
        Ok(_) => error_page(Some(&session), StatusCode::NOT_FOUND, "No such registry entry."),
        Err(e) => e.into_response(),
    }
}

/// Reads the edit form into an entry (on top of the current one: sources and conflicts stay).
fn entry_from_form(current: &Entry, form: &BTreeMap<String, String>) -> Result<Entry, String> {
    let field = |name: &str| form.get(name).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut entry = current.clone();
    entry.supplier = field("supplier");
    entry.product = field("product");
    entry.purl = Some(field("purl")).filter(|v| !v.is_empty());
    entry.cpe = Some(field("cpe")).filter(|v| !v.is_empty());
    entry.notes = form.get("notes").map(|n| n.replace("\r\n", "\n").trim().to_string()).unwrap_or_default();
    entry.links = field("links").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    entry.statuses.clear();
    for i in 0..1000 {
        let Some(cve) = form.get(&format!("cve_{i}")) else { break };
        let status = field(&format!("status_{i}"));
        if cve.trim().is_empty() && status.is_empty() {
            continue;
        }
        if status.is_empty() {
            continue; // "no information": the CVE is left out.
        }
        let cve = quell_registry::normalise_cve_id(cve).ok_or_else(|| format!("{cve:?} is not a CVE id"))?;
        let status: Status = status.parse().map_err(|e: quell_registry::UnknownStatus| e.to_string())?;
        let mut s = VulnStatus::new(status);
        s.affected_versions = versions(&field(&format!("affected_{i}")));
        s.fixed_versions = versions(&field(&format!("fixed_{i}")));
        entry.statuses.insert(cve, s);
    }
    if entry.supplier.len() > MAX_NAME_BYTES || entry.product.len() > MAX_NAME_BYTES {
        return Err(format!("names are limited to {MAX_NAME_BYTES} bytes"));
    }
    Ok(entry)
}

async fn save_edit(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(denied) = require_coordinator(&session) {
        return denied;
    }
    let form: BTreeMap<String, String> = fields.into_iter().collect();
    if !csrf_ok(&session, form.get("csrf").map_or("", String::as_str)) {
        return error_page(Some(&session), StatusCode::FORBIDDEN, "Missing or wrong form token.");
    }
    let Some(base) = form.get("base_revision").and_then(|r| r.parse::<i64>().ok()) else {
        return error_page(Some(&session), StatusCode::BAD_REQUEST, "The form lacks the entry's revision.");
    };
    let current = match store::load(
        &mut *match state.db.pool.acquire().await {
            Ok(c) => c,
            Err(e) => return ServerError::from(e).into_response(),
        },
        id,
    )
    .await
    {
        Ok(Some(current)) => current,
        Ok(None) => return error_page(Some(&session), StatusCode::NOT_FOUND, "No such registry entry."),
        Err(e) => return e.into_response(),
    };
    let entry = match entry_from_form(&current.entry, &form) {
        Ok(entry) => entry,
        Err(message) => {
            return edit_page(&session, id, base, &current.entry, StatusCode::BAD_REQUEST, Some(html! { (message) }));
        }
    };
    let source = form.get("source").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let actor = match Actor::of(&state.db, &session.principal).await {
        Ok(actor) => actor,
        Err(e) => return e.into_response(),
    };
    match edit_entry(&state, id, base, entry.clone(), source, ChangeKind::Edit, &actor).await {
        Ok(_) => Redirect::to(&format!("/registry/entries/{id}")).into_response(),
        Err(ServerError::Invalid(message)) => {
            edit_page(&session, id, base, &entry, StatusCode::BAD_REQUEST, Some(html! { "Not saved: " (message) }))
        }
        Err(ServerError::Conflict(_)) => {
            // Show the entry as it is now (with its revision), and keep the editor's values visible.
            let mine = serde_json::to_string_pretty(&entry).unwrap_or_default();
            let message = html! {
                strong { "Not saved: this entry was changed while you edited it" }
                " (now revision " (current.revision) ", by " (current.updated_by) " at " (current.updated_at) "). "
                "The form shows the current entry; apply your change again."
                details { summary { "Your version" } pre { (mine) } }
            };
            edit_page(&session, id, current.revision, &current.entry, StatusCode::CONFLICT, Some(message))
        }
        Err(ServerError::NotFound(_)) => error_page(Some(&session), StatusCode::NOT_FOUND, "No such registry entry."),
        Err(other) => other.into_response(),
    }
}

fn not_for_coordinators(session: &Session) -> Response {
    error_page(
        Some(session),
        StatusCode::FORBIDDEN,
        "Organisations register the products they run; coordinators do not.",
    )
}

async fn my_products_page(
    state: &AppState,
    session: &Session,
    org: i64,
    status: StatusCode,
    message: Option<&str>,
) -> Response {
    let result = async {
        let mut conn = state.db.pool.acquire().await?;
        let products = product_statuses(&mut conn, org).await?;
        let notes = sqlx::query(
            "SELECT message, created_at, read_at FROM registry_notifications WHERE org_id = $1 ORDER BY id DESC LIMIT 20",
        )
        .bind(org)
        .fetch_all(&mut *conn)
        .await?;
        let notes = notes
            .iter()
            .map(|row| {
                use sqlx::Row;
                Ok((
                    row.try_get::<String, _>(0)?,
                    crate::time::format_rfc3339(row.try_get(1)?),
                    row.try_get::<Option<i64>, _>(2)?.is_none(),
                ))
            })
            .collect::<Result<Vec<_>, ServerError>>()?;
        Ok::<_, ServerError>((products, notes))
    }
    .await;
    let (products, notes) = match result {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let body = html! {
        @if let Some(message) = message { p.notice { (message) } }
        table #products {
            tr { th { "Supplier" } th { "Product" } th { "Your version" } th { "Status" } th { "Fixed from" } }
            @for p in &products {
                tr {
                    td { (p.supplier) } td { (p.product) } td { (p.version.clone().unwrap_or_default()) }
                    td class=(match p.state.as_str() { "vulnerable" | "workaround" => "bad", "fix" | "not_vulnerable" => "ok", _ => "warn" }) {
                        @if let Some(id) = p.entry_id { a href=(format!("/registry/entries/{id}")) { (p.state) } } @else { (p.state) }
                    }
                    td { (p.fixed_from.join(", ")) }
                }
            }
        }
        h2 { "Add a product" }
        form #add-product method="post" action="/registry/my-products" {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="text" name="supplier" placeholder="supplier" required;
            " " input type="text" name="product" placeholder="product" required;
            " " input type="text" name="version" placeholder="version you run";
            " " button type="submit" { "Add" }
        }
        h2 { "Notifications" }
        ul { @for (message, at, unread) in &notes { li { @if *unread { strong { "new " } } (at) ": " (message) } } }
    };
    page(status, layout("Our products", Some(session), body))
}

async fn my_products(State(state): State<AppState>, session: Session) -> Response {
    match session.principal.org_id {
        Some(org) => my_products_page(&state, &session, org, StatusCode::OK, None).await,
        None => not_for_coordinators(&session),
    }
}

#[derive(Debug, serde::Deserialize)]
struct ProductForm {
    csrf: String,
    supplier: String,
    product: String,
    version: String,
}

async fn add_product(State(state): State<AppState>, session: Session, Form(form): Form<ProductForm>) -> Response {
    let Some(org) = session.principal.org_id else {
        return not_for_coordinators(&session);
    };
    if !csrf_ok(&session, &form.csrf) {
        return error_page(Some(&session), StatusCode::FORBIDDEN, "Missing or wrong form token.");
    }
    let (supplier, product, version) = (form.supplier.trim(), form.product.trim(), form.version.trim());
    if supplier.is_empty()
        || product.is_empty()
        || supplier.len() > MAX_NAME_BYTES
        || product.len() > MAX_NAME_BYTES
        || version.len() > MAX_NAME_BYTES
    {
        return my_products_page(
            &state,
            &session,
            org,
            StatusCode::BAD_REQUEST,
            Some("Supplier and product are required (each at most 300 bytes)."),
        )
        .await;
    }
    let result = async {
        let mut conn = state.db.pool.acquire().await?;
        let version = Some(version.to_string()).filter(|v| !v.is_empty());
        super::insert_product(&mut conn, org, supplier, product, version, None).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/registry/my-products").into_response(),
        Err(ServerError::TooLarge(message)) => {
            my_products_page(&state, &session, org, StatusCode::PAYLOAD_TOO_LARGE, Some(&message)).await
        }
        Err(e) => e.into_response(),
    }
}
