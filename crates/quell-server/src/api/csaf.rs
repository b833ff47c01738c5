//! The CSAF provider: `/.well-known/csaf/provider-metadata.json` and one directory
//! distribution per TLP label (`white`, `green`, `amber`, `red`), each with `<year>/<file>.json`,
//! `index.txt`, `changes.csv` and a ROLIE feed (`feed.json`); the provider's OpenPGP public keys
//! (`/.well-known/csaf/openpgp/<FINGERPRINT>.asc`); `/.well-known/security.txt` with its `CSAF:`
//! field; and the import of other providers' CSAF documents. These are documents, not pages:
//! their errors are JSON like the API's.
//!
//! - `white` is public and lists only TLP:CLEAR documents. `green`, `amber` and `red` need a
//!   login (bearer token or session; 401 otherwise), and each caller's `index.txt`,
//!   `changes.csv` and feed list only the documents the access rule lets *that caller* see, so
//!   protected documents never appear in a public listing. A document the caller may not see
//!   answers 404.
//! - A directory holds the newest published version of each advisory; each document also has
//!   `.sha256` and `.sha512` hash files (CSAF requirement 18) and, with a signing key
//!   (`--csaf-signing-key`, see [`crate::openpgp`]), an OpenPGP detached signature `.asc`
//!   (requirement 19) made over exactly the served bytes. With a key the metadata says
//!   `csaf_trusted_provider` and names the key's fingerprint (requirement 20); without one,
//!   `csaf_provider`.
//! - Feeds and documents carry an `ETag` over the bytes served to the caller and answer 304 to
//!   an `If-None-Match` naming it (conditional requests of aggregators).
//! - Imported advisories have no audience but the importer, so AMBER reaches coordinators and
//!   RED the importer alone.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quell_advisory::{Tlp, csaf, rolie};
use quell_store::advisories::csaf as csaf_store;
use quell_store::advisories::store::{self, VersionRow};
use serde_json::{Value, json};
use sha2::Digest;

use crate::advisories::{
    MAX_IMPORT_BYTES, SECURITY_TXT_EXPIRES_DAYS, base, csaf_document, csaf_relative_path, csaf_url,
};
use crate::extract::{ApiCoordinator, Caller};
use crate::time::format_rfc3339;
use crate::{AppState, ServerError, now};

const DIRS: [&str; 4] = ["white", "green", "amber", "red"];
/// The file name of each directory's ROLIE feed.
pub const FEED_FILE: &str = "feed.json";

pub(crate) async fn provider_metadata(State(state): State<AppState>) -> Result<Response, ServerError> {
    let b = base(&state.advisories);
    let last = csaf_store::last_published(&state.db).await?.unwrap_or_else(now);
    let distributions: Vec<Value> = DIRS
        .iter()
        .map(|d| {
            let label = d.to_ascii_uppercase();
            json!({
                "directory_url": format!("{b}/.well-known/csaf/{d}/"),
                "rolie": { "feeds": [{
                    "summary": format!("{} advisories of {} (TLP:{label})", state.advisories.publisher_name, b),
                    "tlp_label": label,
                    "url": format!("{b}/.well-known/csaf/{d}/{FEED_FILE}"),
                }]},
            })
        })
        .collect();
    let keys = state.advisories.csaf_keys.as_deref();
    let mut doc = json!({
        "canonical_url": format!("{b}/.well-known/csaf/provider-metadata.json"),
        "distributions": distributions,
        "last_updated": format_rfc3339(last),
        "list_on_CSAF_aggregators": true,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": true,
        "publisher": { "category": "coordinator", "name": state.advisories.publisher_name, "namespace": b },
        "role": if keys.is_some() { "csaf_trusted_provider" } else { "csaf_provider" },
    });
    if let Some(keys) = keys {
        doc["public_openpgp_keys"] = keys
            .published()
            .map(|k| json!({ "fingerprint": k.fingerprint, "url": public_key_url(&b, &k.fingerprint) }))
            .collect();
    }
    Ok(Json(doc).into_response())
}

/// Where a published public key is served.
pub fn public_key_url(base: &str, fingerprint: &str) -> String {
    format!("{base}/.well-known/csaf/openpgp/{fingerprint}.asc")
}

