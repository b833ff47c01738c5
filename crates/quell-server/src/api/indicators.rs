//! The indicators' JSON API (`/api/v1/indicators`; the routes are in [`crate::router`]): uploads
//! from `quell hunt --upload` (upload-only tokens allowed), the organisation's own sightings, the
//! pool, attempts per day, raw lines, and the feed for SOC tooling (STIX 2.1, MISP, CSV, rendered
//! by [`quell_report::indicators`], each TLP-marked, with an `X-Quell-TLP` header). The rules of
//! what is pooled and who reads what are [`crate::indicators`]' and the store's.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quell_report::indicators::{self as report, ExportFormat};
use quell_store::indicators::{self as store, Scope};
use serde::Serialize;

use crate::extract::{ApiOrgUser, ApiUploader, ApiUser};
use crate::indicators::{Filter, export_rows, read_upload, scope_of};
use crate::limits::{MAX_FEED_ROWS, MAX_PAGE_ROWS};
use crate::{AppState, ServerError, ingest, now};

pub(crate) async fn upload(
    State(state): State<AppState>,
    ApiUploader { principal, org_id: org }: ApiUploader,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let parsed = ingest::decode_upload(&state, &headers, body, |body, gzip, limits| {
        read_upload(ingest::decoded_reader(body, gzip, limits))
    })
    .await?;
    let stored = store::store_upload(&state.db, org, principal.token_id.unwrap_or(0), &parsed).await?;
    let status = if stored.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    if !stored.duplicate {
        tracing::info!(org, upload = stored.id, indicators = stored.indicators, tlp = %stored.tlp, "indicators stored");
    }
    Ok((status, Json(stored)).into_response())
}

pub(crate) async fn list_own(
    State(state): State<AppState>,
    user: ApiOrgUser,
    Query(filter): Query<Filter>,
) -> Result<Response, ServerError> {
    let filter = filter.check(MAX_PAGE_ROWS)?;
    Ok(Json(store::own(&state.db, user.org_id, &filter).await?).into_response())
}

/// The pool; a coordinator also sees which organisations that share details saw each indicator.
pub(crate) async fn list_pool(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Query(filter): Query<Filter>,
) -> Result<Response, ServerError> {
    let filter = filter.check(MAX_PAGE_ROWS)?;
    let coordinator = principal.role == crate::auth::Role::Coordinator;
    Ok(Json(store::pool(&state.db, state.limits.indicator_min_orgs, &filter, coordinator).await?).into_response())
}

#[derive(Debug, Serialize)]
struct Day {
    day: String,
    count: i64,
}

pub(crate) async fn list_days(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Query(query): Query<Filter>,
) -> Result<Response, ServerError> {
    let scope = scope_of(&principal, query.scope.as_deref())?;
    let filter = query.check(MAX_PAGE_ROWS)?;
    let days = store::days(&state.db, scope, state.limits.indicator_min_orgs, &filter).await?;
    let days: Vec<Day> =
        days.into_iter().map(|(day, count)| Day { day: crate::time::day_string(day), count }).collect();
    Ok(Json(days).into_response())
}

/// The caller's organisation's raw lines (`quell hunt --upload-lines`), newest upload first.
pub(crate) async fn list_lines(
    State(state): State<AppState>,
    user: ApiOrgUser,
    Query(filter): Query<Filter>,
) -> Result<Response, ServerError> {
    let filter = filter.check(MAX_PAGE_ROWS)?;
    Ok(Json(store::lines(&state.db, user.org_id, filter.limit, filter.offset).await?).into_response())
}

/// The feed for SOC tooling: the pool (or the organisation's own sightings) as a STIX 2.1
/// bundle, a MISP event or CSV, each marked with TLP.
pub(crate) async fn feed(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Query(query): Query<Filter>,
) -> Result<Response, ServerError> {
    let text = query.format.as_deref().unwrap_or("stix");
    let format =
        ExportFormat::parse(text).ok_or_else(|| ServerError::Invalid(format!("format {text:?}: stix, misp or csv")))?;
    let scope = scope_of(&principal, query.scope.as_deref())?;
    let filter = query.check(MAX_FEED_ROWS)?;
    let rows = export_rows(&state.db, &state.limits, scope, &filter).await?;
    let label = match scope {
        Scope::Own(_) => "own sightings",
        Scope::Pool => "pooled indicators",
    };
    let rendered = report::render(format, &rows, label, now()).map_err(|e| ServerError::Internal(e.to_string()))?;
    let mut response = (StatusCode::OK, rendered.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(rendered.content_type));
    headers.insert("x-quell-tlp", HeaderValue::from_static(rendered.tlp.as_str()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
