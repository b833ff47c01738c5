//! The `/indicators` page: the organisation's own sightings, the pooled indicators (counts
//! only) with filters, and an SVG chart of attempts per day. Server-rendered, no scripts (the
//! pages' Content-Security-Policy allows none); values escaped by maud. The route is in
//! [`crate::router`]; reads go through the same store functions as the API
//! ([`quell_store::indicators`]), so the pool's thresholds and TLP caps hold here too.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use quell_model::indicators::IndicatorKind;
use quell_store::indicators::{self as store, OwnIndicator, PooledIndicator, Scope};

use crate::auth::Role;
use crate::extract::Session;
use crate::html::{layout, page};
use crate::i18n::{self, number as n};
use crate::indicators::Filter;
use crate::limits::{INDICATOR_CHART_DAYS, PAGE_ROWS};
use crate::{AppState, ServerError};

/// Attempts per day as bars: the organisation's own (dark) over the pool's (light), for the
/// [`INDICATOR_CHART_DAYS`] days ending at the latest day with any.
pub fn days_svg(own: &[(i64, i64)], pool: &[(i64, i64)]) -> Markup {
    let (w, h, left, bottom, top) = (640.0_f64, 180.0_f64, 40.0_f64, 24.0_f64, 12.0_f64);
    let last = own.iter().chain(pool).map(|d| d.0).max().unwrap_or_else(|| crate::now().div_euclid(86_400));
    let first = last - INDICATOR_CHART_DAYS + 1;
    let in_range = |d: &&(i64, i64)| d.0 >= first && d.0 <= last;
    let max = own.iter().chain(pool).filter(in_range).map(|d| d.1).max().unwrap_or(0).max(1) as f64;
    let slot = (w - left - 10.0) / INDICATOR_CHART_DAYS as f64;
    let bar = |d: &(i64, i64), inset: f64| {
        let height = (h - bottom - top) * d.1 as f64 / max;
        (
            format!("{:.1}", left + slot * (d.0 - first) as f64 + inset),
            format!("{:.1}", h - bottom - height),
            format!("{:.1}", (slot - 2.0 * inset).max(0.5)),
            format!("{height:.1}"),
            format!("{}: {}", i18n::day(d.0), i18n::number(d.1)),
        )
    };
    let pool_bars: Vec<_> = pool.iter().filter(in_range).map(|d| bar(d, 0.0)).collect();
    let own_bars: Vec<_> = own.iter().filter(in_range).map(|d| bar(d, slot * 0.25)).collect();
    html! {
        svg #indicator-chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {w} {h}")) width=(w) height=(h)
            role="img" aria-label=(t!("ind-chart-label")) {
            title { (t!("ind-chart-title")) }
            line x1=(left) y1=(h - bottom) x2=(w - 10.0) y2=(h - bottom) stroke="#999" {}
            line x1=(left) y1=(top) x2=(left) y2=(h - bottom) stroke="#999" {}
            text x="4" y=(top + 4.0) font-size="11" { (i18n::number(max as i64)) }
            text x="4" y=(h - bottom) font-size="11" { "0" }
            text x=(left) y=(h - 6.0) font-size="11" { (i18n::day(first)) }
            text x=(w - 10.0) y=(h - 6.0) font-size="11" text-anchor="end" { (i18n::day(last)) }
            @for (x, y, bw, bh, label) in &pool_bars {
                rect.pool x=(x) y=(y) width=(bw) height=(bh) fill="#9fb7d0" { title { (t!("ind-bar-pool")) " " (label) } }
            }
            @for (x, y, bw, bh, label) in &own_bars {
                rect.own x=(x) y=(y) width=(bw) height=(bh) fill="#1b2a3a" { title { (t!("ind-bar-own")) " " (label) } }
            }
        }
    }
}

fn techniques(list: &[String]) -> String {
    list.join(", ")
}

/// What the page shows.
struct View {
    pooled: Vec<PooledIndicator>,
    pool_days: Vec<(i64, i64)>,
    /// The organisation's own (`None` for coordinators).
    mine: Option<Vec<OwnIndicator>>,
    own_days: Vec<(i64, i64)>,
    min_orgs: i64,
    coordinator: bool,
}

