//! The HTTP routes: JSON API under `/api/v1`, `/healthz`, `/metrics`.
//!
//! Invariants:
//! - Every handler of organisation data takes the organisation from [`Principal`] (via
//!   [`org_of`]), never from the URL or body; ids from the URL are looked up with it.
//! - A token of scope `upload` is refused (403) everywhere but `POST /api/v1/reports`.
//! - Errors are JSON: `{"error": "<code>", "message": "...", "line": N}` (`line` for a bad record).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use crate::auth::{self, Principal, Role, Scope};
use crate::inventory::{self, SearchQuery, page_limit};
use crate::metrics::Metrics;
use crate::{AppState, ServerError, ingest};

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ServerError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            ServerError::BadLine(..) => (StatusCode::BAD_REQUEST, "invalid_record"),
            ServerError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ServerError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ServerError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ServerError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ServerError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ServerError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ServerError::Config(_) | ServerError::Db(_) | ServerError::Internal(_) | ServerError::Io(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            "internal error (see the server log)".to_string()
        } else {
            match &self {
                ServerError::BadLine(_, m) => m.clone(),
                other => other.to_string(),
            }
        };
        let mut body = json!({ "error": code, "message": message });
        if let ServerError::BadLine(line, _) = &self {
            body["line"] = json!(line);
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A request's caller, from `Authorization: Bearer <token>`.
impl FromRequestParts<AppState> for Principal {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Metrics::add(&state.metrics.requests, 1);
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim) else {
            return Err(ServerError::Unauthorized("send Authorization: Bearer <token>".into()));
        };
        auth::principal_for_token(&state.db, token)
            .await?
            .ok_or_else(|| ServerError::Unauthorized("unknown or revoked token".into()))
    }
}

/// The caller's organisation, for organisation-scoped reads and writes: refuses upload-only
/// tokens and coordinators (who see counts per organisation only).
pub fn org_of(principal: &Principal) -> Result<i64, ServerError> {
    full(principal)?;
    principal.org_id.ok_or_else(|| {
        ServerError::Forbidden("coordinators see counts per organisation (/api/v1/orgs), not their hosts".into())
    })
}

/// Refuses upload-only tokens.
pub fn full(principal: &Principal) -> Result<(), ServerError> {
    if principal.scope != Scope::Full {
        return Err(ServerError::Forbidden("this token may only upload reports".into()));
    }
    Ok(())
}

fn coordinator(principal: &Principal) -> Result<(), ServerError> {
    full(principal)?;
    if principal.role != Role::Coordinator {
        return Err(ServerError::Forbidden("coordinators only".into()));
    }
    Ok(())
}

/// The routes of the API.
pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.max_report_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/reports", post(upload).layer(DefaultBodyLimit::max(body_limit)))
        .route("/api/v1/reports/{id}", get(get_report))
        .route("/api/v1/me", get(me))
        .route("/api/v1/hosts", get(list_hosts))
        .route("/api/v1/hosts/{id}", get(get_host))
        .route("/api/v1/hosts/{id}/reports", get(host_reports))
        .route("/api/v1/inventory", get(get_inventory))
        .route("/api/v1/search", get(search))
        .route("/api/v1/trend", get(trend))
        .route("/api/v1/orgs", get(list_orgs).post(create_org))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/sharing", get(get_sharing).put(put_sharing))
        .route("/api/v1/orgs/{id}/inventory", get(org_inventory))
        .route("/api/v1/orgs/{id}/hosts", get(org_hosts))
        .route("/api/openapi.json", get(openapi))
        .merge(crate::pages::router())
        .merge(crate::indicators::router(&state.limits))
        .merge(crate::advisories::router())
        .merge(crate::registry::router())
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").fetch_one(&state.db.pool).await {
        Ok(_) => (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "database unreachable" }))).into_response()
        }
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::DOCUMENT).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    host: Option<String>,
}

