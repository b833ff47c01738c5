//! Signed detection packs for agents (`/api/v1/packs`; the routes are in [`crate::router`]): a
//! coordinator uploads a pack with its minisign signature, every authenticated token (upload-only
//! agent tokens included) reads the current packs, a coordinator reads a name's upload history
//! and withdraws a pack.
//!
//! Invariants: an upload is stored only when `quell_packs::signed::verify` accepts it against
//! the server's `--pack-public-key` at the time of upload (no key configured: uploads refused);
//! agents verify every pack again against their own pinned key, so the server is not trusted
//! with the packs' integrity. An expired pack stays in the bundle until it is replaced or
//! withdrawn: agents then refuse to scan (exit 2) instead of silently scanning without it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quell_packs::signed::{SignatureError, verify};
use quell_store::packs::{self as store, NewPack};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::extract::{ApiCoordinator, JsonBody};
use crate::time::format_rfc3339;
use crate::{AppState, ServerError, auth::Principal, now};

/// The body of `POST /api/v1/packs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// The pack's TOML text, exactly as signed.
    pub pack: String,
    /// The `.minisig` text `minisign -S` wrote.
    #[serde(default)]
    pub signature: Option<String>,
}

/// One pack of `GET /api/v1/packs`.
#[derive(Debug, Serialize)]
struct Served {
    name: String,
    sha256: String,
    uploaded_at: String,
    expires_at: String,
    key_id: String,
    pack: String,
    signature: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    withdrawn_at: Option<String>,
}

impl From<store::StoredPack> for Served {
    fn from(p: store::StoredPack) -> Self {
        Served {
            name: p.name,
            sha256: p.sha256,
            uploaded_at: format_rfc3339(p.uploaded_at),
            expires_at: format_rfc3339(p.expires_at),
            key_id: p.key_id,
            pack: p.pack,
            signature: p.signature,
            withdrawn_at: p.withdrawn_at.map(format_rfc3339),
        }
    }
}

/// A refusal of `verify` as the API answers it: what cannot be read is 400, what was read and
/// is not acceptable (another key, tampered, no or past expiry) is 422.
fn refused(error: SignatureError) -> ServerError {
    match error {
        SignatureError::Unsigned | SignatureError::Malformed(_) | SignatureError::Pack(_) => {
            ServerError::Invalid(crate::refusals::signature(&error))
        }
        _ => ServerError::Unprocessable(crate::refusals::signature(&error)),
    }
}

pub(crate) async fn upload(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    JsonBody(body): JsonBody<Upload>,
) -> Result<Response, ServerError> {
    if state.pack_keys.is_empty() {
        return Err(ServerError::Conflict(t!("api-no-pack-keys")));
    }
    let verified = verify(&state.pack_keys, "pack", &body.pack, body.signature.as_deref(), now()).map_err(refused)?;
    let name = verified.pack.name.get_ref().clone();
    let signature = body.signature.as_deref().unwrap_or_default();
    let new = NewPack {
        name: &name,
        sha256: &verified.sha256,
        pack: &body.pack,
        signature,
        key_id: &verified.key_id,
        expires_at: verified.expires_at,
    };
    let id = store::store(&state.db, principal.user_id, &new).await?;
    tracing::info!(pack = %name, id, key = %verified.key_id, "detection pack uploaded");
    let answer = json!({
        "id": id, "name": name, "sha256": verified.sha256, "key_id": verified.key_id,
        "expires_at": format_rfc3339(verified.expires_at),
    });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// The current packs with their signatures: what `quell scan --rules-from` fetches.
pub(crate) async fn list(State(state): State<AppState>, _caller: Principal) -> Result<Response, ServerError> {
    let packs: Vec<Served> = store::current(&state.db).await?.into_iter().map(Served::from).collect();
    Ok(Json(json!({ "packs": packs })).into_response())
}

/// Every upload of a name, newest first, withdrawn ones included (coordinators).
pub(crate) async fn history(
    State(state): State<AppState>,
    _coordinator: ApiCoordinator,
    Path(name): Path<String>,
) -> Result<Response, ServerError> {
    let uploads: Vec<Served> = store::history(&state.db, &name).await?.into_iter().map(Served::from).collect();
    if uploads.is_empty() {
        return Err(ServerError::NotFound(t!("api-no-pack-named", name = format!("{name:?}"))));
    }
    Ok(Json(json!({ "name": name, "uploads": uploads })).into_response())
}

/// Withdraws the current pack of a name: agents no longer receive it (the history stays).
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    Path(name): Path<String>,
) -> Result<StatusCode, ServerError> {
    store::withdraw(&state.db, &name).await?;
    tracing::info!(pack = %name, user = principal.user_id, "detection pack withdrawn");
    Ok(StatusCode::NO_CONTENT)
}
