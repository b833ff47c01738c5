//! Advisory web pages: the list (anonymous readers see TLP:CLEAR only), one advisory with its
//! affected systems, deadlines, decisions and an SVG progress chart, the coordinator's form and
//! publish button, the call list. Same access rule as the API; roles and CSRF tokens are
//! checked by the extractors ([`PageCoordinator`], [`PageOrgUser`], [`CsrfForm`]); errors
//! become HTML pages in the route table's `html_errors`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use quell_advisory::progress::{self, DECISIONS, JUSTIFICATIONS, System, SystemRef};
use quell_advisory::rating::*;
use quell_advisory::{AdvisoryContent, Product, Tlp, Version, Viewer, is_coordinator};
use quell_store::advisories::csaf::ExternalRow;
use quell_store::advisories::deliveries::{self, LogEntry};
use quell_store::advisories::groups;
use quell_store::advisories::store::{self, CALL_RESULTS, CallEntry, Draft, RecipientName, Recipients, VersionRow};
use quell_store::advisories::systems::{self, DecisionBody};
use serde::Deserialize;
use serde_json::Value;

use crate::advisories::{advisory_id, context, overdue_json, progress_json};
use crate::extract::{CsrfForm, MaybeSession, PageCoordinator, PageOrgUser, Session, viewer_of};
use crate::html::{layout, page};
use crate::i18n::{self, code, date_time, level_name, rating_label, tlp_meaning};
use crate::{AppState, ServerError, now};

fn viewer(session: Option<&Session>) -> Viewer {
    viewer_of(session.map(|s| &s.principal))
}

fn to_advisory(id: i64) -> Response {
    Redirect::to(&format!("/advisories/{id}")).into_response()
}

fn tlp_badge(tlp: Tlp) -> Markup {
    let colour = match tlp {
        Tlp::Clear => "#fff;color:#000;border:1px solid #999",
        Tlp::Green => "#33ff00;color:#000",
        Tlp::Amber | Tlp::AmberStrict => "#ffc000;color:#000",
        Tlp::Red => "#ff2b2b;color:#000",
    };
    html! { span style=(format!("background:{colour};padding:0 .3rem;border-radius:3px;font-size:.8rem;font-weight:bold")) title=(tlp_meaning(tlp)) { "TLP:" (tlp.as_str()) } }
}

fn day(unix: i64) -> String {
    i18n::date(unix)
}

pub(crate) async fn list(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Result<Response, ServerError> {
    let viewer = viewer(session.as_ref());
    let rows = store::list_visible(&state.db, &viewer, false).await?;
    let overdue =
        if viewer == Viewer::Anonymous { Value::Array(vec![]) } else { overdue_json(&state, &viewer).await? };
    let coordinator = is_coordinator(&viewer);
    let external = crate::aggregator::visible_external(&state.db, &viewer, None).await?;
    let body = html! {
        @if coordinator { p { a href="/advisories/new" { (t!("adv-write-new")) } " · " a #subscriptions-link href="/advisories/subscriptions" { (t!("agg-title")) } } }
        @if session.is_none() { p { (t!("adv-public-only")) " " a href="/login" { (t!("adv-log-in-for-more")) } } }
        table #advisories {
            tr { th { (t!("adv-col-advisory")) } th { (t!("col-version")) } th { (t!("adv-col-rating")) } th { "TLP" } th { (t!("adv-col-title")) } th { (t!("adv-col-published")) } }
            @for v in &rows {
                tr {
                    td { a href=(format!("/advisories/{}", v.advisory_id)) { (v.identifier) } }
                    td { (v.version) @if !v.published() { " (" (t!("adv-draft")) ")" } }
                    td { (v.tag()) }
                    td { (tlp_badge(v.tlp)) }
                    td { (v.title) }
                    td { (v.published_at.map(day).unwrap_or_default()) }
                }
            }
        }
        @if !external.is_empty() { (external_table(&external, coordinator)) }
        @if let Some(items) = overdue.as_array().filter(|a| !a.is_empty()) {
            h2 { (t!("adv-overdue")) }
            (overdue_table(items, coordinator))
        } @else if session.is_some() {
            p #no-overdue { (t!("adv-nothing-overdue")) }
        }
    };
    Ok(page(StatusCode::OK, layout(&t!("adv-title"), session.as_ref(), body)))
}

/// Advisories of other providers (imported, read-only) beside the own ones.
fn external_table(rows: &[ExternalRow], coordinator: bool) -> Markup {
    html! {
        h2 { (t!("agg-imported")) }
        table #external {
            tr { th { (t!("agg-col-publisher")) } th { (t!("adv-col-advisory")) } th { (t!("col-version")) } th { "TLP" } th { (t!("adv-col-title")) } th { (t!("agg-col-released")) } @if coordinator { th {} } }
            @for e in rows {
                tr {
                    td { (e.publisher) }
                    td { (e.tracking_id) }
                    td { (e.version) }
                    td { @if let Some(tlp) = Tlp::parse(&e.tlp_label) { (tlp_badge(tlp)) } }
                    td { (e.title) }
                    td { (e.current_release_date.get(..10).unwrap_or(&e.current_release_date)) }
                    @if coordinator { td { a href=(format!("/advisories/external/{}/forward", e.id)) { (t!("agg-forward")) } } }
                }
            }
        }
    }
}

fn overdue_table(items: &[Value], coordinator: bool) -> Markup {
    html! {
        table #overdue {
            @if coordinator {
                tr { th { (t!("adv-col-advisory")) } th { (t!("adv-col-deadline")) } th { (t!("adv-col-overdue-systems")) } th { (t!("col-organisations")) } }
                @for o in items {
                    tr {
                        td { a href=(format!("/advisories/{}", o["advisory_id"])) { (o["identifier"].as_str().unwrap_or_default()) } }
                        td { (day(o["deadline"].as_i64().unwrap_or(0))) }
                        td.bad { (o["overdue"]) }
                        td { (o["orgs"].as_array().map_or(0, Vec::len)) }
                    }
                }
            } @else {
                tr { th { (t!("adv-col-advisory")) } th { (t!("col-host")) } th { (t!("adv-col-deadline")) } th { (t!("adv-col-advice")) } }
                @for o in items {
                    tr {
                        td { a href=(format!("/advisories/{}", o["advisory_id"])) { (o["identifier"].as_str().unwrap_or_default()) } }
                        td { (o["name"].as_str().unwrap_or_default()) }
                        td.bad { (day(o["deadline"].as_i64().unwrap_or(0))) }
                        td { @if o["suggest_switch_off"].as_bool() == Some(true) { (t!("adv-switch-off")) } }
                    }
                }
            }
        }
    }
}

