//! The aggregator's poller: reads the providers coordinators subscribed to
//! (`quell_store::advisories::subscriptions`) and imports their CSAF documents read-only, each
//! with its own TLP and publisher, marked with the subscription it came from.
//!
//! One poll of one subscription:
//! 1. `provider-metadata.json` (CSAF 2.0 section 7.1.20): its publisher, role, public OpenPGP
//!    keys (each fetched, parsed, and its fingerprint compared with the one the metadata names)
//!    and distributions.
//! 2. Per distribution its ROLIE feeds, else its directory's `changes.csv`, each with a
//!    conditional request (`If-None-Match`/`If-Modified-Since` from the last answer): a feed
//!    that did not change is not read again. A document whose feed time is the one it was last
//!    imported (or found unchanged) at is not fetched; otherwise it is fetched conditionally.
//!    A feed with a document that could not be read (timeout, HTTP error) keeps no validators,
//!    so that document is tried again at the next poll; refused documents are not retried
//!    until the feed changes.
//! 3. Per document: its `.sha256` and `.sha512` (at least one; each present one must match the
//!    bytes), its `.asc` signature against the keys — the pinned key when the coordinator pinned
//!    one (then only it), else every key the metadata names; a signature is required when there
//!    is any such key or the provider says `csaf_trusted_provider` —, then the CSAF checks of a
//!    manual import (`quell_advisory::csaf::read_import`), a known TLP label, and the publisher
//!    namespace of the metadata.
//! 4. A document that passes is imported; one that does not is logged with a reason
//!    (`wrong_hash`, `no_hash`, `bad_signature`, `no_signature`, `too_large`, `invalid_csaf`,
//!    `publisher_mismatch`, `redirects`, `timeout`, `forbidden_address`, `http_status`,
//!    `unreachable`) in the subscription's log, and is never imported.
//!
//! Every request has the limits of [`crate::limits::PeerLimits`] (size of any answer,
//! redirects, total time), and the address policy of webhooks: https to public addresses only,
//! checked inside the client's resolver, unless `--allow-private-providers`. The access token a
//! coordinator gave is sent only to the metadata URL's origin (and never across a redirect).
//!
//! The HTTP part runs on a blocking thread (ureq) and touches no database; the store is written
//! afterwards. Polls are claimed in the database, so processes sharing one poll each
//! subscription once per interval.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use quell_advisory::Tlp;
use quell_advisory::csaf::{Imported, read_import};
use quell_store::advisories::csaf::{self as csaf_store, Source};
use quell_store::advisories::subscriptions::{self, CacheRow, ProviderSeen, SubscriptionRow};
use serde::Serialize;
use serde_json::Value;
use sha2::Digest;

use crate::limits::{MAX_PEER_DOCUMENTS_PER_POLL, MAX_PEER_FEEDS, MAX_PEER_KEYS, PEER_POLL_BUDGET, PeerLimits};
use crate::openpgp::{PeerKey, normalise_fingerprint, verify_any};
use crate::{AppState, ServerError, StoreError, now};

/// The longest a log entry's detail is kept.
const MAX_DETAIL_CHARS: usize = 500;

/// Starts this process's poller (nothing when the poll interval is zero).
pub fn start(state: AppState) {
    let interval = state.limits.peers.poll_interval;
    if interval.is_zero() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval.min(Duration::from_secs(60))).await;
            let cutoff = now() - i64::try_from(interval.as_secs()).unwrap_or(i64::MAX / 2);
            let claimed = match subscriptions::claim_due(&state.db, now(), cutoff).await {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::warn!(error = %e, "aggregator: claiming subscriptions");
                    continue;
                }
            };
            // One task per provider: a slow one does not hold up the others.
            for id in claimed {
                let state = state.clone();
                tokio::spawn(async move {
                    match poll(&state, id).await {
                        Ok(report) => tracing::info!(subscription = id, status = report.status, "aggregator poll"),
                        Err(e) => tracing::warn!(subscription = id, error = %e, "aggregator poll"),
                    }
                });
            }
        }
    });
}

