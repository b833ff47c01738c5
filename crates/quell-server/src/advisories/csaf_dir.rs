//! The CSAF provider: `/.well-known/csaf/provider-metadata.json` and one directory
//! distribution per TLP label (`white`, `green`, `amber`, `red`), each with `<year>/<file>.json`,
//! `index.txt` and `changes.csv`; and the import of other providers' CSAF documents.
//!
//! - `white` is public and lists only TLP:CLEAR documents. `green`, `amber` and `red` need a
//!   login (bearer token or session; 401 otherwise), and each caller's `index.txt` and
//!   `changes.csv` list only the documents the access rule lets *that caller* see, so protected
//!   documents never appear in a public listing. A document the caller may not see answers 404.
//! - A directory holds the newest published version of each advisory; each document also has
//!   `.sha256` and `.sha512` hash files (CSAF requirement 18). Documents are not OpenPGP-signed
//!   (requirement 19), so the metadata says `csaf_publisher`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, body::Bytes};
use quell_advisory::csaf::{self, CsafInput, Publisher, Revision};
use quell_advisory::{Tlp, Version, Viewer};
use serde_json::{Value, json};
use sha2::Digest;
use sqlx::Row;

use super::api::Caller;
use super::store::{self, VersionRow};
use super::{MAX_IMPORT_BYTES, can_view, is_coordinator, viewer_of};
use crate::time::format_rfc3339;
use crate::{AppState, ServerError, now};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/csaf/provider-metadata.json", get(provider_metadata))
        .route("/.well-known/csaf/{dir}/index.txt", get(index_txt))
        .route("/.well-known/csaf/{dir}/changes.csv", get(changes_csv))
        .route("/.well-known/csaf/{dir}/{year}/{file}", get(document_file))
        .route("/api/v1/advisories/import", axum::routing::post(import))
        .route("/api/v1/advisories/external", get(list_external))
}

const DIRS: [&str; 4] = ["white", "green", "amber", "red"];

fn base(state: &AppState) -> String {
    state.advisories.public_url.trim_end_matches('/').to_string()
}

/// The CSAF document of a published version (revision history: every published version up to it).
pub async fn document(state: &AppState, version: &VersionRow) -> Result<Value, ServerError> {
    let all = store::versions(&state.db, version.advisory_id).await?;
    let mut revisions = Vec::new();
    for v in all.iter().filter(|v| v.published() && v.version_index <= version.version_index) {
        revisions.push(Revision {
            version: Version(v.version_index),
            date: format_rfc3339(v.published_at.unwrap_or(v.updated_at)),
            summary: v.content()?.revision_note,
        });
    }
    let content = version.content()?;
    let rating = version.rating()?;
    let publisher = Publisher { name: state.advisories.publisher_name.clone(), namespace: base(state) };
    let self_url = file_url(state, version);
    Ok(csaf::render(&CsafInput {
        tracking_id: &version.identifier,
        content: &content,
        rating: &rating,
        revisions: &revisions,
        publisher: &publisher,
        self_url: Some(&self_url),
        generator_version: env!("CARGO_PKG_VERSION"),
    }))
}

fn relative_path(version: &VersionRow) -> String {
    let year = super::year_of(version.published_at.unwrap_or(version.created_at));
    format!("{year}/{}", csaf::file_name(&version.identifier))
}

fn file_url(state: &AppState, version: &VersionRow) -> String {
    format!("{}/.well-known/csaf/{}/{}", base(state), version.tlp.csaf_dir(), relative_path(version))
}

async fn provider_metadata(State(state): State<AppState>) -> Result<Response, ServerError> {
    let b = base(&state);
    let last = sqlx::query("SELECT MAX(published_at) FROM advisory_versions WHERE status = 'published'")
        .fetch_one(&state.db.pool)
        .await?
        .try_get::<Option<i64>, _>(0)?
        .unwrap_or_else(now);
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
    if dir != "white" && caller.0.is_none() {
        return Err(ServerError::Unauthorized(format!("the {dir} directory is for logged-in users")));
    }
    let viewer = caller.viewer()?;
    Ok(store::list_visible(&state.db, &viewer, true).await?.into_iter().filter(|v| v.tlp.csaf_dir() == dir).collect())
}