/// A line chart of affected and resolved systems per day (no script: plain SVG).
pub fn chart(series: &[Value]) -> Markup {
    let (w, h, pad) = (640.0_f64, 200.0_f64, 30.0_f64);
    let max = series.iter().map(|d| d["affected"].as_i64().unwrap_or(0)).max().unwrap_or(0).max(1) as f64;
    let n = series.len().max(2) as f64 - 1.0;
    let point = |i: usize, v: i64| {
        let x = pad + (w - 2.0 * pad) * (i as f64) / n;
        let y = h - pad - (h - 2.0 * pad) * (v as f64) / max;
        format!("{x:.1},{y:.1}")
    };
    let line = |key: &str| -> String {
        series.iter().enumerate().map(|(i, d)| point(i, d[key].as_i64().unwrap_or(0))).collect::<Vec<_>>().join(" ")
    };
    let last = series.last();
    html! {
        svg #progress-chart width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(t!("adv-chart-label")) {
            line x1=(pad) y1=(h - pad) x2=(w - pad) y2=(h - pad) stroke="#999" {}
            polyline points=(line("affected")) fill="none" stroke="#b3261e" stroke-width="2" {}
            polyline points=(line("resolved")) fill="none" stroke="#1e7b34" stroke-width="2" {}
            text x=(pad) y="16" font-size="12" fill="#b3261e" { (t!("adv-chart-affected", n = last.map_or(0, |d| d["affected"].as_i64().unwrap_or(0)))) }
            text x=(pad + 120.0) y="16" font-size="12" fill="#1e7b34" { (t!("adv-chart-resolved", n = last.map_or(0, |d| d["resolved"].as_i64().unwrap_or(0)))) }
            @if let Some(first) = series.first() { text x=(pad) y=(h - 8.0) font-size="11" { (i18n::date_text(first["day"].as_str().unwrap_or_default())) } }
            @if let Some(l) = last { text x=(w - pad) y=(h - 8.0) font-size="11" text-anchor="end" { (i18n::date_text(l["day"].as_str().unwrap_or_default())) } }
        }
    }
}

/// Everything the page of one advisory shows.
struct AdvisoryView {
    id: i64,
    all: Vec<VersionRow>,
    /// The revision note of each of `all`.
    notes: Vec<String>,
    content: AdvisoryContent,
    rating: Rating,
    csrf: String,
    coordinator: bool,
    progress: Option<Value>,
    /// The deadline and the systems of the viewer's organisation.
    systems: Option<(i64, Vec<System>)>,
    desk: Option<Desk>,
}

impl AdvisoryView {
    fn latest(&self) -> &VersionRow {
        self.all.last().expect("visible_versions returns at least one version")
    }
}

async fn load(state: &AppState, session: Option<&Session>, id: &str) -> Result<AdvisoryView, ServerError> {
    let viewer = viewer(session);
    let id = advisory_id(state, id).await?;
    let all = store::visible_versions(&state.db, id, &viewer).await?;
    let latest = all.last().ok_or_else(|| ServerError::NotFound(t!("adv-not-found", id = id)))?;
    let content = latest.content()?;
    let rating = latest.rating()?;
    let notes = all.iter().map(|v| Ok(v.content()?.revision_note)).collect::<Result<_, ServerError>>()?;
    let coordinator = is_coordinator(&viewer);
    let has_published = all.iter().any(VersionRow::published);
    let progress = if has_published && viewer != Viewer::Anonymous {
        Some(progress_json(state, id, &viewer).await?)
    } else {
        None
    };
    let systems = match (session.and_then(|s| s.principal.org_id), has_published) {
        (Some(org), true) => {
            let ctx = context(state, id, &viewer).await?;
            let t = systems::timelines(&state.db, &ctx.scope(), Some(org)).await?;
            Some((ctx.deadline, progress::systems(&t, ctx.deadline, ctx.fix_available, now())))
        }
        _ => None,
    };
    let desk = if coordinator && has_published { Some(coordinator_desk(state, id).await?) } else { None };
    let csrf = session.map(|s| s.csrf.clone()).unwrap_or_default();
    Ok(AdvisoryView { id, all, notes, content, rating, csrf, coordinator, progress, systems, desk })
}