/// What one poll did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PollReport {
    pub subscription_id: i64,
    /// `ok`, `partial` (something was refused or failed) or `failed` (the metadata).
    pub status: &'static str,
    pub imported: usize,
    pub unchanged: usize,
    pub refused: usize,
    pub errors: usize,
    /// Feeds that need a login the subscription has no token for (401/403).
    pub skipped_feeds: usize,
    pub summary: String,
}

/// A problem with one URL: `refused` (it failed a check) or `error` (it could not be read).
#[derive(Debug, Clone)]
struct Problem {
    url: String,
    outcome: &'static str,
    reason: &'static str,
    detail: String,
}

impl Problem {
    fn refused(url: &str, reason: &'static str, detail: impl Into<String>) -> Problem {
        Problem { url: url.to_string(), outcome: "refused", reason, detail: detail.into() }
    }
    fn error(url: &str, reason: &'static str, detail: impl Into<String>) -> Problem {
        Problem { url: url.to_string(), outcome: "error", reason, detail: detail.into() }
    }
}

/// A document that passed every check.
struct Verified {
    url: String,
    text: String,
    imported: Imported,
    cache: CacheRow,
}

/// What the HTTP part of a poll found.
#[derive(Default)]
struct Fetched {
    provider: Option<ProviderSeen>,
    metadata_failed: bool,
    verified: Vec<Verified>,
    problems: Vec<Problem>,
    unchanged: Vec<CacheRow>,
    feeds: Vec<CacheRow>,
    skipped_feeds: usize,
}

/// Polls one subscription now: fetches, checks, imports, logs; the report.
pub async fn poll(state: &AppState, id: i64) -> Result<PollReport, ServerError> {
    let sub = subscriptions::get(&state.db, id).await?;
    let cache: HashMap<String, CacheRow> =
        subscriptions::cache(&state.db, id).await?.into_iter().map(|c| (c.url.clone(), c)).collect();
    let limits = state.limits.peers.clone();
    let user = sub.created_by;
    let fetched = tokio::task::spawn_blocking(move || fetch_all(&sub, &cache, &limits))
        .await
        .map_err(|e| ServerError::Internal(format!("aggregator poll: {e}")))?;
    let mut report = PollReport { subscription_id: id, ..PollReport::default() };
    for row in &fetched.unchanged {
        subscriptions::put_cache(&state.db, id, row).await?;
    }
    report.unchanged = fetched.unchanged.len();
    report.skipped_feeds = fetched.skipped_feeds;
    for doc in &fetched.verified {
        let source = Source { subscription_id: id, url: &doc.url };
        match csaf_store::import(&state.db, &doc.imported, &doc.text, user, Some(source)).await {
            Ok(_) => {
                report.imported += 1;
                let detail =
                    format!("{} {} (TLP:{})", doc.imported.tracking_id, doc.imported.version, doc.imported.tlp_label);
                subscriptions::log(&state.db, id, &doc.url, "imported", "ok", &detail).await?;
            }
            // This version of this document is here already (from this or another source).
            Err(StoreError::Conflict(_)) => report.unchanged += 1,
            Err(e) => return Err(e.into()),
        }
        subscriptions::put_cache(&state.db, id, &doc.cache).await?;
    }
    for p in &fetched.problems {
        match p.outcome {
            "refused" => report.refused += 1,
            _ => report.errors += 1,
        }
        let detail: String = p.detail.chars().take(MAX_DETAIL_CHARS).collect();
        subscriptions::log(&state.db, id, &p.url, p.outcome, p.reason, &detail).await?;
    }
    // The feeds' validators last: a poll that stopped before storing its documents reads the
    // feeds in full again.
    for row in &fetched.feeds {
        subscriptions::put_cache(&state.db, id, row).await?;
    }
    report.status = if fetched.metadata_failed {
        "failed"
    } else if report.refused + report.errors > 0 {
        "partial"
    } else {
        "ok"
    };
    report.summary = format!(
        "imported {}, unchanged {}, refused {}, errors {}, feeds needing a login {}",
        report.imported, report.unchanged, report.refused, report.errors, report.skipped_feeds
    );
    subscriptions::finish_poll(&state.db, id, report.status, &report.summary, fetched.provider.as_ref()).await?;
    subscriptions::prune_log(&state.db, id).await?;
    Ok(report)
}

