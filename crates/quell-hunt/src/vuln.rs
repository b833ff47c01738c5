//! Which vulnerabilities a hunt looks for ([`Vulnerability`], [`VulnSet`]) and how `--only`
//! names them.
//!
//! Invariant: every [`quell_model::hunt::Attempt`] the hunter makes carries the CVE of exactly
//! one of these (Log4j's recursion denial of service, CVE-2021-45105, belongs to
//! [`Vulnerability::Log4Shell`]: the same evaluator finds it).

use quell_model::hunt::{LOG4J_RECURSION, LOG4SHELL, SPRING4SHELL, TEXT4SHELL};

/// A vulnerability the hunter knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Vulnerability {
    /// Log4j 2 JNDI lookups (CVE-2021-44228, and the recursion DoS CVE-2021-45105).
    Log4Shell,
    /// Apache Commons Text interpolation (CVE-2022-42889).
    Text4Shell,
    /// Spring Framework data binding to the class loader (CVE-2022-22965).
    Spring4Shell,
}

impl Vulnerability {
    pub const ALL: [Vulnerability; 3] =
        [Vulnerability::Log4Shell, Vulnerability::Text4Shell, Vulnerability::Spring4Shell];

    /// The CVE its attempts carry (the DoS of Log4j carries [`LOG4J_RECURSION`] instead).
    pub fn cve(self) -> &'static str {
        match self {
            Vulnerability::Log4Shell => LOG4SHELL,
            Vulnerability::Text4Shell => TEXT4SHELL,
            Vulnerability::Spring4Shell => SPRING4SHELL,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Vulnerability::Log4Shell => "log4shell",
            Vulnerability::Text4Shell => "text4shell",
            Vulnerability::Spring4Shell => "spring4shell",
        }
    }

    /// A name (`log4shell`, `text4shell`, `spring4shell`, any case) or a CVE id
    /// (`CVE-2021-44228`, `CVE-2021-45105`, `CVE-2022-42889`, `CVE-2022-22965`).
    pub fn parse(text: &str) -> Option<Vulnerability> {
        let t = text.trim();
        if t.eq_ignore_ascii_case(LOG4J_RECURSION) {
            return Some(Vulnerability::Log4Shell);
        }
        Vulnerability::ALL.into_iter().find(|v| t.eq_ignore_ascii_case(v.name()) || t.eq_ignore_ascii_case(v.cve()))
    }

    /// The vulnerability of an attempt's `vulnerability` field.
    pub fn of_cve(cve: &str) -> Option<Vulnerability> {
        Vulnerability::parse(cve)
    }
}

/// A set of vulnerabilities (the default: all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VulnSet {
    bits: u8,
}

impl Default for VulnSet {
    fn default() -> Self {
        VulnSet::all()
    }
}

impl VulnSet {
    pub fn all() -> Self {
        VulnSet { bits: 0b111 }
    }

    pub fn none() -> Self {
        VulnSet { bits: 0 }
    }

    fn bit(v: Vulnerability) -> u8 {
        1 << (v as u8)
    }

    pub fn with(mut self, v: Vulnerability) -> Self {
        self.bits |= Self::bit(v);
        self
    }

    pub fn contains(self, v: Vulnerability) -> bool {
        self.bits & Self::bit(v) != 0
    }

    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// A comma-separated list of names or CVE ids (`log4shell,CVE-2022-42889`).
    pub fn parse(list: &str) -> Result<VulnSet, String> {
        let mut set = VulnSet::none();
        for part in list.split(',').filter(|p| !p.trim().is_empty()) {
            let v = Vulnerability::parse(part).ok_or_else(|| {
                format!(
                    "unknown vulnerability {part:?}: expected log4shell, text4shell, spring4shell or one of \
                     CVE-2021-44228, CVE-2021-45105, CVE-2022-42889, CVE-2022-22965"
                )
            })?;
            set = set.with(v);
        }
        if set.is_empty() {
            return Err("no vulnerability named".into());
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_cves() {
        assert_eq!(Vulnerability::parse("CVE-2022-42889"), Some(Vulnerability::Text4Shell));
        assert_eq!(Vulnerability::parse("Spring4Shell"), Some(Vulnerability::Spring4Shell));
        assert_eq!(Vulnerability::parse("cve-2021-45105"), Some(Vulnerability::Log4Shell));
        assert_eq!(Vulnerability::parse("heartbleed"), None);
        let s = VulnSet::parse("log4shell, CVE-2022-22965").expect("valid");
        assert!(s.contains(Vulnerability::Log4Shell) && s.contains(Vulnerability::Spring4Shell));
        assert!(!s.contains(Vulnerability::Text4Shell));
        assert!(VulnSet::parse("x").is_err());
        assert!(VulnSet::parse("").is_err());
    }
}
