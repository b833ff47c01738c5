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
        return Ok(page(StatusCode::OK, layout("All organisations", Some(&session), coordinator_dashboard(&orgs))));
    };
    let mut inv = inventory::inventory(&state.db, org).await?;
    let outdated = agents::mark_inventory(&mut inv, &state.limits.oldest_agent_version);
    let trend = inventory::trend(&state.db, org, DASHBOARD_TREND_DAYS).await?;
    let oldest = state.limits.oldest_agent_version.as_str();
    Ok(page(StatusCode::OK, layout("Dashboard", Some(&session), org_dashboard(&inv, &trend, outdated, oldest))))
}

/// Counts per organisation: never their hosts or paths.
fn coordinator_dashboard(orgs: &[OrgCounts]) -> Markup {
    html! {
        p { "Counts per organisation (their hosts and paths stay with them)." }
        table {
            tr { th { "Organisation" } th { "Hosts" } th { "Affected hosts" } th { "Copies" } th { "Affected copies" } th { "Last report" } }
            @for o in orgs {
                tr {
                    td { (o.name) } td { (o.hosts) } td.bad[o.affected_hosts > 0] { (o.affected_hosts) }
                    td { (o.copies) } td.bad[o.affected_copies > 0] { (o.affected_copies) }
                    td { (o.last_report.as_deref().unwrap_or("never")) }
                }
            }
        }
    }
}

/// An organisation's picture: counts, trend, versions, CVE statuses, the agents its hosts run.
fn org_dashboard(inv: &Inventory, trend: &[TrendDay], outdated_hosts: i64, oldest: &str) -> Markup {
    html! {
        div.cards {
            div.card { b { (inv.hosts) } "hosts" }
            div.card { b.bad[inv.affected_hosts > 0] { (inv.affected_hosts) } "affected hosts" }
            div.card { b { (inv.copies) } "Log4j copies" }
            div.card { b.bad[inv.affected_copies > 0] { (inv.affected_copies) } "affected copies" }
            div.card { b { (inv.reports) } "reports" }
            div.card #outdated-agents { b.warn[outdated_hosts > 0] { (outdated_hosts) } "outdated agents" }
        }
        h2 { "Affected copies, last " (DASHBOARD_TREND_DAYS) " days" }
        (trend_svg(trend))
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
        h2 { "Agents" }
        p { "Hosts by the quell release of their latest report; releases older than " (oldest) " are no longer supported." }
        table #agents {
            tr { th { "Agent" } th { "Hosts" } th { "" } }
            @for a in &inv.agents {
                tr {
                    td { (a.tool_version.as_deref().unwrap_or("unknown")) } td { (a.hosts) }
                    td.warn { @if a.outdated { "outdated: update the agent" } }
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
            input type="search" name="q" placeholder="host name contains" value=(query.q.as_deref().unwrap_or(""));
            " " button type="submit" { "Filter" }
        }
        table {
            tr { th { "Host" } th { "Copies" } th { "Affected" } th { "Errors" } th { "Last seen" } th { "Agent" } }
            @for h in &hosts {
                tr {
                    td { a href=(format!("/hosts/{}", h.id)) { (h.name) } }
                    td { (h.copies) } td.bad[h.affected > 0] { (h.affected) } td { (h.errors) } td { (h.last_seen) }
                    td.warn[h.agent_outdated] {
                        (h.tool_version.as_deref().unwrap_or("unknown")) @if h.agent_outdated { " (outdated)" }
                    }
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
    let mut detail = inventory::host(&state.db, org_id, id).await?;
    agents::mark_hosts(std::slice::from_mut(&mut detail.host), &state.limits.oldest_agent_version);
    let history = inventory::host_reports(&state.db, org_id, id, PAGE_ROWS, 0).await?;
    let body = html! {
        div.cards {
            div.card { b { (detail.host.copies) } "copies" }
            div.card { b.bad[detail.host.affected > 0] { (detail.host.affected) } "affected" }
            div.card { b { (detail.reports) } "reports" }
        }
        @if detail.host.agent_outdated {
            p.notice.warn { "This host runs an outdated agent (" (detail.host.tool_version.as_deref().unwrap_or("")) "): update it." }
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
