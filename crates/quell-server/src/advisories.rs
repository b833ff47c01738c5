//! Advisories: writing, versioning and publishing them, who may see them (TLP 2.0), target
//! groups, delivery (signed webhooks, e-mail, Atom), the CSAF provider, deadlines, decisions and
//! progress. This module is the service glue between the store and the handlers: the
//! configuration ([`Config`], deadlines per class), the context that deadlines and progress are
//! computed from ([`context`]), progress and overdue summaries, and the CSAF document of a
//! version. The pure parts (rating and deadline classes, the TLP rule, identifiers, systems over
//! time, CSAF and Atom rendering) are the `quell-advisory` crate; the SQL is
//! `quell_store::advisories`; the routes are `api::advisories` (JSON API, Atom feed),
//! `api::csaf` (CSAF provider directory, imports), `pages::advisories` (HTML) and
//! `jobs::delivery` (the webhook and e-mail worker).
//!
//! Invariants:
//! - One access rule: every channel (pages, API, Atom feed, CSAF directories, webhooks, e-mail)
//!   decides through [`quell_advisory::can_view`], which applies [`quell_advisory::may_see`] to
//!   the audience stored at publication. Drafts are for coordinators only. Public channels ask
//!   as [`Viewer::Anonymous`], so only TLP:CLEAR appears there.
//! - A published version is immutable, identifiers are numbered per year in the creating
//!   transaction, decisions are append-only (see `quell_store::advisories`).
//! - Organisation data (hosts, decisions, contacts, webhooks) is read and written only with the
//!   organisation of the caller's principal; coordinators get counts per organisation and per
//!   target group, never host names.

use std::collections::BTreeMap;
use std::time::Duration;

use quell_advisory::csaf::{self, CsafInput, Publisher, Revision};
pub use quell_advisory::ident::check_prefix;
use quell_advisory::progress::{self, Timeline};
use quell_advisory::{DeadlineClass, Product, Version, Viewer};
use quell_store::advisories::store::{self, VersionRow};
use quell_store::advisories::{groups, systems, year_of};
use serde_json::{Value, json};

use crate::time::format_rfc3339;
use crate::{AppState, ServerError, now};

/// The paths of advisories in the route table, as `openapi.json` names them (the OpenAPI test compares).
pub const API_PATHS: &[&str] = &[
    "/api/v1/advisories",
    "/api/v1/advisories/overdue",
    "/api/v1/advisories/{id}",
    "/api/v1/advisories/{id}/versions",
    "/api/v1/advisories/{id}/versions/{version}",
    "/api/v1/advisories/{id}/publish",
    "/api/v1/advisories/{id}/csaf",
    "/api/v1/advisories/{id}/recipients",
    "/api/v1/advisories/{id}/deliveries",
    "/api/v1/advisories/{id}/call-list",
    "/api/v1/advisories/{id}/call-list/{entry}/calls",
    "/api/v1/advisories/{id}/systems",
    "/api/v1/advisories/{id}/systems/{host}/decisions",
    "/api/v1/advisories/{id}/products/{product}/decisions",
    "/api/v1/advisories/{id}/progress",
    "/api/v1/advisories/import",
    "/api/v1/advisories/external",
    "/api/v1/advisories/external/{id}",
    "/api/v1/advisories/external/{id}/forward",
    "/api/v1/csaf/subscriptions",
    "/api/v1/csaf/subscriptions/{id}",
    "/api/v1/csaf/subscriptions/{id}/poll",
    "/api/v1/target-groups",
    "/api/v1/target-groups/{id}",
    "/api/v1/webhook",
    "/api/v1/contacts",
    "/advisories.atom",
    "/.well-known/csaf/provider-metadata.json",
    "/.well-known/csaf/{dir}/index.txt",
    "/.well-known/csaf/{dir}/changes.csv",
    "/.well-known/csaf/{dir}/{year}/{file}",
    "/.well-known/csaf/{dir}/feed.json",
    "/.well-known/csaf/{dir}/",
    "/.well-known/csaf/{dir}/{year}/",
    "/.well-known/csaf/openpgp/{file}",
    "/.well-known/security.txt",
    "/.well-known/csaf-aggregator/aggregator.json",
];

