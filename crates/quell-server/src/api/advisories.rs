//! The JSON routes of advisories, target groups, webhooks, contacts and call lists, and the
//! Atom feed. Reads of advisories serve anonymous readers too ([`Caller`]: what they may see is
//! decided by the access rule); every change needs a full-scope bearer token of the right role.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quell_advisory::progress::SystemRef;
use quell_advisory::{Version, Viewer, atom, is_coordinator};
use quell_store::advisories::store::{self, Draft, VersionRow};
use quell_store::advisories::systems::{self, DecisionBody};
use quell_store::advisories::{deliveries, groups, orgs};
use quell_store::{Missing, Thing};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::advisories::{FEED_ENTRIES, advisory_id, base, context, csaf_document, overdue_json, progress_json};
use crate::audit::{self, Channel};
use crate::extract::{ApiCoordinator, ApiOrgAdmin, ApiOrgUser, Caller, JsonBody, OrgReader, viewer_of};
use crate::time::format_rfc3339;
use crate::{AppState, ServerError, now};

fn internal(e: serde_json::Error) -> ServerError {
    ServerError::Internal(e.to_string())
}

fn summary(v: &VersionRow) -> Value {
    json!({
        "id": v.advisory_id,
        "identifier": v.identifier,
        "version": v.version,
        "status": v.status,
        "tlp": v.tlp.as_str(),
        "title": v.title,
        "chance": v.chance,
        "damage": v.damage,
        "label": v.label(),
        "tag": v.tag(),
        "severity": v.severity,
        "published_at": v.published_at,
        "updated_at": v.updated_at,
    })
}

/// The full view of one version.
fn detail(v: &VersionRow, all: &[VersionRow], viewer: &Viewer) -> Result<Value, ServerError> {
    let mut out = summary(v);
    out["content"] = serde_json::to_value(v.content()?).map_err(internal)?;
    out["rating"] = serde_json::to_value(v.rating()?).map_err(internal)?;
    out["versions"] = all
        .iter()
        .map(|x| {
            Ok(json!({
                "version": x.version,
                "status": x.status,
                "published_at": x.published_at,
                "revision_note": x.content()?.revision_note,
            }))
        })
        .collect::<Result<Vec<_>, ServerError>>()?
        .into();
    if is_coordinator(viewer) {
        out["recipients"] = serde_json::to_value(v.recipients()?).map_err(internal)?;
    }
    Ok(out)
}

fn version_index(version: &str) -> Result<i64, ServerError> {
    Ok(Version::parse(version).map_err(|e| ServerError::Invalid(crate::refusals::invalid(&e)))?.0)
}

pub(crate) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ServerError> {
    let rows = store::list_visible(&state.db, &caller.viewer()?, false).await?;
    Ok(Json(rows.iter().map(summary).collect::<Vec<_>>()).into_response())
}

pub(crate) async fn create(
    State(state): State<AppState>,
    ApiCoordinator(p): ApiCoordinator,
    JsonBody(mut draft): JsonBody<Draft>,
) -> Result<Response, ServerError> {
    crate::advisories::expand_packs(&state.db, &mut draft).await?;
    let created = store::create(&state.db, &state.advisories.prefix, p.user_id, &draft).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let id = advisory_id(&state, &id).await?;
    let all = store::visible_versions(&state.db, id, &viewer).await?;
    let latest = all.last().ok_or_else(|| ServerError::missing(&Missing::thing(Thing::Advisory, id)))?;
    let body = detail(latest, &all, &viewer)?;
    audit::advisory_read(&state, caller.principal.as_ref(), latest, Channel::Api).await?;
    Ok(Json(body).into_response())
}

pub(crate) async fn show_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let id = advisory_id(&state, &id).await?;
    let index = version_index(&version)?;
    let all = store::visible_versions(&state.db, id, &viewer).await?;
    let v = all
        .iter()
        .find(|v| v.version_index == index)
        .ok_or_else(|| ServerError::missing(&Missing::AdvisoryVersion { advisory: id, version: version.clone() }))?;
    let body = detail(v, &all, &viewer)?;
    audit::advisory_read(&state, caller.principal.as_ref(), v, Channel::Api).await?;
    Ok(Json(body).into_response())
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path((id, version)): Path<(String, String)>,
    JsonBody(mut draft): JsonBody<Draft>,
) -> Result<Response, ServerError> {
    crate::advisories::expand_packs(&state.db, &mut draft).await?;
    let id = advisory_id(&state, &id).await?;
    let index = version_index(&version)?;
    store::update_draft(&state.db, id, index, &draft).await?;
    Ok(Json(json!({ "id": id, "version": Version(index).to_string(), "status": "draft" })).into_response())
}