// ---- checking a new subscription ----

/// Checks a provider URL as a coordinator gives it: https (http only with
/// `--allow-private-providers`), no user name or password, a host, at most
/// [`crate::limits::MAX_SUBSCRIPTION_URL_BYTES`].
pub fn check_provider_url(url: &str, allow_private: bool) -> Result<(), String> {
    if url.len() > crate::limits::MAX_SUBSCRIPTION_URL_BYTES {
        return Err(format!("the URL is longer than {} bytes", crate::limits::MAX_SUBSCRIPTION_URL_BYTES));
    }
    let Some((scheme, rest)) = url.split_once("://") else { return Err("the URL must start with https://".into()) };
    match scheme {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err("the URL must start with https://".into()),
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || url.chars().any(char::is_whitespace) {
        return Err("the URL must name a host, without a user name or password".into());
    }
    Ok(())
}

/// The pinned fingerprint of a new subscription from what the coordinator gave: a key (its
/// fingerprint, which must equal a fingerprint given too) or a fingerprint alone.
pub fn pinned_fingerprint(fingerprint: Option<&str>, key: Option<&str>) -> Result<Option<String>, String> {
    let given = match fingerprint.filter(|f| !f.trim().is_empty()) {
        Some(f) => Some(normalise_fingerprint(f).ok_or("the pinned fingerprint is not 40 or 64 hex digits")?),
        None => None,
    };
    let Some(key) = key.filter(|k| !k.trim().is_empty()) else { return Ok(given) };
    let key = PeerKey::from_armored(key)?;
    match given {
        Some(f) if f != key.fingerprint => {
            Err(format!("the pinned key's fingerprint is {}, not the one given", key.fingerprint))
        }
        _ => Ok(Some(key.fingerprint)),
    }
}

// ---- the HTTP part (blocking, no database) ----

/// One answer of a provider.
enum Got {
    Body { bytes: Vec<u8>, etag: Option<String>, last_modified: Option<String> },
    NotModified,
    Status(u16),
}

struct Client {
    agent: ureq::Agent,
    max_bytes: u64,
    /// `scheme://host[:port]` of the metadata URL: the only origin the token goes to.
    origin: String,
    token: Option<String>,
    /// Plain http allowed (only with `--allow-private-providers`).
    allow_http: bool,
}

impl Client {
    fn new(sub: &SubscriptionRow, limits: &PeerLimits) -> Client {
        let agent = ureq::Agent::with_parts(
            ureq::Agent::config_builder()
                .timeout_global(Some(limits.timeout))
                .http_status_as_error(false)
                .max_redirects(limits.max_redirects)
                .user_agent(concat!("quell/", env!("CARGO_PKG_VERSION"), " (CSAF aggregator)"))
                .build(),
            ureq::unversioned::transport::DefaultConnector::new(),
            super::webhook_target::CheckedResolver::new(limits.allow_private),
        );
        Client {
            agent,
            max_bytes: limits.max_document_bytes,
            origin: origin(&sub.metadata_url),
            token: sub.access_token.clone().filter(|t| !t.is_empty()),
            allow_http: limits.allow_private,
        }
    }

    /// GET with the validators of an earlier answer.
    fn get(&self, url: &str, validators: Option<&CacheRow>) -> Result<Got, Problem> {
        if !(url.starts_with("https://") || (self.allow_http && url.starts_with("http://"))) {
            return Err(Problem::refused(url, "bad_url", "not an https URL"));
        }
        let mut request = self.agent.get(url);
        if let Some(token) = &self.token
            && origin(url) == self.origin
        {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header("If-None-Match", etag);
            }
            if let Some(modified) = &v.last_modified {
                request = request.header("If-Modified-Since", modified);
            }
        }
        let mut response = request.call().map_err(|e| problem_of(url, &e))?;
        let status = response.status().as_u16();
        if status == 304 {
            return Ok(Got::NotModified);
        }
        if status != 200 {
            return Ok(Got::Status(status));
        }
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (etag, last_modified) = (header("etag"), header("last-modified"));
        let too_large = || Problem::refused(url, "too_large", format!("larger than {} bytes", self.max_bytes));
        if header("content-length").and_then(|l| l.parse::<u64>().ok()).is_some_and(|l| l > self.max_bytes) {
            return Err(too_large());
        }
        let bytes = response.body_mut().with_config().limit(self.max_bytes).read_to_vec().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => too_large(),
            e => problem_of(url, &e),
        })?;
        Ok(Got::Body { bytes, etag, last_modified })
    }

    /// GET that must answer 200 with a body.
    fn body(&self, url: &str) -> Result<Vec<u8>, Problem> {
        match self.get(url, None)? {
            Got::Body { bytes, .. } => Ok(bytes),
            Got::NotModified => Err(Problem::error(url, "http_status", "HTTP 304 to an unconditional request")),
            Got::Status(s) => Err(Problem::error(url, "http_status", format!("HTTP {s}"))),
        }
    }
}