/// `/.well-known/csaf/openpgp/<FINGERPRINT>.asc`: the current or an earlier signing key's
/// public key (key rotation: earlier keys stay, so old signatures stay verifiable).
pub(crate) async fn public_key(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ServerError> {
    let wanted = file.strip_suffix(".asc").unwrap_or_default();
    let key =
        state.advisories.csaf_keys.as_deref().and_then(|keys| {
            keys.published().find(|k| !wanted.is_empty() && k.fingerprint.eq_ignore_ascii_case(wanted))
        });
    let Some(key) = key else {
        return Err(ServerError::NotFound(t!("not-found-openpgp-key", file = file.to_string())));
    };
    Ok(text(key.armored.clone(), "application/pgp-keys"))
}

/// `/.well-known/security.txt` (RFC 9116) with the `CSAF:` field of CSAF requirement 8.
pub(crate) async fn security_txt(State(state): State<AppState>) -> Result<Response, ServerError> {
    let b = base(&state.advisories);
    let contact = match &state.advisories.security_contact {
        Some(c) => c.clone(),
        None => format!("mailto:{}", state.advisories.smtp.as_ref().map_or("security@localhost", |s| s.from.as_str())),
    };
    let expires = format_rfc3339(now() + SECURITY_TXT_EXPIRES_DAYS * 86_400);
    let body = format!(
        "Contact: {contact}\nExpires: {expires}\nCSAF: {b}/.well-known/csaf/provider-metadata.json\nCanonical: {b}/.well-known/security.txt\n"
    );
    Ok(text(body, "text/plain; charset=utf-8"))
}

/// The ROLIE feed of a directory (CSAF requirement 15): the documents the caller may see.
pub(crate) async fn rolie_feed(
    State(state): State<AppState>,
    caller: Caller,
    Path(dir): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let mut docs = directory(&state, &caller, &dir).await?;
    docs.sort_by_key(|l| std::cmp::Reverse(l.version.published_at));
    let entries: Vec<rolie::FeedEntry> = docs
        .iter()
        .map(|l| rolie::FeedEntry {
            tracking_id: l.version.identifier.clone(),
            title: l.version.title.clone(),
            url: csaf_url(&state.advisories, &l.version, l.first),
            published: format_rfc3339(l.first),
            updated: format_rfc3339(l.version.published_at.unwrap_or(l.version.updated_at)),
        })
        .collect();
    let b = base(&state.advisories);
    let label = dir.to_ascii_uppercase();
    let feed = rolie::render(&rolie::Feed {
        id: &format!("{}-csaf-feed-tlp-{dir}", state.advisories.prefix.to_ascii_lowercase()),
        title: &format!("{} CSAF feed (TLP:{label})", state.advisories.publisher_name),
        self_url: &format!("{b}/.well-known/csaf/{dir}/{FEED_FILE}"),
        updated: &format_rfc3339(docs.first().and_then(|l| l.version.published_at).unwrap_or_else(now)),
        signed: state.advisories.csaf_keys.is_some(),
        entries: &entries,
    });
    let bytes = serde_json::to_vec(&feed).map_err(|e| ServerError::Internal(format!("ROLIE feed: {e}")))?;
    Ok(etagged(&headers, "application/json", bytes))
}

/// A document with an `ETag` over its bytes, and 304 when the request's `If-None-Match` names
/// it: aggregators' conditional requests (the caller's view decides the bytes, so the tag).
fn etagged(headers: &HeaderMap, content_type: &'static str, bytes: Vec<u8>) -> Response {
    let tag = format!("\"{}\"", crate::auth::hex(&sha2::Sha256::digest(&bytes)));
    let asked = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if asked.split(',').any(|t| t.trim() == tag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CACHE_CONTROL, "no-store".into()),
            (header::ETAG, tag),
        ],
        bytes,
    )
        .into_response()
}

