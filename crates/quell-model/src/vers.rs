//! Sets of versions as advisories and coordinators write them, evaluated in Maven order
//! ([`MavenVersion`]): the purl `vers:` syntax (`vers:maven/>=2.0-beta9|<2.3.1|>=2.4|<2.12.2`),
//! Maven's own range notation (`[2.0-beta9,2.3.1),[2.4,2.12.2)`, `(,1.0]`, `[1.2]`), the
//! detection packs' `LO..HI` ranges, one exact version, `*` (every version), and OSV
//! `introduced`/`fixed` events.
//!
//! Written by hand: no crate evaluates `vers:` in Maven order (the `vers` crates on crates.io
//! order by semver, which puts `2.0-beta9` and `5.3.18.RELEASE` in the wrong places).
//!
//! `vers:` follows the specification's rules: constraints separated by `|`, comparators `=`
//! (or none), `!=`, `<`, `<=`, `>`, `>=`; `*` only alone; each version at most once; with `=`
//! and `!=` set aside, sorted by version, lower and upper bounds alternate. Every scheme is
//! compared in Maven order — exact for `maven`, an approximation for others (said in the docs).

use std::fmt;
use std::str::FromStr;

use crate::maven::{Event, MavenVersion, VersionRange, affected_by_events, sorted_events};

/// Longest version-set text accepted (bytes).
pub const MAX_VERS_BYTES: usize = 4096;
/// Most constraints or intervals in one version set.
pub const MAX_VERS_CONSTRAINTS: usize = 256;

/// One bound of an interval: the version and whether it is included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub version: MavenVersion,
    pub inclusive: bool,
}

/// A contiguous run of versions; `None` is unbounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    pub lo: Option<Bound>,
    pub hi: Option<Bound>,
}

impl Interval {
    fn contains(&self, v: &MavenVersion) -> bool {
        let above = match &self.lo {
            None => true,
            Some(b) if b.inclusive => v >= &b.version,
            Some(b) => v > &b.version,
        };
        let below = match &self.hi {
            None => true,
            Some(b) if b.inclusive => v <= &b.version,
            Some(b) => v < &b.version,
        };
        above && below
    }
}

/// A set of versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versions {
    /// Every version (`*`, or no range given).
    All,
    /// A union of intervals and exact versions, minus excluded versions.
    Set { intervals: Vec<Interval>, equal: Vec<MavenVersion>, excluded: Vec<MavenVersion> },
    /// OSV events.
    Events(Vec<Event>),
}

/// Text that is not a version set: the text (none when it was too long to quote) and what is
/// wrong with it, typed so that a server can say it in its reader's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a version range: {}{problem} (write vers:maven/>=2.0|<2.17.1, [2.0,2.17.1), 2.0..<2.17.1, one version, or *)",
    .text.as_ref().map(|t| format!("{t:?}: ")).unwrap_or_default()
)]
pub struct VersError {
    pub text: Option<String>,
    pub problem: VersProblem,
}

/// What is wrong with a version range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersProblem {
    #[error("vers: needs a scheme, e.g. vers:maven/>=1.0")]
    NoScheme,
    #[error("the vers scheme is not a purl type")]
    SchemeNotPurlType,
    #[error("more than {max} constraints")]
    TooManyConstraints { max: usize },
    #[error("an empty constraint")]
    EmptyConstraint,
    #[error("* must be the only constraint")]
    StarNotAlone,
    #[error("{part:?} has no version")]
    NoVersion { part: String },
    #[error("version {version} appears twice")]
    Twice { version: String },
    #[error("two lower bounds follow each other (bounds must alternate)")]
    TwoLowerBounds,
    #[error("two upper bounds follow each other (bounds must alternate)")]
    TwoUpperBounds,
    #[error("a Maven range starts with [ or (")]
    MavenStart,
    #[error("a Maven range is not closed with ] or )")]
    MavenNotClosed,
    #[error("a trailing comma")]
    TrailingComma,
    #[error("Maven ranges are separated by commas")]
    MavenSeparator,
    #[error("more than {max} ranges")]
    TooManyRanges { max: usize },
    #[error("one version is written [V]")]
    OneVersionBrackets,
    #[error("a range has two bounds")]
    TwoBounds,
    #[error("the lower bound is above the upper bound")]
    LowerAboveUpper,
    #[error("longer than {max} bytes")]
    TooLong { max: usize },
    #[error("empty")]
    Empty,
    #[error("white space or control characters inside a version")]
    WhiteSpace,
    #[error("control characters")]
    ControlCharacters,
    #[error("not a LO..HI range")]
    NotPackRange,
    #[error("not one version")]
    NotOneVersion,
}