/// `scheme://authority` of a URL.
fn origin(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            format!("{}://{}", scheme.to_ascii_lowercase(), rest.split(['/', '?', '#']).next().unwrap_or(""))
        }
        None => String::new(),
    }
}

/// The reason code of a failed request.
fn problem_of(url: &str, e: &ureq::Error) -> Problem {
    match e {
        ureq::Error::TooManyRedirects => Problem::refused(url, "redirects", "too many redirects (a loop?)"),
        ureq::Error::Timeout(_) => Problem::error(url, "timeout", e.to_string()),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            Problem::error(url, "timeout", e.to_string())
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            Problem::refused(url, "forbidden_address", io.to_string())
        }
        ureq::Error::BodyExceedsLimit(_) => Problem::refused(url, "too_large", e.to_string()),
        _ => Problem::error(url, "unreachable", e.to_string()),
    }
}

/// One document a feed or directory lists.
struct Listed {
    url: String,
    /// The feed's time for it (ROLIE `updated`, or the `changes.csv` time).
    marker: String,
    hash_urls: Vec<String>,
    signature_url: String,
    /// The feed (or `changes.csv`) that lists it.
    feed: String,
}

/// The whole HTTP part of a poll.
fn fetch_all(sub: &SubscriptionRow, cache: &HashMap<String, CacheRow>, limits: &PeerLimits) -> Fetched {
    let client = Client::new(sub, limits);
    let mut out = Fetched::default();
    let metadata = match client.body(&sub.metadata_url).and_then(|b| {
        serde_json::from_slice::<Value>(&b)
            .map_err(|e| Problem::refused(&sub.metadata_url, "invalid_metadata", format!("not JSON: {e}")))
    }) {
        Ok(m) => m,
        Err(p) => {
            out.problems.push(p);
            out.metadata_failed = true;
            return out;
        }
    };
    let provider = match provider_of(&metadata) {
        Ok(p) => p,
        Err(detail) => {
            out.problems.push(Problem::refused(&sub.metadata_url, "invalid_metadata", detail));
            out.metadata_failed = true;
            return out;
        }
    };
    let keys = keys_of(&client, sub, &metadata, &mut out.problems);
    let signature_required =
        !keys.is_empty() || sub.pinned_fingerprint.is_some() || provider.role == "csaf_trusted_provider";
    let listed = documents_of(&client, &metadata, cache, &mut out);
    let mut seen = HashSet::new();
    // Feeds with a document that could not be read (a timeout, an HTTP error) are read in full
    // again next time (their validators are not kept), so that document is tried again.
    let mut retry = HashSet::new();
    let mut fetched = 0;
    let started = std::time::Instant::now();
    for doc in listed {
        if !seen.insert(doc.url.clone()) {
            continue;
        }
        let known = cache.get(&doc.url);
        if known.is_some_and(|c| c.sha256.is_some() && c.marker.as_deref() == Some(doc.marker.as_str())) {
            continue;
        }
        if fetched == MAX_PEER_DOCUMENTS_PER_POLL || started.elapsed() > PEER_POLL_BUDGET {
            // The rest waits for the next poll.
            retry.insert(doc.feed.clone());
            continue;
        }
        fetched += 1;
        match check_document(&client, &doc, known, &keys, signature_required, &provider) {
            Ok(Checked::Verified(v)) => out.verified.push(*v),
            Ok(Checked::Unchanged(row)) => out.unchanged.push(row),
            Err(p) => {
                if p.outcome == "error" {
                    retry.insert(doc.feed.clone());
                }
                out.problems.push(p);
            }
        }
    }
    out.feeds.retain(|f| !retry.contains(&f.url));
    out.provider = Some(provider);
    out
}