async fn upload(
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

async fn upload_inner(
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
struct Page {
    limit: Option<i64>,
    offset: Option<i64>,
    q: Option<String>,
}

async fn me(principal: Principal) -> Result<Response, ServerError> {
    Ok(Json(json!({
        "user_id": principal.user_id,
        "email": principal.email,
        "role": principal.role,
        "org_id": principal.org_id,
        "scope": principal.scope,
    }))
    .into_response())
}

async fn list_hosts(
    State(state): State<AppState>,
    principal: Principal,
    Query(page): Query<Page>,
) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    let hosts =
        inventory::hosts(&state.db, org, page.q.as_deref(), page_limit(page.limit), page.offset.unwrap_or(0)).await?;
    Ok(Json(hosts).into_response())
}

async fn get_host(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    Ok(Json(inventory::host(&state.db, org, id).await?).into_response())
}

async fn host_reports(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Query(page): Query<Page>,
) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    let reports = inventory::host_reports(&state.db, org, id, page_limit(page.limit), page.offset.unwrap_or(0)).await?;
    Ok(Json(reports).into_response())
}

async fn get_report(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    Ok(Json(inventory::report(&state.db, org, id).await?).into_response())
}

async fn get_inventory(State(state): State<AppState>, principal: Principal) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    Ok(Json(inventory::inventory(&state.db, org).await?).into_response())
}

async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    Ok(Json(inventory::search(&state.db, org, &query).await?).into_response())
}

#[derive(Debug, Deserialize)]
struct TrendQuery {
    days: Option<i64>,
}

async fn trend(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<TrendQuery>,
) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    Ok(Json(inventory::trend(&state.db, org, q.days.unwrap_or(30)).await?).into_response())
}

async fn list_orgs(State(state): State<AppState>, principal: Principal) -> Result<Response, ServerError> {
    coordinator(&principal)?;
    Ok(Json(inventory::org_counts(&state.db).await?).into_response())
}

/// Whether an organisation lets coordinators see its host names; `NotFound` for no such org.
async fn shares_details(state: &AppState, org: i64) -> Result<bool, ServerError> {
    let row = sqlx::query("SELECT shares_details FROM orgs WHERE id = $1")
        .bind(org)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| ServerError::NotFound(format!("organisation {org}")))?;
    Ok(row.try_get::<i64, _>(0)? != 0)
}

#[derive(Debug, Deserialize, serde::Serialize)]
struct Sharing {
    shares_details: bool,
}

async fn get_sharing(State(state): State<AppState>, principal: Principal) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    Ok(Json(Sharing { shares_details: shares_details(&state, org).await? }).into_response())
}

/// An organisation admin lets coordinators see the organisation's host names (or stops).
async fn put_sharing(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<Sharing>,
) -> Result<Response, ServerError> {
    let org = org_of(&principal)?;
    if principal.role != Role::Admin {
        return Err(ServerError::Forbidden("only organisation admins decide what is shared".into()));
    }
    sqlx::query("UPDATE orgs SET shares_details = $1 WHERE id = $2")
        .bind(i64::from(body.shares_details))
        .bind(org)
        .execute(&state.db.pool)
        .await?;
    tracing::info!(org, shares_details = body.shares_details, "sharing changed");
    Ok(Json(body).into_response())
}

/// Coordinators: one organisation's counts (hosts, copies, versions, CVE statuses): no names.
async fn org_inventory(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    coordinator(&principal)?;
    shares_details(&state, id).await?;
    Ok(Json(inventory::inventory(&state.db, id).await?).into_response())
}

/// Coordinators: one organisation's hosts, only when that organisation shares them.
async fn org_hosts(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Query(page): Query<Page>,
) -> Result<Response, ServerError> {
    coordinator(&principal)?;
    if !shares_details(&state, id).await? {
        return Err(ServerError::Forbidden("this organisation does not share its host names".into()));
    }
    let hosts =
        inventory::hosts(&state.db, id, page.q.as_deref(), page_limit(page.limit), page.offset.unwrap_or(0)).await?;
    Ok(Json(hosts).into_response())
}

#[derive(Debug, Deserialize)]
struct NewOrg {
    name: String,
}

async fn create_org(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewOrg>,
) -> Result<Response, ServerError> {
    coordinator(&principal)?;
    let id = auth::create_org(&state.db, &body.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "name": body.name }))).into_response())
}

#[derive(Debug, Deserialize)]
struct NewUser {
    email: String,
    password: String,
    role: String,
    /// Coordinators name the organisation; an organisation admin's users always go to their own.
    org_id: Option<i64>,
}

