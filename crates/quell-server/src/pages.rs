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

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use sqlx::Row;

use crate::api::token_filter;
use crate::auth::{self, Principal, Role, Scope};
use crate::inventory::{self, SearchQuery, TrendDay};
use crate::limits::{
    DASHBOARD_TREND_DAYS, LOGIN_WINDOW, MAX_LOGIN_FAILURES_PER_ADDRESS, MAX_LOGIN_FAILURES_PER_EMAIL, PAGE_ROWS,
    SESSION_LIFETIME,
};
use crate::metrics::Metrics;
use crate::{AppState, ServerError, now};

const SESSION_COOKIE: &str = "quell_session";
const LOGIN_COOKIE: &str = "quell_login";

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/hosts", get(hosts))
        .route("/hosts/{id}", get(host))
        .route("/search", get(search))
        .route("/tokens", get(tokens).post(create_token))
        .route("/tokens/{id}/revoke", post(revoke_token))
}

/// A logged-in browser: the user and the session's CSRF token.
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Metrics::add(&state.metrics.requests, 1);
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/login").into_response());
        };
        let row = sqlx::query(
            "SELECT u.id, u.email, u.role, u.org_id, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2",
        )
        .bind(auth::secret_hash(secret))
        .bind(now())
        .fetch_optional(&state.db.pool)
        .await
        .map_err(|e| ServerError::from(e).into_response())?;
        let Some(row) = row else { return Err(Redirect::to("/login").into_response()) };
        let read = || -> Result<Session, ServerError> {
            let role: String = row.try_get(2)?;
            Ok(Session {
                principal: Principal {
                    user_id: row.try_get(0)?,
                    email: row.try_get(1)?,
                    role: Role::parse(&role).ok_or_else(|| ServerError::Internal(format!("bad role {role:?}")))?,
                    org_id: row.try_get(3)?,
                    scope: Scope::Full,
                    token_id: None,
                },
                csrf: row.try_get(4)?,
            })
        };
        read().map_err(IntoResponse::into_response)
    }
}

