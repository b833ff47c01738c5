//! The CSAF provider: `/.well-known/csaf/provider-metadata.json` and one directory
//! distribution per TLP label (`white`, `green`, `amber`, `red`), each with `<year>/<file>.json`,
//! `index.txt` and `changes.csv`; and the import of other providers' CSAF documents. These are
//! documents, not pages: their errors are JSON like the API's.
//!
//! - `white` is public and lists only TLP:CLEAR documents. `green`, `amber` and `red` need a
//!   login (bearer token or session; 401 otherwise), and each caller's `index.txt` and
//!   `changes.csv` list only the documents the access rule lets *that caller* see, so protected
//!   documents never appear in a public listing. A document the caller may not see answers 404.
//! - A directory holds the newest published version of each advisory; each document also has
//!   `.sha256` and `.sha512` hash files (CSAF requirement 18). Documents are not OpenPGP-signed
//!   (requirement 19), so the metadata says `csaf_publisher`.
//! - Imported advisories have no audience but the importer, so AMBER reaches coordinators and
//!   RED the importer alone.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quell_advisory::csaf;
use quell_advisory::{Tlp, can_view};
use quell_store::advisories::StoredAudience;
use quell_store::advisories::csaf as csaf_store;
use quell_store::advisories::store::{self, VersionRow};
use serde_json::{Value, json};
use sha2::Digest;

use crate::advisories::{MAX_IMPORT_BYTES, base, csaf_document, csaf_relative_path};
use crate::extract::{ApiCoordinator, Caller};
use crate::time::format_rfc3339;
use crate::{AppState, ServerError, now};

const DIRS: [&str; 4] = ["white", "green", "amber", "red"];

pub(crate) async fn provider_metadata(State(state): State<AppState>) -> Result<Response, ServerError> {
    let b = base(&state.advisories);
    let last = csaf_store::last_published(&state.db).await?.unwrap_or_else(now);
    let doc = json!({
        "canonical_url": format!("{b}/.well-known/csaf/provider-metadata.json"),
        "distributions": DIRS.iter().map(|d| json!({ "directory_url": format!("{b}/.well-known/csaf/{d}/") })).collect::<Vec<_>>(),
        "last_updated": format_rfc3339(last),
        "list_on_CSAF_aggregators": true,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": true,
        "publisher": { "category": "coordinator", "name": state.advisories.publisher_name, "namespace": b },
        "role": "csaf_publisher",
    });
    Ok(Json(doc).into_response())
}

/// The documents of a directory that the caller may see.
async fn directory(state: &AppState, caller: &Caller, dir: &str) -> Result<Vec<VersionRow>, ServerError> {
    if !DIRS.contains(&dir) {
        return Err(ServerError::NotFound(format!("CSAF directory {dir}")));
    }
    if dir != "white" && caller.principal.is_none() {
        return Err(ServerError::Unauthorized(format!("the {dir} directory is for logged-in users")));
    }
    let viewer = caller.viewer()?;
    Ok(store::list_visible(&state.db, &viewer, true).await?.into_iter().filter(|v| v.tlp.csaf_dir() == dir).collect())
}

fn text(body: String, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

pub(crate) async fn index_txt(
    State(state): State<AppState>,
    caller: Caller,
    Path(dir): Path<String>,
) -> Result<Response, ServerError> {
    let mut lines: Vec<String> = directory(&state, &caller, &dir).await?.iter().map(csaf_relative_path).collect();
    lines.sort();
    let mut body = lines.join("\n");
    if !body.is_empty() {
        body.push('\n');
    }
    Ok(text(body, "text/plain; charset=utf-8"))
}

pub(crate) async fn changes_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(dir): Path<String>,
) -> Result<Response, ServerError> {
    let mut docs = directory(&state, &caller, &dir).await?;
    docs.sort_by_key(|v| std::cmp::Reverse(v.published_at));
    let body: String = docs
        .iter()
        .map(|v| format!("\"{}\",\"{}\"\n", csaf_relative_path(v), format_rfc3339(v.published_at.unwrap_or(0))))
        .collect();
    Ok(text(body, "text/csv; charset=utf-8"))
}

