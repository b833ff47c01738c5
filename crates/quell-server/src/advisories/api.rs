//! The JSON routes of advisories, target groups, webhooks, contacts and call lists, and the
//! Atom feed.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use quell_advisory::atom;
use quell_advisory::{Version, Viewer};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use super::store::{self, Draft, VersionRow};
use super::systems::{self, Counts, DecisionBody, SystemRef};
use super::{FEED_ENTRIES, check_note, delivery, groups, is_coordinator, viewer_of};
use crate::auth::{self, Principal, Role, Scope};
use crate::time::format_rfc3339;
use crate::{AppState, ServerError, now};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/advisories.atom", get(feed))
        .route("/api/v1/advisories", get(list).post(create))
        .route("/api/v1/advisories/overdue", get(overdue))
        .route("/api/v1/advisories/{id}", get(show))
        .route("/api/v1/advisories/{id}/versions", post(new_version))
        .route("/api/v1/advisories/{id}/versions/{version}", get(show_version).put(edit))
        .route("/api/v1/advisories/{id}/publish", post(publish))
        .route("/api/v1/advisories/{id}/csaf", get(csaf))
        .route("/api/v1/advisories/{id}/recipients", get(recipients))
        .route("/api/v1/advisories/{id}/deliveries", get(deliveries))
        .route("/api/v1/advisories/{id}/call-list", get(call_list))
        .route("/api/v1/advisories/{id}/call-list/{entry}/calls", post(record_call))
        .route("/api/v1/advisories/{id}/systems", get(list_systems))
        .route("/api/v1/advisories/{id}/systems/{host}/decisions", get(decision_history).post(decide))
        .route(
            "/api/v1/advisories/{id}/products/{product}/decisions",
            get(product_decision_history).post(decide_product),
        )
        .route("/api/v1/advisories/{id}/progress", get(progress))
        .route("/api/v1/target-groups", get(list_groups).post(create_group))
        .route("/api/v1/target-groups/{id}", get(get_group).put(put_group))
        .route("/api/v1/webhook", get(get_webhook).put(put_webhook))
        .route("/api/v1/contacts", get(list_contacts).post(create_contact))
}

/// The caller of a route that also serves anonymous readers: a bearer token (an invalid one is
/// 401), else a browser session (read-only use), else nobody.
pub struct Caller(pub Option<Principal>, pub bool);

impl Caller {
    /// The principal for a change: a full-scope bearer token (a session cookie alone is not
    /// enough: the JSON API has no CSRF token).
    pub fn require(&self) -> Result<Principal, ServerError> {
        match &self.0 {
            Some(p) if !self.1 => {
                if p.scope != Scope::Full {
                    return Err(ServerError::Forbidden("this token may only upload reports".into()));
                }
                Ok(p.clone())
            }
            _ => Err(ServerError::Unauthorized("send Authorization: Bearer <token>".into())),
        }
    }
    /// The viewer for a read; upload-only tokens are refused (403).
    pub fn viewer(&self) -> Result<Viewer, ServerError> {
        if let Some(p) = &self.0
            && p.scope != Scope::Full
        {
            return Err(ServerError::Forbidden("this token may only upload reports".into()));
        }
        Ok(viewer_of(self.0.as_ref()))
    }
}

fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == "quell_session")
        .map(|(_, v)| v.to_string())
}

/// The user of a browser session cookie, if valid.
pub async fn session_principal(state: &AppState, secret: &str) -> Result<Option<Principal>, ServerError> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.role, u.org_id FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2",
    )
    .bind(auth::secret_hash(secret))
    .bind(now())
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get(2)?;
    Ok(Some(Principal {
        user_id: row.try_get(0)?,
        email: row.try_get(1)?,
        role: Role::parse(&role).ok_or_else(|| ServerError::Internal(format!("bad role {role:?}")))?,
        org_id: row.try_get(3)?,
        scope: Scope::Full,
        token_id: None,
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(Caller(Some(Principal::from_request_parts(parts, state).await?), false));
        }
        if let Some(secret) = session_cookie(parts) {
            return Ok(Caller(session_principal(state, &secret).await?, true));
        }
        Ok(Caller(None, false))
    }
}