/// Default identifier prefix (`QUELL-2026-0001`). Flag: `--advisory-prefix`.
pub const DEFAULT_PREFIX: &str = "QUELL";
/// The store's limits of advisories (most versions listed, recipients, note length).
pub use quell_store::advisories::{MAX_LISTED_VERSIONS, MAX_NOTE_BYTES, MAX_RECIPIENTS};
/// Largest imported CSAF document.
pub const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;
/// Most entries in the Atom feed.
pub const FEED_ENTRIES: i64 = 100;
/// Days until the `Expires:` of the served `security.txt` (RFC 9116 asks for less than a year).
pub const SECURITY_TXT_EXPIRES_DAYS: i64 = 180;
/// Days a progress series covers at most.
pub use quell_advisory::progress::MAX_PROGRESS_DAYS;
/// Deadline of a High/High advisory: the government baseline's one week.
pub const HIGH_HIGH_DEADLINE_DAYS: i64 = 7;

/// Days from publication to the deadline, per deadline class (see `quell_advisory::rating`).
/// Critical (High/High) is the baseline's seven days.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineDays {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
}

impl Default for DeadlineDays {
    fn default() -> Self {
        DeadlineDays { critical: HIGH_HIGH_DEADLINE_DAYS, high: 30, medium: 90, low: 120 }
    }
}

impl DeadlineDays {
    /// The days of a deadline class.
    pub fn days(&self, class: DeadlineClass) -> i64 {
        match class {
            DeadlineClass::Critical => self.critical,
            DeadlineClass::High => self.high,
            DeadlineClass::Medium => self.medium,
            DeadlineClass::Low => self.low,
        }
    }
}

/// The SMTP relay e-mail goes through. STARTTLS is required by default: advisory e-mail carries
/// AMBER and RED. Flags: `--smtp-host`, `--smtp-port`, `--smtp-from`, `--smtp-tls`,
/// `--smtp-user` (password: `QUELL_SMTP_PASSWORD` or `--smtp-password-file`), `--smtp-ca-file`.
#[derive(Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub tls: SmtpTls,
    /// (user, password) for SMTP AUTH; only over TLS.
    pub credentials: Option<(String, String)>,
    /// PEM certificates trusted besides the system's roots (a relay with an internal CA).
    pub extra_roots_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("tls", &self.tls)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .finish_non_exhaustive()
    }
}

impl Smtp {
    /// A relay without TLS or login (a local MTA on loopback; tests).
    pub fn plain(host: &str, port: u16, from: &str) -> Smtp {
        Smtp {
            host: host.to_string(),
            port,
            from: from.to_string(),
            tls: SmtpTls::None,
            credentials: None,
            extra_roots_pem: None,
        }
    }
}

/// Transport security towards the SMTP relay (`--smtp-tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// STARTTLS with a verified certificate, or no delivery (the default).
    Required,
    /// STARTTLS when the relay offers it, else plain.
    Opportunistic,
    /// Plain SMTP (a local relay on loopback only).
    None,
}

impl SmtpTls {
    pub fn parse(text: &str) -> Option<SmtpTls> {
        match text {
            "required" => Some(SmtpTls::Required),
            "opportunistic" => Some(SmtpTls::Opportunistic),
            "none" => Some(SmtpTls::None),
            _ => None,
        }
    }
}

/// How advisories work in one server process (flags of `quell serve`).
#[derive(Debug, Clone)]
pub struct Config {
    /// Identifier prefix, `QUELL` by default. Flag: `--advisory-prefix`.
    pub prefix: String,
    /// Name of the publishing CERT (CSAF publisher, feed author). Flag: `--publisher-name`.
    pub publisher_name: String,
    /// The URL the server is reached at, for links in feeds, CSAF and messages
    /// (`https://cert.example`). Flag: `--public-url`.
    pub public_url: String,
    /// `None`: no e-mail is sent. Flags: `--smtp-host`, `--smtp-port`, `--smtp-from`.
    pub smtp: Option<Smtp>,
    /// How long one webhook or SMTP attempt may take. Flag: `--delivery-timeout-secs`.
    pub delivery_timeout: Duration,
    /// The first retry waits this long, each further one twice as long. Flag:
    /// `--delivery-retry-secs`.
    pub retry_base: Duration,
    /// Attempts before a delivery is given up as failed. Flag: `--delivery-attempts`.
    pub max_attempts: i64,
    /// How often the delivery worker looks for due deliveries.
    pub poll_interval: Duration,
    /// How long a claimed delivery stays claimed before another process may take it over.
    pub lease: Duration,
    /// Flags: `--deadline-high-days`, `--deadline-medium-days`, `--deadline-low-days`.
    pub deadlines: DeadlineDays,
    /// Allow webhooks over plain http and to loopback, private and link-local addresses (see
    /// `jobs::webhook_target`). Flag: `--allow-private-webhooks`.
    pub allow_private_webhooks: bool,
    /// The CSAF signing key and the published public keys (`None`: documents are not signed and
    /// the provider metadata says `csaf_provider`). Flags: `--csaf-signing-key`,
    /// `--csaf-previous-public-key`.
    pub csaf_keys: Option<std::sync::Arc<crate::openpgp::CsafKeys>>,
    /// The `Contact:` of `/.well-known/security.txt` (a `mailto:` or `https:` URI). Flag:
    /// `--security-contact`; default `mailto:` and the e-mail sender address.
    pub security_contact: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            prefix: DEFAULT_PREFIX.to_string(),
            publisher_name: "quell".to_string(),
            public_url: "http://localhost:8080".to_string(),
            smtp: None,
            delivery_timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(30),
            max_attempts: 8,
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(120),
            deadlines: DeadlineDays::default(),
            allow_private_webhooks: false,
            csaf_keys: None,
            security_contact: None,
        }
    }
}

