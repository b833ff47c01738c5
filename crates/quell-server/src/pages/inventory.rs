//! The organisation's own inventory as pages: the dashboard (a coordinator's shows counts per
//! organisation only) with an SVG trend chart, the host list, a host's detail, search.
//!
//! Invariant: pages read through the same [`crate::inventory`] functions as the API, with the
//! organisation of the session's user; the organisation pages answer 403 to coordinators.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use crate::extract::{PageOrgUser, Session};
use crate::html::{layout, page, urlencode};
use crate::i18n::{self, number as n};
use crate::inventory::{self, Inventory, OrgCounts, SearchQuery, TrendDay};
use crate::limits::{DASHBOARD_TREND_DAYS, PAGE_ROWS};
use crate::{AppState, ServerError, agents};

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
            aria-label=(t!("trend-label")) {
            title { (t!("trend-title")) }
            line x1=(left) y1=(h - bottom) x2=(w - 10.0) y2=(h - bottom) stroke="#999" {}
            line x1=(left) y1=(top) x2=(left) y2=(h - bottom) stroke="#999" {}
            text x="4" y=(top + 4.0) font-size="11" { (i18n::number(max as i64)) }
            text x="4" y=(h - bottom) font-size="11" { "0" }
            text x=(left) y=(h - 6.0) font-size="11" { (i18n::date_text(first)) }
            text x=(w - 10.0) y=(h - 6.0) font-size="11" text-anchor="end" { (i18n::date_text(last)) }
            polyline points=(copies.join(" ")) fill="none" stroke="#9aa3ad" stroke-width="1.5" {}
            polyline points=(affected.join(" ")) fill="none" stroke="#b3261e" stroke-width="2.5" {}
        }
    }
}

pub(crate) async fn dashboard(State(state): State<AppState>, session: Session) -> Result<Response, ServerError> {
    let Some(org) = session.principal.org_id else {
        let orgs = inventory::org_counts(&state.db).await?;
        return Ok(page(
            StatusCode::OK,
            layout(&t!("dashboard-all-orgs"), Some(&session), coordinator_dashboard(&orgs)),
        ));
    };
    let mut inv = inventory::inventory(&state.db, org).await?;
    let outdated = agents::mark_inventory(&mut inv, &state.limits.oldest_agent_version);
    let trend = inventory::trend(&state.db, org, DASHBOARD_TREND_DAYS).await?;
    let oldest = state.limits.oldest_agent_version.as_str();
    Ok(page(
        StatusCode::OK,
        layout(&t!("dashboard-title"), Some(&session), org_dashboard(&inv, &trend, outdated, oldest)),
    ))
}

/// Counts per organisation: never their hosts or paths.
fn coordinator_dashboard(orgs: &[OrgCounts]) -> Markup {
    html! {
        p { (t!("dashboard-counts-intro")) }
        table {
            tr { th { (t!("col-organisation")) } th { (t!("col-hosts")) } th { (t!("col-affected-hosts")) } th { (t!("col-copies")) } th { (t!("col-affected-copies")) } th { (t!("col-last-report")) } }
            @for o in orgs {
                tr {
                    td { (o.name) } td { (n(o.hosts)) } td.bad[o.affected_hosts > 0] { (n(o.affected_hosts)) }
                    td { (n(o.copies)) } td.bad[o.affected_copies > 0] { (n(o.affected_copies)) }
                    td { (o.last_report.as_deref().map_or_else(|| t!("never"), i18n::date_text)) }
                }
            }
        }
    }
}