impl VersProblem {
    /// One value of every variant, for translations' tests.
    pub fn examples() -> Vec<VersProblem> {
        use VersProblem::*;
        vec![
            NoScheme,
            SchemeNotPurlType,
            TooManyConstraints { max: 64 },
            EmptyConstraint,
            StarNotAlone,
            NoVersion { part: ">=".into() },
            Twice { version: "1.0".into() },
            TwoLowerBounds,
            TwoUpperBounds,
            MavenStart,
            MavenNotClosed,
            TrailingComma,
            MavenSeparator,
            TooManyRanges { max: 64 },
            OneVersionBrackets,
            TwoBounds,
            LowerAboveUpper,
            TooLong { max: 4096 },
            Empty,
            WhiteSpace,
            ControlCharacters,
            NotPackRange,
            NotOneVersion,
        ]
    }
}

fn err(text: &str, problem: VersProblem) -> VersError {
    VersError { text: Some(text.to_string()), problem }
}

impl Versions {
    /// Whether `version` (as text, compared in Maven order) is in the set.
    pub fn contains(&self, version: &str) -> bool {
        self.contains_version(&MavenVersion::new(version))
    }

    pub fn contains_version(&self, v: &MavenVersion) -> bool {
        match self {
            Versions::All => true,
            Versions::Events(events) => affected_by_events(events, v),
            Versions::Set { intervals, equal, excluded } => {
                if excluded.iter().any(|x| x == v) {
                    return false;
                }
                equal.iter().any(|x| x == v) || intervals.iter().any(|i| i.contains(v))
            }
        }
    }

    /// OSV events (`introduced`/`fixed`/`last_affected`, backport lines as more events) as the
    /// equivalent union of intervals, so they print as `vers:` (see [`Versions::Events`] for
    /// the events as they are).
    pub fn from_events(events: &[Event]) -> Versions {
        let sorted = sorted_events(events);
        let mut intervals = Vec::new();
        // `Some(lo)` while inside an affected run; `Some(None)`: from the first release.
        let mut open: Option<Option<Bound>> = None;
        for event in sorted {
            match event {
                Event::Introduced(v) if open.is_none() => {
                    open = Some((v.as_str() != "0").then(|| Bound { version: v.clone(), inclusive: true }));
                }
                Event::Introduced(_) => {}
                Event::Fixed(v) => {
                    if let Some(lo) = open.take() {
                        intervals.push(Interval { lo, hi: Some(Bound { version: v.clone(), inclusive: false }) });
                    }
                }
                Event::LastAffected(v) => {
                    if let Some(lo) = open.take() {
                        intervals.push(Interval { lo, hi: Some(Bound { version: v.clone(), inclusive: true }) });
                    }
                }
            }
        }
        if let Some(lo) = open {
            intervals.push(Interval { lo, hi: None });
        }
        Versions::Set { intervals, equal: Vec::new(), excluded: Vec::new() }
    }

    /// Whether a stored version text is in the set. A copy the scanner could only narrow to a
    /// range (`2.0-beta9..2.10.0`) matches when the range and the set share a version: one of the
    /// range's ends, or one of the set's bounds or versions inside the range (exclusive ends of
    /// both sides that leave only versions strictly between them are not detected).
    pub fn matches_text(&self, version: &str) -> bool {
        if version.contains("..")
            && let Ok(range) = version.parse::<VersionRange>()
        {
            return self.overlaps(&range);
        }
        self.contains(version)
    }

