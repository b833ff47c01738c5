//! The registry's web pages: the public search (`/registry`) and entry page with its history
//! (no login needed), the coordinators' edit form and proposal review, an organisation's products
//! (`/registry/my-products`), proposals and confirmation requests. The routes are in
//! [`crate::router`]; errors become HTML pages there.
//!
//! Invariants:
//! - Reads go through the same store functions as the API ([`quell_store::registry`]).
//! - Roles and the CSRF token are checked by the extractors in each handler's signature.
//! - The edit form carries the session's CSRF token and the entry's revision; a save based on a
//!   revision that is no longer current is refused (409) with the current entry shown and the
//!   editor's values kept in the page: nothing is lost silently.
//! - Links from entries are rendered as links only when they are http(s) URLs.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use quell_registry::{Entry, Status, VulnStatus};
use quell_store::StoreError;
use quell_store::registry::{
    self as store, AnswerBody, Confirmation, Decided, HistoryRow, Proposal, SearchPage, SearchQuery, StoredEntry,
};
use serde::Deserialize;

use crate::auth::Role;
use crate::extract::{CsrfForm, MaybeSession, PageCoordinator, PageOrgUser, Session};
use crate::html::{layout, page, urlencode};
use crate::i18n::{self, code};
use crate::refusals;
use crate::registry::limits::MAX_NAME_BYTES;
use crate::{AppState, ServerError};

type Fields = Vec<(String, String)>;

fn no_entry() -> ServerError {
    ServerError::NotFound(t!("reg-no-entry"))
}

/// A live (not merged) entry, 404 otherwise.
async fn live_entry(state: &AppState, id: i64) -> Result<StoredEntry, ServerError> {
    store::entry(&state.db, id).await?.filter(|e| e.merged_into.is_none()).ok_or_else(no_entry)
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
            (cve) ": " (code(status.status.as_str()))
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

pub(crate) async fn search(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ServerError> {
    let (status, results, message) = match store::search(&state.db, &query).await {
        Ok(page) => (StatusCode::OK, Some(page), None),
        Err(StoreError::Invalid(m)) => (StatusCode::BAD_REQUEST, None, Some(refusals::refusal(&m))),
        Err(other) => return Err(other.into()),
    };
    let body = search_body(session.as_ref(), &query, results.as_ref(), message.as_deref());
    Ok(page(status, layout(&t!("reg-title"), session.as_ref(), body)))
}

fn search_body(
    session: Option<&Session>,
    query: &SearchQuery,
    results: Option<&SearchPage>,
    message: Option<&str>,
) -> Markup {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        p { (t!("reg-intro")) " "
            (t!("reg-exports")) " " a href="/api/v1/registry/export.csv" { "CSV" } ", " a href="/api/v1/registry/export.json" { "JSON" }
            ", " a href="/api/v1/registry/export.md" { "Markdown" } "." }
        @if let Some(session) = session {
            p {
                @if session.principal.org_id.is_some() { a href="/registry/my-products" { (t!("reg-our-products")) } " · " }
                a href="/registry/proposals" { (t!("reg-proposals")) }
                @if session.principal.org_id.is_some() { " · " a href="/registry/confirmations" { (t!("reg-confirmations")) } }
            }
        }
        form #registry-search method="get" action="/registry" {
            input type="search" name="q" placeholder=(t!("reg-q-placeholder")) value=(value(&query.q));
            " " input type="text" name="supplier" placeholder=(t!("reg-supplier-placeholder")) value=(value(&query.supplier));
            " " select name="status" {
                option value="" { (t!("reg-any-status")) }
                @for s in Status::ALL {
                    option value=(s.as_str()) selected[query.status.as_deref() == Some(s.as_str())] { (code(s.as_str())) }
                }
            }
            " " input type="text" name="cve" placeholder="CVE-2021-44228" value=(value(&query.cve));
            " " button type="submit" { (t!("search-submit")) }
        }
        @if let Some(message) = message { p.notice { (message) } }
        @if let Some(results) = results {
            p #result-count { (t!("reg-entries", n = results.total)) }
            table #results {
                tr { th { (t!("adv-col-supplier")) } th { (t!("adv-col-product")) } th { (t!("reg-col-status-per-cve")) } th { (t!("reg-col-updated")) } }
                @for e in &results.entries {
                    tr {
                        td { (e.entry.supplier) }
                        td { a href=(format!("/registry/entries/{}", e.id)) { (if e.entry.product.is_empty() { t!("reg-no-product") } else { e.entry.product.clone() }) } }
                        td { @for (cve, s) in &e.entry.statuses { (status_cell(cve, s)) } }
                        td { (i18n::date_text(&e.updated_at)) }
                    }
                }
            }
            @let pages = (results.total + results.per_page - 1) / results.per_page;
            p.paging {
                @if results.page > 1 { a rel="prev" href=(format!("/registry?{}", query_string(query, results.page - 1))) { (t!("reg-previous")) } " " }
                (t!("reg-page-of", page = results.page, pages = pages.max(1)))
                @if results.page < pages { " " a rel="next" href=(format!("/registry?{}", query_string(query, results.page + 1))) { (t!("reg-next")) } }
            }
        }
    }
}