/// An HTML response with the page security headers.
pub(crate) fn page(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1b2a3a;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff;text-decoration:none}header .me{margin-left:auto;font-size:.85rem}
main{max-width:72rem;margin:0 auto;padding:1rem}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{background:#fff;border-radius:6px;padding:.8rem 1rem;min-width:8rem;box-shadow:0 1px 2px #0002}
.card b{display:block;font-size:1.6rem}.bad{color:#b3261e}.ok{color:#1e7b34}.warn{color:#8a5a00}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0 1.2rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e5e8;vertical-align:top}
td.path{word-break:break-all;font-family:ui-monospace,monospace;font-size:.85rem}
form.inline{display:inline}input,select,button{font:inherit;padding:.3rem .5rem}
.login{max-width:22rem;margin:3rem auto;background:#fff;padding:1.5rem;border-radius:6px}.login input{width:100%;box-sizing:border-box;margin:.2rem 0 .8rem}
.notice{background:#fff8d6;padding:.6rem;border-radius:4px;word-break:break-all}
svg{background:#fff;border-radius:6px;max-width:100%;height:auto}
@media (max-width:40rem){main{padding:.5rem}table{display:block;overflow-x:auto}th,td{padding:.3rem}}
";

pub(crate) fn layout(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · quell" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { a href="/" { "quell" } }
                    @if let Some(session) = session {
                        @if session.principal.role != Role::Coordinator {
                            a href="/hosts" { "Hosts" }
                            a href="/search" { "Search" }
                        }
                        a href="/indicators" { "Indicators" }
                        a href="/advisories" { "Advisories" }
                        a href="/registry" { "Registry" }
                        a href="/tokens" { "Tokens" }
                        span.me {
                            (session.principal.email) " (" (session.principal.role.as_str()) ") "
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

pub(crate) fn error_page(session: Option<&Session>, status: StatusCode, message: &str) -> Response {
    page(status, layout(status.canonical_reason().unwrap_or("Error"), session, html! { p { (message) } }))
}

pub(crate) fn page_error(session: &Session, error: ServerError) -> Response {
    match error {
        ServerError::NotFound(_) => error_page(Some(session), StatusCode::NOT_FOUND, "Not found."),
        ServerError::Forbidden(m) => error_page(Some(session), StatusCode::FORBIDDEN, &m),
        ServerError::Invalid(m) => error_page(Some(session), StatusCode::BAD_REQUEST, &m),
        other => other.into_response(),
    }
}

fn org_of(session: &Session) -> Result<i64, ServerError> {
    session
        .principal
        .org_id
        .ok_or_else(|| ServerError::Forbidden("Coordinators see counts per organisation, on the dashboard.".into()))
}

// ---- login ----

#[derive(Debug, Deserialize)]
struct LoginForm {
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

async fn login_form() -> Response {
    login_page(StatusCode::OK, None)
}

async fn failures(state: &AppState, key: &str) -> Result<i64, ServerError> {
    let since = now() - LOGIN_WINDOW.as_secs() as i64;
    Ok(sqlx::query("SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at > $2")
        .bind(key)
        .bind(since)
        .fetch_one(&state.db.pool)
        .await?
        .try_get(0)?)
}

async fn login(
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
        let at = now();
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(at - LOGIN_WINDOW.as_secs() as i64)
            .execute(&state.db.pool)
            .await?;
        for key in [&email, &address] {
            sqlx::query("INSERT INTO login_failures (email, at) VALUES ($1, $2)")
                .bind(key)
                .bind(at)
                .execute(&state.db.pool)
                .await?;
        }
        tracing::warn!(%email, address = %peer.ip(), "failed login");
        return Ok(login_page(StatusCode::UNAUTHORIZED, Some("Wrong e-mail or password.")));
    };
    sqlx::query("DELETE FROM login_failures WHERE email = $1").bind(&email).execute(&state.db.pool).await?;
    let secret = auth::new_secret("qs_")?;
    let csrf = auth::new_secret("")?;
    let lifetime = SESSION_LIFETIME.as_secs() as i64;
    sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(auth::secret_hash(&secret))
        .bind(user_id)
        .bind(csrf)
        .bind(now())
        .bind(now() + lifetime)
        .execute(&state.db.pool)
        .await?;
    let mut response = Redirect::to("/").into_response();
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={lifetime}{secure}");
    response
        .headers_mut()
        .append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| ServerError::Internal(e.to_string()))?);
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

pub(crate) fn csrf_ok(session: &Session, given: &str) -> bool {
    !given.is_empty() && given == session.csrf
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ServerError> {
    if !csrf_ok(&session, &form.csrf) {
        return Ok(error_page(Some(&session), StatusCode::FORBIDDEN, "Missing or wrong form token."));
    }
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(auth::secret_hash(secret))
            .execute(&state.db.pool)
            .await?;
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

async fn dashboard(State(state): State<AppState>, session: Session) -> Result<Response, ServerError> {
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

/// Percent-encoding for query values.
pub(crate) fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---- hosts, search ----

#[derive(Debug, Deserialize)]
struct HostQuery {
    q: Option<String>,
}

async fn hosts(State(state): State<AppState>, session: Session, Query(query): Query<HostQuery>) -> Response {
    let result = async {
        let org = org_of(&session)?;
        inventory::hosts(&state.db, org, query.q.as_deref(), PAGE_ROWS, 0).await
    }
    .await;
    let hosts = match result {
        Ok(hosts) => hosts,
        Err(e) => return page_error(&session, e),
    };
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
    page(StatusCode::OK, layout("Hosts", Some(&session), body))
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

async fn host(State(state): State<AppState>, session: Session, Path(id): Path<i64>) -> Response {
    let result = async {
        let org = org_of(&session)?;
        let detail = inventory::host(&state.db, org, id).await?;
        let history = inventory::host_reports(&state.db, org, id, PAGE_ROWS, 0).await?;
        Ok::<_, ServerError>((detail, history))
    }
    .await;
    let (detail, history) = match result {
        Ok(x) => x,
        Err(e) => return page_error(&session, e),
    };
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
    page(StatusCode::OK, layout(&detail.host.name, Some(&session), body))
}

async fn search(State(state): State<AppState>, session: Session, Query(query): Query<SearchQuery>) -> Response {
    let searching =
        [&query.component, &query.version, &query.q].iter().any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()));
    let result = async {
        let org = org_of(&session)?;
        if !searching {
            return Ok(Vec::new());
        }
        inventory::search(&state.db, org, &SearchQuery { limit: Some(PAGE_ROWS), ..query.clone() }).await
    }
    .await;
    let found = match result {
        Ok(found) => found,
        Err(e) => return page_error(&session, e),
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
    page(StatusCode::OK, layout("Search", Some(&session), body))
}

// ---- tokens ----

#[derive(Debug, Deserialize)]
struct TokenForm {
    csrf: String,
    name: String,
    scope: String,
}

async fn tokens_page(
    state: &AppState,
    session: &Session,
    created: Option<auth::NewToken>,
) -> Result<Response, ServerError> {
    let (filter, value) = token_filter(&session.principal);
    let rows = sqlx::query(&format!(
        "SELECT t.id, t.name, t.scope, u.email, t.created_at, t.revoked_at FROM tokens t JOIN users u ON u.id = t.user_id \
         WHERE {filter} ORDER BY t.id"
    ))
    .bind(value)
    .fetch_all(&state.db.pool)
    .await?;
    let mut list = Vec::new();
    for row in &rows {
        let revoked: Option<i64> = row.try_get(5)?;
        list.push((
            row.try_get::<i64, _>(0)?,
            row.try_get::<String, _>(1)?,
            row.try_get::<String, _>(2)?,
            row.try_get::<String, _>(3)?,
            crate::time::format_rfc3339(row.try_get(4)?),
            revoked.is_some(),
        ));
    }
    let body = html! {
        @if let Some(t) = &created {
            p.notice { "New " (t.scope.as_str()) " token " strong { (t.name) } ", shown only now: " br; code #new-token { (t.token) } }
        }
        table {
            tr { th { "Id" } th { "Name" } th { "Scope" } th { "User" } th { "Created" } th { "" } }
            @for (id, name, scope, email, created, revoked) in &list {
                tr {
                    td { (id) } td { (name) } td { (scope) } td { (email) } td { (created) }
                    td {
                        @if *revoked { "revoked" } @else {
                            form.inline method="post" action=(format!("/tokens/{id}/revoke")) {
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

async fn tokens(State(state): State<AppState>, session: Session) -> Result<Response, ServerError> {
    tokens_page(&state, &session, None).await
}

async fn create_token(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<TokenForm>,
) -> Result<Response, ServerError> {
    if !csrf_ok(&session, &form.csrf) {
        return Ok(error_page(Some(&session), StatusCode::FORBIDDEN, "Missing or wrong form token."));
    }
    let Some(scope) = Scope::parse(&form.scope) else {
        return Ok(error_page(Some(&session), StatusCode::BAD_REQUEST, "Unknown scope."));
    };
    let created = match auth::create_token(&state.db, session.principal.user_id, form.name.trim(), scope).await {
        Ok(t) => t,
        Err(e) => return Ok(page_error(&session, e)),
    };
    tokens_page(&state, &session, Some(created)).await
}

async fn revoke_token(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ServerError> {
    if !csrf_ok(&session, &form.csrf) {
        return Ok(error_page(Some(&session), StatusCode::FORBIDDEN, "Missing or wrong form token."));
    }
    let (filter, value) = token_filter(&session.principal);
    let result = sqlx::query(&format!(
        "UPDATE tokens SET revoked_at = $2 WHERE id = $3 AND revoked_at IS NULL AND user_id IN (SELECT u.id FROM users u WHERE {filter})"
    ))
    .bind(value)
    .bind(now())
    .bind(id)
    .execute(&state.db.pool)
    .await?;
    if result.rows_affected() == 0 {
        return Ok(error_page(Some(&session), StatusCode::NOT_FOUND, "Not found."));
    }
    Ok(Redirect::to("/tokens").into_response())
}
