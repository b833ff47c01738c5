//! The vulnerabilities quell classifies, and which Log4j versions each affects.
//!
//! The affected ranges are Apache's, with 2.0-beta9 as the lower bound for all four 2.x CVEs
//! (releases before it have no `JndiLookup`; Apache's own page is inconsistent about the lower bound
//! of the last two). Each 2.x CVE is fixed on three release lines: 2.3.x (Java 6), 2.12.x (Java 7)
//! and the main line.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

use crate::Version;

/// A vulnerability identifier (`CVE-2021-44228`, `GHSA-...`) that a finding carries a verdict for.
///
/// A string, because detection packs bring new ones as data; the Log4j identifiers are constants
/// under their historic names (`Cve::Cve2021_44228`). Serialised as the identifier itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cve(Cow<'static, str>);

#[allow(non_upper_case_globals)]
impl Cve {
    /// Log4Shell: JNDI lookup remote code execution (CVSS 10.0).
    pub const Cve2021_44228: Cve = Cve(Cow::Borrowed("CVE-2021-44228"));
    /// Thread Context lookup RCE in non-default patterns (CVSS 9.0).
    pub const Cve2021_45046: Cve = Cve(Cow::Borrowed("CVE-2021-45046"));
    /// Uncontrolled recursion in lookups: denial of service (CVSS 5.9).
    pub const Cve2021_45105: Cve = Cve(Cow::Borrowed("CVE-2021-45105"));
    /// JDBC appender with a JNDI data source from an attacker-controlled configuration (CVSS 6.6).
    pub const Cve2021_44832: Cve = Cve(Cow::Borrowed("CVE-2021-44832"));
    /// Log4j 1.x JMSAppender JNDI (CVSS 8.1).
    pub const Cve2021_4104: Cve = Cve(Cow::Borrowed("CVE-2021-4104"));
    /// Log4j 1.x SocketServer deserialisation (CVSS 9.8).
    pub const Cve2019_17571: Cve = Cve(Cow::Borrowed("CVE-2019-17571"));
    /// Log4j 1.x JMSSink deserialisation (CVSS 8.8).
    pub const Cve2022_23302: Cve = Cve(Cow::Borrowed("CVE-2022-23302"));
    /// Log4j 1.x JDBCAppender SQL injection (CVSS 9.8).
    pub const Cve2022_23305: Cve = Cve(Cow::Borrowed("CVE-2022-23305"));
    /// Log4j 1.x Chainsaw deserialisation (CVSS 9.8).
    pub const Cve2022_23307: Cve = Cve(Cow::Borrowed("CVE-2022-23307"));

    /// An identifier from data (a detection pack, a report).
    pub fn new(id: impl Into<String>) -> Self {
        Cve(Cow::Owned(id.into()))
    }
}

/// The four Log4j 2.x core CVEs, in the order reports list them.
pub const LOG4J2_CVES: [Cve; 4] = [Cve::Cve2021_44228, Cve::Cve2021_45046, Cve::Cve2021_45105, Cve::Cve2021_44832];

/// The Log4j 1.x CVEs, in the order reports list them.
pub const LOG4J1_CVES: [Cve; 5] =
    [Cve::Cve2021_4104, Cve::Cve2019_17571, Cve::Cve2022_23302, Cve::Cve2022_23305, Cve::Cve2022_23307];

/// The first Log4j 2.x release with a JNDI lookup: the lower bound of every 2.x CVE.
pub fn first_affected_2x() -> Version {
    "2.0-beta9".parse().unwrap_or_else(|_| Version::new(2, 0, 0))
}

impl Cve {
    /// The identifier as written in advisories, e.g. `CVE-2021-44228`.
    pub fn id(&self) -> &str {
        &self.0
    }