/// A JSON request body; a bad one is a 400 with the usual JSON error (axum's own `Json`
/// rejection is plain text).
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ServerError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ServerError::Invalid(format!("cannot read the body: {e}")))?;
        serde_json::from_slice(&bytes).map(Body).map_err(|e| ServerError::Invalid(format!("bad JSON body: {e}")))
    }
}

fn coordinator(p: &Principal) -> Result<(), ServerError> {
    if p.role != Role::Coordinator {
        return Err(ServerError::Forbidden("coordinators only".into()));
    }
    Ok(())
}

fn org_user(p: &Principal) -> Result<i64, ServerError> {
    p.org_id.ok_or_else(|| ServerError::Forbidden("for organisation users (coordinators see counts)".into()))
}

/// An advisory id from the URL: a number or an identifier.
pub async fn advisory_id(state: &AppState, text: &str) -> Result<i64, ServerError> {
    match text.parse::<i64>() {
        Ok(id) => Ok(id),
        Err(_) => store::id_of(&state.db, text).await,
    }
}

fn summary(v: &VersionRow) -> serde_json::Value {
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

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let rows = store::list_visible(&state.db, &viewer, false).await?;
    Ok(Json(rows.iter().map(summary).collect::<Vec<_>>()).into_response())
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(draft): Body<Draft>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    let created = store::create(&state.db, &state.advisories.prefix, &p, &draft).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// The full view of one version.
pub fn detail(v: &VersionRow, all: &[VersionRow], viewer: &Viewer) -> Result<serde_json::Value, ServerError> {
    let mut out = summary(v);
    out["content"] = serde_json::to_value(v.content()?).map_err(|e| ServerError::Internal(e.to_string()))?;
    out["rating"] = serde_json::to_value(v.rating()?).map_err(|e| ServerError::Internal(e.to_string()))?;
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
        out["recipients"] = serde_json::to_value(v.recipients()?).map_err(|e| ServerError::Internal(e.to_string()))?;
    }
    Ok(out)
}

async fn show(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let id = advisory_id(&state, &id).await?;
    let all = store::visible_versions(&state.db, id, &viewer).await?;
    let latest = all.last().ok_or_else(|| ServerError::NotFound(format!("advisory {id}")))?;
    Ok(Json(detail(latest, &all, &viewer)?).into_response())
}

async fn show_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let id = advisory_id(&state, &id).await?;
    let index = Version::parse(&version).map_err(|e| ServerError::Invalid(e.0))?.0;
    let all = store::visible_versions(&state.db, id, &viewer).await?;
    let v = all
        .iter()
        .find(|v| v.version_index == index)
        .ok_or_else(|| ServerError::NotFound(format!("advisory {id} version {version}")))?;
    Ok(Json(detail(v, &all, &viewer)?).into_response())
}

async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, version)): Path<(String, String)>,
    Body(draft): Body<Draft>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    let id = advisory_id(&state, &id).await?;
    let index = Version::parse(&version).map_err(|e| ServerError::Invalid(e.0))?.0;
    store::update_draft(&state.db, id, index, &draft).await?;
    Ok(Json(json!({ "id": id, "version": Version(index).to_string(), "status": "draft" })).into_response())
}

async fn new_version(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    let id = advisory_id(&state, &id).await?;
    // No body or `null`: copy the newest published version.
    let draft: Option<Draft> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice(&body).map_err(|e| ServerError::Invalid(format!("bad draft: {e}")))?
    };
    let created = store::new_version(&state.db, id, &p, draft.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    let id = advisory_id(&state, &id).await?;
    let published = store::publish(&state.db, id, &p, state.advisories.smtp.is_some()).await?;
    Ok(Json(published).into_response())
}

async fn csaf(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let id = advisory_id(&state, &id).await?;
    let all = store::visible_versions(&state.db, id, &viewer).await?;
    let v = all
        .iter()
        .rev()
        .find(|v| v.published())
        .ok_or_else(|| ServerError::NotFound(format!("advisory {id} has no published version")))?;
    Ok(Json(super::csaf_dir::document(&state, v).await?).into_response())
}

