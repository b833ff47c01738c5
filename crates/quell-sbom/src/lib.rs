//! Reading the SBOMs that customers' tools already produce: CycloneDX 1.4–1.7 JSON and SPDX
//! 2.3 (and 2.2) JSON, into one flat list of components the server stores and matches against
//! advisories.
//!
//! # Brief overview
//!
//! [`parse`] takes the document's bytes and a [`SbomLimits`] and returns a [`Sbom`]: the
//! [`Format`], spec version, serial number, creation time, subject and generator tools, and the
//! [`SbomComponent`]s, each with name, group, version, purl, SHA-1/SHA-256 and its `path` (the
//! names of the components it is nested in, then its own `bom-ref`/`SPDXID`). Anything it cannot
//! read is a [`SbomError`] that says where and why.
//!
//! ```
//! let doc = br#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
//!     {"type": "library", "group": "org.apache.commons", "name": "commons-text", "version": "1.9",
//!      "purl": "pkg:maven/org.apache.commons/commons-text@1.9", "bom-ref": "ct"}]}"#;
//! let sbom = quell_sbom::parse(doc, &quell_sbom::SbomLimits::default()).expect("an SBOM");
//! assert_eq!(sbom.format, quell_sbom::Format::CycloneDx);
//! assert_eq!(sbom.components[0].group.as_deref(), Some("org.apache.commons"));
//! assert_eq!(sbom.components[0].path, ["ct"]);
//!
//! let err = quell_sbom::parse(br#"{"bomFormat": "CycloneDX", "specVersion": "1.5",
//!     "components": [{"name": "x", "version": 17}]}"#, &Default::default()).unwrap_err();
//! assert_eq!(err.to_string(), "/components/0/version: expected a string, found a number");
//! ```
//!
//! # What is read, and the choices made
//!
//! - The format comes from the content: `"bomFormat": "CycloneDX"` with `specVersion` 1.4, 1.5
//!   or 1.6; `"spdxVersion": "SPDX-2.3"` or `"SPDX-2.2"`. Other versions, and SPDX 3's JSON-LD
//!   (recognised by its `@context`), are an [`SbomError::UnsupportedSpecVersion`]. A UTF-8 byte
//!   order mark is skipped; UTF-16/32 is an [`SbomError::Encoding`].
//! - CycloneDX: `components` at the top level and nested `components` to any depth (within
//!   [`SbomLimits::max_component_depth`]) are flattened in document order, a component before
//!   the ones nested in it. `metadata.component` (what the SBOM describes) is an inventory entry
//!   only when it has a purl: without one it names the product, not something that can match an
//!   advisory; its nested components are always entries, with its name in their `path`.
//!   Hashes: the first `SHA-1` and the first `SHA-256` of `hashes`; other algorithms ignored.
//!   Tools: `metadata.tools` in both shapes (1.4's array, 1.5+'s `{components, services}`), as
//!   `"name version"`.
//! - SPDX: `packages` (`name`, `SPDXID`, `versionInfo`, the first `externalRefs` entry of
//!   `referenceType` `purl`, `checksums` `SHA1`/`SHA256`). A package the document DESCRIBES
//!   (`documentDescribes`, or a `DESCRIBES` relationship of `SPDXRef-DOCUMENT`) is skipped when
//!   it has neither a purl nor a version, for the same reason as CycloneDX's subject. Tools:
//!   `creationInfo.creators` entries `Tool: …`, without the prefix.
//! - `group`: the component's own `group` when not empty, else the namespace of a
//!   `pkg:maven/…` purl. For SPDX, a package named `group:artifact` with such a purl gets the
//!   artifact as its `name`. Empty strings of optional fields (`group`, `version`, `purl`) and
//!   `null`s are absent.
//! - Hash values are lowercased; one of the wrong length or not hex is an
//!   [`SbomError::InvalidValue`]. A component or package without a `name` is an
//!   [`SbomError::Missing`].
//!
//! # Invariants
//!
//! - Pure: no I/O, no clock, no globals; the same bytes and limits give the same result.
//! - Bounded: the document is read in one streaming pass; only the fields listed above are kept
//!   (skipped fields are never built), every kept string is at most
//!   [`SbomLimits::max_string_bytes`], JSON nesting at most [`SbomLimits::max_json_depth`]
//!   (and `serde_json`'s own 128), and reading stops at the first component over
//!   [`SbomLimits::max_components`]. Memory is the kept fields plus a constant.
//! - Never panics on any input (property-tested). Every error about a part of the document has
//!   its location: a JSON pointer for types, values and limits, line and column for malformed
//!   JSON; the others (not an SBOM, unsupported version, encoding) say what was found.
//! - Types are checked only for the fields that are read; a document may have anything elsewhere.

