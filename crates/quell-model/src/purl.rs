//! Package URLs (`pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar`) as the
//! platform matches them: the **package key** (type, namespace and name, without version,
//! qualifiers or subpath) names a component wherever it runs; the version is compared separately
//! (see [`crate::vers`]).
//!
//! Written by hand: the key and the version are all the platform needs, and the two purl crates
//! on crates.io either pull a URL parser in or do not normalise the type's case. Rules kept from
//! the purl specification: the scheme `pkg` and the type are case-insensitive (lowercased here);
//! namespace, name and version are percent-decoded; qualifiers (`?…`) and subpath (`#…`) are
//! not part of the key; for `maven` the namespace (group) and name (artifact) are kept as given
//! (Maven coordinates are case-sensitive), for `npm`, `pypi`, `github` and `golang` lowercased as
//! the specification says.

use std::fmt;

/// Longest purl accepted (bytes).
pub const MAX_PURL_BYTES: usize = 1024;

/// A parsed package URL: its key and version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Purl {
    /// `pkg:maven/org.apache.logging.log4j/log4j-core`: normalised, without version.
    pub key: String,
    /// The purl type (`maven`, `npm`, …), lowercase.
    pub kind: String,
    /// The version, percent-decoded, when the purl has one.
    pub version: Option<String>,
}

/// A string that is not a package URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a package URL: {0} (write pkg:TYPE/NAMESPACE/NAME[@VERSION], e.g. pkg:maven/org.apache.commons/commons-text)"
)]
pub struct PurlError(pub PurlProblem);

/// What is wrong with a package URL, typed so that a server can say it in its reader's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurlProblem {
    #[error("bad percent escape in {text:?}")]
    BadEscape { text: String },
    #[error("{text:?} decodes to invalid UTF-8")]
    InvalidUtf8 { text: String },
    #[error("longer than {max} bytes")]
    TooLong { max: usize },
    #[error("it contains control characters")]
    ControlCharacters,
    #[error("{text:?} has no pkg: scheme")]
    NoScheme { text: String },
    #[error("{text:?} has no type")]
    NoType { text: String },
    #[error("type {kind:?} is not a purl type")]
    NotAType { kind: String },
    #[error("{text:?} has no name")]
    NoName { text: String },
    #[error("{text:?}: a maven purl is pkg:maven/GROUP/ARTIFACT")]
    MavenShape { text: String },
    #[error("{text:?} has an empty version")]
    EmptyVersion { text: String },
}

impl PurlProblem {
    /// One value of every variant, for translations' tests.
    pub fn examples() -> Vec<PurlProblem> {
        let text = || "pkg:x".to_string();
        vec![
            PurlProblem::BadEscape { text: text() },
            PurlProblem::InvalidUtf8 { text: text() },
            PurlProblem::TooLong { max: 2048 },
            PurlProblem::ControlCharacters,
            PurlProblem::NoScheme { text: text() },
            PurlProblem::NoType { text: text() },
            PurlProblem::NotAType { kind: "x!".into() },
            PurlProblem::NoName { text: text() },
            PurlProblem::MavenShape { text: text() },
            PurlProblem::EmptyVersion { text: text() },
        ]
    }
}

fn percent_decode(text: &str) -> Result<String, PurlError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let value = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
            match value {
                Some(v) => out.push(v),
                None => return Err(PurlError(PurlProblem::BadEscape { text: text.to_string() })),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PurlError(PurlProblem::InvalidUtf8 { text: text.to_string() }))
}