pub(crate) async fn new_version(
    State(state): State<AppState>,
    ApiCoordinator(p): ApiCoordinator,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    // No body or `null`: copy the newest published version.
    let draft: Option<Draft> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice(&body).map_err(|e| ServerError::Invalid(format!("bad draft: {e}")))?
    };
    let created = store::new_version(&state.db, id, p.user_id, draft.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub(crate) async fn publish(
    State(state): State<AppState>,
    ApiCoordinator(p): ApiCoordinator,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    let published = store::publish(&state.db, id, p.user_id, state.advisories.smtp.is_some()).await?;
    Ok(Json(published).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsafQuery {
    /// `nl` or `en`: the document of the advisory's translation in that language, if it has one.
    lang: Option<String>,
}

/// `GET /api/v1/advisories/{id}/csaf[?lang=nl|en]`.
pub(crate) async fn csaf(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<CsafQuery>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let id = advisory_id(&state, &id).await?;
    let all = store::visible_versions(&state.db, id, &viewer).await?;
    let v = all
        .iter()
        .rev()
        .find(|v| v.published())
        .ok_or_else(|| ServerError::NotFound(t!("not-found-no-published-version", id = id.to_string())))?;
    let document = csaf_document(&state, v, query.lang.as_deref()).await?;
    audit::advisory_read(&state, caller.principal.as_ref(), v, Channel::Csaf).await?;
    Ok(Json(document).into_response())
}

pub(crate) async fn recipients(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    let out: Vec<Value> = store::recipients(&state.db, id)
        .await?
        .into_iter()
        .map(|r| {
            json!({
                "version": Version(r.version_index).to_string(),
                "org_id": r.org_id,
                "org": r.org,
                "via": r.via,
            })
        })
        .collect();
    Ok(Json(out).into_response())
}

pub(crate) async fn deliveries(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    Ok(Json(deliveries::log(&state.db, id).await?).into_response())
}

pub(crate) async fn call_list(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    Ok(Json(store::call_list(&state.db, id).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallBody {
    result: String,
    #[serde(default)]
    note: String,
}

pub(crate) async fn record_call(
    State(state): State<AppState>,
    ApiCoordinator(p): ApiCoordinator,
    Path((id, entry)): Path<(String, i64)>,
    JsonBody(body): JsonBody<CallBody>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    let at = store::insert_call(&state.db, id, entry, p.user_id, &body.result, &body.note).await?;
    Ok((StatusCode::CREATED, Json(json!({ "caller": p.email, "at": at, "result": body.result }))).into_response())
}

pub(crate) async fn list_systems(
    State(state): State<AppState>,
    reader: OrgReader,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let id = advisory_id(&state, &id).await?;
    let ctx = context(&state, id, &viewer_of(Some(&reader.principal))).await?;
    let t = systems::timelines(&state.db, &ctx.scope(), Some(reader.org_id)).await?;
    Ok(Json(json!({
        "advisory": ctx.version.identifier,
        "deadline": ctx.deadline,
        "fix_available": ctx.fix_available,
        "systems": quell_advisory::progress::systems(&t, ctx.deadline, ctx.fix_available, now()),
    }))
    .into_response())
}

/// Records a decision on a system of the caller's organisation.
async fn record_decision(
    state: &AppState,
    user: &ApiOrgUser,
    id: &str,
    system: SystemRef,
    body: &DecisionBody,
) -> Result<Response, ServerError> {
    let id = advisory_id(state, id).await?;
    let ctx = context(state, id, &viewer_of(Some(&user.principal))).await?;
    let d = systems::decide(&state.db, &ctx.scope(), user.org_id, user.principal.user_id, system, body).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

pub(crate) async fn decide(
    State(state): State<AppState>,
    user: ApiOrgUser,
    Path((id, host)): Path<(String, i64)>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Response, ServerError> {
    record_decision(&state, &user, &id, SystemRef::Host(host), &body).await
}

pub(crate) async fn decide_product(
    State(state): State<AppState>,
    user: ApiOrgUser,
    Path((id, product)): Path<(String, i64)>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Response, ServerError> {
    record_decision(&state, &user, &id, SystemRef::Product(product), &body).await
}

/// The decisions on a system of the reader's organisation.
async fn history(state: &AppState, reader: &OrgReader, id: &str, system: SystemRef) -> Result<Response, ServerError> {
    let id = advisory_id(state, id).await?;
    context(state, id, &viewer_of(Some(&reader.principal))).await?;
    Ok(Json(systems::history(&state.db, id, reader.org_id, system).await?).into_response())
}

pub(crate) async fn decision_history(
    State(state): State<AppState>,
    reader: OrgReader,
    Path((id, host)): Path<(String, i64)>,
) -> Result<Response, ServerError> {
    history(&state, &reader, &id, SystemRef::Host(host)).await
}

pub(crate) async fn product_decision_history(
    State(state): State<AppState>,
    reader: OrgReader,
    Path((id, product)): Path<(String, i64)>,
) -> Result<Response, ServerError> {
    history(&state, &reader, &id, SystemRef::Product(product)).await
}

pub(crate) async fn progress(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let id = advisory_id(&state, &id).await?;
    Ok(Json(progress_json(&state, id, &viewer).await?).into_response())
}

pub(crate) async fn overdue(State(state): State<AppState>, caller: Caller) -> Result<Response, ServerError> {
    Ok(Json(overdue_json(&state, &caller.viewer()?).await?).into_response())
}

pub(crate) async fn list_groups(State(state): State<AppState>, _: ApiCoordinator) -> Result<Response, ServerError> {
    Ok(Json(groups::list(&state.db).await?).into_response())
}

pub(crate) async fn create_group(
    State(state): State<AppState>,
    _: ApiCoordinator,
    JsonBody(body): JsonBody<groups::GroupBody>,
) -> Result<Response, ServerError> {
    Ok((StatusCode::CREATED, Json(groups::save(&state.db, None, &body).await?)).into_response())
}

pub(crate) async fn get_group(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    Ok(Json(groups::get(&state.db, id).await?).into_response())
}

pub(crate) async fn put_group(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<groups::GroupBody>,
) -> Result<Response, ServerError> {
    Ok(Json(groups::save(&state.db, Some(id), &body).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookBody {
    url: String,
}

pub(crate) async fn get_webhook(State(state): State<AppState>, admin: ApiOrgAdmin) -> Result<Response, ServerError> {
    Ok(match orgs::webhook(&state.db, admin.org_id).await? {
        Some(w) => Json(json!({ "url": w.url, "updated_at": w.updated_at })),
        None => Json(json!({ "url": null })),
    }
    .into_response())
}

/// Sets the organisation's webhook URL and returns a fresh signing secret (shown once).
pub(crate) async fn put_webhook(
    State(state): State<AppState>,
    admin: ApiOrgAdmin,
    JsonBody(body): JsonBody<WebhookBody>,
) -> Result<Response, ServerError> {
    crate::jobs::webhook_target::check_url(body.url.trim(), state.advisories.allow_private_webhooks)
        .map_err(ServerError::Invalid)?;
    let (url, secret) = orgs::set_webhook(&state.db, admin.org_id, &body.url).await?;
    Ok(Json(json!({ "url": url, "secret": secret })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContactBody {
    name: String,
    phone: String,
    #[serde(default)]
    email: String,
}

pub(crate) async fn list_contacts(State(state): State<AppState>, user: ApiOrgUser) -> Result<Response, ServerError> {
    Ok(Json(orgs::contacts(&state.db, user.org_id).await?).into_response())
}

pub(crate) async fn create_contact(
    State(state): State<AppState>,
    admin: ApiOrgAdmin,
    JsonBody(body): JsonBody<ContactBody>,
) -> Result<Response, ServerError> {
    let id = orgs::create_contact(&state.db, admin.org_id, &body.name, &body.phone, &body.email).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// The Atom feed: public (TLP:CLEAR) advisories only, asked as an anonymous viewer.
pub(crate) async fn feed(State(state): State<AppState>) -> Result<Response, ServerError> {
    let base = base(&state.advisories);
    let rows = store::list_visible(&state.db, &Viewer::Anonymous, true).await?;
    let mut entries = Vec::new();
    // Each advisory's texts in the reader's language when it has them (else its original's).
    let lang = crate::i18n::current().code();
    for v in rows.iter().take(FEED_ENTRIES as usize) {
        let content = v.content()?.in_language(lang);
        entries.push(atom::Entry {
            id: format!("{base}/advisories/{}", v.advisory_id),
            title: format!("{} {} v{}: {}", v.tag(), v.identifier, v.version, content.title),
            updated: format_rfc3339(v.published_at.unwrap_or(v.updated_at)),
            summary: content.summary,
            link: format!("{base}/advisories/{}", v.advisory_id),
        });
    }
    let updated = entries.first().map_or_else(|| format_rfc3339(now()), |e| e.updated.clone());
    let xml = atom::render(&atom::Feed {
        id: format!("{base}/advisories.atom"),
        title: t!("feed-title", publisher = state.advisories.publisher_name.as_str()),
        self_link: format!("{base}/advisories.atom"),
        updated,
        author: state.advisories.publisher_name.clone(),
        lang: crate::i18n::current().code().to_string(),
        entries,
    });
    Ok(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response())
}