#[derive(Debug, Deserialize)]
pub(crate) struct TextQuery {
    /// The language to read the advisory's texts in (`nl`, `en`); default: the reader's.
    text: Option<String>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
    Query(query): Query<TextQuery>,
) -> Result<Response, ServerError> {
    let mut view = load(&state, session.as_ref(), &id).await?;
    // The texts in the reader's language when the advisory has them; the other a click away.
    let wanted = query.text.unwrap_or_else(|| i18n::current().code().to_string());
    let languages: Vec<String> = view.content.languages().into_iter().map(str::to_string).collect();
    view.content = view.content.in_language(&wanted);
    let shown = view.content.original_lang().to_string();
    let latest = view.latest();
    let title = format!("{} {} v{}", view.rating.tag, latest.identifier, latest.version);
    let body = html! {
        (advisory_head(&view))
        @for other in languages.iter().filter(|l| **l != shown) {
            @if let Some(lang) = i18n::Lang::parse(other) {
                p #other-language { a hreflang=(lang.code()) href=(format!("?text={}", lang.code())) { (i18n::text(&format!("adv-read-in-{}", lang.code()), None)) } }
            }
        }
        (advisory_content(&view.content))
        @if let Some((deadline, systems)) = &view.systems { (systems_section(&view, *deadline, systems)) }
        @if let Some(p) = &view.progress { (progress_section(p)) }
        @if let Some(desk) = &view.desk { (desk_section(&view, desk)) }
        (versions_section(&view))
    };
    let principal = session.as_ref().map(|s| &s.principal);
    crate::audit::advisory_read(&state, principal, latest, crate::audit::Channel::Page).await?;
    Ok(page(StatusCode::OK, layout(&title, session.as_ref(), body)))
}

fn advisory_head(view: &AdvisoryView) -> Markup {
    let (id, latest, rating) = (view.id, view.latest(), &view.rating);
    html! {
        p { (tlp_badge(latest.tlp)) " " strong #title lang=(view.content.original_lang()) { (view.content.title) } }
        p { (t!("adv-rating")) " " strong #rating { (rating_label(rating)) } " (" (rating.urgency_text()) "), "
            (t!("adv-rating-points", chance = rating.chance_points, damage = rating.damage_value))
            @if let Some(r) = &rating.chance_override_reason { br; (t!("adv-chance-overridden")) " " (r) }
            @if let Some(r) = &rating.damage_override_reason { br; (t!("adv-damage-overridden")) " " (r) } }
        p { (t!("adv-status")) " " (code(&latest.status)) @if let Some(at) = latest.published_at { ", " (t!("adv-published-at", at = date_time(at))) } }
        @if view.coordinator && !latest.published() {
            p { a #edit href=(format!("/advisories/{id}/edit")) { (t!("adv-edit-draft", version = latest.version.as_str())) } }
            form method="post" action=(format!("/advisories/{id}/publish")) {
                input type="hidden" name="csrf" value=(view.csrf);
                button #publish type="submit" { (t!("adv-publish-version", version = latest.version.as_str())) }
            }
        }
    }
}

fn advisory_content(content: &AdvisoryContent) -> Markup {
    html! {
        h2 { (t!("adv-summary")) } p style="white-space:pre-wrap" { (content.summary) }
        @if !content.cves.is_empty() { p { (t!("col-cves")) ": " (content.cves.join(", ")) } }
        h2 { (t!("adv-affected-products")) }
        table { tr { th { (t!("adv-col-supplier")) } th { (t!("adv-col-product")) } th { (t!("col-versions")) } }
            @for p in &content.products { tr { td { (p.supplier) } td { (p.product) } td { (p.versions) } } } }
        @if !content.components.is_empty() {
            h2 { (t!("adv-affected-components")) }
            table id="components" { tr { th { (t!("adv-col-package")) } th { (t!("col-versions")) } th { (t!("adv-col-from-pack")) } th {} }
                @for c in &content.components {
                    tr { td { (c.purl) } td { (if c.range.is_empty() { t!("adv-every-version") } else { c.range.clone() }) }
                         td { (c.pack.as_deref().unwrap_or("")) }
                         td { a href=(format!("/components?purl={}&range={}", crate::html::urlencode(&c.purl), crate::html::urlencode(&c.range))) { (t!("adv-where-does-it-run")) } } }
                }
            }
        }
        @if !content.consequences.is_empty() { h2 { (t!("adv-consequences")) } p style="white-space:pre-wrap" { (content.consequences) } }
        h2 { (t!("adv-solution")) }
        p style="white-space:pre-wrap" { (content.solution) }
        @if !content.fix_available { p.warn { (t!("adv-no-fix")) } }
        @if !content.references.is_empty() { h2 { (t!("adv-references")) } ul { @for r in &content.references { li { a href=(r) rel="noreferrer" { (r) } } } } }
    }
}

fn systems_section(view: &AdvisoryView, deadline: i64, systems: &[System]) -> Markup {
    html! {
        h2 { (t!("adv-your-systems")) }
        p { (t!("adv-deadline-measures")) " " strong #deadline { (date_time(deadline)) } }
        table #systems {
            tr { th { (t!("col-host")) } th { (t!("adv-col-state")) } th { (t!("adv-col-latest-decision")) } th { (t!("adv-col-record-decision")) } }
            @for s in systems {
                tr {
                    td { (s.name) @if s.kind == "product" { " (" (t!("adv-registered-product")) ")" } }
                    td class=(if s.overdue { "bad" } else if s.state == "resolved" { "ok" } else { "" }) {
                        (code(s.state)) @if s.overdue { " (" (t!("adv-is-overdue")) ")" }
                        @if s.suggest_switch_off { br; span.warn { (t!("adv-switch-off-system")) } }
                    }
                    td { @if let Some(dec) = &s.decision { (t!("adv-decision-by", decision = code(&dec.decision), by = dec.by.as_str(), at = date_time(dec.at)))
                        @if let Some(m) = &dec.measure { br; (m) } @if let Some(j) = &dec.justification { br; (j) } @if let Some(r) = &dec.reason { br; (r) } } }
                    td { (decision_form(view, s)) }
                }
            }
        }
    }
}

fn decision_form(view: &AdvisoryView, s: &System) -> Markup {
    html! {
        form method="post" action=(format!("/advisories/{}/decide", view.id)) {
            input type="hidden" name="csrf" value=(view.csrf);
            @if let Some(h) = s.host_id { input type="hidden" name="host_id" value=(h); }
            @if let Some(p) = s.product_id { input type="hidden" name="product_id" value=(p); }
            select name="decision" {
                @for o in DECISIONS { option value=(o) { (code(o)) } }
            }
            input name="measure" placeholder=(t!("adv-measure-placeholder"));
            select name="justification" { option value="" { (t!("adv-justification-placeholder")) } @for j in JUSTIFICATIONS { option value=(j) { (j) } } }
            input name="reason" placeholder=(t!("adv-reason-placeholder"));
            input name="expires_days" type="number" min="1" placeholder=(t!("adv-expires-placeholder"));
            button type="submit" { (t!("adv-record")) }
        }
    }
}

fn progress_section(p: &Value) -> Markup {
    html! {
        h2 { (t!("adv-progress")) }
        p #progress-counts { (t!("adv-progress-counts", affected = count(&p["counts"]["affected"]), resolved = count(&p["counts"]["resolved"]), open = count(&p["counts"]["open"]), overdue = count(&p["counts"]["overdue"]))) }
        (chart(p["series"].as_array().map(Vec::as_slice).unwrap_or(&[])))
        @if let Some(orgs) = p["orgs"].as_array() {
            table { tr { th { (t!("col-organisation")) } th { (t!("col-affected")) } th { (t!("adv-col-resolved")) } th { (t!("adv-col-overdue")) } }
                @for o in orgs { tr { td { (o["org"].as_str().unwrap_or_default()) } td { (o["counts"]["affected"]) } td { (o["counts"]["resolved"]) } td { (o["counts"]["overdue"]) } } } }
        }
        @if let Some(groups) = p["groups"].as_array().filter(|g| !g.is_empty()) {
            table { tr { th { (t!("adv-col-target-group")) } th { (t!("col-affected")) } th { (t!("adv-col-resolved")) } th { (t!("adv-col-overdue")) } }
                @for g in groups { tr { td { (g["group"].as_str().unwrap_or_default()) } td { (g["counts"]["affected"]) } td { (g["counts"]["resolved"]) } td { (g["counts"]["overdue"]) } } } }
        }
    }
}

fn desk_section(view: &AdvisoryView, desk: &Desk) -> Markup {
    let (id, latest) = (view.id, view.latest());
    html! {
        h2 { (t!("adv-recipients")) }
        p #recipients { @for r in &desk.recipients { (r.org) " (" (r.via) ") · " } @if desk.recipients.is_empty() { (t!("adv-none")) } }
        h2 { (t!("adv-deliveries")) }
        table #deliveries { tr { th { (t!("adv-col-channel")) } th { (t!("adv-col-to")) } th { (t!("adv-col-state")) } th { (t!("adv-col-attempts")) } th { (t!("adv-col-last-error")) } }
            @for d in &desk.deliveries { tr { td { (code(&d.channel)) } td { (d.target) } td class=(if d.state == "failed" { "bad" } else { "" }) { (code(&d.state)) } td { (d.attempts) } td { (d.last_error.as_deref().map(crate::jobs::delivery::reason_for_reader).unwrap_or_default()) } } } }
        @if !desk.calls.is_empty() { (call_list(view, &desk.calls)) }
        form method="post" action=(format!("/advisories/{id}/new-version")) {
            input type="hidden" name="csrf" value=(view.csrf);
            @if latest.published() { button type="submit" { (t!("adv-start-version", version = Version(latest.version_index + 1).to_string())) } }
        }
    }
}

fn call_list(view: &AdvisoryView, calls: &[CallEntry]) -> Markup {
    html! {
        h2 { (t!("adv-call-list")) }
        table #call-list { tr { th { (t!("col-organisation")) } th { (t!("adv-col-contact")) } th { (t!("adv-col-phone")) } th { (t!("adv-col-calls")) } th { (t!("adv-col-record-call")) } }
            @for c in calls {
                tr { td { (c.org) } td { (c.name) } td { (c.phone) } td { @for k in &c.calls { (t!("adv-call-by", result = code(&k.result), by = k.caller.as_str(), at = date_time(k.at))) @if !k.note.is_empty() { ": " (k.note) } br; } }
                    td { form method="post" action=(format!("/advisories/{}/calls", view.id)) {
                        input type="hidden" name="csrf" value=(view.csrf);
                        input type="hidden" name="entry" value=(c.id);
                        select name="result" { @for r in CALL_RESULTS { option value=(r) { (code(r)) } } }
                        input name="note" placeholder=(t!("adv-note-placeholder"));
                        button type="submit" { (t!("adv-record")) } } } }
            } }
    }
}