/// `/.well-known/csaf/<dir>/`: the directory listing of requirement 14 (the files and year
/// folders the caller may see), as a plain HTML index for manual navigation.
pub(crate) async fn listing(
    State(state): State<AppState>,
    caller: Caller,
    Path(dir): Path<String>,
) -> Result<Response, ServerError> {
    let docs = directory(&state, &caller, &dir).await?;
    let mut years: Vec<String> =
        docs.iter().filter_map(|l| l.path.split_once('/')).map(|(y, _)| format!("{y}/")).collect();
    years.sort_unstable();
    years.dedup();
    let mut names = vec!["changes.csv".to_string(), FEED_FILE.to_string(), "index.txt".to_string()];
    names.extend(years);
    Ok(html_index(&format!("/.well-known/csaf/{dir}/"), &names))
}

/// `/.well-known/csaf/<dir>/<year>/`: the documents of a year folder with their hash and
/// signature files (requirement 14); 404 for a year without documents the caller may see.
pub(crate) async fn year_listing(
    State(state): State<AppState>,
    caller: Caller,
    Path((dir, year)): Path<(String, String)>,
) -> Result<Response, ServerError> {
    let signed = state.advisories.csaf_keys.is_some();
    let mut names = Vec::new();
    for l in directory(&state, &caller, &dir).await? {
        let Some(file) = l.path.strip_prefix(&format!("{year}/")).map(str::to_string) else { continue };
        names.extend([format!("{file}.sha256"), format!("{file}.sha512")]);
        if signed {
            names.push(format!("{file}.asc"));
        }
        names.push(file);
    }
    if names.is_empty() {
        return Err(ServerError::NotFound(t!("not-found-csaf-folder", folder = format!("{dir}/{year}/"))));
    }
    names.sort_unstable();
    Ok(html_index(&format!("/.well-known/csaf/{dir}/{year}/"), &names))
}

/// A minimal server-generated directory index (relative links).
fn html_index(title: &str, names: &[String]) -> Response {
    let escape = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut body = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {t}</title></head><body>\n<h1>Index of {t}</h1>\n<ul>\n",
        t = escape(title)
    );
    for name in names {
        body.push_str(&format!("<li><a href=\"{n}\">{n}</a></li>\n", n = escape(name)));
    }
    body.push_str("</ul>\n</body></html>\n");
    text(body, "text/html; charset=utf-8")
}

/// A document of a directory: the newest published version, its first publication and its path.
struct Listed {
    version: VersionRow,
    first: i64,
    path: String,
}

/// The documents of a directory that the caller may see.
async fn directory(state: &AppState, caller: &Caller, dir: &str) -> Result<Vec<Listed>, ServerError> {
    if !DIRS.contains(&dir) {
        return Err(ServerError::NotFound(t!("not-found-csaf-directory", dir = dir.to_string())));
    }
    if dir != "white" && caller.principal.is_none() {
        return Err(ServerError::Unauthorized(format!("the {dir} directory is for logged-in users")));
    }
    let viewer = caller.viewer()?;
    let firsts = csaf_store::first_published_all(&state.db).await?;
    Ok(store::list_visible(&state.db, &viewer, true)
        .await?
        .into_iter()
        .filter(|v| v.tlp.csaf_dir() == dir)
        .map(|version| {
            let first =
                firsts.get(&version.advisory_id).copied().or(version.published_at).unwrap_or(version.created_at);
            let path = csaf_relative_path(&version, first);
            Listed { version, first, path }
        })
        .collect())
}

