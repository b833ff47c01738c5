//! `/components`: "where does it run?" as a page — a purl and a version range in, the answer of
//! [`crate::inventories::ask`] out: for an organisation user its own systems and paths, for a
//! coordinator the counts per organisation and version (names and paths of organisations that
//! share details).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use crate::extract::Session;
use crate::html::{layout, page};
use crate::i18n::{self, number as n};
use crate::inventories::{self, Ask};
use crate::{AppState, ServerError};

#[derive(Debug, Deserialize)]
pub(crate) struct AskForm {
    purl: Option<String>,
    range: Option<String>,
}

pub(crate) async fn ask(
    State(state): State<AppState>,
    session: Session,
    Query(form): Query<AskForm>,
) -> Result<Response, ServerError> {
    let purl = form.purl.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let answer = match purl {
        Some(purl) => {
            let ask = Ask::parse(purl, form.range.as_deref())?;
            Some(inventories::ask(&state.db, &ask, session.principal.org_id).await?)
        }
        None => None,
    };
    let body = html! {
        p { (t!("components-intro")) }
        form method="get" action="/components" {
            input type="text" name="purl" size="50" placeholder="pkg:maven/org.apache.commons/commons-text"
                value=(form.purl.as_deref().unwrap_or(""));
            " " input type="text" name="range" size="40" placeholder="vers:maven/>=1.5|<1.10.0"
                value=(form.range.as_deref().unwrap_or(""));
            " " button type="submit" { (t!("components-ask")) }
        }
        @if let Some(a) = &answer {
            h2 { (a.purl) " " small { (a.range) } }
            p id="answer-summary" {
                (t!("components-summary", systems = a.systems, organisations = a.organisations))
            }
            table id="by-version" {
                tr { th { (t!("col-version")) } th { (t!("col-organisations")) } th { (t!("col-systems")) } }
                @for v in &a.by_version {
                    tr { td { (v.version.clone().unwrap_or_else(|| t!("components-none-given"))) } td { (n(v.organisations)) } td { (n(v.systems)) } }
                }
            }
            @if let Some(orgs) = &a.by_organisation {
                h3 { (t!("components-per-org")) }
                table id="by-organisation" {
                    tr { th { (t!("col-organisation")) } th { (t!("col-systems")) } th { (t!("col-versions")) } th { (t!("col-details")) } }
                    @for o in orgs {
                        tr { td { (o.name) } td { (n(o.systems)) } td { (o.versions.join(", ")) }
                             td { (if o.shares_details { t!("components-shared") } else { t!("components-counts-only") }) } }
                    }
                }
            }
            @if !a.locations.is_empty() {
                h3 { (t!("components-where")) }
                table id="locations" {
                    tr { th { (t!("col-system")) } th { (t!("col-kind")) } th { (t!("col-version")) } th { (t!("col-path")) } th { (t!("col-from")) } th { (t!("col-reported")) } }
                    @for l in &a.locations {
                        tr { td { (l.system) } td { (l.system_kind) } td { (l.version.as_deref().unwrap_or("?")) }
                             td.path { (l.path) } td { (l.source) } td { (i18n::date_time(l.taken_at)) } }
                    }
                }
                @if a.locations_truncated { p { (t!("components-truncated", max = inventories::MAX_ASK_LOCATIONS)) } }
            }
        }
    };
    Ok(page(StatusCode::OK, layout(&t!("components-title"), Some(&session), body)))
}