async fn recipients(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    let id = advisory_id(&state, &id).await?;
    let rows = sqlx::query(
        "SELECT v.version, au.org_id, o.name, au.via FROM advisory_audience au \
         JOIN advisory_versions v ON v.id = au.version_id JOIN orgs o ON o.id = au.org_id \
         WHERE v.advisory_id = $1 ORDER BY v.version, o.name",
    )
    .bind(id)
    .fetch_all(&state.db.pool)
    .await?;
    let out = rows
        .iter()
        .map(|r| {
            Ok(json!({
                "version": Version(r.try_get(0)?).to_string(),
                "org_id": r.try_get::<i64, _>(1)?,
                "org": r.try_get::<String, _>(2)?,
                "via": r.try_get::<String, _>(3)?,
            }))
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
    Ok(Json(out).into_response())
}

async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    let id = advisory_id(&state, &id).await?;
    Ok(Json(delivery::log(&state.db, id).await?).into_response())
}

async fn call_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    let id = advisory_id(&state, &id).await?;
    let rows = sqlx::query(
        "SELECT cl.id, o.name, c.name, c.phone, c.email FROM call_list cl JOIN org_contacts c ON c.id = cl.contact_id \
         JOIN orgs o ON o.id = cl.org_id WHERE cl.advisory_id = $1 ORDER BY o.name, c.name",
    )
    .bind(id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let entry: i64 = r.try_get(0)?;
        let calls = sqlx::query(
            "SELECT u.email, k.at, k.result, k.note FROM calls k JOIN users u ON u.id = k.caller_id \
             WHERE k.call_id = $1 ORDER BY k.at, k.id",
        )
        .bind(entry)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|k| {
            Ok(json!({
                "caller": k.try_get::<String, _>(0)?,
                "at": k.try_get::<i64, _>(1)?,
                "result": k.try_get::<String, _>(2)?,
                "note": k.try_get::<String, _>(3)?,
            }))
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
        out.push(json!({
            "id": entry,
            "org": r.try_get::<String, _>(1)?,
            "name": r.try_get::<String, _>(2)?,
            "phone": r.try_get::<String, _>(3)?,
            "email": r.try_get::<String, _>(4)?,
            "calls": calls,
        }));
    }
    Ok(Json(out).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallBody {
    result: String,
    #[serde(default)]
    note: String,
}

/// The results a call may have.
pub const CALL_RESULTS: [&str; 5] = ["reached", "no_answer", "voicemail", "wrong_number", "call_back"];

/// Records a call on a call list entry of the advisory; returns its time.
pub async fn insert_call(
    state: &AppState,
    id: i64,
    entry: i64,
    caller: i64,
    result: &str,
    note: &str,
) -> Result<i64, ServerError> {
    if !CALL_RESULTS.contains(&result) {
        return Err(ServerError::Invalid(format!("result must be one of {}", CALL_RESULTS.join(", "))));
    }
    check_note("note", note, false)?;
    let exists = sqlx::query("SELECT id FROM call_list WHERE id = $1 AND advisory_id = $2")
        .bind(entry)
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    if exists.is_none() {
        return Err(ServerError::NotFound(format!("call list entry {entry}")));
    }
    let at = now();
    sqlx::query("INSERT INTO calls (call_id, caller_id, at, result, note) VALUES ($1, $2, $3, $4, $5)")
        .bind(entry)
        .bind(caller)
        .bind(at)
        .bind(result)
        .bind(note.trim())
        .execute(&state.db.pool)
        .await?;
    Ok(at)
}

async fn record_call(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, entry)): Path<(String, i64)>,
    Body(body): Body<CallBody>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    let id = advisory_id(&state, &id).await?;
    let at = insert_call(&state, id, entry, p.user_id, &body.result, &body.note).await?;
    Ok((StatusCode::CREATED, Json(json!({ "caller": p.email, "at": at, "result": body.result }))).into_response())
}

/// What systems, deadlines and progress are computed from: the newest published version the
/// viewer may see.
pub struct Context {
    pub id: i64,
    pub version: VersionRow,
    pub cves: Vec<String>,
    pub products: Vec<quell_advisory::Product>,
    pub fix_available: bool,
    pub published: i64,
    pub deadline: i64,
}

pub async fn context(state: &AppState, id: i64, viewer: &Viewer) -> Result<Context, ServerError> {
    let all = store::visible_versions(&state.db, id, viewer).await?;
    let version = all
        .into_iter()
        .rev()
        .find(VersionRow::published)
        .ok_or_else(|| ServerError::NotFound(format!("advisory {id} has no published version")))?;
    let content = version.content()?;
    let published = store::first_published(&state.db, id).await?.unwrap_or_else(now);
    let deadline = published + state.advisories.deadlines.days(&version.severity) * 86_400;
    Ok(Context {
        id,
        version,
        cves: content.cves,
        products: content.products,
        fix_available: content.fix_available,
        published,
        deadline,
    })
}

impl Context {
    pub fn scope(&self) -> systems::Scope<'_> {
        systems::Scope { advisory_id: self.id, cves: &self.cves, products: &self.products, published: self.published }
    }
}