pub(crate) async fn indicators_page(
    State(state): State<AppState>,
    session: Session,
    Query(filter): Query<Filter>,
) -> Result<Response, ServerError> {
    let checked =
        Filter { since: None, max_tlp: None, limit: None, offset: None, ..filter.clone() }.check(PAGE_ROWS)?;
    let min_orgs = state.limits.indicator_min_orgs;
    let coordinator = session.principal.role == Role::Coordinator;
    let pooled = store::pool(&state.db, min_orgs, &checked, coordinator).await?;
    let pool_days = store::days(&state.db, Scope::Pool, min_orgs, &checked).await?;
    let (mine, own_days) = match session.principal.org_id {
        Some(org) => (
            Some(store::own(&state.db, org, &checked).await?),
            store::days(&state.db, Scope::Own(org), min_orgs, &checked).await?,
        ),
        None => (None, Vec::new()),
    };
    let view = View { pooled, pool_days, mine, own_days, min_orgs, coordinator };
    Ok(page(StatusCode::OK, layout(&t!("ind-title"), Some(&session), body(&filter, &view))))
}

fn body(filter: &Filter, view: &View) -> Markup {
    let View { pooled, pool_days, mine, own_days, min_orgs, coordinator } = view;
    let (min_orgs, coordinator) = (*min_orgs, *coordinator);
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        form method="get" action="/indicators" {
            select name="kind" {
                option value="" { (t!("ind-any-kind")) }
                @for k in IndicatorKind::ALL {
                    option value=(k.as_str()) selected[filter.kind.as_deref() == Some(k.as_str())] { (k.as_str()) }
                }
            }
            " " input type="text" name="technique" placeholder=(t!("ind-technique-placeholder")) value=(value(&filter.technique));
            " " select name="known_scanner" {
                option value="" { (t!("ind-scanners-or-not")) }
                option value="true" selected[filter.known_scanner.as_deref() == Some("true")] { (t!("ind-scanners-only")) }
                option value="false" selected[filter.known_scanner.as_deref() == Some("false")] { (t!("ind-no-scanners")) }
            }
            " " input type="search" name="q" placeholder=(t!("ind-value-placeholder")) value=(value(&filter.q));
            " " button type="submit" { (t!("filter")) }
        }
        h2 { (t!("ind-attempts-per-day")) }
        (days_svg(own_days, pool_days))
        p { small { (t!("ind-chart-legend")) } }
        @if let Some(mine) = &mine {
            h2 { (t!("ind-own", n = mine.len())) }
            table #own {
                tr { th { (t!("col-kind")) } th { (t!("ind-col-value")) } th { (t!("ind-col-attempts")) } th { (t!("ind-col-first-seen")) } th { (t!("col-last-seen")) } th { (t!("col-hosts")) } th { (t!("ind-col-techniques")) } th { "TLP" } }
                @for i in mine {
                    tr {
                        td { (i.kind.as_str()) }
                        td.path { (i.value) @if i.known_scanner { " " small.warn { "(" (t!("ind-known-scanner")) ")" } } }
                        td { (n(i.count)) } td { (i18n::date_text(&i.first_seen)) } td { (i18n::date_text(&i.last_seen)) }
                        td { (i.hosts.join(", ")) } td { (techniques(&i.techniques)) } td { (i.tlp.as_str()) }
                    }
                }
            }
            @if mine.is_empty() { p { (t!("ind-none-yet")) " " code { "quell hunt --upload URL --token TOKEN /var/log" } } }
        }
        (pool_table(pooled, min_orgs, coordinator))
        p { (t!("ind-soc")) " " code { "GET /api/v1/indicators/feed?format=stix|misp|csv" } }
    }
}

fn pool_table(pooled: &[PooledIndicator], min_orgs: i64, coordinator: bool) -> Markup {
    html! {
        h2 { (t!("ind-pooled", n = pooled.len())) }
        p { (if coordinator { t!("ind-pool-intro-coordinator", min = min_orgs) } else { t!("ind-pool-intro", min = min_orgs) }) }
        table #pool {
            tr {
                th { (t!("col-kind")) } th { (t!("ind-col-value")) } th { (t!("col-organisations")) } th { (t!("ind-col-attempts")) } th { (t!("ind-col-first-seen")) } th { (t!("col-last-seen")) }
                th { (t!("ind-col-techniques")) } th { "TLP" }
                @if coordinator { th { (t!("ind-col-shared-by")) } }
            }
            @for i in pooled {
                tr {
                    td { (i.kind.as_str()) }
                    td.path { (i.value) @if i.known_scanner { " " small.warn { "(" (t!("ind-known-scanner")) ")" } } }
                    td { (n(i.organisations)) } td { (n(i.count)) } td { (i18n::date_text(&i.first_seen)) } td { (i18n::date_text(&i.last_seen)) }
                    td { (techniques(&i.techniques)) } td { (i.tlp.as_str()) }
                    @if coordinator { td { (i.shared_by.as_deref().unwrap_or_default().join(", ")) } }
                }
            }
        }
    }
}