/// Creates an account: an organisation admin adds admins and members to their own organisation;
/// a coordinator adds them to any organisation, or adds coordinators. Members may not.
async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewUser>,
) -> Result<Response, ServerError> {
    full(&principal)?;
    let role = Role::parse(&body.role)
        .ok_or_else(|| ServerError::Invalid("role must be coordinator, admin or member".into()))?;
    let org = match (principal.role, role) {
        (Role::Admin, Role::Admin | Role::Member) => principal.org_id,
        (Role::Coordinator, Role::Coordinator) => None,
        (Role::Coordinator, _) => {
            let org = body.org_id.ok_or_else(|| ServerError::Invalid("org_id is required".into()))?;
            let exists =
                sqlx::query("SELECT id FROM orgs WHERE id = $1").bind(org).fetch_optional(&state.db.pool).await?;
            if exists.is_none() {
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
struct UsersQuery {
    org_id: Option<i64>,
}

/// Lists accounts: an organisation admin, their organisation's; a coordinator, one organisation's
/// (`?org_id=`) or, without it, the coordinators. Members may not.
async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<UsersQuery>,
) -> Result<Response, ServerError> {
    full(&principal)?;
    let rows = match (principal.role, principal.org_id, query.org_id) {
        (Role::Admin, Some(org), _) | (Role::Coordinator, _, Some(org)) => {
            sqlx::query("SELECT id, email, role FROM users WHERE org_id = $1 ORDER BY email")
                .bind(org)
                .fetch_all(&state.db.pool)
                .await?
        }
        (Role::Coordinator, _, None) => {
            sqlx::query("SELECT id, email, role FROM users WHERE org_id IS NULL ORDER BY email")
                .fetch_all(&state.db.pool)
                .await?
        }
        _ => return Err(ServerError::Forbidden("only organisation admins and coordinators list users".into())),
    };
    let users = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "id": row.try_get::<i64, _>(0)?,
                "email": row.try_get::<String, _>(1)?,
                "role": row.try_get::<String, _>(2)?,
            }))
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
    Ok(Json(users).into_response())
}

/// Tokens the caller may see and revoke: an organisation admin, every token of the
/// organisation's users; anyone else, their own.
pub(crate) fn token_filter(principal: &Principal) -> (&'static str, i64) {
    match (principal.role, principal.org_id) {
        (Role::Admin, Some(org)) => ("u.org_id = $1", org),
        _ => ("u.id = $1", principal.user_id),
    }
}

async fn list_tokens(State(state): State<AppState>, principal: Principal) -> Result<Response, ServerError> {
    full(&principal)?;
    let (filter, value) = token_filter(&principal);
    let rows = sqlx::query(&format!(
        "SELECT t.id, t.name, t.scope, u.email, t.created_at, t.revoked_at FROM tokens t JOIN users u ON u.id = t.user_id \
         WHERE {filter} ORDER BY t.id"
    ))
    .bind(value)
    .fetch_all(&state.db.pool)
    .await?;
    let tokens = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "id": row.try_get::<i64, _>(0)?,
                "name": row.try_get::<String, _>(1)?,
                "scope": row.try_get::<String, _>(2)?,
                "user": row.try_get::<String, _>(3)?,
                "created_at": crate::time::format_rfc3339(row.try_get(4)?),
                "revoked_at": row.try_get::<Option<i64>, _>(5)?.map(crate::time::format_rfc3339),
            }))
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
    Ok(Json(tokens).into_response())
}

#[derive(Debug, Deserialize)]
struct NewTokenBody {
    name: String,
    scope: Scope,
}

async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewTokenBody>,
) -> Result<Response, ServerError> {
    full(&principal)?;
    let token = auth::create_token(&state.db, principal.user_id, &body.name, body.scope).await?;
    Ok((StatusCode::CREATED, Json(token)).into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    full(&principal)?;
    let (filter, value) = token_filter(&principal);
    let result = sqlx::query(&format!(
        "UPDATE tokens SET revoked_at = $2 WHERE id = $3 AND revoked_at IS NULL \
         AND user_id IN (SELECT u.id FROM users u WHERE {filter})"
    ))
    .bind(value)
    .bind(crate::now())
    .bind(id)
    .execute(&state.db.pool)
    .await?;
    if result.rows_affected() == 0 {
        return Err(ServerError::NotFound(format!("token {id}")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