fn versions_section(view: &AdvisoryView) -> Markup {
    let latest = view.latest();
    html! {
        h2 { (t!("col-versions")) }
        table { tr { th { (t!("col-version")) } th { (t!("col-status")) } th { (t!("adv-col-published")) } th { (t!("adv-col-change")) } }
            @for (v, note) in view.all.iter().zip(&view.notes) {
                tr { td { (v.version) } td { (code(&v.status)) }
                     td { (v.published_at.map(date_time).unwrap_or_default()) } td { (note) } }
            } }
        @if latest.published() { p { a href=(format!("/api/v1/advisories/{}/csaf", view.id)) { (t!("adv-csaf-document")) } } }
    }
}

/// A count of the progress JSON, formatted for the reader.
fn count(value: &Value) -> String {
    i18n::number(value.as_i64().unwrap_or(0))
}

trait UrgencyText {
    fn urgency_text(&self) -> String;
}
impl UrgencyText for Rating {
    fn urgency_text(&self) -> String {
        match self.urgency {
            Urgency::Urgent => t!("urgency-urgent"),
            Urgency::Normal => t!("urgency-normal"),
        }
    }
}

type FormPairs = Vec<(String, String)>;

fn field<'a>(form: &'a FormPairs, name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

fn all_ids(form: &FormPairs, name: &str) -> Vec<i64> {
    form.iter().filter(|(k, _)| k == name).filter_map(|(_, v)| v.parse().ok()).collect()
}

