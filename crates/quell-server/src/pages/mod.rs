//! The web pages: server-rendered HTML (maud) that works without JavaScript — login, dashboard
//! with an SVG trend chart, host list, host detail, search, API tokens.
//!
//! Invariants:
//! - Pages read through the same [`crate::inventory`] functions as the API, with the
//!   organisation of the session's user; a coordinator's dashboard shows counts per
//!   organisation only, and the organisation pages answer 403 to coordinators.
//! - Every form that changes something carries the session's CSRF token and is refused (403)
//!   without it; the login form carries a token bound to a cookie (double submit). Session
//!   cookies are `HttpOnly; SameSite=Lax`; sessions are stored hashed.
//! - Failed logins are counted in the database (so every server process shares the count) per
//!   e-mail and per client address; beyond the limits the login is refused with 429 before the
//!   password is checked.
//! - Pages are sent with a restrictive Content-Security-Policy (no scripts at all).

pub mod indicators;
pub mod registry;

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::{self, Scope};
use crate::inventory::{self, SearchQuery, TrendDay};
use crate::limits::{
    DASHBOARD_TREND_DAYS, LOGIN_WINDOW, MAX_LOGIN_FAILURES_PER_ADDRESS, MAX_LOGIN_FAILURES_PER_EMAIL, PAGE_ROWS,
    SESSION_LIFETIME,
};
use crate::metrics::Metrics;
use crate::{AppState, ServerError, now};

pub use crate::extract::Session;
use crate::extract::{CsrfForm, LOGIN_COOKIE, PageOrgUser, SESSION_COOKIE, cookie};
pub(crate) use crate::html::{error_page, layout, page, urlencode};

// ---- login ----

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

fn login_page(status: StatusCode, message: Option<&str>) -> Response {
    let token = auth::new_secret("").unwrap_or_default();
    let markup = layout(
        "Log in",
        None,
        html! {
            form.login method="post" action="/login" {
                @if let Some(message) = message { p.bad { (message) } }
                label for="email" { "E-mail" }
                input #email type="email" name="email" autocomplete="username" required;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                input type="hidden" name="csrf" value=(token);
                button type="submit" { "Log in" }
            }
        },
    );
    let mut response = page(status, markup);
    let cookie = format!("{LOGIN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login; Max-Age=3600");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub(crate) async fn login_form() -> Response {
    login_page(StatusCode::OK, None)
}

pub(crate) async fn failures(state: &AppState, key: &str) -> Result<i64, ServerError> {
    Ok(auth::login_failures(&state.db, key, now() - LOGIN_WINDOW.as_secs() as i64).await?)
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ServerError> {
    if form.csrf.is_empty() || cookie(&headers, LOGIN_COOKIE) != Some(form.csrf.as_str()) {
        return Ok(login_page(StatusCode::FORBIDDEN, Some("The form expired; please try again.")));
    }
    let email = form.email.trim().to_lowercase();
    let address = format!("address:{}", peer.ip());
    if failures(&state, &email).await? >= MAX_LOGIN_FAILURES_PER_EMAIL
        || failures(&state, &address).await? >= MAX_LOGIN_FAILURES_PER_ADDRESS
    {
        Metrics::add(&state.metrics.logins_failed, 1);
        return Ok(login_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed logins; wait a quarter of an hour and try again."),
        ));
    }
    let Some(user_id) = auth::check_login(&state.db, &email, &form.password).await? else {
        Metrics::add(&state.metrics.logins_failed, 1);
        let forget_before = now() - LOGIN_WINDOW.as_secs() as i64;
        auth::record_login_failure(&state.db, &[&email, &address], forget_before).await?;
        tracing::warn!(%email, address = %peer.ip(), "failed login");
        return Ok(login_page(StatusCode::UNAUTHORIZED, Some("Wrong e-mail or password.")));
    };
    auth::clear_login_failures(&state.db, &email).await?;
    let csrf = auth::new_secret("")?;
    let lifetime = SESSION_LIFETIME.as_secs() as i64;
    let secret = auth::create_session(&state.db, user_id, &csrf, lifetime).await?;
    let mut response = Redirect::to("/").into_response();
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={lifetime}{secure}");
    response
        .headers_mut()
        .append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| ServerError::Internal(e.to_string()))?);
    Ok(response)
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct Empty {}

