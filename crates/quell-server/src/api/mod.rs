//! The HTTP routes: JSON API under `/api/v1`, `/healthz`, `/metrics`.
//!
//! Invariants:
//! - Every handler of organisation data takes the organisation from its extractor
//!   ([`ApiOrgUser`]), never from the URL or body; ids from the URL are looked up with it.
//! - A token of scope `upload` is refused (403) everywhere but `POST /api/v1/reports`.
//! - Errors are JSON: `{"error": "<code>", "message": "...", "line": N}` (`line` for a bad record).

pub mod indicators;
pub mod registry;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, Principal, Role, Scope};
use crate::extract::{ApiCoordinator, ApiOrgUser, ApiUser, JsonBody};
use crate::inventory::{self, SearchQuery, page_limit};
use crate::metrics::Metrics;
use crate::{AppState, ServerError, ingest};

/// Refuses upload-only tokens. (For the modules not yet on the extractors of [`crate::extract`].)
pub fn full(principal: &Principal) -> Result<(), ServerError> {
    if principal.scope != Scope::Full {
        return Err(ServerError::Forbidden("this token may only upload reports".into()));
    }
    Ok(())
}

/// The caller's organisation. (For the modules not yet on the extractors of [`crate::extract`].)
pub fn org_of(principal: &Principal) -> Result<i64, ServerError> {
    full(principal)?;
    principal.org_id.ok_or_else(|| {
        ServerError::Forbidden("coordinators see counts per organisation (/api/v1/orgs), not their hosts".into())
    })
}

pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(_) => (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "database unreachable" }))).into_response()
        }
    }
}

pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::DOCUMENT).into_response()
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct UploadQuery {
    host: Option<String>,
}

pub(crate) async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let result = upload_inner(&state, &principal, query, &headers, body).await;
    if let Err(e) = &result
        && !matches!(e, ServerError::Db(_) | ServerError::Internal(_) | ServerError::Io(_))
    {
        Metrics::add(&state.metrics.reports_rejected, 1);
    }
    result
}

pub(crate) async fn upload_inner(
    state: &AppState,
    principal: &Principal,
    query: UploadQuery,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let org = principal.org_id.ok_or_else(|| {
        ServerError::Forbidden("a coordinator belongs to no organisation: upload with an organisation's token".into())
    })?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServerError::TooLarge(format!("the report is larger than {} bytes", state.limits.max_report_bytes))
        } else {
            ServerError::Invalid(format!("cannot read the body: {e}"))
        }
    })?;
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity");
    let gzip = match encoding.trim().to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => true,
        "identity" | "" => false,
        other => return Err(ServerError::Invalid(format!("Content-Encoding {other:?} is not supported (use gzip)"))),
    };
    let limits = state.limits.clone();
    let host = query.host;
    // Decoding and parsing are CPU work: off the async threads.
    let report = tokio::task::spawn_blocking(move || {
        let decoded = ingest::decode_body(&body, gzip, &limits)?;
        ingest::parse_report(&decoded, host.as_deref(), &limits)
    })
    .await
    .map_err(|e| ServerError::Internal(e.to_string()))??;
    let token_id = principal.token_id.unwrap_or(0);
    let host = report.host.clone();
    let stored = state.writer.store(org, token_id, report).await?;
    let status = if stored.duplicate {
        Metrics::add(&state.metrics.reports_duplicate, 1);
        StatusCode::OK
    } else {
        Metrics::add(&state.metrics.reports_stored, 1);
        Metrics::add(&state.metrics.findings_stored, stored.findings);
        tracing::info!(org, report = stored.id, %host, findings = stored.findings, "report stored");
        StatusCode::CREATED
    };
    Ok((status, Json(stored)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct Page {
    limit: Option<i64>,
    offset: Option<i64>,
    q: Option<String>,
}

pub(crate) async fn me(principal: Principal) -> Result<Response, ServerError> {
    Ok(Json(json!({
        "user_id": principal.user_id,
        "email": principal.email,
        "role": principal.role,
        "org_id": principal.org_id,
        "scope": principal.scope,
    }))
    .into_response())
}

pub(crate) async fn list_hosts(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, .. }: ApiOrgUser,
    Query(page): Query<Page>,
) -> Result<Response, ServerError> {
    let hosts =
        inventory::hosts(&state.db, org, page.q.as_deref(), page_limit(page.limit), page.offset.unwrap_or(0)).await?;
    Ok(Json(hosts).into_response())
}

pub(crate) async fn get_host(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, .. }: ApiOrgUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    Ok(Json(inventory::host(&state.db, org, id).await?).into_response())
}

pub(crate) async fn host_reports(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, .. }: ApiOrgUser,
    Path(id): Path<i64>,
    Query(page): Query<Page>,
) -> Result<Response, ServerError> {
    let reports = inventory::host_reports(&state.db, org, id, page_limit(page.limit), page.offset.unwrap_or(0)).await?;
    Ok(Json(reports).into_response())
}

pub(crate) async fn get_report(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, .. }: ApiOrgUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    Ok(Json(inventory::report(&state.db, org, id).await?).into_response())
}

pub(crate) async fn get_inventory(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, .. }: ApiOrgUser,
) -> Result<Response, ServerError> {
    Ok(Json(inventory::inventory(&state.db, org).await?).into_response())
}