mod de;
mod error;
mod limits;

use serde::de::DeserializeSeed;
use serde::{Deserialize, Serialize};

pub use error::SbomError;
pub use limits::{Limit, MAX_COMPONENT_DEPTH, MAX_COMPONENTS, MAX_JSON_DEPTH, MAX_STRING_BYTES, SbomLimits};

/// The CycloneDX versions read.
pub const CYCLONEDX_VERSIONS: &[&str] = &["1.4", "1.5", "1.6", "1.7"];
/// The SPDX versions read.
pub const SPDX_VERSIONS: &[&str] = &["SPDX-2.3", "SPDX-2.2"];

const SPDX_SUPPORTED: &str = "SPDX 2.3 and 2.2 (JSON)";

/// `serde_json`'s own nesting guard, for the error when it, not [`SbomLimits::max_json_depth`],
/// stops a document.
const SERDE_JSON_DEPTH: usize = 128;

/// The kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    CycloneDx,
    Spdx,
}

/// One SBOM document as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sbom {
    pub format: Format,
    /// `"1.4"`..`"1.6"` for CycloneDX, `"SPDX-2.3"` (or `"SPDX-2.2"`) for SPDX.
    pub spec_version: String,
    /// CycloneDX `serialNumber` / SPDX `documentNamespace`.
    pub serial: Option<String>,
    /// `metadata.timestamp` / `creationInfo.created`, as given (RFC 3339 by both specifications;
    /// not checked here).
    pub created: Option<String>,
    /// The name of `metadata.component` / the SPDX document's `name`.
    pub subject: Option<String>,
    /// The generators, `"name version"`, in document order.
    pub tools: Vec<String>,
    pub components: Vec<SbomComponent>,
}

/// One component of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SbomComponent {
    /// For Maven: the artifactId (the group is in `group`).
    pub name: String,
    pub group: Option<String>,
    pub version: Option<String>,
    /// As given (CycloneDX `purl`; SPDX `externalRefs` of `referenceType` `purl`).
    pub purl: Option<String>,
    /// Lowercase hex, 40 digits.
    pub sha1: Option<String>,
    /// Lowercase hex, 64 digits.
    pub sha256: Option<String>,
    /// The names of the enclosing components (CycloneDX nested `components`, outermost first),
    /// then this component's `bom-ref` / `SPDXID` (its name when it has none).
    pub path: Vec<String>,
}

/// Reads one SBOM document. See the crate documentation for what is read and the limits.
pub fn parse(bytes: &[u8], limits: &SbomLimits) -> Result<Sbom, SbomError> {
    let bytes = strip_utf8_bom(bytes)?;
    read_document(serde_json::Deserializer::from_slice(bytes), limits)
}

/// [`parse`] from a stream, without holding the document: what is kept is what [`parse`]
/// returns, so a server can read an upload as it inflates it. An I/O error of `reader` (a
/// decoder's size limit, a corrupt gzip stream) is [`SbomError::Io`].
pub fn parse_reader(reader: impl std::io::Read, limits: &SbomLimits) -> Result<Sbom, SbomError> {
    let mut reader = std::io::BufReader::new(reader);
    let mut head = [0u8; 4];
    let mut filled = 0;
    while filled < head.len() {
        match std::io::Read::read(&mut reader, &mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(SbomError::Io(e.to_string())),
        }
    }
    let rest = strip_utf8_bom(&head[..filled])?.to_vec();
    let chained = std::io::Read::chain(std::io::Cursor::new(rest), reader);
    read_document(serde_json::Deserializer::from_reader(chained), limits)
}