pub(crate) fn csrf_ok(session: &Session, given: &str) -> bool {
    session.csrf_ok(given)
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { .. }: CsrfForm<Empty>,
) -> Result<Response, ServerError> {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        auth::delete_session(&state.db, secret).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("quell_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
    );
    Ok(response)
}

// ---- dashboard ----

/// The trend as an SVG line chart of affected copies per day.
pub fn trend_svg(days: &[TrendDay]) -> Markup {
    let (w, h, left, bottom, top) = (640.0_f64, 180.0_f64, 40.0_f64, 24.0_f64, 12.0_f64);
    let max = days.iter().map(|d| d.affected_copies.max(d.copies)).max().unwrap_or(0).max(1) as f64;
    let step = if days.len() > 1 { (w - left - 10.0) / (days.len() - 1) as f64 } else { 0.0 };
    let point = |i: usize, v: i64| {
        format!("{:.1},{:.1}", left + step * i as f64, h - bottom - (h - bottom - top) * v as f64 / max)
    };
    let affected: Vec<String> = days.iter().enumerate().map(|(i, d)| point(i, d.affected_copies)).collect();
    let copies: Vec<String> = days.iter().enumerate().map(|(i, d)| point(i, d.copies)).collect();
    let first = days.first().map(|d| d.day.as_str()).unwrap_or("");
    let last = days.last().map(|d| d.day.as_str()).unwrap_or("");
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {w} {h}")) width=(w) height=(h) role="img"
            aria-label="Affected copies per day" {
            title { "Affected copies (red) and all copies (grey) per day" }
            line x1=(left) y1=(h - bottom) x2=(w - 10.0) y2=(h - bottom) stroke="#999" {}
            line x1=(left) y1=(top) x2=(left) y2=(h - bottom) stroke="#999" {}
            text x="4" y=(top + 4.0) font-size="11" { (max as i64) }
            text x="4" y=(h - bottom) font-size="11" { "0" }
            text x=(left) y=(h - 6.0) font-size="11" { (first) }
            text x=(w - 10.0) y=(h - 6.0) font-size="11" text-anchor="end" { (last) }
            polyline points=(copies.join(" ")) fill="none" stroke="#9aa3ad" stroke-width="1.5" {}
            polyline points=(affected.join(" ")) fill="none" stroke="#b3261e" stroke-width="2.5" {}
        }
    }
}

pub(crate) async fn dashboard(State(state): State<AppState>, session: Session) -> Result<Response, ServerError> {
    let Some(org) = session.principal.org_id else {
        let orgs = inventory::org_counts(&state.db).await?;
        let body = html! {
            p { "Counts per organisation (their hosts and paths stay with them)." }
            table {
                tr { th { "Organisation" } th { "Hosts" } th { "Affected hosts" } th { "Copies" } th { "Affected copies" } th { "Last report" } }
                @for o in &orgs {
                    tr {
                        td { (o.name) } td { (o.hosts) } td.bad[o.affected_hosts > 0] { (o.affected_hosts) }
                        td { (o.copies) } td.bad[o.affected_copies > 0] { (o.affected_copies) }
                        td { (o.last_report.as_deref().unwrap_or("never")) }
                    }
                }
            }
        };
        return Ok(page(StatusCode::OK, layout("All organisations", Some(&session), body)));
    };
    let inv = inventory::inventory(&state.db, org).await?;
    let trend = inventory::trend(&state.db, org, DASHBOARD_TREND_DAYS).await?;
    let body = html! {
        div.cards {
            div.card { b { (inv.hosts) } "hosts" }
            div.card { b.bad[inv.affected_hosts > 0] { (inv.affected_hosts) } "affected hosts" }
            div.card { b { (inv.copies) } "Log4j copies" }
            div.card { b.bad[inv.affected_copies > 0] { (inv.affected_copies) } "affected copies" }
            div.card { b { (inv.reports) } "reports" }
        }
        h2 { "Affected copies, last " (DASHBOARD_TREND_DAYS) " days" }
        (trend_svg(&trend))
        h2 { "Versions" }
        table {
            tr { th { "Component" } th { "Version" } th { "Copies" } th { "Affected" } th { "Hosts" } }
            @for v in &inv.versions {
                tr {
                    td { (v.component) }
                    td { a href=(format!("/search?component={}&version={}", urlencode(&v.component), urlencode(&v.version))) { (v.version) } }
                    td { (v.copies) } td.bad[v.affected > 0] { (v.affected) } td { (v.hosts) }
                }
            }
        }
        h2 { "CVE status" }
        table {
            tr { th { "CVE" } th { "Status" } th { "Copies" } }
            @for c in &inv.cves {
                tr { td { (c.cve) } td.bad[c.status == "affected"] { (c.status) } td { (c.copies) } }
            }
        }
    };
    Ok(page(StatusCode::OK, layout("Dashboard", Some(&session), body)))
}