/// Matches an organisation's new inventory or SBOM against the open advisories that name
/// components (see `quell_store::advisories::store::match_later_upload`). The upload is stored
/// already, so a failure here is logged, not answered: the next upload matches again.
pub async fn match_later_upload(db: &crate::Db, org: i64) {
    match store::match_later_upload(db, org).await {
        Ok(added) if !added.is_empty() => tracing::info!(org, advisories = ?added, "new recipient of open advisories"),
        Ok(_) => {}
        Err(e) => tracing::warn!(org, error = %e, "matching an upload against open advisories failed"),
    }
}

/// Expands the components a coordinator named by detection pack (`{"pack": "commons-text"}`)
/// into the pack's components (purl) with the affected versions of each of the pack's
/// vulnerabilities — only those among the advisory's CVEs when it lists any — as `vers:` ranges.
/// The packs are the built-in ones and those coordinators uploaded (`POST /api/v1/packs`,
/// signature checked there). Entries that name a purl are kept as written. 400 for a pack the
/// server does not know.
pub async fn expand_packs(db: &crate::Db, draft: &mut store::Draft) -> Result<(), ServerError> {
    if !draft.content.components.iter().any(|c| c.purl.trim().is_empty() && c.pack.is_some()) {
        return Ok(());
    }
    let mut packs = quell_packs::builtin_packs();
    for stored in quell_store::packs::current(db).await? {
        let source = format!("uploaded:{}", stored.name);
        match quell_packs::parse(&source, &stored.pack) {
            Ok(pack) => packs.push((pack, source)),
            Err(e) => tracing::warn!(pack = %stored.name, errors = e.len(), "a stored pack does not parse"),
        }
    }
    let rules = quell_packs::Rules::compile(&packs);
    let cves = &draft.content.cves;
    let mut out: Vec<quell_advisory::AffectedComponent> = Vec::new();
    for entry in std::mem::take(&mut draft.content.components) {
        let Some(pack) = entry.pack.clone().filter(|_| entry.purl.trim().is_empty()) else {
            out.push(entry);
            continue;
        };
        let summary = rules.packs().iter().find(|p| p.name == pack).ok_or_else(|| {
            let known: Vec<&str> = rules.packs().iter().map(|p| p.name.as_str()).collect();
            ServerError::Invalid(format!("no detection pack named {pack:?} (known: {})", known.join(", ")))
        })?;
        let before = out.len();
        for component in &summary.components {
            let Some(info) = rules.component(component) else { continue };
            for vuln in &summary.vulnerabilities {
                if !cves.is_empty() && !cves.iter().any(|c| c.eq_ignore_ascii_case(vuln)) {
                    continue;
                }
                let Some((events, _)) = rules.affects(component, &quell_model::Cve::new(vuln.as_str())) else {
                    continue;
                };
                if events.is_empty() {
                    continue;
                }
                let range = quell_model::vers::Versions::from_events(&events).to_string();
                let expanded =
                    quell_advisory::AffectedComponent { purl: info.purl.clone(), range, pack: Some(pack.clone()) };
                if !out.contains(&expanded) {
                    out.push(expanded);
                }
            }
        }
        if out.len() == before {
            return Err(ServerError::Invalid(t!("api-pack-no-versions", pack = format!("{pack:?}"))));
        }
    }
    draft.content.components = out;
    Ok(())
}

/// An advisory id from the URL: a number or an identifier.
pub async fn advisory_id(state: &AppState, text: &str) -> Result<i64, ServerError> {
    match text.parse::<i64>() {
        Ok(id) => Ok(id),
        Err(_) => Ok(store::id_of(&state.db, text).await?),
    }
}