pub(crate) async fn entry_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let (entry, history) = match store::entry_history(&state.db, id).await {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => return Err(no_entry()),
        Err(other) => return Err(other.into()),
    };
    let title = format!("{} / {}", entry.entry.supplier, entry.entry.product);
    // People's names are for coordinators; everyone else sees organisations.
    let (entry, history) = if session.as_ref().is_some_and(|s| s.principal.role == Role::Coordinator) {
        (entry, history)
    } else {
        (entry.redacted(), history.into_iter().map(HistoryRow::redacted).collect())
    };
    let body = entry_body(session.as_ref(), id, &entry, &history);
    Ok(page(StatusCode::OK, layout(&title, session.as_ref(), body)))
}

fn entry_body(session: Option<&Session>, id: i64, entry: &StoredEntry, history: &[HistoryRow]) -> Markup {
    let coordinator = session.is_some_and(|s| s.principal.role == Role::Coordinator);
    let org_user = session.is_some_and(|s| s.principal.org_id.is_some());
    html! {
        @if let Some(target) = entry.merged_into {
            p.notice { (t!("reg-merged-into")) " " a href=(format!("/registry/entries/{target}")) { (t!("reg-entry-n", id = target)) } "." }
        }
        p { (t!("reg-revision")) " " span #revision { (entry.revision) } ", " (t!("reg-updated-by", at = i18n::date_text(&entry.updated_at), by = entry.updated_by.as_str())) "."
            @if coordinator && entry.merged_into.is_none() { " " a #edit href=(format!("/registry/entries/{id}/edit")) { (t!("reg-edit-link")) } }
            @if org_user && entry.merged_into.is_none() { " " a #propose href=(format!("/registry/entries/{id}/propose")) { (t!("reg-propose-link")) } } }
        @if entry.entry.purl.is_some() || entry.entry.cpe.is_some() {
            p { @if let Some(purl) = &entry.entry.purl { "purl " code { (purl) } " " } @if let Some(cpe) = &entry.entry.cpe { "CPE " code { (cpe) } } }
        }
        table #statuses {
            tr { th { (t!("reg-col-vulnerability")) } th { (t!("col-status")) } th { (t!("reg-col-affected-versions")) } th { (t!("reg-col-fixed-versions")) } }
            @for (cve, s) in &entry.entry.statuses {
                tr { td { (cve) } td class=(status_class(s.status)) { (code(s.status.as_str())) } td { (s.affected_versions.join(", ")) } td { (s.fixed_versions.join(", ")) } }
            }
        }
        @if entry.entry.statuses.is_empty() { p { (t!("reg-no-information")) } }
        @if !entry.entry.notes.is_empty() { h2 { (t!("reg-notes")) } p style="white-space:pre-wrap" { (entry.entry.notes) } }
        h2 { (t!("reg-sources")) }
        ul { @for l in &entry.entry.links { li { (link(l)) } } }
        @if !entry.entry.conflicts.is_empty() {
            h2 { (t!("reg-disagreeing")) }
            ul { @for c in &entry.entry.conflicts { li { (c.cve) ": " (t!("reg-conflict", status = code(c.other.status.as_str()), lists = c.other_lists.join(", "), kept = code(c.kept.status.as_str()))) } } }
        }
        @if let (true, Some(session), None) = (org_user, session, entry.merged_into) {
            h2 { (t!("reg-ask-supplier")) }
            form #ask method="post" action=(format!("/registry/entries/{id}/confirm")) {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="text" name="message" size="60" placeholder=(t!("reg-ask-placeholder"));
                " " button type="submit" { (t!("reg-request-confirmation")) }
            }
        }
        h2 { (t!("host-history")) }
        table #history {
            tr { th { (t!("reg-col-entry")) } th { (t!("reg-col-revision")) } th { (t!("adv-col-change")) } th { (t!("reg-col-when")) } th { (t!("reg-col-who")) } th { (t!("reg-col-source")) } }
            @for h in history {
                tr {
                    td { (h.entry_id) } td { (h.revision) } td { (code(&h.kind)) } td { (i18n::date_text(&h.at)) }
                    td {
                        @match (&h.user, &h.org) {
                            (Some(user), Some(org)) => { (user) " (" (org) ")" }
                            (Some(user), None) => { (user) }
                            (None, Some(org)) => { (org) }
                            (None, None) => { (t!("role-coordinator")) }
                        }
                    }
                    td { @if let Some(source) = &h.source { (link(source)) } }
                }
            }
        }
    }
}