/// A questionnaire answer from a form field: the serde name of the variant.
fn answer<T: serde::de::DeserializeOwned>(form: &FormPairs, name: &str) -> Result<T, ServerError> {
    serde_json::from_value(Value::String(field(form, &format!("q_{name}")).to_string()))
        .map_err(|_| ServerError::Invalid(t!("adv-answer-question", question = i18n::text(&format!("q-{name}"), None))))
}

/// (field, [(value, points)]) of the questionnaire form; the question is the message
/// `q-<field>`, each answer `q-<field>-<value>`.
type Question = (&'static str, &'static [(&'static str, u8)]);

const QUESTIONS: &[Question] = &[
    ("default_configuration", &[("yes", 3), ("unclear", 3), ("no", 1)]),
    ("exploit_code", &[("working_exploit", 6), ("proof_of_concept", 4), ("none", 1)]),
    ("details_public", &[("full", 3), ("some", 2), ("none", 1)]),
    ("access", &[("internet", 6), ("local_network", 4), ("physical", 1)]),
    ("credentials", &[("none", 4), ("user", 2), ("admin", 1)]),
    ("complexity", &[("easy", 3), ("average", 2), ("complex", 1)]),
    ("user_interaction", &[("none", 4), ("easy", 3), ("complex", 1)]),
    ("actively_exploited", &[("large_scale", 3), ("limited", 2), ("no", 1)]),
    ("exploitation_expected", &[("yes", 3), ("no", 1)]),
    ("solution", &[("less_than_two_months", 2), ("more_than_two_months", 1), ("none", 3)]),
    ("denial_of_service", &[("infrastructure", 2), ("client", 1), ("none", 0)]),
    ("code_execution", &[("root", 2), ("user", 1), ("none", 0)]),
    ("remote_access", &[("root_shell", 2), ("shell", 1), ("none", 0)]),
    ("privilege_escalation", &[("yes", 1), ("no", 0)]),
    ("information_leak", &[("data", 2), ("system_info", 1), ("none", 0)]),
];

pub(crate) async fn new_form(
    State(state): State<AppState>,
    PageCoordinator(session): PageCoordinator,
) -> Result<Response, ServerError> {
    let body = draft_form(&state, &session, None).await?;
    Ok(page(StatusCode::OK, layout(&t!("adv-new-title"), Some(&session), body)))
}

pub(crate) async fn edit_form(
    State(state): State<AppState>,
    PageCoordinator(session): PageCoordinator,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    let all = store::versions(&state.db, id).await?;
    let latest = all.last().ok_or_else(|| ServerError::NotFound(t!("adv-not-found", id = id)))?;
    if latest.published() {
        return Err(ServerError::Conflict(t!("adv-published-immutable", version = latest.version.as_str())));
    }
    let draft = Draft { content: latest.content()?, recipients: latest.recipients()? };
    let title = t!("adv-edit-title", identifier = latest.identifier.as_str(), version = latest.version.as_str());
    let body = draft_form(&state, &session, Some((id, &draft))).await?;
    Ok(page(StatusCode::OK, layout(&title, Some(&session), body)))
}

/// The advisory form, empty or filled with a draft (then it saves to `/advisories/ID/edit`).
async fn draft_form(
    state: &AppState,
    session: &Session,
    existing: Option<(i64, &Draft)>,
) -> Result<Markup, ServerError> {
    let orgs = store::org_names(&state.db).await?;
    let groups = groups::list(&state.db).await?;
    let named = match existing {
        Some((_, d)) => store::user_emails(&state.db, &d.recipients.users).await?,
        None => Vec::new(),
    };
    let action = match existing {
        Some((id, _)) => format!("/advisories/{id}/edit"),
        None => "/advisories/new".to_string(),
    };
    let form = FormView { csrf: &session.csrf, action, draft: existing.map(|(_, d)| d), orgs, groups, named };
    Ok(html! {
        form #advisory-form method="post" action=(form.action) {
            input type="hidden" name="csrf" value=(form.csrf);
            (content_fields(form.draft.map(|d| &d.content)))
            h2 { (t!("adv-rating-heading")) }
            (rating_fields(form.draft.map(|d| &d.content)))
            h2 { (t!("adv-recipients")) }
            (recipient_fields(&form))
            button type="submit" { (t!("adv-save-draft")) }
        }
    })
}

/// What the advisory form is filled with.
struct FormView<'a> {
    csrf: &'a str,
    action: String,
    draft: Option<&'a Draft>,
    orgs: Vec<store::OrgName>,
    groups: Vec<groups::Group>,
    named: Vec<String>,
}

fn content_fields(c: Option<&AdvisoryContent>) -> Markup {
    let products: String = c
        .map(|c| c.products.iter().map(|p| format!("{} | {} | {}\n", p.supplier, p.product, p.versions)).collect())
        .unwrap_or_default();
    let components: String =
        c.map(|c| c.components.iter().map(|k| format!("{} {}\n", k.purl, k.range)).collect()).unwrap_or_default();
    let original = c.map_or("", |c| c.original_lang());
    let t = c.and_then(|c| c.translation.as_ref());
    html! {
        p { label { (t!("adv-f-lang")) " " select name="lang" {
            @for l in i18n::Lang::ALL { option value=(l.code()) selected[original == l.code()] { (l.name()) } } } } }
        p { label { (t!("adv-f-title")) br; input name="title" size="80" required value=(c.map_or("", |c| c.title.as_str())); } }
        p { label { (t!("adv-summary")) br; textarea name="summary" rows="4" cols="80" required { (c.map_or("", |c| c.summary.as_str())) } } }
        p { label { (t!("adv-f-cves")) br; input name="cves" size="60" value=(c.map(|c| c.cves.join(", ")).unwrap_or_default()); } }
        p { label { (t!("adv-f-products")) br; textarea name="products" rows="3" cols="80" { (products) } } }
        p { label { (t!("adv-f-components")) br; textarea name="components" rows="2" cols="80" { (components) } } }
        p { label { (t!("adv-consequences")) br; textarea name="consequences" rows="2" cols="80" { (c.map_or("", |c| c.consequences.as_str())) } } }
        p { label { (t!("adv-solution")) br; textarea name="solution" rows="2" cols="80" { (c.map_or("", |c| c.solution.as_str())) } } }
        p { label { input type="checkbox" name="fix_available" value="1" checked[c.is_none_or(|c| c.fix_available)]; " " (t!("adv-f-fix-available")) } }
        p { label { (t!("adv-f-references")) br; textarea name="references" rows="2" cols="80" { (c.map(|c| c.references.join("\n")).unwrap_or_default()) } } }
        p { label { "TLP " select name="tlp" { @for t in Tlp::ALL { option value=(t.as_str()) selected[c.is_some_and(|c| c.tlp == t)] { "TLP:" (t.as_str()) " — " (tlp_meaning(t)) } } } } }
        @if c.is_some() { p { label { (t!("adv-f-revision-note")) br; input name="revision_note" size="80" value=(c.map_or("", |c| c.revision_note.as_str())); } } }
        fieldset #translation {
            legend { (t!("adv-f-translation")) }
            p { (t!("adv-f-translation-help")) }
            p { label { (t!("adv-f-title")) br; input name="tr_title" size="80" value=(t.map_or("", |t| t.title.as_str())); } }
            p { label { (t!("adv-summary")) br; textarea name="tr_summary" rows="4" cols="80" { (t.map_or("", |t| t.summary.as_str())) } } }
            p { label { (t!("adv-consequences")) br; textarea name="tr_consequences" rows="2" cols="80" { (t.map_or("", |t| t.consequences.as_str())) } } }
            p { label { (t!("adv-solution")) br; textarea name="tr_solution" rows="2" cols="80" { (t.map_or("", |t| t.solution.as_str())) } } }
        }
    }
}