pub(crate) async fn document_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((dir, year, file)): Path<(String, String, String)>,
) -> Result<Response, ServerError> {
    // `<file>.json.sha256` / `.sha512`: the hash files of CSAF 2.0 requirement 18, in the
    // `sha256sum` format (`<hex>  <file name>`), over exactly the bytes served for the document.
    let (document_name, hash) = match file.rsplit_once('.') {
        Some((name, "sha256")) => (name.to_string(), Some(HashKind::Sha256)),
        Some((name, "sha512")) => (name.to_string(), Some(HashKind::Sha512)),
        _ => (file, None),
    };
    let wanted = format!("{year}/{document_name}");
    let found = directory(&state, &caller, &dir).await?.into_iter().find(|v| csaf_relative_path(v) == wanted);
    let Some(version) = found else { return Err(ServerError::NotFound(format!("{dir}/{wanted}"))) };
    let doc = csaf_document(&state, &version).await?;
    let bytes = serde_json::to_vec(&doc).map_err(|e| ServerError::Internal(format!("CSAF document: {e}")))?;
    let Some(hash) = hash else {
        return Ok(
            ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], bytes).into_response()
        );
    };
    let digest = match hash {
        HashKind::Sha256 => crate::auth::hex(&sha2::Sha256::digest(&bytes)),
        HashKind::Sha512 => crate::auth::hex(&sha2::Sha512::digest(&bytes)),
    };
    Ok(text(format!("{digest}  {document_name}\n"), "text/plain; charset=utf-8"))
}

/// Which hash file of a CSAF document was asked for.
#[derive(Debug, Clone, Copy)]
enum HashKind {
    Sha256,
    Sha512,
}

/// An imported advisory as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct External {
    pub id: i64,
    pub publisher: String,
    pub tracking_id: String,
    pub version: String,
    pub title: String,
    pub tlp_label: String,
    pub current_release_date: String,
    pub cves: Vec<String>,
}

pub(crate) async fn import(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    body: Bytes,
) -> Result<Response, ServerError> {
    if body.len() > MAX_IMPORT_BYTES {
        return Err(ServerError::TooLarge(format!("a CSAF document is at most {MAX_IMPORT_BYTES} bytes")));
    }
    let doc: Value =
        serde_json::from_slice(&body).map_err(|e| ServerError::Invalid(format!("the body is not JSON: {e}")))?;
    let imported = csaf::read_import(&doc).map_err(|e| ServerError::Invalid(e.0))?;
    if Tlp::parse(&imported.tlp_label).is_none() {
        return Err(ServerError::Invalid(
            "/document/distribution/tlp/label is missing or unknown: an import needs a TLP label".into(),
        ));
    }
    let id = csaf_store::import(&state.db, &imported, &doc.to_string(), principal.user_id).await?;
    let external = External {
        id,
        publisher: imported.publisher,
        tracking_id: imported.tracking_id,
        version: imported.version,
        title: imported.title,
        tlp_label: imported.tlp_label.to_ascii_uppercase(),
        current_release_date: imported.current_release_date,
        cves: imported.cves,
    };
    Ok((StatusCode::CREATED, Json(external)).into_response())
}

/// Imported advisories the caller may see (their audience is nobody but the importer, so
/// AMBER reaches coordinators and RED the importer alone).
pub(crate) async fn list_external(State(state): State<AppState>, caller: Caller) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let nobody = StoredAudience::default();
    let out: Vec<External> = csaf_store::list_external(&state.db, crate::limits::MAX_PAGE_ROWS)
        .await?
        .into_iter()
        .filter(|row| {
            let tlp = Tlp::parse(&row.tlp_label).unwrap_or(Tlp::Red);
            can_view(true, tlp, &nobody.of(row.imported_by), &viewer)
        })
        .map(|row| External {
            id: row.id,
            publisher: row.publisher,
            tracking_id: row.tracking_id,
            version: row.version,
            title: row.title,
            tlp_label: row.tlp_label,
            current_release_date: row.current_release_date,
            cves: row.cves.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect(),
        })
        .collect();
    Ok(Json(out).into_response())
}