/// Versions as typed in the form: separated by `;`.
fn versions(text: &str) -> Vec<String> {
    text.split(';').map(str::trim).filter(|v| !v.is_empty()).map(str::to_string).collect()
}

/// The form edits the entry (coordinators) or proposes a change (organisation users).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Edit,
    Propose,
}

fn form_page(
    session: &Session,
    mode: Mode,
    id: i64,
    revision: i64,
    entry: &Entry,
    status: StatusCode,
    message: Option<Markup>,
) -> Response {
    let (action, verb) = match mode {
        Mode::Edit => (format!("/registry/entries/{id}/edit"), t!("reg-edit")),
        Mode::Propose => (format!("/registry/entries/{id}/propose"), t!("reg-propose")),
    };
    let mut rows: Vec<(String, Option<&VulnStatus>)> =
        entry.statuses.iter().map(|(c, s)| (c.clone(), Some(s))).collect();
    rows.push((String::new(), None));
    let body = html! {
        @if let Some(message) = message { div.notice #message { (message) } }
        form #edit method="post" action=(action) {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="base_revision" value=(revision);
            p { label { (t!("adv-col-supplier")) " " input type="text" name="supplier" required value=(entry.supplier); } }
            p { label { (t!("adv-col-product")) " " input type="text" name="product" required value=(entry.product); } }
            p { label { "purl " input type="text" name="purl" value=(entry.purl.clone().unwrap_or_default()); } }
            p { label { "CPE " input type="text" name="cpe" value=(entry.cpe.clone().unwrap_or_default()); } }
            table {
                tr { th { (t!("reg-col-vulnerability")) } th { (t!("col-status")) } th { (t!("reg-col-affected-versions")) " (;)" } th { (t!("reg-col-fixed-versions")) " (;)" } }
                @for (i, (cve, s)) in rows.iter().enumerate() {
                    tr {
                        td { input type="text" name=(format!("cve_{i}")) value=(cve) placeholder="CVE-YYYY-NNNN"; }
                        td { select name=(format!("status_{i}")) {
                            option value="" { (t!("reg-no-info-option")) }
                            @for st in Status::ALL { option value=(st.as_str()) selected[s.is_some_and(|s| s.status == st)] { (code(st.as_str())) } }
                        } }
                        td { input type="text" name=(format!("affected_{i}")) value=(s.map(|s| s.affected_versions.join("; ")).unwrap_or_default()); }
                        td { input type="text" name=(format!("fixed_{i}")) value=(s.map(|s| s.fixed_versions.join("; ")).unwrap_or_default()); }
                    }
                }
            }
            p { label { (t!("reg-notes")) br; textarea name="notes" rows="4" cols="80" { (entry.notes) } } }
            p { label { (t!("reg-source-links")) br; textarea name="links" rows="3" cols="80" { (entry.links.join("\n")) } } }
            @if mode == Mode::Edit {
                p { label { (t!("reg-change-source")) " " input type="text" name="source"; } }
                button type="submit" { (t!("account-language-save")) }
            } @else {
                p { label { (t!("reg-comment")) br; textarea name="comment" rows="3" cols="80" {} } }
                button type="submit" { (t!("reg-send-proposal")) }
            }
        }
    };
    page(status, layout(&format!("{verb} {} / {}", entry.supplier, entry.product), Some(session), body))
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
        let cve = quell_registry::normalise_cve_id(cve).ok_or_else(|| t!("reg-not-a-cve", cve = cve.as_str()))?;
        let status: Status = status.parse().map_err(|e| refusals::refusal(&quell_store::Refusal::UnknownStatus(e)))?;
        let mut s = VulnStatus::new(status);
        s.affected_versions = versions(&field(&format!("affected_{i}")));
        s.fixed_versions = versions(&field(&format!("fixed_{i}")));
        entry.statuses.insert(cve, s);
    }
    if entry.supplier.len() > MAX_NAME_BYTES || entry.product.len() > MAX_NAME_BYTES {
        return Err(t!("reg-name-limit", max = MAX_NAME_BYTES));
    }
    Ok(entry)
}