/// An organisation's picture: counts, trend, versions, CVE statuses, the agents its hosts run.
fn org_dashboard(inv: &Inventory, trend: &[TrendDay], outdated_hosts: i64, oldest: &str) -> Markup {
    html! {
        div.cards {
            div.card { b { (n(inv.hosts)) } (t!("card-hosts")) }
            div.card { b.bad[inv.affected_hosts > 0] { (n(inv.affected_hosts)) } (t!("card-affected-hosts")) }
            div.card { b { (n(inv.copies)) } (t!("card-log4j-copies")) }
            div.card { b.bad[inv.affected_copies > 0] { (n(inv.affected_copies)) } (t!("card-affected-copies")) }
            div.card { b { (n(inv.reports)) } (t!("card-reports")) }
            div.card #outdated-agents { b.warn[outdated_hosts > 0] { (n(outdated_hosts)) } (t!("card-outdated-agents")) }
        }
        h2 { (t!("dashboard-trend", days = DASHBOARD_TREND_DAYS)) }
        (trend_svg(trend))
        h2 { (t!("dashboard-versions")) }
        table {
            tr { th { (t!("col-component")) } th { (t!("col-version")) } th { (t!("col-copies")) } th { (t!("col-affected")) } th { (t!("col-hosts")) } }
            @for v in &inv.versions {
                tr {
                    td { (v.component) }
                    td { a href=(format!("/search?component={}&version={}", urlencode(&v.component), urlencode(&v.version))) { (v.version) } }
                    td { (n(v.copies)) } td.bad[v.affected > 0] { (n(v.affected)) } td { (n(v.hosts)) }
                }
            }
        }
        h2 { (t!("dashboard-cve-status")) }
        table {
            tr { th { (t!("col-cve")) } th { (t!("col-status")) } th { (t!("col-copies")) } }
            @for c in &inv.cves {
                tr { td { (c.cve) } td.bad[c.status == "affected"] { (cve_status(&c.status)) } td { (n(c.copies)) } }
            }
        }
        h2 { (t!("dashboard-agents")) }
        p { (t!("dashboard-agents-intro", oldest = oldest)) }
        table #agents {
            tr { th { (t!("col-agent")) } th { (t!("col-hosts")) } th {} }
            @for a in &inv.agents {
                tr {
                    td { (a.tool_version.clone().unwrap_or_else(|| t!("unknown"))) } td { (n(a.hosts)) }
                    td.warn { @if a.outdated { (t!("agent-outdated-update")) } }
                }
            }
        }
    }
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
    let mut hosts = inventory::hosts(&state.db, org_id, query.q.as_deref(), PAGE_ROWS, 0).await?;
    agents::mark_hosts(&mut hosts, &state.limits.oldest_agent_version);
    let body = html! {
        form method="get" action="/hosts" {
            input type="search" name="q" placeholder=(t!("hosts-filter-placeholder")) value=(query.q.as_deref().unwrap_or(""));
            " " button type="submit" { (t!("filter")) }
        }
        table {
            tr { th { (t!("col-host")) } th { (t!("col-copies")) } th { (t!("col-affected")) } th { (t!("col-errors")) } th { (t!("col-last-seen")) } th { (t!("col-agent")) } }
            @for h in &hosts {
                tr {
                    td { a href=(format!("/hosts/{}", h.id)) { (h.name) } }
                    td { (n(h.copies)) } td.bad[h.affected > 0] { (n(h.affected)) } td { (n(h.errors)) } td { (i18n::date_text(&h.last_seen)) }
                    td.warn[h.agent_outdated] {
                        (h.tool_version.clone().unwrap_or_else(|| t!("unknown"))) @if h.agent_outdated { " (" (t!("agent-outdated")) ")" }
                    }
                }
            }
        }
        @if hosts.is_empty() { p { (t!("hosts-none")) " " code { "quell scan --upload URL --token TOKEN /" } } }
    };
    Ok(page(StatusCode::OK, layout(&t!("hosts-title"), Some(&session), body)))
}

fn status_of(finding: &serde_json::Value) -> (String, &'static str) {
    let statuses: Vec<&str> =
        finding["cves"].as_array().map(|c| c.iter().filter_map(|v| v["status"].as_str()).collect()).unwrap_or_default();
    if statuses.contains(&"affected") {
        (t!("finding-affected"), "bad")
    } else if statuses.contains(&"mitigated") {
        (t!("finding-mitigated"), "warn")
    } else {
        (t!("finding-ok"), "ok")
    }
}

/// A CVE status (`affected`, `mitigated`, `not_affected`, …) as the reader says it.
pub(crate) fn cve_status(status: &str) -> String {
    match status {
        "affected" => t!("cve-affected"),
        "mitigated" => t!("cve-mitigated"),
        "not_affected" => t!("cve-not-affected"),
        "fixed" => t!("cve-fixed"),
        other => other.to_string(),
    }
}