// ---- hosts, search ----

#[derive(Debug, Deserialize)]
pub(crate) struct HostQuery {
    q: Option<String>,
}

pub(crate) async fn hosts(
    State(state): State<AppState>,
    PageOrgUser { session, org_id }: PageOrgUser,
    Query(query): Query<HostQuery>,
) -> Result<Response, ServerError> {
    let hosts = inventory::hosts(&state.db, org_id, query.q.as_deref(), PAGE_ROWS, 0).await?;
    let body = html! {
        form method="get" action="/hosts" {
            input type="search" name="q" placeholder="host name contains" value=(query.q.as_deref().unwrap_or(""));
            " " button type="submit" { "Filter" }
        }
        table {
            tr { th { "Host" } th { "Copies" } th { "Affected" } th { "Errors" } th { "Last seen" } }
            @for h in &hosts {
                tr {
                    td { a href=(format!("/hosts/{}", h.id)) { (h.name) } }
                    td { (h.copies) } td.bad[h.affected > 0] { (h.affected) } td { (h.errors) } td { (h.last_seen) }
                }
            }
        }
        @if hosts.is_empty() { p { "No hosts yet: run " code { "quell scan --upload URL --token TOKEN /" } " on one." } }
    };
    Ok(page(StatusCode::OK, layout("Hosts", Some(&session), body)))
}

fn status_of(finding: &serde_json::Value) -> (&'static str, &'static str) {
    let statuses: Vec<&str> =
        finding["cves"].as_array().map(|c| c.iter().filter_map(|v| v["status"].as_str()).collect()).unwrap_or_default();
    if statuses.contains(&"affected") {
        ("AFFECTED", "bad")
    } else if statuses.contains(&"mitigated") {
        ("MITIGATED", "warn")
    } else {
        ("ok", "ok")
    }
}

pub(crate) async fn host(
    State(state): State<AppState>,
    PageOrgUser { session, org_id }: PageOrgUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let detail = inventory::host(&state.db, org_id, id).await?;
    let history = inventory::host_reports(&state.db, org_id, id, PAGE_ROWS, 0).await?;
    let body = html! {
        div.cards {
            div.card { b { (detail.host.copies) } "copies" }
            div.card { b.bad[detail.host.affected > 0] { (detail.host.affected) } "affected" }
            div.card { b { (detail.reports) } "reports" }
        }
        @if let Some(latest) = &detail.latest {
            h2 { "Latest scan: " (latest.report.scanned_at) }
            p { (latest.report.tool_version.as_deref().unwrap_or("unknown tool")) ", " (latest.report.files) " files, " (latest.report.archives) " archives" }
            table {
                tr { th { "Status" } th { "Component" } th { "Version" } th { "Path" } th { "CVEs" } }
                @for f in &latest.findings {
                    @let (label, class) = status_of(f);
                    tr {
                        td class=(class) { (label) }
                        td { (f["component"].as_str().unwrap_or("?")) }
                        td { (f["version"].as_str().or(f["version_range"].as_str()).unwrap_or("?")) }
                        td.path { (f["path"].as_array().map(|p| p.iter().filter_map(|s| s.as_str()).collect::<Vec<_>>().join("!/")).unwrap_or_default()) }
                        td { @for c in f["cves"].as_array().into_iter().flatten() {
                            (c["id"].as_str().unwrap_or("")) " " (c["status"].as_str().unwrap_or("")) br;
                        } }
                    }
                }
            }
            @if !latest.errors.is_empty() {
                h2 { "Errors" }
                table { @for e in &latest.errors { tr { td.path { (e.path) } td { (e.message) } } } }
            }
        }
        h2 { "History" }
        table {
            tr { th { "Scanned" } th { "Copies" } th { "Affected" } th { "Errors" } th { "Received" } }
            @for r in &history {
                tr { td { (r.scanned_at) } td { (r.copies) } td.bad[r.affected > 0] { (r.affected) } td { (r.errors) } td { (r.received_at) } }
            }
        }
    };
    Ok(page(StatusCode::OK, layout(&detail.host.name, Some(&session), body)))
}

