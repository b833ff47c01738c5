//! Inventories on the server: turning what hosts report (scan `--inventory` records, the
//! packs' findings, SBOMs) into stored components, and answering *where does component X run,
//! in which versions?* from what is stored — without asking anyone to rescan.
//!
//! Invariants:
//! - What a reader learns follows the platform's rule: an organisation user sees its own
//!   systems, applications and paths; a coordinator sees counts per organisation and per
//!   version, and system names and paths only of organisations that share details.
//! - Components are keyed by their package URL's key ([`quell_model::purl::Purl`]); a finding
//!   of a detection pack gets its component's purl from the pack, so shaded and nested copies
//!   the scanner found are askable like any declared jar.

use std::collections::{BTreeMap, BTreeSet};

use quell_model::purl::Purl;
use quell_model::vers::Versions;
use quell_store::components::{self, Location, Match, NewComponent, OrgFilter};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Db, ServerError};

/// Most copies listed with their paths in one answer (counts are always complete).
pub const MAX_ASK_LOCATIONS: usize = 5000;

/// A question: a package and a set of its versions.
#[derive(Debug, Clone)]
pub struct Ask {
    pub purl: Purl,
    pub versions: Versions,
}

impl Ask {
    /// From `purl` (a version in it narrows to that version) and an optional `range`.
    pub fn parse(purl: &str, range: Option<&str>) -> Result<Ask, ServerError> {
        let purl = Purl::parse(purl).map_err(|e| ServerError::Invalid(crate::refusals::purl_error(&e)))?;
        let versions = match (range.map(str::trim).filter(|r| !r.is_empty()), &purl.version) {
            (Some(_), Some(_)) => {
                return Err(ServerError::Invalid(t!("api-version-twice")));
            }
            (Some(range), None) => range.parse().map_err(|e| ServerError::Invalid(crate::refusals::vers_error(&e)))?,
            (None, Some(version)) => {
                version.parse().map_err(|e| ServerError::Invalid(crate::refusals::vers_error(&e)))?
            }
            (None, None) => Versions::All,
        };
        Ok(Ask { purl, versions })
    }
}

/// Systems per version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionCount {
    /// `null`: listed without a version.
    pub version: Option<String>,
    pub organisations: usize,
    pub systems: usize,
}

/// One organisation's part of the answer (coordinators).
#[derive(Debug, Clone, Serialize)]
pub struct OrgCount {
    pub org_id: i64,
    pub name: String,
    pub systems: usize,
    pub versions: Vec<String>,
    /// Whether the organisation shares system names and paths with coordinators.
    pub shares_details: bool,
}

/// The answer to an [`Ask`].
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub purl: String,
    /// The versions asked for, in `vers:` form.
    pub range: String,
    pub organisations: usize,
    pub systems: usize,
    pub by_version: Vec<VersionCount>,
    /// Coordinators only (an organisation's answer is its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_organisation: Option<Vec<OrgCount>>,
    /// Where the copies are: the caller's own, or for coordinators those of organisations that
    /// share details. At most [`MAX_ASK_LOCATIONS`].
    pub locations: Vec<Location>,
    /// True when there were more copies than [`MAX_ASK_LOCATIONS`].
    pub locations_truncated: bool,
}

/// Answers `ask` for a reader: `org` is the caller's organisation (`None`: a coordinator).
pub async fn ask(db: &Db, ask: &Ask, org: Option<i64>) -> Result<Answer, ServerError> {
    let filter = org.map_or(OrgFilter::All, OrgFilter::Only);
    let found = components::matches(db, &ask.purl.key, &ask.versions, filter).await?;
    let mut by_version: BTreeMap<Option<String>, (BTreeSet<i64>, BTreeSet<i64>)> = BTreeMap::new();
    let mut by_org: BTreeMap<i64, (BTreeSet<i64>, BTreeSet<String>)> = BTreeMap::new();
    for Match { org_id, host_id, version } in &found {
        let v = by_version.entry(version.clone()).or_default();
        v.0.insert(*org_id);
        v.1.insert(*host_id);
        let o = by_org.entry(*org_id).or_default();
        o.0.insert(*host_id);
        o.1.extend(version.clone());
    }
    let systems = found.iter().map(|m| m.host_id).collect::<BTreeSet<_>>().len();
    let orgs: BTreeSet<i64> = by_org.keys().copied().collect();
    let (by_organisation, detail_orgs) = match org {
        Some(own) => (None, BTreeSet::from([own])),
        None => {
            let names = components::org_names(db, &orgs).await?;
            let counts: Vec<OrgCount> = by_org
                .iter()
                .map(|(id, (hosts, versions))| {
                    let (name, shares) = names.get(id).cloned().unwrap_or_default();
                    OrgCount {
                        org_id: *id,
                        name,
                        systems: hosts.len(),
                        versions: versions.iter().cloned().collect(),
                        shares_details: shares,
                    }
                })
                .collect();
            let sharing = counts.iter().filter(|c| c.shares_details).map(|c| c.org_id).collect();
            (Some(counts), sharing)
        }
    };
    let mut locations = components::locations(db, &ask.purl.key, &found, &detail_orgs, MAX_ASK_LOCATIONS + 1).await?;
    let locations_truncated = locations.len() > MAX_ASK_LOCATIONS;
    locations.truncate(MAX_ASK_LOCATIONS);
    Ok(Answer {
        purl: ask.purl.key.clone(),
        range: ask.versions.to_string(),
        organisations: orgs.len(),
        systems,
        by_version: by_version
            .into_iter()
            .map(|(version, (orgs, hosts))| VersionCount { version, organisations: orgs.len(), systems: hosts.len() })
            .collect(),
        by_organisation,
        locations,
        locations_truncated,
    })
}

