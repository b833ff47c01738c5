//! "Where does it run?": `GET /api/v1/components?purl=…&range=…` (a full-scope token; an organisation user gets its own systems and paths, a coordinator counts per
//! organisation and version, names and paths of organisations that share details), and
//! `GET /api/v1/inventories` (an organisation's current component lists). SBOM uploads are
//! `POST /api/v1/sboms`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use quell_store::components;
use serde::Deserialize;
use serde_json::json;

use crate::audit::{self, Channel};
use crate::extract::{ApiOrgUser, ApiUploader, ApiUser};
use crate::inventories::{self, Answer, Ask, SbomTarget};
use crate::{AppState, ServerError, ingest};

#[derive(Debug, Deserialize)]
pub(crate) struct AskQuery {
    purl: Option<String>,
    range: Option<String>,
}

pub(crate) async fn ask(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Query(query): Query<AskQuery>,
) -> Result<Json<Answer>, ServerError> {
    let purl = query.purl.ok_or_else(|| ServerError::Invalid(t!("api-components-purl")))?;
    let ask = Ask::parse(&purl, query.range.as_deref())?;
    let answer = inventories::ask(&state.db, &ask, principal.org_id).await?;
    let what = format!("components {purl} {}", query.range.as_deref().unwrap_or(""));
    audit::inventory(&state, &principal, principal.org_id, "inventory_read", what.trim_end(), Channel::Api).await?;
    Ok(Json(answer))
}

pub(crate) async fn list_sources(
    State(state): State<AppState>,
    user: ApiOrgUser,
) -> Result<Json<Vec<quell_store::components::SourceRow>>, ServerError> {
    let sources = quell_store::components::current_sources(&state.db, user.org_id).await?;
    let what = "GET /api/v1/inventories";
    audit::inventory(&state, &user.principal, Some(user.org_id), "inventory_exported", what, Channel::Api).await?;
    Ok(Json(sources))
}

/// `POST /api/v1/sboms?system=NAME&kind=host|application`: a CycloneDX or SPDX JSON document
/// (gzip accepted) for a system of the caller's organisation; any token of the organisation,
/// upload-only included (SBOMs come from build pipelines).
pub(crate) async fn upload_sbom(
    State(state): State<AppState>,
    uploader: ApiUploader,
    Query(target): Query<SbomTarget>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let parsed = ingest::decode_upload(&state, &headers, body, move |body, gzip, limits| {
        inventories::parse_sbom(body, gzip, &target, limits)
    })
    .await?;
    let stored =
        components::store_sbom(&state.db, uploader.org_id, &parsed.system, parsed.kind, &parsed.source).await?;
    if !stored.duplicate {
        crate::advisories::match_later_upload(&state.db, uploader.org_id).await;
        tracing::info!(org = uploader.org_id, system = %parsed.system, components = stored.components, format = parsed.format, "SBOM stored");
    }
    let status = if stored.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let answer = json!({
        "id": stored.id,
        "system_id": stored.host_id,
        "system": parsed.system,
        "kind": parsed.kind,
        "format": parsed.format,
        "spec_version": parsed.source.spec_version,
        "components": stored.components,
        "current": stored.current,
        "duplicate": stored.duplicate,
    });
    Ok((status, Json(answer)).into_response())
}
