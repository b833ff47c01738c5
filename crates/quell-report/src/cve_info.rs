//! What reports say about each CVE: a title, a description, the remedy, weakness classes and the
//! severity band of its CVSS score. The scores themselves are the model's ([`Cve::cvss`]).
//!
//! Facts only as published by Apache and NVD; the wording is quell's.

use quell_model::Cve;

/// Every CVE quell classifies, in the order reports list them (2.x first, then 1.x).
pub const ALL_CVES: [Cve; 9] = [
    Cve::Cve2021_44228,
    Cve::Cve2021_45046,
    Cve::Cve2021_45105,
    Cve::Cve2021_44832,
    Cve::Cve2021_4104,
    Cve::Cve2019_17571,
    Cve::Cve2022_23302,
    Cve::Cve2022_23305,
    Cve::Cve2022_23307,
];

/// The texts of one CVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CveInfo {
    /// A short name in PascalCase, for SARIF `rule.name` (`Log4ShellJndiLookupRce`).
    pub name: &'static str,
    /// One line.
    pub title: &'static str,
    /// A paragraph: what the flaw is and when it can be exploited.
    pub description: &'static str,
    /// What to do about it.
    pub remedy: &'static str,
    /// CWE numbers, as NVD lists them.
    pub cwes: &'static [u32],
}

const UPGRADE_2X: &str = "Upgrade log4j-core to 2.17.1 or later (Java 8), 2.12.4 (Java 7) or 2.3.2 (Java 6).";
const UPGRADE_1X: &str = "Log4j 1.x is end of life and will not be fixed: migrate to Log4j 2.17.1 or later, or to a \
     current reload4j release, the maintained fork of 1.2.17.";

/// The texts of a CVE.
pub fn info(cve: Cve) -> CveInfo {
    match cve {
        Cve::Cve2021_44228 => CveInfo {
            name: "Log4ShellJndiLookupRce",
            title: "Log4Shell: remote code execution through the JNDI lookup in logged data",
            description: "Log4j 2.0-beta9 to 2.14.1 (except 2.3.1 and 2.12.2 on the backport lines) evaluate ${jndi:...} lookups in \
                logged messages and parameters. An attacker who can get a string logged makes the application \
                load and run code from an LDAP or RMI server of their choice.",
            remedy: "Upgrade log4j-core to 2.17.1 or later (Java 8), 2.12.4 (Java 7) or 2.3.2 (Java 6). Until \
                then, remove the JndiLookup class from the jar (quell fix), which stops this CVE and \
                CVE-2021-45046.",
            cwes: &[917, 502, 20, 400],
        },
        Cve::Cve2021_45046 => CveInfo {
            name: "ThreadContextLookupRce",
            title: "Remote code execution through lookups in non-default patterns (incomplete fix of Log4Shell)",
            description: "Log4j 2.0-beta9 to 2.15.0 (except 2.3.1 and 2.12.2 on the backport lines) still evaluate JNDI lookups \
                reached through Thread Context (MDC) values in non-default pattern layouts, so 2.15.0 remains \
                exploitable in some configurations.",
            remedy: "Upgrade log4j-core to 2.17.1 or later (Java 8), 2.12.4 (Java 7) or 2.3.2 (Java 6). Until \
                then, remove the JndiLookup class from the jar (quell fix).",
            cwes: &[917],
        },
        Cve::Cve2021_45105 => CveInfo {
            name: "RecursiveLookupDenialOfService",
            title: "Denial of service through uncontrolled recursion in self-referential lookups",
            description: "Log4j 2.0-beta9 to 2.16.0 (except 2.3.1 and 2.12.3 on the backport lines) do not protect against recursion in lookup \
                evaluation: a crafted string in the Thread Context crashes the logging thread with a \
                StackOverflowError. Removing JndiLookup does not help.",
            remedy: UPGRADE_2X,
            cwes: &[674, 20],
        },
        Cve::Cve2021_44832 => CveInfo {
            name: "JdbcAppenderJndiRce",
            title: "Remote code execution through a JDBC appender with a JNDI data source",
            description: "Log4j 2.0-beta9 to 2.17.0 (except 2.3.2 and 2.12.4 on the backport lines) let an attacker who can modify the \
                logging configuration use a JDBC appender whose JNDI data source URI loads remote code. \
                Removing JndiLookup does not help.",
            remedy: UPGRADE_2X,
            cwes: &[20, 74],
        },
        Cve::Cve2021_4104 => CveInfo {
            name: "Log4j1JmsAppenderJndi",
            title: "Log4j 1.x JMSAppender: remote code execution through JNDI",
            description: "Log4j 1.x configured with a JMSAppender (or with write access to the configuration) \
                performs JNDI lookups of attacker-supplied names, like Log4Shell. The class \
                org/apache/log4j/net/JMSAppender is present in this copy.",
            remedy: UPGRADE_1X,
            cwes: &[502],
        },
        Cve::Cve2019_17571 => CveInfo {
            name: "Log4j1SocketServerDeserialisation",
            title: "Log4j 1.x SocketServer: deserialisation of untrusted data",
            description: "The SocketServer class of Log4j 1.x deserialises log events from the network without \
                checks; with a suitable gadget on the class path this runs attacker code. The class \
                org/apache/log4j/net/SocketServer is present in this copy.",
            remedy: UPGRADE_1X,
            cwes: &[502],
        },
        Cve::Cve2022_23302 => CveInfo {
            name: "Log4j1JmsSinkDeserialisation",
            title: "Log4j 1.x JMSSink: deserialisation of untrusted data through JNDI",
            description: "Log4j 1.x JMSSink, with a configuration an attacker can change or a JNDI service \
                they can reach, deserialises untrusted data. The class org/apache/log4j/net/JMSSink is \
                present in this copy.",
            remedy: UPGRADE_1X,
            cwes: &[502],
        },
        Cve::Cve2022_23305 => CveInfo {
            name: "Log4j1JdbcAppenderSqlInjection",
            title: "Log4j 1.x JDBCAppender: SQL injection through logged values",
            description: "The JDBCAppender of Log4j 1.x builds SQL statements from logged values without \
                escaping them, so logged input can run SQL. The class org/apache/log4j/jdbc/JDBCAppender is \
                present in this copy.",
            remedy: UPGRADE_1X,
            cwes: &[89],
        },
        Cve::Cve2022_23307 => CveInfo {
            name: "Log4j1ChainsawDeserialisation",
            title: "Log4j 1.x Chainsaw: deserialisation of untrusted data",
            description: "The Chainsaw log viewer bundled with Log4j 1.x deserialises untrusted log events. \
                The org/apache/log4j/chainsaw classes are present in this copy.",
            remedy: UPGRADE_1X,
            cwes: &[502],
        },
    }
}