fn read_document<'de, R: serde_json::de::Read<'de>>(
    mut json: serde_json::Deserializer<R>,
    limits: &SbomLimits,
) -> Result<Sbom, SbomError> {
    let ctx = de::Ctx::new(limits);
    let read = de::Document { ctx: &ctx }.deserialize(&mut json).and_then(|()| json.end());
    if let Err(e) = read {
        if let Some(error) = ctx.error.take() {
            return Err(error);
        }
        if e.is_io() {
            return Err(SbomError::Io(e.to_string()));
        }
        return Err(json_error(&e));
    }
    let raw = ctx.raw.take();
    let nodes = ctx.nodes.take();
    let packages = ctx.packages.take();
    if raw.bom_format.is_some() {
        cyclonedx(raw, nodes)
    } else if raw.spdx_version.is_some() {
        spdx(raw, packages)
    } else if let Some(version) = raw.context.as_deref().and_then(spdx3_version) {
        Err(SbomError::UnsupportedSpecVersion { format: "SPDX", found: version.to_string(), supported: SPDX_SUPPORTED })
    } else {
        let seen = match (raw.saw_components, raw.saw_packages) {
            (true, _) => " (it has \"components\": a CycloneDX document needs \"bomFormat\")",
            (_, true) => " (it has \"packages\": an SPDX document needs \"spdxVersion\")",
            _ => "",
        };
        Err(SbomError::NotSbom(format!("it has neither \"bomFormat\" (CycloneDX) nor \"spdxVersion\" (SPDX){seen}")))
    }
}

fn strip_utf8_bom(bytes: &[u8]) -> Result<&[u8], SbomError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Ok(rest);
    }
    let utf = if bytes.starts_with(b"\x00\x00\xFE\xFF") || bytes.starts_with(b"\xFF\xFE\x00\x00") {
        "UTF-32"
    } else if bytes.starts_with(b"\xFE\xFF") || bytes.starts_with(b"\xFF\xFE") {
        "UTF-16"
    } else {
        return Ok(bytes);
    };
    Err(SbomError::Encoding(format!("the document starts with a {utf} byte order mark; JSON SBOMs must be UTF-8")))
}

fn json_error(e: &serde_json::Error) -> SbomError {
    let (line, column) = (e.line(), e.column());
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    if message.starts_with("recursion limit exceeded") {
        return SbomError::Limit {
            limit: Limit::JsonDepth,
            max: SERDE_JSON_DEPTH,
            at: format!("line {line}, column {column}"),
        };
    }
    SbomError::Json { message, line, column }
}

fn cyclonedx(raw: de::Raw, nodes: Vec<de::Node>) -> Result<Sbom, SbomError> {
    let format = raw.bom_format.unwrap_or_default();
    if format != "CycloneDX" {
        return Err(SbomError::NotSbom(format!("\"bomFormat\" is {format:?}, not \"CycloneDX\"")));
    }
    let Some(spec_version) = raw.spec_version else {
        return Err(SbomError::Missing { pointer: "/specVersion".to_string() });
    };
    if !CYCLONEDX_VERSIONS.contains(&spec_version.as_str()) {
        return Err(SbomError::UnsupportedSpecVersion {
            format: "CycloneDX",
            found: spec_version,
            supported: "CycloneDX 1.4, 1.5, 1.6 and 1.7",
        });
    }
    // Parents come before their children, so each prefix is built from its parent's; then the
    // nodes are moved, not copied, into the components.
    let mut prefixes: Vec<Vec<String>> = Vec::with_capacity(nodes.len());
    for node in &nodes {
        let prefix = match node.parent.and_then(|p| Some((prefixes.get(p)?, nodes.get(p)?))) {
            Some((above, parent)) => {
                let mut prefix = Vec::with_capacity(above.len() + 2);
                prefix.extend(above.iter().cloned());
                prefix.push(parent.name.clone());
                prefix
            }
            None => Vec::new(),
        };
        prefixes.push(prefix);
    }
    let subject = nodes.iter().find(|n| n.subject && n.parent.is_none()).map(|n| n.name.clone());
    let components = nodes
        .into_iter()
        .zip(prefixes)
        .filter(|(node, _)| !node.subject || node.purl.as_ref().is_some_and(|p| !p.is_empty()))
        .map(|(node, prefix)| component(node, prefix, false))
        .collect();
    Ok(Sbom {
        format: Format::CycloneDx,
        spec_version,
        serial: raw.serial,
        created: raw.timestamp,
        subject,
        tools: raw.tools,
        components,
    })
}