pub(crate) async fn host(
    State(state): State<AppState>,
    PageOrgUser { session, org_id }: PageOrgUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let mut detail = inventory::host(&state.db, org_id, id).await?;
    agents::mark_hosts(std::slice::from_mut(&mut detail.host), &state.limits.oldest_agent_version);
    let history = inventory::host_reports(&state.db, org_id, id, PAGE_ROWS, 0).await?;
    let what = format!("host:{id}");
    crate::audit::inventory(
        &state,
        &session.principal,
        Some(org_id),
        "inventory_read",
        &what,
        crate::audit::Channel::Page,
    )
    .await?;
    let body = html! {
        div.cards {
            div.card { b { (n(detail.host.copies)) } (t!("card-copies")) }
            div.card { b.bad[detail.host.affected > 0] { (n(detail.host.affected)) } (t!("card-affected")) }
            div.card { b { (n(detail.reports)) } (t!("card-reports")) }
        }
        @if detail.host.agent_outdated {
            p.notice.warn { (t!("host-agent-outdated", version = detail.host.tool_version.clone().unwrap_or_default())) }
        }
        @if let Some(latest) = &detail.latest {
            h2 { (t!("host-latest-scan", at = i18n::date_text(&latest.report.scanned_at))) }
            p { (t!("host-scan-summary", tool = latest.report.tool_version.clone().unwrap_or_else(|| t!("host-unknown-tool")), files = latest.report.files, archives = latest.report.archives)) }
            table {
                tr { th { (t!("col-status")) } th { (t!("col-component")) } th { (t!("col-version")) } th { (t!("col-path")) } th { (t!("col-cves")) } }
                @for f in &latest.findings {
                    @let (label, class) = status_of(f);
                    tr {
                        td class=(class) { (label) }
                        td { (f["component"].as_str().unwrap_or("?")) }
                        td { (f["version"].as_str().or(f["version_range"].as_str()).unwrap_or("?")) }
                        td.path { (f["path"].as_array().map(|p| p.iter().filter_map(|s| s.as_str()).collect::<Vec<_>>().join("!/")).unwrap_or_default()) }
                        td { @for c in f["cves"].as_array().into_iter().flatten() {
                            (c["id"].as_str().unwrap_or("")) " " (cve_status(c["status"].as_str().unwrap_or(""))) br;
                        } }
                    }
                }
            }
            @if !latest.errors.is_empty() {
                h2 { (t!("host-errors")) }
                table { @for e in &latest.errors { tr { td.path { (e.path) } td { (e.message) } } } }
            }
        }
        h2 { (t!("host-history")) }
        table {
            tr { th { (t!("col-scanned")) } th { (t!("col-copies")) } th { (t!("col-affected")) } th { (t!("col-errors")) } th { (t!("col-received")) } }
            @for r in &history {
                tr { td { (i18n::date_text(&r.scanned_at)) } td { (n(r.copies)) } td.bad[r.affected > 0] { (n(r.affected)) } td { (n(r.errors)) } td { (i18n::date_text(&r.received_at)) } }
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
                option value="" { (t!("search-any-component")) }
                @for c in ["log4j-core", "log4j", "reload4j"] {
                    option value=(c) selected[query.component.as_deref() == Some(c)] { (c) }
                }
            }
            " " input type="text" name="version" placeholder=(t!("search-version-placeholder")) value=(value(&query.version));
            " " input type="search" name="q" placeholder=(t!("search-q-placeholder")) value=(value(&query.q));
            " " button type="submit" { (t!("search-submit")) }
        }
        @if searching {
            p { (t!("search-found", n = found.len())) }
            table {
                tr { th { (t!("col-status")) } th { (t!("col-host")) } th { (t!("col-version")) } th { (t!("col-path")) } }
                @for f in &found {
                    tr {
                        td class=(if f.affected { "bad" } else { "ok" }) { (if f.affected { t!("finding-affected") } else { t!("search-not-affected") }) }
                        td { a href=(format!("/hosts/{}", f.host_id)) { (f.host) } }
                        td { (f.component) " " (f.version.as_deref().or(f.version_range.as_deref()).unwrap_or("?")) }
                        td.path { (f.path) }
                    }
                }
            }
        }
    };
    Ok(page(StatusCode::OK, layout(&t!("search-title"), Some(&session), body)))
}