pub(crate) async fn edit_form(
    State(state): State<AppState>,
    PageCoordinator(session): PageCoordinator,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let entry = live_entry(&state, id).await?;
    Ok(form_page(&session, Mode::Edit, id, entry.revision, &entry.entry, StatusCode::OK, None))
}

/// The revision a form was based on: 400 without one.
fn form_base(form: &BTreeMap<String, String>) -> Result<i64, ServerError> {
    form.get("base_revision")
        .and_then(|r| r.parse::<i64>().ok())
        .ok_or_else(|| ServerError::Invalid(t!("reg-no-revision")))
}

pub(crate) async fn save_edit(
    State(state): State<AppState>,
    _: PageCoordinator,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm<Fields>,
) -> Result<Response, ServerError> {
    let form: BTreeMap<String, String> = form.into_iter().collect();
    let base = form_base(&form)?;
    let current = store::entry(&state.db, id).await?.ok_or_else(no_entry)?;
    let entry = match entry_from_form(&current.entry, &form) {
        Ok(entry) => entry,
        Err(message) => {
            let message = Some(html! { (message) });
            return Ok(form_page(&session, Mode::Edit, id, base, &current.entry, StatusCode::BAD_REQUEST, message));
        }
    };
    let source = form.get("source").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    match store::edit(&state.db, id, base, entry.clone(), source, &session.principal).await {
        Ok(_) => Ok(Redirect::to(&format!("/registry/entries/{id}")).into_response()),
        Err(StoreError::Invalid(message)) => {
            let message = Some(html! { (t!("reg-not-saved")) " " (refusals::refusal(&message)) });
            Ok(form_page(&session, Mode::Edit, id, base, &entry, StatusCode::BAD_REQUEST, message))
        }
        Err(StoreError::Conflict(_)) => Ok(stale_edit(&session, id, &current, &entry)),
        Err(StoreError::NotFound(_)) => Err(no_entry()),
        Err(other) => Err(other.into()),
    }
}