fn spdx(raw: de::Raw, packages: Vec<de::Node>) -> Result<Sbom, SbomError> {
    let spec_version = raw.spdx_version.unwrap_or_default();
    if !SPDX_VERSIONS.contains(&spec_version.as_str()) {
        return Err(SbomError::UnsupportedSpecVersion {
            format: "SPDX",
            found: spec_version,
            supported: SPDX_SUPPORTED,
        });
    }
    let described = |node: &de::Node| node.reference.as_ref().is_some_and(|r| raw.describes.contains(r));
    let unidentified = |node: &de::Node| {
        node.purl.as_ref().is_none_or(|p| p.is_empty()) && node.version.as_ref().is_none_or(|v| v.is_empty())
    };
    let components = packages
        .into_iter()
        .filter(|p| !(described(p) && unidentified(p)))
        .map(|p| component(p, Vec::new(), true))
        .collect();
    let tools = raw.creators.iter().filter_map(|c| c.strip_prefix("Tool:")).map(|t| t.trim().to_string()).collect();
    Ok(Sbom {
        format: Format::Spdx,
        spec_version,
        serial: raw.namespace,
        created: raw.created,
        subject: raw.name,
        tools,
        components,
    })
}

/// The version of an SPDX 3 JSON-LD context (`https://spdx.org/rdf/3.0.1/spdx-context.jsonld`).
fn spdx3_version(context: &str) -> Option<&str> {
    let rest = &context[context.find("spdx.org/rdf/")? + "spdx.org/rdf/".len()..];
    let version = rest.split('/').next()?;
    (version.starts_with('3') && version.len() <= 16).then_some(version)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// A component from a node and the names above it; `split_group_name` (SPDX) splits
/// `group:artifact` names.
fn component(node: de::Node, mut path: Vec<String>, split_group_name: bool) -> SbomComponent {
    let purl = non_empty(node.purl);
    let purl_group = purl.as_deref().and_then(maven_namespace);
    let mut name = node.name;
    if split_group_name
        && let Some(g) = &purl_group
        && let Some(artifact) = name.strip_prefix(g.as_str()).and_then(|n| n.strip_prefix(':'))
        && !artifact.is_empty()
    {
        name = artifact.to_string();
    }
    path.push(non_empty(node.reference).unwrap_or_else(|| name.clone()));
    SbomComponent {
        group: non_empty(node.group).or(purl_group),
        version: non_empty(node.version),
        purl,
        sha1: node.sha1,
        sha256: node.sha256,
        path,
        name,
    }
}

/// The namespace (groupId) of a `pkg:maven/…` purl, percent-decoded; `None` for other purls or
/// one without a namespace.
fn maven_namespace(purl: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:maven/").or_else(|| purl.strip_prefix("pkg:Maven/"))?;
    let end = rest.find(['@', '?', '#']).unwrap_or(rest.len());
    let (namespace, _name) = rest[..end].trim_matches('/').rsplit_once('/')?;
    let decoded: Vec<String> = namespace.split('/').map(percent_decode).collect::<Option<_>>()?;
    let group = decoded.join(".");
    (!group.is_empty()).then_some(group)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maven_namespaces() {
        assert_eq!(
            maven_namespace("pkg:maven/org.apache.commons/commons-text@1.9").as_deref(),
            Some("org.apache.commons")
        );
        assert_eq!(
            maven_namespace("pkg:maven/org.springframework/spring-beans@4.3.30?type=jar").as_deref(),
            Some("org.springframework")
        );
        assert_eq!(maven_namespace("pkg:maven/org%2Eexample/x@1").as_deref(), Some("org.example"));
        assert_eq!(maven_namespace("pkg:maven/jars@latest"), None);
        assert_eq!(maven_namespace("pkg:npm/%40cyclonedx/cdxgen@12.8.4"), None);
        assert_eq!(maven_namespace("pkg:maven/a/b%ZZ/c@1"), None);
        assert_eq!(maven_namespace("pkg:maven/%"), None);
    }
}