fn text(body: String, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

async fn index_txt(
    State(state): State<AppState>,
    caller: Caller,
    Path(dir): Path<String>,
) -> Result<Response, ServerError> {
    let mut lines: Vec<String> = directory(&state, &caller, &dir).await?.iter().map(relative_path).collect();
    lines.sort();
    let mut body = lines.join("\n");
    if !body.is_empty() {
        body.push('\n');
    }
    Ok(text(body, "text/plain; charset=utf-8"))
}

async fn changes_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(dir): Path<String>,
) -> Result<Response, ServerError> {
    let mut docs = directory(&state, &caller, &dir).await?;
    docs.sort_by_key(|v| std::cmp::Reverse(v.published_at));
    let body: String = docs
        .iter()
        .map(|v| format!("\"{}\",\"{}\"\n", relative_path(v), format_rfc3339(v.published_at.unwrap_or(0))))
        .collect();
    Ok(text(body, "text/csv; charset=utf-8"))
}

async fn document_file(
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
    let found = directory(&state, &caller, &dir).await?.into_iter().find(|v| relative_path(v) == wanted);
    let Some(version) = found else { return Err(ServerError::NotFound(format!("{dir}/{wanted}"))) };
    let doc = document(&state, &version).await?;
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

async fn import(State(state): State<AppState>, caller: Caller, body: Bytes) -> Result<Response, ServerError> {
    let principal = caller.require()?;
    if !is_coordinator(&viewer_of(Some(&principal))) || principal.scope != crate::auth::Scope::Full {
        return Err(ServerError::Forbidden("coordinators only".into()));
    }
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
    let row = sqlx::query(
        "INSERT INTO external_advisories (publisher, tracking_id, version, title, tlp_label, current_release_date, \
         cves, document, imported_by, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (publisher, tracking_id, version) DO NOTHING RETURNING id",
    )
    .bind(&imported.publisher)
    .bind(&imported.tracking_id)
    .bind(&imported.version)
    .bind(&imported.title)
    .bind(imported.tlp_label.to_ascii_uppercase())
    .bind(&imported.current_release_date)
    .bind(imported.cves.join(","))
    .bind(doc.to_string())
    .bind(principal.user_id)
    .bind(now())
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else {
        return Err(ServerError::Conflict(format!(
            "{} version {} of {} is already imported",
            imported.tracking_id, imported.version, imported.publisher
        )));
    };
    let id: i64 = row.try_get(0)?;
    Ok((
        StatusCode::CREATED,
        Json(External {
            id,
            publisher: imported.publisher,
            tracking_id: imported.tracking_id,
            version: imported.version,
            title: imported.title,
            tlp_label: imported.tlp_label.to_ascii_uppercase(),
            current_release_date: imported.current_release_date,
            cves: imported.cves,
        }),
    )
        .into_response())
}

/// Imported advisories the caller may see (their audience is nobody but the importer, so
/// AMBER reaches coordinators and RED the importer alone).
async fn list_external(State(state): State<AppState>, caller: Caller) -> Result<Response, ServerError> {
    let viewer: Viewer = caller.viewer()?;
    let rows = sqlx::query(
        "SELECT id, publisher, tracking_id, version, title, tlp_label, current_release_date, cves, imported_by \
         FROM external_advisories ORDER BY id DESC LIMIT $1",
    )
    .bind(crate::limits::MAX_PAGE_ROWS)
    .fetch_all(&state.db.pool)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        let label: String = row.try_get(5)?;
        let tlp = Tlp::parse(&label).unwrap_or(Tlp::Red);
        let audience = super::StoredAudience::default();
        if !can_view(true, tlp, row.try_get(8)?, &audience, &viewer) {
            continue;
        }
        let cves: String = row.try_get(7)?;
        out.push(External {
            id: row.try_get(0)?,
            publisher: row.try_get(1)?,
            tracking_id: row.try_get(2)?,
            version: row.try_get(3)?,
            title: row.try_get(4)?,
            tlp_label: label,
            current_release_date: row.try_get(6)?,
            cves: cves.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect(),
        });
    }
    Ok(Json(out).into_response())
}