async fn list_systems(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let p = caller.0.as_ref().ok_or_else(|| ServerError::Unauthorized("log in".into()))?;
    let org = org_user(p)?;
    let id = advisory_id(&state, &id).await?;
    let ctx = context(&state, id, &viewer).await?;
    let t = systems::timelines(&state.db, &ctx.scope(), Some(org)).await?;
    let at = now();
    Ok(Json(json!({
        "advisory": ctx.version.identifier,
        "deadline": ctx.deadline,
        "fix_available": ctx.fix_available,
        "systems": systems::systems(&t, ctx.deadline, ctx.fix_available, at),
    }))
    .into_response())
}

async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, host)): Path<(String, i64)>,
    Body(body): Body<DecisionBody>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    let org = org_user(&p)?;
    let id = advisory_id(&state, &id).await?;
    let ctx = context(&state, id, &viewer_of(Some(&p))).await?;
    let d = systems::decide(&state.db, &ctx.scope(), org, p.user_id, SystemRef::Host(host), &body).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

async fn decide_product(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, product)): Path<(String, i64)>,
    Body(body): Body<DecisionBody>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    let org = org_user(&p)?;
    let id = advisory_id(&state, &id).await?;
    let ctx = context(&state, id, &viewer_of(Some(&p))).await?;
    let d = systems::decide(&state.db, &ctx.scope(), org, p.user_id, SystemRef::Product(product), &body).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

async fn product_decision_history(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, product)): Path<(String, i64)>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let p = caller.0.as_ref().ok_or_else(|| ServerError::Unauthorized("log in".into()))?;
    let org = org_user(p)?;
    let id = advisory_id(&state, &id).await?;
    context(&state, id, &viewer).await?;
    Ok(Json(systems::history(&state.db, id, org, SystemRef::Product(product)).await?).into_response())
}

async fn decision_history(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, host)): Path<(String, i64)>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let p = caller.0.as_ref().ok_or_else(|| ServerError::Unauthorized("log in".into()))?;
    let org = org_user(p)?;
    let id = advisory_id(&state, &id).await?;
    context(&state, id, &viewer).await?;
    Ok(Json(systems::history(&state.db, id, org, SystemRef::Host(host)).await?).into_response())
}