/// The edit refused as stale: the entry as it is now (with its revision), and the editor's values
/// kept visible.
fn stale_edit(session: &Session, id: i64, current: &StoredEntry, mine: &Entry) -> Response {
    let mine = serde_json::to_string_pretty(mine).unwrap_or_default();
    let message = html! {
        strong { (t!("reg-conflict-title")) }
        " " (t!("reg-conflict-now", revision = current.revision, by = current.updated_by.as_str(), at = i18n::date_text(&current.updated_at))) " "
        (t!("reg-conflict-again"))
        details { summary { (t!("reg-your-version")) } pre { (mine) } }
    };
    form_page(session, Mode::Edit, id, current.revision, &current.entry, StatusCode::CONFLICT, Some(message))
}

// ---- an organisation's products ----

async fn my_products_page(
    state: &AppState,
    session: &Session,
    org: i64,
    status: StatusCode,
    message: Option<&str>,
) -> Result<Response, ServerError> {
    let products = store::product_statuses(&state.db, org).await?;
    let notes = store::products::recent_notifications(&state.db, org).await?;
    let body = html! {
        @if let Some(message) = message { p.notice { (message) } }
        table #products {
            tr { th { (t!("adv-col-supplier")) } th { (t!("adv-col-product")) } th { (t!("reg-your-version")) } th { (t!("col-status")) } th { (t!("reg-fixed-from")) } }
            @for p in &products {
                tr {
                    td { (p.supplier) } td { (p.product) } td { (p.version.clone().unwrap_or_default()) }
                    td class=(match p.state.as_str() { "vulnerable" | "workaround" => "bad", "fix" | "not_vulnerable" => "ok", _ => "warn" }) {
                        @if let Some(id) = p.entry_id { a href=(format!("/registry/entries/{id}")) { (code(&p.state)) } } @else { (code(&p.state)) }
                    }
                    td { (p.fixed_from.join(", ")) }
                }
            }
        }
        h2 { (t!("reg-add-product")) }
        form #add-product method="post" action="/registry/my-products" {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="text" name="supplier" placeholder=(t!("reg-supplier-placeholder")) required;
            " " input type="text" name="product" placeholder=(t!("reg-product-placeholder")) required;
            " " input type="text" name="version" placeholder=(t!("reg-version-placeholder"));
            " " button type="submit" { (t!("reg-add")) }
        }
        h2 { (t!("reg-notifications")) }
        ul { @for n in &notes { li { @if n.unread { strong { (t!("reg-new")) " " } } (i18n::date_text(&n.at)) ": " (n.message) } } }
    };
    Ok(page(status, layout(&t!("reg-our-products"), Some(session), body)))
}

