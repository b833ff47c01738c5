//! Reports and the inventory read from them: `POST /api/v1/reports` (any token of the
//! organisation, upload-only included) and the organisation's hosts, reports, inventory, search
//! and trend (full-scope tokens of organisation users only).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::audit::{self, Channel};
use crate::auth::Principal;
use crate::extract::ApiOrgUser;
use crate::inventory::{self, SearchQuery, page_limit};
use crate::metrics::Metrics;
use crate::{AppState, ServerError, agents, ingest};

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
    let org = principal.org_id.ok_or_else(|| ServerError::Forbidden(t!("api-coordinator-upload")))?;
    let host = query.host;
    let report = ingest::decode_upload(state, headers, body, move |body, gzip, limits| {
        ingest::parse_upload(body, gzip, host.as_deref(), limits)
    })
    .await?;
    let token_id = principal.token_id.unwrap_or(0);
    let host = report.host.clone();
    let had_inventory = !report.inventory.is_empty();
    let stored = state.writer.store(org, token_id, report).await?;
    if had_inventory && !stored.duplicate {
        crate::advisories::match_later_upload(&state.db, org).await;
    }
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
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub q: Option<String>,
}

pub(crate) async fn list_hosts(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, .. }: ApiOrgUser,
    Query(page): Query<Page>,
) -> Result<Response, ServerError> {
    let mut hosts =
        inventory::hosts(&state.db, org, page.q.as_deref(), page_limit(page.limit), page.offset.unwrap_or(0)).await?;
    agents::mark_hosts(&mut hosts, &state.limits.oldest_agent_version);
    Ok(Json(hosts).into_response())
}

pub(crate) async fn get_host(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, principal }: ApiOrgUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let mut detail = inventory::host(&state.db, org, id).await?;
    agents::mark_hosts(std::slice::from_mut(&mut detail.host), &state.limits.oldest_agent_version);
    audit::inventory(&state, &principal, Some(org), "inventory_read", &format!("host:{id}"), Channel::Api).await?;
    Ok(Json(detail).into_response())
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
    ApiOrgUser { org_id: org, principal }: ApiOrgUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let report = inventory::report(&state.db, org, id).await?;
    audit::inventory(&state, &principal, Some(org), "inventory_read", &format!("report:{id}"), Channel::Api).await?;
    Ok(Json(report).into_response())
}

pub(crate) async fn get_inventory(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, principal }: ApiOrgUser,
) -> Result<Response, ServerError> {
    let mut inventory = inventory::inventory(&state.db, org).await?;
    agents::mark_inventory(&mut inventory, &state.limits.oldest_agent_version);
    audit::inventory(&state, &principal, Some(org), "inventory_exported", "GET /api/v1/inventory", Channel::Api)
        .await?;
    Ok(Json(inventory).into_response())
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