    /// Whether the set and `range` share a version (see [`Versions::matches_text`]).
    pub fn overlaps(&self, range: &VersionRange) -> bool {
        use crate::maven::Upper;
        let mut probes: Vec<&MavenVersion> = Vec::new();
        probes.extend(range.lo.as_ref());
        if let Some(Upper::Inclusive(hi)) = &range.hi {
            probes.push(hi);
        }
        match self {
            Versions::All => return true,
            Versions::Events(events) => probes.extend(events.iter().map(|e| match e {
                Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) => v,
            })),
            Versions::Set { intervals, equal, .. } => {
                probes.extend(equal.iter());
                for i in intervals {
                    probes.extend(i.lo.iter().map(|b| &b.version));
                    probes.extend(i.hi.iter().map(|b| &b.version));
                }
            }
        }
        if range.lo.is_none() {
            // An open lower end: the smallest versions are in the set when its first interval is
            // open below, which `0` stands for.
            let zero = MavenVersion::new("0");
            if self.contains_version(&zero) && range.contains(&zero) {
                return true;
            }
        }
        probes.into_iter().any(|v| range.contains(v) && self.contains_version(v))
    }

    fn from_vers(text: &str, body: &str) -> Result<Versions, VersError> {
        let Some((scheme, constraints)) = body.split_once('/') else {
            return Err(err(text, VersProblem::NoScheme));
        };
        if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            return Err(err(text, VersProblem::SchemeNotPurlType));
        }
        let constraints = constraints.trim();
        if constraints == "*" {
            return Ok(Versions::All);
        }
        let mut equal = Vec::new();
        let mut excluded = Vec::new();
        // (version, is_lower, inclusive)
        let mut bounds: Vec<(MavenVersion, bool, bool)> = Vec::new();
        let mut seen: Vec<MavenVersion> = Vec::new();
        let parts: Vec<&str> = constraints.split('|').map(str::trim).collect();
        if parts.len() > MAX_VERS_CONSTRAINTS {
            return Err(err(text, VersProblem::TooManyConstraints { max: MAX_VERS_CONSTRAINTS }));
        }
        for part in parts {
            if part.is_empty() {
                return Err(err(text, VersProblem::EmptyConstraint));
            }
            if part == "*" {
                return Err(err(text, VersProblem::StarNotAlone));
            }
            let (op, version) = ["<=", ">=", "!=", "<", ">", "="]
                .iter()
                .find_map(|op| part.strip_prefix(op).map(|v| (*op, v.trim())))
                .unwrap_or(("=", part));
            if version.is_empty() {
                return Err(err(text, VersProblem::NoVersion { part: part.to_string() }));
            }
            let v = MavenVersion::new(version);
            if seen.contains(&v) {
                return Err(err(text, VersProblem::Twice { version: version.to_string() }));
            }
            seen.push(v.clone());
            match op {
                "=" => equal.push(v),
                "!=" => excluded.push(v),
                "<" => bounds.push((v, false, false)),
                "<=" => bounds.push((v, false, true)),
                ">" => bounds.push((v, true, false)),
                _ => bounds.push((v, true, true)),
            }
        }
        bounds.sort_by(|a, b| a.0.cmp(&b.0));
        let mut intervals = Vec::new();
        let mut open: Option<Bound> = None;
        for (i, (version, is_lower, inclusive)) in bounds.into_iter().enumerate() {
            let bound = Bound { version, inclusive };
            if is_lower {
                if open.is_some() {
                    return Err(err(text, VersProblem::TwoLowerBounds));
                }
                open = Some(bound);
            } else {
                match open.take() {
                    Some(lo) => intervals.push(Interval { lo: Some(lo), hi: Some(bound) }),
                    None if i == 0 => intervals.push(Interval { lo: None, hi: Some(bound) }),
                    None => return Err(err(text, VersProblem::TwoUpperBounds)),
                }
            }
        }
        if let Some(lo) = open {
            intervals.push(Interval { lo: Some(lo), hi: None });
        }
        Ok(Versions::Set { intervals, equal, excluded })
    }

    /// Maven's range notation: one or more `[a,b]`, `(a,b)`, `[a,)`, `(,b]`, `[a]`, comma-separated.
    fn from_maven(text: &str) -> Result<Versions, VersError> {
        let mut intervals = Vec::new();
        let mut equal = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let lo_inclusive = match rest.as_bytes()[0] {
                b'[' => true,
                b'(' => false,
                _ => return Err(err(text, VersProblem::MavenStart)),
            };
            let Some(end) = rest.find([']', ')']) else {
                return Err(err(text, VersProblem::MavenNotClosed));
            };
            let hi_inclusive = rest.as_bytes()[end] == b']';
            let inner = &rest[1..end];
            rest = rest[end + 1..].trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after.trim_start();
                if rest.is_empty() {
                    return Err(err(text, VersProblem::TrailingComma));
                }
            } else if !rest.is_empty() {
                return Err(err(text, VersProblem::MavenSeparator));
            }
            if intervals.len() + equal.len() >= MAX_VERS_CONSTRAINTS {
                return Err(err(text, VersProblem::TooManyRanges { max: MAX_VERS_CONSTRAINTS }));
            }
            match inner.split_once(',') {
                None => {
                    let v = inner.trim();
                    if v.is_empty() || !lo_inclusive || !hi_inclusive {
                        return Err(err(text, VersProblem::OneVersionBrackets));
                    }
                    equal.push(MavenVersion::new(v));
                }
                Some((lo, hi)) => {
                    let (lo, hi) = (lo.trim(), hi.trim());
                    if hi.contains(',') {
                        return Err(err(text, VersProblem::TwoBounds));
                    }
                    let lo =
                        (!lo.is_empty()).then(|| Bound { version: MavenVersion::new(lo), inclusive: lo_inclusive });
                    let hi =
                        (!hi.is_empty()).then(|| Bound { version: MavenVersion::new(hi), inclusive: hi_inclusive });
                    if let (Some(l), Some(h)) = (&lo, &hi)
                        && (l.version > h.version || (l.version == h.version && !(l.inclusive && h.inclusive)))
                    {
                        return Err(err(text, VersProblem::LowerAboveUpper));
                    }
                    intervals.push(Interval { lo, hi });
                }
            }
        }
        Ok(Versions::Set { intervals, equal, excluded: Vec::new() })
    }
}