/// The provider as its metadata describes it (CSAF 2.0 section 7.1.20's required fields).
fn provider_of(metadata: &Value) -> Result<ProviderSeen, String> {
    let text = |v: &Value, what: &str| {
        v.as_str().filter(|s| !s.is_empty()).map(str::to_string).ok_or_else(|| format!("{what} is missing"))
    };
    if metadata["metadata_version"].as_str() != Some("2.0") {
        return Err("metadata_version is not 2.0".into());
    }
    let role = text(&metadata["role"], "role")?;
    if !["csaf_publisher", "csaf_provider", "csaf_trusted_provider"].contains(&role.as_str()) {
        return Err(format!("unknown role {role}"));
    }
    let publisher = &metadata["publisher"];
    Ok(ProviderSeen {
        publisher_name: text(&publisher["name"], "publisher.name")?,
        publisher_namespace: text(&publisher["namespace"], "publisher.namespace")?,
        publisher_category: text(&publisher["category"], "publisher.category")?,
        role,
        last_updated: text(&metadata["last_updated"], "last_updated")?,
        listed: metadata["list_on_CSAF_aggregators"].as_bool().unwrap_or(false),
    })
}

/// The keys signatures are checked against: the pinned key alone when one is pinned, else
/// every key the metadata names whose fetched key has the fingerprint it names.
fn keys_of(client: &Client, sub: &SubscriptionRow, metadata: &Value, problems: &mut Vec<Problem>) -> Vec<PeerKey> {
    if let Some(armored) = &sub.pinned_key {
        return match PeerKey::from_armored(armored) {
            Ok(k) => vec![k],
            Err(e) => {
                problems.push(Problem::error(&sub.metadata_url, "pinned_key", e));
                Vec::new()
            }
        };
    }
    let mut keys = Vec::new();
    let named = metadata["public_openpgp_keys"].as_array().cloned().unwrap_or_default();
    for entry in named.iter().take(MAX_PEER_KEYS) {
        let Some(url) = entry["url"].as_str() else { continue };
        let Some(fingerprint) = entry["fingerprint"].as_str().and_then(normalise_fingerprint) else {
            problems.push(Problem::refused(url, "key_mismatch", "the metadata names no valid fingerprint"));
            continue;
        };
        let key = client.body(url).and_then(|b| {
            let text = String::from_utf8(b).map_err(|_| Problem::refused(url, "bad_key", "not text"))?;
            PeerKey::from_armored(&text).map_err(|e| Problem::refused(url, "bad_key", e))
        });
        match key {
            Ok(k) if k.fingerprint == fingerprint => keys.push(k),
            Ok(k) => problems.push(Problem::refused(
                url,
                "key_mismatch",
                format!("the key's fingerprint is {}, the metadata says {fingerprint}", k.fingerprint),
            )),
            Err(p) => problems.push(p),
        }
    }
    match &sub.pinned_fingerprint {
        Some(pinned) => {
            keys.retain(|k| &k.fingerprint == pinned);
            if keys.is_empty() {
                problems.push(Problem::refused(
                    &sub.metadata_url,
                    "pinned_key",
                    format!("the provider publishes no key with the pinned fingerprint {pinned}"),
                ));
            }
            keys
        }
        None => keys,
    }
}