/// What systems, deadlines and progress are computed from: the newest published version the
/// viewer may see.
pub struct Context {
    pub id: i64,
    pub version: VersionRow,
    pub cves: Vec<String>,
    pub products: Vec<Product>,
    pub components: Vec<quell_advisory::AffectedComponent>,
    pub fix_available: bool,
    pub published: i64,
    pub deadline: i64,
}

impl Context {
    pub fn scope(&self) -> systems::Scope<'_> {
        systems::Scope {
            advisory_id: self.id,
            cves: &self.cves,
            products: &self.products,
            components: &self.components,
            published: self.published,
        }
    }
}

/// The context of an advisory for a viewer (404 when the viewer sees no published version).
/// Deadline: first publication + the days of the newest published version's deadline class.
pub async fn context(state: &AppState, id: i64, viewer: &Viewer) -> Result<Context, ServerError> {
    let all = store::visible_versions(&state.db, id, viewer).await?;
    let version = all
        .into_iter()
        .rev()
        .find(VersionRow::published)
        .ok_or_else(|| ServerError::NotFound(t!("not-found-no-published-version", id = id.to_string())))?;
    let content = version.content()?;
    let published = store::first_published(&state.db, id).await?.unwrap_or_else(now);
    let deadline = published + state.advisories.deadlines.days(version.severity) * 86_400;
    Ok(Context {
        id,
        version,
        cves: content.cves,
        products: content.products,
        components: content.components,
        fix_available: content.fix_available,
        published,
        deadline,
    })
}

/// Progress of one advisory: for an organisation user their own systems; for a coordinator
/// counts in total, per organisation and per target group.
pub async fn progress_json(state: &AppState, id: i64, viewer: &Viewer) -> Result<Value, ServerError> {
    let ctx = context(state, id, viewer).await?;
    let org = match viewer {
        Viewer::User { org_id: Some(org), .. } => Some(*org),
        Viewer::User { coordinator: true, .. } => None,
        _ => return Err(ServerError::Unauthorized(t!("api-log-in-progress"))),
    };
    let at = now();
    let t = systems::timelines(&state.db, &ctx.scope(), org).await?;
    let refs: Vec<&Timeline> = t.iter().collect();
    let mut out = json!({
        "advisory": ctx.version.identifier,
        "deadline": ctx.deadline,
        "counts": progress::counts(t.iter(), ctx.deadline, at),
        "series": progress::series(&refs, ctx.published, at),
    });
    if org.is_none() {
        let names: BTreeMap<i64, String> =
            store::org_names(&state.db).await?.into_iter().map(|o| (o.id, o.name)).collect();
        let per_org: Vec<_> = orgs_of(&t)
            .iter()
            .map(|o| {
                json!({
                    "org_id": o,
                    "org": names.get(o),
                    "counts": progress::counts(t.iter().filter(|x| x.org_id == *o), ctx.deadline, at),
                })
            })
            .collect();
        let mut per_group = Vec::new();
        for g in groups::list(&state.db).await? {
            let c = progress::counts(t.iter().filter(|x| g.members.contains(&x.org_id)), ctx.deadline, at);
            per_group.push(json!({ "group_id": g.id, "group": g.name, "counts": c }));
        }
        out["orgs"] = per_org.into();
        out["groups"] = per_group.into();
    }
    Ok(out)
}

/// The organisations of timelines, each once (timelines come ordered by system).
fn orgs_of(t: &[Timeline]) -> Vec<i64> {
    let mut orgs: Vec<i64> = t.iter().map(|x| x.org_id).collect();
    orgs.dedup();
    orgs
}

/// Overdue systems: an organisation's own list, or counts per organisation for coordinators
/// (401 for anonymous viewers).
pub async fn overdue_json(state: &AppState, viewer: &Viewer) -> Result<Value, ServerError> {
    if *viewer == Viewer::Anonymous {
        return Err(ServerError::Unauthorized(t!("api-log-in")));
    }
    let at = now();
    let mut out = Vec::new();
    for v in store::list_visible(&state.db, viewer, true).await? {
        let ctx = context(state, v.advisory_id, viewer).await?;
        if at <= ctx.deadline {
            continue;
        }
        match viewer {
            Viewer::User { org_id: Some(org), .. } => out.extend(overdue_systems(state, &ctx, *org, at).await?),
            _ => out.extend(overdue_counts(state, &ctx, at).await?),
        }
    }
    Ok(Value::Array(out))
}