impl From<&VersionRange> for Versions {
    fn from(range: &VersionRange) -> Self {
        use crate::maven::Upper;
        let lo = range.lo.clone().map(|version| Bound { version, inclusive: true });
        let hi = range.hi.clone().map(|u| match u {
            Upper::Inclusive(version) => Bound { version, inclusive: true },
            Upper::Exclusive(version) => Bound { version, inclusive: false },
        });
        Versions::Set { intervals: vec![Interval { lo, hi }], equal: Vec::new(), excluded: Vec::new() }
    }
}

impl FromStr for Versions {
    type Err = VersError;

    /// `vers:…`, a Maven range (`[`/`(`), a pack range (`LO..HI`), `*`, or one version.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.len() > MAX_VERS_BYTES {
            return Err(VersError { text: None, problem: VersProblem::TooLong { max: MAX_VERS_BYTES } });
        }
        if text.is_empty() {
            return Err(err(text, VersProblem::Empty));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) && !text.starts_with("vers:") {
            return Err(err(text, VersProblem::WhiteSpace));
        }
        if text.chars().any(char::is_control) {
            return Err(err(text, VersProblem::ControlCharacters));
        }
        if text == "*" {
            return Ok(Versions::All);
        }
        if let Some(body) = text.strip_prefix("vers:") {
            return Versions::from_vers(text, body);
        }
        if text.starts_with('[') || text.starts_with('(') {
            return Versions::from_maven(text);
        }
        if text.contains("..") {
            let range: VersionRange = text.parse().map_err(|_| err(text, VersProblem::NotPackRange))?;
            return Ok(Versions::from(&range));
        }
        if text.contains([',', '|', '<', '>', '=', '[', ']', '(', ')']) {
            return Err(err(text, VersProblem::NotOneVersion));
        }
        Ok(Versions::Set { intervals: Vec::new(), equal: vec![MavenVersion::new(text)], excluded: Vec::new() })
    }
}