pub(crate) async fn my_products(
    State(state): State<AppState>,
    PageOrgUser { session, org_id }: PageOrgUser,
) -> Result<Response, ServerError> {
    my_products_page(&state, &session, org_id, StatusCode::OK, None).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProductForm {
    supplier: String,
    product: String,
    version: String,
}

pub(crate) async fn add_product(
    State(state): State<AppState>,
    PageOrgUser { org_id: org, .. }: PageOrgUser,
    CsrfForm { session, form }: CsrfForm<ProductForm>,
) -> Result<Response, ServerError> {
    let (supplier, product, version) = (form.supplier.trim(), form.product.trim(), form.version.trim());
    if supplier.is_empty()
        || product.is_empty()
        || supplier.len() > MAX_NAME_BYTES
        || product.len() > MAX_NAME_BYTES
        || version.len() > MAX_NAME_BYTES
    {
        let message = t!("reg-product-required", max = MAX_NAME_BYTES);
        return my_products_page(&state, &session, org, StatusCode::BAD_REQUEST, Some(&message)).await;
    }
    let version = Some(version.to_string()).filter(|v| !v.is_empty());
    match store::insert_product(&state.db, org, supplier, product, version).await? {
        Some(_) => Ok(Redirect::to("/registry/my-products").into_response()),
        None => {
            use crate::registry::limits::MAX_PRODUCTS_PER_ORG;
            let message = t!("reg-max-products", max = MAX_PRODUCTS_PER_ORG);
            my_products_page(&state, &session, org, StatusCode::PAYLOAD_TOO_LARGE, Some(&message)).await
        }
    }
}

// ---- proposals ----

pub(crate) async fn propose_form(
    State(state): State<AppState>,
    PageOrgUser { session, .. }: PageOrgUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let entry = live_entry(&state, id).await?;
    Ok(form_page(&session, Mode::Propose, id, entry.revision, &entry.entry, StatusCode::OK, None))
}

pub(crate) async fn save_proposal(
    State(state): State<AppState>,
    PageOrgUser { org_id: org, .. }: PageOrgUser,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm<Fields>,
) -> Result<Response, ServerError> {
    let form: BTreeMap<String, String> = form.into_iter().collect();
    let base = form_base(&form)?;
    let current = live_entry(&state, id).await?;
    let entry = match entry_from_form(&current.entry, &form) {
        Ok(entry) => entry,
        Err(message) => {
            let message = Some(html! { (message) });
            return Ok(form_page(&session, Mode::Propose, id, base, &current.entry, StatusCode::BAD_REQUEST, message));
        }
    };
    let comment = form.get("comment").map(|c| c.trim().to_string()).unwrap_or_default();
    let user = session.principal.user_id;
    match store::create_proposal(&state.db, org, user, (Some(id), Some(base)), entry.clone(), comment).await {
        Ok(_) => Ok(Redirect::to("/registry/proposals").into_response()),
        Err(StoreError::Invalid(message)) => {
            let message = Some(html! { (t!("reg-not-sent")) " " (refusals::refusal(&message)) });
            Ok(form_page(&session, Mode::Propose, id, base, &entry, StatusCode::BAD_REQUEST, message))
        }
        Err(other) => Err(other.into()),
    }
}

/// A coordinator's open proposals (every organisation's: a coordinator has no `org_id`), or an
/// organisation user's own.
pub(crate) async fn proposals_page(State(state): State<AppState>, session: Session) -> Result<Response, ServerError> {
    decided(&state, &session, StatusCode::OK, None).await
}

/// The proposals page, with a message about a decision.
async fn decided(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    message: Option<Markup>,
) -> Result<Response, ServerError> {
    let wanted = (session.principal.role == Role::Coordinator).then(|| "open".to_string());
    let list = store::proposals(&state.db, session.principal.org_id, wanted).await?;
    Ok(proposals_view(session, &list, status, message))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    reason: String,
}

fn no_proposal(error: StoreError) -> ServerError {
    match error {
        StoreError::NotFound(_) => ServerError::NotFound(t!("reg-no-proposal")),
        other => other.into(),
    }
}

pub(crate) async fn accept_proposal(
    State(state): State<AppState>,
    _: PageCoordinator,
    Path(id): Path<i64>,
    CsrfForm { session, .. }: CsrfForm<DecisionForm>,
) -> Result<Response, ServerError> {
    match store::accept(&state.db, &session.principal, id).await {
        Ok(Decided::Done(_)) => Ok(Redirect::to("/registry/proposals").into_response()),
        Ok(Decided::Stale { message, .. }) => {
            decided(
                &state,
                &session,
                StatusCode::CONFLICT,
                Some(html! { (t!("reg-not-accepted")) " " (refusals::refusal(&message)) }),
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            decided(&state, &session, StatusCode::CONFLICT, Some(html! { (refusals::refusal(&m)) })).await
        }
        Err(other) => Err(no_proposal(other)),
    }
}

pub(crate) async fn reject_proposal(
    State(state): State<AppState>,
    _: PageCoordinator,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm<DecisionForm>,
) -> Result<Response, ServerError> {
    match store::reject(&state.db, session.principal.user_id, id, &form.reason).await {
        Ok(_) => Ok(Redirect::to("/registry/proposals").into_response()),
        Err(StoreError::Invalid(m)) => {
            decided(&state, &session, StatusCode::BAD_REQUEST, Some(html! { (refusals::refusal(&m)) })).await
        }
        Err(StoreError::Conflict(m)) => {
            decided(&state, &session, StatusCode::CONFLICT, Some(html! { (refusals::refusal(&m)) })).await
        }
        Err(other) => Err(no_proposal(other)),
    }
}

// ---- supplier confirmation ----

#[derive(Debug, Deserialize)]
pub(crate) struct AskForm {
    #[serde(default)]
    message: String,
}

pub(crate) async fn ask_supplier(
    State(state): State<AppState>,
    PageOrgUser { org_id: org, .. }: PageOrgUser,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm<AskForm>,
) -> Result<Response, ServerError> {
    let user = session.principal.user_id;
    store::request_confirmation(&state.db, org, user, id, form.message.trim().to_string()).await?;
    Ok(Redirect::to("/registry/confirmations").into_response())
}

pub(crate) async fn confirmations_page(
    State(state): State<AppState>,
    PageOrgUser { session, org_id }: PageOrgUser,
) -> Result<Response, ServerError> {
    confirmations_view(&state, &session, org_id, StatusCode::OK, None).await
}

async fn confirmations_view(
    state: &AppState,
    session: &Session,
    org: i64,
    status: StatusCode,
    message: Option<Markup>,
) -> Result<Response, ServerError> {
    let (sent, received) = store::confirmations(&state.db, org).await?;
    let entry_link = |c: &Confirmation| {
        html! { a href=(format!("/registry/entries/{}", c.entry_id)) { (c.supplier) " / " (c.product) } }
    };
    let body = html! {
        @if let Some(message) = message { div.notice #message { (message) } }
        h2 { (t!("reg-sent")) }
        table #sent {
            tr { th { (t!("reg-col-entry")) } th { (t!("adv-col-to")) } th { (t!("reg-col-message")) } th { (t!("adv-col-state")) } }
            @for c in &sent {
                tr { td { (entry_link(c)) } td { (c.supplier_org) } td { (c.message) }
                     td { (code(&c.state)) @if let Some(r) = c.revision { " (" (t!("reg-revision-n", revision = r)) ")" } } }
            }
        }
        h2 { (t!("reg-received")) }
        table #received {
            tr { th { (t!("reg-col-entry")) } th { (t!("col-from")) } th { (t!("reg-col-message")) } th { (t!("reg-col-answer")) } }
            @for c in &received {
                tr {
                    td { (entry_link(c)) } td { (c.requester_org) } td { (c.message) }
                    td {
                        @if c.state == "open" {
                            form.answer method="post" action=(format!("/registry/confirmations/{}/answer", c.id)) {
                                input type="hidden" name="csrf" value=(session.csrf);
                                input type="text" name="cve" value="CVE-2021-44228" size="16";
                                " " select name="status" { @for st in Status::ALL { option value=(st.as_str()) { (code(st.as_str())) } } }
                                " " input type="text" name="fixed" placeholder=(t!("reg-fixed-placeholder")) size="14";
                                " " input type="url" name="source" placeholder=(t!("reg-statement-placeholder")) required;
                                " " button type="submit" { (t!("reg-answer")) }
                            }
                        } @else { (t!("reg-answered", revision = c.revision.unwrap_or(0))) }
                    }
                }
            }
        }
    };
    Ok(page(status, layout(&t!("reg-confirmations"), Some(session), body)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AnswerForm {
    cve: String,
    status: String,
    #[serde(default)]
    fixed: String,
    source: String,
}

pub(crate) async fn answer_request(
    State(state): State<AppState>,
    PageOrgUser { org_id: org, .. }: PageOrgUser,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm<AnswerForm>,
) -> Result<Response, ServerError> {
    let status: Status = form.status.parse().map_err(|e| ServerError::Invalid(format!("{e}")))?;
    let mut vuln = VulnStatus::new(status);
    vuln.fixed_versions = versions(&form.fixed);
    let body = AnswerBody {
        statuses: [(form.cve.trim().to_string(), vuln)].into_iter().collect(),
        source: form.source.trim().to_string(),
        notes: None,
    };
    let refused = |m: String| Some(html! { (t!("reg-not-answered")) " " (m) });
    match store::answer(&state.db, &session.principal, org, id, body).await {
        Ok(_) => Ok(Redirect::to("/registry/confirmations").into_response()),
        Err(StoreError::Invalid(m)) => {
            confirmations_view(&state, &session, org, StatusCode::BAD_REQUEST, refused(refusals::refusal(&m))).await
        }
        Err(StoreError::Conflict(m)) => {
            confirmations_view(&state, &session, org, StatusCode::CONFLICT, refused(refusals::refusal(&m))).await
        }
        Err(StoreError::NotFound(_)) => Err(ServerError::NotFound(t!("reg-no-request"))),
        Err(other) => Err(other.into()),
    }
}
fn proposals_view(session: &Session, list: &[Proposal], status: StatusCode, message: Option<Markup>) -> Response {
    let coordinator = session.principal.role == Role::Coordinator;
    let body = html! {
        @if let Some(message) = message { div.notice #message { (message) } }
        @if coordinator { p { (t!("reg-proposals-intro")) } }
        table #proposals {
            tr { th { (t!("tokens-id")) } th { (t!("reg-col-entry")) } th { (t!("reg-col-proposed")) } th { (t!("col-from")) } th { (t!("reg-col-comment")) } th { (t!("adv-col-state")) } @if coordinator { th { (t!("reg-col-decide")) } } }
            @for p in list {
                @let entry = p.proposed();
                @let names = entry.as_ref().map(|e| format!("{} / {}", e.supplier, e.product)).unwrap_or_else(|| " / ".into());
                tr {
                    td { (p.id) }
                    td {
                        @if let Some(entry_id) = p.entry_id {
                            a href=(format!("/registry/entries/{entry_id}")) { (names) }
                            " (" (t!("reg-revision-n", revision = p.base_revision.unwrap_or(0))) ")"
                        } @else { (t!("reg-new")) ": " (names) }
                    }
                    td { @if let Some(entry) = &entry { @for (cve, s) in &entry.statuses {
                        (cve) ": " (code(s.status.as_str()))
                        @if !s.fixed_versions.is_empty() { " (" (s.fixed_versions.join(", ")) ")" }
                        br;
                    } } }
                    td { (p.user) " (" (p.org) ")" }
                    td { (p.comment) }
                    td { (code(&p.state)) @if let Some(reason) = &p.reason { ": " (reason) } }
                    @if coordinator { td { (decide_forms(session, p.id)) } }
                }
            }
        }
        @if list.is_empty() { p { (t!("reg-no-proposals")) } }
    };
    page(status, layout(&t!("reg-proposals"), Some(session), body))
}

/// A coordinator's accept and reject buttons of proposal `id`.
fn decide_forms(session: &Session, id: i64) -> Markup {
    html! {
        form.inline method="post" action=(format!("/registry/proposals/{id}/accept")) {
            input type="hidden" name="csrf" value=(session.csrf);
            button type="submit" { (t!("reg-accept")) }
        }
        form.inline method="post" action=(format!("/registry/proposals/{id}/reject")) {
            input type="hidden" name="csrf" value=(session.csrf);
            " " input type="text" name="reason" placeholder=(t!("adv-override-reason")) required;
            button type="submit" { (t!("reg-reject")) }
        }
    }
}