fn text(body: String, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

pub(crate) async fn index_txt(
    State(state): State<AppState>,
    caller: Caller,
    Path(dir): Path<String>,
) -> Result<Response, ServerError> {
    let mut lines: Vec<String> = directory(&state, &caller, &dir).await?.into_iter().map(|l| l.path).collect();
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
    docs.sort_by_key(|l| std::cmp::Reverse(l.version.published_at));
    let body: String = docs
        .iter()
        .map(|l| format!("\"{}\",\"{}\"\n", l.path, format_rfc3339(l.version.published_at.unwrap_or(0))))
        .collect();
    Ok(text(body, "text/csv; charset=utf-8"))
}

pub(crate) async fn document_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((dir, year, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    // `<file>.json.sha256` / `.sha512`: the hash files of CSAF 2.0 requirement 18, in the
    // `sha256sum` format (`<hex>  <file name>`), and `.asc`, the detached OpenPGP signature of
    // requirement 19 — all over exactly the bytes served for the document.
    let (document_name, companion) = match file.rsplit_once('.') {
        Some((name, "sha256")) => (name.to_string(), Some(Companion::Sha256)),
        Some((name, "sha512")) => (name.to_string(), Some(Companion::Sha512)),
        Some((name, "asc")) => (name.to_string(), Some(Companion::Signature)),
        _ => (file, None),
    };
    let wanted = format!("{year}/{document_name}");
    let found = directory(&state, &caller, &dir).await?.into_iter().find(|l| l.path == wanted);
    let Some(Listed { version, .. }) = found else { return Err(ServerError::NotFound(format!("{dir}/{wanted}"))) };
    let doc = csaf_document(&state, &version, None).await?;
    let bytes = serde_json::to_vec(&doc).map_err(|e| ServerError::Internal(format!("CSAF document: {e}")))?;
    let digest = match companion {
        None => {
            crate::audit::advisory_read(&state, caller.principal.as_ref(), &version, crate::audit::Channel::Csaf)
                .await?;
            return Ok(etagged(&headers, "application/json", bytes));
        }
        Some(Companion::Signature) => {
            let Some(keys) = state.advisories.csaf_keys.as_deref() else {
                return Err(ServerError::NotFound(t!("not-found-csaf-unsigned", file = format!("{dir}/{wanted}"))));
            };
            let signature = keys.sign(&bytes).map_err(|e| ServerError::Internal(format!("signing: {e}")))?;
            return Ok(text(signature, "application/pgp-signature"));
        }
        Some(Companion::Sha256) => crate::auth::hex(&sha2::Sha256::digest(&bytes)),
        Some(Companion::Sha512) => crate::auth::hex(&sha2::Sha512::digest(&bytes)),
    };
    Ok(text(format!("{digest}  {document_name}\n"), "text/plain; charset=utf-8"))
}

/// Which file beside a CSAF document was asked for.
#[derive(Debug, Clone, Copy)]
enum Companion {
    Sha256,
    Sha512,
    Signature,
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
    /// The subscription whose poll imported it (`None`: uploaded by a coordinator).
    pub subscription_id: Option<i64>,
    /// Where it was fetched from.
    pub source_url: Option<String>,
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
        serde_json::from_slice(&body).map_err(|e| ServerError::Invalid(t!("api-not-json", detail = e.to_string())))?;
    let imported = csaf::read_import(&doc).map_err(|e| ServerError::Invalid(crate::refusals::invalid(&e)))?;
    if Tlp::parse(&imported.tlp_label).is_none() {
        return Err(ServerError::Invalid(t!("api-import-needs-tlp")));
    }
    let id = csaf_store::import(&state.db, &imported, &doc.to_string(), principal.user_id, None).await?;
    let external = External {
        id,
        publisher: imported.publisher,
        tracking_id: imported.tracking_id,
        version: imported.version,
        title: imported.title,
        tlp_label: imported.tlp_label.to_ascii_uppercase(),
        current_release_date: imported.current_release_date,
        cves: imported.cves,
        subscription_id: None,
        source_url: None,
    };
    Ok((StatusCode::CREATED, Json(external)).into_response())
}

/// What `GET /api/v1/advisories/external` takes: `q` narrows to title, tracking id, publisher
/// or CVE.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ExternalQuery {
    #[serde(default)]
    pub q: Option<String>,
}

/// Imported advisories the caller may see (see [`crate::aggregator::visible_external`]).
pub(crate) async fn list_external(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ExternalQuery>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let out: Vec<External> = crate::aggregator::visible_external(&state.db, &viewer, query.q.as_deref())
        .await?
        .into_iter()
        .map(|row| External {
            id: row.id,
            publisher: row.publisher,
            tracking_id: row.tracking_id,
            version: row.version,
            title: row.title,
            tlp_label: row.tlp_label,
            current_release_date: row.current_release_date,
            cves: row.cves.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect(),
            subscription_id: row.subscription_id,
            source_url: row.source_url,
        })
        .collect();
    Ok(Json(out).into_response())
}