pub(crate) async fn search(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, .. }: ApiOrgUser,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ServerError> {
    Ok(Json(inventory::search(&state.db, org, &query).await?).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct TrendQuery {
    days: Option<i64>,
}

pub(crate) async fn trend(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, .. }: ApiOrgUser,
    Query(q): Query<TrendQuery>,
) -> Result<Response, ServerError> {
    Ok(Json(inventory::trend(&state.db, org, q.days.unwrap_or(30)).await?).into_response())
}

pub(crate) async fn list_orgs(State(state): State<AppState>, _: ApiCoordinator) -> Result<Response, ServerError> {
    Ok(Json(inventory::org_counts(&state.db).await?).into_response())
}

/// Whether an organisation lets coordinators see its host names; `NotFound` for no such org.
pub(crate) async fn shares_details(state: &AppState, org: i64) -> Result<bool, ServerError> {
    auth::shares_details(&state.db, org).await?.ok_or_else(|| ServerError::NotFound(format!("organisation {org}")))
}

#[derive(Debug, Deserialize, serde::Serialize)]
pub(crate) struct Sharing {
    shares_details: bool,
}

pub(crate) async fn get_sharing(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, .. }: ApiOrgUser,
) -> Result<Response, ServerError> {
    Ok(Json(Sharing { shares_details: shares_details(&state, org).await? }).into_response())
}

/// An organisation admin lets coordinators see the organisation's host names (or stops).
pub(crate) async fn put_sharing(
    State(state): State<AppState>,
    ApiOrgUser { principal, org_id: org }: ApiOrgUser,
    JsonBody(body): JsonBody<Sharing>,
) -> Result<Response, ServerError> {
    if principal.role != Role::Admin {
        return Err(ServerError::Forbidden("only organisation admins decide what is shared".into()));
    }
    auth::set_shares_details(&state.db, org, body.shares_details).await?;
    tracing::info!(org, shares_details = body.shares_details, "sharing changed");
    Ok(Json(body).into_response())
}

/// Coordinators: one organisation's counts (hosts, copies, versions, CVE statuses): no names.
pub(crate) async fn org_inventory(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    shares_details(&state, id).await?;
    Ok(Json(inventory::inventory(&state.db, id).await?).into_response())
}

/// Coordinators: one organisation's hosts, only when that organisation shares them.
pub(crate) async fn org_hosts(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path(id): Path<i64>,
    Query(page): Query<Page>,
) -> Result<Response, ServerError> {
    if !shares_details(&state, id).await? {
        return Err(ServerError::Forbidden("this organisation does not share its host names".into()));
    }
    let hosts =
        inventory::hosts(&state.db, id, page.q.as_deref(), page_limit(page.limit), page.offset.unwrap_or(0)).await?;
    Ok(Json(hosts).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewOrg {
    name: String,
}

pub(crate) async fn create_org(
    State(state): State<AppState>,
    _: ApiCoordinator,
    JsonBody(body): JsonBody<NewOrg>,
) -> Result<Response, ServerError> {
    let id = auth::create_org(&state.db, &body.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "name": body.name }))).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewUser {
    email: String,
    password: String,
    role: String,
    /// Coordinators name the organisation; an organisation admin's users always go to their own.
    org_id: Option<i64>,
}

/// Creates an account: an organisation admin adds admins and members to their own organisation;
/// a coordinator adds them to any organisation, or adds coordinators. Members may not.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    JsonBody(body): JsonBody<NewUser>,
) -> Result<Response, ServerError> {
    let role = Role::parse(&body.role)
        .ok_or_else(|| ServerError::Invalid("role must be coordinator, admin or member".into()))?;
    let org = match (principal.role, role) {
        (Role::Admin, Role::Admin | Role::Member) => principal.org_id,
        (Role::Coordinator, Role::Coordinator) => None,
        (Role::Coordinator, _) => {
            let org = body.org_id.ok_or_else(|| ServerError::Invalid("org_id is required".into()))?;
            if !auth::org_exists(&state.db, org).await? {
                return Err(ServerError::NotFound(format!("organisation {org}")));
            }
            Some(org)
        }
        _ => return Err(ServerError::Forbidden("only organisation admins and coordinators add users".into())),
    };
    let id = auth::create_user(&state.db, &body.email, &body.password, role, org).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "email": body.email.to_lowercase(), "role": role, "org_id": org })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct UsersQuery {
    org_id: Option<i64>,
}

/// Lists accounts: an organisation admin, their organisation's; a coordinator, one organisation's
/// (`?org_id=`) or, without it, the coordinators. Members may not.
pub(crate) async fn list_users(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Query(query): Query<UsersQuery>,
) -> Result<Response, ServerError> {
    let org = match (principal.role, principal.org_id, query.org_id) {
        (Role::Admin, Some(org), _) | (Role::Coordinator, _, Some(org)) => Some(org),
        (Role::Coordinator, _, None) => None,
        _ => return Err(ServerError::Forbidden("only organisation admins and coordinators list users".into())),
    };
    let users = auth::list_users(&state.db, org).await?;
    Ok(Json(users).into_response())
}

pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
) -> Result<Response, ServerError> {
    let tokens: Vec<_> = auth::list_tokens(&state.db, principal.token_owner())
        .await?
        .into_iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "scope": t.scope,
                "user": t.email,
                "created_at": crate::time::format_rfc3339(t.created_at),
                "revoked_at": t.revoked_at.map(crate::time::format_rfc3339),
            })
        })
        .collect();
    Ok(Json(tokens).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewTokenBody {
    name: String,
    scope: Scope,
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    JsonBody(body): JsonBody<NewTokenBody>,
) -> Result<Response, ServerError> {
    let token = auth::create_token(&state.db, principal.user_id, &body.name, body.scope).await?;
    Ok((StatusCode::CREATED, Json(token)).into_response())
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    if !auth::revoke_owned_token(&state.db, principal.token_owner(), id).await? {
        return Err(ServerError::NotFound(format!("token {id}")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