/// Progress of one advisory: for an organisation user their own systems; for a coordinator
/// counts in total, per organisation and per target group.
pub async fn progress_json(state: &AppState, id: i64, viewer: &Viewer) -> Result<serde_json::Value, ServerError> {
    let ctx = context(state, id, viewer).await?;
    let at = now();
    match viewer {
        Viewer::User { org_id: Some(org), .. } => {
            let t = systems::timelines(&state.db, &ctx.scope(), Some(*org)).await?;
            let refs: Vec<&systems::Timeline> = t.iter().collect();
            Ok(json!({
                "advisory": ctx.version.identifier,
                "deadline": ctx.deadline,
                "counts": systems::counts(t.iter(), ctx.deadline, at),
                "series": systems::series(&refs, ctx.published, at),
            }))
        }
        Viewer::User { coordinator: true, .. } => {
            let t = systems::timelines(&state.db, &ctx.scope(), None).await?;
            let refs: Vec<&systems::Timeline> = t.iter().collect();
            let names: std::collections::BTreeMap<i64, String> = sqlx::query("SELECT id, name FROM orgs")
                .fetch_all(&state.db.pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, ServerError>>()?;
            let mut orgs: Vec<i64> = t.iter().map(|x| x.org_id).collect();
            orgs.dedup();
            let per_org: Vec<_> = orgs
                .iter()
                .map(|o| {
                    json!({
                        "org_id": o,
                        "org": names.get(o),
                        "counts": systems::counts(t.iter().filter(|x| x.org_id == *o), ctx.deadline, at),
                    })
                })
                .collect();
            let mut per_group = Vec::new();
            for g in groups::list(&state.db).await? {
                let c: Counts = systems::counts(t.iter().filter(|x| g.members.contains(&x.org_id)), ctx.deadline, at);
                per_group.push(json!({ "group_id": g.id, "group": g.name, "counts": c }));
            }
            Ok(json!({
                "advisory": ctx.version.identifier,
                "deadline": ctx.deadline,
                "counts": systems::counts(t.iter(), ctx.deadline, at),
                "series": systems::series(&refs, ctx.published, at),
                "orgs": per_org,
                "groups": per_group,
            }))
        }
        _ => Err(ServerError::Unauthorized("log in to see progress".into())),
    }
}

async fn progress(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let id = advisory_id(&state, &id).await?;
    Ok(Json(progress_json(&state, id, &viewer).await?).into_response())
}

/// Overdue systems: an organisation's own list, or counts per organisation for coordinators.
pub async fn overdue_json(state: &AppState, viewer: &Viewer) -> Result<serde_json::Value, ServerError> {
    let at = now();
    let mut out = Vec::new();
    for v in store::list_visible(&state.db, viewer, true).await? {
        let ctx = context(state, v.advisory_id, viewer).await?;
        if at <= ctx.deadline {
            continue;
        }
        match viewer {
            Viewer::User { org_id: Some(org), .. } => {
                let t = systems::timelines(&state.db, &ctx.scope(), Some(*org)).await?;
                for s in systems::systems(&t, ctx.deadline, ctx.fix_available, at).into_iter().filter(|s| s.overdue) {
                    out.push(json!({
                        "advisory_id": v.advisory_id,
                        "identifier": v.identifier,
                        "title": v.title,
                        "tag": v.tag(),
                        "deadline": ctx.deadline,
                        "kind": s.kind,
                        "host_id": s.host_id,
                        "product_id": s.product_id,
                        "host": s.host,
                        "name": s.name,
                        "suggest_switch_off": s.suggest_switch_off,
                    }));
                }
            }
            _ => {
                let t = systems::timelines(&state.db, &ctx.scope(), None).await?;
                let mut orgs: Vec<i64> = t.iter().map(|x| x.org_id).collect();
                orgs.dedup();
                let per_org: Vec<_> = orgs
                    .iter()
                    .map(|o| (o, systems::counts(t.iter().filter(|x| x.org_id == *o), ctx.deadline, at)))
                    .filter(|(_, c)| c.overdue > 0)
                    .map(|(o, c)| json!({ "org_id": o, "overdue": c.overdue, "open": c.open }))
                    .collect();
                let total = systems::counts(t.iter(), ctx.deadline, at);
                if total.overdue > 0 {
                    out.push(json!({
                        "advisory_id": v.advisory_id,
                        "identifier": v.identifier,
                        "title": v.title,
                        "tag": v.tag(),
                        "deadline": ctx.deadline,
                        "overdue": total.overdue,
                        "orgs": per_org,
                    }));
                }
            }
        }
    }
    Ok(serde_json::Value::Array(out))
}

async fn overdue(State(state): State<AppState>, caller: Caller) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    if viewer == Viewer::Anonymous {
        return Err(ServerError::Unauthorized("log in".into()));
    }
    Ok(Json(overdue_json(&state, &viewer).await?).into_response())
}

async fn list_groups(State(state): State<AppState>, caller: Caller) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    Ok(Json(groups::list(&state.db).await?).into_response())
}

async fn create_group(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<groups::GroupBody>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    Ok((StatusCode::CREATED, Json(groups::save(&state.db, None, &body).await?)).into_response())
}

async fn get_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    Ok(Json(groups::get(&state.db, id).await?).into_response())
}

async fn put_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(body): Body<groups::GroupBody>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    coordinator(&p)?;
    Ok(Json(groups::save(&state.db, Some(id), &body).await?).into_response())
}