/// The translation of the form: the other language than the original's, when its title or
/// summary is filled in (validation then asks for both).
fn translation_from_form(form: &FormPairs, original: &str) -> Option<quell_advisory::Translation> {
    let text = |name: &str| field(form, name).trim().to_string();
    if text("tr_title").is_empty() && text("tr_summary").is_empty() {
        return None;
    }
    let other = quell_advisory::LANGUAGES.iter().find(|l| **l != original).copied().unwrap_or("en");
    Some(quell_advisory::Translation {
        lang: other.to_string(),
        title: text("tr_title"),
        summary: text("tr_summary"),
        consequences: text("tr_consequences"),
        solution: text("tr_solution"),
    })
}

fn rating_fields(c: Option<&AdvisoryContent>) -> Markup {
    let answers = c.map(|c| serde_json::to_value(&c.rating).unwrap_or_default()).unwrap_or_default();
    let answer_of = |name: &str| -> String {
        answers["chance"][name].as_str().or_else(|| answers["damage"][name].as_str()).unwrap_or_default().to_string()
    };
    let over = |axis: &str| -> (String, String) {
        let o = &answers[format!("{axis}_override")];
        (o["level"].as_str().unwrap_or_default().to_string(), o["reason"].as_str().unwrap_or_default().to_string())
    };
    let (chance_level, chance_reason) = over("chance");
    let (damage_level, damage_reason) = over("damage");
    let levels = [Level::Low, Level::Medium, Level::High];
    html! {
        table { @for (name, options) in QUESTIONS { tr { td { (i18n::text(&format!("q-{name}"), None)) } td { select name=(format!("q_{name}")) {
            @for (v, points) in *options { option value=(v) selected[answer_of(name) == *v] { (i18n::text(&format!("q-{name}-{v}"), None)) " (" (points) ")" } } } } } } }
        p { (t!("adv-override-chance")) " " select name="chance_override" { option value="" { "—" } @for l in levels { option value=(l.as_str()) selected[chance_level == l.as_str()] { (level_name(l)) } } }
            " " (t!("adv-override-reason")) " " input name="chance_override_reason" size="40" value=(chance_reason); }
        p { (t!("adv-override-damage")) " " select name="damage_override" { option value="" { "—" } @for l in levels { option value=(l.as_str()) selected[damage_level == l.as_str()] { (level_name(l)) } } }
            " " (t!("adv-override-reason")) " " input name="damage_override_reason" size="40" value=(damage_reason); }
    }
}