/// A reader that hashes what passes through it (the SBOM's idempotency key).
struct HashingReader<R> {
    inner: R,
    hash: Sha256,
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Where an uploaded SBOM belongs: a host or an application of the organisation.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SbomTarget {
    /// The host's or application's name; default: the SBOM's subject (CycloneDX
    /// `metadata.component.name`, SPDX document name).
    pub system: Option<String>,
    /// `host` or `application` (default `application`).
    pub kind: Option<String>,
}

/// A parsed SBOM ready to store: the system it belongs to and its component list.
#[derive(Debug, Clone)]
pub struct ParsedSbom {
    pub system: String,
    pub kind: components::SystemKind,
    pub source: components::NewSource,
    pub format: &'static str,
}

/// Decodes (gzip when `gzip`, within the inflated-size limit), reads and checks an SBOM upload:
/// CycloneDX 1.4–1.6 or SPDX 2.2/2.3 JSON ([`quell_sbom::parse`] with its limits). Nothing is
/// stored here; every problem is a 4xx with what is wrong.
pub fn parse_sbom(
    body: &[u8],
    gzip: bool,
    target: &SbomTarget,
    limits: &crate::Limits,
) -> Result<ParsedSbom, ServerError> {
    // Streamed: gzip inflated, capped and hashed as the reader consumes it, nothing held but what
    // the SBOM's components keep (16 bombs at once must not cost the server their inflated size).
    let mut reader = HashingReader { inner: crate::ingest::decoded_reader(body, gzip, limits), hash: Sha256::new() };
    let read = quell_sbom::parse_reader(&mut reader, &quell_sbom::SbomLimits::default());
    let limit = reader.inner.limit();
    let sbom = read.map_err(|e| match e {
        quell_sbom::SbomError::Limit { .. } => ServerError::TooLarge(e.to_string()),
        quell_sbom::SbomError::Io(_) if reader.inner.consumed() >= limit => {
            ServerError::TooLarge(format!("the SBOM inflates to more than {limit} bytes"))
        }
        quell_sbom::SbomError::Io(message) => ServerError::Invalid(format!("the body is not valid gzip: {message}")),
        other => ServerError::Invalid(other.to_string()),
    })?;
    let sha256 = crate::auth::hex(&reader.hash.finalize());
    let kind = match target.kind.as_deref().map(str::trim) {
        None | Some("") | Some("application") => components::SystemKind::Application,
        Some("host") => components::SystemKind::Host,
        Some(other) => return Err(ServerError::Invalid(format!("kind must be host or application, not {other:?}"))),
    };
    let system = target
        .system
        .clone()
        .or_else(|| sbom.subject.clone())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ServerError::Invalid(t!("api-sbom-system")))?;
    if system.len() > crate::limits::MAX_HOST_NAME_BYTES || system.chars().any(char::is_control) {
        return Err(ServerError::Invalid(t!(
            "api-system-name",
            max = crate::refusals::limit(crate::limits::MAX_HOST_NAME_BYTES as u64)
        )));
    }
    let taken_at = sbom.created.as_deref().and_then(crate::time::parse_rfc3339).unwrap_or_else(crate::now);
    let (format, source_kind) = match sbom.format {
        quell_sbom::Format::CycloneDx => ("cyclonedx", components::SourceKind::CycloneDx),
        quell_sbom::Format::Spdx => ("spdx", components::SourceKind::Spdx),
    };
    let components = sbom
        .components
        .into_iter()
        .map(|c| {
            let purl = c.purl.as_deref().and_then(|p| Purl::parse(p).ok());
            NewComponent {
                purl_key: purl.as_ref().map(|p| p.key.clone()),
                version: c.version.or_else(|| purl.and_then(|p| p.version)),
                purl: c.purl,
                name: match c.group {
                    Some(group) if !group.is_empty() => format!("{group}:{}", c.name),
                    _ => c.name,
                },
                sha1: c.sha1,
                sha256: c.sha256,
                path: c.path.join(" > "),
                confidence: "sbom".into(),
            }
        })
        .collect();
    Ok(ParsedSbom {
        system,
        kind,
        format,
        source: components::NewSource {
            kind: source_kind,
            body_sha256: sha256,
            taken_at,
            tool: (!sbom.tools.is_empty()).then(|| sbom.tools.join(", ")),
            spec_version: Some(sbom.spec_version),
            components,
        },
    })
}
