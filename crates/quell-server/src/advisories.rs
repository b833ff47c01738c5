//! Advisories: writing, versioning and publishing them, who may see them (TLP 2.0), target
//! groups, delivery (signed webhooks, e-mail, Atom), the CSAF provider, deadlines, decisions and
//! progress. The pure parts (rating, TLP rule, identifiers, CSAF and Atom rendering) are the
//! `quell-advisory` crate.
//!
//! Parts: [`store`] (advisories, versions, publication, recipients), [`groups`] (target groups),
//! [`delivery`] (webhook and e-mail worker), [`csaf_dir`] (provider metadata, directories,
//! import), [`systems`] (affected systems, deadlines, decisions, progress), [`api`] (JSON routes)
//! and [`pages`] (HTML).
//!
//! Invariants:
//! - One access rule: every channel (pages, API, Atom feed, CSAF directories, webhooks, e-mail)
//!   decides through [`can_view`], which applies [`quell_advisory::may_see`] to the audience
//!   stored at publication. Drafts are for coordinators only. Public channels ask as
//!   [`Viewer::Anonymous`], so only TLP:CLEAR appears there.
//! - A published version is immutable: updates are conditional on `status = 'draft'` (409
//!   otherwise), and database triggers refuse any change to a published row. A change is a new
//!   version (a new row).
//! - Identifiers are numbered per year by an upsert of `advisory_counters` inside the creating
//!   transaction, so concurrent creations (even from several processes) never share a number.
//! - Decisions are append-only (triggers refuse UPDATE and DELETE); the latest one counts.
//! - Organisation data (hosts, decisions, contacts, webhooks) is read and written only with the
//!   organisation of the caller's principal; coordinators get counts per organisation and per
//!   target group, never host names.

use std::time::Duration;

use axum::Router;
use sqlx::Row;

use crate::auth::{Principal, Role};
use crate::{AppState, ServerError};
pub use quell_advisory::ident::check_prefix;
use quell_advisory::{Audience, Tlp, Viewer};

pub mod api;
pub mod csaf_dir;
pub mod delivery;
pub mod groups;
pub mod pages;
pub mod store;
pub mod systems;

/// The paths this module routes, as `openapi.json` names them (the OpenAPI test compares).
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
    "/api/v1/target-groups",
    "/api/v1/target-groups/{id}",
    "/api/v1/webhook",
    "/api/v1/contacts",
    "/advisories.atom",
    "/.well-known/csaf/provider-metadata.json",
    "/.well-known/csaf/{dir}/index.txt",
    "/.well-known/csaf/{dir}/changes.csv",
    "/.well-known/csaf/{dir}/{year}/{file}",
];

/// Default identifier prefix (`QUELL-2026-0001`). Flag: `--advisory-prefix`.
pub const DEFAULT_PREFIX: &str = "QUELL";
/// Most advisory versions read for one listing (the newest first).
pub const MAX_LISTED_VERSIONS: i64 = 20_000;
/// Most explicit recipients (organisations, groups, named users) of one advisory.
pub const MAX_RECIPIENTS: usize = 10_000;
/// Longest text of a decision's measure, reason or note, a contact field, a group name.
pub const MAX_NOTE_BYTES: usize = 2000;
/// Largest imported CSAF document.
pub const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;
/// Most entries in the Atom feed.
pub const FEED_ENTRIES: i64 = 100;
/// Days a progress series covers at most.
pub const MAX_PROGRESS_DAYS: i64 = 366;
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
    pub fn days(&self, severity: &str) -> i64 {
        match severity {
            "critical" => self.critical,
            "high" => self.high,
            "medium" => self.medium,
            _ => self.low,
        }
    }
}

/// The SMTP relay e-mail goes through (plain SMTP to a relay on a trusted network, e.g. the
/// local MTA).
#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub from: String,
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
        }
    }
}

/// All advisory routes (API, feed, CSAF, pages).
pub fn router() -> Router<AppState> {
    api::router().merge(csaf_dir::router()).merge(pages::router())
}

/// The viewer a principal is (`None`: anonymous).
pub fn viewer_of(principal: Option<&Principal>) -> Viewer {
    match principal {
        None => Viewer::Anonymous,
        Some(p) => Viewer::User { user_id: p.user_id, org_id: p.org_id, coordinator: p.role == Role::Coordinator },
    }
}

/// Whether a viewer is a coordinator (may see and edit drafts).
pub fn is_coordinator(viewer: &Viewer) -> bool {
    matches!(viewer, Viewer::User { coordinator: true, .. })
}

/// The audience of a published version as stored at publication.
#[derive(Debug, Clone, Default)]
pub struct StoredAudience {
    pub orgs: Vec<i64>,
    pub named: Vec<i64>,
}

/// Reads a version's audience.
pub async fn audience(db: &crate::Db, version_id: i64) -> Result<StoredAudience, ServerError> {
    let orgs = sqlx::query("SELECT org_id FROM advisory_audience WHERE version_id = $1")
        .bind(version_id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    let named = sqlx::query("SELECT user_id FROM advisory_named WHERE version_id = $1")
        .bind(version_id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    Ok(StoredAudience { orgs, named })
}

/// THE access decision for one version and one viewer: drafts for coordinators; published
/// versions by [`quell_advisory::may_see`] over the stored audience.
pub fn can_view(published: bool, tlp: Tlp, author: i64, audience: &StoredAudience, viewer: &Viewer) -> bool {
    if !published {
        return is_coordinator(viewer);
    }
    quell_advisory::may_see(tlp, viewer, &Audience { author, orgs: &audience.orgs, named: &audience.named })
}

/// Checks free text of a note-like field.
pub(crate) fn check_note(what: &str, value: &str, required: bool) -> Result<(), ServerError> {
    if required && value.trim().is_empty() {
        return Err(ServerError::Invalid(format!("{what} is required")));
    }
    if value.len() > MAX_NOTE_BYTES {
        return Err(ServerError::Invalid(format!("{what} is longer than {MAX_NOTE_BYTES} bytes")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(ServerError::Invalid(format!("{what} contains control characters")));
    }
    Ok(())
}

/// The year of a Unix time.
pub(crate) fn year_of(unix: i64) -> i64 {
    crate::time::civil_from_days(unix.div_euclid(86_400)).0
}

/// Builds `$n, $n+1, …` placeholders for an `IN (…)` list starting at `$first`.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_path_is_routed_here() {
        let source = [include_str!("advisories/api.rs"), include_str!("advisories/csaf_dir.rs")].concat();
        for path in API_PATHS {
            assert!(source.contains(&format!("\"{path}\"")), "{path} is not routed");
        }
    }

    #[test]
    fn deadline_classes() {
        let d = DeadlineDays::default();
        assert_eq!((d.days("critical"), d.days("high"), d.days("medium"), d.days("low")), (7, 30, 90, 120));
        assert_eq!(placeholders(3, 2), "$3, $4");
    }
}