    /// The fixed releases of a Log4j 2.x CVE: (2.3.x line, 2.12.x line, main line). `None` for
    /// other identifiers. Kept for callers that reason about Log4j releases; the scanner decides
    /// from the built-in detection pack instead.
    pub fn fixed_in(&self) -> Option<[Version; 3]> {
        let (a, b, c) = match self.id() {
            "CVE-2021-44228" => ((2, 3, 1), (2, 12, 2), (2, 15, 0)),
            "CVE-2021-45046" => ((2, 3, 1), (2, 12, 2), (2, 16, 0)),
            "CVE-2021-45105" => ((2, 3, 1), (2, 12, 3), (2, 17, 0)),
            "CVE-2021-44832" => ((2, 3, 2), (2, 12, 4), (2, 17, 1)),
            _ => return None,
        };
        let v = |(x, y, z)| Version::new(x, y, z);
        Some([v(a), v(b), v(c)])
    }

    /// Whether a log4j-core 2.x release of this version is affected by this CVE (ignoring any
    /// mitigation). Always false for 1.x CVEs, which are decided by class presence instead.
    pub fn affects_log4j2(&self, version: &Version) -> bool {
        let Some([fix_2_3, fix_2_12, fix_main]) = self.fixed_in() else {
            return false;
        };
        if *version < first_affected_2x() || version.major != 2 {
            return false;
        }
        let line_fix = match version.minor {
            3 => Some(fix_2_3),
            12 => Some(fix_2_12),
            _ => None,
        };
        match line_fix {
            Some(fix) if *version >= fix => false,
            _ => *version < fix_main,
        }
    }
}

impl fmt::Display for Cve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A copy's verdict for one CVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CveStatus {
    /// The vulnerable code is present and reachable as shipped.
    Affected,
    /// The version is affected but the vulnerable class was removed (JndiLookup deleted). Only for
    /// CVE-2021-44228 and CVE-2021-45046, and never for releases before 2.0-beta9.
    Mitigated,
    /// The version or the shipped classes are not affected.
    NotAffected,
}

impl fmt::Display for CveStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CveStatus::Affected => "affected",
            CveStatus::Mitigated => "mitigated",
            CveStatus::NotAffected => "not_affected",
        })
    }
}

/// One CVE and a copy's verdict for it, as it appears in a finding's `cves` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CveVerdict {
    pub id: Cve,
    pub status: CveStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affected(cve: Cve, v: &str) -> bool {
        cve.affects_log4j2(&v.parse().expect("version"))
    }

    #[test]
    fn backport_lines_are_fixed_where_apache_says() {
        assert!(affected(Cve::Cve2021_44228, "2.0-beta9"));
        assert!(!affected(Cve::Cve2021_44228, "2.0-beta8"));
        assert!(affected(Cve::Cve2021_44228, "2.3"));
        assert!(!affected(Cve::Cve2021_44228, "2.3.1"));
        assert!(affected(Cve::Cve2021_44228, "2.12.1"));
        assert!(!affected(Cve::Cve2021_44228, "2.12.2"));
        assert!(affected(Cve::Cve2021_45105, "2.12.2"));
        assert!(!affected(Cve::Cve2021_45105, "2.12.3"));
        assert!(affected(Cve::Cve2021_44832, "2.3.1"));
        assert!(!affected(Cve::Cve2021_44832, "2.3.2"));
        assert!(affected(Cve::Cve2021_44832, "2.17.0"));
        assert!(!affected(Cve::Cve2021_44832, "2.17.1"));
        assert!(!affected(Cve::Cve2021_44832, "2.20.0"));
        assert!(!affected(Cve::Cve2021_4104, "2.14.1"));
    }

    #[test]
    fn serialises_as_the_cve_id() {
        let json = serde_json::to_string(&Cve::Cve2021_44228).expect("serialise");
        assert_eq!(json, "\"CVE-2021-44228\"");
        assert_eq!(serde_json::to_string(&CveStatus::NotAffected).expect("s"), "\"not_affected\"");
    }
}