impl Purl {
    /// Parses a purl; a version is optional.
    pub fn parse(text: &str) -> Result<Purl, PurlError> {
        if text.len() > MAX_PURL_BYTES {
            return Err(PurlError(PurlProblem::TooLong { max: MAX_PURL_BYTES }));
        }
        if text.chars().any(char::is_control) {
            return Err(PurlError(PurlProblem::ControlCharacters));
        }
        let text = text.trim();
        let Some(scheme_end) = text.find(':') else {
            return Err(PurlError(PurlProblem::NoScheme { text: text.to_string() }));
        };
        if !text[..scheme_end].eq_ignore_ascii_case("pkg") {
            return Err(PurlError(PurlProblem::NoScheme { text: text.to_string() }));
        }
        let rest = text[scheme_end + 1..].trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
        // The version follows the last `@` after the last `/` (npm scopes are `%40scope` or
        // `@scope` in the namespace, before a `/`).
        let (path, version) = match rest.rfind('@') {
            Some(at) if !rest[at..].contains('/') => (&rest[..at], Some(&rest[at + 1..])),
            _ => (rest, None),
        };
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        let Some(kind) = segments.next() else {
            return Err(PurlError(PurlProblem::NoType { text: text.to_string() }));
        };
        let kind = kind.to_ascii_lowercase();
        if !kind.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-')) {
            return Err(PurlError(PurlProblem::NotAType { kind: kind.to_string() }));
        }
        let mut parts: Vec<String> = segments.map(percent_decode).collect::<Result<_, _>>()?;
        if parts.is_empty() {
            return Err(PurlError(PurlProblem::NoName { text: text.to_string() }));
        }
        if matches!(kind.as_str(), "npm" | "pypi" | "github" | "golang" | "bitbucket") {
            for p in &mut parts {
                *p = p.to_lowercase();
            }
        }
        if kind == "pypi"
            && let Some(name) = parts.last_mut()
        {
            *name = name.replace('_', "-");
        }
        if kind == "maven" && parts.len() != 2 {
            return Err(PurlError(PurlProblem::MavenShape { text: text.to_string() }));
        }
        let version = match version {
            Some("") => return Err(PurlError(PurlProblem::EmptyVersion { text: text.to_string() })),
            Some(v) => Some(percent_decode(v)?),
            None => None,
        };
        let key = format!("pkg:{kind}/{}", parts.join("/"));
        Ok(Purl { key, kind, version })
    }

    /// The package key of `pkg:maven/GROUP/ARTIFACT` coordinates.
    pub fn maven_key(group: &str, artifact: &str) -> String {
        format!("pkg:maven/{group}/{artifact}")
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}@{v}", self.key),
            None => f.write_str(&self.key),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_drop_version_qualifiers_and_subpath() {
        let p = Purl::parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar#x").unwrap();
        assert_eq!(p.key, "pkg:maven/org.apache.logging.log4j/log4j-core");
        assert_eq!(p.version.as_deref(), Some("2.14.1"));
        assert_eq!(p.kind, "maven");
        let p = Purl::parse("PKG:Maven/org.apache.commons/commons-text").unwrap();
        assert_eq!(p.key, "pkg:maven/org.apache.commons/commons-text");
        assert_eq!(p.version, None);
    }

    #[test]
    fn decodes_percent_escapes_and_npm_scopes() {
        let p = Purl::parse("pkg:npm/%40angular/Core@1.0.0%2Bbuild").unwrap();
        assert_eq!(p.key, "pkg:npm/@angular/core");
        assert_eq!(p.version.as_deref(), Some("1.0.0+build"));
        let p = Purl::parse("pkg:pypi/Django_Rest@3.0").unwrap();
        assert_eq!(p.key, "pkg:pypi/django-rest");
    }

    #[test]
    fn refuses_what_is_not_a_purl() {
        for bad in [
            "",
            "maven/a/b",
            "http://x/y",
            "pkg:",
            "pkg:maven/only-one",
            "pkg:maven/a/b@",
            "pkg:maven/a/b%zz",
            "pkg:ma ven/a/b",
            "pkg:maven/a/b\n",
        ] {
            assert!(Purl::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Purl::parse(&format!("pkg:maven/a/{}", "b".repeat(MAX_PURL_BYTES))).is_err());
    }
}