fn recipient_fields(form: &FormView<'_>) -> Markup {
    let r: Option<&Recipients> = form.draft.map(|d| &d.recipients);
    html! {
        p { label { input type="checkbox" name="match_inventory" value="1" checked[r.is_none_or(|r| r.match_inventory)]; " " (t!("adv-f-match-inventory")) } }
        p { label { input type="checkbox" name="match_products" value="1" checked[r.is_none_or(|r| r.match_products)]; " " (t!("adv-f-match-products")) } }
        p { @for o in &form.orgs { label { input type="checkbox" name="org" value=(o.id) checked[r.is_some_and(|r| r.orgs.contains(&o.id))]; " " (o.name) } " " } }
        @if !form.groups.is_empty() { p { (t!("adv-f-target-groups")) " " @for g in &form.groups { label { input type="checkbox" name="group" value=(g.id) checked[r.is_some_and(|r| r.groups.contains(&g.id))]; " " (g.name) } " " } } }
        p { label { (t!("adv-f-named")) br; input name="named" size="80" value=(form.named.join(", ")); } }
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

fn draft_from_form(form: &FormPairs) -> Result<Draft, ServerError> {
    let rating = answers_from_form(form)?;
    let products = products_from_form(form)?;
    let lang = match field(form, "lang") {
        "" => "en",
        other => quell_advisory::LANGUAGES
            .iter()
            .find(|l| **l == other)
            .copied()
            .ok_or_else(|| ServerError::Invalid(t!("adv-choose-lang")))?,
    };
    let content = AdvisoryContent {
        title: field(form, "title").trim().to_string(),
        summary: field(form, "summary").trim().to_string(),
        cves: field(form, "cves")
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_uppercase)
            .collect(),
        products,
        components: lines(field(form, "components"))
            .map(|line| {
                if let Some(pack) = line.strip_prefix("pack:") {
                    return quell_advisory::AffectedComponent {
                        purl: String::new(),
                        range: String::new(),
                        pack: Some(pack.trim().to_string()),
                    };
                }
                let (purl, range) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                quell_advisory::AffectedComponent {
                    purl: purl.to_string(),
                    range: range.trim().to_string(),
                    pack: None,
                }
            })
            .collect(),
        consequences: field(form, "consequences").trim().to_string(),
        solution: field(form, "solution").trim().to_string(),
        fix_available: field(form, "fix_available") == "1",
        references: lines(field(form, "references")).map(str::to_string).collect(),
        rating,
        tlp: Tlp::parse(field(form, "tlp")).ok_or_else(|| ServerError::Invalid(t!("adv-choose-tlp")))?,
        revision_note: field(form, "revision_note").trim().to_string(),
        lang: Some(lang.to_string()),
        translation: translation_from_form(form, lang),
    };
    Ok(Draft {
        content,
        recipients: Recipients {
            orgs: all_ids(form, "org"),
            groups: all_ids(form, "group"),
            users: Vec::new(),
            match_inventory: field(form, "match_inventory") == "1",
            match_products: field(form, "match_products") == "1",
        },
    })
}

/// The questionnaire's answers and overrides of the form.
fn answers_from_form(form: &FormPairs) -> Result<Answers, ServerError> {
    let over = |level: &str, reason: &str| -> Result<Option<Override>, ServerError> {
        match field(form, level) {
            "" => Ok(None),
            l => Ok(Some(Override {
                level: Level::parse(l).ok_or_else(|| ServerError::Invalid(t!("adv-bad-override")))?,
                reason: field(form, reason).to_string(),
            })),
        }
    };
    Ok(Answers {
        chance: ChanceAnswers {
            default_configuration: answer(form, "default_configuration")?,
            exploit_code: answer(form, "exploit_code")?,
            details_public: answer(form, "details_public")?,
            access: answer(form, "access")?,
            credentials: answer(form, "credentials")?,
            complexity: answer(form, "complexity")?,
            user_interaction: answer(form, "user_interaction")?,
            actively_exploited: answer(form, "actively_exploited")?,
            exploitation_expected: answer(form, "exploitation_expected")?,
            solution: answer(form, "solution")?,
        },
        damage: Damage {
            denial_of_service: answer(form, "denial_of_service")?,
            code_execution: answer(form, "code_execution")?,
            remote_access: answer(form, "remote_access")?,
            privilege_escalation: answer(form, "privilege_escalation")?,
            information_leak: answer(form, "information_leak")?,
        },
        chance_override: over("chance_override", "chance_override_reason")?,
        damage_override: over("damage_override", "damage_override_reason")?,
    })
}

/// The affected products of the form: one a line, `supplier | product | versions`.
fn products_from_form(form: &FormPairs) -> Result<Vec<Product>, ServerError> {
    let mut products = Vec::new();
    for line in lines(field(form, "products")) {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [supplier, product, versions] = parts[..] else {
            return Err(ServerError::Invalid(t!("adv-bad-product-line", line = line)));
        };
        products.push(Product {
            supplier: supplier.into(),
            product: product.into(),
            versions: versions.into(),
            registry_entry_id: None,
        });
    }
    Ok(products)
}

/// The draft of a form, named individuals resolved from their e-mail addresses.
async fn draft_with_named(state: &AppState, form: &FormPairs) -> Result<Draft, ServerError> {
    let mut draft = draft_from_form(form)?;
    crate::advisories::expand_packs(&state.db, &mut draft).await?;
    for email in field(form, "named").split([',', ' ', '\n']).map(str::trim).filter(|e| !e.is_empty()) {
        let user = crate::auth::user_id(&state.db, email)
            .await
            .map_err(|_| ServerError::Invalid(t!("adv-no-account", email = email)))?;
        draft.recipients.users.push(user);
    }
    Ok(draft)
}

pub(crate) async fn save_edit(
    State(state): State<AppState>,
    _: PageCoordinator,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<FormPairs>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    let draft = draft_with_named(&state, &form).await?;
    store::update_latest_draft(&state.db, id, &draft).await?;
    Ok(to_advisory(id))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    _: PageCoordinator,
    CsrfForm { session, form }: CsrfForm<FormPairs>,
) -> Result<Response, ServerError> {
    let draft = draft_with_named(&state, &form).await?;
    let created = store::create(&state.db, &state.advisories.prefix, session.principal.user_id, &draft).await?;
    Ok(to_advisory(created.id))
}

pub(crate) async fn publish(
    State(state): State<AppState>,
    _: PageCoordinator,
    Path(id): Path<String>,
    CsrfForm { session, .. }: CsrfForm<FormPairs>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    let p = store::publish(&state.db, id, session.principal.user_id, state.advisories.smtp.is_some()).await?;
    Ok(to_advisory(p.id))
}

/// The decision of the decision form.
fn decision_of(form: &FormPairs) -> Result<(SystemRef, DecisionBody), ServerError> {
    let system = match (field(form, "host_id").parse::<i64>(), field(form, "product_id").parse::<i64>()) {
        (Ok(h), _) => SystemRef::Host(h),
        (_, Ok(p)) => SystemRef::Product(p),
        _ => return Err(ServerError::Invalid(t!("adv-no-system"))),
    };
    let opt = |name: &str| Some(field(form, name).to_string()).filter(|s| !s.trim().is_empty());
    let expires_at = match field(form, "expires_days") {
        "" => None,
        d => Some(now() + d.parse::<i64>().map_err(|_| ServerError::Invalid(t!("adv-expiry-days")))? * 86_400),
    };
    let body = DecisionBody {
        decision: field(form, "decision").to_string(),
        measure: opt("measure"),
        justification: opt("justification"),
        reason: opt("reason"),
        expires_at,
    };
    Ok((system, body))
}

pub(crate) async fn decide(
    State(state): State<AppState>,
    PageOrgUser { org_id, .. }: PageOrgUser,
    Path(id): Path<String>,
    CsrfForm { session, form }: CsrfForm<FormPairs>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    let ctx = context(&state, id, &viewer_of(Some(&session.principal))).await?;
    let (system, body) = decision_of(&form)?;
    systems::decide(&state.db, &ctx.scope(), org_id, session.principal.user_id, system, &body).await?;
    Ok(to_advisory(id))
}

/// What a coordinator sees besides the advisory: recipients, deliveries, the call list.
struct Desk {
    recipients: Vec<RecipientName>,
    deliveries: Vec<LogEntry>,
    calls: Vec<CallEntry>,
}

async fn coordinator_desk(state: &AppState, id: i64) -> Result<Desk, ServerError> {
    Ok(Desk {
        recipients: store::recipient_names(&state.db, id).await?,
        deliveries: deliveries::log(&state.db, id).await?,
        calls: store::call_list(&state.db, id).await?,
    })
}

pub(crate) async fn record_call(
    State(state): State<AppState>,
    _: PageCoordinator,
    Path(id): Path<String>,
    CsrfForm { session, form }: CsrfForm<FormPairs>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    let entry: i64 = field(&form, "entry").parse().map_err(|_| ServerError::Invalid(t!("adv-no-call-entry")))?;
    let (result, note) = (field(&form, "result"), field(&form, "note"));
    store::insert_call(&state.db, id, entry, session.principal.user_id, result, note).await?;
    Ok(to_advisory(id))
}

pub(crate) async fn new_version(
    State(state): State<AppState>,
    _: PageCoordinator,
    Path(id): Path<String>,
    CsrfForm { session, .. }: CsrfForm<FormPairs>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    let created = store::new_version(&state.db, id, session.principal.user_id, None).await?;
    Ok(to_advisory(created.id))
}

/// The imported advisory `id` if the viewer may see it (404 otherwise, as for a missing one).
async fn visible_import(state: &AppState, session: &Session, id: &str) -> Result<ExternalRow, ServerError> {
    let found = match id.parse::<i64>() {
        Ok(id) => crate::aggregator::visible_external(&state.db, &viewer(Some(session)), None)
            .await?
            .into_iter()
            .find(|e| e.id == id),
        Err(_) => None,
    };
    found.ok_or_else(|| ServerError::NotFound(t!("agg-import-not-found", id = id)))
}

/// `GET /advisories/external/{id}/forward`: forward an imported advisory to target groups as a
/// new own advisory (a draft) that references the original; the coordinator rates it.
pub(crate) async fn forward_form(
    State(state): State<AppState>,
    PageCoordinator(session): PageCoordinator,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let e = visible_import(&state, &session, &id).await?;
    let groups = groups::list(&state.db).await?;
    let body = html! {
        p { (t!("agg-forward-intro", publisher = e.publisher.as_str(), tracking = e.tracking_id.as_str(), version = e.version.as_str())) }
        p { @if let Some(tlp) = Tlp::parse(&e.tlp_label) { (tlp_badge(tlp)) " " } strong { (e.title) } }
        form #forward-form method="post" action=(format!("/advisories/external/{}/forward", e.id)) {
            input type="hidden" name="csrf" value=(session.csrf);
            h2 { (t!("adv-rating-heading")) }
            (rating_fields(None))
            h2 { (t!("adv-recipients")) }
            p { (t!("adv-f-target-groups")) " " @for g in &groups { label { input type="checkbox" name="group" value=(g.id); " " (g.name) } " " } }
            p { label { input type="checkbox" name="match_recipients" value="1"; " " (t!("agg-forward-match")) } }
            button type="submit" { (t!("agg-forward")) }
        }
    };
    Ok(page(StatusCode::OK, layout(&t!("agg-forward-title"), Some(&session), body)))
}