impl fmt::Display for Versions {
    /// The `vers:maven/…` form (OSV events as their `introduced`/`fixed` pairs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        match self {
            Versions::All => return f.write_str("vers:maven/*"),
            Versions::Events(events) => {
                for e in events {
                    parts.push(match e {
                        Event::Introduced(v) => format!("introduced {v}"),
                        Event::Fixed(v) => format!("fixed {v}"),
                        Event::LastAffected(v) => format!("last_affected {v}"),
                    });
                }
                return write!(f, "osv:{}", parts.join(","));
            }
            Versions::Set { intervals, equal, excluded } => {
                for i in intervals {
                    if let Some(lo) = &i.lo {
                        parts.push(format!("{}{}", if lo.inclusive { ">=" } else { ">" }, lo.version));
                    }
                    if let Some(hi) = &i.hi {
                        parts.push(format!("{}{}", if hi.inclusive { "<=" } else { "<" }, hi.version));
                    }
                }
                parts.extend(equal.iter().map(|v| v.to_string()));
                parts.extend(excluded.iter().map(|v| format!("!={v}")));
            }
        }
        write!(f, "vers:maven/{}", parts.join("|"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn set(text: &str) -> Versions {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn vers_with_backport_lines_in_maven_order() {
        // Log4Shell's affected lines: 2.0-beta9 up to 2.3.1 (exclusive), 2.4 to 2.12.2, 2.13.0 to 2.15.0.
        let s = set("vers:maven/>=2.0-beta9|<2.3.1|>=2.4|<2.12.2|>=2.13.0|<2.15.0");
        for yes in ["2.0-beta9", "2.0-rc1", "2.0", "2.3", "2.4", "2.12.1", "2.13.0", "2.14.1"] {
            assert!(s.contains(yes), "{yes} should be in");
        }
        for no in ["2.0-beta8", "2.0-alpha1", "2.3.1", "2.12.2", "2.12.4", "2.15.0", "2.17.1", "1.2.17"] {
            assert!(!s.contains(no), "{no} should be out");
        }
    }

    #[test]
    fn vers_first_upper_bound_equal_and_not_equal() {
        let s = set("vers:maven/<1.10.0|!=1.5");
        assert!(s.contains("1.9") && s.contains("1.5.1") && s.contains("1.10.0-SNAPSHOT"));
        assert!(!s.contains("1.5") && !s.contains("1.10.0") && !s.contains("1.10"));
        let s = set("vers:maven/2.17.1|2.12.4");
        assert!(s.contains("2.17.1") && s.contains("2.12.4.Final") && !s.contains("2.17.0"));
        let s = set("vers:maven/>=5.3.0|<=5.3.17");
        assert!(s.contains("5.3.17.RELEASE") && !s.contains("5.3.18.RELEASE"));
        // Maven's qualifiers: `.Final` is the release, `-SNAPSHOT` and `-rc1` come before it.
        let s = set("vers:maven/>=4.1.0|<4.1.86.Final");
        assert!(s.contains("4.1.85.Final") && s.contains("4.1.86-SNAPSHOT") && s.contains("4.1.86.CR1"));
        assert!(!s.contains("4.1.86") && !s.contains("4.1.86.Final") && !s.contains("4.1.0-beta1"));
        assert_eq!(set("vers:maven/*"), Versions::All);
    }

    #[test]
    fn vers_errors_are_precise() {
        for (bad, why) in [
            ("vers:maven", "scheme"),
            ("vers:maven/>=1|>=2", "lower bounds"),
            ("vers:maven/>=1|<2|<3", "upper bounds"),
            ("vers:maven/1|1.0", "twice"),
            ("vers:maven/*|1", "only"),
            ("vers:maven/1||2", "empty"),
            ("vers:maven/>=", "no version"),
        ] {
            let e = bad.parse::<Versions>().unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn maven_range_notation() {
        let s = set("[2.0-beta9,2.3.1),[2.4,2.12.2)");
        assert!(s.contains("2.0-beta9") && s.contains("2.12.1") && !s.contains("2.3.1") && !s.contains("2.13"));
        let s = set("(,1.0]");
        assert!(s.contains("0.9") && s.contains("1.0") && !s.contains("1.0.1"));
        let s = set("[1.2]");
        assert!(s.contains("1.2.0") && !s.contains("1.2.1"));
        for bad in ["[1.0", "[2.0,1.0]", "[1.0,2.0),", "(1.0)", "[1.0,2.0)x"] {
            assert!(bad.parse::<Versions>().is_err(), "{bad}");
        }
    }

    #[test]
    fn pack_ranges_single_versions_and_events() {
        let s = set("2.0-beta9..<2.15.0");
        assert!(s.contains("2.14.1") && !s.contains("2.15.0"));
        let s = set("2.14.1");
        assert!(s.contains("2.14.1") && !s.contains("2.14.0"));
        assert!("a b".parse::<Versions>().is_err() && "<2".parse::<Versions>().is_err());
        let s = Versions::Events(vec![
            Event::Introduced(MavenVersion::new("1.5")),
            Event::Fixed(MavenVersion::new("1.10.0")),
        ]);
        assert!(s.contains("1.9") && !s.contains("1.10.0"));
    }

    #[test]
    fn range_copies_match_when_they_share_a_version() {
        let s = set("vers:maven/>=2.0-beta9|<2.15.0");
        assert!(s.matches_text("2.0-beta9..2.10.0"));
        assert!(s.matches_text("2.10.0..<2.17.0"));
        assert!(!s.matches_text("2.15.0..2.17.1"));
        assert!(!s.matches_text("1.2..1.2.17"));
        assert!(s.matches_text("2.14.1") && !s.matches_text("2.17.1"));
        let one = set("2.12.1");
        assert!(one.matches_text("2.0..2.13") && !one.matches_text("2.13..2.14"));
    }

    #[test]
    fn osv_events_become_the_same_set_in_vers() {
        let v = MavenVersion::new;
        let events = vec![
            Event::Introduced(v("2.0-beta9")),
            Event::Fixed(v("2.3.1")),
            Event::Introduced(v("2.4")),
            Event::Fixed(v("2.12.2")),
            Event::Introduced(v("2.13.0")),
            Event::Fixed(v("2.15.0")),
        ];
        let set = Versions::from_events(&events);
        assert_eq!(set.to_string(), "vers:maven/>=2.0-beta9|<2.3.1|>=2.4|<2.12.2|>=2.13.0|<2.15.0");
        let again: Versions = set.to_string().parse().unwrap();
        for probe in ["2.0-alpha1", "2.0-beta9", "2.3", "2.3.1", "2.4", "2.12.2", "2.14.1", "2.15.0", "2.17.1"] {
            assert_eq!(again.contains(probe), Versions::Events(events.clone()).contains(probe), "{probe}");
        }
        let from_zero = Versions::from_events(&[Event::Introduced(v("0")), Event::LastAffected(v("1.2.17"))]);
        assert_eq!(from_zero.to_string(), "vers:maven/<=1.2.17");
        assert!(from_zero.contains("1.0") && !from_zero.contains("1.2.18"));
    }

    #[test]
    fn display_round_trips() {
        for text in ["vers:maven/>=2.0-beta9|<2.3.1|>=2.4|<2.12.2", "[1.0,2.0)", "1.2.3", "1..2"] {
            let s = set(text);
            let again: Versions = s.to_string().parse().unwrap();
            for probe in ["0.9", "1.0", "1.2.3", "1.5", "2.0", "2.0-beta9", "2.3", "2.3.1", "2.4", "2.12.1"] {
                assert_eq!(s.contains(probe), again.contains(probe), "{text} vs {again} at {probe}");
            }
        }
    }
}