/// The CVSS v3 severity band of a score: `critical` (9.0–10.0), `high` (7.0–8.9), `medium`
/// (4.0–6.9), `low` (0.1–3.9), `none` (0).
pub fn severity(score: f32) -> &'static str {
    if score >= 9.0 {
        "critical"
    } else if score >= 7.0 {
        "high"
    } else if score >= 4.0 {
        "medium"
    } else if score > 0.0 {
        "low"
    } else {
        "none"
    }
}

/// The CVSS score as reports write it: one decimal (`10.0`, `5.9`).
pub fn score_text(cve: Cve) -> String {
    format!("{:.1}", cve.cvss())
}

/// The score as a JSON number with one decimal, free of `f32` rounding noise (`5.9`, not
/// `5.900000095367432`).
pub fn score_number(cve: Cve) -> f64 {
    (f64::from(cve.cvss()) * 10.0).round() / 10.0
}

/// The NVD page of a CVE.
pub fn nvd_url(cve: Cve) -> String {
    format!("https://nvd.nist.gov/vuln/detail/{}", cve.id())
}

/// Apache's security page for the line the CVE belongs to.
pub fn advisory_url(cve: Cve) -> &'static str {
    if cve.fixed_in().is_some() {
        "https://logging.apache.org/log4j/2.x/security.html"
    } else {
        "https://logging.apache.org/log4j/1.2/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_bands() {
        assert_eq!(severity(10.0), "critical");
        assert_eq!(severity(9.0), "critical");
        assert_eq!(severity(8.8), "high");
        assert_eq!(severity(6.6), "medium");
        assert_eq!(severity(5.9), "medium");
        assert_eq!(severity(0.0), "none");
    }

    #[test]
    fn scores_have_no_float_noise() {
        assert_eq!(serde_json::json!(score_number(Cve::Cve2021_45105)).to_string(), "5.9");
        assert_eq!(score_text(Cve::Cve2021_44228), "10.0");
    }

    #[test]
    fn every_cve_has_distinct_texts() {
        let names: std::collections::HashSet<_> = ALL_CVES.iter().map(|c| info(*c).name).collect();
        assert_eq!(names.len(), ALL_CVES.len());
        for cve in ALL_CVES {
            assert!(!info(cve).cwes.is_empty(), "{cve}");
        }
    }
}