/// The documents every distribution lists (ROLIE feeds, else the directory's `changes.csv`),
/// each feed read conditionally.
fn documents_of(
    client: &Client,
    metadata: &Value,
    cache: &HashMap<String, CacheRow>,
    out: &mut Fetched,
) -> Vec<Listed> {
    let mut listed = Vec::new();
    let distributions = metadata["distributions"].as_array().cloned().unwrap_or_default();
    let mut feeds = Vec::new();
    for d in &distributions {
        let rolie: Vec<String> = d["rolie"]["feeds"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["url"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        if !rolie.is_empty() {
            feeds.extend(rolie.into_iter().map(|u| (u, true)));
        } else if let Some(dir) = d["directory_url"].as_str() {
            feeds.push((format!("{}/changes.csv", dir.trim_end_matches('/')), false));
        }
    }
    for (url, is_rolie) in feeds.into_iter().take(MAX_PEER_FEEDS) {
        let bytes = match client.get(&url, cache.get(&url)) {
            Ok(Got::Body { bytes, etag, last_modified }) => {
                out.feeds.push(CacheRow { url: url.clone(), etag, last_modified, marker: None, sha256: None });
                bytes
            }
            Ok(Got::NotModified) => continue,
            Ok(Got::Status(401 | 403)) => {
                out.skipped_feeds += 1;
                continue;
            }
            Ok(Got::Status(s)) => {
                out.problems.push(Problem::error(&url, "http_status", format!("HTTP {s}")));
                continue;
            }
            Err(p) => {
                out.problems.push(p);
                continue;
            }
        };
        let read = if is_rolie { rolie_entries(&url, &bytes) } else { changes_entries(&url, &bytes) };
        match read {
            Ok(entries) => listed.extend(entries),
            Err(detail) => out.problems.push(Problem::refused(&url, "invalid_feed", detail)),
        }
    }
    listed
}

fn with_companions(url: String, marker: String, feed: &str) -> Listed {
    Listed {
        hash_urls: vec![format!("{url}.sha256"), format!("{url}.sha512")],
        signature_url: format!("{url}.asc"),
        url,
        marker,
        feed: feed.to_string(),
    }
}

/// The entries of a ROLIE feed (JSON, as CSAF 2.0 requirement 15 shows it).
fn rolie_entries(feed_url: &str, bytes: &[u8]) -> Result<Vec<Listed>, String> {
    let feed: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let entries = feed["feed"]["entry"].as_array().ok_or("no feed.entry")?;
    let mut out = Vec::new();
    for e in entries {
        let links = e["link"].as_array().cloned().unwrap_or_default();
        let link = |rel: &str| -> Vec<String> {
            links.iter().filter(|l| l["rel"] == rel).filter_map(|l| l["href"].as_str().map(str::to_string)).collect()
        };
        let Some(url) = link("self").into_iter().next().or_else(|| e["content"]["src"].as_str().map(str::to_string))
        else {
            continue;
        };
        let marker = e["updated"].as_str().unwrap_or_default().to_string();
        let mut listed = with_companions(url, marker, feed_url);
        let hashes = link("hash");
        if !hashes.is_empty() {
            listed.hash_urls = hashes;
        }
        if let Some(signature) = link("signature").into_iter().next() {
            listed.signature_url = signature;
        }
        out.push(listed);
    }
    Ok(out)
}

/// The entries of a directory's `changes.csv` (`"<year>/<file>.json","<time>"` per line).
fn changes_entries(changes_url: &str, bytes: &[u8]) -> Result<Vec<Listed>, String> {
    let dir = changes_url.trim_end_matches("changes.csv");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", i + 1))?;
        let (Some(path), Some(time)) = (record.get(0), record.get(1)) else {
            return Err(format!("line {}: not two fields", i + 1));
        };
        if path.contains("..") || path.starts_with('/') || path.contains("://") || !path.ends_with(".json") {
            return Err(format!("line {}: {path:?} is not a document path of the directory", i + 1));
        }
        out.push(with_companions(format!("{dir}{path}"), time.to_string(), changes_url));
    }
    Ok(out)
}

enum Checked {
    Verified(Box<Verified>),
    Unchanged(CacheRow),
}

/// Fetches one document and its hashes and signature and checks all of it.
fn check_document(
    client: &Client,
    doc: &Listed,
    known: Option<&CacheRow>,
    keys: &[PeerKey],
    signature_required: bool,
    provider: &ProviderSeen,
) -> Result<Checked, Problem> {
    let url = doc.url.as_str();
    let (bytes, etag, last_modified) = match client.get(url, known)? {
        Got::Body { bytes, etag, last_modified } => (bytes, etag, last_modified),
        Got::NotModified => {
            let mut row = known.cloned().unwrap_or_default();
            row.marker = Some(doc.marker.clone());
            return Ok(Checked::Unchanged(row));
        }
        Got::Status(s) => return Err(Problem::error(url, "http_status", format!("HTTP {s}"))),
    };
    let sha256 = crate::auth::hex(&sha2::Sha256::digest(&bytes));
    let cache =
        CacheRow { url: url.to_string(), etag, last_modified, marker: Some(doc.marker.clone()), sha256: Some(sha256) };
    if known.and_then(|k| k.sha256.as_deref()) == cache.sha256.as_deref() {
        return Ok(Checked::Unchanged(cache));
    }
    check_hashes(client, doc, &bytes)?;
    check_signature(client, doc, &bytes, keys, signature_required)?;
    let text = String::from_utf8(bytes).map_err(|_| Problem::refused(url, "invalid_csaf", "not UTF-8"))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| Problem::refused(url, "invalid_csaf", format!("not JSON: {e}")))?;
    let imported = read_import(&json).map_err(|e| Problem::refused(url, "invalid_csaf", e.to_string()))?;
    if Tlp::parse(&imported.tlp_label).is_none() {
        return Err(Problem::refused(url, "invalid_csaf", "/document/distribution/tlp/label is missing or unknown"));
    }
    let namespace = json["document"]["publisher"]["namespace"].as_str().unwrap_or_default();
    if namespace.trim_end_matches('/') != provider.publisher_namespace.trim_end_matches('/') {
        return Err(Problem::refused(
            url,
            "publisher_mismatch",
            format!(
                "the document's publisher namespace {namespace} is not the provider's {}",
                provider.publisher_namespace
            ),
        ));
    }
    Ok(Checked::Verified(Box::new(Verified { url: url.to_string(), text, imported, cache })))
}