/// `POST /advisories/external/{id}/forward`: creates the draft and opens it.
pub(crate) async fn forward(
    State(state): State<AppState>,
    _: PageCoordinator,
    Path(id): Path<String>,
    CsrfForm { session, form }: CsrfForm<FormPairs>,
) -> Result<Response, ServerError> {
    let e = visible_import(&state, &session, &id).await?;
    let body = crate::aggregator::ForwardBody {
        groups: all_ids(&form, "group"),
        rating: answers_from_form(&form)?,
        tlp: None,
        match_recipients: field(&form, "match_recipients") == "1",
    };
    let created = crate::aggregator::forward(&state, &session.principal, e.id, body).await?;
    Ok(to_advisory(created.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The questionnaire's and the codes' messages exist in both languages (their ids are
    /// built at run time, so the source scan of `i18n` does not see them).
    #[test]
    fn questions_and_codes_are_translated() {
        for lang in i18n::Lang::ALL {
            let has = |id: &str| i18n::message(lang, id, None) != id;
            for (name, options) in QUESTIONS {
                assert!(has(&format!("q-{name}")), "{lang:?} q-{name}");
                for (value, _) in *options {
                    assert!(has(&format!("q-{name}-{value}")), "{lang:?} q-{name}-{value}");
                }
            }
            for value in DECISIONS.iter().chain(&CALL_RESULTS).chain(&["open", "resolved", "draft", "published"]) {
                assert!(has(&format!("code-{value}")), "{lang:?} code-{value}");
            }
        }
    }
}
