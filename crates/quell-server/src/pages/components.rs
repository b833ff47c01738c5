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
use crate::inventories::{self, Ask};
use crate::time::format_rfc3339;
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
        p { "Which systems run a component, from the inventories and SBOMs already reported — no rescan needed." }
        form method="get" action="/components" {
            input type="text" name="purl" size="50" placeholder="pkg:maven/org.apache.commons/commons-text"
                value=(form.purl.as_deref().unwrap_or(""));
            " " input type="text" name="range" size="40" placeholder="vers:maven/>=1.5|<1.10.0"
                value=(form.range.as_deref().unwrap_or(""));
            " " button type="submit" { "Ask" }
        }
        @if let Some(a) = &answer {
            h2 { (a.purl) " " small { (a.range) } }
            p id="answer-summary" {
                (a.systems) (if a.systems == 1 { " system in " } else { " systems in " })
                (a.organisations) (if a.organisations == 1 { " organisation." } else { " organisations." })
            }
            table id="by-version" {
                tr { th { "Version" } th { "Organisations" } th { "Systems" } }
                @for v in &a.by_version {
                    tr { td { (v.version.as_deref().unwrap_or("(none given)")) } td { (v.organisations) } td { (v.systems) } }
                }
            }
            @if let Some(orgs) = &a.by_organisation {
                h3 { "Per organisation" }
                table id="by-organisation" {
                    tr { th { "Organisation" } th { "Systems" } th { "Versions" } th { "Details" } }
                    @for o in orgs {
                        tr { td { (o.name) } td { (o.systems) } td { (o.versions.join(", ")) }
                             td { (if o.shares_details { "shared" } else { "counts only" }) } }
                    }
                }
            }
            @if !a.locations.is_empty() {
                h3 { "Where" }
                table id="locations" {
                    tr { th { "System" } th { "Kind" } th { "Version" } th { "Path" } th { "From" } th { "Reported" } }
                    @for l in &a.locations {
                        tr { td { (l.system) } td { (l.system_kind) } td { (l.version.as_deref().unwrap_or("?")) }
                             td.path { (l.path) } td { (l.source) } td { (format_rfc3339(l.taken_at)) } }
                    }
                }
                @if a.locations_truncated { p { "Only the first " (inventories::MAX_ASK_LOCATIONS) " copies are listed; the counts are complete." } }
            }
        }
    };
    Ok(page(StatusCode::OK, layout("Where does it run?", Some(&session), body)))
}