/// A problem with a hash or signature file, reported for its document.
fn companion_problem(doc: &Listed, p: Problem) -> Problem {
    Problem { detail: format!("{}: {}", p.url, p.detail), url: doc.url.clone(), ..p }
}

/// Every hash file present must match; at least one must be present.
fn check_hashes(client: &Client, doc: &Listed, bytes: &[u8]) -> Result<(), Problem> {
    let mut found = 0;
    for hash_url in &doc.hash_urls {
        let expected = if hash_url.ends_with(".sha512") {
            crate::auth::hex(&sha2::Sha512::digest(bytes))
        } else if hash_url.ends_with(".sha256") {
            crate::auth::hex(&sha2::Sha256::digest(bytes))
        } else {
            continue;
        };
        let text = match client.get(hash_url, None).map_err(|p| companion_problem(doc, p))? {
            Got::Body { bytes, .. } => String::from_utf8_lossy(&bytes).to_string(),
            Got::Status(404) => continue,
            Got::Status(s) => return Err(Problem::error(&doc.url, "http_status", format!("{hash_url}: HTTP {s}"))),
            Got::NotModified => continue,
        };
        let given = text.split_whitespace().next().unwrap_or_default();
        if !given.eq_ignore_ascii_case(&expected) {
            return Err(Problem::refused(
                &doc.url,
                "wrong_hash",
                format!("{hash_url} says {given}, the document is {expected}"),
            ));
        }
        found += 1;
    }
    if found == 0 {
        return Err(Problem::refused(&doc.url, "no_hash", "neither a .sha256 nor a .sha512 file"));
    }
    Ok(())
}