/// An organisation's overdue systems of one advisory.
async fn overdue_systems(state: &AppState, ctx: &Context, org: i64, at: i64) -> Result<Vec<Value>, ServerError> {
    let v = &ctx.version;
    let t = systems::timelines(&state.db, &ctx.scope(), Some(org)).await?;
    Ok(progress::systems(&t, ctx.deadline, ctx.fix_available, at)
        .into_iter()
        .filter(|s| s.overdue)
        .map(|s| {
            json!({
                "advisory_id": v.advisory_id,
                "identifier": v.identifier,
                "title": v.title,
                "tag": v.tag(),
                "deadline": ctx.deadline,
                "kind": s.kind,
                "host_id": s.host_id,
                "product_id": s.product_id,
                "host": s.host,
                "name": s.name,
                "suggest_switch_off": s.suggest_switch_off,
            })
        })
        .collect())
}

/// The overdue counts of one advisory, per organisation (for coordinators).
async fn overdue_counts(state: &AppState, ctx: &Context, at: i64) -> Result<Option<Value>, ServerError> {
    let v = &ctx.version;
    let t = systems::timelines(&state.db, &ctx.scope(), None).await?;
    let per_org: Vec<_> = orgs_of(&t)
        .iter()
        .map(|o| (o, progress::counts(t.iter().filter(|x| x.org_id == *o), ctx.deadline, at)))
        .filter(|(_, c)| c.overdue > 0)
        .map(|(o, c)| json!({ "org_id": o, "overdue": c.overdue, "open": c.open }))
        .collect();
    let total = progress::counts(t.iter(), ctx.deadline, at);
    Ok((total.overdue > 0).then(|| {
        json!({
            "advisory_id": v.advisory_id,
            "identifier": v.identifier,
            "title": v.title,
            "tag": v.tag(),
            "deadline": ctx.deadline,
            "overdue": total.overdue,
            "orgs": per_org,
        })
    }))
}

/// The public URL without a trailing slash.
pub fn base(config: &Config) -> String {
    config.public_url.trim_end_matches('/').to_string()
}

/// The CSAF document of a published version (revision history: every published version up to
/// it), in its original language, or (`lang`) in the language of its translation when it has
/// one: then `/document/lang` is the translation's and `/document/source_lang` the original's.
pub async fn csaf_document(state: &AppState, version: &VersionRow, lang: Option<&str>) -> Result<Value, ServerError> {
    let all = store::versions(&state.db, version.advisory_id).await?;
    let mut revisions = Vec::new();
    for v in all.iter().filter(|v| v.published() && v.version_index <= version.version_index) {
        revisions.push(Revision {
            version: Version(v.version_index),
            date: format_rfc3339(v.published_at.unwrap_or(v.updated_at)),
            summary: v.content()?.revision_note,
        });
    }
    let original = version.content()?;
    let translated = lang.filter(|l| *l != original.original_lang() && original.languages().contains(l));
    let content = match translated {
        Some(l) => original.in_language(l),
        None => original.clone(),
    };
    let rating = version.rating()?;
    let publisher = Publisher { name: state.advisories.publisher_name.clone(), namespace: base(&state.advisories) };
    let first = all.iter().filter(|v| v.published()).filter_map(|v| v.published_at).min();
    let self_url = csaf_url(&state.advisories, version, first.unwrap_or(version.created_at));
    Ok(csaf::render(&CsafInput {
        tracking_id: &version.identifier,
        content: &content,
        rating: &rating,
        revisions: &revisions,
        publisher: &publisher,
        self_url: Some(&self_url),
        generator_version: env!("CARGO_PKG_VERSION"),
        source_lang: translated.map(|_| original.original_lang()),
    }))
}

/// A version's path in its CSAF directory: `<year>/<file>.json`, the year of the advisory's
/// first publication (CSAF requirement 11: the year of `initial_release_date`).
pub fn csaf_relative_path(version: &VersionRow, first_published: i64) -> String {
    format!("{}/{}", year_of(first_published), csaf::file_name(&version.identifier))
}

/// A version's URL in the CSAF provider directory of its TLP.
pub fn csaf_url(config: &Config, version: &VersionRow, first_published: i64) -> String {
    format!(
        "{}/.well-known/csaf/{}/{}",
        base(config),
        version.tlp.csaf_dir(),
        csaf_relative_path(version, first_published)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_path_is_routed() {
        let source = include_str!("router.rs");
        for path in API_PATHS {
            assert!(source.contains(&format!("\"{path}\"")), "{path} is not routed");
        }
    }

    #[test]
    fn deadline_classes() {
        let d = DeadlineDays::default();
        let days = |c: &str| d.days(DeadlineClass::parse(c).expect("a class"));
        assert_eq!((days("critical"), days("high"), days("medium"), days("low")), (7, 30, 90, 120));
    }
}
