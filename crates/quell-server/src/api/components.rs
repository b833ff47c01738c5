//! "Where does it run?": `GET /api/v1/components?purl=…&range=…` (a full-scope token; an organisation user gets its own systems and paths, a coordinator counts per
//! organisation and version, names and paths of organisations that share details), and
//! `GET /api/v1/inventories` (an organisation's current component lists). SBOM uploads are
//! `POST /api/v1/sboms`.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::extract::{ApiOrgUser, ApiUser};
use crate::inventories::{self, Answer, Ask};
use crate::{AppState, ServerError};

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
    let purl = query.purl.ok_or_else(|| {
        ServerError::Invalid("give purl=pkg:maven/GROUP/ARTIFACT (and range=vers:maven/... if you like)".into())
    })?;
    let ask = Ask::parse(&purl, query.range.as_deref())?;
    Ok(Json(inventories::ask(&state.db, &ask, principal.org_id).await?))
}

pub(crate) async fn list_sources(
    State(state): State<AppState>,
    user: ApiOrgUser,
) -> Result<Json<Vec<quell_store::components::SourceRow>>, ServerError> {
    Ok(Json(quell_store::components::current_sources(&state.db, user.org_id).await?))
}