/// The `.asc` must be a good signature by one of the keys when a signature is required; an
/// unsigned document of a provider without keys passes.
fn check_signature(
    client: &Client,
    doc: &Listed,
    bytes: &[u8],
    keys: &[PeerKey],
    required: bool,
) -> Result<(), Problem> {
    let signature = match client.get(&doc.signature_url, None).map_err(|p| companion_problem(doc, p))? {
        Got::Body { bytes, .. } => String::from_utf8_lossy(&bytes).to_string(),
        Got::Status(404) if !required => return Ok(()),
        Got::Status(404) => {
            return Err(Problem::refused(&doc.url, "no_signature", format!("{} is missing", doc.signature_url)));
        }
        Got::Status(s) => {
            return Err(Problem::error(&doc.url, "http_status", format!("{}: HTTP {s}", doc.signature_url)));
        }
        Got::NotModified => {
            return Err(Problem::error(&doc.url, "http_status", format!("{}: HTTP 304", doc.signature_url)));
        }
    };
    if keys.is_empty() {
        if required {
            return Err(Problem::refused(&doc.url, "bad_signature", "no usable key to verify the signature with"));
        }
        return Ok(());
    }
    verify_any(keys, bytes, &signature).map(|_| ()).map_err(|e| Problem::refused(&doc.url, "bad_signature", e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn changes_csv_paths_stay_in_the_directory() {
        let ok = changes_entries(
            "https://p.example/csaf/white/changes.csv",
            b"\"2026/a-1.json\",\"2026-01-02T00:00:00Z\"\n",
        )
        .unwrap();
        assert_eq!(ok[0].url, "https://p.example/csaf/white/2026/a-1.json");
        assert_eq!(ok[0].signature_url, "https://p.example/csaf/white/2026/a-1.json.asc");
        for bad in
            ["\"../x.json\",\"t\"", "\"/etc/x.json\",\"t\"", "\"2026/a.txt\",\"t\"", "\"https://e/x.json\",\"t\""]
        {
            assert!(changes_entries("https://p.example/changes.csv", bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_and_urls() {
        assert_eq!(origin("HTTPS://a.example:8443/x/y"), "https://a.example:8443");
        assert!(check_provider_url("https://a.example/.well-known/csaf/provider-metadata.json", false).is_ok());
        assert!(check_provider_url("http://a.example/", false).is_err());
        assert!(check_provider_url("http://127.0.0.1:1/", true).is_ok());
        assert!(check_provider_url("https://u:p@a.example/", false).is_err());
        assert!(check_provider_url("ftp://a.example/", true).is_err());
    }
}