pub(crate) async fn search(
    State(state): State<AppState>,
    PageOrgUser { session, org_id }: PageOrgUser,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ServerError> {
    let searching =
        [&query.component, &query.version, &query.q].iter().any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()));
    let found = if searching {
        inventory::search(&state.db, org_id, &SearchQuery { limit: Some(PAGE_ROWS), ..query.clone() }).await?
    } else {
        Vec::new()
    };
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = html! {
        form method="get" action="/search" {
            select name="component" {
                option value="" { "any component" }
                @for c in ["log4j-core", "log4j", "reload4j"] {
                    option value=(c) selected[query.component.as_deref() == Some(c)] { (c) }
                }
            }
            " " input type="text" name="version" placeholder="version, e.g. 2.14.1" value=(value(&query.version));
            " " input type="search" name="q" placeholder="path or host contains" value=(value(&query.q));
            " " button type="submit" { "Search" }
        }
        @if searching {
            p { (found.len()) " copies in the latest scans." }
            table {
                tr { th { "Status" } th { "Host" } th { "Version" } th { "Path" } }
                @for f in &found {
                    tr {
                        td class=(if f.affected { "bad" } else { "ok" }) { (if f.affected { "AFFECTED" } else { "not affected" }) }
                        td { a href=(format!("/hosts/{}", f.host_id)) { (f.host) } }
                        td { (f.component) " " (f.version.as_deref().or(f.version_range.as_deref()).unwrap_or("?")) }
                        td.path { (f.path) }
                    }
                }
            }
        }
    };
    Ok(page(StatusCode::OK, layout("Search", Some(&session), body)))
}

// ---- tokens ----

#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    name: String,
    scope: String,
}

pub(crate) async fn tokens_page(
    state: &AppState,
    session: &Session,
    created: Option<auth::NewToken>,
) -> Result<Response, ServerError> {
    let list = auth::list_tokens(&state.db, session.principal.token_owner()).await?;
    let body = html! {
        @if let Some(t) = &created {
            p.notice { "New " (t.scope.as_str()) " token " strong { (t.name) } ", shown only now: " br; code #new-token { (t.token) } }
        }
        table {
            tr { th { "Id" } th { "Name" } th { "Scope" } th { "User" } th { "Created" } th { "" } }
            @for token in &list {
                tr {
                    td { (token.id) } td { (token.name) } td { (token.scope) } td { (token.email) }
                    td { (crate::time::format_rfc3339(token.created_at)) }
                    td {
                        @if token.revoked_at.is_some() { "revoked" } @else {
                            form.inline method="post" action=(format!("/tokens/{}/revoke", token.id)) {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button type="submit" { "Revoke" }
                            }
                        }
                    }
                }
            }
        }
        h2 { "New token" }
        form method="post" action="/tokens" {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="text" name="name" placeholder="what it is for" required;
            " " select name="scope" { option value="upload" { "upload only (scan agents)" } option value="full" { "full" } }
            " " button type="submit" { "Create" }
        }
    };
    Ok(page(StatusCode::OK, layout("API tokens", Some(session), body)))
}

pub(crate) async fn tokens(State(state): State<AppState>, session: Session) -> Result<Response, ServerError> {
    tokens_page(&state, &session, None).await
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<TokenForm>,
) -> Result<Response, ServerError> {
    let scope = Scope::parse(&form.scope).ok_or_else(|| ServerError::Invalid("Unknown scope.".into()))?;
    let created = auth::create_token(&state.db, session.principal.user_id, form.name.trim(), scope).await?;
    tokens_page(&state, &session, Some(created)).await
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { session, .. }: CsrfForm<Empty>,
) -> Result<Response, ServerError> {
    if !auth::revoke_owned_token(&state.db, session.principal.token_owner(), id).await? {
        return Err(ServerError::NotFound(format!("token {id}")));
    }
    Ok(Redirect::to("/tokens").into_response())
}