fn org_admin(p: &Principal) -> Result<i64, ServerError> {
    let org = org_user(p)?;
    if p.role != Role::Admin {
        return Err(ServerError::Forbidden("organisation admins only".into()));
    }
    Ok(org)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    url: String,
}

async fn get_webhook(State(state): State<AppState>, caller: Caller) -> Result<Response, ServerError> {
    let p = caller.require()?;
    let org = org_admin(&p)?;
    let row = sqlx::query("SELECT url, updated_at FROM org_webhooks WHERE org_id = $1")
        .bind(org)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(match row {
        Some(r) => Json(json!({ "url": r.try_get::<String, _>(0)?, "updated_at": r.try_get::<i64, _>(1)? })),
        None => Json(json!({ "url": null })),
    }
    .into_response())
}

/// Sets the organisation's webhook URL and returns a fresh signing secret (shown once).
async fn put_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<WebhookBody>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    let org = org_admin(&p)?;
    let url = body.url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > super::MAX_NOTE_BYTES
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ServerError::Invalid("the webhook URL must be an http(s) URL".into()));
    }
    let secret = auth::new_secret("whsec_")?;
    sqlx::query(
        "INSERT INTO org_webhooks (org_id, url, secret, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id) DO UPDATE SET url = $2, secret = $3, updated_at = $4",
    )
    .bind(org)
    .bind(url)
    .bind(&secret)
    .bind(now())
    .execute(&state.db.pool)
    .await?;
    Ok(Json(json!({ "url": url, "secret": secret })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactBody {
    name: String,
    phone: String,
    #[serde(default)]
    email: String,
}

async fn list_contacts(State(state): State<AppState>, caller: Caller) -> Result<Response, ServerError> {
    let p = caller.require()?;
    let org = org_user(&p)?;
    let rows = sqlx::query("SELECT id, name, phone, email FROM org_contacts WHERE org_id = $1 ORDER BY name, id")
        .bind(org)
        .fetch_all(&state.db.pool)
        .await?;
    let out = rows
        .iter()
        .map(|r| {
            Ok(json!({
                "id": r.try_get::<i64, _>(0)?,
                "name": r.try_get::<String, _>(1)?,
                "phone": r.try_get::<String, _>(2)?,
                "email": r.try_get::<String, _>(3)?,
            }))
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
    Ok(Json(out).into_response())
}

async fn create_contact(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<ContactBody>,
) -> Result<Response, ServerError> {
    let p = caller.require()?;
    let org = org_admin(&p)?;
    check_note("name", &body.name, true)?;
    check_note("phone", &body.phone, true)?;
    check_note("email", &body.email, false)?;
    if body.name.contains('\n') || body.phone.contains('\n') || body.email.contains('\n') {
        return Err(ServerError::Invalid("contact fields are one line each".into()));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO org_contacts (org_id, name, phone, email, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(org)
    .bind(body.name.trim())
    .bind(body.phone.trim())
    .bind(body.email.trim())
    .bind(now())
    .fetch_one(&state.db.pool)
    .await?
    .try_get(0)?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// The Atom feed: public (TLP:CLEAR) advisories only, asked as an anonymous viewer.
async fn feed(State(state): State<AppState>) -> Result<Response, ServerError> {
    let base = state.advisories.public_url.trim_end_matches('/').to_string();
    let rows = store::list_visible(&state.db, &Viewer::Anonymous, true).await?;
    let mut entries = Vec::new();
    for v in rows.iter().take(FEED_ENTRIES as usize) {
        let content = v.content()?;
        entries.push(atom::Entry {
            id: format!("{base}/advisories/{}", v.advisory_id),
            title: format!("{} {} v{}: {}", v.tag(), v.identifier, v.version, v.title),
            updated: format_rfc3339(v.published_at.unwrap_or(v.updated_at)),
            summary: content.summary,
            link: format!("{base}/advisories/{}", v.advisory_id),
        });
    }
    let updated = entries.first().map_or_else(|| format_rfc3339(now()), |e| e.updated.clone());
    let xml = atom::render(&atom::Feed {
        id: format!("{base}/advisories.atom"),
        title: format!("{} advisories", state.advisories.publisher_name),
        self_link: format!("{base}/advisories.atom"),
        updated,
        author: state.advisories.publisher_name.clone(),
        entries,
    });
    Ok(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response())
}
